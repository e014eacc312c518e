//! Credentials and the authentication state a client keeps between calls.

use base64::Engine as _;
use http::HeaderValue;

use crate::client::Secret;

/// How a client authenticates.
///
/// `Debug` shows the user name but never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// No `Authorization` header (a proxy or the transport authenticates).
    None,
    /// HTTP Basic: only over TLS in production.
    Basic {
        /// The user name (`user@example.com` or `DOMAIN\user`).
        username: String,
        /// The password.
        password: Secret<String>,
    },
    /// OAuth2 bearer tokens supplied by the application's token provider, which the driver
    /// calls when [`crate::Step::FetchToken`] says so (once at first use, and once more
    /// with `refresh` set after a 401).
    Bearer,
}

impl Credentials {
    /// Basic credentials.
    pub fn basic(username: impl Into<String>, password: impl Into<Secret<String>>) -> Self {
        Credentials::Basic {
            username: username.into(),
            password: password.into(),
        }
    }
}

/// What a client remembers about authentication across calls: the credentials and the
/// current bearer token.
///
/// Call order (driven by [`crate::Call`]): a `Bearer` client starts without a token, so
/// the first call yields `Step::FetchToken { refresh: false }`; the driver asks the
/// application for a token and hands it to [`Auth::set_token`]. A 401 yields
/// `Step::FetchToken { refresh: true }` once per call; a second 401 ends the call with
/// the `Unauthorized` error.
#[derive(Debug, Clone)]
pub struct Auth {
    credentials: Credentials,
    token: Option<Secret<String>>,
    /// Incremented at every `set_token`, so a call can tell a fresh token from the one
    /// its request was sent with.
    generation: u64,
    /// The `Authorization` value for the credentials and token above, made once when they
    /// change rather than at every request (`Debug` of a sensitive value hides it).
    header: Option<HeaderValue>,
}

impl Auth {
    /// The state for `credentials`, without a token yet.
    pub fn new(credentials: Credentials) -> Self {
        let mut auth = Self {
            credentials,
            token: None,
            generation: 0,
            header: None,
        };
        auth.header = auth.make_header();
        auth
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Stores the token the application's provider returned.
    pub fn set_token(&mut self, token: Secret<String>) {
        self.token = Some(token);
        self.generation += 1;
        self.header = self.make_header();
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
        };
        let mut value = HeaderValue::from_str(&raw).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        auth.set_token(Secret::from("abc"));
        assert!(!auth.needs_token());
        assert_eq!(auth.header().unwrap(), "Bearer abc");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut auth = Auth::new(Credentials::basic("user1@example.com", "Passw0rd-1"));
        auth.set_token(Secret::from("token-xyz"));
        let shown = format!("{auth:?}");
        assert!(shown.contains("user1@example.com"));
        assert!(!shown.contains("Passw0rd-1"), "{shown}");
        assert!(!shown.contains("token-xyz"), "{shown}");
    }
}
