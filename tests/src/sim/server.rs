//! The HTTP/1.1 server (hyper), authentication and fault injection around the operations.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use super::faults::Fault;
use super::ntlm::{self, Pending, WindowsAuth, WindowsSchemes};
use super::soap::{self, FaultInfo};
use super::state::{b64, unb64};
use super::throttle::{self, Admission};
use super::{Handshake, RecordedRequest, Shared, control, lock, ops};

/// What one TCP connection remembers: its number and, for NTLM / Negotiate, the pending
/// CHALLENGE and the account it authenticated (IIS's connection-scoped authentication).
#[derive(Debug, Default)]
pub(crate) struct Connection {
    id: u64,
    pending: Option<Pending>,
    authenticated: Option<String>,
    /// The last AUTHENTICATE came in SPNEGO: its answer carries `accept-completed`.
    spnego_accepted: bool,
    /// When the last answer on this connection was handed to the HTTP layer.
    answered: Option<std::time::Instant>,
}

/// Response body: a whole buffer, or a buffer followed by an error (the connection is
/// then aborted, which truncates the answer).
#[derive(Debug)]
pub(crate) enum SimBody {
    /// The whole answer.
    Full(Option<Bytes>),
    /// Part of the answer; after it is written (and a short pause so it is flushed) the
    /// body fails and hyper aborts the connection.
    Cut(Option<Bytes>, Option<Pin<Box<tokio::time::Sleep>>>),
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            SimBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            SimBody::Cut(b, pause) => {
                if let Some(b) = b.take() {
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                let sleep = pause.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep(std::time::Duration::from_millis(100)))
                });
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => {
                        Poll::Ready(Some(Err(std::io::Error::other("injected truncation"))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, SimBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            SimBody::Full(None) => SizeHint::with_exact(0),
            SimBody::Cut(..) => SizeHint::default(),
        }
    }
}

/// Returned by the service to make hyper drop the connection without answering.
#[derive(Debug)]
pub(crate) struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by injected fault")
    }
}

impl std::error::Error for Abort {}

/// Why [`respond`] gives no answer.
#[derive(Debug)]
enum Unanswered {
    /// Close the connection now.
    Close,
    /// Keep the connection open, idle, for this long, then close it. The request body, if
    /// it was never read, is kept (unread) until then so that the HTTP layer does not
    /// drain it.
    Hold(std::time::Duration, Option<Incoming>),
}

/// Accept loop; returns when `shutdown` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve_connection(stream, shared, peer).await;
                            }
                        }
                        None => serve_connection(stream, shared, peer).await,
                    }
                });
            }
        }
    }
}

async fn serve_connection<I>(io: I, shared: Arc<Shared>, peer: std::net::SocketAddr)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // A NeverRead for any operation takes a new connection before a byte of it is read.
    let never_read = lock(&shared.faults).take(None, |f| matches!(f, Fault::NeverRead { .. }));
    if let Some(f @ Fault::NeverRead { hold }) = never_read {
        let rec = RecordedRequest {
            fault: Some(f.name()),
            ..unread_request(&shared)
        };
        lock(&shared.requests).push(rec);
        tokio::time::sleep(hold).await;
        drop(io);
        return;
    }
    let id = shared.connection_count.fetch_add(1, Ordering::Relaxed) + 1;
    let connection = Arc::new(std::sync::Mutex::new(Connection {
        id,
        ..Connection::default()
    }));
    let service =
        service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&connection), peer, req));
    let _ = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

fn xml_response(status: StatusCode, xml: String) -> Response<SimBody> {
    let mut resp = Response::new(SimBody::Full(Some(Bytes::from(xml))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    resp
}

fn plain(status: StatusCode, text: &'static str) -> Response<SimBody> {
    let mut resp = Response::new(SimBody::Full(Some(Bytes::from_static(text.as_bytes()))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Checks the Authorization header; returns the account's SMTP address.
fn authenticate(shared: &Shared, value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    let st = lock(&shared.state);
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(unb64(rest)?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        // Accept "smtp", "local part" and "DOMAIN\local part".
        let user = user.rsplit('\\').next().unwrap_or(user);
        // The SMTP form by the index (thousands of accounts), then the local part.
        if let Some(u) = st.user(user).filter(|u| u.user.password == password) {
            return Some(u.user.smtp.clone());
        }
        st.users
            .iter()
            .find(|u| {
                let smtp = &u.user.smtp;
                let local = smtp.split('@').next().unwrap_or(smtp);
                (smtp.eq_ignore_ascii_case(user) || local.eq_ignore_ascii_case(user))
                    && u.user.password == password
            })
            .map(|u| u.user.smtp.clone())
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let token = rest.trim();
        st.users
            .iter()
            .find(|u| u.user.token.as_deref() == Some(token))
            .map(|u| u.user.smtp.clone())
    } else {
        None
    }
}

/// IIS's Windows authentication: an NTLM or Negotiate leg is answered here (the CHALLENGE,
/// or a refusal), an authenticated connection's requests need no header, Basic and Bearer
/// still work. `Ok`: the caller; `Err`: the answer to send instead.
// The `Err` is the whole answer, returned once per request: boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn windows_auth(
    shared: &Shared,
    windows: &WindowsAuth,
    connection: &std::sync::Mutex<Connection>,
    header: Option<&str>,
    rec: &mut RecordedRequest,
) -> Result<String, Response<SimBody>> {
    let offer = || offer(windows.schemes);
    let Some((scheme, token)) = header.map(str::trim).and_then(|h| h.split_once(' ')) else {
        // No header: the connection's own authentication, if any.
        return lock(connection).authenticated.clone().ok_or_else(offer);
    };
    let negotiate = scheme.eq_ignore_ascii_case("negotiate");
    if !negotiate && !scheme.eq_ignore_ascii_case("ntlm") {
        return authenticate(shared, header).ok_or_else(offer);
    }
    let offered = match windows.schemes {
        WindowsSchemes::NegotiateOnly => negotiate,
        WindowsSchemes::NtlmOnly => !negotiate,
        _ => true,
    };
    let Some((message, spnego)) = offered
        .then(|| unb64(token.trim()))
        .flatten()
        .and_then(|raw| ntlm::unwrap_token(negotiate, &raw))
    else {
        return Err(offer());
    };
    let scheme_name = if negotiate { "Negotiate" } else { "NTLM" };
    let mut conn = lock(connection);
    match ntlm::message_type(&message) {
        Some(1) => {
            let n = shared.request_count.load(Ordering::Relaxed);
            let server_challenge = server_challenge(conn.id, n);
            let (challenge, pending) = ntlm::challenge(
                &message,
                &windows.domain,
                server_challenge,
                filetime(),
                spnego,
            );
            conn.pending = Some(pending);
            conn.authenticated = None;
            let token = if spnego {
                ntlm::spnego_challenge(&challenge)
            } else {
                challenge
            };
            let mut resp = plain(StatusCode::UNAUTHORIZED, "401 - Unauthorized");
            if let Ok(v) = HeaderValue::from_str(&format!("{scheme_name} {}", b64(&token))) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            let close =
                lock(&shared.faults).take(None, |f| matches!(f, Fault::CloseAfterChallenge));
            if let Some(f) = close {
                rec.fault = Some(f.name());
                conn.pending = None;
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Err(resp)
        }
        Some(3) => {
            let Some(pending) = conn.pending.take() else {
                return Err(offer());
            };
            let (user, domain) = ntlm::names(&message).unwrap_or_default();
            let account = {
                let st = lock(&shared.state);
                st.users
                    .iter()
                    .find(|u| {
                        let smtp = &u.user.smtp;
                        let local = smtp.split('@').next().unwrap_or(smtp);
                        (smtp.eq_ignore_ascii_case(&user) && domain.is_empty())
                            || (local.eq_ignore_ascii_case(&user)
                                && (domain.is_empty()
                                    || domain.eq_ignore_ascii_case(&windows.domain)))
                    })
                    .map(|u| (u.user.smtp.clone(), u.user.password.clone()))
            };
            let certificate = shared.leaf_der.as_deref();
            let verdict = match &account {
                None => Err(ntlm::Refusal::UnknownUser),
                Some((_, password)) => ntlm::verify(
                    &message,
                    &pending,
                    password,
                    certificate,
                    windows.extended_protection,
                ),
            };
            let refused = verdict.err().map(ntlm::Refusal::name);
            lock(&shared.handshakes).push(Handshake {
                user: account.as_ref().map_or(user, |(smtp, _)| smtp.clone()),
                connection: conn.id,
                scheme: scheme_name,
                refused,
            });
            match (refused, account) {
                (None, Some((smtp, _))) => {
                    conn.authenticated = Some(smtp.clone());
                    conn.spnego_accepted = pending.spnego;
                    Ok(smtp)
                }
                _ => {
                    rec.fault = refused;
                    Err(offer())
                }
            }
        }
        _ => Err(offer()),
    }
}

/// The `401` offering the Windows schemes.
fn offer(schemes: WindowsSchemes) -> Response<SimBody> {
    let mut resp = plain(StatusCode::UNAUTHORIZED, "401 - Unauthorized");
    if schemes != WindowsSchemes::NtlmOnly {
        resp.headers_mut().append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Negotiate"),
        );
    }
    if schemes != WindowsSchemes::NegotiateOnly {
        resp.headers_mut()
            .append(header::WWW_AUTHENTICATE, HeaderValue::from_static("NTLM"));
    }
    resp
}

/// A server challenge unique to the connection and moment.
fn server_challenge(connection: u64, n: u64) -> [u8; 8] {
    use md5::Digest as _;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let digest = md5::Md5::new()
        .chain_update(connection.to_le_bytes())
        .chain_update(n.to_le_bytes())
        .chain_update(nanos.to_le_bytes())
        .finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// Now as a Windows FILETIME (100 ns since 1601).
fn filetime() -> u64 {
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since_unix.as_secs() + 11_644_473_600) * 10_000_000
        + u64::from(since_unix.subsec_nanos() / 100)
}

/// The local name of the soap:Body's first element, without validating anything.
fn operation_name(doc: &roxmltree::Document<'_>) -> Option<String> {
    let body = doc
        .root_element()
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "Body")?;
    body.children()
        .find(|c| c.is_element())
        .map(|c| c.tag_name().name().to_string())
}

/// Extracts the ResponseCode of an answer for the request record: the text of the first
/// `ResponseCode` element. The simulator wrote the answer itself (a code is a bare name,
/// never a CDATA section or a reference), so a scan does what a second parse of every
/// answer would.
fn response_code(xml: &str) -> Option<String> {
    const NAME: &str = "ResponseCode";
    let mut from = 0;
    while let Some(found) = xml[from..].find(NAME) {
        let at = from + found;
        from = at + NAME.len();
        let after = xml[from..].chars().next();
        if !after.is_some_and(|c| c == '>' || c.is_ascii_whitespace()) {
            continue;
        }
        // The tag this name is in: an opening one whose local name it is.
        let Some(lt) = xml[..at].rfind('<') else {
            continue;
        };
        let qname = &xml[lt + 1..at];
        if qname.starts_with('/') || !(qname.is_empty() || qname.ends_with(':')) {
            continue;
        }
        if qname.len() > 1 && qname[..qname.len() - 1].contains([' ', '>', '"']) {
            continue;
        }
        let gt = from + xml[from..].find('>')?;
        return xml[gt + 1..]
            .split('<')
            .next()
            .map(|t| t.trim().to_string());
    }
    None
}

/// A record of a request of which nothing was read: no method, path or headers yet,
/// status 0, and the next request id.
fn unread_request(shared: &Shared) -> RecordedRequest {
    RecordedRequest {
        method: String::new(),
        path: String::new(),
        headers: Vec::new(),
        body: String::new(),
        operation: None,
        authenticated_as: None,
        acting_as: None,
        mailbox_culture: None,
        time_zone: None,
        server_version: None,
        status: 0,
        fault: None,
        connection: 0,
        request_id: format!(
            "00000000-0000-4000-8000-{:012x}",
            shared.request_count.fetch_add(1, Ordering::Relaxed) + 1
        ),
        response_code: None,
    }
}

async fn handle(
    shared: Arc<Shared>,
    connection: Arc<std::sync::Mutex<Connection>>,
    peer: std::net::SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, Abort> {
    let (parts, body) = req.into_parts();
    // The control endpoint: neither recorded nor subject to faults.
    let path = parts.uri.path();
    if path == control::PREFIX.trim_end_matches('/') || path.starts_with(control::PREFIX) {
        return Ok(control::handle(&shared, peer, &parts, body).await);
    }
    let mut rec = RecordedRequest {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        connection: lock(&connection).id,
        ..unread_request(&shared)
    };
    let arrived = std::time::Instant::now();
    let previous = lock(&connection).answered.take();
    let mut result = respond(&shared, &connection, &parts, body, &mut rec).await;
    let answered = std::time::Instant::now();
    lock(&connection).answered = Some(answered);
    if rec.authenticated_as.is_some() {
        let turnaround = previous.map(|p| arrived.saturating_duration_since(p));
        lock(&shared.books).timed(answered.saturating_duration_since(arrived), turnaround);
    }
    match &mut result {
        Ok(resp) => {
            rec.status = resp.status().as_u16();
            let mut conn = lock(&connection);
            if std::mem::take(&mut conn.spnego_accepted) && rec.status != 401 {
                let token = format!("Negotiate {}", b64(&ntlm::spnego_accept()));
                if let Ok(v) = HeaderValue::from_str(&token) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            if let Ok(id) = HeaderValue::from_str(&rec.request_id) {
                resp.headers_mut().insert("request-id", id);
            }
        }
        Err(_) => rec.status = 0,
    }
    // Recorded before any hold: the record says what happened, the hold only when the
    // connection closes.
    lock(&shared.requests).push(rec);
    match result {
        Ok(resp) => Ok(resp),
        Err(Unanswered::Close) => Err(Abort),
        Err(Unanswered::Hold(hold, unread)) => {
            tokio::time::sleep(hold).await;
            drop(unread);
            Err(Abort)
        }
    }
}

async fn respond(
    shared: &Shared,
    connection: &std::sync::Mutex<Connection>,
    parts: &http::request::Parts,
    body: Incoming,
    rec: &mut RecordedRequest,
) -> Result<Response<SimBody>, Unanswered> {
    // The service time counts from here: reading, parsing and answering are part of it.
    let arrived = std::time::Instant::now();
    if !parts.uri.path().eq_ignore_ascii_case("/EWS/Exchange.asmx") {
        return Ok(plain(StatusCode::NOT_FOUND, "Not Found"));
    }
    if parts.method != Method::POST {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(resp);
    }
    // A fault for any operation that closes the connection, or never reads it, fires
    // before the body is read.
    let early = lock(&shared.faults).take(None, |f| {
        matches!(f, Fault::CloseBeforeRequest | Fault::NeverRead { .. })
    });
    if let Some(f) = early {
        rec.fault = Some(f.name());
        return Err(match f {
            Fault::NeverRead { hold } => Unanswered::Hold(hold, Some(body)),
            _ => Unanswered::Close,
        });
    }
    let limited = http_body_util::Limited::new(body, shared.config.max_request_bytes);
    let bytes = match limited.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Ok(plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Request Entity Too Large",
                ));
            }
            return Err(Unanswered::Close);
        }
    };
    rec.body = String::from_utf8_lossy(&bytes).into_owned();

    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match &shared.config.windows {
        Some(windows) => match windows_auth(shared, windows, connection, auth, rec) {
            Ok(caller) => Some(caller),
            Err(answer) => return Ok(answer),
        },
        None => authenticate(shared, auth),
    };
    let Some(caller) = caller else {
        let mut resp = plain(StatusCode::UNAUTHORIZED, "401 - Unauthorized");
        let realm = format!("Basic realm=\"{}\"", shared.config.realm.replace('"', ""));
        if let Ok(v) = HeaderValue::from_str(&realm) {
            resp.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
        resp.headers_mut()
            .append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Ok(resp);
    };
    rec.authenticated_as = Some(caller.clone());

    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("text/xml") && !content_type.starts_with("application/soap+xml") {
        return Ok(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: EWS expects text/xml",
        ));
    }

    let style = shared.config.style;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let f = FaultInfo::schema_at(1, 1, format!("The request is not valid UTF-8: {e}"));
            rec.response_code = Some(f.code.to_string());
            return Ok(xml_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                soap::fault(style, &f),
            ));
        }
    };
    let doc = match roxmltree::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let pos = e.pos();
            let f = FaultInfo::schema_at(pos.row, pos.col, format!("The XML is malformed: {e}"));
            rec.response_code = Some(f.code.to_string());
            return Ok(xml_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                soap::fault(style, &f),
            ));
        }
    };
    rec.operation = operation_name(&doc);

    // Counted in flight (per caller and per target mailbox) until this function returns:
    // the answer is then written, and only after reading it may the client send again.
    let mailbox = throttle::target_mailbox(&doc, &parts.headers, &caller);
    let (in_flight, admission) = throttle::admit(shared, &caller, &mailbox, &rec.request_id);
    let fault = match admission {
        Admission::Refuse { limit } => {
            rec.fault = Some("ExceededConnectionCount");
            rec.response_code = Some("ErrorExceededConnectionCount".to_string());
            let op = rec.operation.as_deref().unwrap_or("Unknown");
            let xml = throttle::exceeded(style, &shared.config.prefixes, op, limit);
            throttle::serve_until(arrived + shared.config.throttling.service_time).await;
            return Ok(xml_response(StatusCode::OK, xml));
        }
        Admission::Busy { back_off_ms } => Some(Fault::ServerBusy { back_off_ms }),
        Admission::Go => lock(&shared.faults).take(rec.operation.as_deref(), |f| {
            !matches!(f, Fault::CloseAfterChallenge)
        }),
    };
    if let Some(f) = &fault {
        rec.fault = Some(f.name());
    }
    match &fault {
        Some(Fault::CloseBeforeRequest) => return Err(Unanswered::Close),
        Some(Fault::NeverRead { hold }) => return Err(Unanswered::Hold(*hold, None)),
        Some(Fault::HugeFaultString { bytes }) => {
            let f = FaultInfo::new("ErrorInternalServerError", Fault::forged_text(*bytes));
            rec.response_code = Some(f.code.to_string());
            // The envelope itself holds no CR: each one is the text's, and only a character
            // reference survives XML end-of-line handling (a raw CR LF reads as LF).
            let xml = soap::fault(style, &f).replace('\r', "&#xD;");
            return Ok(xml_response(StatusCode::INTERNAL_SERVER_ERROR, xml));
        }
        Some(Fault::ServerBusy { back_off_ms }) => {
            in_flight.count_busy();
            in_flight.close_gate(std::time::Duration::from_millis(*back_off_ms));
            let f = FaultInfo {
                back_off_ms: Some(*back_off_ms),
                ..FaultInfo::new(
                    "ErrorServerBusy",
                    "The server cannot service this request right now. Try again later.",
                )
            };
            rec.response_code = Some(f.code.to_string());
            return Ok(xml_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                soap::fault(style, &f),
            ));
        }
        Some(Fault::ServiceUnavailable { retry_after_secs }) => {
            in_flight.close_gate(std::time::Duration::from_secs(*retry_after_secs));
            let mut resp = plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            return Ok(resp);
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            in_flight.close_gate(std::time::Duration::from_secs(*retry_after_secs));
            let mut resp = plain(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            return Ok(resp);
        }
        Some(Fault::HtmlErrorPage) => {
            let mut resp = Response::new(SimBody::Full(Some(Bytes::from_static(
                b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>Something went wrong</h1><p>The proxy could not reach the mailbox server. Please try again later.</p></body></html>",
            ))));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return Ok(resp);
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }
    throttle::serve_until(arrived + shared.config.throttling.service_time).await;

    let (status, xml) = {
        let answer = ops::answer(shared, &doc, &caller);
        rec.acting_as = answer.acting_as;
        rec.mailbox_culture = answer.headers.culture;
        rec.time_zone = answer.headers.time_zone;
        rec.server_version = answer.headers.version;
        match answer.result {
            Ok(xml) => (StatusCode::OK, xml),
            Err(f) => (StatusCode::INTERNAL_SERVER_ERROR, soap::fault(style, &f)),
        }
    };
    rec.response_code = response_code(&xml);

    Ok(match fault {
        Some(Fault::CloseAfterProcessing) => return Err(Unanswered::Close),
        Some(Fault::TruncatedContentLength) => {
            let full = xml.len();
            let cut = Bytes::from(xml).slice(..full / 2);
            let mut resp = Response::new(SimBody::Cut(Some(cut), None));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full as u64));
            resp
        }
        Some(Fault::TruncatedXml) => {
            let mut cut = xml.len() / 2;
            while !xml.is_char_boundary(cut) {
                cut -= 1;
            }
            xml_response(status, xml[..cut].to_string())
        }
        Some(Fault::OversizedBody { bytes }) => {
            let mut padded = xml;
            if padded.len() + 9 < bytes {
                let pad = bytes - padded.len() - 9;
                padded.push_str("<!-- ");
                padded.push_str(&" ".repeat(pad));
                padded.push_str("-->");
                padded.push('\n');
            }
            xml_response(status, padded)
        }
        _ => xml_response(status, xml),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use crate::sim::{Fault, SimConfig, Simulator};

    const GET_DELEGATE: &str = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header><s:Body><m:GetDelegate IncludePermissions="true"><m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></m:Mailbox></m:GetDelegate></s:Body></s:Envelope>"#;

    fn request(sim: &Simulator, keep_alive: bool) -> String {
        format!(
            "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer token-user1\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{GET_DELEGATE}",
            sim.addr(),
            GET_DELEGATE.len(),
            if keep_alive { "keep-alive" } else { "close" },
        )
    }

    fn connect(sim: &Simulator) -> TcpStream {
        let tcp = TcpStream::connect(sim.addr()).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        tcp
    }

    /// Reads one answer whose body is Content-Length long; returns the head and the body.
    pub(crate) fn read_answer(tcp: &mut TcpStream) -> (String, Vec<u8>) {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            tcp.read_exact(&mut byte).expect("head");
            buf.push(byte[0]);
        }
        let head = String::from_utf8(buf).expect("ASCII head");
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("Content-Length");
        let mut body = vec![0u8; len];
        tcp.read_exact(&mut body).expect("body");
        (head, body)
    }

    #[test]
    fn the_response_code_is_the_first_response_code_element_whatever_its_prefix() {
        let code = super::response_code;
        assert_eq!(
            code("<m:R><m:MessageText>x</m:MessageText><m:ResponseCode>NoError</m:ResponseCode></m:R>")
                .as_deref(),
            Some("NoError")
        );
        assert_eq!(
            code("<R xmlns=\"m\"><ResponseCode>ErrorServerBusy</ResponseCode></R>").as_deref(),
            Some("ErrorServerBusy")
        );
        assert_eq!(
            code("<detail><e:ResponseCode xmlns:e=\"e\">ErrorSchemaValidation</e:ResponseCode>")
                .as_deref(),
            Some("ErrorSchemaValidation")
        );
        assert_eq!(code("<m:NotResponseCode>x</m:NotResponseCode>"), None);
        assert_eq!(code("no XML"), None);
    }

    #[test]
    fn huge_fault_string_is_a_valid_fault_with_forged_lines() {
        let sim = Simulator::start(SimConfig::seed());
        sim.inject(
            Some("GetDelegate"),
            Fault::HugeFaultString { bytes: 1 << 20 },
            1,
        );
        let mut tcp = connect(&sim);
        tcp.write_all(request(&sim, false).as_bytes())
            .expect("send");
        let (head, body) = read_answer(&mut tcp);
        assert!(head.starts_with("HTTP/1.1 500"), "{head}");
        let xml = String::from_utf8(body).expect("UTF-8");
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let text = |name: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == name)
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_owned()
        };
        let fault_string = text("faultstring");
        assert!(fault_string.len() >= 1 << 20, "{}", fault_string.len());
        assert!(fault_string.contains("line <&> \"x\"\r\n2026-12-01T00:00:00Z ERROR forged\n"));
        assert_eq!(text("Message"), fault_string);
        assert_eq!(text("ResponseCode"), "ErrorInternalServerError");
        let code = doc
            .descendants()
            .find(|n| n.tag_name().name() == "faultcode")
            .expect("faultcode");
        assert_eq!(code.text(), Some("a:ErrorInternalServerError"));
        assert_eq!(
            code.lookup_namespace_uri(Some("a")),
            Some(super::super::soap::TYPES_NS)
        );
        let recs = sim.requests();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].status, 500);
        assert_eq!(recs[0].fault, Some("HugeFaultString"));
        assert_eq!(
            recs[0].response_code.as_deref(),
            Some("ErrorInternalServerError")
        );
    }

    #[test]
    fn never_read_holds_a_new_connection_unread_without_blocking_others() {
        let sim = Simulator::start(SimConfig::seed());
        let hold = Duration::from_millis(800);
        sim.inject(None, Fault::NeverRead { hold }, 1);
        let started = Instant::now();
        let mut held = connect(&sim);
        held.write_all(request(&sim, false).as_bytes())
            .expect("send");
        // Another connection is served meanwhile.
        let mut other = connect(&sim);
        other
            .write_all(request(&sim, false).as_bytes())
            .expect("send");
        let (head, _) = read_answer(&mut other);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(started.elapsed() < hold, "served during the hold");
        // The held one gets nothing, and is closed once the hold is over.
        let mut answer = Vec::new();
        let _ = held.read_to_end(&mut answer);
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
        assert!(started.elapsed() >= hold, "{:?}", started.elapsed());
        let recs = sim.requests();
        assert_eq!(recs.len(), 2);
        let unread = recs.iter().find(|r| r.fault.is_some()).expect("recorded");
        assert_eq!(unread.fault, Some("NeverRead"));
        assert_eq!(unread.status, 0);
        assert_eq!((unread.method.as_str(), unread.path.as_str()), ("", ""));
        assert!(unread.headers.is_empty() && unread.body.is_empty());
        assert_eq!(unread.operation, None);
        assert_eq!(sim.pending_faults(), 0);
    }

    #[test]
    fn never_read_on_a_kept_alive_connection_reads_the_head_only() {
        let sim = Simulator::start(SimConfig::seed());
        let mut tcp = connect(&sim);
        tcp.write_all(request(&sim, true).as_bytes()).expect("send");
        let (head, _) = read_answer(&mut tcp);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let hold = Duration::from_millis(500);
        sim.inject(None, Fault::NeverRead { hold }, 1);
        let started = Instant::now();
        tcp.write_all(request(&sim, true).as_bytes()).expect("send");
        // Recorded when the hold starts.
        while sim.requests().len() < 2 {
            assert!(started.elapsed() < hold, "not recorded during the hold");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Another connection is served meanwhile.
        let mut other = connect(&sim);
        other
            .write_all(request(&sim, false).as_bytes())
            .expect("send");
        let (head, _) = read_answer(&mut other);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(started.elapsed() < hold, "served during the hold");
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
        assert!(started.elapsed() >= hold);
        let rec = &sim.requests()[1];
        assert_eq!(sim.requests().len(), 3);
        assert_eq!(rec.fault, Some("NeverRead"));
        assert_eq!(rec.status, 0);
        assert_eq!(rec.method, "POST");
        assert!(rec.header("authorization").is_some());
        assert!(rec.body.is_empty() && rec.operation.is_none());
    }

    #[test]
    fn never_read_for_one_operation_holds_it_unprocessed() {
        let sim = Simulator::start(SimConfig::seed());
        let hold = Duration::from_millis(300);
        sim.inject(Some("GetDelegate"), Fault::NeverRead { hold }, 1);
        let started = Instant::now();
        let mut tcp = connect(&sim);
        tcp.write_all(request(&sim, false).as_bytes())
            .expect("send");
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
        assert!(started.elapsed() >= hold);
        let rec = &sim.requests()[0];
        assert_eq!(rec.fault, Some("NeverRead"));
        assert_eq!(rec.status, 0);
        assert_eq!(rec.operation.as_deref(), Some("GetDelegate"));
        assert_eq!(rec.response_code, None, "not processed");
    }

    #[test]
    fn a_long_hold_does_not_delay_stopping_the_simulator() {
        let sim = Simulator::start(SimConfig::seed());
        sim.inject(
            None,
            Fault::NeverRead {
                hold: Duration::from_secs(600),
            },
            1,
        );
        let mut tcp = connect(&sim);
        tcp.write_all(request(&sim, false).as_bytes())
            .expect("send");
        while sim.requests().is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let started = Instant::now();
        drop(sim);
        assert!(started.elapsed() < Duration::from_secs(5));
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        assert!(answer.is_empty());
    }
}
