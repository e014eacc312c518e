//! Credentials and the authentication state a client keeps between calls.

use base64::Engine as _;
use http::{HeaderValue, Uri};

use crate::client::Secret;
use crate::client::connection::{ConnectionId, HandshakeSource, SourceHandle};
use crate::error::{AuthError, InvalidToken, UsageError};
use crate::ntlm::{HandshakeInputs, NtlmCredentials, UserNameError};

/// How a client authenticates.
///
/// `Debug` shows the user name but never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// No `Authorization` header (a proxy or the transport authenticates).
    None,
    /// HTTP Basic. Refused over plain `http://` unless the host is a loopback address or
    /// the caller opted in ([`Auth::allow_credentials_over_http`]).
    Basic {
        /// The user name (`user@example.com` or `DOMAIN\user`).
        username: String,
        /// The password.
        password: Secret<String>,
    },
    /// OAuth2 bearer tokens supplied by the application's token provider, which the driver
    /// calls when [`crate::driver::Step::FetchToken`] says so (once at first use, and once more
    /// with `refresh` set after a 401).
    Bearer,
    /// Windows-integrated authentication: NTLMv2, bare (`NTLM`) or inside SPNEGO
    /// (`Negotiate`), whichever the server offers (NTLM preferred, see
    /// [`crate::ntlm::choose`]). The password never travels; the handshake authenticates
    /// the connection it ran on, and later requests reuse that connection (see
    /// [`crate::driver::ConnectionUse`]). Over TLS the handshake carries the channel binding
    /// of the server's certificate (Extended Protection).
    Ntlm {
        /// `DOMAIN\user`, `user@domain` (a UPN) or a bare `user` (see
        /// [`NtlmCredentials`]).
        username: String,
        /// The domain of a bare `user`; `None` for the other forms.
        domain: Option<String>,
        /// The password.
        password: Secret<String>,
    },
}

impl Credentials {
    /// Basic credentials.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret<String>>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Windows-integrated (NTLM / Negotiate) credentials: `username` is `DOMAIN\user`,
    /// `user@domain` or a bare `user` (of the server's domain).
    pub fn ntlm(username: impl Into<String>, password: impl Into<Secret<String>>) -> Self {
        Credentials::Ntlm {
            username: username.into(),
            domain: None,
            password: password.into(),
        }
    }

    /// Windows-integrated credentials of a bare `user` in `domain`.
    pub fn ntlm_in_domain(
        user: impl Into<String>,
        domain: impl Into<String>,
        password: impl Into<Secret<String>>,
    ) -> Self {
        Credentials::Ntlm {
            username: user.into(),
            domain: Some(domain.into()),
            password: password.into(),
        }
    }
}

/// What a client remembers about authentication across calls: the credentials and the
/// current bearer token.
///
/// Call order (driven by [`crate::driver::Call`]): a `Bearer` client starts without a token, so
/// the first call yields `Step::FetchToken { refresh: false }`; the driver asks the
/// application for a token and hands it to [`Auth::set_token`]. A 401 yields
/// `Step::FetchToken { refresh: true }` once per call; a second 401 ends the call with
/// the `Unauthorized` error.
///
/// Credentials (Basic, Bearer) travel only over `https://`, or over `http://` to a
/// loopback host (`localhost`, `127.0.0.0/8`, `[::1]`); anything else is a
/// [`UsageError::CredentialsOverHttp`] before a byte is sent, unless
/// [`Auth::allow_credentials_over_http`] says otherwise.
#[derive(Debug, Clone)]
pub struct Auth {
    credentials: Credentials,
    allow_http: bool,
    token: Option<Secret<String>>,
    /// Incremented at every `set_token`, so a call can tell a fresh token from the one
    /// its request was sent with.
    generation: u64,
    /// The `Authorization` value for the credentials and token above, made once when they
    /// change rather than at every request (`Debug` of a sensitive value hides it).
    header: Option<HeaderValue>,
    /// The NTLM account, read once from `Credentials::Ntlm` (`None` for other credentials).
    windows: Option<Result<NtlmCredentials, UserNameError>>,
    /// Random values and the time for handshakes.
    source: Option<SourceHandle>,
    /// Send NEGOTIATE with the first request instead of waiting for a 401.
    up_front: bool,
    /// Connections this identity authenticated, idle, by endpoint origin; newest last.
    idle: Vec<(String, ConnectionId)>,
}

/// Most idle authenticated connections an [`Auth`] remembers (the oldest is forgotten).
const MAX_IDLE: usize = 8;

impl Auth {
    /// The state for `credentials`, without a token yet.
    pub fn new(credentials: Credentials) -> Self {
        let windows = match &credentials {
            Credentials::Ntlm {
                username,
                domain,
                password,
            } => Some(NtlmCredentials::new(
                username,
                domain.as_deref(),
                password.clone(),
            )),
            _ => None,
        };
        let mut auth = Self {
            credentials,
            allow_http: false,
            token: None,
            generation: 0,
            header: None,
            windows,
            source: None,
            up_front: false,
            idle: Vec::new(),
        };
        auth.header = auth.make_header();
        auth
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// **Dangerous**: sends the credentials over plain `http://` to any host, where
    /// anyone on the path can read them (a Basic password is only base64). For a server
    /// reached through a TLS-terminating tunnel or proxy you control. Default: `false`
    /// (loopback hosts are always allowed).
    pub fn allow_credentials_over_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Where NTLM handshakes get random bytes and the time. The drivers set one that reads
    /// the operating system; without one an NTLM call ends with
    /// [`AuthError::Randomness`].
    pub fn handshake_source(mut self, source: std::sync::Arc<dyn HandshakeSource>) -> Self {
        self.source = Some(SourceHandle(source));
        self
    }

    /// Sets `source` unless one is set already: what a driver's `build` does with its own.
    pub fn default_handshake_source(
        &mut self,
        source: impl FnOnce() -> std::sync::Arc<dyn HandshakeSource>,
    ) {
        if self.source.is_none() {
            self.source = Some(SourceHandle(source()));
        }
    }

    /// Is a [`HandshakeSource`] set?
    pub fn has_handshake_source(&self) -> bool {
        self.source.is_some()
    }

    /// NTLM: send the NEGOTIATE message with a call's first request (bare `NTLM`), instead
    /// of an anonymous request that the server answers with `401` and its schemes. Saves a
    /// round trip per new connection; a server that offers only `Negotiate` still gets it
    /// (the core switches once). Default: `false`.
    pub fn ntlm_up_front(mut self, yes: bool) -> Self {
        self.up_front = yes;
        self
    }

    /// How many authenticated connections are idle, ready for the next call.
    pub fn idle_connections(&self) -> usize {
        self.idle.len()
    }

    /// Are the credentials usable?
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for an NTLM user name that cannot be sent.
    pub fn check_credentials(&self) -> Result<(), UsageError> {
        match &self.windows {
            Some(Err(e)) => Err(UsageError::invalid(
                "NTLM user name",
                match e {
                    UserNameError::Empty => "the user name is empty",
                    UserNameError::DomainTwice => {
                        "a domain was given twice (in the user name and separately)"
                    }
                    _ => "the user name or domain holds a control character",
                },
            )),
            _ => Ok(()),
        }
    }

    /// The NTLM account, for `Credentials::Ntlm`.
    pub(crate) fn windows(&self) -> Option<Result<&NtlmCredentials, UsageError>> {
        let result = self.windows.as_ref()?;
        Some(match result {
            Ok(c) => Ok(c),
            Err(_) => Err(self
                .check_credentials()
                .err()
                .unwrap_or_else(|| UsageError::invalid("NTLM user name", "not usable"))),
        })
    }

    pub(crate) fn up_front(&self) -> bool {
        self.up_front
    }

    /// Fresh random values and the time for one handshake.
    pub(crate) fn handshake_inputs(&self) -> Result<HandshakeInputs, AuthError> {
        let Some(SourceHandle(source)) = &self.source else {
            return Err(AuthError::Randomness(
                "no HandshakeSource is set (drivers set one; see Auth::handshake_source)".into(),
            ));
        };
        let mut bytes = [0u8; 24];
        source
            .fill_random(&mut bytes)
            .map_err(AuthError::Randomness)?;
        let now = jiff::Timestamp::try_from(source.now()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let mut client_challenge = [0u8; 8];
        let mut random_session_key = [0u8; 16];
        client_challenge.copy_from_slice(&bytes[..8]);
        random_session_key.copy_from_slice(&bytes[8..]);
        Ok(HandshakeInputs {
            client_challenge,
            random_session_key,
            now,
        })
    }

    /// Takes an idle connection this identity authenticated to `origin`, if any (it is
    /// busy until [`Auth::put_idle`] returns it).
    pub(crate) fn take_idle(&mut self, origin: &str) -> Option<ConnectionId> {
        let at = self.idle.iter().rposition(|(o, _)| o == origin)?;
        Some(self.idle.remove(at).1)
    }

    /// Remembers `id` as authenticated to `origin` for this identity, and idle.
    pub(crate) fn put_idle(&mut self, origin: &str, id: ConnectionId) {
        self.idle.retain(|(_, known)| *known != id);
        if self.idle.len() >= MAX_IDLE {
            self.idle.remove(0);
        }
        self.idle.push((origin.to_owned(), id));
    }

    /// May these credentials be sent to `endpoint`?
    ///
    /// # Errors
    /// [`UsageError::CredentialsOverHttp`] for credentials over `http://` to a host that
    /// is not a loopback address, unless allowed.
    pub fn check_endpoint(&self, endpoint: &Uri) -> Result<(), UsageError> {
        let cleartext = endpoint.scheme_str() != Some("https");
        if matches!(self.credentials, Credentials::None)
            || !cleartext
            || self.allow_http
            || endpoint.host().is_some_and(is_loopback)
        {
            return Ok(());
        }
        Err(UsageError::CredentialsOverHttp {
            host: endpoint.host().unwrap_or_default().to_owned(),
        })
    }

    /// Stores the token the application's provider returned.
    ///
    /// # Errors
    /// [`InvalidToken`] for an empty token or one an HTTP header cannot carry (CR, LF,
    /// NUL, other control characters); the previous token, if any, stays.
    pub fn set_token(&mut self, token: Secret<String>) -> Result<(), InvalidToken> {
        let raw = token.expose();
        if raw.is_empty() || raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(InvalidToken);
        }
        self.token = Some(token);
        self.generation += 1;
        self.header = self.make_header();
        Ok(())
    }

    /// Does the next request need a token first?
    pub(crate) fn needs_token(&self) -> bool {
        matches!(self.credentials, Credentials::Bearer) && self.token.is_none()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// Can a 401 be cured by asking for a new token?
    pub(crate) fn refreshable(&self) -> bool {
        matches!(self.credentials, Credentials::Bearer)
    }

    /// The `Authorization` header value, marked sensitive so HTTP libraries redact it.
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        self.header.clone()
    }

    fn make_header(&self) -> Option<HeaderValue> {
        let raw = match &self.credentials {
            Credentials::None => return None,
            Credentials::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Credentials::Bearer => format!("Bearer {}", self.token.as_ref()?.expose()),
            // Connection-scoped: the handshake's headers are the call's (see `Call`).
            Credentials::Ntlm { .. } => return None,
        };
        let mut value = HeaderValue::from_str(&raw).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// `localhost`, an address in `127.0.0.0/8`, or `::1` (the host of a `Uri`, IPv6 in
/// brackets).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_travel_in_clear_only_to_loopback_or_when_allowed() {
        let basic = Auth::new(Credentials::basic("a", "b"));
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        for ok in [
            "https://mail.example.com/EWS/Exchange.asmx",
            "http://127.0.0.1:8080/EWS/Exchange.asmx",
            "http://127.1.2.3/EWS/Exchange.asmx",
            "http://localhost/EWS/Exchange.asmx",
            "http://[::1]:80/EWS/Exchange.asmx",
        ] {
            assert_eq!(basic.check_endpoint(&uri(ok)), Ok(()), "{ok}");
        }
        for refused in [
            "http://mail.example.com/EWS/Exchange.asmx",
            "http://10.0.0.1/EWS/Exchange.asmx",
            "http://localhost.example.com/EWS/Exchange.asmx",
        ] {
            assert!(
                matches!(
                    basic.check_endpoint(&uri(refused)),
                    Err(UsageError::CredentialsOverHttp { .. })
                ),
                "{refused}"
            );
            assert_eq!(
                basic
                    .clone()
                    .allow_credentials_over_http(true)
                    .check_endpoint(&uri(refused)),
                Ok(())
            );
            let bearer = Auth::new(Credentials::Bearer);
            assert!(bearer.check_endpoint(&uri(refused)).is_err());
            let none = Auth::new(Credentials::None);
            assert_eq!(none.check_endpoint(&uri(refused)), Ok(()));
        }
    }

    #[test]
    fn a_token_a_header_cannot_carry_is_refused_and_the_old_one_kept() {
        let mut auth = Auth::new(Credentials::Bearer);
        auth.set_token(Secret::from("good")).unwrap();
        for bad in [
            "",
            "a\r\nX-Injected: yes",
            "nul\0",
            "tab\tinside",
            "del\x7f",
        ] {
            assert_eq!(
                auth.set_token(Secret::from(bad)),
                Err(InvalidToken),
                "{bad:?}"
            );
        }
        assert_eq!(auth.header().unwrap(), "Bearer good");
        assert_eq!(auth.generation(), 1);
    }

    #[test]
    fn basic_header_is_rfc_7617_and_sensitive() {
        let auth = Auth::new(Credentials::basic("Aladdin", "open sesame"));
        let h = auth.header().unwrap();
        assert_eq!(h, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains("QWxh"));
    }

    #[test]
    fn bearer_needs_a_token_first() {
        let mut auth = Auth::new(Credentials::Bearer);
        assert!(auth.needs_token());
        assert_eq!(auth.header(), None);
        auth.set_token(Secret::from("abc")).unwrap();
        assert!(!auth.needs_token());
        assert_eq!(auth.header().unwrap(), "Bearer abc");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut auth = Auth::new(Credentials::basic("user1@example.com", "Passw0rd-1"));
        auth.set_token(Secret::from("token-xyz")).unwrap();
        let shown = format!("{auth:?}");
        assert!(shown.contains("user1@example.com"));
        assert!(!shown.contains("Passw0rd-1"), "{shown}");
        assert!(!shown.contains("token-xyz"), "{shown}");
    }
}
