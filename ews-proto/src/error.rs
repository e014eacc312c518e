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
//!
//! # Which [`ServerError`] an answer is
//!
//! The HTTP status decides first, the body second; one rule holds at every status:
//!
//! * **401, 403, 429, 503**: [`ServerError::Unauthorized`], [`ServerError::Forbidden`],
//!   [`ServerError::Throttled`], whatever the body holds.
//! * **Any other status outside 2xx** (400, 404, 500, 502, ...): [`ServerError::Fault`] when
//!   the body is a complete SOAP envelope whose `Body` holds a fault, and otherwise
//!   [`ServerError::Status`] with an [`Excerpt`] of the body: an HTML page, plain text, an
//!   empty body, XML that is not SOAP, a cut envelope, an envelope without a fault, a body
//!   over [`Limits::max_body_bytes`](crate::Limits::max_body_bytes), all alike. A 500 with
//!   an HTML page is `Status`, as a 400 or a 502 with one is.
//! * **2xx**: the body must be the operation's answer. A fault is [`ServerError::Fault`], an
//!   operation-level error [`ServerError::Response`], a body over a limit
//!   [`ServerError::LimitExceeded`]; anything else that cannot be read as the answer is
//!   [`ServerError::Malformed`], whose [`MalformedKind`] says how: [`MalformedKind::NotXml`]
//!   for a body that is not XML (an HTML page, text, bytes that are not UTF-8),
//!   [`MalformedKind::NotSoap`] for XML whose root is not a SOAP envelope,
//!   [`MalformedKind::Truncated`] for one that stops early, and so on.
//!
//! So `Malformed` only ever describes a 2xx answer, and an error status is never
//! `Malformed`: code that wants "the server answered with an HTTP error" matches
//! [`ServerError::http_status`], which is `Some` for exactly the four status variants.
//!
//! ```
//! use bytes::Bytes;
//! use ews_proto::error::MalformedKind;
//! use ews_proto::{GetDelegate, Operation, ServerError};
//!
//! let op = GetDelegate::new("kim@contoso.com".parse()?);
//! let page = |status| {
//!     http::Response::builder()
//!         .status(status)
//!         .header("content-type", "text/html")
//!         .body(Bytes::from_static(b"<html><body>Proxy error</body></html>"))
//! };
//! // At 500 as at 400: the status.
//! for status in [400, 500] {
//!     let err = op.decode(&page(status)?).unwrap_err();
//!     assert!(matches!(err, ServerError::Status { .. }), "{err}");
//!     assert_eq!(err.http_status().map(|s| s.as_u16()), Some(status));
//! }
//! // At 200 the page claims to be the answer, and is not.
//! match op.decode(&page(200)?) {
//!     Err(ServerError::Malformed(m)) => assert_eq!(m.kind(), MalformedKind::NotXml),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use crate::soap::ExchangeVersion;
use crate::soap::ResponseStatus;

// What the variants below carry, so that matching on an error needs only this module.
pub use crate::client::AuthError;
pub use crate::ops::{Unconfirmed, WriteCheck, WriteState, WriteTarget};
pub use crate::soap::{Fault, MessageXml, MessageXmlElement};

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
    /// The application's bearer-token provider failed, or returned a token that cannot
    /// be sent (see [`InvalidToken`]).
    #[error("the token provider failed: {0}")]
    TokenProvider(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The answer to a delegate write was lost; the write was sent once, and a read-back
    /// says for each of its writes whether it was applied.
    #[error(transparent)]
    Unconfirmed(Box<crate::ops::Unconfirmed>),
    /// A calendar read could not cover its range: a window held more items than one
    /// answer carries even at the narrowest width, or the server refused the view. Each
    /// request itself succeeded (its failures are the other variants).
    #[error(transparent)]
    Calendar(Box<crate::calendar::SweepError>),
    /// A stale-key retry of an UpdateItem could not go on: the server answered another
    /// number of messages than the request had items, or re-read an item without a usable
    /// id or change key. Each request itself succeeded (its failures are the other
    /// variants); nothing was sent after the answer that could not be matched.
    #[error(transparent)]
    StaleKeyRetry(#[from] crate::ops::StaleKeyRetryError),
    /// Windows-integrated authentication (NTLM, Negotiate) failed before the credentials
    /// could be judged: a broken handshake, a transport that cannot pin connections. (A
    /// refused password is [`ServerError::Unauthorized`], as for Basic.)
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl From<crate::calendar::SweepError> for Error {
    fn from(e: crate::calendar::SweepError) -> Self {
        Error::Calendar(Box::new(e))
    }
}

/// A bearer token that cannot be an HTTP header value (it holds a control character such
/// as CR, LF or NUL, or a non-ASCII byte). Reported as [`Error::TokenProvider`], never
/// sent: the token itself is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the bearer token cannot be sent: it holds a character an HTTP header cannot carry")]
#[non_exhaustive]
pub struct InvalidToken;

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
    /// The transport could not form the request (an invalid URI or header value for its
    /// HTTP library). It was not sent, and is not retried.
    #[error("the request cannot be sent: {reason}")]
    InvalidRequest {
        /// The transport's word for it.
        reason: String,
    },
    /// The request context's endpoint is not an absolute `http` or `https` URL, or holds
    /// user info (`user:password@`).
    #[error("invalid endpoint URL: {0}")]
    InvalidEndpoint(String),
    /// Credentials would travel in clear: `http://` to a host that is not a loopback
    /// address, without [`crate::driver::Auth::allow_credentials_over_http`].
    #[error(
        "credentials are not sent over plain http:// to {host:?} (use https://, or allow it explicitly)"
    )]
    CredentialsOverHttp {
        /// The endpoint's host.
        host: String,
    },
}

impl UsageError {
    pub(crate) const fn invalid(kind: &'static str, reason: &'static str) -> Self {
        UsageError::InvalidValue { kind, reason }
    }
}

/// The server answered with an error, or with something that is not a valid EWS answer.
///
/// Which variant an answer is follows one rule at every HTTP status (spelt out in the
/// [module docs](self#which-servererror-an-answer-is)): outside 2xx, a SOAP fault is
/// [`Fault`](ServerError::Fault) and any other body, HTML page or not, leaves the status
/// to decide ([`Unauthorized`](ServerError::Unauthorized),
/// [`Forbidden`](ServerError::Forbidden), [`Throttled`](ServerError::Throttled),
/// [`Status`](ServerError::Status); [`ServerError::http_status`] is `Some` for these
/// four); at 2xx, a body that is not the answer is [`Malformed`](ServerError::Malformed),
/// with a [`MalformedKind`].
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
    #[error("HTTP 401 Unauthorized (offered: {})", Bounded(&challenges.join(", ")))]
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
    /// Any other status outside 2xx whose body is not a SOAP fault (see the [module
    /// docs](self#which-servererror-an-answer-is)): an HTML page on a 500 is this, as on a
    /// 400 or a 502.
    #[error("HTTP {status}: {excerpt}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The start of the body.
        excerpt: Excerpt,
    },
    /// A 2xx answer that is not a valid answer to the operation: not XML, not SOAP,
    /// truncated, a refused DOCTYPE, an element or value the operation cannot read, ...
    /// [`Malformed::kind`] says which.
    #[error(transparent)]
    Malformed(Malformed),
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

    /// The HTTP status, when the status decided the error: `Some` for
    /// [`ServerError::Unauthorized`] (401), [`ServerError::Forbidden`] (403),
    /// [`ServerError::Throttled`] and [`ServerError::Status`], `None` for errors read from a
    /// body (a fault, an error response, a malformed answer, a limit).
    ///
    /// Every answer outside 2xx that carries no SOAP fault is one of the four (see the
    /// [module docs](self#which-servererror-an-answer-is)), whatever its body, so this is
    /// the one test for "an HTTP error status".
    ///
    /// ```
    /// use ews_proto::ServerError;
    /// use ews_proto::error::Excerpt;
    /// let e = ServerError::Forbidden { excerpt: Excerpt::of(b"EWS is disabled") };
    /// assert_eq!(e.http_status(), Some(http::StatusCode::FORBIDDEN));
    /// ```
    pub fn http_status(&self) -> Option<StatusCode> {
        match self {
            ServerError::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            ServerError::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            ServerError::Throttled { status, .. } | ServerError::Status { status, .. } => {
                Some(*status)
            }
            ServerError::Fault(_)
            | ServerError::Response(_)
            | ServerError::Malformed(_)
            | ServerError::LimitExceeded { .. } => None,
        }
    }

    /// A [`ServerError::Malformed`] of `kind` (see [`Malformed::new`]).
    pub(crate) fn malformed(kind: MalformedKind, detail: impl Into<String>, offset: u64) -> Self {
        ServerError::Malformed(Malformed::new(kind, detail, offset))
    }
}

/// Why a 2xx answer could not be read: its [`MalformedKind`], the byte offset in the body
/// where the decoder noticed, and a short text for people.
///
/// The kind is for code, the detail for logs. The detail may quote the server (an element
/// name, a value, the start of the body), so it is bounded and escaped as all server text
/// in this crate's errors is: at most about 512 bytes, control characters and line
/// separators escaped, the full length noted when cut. It never holds a credential: a
/// decoder sees only the answer.
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::error::MalformedKind;
/// use ews_proto::{GetDelegate, Operation, ServerError};
///
/// let op = GetDelegate::new("kim@contoso.com".parse()?);
/// let cut = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>"#;
/// let answer = http::Response::builder().status(200).body(Bytes::from_static(cut.as_bytes()))?;
/// let Err(ServerError::Malformed(m)) = op.decode(&answer) else { panic!() };
/// assert_eq!(m.kind(), MalformedKind::Truncated);
/// assert_eq!(m.offset(), cut.len() as u64);
/// assert_eq!(
///     m.to_string(),
///     format!("malformed answer at byte {} (truncated): unexpected end of document", cut.len())
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed answer at byte {offset} ({kind}): {detail}")]
pub struct Malformed {
    kind: MalformedKind,
    offset: u64,
    detail: String,
}

impl Malformed {
    /// A malformed answer of `kind`, noticed at byte `offset` of the body. `detail` is
    /// bounded and escaped here, once, because it may quote the server (a 10 MiB element
    /// name, a value holding newlines).
    pub fn new(kind: MalformedKind, detail: impl Into<String>, offset: u64) -> Self {
        let detail = detail.into();
        let detail = if detail.len() <= Bounded::MAX && !detail.chars().any(needs_escape) {
            detail
        } else {
            Bounded(&detail).to_string()
        };
        Malformed {
            kind,
            offset,
            detail,
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> MalformedKind {
        self.kind
    }

    /// The byte offset in the body where it was noticed (for a body that is not XML, 0),
    /// counted after the UTF-8 byte-order mark when the body starts with one.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The text for people: bounded and escaped (see [`Malformed`]).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl From<Malformed> for ServerError {
    fn from(m: Malformed) -> Self {
        ServerError::Malformed(m)
    }
}

/// What is wrong with a [`Malformed`] answer.
///
/// The first group says the body is not well-formed XML (XML 1.0 and Namespaces in XML),
/// the second that it is XML but not the answer the operation expects. More kinds may be
/// added; match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MalformedKind {
    /// The body is not XML at all: not UTF-8, no markup at its start (plain text, JSON),
    /// or an HTML page (`<!DOCTYPE html>`, `<html>`). The detail holds the
    /// `Content-Type` and the start of the body.
    NotXml,
    /// The document ends before it is complete: an element still open, a tag, comment,
    /// CDATA section, attribute value or reference cut off, or no element at all.
    Truncated,
    /// The document holds a DOCTYPE. A SOAP message may not, and refusing it means no
    /// entity can ever be declared or expanded.
    DoctypeRefused,
    /// A character XML 1.0 forbids (a control character other than tab, line feed and
    /// carriage return, U+FFFE, U+FFFF), written raw or as a character reference
    /// (`&#0;`), in text or in an attribute value.
    ForbiddenCharacter,
    /// A reference that is not one: to an undeclared entity (`&nbsp;`), a character
    /// reference that names no character (`&#xZZ;`, `&#x110000;`), or an `&` that no
    /// `;` ends.
    BadReference,
    /// A namespace prefix that is not declared (`<q:X/>` without `xmlns:q`), or a
    /// declaration Namespaces in XML forbids (binding `xmlns`, rebinding `xml`).
    Namespace,
    /// Any other violation of XML syntax: an end tag that does not match its start tag,
    /// a malformed attribute, a second root element, a bad XML declaration.
    NotWellFormed,
    /// Well-formed XML whose root element is not a SOAP `Envelope`.
    NotSoap,
    /// An element where the answer needs another: in the SOAP `Body`, anything but the
    /// operation's `*Response` element or a fault (the answer to another operation, an
    /// element in the wrong namespace).
    UnexpectedElement,
    /// A required element is absent: the SOAP `Body`, or a child the schema requires
    /// (an attendee's `Mailbox`, a delegate's `UserId`).
    MissingElement,
    /// A required attribute is absent (`ResponseClass`, an id's `Id`).
    MissingAttribute,
    /// An element or attribute holds a value its type does not allow (`perhaps` for a
    /// boolean, `Maybe` for `ResponseClass`, a version number that is not a number).
    BadValue,
}

impl fmt::Display for MalformedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MalformedKind::NotXml => "not XML",
            MalformedKind::Truncated => "truncated",
            MalformedKind::DoctypeRefused => "DOCTYPE refused",
            MalformedKind::ForbiddenCharacter => "forbidden character",
            MalformedKind::BadReference => "bad reference",
            MalformedKind::Namespace => "namespace error",
            MalformedKind::NotWellFormed => "not well-formed",
            MalformedKind::NotSoap => "not SOAP",
            MalformedKind::UnexpectedElement => "unexpected element",
            MalformedKind::MissingElement => "missing element",
            MalformedKind::MissingAttribute => "missing attribute",
            MalformedKind::BadValue => "invalid value",
        })
    }
}

/// Server-supplied text made safe to show in an error message or a log line.
///
/// Displayed, it is at most [`Bounded::MAX`] bytes of the text (cut on a character
/// boundary, never inside an escape) with every control character escaped (`\n`, `\r`,
/// `\t`, others as `\u{1b}`), as are the Unicode line and paragraph separators (U+2028,
/// U+2029; U+0085 is a control character) and the bidirectional controls that can make a
/// line read differently from what it holds. A cut text ends with `… (N bytes in all)`,
/// N the full length in bytes. Backslashes are left alone: the point is that server text
/// can neither forge a log line nor flood one, not that the escape is reversible.
///
/// Debug-formatted, it is the [`str`] Debug form (quoted, escaped) of the same prefix,
/// with the same note when cut.
///
/// The one rule for every piece of server text this crate prints: fault strings and
/// codes, `MessageText`, `WWW-Authenticate` challenges, `Content-Type`, the server data in
/// [`Malformed`] details, version names; [`Excerpt`] applies it to bodies.
pub(crate) struct Bounded<'a>(pub(crate) &'a str);

impl Bounded<'_> {
    /// The most bytes of (escaped) text shown.
    pub(crate) const MAX: usize = 512;

    /// `text` as [`Bounded`] shows it, but cut at `max` bytes: for a piece of server text
    /// that shares one bounded message with others (the `Content-Type` of a body that is
    /// not XML, beside its excerpt).
    pub(crate) fn at_most(text: &str, max: usize) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        if !write_escaped(&mut out, text, max).unwrap_or(false) {
            let _ = write_cut_note(&mut out, text.len());
        }
        out
    }
}

impl fmt::Display for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !write_escaped(f, self.0, Self::MAX)? {
            write_cut_note(f, self.0.len())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Bounded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut cut = self.0.len().min(Self::MAX);
        while !self.0.is_char_boundary(cut) {
            cut -= 1;
        }
        fmt::Debug::fmt(&self.0[..cut], f)?;
        if cut < self.0.len() {
            write_cut_note(f, self.0.len())?;
        }
        Ok(())
    }
}

/// A body or other server bytes for a log line: decoded lossily as UTF-8, with the
/// control and line-separator characters escaped as in error messages, but whole (the
/// drivers' `TRACE` output of the SOAP bodies). One answer can then not forge a log line.
///
/// ```
/// use ews_proto::error::LogText;
/// assert_eq!(LogText(b"<a>\r\nforged</a>").to_string(), "<a>\\r\\nforged</a>");
/// ```
#[derive(Clone, Copy)]
pub struct LogText<'a>(pub &'a [u8]);

impl fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &String::from_utf8_lossy(self.0), usize::MAX).map(drop)
    }
}

impl fmt::Debug for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogText({} bytes)", self.0.len())
    }
}

/// Does `c` have to be escaped before server text is shown? Control characters, line and
/// paragraph separators, and bidirectional formatting controls.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Writes `text` escaped (see [`Bounded`]) until `max` bytes are written; returns whether
/// all of it fit. An escape is written whole or not at all.
fn write_escaped(out: &mut impl fmt::Write, text: &str, max: usize) -> Result<bool, fmt::Error> {
    let mut written = 0;
    for c in text.chars() {
        let escape = needs_escape(c);
        let len = match c {
            '\n' | '\r' | '\t' => 2,
            // `\u{` + hex digits + `}`.
            c if escape => 4 + (32 - (u32::from(c) | 1).leading_zeros() as usize).div_ceil(4),
            c => c.len_utf8(),
        };
        if written + len > max {
            return Ok(false);
        }
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if escape => write!(out, "\\u{{{:x}}}", u32::from(c))?,
            c => out.write_char(c)?,
        }
        written += len;
    }
    Ok(true)
}

/// The note that ends a cut text.
fn write_cut_note(out: &mut impl fmt::Write, full_len: usize) -> fmt::Result {
    write!(out, "… ({full_len} bytes in all)")
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
/// The start of the body, decoded lossily and trimmed, with control characters and line
/// separators escaped (`\n`, `\r`, `\t`, others as `\u{1b}`): at most [`Excerpt::MAX`]
/// bytes of escaped text, followed by `… (N bytes in all)` when the body holds more, N its
/// full length. Safe to log: it can neither forge a line nor flood one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Excerpt(String);

impl Excerpt {
    /// The most bytes of (escaped) body text an excerpt keeps, not counting the note that
    /// says it was cut.
    pub const MAX: usize = 256;

    /// Takes the start of `body`.
    pub fn of(body: &[u8]) -> Self {
        // Three bytes more than can be shown: a character the cut splits decodes to U+FFFD
        // past what is shown (every byte read shows as at least one byte).
        let read = body.len().min(Self::MAX + 3);
        let text = String::from_utf8_lossy(&body[..read]);
        let text = text.trim();
        let mut s = String::with_capacity(text.len().min(Self::MAX) + 32);
        // Writing to a String cannot fail.
        let complete = write_escaped(&mut s, text, Self::MAX).unwrap_or(false);
        if !complete || read < body.len() {
            let _ = write_cut_note(&mut s, body.len());
        }
        Excerpt(s)
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
            TransportErrorKind::Connect
                | TransportErrorKind::Tls
                | TransportErrorKind::InvalidRequest
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
    /// The transport could not form the request (a URI or header its HTTP library
    /// refuses). Nothing was sent; the call ends with [`UsageError::InvalidRequest`].
    InvalidRequest,
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
            TransportErrorKind::InvalidRequest => "request cannot be formed",
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
        assert!(e.as_str().starts_with("<html>\\r\\n\\u{1b}[31mxxx"), "{e}");
        assert!(!e.as_str().chars().any(|c| c.is_control()));
        let note = format!("… ({} bytes in all)", body.len());
        assert!(e.as_str().ends_with(&note), "{e}");
        assert!(e.as_str().len() <= Excerpt::MAX + note.len());
    }

    #[test]
    fn short_excerpt_is_whole_and_trimmed() {
        let e = Excerpt::of("\r\n  Bad Gateway\r\n\tline two\u{2028}\r\n".as_bytes());
        assert_eq!(e.as_str(), "Bad Gateway\\r\\n\\tline two");
        let e = Excerpt::of(b"a\xe2\x80\xa8b\xc2\x85c\x00d");
        assert_eq!(e.as_str(), "a\\u{2028}b\\u{85}c\\u{0}d");
        assert_eq!(Excerpt::of(b"").as_str(), "");
    }

    #[test]
    fn excerpt_survives_cut_utf8() {
        let body = "é".repeat(200); // 400 bytes: the cut at 256 falls inside a char
        let e = Excerpt::of(body.as_bytes());
        assert!(e.as_str().starts_with("éé"));
        assert!(!e.as_str().contains('\u{FFFD}'), "{e}");
        assert_eq!(
            e.as_str(),
            format!("{}… (400 bytes in all)", "é".repeat(128))
        );
    }

    #[test]
    fn bounded_text_is_escaped_cut_and_measured() {
        assert_eq!(Bounded("plain text").to_string(), "plain text");
        assert_eq!(
            Bounded("a\nb\rc\td\u{1b}[0m\u{7f}\u{85}\u{2028}\u{2029}\u{202e}e\\n").to_string(),
            "a\\nb\\rc\\td\\u{1b}[0m\\u{7f}\\u{85}\\u{2028}\\u{2029}\\u{202e}e\\n"
        );
        let huge = format!("{}\nERROR forged", "x".repeat(1 << 20));
        let shown = Bounded(&huge).to_string();
        assert_eq!(
            shown,
            format!(
                "{}… ({} bytes in all)",
                "x".repeat(Bounded::MAX),
                huge.len()
            )
        );
        // Cut on a character boundary, never inside an escape.
        let shown = Bounded(&"é".repeat(1000)).to_string();
        assert!(shown.starts_with(&"é".repeat(256)) && shown.ends_with("… (2000 bytes in all)"));
        let shown = Bounded(&"\n".repeat(1000)).to_string();
        assert_eq!(shown, format!("{}… (1000 bytes in all)", "\\n".repeat(256)));
        let shown = Bounded(&format!("{}\u{1b}", "x".repeat(Bounded::MAX - 3))).to_string();
        assert_eq!(shown, format!("{}… (510 bytes in all)", "x".repeat(509)));
        // Exactly at the bound: whole, no note.
        let exact = "y".repeat(Bounded::MAX);
        assert_eq!(Bounded(&exact).to_string(), exact);
        // Debug: the str form of the same prefix.
        assert_eq!(format!("{:?}", Bounded("a\"b\n")), "\"a\\\"b\\n\"");
        let debug = format!("{:?}", Bounded(&huge));
        assert!(
            debug.len() < 600 && debug.ends_with("bytes in all)"),
            "{debug}"
        );
    }

    #[test]
    fn malformed_reasons_are_bounded_once() {
        let name = "N".repeat(10 << 20);
        let text = format!("expected a SOAP Envelope, found {name}\r\nERROR x");
        let e = ServerError::malformed(MalformedKind::NotSoap, text.clone(), 7);
        let ServerError::Malformed(m) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(m.offset(), 7);
        assert_eq!(m.kind(), MalformedKind::NotSoap);
        let detail = m.detail();
        assert!(detail.len() < 600, "{}", detail.len());
        assert!(detail.starts_with("expected a SOAP Envelope, found NNN"));
        assert!(detail.ends_with(&format!("… ({} bytes in all)", text.len())));
        assert!(format!("{e:?}").len() < 700);
        let short = ServerError::malformed(MalformedKind::BadValue, "bad", 0);
        assert_eq!(
            short.to_string(),
            "malformed answer at byte 0 (invalid value): bad"
        );
        let newline = Malformed::new(MalformedKind::Truncated, "a\nb", 3);
        assert_eq!(
            newline.to_string(),
            "malformed answer at byte 3 (truncated): a\\nb"
        );
        assert_eq!(
            ServerError::from(newline.clone()),
            ServerError::Malformed(newline)
        );
    }

    #[test]
    fn header_texts_are_bounded() {
        let e = ServerError::Unauthorized {
            challenges: vec![
                "Negotiate".into(),
                format!("Basic realm=\"{}\"\r\nX: y", "r".repeat(100_000)),
            ],
            excerpt: Excerpt::default(),
        };
        let shown = e.to_string();
        assert!(shown.starts_with("HTTP 401 Unauthorized (offered: Negotiate, Basic realm=\"rrr"));
        assert!(
            shown.ends_with(&format!("… ({} bytes in all))", 11 + 13 + 100_000 + 7)),
            "{shown}"
        );
        assert!(!shown.contains('\n') && !shown.contains('\r'));
        assert_eq!(
            Bounded::at_most("text/html\r\nSet-Cookie: x", 100),
            "text/html\\r\\nSet-Cookie: x"
        );
        assert_eq!(
            Bounded::at_most(&"é".repeat(100), 9),
            "éééé… (200 bytes in all)"
        );
    }

    #[test]
    fn http_status_is_some_for_exactly_the_status_variants() {
        let excerpt = Excerpt::default;
        let statuses = [
            ServerError::Unauthorized {
                challenges: vec![],
                excerpt: excerpt(),
            },
            ServerError::Forbidden { excerpt: excerpt() },
            ServerError::Throttled {
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: None,
                excerpt: excerpt(),
            },
            ServerError::Status {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                excerpt: excerpt(),
            },
        ];
        let got: Vec<_> = statuses
            .iter()
            .map(|e| e.http_status().map(|s| s.as_u16()))
            .collect();
        assert_eq!(got, [Some(401), Some(403), Some(429), Some(500)]);
        for body in [
            ServerError::Fault(Box::default()),
            ServerError::Response(Box::default()),
            ServerError::malformed(MalformedKind::NotXml, "x", 0),
            ServerError::LimitExceeded {
                limit: Limit::Depth,
                max: 1,
            },
        ] {
            assert_eq!(body.http_status(), None, "{body:?}");
        }
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
