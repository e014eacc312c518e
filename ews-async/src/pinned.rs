//! Pinned connections for connection-scoped authentication (NTLM, Negotiate): one hyper
//! `client::conn::http1` connection per [`ConnectionId`], outside hyper-util's pool.
//!
//! The core says which connection each request needs
//! ([`ConnectionUse`](ews_proto::driver::ConnectionUse)); this keeps the connections it
//! asked for and reports, with each answer, the connection's id and the server's leaf
//! certificate ([`ConnectionInfo`]). Which connection is authenticated, and for whom, is
//! the core's knowledge (each client's `Auth`), never this map's: an id is only ever used by
//! the client whose handshake made it, since no other client learns it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ews_proto::driver::{ConnectionId, ConnectionInfo};
use ews_proto::{TransportError, TransportErrorKind};
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use crate::hyper_transport::Route;
use crate::transport::TransportResult;

/// Most idle pinned connections kept; the least recently used goes first.
const MAX_IDLE: usize = 32;

/// How long an idle pinned connection is kept (as the pool's idle timeout).
const IDLE: Duration = Duration::from_secs(60);

/// The pinned connections of one transport (clones share them).
#[derive(Clone)]
pub(crate) struct Pinned {
    route: Route,
    #[cfg(feature = "rustls")]
    tls: Arc<rustls::ClientConfig>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    next: u64,
    idle: HashMap<ConnectionId, Conn>,
}

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    /// `scheme://authority` it is connected to.
    origin: String,
    certificate: Option<Bytes>,
    used: Instant,
}

impl Pinned {
    #[cfg(feature = "rustls")]
    pub(crate) fn new(route: Route, mut tls: rustls::ClientConfig) -> Self {
        // HTTP/1.1 only: NTLM authenticates a connection, which HTTP/2 multiplexes.
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            route,
            tls: Arc::new(tls),
            state: Arc::default(),
        }
    }

    #[cfg(not(feature = "rustls"))]
    pub(crate) fn new(route: Route) -> Self {
        Self {
            route,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The map is never left half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One exchange on a new connection (`pin: None`) or on connection `pin`; the body is
    /// read by `read`, after which the connection is kept for the next request.
    pub(crate) async fn send<F, Fut>(
        &self,
        mut request: http::Request<Full<Bytes>>,
        pin: Option<ConnectionId>,
        deadline: Option<Instant>,
        read: F,
    ) -> TransportResult
    where
        F: FnOnce(http::Response<hyper::body::Incoming>) -> Fut,
        Fut: std::future::Future<Output = TransportResult>,
    {
        let origin = origin(request.uri());
        let (id, mut conn) = match pin {
            Some(id) => (id, self.take(id, &origin)?),
            None => {
                let connecting = self.connect(request.uri(), &origin);
                let conn = match deadline {
                    Some(at) => tokio::time::timeout_at(at.into(), connecting)
                        .await
                        .unwrap_or_else(|_| Err(gone("the deadline passed while connecting")))?,
                    None => connecting.await?,
                };
                let mut state = self.state();
                state.next += 1;
                (ConnectionId(state.next), conn)
            }
        };
        if conn.sender.ready().await.is_err() {
            return Err(gone("the pinned connection was closed by the server"));
        }
        origin_form(&mut request)?;
        let exchange = async {
            let response = conn
                .sender
                .try_send_request(request)
                .await
                .map_err(send_error)?;
            read(response).await
        };
        let outcome = match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), exchange)
                .await
                .unwrap_or_else(|_| {
                    Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        "no complete answer by the deadline",
                    ))
                }),
            None => exchange.await,
        };
        let mut response = outcome?;
        response.extensions_mut().insert(ConnectionInfo {
            id,
            peer_certificate: conn.certificate.clone(),
        });
        // The answer was read whole: the connection is idle, unless the server closes it.
        if !conn.sender.is_closed() {
            conn.used = Instant::now();
            self.put(id, conn);
        }
        Ok(response)
    }

    /// Takes connection `id` out of the idle map (back after its exchange).
    fn take(&self, id: ConnectionId, origin: &str) -> Result<Conn, TransportError> {
        let mut state = self.state();
        let now = Instant::now();
        state
            .idle
            .retain(|_, c| !c.sender.is_closed() && now.duration_since(c.used) < IDLE);
        match state.idle.remove(&id) {
            Some(conn) if conn.origin == origin => Ok(conn),
            Some(conn) => {
                state.idle.insert(id, conn);
                Err(gone("the pinned connection goes to another server"))
            }
            None => Err(gone("the pinned connection is gone")),
        }
    }

    fn put(&self, id: ConnectionId, conn: Conn) {
        let mut state = self.state();
        if state.idle.len() >= MAX_IDLE {
            let oldest = state
                .idle
                .iter()
                .min_by_key(|(_, c)| c.used)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                state.idle.remove(&oldest);
            }
        }
        state.idle.insert(id, conn);
    }

    /// A new connection (through the proxy, if any; TLS for `https`) with its HTTP/1.1
    /// handshake done.
    async fn connect(&self, uri: &http::Uri, origin: &str) -> Result<Conn, TransportError> {
        let mut route = self.route.clone();
        std::future::poll_fn(|cx| tower_service::Service::poll_ready(&mut route, cx))
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Connect, e))?;
        let tcp = tower_service::Service::call(&mut route, uri.clone())
            .await
            .map_err(|e| TransportError::new(TransportErrorKind::Connect, e))?
            .into_inner();
        if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
            #[cfg(feature = "rustls")]
            {
                let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest, e))?;
                let tls = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
                    .connect(name, tcp)
                    .await
                    .map_err(|e| TransportError::new(TransportErrorKind::Tls, e))?;
                let certificate = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|leaf| Bytes::copy_from_slice(leaf.as_ref()));
                return handshake(TokioIo::new(tls), origin, certificate).await;
            }
            #[cfg(not(feature = "rustls"))]
            return Err(TransportError::new(
                TransportErrorKind::Tls,
                "https needs the `rustls` feature",
            ));
        }
        handshake(TokioIo::new(tcp), origin, None).await
    }
}

async fn handshake<I>(
    io: I,
    origin: &str,
    certificate: Option<Bytes>,
) -> Result<Conn, TransportError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| TransportError::new(TransportErrorKind::Connect, e))?;
    // The connection's task ends when the server closes it; `sender` then reports closed.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Conn {
        sender,
        origin: origin.to_owned(),
        certificate,
        used: Instant::now(),
    })
}

/// HTTP/1.1's request target in origin form, with `Host` (hyper-util's pool does this for
/// its own requests; a bare connection sends what it is given).
fn origin_form(request: &mut http::Request<Full<Bytes>>) -> Result<(), TransportError> {
    let uri = request.uri().clone();
    if let Some(authority) = uri.authority() {
        if !request.headers().contains_key(http::header::HOST) {
            let host = http::HeaderValue::from_str(authority.as_str())
                .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest, e))?;
            request.headers_mut().insert(http::header::HOST, host);
        }
    }
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    *request.uri_mut() = target
        .parse()
        .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest, e))?;
    Ok(())
}

/// A failure of `try_send_request`. Only a request hyper hands back was certainly not
/// written: `Connect` (or `InvalidRequest`, when hyper refused it as malformed). Without the
/// request back, its bytes may have gone out, whatever the error's kind says (hyper's
/// "canceled" and "dispatch gone" both also follow a written request): `Io`.
fn send_error(
    mut e: hyper::client::conn::TrySendError<http::Request<Full<Bytes>>>,
) -> TransportError {
    let unsent = e.take_message().is_some();
    let error = e.into_error();
    let kind = match (unsent, error.is_user()) {
        (true, true) => TransportErrorKind::InvalidRequest,
        (true, false) => TransportErrorKind::Connect,
        (false, _) => TransportErrorKind::Io,
    };
    TransportError::new(kind, error)
}

/// Nothing was sent: the connection is gone (or never came up).
fn gone(why: &'static str) -> TransportError {
    TransportError::new(TransportErrorKind::Connect, why)
}

fn origin(uri: &http::Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or_default(),
        uri.authority().map_or("", |a| a.as_str())
    )
}
