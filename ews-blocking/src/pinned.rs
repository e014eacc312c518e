//! Pinned connections for connection-scoped authentication (NTLM, Negotiate), owned by
//! this crate: ureq-proto (ureq's own Sans-IO HTTP/1.1) over a `TcpStream`, or over a
//! `rustls::StreamOwned` for `https`.
//!
//! Why not ureq itself: ureq 3's agent takes a connection from its pool for each request
//! and gives it back afterwards, with no way to ask for *that* connection again, and it
//! never shows the server's certificate. NTLM needs both: its three legs must share one
//! connection, later requests must reuse the authenticated connection, and Extended
//! Protection binds the handshake to the server's leaf certificate. ureq-proto is the
//! HTTP/1.1 state machine ureq runs on: with it this module owns the socket (so it can pin
//! it and read the certificate from rustls) without writing an HTTP parser of its own, and
//! requests are framed exactly as ureq frames them. Everything else (Basic, Bearer) still
//! goes through the agent.
//!
//! Which connection is authenticated for which identity is the core's knowledge (each
//! client's `Auth`): this map only keeps connections by id.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ews_proto::driver::{ConnectionId, ConnectionInfo, Deadline, Proxy, Resolve, Settings};
use ews_proto::{TransportError, TransportErrorKind};

use ureq_proto::client::{Call, RecvBodyResult, RecvResponseResult, SendRequestResult};

/// Most idle pinned connections kept; the least recently used goes first.
const MAX_IDLE: usize = 32;
/// How long an idle pinned connection is kept.
const IDLE: Duration = Duration::from_secs(60);
/// The largest response head read.
const MAX_HEAD: usize = 64 * 1024;

/// The pinned connections of one transport (clones share them).
pub(crate) struct Pinned {
    /// `None` only if the default configuration could not be built (then `https` fails
    /// with `Tls`).
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
    proxy: Option<Proxy>,
    /// Fixed addresses for host names (the settings' `resolve`).
    resolve: Resolve,
    connect_timeout: Option<Duration>,
    max_body_bytes: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next: u64,
    idle: HashMap<ConnectionId, Conn>,
}

enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

struct Conn {
    stream: Stream,
    origin: String,
    certificate: Option<Bytes>,
    used: Instant,
}

impl Pinned {
    pub(crate) fn new(s: &Settings) -> Result<Self, ews_proto::Error> {
        Ok(Self {
            #[cfg(feature = "rustls")]
            tls: Some(Arc::new(crate::tls::client_config(
                &s.roots,
                s.platform_roots,
                s.accept_invalid_certs,
            )?)),
            proxy: s.proxy.clone(),
            resolve: s.resolve.clone(),
            connect_timeout: s.connect_timeout,
            max_body_bytes: s.limits.max_body_bytes,
            state: Mutex::default(),
        })
    }

    /// For a transport built on a caller's agent: verification on, Mozilla's roots.
    pub(crate) fn plain(max_body_bytes: usize) -> Self {
        Self {
            #[cfg(feature = "rustls")]
            tls: crate::tls::client_config(&[], false, false)
                .ok()
                .map(Arc::new),
            proxy: None,
            resolve: Resolve::default(),
            connect_timeout: Some(ews_proto::driver::DEFAULT_CONNECT_TIMEOUT),
            max_body_bytes,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The map is never left half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// One exchange on a new connection (`pin: None`) or on connection `pin`.
    pub(crate) fn send(
        &self,
        request: http::Request<Bytes>,
        pin: Option<ConnectionId>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let deadline = request.extensions().get::<Deadline>().map(|d| d.0);
        let origin = origin(request.uri());
        let (id, mut conn) = match pin {
            Some(id) => (id, self.take(id, &origin)?),
            None => {
                let conn = self.connect(request.uri(), &origin, deadline)?;
                let mut state = self.state();
                state.next += 1;
                (ConnectionId(state.next), conn)
            }
        };
        let (mut response, close) =
            exchange(&mut conn.stream, request, deadline, self.max_body_bytes)?;
        response.extensions_mut().insert(ConnectionInfo {
            id,
            peer_certificate: conn.certificate.clone(),
        });
        if !close {
            conn.used = Instant::now();
            self.put(id, conn);
        }
        Ok(response)
    }

    fn take(&self, id: ConnectionId, origin: &str) -> Result<Conn, TransportError> {
        let mut state = self.state();
        let now = Instant::now();
        state.idle.retain(|_, c| now.duration_since(c.used) < IDLE);
        match state.idle.remove(&id) {
            Some(conn) if conn.origin != origin => {
                state.idle.insert(id, conn);
                Err(gone("the pinned connection goes to another server"))
            }
            Some(conn) if conn.stream.alive() => Ok(conn),
            _ => Err(gone("the pinned connection is gone")),
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

    /// A new connection: TCP (through the proxy's `CONNECT`, if any), then TLS for
    /// `https`. Every failure here is before a byte of the request: `Connect` (or `Tls`).
    fn connect(
        &self,
        uri: &http::Uri,
        origin: &str,
        deadline: Option<Instant>,
    ) -> Result<Conn, TransportError> {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let host = uri
            .host()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let limit = match (self.connect_timeout, deadline) {
            (Some(t), Some(at)) => Some(t.min(at.saturating_duration_since(Instant::now()))),
            (t, None) => t,
            (None, Some(at)) => Some(at.saturating_duration_since(Instant::now())),
        };
        let connect_error = |e: io::Error| TransportError::new(TransportErrorKind::Connect, e);
        let tcp = match &self.proxy {
            None => match self.resolve.lookup(&host, port) {
                Some(addr) => tcp_to(addr, limit).map_err(connect_error)?,
                None => tcp(&host, port, limit).map_err(connect_error)?,
            },
            Some(proxy) => {
                let mut tcp = match self.resolve.lookup(proxy.host(), proxy.port()) {
                    Some(addr) => tcp_to(addr, limit),
                    None => tcp(proxy.host(), proxy.port(), limit),
                }
                .map_err(connect_error)?;
                tunnel(&mut tcp, &host, port, proxy).map_err(connect_error)?;
                tcp
            }
        };
        let _ = tcp.set_nodelay(true);
        if !https {
            return Ok(Conn {
                stream: Stream::Plain(tcp),
                origin: origin.to_owned(),
                certificate: None,
                used: Instant::now(),
            });
        }
        #[cfg(feature = "rustls")]
        {
            let tls_error = |e: rustls::Error| TransportError::new(TransportErrorKind::Tls, e);
            let name = rustls::pki_types::ServerName::try_from(host)
                .map_err(|e| TransportError::new(TransportErrorKind::InvalidRequest, e))?;
            let config = self.tls.clone().ok_or_else(|| {
                TransportError::new(TransportErrorKind::Tls, "no usable TLS configuration")
            })?;
            let mut session = rustls::ClientConnection::new(config, name).map_err(tls_error)?;
            let mut tcp = tcp;
            let _ = tcp.set_read_timeout(limit);
            let _ = tcp.set_write_timeout(limit);
            while session.is_handshaking() {
                session.complete_io(&mut tcp).map_err(|e| {
                    let kind = match e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) {
                        true => TransportErrorKind::Tls,
                        false => TransportErrorKind::Connect,
                    };
                    TransportError::new(kind, e)
                })?;
            }
            let certificate = session
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|leaf| Bytes::copy_from_slice(leaf.as_ref()));
            Ok(Conn {
                stream: Stream::Tls(Box::new(rustls::StreamOwned::new(session, tcp))),
                origin: origin.to_owned(),
                certificate,
                used: Instant::now(),
            })
        }
        #[cfg(not(feature = "rustls"))]
        Err(TransportError::new(
            TransportErrorKind::Tls,
            "https needs the `rustls` feature",
        ))
    }
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(t) => t,
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => &s.sock,
        }
    }

    /// Is an idle connection still open? A server that closed it sent EOF (or, over TLS,
    /// a `close_notify`): any byte, or the end, while idle means it is gone.
    fn alive(&self) -> bool {
        let tcp = self.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return false;
        }
        let alive =
            matches!(tcp.peek(&mut [0u8; 1]), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        tcp.set_nonblocking(false).is_ok() && alive
    }

    /// Applies what is left of the deadline to the socket's reads and writes.
    fn until(&self, deadline: Option<Instant>) -> Result<(), TransportError> {
        let Some(at) = deadline else {
            return Ok(());
        };
        let left = at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(TransportError::new(
                TransportErrorKind::Timeout,
                "no complete answer by the deadline",
            ));
        }
        let _ = self.tcp().set_read_timeout(Some(left));
        let _ = self.tcp().set_write_timeout(Some(left));
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(t) => t.read(buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(t) => t.write(buf),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(t) => t.flush(),
            #[cfg(feature = "rustls")]
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// One HTTP/1.1 exchange framed by ureq-proto: the whole answer (any status, a `401`'s
/// body too), and whether the connection must be closed after it.
fn exchange(
    stream: &mut Stream,
    request: http::Request<Bytes>,
    deadline: Option<Instant>,
    max_body_bytes: usize,
) -> Result<(http::Response<Bytes>, bool), TransportError> {
    let (mut parts, body) = request.into_parts();
    parts.extensions = http::Extensions::new();
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(body.len()),
    );
    let proto = |e: ureq_proto::Error| TransportError::new(TransportErrorKind::Io, e);
    let invalid = |e: ureq_proto::Error| TransportError::new(TransportErrorKind::InvalidRequest, e);
    let io = |e: io::Error| TransportError::new(io_kind(&e), e);

    let call = Call::new(http::Request::from_parts(parts, ())).map_err(invalid)?;
    let mut call = call.proceed();
    let mut out = vec![0u8; 16 * 1024];
    stream.until(deadline)?;
    let mut guard = 0;
    while !call.can_proceed() {
        let n = call.write(&mut out).map_err(invalid)?;
        stream.write_all(&out[..n]).map_err(io)?;
        guard += 1;
        if guard > 64 {
            return Err(invalid(ureq_proto::Error::OutputOverflow));
        }
    }
    let mut call = match call.proceed().map_err(invalid)? {
        Some(SendRequestResult::SendBody(mut send)) => {
            let mut input = &body[..];
            loop {
                let (used, n) = send.write(input, &mut out).map_err(proto)?;
                stream.write_all(&out[..n]).map_err(io)?;
                input = &input[used..];
                if input.is_empty() {
                    break;
                }
            }
            // The end of the body (nothing more for a Content-Length body).
            let (_, n) = send.write(&[], &mut out).map_err(proto)?;
            stream.write_all(&out[..n]).map_err(io)?;
            send.proceed()
                .ok_or_else(|| invalid(ureq_proto::Error::OutputOverflow))?
        }
        Some(SendRequestResult::RecvResponse(recv)) => recv,
        _ => return Err(invalid(ureq_proto::Error::OutputOverflow)),
    };
    stream.flush().map_err(io)?;

    // The head.
    let mut input: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let response = loop {
        let (used, response) = call.try_response(&input, false).map_err(proto)?;
        input.drain(..used);
        if let Some(r) = response {
            break r;
        }
        if input.len() > MAX_HEAD {
            return Err(proto(ureq_proto::Error::OutputOverflow));
        }
        stream.until(deadline)?;
        let n = stream.read(&mut chunk).map_err(io)?;
        if n == 0 {
            return Err(TransportError::new(
                TransportErrorKind::Io,
                "the server closed the connection before answering",
            ));
        }
        input.extend_from_slice(&chunk[..n]);
    };
    let announced = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_body_bytes as u64) {
        return Err(too_large(max_body_bytes));
    }

    // The body, read whole.
    let mut data = Vec::new();
    let close = match call.proceed() {
        Some(RecvResponseResult::RecvBody(mut recv)) => {
            loop {
                let (used, n) = recv.read(&input, &mut chunk).map_err(proto)?;
                input.drain(..used);
                data.extend_from_slice(&chunk[..n]);
                if data.len() > max_body_bytes {
                    return Err(too_large(max_body_bytes));
                }
                if recv.can_proceed() {
                    break;
                }
                if used == 0 && n == 0 {
                    stream.until(deadline)?;
                    let mut more = vec![0u8; 16 * 1024];
                    let got = stream.read(&mut more).map_err(|e| {
                        let kind = match e.kind() {
                            io::ErrorKind::UnexpectedEof => TransportErrorKind::Truncated,
                            _ => io_kind(&e),
                        };
                        TransportError::new(kind, e)
                    })?;
                    if got == 0 {
                        return Err(TransportError::new(
                            TransportErrorKind::Truncated,
                            "the connection closed before the end of the body",
                        ));
                    }
                    input.extend_from_slice(&more[..got]);
                }
            }
            match recv.proceed() {
                Some(RecvBodyResult::Cleanup(c)) => c.must_close_connection(),
                Some(RecvBodyResult::Redirect(r)) => r.proceed().must_close_connection(),
                None => true,
            }
        }
        Some(RecvResponseResult::Cleanup(c)) => c.must_close_connection(),
        Some(RecvResponseResult::Redirect(r)) => r.proceed().must_close_connection(),
        None => true,
    };
    let (parts, ()) = response.into_parts();
    // Bytes left over would be a second answer nobody asked for: close.
    Ok((
        http::Response::from_parts(parts, Bytes::from(data)),
        close || !input.is_empty(),
    ))
}

fn io_kind(e: &io::Error) -> TransportErrorKind {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Io,
    }
}

fn too_large(max: usize) -> TransportError {
    TransportError::new(
        TransportErrorKind::BodyTooLarge,
        format!("the answer exceeds the cap of {max} bytes"),
    )
}

fn tcp(host: &str, port: u16, limit: Option<Duration>) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for addr in (host, port).to_socket_addrs()? {
        match tcp_to(addr, limit) {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A TCP connection to `addr` within `limit`.
fn tcp_to(addr: SocketAddr, limit: Option<Duration>) -> io::Result<TcpStream> {
    match limit {
        Some(t) if !t.is_zero() => TcpStream::connect_timeout(&addr, t),
        Some(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no time left to connect",
        )),
        None => TcpStream::connect(addr),
    }
}

/// `CONNECT host:port` through the proxy; the tunnel is up at a `2xx`.
fn tunnel(tcp: &mut TcpStream, host: &str, port: u16, proxy: &Proxy) -> io::Result<()> {
    let target = match host.contains(':') {
        true => format!("[{host}]:{port}"),
        false => format!("{host}:{port}"),
    };
    let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(auth) = proxy.authorization() {
        head.push_str("Proxy-Authorization: ");
        head.push_str(auth.expose());
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes())?;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        if tcp.read(&mut byte)? == 0 || answer.len() > MAX_HEAD {
            return Err(io::Error::other("the proxy closed the tunnel request"));
        }
        answer.push(byte[0]);
    }
    let status = answer.split(|b| *b == b' ').nth(1).unwrap_or_default();
    match status.first() {
        Some(b'2') => Ok(()),
        _ => Err(io::Error::other(format!(
            "the proxy refused CONNECT: {}",
            String::from_utf8_lossy(answer.split(|b| *b == b'\r').next().unwrap_or_default())
        ))),
    }
}

/// Nothing was sent: the connection is gone.
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
