//! The transport seam: what moves one request to the server and its answer back.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use ews_proto::TransportError;

/// Moves one HTTP exchange: sends `request`, returns the complete answer (any status).
///
/// A transport knows nothing of EWS: it never looks at statuses, never retries and never
/// authenticates (the `Authorization` header is already on the request). It reports
/// failures as a [`TransportError`] whose [`kind`](ews_proto::TransportErrorKind) says as
/// precisely as it can *when* the failure happened, because the core's retry policy only
/// repeats an operation that sends mail when the error proves nothing was sent
/// (`Connect`, and `Tls` which is never retried at all):
///
/// | failure | kind |
/// | --- | --- |
/// | DNS, refused or unreachable, timeout while connecting (no byte written yet) | `Connect` |
/// | TLS handshake, untrusted certificate | `Tls` |
/// | the request cannot be formed (a URI or header the HTTP library refuses) | `InvalidRequest` |
/// | the [`Deadline`](ews_proto::driver::Deadline) passed after the connection was up | `Timeout` |
/// | answer body over the transport's cap | `BodyTooLarge` |
/// | connection closed before the announced `Content-Length` | `Truncated` |
/// | any other I/O failure once a byte may have been written, whatever its `io::ErrorKind` | `Io` |
///
/// The request comes with its `User-Agent`, `Authorization` and, in its extensions, the
/// [`Deadline`](ews_proto::driver::Deadline) by which the whole exchange must be over: a blocking
/// transport applies it itself (the built-in one as ureq's per-request timeout).
///
/// The built-in implementation is [`UreqTransport`](crate::UreqTransport) (feature
/// `ureq`); [`FnTransport`] turns a closure into a transport for tests.
///
/// # Connection-bound authentication (NTLM, Negotiate)
///
/// The trait takes `&self` and one request at a time, which keeps room for a transport
/// that owns *one* connection and runs a sequence of requests on it: an NTLM or Negotiate
/// transport would hold its connection (and the peer certificate, for Extended
/// Protection's channel binding) inside itself, behind a lock, and answer the server's
/// challenge before returning the final response. Nothing in the driver assumes that
/// consecutive requests use different connections or the same one.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` and returns the whole answer, whatever its status.
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>;

    /// A short name for `Debug` output and traces.
    fn name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }
}

/// A [`Transport`] made of a closure: for tests, recordings and in-memory servers.
///
/// ```
/// use bytes::Bytes;
/// use ews_blocking::{Client, FnTransport, proto::GetDelegate};
///
/// let answer = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:GetDelegateResponse ResponseClass="Success"
///       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
///     <m:ResponseCode>NoError</m:ResponseCode>
///   </m:GetDelegateResponse></s:Body></s:Envelope>"#;
/// let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
///     .transport(FnTransport::new(move |request: http::Request<Bytes>| {
///         assert_eq!(request.headers()["X-AnchorMailbox"], "user1@example.com");
///         Ok(http::Response::new(Bytes::from_static(answer.as_bytes())))
///     }))
///     .build()?;
/// let reply = client.get_delegates(&"user1@example.com".parse()?)?;
/// assert!(reply.body.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FnTransport<F>(F);

impl<F> FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>
        + Send
        + Sync
        + 'static,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        FnTransport(f)
    }
}

impl<F> Transport for FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>
        + Send
        + Sync
        + 'static,
{
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (self.0)(request)
    }

    fn name(&self) -> &'static str {
        "FnTransport"
    }
}

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport(..)")
    }
}

/// The operating system's generator and clock: the random values and the time of NTLM
/// handshakes (the core, being pure, has neither).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OsHandshakeSource;

impl ews_proto::driver::HandshakeSource for OsHandshakeSource {
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), ews_proto::driver::SourceError> {
        getrandom::fill(buf).map_err(|e| e.to_string().into())
    }

    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now()
    }
}
