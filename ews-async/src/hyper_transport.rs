//! The built-in transport: hyper 1 through hyper-util's pooled client, TLS by rustls.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use ews_proto::driver::{ConnectionUse, Resolve};
use ews_proto::{TransportError, TransportErrorKind};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::Client as PoolClient;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{HttpConnector, capture_connection};
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;

use crate::transport::{Transport, TransportResult};

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<Route>;
#[cfg(not(feature = "rustls"))]
type Connector = Route;

type BoxError = Box<dyn StdError + Send + Sync>;

/// How a connection reaches the server: straight (to the address DNS gives, or the one
/// the settings fix for its host, [`Resolve`]), or through an HTTP proxy's `CONNECT`
/// tunnel (TLS, for an `https` endpoint, then runs inside it end to end).
#[derive(Clone, Debug)]
pub(crate) enum Route {
    Direct(HttpConnector, Resolve),
    Tunnel(Tunnel<HttpConnector>),
}

type Stream = <HttpConnector as tower_service::Service<http::Uri>>::Response;

impl tower_service::Service<http::Uri> for Route {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Route::Direct(c, _) => c.poll_ready(cx).map_err(Into::into),
            Route::Tunnel(t) => t.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        match self {
            Route::Direct(c, fixed) => {
                // A fixed address: the TCP connection goes there; the URL the TLS layer
                // (above this one) names and checks is the caller's, untouched.
                let uri = match fixed
                    .lookup_uri(&uri)
                    .map(|a| format!("http://{a}").parse())
                {
                    Some(Ok(to)) => to,
                    _ => uri,
                };
                let connecting = c.call(uri);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
            Route::Tunnel(t) => {
                let connecting = t.call(uri);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
        }
    }
}

/// The route for `proxy`.
fn route(
    http: HttpConnector,
    proxy: Option<&ews_proto::driver::Proxy>,
    fixed: &Resolve,
) -> Result<Route, crate::Error> {
    let Some(proxy) = proxy else {
        return Ok(Route::Direct(http, fixed.clone()));
    };
    // Through a proxy, the proxy resolves the endpoint; only its own host may be fixed.
    let proxy_uri = match fixed
        .lookup_uri(&proxy.uri())
        .map(|a| format!("http://{a}").parse())
    {
        Some(Ok(to)) => to,
        _ => proxy.uri(),
    };
    let mut tunnel = Tunnel::new(proxy_uri, http);
    if let Some(auth) = proxy.authorization() {
        let value = http::HeaderValue::from_str(auth.expose()).map_err(|_| {
            ews_proto::UsageError::InvalidValue {
                kind: "proxy URL",
                reason: "its user info cannot be a header value",
            }
        })?;
        tunnel = tunnel.with_auth(value);
    }
    Ok(Route::Tunnel(tunnel))
}

/// The connector the pool uses: with feature `fault-injection`, wrapped so that reads
/// can be made to fail.
#[cfg(feature = "fault-injection")]
type PoolConnector = crate::faults::FlakyConnector<Connector>;
#[cfg(not(feature = "fault-injection"))]
type PoolConnector = Connector;

/// How long an idle pooled connection is kept (Exchange closes idle ones after about
/// two minutes; staying under that avoids reusing a connection the server is closing).
const POOL_IDLE: Duration = Duration::from_secs(60);

/// The settings of a [`HyperTransport`], as the client builder collects them.
#[derive(Clone, Default)]
#[cfg_attr(not(feature = "rustls"), allow(dead_code))] // the TLS settings
pub(crate) struct HyperOptions {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) max_body_bytes: usize,
    pub(crate) roots: Vec<CertificateDer<'static>>,
    pub(crate) platform_roots: bool,
    pub(crate) accept_invalid_certs: bool,
    /// The HTTP proxy to tunnel through.
    pub(crate) proxy: Option<ews_proto::driver::Proxy>,
    /// Fixed addresses for host names.
    pub(crate) resolve: Resolve,
    /// Fault injection: connections fail their first read after a request was sent.
    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
    pub(crate) fail_reads: Option<std::io::ErrorKind>,
}

/// The built-in [`Transport`]: hyper 1 over hyper-util's pooled client (connections are
/// kept alive and reused per host), HTTP/1.1, with TLS by rustls (feature `rustls`:
/// certificate verification on, Mozilla's WebPKI roots plus any added root).
///
/// The client builder creates it; you only name this type to build one yourself, for
/// example to share one pool between several clients (clones share the pool):
///
/// ```
/// use ews_async::{Client, Credentials, HyperTransport};
///
/// let url = "https://mail.example.com/EWS/Exchange.asmx";
/// let pool = HyperTransport::new()?;
/// let principal = Client::builder(url)
///     .credentials(Credentials::basic("user1@example.com", "Passw0rd-1"))
///     .transport(pool.clone())
///     .build()?;
/// let delegate = Client::builder(url)
///     .credentials(Credentials::basic("user2@example.com", "Passw0rd-2"))
///     .transport(pool)
///     .build()?;
/// # let _ = (principal, delegate);
/// # Ok::<(), ews_async::Error>(())
/// ```
///
/// Sharing is sound for Basic and Bearer, which authenticate every request; it would not
/// be for connection-bound schemes (below).
///
/// Errors are mapped precisely, because only a `Connect` error lets the retry policy
/// repeat an operation that sends mail:
///
/// * the connector failed (DNS, refused, unreachable, connect timeout) → `Connect`;
/// * a reused pooled connection closed before the request began to be written (hyper's
///   "canceled"; the pool does not retry it by itself) → `Connect`;
/// * the connector failed in the TLS handshake → `Tls`;
/// * anything after a byte of the request may have been written → `Io`;
/// * the request's [`Deadline`](ews_proto::driver::Deadline) passed while still connecting (no
///   connection was assigned to the request yet) → `Connect`; after that → `Timeout`;
/// * the body ended before its announced length → `Truncated`;
/// * the body exceeded `max_body_bytes` (announced or while reading) → `BodyTooLarge`.
///
/// # Pinned connections (NTLM, Negotiate)
///
/// A request whose [`ConnectionUse`] (in its extensions, set by the core) is `Fresh` or
/// `Pinned` never touches the pool: it goes over a connection of its own, made with
/// `hyper::client::conn::http1` (one connection per `SendRequest`), TLS with ALPN
/// `http/1.1` only, kept by id after the answer (at most 32 idle, 60 s each). The answer
/// carries a [`ConnectionInfo`](ews_proto::driver::ConnectionInfo): the id and the
/// server's leaf certificate, for the channel binding. A `Pinned` connection that is gone
/// fails with `Connect` before a byte is written. Which connection is authenticated for
/// which identity is each client's (the core's `Auth`): sharing one transport between
/// clients of different identities is sound, since a client only ever asks for the
/// connections its own handshakes made.
#[derive(Clone)]
pub struct HyperTransport {
    client: PoolClient<PoolConnector, Full<Bytes>>,
    pinned: crate::pinned::Pinned,
    max_body_bytes: usize,
}

impl HyperTransport {
    /// A transport with verification on, the default roots,
    /// [`DEFAULT_CONNECT_TIMEOUT`](ews_proto::driver::DEFAULT_CONNECT_TIMEOUT), and the core's
    /// default body cap ([`Limits::default`](ews_proto::Limits)).
    pub fn new() -> Result<Self, crate::Error> {
        Self::with_options(HyperOptions {
            connect_timeout: Some(ews_proto::driver::DEFAULT_CONNECT_TIMEOUT),
            max_body_bytes: ews_proto::Limits::default().max_body_bytes,
            ..HyperOptions::default()
        })
    }

    /// The transport a [`ClientBuilder`](crate::ClientBuilder) builds from the core's
    /// validated settings: connect timeout, body cap, roots, verification.
    pub(crate) fn with_settings(s: &ews_proto::driver::Settings) -> Result<Self, crate::Error> {
        Self::with_options(HyperOptions {
            connect_timeout: s.connect_timeout,
            max_body_bytes: s.limits.max_body_bytes,
            roots: s.roots.clone(),
            platform_roots: s.platform_roots,
            accept_invalid_certs: s.accept_invalid_certs,
            proxy: s.proxy.clone(),
            resolve: s.resolve.clone(),
            fail_reads: s.fail_reads,
        })
    }

    fn with_options(options: HyperOptions) -> Result<Self, crate::Error> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(options.connect_timeout);
        http.set_nodelay(true);
        http.enforce_http(!cfg!(feature = "rustls"));
        let route = route(http, options.proxy.as_ref(), &options.resolve)?;
        #[cfg(feature = "rustls")]
        let pinned = crate::pinned::Pinned::new(
            route.clone(),
            crate::tls::client_config(
                &options.roots,
                options.platform_roots,
                options.accept_invalid_certs,
            )?,
        );
        #[cfg(not(feature = "rustls"))]
        let pinned = crate::pinned::Pinned::new(route.clone());
        let connector = connector(route, &options)?;
        #[cfg(feature = "fault-injection")]
        let connector = crate::faults::FlakyConnector {
            inner: connector,
            kind: options.fail_reads,
        };
        let client = PoolClient::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            // No retries outside the core's policy, attempt count and trace: a request the
            // pool could not start writing comes back as `Connect` (see `request_error`).
            .retry_canceled_requests(false)
            .build(connector);
        Ok(HyperTransport {
            client,
            pinned,
            max_body_bytes: options.max_body_bytes,
        })
    }
}

#[cfg(feature = "rustls")]
fn connector(http: Route, options: &HyperOptions) -> Result<Connector, crate::Error> {
    let config = crate::tls::client_config(
        &options.roots,
        options.platform_roots,
        options.accept_invalid_certs,
    )?;
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

#[cfg(not(feature = "rustls"))]
fn connector(http: Route, _options: &HyperOptions) -> Result<Connector, crate::Error> {
    Ok(http)
}

impl Transport for HyperTransport {
    async fn send(&self, request: http::Request<Bytes>) -> TransportResult {
        let (parts, body) = request.into_parts();
        let deadline = parts
            .extensions
            .get::<ews_proto::driver::Deadline>()
            .copied();
        let connection = parts
            .extensions
            .get::<ConnectionUse>()
            .copied()
            .unwrap_or(ConnectionUse::Any);
        let mut request = http::Request::from_parts(parts, Full::new(body));
        let at = deadline.map(|ews_proto::driver::Deadline(at)| at);
        let read = |response| self.read(response);
        match connection {
            ConnectionUse::Any => {}
            ConnectionUse::Fresh => return self.pinned.send(request, None, at, read).await,
            ConnectionUse::Pinned(id) => {
                return self.pinned.send(request, Some(id), at, read).await;
            }
        }
        // Tells, if the deadline passes, whether the request had a connection yet.
        let connection = capture_connection(&mut request);
        let exchange = self.exchange(request);
        let Some(ews_proto::driver::Deadline(at)) = deadline else {
            return exchange.await;
        };
        match tokio::time::timeout_at(at.into(), exchange).await {
            Ok(outcome) => outcome,
            // Still connecting (DNS, TCP, proxy, TLS): nothing of the request was written.
            Err(_) if connection.connection_metadata().is_none() => Err(TransportError::new(
                TransportErrorKind::Connect,
                "the deadline passed while connecting",
            )),
            Err(_) => Err(TransportError::new(
                TransportErrorKind::Timeout,
                "no complete answer by the deadline",
            )),
        }
    }

    fn name(&self) -> &'static str {
        "HyperTransport"
    }
}

impl HyperTransport {
    /// One exchange on a pooled connection: the answer whole, within the body cap.
    async fn exchange(&self, request: http::Request<Full<Bytes>>) -> TransportResult {
        let response = self.client.request(request).await.map_err(request_error)?;
        self.read(response).await
    }

    /// The answer whole, within the body cap (a `401`'s too, so that its connection stays
    /// usable).
    async fn read(&self, response: http::Response<hyper::body::Incoming>) -> TransportResult {
        let (parts, body) = response.into_parts();
        let announced = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_body_bytes as u64) {
            return Err(TransportError::new(
                TransportErrorKind::BodyTooLarge,
                format!(
                    "the announced Content-Length exceeds the cap of {} bytes",
                    self.max_body_bytes
                ),
            ));
        }
        let body = Limited::new(body, self.max_body_bytes)
            .collect()
            .await
            .map_err(body_error)?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }
}

/// Maps an error of the pooled client (before any response head arrived).
fn request_error(e: hyper_util::client::legacy::Error) -> TransportError {
    let kind = if e.is_connect() {
        // The connector failed: nothing was sent. Tell TLS apart from TCP/DNS.
        if handshake_failed(&e) {
            TransportErrorKind::Tls
        } else {
            TransportErrorKind::Connect
        }
    } else if find::<hyper::Error>(&e).is_some_and(hyper::Error::is_user) {
        // hyper refused the request itself (a header or URI it cannot send): nothing
        // was sent, and repeating cannot help.
        TransportErrorKind::InvalidRequest
    } else if handed_back(&e) {
        // The pooled connection closed before the request began to be written (what
        // hyper-util would have retried by itself): nothing was sent.
        TransportErrorKind::Connect
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, Chain::of(e))
}

/// Did hyper-util hand the request back unsent? Its error kind `Canceled` means exactly
/// that (hyper returned the message: it never started to be written), but the kind is
/// private and shows only in `Display`. A canceled hyper error inside any other kind may
/// come after bytes went out, so only this one is `Connect`; if hyper-util ever changes its
/// `Display`, the error falls back to `Io`: an unknown outcome, never a resend.
fn handed_back(e: &hyper_util::client::legacy::Error) -> bool {
    e.to_string() == "client error (Canceled)"
}

/// Maps an error while reading the body.
fn body_error(e: Box<dyn StdError + Send + Sync>) -> TransportError {
    let kind = if e.is::<LengthLimitError>() {
        TransportErrorKind::BodyTooLarge
    } else if find::<std::io::Error>(&*e)
        .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof)
        || find::<hyper::Error>(&*e).is_some_and(hyper::Error::is_incomplete_message)
    {
        TransportErrorKind::Truncated
    } else {
        TransportErrorKind::Io
    };
    TransportError::new(kind, Chain::of(e))
}

/// An error shown with its whole source chain (hyper-util's own Display is only
/// "client error (Connect)", which hides the `UnknownIssuer` or `ConnectionRefused`
/// underneath), keeping the original as the source.
#[derive(Debug)]
struct Chain {
    shown: String,
    inner: Box<dyn StdError + Send + Sync>,
}

impl Chain {
    fn of(e: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let inner = e.into();
        let mut shown = inner.to_string();
        let mut next = inner.source();
        while let Some(e) = next {
            let text = e.to_string();
            if !shown.contains(&text) {
                shown.push_str(": ");
                shown.push_str(&text);
            }
            next = e.source();
        }
        Chain { shown, inner }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl StdError for Chain {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.inner)
    }
}

/// The first error of type `T` in `e`'s source chain, looking inside `io::Error`s too
/// (whose `source()` skips the error they wrap).
fn find<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if let Some(t) = find::<T>(inner) {
                return Some(t);
            }
        }
        next = e.source();
    }
    None
}

/// Did the connector fail in the TLS handshake (rather than in DNS or TCP)?
#[cfg(feature = "rustls")]
fn handshake_failed(e: &(dyn StdError + 'static)) -> bool {
    find::<rustls::Error>(e).is_some()
}

#[cfg(not(feature = "rustls"))]
fn handshake_failed(_: &(dyn StdError + 'static)) -> bool {
    false
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("tls", &cfg!(feature = "rustls"))
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_looks_inside_io_errors() {
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, std::fmt::Error);
        let outer: Box<dyn StdError + Send + Sync> = Box::new(inner);
        assert!(find::<std::fmt::Error>(&*outer).is_some());
        assert!(find::<LengthLimitError>(&*outer).is_none());
    }

    #[test]
    fn body_errors_map_to_kinds() {
        let eof: Box<dyn StdError + Send + Sync> =
            Box::new(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert_eq!(body_error(eof).kind(), TransportErrorKind::Truncated);
        let reset: Box<dyn StdError + Send + Sync> =
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert_eq!(body_error(reset).kind(), TransportErrorKind::Io);
    }
}
