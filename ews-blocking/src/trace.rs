//! What the driver tells `tracing`: one span per operation, the SOAP bodies at `TRACE`.
//!
//! Observation only: nothing here decides anything, and no header is ever logged but the
//! few named ones (never `Authorization`).

use bytes::Bytes;
use ews_proto::driver::X_ANCHOR_MAILBOX;
use ews_proto::{Error, Reply, TransportError};
use tracing::Span;
use tracing::field::Empty;

/// The span of one operation: `ews` with the operation's name; the mailbox it acts on
/// (`X-AnchorMailbox`), the last HTTP status, the server's `request-id` and
/// `ServerVersionInfo` are recorded as they become known.
pub(crate) fn span(operation: &'static str) -> Span {
    tracing::info_span!(
        "ews",
        operation,
        mailbox = Empty,
        attempt = Empty,
        status = Empty,
        request_id = Empty,
        server_version = Empty,
    )
}

/// Records the request about to be sent and logs its body at `TRACE`.
pub(crate) fn request(
    span: &Span,
    attempt: u32,
    request: http::Request<Bytes>,
) -> http::Request<Bytes> {
    if let Some(anchor) = request.headers().get(X_ANCHOR_MAILBOX) {
        span.record(
            "mailbox",
            String::from_utf8_lossy(anchor.as_bytes()).as_ref(),
        );
    }
    span.record("attempt", attempt);
    tracing::trace!(
        target: "ews::soap",
        uri = %request.uri(),
        body = %ews_proto::driver::LogText(request.body()),
        ">>> request",
    );
    request
}

/// Records the answer (or the transport failure) and logs its body at `TRACE`.
pub(crate) fn response(
    span: &Span,
    outcome: Result<http::Response<Bytes>, TransportError>,
) -> Result<http::Response<Bytes>, TransportError> {
    match &outcome {
        Ok(response) => {
            span.record("status", response.status().as_u16());
            if let Some(id) = response.headers().get("request-id") {
                // Server text: bounded and escaped.
                span.record(
                    "request_id",
                    ews_proto::error::Excerpt::of(id.as_bytes()).as_str(),
                );
            }
            tracing::trace!(
                target: "ews::soap",
                status = response.status().as_u16(),
                body = %ews_proto::driver::LogText(response.body()),
                "<<< response",
            );
        }
        Err(e) => tracing::debug!(error = %e, kind = ?e.kind(), "transport failed"),
    }
    outcome
}

/// Records how the call ended.
pub(crate) fn done<T>(span: &Span, result: Result<Reply<T>, Error>) -> Result<Reply<T>, Error> {
    match &result {
        Ok(reply) => {
            if let Some(v) = &reply.server_version {
                // Formatted only if a subscriber records the field.
                span.record("server_version", tracing::field::display(v));
            }
            tracing::debug!("done");
        }
        Err(e) => tracing::debug!(error = %e, "failed"),
    }
    result
}
