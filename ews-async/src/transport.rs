//! The transport seam: what moves one request to the server and its answer back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use ews_proto::TransportError;

/// What a transport returns: the complete answer (any status), or why there is none.
pub type TransportResult = Result<http::Response<Bytes>, TransportError>;

/// A boxed, `Send` future, as the object-safe side of the traits of this crate uses.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Moves one HTTP exchange asynchronously: sends `request`, returns the complete answer.
///
/// A transport knows nothing of EWS: it never looks at statuses, never retries, never
/// sleeps on its own account and never authenticates (the `Authorization` header is
/// already on the request). The client wraps every call in its overall
/// [`timeout`](crate::ClientBuilder::timeout), so a transport need not time out itself.
///
/// It reports failures as a [`TransportError`] whose
/// [`kind`](ews_proto::TransportErrorKind) says as precisely as it can *when* the
/// failure happened, because the core's retry policy only repeats an operation that sends
/// mail when the error proves nothing was sent:
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
/// Report `Connect` only when the request provably never left: a failure on a pooled
/// connection that was already up is `Io`. The client ends any exchange still running at
/// its deadline (as `Timeout`); a transport that can tell a connect from a sent request
/// applies the request's `Deadline` (in its extensions) itself, as the built-in one does.
///
/// The trait is written with `-> impl Future + Send` (implement it with an `async`
/// block, or an `async fn` whose future is `Send`); the client stores the transport
/// type-erased, boxing one future per request, which is noise next to a network round
/// trip. The built-in implementation is [`HyperTransport`](crate::HyperTransport) (feature
/// `hyper`); [`FnTransport`] turns a closure into a transport for tests.
///
/// # Connection-bound authentication (NTLM, Negotiate)
///
/// The trait takes `&self` and one request at a time, which keeps room for a transport
/// that owns *one* connection and runs a sequence of requests on it: an NTLM or Negotiate
/// transport would hold its connection (and the peer certificate, for Extended
/// Protection's channel binding) inside itself, behind an async lock held for the whole
/// handshake, and answer the server's challenge before returning the final response.
/// Nothing in the driver assumes that consecutive requests use different connections or
/// the same one, and the driver never holds a lock across the transport's future.
///
/// ```
/// use bytes::Bytes;
/// use ews_async::{Transport, TransportResult};
///
/// /// Answers every request with 503, for a test of the retry policy.
/// struct AlwaysBusy;
///
/// impl Transport for AlwaysBusy {
///     fn send(
///         &self,
///         _request: http::Request<Bytes>,
///     ) -> impl Future<Output = TransportResult> + Send {
///         async {
///             Ok(http::Response::builder().status(503).body(Bytes::new()).unwrap())
///         }
///     }
/// }
/// ```
pub trait Transport: Send + Sync + 'static {
    /// Sends `request` and returns the whole answer, whatever its status.
    fn send(&self, request: http::Request<Bytes>) -> impl Future<Output = TransportResult> + Send;

    /// A short name for `Debug` output and traces.
    fn name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

/// The object-safe form the client stores.
pub(crate) trait DynTransport: Send + Sync + 'static {
    fn send_boxed(&self, request: http::Request<Bytes>) -> BoxFuture<'_, TransportResult>;
    fn name(&self) -> &'static str;
}

impl<T: Transport> DynTransport for T {
    fn send_boxed(&self, request: http::Request<Bytes>) -> BoxFuture<'_, TransportResult> {
        Box::pin(Transport::send(self, request))
    }

    fn name(&self) -> &'static str {
        Transport::name(self)
    }
}

impl<T: Transport> Transport for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> impl Future<Output = TransportResult> + Send {
        (**self).send(request)
    }

    fn name(&self) -> &'static str {
        (**self).name()
    }
}

/// A [`Transport`] made of a closure returning a future: for tests, recordings and
/// in-memory servers.
///
/// ```
/// use bytes::Bytes;
/// use ews_async::{Client, FnTransport, proto::GetDelegate};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let answer = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:GetDelegateResponse ResponseClass="Success"
///       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
///     <m:ResponseCode>NoError</m:ResponseCode>
///   </m:GetDelegateResponse></s:Body></s:Envelope>"#;
/// let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
///     .transport(FnTransport::new(move |request: http::Request<Bytes>| async move {
///         assert_eq!(request.headers()["X-AnchorMailbox"], "user1@example.com");
///         Ok(http::Response::new(Bytes::from_static(answer.as_bytes())))
///     }))
///     .build()?;
/// let reply = client.get_delegates(&"user1@example.com".parse()?).await?;
/// assert!(reply.body.is_empty());
/// # Ok(())
/// # }
/// ```
pub struct FnTransport<F>(F);

impl<F, Fut> FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TransportResult> + Send,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        FnTransport(f)
    }
}

impl<F, Fut> Transport for FnTransport<F>
where
    F: Fn(http::Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = TransportResult> + Send,
{
    fn send(&self, request: http::Request<Bytes>) -> impl Future<Output = TransportResult> + Send {
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
