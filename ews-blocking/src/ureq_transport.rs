//! The built-in [`Transport`] on a ureq 3 [`Agent`](ureq::Agent) (feature `ureq`; TLS with
//! feature `rustls`).

use std::fmt;
use std::io;
use std::time::Instant;

use bytes::Bytes;
use ews_proto::driver::{ConnectionUse, Deadline, Resolve, Settings};
use ews_proto::{TransportError, TransportErrorKind};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{ConnectionDetails, Connector, DefaultConnector};

use crate::transport::Transport;

/// A [`Transport`] over one ureq [`Agent`](ureq::Agent): a pool of keep-alive
/// connections (reused across requests and clones), rustls with certificate verification
/// on by default, no redirects followed, every HTTP status returned as an answer, and a
/// cap on the answer's body.
///
/// Built by [`ClientBuilder::build`](crate::ClientBuilder::build) from the builder's
/// settings; use [`UreqTransport::from_agent`] to bring an agent of your own (a proxy, a
/// platform verifier, ...).
///
/// # Pinned connections (NTLM, Negotiate)
///
/// A request whose [`ConnectionUse`] (in its extensions, set by the core) is `Fresh` or
/// `Pinned` does not go through the agent: ureq 3 cannot pin one of its pooled
/// connections for a later request, nor show the server's certificate, and NTLM needs
/// both. Such requests go over a connection this transport owns (ureq-proto, ureq's own
/// Sans-IO HTTP/1.1, over a `rustls::StreamOwned`, ALPN `http/1.1` only), kept by id after
/// the answer (at most 32 idle, 60 s each), with the id and the server's leaf certificate
/// in the answer's [`ConnectionInfo`](ews_proto::driver::ConnectionInfo). A `Pinned`
/// connection that is gone fails with `Connect` before a byte is written. They follow the
/// client's TLS, proxy, timeout and `resolve` settings; with [`UreqTransport::from_agent`],
/// Mozilla's roots, no proxy and no fixed address.
#[derive(Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    max_body_bytes: u64,
    pinned: std::sync::Arc<crate::pinned::Pinned>,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("agent", &self.agent)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// The most idle connections kept per host: above Exchange's `EWSMaxConcurrency` (27),
/// the most requests one caller should have in flight.
const POOL_IDLE_MAX: usize = 32;

impl UreqTransport {
    /// A transport over `agent`, reading at most `max_body_bytes` of each answer.
    ///
    /// The agent must return every status as an answer
    /// (`http_status_as_error(false)`): 401, 429, 500 and 503 carry what the core needs
    /// to decide. It should follow no redirects (`max_redirects(0)`): EWS never
    /// redirects a POST, and a redirect to a login page is better reported than followed.
    pub fn from_agent(agent: ureq::Agent, max_body_bytes: usize) -> Self {
        let pinned = crate::pinned::Pinned::plain(max_body_bytes);
        Self {
            agent,
            max_body_bytes: u64::try_from(max_body_bytes).unwrap_or(u64::MAX),
            pinned: std::sync::Arc::new(pinned),
        }
    }

    /// The transport a [`ClientBuilder`](crate::ClientBuilder) builds from the core's
    /// validated settings: connect timeout, body cap, roots, verification.
    pub(crate) fn new(s: &Settings) -> Result<Self, ews_proto::Error> {
        // The exchange's deadline comes with each request (`Deadline`, applied in
        // `send`); only the connect timeout is the agent's.
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(s.connect_timeout)
            // Keep a connection per thread that sends at once: ureq's default (3 idle per
            // host) makes a pool of 8 or 16 workers (delegates at scale) reconnect for
            // most requests.
            .max_idle_connections(POOL_IDLE_MAX)
            .max_idle_connections_per_host(POOL_IDLE_MAX)
            // Always the core's decision: ureq would otherwise read the environment.
            .proxy(s.proxy.as_ref().map(ureq_proxy).transpose()?);
        let connector = MarkingConnector {
            inner: DefaultConnector::new(),
            #[cfg(feature = "fault-injection")]
            fail_reads: s.fail_reads,
        };
        let resolver = FixedResolver {
            fixed: s.resolve.clone(),
            dns: DefaultResolver::default(),
        };
        let agent = ureq::Agent::with_parts(with_tls(config, s)?.build(), connector, resolver);
        Ok(Self {
            pinned: std::sync::Arc::new(crate::pinned::Pinned::new(s)?),
            ..Self::from_agent(agent, s.limits.max_body_bytes)
        })
    }
}

/// The core's proxy as ureq's: `CONNECT` through an HTTP proxy, Basic credentials.
fn ureq_proxy(p: &ews_proto::driver::Proxy) -> Result<ureq::Proxy, ews_proto::Error> {
    let mut b = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
        .host(p.host())
        .port(p.port());
    if let Some((user, password)) = p.credentials() {
        b = b.username(user).password(password.expose());
    }
    b.build().map_err(|_| {
        ews_proto::UsageError::InvalidValue {
            kind: "proxy URL",
            reason: "refused by the HTTP library",
        }
        .into()
    })
}

/// DNS, except for the host names the settings fix an address for ([`Resolve`]): the
/// connection goes there, while the URL (its `Host` header, the TLS server name and the
/// certificate check) stays as it is.
#[derive(Debug)]
struct FixedResolver {
    fixed: Resolve,
    dns: DefaultResolver,
}

impl Resolver for FixedResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match self.fixed.lookup_uri(uri).or_else(|| ip_literal(uri)) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.dns.resolve(uri, config, timeout),
        }
    }
}

/// The address of a URL whose host is an IP address (`http://127.0.0.1:8080/`,
/// `https://[::1]/`): nothing to look up. ureq resolves before it looks for a pooled
/// connection, on every request, and its resolver bounds a lookup with a thread of its
/// own, so without this every request to an IP address would start a thread.
fn ip_literal(uri: &http::Uri) -> Option<std::net::SocketAddr> {
    let host = uri.host()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: std::net::IpAddr = host.parse().ok()?;
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })?;
    Some(std::net::SocketAddr::new(ip, port))
}

/// ureq's default connector chain (TCP, proxies, TLS), with every failure it reports
/// marked [`BeforeSending`]: while the chain runs, no byte of the request has been
/// written, so the retry policy may repeat even a request that sends mail. Every later
/// I/O failure, whatever its `io::ErrorKind` (an established socket does report
/// `ConnectionRefused` or `HostUnreachable` when a route dies), is an unknown outcome.
#[derive(Debug)]
struct MarkingConnector {
    inner: DefaultConnector,
    #[cfg(feature = "fault-injection")]
    fail_reads: Option<io::ErrorKind>,
}

impl Connector<()> for MarkingConnector {
    type Out = Box<dyn ureq::unversioned::transport::Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let connection = self
            .inner
            .connect(details, chained)
            .map_err(|e| ureq::Error::Io(io::Error::other(BeforeSending(e))))?;
        #[cfg(feature = "fault-injection")]
        if let Some(kind) = self.fail_reads {
            return Ok(connection.map(|inner| crate::faults::FlakyRead::wrap(inner, kind)));
        }
        Ok(connection)
    }
}

/// A failure of the connector chain: nothing of the request was written.
#[derive(Debug)]
struct BeforeSending(ureq::Error);

impl fmt::Display for BeforeSending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for BeforeSending {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

type ConfigBuilder = ureq::config::ConfigBuilder<ureq::typestate::AgentScope>;

#[cfg(feature = "rustls")]
fn with_tls(config: ConfigBuilder, s: &Settings) -> Result<ConfigBuilder, ews_proto::Error> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let mut tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .disable_verification(s.accept_invalid_certs);
    // The operating system's store, when asked for (certificates it cannot read are
    // skipped: the other roots still apply).
    let platform = match s.platform_roots {
        true => rustls_native_certs::load_native_certs().certs,
        false => Vec::new(),
    };
    if !s.roots.is_empty() || !platform.is_empty() {
        // Mozilla's roots plus the added ones (ureq's `WebPki` cannot be extended).
        let certs: Vec<Certificate<'static>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .chain(&s.roots)
            .chain(&platform)
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    Ok(config.tls_config(tls.build()))
}

/// Without the `rustls` feature the transport speaks plain HTTP only (`build` refuses an
/// `https` endpoint), so the certificate settings have nothing to apply to.
#[cfg(not(feature = "rustls"))]
fn with_tls(config: ConfigBuilder, _: &Settings) -> Result<ConfigBuilder, ews_proto::Error> {
    Ok(config)
}

impl Transport for UreqTransport {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        match request.extensions().get::<ConnectionUse>().copied() {
            None | Some(ConnectionUse::Any) => {}
            Some(ConnectionUse::Fresh) => return self.pinned.send(request, None),
            Some(ConnectionUse::Pinned(id)) => return self.pinned.send(request, Some(id)),
        }
        let (parts, body) = request.into_parts();
        let deadline = parts.extensions.get::<Deadline>().copied();
        let mut request = http::Request::from_parts(parts, &body[..]);
        if let Some(Deadline(at)) = deadline {
            // One deadline for the whole exchange, connecting and the body included.
            let left = at.saturating_duration_since(Instant::now());
            request = self
                .agent
                .configure_request(request)
                .timeout_global(Some(left))
                .build();
        }
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| classify(e, Phase::Exchange))?;
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_body_bytes)
            .read_to_vec()
            .map_err(|e| classify(e, Phase::Body))?;
        let (parts, _) = response.into_parts();
        Ok(http::Response::from_parts(parts, Bytes::from(body)))
    }

    fn name(&self) -> &'static str {
        "ureq"
    }
}

/// Where the failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// In the connector chain (DNS, TCP, proxy, TLS handshake): nothing was sent.
    Connect,
    /// Sending, or waiting for the answer's head (a pooled connection may be reused, so
    /// this is not proof that a connection was made first).
    Exchange,
    /// Reading the answer's body (the head arrived: the request was received).
    Body,
}

/// Maps a ureq error to the kind the retry policy reasons about.
fn classify(error: ureq::Error, phase: Phase) -> TransportError {
    let kind = kind_of(&error, phase);
    TransportError::new(kind, error)
}

fn kind_of(error: &ureq::Error, phase: Phase) -> TransportErrorKind {
    use TransportErrorKind as K;
    use ureq::Error as E;
    match error {
        E::BodyExceedsLimit(_) => K::BodyTooLarge,
        // Timeouts while resolving or connecting (TLS included): nothing was sent.
        E::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => K::Connect,
        E::Timeout(_) => K::Timeout,
        E::HostNotFound | E::ConnectionFailed | E::ConnectProxyFailed(_) => K::Connect,
        // The request could not even be formed: nothing was sent, and repeating it
        // cannot help.
        E::BadUri(_) | E::Http(_) | E::InvalidProxyUrl => K::InvalidRequest,
        E::Tls(_) | E::TlsRequired | E::RequireHttpsOnly(_) => K::Tls,
        #[cfg(feature = "rustls")]
        E::Rustls(_) | E::Pem(_) => K::Tls,
        E::Io(io) => match io.get_ref().and_then(|e| e.downcast_ref::<BeforeSending>()) {
            Some(BeforeSending(inner)) => match kind_of(inner, Phase::Connect) {
                K::Tls => K::Tls,
                _ => K::Connect,
            },
            None => io_kind(io, phase),
        },
        _ => K::Io,
    }
}

fn io_kind(error: &io::Error, phase: Phase) -> TransportErrorKind {
    use TransportErrorKind as K;
    use io::ErrorKind as I;
    if is_tls(error) {
        return K::Tls;
    }
    match (error.kind(), phase) {
        // In the connector chain, any I/O failure (refused, unreachable, a connect
        // timeout) happened before a byte of the request was written.
        (_, Phase::Connect) => K::Connect,
        (I::TimedOut | I::WouldBlock, _) => K::Timeout,
        (I::UnexpectedEof, Phase::Body) => K::Truncated,
        // After the connector chain, whatever the kind says: the request may have been
        // received.
        _ => K::Io,
    }
}

/// Did rustls refuse the handshake (the error ureq passes on as an I/O error)?
#[cfg(feature = "rustls")]
fn is_tls(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(not(feature = "rustls"))]
fn is_tls(_: &io::Error) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ip_address_in_the_url_is_its_own_address() {
        let at = |u: &str| ip_literal(&u.parse().expect("a URI"));
        assert_eq!(
            at("http://127.0.0.1:8080/EWS"),
            Some("127.0.0.1:8080".parse().expect("addr"))
        );
        assert_eq!(
            at("https://10.1.2.3/EWS"),
            Some("10.1.2.3:443".parse().expect("addr"))
        );
        assert_eq!(
            at("http://[::1]/EWS"),
            Some("[::1]:80".parse().expect("addr"))
        );
        assert_eq!(
            at("https://[fe80::1]:8443/"),
            Some("[fe80::1]:8443".parse().expect("addr"))
        );
        // A name is looked up.
        assert_eq!(at("https://mail.example.com/EWS"), None);
        assert_eq!(at("https://1.2.3.4.example.com/EWS"), None);
    }

    #[test]
    fn errors_map_to_the_kind_the_retry_policy_needs() {
        use TransportErrorKind as K;
        let io = |k: io::ErrorKind| ureq::Error::Io(io::Error::new(k, "x"));
        let before = |e: ureq::Error| ureq::Error::Io(io::Error::other(BeforeSending(e)));
        let cases = [
            (io(io::ErrorKind::ConnectionRefused), Phase::Exchange, K::Io),
            (io(io::ErrorKind::HostUnreachable), Phase::Exchange, K::Io),
            (
                io(io::ErrorKind::NetworkUnreachable),
                Phase::Exchange,
                K::Io,
            ),
            (io(io::ErrorKind::HostUnreachable), Phase::Body, K::Io),
            (
                before(io(io::ErrorKind::ConnectionRefused)),
                Phase::Exchange,
                K::Connect,
            ),
            (
                before(io(io::ErrorKind::HostUnreachable)),
                Phase::Exchange,
                K::Connect,
            ),
            (
                before(ureq::Error::Timeout(ureq::Timeout::Connect)),
                Phase::Exchange,
                K::Connect,
            ),
            (before(ureq::Error::Tls("x")), Phase::Exchange, K::Tls),
            (io(io::ErrorKind::ConnectionReset), Phase::Exchange, K::Io),
            (io(io::ErrorKind::UnexpectedEof), Phase::Exchange, K::Io),
            (io(io::ErrorKind::UnexpectedEof), Phase::Body, K::Truncated),
            (io(io::ErrorKind::TimedOut), Phase::Body, K::Timeout),
            (ureq::Error::HostNotFound, Phase::Exchange, K::Connect),
            (ureq::Error::ConnectionFailed, Phase::Exchange, K::Connect),
            (
                ureq::Error::Timeout(ureq::Timeout::Connect),
                Phase::Exchange,
                K::Connect,
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::RecvResponse),
                Phase::Exchange,
                K::Timeout,
            ),
            (
                ureq::Error::Timeout(ureq::Timeout::Global),
                Phase::Body,
                K::Timeout,
            ),
            (
                ureq::Error::BodyExceedsLimit(10),
                Phase::Body,
                K::BodyTooLarge,
            ),
            (ureq::Error::Tls("x"), Phase::Exchange, K::Tls),
            (
                ureq::Error::BadUri("no host".into()),
                Phase::Exchange,
                K::InvalidRequest,
            ),
        ];
        for (error, phase, want) in cases {
            let shown = error.to_string();
            assert_eq!(kind_of(&error, phase), want, "{shown} in {phase:?}");
        }
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn a_refused_certificate_is_a_tls_error() {
        let refused = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(
            kind_of(&ureq::Error::Io(refused), Phase::Exchange),
            TransportErrorKind::Tls
        );
    }
}
