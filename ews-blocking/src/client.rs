//! [`Client`], its [`ClientBuilder`], and the [`TokenProvider`] it asks for bearer tokens.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ews_proto::driver::{Auth, BuilderParts, Builtin, Call, Settings, Step};
use ews_proto::{Error, Operation, Reply, RequestContext, Secret};

use crate::trace;
use crate::transport::Transport;

/// The error type a [`TokenProvider`] returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a client with [`Credentials::Bearer`](ews_proto::Credentials::Bearer) gets its OAuth2 tokens.
///
/// Called once before the first request and again with `refresh` set when the server
/// answers 401 (at most once per operation); the driver keeps the token between calls.
/// Implemented for closures returning `Result<T, E>` with `T: Into<Secret<String>>` (a
/// `String`, a `&str`, a `Secret`) and `E: Into<BoxError>`:
///
/// ```
/// use ews_blocking::{BoxError, Client};
/// let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
///     .token_provider(|refresh: bool| {
///         // ask the identity provider; `refresh`: the last token was refused
///         Ok::<_, BoxError>(if refresh { "new-token" } else { "token" })
///     })
///     .build()?;
/// # let _ = client;
/// # Ok::<(), ews_blocking::Error>(())
/// ```
pub trait TokenProvider: Send + Sync + 'static {
    /// A bearer token; `refresh`: the previous one was refused, get a new one.
    fn token(&self, refresh: bool) -> Result<Secret<String>, BoxError>;
}

impl<F, T, E> TokenProvider for F
where
    F: Fn(bool) -> Result<T, E> + Send + Sync + 'static,
    T: Into<Secret<String>>,
    E: Into<BoxError>,
{
    fn token(&self, refresh: bool) -> Result<Secret<String>, BoxError> {
        self(refresh).map(Into::into).map_err(Into::into)
    }
}

/// The provider of a client without one; never called (`build` refuses `Bearer` without
/// a provider), but the driver loop needs no `Option` for it.
struct NoTokenProvider;

impl TokenProvider for NoTokenProvider {
    fn token(&self, _refresh: bool) -> Result<Secret<String>, BoxError> {
        Err("no token provider is configured".into())
    }
}

/// The default `User-Agent`.
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("ews-blocking/", env!("CARGO_PKG_VERSION"));

/// Configures a [`Client`]. Made by [`Client::builder`].
///
/// Every setting has a default; only the endpoint is required. The settings, their
/// meaning and their validation are the core's ([`ClientConfig`](ews_proto::driver::ClientConfig), shared with
/// `ews-async`); this builder adds the blocking transport and token provider. Errors (a
/// bad endpoint, cleartext credentials, a bad `User-Agent`) surface in
/// [`ClientBuilder::build`], a bad certificate in the method that got it.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    parts: BuilderParts<dyn Transport, dyn TokenProvider>,
}

impl ClientBuilder {
    ews_proto::client_builder_setters!(
        transport: Transport,
        tokens: TokenProvider,
        user_agent: DEFAULT_USER_AGENT
    );

    /// The client.
    ///
    /// # Errors
    /// [`Error::Usage`] for any misconfiguration [`ClientConfig::validate`](ews_proto::driver::ClientConfig::validate) finds (an
    /// endpoint that is not an absolute `http(s)` URL, credentials over `http://` to a
    /// host that is not a loopback address, `Bearer` credentials without a
    /// [`TokenProvider`], a `User-Agent` that cannot be a header value, `https` without
    /// the `rustls` feature, no transport).
    pub fn build(self) -> Result<Client, Error> {
        let (mut settings, tokens, transport) = self.parts.validate(BUILTIN)?;
        settings
            .auth
            .default_handshake_source(|| Arc::new(crate::transport::OsHandshakeSource));
        let transport = transport.map_or_else(|| default_transport(&settings), Ok)?;
        let tokens = tokens.unwrap_or_else(|| Arc::new(NoTokenProvider));
        let auth = Mutex::new(settings.auth.clone());
        Ok(Client {
            inner: Arc::new(Inner {
                auth,
                settings,
                tokens,
                transport,
            }),
        })
    }
}

/// What the built-in transport can do, by this crate's features.
pub(crate) const BUILTIN: Builtin = Builtin {
    transport: cfg!(feature = "ureq"),
    tls: cfg!(feature = "rustls"),
};

#[cfg(feature = "ureq")]
pub(crate) fn default_transport(settings: &Settings) -> Result<Arc<dyn Transport>, Error> {
    Ok(Arc::new(crate::UreqTransport::new(settings)?))
}

#[cfg(not(feature = "ureq"))]
pub(crate) fn default_transport(_: &Settings) -> Result<Arc<dyn Transport>, Error> {
    // `validate` already refused this configuration; kept as an error, not a panic.
    Err(ews_proto::UsageError::InvalidValue {
        kind: "transport",
        reason: "no transport: enable the `ureq` feature or call `transport`",
    }
    .into())
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.parts, f)
    }
}

/// A blocking EWS client: one endpoint, one identity, one connection pool.
///
/// Cheap to clone (clones share the pool, the current bearer token and the settings) and
/// usable from many threads at once. Every method runs one operation to its end through
/// [`ews_proto::driver::Call`], which makes every decision (authentication, retries, delays); the
/// client only moves bytes, sleeps and asks the [`TokenProvider`].
///
/// Per-item outcomes are in the [`Reply`]: an `ErrorDelegateAlreadyExists` for one user
/// is a [`ResponseMessage`](ews_proto::ResponseMessage) with an error status, not an
/// [`Error`]. `Err` means the request as a whole failed.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    auth: Mutex<Auth>,
    tokens: Arc<dyn TokenProvider>,
    transport: Arc<dyn Transport>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("settings", &self.inner.settings)
            .field("auth", &*self.auth())
            .field("transport", &self.inner.transport.name())
            .finish()
    }
}

impl Client {
    /// A builder for a client of the EWS endpoint `endpoint`
    /// (`https://mail.example.com/EWS/Exchange.asmx`).
    pub fn builder(endpoint: &str) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The request context every call uses unless [`Client::send_in`] is given another.
    pub fn context(&self) -> &RequestContext {
        &self.inner.settings.ctx
    }

    fn auth(&self) -> MutexGuard<'_, Auth> {
        self.inner
            .auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op` in the client's context.
    ///
    /// # Errors
    /// The request as a whole failed: see [`Error`].
    pub fn send<O: Operation>(&self, op: &O) -> Result<Reply<O::Output>, Error> {
        self.send_in(op, &self.inner.settings.ctx)
    }

    /// Runs `op` in `ctx` (another version, impersonated user, culture or time zone for
    /// this call only); authentication and transport stay the client's.
    ///
    /// # Errors
    /// The request as a whole failed: see [`Error`].
    pub fn send_in<O: Operation>(
        &self,
        op: &O,
        ctx: &RequestContext,
    ) -> Result<Reply<O::Output>, Error> {
        self.send_with(op, ctx, self.inner.settings.policy, None)
    }

    /// [`Client::send_in`] with another retry policy and a deadline for every exchange
    /// ([`Call::deadline`]: the sync scheduler retries itself, its requests run with
    /// [`RetryPolicy::never`](ews_proto::RetryPolicy::never) within the run's deadline).
    pub(crate) fn send_with<O: Operation>(
        &self,
        op: &O,
        ctx: &RequestContext,
        policy: ews_proto::RetryPolicy,
        deadline: Option<Instant>,
    ) -> Result<Reply<O::Output>, Error> {
        let span = trace::span(O::NAME);
        let _entered = span.enter();
        let inner = &*self.inner;
        let mut call = Call::configured(op, ctx, &inner.settings)
            .policy(policy)
            .deadline(deadline);
        // The whole driver loop: every decision is the core's. The deadline and the
        // connection to use travel in the request's extensions, where the transport
        // applies them.
        let result = loop {
            let step = call.poll(&mut self.auth(), Instant::now());
            match step {
                Step::Send { request, .. } => {
                    let request = trace::request(&span, call.attempts(), request);
                    let outcome = trace::response(&span, inner.transport.send(request));
                    call.handle(outcome, &mut self.auth(), Instant::now());
                }
                Step::FetchToken { refresh } => {
                    let fetched = inner.tokens.token(refresh);
                    call.token_fetched(&mut self.auth(), fetched);
                }
                Step::Sleep { until } => {
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                }
                Step::Done(result) => break result,
            }
        };
        trace::done(&span, result)
    }

    ews_proto::client_operation_methods!();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use bytes::Bytes;
    use ews_proto::{Credentials, EmailAddress, ServerError, TransportError};

    use super::*;
    use crate::FnTransport;

    const OK: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse></s:Body></s:Envelope>"#;
    const URL: &str = "https://mail.example.com/EWS/Exchange.asmx";

    fn answer(status: u16) -> Result<http::Response<Bytes>, TransportError> {
        Ok(http::Response::builder()
            .status(status)
            .header("retry-after", "0")
            .body(Bytes::from_static(OK.as_bytes()))
            .unwrap())
    }

    fn principal() -> EmailAddress {
        "user1@example.com".parse().unwrap()
    }

    #[test]
    fn debug_never_shows_secrets() {
        let builder =
            Client::builder(URL).credentials(Credentials::basic("user1@example.com", "Passw0rd-1"));
        let shown = format!("{builder:?}");
        assert!(shown.contains("user1@example.com"), "{shown}");
        assert!(!shown.contains("Passw0rd-1"), "{shown}");

        let client = Client::builder(URL)
            .token_provider(|_| Ok::<_, BoxError>(Secret::from("token-xyz")))
            .transport(FnTransport::new(|_| answer(200)))
            .build()
            .unwrap();
        client.get_delegates(principal()).unwrap();
        let shown = format!("{client:?} {:?}", Client::builder(URL));
        assert!(!shown.contains("token-xyz"), "{shown}");
    }

    #[test]
    fn throttling_is_retried_and_tokens_refreshed_by_the_core() {
        let sent = Arc::new(AtomicU32::new(0));
        let tokens = Arc::new(AtomicU32::new(0));
        let (s, t) = (Arc::clone(&sent), Arc::clone(&tokens));
        let client = Client::builder(URL)
            .token_provider(move |_| {
                t.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(Secret::from("tok"))
            })
            .transport(FnTransport::new(move |request| {
                assert_eq!(request.headers()["authorization"], "Bearer tok");
                match s.fetch_add(1, Ordering::SeqCst) {
                    0 => answer(503),
                    1 => answer(401),
                    _ => answer(200),
                }
            }))
            .build()
            .unwrap();
        client.get_delegates(principal()).unwrap();
        assert_eq!(sent.load(Ordering::SeqCst), 3);
        assert_eq!(tokens.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn bad_settings_are_usage_errors() {
        assert!(matches!(
            Client::builder("not a url").build(),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            Client::builder(URL)
                .credentials(Credentials::Bearer)
                .build(),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            Client::builder(URL).add_root_certificate_pem(b"no pem here"),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn a_token_provider_failure_is_typed() {
        let client = Client::builder(URL)
            .token_provider(|_| Err::<Secret<String>, BoxError>("idp down".into()))
            .transport(FnTransport::new(|_| answer(200)))
            .build()
            .unwrap();
        let e = client.get_delegates(principal()).unwrap_err();
        assert!(matches!(e, Error::TokenProvider(_)), "{e}");
        let unauthorized = Client::builder(URL)
            .transport(FnTransport::new(|_| answer(401)))
            .build()
            .unwrap()
            .get_delegates(principal())
            .unwrap_err();
        assert!(matches!(
            unauthorized,
            Error::Server(ServerError::Unauthorized { .. })
        ));
    }

    #[test]
    fn clients_are_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
    }
}
