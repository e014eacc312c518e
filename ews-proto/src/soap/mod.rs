//! The SOAP layer: the envelope and its headers, faults, and the response frame.

mod code;
mod context;
mod fault;
mod response;
mod version;

use bytes::{BufMut, Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Method, StatusCode};

pub use code::ResponseCode;
pub use context::{Impersonation, MailboxCulture, PrincipalName, RequestContext};
pub use fault::Fault;
pub(crate) use response::finish_batch;
pub use response::{MessageXml, MessageXmlElement, ResponseClass, ResponseMessage, ResponseStatus};
pub use version::{ExchangeVersion, ServerVersionInfo, VersionName};

use crate::error::{Bounded, Excerpt, Limit, MalformedKind, ServerError, UsageError};
use crate::ops::Operation;
use crate::xml::{BodyReader, BodyWriter, Element, Limits, XmlNs};

/// SOAP 1.1 envelope namespace.
pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace (accepted in answers, never sent).
pub(crate) const NS_SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// EWS messages namespace.
pub const NS_MESSAGES: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
/// EWS types namespace.
pub const NS_TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
/// EWS errors namespace (fault details).
pub const NS_ERRORS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";

/// The header that routes a request to the mailbox it acts on.
pub const X_ANCHOR_MAILBOX: &str = "X-AnchorMailbox";

const ENVELOPE_START: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/""#,
    r#" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages""#,
    r#" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">"#,
    "<soap:Header>",
);

/// An operation's decoded answer with the server's version header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply<T> {
    /// `ServerVersionInfo`, when the server sent it.
    pub server_version: Option<ServerVersionInfo>,
    /// The operation's result.
    pub body: T,
}

/// Builds the complete HTTP request for `op`. See [`Operation::encode`].
pub(crate) fn encode<O: Operation + ?Sized>(
    op: &O,
    ctx: &RequestContext,
) -> Result<http::Request<Bytes>, UsageError> {
    // Most requests fit; a CreateItem with a long body grows it once or twice.
    let mut buf = BytesMut::with_capacity(4096);
    encode_into(op, ctx, &mut buf)?;
    let action = soap_action(O::NAME)?;
    let anchor = ctx
        .impersonation()
        .and_then(Impersonation::anchor)
        .or_else(|| op.anchor_mailbox());
    let anchor = anchor
        .map(|a| HeaderValue::from_bytes(a.as_bytes()))
        .transpose()
        .map_err(|_| UsageError::invalid("X-AnchorMailbox", "not a valid header value"))?;
    // Built in place: every part is already valid, so the checking builder has nothing to
    // add (and costs more than the rest of a small request's headers).
    let mut request = http::Request::new(buf.freeze());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = ctx.endpoint().clone();
    let headers = request.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("text/xml"));
    headers.insert(SOAP_ACTION, action);
    if let Some(anchor) = anchor {
        headers.insert(ANCHOR_MAILBOX, anchor);
    }
    Ok(request)
}

/// `SOAPAction` (names are case-insensitive; HTTP/1 clients send them as stored).
const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");
/// [`X_ANCHOR_MAILBOX`] as a header name.
const ANCHOR_MAILBOX: HeaderName = HeaderName::from_static("x-anchormailbox");

/// The `SOAPAction` value of the operation `name`: `"<messages namespace>/<name>"`, a
/// constant for this crate's operations.
fn soap_action(name: &str) -> Result<HeaderValue, UsageError> {
    macro_rules! known {
        ($($op:literal),* $(,)?) => {
            match name {
                $($op => {
                    const ACTION: HeaderValue = HeaderValue::from_static(concat!(
                        "\"http://schemas.microsoft.com/exchange/services/2006/messages/",
                        $op,
                        "\""
                    ));
                    return Ok(ACTION);
                })*
                _ => {}
            }
        };
    }
    known!(
        "AddDelegate",
        "GetDelegate",
        "UpdateDelegate",
        "RemoveDelegate",
        "CreateItem",
        "GetItem",
        "DeleteItem",
        "FindItem",
    );
    HeaderValue::from_str(&format!("\"{NS_MESSAGES}/{name}\""))
        .map_err(|_| UsageError::invalid("operation name", "not a valid SOAPAction"))
}

/// Appends the SOAP envelope for `op` to `buf` (the body of [`encode`]'s request).
pub(crate) fn encode_into<O: Operation + ?Sized>(
    op: &O,
    ctx: &RequestContext,
    buf: &mut BytesMut,
) -> Result<(), UsageError> {
    let start = buf.len();
    let result = (|| {
        buf.put_slice(ENVELOPE_START.as_bytes());
        let mut w = BodyWriter::new(buf);
        ctx.write_headers(&mut w, O::TIME_ZONE_CONTEXT)?;
        w.raw("</soap:Header><soap:Body>");
        op.write_body(&mut w, ctx)?;
        w.raw("</soap:Body></soap:Envelope>");
        Ok(())
    })();
    if result.is_err() {
        // Never leave half an envelope in the caller's buffer.
        buf.truncate(start);
    }
    result
}

/// Decodes an HTTP answer to `op`. See [`Operation::decode`].
pub(crate) fn decode<O: Operation + ?Sized>(
    op: &O,
    response: &http::Response<Bytes>,
    limits: &Limits,
) -> Result<Reply<O::Output>, ServerError> {
    let status = response.status();
    let body = response.body();
    let excerpt = || Excerpt::of(body);
    match status {
        StatusCode::UNAUTHORIZED => {
            let challenges = response
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            return Err(ServerError::Unauthorized {
                challenges,
                excerpt: excerpt(),
            });
        }
        StatusCode::FORBIDDEN => return Err(ServerError::Forbidden { excerpt: excerpt() }),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(std::time::Duration::from_secs);
            return Err(ServerError::Throttled {
                status,
                retry_after,
                excerpt: excerpt(),
            });
        }
        _ => {}
    }
    // Outside 2xx the status decides unless the body is a SOAP fault; a 2xx body must be
    // the answer (the rule is stated in the `error` module's docs).
    let failed = !status.is_success();
    let by_status = || ServerError::Status {
        status,
        excerpt: excerpt(),
    };
    if body.len() > limits.max_body_bytes {
        if failed {
            return Err(by_status());
        }
        return Err(ServerError::LimitExceeded {
            limit: Limit::BodySize,
            max: limits.max_body_bytes,
        });
    }
    let text = match xml_text(body) {
        Ok(text) => text,
        Err(_) if failed => return Err(by_status()),
        Err(why) => return Err(not_xml(why, response)),
    };
    let mut r = BodyReader::new(text, *limits);
    match read_envelope(op, &mut r) {
        Ok(reply) if !failed => Ok(reply),
        Err(EnvelopeError::Fault(f)) => Err(ServerError::Fault(f)),
        Err(EnvelopeError::Server(e)) if !failed => Err(e),
        // A body that is not a fault, readable or not, under an error status.
        Ok(_) | Err(EnvelopeError::Server(_)) => Err(by_status()),
    }
}

/// The body as text if it looks like XML: valid UTF-8 (a BOM is dropped) whose first
/// non-blank character opens markup that is not an HTML page. Otherwise why not.
fn xml_text(body: &[u8]) -> Result<&str, &'static str> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8")?;
    let start = text.trim_start();
    if start.is_empty() {
        return Err("the body is empty");
    }
    if !start.starts_with('<') {
        return Err("the body does not start with markup");
    }
    let head: String = start
        .chars()
        .take(15)
        .collect::<String>()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        return Err("the body is an HTML page");
    }
    Ok(text)
}

/// The [`MalformedKind::NotXml`] error of a 2xx answer: why, the `Content-Type` and the
/// start of the body, each bounded so that all three fit the detail.
fn not_xml(why: &str, response: &http::Response<Bytes>) -> ServerError {
    let content_type = match response.headers().get(CONTENT_TYPE) {
        Some(v) => format!(
            "\"{}\"",
            Bounded::at_most(&String::from_utf8_lossy(v.as_bytes()), 128)
        ),
        None => "none".to_owned(),
    };
    ServerError::malformed(
        MalformedKind::NotXml,
        format!(
            "{why} (Content-Type {content_type}): {}",
            Excerpt::of(response.body())
        ),
        0,
    )
}

enum EnvelopeError {
    Fault(Box<Fault>),
    Server(ServerError),
}

impl From<ServerError> for EnvelopeError {
    fn from(e: ServerError) -> Self {
        EnvelopeError::Server(e)
    }
}

fn read_envelope<'a, O: Operation + ?Sized>(
    op: &O,
    r: &mut BodyReader<'a>,
) -> Result<Reply<O::Output>, EnvelopeError> {
    let envelope = r.next_element()?.ok_or_else(|| {
        ServerError::malformed(
            MalformedKind::Truncated,
            "the document ends before its first element",
            r.offset(),
        )
    })?;
    if !envelope.is(XmlNs::Soap, "Envelope") {
        return Err(envelope
            .malformed(
                MalformedKind::NotSoap,
                format!("expected a SOAP Envelope, found {}", envelope.local_name()),
            )
            .into());
    }
    let mut server_version = None;
    // The answer, or a fault; the rest of the document is still read, to see that it is
    // whole. A body that cannot be read ends the read at once: once the reader has failed,
    // what it reads on says nothing (a wrong end tag would read as a cut document).
    let mut outcome: Option<Result<O::Output, EnvelopeError>> = None;
    r.children(&envelope, |r, part| {
        if part.is(XmlNs::Soap, "Header") {
            r.children(&part, |_, h| {
                if h.is(XmlNs::Types, "ServerVersionInfo") {
                    server_version = Some(ServerVersionInfo::read(&h)?);
                }
                Ok::<_, ServerError>(())
            })?;
        } else if part.is(XmlNs::Soap, "Body") && outcome.is_none() {
            r.children(&part, |r, e| {
                if outcome.is_none() {
                    match read_body_element(op, r, &e) {
                        Err(EnvelopeError::Server(e)) => return Err(e),
                        read => outcome = Some(read),
                    }
                }
                Ok::<_, ServerError>(())
            })?;
        }
        Ok::<_, ServerError>(())
    })?;
    // Nothing but comments, processing instructions and white space may follow the
    // envelope, and those must be well-formed (a body cut in a comment is not).
    if let Some(e) = r.next_element()? {
        return Err(e
            .malformed(
                MalformedKind::NotWellFormed,
                format!(
                    "a second root element, {}, after the SOAP Envelope",
                    e.local_name()
                ),
            )
            .into());
    }
    let body = outcome.ok_or_else(|| {
        envelope.malformed(
            MalformedKind::MissingElement,
            "the SOAP Body is missing or empty",
        )
    })??;
    Ok(Reply {
        server_version,
        body,
    })
}

fn read_body_element<'a, O: Operation + ?Sized>(
    op: &O,
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
) -> Result<O::Output, EnvelopeError> {
    if e.is(XmlNs::Soap, "Fault") {
        return Err(EnvelopeError::Fault(Box::new(Fault::read(r, e)?)));
    }
    let name = e.local_name();
    let expected = name
        .strip_suffix("Response")
        .is_some_and(|op_name| op_name == O::NAME);
    if e.ns() != XmlNs::Messages || !expected {
        return Err(e
            .malformed(
                MalformedKind::UnexpectedElement,
                format!("expected m:{}Response, found {name}", O::NAME),
            )
            .into());
    }
    Ok(op.read_body(r, e)?)
}
