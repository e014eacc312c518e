//! Property tests of the NTLM, SPNEGO and `WWW-Authenticate` parsers: no input panics,
//! malformed CHALLENGE messages are typed errors, and every AUTHENTICATE the client writes for
//! a well-formed CHALLENGE verifies under the MS-NLMP server formulas (`checks::oracle`).

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use ews_proto::ntlm::{ChallengeError, ChannelBinding, NtlmClient, NtlmError};
use proptest::prelude::*;

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/ntlm.rs"]
mod checks;
use checks::oracle;

/// MS-NLMP 4.2.4.3, the CHALLENGE message.
const SPEC_CHALLENGE: &str = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";

fn spec_challenge() -> Vec<u8> {
    (0..SPEC_CHALLENGE.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&SPEC_CHALLENGE[i..i + 2], 16).unwrap())
        .collect()
}

fn authenticate(msg: &[u8]) -> Result<(Vec<u8>, Vec<u8>), NtlmError> {
    let mut c = NtlmClient::new(
        checks::credentials(),
        "Server",
        ChannelBinding::None,
        checks::inputs(),
    );
    let negotiate = c.negotiate().unwrap();
    c.authenticate(msg).map(|a| (negotiate, a))
}

/// An AV pair that the parser reads as it is: no EOL, flags of 4 bytes, timestamps of 8.
fn av_pair() -> impl Strategy<Value = (u16, Vec<u8>)> {
    prop_oneof![
        (1u16..=5, proptest::collection::vec(any::<u8>(), 0..40)),
        any::<[u8; 4]>().prop_map(|v| (6u16, v.to_vec())),
        any::<[u8; 8]>().prop_map(|v| (7u16, v.to_vec())),
        (8u16..=200, proptest::collection::vec(any::<u8>(), 0..40)),
    ]
}

/// A well-formed CHALLENGE: `flags` (with UNICODE), a server challenge, a target name and
/// `pairs`, the payload after `gap` bytes of padding, and the Version field when asked.
fn build(
    flags: u32,
    server_challenge: [u8; 8],
    target: &[u8],
    pairs: &[(u16, Vec<u8>)],
    gap: usize,
    eol: bool,
) -> Vec<u8> {
    let mut info = Vec::new();
    for (id, v) in pairs {
        info.extend_from_slice(&id.to_le_bytes());
        info.extend_from_slice(&(v.len() as u16).to_le_bytes());
        info.extend_from_slice(v);
    }
    if eol {
        info.extend_from_slice(&[0; 4]);
    }
    let header = 56 + gap;
    let mut m = b"NTLMSSP\0\x02\0\0\0".to_vec();
    m.extend_from_slice(&(target.len() as u16).to_le_bytes());
    m.extend_from_slice(&(target.len() as u16).to_le_bytes());
    m.extend_from_slice(&(header as u32).to_le_bytes());
    m.extend_from_slice(&(flags | 1).to_le_bytes());
    m.extend_from_slice(&server_challenge);
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&(info.len() as u16).to_le_bytes());
    m.extend_from_slice(&((header + target.len()) as u32).to_le_bytes());
    m.extend_from_slice(&[6, 0, 0x70, 0x17, 0, 0, 0, 0x0f]);
    m.resize(header, 0);
    m.extend_from_slice(target);
    m.extend_from_slice(&info);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: no panic; only something with the signature and type 2 can succeed.
    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        checks::challenge(&data, false);
        if authenticate(&data).is_ok() {
            prop_assert_eq!(&data[..12], b"NTLMSSP\0\x02\0\0\0");
        }
    }

    /// The signature and type, then anything.
    #[test]
    fn arbitrary_after_the_header(tail in proptest::collection::vec(any::<u8>(), 0..300), bound: bool) {
        let mut data = b"NTLMSSP\0\x02\0\0\0".to_vec();
        data.extend(tail);
        checks::challenge(&data, bound);
    }

    /// The spec's CHALLENGE with a few bytes overwritten: no panic; when it succeeds, the
    /// server formulas accept the answer (inside `checks::challenge`).
    #[test]
    fn mutated_spec_challenge(edits in proptest::collection::vec((0usize..104, any::<u8>()), 1..6), bound: bool) {
        let mut m = spec_challenge();
        for (at, b) in edits {
            m[at] = b;
        }
        checks::challenge(&m, bound);
    }

    /// Every truncation of the spec's CHALLENGE is a typed error.
    #[test]
    fn truncated_spec_challenge(len in 0usize..104) {
        let m = spec_challenge();
        prop_assert!(matches!(authenticate(&m[..len]), Err(NtlmError::Challenge(_))));
    }

    /// Offsets and lengths anywhere: out-of-range ones are `OutOfRange`, never a panic.
    #[test]
    fn security_buffers_anywhere(len: u16, offset: u32, which in 0usize..2) {
        let mut m = spec_challenge();
        let at = [12, 40][which];
        m[at..at + 2].copy_from_slice(&len.to_le_bytes());
        m[at + 4..at + 8].copy_from_slice(&offset.to_le_bytes());
        let in_range = u64::from(offset) + u64::from(len) <= m.len() as u64;
        match authenticate(&m) {
            Err(NtlmError::Challenge(ChallengeError::OutOfRange { field, .. })) => {
                prop_assert!(!in_range && len > 0);
                prop_assert_eq!(field, ["TargetName", "TargetInfo"][which]);
            }
            Err(NtlmError::Challenge(_)) | Ok(_) => prop_assert!(in_range || len == 0),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// Well-formed CHALLENGE messages of all shapes: the AUTHENTICATE verifies, and carries
    /// the server's AV pairs, in order, before ours.
    #[test]
    fn well_formed_challenges_verify(
        flags: u32,
        server_challenge: [u8; 8],
        target in proptest::collection::vec(any::<u8>(), 0..30),
        pairs in proptest::collection::vec(av_pair(), 0..8),
        gap in 0usize..16,
        eol: bool,
    ) {
        let m = build(flags, server_challenge, &target, &pairs, gap, eol);
        if pairs.is_empty() && !eol {
            prop_assert_eq!(authenticate(&m), Err(NtlmError::Challenge(ChallengeError::NoTargetInfo)));
            return Ok(());
        }
        let (negotiate, auth) = authenticate(&m).unwrap();
        oracle::verify(&negotiate, &m, &auth, &checks::SPEC_NTOWF_V2, &server_challenge);
        let a = oracle::read(&auth);
        // The flags sent are among those both asked for.
        prop_assert_eq!(a.flags & !(flags | 1 | 4), 0);
        let ours = oracle::av_pairs(&a.nt);
        // Drop what the client replaces, then the server's pairs come first, in order (flags
        // with the MIC bit added).
        let kept: Vec<(u16, Vec<u8>)> = pairs.iter().filter(|(id, _)| *id != 9 && *id != 10).cloned().collect();
        let mut flags_seen = false;
        for (i, (id, v)) in kept.iter().enumerate() {
            prop_assert_eq!(ours[i].0, *id);
            if *id == 6 && !flags_seen {
                flags_seen = true;
                prop_assert_eq!(ours[i].1[0], v[0] | 2);
                prop_assert_eq!(&ours[i].1[1..], &v[1..]);
            } else {
                prop_assert_eq!(&ours[i].1, v);
            }
        }
        // The timestamp is the server's first one, or `now` (the Unix epoch here).
        let time = u64::from_le_bytes(a.nt[24..32].try_into().unwrap());
        let server_time = pairs.iter().find(|(id, _)| *id == 7).map(|(_, v)| u64::from_le_bytes(v[..].try_into().unwrap()));
        prop_assert_eq!(time, server_time.unwrap_or(116_444_736_000_000_000));
        prop_assert_eq!(a.lm.iter().all(|&b| b == 0), server_time.is_some());
    }

    /// `WWW-Authenticate` values of any bytes (the checks of `checks::headers`).
    #[test]
    fn www_authenticate_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        checks::headers(&data);
    }

    /// `WWW-Authenticate` values made of the grammar's own pieces.
    #[test]
    fn www_authenticate_pieces(pieces in proptest::collection::vec(prop_oneof![
        Just("NTLM".to_owned()), Just("Negotiate".to_owned()), Just("Basic".to_owned()), Just("Bearer".to_owned()),
        Just(" ".to_owned()), Just(",".to_owned()), Just("=".to_owned()), Just("\"".to_owned()), Just("\\".to_owned()),
        Just("realm".to_owned()), Just("TlRMTVNTUAACAAAA".to_owned()), Just("YWI=".to_owned()), Just("\n".to_owned()),
    ], 0..30)) {
        checks::headers(pieces.concat().as_bytes());
    }

    /// Server SPNEGO tokens of any bytes, and DER-shaped ones.
    #[test]
    fn spnego_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        checks::spnego(&data);
        let mut framed = vec![0xa1, data.len().min(127) as u8];
        framed.extend(&data[..data.len().min(127)]);
        checks::spnego(&framed);
    }

    /// A valid server NegTokenResp around any CHALLENGE.
    #[test]
    fn spnego_around_mutated_challenges(edits in proptest::collection::vec((0usize..104, any::<u8>()), 0..4)) {
        let mut challenge = spec_challenge();
        for (at, b) in edits {
            challenge[at] = b;
        }
        let mut t = vec![0xa1, 0x81, 0x81, 0x30, 0x7f, 0xa0, 0x03, 0x0a, 0x01, 0x01, 0xa1, 0x0c, 0x06, 0x0a,
                         0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa2, 0x6a, 0x04, 0x68];
        t.extend(challenge);
        checks::spnego(&t);
    }

    /// Certificates of any bytes.
    #[test]
    fn certificates_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        checks::certificate(&data);
        let mut framed = vec![0x30, data.len().min(127) as u8];
        framed.extend(&data[..data.len().min(127)]);
        checks::certificate(&framed);
    }
}
