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
use super::soap::{self, FaultInfo};
use super::state::unb64;
use super::{RecordedRequest, Shared, lock, ops};

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
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve_connection(stream, shared).await;
                            }
                        }
                        None => serve_connection(stream, shared).await,
                    }
                });
            }
        }
    }
}

async fn serve_connection<I>(io: I, shared: Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(Arc::clone(&shared), req));
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

/// Extracts the ResponseCode of an answer for the request record.
fn response_code(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "ResponseCode")
        .map(soap::text_of)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<SimBody>, Abort> {
    let (parts, body) = req.into_parts();
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
        body: String::new(),
        operation: None,
        authenticated_as: None,
        acting_as: None,
        mailbox_culture: None,
        time_zone: None,
        server_version: None,
        status: 0,
        fault: None,
        request_id: format!(
            "00000000-0000-4000-8000-{:012x}",
            shared.request_count.fetch_add(1, Ordering::Relaxed) + 1
        ),
        response_code: None,
    };
    let mut result = respond(&shared, &parts, body, &mut rec).await;
    match &mut result {
        Ok(resp) => {
            rec.status = resp.status().as_u16();
            if let Ok(id) = HeaderValue::from_str(&rec.request_id) {
                resp.headers_mut().insert("request-id", id);
            }
        }
        Err(_) => rec.status = 0,
    }
    lock(&shared.requests).push(rec);
    result
}

async fn respond(
    shared: &Shared,
    parts: &http::request::Parts,
    body: Incoming,
    rec: &mut RecordedRequest,
) -> Result<Response<SimBody>, Abort> {
    if !parts.uri.path().eq_ignore_ascii_case("/EWS/Exchange.asmx") {
        return Ok(plain(StatusCode::NOT_FOUND, "Not Found"));
    }
    if parts.method != Method::POST {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(resp);
    }
    // A fault for any operation that closes the connection fires before the body is read.
    if let Some(f) = lock(&shared.faults).take(None, |f| *f == Fault::CloseBeforeRequest) {
        rec.fault = Some(f.name());
        return Err(Abort);
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
            return Err(Abort);
        }
    };
    rec.body = String::from_utf8_lossy(&bytes).into_owned();

    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(caller) = authenticate(shared, auth) else {
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

    let fault = lock(&shared.faults).take(rec.operation.as_deref(), |_| true);
    if let Some(f) = &fault {
        rec.fault = Some(f.name());
    }
    match &fault {
        Some(Fault::CloseBeforeRequest) => return Err(Abort),
        Some(Fault::ServerBusy { back_off_ms }) => {
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
            let mut resp = plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            return Ok(resp);
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
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
        Some(Fault::CloseAfterProcessing) => return Err(Abort),
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
