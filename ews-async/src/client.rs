//! [`Client`], its [`ClientBuilder`], and the driver loop.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use ews_proto::{
    AddDelegate, Auth, Call, CreateItem, Credentials, DelegateUser, DeleteItem, DeleteType,
    EmailAddress, Error, ExchangeVersion, FindItem, FolderId, GetDelegate, GetItem, Impersonation,
    ItemId, Limits, MailboxCulture, NewCalendarItem, Operation, RemoveDelegate, Reply,
    RequestContext, RetryPolicy, SendMeetingCancellations, Step, TimeZoneId, TransportError,
    TransportErrorKind, UpdateDelegate, UsageError, UserId, X_ANCHOR_MAILBOX,
};
use http::HeaderValue;
use http::header::USER_AGENT;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::token::{BoxError, DynTokenProvider, TokenProvider};
use crate::transport::{DynTransport, Transport, TransportResult};

/// The default overall timeout of one request (that of the EWS Managed API).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(100);
/// The default connect timeout of the built-in transport.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

const DEFAULT_USER_AGENT: &str = concat!("ews-async/", env!("CARGO_PKG_VERSION"));

/// An async EWS client: one endpoint, one identity, one connection pool.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`; clones share the pool and the
/// current bearer token. Every method's future is `Send`, so calls can be spawned.
///
/// Every protocol decision (encoding, authentication, retrying, decoding) is made by
/// [`ews_proto::Call`]; this client runs its loop, sleeps with `tokio::time::sleep`
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
    ctx: RequestContext,
    auth: Mutex<Auth>,
    tokens: Option<Arc<dyn DynTokenProvider>>,
    transport: Arc<dyn DynTransport>,
    policy: RetryPolicy,
    limits: Limits,
    timeout: Option<Duration>,
    user_agent: HeaderValue,
}

impl Client {
    /// A builder for a client of the EWS endpoint `endpoint`
    /// (`https://mail.example.com/EWS/Exchange.asmx`).
    pub fn builder(endpoint: &str) -> ClientBuilder {
        ClientBuilder::new(endpoint)
    }

    /// The request context every call uses unless given another ([`Client::send_in`]).
    pub fn context(&self) -> &RequestContext {
        &self.inner.ctx
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
        self.send_in(op, &self.inner.ctx)
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
        let span = tracing::info_span!(
            "ews",
            operation = O::NAME,
            mailbox = Empty,
            status = Empty,
            request_id = Empty,
            server_version = Empty,
            attempt = Empty,
        );
        self.inner.drive(op, ctx).instrument(span)
    }

    /// AddDelegate: gives `delegate` access to `principal`'s folders.
    pub async fn add_delegate(
        &self,
        principal: &EmailAddress,
        delegate: DelegateUser,
    ) -> Result<Reply<<AddDelegate as Operation>::Output>, Error> {
        self.send(&AddDelegate::new(principal.clone(), delegate))
            .await
    }

    /// GetDelegate: all of `principal`'s delegates, with their permissions.
    pub async fn get_delegates(
        &self,
        principal: &EmailAddress,
    ) -> Result<Reply<<GetDelegate as Operation>::Output>, Error> {
        self.send(&GetDelegate::new(principal.clone())).await
    }

    /// UpdateDelegate: replaces the settings of an existing delegate of `principal`.
    pub async fn update_delegate(
        &self,
        principal: &EmailAddress,
        delegate: DelegateUser,
    ) -> Result<Reply<<UpdateDelegate as Operation>::Output>, Error> {
        self.send(&UpdateDelegate::new(principal.clone(), delegate))
            .await
    }

    /// RemoveDelegate: takes `user`'s delegate access to `principal`'s mailbox away.
    pub async fn remove_delegate(
        &self,
        principal: &EmailAddress,
        user: UserId,
    ) -> Result<Reply<<RemoveDelegate as Operation>::Output>, Error> {
        self.send(&RemoveDelegate::new(principal.clone(), user))
            .await
    }

    /// CreateItem into `principal`'s calendar, sending the invitations: the meeting a
    /// delegate sends on behalf of the principal (attendees see From principal,
    /// Sender delegate). Never repeated after an unknown outcome.
    pub async fn send_meeting_on_behalf(
        &self,
        principal: &EmailAddress,
        meeting: NewCalendarItem,
    ) -> Result<Reply<<CreateItem as Operation>::Output>, Error> {
        self.send(&CreateItem::on_behalf_of(principal.clone(), meeting))
            .await
    }

    /// GetItem with all properties.
    pub async fn get_item(
        &self,
        id: ItemId,
    ) -> Result<Reply<<GetItem as Operation>::Output>, Error> {
        self.send(&GetItem::new(id)).await
    }

    /// FindItem: the first page of `folder`'s items.
    pub async fn find_items(
        &self,
        folder: FolderId,
    ) -> Result<Reply<<FindItem as Operation>::Output>, Error> {
        self.send(&FindItem::new(folder)).await
    }

    /// DeleteItem, moving the item to Deleted Items; for a meeting, `cancellations` says
    /// whether the attendees are told.
    pub async fn delete_item(
        &self,
        id: ItemId,
        cancellations: SendMeetingCancellations,
    ) -> Result<Reply<<DeleteItem as Operation>::Output>, Error> {
        let op = DeleteItem::new(id, DeleteType::MoveToDeletedItems).cancellations(cancellations);
        self.send(&op).await
    }
}

impl Inner {
    /// The driver loop: the core decides, this moves bytes and sleeps.
    async fn drive<O>(&self, op: &O, ctx: &RequestContext) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        let mut call = Call::new(op, ctx).policy(self.policy).limits(self.limits);
        loop {
            let step = call.poll(&self.auth(), now());
            match step {
                Step::Send(request) => {
                    tracing::Span::current().record("attempt", call.attempts());
                    let outcome = self.exchange(request).await;
                    call.handle(outcome, &self.auth(), now());
                }
                Step::FetchToken { refresh } => {
                    let fetched = self.fetch_token(refresh).await;
                    call.token_fetched(&mut self.auth(), fetched);
                }
                Step::Sleep(d) => {
                    tracing::debug!(delay = ?d, "retrying after a delay");
                    tokio::time::sleep(d).await;
                }
                Step::Done(result) => {
                    record_outcome(&result);
                    return result;
                }
            }
        }
    }

    /// One HTTP exchange through the transport, under the overall timeout, traced.
    async fn exchange(&self, mut request: http::Request<Bytes>) -> TransportResult {
        let span = tracing::Span::current();
        if let Some(mailbox) = request
            .headers()
            .get(X_ANCHOR_MAILBOX)
            .and_then(|v| v.to_str().ok())
        {
            span.record("mailbox", mailbox);
        }
        request
            .headers_mut()
            .entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        // Bodies only: headers (Authorization) are never logged.
        tracing::trace!(
            target: "ews::soap",
            body = %ews_proto::LogText(request.body()),
            ">>> request"
        );
        let sending = self.transport.send_boxed(request);
        let outcome = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, sending)
                .await
                .unwrap_or_else(|_| {
                    Err(TransportError::new(
                        TransportErrorKind::Timeout,
                        format!("no complete answer within {limit:?}"),
                    ))
                }),
            None => sending.await,
        };
        match &outcome {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                if let Some(id) = response.headers().get("request-id") {
                    // Server text: bounded and escaped.
                    span.record("request_id", ews_proto::Excerpt::of(id.as_bytes()).as_str());
                }
                tracing::debug!(status = response.status().as_u16(), "answer");
                tracing::trace!(
                    target: "ews::soap",
                    body = %ews_proto::LogText(response.body()),
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
            .field("endpoint", &self.inner.ctx.endpoint().to_string())
            .field("context", &self.inner.ctx)
            .field("auth", &*self.inner.auth())
            .field("token_provider", &self.inner.tokens.is_some())
            .field("transport", &self.inner.transport.name())
            .field("policy", &self.inner.policy)
            .field("limits", &self.inner.limits)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// Configures a [`Client`]. Start with [`Client::builder`].
///
/// Defaults: no credentials, [`ExchangeVersion`] as [`RequestContext`] chooses, the
/// built-in [`HyperTransport`](crate::HyperTransport) with certificate verification on,
/// [`DEFAULT_CONNECT_TIMEOUT`], [`DEFAULT_TIMEOUT`] per request, the core's default
/// [`Limits`] (which also cap the body the transport reads) and [`RetryPolicy`].
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
    endpoint: String,
    credentials: Credentials,
    tokens: Option<Arc<dyn DynTokenProvider>>,
    version: Option<ExchangeVersion>,
    impersonation: Option<Impersonation>,
    culture: Option<MailboxCulture>,
    time_zone: Option<TimeZoneId>,
    user_agent: String,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    limits: Limits,
    policy: RetryPolicy,
    roots: Vec<CertificateDer<'static>>,
    accept_invalid_certs: bool,
    allow_http_credentials: bool,
    fail_reads: Option<std::io::ErrorKind>,
    transport: Option<Arc<dyn DynTransport>>,
}

impl ClientBuilder {
    fn new(endpoint: &str) -> Self {
        ClientBuilder {
            endpoint: endpoint.to_owned(),
            credentials: Credentials::None,
            tokens: None,
            version: None,
            impersonation: None,
            culture: None,
            time_zone: None,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            timeout: Some(DEFAULT_TIMEOUT),
            limits: Limits::default(),
            policy: RetryPolicy::default(),
            roots: Vec::new(),
            accept_invalid_certs: false,
            allow_http_credentials: false,
            fail_reads: None,
            transport: None,
        }
    }

    /// How the client authenticates. For OAuth2 use [`ClientBuilder::token_provider`]
    /// (which sets [`Credentials::Bearer`]).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Bearer authentication with tokens from `provider` (asked before the first request
    /// and once more after a 401; see [`TokenProvider`]).
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Credentials::Bearer;
        self.tokens = Some(Arc::new(provider));
        self
    }

    /// The `RequestServerVersion` to send.
    pub fn version(mut self, version: ExchangeVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// Acts as another user (`ExchangeImpersonation`), for a service account that holds
    /// the ApplicationImpersonation role.
    pub fn impersonate(mut self, who: Impersonation) -> Self {
        self.impersonation = Some(who);
        self
    }

    /// The `MailboxCulture` header (language of server-generated text).
    pub fn culture(mut self, culture: MailboxCulture) -> Self {
        self.culture = Some(culture);
        self
    }

    /// The `TimeZoneContext` header, sent with the operations that take it.
    pub fn time_zone(mut self, tz: TimeZoneId) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// The `User-Agent` header (default `ews-async/VERSION`).
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        user_agent.clone_into(&mut self.user_agent);
        self
    }

    /// How long the built-in transport waits for a TCP connection. A connect timeout is
    /// a `Connect` error: nothing was sent, so even a meeting invitation is retried.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The longest one request may take, from sending to the last byte of the answer
    /// (retries each get their own). Applies to every transport. Passing it is a
    /// `Timeout` error, after which the request may have been processed.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest answer body read (default
    /// `ews_proto::Limits::default().max_body_bytes`); a larger one is a `BodyTooLarge`
    /// error. Same value as [`Limits::max_body_bytes`].
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.limits = self.limits.max_body_bytes(n);
        self
    }

    /// The decoder's limits (depth, item count, body size).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// When to retry (see [`RetryPolicy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Trusts the CA certificate(s) in `pem` besides the default roots (for an on-premises
    /// CA). Fails when `pem` holds no certificate.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let invalid = |reason| UsageError::InvalidValue {
            kind: "root certificate PEM",
            reason,
        };
        let mut found = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            self.roots.push(cert.map_err(|_| invalid("not valid PEM"))?);
            found += 1;
        }
        if found == 0 {
            return Err(invalid("no CERTIFICATE block").into());
        }
        Ok(self)
    }

    /// Accepts any server certificate, for any host name. **Dangerous**: anyone on the
    /// path can read the password or token. For tests against self-signed servers only;
    /// prefer [`ClientBuilder::add_root_certificate_pem`].
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// **Dangerous**: sends the credentials over plain `http://` to a host that is not a
    /// loopback address (see [`Auth::allow_credentials_over_http`]). Default: `false`:
    /// such an endpoint with credentials is a [`UsageError`] at [`build`](Self::build).
    pub fn danger_allow_credentials_over_http(mut self, allow: bool) -> Self {
        self.allow_http_credentials = allow;
        self
    }

    /// Fault injection (feature `fault-injection`, for tests): every connection of the
    /// built-in transport fails its first read after a request was sent, with `kind`,
    /// once the server's answer has begun to arrive (so the server has processed the
    /// request). Shows how a call copes with an unknown outcome.
    #[cfg(feature = "fault-injection")]
    pub fn fail_reads_after_sending(mut self, kind: std::io::ErrorKind) -> Self {
        self.fail_reads = Some(kind);
        self
    }

    /// Replaces the built-in transport (the TLS and connect-timeout settings then do
    /// not apply; the overall timeout does).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The client. Fails for an invalid endpoint, `Bearer` credentials without a token
    /// provider, an `https` endpoint without the `rustls` feature, or no transport
    /// without the `hyper` feature.
    pub fn build(self) -> Result<Client, Error> {
        let mut ctx = RequestContext::new(&self.endpoint)?;
        if let Some(v) = self.version {
            ctx = ctx.version(v);
        }
        if let Some(i) = self.impersonation {
            ctx = ctx.impersonate(i);
        }
        if let Some(c) = self.culture {
            ctx = ctx.culture(c);
        }
        if let Some(tz) = self.time_zone {
            ctx = ctx.time_zone(tz);
        }
        if matches!(self.credentials, Credentials::Bearer) && self.tokens.is_none() {
            return Err(UsageError::InvalidValue {
                kind: "credentials",
                reason: "Bearer credentials need a token provider",
            }
            .into());
        }
        let user_agent =
            HeaderValue::from_str(&self.user_agent).map_err(|_| UsageError::InvalidValue {
                kind: "User-Agent",
                reason: "not a valid header value",
            })?;
        let auth =
            Auth::new(self.credentials).allow_credentials_over_http(self.allow_http_credentials);
        auth.check_endpoint(ctx.endpoint())?;
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport(
                &ctx,
                &self.roots,
                self.accept_invalid_certs,
                self.connect_timeout,
                self.limits.max_body_bytes,
                self.fail_reads,
            )?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                ctx,
                auth: Mutex::new(auth),
                tokens: self.tokens,
                transport,
                policy: self.policy,
                limits: self.limits,
                timeout: self.timeout,
                user_agent,
            }),
        })
    }
}

#[cfg(feature = "hyper")]
fn default_transport(
    ctx: &RequestContext,
    roots: &[CertificateDer<'static>],
    accept_invalid_certs: bool,
    connect_timeout: Option<Duration>,
    max_body_bytes: usize,
    fail_reads: Option<std::io::ErrorKind>,
) -> Result<Arc<dyn DynTransport>, Error> {
    if !cfg!(feature = "rustls") && ctx.endpoint().scheme_str() == Some("https") {
        return Err(UsageError::InvalidValue {
            kind: "endpoint",
            reason: "https needs the `rustls` feature of ews-async",
        }
        .into());
    }
    let transport = crate::HyperTransport::with_options(crate::hyper_transport::HyperOptions {
        connect_timeout,
        max_body_bytes,
        roots: roots.to_vec(),
        accept_invalid_certs,
        fail_reads,
    })?;
    Ok(Arc::new(transport))
}

#[cfg(not(feature = "hyper"))]
fn default_transport(
    _ctx: &RequestContext,
    _roots: &[CertificateDer<'static>],
    _accept_invalid_certs: bool,
    _connect_timeout: Option<Duration>,
    _max_body_bytes: usize,
    _fail_reads: Option<std::io::ErrorKind>,
) -> Result<Arc<dyn DynTransport>, Error> {
    Err(UsageError::InvalidValue {
        kind: "transport",
        reason: "no built-in transport without the `hyper` feature: pass one to `transport`",
    }
    .into())
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials' Debug shows the user name, never the password.
        // The endpoint as the core reads it: one holding user info (a password) is
        // refused, and the refusal does not echo it.
        let endpoint = RequestContext::new(&self.endpoint).map(|c| c.endpoint().to_string());
        f.debug_struct("ClientBuilder")
            .field("endpoint", &endpoint)
            .field("credentials", &self.credentials)
            .field("token_provider", &self.tokens.is_some())
            .field("version", &self.version)
            .field("impersonation", &self.impersonation)
            .field("culture", &self.culture)
            .field("time_zone", &self.time_zone)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .field("policy", &self.policy)
            .field("extra_roots", &self.roots.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field(
                "danger_allow_credentials_over_http",
                &self.allow_http_credentials,
            )
            .field("transport", &self.transport.as_ref().map(|t| t.name()))
            .finish()
    }
}
