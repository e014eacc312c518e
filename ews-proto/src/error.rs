//! Errors, split by whose fault they are.
//!
//! * [`UsageError`]: the caller asked for something this crate will not send (a value that
//!   is not valid, a feature the requested server version lacks). Fix the call.
//! * [`ServerError`]: the server answered with an error (a SOAP fault, an HTTP error status,
//!   a top-level error response), or sent something that is not a valid EWS answer
//!   (malformed XML, a body over the limits, an HTML page). Nothing the caller did wrong
//!   locally; the retry policy decides whether trying again can help.
//! * [`TransportError`]: the bytes did not make it (connect, TLS, I/O, timeout). Raised by
//!   the drivers; defined here so the pure retry policy can reason about it.
//!
//! [`Error`] is the union the drivers return; it adds the failure of the application's
//! token provider.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use crate::soap::ExchangeVersion;
use crate::soap::{Fault, ResponseStatus};

/// Any error of an EWS exchange. See the [module docs](self) for the split.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller misused the API; nothing was sent.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The server answered with an error or with something that is not a valid answer.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The request or its answer was lost on the way.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The application's bearer-token provider failed.
    #[error("the token provider failed: {0}")]
    TokenProvider(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl Error {
    /// The server's requested back-off, if the error carries one.
    pub fn back_off(&self) -> Option<std::time::Duration> {
        match self {
            Error::Server(s) => s.back_off(),
            _ => None,
        }
    }
}

/// The caller asked for something that cannot be sent. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// A value holds a character that XML 1.0 cannot carry (a control character other than
    /// tab, line feed and carriage return, or U+FFFE/U+FFFF).
    #[error("{field} holds U+{codepoint:04X}, which XML 1.0 cannot carry")]
    InvalidCharacter {
        /// The element or attribute the value was written to.
        field: &'static str,
        /// The offending code point.
        codepoint: u32,
    },
    /// A value was rejected when a validated type was built from it.
    #[error("invalid {kind}: {reason}")]
    InvalidValue {
        /// What was being built (`"e-mail address"`, `"SID"`, ...).
        kind: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The request needs a newer Exchange version than the one requested in the context.
    #[error("{feature} needs {required} or later, but the request targets {requested}")]
    RequiresVersion {
        /// What needs the newer version.
        feature: &'static str,
        /// The oldest version that has it.
        required: ExchangeVersion,
        /// The version the request context asks for.
        requested: ExchangeVersion,
    },
    /// The request context's endpoint is not an absolute `http` or `https` URL.
    #[error("invalid endpoint URL: {0}")]
    InvalidEndpoint(String),
}

impl UsageError {
    pub(crate) const fn invalid(kind: &'static str, reason: &'static str) -> Self {
        UsageError::InvalidValue { kind, reason }
    }
}

/// The server answered with an error, or with something that is not a valid EWS answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A SOAP fault (usually HTTP 500), such as `ErrorServerBusy` or
    /// `ErrorSchemaValidation`.
    #[error("SOAP fault: {0}")]
    Fault(Box<Fault>),
    /// The operation as a whole failed: a top-level `ResponseClass="Error"` with no
    /// per-item answers, or a batch in which every item was refused as busy.
    #[error("the server refused the request: {0}")]
    Response(Box<ResponseStatus>),
    /// HTTP 401: the credentials were missing, wrong or expired.
    #[error("HTTP 401 Unauthorized (offered: {})", challenges.join(", "))]
    Unauthorized {
        /// The `WWW-Authenticate` challenges, as sent.
        challenges: Vec<String>,
        /// The start of the body.
        excerpt: Excerpt,
    },
    /// HTTP 403: authenticated, but not allowed (EWS disabled for the account, ...).
    #[error("HTTP 403 Forbidden: {excerpt}")]
    Forbidden {
        /// The start of the body.
        excerpt: Excerpt,
    },
    /// HTTP 429 or 503: throttled or temporarily unavailable.
    #[error("HTTP {status}: throttled{}", retry_after.map(|d| format!(", retry after {d:?}")).unwrap_or_default())]
    Throttled {
        /// 429 or 503.
        status: StatusCode,
        /// The `Retry-After` header, if it held a number of seconds.
        retry_after: Option<Duration>,
        /// The start of the body.
        excerpt: Excerpt,
    },
    /// Any other HTTP status that carried no SOAP answer.
    #[error("HTTP {status}: {excerpt}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The start of the body.
        excerpt: Excerpt,
    },
    /// The body is not XML (an HTML error page from a proxy, a login form, ...).
    #[error("not an XML answer (HTTP {status}, Content-Type {content_type:?}): {excerpt}")]
    NotXml {
        /// The status.
        status: StatusCode,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The start of the body.
        excerpt: Excerpt,
    },
    /// The XML is malformed, or not the answer the operation expects.
    #[error("malformed answer at byte {offset}: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
        /// Byte offset in the body where it was noticed.
        offset: u64,
    },
    /// The answer exceeds a decoding limit (see [`crate::Limits`]).
    #[error("answer exceeds the {limit} limit of {max}")]
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// The configured maximum.
        max: usize,
    },
}

impl ServerError {
    /// The server's requested back-off, if this error carries one: `BackOffMilliseconds`
    /// from a fault or error response, or `Retry-After` on 429/503.
    pub fn back_off(&self) -> Option<Duration> {
        match self {
            ServerError::Fault(f) => f.back_off(),
            ServerError::Response(r) => r.message_xml.back_off(),
            ServerError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn malformed(reason: impl Into<String>, offset: u64) -> Self {
        ServerError::Malformed {
            reason: reason.into(),
            offset,
        }
    }
}

/// Which decoding limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::Limits::max_body_bytes`].
    BodySize,
    /// [`crate::Limits::max_depth`].
    Depth,
    /// [`crate::Limits::max_items`].
    Items,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::BodySize => "body size",
            Limit::Depth => "nesting depth",
            Limit::Items => "item count",
        })
    }
}

/// A short, printable start of a response body, kept for diagnostics.
///
/// At most [`Excerpt::MAX`] bytes of the body, decoded lossily, with control characters
/// replaced, so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Excerpt(String);

impl Excerpt {
    /// The most bytes of the body an excerpt keeps.
    pub const MAX: usize = 256;

    /// Takes the start of `body`.
    pub fn of(body: &[u8]) -> Self {
        let cut = &body[..body.len().min(Self::MAX)];
        let text = String::from_utf8_lossy(cut);
        let mut s: String = text
            .chars()
            .map(|c| if c.is_control() && c != ' ' { ' ' } else { c })
            .collect();
        if body.len() > Self::MAX {
            s.push('…');
        }
        Excerpt(s.trim().to_owned())
    }

    /// The excerpt's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The request or its answer was lost on the way. Built by the drivers.
///
/// [`TransportError::request_sent`] tells the retry policy whether the server may have
/// received (and acted on) the request, which decides whether a request that sends mail
/// may be repeated.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {source}")]
pub struct TransportError {
    kind: TransportErrorKind,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl TransportError {
    /// Wraps a driver's error.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            kind,
            source: source.into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Could the server have received the whole request? `false` only when the failure
    /// provably happened before the request left (connect, TLS handshake, DNS).
    pub fn request_sent(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::Tls
        )
    }
}

/// The kind of a [`TransportError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (DNS, refused, unreachable). Nothing was sent.
    Connect,
    /// The TLS handshake failed (for example an untrusted certificate). Nothing was sent.
    Tls,
    /// The connection broke while sending or before the answer arrived: the server may
    /// have acted on the request.
    Io,
    /// The configured timeout passed: the server may have acted on the request.
    Timeout,
    /// The answer's body exceeded the driver's size cap.
    BodyTooLarge,
    /// The answer was cut short (the connection closed before the announced length).
    Truncated,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect failed",
            TransportErrorKind::Tls => "TLS handshake failed",
            TransportErrorKind::Io => "connection broken",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::BodyTooLarge => "response body too large",
            TransportErrorKind::Truncated => "response body truncated",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_short_and_printable() {
        let body = format!("<html>\r\n\x1b[31m{}</html>", "x".repeat(1000));
        let e = Excerpt::of(body.as_bytes());
        assert!(e.as_str().starts_with("<html>"));
        assert!(!e.as_str().chars().any(|c| c.is_control()));
        assert!(e.as_str().ends_with('…'));
        assert!(e.as_str().len() <= Excerpt::MAX + '…'.len_utf8());
    }

    #[test]
    fn excerpt_survives_cut_utf8() {
        let body = "é".repeat(200); // 400 bytes: the cut at 256 falls inside a char
        let e = Excerpt::of(body.as_bytes());
        assert!(e.as_str().starts_with("éé"));
    }

    #[test]
    fn only_connect_and_tls_failures_prove_nothing_was_sent() {
        let io = std::io::Error::other("x");
        assert!(!TransportError::new(TransportErrorKind::Connect, io).request_sent());
        for kind in [
            TransportErrorKind::Io,
            TransportErrorKind::Timeout,
            TransportErrorKind::Truncated,
        ] {
            assert!(TransportError::new(kind, std::io::Error::other("x")).request_sent());
        }
    }
}
