//! Windows-integrated authentication, the pure part: `WWW-Authenticate` parsing, the choice
//! of scheme, NTLMv2 ([MS-NLMP]) with channel binding, and NTLM inside SPNEGO (`Negotiate`).
//!
//! Nothing here does IO or reads a clock: random values and the current time are arguments
//! ([`HandshakeInputs`]), the TLS peer certificate is bytes handed in by the driver
//! ([`ChannelBinding::from_leaf_certificate`]), and every function returns bytes to send or a
//! typed error. No input makes any of it panic (the parsers are fuzzed, see `FUZZING.md`).
//!
//! # The handshake
//!
//! NTLM authenticates a **connection**, not a request: the three legs must travel over one
//! TCP (TLS) connection, and the driver keeps one [`NtlmClient`] (or [`SpnegoClient`]) per
//! connection and handshake.
//!
//! 1. A request comes back `401` with `WWW-Authenticate` headers: read them with
//!    [`parse_www_authenticate`] and pick a scheme with [`choose`].
//! 2. Build the client for that connection with [`NtlmClient::new`] (wrapped in
//!    [`SpnegoClient::new`] for [`Choice::Negotiate`]).
//! 3. [`NtlmClient::negotiate`]: send its bytes as `Authorization: NTLM <base64>`
//!    ([`authorization`]).
//! 4. The server answers `401` with `WWW-Authenticate: NTLM <base64 CHALLENGE>`
//!    ([`server_token`] finds it); [`NtlmClient::authenticate`] turns it into the
//!    AUTHENTICATE message, sent with the request again.
//! 5. A `2xx` means the connection is authenticated; a `401` after AUTHENTICATE means the
//!    credentials were refused (never start over in a loop).
//!
//! Calling a step out of order is a [`NtlmError::OutOfOrder`], and after any error the
//! client stays failed: start a new handshake (on a new connection) instead.
//!
//! ```
//! use ews_proto::ntlm::{
//!     self, ChannelBinding, Choice, CredentialKind, HandshakeInputs, NtlmClient, NtlmCredentials,
//! };
//!
//! // 1. The first answer was a 401.
//! let mut headers = http::HeaderMap::new();
//! headers.append("www-authenticate", "Negotiate".parse()?);
//! headers.append("www-authenticate", "NTLM".parse()?);
//! let challenges = ntlm::parse_www_authenticate(&headers);
//! assert_eq!(ntlm::choose(&challenges, CredentialKind::Windows), Some(Choice::Ntlm));
//!
//! // 2. One client per connection; random values and time come from the driver.
//! let credentials = NtlmCredentials::new(r"EXAMPLE\alice", None, "s3cret")?;
//! let inputs = HandshakeInputs {
//!     client_challenge: [0x11; 8],       // 8 random bytes
//!     random_session_key: [0x22; 16],    // 16 random bytes
//!     now: "2025-06-02T10:00:00Z".parse()?, // used only if the server sends no timestamp
//! };
//! let mut client =
//!     NtlmClient::new(credentials, "mail.example.com", ChannelBinding::None, inputs);
//!
//! // 3. NEGOTIATE.
//! let negotiate = client.negotiate()?;
//! let header = ntlm::authorization(&ntlm::AuthScheme::Ntlm, &negotiate);
//! assert!(header.to_str()?.starts_with("NTLM TlRMTVNTUAAB"));
//!
//! // 4. The server's CHALLENGE (here the one of MS-NLMP section 4.2.4.3) -> AUTHENTICATE.
//! let mut answer = http::HeaderMap::new();
//! answer.append("www-authenticate", "NTLM TlRMTVNTUAACAAAADAAMADgAAAAzgoriASNFZ4mrze8AAAAAAAAAACQAJABEAAAABgBwFwAAAA9TAGUAcgB2AGUAcgACAAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAA=".parse()?);
//! let challenges = ntlm::parse_www_authenticate(&answer);
//! let challenge = ntlm::server_token(&challenges, &ntlm::AuthScheme::Ntlm).expect("a token");
//! let authenticate = client.authenticate(challenge)?;
//! assert_eq!(&authenticate[..12], b"NTLMSSP\0\x03\0\0\0");
//! assert!(client.is_complete());
//!
//! // Out of order: a typed error, not a panic.
//! assert!(matches!(client.negotiate(), Err(ntlm::NtlmError::OutOfOrder { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the AUTHENTICATE message carries
//!
//! NTLMv2 only (no LM, no NTLMv1). The response's AV pairs are the server's, plus
//! `MsvAvFlags` with the MIC bit (0x2), `MsvAvChannelBindings` (the MD5 of the
//! `gss_channel_bindings_struct`, or 16 zero bytes for [`ChannelBinding::None`], as Windows
//! clients send when they have no binding) and `MsvAvTargetName` = `HTTP/<host>`. The
//! timestamp is the server's `MsvAvTimestamp`, or [`HandshakeInputs::now`] when it sent none.
//! The LM response is 24 zero bytes when the server sent a timestamp (MS-NLMP 3.1.5.1.2: the
//! LMv2 response cannot carry one), and the LMv2 response otherwise. With `KEY_EXCH` (Windows
//! servers always offer it) the exported session key is [`HandshakeInputs::random_session_key`],
//! sent RC4-encrypted under the session base key. The MIC is always sent: HMAC-MD5 under the
//! exported session key over the NEGOTIATE, CHALLENGE and AUTHENTICATE messages.
//!
//! # Negotiate (SPNEGO) and mechListMIC
//!
//! [`SpnegoClient`] wraps the same NTLM exchange in SPNEGO (RFC 4178): a `NegTokenInit`
//! offering only NTLMSSP (OID 1.3.6.1.4.1.311.2.2.10) with the NEGOTIATE message, then a
//! `NegTokenResp` with the AUTHENTICATE message **and a `mechListMIC`**. RFC 4178 section 5
//! makes the MIC exchange optional when the only offered mechanism is chosen, but Microsoft's
//! SPNEGO does not: [MS-SPNG] Appendix A, product behaviour note on section 3.2.5.1 ("If NTLM
//! authentication is most preferred by the client and the server, and the client includes a
//! MIC in AUTHENTICATE_MESSAGE, then the mechListMIC field becomes mandatory in order for the
//! authentication to succeed"). Since our AUTHENTICATE always has a MIC, the `mechListMIC` is
//! always sent: the NTLM signature (MS-NLMP 3.4.4.2, sequence number 0, client signing and
//! sealing keys) of the DER `MechTypeList`. The server's own `mechListMIC` in its final
//! `accept-completed` token is checked when the driver passes that token on
//! ([`SpnegoClient::finish`]). (Windows clients avoid the question by sending a bare NTLM token
//! under `Negotiate` when they pick NTLM; [`choose`] prefers the `NTLM` scheme when both are
//! offered, for the same reason.)
//!
//! # Kerberos later
//!
//! [`Authenticator`] is the seam: a token-producing step function that both clients implement
//! and that a Kerberos mechanism (inside SPNEGO) will implement too, so that the drivers run
//! one loop whatever the mechanism.
//!
//! [MS-NLMP]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/
//! [MS-SPNG]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-spng/

mod binding;
mod client;
mod crypto;
mod der;
mod error;
mod message;
mod spnego;
mod user;
mod www_authenticate;

use base64::Engine as _;
use http::HeaderValue;

pub use binding::{CertificateError, ChannelBinding};
pub use client::{HandshakeInputs, NtlmClient};
pub use error::{ChallengeError, NtlmError, SpnegoError};
pub use spnego::SpnegoClient;
pub use user::{NtlmCredentials, UserNameError};
pub use www_authenticate::{
    AuthScheme, Challenge, Choice, CredentialKind, choose, parse_challenges,
    parse_www_authenticate, server_token,
};

/// The largest NTLM message or SPNEGO token read (64 KiB). Larger inputs are refused before
/// parsing ([`ChallengeError::TooLong`], [`SpnegoError::TooLong`]); real ones are well under
/// 2 KiB.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// One step of a token-exchanging authentication mechanism (NTLM, NTLM in SPNEGO, later
/// Kerberos in SPNEGO).
///
/// Call order: `step(None)` first; then, after every [`AuthStep::Continue`], `step(Some(t))`
/// with the token `t` of the server's next `401` (see [`server_token`]). After
/// [`AuthStep::Last`] the next answer decides: a `2xx` ends the handshake (pass its
/// `WWW-Authenticate` token of [`Authenticator::scheme`], if any, to `step(Some(t))`, which
/// checks it and returns [`AuthStep::Done`]); a `401` means the credentials were refused.
pub trait Authenticator {
    /// The HTTP scheme the tokens travel under (`NTLM` or `Negotiate`).
    fn scheme(&self) -> AuthScheme;

    /// Advances the handshake with the server's token (`None` at the start).
    ///
    /// # Errors
    /// [`NtlmError::OutOfOrder`] for a call that does not fit the state, and any error of the
    /// mechanism (a malformed server token, a refusal).
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<AuthStep, NtlmError>;
}

/// What to do after [`Authenticator::step`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthStep {
    /// Send this token; the server answers with another token (a `401`).
    Continue(Vec<u8>),
    /// Send this token; it is the last one this side sends.
    Last(Vec<u8>),
    /// The handshake is complete on this side.
    Done,
}

impl std::fmt::Debug for AuthStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are not secret, but long; their size says enough in a log.
        match self {
            AuthStep::Continue(t) => write!(f, "Continue({} bytes)", t.len()),
            AuthStep::Last(t) => write!(f, "Last({} bytes)", t.len()),
            AuthStep::Done => f.write_str("Done"),
        }
    }
}

/// The `Authorization` header value `<scheme> <base64 token>`, marked sensitive (so that
/// `http`'s `Debug` hides it). An [`AuthScheme::Other`] built by hand with a character a
/// header cannot carry gives an empty value.
pub fn authorization(scheme: &AuthScheme, token: &[u8]) -> HeaderValue {
    let text = format!(
        "{} {}",
        scheme.as_str(),
        base64::engine::general_purpose::STANDARD.encode(token)
    );
    // Base64 is ASCII and the named schemes are tokens, so only a hand-built
    // `AuthScheme::Other` holding a control character can fail here: it gets an empty value.
    let mut value = HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}
