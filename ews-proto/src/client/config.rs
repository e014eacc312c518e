//! [`ClientConfig`]: every setting of a client, its one meaning and its validation, for
//! both drivers.
//!
//! `ews-blocking` and `ews-async` each have a `ClientBuilder` that holds a `ClientConfig`
//! (its setters are generated from [`client_builder_setters!`](crate::client_builder_setters),
//! so they are written, documented and validated once, here) plus what only that face has:
//! its transport and its token provider. `build()` calls [`ClientConfig::validate`],
//! which turns every misconfiguration into a [`UsageError`] and yields the [`Settings`]
//! the driver runs with. The core then applies them to each call
//! ([`Call::configured`](crate::driver::Call::configured)): the User-Agent goes on every request
//! (so a custom transport sends it too), the timeout becomes the deadline carried with
//! each [`Step::Send`](crate::driver::Step::Send), the body cap is `Limits::max_body_bytes`.

use std::fmt;
use std::time::Duration;

use http::HeaderValue;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use crate::client::connection::{HandshakeSource, SourceHandle};
use crate::client::{Auth, Credentials, Proxy, ProxySetting, Resolve, RetryPolicy};
use crate::error::UsageError;
use crate::soap::{ExchangeVersion, Impersonation, MailboxCulture, RequestContext};
use crate::types::TimeZoneId;
use crate::xml::Limits;

/// The default [`ClientConfig::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ClientConfig::timeout`]: 100 s, as the EWS Managed API.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(100);

/// Every setting of a client, as a driver's builder collects them, with its one meaning
/// (the same in `ews-blocking` and `ews-async`):
///
/// | setting | meaning | default |
/// | --- | --- | --- |
/// | endpoint | the EWS URL; absolute `http(s)`, no user info | (required) |
/// | `credentials` / `token_provider` | Basic, NTLM / Negotiate (`Credentials::ntlm`), or Bearer with tokens from the provider | none |
/// | `ntlm_up_front` | NTLM: NEGOTIATE with the first request of a new connection, without waiting for a 401 | off |
/// | `version` | `RequestServerVersion` | [`ExchangeVersion::default`] |
/// | `impersonate`, `culture`, `time_zone` | the SOAP headers of the same names | none |
/// | `user_agent` | the `User-Agent` of every request | `ews-blocking/V`, `ews-async/V` |
/// | `connect_timeout` | most time for DNS + TCP + TLS of a new connection; a failure then is `Connect` (nothing sent) | 30 s |
/// | `timeout` | a deadline for one whole exchange, from the request leaving to the last byte of the answer; each attempt has its own | 100 s |
/// | `limits`, `max_body_bytes` | the decoding limits; the transport reads at most `max_body_bytes` of an answer | [`Limits::default`] (64 MiB) |
/// | `retry_policy` | when a failed request is sent again | [`RetryPolicy::default`] |
/// | `add_root_certificate_pem` | trusts an extra CA (an internal one) | none |
/// | `trust_platform_roots` | also trusts the operating system's store | off |
/// | `danger_accept_invalid_certs` | accepts any certificate (test servers only) | off |
/// | `danger_allow_credentials_over_http` | credentials over `http://` to a non-loopback host | off |
/// | `proxy`, `proxy_from_env` | tunnel through an HTTP proxy with `CONNECT` (user info in its URL: `Proxy-Authorization: Basic`) | direct (the environment is not read) |
/// | `resolve` | connect `host:port` to a fixed address, as curl's `--resolve`; the URL's name still goes in `Host`, SNI and the certificate check ([`Resolve`]) | DNS |
///
/// ```
/// use std::time::Duration;
/// use ews_proto::Credentials;
/// use ews_proto::driver::{ClientConfig, Face};
///
/// let settings = ClientConfig::new("https://mail.example.com/EWS/Exchange.asmx", "my-app/1.0")
///     .credentials(Credentials::basic("user2@example.com", "Passw0rd-2"))
///     .timeout(Duration::from_secs(30))
///     .validate(Face { token_provider: false, tls: true, transport: true })?;
/// assert_eq!(settings.user_agent, "my-app/1.0");
/// assert_eq!(settings.timeout, Some(Duration::from_secs(30)));
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Clone)]
#[must_use = "a configuration does nothing until it is validated"]
pub struct ClientConfig {
    ctx: Result<RequestContext, UsageError>,
    credentials: Credentials,
    user_agent: String,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    limits: Limits,
    policy: RetryPolicy,
    roots: Vec<CertificateDer<'static>>,
    platform_roots: bool,
    accept_invalid_certs: bool,
    allow_http_credentials: bool,
    proxy: ProxySetting,
    resolve: Resolve,
    fail_reads: Option<std::io::ErrorKind>,
    up_front: bool,
    source: Option<SourceHandle>,
}

/// What the face that validates a [`ClientConfig`] brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Face {
    /// A bearer-token provider is set.
    pub token_provider: bool,
    /// The transport that will be used can speak TLS (a custom transport is taken to).
    pub tls: bool,
    /// There is a transport at all (a built-in one, or one the caller set).
    pub transport: bool,
}

/// What a face's built-in transport can do (by the face's features).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtin {
    /// The face has a built-in transport.
    pub transport: bool,
    /// It speaks TLS.
    pub tls: bool,
}

impl Face {
    /// A face with a token provider or not (`tokens`), using a transport of the caller's
    /// (`custom`) or its `builtin` one.
    pub fn of(tokens: bool, custom: bool, builtin: Builtin) -> Self {
        Face {
            token_provider: tokens,
            tls: custom || builtin.tls,
            transport: custom || builtin.transport,
        }
    }
}

/// A validated [`ClientConfig`]: what a driver runs with.
#[derive(Clone)]
#[non_exhaustive]
pub struct Settings {
    /// The request context of every call (endpoint, version, headers).
    pub ctx: RequestContext,
    /// The authentication state (credentials, no token yet).
    pub auth: Auth,
    /// The `User-Agent` of every request.
    pub user_agent: HeaderValue,
    /// Most time to set up a new connection.
    pub connect_timeout: Option<Duration>,
    /// The deadline of one exchange, counted from the moment it is handed out.
    pub timeout: Option<Duration>,
    /// The decoding limits; the transport reads at most `limits.max_body_bytes`.
    pub limits: Limits,
    /// The retry policy.
    pub policy: RetryPolicy,
    /// Extra trusted CA certificates.
    pub roots: Vec<CertificateDer<'static>>,
    /// Trust the operating system's certificate store too.
    pub platform_roots: bool,
    /// Accept any server certificate.
    pub accept_invalid_certs: bool,
    /// The HTTP proxy to tunnel through (`CONNECT`), if any.
    pub proxy: Option<Proxy>,
    /// Fixed addresses for host names ([`Resolve`]).
    pub resolve: Resolve,
    /// Fault injection for tests: the built-in transport's connections fail their first
    /// read after a request was sent, with this kind (a face's `fault-injection` feature).
    pub fail_reads: Option<std::io::ErrorKind>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Certificates as a count (their bytes say nothing in a log); credentials and
        // proxies by their own Debug, which hides secrets.
        f.debug_struct("ClientConfig")
            .field("context", &self.ctx)
            .field("credentials", &self.credentials)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .field("retry_policy", &self.policy)
            .field("extra_roots", &self.roots.len())
            .field("platform_roots", &self.platform_roots)
            .field("danger_accept_invalid_certs", &self.accept_invalid_certs)
            .field(
                "danger_allow_credentials_over_http",
                &self.allow_http_credentials,
            )
            .field("proxy", &self.proxy)
            .field("resolve", &self.resolve)
            .field("ntlm_up_front", &self.up_front)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("context", &self.ctx)
            .field("auth", &self.auth)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .field("retry_policy", &self.policy)
            .field("extra_roots", &self.roots.len())
            .field("platform_roots", &self.platform_roots)
            .field("danger_accept_invalid_certs", &self.accept_invalid_certs)
            .field("proxy", &self.proxy)
            .field("resolve", &self.resolve)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// The settings for `endpoint` with every default; `user_agent` is the face's default
    /// `User-Agent`.
    pub fn new(endpoint: &str, user_agent: &str) -> Self {
        Self {
            ctx: RequestContext::new(endpoint),
            credentials: Credentials::None,
            user_agent: user_agent.to_owned(),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            timeout: Some(DEFAULT_TIMEOUT),
            limits: Limits::default(),
            policy: RetryPolicy::default(),
            roots: Vec::new(),
            platform_roots: false,
            accept_invalid_certs: false,
            allow_http_credentials: false,
            proxy: ProxySetting::Direct,
            resolve: Resolve::default(),
            fail_reads: None,
            up_front: false,
            source: None,
        }
    }

    /// NTLM: send NEGOTIATE with the first request on a new connection
    /// ([`Auth::ntlm_up_front`]).
    pub fn ntlm_up_front(mut self, yes: bool) -> Self {
        self.up_front = yes;
        self
    }

    /// Where NTLM handshakes get random bytes and the time (default: the driver's, from
    /// the operating system; tests inject a fixed one).
    pub fn handshake_source(mut self, source: std::sync::Arc<dyn HandshakeSource>) -> Self {
        self.source = Some(SourceHandle(source));
        self
    }

    /// How to authenticate.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The credentials set so far.
    pub fn credentials_set(&self) -> &Credentials {
        &self.credentials
    }

    /// Edits the request context (version, impersonation, culture, time zone); a context
    /// that failed to parse stays failed.
    pub fn context(mut self, f: impl FnOnce(RequestContext) -> RequestContext) -> Self {
        self.ctx = self.ctx.map(f);
        self
    }

    /// `RequestServerVersion`.
    pub fn version(self, version: ExchangeVersion) -> Self {
        self.context(|c| c.with_version(version))
    }

    /// `ExchangeImpersonation`.
    pub fn impersonate(self, who: Impersonation) -> Self {
        self.context(|c| c.with_impersonation(who))
    }

    /// `MailboxCulture`.
    pub fn culture(self, culture: MailboxCulture) -> Self {
        self.context(|c| c.with_culture(culture))
    }

    /// `TimeZoneContext`.
    pub fn time_zone(self, tz: TimeZoneId) -> Self {
        self.context(|c| c.with_time_zone(tz))
    }

    /// The `User-Agent`.
    pub fn user_agent(mut self, user_agent: &str) -> Self {
        user_agent.clone_into(&mut self.user_agent);
        self
    }

    /// Most time to set up a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The deadline of one exchange.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The largest answer body read (`Limits::max_body_bytes`).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.limits = self.limits.max_body_bytes(n);
        self
    }

    /// The decoding limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Trusts the CA certificate(s) in `pem`.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `pem` holds no certificate or a malformed one.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, UsageError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| UsageError::invalid("root certificate", "not a PEM certificate"))?;
        if certs.is_empty() {
            return Err(UsageError::invalid(
                "root certificate",
                "no CERTIFICATE section in the PEM",
            ));
        }
        self.roots.extend(certs);
        Ok(self)
    }

    /// Also trusts the operating system's certificate store.
    pub fn trust_platform_roots(mut self, yes: bool) -> Self {
        self.platform_roots = yes;
        self
    }

    /// Accepts any server certificate.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.accept_invalid_certs = accept;
        self
    }

    /// Sends credentials over `http://` to any host.
    pub fn danger_allow_credentials_over_http(mut self, allow: bool) -> Self {
        self.allow_http_credentials = allow;
        self
    }

    /// How the endpoint is reached: direct, or through an HTTP proxy.
    pub fn proxy(mut self, proxy: ProxySetting) -> Self {
        self.proxy = proxy;
        self
    }

    /// Connects `host:port` to `addr` instead of the address DNS gives (see
    /// [`Resolve`] for the one meaning).
    pub fn resolve(mut self, host: &str, port: u16, addr: std::net::SocketAddr) -> Self {
        self.resolve.insert(host, port, addr);
        self
    }

    /// Every fixed address set so far.
    pub fn resolve_set(&self) -> &Resolve {
        &self.resolve
    }

    /// Fault injection for tests (see [`Settings::fail_reads`]).
    pub fn fail_reads_after_sending(mut self, kind: std::io::ErrorKind) -> Self {
        self.fail_reads = Some(kind);
        self
    }

    /// Checks every setting together; the one place a misconfiguration is found.
    ///
    /// # Errors
    /// [`UsageError`] for an endpoint that is not an absolute `http(s)` URL (or holds
    /// user info), credentials over `http://` to a host that is not a loopback address,
    /// `Bearer` credentials without a token provider, a `User-Agent` that cannot be a
    /// header value, an `https` endpoint without TLS, or no transport.
    pub fn validate(&self, face: Face) -> Result<Settings, UsageError> {
        let ctx = self.ctx.clone()?;
        if matches!(self.credentials, Credentials::Bearer) && !face.token_provider {
            return Err(UsageError::invalid(
                "credentials",
                "Bearer credentials need a token provider",
            ));
        }
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| {
            UsageError::invalid(
                "User-Agent",
                "not a valid header value (control characters such as CR or LF)",
            )
        })?;
        let mut auth = Auth::new(self.credentials.clone())
            .allow_credentials_over_http(self.allow_http_credentials)
            .ntlm_up_front(self.up_front);
        if let Some(SourceHandle(source)) = &self.source {
            auth = auth.handshake_source(source.clone());
        }
        auth.check_credentials()?;
        auth.check_endpoint(ctx.endpoint())?;
        if !face.transport {
            return Err(UsageError::invalid(
                "transport",
                "no transport: enable the face's built-in transport feature or set one",
            ));
        }
        if !face.tls && ctx.endpoint().scheme_str() == Some("https") {
            return Err(UsageError::invalid(
                "endpoint",
                "https needs the face's `rustls` feature (or a transport that speaks TLS)",
            ));
        }
        let proxy = self.proxy.resolve(ctx.endpoint())?;
        Ok(Settings {
            proxy,
            ctx,
            auth,
            user_agent,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            limits: self.limits,
            policy: self.policy,
            roots: self.roots.clone(),
            platform_roots: self.platform_roots,
            accept_invalid_certs: self.accept_invalid_certs,
            resolve: self.resolve.clone(),
            fail_reads: self.fail_reads,
        })
    }
}

/// What a driver's `ClientBuilder` holds: the shared [`ClientConfig`] and the face's own
/// transport and token provider (`T`, `P`: the face's trait objects).
#[derive(Clone)]
pub struct BuilderParts<T: ?Sized, P: ?Sized> {
    /// The settings.
    pub config: ClientConfig,
    tokens: Option<std::sync::Arc<P>>,
    transport: Option<std::sync::Arc<T>>,
}

/// A validated [`BuilderParts`]: the settings, the token provider if any, the transport
/// if the caller set one.
pub type Validated<T, P> = (
    Settings,
    Option<std::sync::Arc<P>>,
    Option<std::sync::Arc<T>>,
);

impl<T: ?Sized, P: ?Sized> BuilderParts<T, P> {
    /// The parts for `endpoint`; `user_agent` is the face's default.
    pub fn new(endpoint: &str, user_agent: &str) -> Self {
        Self {
            config: ClientConfig::new(endpoint, user_agent),
            tokens: None,
            transport: None,
        }
    }

    /// Bearer authentication with tokens from `provider`.
    pub fn set_tokens(&mut self, provider: std::sync::Arc<P>) {
        let config = std::mem::replace(&mut self.config, ClientConfig::new("", ""));
        self.config = config.credentials(Credentials::Bearer);
        self.tokens = Some(provider);
    }

    /// The caller's transport instead of the built-in one.
    pub fn set_transport(&mut self, transport: std::sync::Arc<T>) {
        self.transport = Some(transport);
    }

    /// The name of the caller's transport, for `Debug`.
    pub fn transport(&self) -> Option<&T> {
        self.transport.as_deref()
    }

    /// Validates everything for a face whose built-in transport can do `builtin`.
    ///
    /// # Errors
    /// As [`ClientConfig::validate`].
    pub fn validate(self, builtin: Builtin) -> Result<Validated<T, P>, UsageError> {
        let face = Face::of(self.tokens.is_some(), self.transport.is_some(), builtin);
        let settings = self.config.validate(face)?;
        Ok((settings, self.tokens, self.transport))
    }
}

impl<T: ?Sized, P: ?Sized> fmt::Debug for BuilderParts<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("token_provider", &self.tokens.is_some())
            .field("custom_transport", &self.transport.is_some())
            .finish()
    }
}

/// Generates the setters every driver's `ClientBuilder` shares, on a struct with a field
/// `parts: BuilderParts<..>`: each forwards to [`ClientConfig`], so the settings, their
/// documentation and their validation exist once. Used by `ews-blocking` and
/// `ews-async`; not meant for other crates.
#[doc(hidden)]
#[macro_export]
macro_rules! client_builder_setters {
    (transport: $transport:ident, tokens: $tokens:ident, user_agent: $ua:expr) => {
        fn new(endpoint: &str) -> Self {
            let parts = $crate::driver::BuilderParts::new(endpoint, $ua);
            Self { parts }
        }

        /// Bearer authentication (sets `Credentials::Bearer`) with tokens from
        /// `provider`, asked before the first request and once more per call after a 401.
        pub fn token_provider(mut self, provider: impl $tokens) -> Self {
            self.parts.set_tokens(std::sync::Arc::new(provider));
            self
        }

        /// Uses `transport` instead of the built-in one (the TLS, proxy and
        /// connect-timeout settings then belong to it). It receives every request with
        /// its `User-Agent` and `Authorization`, and the exchange's
        /// [`Deadline`](ews_proto::Deadline) in the request's extensions; it should read
        /// at most `max_body_bytes` of an answer.
        pub fn transport(mut self, transport: impl $transport) -> Self {
            self.parts.set_transport(std::sync::Arc::new(transport));
            self
        }

        /// How to authenticate. Default: [`Credentials::None`](ews_proto::Credentials).
        /// Basic or Bearer over plain `http://` is refused at `build` unless the host is a
        /// loopback address (see `danger_allow_credentials_over_http`).
        pub fn credentials(mut self, credentials: $crate::Credentials) -> Self {
            self.parts.config = self.parts.config.credentials(credentials);
            self
        }

        /// The `RequestServerVersion` sent. Default: the core's
        /// ([`ExchangeVersion::default`](ews_proto::ExchangeVersion)).
        pub fn version(mut self, version: $crate::ExchangeVersion) -> Self {
            self.parts.config = self.parts.config.version(version);
            self
        }

        /// NTLM / Negotiate ([`Credentials::ntlm`](ews_proto::Credentials::ntlm)): send
        /// NEGOTIATE with the first request of each new connection instead of an
        /// anonymous request the server answers with `401`. One round trip less per
        /// handshake. Default: off.
        pub fn ntlm_up_front(mut self, yes: bool) -> Self {
            self.parts.config = self.parts.config.ntlm_up_front(yes);
            self
        }

        /// Where NTLM handshakes get their random values and the time. Default: the
        /// operating system's generator and clock. For tests that need a predictable
        /// exchange.
        pub fn handshake_source(
            mut self,
            source: impl $crate::driver::HandshakeSource,
        ) -> Self {
            self.parts.config = self
                .parts
                .config
                .handshake_source(std::sync::Arc::new(source));
            self
        }

        /// Acts as another user (`ExchangeImpersonation`); the service account needs the
        /// ApplicationImpersonation role.
        pub fn impersonate(mut self, who: $crate::Impersonation) -> Self {
            self.parts.config = self.parts.config.impersonate(who);
            self
        }

        /// The `MailboxCulture` header (the language of server-made text).
        pub fn culture(mut self, culture: $crate::MailboxCulture) -> Self {
            self.parts.config = self.parts.config.culture(culture);
            self
        }

        /// The `TimeZoneContext` header, sent with the operations the WSDL binds it to.
        pub fn time_zone(mut self, tz: $crate::TimeZoneId) -> Self {
            self.parts.config = self.parts.config.time_zone(tz);
            self
        }

        /// The `User-Agent` of every request, through any transport. Default: the
        /// crate's name and version. A value that cannot be a header value (CR, LF,
        /// other control characters) is refused by `build`.
        pub fn user_agent(mut self, user_agent: &str) -> Self {
            self.parts.config = self.parts.config.user_agent(user_agent);
            self
        }

        /// Most time the built-in transport takes to set up a new connection (DNS, TCP,
        /// TLS). Default: 30 s. A failure or timeout there is
        /// [`TransportErrorKind::Connect`](ews_proto::TransportErrorKind): nothing was
        /// sent, so the request may be repeated.
        pub fn connect_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.parts.config = self.parts.config.connect_timeout(timeout);
            self
        }

        /// A deadline for one whole exchange: from the moment the core hands the request
        /// out to the last byte of the answer, connecting and sending the body included.
        /// Each attempt has its own. Default: 100 s (as the EWS Managed API). Passing it
        /// is [`TransportErrorKind::Timeout`](ews_proto::TransportErrorKind) (after
        /// which the server may have acted on the request), or `Connect` when it passed
        /// while still connecting.
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.parts.config = self.parts.config.timeout(timeout);
            self
        }

        /// The largest answer body read: the transport reads at most this many bytes
        /// (the same value as [`Limits::max_body_bytes`](ews_proto::Limits)); a larger
        /// answer is
        /// [`ServerError::LimitExceeded`](ews_proto::ServerError::LimitExceeded).
        /// Default: 64 MiB.
        pub fn max_body_bytes(mut self, n: usize) -> Self {
            self.parts.config = self.parts.config.max_body_bytes(n);
            self
        }

        /// The decoding limits (body size, depth, item count); the body size is also the
        /// transport's cap.
        pub fn limits(mut self, limits: $crate::Limits) -> Self {
            self.parts.config = self.parts.config.limits(limits);
            self
        }

        /// When to send a failed request again. Default:
        /// [`RetryPolicy::default`](ews_proto::RetryPolicy).
        pub fn retry_policy(mut self, policy: $crate::RetryPolicy) -> Self {
            self.parts.config = self.parts.config.retry_policy(policy);
            self
        }

        /// Trusts the CA certificate(s) in `pem` (the internal CA of an on-premises
        /// server), besides Mozilla's roots (and the platform's, when
        /// `trust_platform_roots` is on).
        ///
        /// # Errors
        /// [`Error::Usage`](ews_proto::Error) when `pem` holds no certificate or a
        /// malformed one.
        pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, $crate::Error> {
            self.parts.config = self.parts.config.add_root_certificate_pem(pem)?;
            Ok(self)
        }

        /// Also trusts the certificates of the operating system's store (where an
        /// on-premises site usually installs its internal CA), read once at `build` with
        /// `rustls-native-certs` (certificates it cannot read are skipped). Default: off
        /// (Mozilla's roots and the added ones only).
        ///
        /// ```
        #[doc = concat!("let client = ", env!("CARGO_CRATE_NAME"), "::Client::builder(\"https://mail.example.com/EWS/Exchange.asmx\")")]
        ///     .trust_platform_roots(true)
        ///     .build()?;
        #[doc = concat!("# let _ = client; Ok::<(), ", env!("CARGO_CRATE_NAME"), "::Error>(())")]
        /// ```
        pub fn trust_platform_roots(mut self, yes: bool) -> Self {
            self.parts.config = self.parts.config.trust_platform_roots(yes);
            self
        }

        /// **Dangerous**: accepts any server certificate (expired, self-signed, for
        /// another name). Anyone on the path can then read the credentials. For
        /// throw-away test servers only. Default: `false`.
        pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
            self.parts.config = self.parts.config.danger_accept_invalid_certs(accept);
            self
        }

        /// **Dangerous**: sends the credentials over plain `http://` to a host that is
        /// not a loopback address, where anyone on the path can read them. Default:
        /// `false`: such an endpoint with credentials is a
        /// [`UsageError::CredentialsOverHttp`](ews_proto::UsageError) at `build`.
        pub fn danger_allow_credentials_over_http(mut self, allow: bool) -> Self {
            self.parts.config = self.parts.config.danger_allow_credentials_over_http(allow);
            self
        }

        /// Tunnels every connection through the HTTP proxy `url`
        /// (`http://[user:password@]host[:port]`) with `CONNECT host:port`, for `http` and
        /// `https` endpoints alike (TLS runs end to end inside the tunnel); user info is
        /// sent as `Proxy-Authorization: Basic`. A URL that is not of that form is a
        /// [`UsageError`](ews_proto::UsageError) at `build`. Default: no proxy.
        ///
        /// ```
        #[doc = concat!("let client = ", env!("CARGO_CRATE_NAME"), "::Client::builder(\"https://mail.example.com/EWS/Exchange.asmx\")")]
        ///     .proxy("http://proxy.example.com:3128")
        ///     .build()?;
        #[doc = concat!("# let _ = client; Ok::<(), ", env!("CARGO_CRATE_NAME"), "::Error>(())")]
        /// ```
        pub fn proxy(mut self, url: &str) -> Self {
            self.parts.config = self
                .parts
                .config
                .proxy($crate::driver::ProxySetting::Url(url.to_owned()));
            self
        }

        /// Takes the proxy from the environment, read now: `HTTPS_PROXY` (for an
        /// `https` endpoint) or `HTTP_PROXY` (for `http`), then `ALL_PROXY`, each also
        /// lower-case; hosts listed in `NO_PROXY` go direct. Without this call the
        /// environment is never read.
        ///
        /// ```
        #[doc = concat!("let client = ", env!("CARGO_CRATE_NAME"), "::Client::builder(\"https://mail.example.com/EWS/Exchange.asmx\")")]
        ///     .proxy_from_env()
        ///     .build()?;
        #[doc = concat!("# let _ = client; Ok::<(), ", env!("CARGO_CRATE_NAME"), "::Error>(())")]
        /// ```
        pub fn proxy_from_env(mut self) -> Self {
            let read = |name: &str| std::env::var(name).ok();
            self.parts.config = self.parts.config.proxy($crate::driver::ProxySetting::from_vars(read));
            self
        }

        /// Connects `host:port` to `addr` instead of the address DNS gives, as curl's
        /// `--resolve` (split-horizon DNS, a test server on loopback). The URL's name
        /// still goes in the `Host` header and the TLS server name, and the certificate
        /// must be valid for it. `port` is the URL's (443 for `https`, 80 for `http` when
        /// it names none). Through a proxy the proxy resolves the endpoint. Default: DNS.
        ///
        /// ```
        #[doc = concat!("let client = ", env!("CARGO_CRATE_NAME"), "::Client::builder(\"https://mail.example.com/EWS/Exchange.asmx\")")]
        ///     .resolve("mail.example.com", 443, "192.0.2.10:443".parse().unwrap())
        ///     .build()?;
        #[doc = concat!("# let _ = client; Ok::<(), ", env!("CARGO_CRATE_NAME"), "::Error>(())")]
        /// ```
        pub fn resolve(mut self, host: &str, port: u16, addr: std::net::SocketAddr) -> Self {
            self.parts.config = self.parts.config.resolve(host, port, addr);
            self
        }

        /// Fault injection (feature `fault-injection`, for tests): every connection of
        /// the built-in transport fails its first read after a request was sent, with
        /// `kind`, once the server's answer has begun to arrive (so the server has
        /// processed the request). Shows how a call copes with an unknown outcome.
        #[cfg(feature = "fault-injection")]
        pub fn fail_reads_after_sending(mut self, kind: std::io::ErrorKind) -> Self {
            self.parts.config = self.parts.config.fail_reads_after_sending(kind);
            self
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://mail.example.com/EWS/Exchange.asmx";
    const FACE: Face = Face {
        token_provider: false,
        tls: true,
        transport: true,
    };

    #[test]
    fn every_misconfiguration_is_a_usage_error() {
        let bad = [
            ClientConfig::new("not a url", "ua"),
            ClientConfig::new(URL, "ua").credentials(Credentials::Bearer),
            ClientConfig::new(URL, "probe\r\nX-Injected: yes"),
            ClientConfig::new("http://mail.example.com/EWS/Exchange.asmx", "ua")
                .credentials(Credentials::basic("a", "b")),
        ];
        for config in bad {
            assert!(config.validate(FACE).is_err(), "{config:?}");
        }
        let no_tls = Face { tls: false, ..FACE };
        assert!(ClientConfig::new(URL, "ua").validate(no_tls).is_err());
        let no_transport = Face {
            transport: false,
            ..FACE
        };
        assert!(ClientConfig::new(URL, "ua").validate(no_transport).is_err());
        assert!(
            ClientConfig::new(URL, "ua")
                .add_root_certificate_pem(b"no pem")
                .is_err()
        );
    }

    #[test]
    fn debug_counts_certificates_and_hides_secrets() {
        let pem = concat!(
            "-----BEGIN CERTIFICATE-----\n",
            "MIIBaDCCAQ6gAwIBAgIUAAAAAAAAAAAAAAAAAAAAAAAAAAAwCgYIKoZIzj0EAwIw\n",
            "-----END CERTIFICATE-----\n"
        );
        let config = ClientConfig::new(URL, "ua")
            .credentials(Credentials::basic("user@example.com", "Passw0rd-x"))
            .proxy(ProxySetting::Url("http://u:Pr0xy@127.0.0.1:3128".into()));
        let config = config.add_root_certificate_pem(pem.as_bytes()).unwrap();
        let shown = format!("{config:?} {:?}", config.validate(FACE).unwrap());
        assert!(shown.contains("extra_roots: 1"), "{shown}");
        for secret in ["Passw0rd-x", "Pr0xy", "MIIB"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn fixed_addresses_reach_the_settings() {
        let addr: std::net::SocketAddr = "127.0.0.1:8443".parse().unwrap();
        let config = ClientConfig::new(URL, "ua").resolve("Mail.Example.com", 443, addr);
        assert_eq!(
            config.resolve_set().lookup("mail.example.com", 443),
            Some(addr)
        );
        let s = config.validate(FACE).unwrap();
        assert_eq!(s.resolve.lookup_uri(s.ctx.endpoint()), Some(addr));
        assert!(format!("{s:?}").contains("mail.example.com:443=127.0.0.1:8443"));
        let s = ClientConfig::new(URL, "ua").validate(FACE).unwrap();
        assert!(s.resolve.is_empty());
    }

    #[test]
    fn the_body_cap_is_the_limit() {
        let s = ClientConfig::new(URL, "ua")
            .max_body_bytes(128 << 20)
            .validate(FACE)
            .unwrap();
        assert_eq!(s.limits.max_body_bytes, 128 << 20);
        let s = ClientConfig::new(URL, "ua").validate(FACE).unwrap();
        assert_eq!(s.limits.max_body_bytes, Limits::default().max_body_bytes);
        assert_eq!(s.timeout, Some(DEFAULT_TIMEOUT));
        assert_eq!(s.connect_timeout, Some(DEFAULT_CONNECT_TIMEOUT));
    }
}
