//! The control endpoint: JSON over HTTP under `/_sim/` on the simulator's own port, for
//! tests in any language. No authentication; only loopback peers are served (the server
//! listens on 127.0.0.1 anyway). Control requests are not recorded and no fault applies to
//! them, with one exception: a [`super::Fault::NeverRead`] aimed at any operation takes the
//! next new connection before a byte of it is read, whatever it is for.
//!
//! | method and path | body | answer |
//! | --- | --- | --- |
//! | `GET /_sim/` | | `{"ews_url", "control_url", "tls", "deterministic", "users": [smtp]}` |
//! | `GET /_sim/mailboxes` | | `[MailboxSnapshot]` |
//! | `GET /_sim/mailboxes/{smtp}` | | `MailboxSnapshot` (404 if unknown) |
//! | `POST /_sim/seed` | a [`super::Seed`] | [`super::SeedReport`] (400 with the reason, nothing changed) |
//! | `GET /_sim/requests[?operation=Op]` | | `[RecordedRequest]`, oldest first |
//! | `DELETE /_sim/requests` | | `{"cleared": n}` |
//! | `POST /_sim/faults` | `{"operation": "CreateItem" or null, "times": 1, "fault": {"kind": ...}}` | `{"pending": n}` |
//! | `GET /_sim/faults` | | `{"pending": n}` |
//! | `DELETE /_sim/faults` | | `{"pending": 0}` |
//! | `GET /_sim/concurrency` | | [`super::ConcurrencyReport`] (peaks, overlaps, gate violations, refusals) |
//! | `DELETE /_sim/concurrency` | | `{"cleared": true}` |
//! | `POST /_sim/reset` | | `{"reset": true}` |
//!
//! Fault kinds (the [`super::Fault`] variants, durations in milliseconds):
//! `{"kind": "ServerBusy", "back_off_ms": 500}`,
//! `{"kind": "ServiceUnavailable", "retry_after_secs": 1}`,
//! `{"kind": "TooManyRequests", "retry_after_secs": 1}`, `{"kind": "CloseBeforeRequest"}`,
//! `{"kind": "CloseAfterProcessing"}`, `{"kind": "Delay", "ms": 200}`,
//! `{"kind": "TruncatedContentLength"}`, `{"kind": "TruncatedXml"}`,
//! `{"kind": "HtmlErrorPage"}`, `{"kind": "OversizedBody", "bytes": 100000}`,
//! `{"kind": "HugeFaultString", "bytes": 1048576}`, `{"kind": "NeverRead", "hold_ms": 1000}`.
//!
//! Errors are `{"error": "..."}` with 400 (bad body), 404 (unknown path or mailbox), 405
//! (wrong method) or 403 (a peer that is not loopback).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::Fault;
use super::seed::{self, Seed};
use super::server::SimBody;
use super::{Shared, lock};

/// The path prefix of the control endpoint.
pub(crate) const PREFIX: &str = "/_sim/";

/// Largest control request body accepted.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A fault as the control endpoint takes it.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind")]
enum FaultSpec {
    ServerBusy { back_off_ms: u64 },
    ServiceUnavailable { retry_after_secs: u64 },
    TooManyRequests { retry_after_secs: u64 },
    CloseBeforeRequest,
    CloseAfterProcessing,
    Delay { ms: u64 },
    TruncatedContentLength,
    TruncatedXml,
    HtmlErrorPage,
    OversizedBody { bytes: usize },
    HugeFaultString { bytes: usize },
    NeverRead { hold_ms: u64 },
}

impl FaultSpec {
    fn fault(self) -> Fault {
        match self {
            FaultSpec::ServerBusy { back_off_ms } => Fault::ServerBusy { back_off_ms },
            FaultSpec::ServiceUnavailable { retry_after_secs } => {
                Fault::ServiceUnavailable { retry_after_secs }
            }
            FaultSpec::TooManyRequests { retry_after_secs } => {
                Fault::TooManyRequests { retry_after_secs }
            }
            FaultSpec::CloseBeforeRequest => Fault::CloseBeforeRequest,
            FaultSpec::CloseAfterProcessing => Fault::CloseAfterProcessing,
            FaultSpec::Delay { ms } => Fault::Delay(Duration::from_millis(ms)),
            FaultSpec::TruncatedContentLength => Fault::TruncatedContentLength,
            FaultSpec::TruncatedXml => Fault::TruncatedXml,
            FaultSpec::HtmlErrorPage => Fault::HtmlErrorPage,
            FaultSpec::OversizedBody { bytes } => Fault::OversizedBody { bytes },
            FaultSpec::HugeFaultString { bytes } => Fault::HugeFaultString { bytes },
            FaultSpec::NeverRead { hold_ms } => Fault::NeverRead {
                hold: Duration::from_millis(hold_ms),
            },
        }
    }
}

/// The body of `POST /_sim/faults`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectRequest {
    #[serde(default)]
    operation: Option<String>,
    #[serde(default = "one")]
    times: u32,
    fault: FaultSpec,
}

fn one() -> u32 {
    1
}

fn json_response(status: StatusCode, value: &Value) -> Response<SimBody> {
    let mut text = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
    text.push(b'\n');
    let mut resp = Response::new(SimBody::Full(Some(Bytes::from(text))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn error(status: StatusCode, text: impl Into<String>) -> Response<SimBody> {
    json_response(status, &json!({ "error": text.into() }))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn not_allowed(allow: &'static str) -> Response<SimBody> {
    let mut resp = error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed here (allowed: {allow})"),
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    resp
}

/// Percent-decodes a path segment or query value (`%40` in an address, `+` left alone).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn read_json<T: for<'de> Deserialize<'de>>(body: Incoming) -> Result<T, Response<SimBody>> {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let bytes = match limited.collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => return Err(error(StatusCode::BAD_REQUEST, "the body could not be read")),
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

/// Answers one control request.
pub(crate) async fn handle(
    shared: &Shared,
    peer: SocketAddr,
    parts: &http::request::Parts,
    body: Incoming,
) -> Response<SimBody> {
    if !peer.ip().is_loopback() {
        return error(
            StatusCode::FORBIDDEN,
            "the control endpoint serves loopback peers only",
        );
    }
    let path = parts.uri.path();
    let rest = path
        .strip_prefix(PREFIX)
        .unwrap_or("")
        .trim_end_matches('/');
    let query = parts.uri.query().unwrap_or("");
    let method = &parts.method;
    match rest {
        "" => {
            if method != Method::GET {
                return not_allowed("GET");
            }
            let st = lock(&shared.state);
            let users: Vec<&str> = st.users.iter().map(|u| u.user.smtp.as_str()).collect();
            let control = shared
                .url
                .strip_suffix("/EWS/Exchange.asmx")
                .map(|origin| format!("{origin}{PREFIX}"))
                .unwrap_or_default();
            json_response(
                StatusCode::OK,
                &json!({
                    "ews_url": shared.url,
                    "control_url": control,
                    "tls": shared.config.tls,
                    "deterministic": st.is_deterministic(),
                    "users": users,
                }),
            )
        }
        "mailboxes" => {
            if method != Method::GET {
                return not_allowed("GET");
            }
            let mut st = lock(&shared.state);
            st.deliver_due();
            let all: Vec<_> = st
                .users
                .iter()
                .filter_map(|u| st.snapshot(&u.user.smtp))
                .collect();
            json_response(StatusCode::OK, &to_json(&all))
        }
        "seed" => {
            if method != Method::POST {
                return not_allowed("POST");
            }
            let seed: Seed = match read_json(body).await {
                Ok(s) => s,
                Err(resp) => return resp,
            };
            let mut st = lock(&shared.state);
            st.deliver_due();
            match seed::apply(&mut st, &seed) {
                Ok(report) => json_response(StatusCode::OK, &to_json(&report)),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            }
        }
        "requests" => match *method {
            Method::GET => {
                let wanted = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("operation="))
                    .map(decode);
                let all: Vec<_> = lock(&shared.requests)
                    .iter()
                    .filter(|r| {
                        wanted
                            .as_deref()
                            .is_none_or(|w| r.operation.as_deref() == Some(w))
                    })
                    .cloned()
                    .collect();
                json_response(StatusCode::OK, &to_json(&all))
            }
            Method::DELETE => {
                let mut recs = lock(&shared.requests);
                let n = recs.len();
                recs.clear();
                json_response(StatusCode::OK, &json!({ "cleared": n }))
            }
            _ => not_allowed("GET, DELETE"),
        },
        "faults" => match *method {
            Method::GET => json_response(
                StatusCode::OK,
                &json!({ "pending": lock(&shared.faults).pending() }),
            ),
            Method::POST => {
                let req: InjectRequest = match read_json(body).await {
                    Ok(r) => r,
                    Err(resp) => return resp,
                };
                if req.times == 0 {
                    return error(StatusCode::BAD_REQUEST, "times must be at least 1");
                }
                let mut faults = lock(&shared.faults);
                faults.add(req.operation.as_deref(), req.fault.fault(), req.times);
                json_response(StatusCode::OK, &json!({ "pending": faults.pending() }))
            }
            Method::DELETE => {
                lock(&shared.faults).clear();
                json_response(StatusCode::OK, &json!({ "pending": 0 }))
            }
            _ => not_allowed("GET, POST, DELETE"),
        },
        "concurrency" => match *method {
            Method::GET => json_response(StatusCode::OK, &to_json(&lock(&shared.books).report())),
            Method::DELETE => {
                lock(&shared.books).clear();
                json_response(StatusCode::OK, &json!({ "cleared": true }))
            }
            _ => not_allowed("GET, DELETE"),
        },
        "reset" => {
            if method != Method::POST {
                return not_allowed("POST");
            }
            shared.reset();
            json_response(StatusCode::OK, &json!({ "reset": true }))
        }
        other => match other.strip_prefix("mailboxes/") {
            Some(smtp) => {
                if method != Method::GET {
                    return not_allowed("GET");
                }
                let mut st = lock(&shared.state);
                st.deliver_due();
                match st.snapshot(&decode(smtp)) {
                    Some(m) => json_response(StatusCode::OK, &to_json(&m)),
                    None => error(
                        StatusCode::NOT_FOUND,
                        format!("no mailbox '{}'", decode(smtp)),
                    ),
                }
            }
            None => error(
                StatusCode::NOT_FOUND,
                format!("no control resource '{path}' (see GET {PREFIX})"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(decode("user1%40example.com"), "user1@example.com");
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz%41"), "%zzA");
        assert_eq!(decode("plain"), "plain");
    }
}
