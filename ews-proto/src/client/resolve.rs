//! [`Resolve`]: connect a host name and port to a fixed socket address, as curl's
//! `--resolve`, for split-horizon DNS and tests.

use std::fmt;
use std::net::SocketAddr;

/// Fixed addresses for host names, honoured by both faces' built-in transports (pooled
/// and pinned connections alike), as curl's `--resolve host:port:addr`.
///
/// One meaning, defined here: a connection to `host:port` (the URL's port, or 443 for
/// `https` and 80 for `http` when it names none) goes to `addr` instead of the address
/// DNS gives; everything else stays the URL's: the `Host` header, the TLS server name
/// (SNI) and the name the certificate must carry. Host names compare case-insensitively,
/// a trailing dot and IPv6 brackets ignored. A later entry for the same `host:port`
/// replaces the earlier one. Through a proxy, the proxy resolves the endpoint's name
/// (only the proxy's own host is looked up here).
///
/// ```
/// use std::net::SocketAddr;
/// use ews_proto::driver::Resolve;
///
/// let addr: SocketAddr = "127.0.0.1:8443".parse()?;
/// let resolve = Resolve::default().with("Mail.Contoso.com.", 443, addr);
/// assert_eq!(resolve.lookup("mail.contoso.com", 443), Some(addr));
/// assert_eq!(resolve.lookup_uri(&"https://mail.contoso.com/EWS/Exchange.asmx".parse()?), Some(addr));
/// assert_eq!(resolve.lookup("mail.contoso.com", 80), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Resolve(Vec<(String, u16, SocketAddr)>);

impl Resolve {
    /// Adds (or replaces) the address of `host:port`.
    pub fn with(mut self, host: &str, port: u16, addr: SocketAddr) -> Self {
        self.insert(host, port, addr);
        self
    }

    /// Adds (or replaces) the address of `host:port`.
    pub fn insert(&mut self, host: &str, port: u16, addr: SocketAddr) {
        let host = normal(host);
        self.0.retain(|(h, p, _)| !(*h == host && *p == port));
        self.0.push((host, port, addr));
    }

    /// The fixed address of `host:port`, if one is set.
    pub fn lookup(&self, host: &str, port: u16) -> Option<SocketAddr> {
        if self.0.is_empty() {
            return None;
        }
        let host = normal(host);
        self.0
            .iter()
            .find(|(h, p, _)| *h == host && *p == port)
            .map(|(_, _, a)| *a)
    }

    /// The fixed address for the host and port of `uri` (its port, else the scheme's
    /// default: 443 for `https`, 80 otherwise).
    pub fn lookup_uri(&self, uri: &http::Uri) -> Option<SocketAddr> {
        let host = uri.host()?;
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        self.lookup(host, port)
    }

    /// No entry at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn normal(host: &str) -> String {
    host.trim()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl fmt::Debug for Resolve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(h, p, a)| format!("{h}:{p}={a}")))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_loosely_and_later_entries_win() {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let b: SocketAddr = "[::1]:2".parse().unwrap();
        let r = Resolve::default()
            .with("contoso.com", 443, a)
            .with("CONTOSO.COM.", 443, b)
            .with("[::1]", 80, a);
        assert_eq!(r.lookup("Contoso.Com", 443), Some(b));
        assert_eq!(r.lookup("::1", 80), Some(a));
        assert_eq!(r.lookup("contoso.com", 80), None);
        assert_eq!(r.lookup("autodiscover.contoso.com", 443), None);
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        assert_eq!(r.lookup_uri(&uri("http://contoso.com:443/x")), Some(b));
        assert_eq!(r.lookup_uri(&uri("https://contoso.com:8443/x")), None);
        assert_eq!(r.lookup_uri(&uri("http://[::1]/x")), Some(a));
        assert_eq!(
            format!("{r:?}"),
            "[\"contoso.com:443=[::1]:2\", \"::1:80=127.0.0.1:1\"]"
        );
    }
}
