//! The NTLM and SPNEGO clients through the public API (`ews_proto::ntlm`).
//!
//! Expected values come from MS-NLMP section 4.2 (common values 4.2.1, NTLMv2 4.2.4), from
//! the Microsoft Open Specifications blog post on channel binding hashes (2013-03-26), from
//! Chromium's NTLM test data (an independent implementation, for the response with MIC-era
//! AV pairs), from certificates made with `openssl req` and hashed with `openssl dgst`, or
//! are hand-written bytes. Where a value depends on a random input of ours (the MIC, the
//! encrypted session key, the mechListMIC), the test checks it the way a server does, with
//! the formulas of MS-NLMP written out on the RustCrypto primitives (`oracle`, in the fuzz
//! crate's `src/ntlm.rs`), never by comparing with our own output.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use base64::Engine as _;
use ews_proto::ntlm::{
    self, AuthScheme, AuthStep, Authenticator, CertificateError, ChallengeError, ChannelBinding,
    Choice, CredentialKind, HandshakeInputs, NtlmClient, NtlmCredentials, NtlmError, SpnegoClient,
    SpnegoError, UserNameError,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// MS-NLMP 4.2.4.3: the CHALLENGE message (no timestamp).
fn spec_challenge() -> Vec<u8> {
    hex(
        "4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00 38 00 00 00 33 82 8a e2
         01 23 45 67 89 ab cd ef 00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00
         06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00 65 00 72 00 02 00 0c 00
         44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00
         65 00 72 00 00 00 00 00",
    )
}

/// The same CHALLENGE with an `MsvAvTimestamp` (0x0123456789abcdef) and `MsvAvFlags` = 1
/// before the EOL: target information 0x24 + 12 + 8 = 0x38 bytes.
fn challenge_with_timestamp() -> Vec<u8> {
    let mut m = spec_challenge();
    m[40] = 0x38;
    m[42] = 0x38;
    m.truncate(m.len() - 4); // the EOL
    m.extend_from_slice(&hex(
        "07 00 08 00 ef cd ab 89 67 45 23 01  06 00 04 00 01 00 00 00  00 00 00 00",
    ));
    m
}

/// MS-NLMP 4.2.1.
const SERVER_CHALLENGE: [u8; 8] = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
const RANDOM_SESSION_KEY: [u8; 16] = [0x55; 16];
/// MS-NLMP 4.2.4.1.1, NTOWFv2("Password", "User", "Domain").
fn spec_ntowf_v2() -> [u8; 16] {
    hex("0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f")
        .try_into()
        .unwrap()
}

/// The client time of Chromium's NTLM test data: 2017-05-23T20:13:07Z = FILETIME
/// 131400439870000000 = 0x01d2d400fdc80b80.
fn inputs() -> HandshakeInputs {
    HandshakeInputs {
        client_challenge: [0xaa; 8],
        random_session_key: RANDOM_SESSION_KEY,
        now: "2017-05-23T20:13:07Z".parse().unwrap(),
    }
}

fn spec_credentials() -> NtlmCredentials {
    NtlmCredentials::new(r"Domain\User", None, "Password").unwrap()
}

/// The Microsoft blog's `tls-server-end-point` certificate hash (SHA-256) and the MD5 of its
/// `gss_channel_bindings_struct`.
fn blog_binding() -> ChannelBinding {
    ChannelBinding::TlsServerEndPoint(hex(
        "ea 05 fe fe cc 6b 0b d5 71 db bc 5b aa 3e d4 53 86 d0 44 68 35 f7 b7 4c 85 62 1b 99 83 47 5f 95",
    ))
}
const BLOG_BINDING_HASH: &str = "65 86 e9 9d 81 c2 fc 98 4e 47 17 2f d4 dd 03 10";

/// The NEGOTIATE message, hand-written: flags 0xe0088235 (UNICODE, REQUEST_TARGET, SIGN,
/// SEAL, NTLM, ALWAYS_SIGN, EXTENDED_SESSIONSECURITY, 128, KEY_EXCH, 56), empty domain and
/// workstation fields pointing at offset 32.
const NEGOTIATE: &str = "4e 54 4c 4d 53 53 50 00 01 00 00 00 35 82 08 e0
                         00 00 00 00 20 00 00 00 00 00 00 00 20 00 00 00";

/// The server's view (MS-NLMP on the RustCrypto primitives), shared with the fuzz target.
#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/ntlm.rs"]
mod checks;
use checks::oracle;

/// Splits an NTLMv2 response into NTProofStr, the fixed part of `temp`, its AV pairs.
fn split_response(nt: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let (proof, temp) = nt.split_at(16);
    let (fixed, rest) = temp.split_at(28);
    assert_eq!(
        &rest[rest.len() - 4..],
        &[0, 0, 0, 0],
        "Z(4) after the AV pairs"
    );
    (proof, fixed, &rest[..rest.len() - 4])
}

// ---------------------------------------------------------------------------------------------
// MS-NLMP 4.2.4 and its derived vectors through the state machine
// ---------------------------------------------------------------------------------------------

#[test]
fn negotiate_message_is_the_hand_written_one() {
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    assert_eq!(c.negotiate().unwrap(), hex(NEGOTIATE));
}

/// The spec's CHALLENGE with the blog's channel binding, host `Server` and Chromium's client
/// time: every byte but the MIC and the encrypted key is fixed by the vectors; those two are
/// checked by the oracle.
#[test]
fn authenticate_for_the_spec_challenge() {
    let challenge = spec_challenge();
    let mut c = NtlmClient::new(spec_credentials(), "Server", blog_binding(), inputs());
    let negotiate = c.negotiate().unwrap();
    let auth = c.authenticate(&challenge).unwrap();
    assert!(c.is_complete());
    assert_eq!(c.spn(), "HTTP/Server");

    // The fixed part, hand-written: LM 24 @0x6c, NT 138 @0x84, domain 12 @0x58, user 8 @0x64,
    // workstation 0 @0x6c, key 16 @0x10e, flags 0xe0888235 (the challenge's flags that the
    // NEGOTIATE asked for, TARGET_INFO, and REQUEST_TARGET), Version zeros.
    assert_eq!(
        auth[..72],
        hex(
            "4e 54 4c 4d 53 53 50 00 03 00 00 00 18 00 18 00 6c 00 00 00 8a 00 8a 00
             84 00 00 00 0c 00 0c 00 58 00 00 00 08 00 08 00 64 00 00 00 00 00 00 00
             6c 00 00 00 10 00 10 00 0e 01 00 00 35 82 88 e0 00 00 00 00 00 00 00 00"
        )[..]
    );
    assert_eq!(auth.len(), 0x10e + 16);
    let a = oracle::read(&auth);
    assert_eq!(a.domain, utf16("Domain"));
    assert_eq!(a.user, utf16("User"));
    assert!(a.workstation.is_empty());
    // No server timestamp: the LMv2 response of MS-NLMP 4.2.4.2.1.
    assert_eq!(
        a.lm,
        hex("86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa")
    );

    // The NTLMv2 response: Chromium's `kExpectedProofSpecResponseWithClientTimestampV2` and
    // `kExpectedTempWithClientTimestampV2` with `kExpectedTargetInfoSpecResponseV2`: the
    // server's pairs, MsvAvFlags = 2, the blog's channel binding hash, HTTP/Server, EOL.
    let (proof, fixed, pairs) = split_response(&a.nt);
    assert_eq!(
        proof,
        hex("8c 02 60 db ef 69 06 62 af 9c 42 d5 07 82 d2 ed")
    );
    assert_eq!(
        fixed,
        hex("01 01 00 00 00 00 00 00 80 0b c8 fd 00 d4 d2 01 aa aa aa aa aa aa aa aa 00 00 00 00")
    );
    let mut expected_pairs = hex("02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
                                  01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00
                                  06 00 04 00 02 00 00 00  0a 00 10 00");
    expected_pairs.extend(hex(BLOG_BINDING_HASH));
    expected_pairs.extend(hex("09 00 16 00"));
    expected_pairs.extend(utf16("HTTP/Server"));
    expected_pairs.extend(hex("00 00 00 00"));
    assert_eq!(pairs, expected_pairs);

    // A server with the spec's NTOWFv2 accepts the proof and the MIC, and recovers our key
    // (so the encrypted key is RC4(SessionBaseKey, RandomSessionKey)).
    let exported = oracle::verify(
        &negotiate,
        &challenge,
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
    assert_eq!(exported, RANDOM_SESSION_KEY);
    // Chromium's session base key for this response.
    let base = oracle::hmac_md5(&spec_ntowf_v2(), &[proof]);
    assert_eq!(
        base.to_vec(),
        hex("62 3d bd 07 1b e7 a5 30 b6 a9 5c 2e b4 98 24 70")
    );
}

#[test]
fn server_timestamp_wins_and_drops_the_lm_response() {
    let challenge = challenge_with_timestamp();
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    let negotiate = c.negotiate().unwrap();
    let auth = c.authenticate(&challenge).unwrap();
    let a = oracle::read(&auth);
    assert_eq!(a.lm, [0; 24], "Z(24) with a server timestamp");
    let (_, fixed, pairs) = split_response(&a.nt);
    assert_eq!(
        fixed[8..16],
        hex("ef cd ab 89 67 45 23 01")[..],
        "the server's time, not `now`"
    );
    // The server's MsvAvFlags (1, constrained) gets the MIC bit in place: 3. No binding: zeros.
    let mut expected = hex("02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00
                            01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00
                            07 00 08 00 ef cd ab 89 67 45 23 01  06 00 04 00 03 00 00 00
                            0a 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
                            09 00 16 00");
    expected.extend(utf16("HTTP/Server"));
    expected.extend(hex("00 00 00 00"));
    assert_eq!(pairs, expected);
    oracle::verify(
        &negotiate,
        &challenge,
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
}

#[test]
fn mic_covers_all_three_messages() {
    let challenge = spec_challenge();
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    let negotiate = c.negotiate().unwrap();
    let auth = c.authenticate(&challenge).unwrap();
    let exported = oracle::verify(
        &negotiate,
        &challenge,
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
    let mic: [u8; 16] = auth[72..88].try_into().unwrap();
    let mut zeroed = auth.clone();
    zeroed[72..88].fill(0);
    // Any other NEGOTIATE, CHALLENGE or AUTHENTICATE gives another MIC.
    let mut other_negotiate = negotiate.clone();
    other_negotiate[12] ^= 1;
    let mut other_challenge = challenge.clone();
    other_challenge[24] ^= 1;
    let mut other_auth = zeroed.clone();
    other_auth[100] ^= 1;
    for (n, ch, a) in [
        (&other_negotiate, &challenge, &zeroed),
        (&negotiate, &other_challenge, &zeroed),
        (&negotiate, &challenge, &other_auth),
    ] {
        assert_ne!(oracle::hmac_md5(&exported, &[n, ch, a]), mic);
    }
}

#[test]
fn without_key_exchange_the_session_base_key_is_exported() {
    // The spec challenge without KEY_EXCH (0x40000000): no encrypted key, MIC under the
    // session base key.
    let mut challenge = spec_challenge();
    challenge[23] &= !0x40;
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    let negotiate = c.negotiate().unwrap();
    let auth = c.authenticate(&challenge).unwrap();
    let a = oracle::read(&auth);
    assert_eq!(a.flags & 0x4000_0000, 0);
    assert!(a.encrypted_key.is_empty());
    let exported = oracle::verify(
        &negotiate,
        &challenge,
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
    assert_eq!(exported, oracle::hmac_md5(&spec_ntowf_v2(), &[&a.nt[..16]]));
    // KEY_EXCH offered without SIGN and SEAL is not used either.
    let mut challenge = spec_challenge();
    challenge[20] &= !0x30;
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    let negotiate = c.negotiate().unwrap();
    let auth = c.authenticate(&challenge).unwrap();
    assert_eq!(oracle::read(&auth).flags & 0x4000_0030, 0);
    oracle::verify(
        &negotiate,
        &challenge,
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
}

#[test]
fn workstation_is_sent() {
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs())
        .workstation("COMPUTER");
    let negotiate = c.negotiate().unwrap();
    let auth = c.authenticate(&spec_challenge()).unwrap();
    assert_eq!(oracle::read(&auth).workstation, utf16("COMPUTER"));
    oracle::verify(
        &negotiate,
        &spec_challenge(),
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
}

// ---------------------------------------------------------------------------------------------
// Call order
// ---------------------------------------------------------------------------------------------

#[test]
fn misuse_is_a_typed_error() {
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    assert_eq!(
        c.authenticate(&spec_challenge()),
        Err(NtlmError::OutOfOrder {
            call: "authenticate",
            state: "initial"
        })
    );
    c.negotiate().unwrap();
    assert_eq!(
        c.negotiate(),
        Err(NtlmError::OutOfOrder {
            call: "negotiate",
            state: "negotiate sent"
        })
    );
    c.authenticate(&spec_challenge()).unwrap();
    assert_eq!(
        c.authenticate(&spec_challenge()),
        Err(NtlmError::OutOfOrder {
            call: "authenticate",
            state: "complete"
        })
    );

    // After an error the client stays failed.
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    c.negotiate().unwrap();
    assert!(matches!(
        c.authenticate(b"garbage"),
        Err(NtlmError::Challenge(_))
    ));
    assert_eq!(
        c.authenticate(&spec_challenge()),
        Err(NtlmError::OutOfOrder {
            call: "authenticate",
            state: "failed"
        })
    );
}

#[test]
fn the_authenticator_trait_drives_ntlm() {
    let mut c: Box<dyn Authenticator> = Box::new(NtlmClient::new(
        spec_credentials(),
        "Server",
        ChannelBinding::None,
        inputs(),
    ));
    assert_eq!(c.scheme(), AuthScheme::Ntlm);
    assert!(matches!(
        c.step(Some(b"x")),
        Err(NtlmError::OutOfOrder { .. })
    ));
    let AuthStep::Continue(negotiate) = c.step(None).unwrap() else {
        panic!("continue")
    };
    assert_eq!(negotiate, hex(NEGOTIATE));
    let AuthStep::Last(auth) = c.step(Some(&spec_challenge())).unwrap() else {
        panic!("last")
    };
    oracle::verify(
        &negotiate,
        &spec_challenge(),
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
    assert_eq!(c.step(None).unwrap(), AuthStep::Done);
    assert!(matches!(
        c.step(Some(b"x")),
        Err(NtlmError::OutOfOrder { .. })
    ));
}

#[test]
fn authorization_header() {
    let h = ntlm::authorization(&AuthScheme::Ntlm, &hex(NEGOTIATE));
    assert_eq!(
        h.to_str().unwrap(),
        "NTLM TlRMTVNTUAABAAAANYII4AAAAAAgAAAAAAAAACAAAAA="
    );
    assert!(h.is_sensitive());
    assert_eq!(
        ntlm::authorization(&AuthScheme::Negotiate, b"ab")
            .to_str()
            .unwrap(),
        "Negotiate YWI="
    );
}

// ---------------------------------------------------------------------------------------------
// User names
// ---------------------------------------------------------------------------------------------

#[test]
fn user_name_forms() {
    let c = NtlmCredentials::new(r"Domain\User", None, "Password").unwrap();
    assert_eq!((c.user(), c.domain()), ("User", "Domain"));
    let c = NtlmCredentials::new("User", Some("Domain"), "Password").unwrap();
    assert_eq!((c.user(), c.domain()), ("User", "Domain"));
    let c = NtlmCredentials::new("User@Domain.example", None, "Password").unwrap();
    assert_eq!((c.user(), c.domain()), ("User@Domain.example", ""));
    let c = NtlmCredentials::new("User", None, "Password").unwrap();
    assert_eq!((c.user(), c.domain()), ("User", ""));
    let c = NtlmCredentials::new(r"Domain\User", Some(""), "Password").unwrap();
    assert_eq!(
        c.domain(),
        "Domain",
        "an empty separate domain is no domain"
    );

    assert_eq!(
        NtlmCredentials::new("", None, "pw"),
        Err(UserNameError::Empty)
    );
    assert_eq!(
        NtlmCredentials::new(r"DOMAIN\", None, "pw"),
        Err(UserNameError::Empty)
    );
    assert_eq!(
        NtlmCredentials::new(r"D\u", Some("D"), "pw"),
        Err(UserNameError::DomainTwice)
    );
    assert_eq!(
        NtlmCredentials::new("u@d", Some("D"), "pw"),
        Err(UserNameError::DomainTwice)
    );
    assert_eq!(
        NtlmCredentials::new("u\n", None, "pw"),
        Err(UserNameError::ControlCharacter)
    );
}

/// Every form proves the same (or, for a UPN, the UPN's) NTOWFv2 to a server.
#[test]
fn user_name_forms_on_the_wire() {
    let cases = [
        (
            NtlmCredentials::new(r"Domain\User", None, "Password").unwrap(),
            spec_ntowf_v2(),
            "Domain",
            "User",
        ),
        (
            NtlmCredentials::new("User", Some("Domain"), "Password").unwrap(),
            spec_ntowf_v2(),
            "Domain",
            "User",
        ),
        (
            NtlmCredentials::new("user", Some("Domain"), "Password").unwrap(),
            spec_ntowf_v2(),
            "Domain",
            "user",
        ),
        (
            NtlmCredentials::new("User@Domain.example", None, "Password").unwrap(),
            oracle::ntowf_v2("Password", "User@Domain.example", ""),
            "",
            "User@Domain.example",
        ),
    ];
    for (credentials, ntowf, domain, user) in cases {
        let mut c = NtlmClient::new(credentials, "Server", ChannelBinding::None, inputs());
        let negotiate = c.negotiate().unwrap();
        let auth = c.authenticate(&spec_challenge()).unwrap();
        let a = oracle::read(&auth);
        assert_eq!((a.domain, a.user), (utf16(domain), utf16(user)));
        oracle::verify(
            &negotiate,
            &spec_challenge(),
            &auth,
            &ntowf,
            &SERVER_CHALLENGE,
        );
    }
}

#[test]
fn the_password_shows_nowhere() {
    let password = "correct horse battery staple";
    let c = NtlmCredentials::new(r"D\u", None, password).unwrap();
    assert!(!format!("{c:?}").contains(password));
    let mut client = NtlmClient::new(c, "Server", ChannelBinding::None, inputs());
    assert!(!format!("{client:?}").contains(password));
    client.negotiate().unwrap();
    let err = client.authenticate(b"NTLMSSP\0\x02\0\0\0").unwrap_err();
    assert!(!format!("{err:?} {err}").contains(password));
    assert!(
        !format!("{:?}", inputs()).contains("170"),
        "no session key bytes in Debug"
    );
}

// ---------------------------------------------------------------------------------------------
// Channel binding
// ---------------------------------------------------------------------------------------------

/// The gss_channel_bindings_struct flattened by hand (RFC 2744 and the blog post): initiator
/// address type and length, acceptor address type and length, all 0, then the application
/// data's length and bytes, 32-bit little-endian.
fn gss_channel_bindings(application_data: &[u8]) -> Vec<u8> {
    let mut s = vec![0u8; 16];
    s.extend_from_slice(&(application_data.len() as u32).to_le_bytes());
    s.extend_from_slice(application_data);
    s
}

#[test]
fn channel_binding_hash_of_the_blog_post() {
    let cb = blog_binding();
    let data = cb.application_data().unwrap();
    assert_eq!(&data[..21], b"tls-server-end-point:");
    assert_eq!(data.len(), 53);
    assert_eq!(cb.hash().to_vec(), hex(BLOG_BINDING_HASH));
    // The same from the struct written out here.
    assert_eq!(oracle::md5(&[&gss_channel_bindings(&data)]), cb.hash());
    assert_eq!(ChannelBinding::None.hash(), [0; 16]);
    assert_eq!(ChannelBinding::None.application_data(), None);
    assert_eq!(ChannelBinding::default(), ChannelBinding::None);
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Self-signed certificates made with `openssl req -x509 -newkey ec -pkeyopt
/// ec_paramgen_curve:P-256 -sha384` (and `-sha1`, `-newkey ed25519`, `-newkey rsa-pss
/// ... -sha512`); hashes from `openssl dgst`, the MD5 of the struct from Python's hashlib.
mod certs {
    pub(crate) const ECDSA_SHA384: &str = "MIIBjDCCATGgAwIBAgIUVtyLVkxHNtdUAHx/flRz1WdgCOkwCgYIKoZIzj0EAwMwGzEZMBcGA1UEAwwQbWFpbC5leGFtcGxlLmNvbTAeFw0yNjEyMDEyMzM5MTVaFw0zNjExMjgyMzM5MTVaMBsxGTAXBgNVBAMMEG1haWwuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT2NWtTbuQ+w+jdGK7a97XbqedXyac006WPFFa1Q9fJewvEN2NcecEcgPf7rsBt1NZdMDhBZZKN47xgN54mu/BMo1MwUTAdBgNVHQ4EFgQUcw+rIezKkSJcNd/DHm9ic0QXZiYwHwYDVR0jBBgwFoAUcw+rIezKkSJcNd/DHm9ic0QXZiYwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAwNJADBGAiEA903/+MFJwQycOwoMVD4d2mqXEKLHViUL8BNGf8YeEvACIQDMOasZpGBGxi9WxOK+WxNXpgy3UX1ojB5lrMfI3UivnQ==";
    pub(crate) const ECDSA_SHA384_HASH: &str = "8cfa9baaee59e2df807fafafee7a8275197d5bfaa0344a56fdc17947d77915ed644bb30e2f2659a25b657315b67daed3";
    pub(crate) const ECDSA_SHA384_CB: &str = "664e51ec9c0dd6014660fcf92aeceeb6";

    pub(crate) const ECDSA_SHA256: &str = "MIIBizCCATGgAwIBAgIUVJJYTsFUqxmh6C7wnu51a+ymMvYwCgYIKoZIzj0EAwIwGzEZMBcGA1UEAwwQbWFpbC5leGFtcGxlLmNvbTAeFw0yNjEyMDEyMzM5MTVaFw0zNjExMjgyMzM5MTVaMBsxGTAXBgNVBAMMEG1haWwuZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASVfLsXNBVjXVLb3TeNP4jUCP8AC68y34XUdaMSnFDgug35CbgjqllleAHycbi/C81kzQb3jzADFWePMDi8RPZ0o1MwUTAdBgNVHQ4EFgQUDtQHYIfkUaMlaYjYaukRaiZiNQEwHwYDVR0jBBgwFoAUDtQHYIfkUaMlaYjYaukRaiZiNQEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAyDm2Pth4UqXbMr2InKf3pyN0Te+vfFzZ97L2+a/keg8CIElM+DT5afTOPOTZtRyXucxxkahInrVLfPpKHCS3owht";
    pub(crate) const ECDSA_SHA256_HASH: &str =
        "277392f39b621a7556216c83ea869b354e84b5d8af3ee5ff2beca074f7db7552";
    pub(crate) const ECDSA_SHA256_CB: &str = "ef740a043749d4472fdf59248d18722b";

    pub(crate) const ECDSA_SHA1: &str = "MIIBiTCCATCgAwIBAgIULuJ3Rn/pGvqVpW6y5xMACfTsWVAwCQYHKoZIzj0EATAbMRkwFwYDVQQDDBBtYWlsLmV4YW1wbGUuY29tMB4XDTI2MTIwMTIzMzkxNVoXDTM2MTEyODIzMzkxNVowGzEZMBcGA1UEAwwQbWFpbC5leGFtcGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABOC+ksYGOSPAVMZ6sEvzTHek37Tftke0FGxn1TR1m/NCWEuakUhIYaQhF2w/PHDoQ903L+xvEsJYBgW7BduHG26jUzBRMB0GA1UdDgQWBBRrGvpb4nr9rXxUBJMy8e+Kh/fEhTAfBgNVHSMEGDAWgBRrGvpb4nr9rXxUBJMy8e+Kh/fEhTAPBgNVHRMBAf8EBTADAQH/MAkGByqGSM49BAEDSAAwRQIhAKEAJeI8m85E5xw1KKuhqd/1qMwBK0fXHnmUgNwsnkLqAiA1AwGVCAUC/9eRHzJauUSDURwReTeNEvBklOz+z15GIg==";
    /// SHA-256, not SHA-1 (RFC 5929 section 4.1).
    pub(crate) const ECDSA_SHA1_HASH: &str =
        "e34fba0d9d02ce5b61c41b143469d0fe888a949c2bb98129eaaaa7a073d7be8f";
    pub(crate) const ECDSA_SHA1_CB: &str = "e6b191d5f380e19abacbc2bc4f816885";

    pub(crate) const RSA_PSS_SHA512: &str = "MIICeDCCAa2gAwIBAgIUKK2VxJFXdfEw/R0ijlgwtLMaDZEwQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgMFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgMFAKIDAgEgMBsxGTAXBgNVBAMMEG1haWwuZXhhbXBsZS5jb20wHhcNMjYxMjAxMjMzOTIxWhcNMzYxMTI4MjMzOTIxWjAbMRkwFwYDVQQDDBBtYWlsLmV4YW1wbGUuY29tMIGdMAsGCSqGSIb3DQEBCgOBjQAwgYkCgYEAuh90EWTEPtN86vR3ORKl3JEc0koXv5s67cCVZMuAZxzUM82+W8Crdcwzvl0n9iFQKFlxg8PWgPxmwvpbyz9ovVulwQtwkDBs9nRYVz8GtXyZVcJaf+R+epuSVdas+rwgiHOzJQ8YQvUZ5JKTtoqk+b4aoClSIEj6JAfRI0mmAN0CAwEAAaNTMFEwHQYDVR0OBBYEFM89K2cThl4uXD1BrkiS15V9fvFRMB8GA1UdIwQYMBaAFM89K2cThl4uXD1BrkiS15V9fvFRMA8GA1UdEwEB/wQFMAMBAf8wQQYJKoZIhvcNAQEKMDSgDzANBglghkgBZQMEAgMFAKEcMBoGCSqGSIb3DQEBCDANBglghkgBZQMEAgMFAKIDAgEgA4GBABVgYSMKf/A0xaH/q05r9+Ioy46CTeAUZmSejUVuZGKLwJqAr9gJ+cnGcVa2xcPZ4l520hEfW8ctHAVIpc0Rm7Bj6AcVADYbw9672/kPOlrt2S5yWOC8YhZW+LvIzMCOLLXzcIOq1Jc8pgabD6kp2+6+JDhnyR0WLBHnF93iVx3Z";
    pub(crate) const RSA_PSS_SHA512_HASH: &str = "ac8bf2ab0f44c8a5833ba83e4beceb53e19e16043223e53630c1ecf237aa972e5353dc19af1204639d93d686d6ee48a0c8752c9948310e3d2b2725b7c7e979e4";
    pub(crate) const RSA_PSS_SHA512_CB: &str = "931b32b69679afbf4f1348136080b55d";

    pub(crate) const ED25519: &str = "MIIBSjCB/aADAgECAhQ13K0vNl8+ebZlUvzoS6ub/o99IDAFBgMrZXAwGzEZMBcGA1UEAwwQbWFpbC5leGFtcGxlLmNvbTAeFw0yNjEyMDEyMzM5MTVaFw0zNjExMjgyMzM5MTVaMBsxGTAXBgNVBAMMEG1haWwuZXhhbXBsZS5jb20wKjAFBgMrZXADIQAoFe6/OqDwq3Z9FujgFEfLvYwsXi6J1hqp7w8BMTdFoaNTMFEwHQYDVR0OBBYEFLwlckShkJ2lx1CLZwH8mMi8lnqTMB8GA1UdIwQYMBaAFLwlckShkJ2lx1CLZwH8mMi8lnqTMA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EAD1/rX1d4nfYEEhwce07OollMgTudfNxGjqz/mXMJCkUK61qniT1aYtZf9HOvYz8YFqCrikRU9Eu5DRfLOVCGBw==";
}

#[test]
fn channel_binding_of_real_certificates() {
    for (cert, hash, cb) in [
        (
            certs::ECDSA_SHA384,
            certs::ECDSA_SHA384_HASH,
            certs::ECDSA_SHA384_CB,
        ),
        (
            certs::ECDSA_SHA256,
            certs::ECDSA_SHA256_HASH,
            certs::ECDSA_SHA256_CB,
        ),
        (
            certs::ECDSA_SHA1,
            certs::ECDSA_SHA1_HASH,
            certs::ECDSA_SHA1_CB,
        ),
        (
            certs::RSA_PSS_SHA512,
            certs::RSA_PSS_SHA512_HASH,
            certs::RSA_PSS_SHA512_CB,
        ),
    ] {
        let binding = ChannelBinding::from_leaf_certificate(&b64(cert)).unwrap();
        assert_eq!(binding, ChannelBinding::TlsServerEndPoint(hex(hash)));
        assert_eq!(binding.hash().to_vec(), hex(cb));
    }
    assert_eq!(
        ChannelBinding::from_leaf_certificate(&b64(certs::ED25519)),
        Err(CertificateError::UnsupportedSignatureAlgorithm(
            "1.3.101.112".to_owned()
        ))
    );
}

/// Minimal certificate-shaped DER, hand-written: `SEQUENCE { SEQUENCE { INTEGER 1 },
/// AlgorithmIdentifier, BIT STRING 00 ff }`; hashes from Python's hashlib.
#[test]
fn channel_binding_hash_choice() {
    let cases = [
        // md5WithRSAEncryption, NULL: SHA-256.
        (
            "30183003020101300d06092a864886f70d0101040500030200ff",
            "2fb88527af269d565b7837a139000f6028b68078137ec5cb9d0e8a6e710cad78",
        ),
        // sha1WithRSAEncryption: SHA-256.
        (
            "30183003020101300d06092a864886f70d0101050500030200ff",
            "d94d43947632e291c13bb885155f18af03f473b3cd1d114ca5482ae7fef7c0b3",
        ),
        // sha224WithRSAEncryption: SHA-224.
        (
            "30183003020101300d06092a864886f70d01010e0500030200ff",
            "0e2425fc4d2146f71c0a789d15530abebfc0e74d9429b56e33718ae5",
        ),
        // RSASSA-PSS with default parameters (SHA-1): SHA-256.
        (
            "30183003020101300d06092a864886f70d01010a3000030200ff",
            "c56490e7987c9a75b0980c72980221f4973b21cd838850f8fcd1d13118afd4b4",
        ),
        // RSASSA-PSS with hashAlgorithm [0] sha384: SHA-384.
        (
            "30293003020101301e06092a864886f70d01010a3011a00f300d06096086480165030402020500030200ff",
            "2142c667c271c801a5f737095054353a63dc634a41ee05acc5f7bd61faceb355becbe07a42322b480d15fb6aa8eaabd3",
        ),
    ];
    for (der, hash) in cases {
        assert_eq!(
            ChannelBinding::from_leaf_certificate(&hex(der)).unwrap(),
            ChannelBinding::TlsServerEndPoint(hex(hash)),
            "{der}"
        );
    }
    let refused = |der: &str| ChannelBinding::from_leaf_certificate(&hex(der)).unwrap_err();
    // Trailing byte, truncated, no signature value, not a sequence, PSS without parameters.
    assert!(matches!(
        refused("30183003020101300d06092a864886f70d0101040500030200ff00"),
        CertificateError::Malformed(_)
    ));
    assert!(matches!(
        refused("30183003020101300d06092a864886f70d01010405"),
        CertificateError::Malformed(_)
    ));
    assert!(matches!(
        refused("30143003020101300d06092a864886f70d0101040500"),
        CertificateError::Malformed(_)
    ));
    assert!(matches!(refused("0400"), CertificateError::Malformed(_)));
    assert!(matches!(refused(""), CertificateError::Malformed(_)));
    assert!(matches!(
        refused("30163003020101300b06092a864886f70d01010a030200ff"),
        CertificateError::Malformed(_)
    ));
    // md2WithRSAEncryption (1.2.840.113549.1.1.2): no binding defined.
    assert_eq!(
        refused("30183003020101300d06092a864886f70d0101020500030200ff"),
        CertificateError::UnsupportedSignatureAlgorithm("1.2.840.113549.1.1.2".to_owned())
    );
}

/// A binding computed from another certificate gives another AV pair: the server's check of
/// MsvAvChannelBindings tells them apart.
#[test]
fn channel_binding_reaches_the_av_pair() {
    for cert in [certs::ECDSA_SHA384, certs::ECDSA_SHA256] {
        let binding = ChannelBinding::from_leaf_certificate(&b64(cert)).unwrap();
        let expected = binding.hash();
        let mut c = NtlmClient::new(spec_credentials(), "Server", binding, inputs());
        c.negotiate().unwrap();
        let a = oracle::read(&c.authenticate(&spec_challenge()).unwrap());
        let (_, _, pairs) = split_response(&a.nt);
        let at = pairs
            .windows(4)
            .position(|w| w == [0x0a, 0, 0x10, 0])
            .unwrap();
        assert_eq!(pairs[at + 4..at + 20], expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed CHALLENGE messages: typed errors
// ---------------------------------------------------------------------------------------------

fn challenge_error(msg: &[u8]) -> ChallengeError {
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    c.negotiate().unwrap();
    match c.authenticate(msg) {
        Err(NtlmError::Challenge(e)) => e,
        other => panic!("expected a challenge error, got {other:?}"),
    }
}

#[test]
fn malformed_challenges() {
    let good = spec_challenge();
    assert_eq!(
        challenge_error(&good[..11]),
        ChallengeError::TooShort { len: 11 }
    );
    assert_eq!(
        challenge_error(&good[..31]),
        ChallengeError::TooShort { len: 31 }
    );
    let mut m = good.clone();
    m[0] = b'X';
    assert_eq!(challenge_error(&m), ChallengeError::BadSignature);
    let mut m = good.clone();
    m[8] = 3;
    assert_eq!(
        challenge_error(&m),
        ChallengeError::WrongMessageType { found: 3 }
    );
    // Cut to 32 bytes, the target name lies outside; without it, this is an NTLMv1-era
    // message with no target information.
    assert_eq!(
        challenge_error(&good[..32]),
        ChallengeError::OutOfRange {
            field: "TargetName",
            offset: 0x38,
            len: 12,
            message_len: 32
        }
    );
    let mut m = good[..32].to_vec();
    m[12..16].fill(0);
    assert_eq!(challenge_error(&m), ChallengeError::NoTargetInfo);
    // Target information of length 0.
    let mut m = good.clone();
    m[40..42].copy_from_slice(&[0, 0]);
    assert_eq!(challenge_error(&m), ChallengeError::NoTargetInfo);
    // Target information past the end, by one byte and by an offset of 0xffffffff.
    let mut m = good.clone();
    m[40] = 0x25;
    assert_eq!(
        challenge_error(&m),
        ChallengeError::OutOfRange {
            field: "TargetInfo",
            offset: 0x44,
            len: 0x25,
            message_len: 104
        }
    );
    let mut m = good.clone();
    m[44..48].copy_from_slice(&[0xff; 4]);
    assert!(matches!(
        challenge_error(&m),
        ChallengeError::OutOfRange {
            field: "TargetInfo",
            offset: 0xffff_ffff,
            ..
        }
    ));
    let mut m = good.clone();
    m[16] = 0x90;
    assert!(matches!(
        challenge_error(&m),
        ChallengeError::OutOfRange {
            field: "TargetName",
            ..
        }
    ));
    // OEM only.
    let mut m = good.clone();
    m[20] &= !1;
    assert_eq!(challenge_error(&m), ChallengeError::NotUnicode);
    // An AV pair longer than the target information: the first pair claims 0x30 bytes.
    let mut m = good.clone();
    m[0x44 + 2] = 0x30;
    assert_eq!(
        challenge_error(&m),
        ChallengeError::AvPairTruncated { offset: 0 }
    );
    // A target information that ends inside an AV pair header (2 bytes of a header).
    let mut m = good.clone();
    m[40] = 0x22;
    m[42] = 0x22;
    assert_eq!(
        challenge_error(&m),
        ChallengeError::AvPairTruncated { offset: 0x20 }
    );
    // A timestamp of 4 bytes, flags of 2.
    let mut m = challenge_with_timestamp();
    m[0x44 + 0x20 + 2] = 4;
    assert!(matches!(
        challenge_error(&m),
        ChallengeError::BadAvPair { id: 7, .. } | ChallengeError::AvPairTruncated { .. }
    ));
    let mut m = spec_challenge();
    m[40] = 0x2a;
    m[42] = 0x2a;
    m.truncate(m.len() - 4);
    m.extend_from_slice(&hex("06 00 02 00 01 00 00 00 00 00"));
    assert_eq!(
        challenge_error(&m),
        ChallengeError::BadAvPair { id: 6, len: 2 }
    );
    // Too long to read at all.
    let mut m = good.clone();
    m.resize(ntlm::MAX_TOKEN_LEN + 1, 0);
    assert_eq!(
        challenge_error(&m),
        ChallengeError::TooLong {
            len: ntlm::MAX_TOKEN_LEN + 1
        }
    );
    // A target information without EOL that simply ends is read.
    let mut m = spec_challenge();
    m[40] = 0x20;
    m[42] = 0x20;
    m.truncate(m.len() - 4);
    let mut c = NtlmClient::new(spec_credentials(), "Server", ChannelBinding::None, inputs());
    let n = c.negotiate().unwrap();
    let auth = c.authenticate(&m).unwrap();
    oracle::verify(&n, &m, &auth, &spec_ntowf_v2(), &SERVER_CHALLENGE);
}

#[test]
fn oversized_names_are_refused_not_truncated() {
    let long = "x".repeat(40_000); // 80,000 bytes in UTF-16
    let mut c = NtlmClient::new(spec_credentials(), &long, ChannelBinding::None, inputs());
    c.negotiate().unwrap();
    assert_eq!(
        c.authenticate(&spec_challenge()),
        Err(NtlmError::TooLong {
            field: "MsvAvTargetName"
        })
    );
    let mut c = NtlmClient::new(
        NtlmCredentials::new(&long, None, "pw").unwrap(),
        "Server",
        ChannelBinding::None,
        inputs(),
    );
    c.negotiate().unwrap();
    assert_eq!(
        c.authenticate(&spec_challenge()),
        Err(NtlmError::TooLong { field: "UserName" })
    );
}

// ---------------------------------------------------------------------------------------------
// WWW-Authenticate
// ---------------------------------------------------------------------------------------------

fn headers(values: &[&[u8]]) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    for v in values {
        h.append(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_bytes(v).unwrap(),
        );
    }
    h
}

fn schemes(h: &http::HeaderMap) -> Vec<String> {
    ntlm::parse_www_authenticate(h)
        .iter()
        .map(|c| c.scheme().as_str().to_owned())
        .collect()
}

#[test]
fn www_authenticate_as_iis_sends_it() {
    // Exchange's EWS virtual directory: one header per scheme.
    let h = headers(&[b"Negotiate", b"NTLM", br#"Basic realm="mail.example.com""#]);
    assert_eq!(schemes(&h), ["Negotiate", "NTLM", "Basic"]);
    let c = ntlm::parse_www_authenticate(&h);
    assert_eq!(c[2].param("realm"), Some("mail.example.com"));
    assert_eq!(
        ntlm::choose(&c, CredentialKind::Windows),
        Some(Choice::Ntlm)
    );
    assert_eq!(
        ntlm::choose(&c, CredentialKind::WindowsOrBasic),
        Some(Choice::Ntlm)
    );
    assert_eq!(ntlm::choose(&c, CredentialKind::Basic), Some(Choice::Basic));
    assert_eq!(ntlm::choose(&c, CredentialKind::Bearer), None);
}

#[test]
fn www_authenticate_lists_and_mixtures() {
    let h = headers(&[
        br#"Basic realm="x", Negotiate, NTLM TlRMTVNTUAACAAAA"#,
        b"",
        br#"Bearer authorization_uri="https://login.example/x", error="invalid_token""#,
        b"  ,  Negotiate oRswGaADCgEAoxIEEAEAAAA= ",
    ]);
    let c = ntlm::parse_www_authenticate(&h);
    assert_eq!(
        c.iter().map(|c| c.scheme().clone()).collect::<Vec<_>>(),
        [
            AuthScheme::Basic,
            AuthScheme::Negotiate,
            AuthScheme::Ntlm,
            AuthScheme::Bearer,
            AuthScheme::Negotiate
        ]
    );
    assert_eq!(c[2].token(), Some(&b"NTLMSSP\0\x02\0\0\0"[..]));
    assert_eq!(
        c[3].param("authorization_uri"),
        Some("https://login.example/x")
    );
    assert_eq!(c[3].param("error"), Some("invalid_token"));
    assert_eq!(
        ntlm::server_token(&c, &AuthScheme::Negotiate).map(|t| t[0]),
        Some(0xa1)
    );
    assert_eq!(
        ntlm::choose(&c, CredentialKind::Bearer),
        Some(Choice::Bearer)
    );
    // No WWW-Authenticate at all.
    assert!(ntlm::parse_www_authenticate(&http::HeaderMap::new()).is_empty());
}

#[test]
fn www_authenticate_only_negotiate() {
    let c = ntlm::parse_www_authenticate(&headers(&[b"Negotiate"]));
    assert_eq!(
        ntlm::choose(&c, CredentialKind::Windows),
        Some(Choice::Negotiate)
    );
    assert_eq!(Choice::Negotiate.scheme(), AuthScheme::Negotiate);
    // Basic only, and Windows credentials that may not go as Basic: nothing.
    let c = ntlm::parse_www_authenticate(&headers(&[br#"Basic realm="r""#]));
    assert_eq!(ntlm::choose(&c, CredentialKind::Windows), None);
    assert_eq!(
        ntlm::choose(&c, CredentialKind::WindowsOrBasic),
        Some(Choice::Basic)
    );
}

#[test]
fn www_authenticate_odd_bytes() {
    let c = ntlm::parse_www_authenticate(&headers(&[
        b"NTLM \xff\xfe",
        b"Basic realm=\"caf\xc3\xa9\"",
        b"\"unopened",
    ]));
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].scheme(), &AuthScheme::Ntlm);
    assert_eq!(c[1].param("realm"), Some("café"));
    assert_eq!(AuthScheme::from_name("NEGOTIATE"), AuthScheme::Negotiate);
    assert_eq!(
        AuthScheme::from_name("Kerberos"),
        AuthScheme::Other("Kerberos".to_owned())
    );
}

// ---------------------------------------------------------------------------------------------
// SPNEGO
// ---------------------------------------------------------------------------------------------

fn spnego() -> SpnegoClient {
    SpnegoClient::new(NtlmClient::new(
        spec_credentials(),
        "Server",
        blog_binding(),
        inputs(),
    ))
}

/// `[1] { SEQUENCE { [0] ENUMERATED 1, [1] NTLMSSP OID, [2] OCTET STRING <spec CHALLENGE> } }`,
/// hand-written.
fn server_neg_token_resp() -> Vec<u8> {
    let mut t =
        hex("a1 81 81 30 7f a0 03 0a 01 01 a1 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a a2 6a 04 68");
    t.extend(spec_challenge());
    t
}

/// Reads our `[1] { SEQUENCE { [2] OCTET STRING, [3] OCTET STRING } }` by hand.
fn read_client_resp(t: &[u8]) -> (Vec<u8>, Vec<u8>) {
    // The AUTHENTICATE is 286 bytes: [2] 82 01 22 { 04 82 01 1e ... }; [3] 12 { 04 10 ... }.
    assert_eq!(t[..4], hex("a1 82 01 3e")[..]);
    assert_eq!(t[4..8], hex("30 82 01 3a")[..]);
    assert_eq!(t[8..16], hex("a2 82 01 22 04 82 01 1e")[..]);
    let auth = t[16..16 + 286].to_vec();
    assert_eq!(t[302..306], hex("a3 12 04 10")[..]);
    let mic = t[306..].to_vec();
    assert_eq!(mic.len(), 16);
    (auth, mic)
}

/// The DER MechTypeList `SEQUENCE { OID 1.3.6.1.4.1.311.2.2.10 }`, hand-written.
const MECH_TYPE_LIST: &str = "30 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a";

#[test]
fn spnego_init_token_is_the_hand_written_one() {
    let mut s = spnego();
    let mut expected = hex("60 40 06 06 2b 06 01 05 05 02 a0 36 30 34 a0 0e");
    expected.extend(hex(MECH_TYPE_LIST));
    expected.extend(hex("a2 22 04 20"));
    expected.extend(hex(NEGOTIATE));
    assert_eq!(s.init_token().unwrap(), expected);
}

#[test]
fn spnego_round_trip() {
    let mut s = spnego();
    s.init_token().unwrap();
    let out = s.respond(&server_neg_token_resp()).unwrap();
    assert!(s.is_complete());
    let (auth, mic) = read_client_resp(&out);
    let exported = oracle::verify(
        &hex(NEGOTIATE),
        &spec_challenge(),
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
    // The mechListMIC: the NTLM signature of the MechTypeList under the client keys.
    assert_eq!(
        mic,
        oracle::signature(&exported, "client-to-server", &hex(MECH_TYPE_LIST))
    );

    // The server's final token, as IIS sends it in the 200: accept-completed and its own
    // mechListMIC (server keys). `oRswGaADCgEAoxIEEA...`.
    let server_mic = oracle::signature(&exported, "server-to-client", &hex(MECH_TYPE_LIST));
    let mut last = hex("a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10");
    last.extend(server_mic);
    assert_eq!(
        &base64::engine::general_purpose::STANDARD.encode(&last)[..20],
        "oRswGaADCgEAoxIEEAEA"
    );
    s.finish(&last).unwrap();
    assert!(s.is_complete());
    assert!(matches!(s.finish(&last), Err(NtlmError::OutOfOrder { .. })));
}

#[test]
fn spnego_final_token_checks() {
    let ready = || {
        let mut s = spnego();
        s.init_token().unwrap();
        let out = s.respond(&server_neg_token_resp()).unwrap();
        let (auth, _) = read_client_resp(&out);
        let exported = oracle::verify(
            &hex(NEGOTIATE),
            &spec_challenge(),
            &auth,
            &spec_ntowf_v2(),
            &SERVER_CHALLENGE,
        );
        (s, exported)
    };
    // A mechListMIC made with the client's keys (a reflection) is refused.
    let (mut s, exported) = ready();
    let mut last = hex("a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10");
    last.extend(oracle::signature(
        &exported,
        "client-to-server",
        &hex(MECH_TYPE_LIST),
    ));
    assert_eq!(
        s.finish(&last),
        Err(NtlmError::Spnego(SpnegoError::BadMechListMic))
    );
    assert!(!s.is_complete());
    // No mechListMIC, just accept-completed: fine.
    let (mut s, _) = ready();
    s.finish(&hex("a1 07 30 05 a0 03 0a 01 00")).unwrap();
    // reject.
    let (mut s, _) = ready();
    assert_eq!(
        s.finish(&hex("a1 07 30 05 a0 03 0a 01 02")),
        Err(NtlmError::Rejected)
    );
    // accept-incomplete at the end.
    let (mut s, _) = ready();
    assert_eq!(
        s.finish(&hex("a1 07 30 05 a0 03 0a 01 01")),
        Err(NtlmError::Spnego(SpnegoError::UnexpectedState(1)))
    );
    // The trait: a 2xx without token completes.
    let (mut s, _) = ready();
    assert_eq!(s.step(None).unwrap(), AuthStep::Done);
}

#[test]
fn spnego_refusals() {
    let started = || {
        let mut s = spnego();
        s.init_token().unwrap();
        s
    };
    // Kerberos (1.2.840.113554.1.2.2) chosen, then the same token cut short by a byte.
    let krb = hex("a1 14 30 12 a0 03 0a 01 01 a1 0b 06 09 2a 86 48 86 f7 12 01 02 02");
    let mut s = started();
    assert_eq!(
        s.respond(&krb),
        Err(NtlmError::Spnego(SpnegoError::UnsupportedMech(
            "1.2.840.113554.1.2.2".to_owned()
        )))
    );
    assert!(matches!(
        s.respond(&server_neg_token_resp()),
        Err(NtlmError::OutOfOrder {
            state: "failed",
            ..
        })
    ));
    let mut s = started();
    assert!(matches!(
        s.respond(&krb[..krb.len() - 1]),
        Err(NtlmError::Spnego(SpnegoError::Malformed(_)))
    ));
    // reject with no token.
    let mut s = started();
    assert_eq!(
        s.respond(&hex("a1 07 30 05 a0 03 0a 01 02")),
        Err(NtlmError::Rejected)
    );
    // NTLM accepted but no CHALLENGE.
    let mut s = started();
    assert_eq!(
        s.respond(&hex(
            "a1 15 30 13 a0 03 0a 01 01 a1 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a"
        )),
        Err(NtlmError::Spnego(SpnegoError::NoResponseToken))
    );
    // A raw NTLM CHALLENGE where a NegTokenResp belongs.
    let mut s = started();
    assert!(matches!(
        s.respond(&spec_challenge()),
        Err(NtlmError::Spnego(SpnegoError::Malformed(_)))
    ));
    // A NegTokenResp whose CHALLENGE is malformed.
    let mut s = started();
    let mut bad = server_neg_token_resp();
    bad[28] = b'X';
    assert_eq!(
        s.respond(&bad),
        Err(NtlmError::Challenge(ChallengeError::BadSignature))
    );
    // Out of order.
    let mut s = spnego();
    assert_eq!(
        s.respond(&server_neg_token_resp()),
        Err(NtlmError::OutOfOrder {
            call: "respond",
            state: "initial"
        })
    );
    assert!(matches!(s.finish(b""), Err(NtlmError::OutOfOrder { .. })));
}

#[test]
fn the_authenticator_trait_drives_spnego() {
    let mut s: Box<dyn Authenticator> = Box::new(spnego());
    assert_eq!(s.scheme(), AuthScheme::Negotiate);
    let AuthStep::Continue(init) = s.step(None).unwrap() else {
        panic!("continue")
    };
    assert_eq!(init[0], 0x60);
    let AuthStep::Last(resp) = s.step(Some(&server_neg_token_resp())).unwrap() else {
        panic!("last")
    };
    let (auth, _) = read_client_resp(&resp);
    let exported = oracle::verify(
        &hex(NEGOTIATE),
        &spec_challenge(),
        &auth,
        &spec_ntowf_v2(),
        &SERVER_CHALLENGE,
    );
    let mut last = hex("a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10");
    last.extend(oracle::signature(
        &exported,
        "server-to-client",
        &hex(MECH_TYPE_LIST),
    ));
    assert_eq!(s.step(Some(&last)).unwrap(), AuthStep::Done);
    assert_eq!(s.step(None).unwrap(), AuthStep::Done);
    assert!(matches!(
        s.step(Some(&last)),
        Err(NtlmError::OutOfOrder { .. })
    ));
}
