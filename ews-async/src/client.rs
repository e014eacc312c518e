//! [`Client`], its [`ClientBuilder`], and the driver loop.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
#[cfg(not(feature = "hyper"))]
use ews_proto::UsageError;
use ews_proto::driver::{Auth, BuilderParts, Builtin, Call, Settings, Step, X_ANCHOR_MAILBOX};
use ews_proto::{Error, Operation, Reply, RequestContext, TransportError, TransportErrorKind};
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::token::{BoxError, DynTokenProvider, TokenProvider};
use crate::transport::{DynTransport, Transport, TransportResult};

pub(crate) const DEFAULT_USER_AGENT: &str = concat!("ews-async/", env!("CARGO_PKG_VERSION"));

/// An async EWS client: one endpoint, one identity, one connection pool.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`; clones share the pool and the
/// current bearer token. Every method's future is `Send`, so calls can be spawned.
///
/// Every protocol decision (encoding, authentication, retrying, decoding) is made by
/// [`ews_proto::driver::Call`]; this client runs its loop, sleeps with `tokio::time::sleep`
/// when told to, and keeps the [`Auth`] state in a `std` mutex that is never held across
/// an `.await`.
///
/// ```no_run
/// use ews_async::{Client, Credentials};
/// use ews_async::proto::{DelegatePermissions, DelegateUser, Permission, UserId};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
///     .credentials(Credentials::basic("user1@example.com", "Passw0rd-1"))
///     .build()?;
/// let principal = "user1@example.com".parse()?;
/// let delegate = DelegateUser::new(UserId::smtp("user2@example.com".parse()?))
///     .permissions(DelegatePermissions::new().calendar(Permission::Author));
/// let reply = client.add_delegate(&principal, delegate).await?;
/// println!("{}", reply.body[0].status);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    auth: Mutex<Auth>,
    tokens: Option<Arc<dyn DynTokenProvider>>,
    transport: Arc<dyn DynTransport>,
}

impl Client {
    /// A builder for a client of the EWS endpoint `endpoint`
    /// (`https://mail.example.com/EWS/Exchange.asmx`).
    pub fn builder(endpoint: &str) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The request context every call uses unless given another ([`Client::send_in`]).
    pub fn context(&self) -> &RequestContext {
        &self.inner.settings.ctx
    }

    /// Runs `op` in the client's context: encodes it, sends it (again, when the core's
    /// retry policy says so), decodes the answer.
    pub fn send<'a, O>(
        &'a self,
        op: &'a O,
    ) -> impl Future<Output = Result<Reply<O::Output>, Error>> + Send + 'a
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.send_in(op, &self.inner.settings.ctx)
    }

    /// Runs `op` in `ctx` (another version, impersonated user, culture or time zone; the
    /// endpoint is `ctx`'s). The client's credentials, transport and policy still apply.
    pub fn send_in<'a, O>(
        &'a self,
        op: &'a O,
        ctx: &'a RequestContext,
    ) -> impl Future<Output = Result<Reply<O::Output>, Error>> + Send + 'a
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.send_with(op, ctx, self.inner.settings.policy, None)
    }

    /// [`Client::send_in`] with another retry policy and a deadline for every exchange
    /// ([`Call::deadline`]: the sync scheduler retries itself, its requests run with
    /// [`RetryPolicy::never`](ews_proto::RetryPolicy::never) within the run's deadline).
    pub(crate) fn send_with<'a, O>(
        &'a self,
        op: &'a O,
        ctx: &'a RequestContext,
        policy: ews_proto::RetryPolicy,
        deadline: Option<std::time::Instant>,
    ) -> impl Future<Output = Result<Reply<O::Output>, Error>> + Send + 'a
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        let span = tracing::info_span!(
            "ews",
            operation = O::NAME,
            mailbox = Empty,
            status = Empty,
            request_id = Empty,
            server_version = Empty,
            attempt = Empty,
        );
        self.inner.drive(op, ctx, policy, deadline).instrument(span)
    }

    ews_proto::client_operation_methods!(async);
}

impl Inner {
    /// The driver loop: the core decides, this moves bytes and sleeps.
    async fn drive<O>(
        &self,
        op: &O,
        ctx: &RequestContext,
        policy: ews_proto::RetryPolicy,
        deadline: Option<std::time::Instant>,
    ) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        let mut call = Call::configured(op, ctx, &self.settings)
            .policy(policy)
            .deadline(deadline);
        loop {
            let step = call.poll(&mut self.auth(), now());
            match step {
                // The connection the core asked for travels in the request's extensions.
                Step::Send {
                    request, deadline, ..
                } => {
                    tracing::Span::current().record("attempt", call.attempts());
                    let outcome = self.exchange(request, deadline).await;
                    call.handle(outcome, &mut self.auth(), now());
                }
                Step::FetchToken { refresh } => {
                    let fetched = self.fetch_token(refresh).await;
                    call.token_fetched(&mut self.auth(), fetched);
                }
                Step::Sleep { until } => {
                    tracing::debug!(until = ?until, "retrying after a delay");
                    tokio::time::sleep_until(until.into()).await;
                }
                Step::Done(result) => {
                    record_outcome(&result);
                    return result;
                }
            }
        }
    }

    /// One HTTP exchange through the transport, over by `deadline`, traced.
    async fn exchange(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<std::time::Instant>,
    ) -> TransportResult {
        let span = tracing::Span::current();
        if let Some(mailbox) = request
            .headers()
            .get(X_ANCHOR_MAILBOX)
            .and_then(|v| v.to_str().ok())
        {
            span.record("mailbox", mailbox);
        }
        // Bodies only: headers (Authorization) are never logged.
        tracing::trace!(
            target: "ews::soap",
            body = %ews_proto::driver::LogText(request.body()),
            ">>> request"
        );
        let sending = self.transport.send_boxed(request);
        // The backstop for any transport; the built-in one applies the same deadline
        // itself to tell a connect from a sent request (and `timeout_at` polls it first).
        let outcome = match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), sending)
                .await
                .unwrap_or_else(|_| {
                    Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        "no complete answer by the deadline",
                    ))
                }),
            None => sending.await,
        };
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
                tracing::debug!(status = response.status().as_u16(), "answer");
                tracing::trace!(
                    target: "ews::soap",
                    body = %ews_proto::driver::LogText(response.body()),
                    "<<< response"
                );
            }
            Err(e) => tracing::debug!(kind = ?e.kind(), error = %e, "transport error"),
        }
        outcome
    }

    async fn fetch_token(&self, refresh: bool) -> Result<ews_proto::Secret<String>, BoxError> {
        tracing::debug!(refresh, "fetching a bearer token");
        match &self.tokens {
            Some(provider) => provider.token_boxed(refresh).await,
            None => Err("Bearer credentials need a token provider".into()),
        }
    }

    fn auth(&self) -> MutexGuard<'_, Auth> {
        // Auth is a plain value that is never left half-updated: a panic elsewhere while
        // holding the lock does not invalidate it.
        self.auth.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The core's notion of now, on tokio's clock (so paused-time tests see their sleeps).
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

fn record_outcome<T>(result: &Result<Reply<T>, Error>) {
    let span = tracing::Span::current();
    match result {
        Ok(reply) => {
            if let Some(v) = &reply.server_version {
                // Formatted only if a subscriber records the field.
                span.record("server_version", tracing::field::display(v));
            }
            tracing::debug!("done");
        }
        Err(e) => tracing::debug!(error = %e, "failed"),
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Auth's Debug shows the user name, never a password or token.
        f.debug_struct("Client")
            .field("auth", &*self.inner.auth())
            .field("token_provider", &self.inner.tokens.is_some())
            .field("transport", &self.inner.transport.name())
            .field("settings", &self.inner.settings)
            .finish()
    }
}

/// Configures a [`Client`]. Start with [`Client::builder`].
///
/// The settings, their meaning, defaults and validation are the core's
/// ([`ClientConfig`](ews_proto::driver::ClientConfig), shared with `ews-blocking`; the table is in its module docs); this
/// builder adds the async transport (default: the built-in
/// [`HyperTransport`](crate::HyperTransport)) and token provider.
///
/// ```
/// use std::time::Duration;
/// use ews_async::{Client, Credentials};
/// use ews_async::proto::{ExchangeVersion, RetryPolicy};
///
/// let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
///     .credentials(Credentials::basic("user2@example.com", "Passw0rd-2"))
///     .version(ExchangeVersion::Exchange2013_SP1)
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default().max_attempts(3))
///     .build()?;
/// assert!(!format!("{client:?}").contains("Passw0rd-2"));
/// # Ok::<(), ews_async::Error>(())
/// ```
pub struct ClientBuilder {
    parts: BuilderParts<dyn DynTransport, dyn DynTokenProvider>,
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
    /// [`Error::Usage`] for any misconfiguration
    /// [`ClientConfig::validate`](ews_proto::driver::ClientConfig::validate) finds (an invalid
    /// endpoint, credentials over `http://` to a host that is not a loopback address,
    /// `Bearer` credentials without a token provider, a `User-Agent` that cannot be a
    /// header value, an `https` endpoint without the `rustls` feature, no transport
    /// without the `hyper` feature).
    pub fn build(self) -> Result<Client, Error> {
        let (mut settings, tokens, transport) = self.parts.validate(BUILTIN)?;
        settings
            .auth
            .default_handshake_source(|| Arc::new(crate::transport::OsHandshakeSource));
        let transport = transport.map_or_else(|| default_transport(&settings), Ok)?;
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
    transport: cfg!(feature = "hyper"),
    tls: cfg!(feature = "rustls"),
};

#[cfg(feature = "hyper")]
pub(crate) fn default_transport(settings: &Settings) -> Result<Arc<dyn DynTransport>, Error> {
    Ok(Arc::new(crate::HyperTransport::with_settings(settings)?))
}

#[cfg(not(feature = "hyper"))]
pub(crate) fn default_transport(_: &Settings) -> Result<Arc<dyn DynTransport>, Error> {
    // `validate` already refused this configuration; kept as an error, not a panic.
    Err(UsageError::InvalidValue {
        kind: "transport",
        reason: "no built-in transport without the `hyper` feature: pass one to `transport`",
    }
    .into())
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config's Debug shows the endpoint as the core read it (never user info)
        // and the user name, never a password.
        fmt::Debug::fmt(&self.parts, f)
    }
}
