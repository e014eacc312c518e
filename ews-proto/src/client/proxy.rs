//! HTTP proxies: which one an endpoint goes through, decided once, purely.
//!
//! Both faces tunnel through the proxy with `CONNECT host:port` (for `http://` and
//! `https://` endpoints alike; TLS, when the endpoint is `https`, runs end to end inside
//! the tunnel), sending `Proxy-Authorization: Basic` when the proxy URL has user info.

use std::fmt;

use base64::Engine as _;
use http::Uri;

use crate::client::Secret;
use crate::error::UsageError;

/// How a client reaches its endpoint.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxySetting {
    /// Straight to the server (the default; the environment is not read).
    #[default]
    Direct,
    /// Through this proxy (`http://[user:password@]host[:port]`).
    Url(String),
    /// As the usual environment variables say, read when the setting is made:
    /// `HTTPS_PROXY` (for an `https` endpoint) or `HTTP_PROXY` (for `http`), then
    /// `ALL_PROXY`, each also lower-case; `NO_PROXY` lists hosts that go direct.
    Environment {
        /// The proxy URL the variables name for this scheme, if any.
        https: Option<String>,
        /// The same for `http` endpoints.
        http: Option<String>,
        /// The `NO_PROXY` list.
        no_proxy: Option<String>,
    },
}

impl ProxySetting {
    /// The setting the environment describes, read through `var` (a face passes
    /// `std::env::var`): what [`ProxySetting::Environment`] documents.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
        };
        ProxySetting::Environment {
            https: first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
            http: first(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]),
            no_proxy: first(&["NO_PROXY", "no_proxy"]),
        }
    }

    /// The proxy `endpoint` goes through, if any.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for a proxy URL that is not `http://host[:port]` with
    /// optional user info (the URL is not echoed: it may hold a password).
    pub fn resolve(&self, endpoint: &Uri) -> Result<Option<Proxy>, UsageError> {
        let url = match self {
            ProxySetting::Direct => return Ok(None),
            ProxySetting::Url(url) => url,
            ProxySetting::Environment {
                https,
                http,
                no_proxy,
            } => {
                let host = endpoint.host().unwrap_or_default();
                if no_proxy.as_deref().is_some_and(|list| bypasses(list, host)) {
                    return Ok(None);
                }
                let chosen = match endpoint.scheme_str() {
                    Some("https") => https,
                    _ => http,
                };
                match chosen {
                    Some(url) => url,
                    None => return Ok(None),
                }
            }
        };
        Proxy::parse(url).map(Some)
    }
}

impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Proxy URLs may hold a password: only whether one is set is shown.
        match self {
            ProxySetting::Direct => f.write_str("Direct"),
            ProxySetting::Url(_) => f.write_str("Url(..)"),
            ProxySetting::Environment { https, http, .. } => f
                .debug_struct("Environment")
                .field("https", &https.is_some())
                .field("http", &http.is_some())
                .finish_non_exhaustive(),
        }
    }
}

/// Does `NO_PROXY` (comma-separated hosts, `.domain` or `domain` suffixes, `*`) send
/// `host` direct?
fn bypasses(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    list.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.');
        entry == "*"
            || (!entry.is_empty()
                && (host.eq_ignore_ascii_case(entry)
                    || host.len().checked_sub(entry.len() + 1).is_some_and(|cut| {
                        host.as_bytes()[cut] == b'.' && host[cut + 1..].eq_ignore_ascii_case(entry)
                    })))
    })
}

/// An HTTP proxy to tunnel through.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    authorization: Option<Secret<String>>,
    user: Option<(String, Secret<String>)>,
}

impl Proxy {
    /// Parses `http://[user:password@]host[:port][/]` (port 80 when left out).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for anything else.
    pub fn parse(url: &str) -> Result<Self, UsageError> {
        let bad = |reason| UsageError::InvalidValue {
            kind: "proxy URL",
            reason,
        };
        let rest = url.trim().strip_prefix("http://").ok_or(bad(
            "not an http:// URL (https and SOCKS proxies are not supported)",
        ))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((user, hostport)) => (Some(user), hostport),
            None => (None, rest),
        };
        let authority: http::uri::Authority = hostport
            .parse()
            .map_err(|_| bad("not host[:port] after http://"))?;
        let port_given = authority.as_str().len() != authority.host().len();
        if hostport.contains('/')
            || authority.host().is_empty()
            || (port_given && authority.port_u16().is_none())
        {
            return Err(bad("not host[:port] after http://"));
        }
        let user = user.map(|u| {
            let (name, password) = u.split_once(':').unwrap_or((u, ""));
            (name.to_owned(), Secret::from(password))
        });
        let authorization = user.as_ref().map(|(name, password)| {
            let pair = format!("{name}:{}", password.expose());
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            Secret::from(format!("Basic {encoded}"))
        });
        Ok(Proxy {
            host: authority.host().to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authorization,
            user,
        })
    }

    /// The proxy's host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`, without user info.
    pub fn uri(&self) -> Uri {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        // Invariant: host and port came out of a parsed `Authority`.
        format!("http://{host}:{}", self.port)
            .parse()
            .unwrap_or_else(|_| Uri::from_static("http://invalid.invalid"))
    }

    /// The user name and password, when the URL had user info.
    pub fn credentials(&self) -> Option<(&str, &Secret<String>)> {
        self.user.as_ref().map(|(n, p)| (n.as_str(), p))
    }

    /// The `Proxy-Authorization` value (`Basic ...`), when the URL had user info.
    pub fn authorization(&self) -> Option<&Secret<String>> {
        self.authorization.as_ref()
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user.as_ref().map(|(n, _)| n))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn proxy_urls_parse_and_hide_their_password() {
        let p = Proxy::parse("http://alice:S3cret@proxy.example.com:3128/").unwrap();
        assert_eq!((p.host(), p.port()), ("proxy.example.com", 3128));
        assert_eq!(p.uri(), "http://proxy.example.com:3128/");
        // RFC 7617: base64("alice:S3cret").
        assert_eq!(
            p.authorization().unwrap().expose(),
            "Basic YWxpY2U6UzNjcmV0"
        );
        assert!(!format!("{p:?}").contains("S3cret"));
        assert_eq!(Proxy::parse("http://10.0.0.1").unwrap().port(), 80);
        for bad in [
            "https://proxy:443",
            "socks5://proxy:1080",
            "proxy:3128",
            "http://",
            "http://proxy:3128/path",
            "http://proxy:notaport",
        ] {
            let e = Proxy::parse(bad).unwrap_err();
            assert!(!e.to_string().contains("proxy:"), "{e}");
        }
    }

    #[test]
    fn the_environment_picks_by_scheme_and_no_proxy() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            ProxySetting::from_vars(move |n| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        let s = env(&[
            ("https_proxy", "http://secure:3128"),
            ("HTTP_PROXY", "http://plain:8080"),
            ("NO_PROXY", "localhost, .internal.example.com,10.1.2.3"),
        ]);
        let host = |u: &str| s.resolve(&uri(u)).unwrap().map(|p| p.host().to_owned());
        assert_eq!(
            host("https://mail.example.com/EWS").as_deref(),
            Some("secure")
        );
        assert_eq!(
            host("http://mail.example.com/EWS").as_deref(),
            Some("plain")
        );
        assert_eq!(host("https://ews.internal.example.com/EWS"), None);
        assert_eq!(host("https://internal.example.com/EWS"), None);
        assert_eq!(
            host("https://notinternal.example.com/EWS").as_deref(),
            Some("secure")
        );
        assert_eq!(host("http://10.1.2.3/EWS"), None);
        assert_eq!(host("http://localhost:8080/EWS"), None);
        let all = env(&[("ALL_PROXY", "http://all:1")]);
        assert!(all.resolve(&uri("https://x.example/")).unwrap().is_some());
        let star = env(&[("ALL_PROXY", "http://all:1"), ("no_proxy", "*")]);
        assert!(star.resolve(&uri("https://x.example/")).unwrap().is_none());
        assert!(
            env(&[])
                .resolve(&uri("https://x.example/"))
                .unwrap()
                .is_none()
        );
        assert!(
            ProxySetting::Direct
                .resolve(&uri("https://x/"))
                .unwrap()
                .is_none()
        );
    }
}
