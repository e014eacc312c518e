//! [`Client`], its [`ClientBuilder`], and the [`TokenProvider`] it asks for bearer tokens.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ews_proto::{
    AddDelegate, Auth, Call, CreateItem, Credentials, DelegateUser, DeleteItem, DeleteType,
    EmailAddress, Error, ExchangeVersion, FindItem, FolderId, GetDelegate, GetItem, Impersonation,
    ItemId, Limits, MailboxCulture, NewCalendarItem, Operation, RemoveDelegate, Reply,
    RequestContext, RetryPolicy, Secret, SendMeetingCancellations, Step, TimeZoneId,
    UpdateDelegate, UsageError, UserId,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::trace;
use crate::transport::Transport;

/// The error type a [`TokenProvider`] returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a client with [`Credentials::Bearer`] gets its OAuth2 tokens.
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

/// The default for [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default for [`ClientBuilder::timeout`]: 100 s, as the EWS Managed API.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(100);

/// Configures a [`Client`]. Made by [`Client::builder`].
///
/// Every setting has a default; only the endpoint is required. Errors (a bad endpoint, a
/// bad certificate) surface in [`ClientBuilder::build`] or in the method that got the bad
/// input.
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    ctx: Result<RequestContext, UsageError>,
    credentials: Credentials,
    tokens: Option<Arc<dyn TokenProvider>>,
    user_agent: String,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    max_body_bytes: usize,
    limits: Limits,
    policy: RetryPolicy,
    roots: Vec<CertificateDer<'static>>,
    accept_invalid_certs: bool,
    allow_http_credentials: bool,
    #[cfg(feature = "fault-injection")]
    fail_reads: Option<std::io::ErrorKind>,
    transport: Option<Arc<dyn Transport>>,
}

impl ClientBuilder {
    fn new(endpoint: &str) -> Self {
        Self {
            ctx: RequestContext::new(endpoint),
            credentials: Credentials::None,
            tokens: None,
            user_agent: concat!("ews-blocking/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            timeout: Some(DEFAULT_TIMEOUT),
            max_body_bytes: Limits::default().max_body_bytes,
            limits: Limits::default(),
            policy: RetryPolicy::default(),
            roots: Vec::new(),
            accept_invalid_certs: false,
            allow_http_credentials: false,
            #[cfg(feature = "fault-injection")]
            fail_reads: None,
            transport: None,
        }
    }

    /// How to authenticate. Default: [`Credentials::None`].
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Authenticates with OAuth2 bearer tokens from `provider` (sets
    /// [`Credentials::Bearer`]).
    pub fn token_provider(mut self, provider: impl TokenProvider) -> Self {
        self.credentials = Credentials::Bearer;
        self.tokens = Some(Arc::new(provider));
        self
    }

    /// The Exchange version requested in `RequestServerVersion`. Default: the core's
    /// (see [`RequestContext::server_version`]).
    pub fn version(mut self, version: ExchangeVersion) -> Self {
        self.ctx = self.ctx.map(|c| c.version(version));
        self
    }

    /// Acts as another user (`ExchangeImpersonation`); the service account needs the
    /// ApplicationImpersonation role.
    pub fn impersonate(mut self, who: Impersonation) -> Self {
        self.ctx = self.ctx.map(|c| c.impersonate(who));
        self
    }

    /// The `MailboxCulture` header.
    pub fn culture(mut self, culture: MailboxCulture) -> Self {
        self.ctx = self.ctx.map(|c| c.culture(culture));
        self
    }

    /// The `TimeZoneContext` header (sent with the operations the WSDL binds it to).
    pub fn time_zone(mut self, tz: TimeZoneId) -> Self {
        self.ctx = self.ctx.map(|c| c.time_zone(tz));
        self
    }

    /// The `User-Agent` header. Default: `ews-blocking/VERSION`. A value that cannot be a
    /// header value (CR, LF, other control characters) is refused by [`build`](Self::build).
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        user_agent.clone_into(&mut self.user_agent);
        self
    }

    /// Most time to set up a connection (DNS, TCP, TLS). Default:
    /// [`DEFAULT_CONNECT_TIMEOUT`]. A timeout here is reported as
    /// [`TransportErrorKind::Connect`](ews_proto::TransportErrorKind::Connect): nothing
    /// was sent.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Most time for each phase of one HTTP exchange after connecting: sending the
    /// request, waiting for the head of the answer, reading its body (so at most three
    /// times this in all). Default: [`DEFAULT_TIMEOUT`]. Retries each get their own.
    ///
    /// Per phase rather than one deadline for the whole exchange because ureq's
    /// whole-call deadline re-arms the socket timeout on every read, which cost about
    /// 1 ms per 100 KB answer on loopback (see BENCHMARKS.md), ten times the transfer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Largest answer body the transport reads; a bigger one is
    /// [`TransportErrorKind::BodyTooLarge`](ews_proto::TransportErrorKind::BodyTooLarge).
    /// Default: [`Limits::default`]'s `max_body_bytes` (64 MiB).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The decoding limits (body size, depth, item count) the core applies.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The retry policy. Default: [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Trusts the CA certificate(s) in `pem` (an internal CA of an on-premises server).
    ///
    /// The added roots are trusted in addition to Mozilla's (WebPKI) roots.
    ///
    /// # Errors
    /// [`Error::Usage`] when `pem` holds no certificate or a malformed one.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let bad = |_| UsageError::InvalidValue {
            kind: "root certificate",
            reason: "not a PEM certificate",
        };
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        if certs.is_empty() {
            return Err(UsageError::InvalidValue {
                kind: "root certificate",
                reason: "no CERTIFICATE section in the PEM",
            }
            .into());
        }
        self.roots.extend(certs);
        Ok(self)
    }

    /// **Dangerous**: accepts any server certificate (expired, self-signed, for another
    /// name). Anyone on the path can then read the credentials. For throw-away test
    /// servers only. Default: `false`.
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

    /// Uses `transport` instead of the built-in one; the TLS, timeout and body-size
    /// settings then belong to that transport.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The client.
    ///
    /// # Errors
    /// [`Error::Usage`] for an endpoint that is not an absolute `http(s)` URL,
    /// credentials over `http://` to a host that is not a loopback address, `Bearer`
    /// credentials without a [`TokenProvider`], a `User-Agent` that cannot be a header
    /// value, or no transport (the `ureq` feature is off and none was set).
    pub fn build(self) -> Result<Client, Error> {
        if self.credentials == Credentials::Bearer && self.tokens.is_none() {
            return Err(UsageError::InvalidValue {
                kind: "credentials",
                reason: "Bearer credentials need a token_provider",
            }
            .into());
        }
        if http::HeaderValue::from_str(&self.user_agent).is_err() {
            return Err(UsageError::InvalidValue {
                kind: "User-Agent",
                reason: "not a valid header value (control characters such as CR or LF)",
            }
            .into());
        }
        let ctx = self.ctx.clone()?;
        let auth = Auth::new(self.credentials.clone())
            .allow_credentials_over_http(self.allow_http_credentials);
        auth.check_endpoint(ctx.endpoint())?;
        let transport = match self.transport.clone() {
            Some(t) => t,
            None => default_transport(&self)?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                ctx,
                auth: Mutex::new(auth),
                tokens: self.tokens.unwrap_or_else(|| Arc::new(NoTokenProvider)),
                transport,
                policy: self.policy,
                limits: self.limits,
            }),
        })
    }
}

#[cfg(feature = "ureq")]
fn default_transport(b: &ClientBuilder) -> Result<Arc<dyn Transport>, Error> {
    let settings = crate::ureq_transport::UreqSettings {
        user_agent: b.user_agent.clone(),
        connect_timeout: b.connect_timeout,
        timeout: b.timeout,
        max_body_bytes: b.max_body_bytes,
        roots: b.roots.clone(),
        accept_invalid_certs: b.accept_invalid_certs,
        #[cfg(feature = "fault-injection")]
        fail_reads: b.fail_reads,
        #[cfg(not(feature = "fault-injection"))]
        fail_reads: None,
    };
    Ok(Arc::new(crate::UreqTransport::new(&settings)))
}

#[cfg(not(feature = "ureq"))]
fn default_transport(_: &ClientBuilder) -> Result<Arc<dyn Transport>, Error> {
    Err(UsageError::InvalidValue {
        kind: "transport",
        reason: "no transport: enable the `ureq` feature or call `transport`",
    }
    .into())
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("context", &self.ctx)
            .field("credentials", &self.credentials)
            .field("token_provider", &self.tokens.as_ref().map(|_| ".."))
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("limits", &self.limits)
            .field("retry_policy", &self.policy)
            .field("extra_roots", &self.roots.len())
            .field("danger_accept_invalid_certs", &self.accept_invalid_certs)
            .field(
                "danger_allow_credentials_over_http",
                &self.allow_http_credentials,
            )
            .field("transport", &self.transport.as_ref().map(|t| t.name()))
            .finish()
    }
}

/// A blocking EWS client: one endpoint, one identity, one connection pool.
///
/// Cheap to clone (clones share the pool, the current bearer token and the settings) and
/// usable from many threads at once. Every method runs one operation to its end through
/// [`ews_proto::Call`], which makes every decision (authentication, retries, delays); the
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
    ctx: RequestContext,
    auth: Mutex<Auth>,
    tokens: Arc<dyn TokenProvider>,
    transport: Arc<dyn Transport>,
    policy: RetryPolicy,
    limits: Limits,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("context", &self.inner.ctx)
            .field("auth", &*self.auth())
            .field("transport", &self.inner.transport.name())
            .field("retry_policy", &self.inner.policy)
            .field("limits", &self.inner.limits)
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
        &self.inner.ctx
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
        self.send_in(op, &self.inner.ctx)
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
        let span = trace::span(O::NAME);
        let _entered = span.enter();
        let inner = &*self.inner;
        let mut call = Call::new(op, ctx).policy(inner.policy).limits(inner.limits);
        // The whole driver loop: every decision is the core's.
        let result = loop {
            let step = call.poll(&self.auth(), Instant::now());
            match step {
                Step::Send(request) => {
                    let request = trace::request(&span, call.attempts(), request);
                    let outcome = trace::response(&span, inner.transport.send(request));
                    call.handle(outcome, &self.auth(), Instant::now());
                }
                Step::FetchToken { refresh } => {
                    let fetched = inner.tokens.token(refresh);
                    call.token_fetched(&mut self.auth(), fetched);
                }
                Step::Sleep(d) => std::thread::sleep(d),
                Step::Done(result) => break result,
            }
        };
        trace::done(&span, result)
    }

    /// Adds `delegate` to `principal`'s mailbox ([`AddDelegate`]).
    ///
    /// # Errors
    /// See [`Client::send`]; a per-user refusal (`ErrorDelegateAlreadyExists`) is in the
    /// reply.
    pub fn add_delegate(
        &self,
        principal: &EmailAddress,
        delegate: DelegateUser,
    ) -> Result<Reply<<AddDelegate as Operation>::Output>, Error> {
        self.send(&AddDelegate::new(principal.clone(), delegate))
    }

    /// Lists `principal`'s delegates with their permissions ([`GetDelegate`]).
    ///
    /// # Errors
    /// See [`Client::send`].
    pub fn get_delegates(
        &self,
        principal: &EmailAddress,
    ) -> Result<Reply<<GetDelegate as Operation>::Output>, Error> {
        self.send(&GetDelegate::new(principal.clone()))
    }

    /// Changes a delegate's permissions or options ([`UpdateDelegate`]).
    ///
    /// # Errors
    /// See [`Client::send`]; a per-user refusal (`ErrorNotDelegate`) is in the reply.
    pub fn update_delegate(
        &self,
        principal: &EmailAddress,
        delegate: DelegateUser,
    ) -> Result<Reply<<UpdateDelegate as Operation>::Output>, Error> {
        self.send(&UpdateDelegate::new(principal.clone(), delegate))
    }

    /// Removes a delegate ([`RemoveDelegate`]).
    ///
    /// # Errors
    /// See [`Client::send`]; a per-user refusal (`ErrorNotDelegate`) is in the reply.
    pub fn remove_delegate(
        &self,
        principal: &EmailAddress,
        user: UserId,
    ) -> Result<Reply<<RemoveDelegate as Operation>::Output>, Error> {
        self.send(&RemoveDelegate::new(principal.clone(), user))
    }

    /// Saves `meeting` in `principal`'s calendar and sends its invitations on the
    /// principal's behalf ([`CreateItem::on_behalf_of`]). Never repeated after an
    /// unknown outcome, so an attendee never gets the invitation twice.
    ///
    /// # Errors
    /// See [`Client::send`]; `ErrorAccessDenied` (not a delegate) is in the reply.
    pub fn send_meeting_on_behalf(
        &self,
        principal: &EmailAddress,
        meeting: NewCalendarItem,
    ) -> Result<Reply<<CreateItem as Operation>::Output>, Error> {
        self.send(&CreateItem::on_behalf_of(principal.clone(), meeting))
    }

    /// Reads one item ([`GetItem`]).
    ///
    /// # Errors
    /// See [`Client::send`].
    pub fn get_item(&self, id: ItemId) -> Result<Reply<<GetItem as Operation>::Output>, Error> {
        self.send(&GetItem::new(id))
    }

    /// Lists the first page of a folder ([`FindItem`]; use [`FindItem::next_page`] with
    /// [`Client::send`] for the rest).
    ///
    /// # Errors
    /// See [`Client::send`].
    pub fn find_items(
        &self,
        folder: FolderId,
    ) -> Result<Reply<<FindItem as Operation>::Output>, Error> {
        self.send(&FindItem::new(folder))
    }

    /// Moves an item to Deleted Items; for a meeting, `cancellations` says whether the
    /// attendees are told ([`DeleteItem`]).
    ///
    /// # Errors
    /// See [`Client::send`].
    pub fn delete_item(
        &self,
        id: ItemId,
        cancellations: SendMeetingCancellations,
    ) -> Result<Reply<<DeleteItem as Operation>::Output>, Error> {
        self.send(&DeleteItem::new(id, DeleteType::MoveToDeletedItems).cancellations(cancellations))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use bytes::Bytes;
    use ews_proto::{ServerError, TransportError};

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
        client.get_delegates(&principal()).unwrap();
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
        client.get_delegates(&principal()).unwrap();
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
        let e = client.get_delegates(&principal()).unwrap_err();
        assert!(matches!(e, Error::TokenProvider(_)), "{e}");
        let unauthorized = Client::builder(URL)
            .transport(FnTransport::new(|_| answer(401)))
            .build()
            .unwrap()
            .get_delegates(&principal())
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
