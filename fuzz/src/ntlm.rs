//! NTLM checks shared by the `decode_ntlm` fuzz target and by `ews-proto`'s tests
//! (`tests/ntlm.rs`, `tests/ntlm_properties.rs` and `tests/ntlm_fuzz_corpus.rs` include this
//! file). Each function panics when an invariant breaks; an error is always fine.
//!
//! [`oracle`] is a server's view of an AUTHENTICATE message written from MS-NLMP (2.2.1.3,
//! 3.2.5.1.2, 3.3.2, 3.4.4.2) on the RustCrypto primitives, independent of `ews_proto`'s own
//! code: whatever AUTHENTICATE the client writes must verify under it.

use base64::Engine as _;
use ews_proto::ntlm::{
    self, AuthScheme, ChannelBinding, CredentialKind, HandshakeInputs, NtlmClient, NtlmCredentials,
    NtlmError, SpnegoClient,
};

/// The password of every fuzzed handshake; no error or `Debug` output may contain it.
pub const PASSWORD: &str = "Password";

/// The input's first byte picks what the rest is.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => challenge(rest, mode & 0x80 != 0),
        1 => headers(rest),
        2 => spnego(rest),
        _ => certificate(rest),
    }
}

/// MS-NLMP 4.2.1: the user, domain and NTOWFv2 (4.2.4.1.1) of the spec's examples.
pub fn credentials() -> NtlmCredentials {
    NtlmCredentials::new(r"Domain\User", None, PASSWORD).expect("a valid name")
}

/// NTOWFv2("Password", "User", "Domain"), MS-NLMP 4.2.4.1.1.
pub const SPEC_NTOWF_V2: [u8; 16] = [
    0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93, 0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f,
];

/// Fixed handshake inputs (MS-NLMP 4.2.1's client challenge and random session key).
pub fn inputs() -> HandshakeInputs {
    HandshakeInputs {
        client_challenge: [0xaa; 8],
        random_session_key: [0x55; 16],
        now: jiff::Timestamp::UNIX_EPOCH,
    }
}

fn client(bound: bool) -> NtlmClient {
    let binding = if bound {
        ChannelBinding::TlsServerEndPoint(vec![0xab; 32])
    } else {
        ChannelBinding::None
    };
    NtlmClient::new(credentials(), "mail.example.com", binding, inputs())
}

fn no_secret(e: &NtlmError) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(PASSWORD), "the password in an error: {text}");
}

/// `data` as a CHALLENGE message: an AUTHENTICATE that a server verifies, or an error.
pub fn challenge(data: &[u8], bound: bool) {
    let mut c = client(bound);
    let negotiate = c.negotiate().expect("the first step");
    match c.authenticate(data) {
        Ok(auth) => {
            assert!(c.is_complete());
            let server_challenge: [u8; 8] = data[24..32].try_into().expect("a CHALLENGE has one");
            oracle::verify(&negotiate, data, &auth, &SPEC_NTOWF_V2, &server_challenge);
            let a = oracle::read(&auth);
            let pairs = oracle::av_pairs(&a.nt);
            assert!(
                pairs.iter().any(|(id, v)| *id == 6 && v[0] & 2 != 0),
                "MsvAvFlags with the MIC bit"
            );
            let spn: Vec<u8> = "HTTP/mail.example.com"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            assert!(pairs.contains(&(9, spn)), "MsvAvTargetName");
            let binding = if bound {
                ChannelBinding::TlsServerEndPoint(vec![0xab; 32])
            } else {
                ChannelBinding::None
            };
            assert!(
                pairs.contains(&(10, binding.hash().to_vec())),
                "MsvAvChannelBindings"
            );
        }
        Err(e) => {
            no_secret(&e);
            assert!(
                matches!(e, NtlmError::Challenge(_) | NtlmError::TooLong { .. }),
                "{e:?}"
            );
            assert!(!c.is_complete());
            assert!(matches!(
                c.authenticate(data),
                Err(NtlmError::OutOfOrder { .. })
            ));
        }
    }
}

/// `data` as `WWW-Authenticate` values separated by `\n`: every challenge is well formed,
/// tokens decode to what their text says, the choice is one of the offered schemes, and an
/// NTLM token goes through [`challenge`].
pub fn headers(data: &[u8]) {
    let mut map = http::HeaderMap::new();
    for value in data.split(|&b| b == b'\n') {
        if let Ok(v) = http::HeaderValue::from_bytes(value) {
            map.append(http::header::WWW_AUTHENTICATE, v);
        }
    }
    let challenges = ntlm::parse_www_authenticate(&map);
    let mut single = Vec::new();
    for v in map.get_all(http::header::WWW_AUTHENTICATE) {
        single.extend(ntlm::parse_challenges(v.as_bytes()));
    }
    assert_eq!(challenges, single, "a map parses as its values one by one");
    for c in &challenges {
        let name = c.scheme().as_str();
        assert!(!name.is_empty());
        assert_eq!(&AuthScheme::from_name(name), c.scheme());
        if let Some(token) = c.token() {
            let text = c.token68().expect("a decoded token has its text");
            let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(token);
            assert_eq!(
                encoded,
                text.trim_end_matches('='),
                "the token is the base64 of its text"
            );
        }
        let _ = format!("{c:?}");
    }
    for kind in [
        CredentialKind::Windows,
        CredentialKind::WindowsOrBasic,
        CredentialKind::Basic,
        CredentialKind::Bearer,
    ] {
        if let Some(choice) = ntlm::choose(&challenges, kind) {
            assert!(
                challenges.iter().any(|c| c.scheme() == &choice.scheme()),
                "{choice:?} offered"
            );
        }
    }
    if let Some(token) = ntlm::server_token(&challenges, &AuthScheme::Ntlm) {
        challenge(token, false);
    }
}

/// `data` as the server's `NegTokenResp`, then as its final token.
pub fn spnego(data: &[u8]) {
    let mut s = SpnegoClient::new(client(false));
    let init = s.init_token().expect("the first step");
    assert_eq!(init[0], 0x60);
    match s.respond(data) {
        Ok(resp) => {
            assert!(s.is_complete());
            let (auth, mic) = oracle::read_neg_token_resp(&resp);
            let negotiate = &init[init.len() - 32..];
            let challenge = oracle::response_token(data).expect("a response token was used");
            let server_challenge: [u8; 8] = challenge[24..32].try_into().expect("a CHALLENGE");
            let exported = oracle::verify(
                negotiate,
                challenge,
                auth,
                &SPEC_NTOWF_V2,
                &server_challenge,
            );
            let flags = oracle::read(auth).flags;
            if flags & 0x4000_0000 != 0 && flags & 0x2000_0000 != 0 {
                assert_eq!(
                    mic,
                    oracle::signature(&exported, "client-to-server", oracle::MECH_TYPE_LIST)
                );
            }
            if let Err(e) = s.finish(data) {
                no_secret(&e);
            }
        }
        Err(e) => {
            no_secret(&e);
            assert!(!s.is_complete());
        }
    }
}

/// `data` as a server certificate.
pub fn certificate(data: &[u8]) {
    match ChannelBinding::from_leaf_certificate(data) {
        Ok(ChannelBinding::TlsServerEndPoint(hash)) => {
            assert!([28, 32, 48, 64].contains(&hash.len()), "a SHA-2 hash");
        }
        Ok(other) => panic!("a certificate gives a tls-server-end-point binding, not {other:?}"),
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
}

/// A server's view of the messages, from MS-NLMP, on the RustCrypto primitives.
pub mod oracle {
    use hmac::{Hmac, Mac};
    use md5::{Digest, Md5};
    use rc4::consts::U16;
    use rc4::{KeyInit, Rc4, StreamCipher};

    /// The DER `MechTypeList` `SEQUENCE { OID 1.3.6.1.4.1.311.2.2.10 }`.
    pub const MECH_TYPE_LIST: &[u8] = &[
        0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];

    /// HMAC-MD5 over the concatenated parts.
    pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
        let mut m = <Hmac<Md5> as Mac>::new_from_slice(key).expect("any key length");
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// MD5 over the concatenated parts.
    pub fn md5(parts: &[&[u8]]) -> [u8; 16] {
        let mut h = Md5::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// RC4 with a fresh state, in place.
    pub fn rc4(key: &[u8; 16], data: &mut [u8]) {
        Rc4::<U16>::new(key.into()).apply_keystream(data);
    }

    /// NTOWFv2 from its definition (MS-NLMP 3.3.2), for ASCII names.
    pub fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
        use md4::Md4;
        let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let nt: [u8; 16] = Md4::digest(utf16(password)).into();
        hmac_md5(&nt, &[&utf16(&(user.to_ascii_uppercase() + domain))])
    }

    /// The fields of an AUTHENTICATE message.
    #[derive(Debug)]
    pub struct Auth {
        /// LmChallengeResponse.
        pub lm: Vec<u8>,
        /// NtChallengeResponse.
        pub nt: Vec<u8>,
        /// DomainName.
        pub domain: Vec<u8>,
        /// UserName.
        pub user: Vec<u8>,
        /// Workstation.
        pub workstation: Vec<u8>,
        /// EncryptedRandomSessionKey.
        pub encrypted_key: Vec<u8>,
        /// NegotiateFlags.
        pub flags: u32,
        /// MIC.
        pub mic: [u8; 16],
    }

    /// Reads an AUTHENTICATE message with a MIC, checking its framing.
    pub fn read(msg: &[u8]) -> Auth {
        assert_eq!(&msg[..12], b"NTLMSSP\0\x03\0\0\0");
        let field = |at: usize| -> Vec<u8> {
            let len = u16::from_le_bytes([msg[at], msg[at + 1]]) as usize;
            let max = u16::from_le_bytes([msg[at + 2], msg[at + 3]]) as usize;
            assert_eq!(len, max, "MaxLen = Len");
            let off = u32::from_le_bytes(msg[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
            assert!(off >= 88, "payload after the MIC");
            msg[off..off + len].to_vec()
        };
        Auth {
            lm: field(12),
            nt: field(20),
            domain: field(28),
            user: field(36),
            workstation: field(44),
            encrypted_key: field(52),
            flags: u32::from_le_bytes(msg[60..64].try_into().expect("4 bytes")),
            mic: msg[72..88].try_into().expect("16 bytes"),
        }
    }

    /// The AV pairs of an NTLMv2 response, up to and checking the final EOL.
    pub fn av_pairs(nt: &[u8]) -> Vec<(u16, Vec<u8>)> {
        assert_eq!(&nt[16..18], &[1, 1], "RespType, HiRespType");
        let info = &nt[16 + 28..nt.len() - 4];
        let mut pairs = Vec::new();
        let mut at = 0;
        loop {
            let id = u16::from_le_bytes([info[at], info[at + 1]]);
            let len = u16::from_le_bytes([info[at + 2], info[at + 3]]) as usize;
            if id == 0 {
                assert_eq!((len, at + 4), (0, info.len()), "EOL ends the list");
                return pairs;
            }
            pairs.push((id, info[at + 4..at + 4 + len].to_vec()));
            at += 4 + len;
        }
    }

    /// Checks `auth` as a server holding `ntowf` would (NTProofStr, session key, MIC) and
    /// returns the exported session key.
    pub fn verify(
        negotiate: &[u8],
        challenge: &[u8],
        auth: &[u8],
        ntowf: &[u8; 16],
        server_challenge: &[u8; 8],
    ) -> [u8; 16] {
        let a = read(auth);
        let (proof, temp) = a.nt.split_at(16);
        assert_eq!(
            proof,
            hmac_md5(ntowf, &[server_challenge, temp]),
            "NTProofStr"
        );
        let session_base_key = hmac_md5(ntowf, &[proof]);
        let exported: [u8; 16] = if a.flags & 0x4000_0000 != 0 {
            let mut k: [u8; 16] = a.encrypted_key.clone().try_into().expect("16 bytes");
            rc4(&session_base_key, &mut k);
            k
        } else {
            assert!(a.encrypted_key.is_empty());
            session_base_key
        };
        let mut zeroed = auth.to_vec();
        zeroed[72..88].fill(0);
        assert_eq!(
            a.mic,
            hmac_md5(&exported, &[negotiate, challenge, &zeroed]),
            "MIC"
        );
        exported
    }

    /// The NTLMSSP_MESSAGE_SIGNATURE of `msg` (MS-NLMP 3.4.4.2 with extended session
    /// security, key exchange and 128-bit keys; sequence number 0, fresh RC4 state) for
    /// `direction` `client-to-server` or `server-to-client`.
    pub fn signature(exported: &[u8; 16], direction: &str, msg: &[u8]) -> [u8; 16] {
        let sign = md5(&[
            exported,
            format!("session key to {direction} signing key magic constant\0").as_bytes(),
        ]);
        let seal = md5(&[
            exported,
            format!("session key to {direction} sealing key magic constant\0").as_bytes(),
        ]);
        let mut checksum = hmac_md5(&sign, &[&[0, 0, 0, 0], msg])[..8].to_vec();
        rc4(&seal, &mut checksum);
        let mut out = [0u8; 16];
        out[0] = 1;
        out[4..12].copy_from_slice(&checksum);
        out
    }

    /// A DER header at `t[at..]`: (tag, content start, content end).
    fn tlv(t: &[u8], at: usize) -> (u8, usize, usize) {
        let tag = t[at];
        let first = t[at + 1] as usize;
        let (len, start) = if first < 0x80 {
            (first, at + 2)
        } else {
            let n = first & 0x7f;
            (
                t[at + 2..at + 2 + n]
                    .iter()
                    .fold(0, |a, &b| (a << 8) | b as usize),
                at + 2 + n,
            )
        };
        (tag, start, start + len)
    }

    /// Our `[1] { SEQUENCE { [2] OCTET STRING auth, [3] OCTET STRING mic } }`.
    pub fn read_neg_token_resp(t: &[u8]) -> (&[u8], &[u8]) {
        let (tag, s, e) = tlv(t, 0);
        assert_eq!((tag, e), (0xa1, t.len()));
        let (tag, s, e) = tlv(t, s);
        assert_eq!((tag, e), (0x30, t.len()));
        let (tag, a, a_end) = tlv(t, s);
        assert_eq!(tag, 0xa2);
        let (tag, auth_start, auth_end) = tlv(t, a);
        assert_eq!((tag, auth_end), (0x04, a_end));
        let (tag, m, m_end) = tlv(t, a_end);
        assert_eq!((tag, m_end), (0xa3, t.len()));
        let (tag, mic_start, mic_end) = tlv(t, m);
        assert_eq!((tag, mic_end, mic_end - mic_start), (0x04, t.len(), 16));
        (&t[auth_start..auth_end], &t[mic_start..mic_end])
    }

    /// The `responseToken` of a server's `NegTokenResp` that the client accepted (so it is
    /// well formed): the content of `[2]`, found by walking the fields.
    pub fn response_token(t: &[u8]) -> Option<&[u8]> {
        let (_, s, _) = tlv(t, 0);
        let (_, mut at, end) = tlv(t, s);
        while at < end {
            let (tag, cs, ce) = tlv(t, at);
            if tag == 0xa2 {
                let (_, ts, te) = tlv(t, cs);
                return Some(&t[ts..te]);
            }
            at = ce;
        }
        None
    }
}
