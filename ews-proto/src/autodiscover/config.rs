//! [`AutodiscoverConfig`]: every setting of a face's `Autodiscover` builder with its one
//! meaning, and [`Run`], one discovery with everything that is not I/O (the cache, the
//! consent callback, the credentials' scope, the client the result becomes).
//!
//! `ews-blocking` and `ews-async` each have an `Autodiscover` that holds an
//! [`AutodiscoverParts`] (its setters are generated from
//! [`autodiscover_setters!`](crate::autodiscover_setters), so they are written and
//! documented once, here) plus its own transport and SRV resolver traits. Its `discover`
//! is the driver loop: one `match` on the [`Step`]s of a [`Run`] (send through the
//! transport, resolve SRV, ask consent, sleep), whose every decision is the core's.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::Bytes;

use crate::autodiscover::{
    Cache, Discovered, Discovery, DiscoveryError, Redirect, RedirectPolicy, SrvRecord, Step,
    UrlChoice,
};
use crate::client::{Auth, Builtin, ClientConfig, Credentials, Face, RetryPolicy, Settings};
use crate::error::{TransportError, UsageError};
use crate::soap::ExchangeVersion;
use crate::types::EmailAddress;

/// Discovery results a caller keeps across runs, per (domain, credentials); drop it to
/// forget them. Clones share it.
///
/// ```
/// use ews_proto::autodiscover::SharedCache;
/// let cache = SharedCache::default();
/// // ... `.cache(&cache)` on each face's `Autodiscover` ...
/// assert!(cache.lock().unwrap().is_empty());
/// ```
pub type SharedCache = Arc<Mutex<Cache>>;

/// The SRV resolver that finds no record: SRV discovery is skipped. Each face's
/// `SrvResolver` trait is implemented for it; it is the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSrv;

/// The endpoint the built-in transport is validated with (it is never asked: each request
/// of discovery carries its own URL).
const TRANSPORT_ENDPOINT: &str = "https://autodiscover.invalid/";

/// Every setting of an Autodiscover builder, as a face collects them, with its one
/// meaning (the same in `ews-blocking` and `ews-async`):
///
/// | setting | meaning | default |
/// | --- | --- | --- |
/// | email, credentials | whose settings are found; Basic or none (they go only where the [`RedirectPolicy`] allows) | (required) |
/// | `urls` | Autodiscover URLs tried first ([`Discovery::urls`]) | none |
/// | `redirect_policy` | which other domains may be asked | [`RedirectPolicy::SameDomain`] |
/// | `consent` | the answer under [`RedirectPolicy::Ask`] | no |
/// | `retry_policy` | `ServerBusy`, 429 and 503 | [`RetryPolicy::default`] |
/// | `cache` | results kept across runs ([`SharedCache`]) | none |
/// | `url_choice` | which EWS URL the client uses | [`UrlChoice::External`] |
/// | `add_root_certificate_pem` | an extra CA for the built-in transport (of discovery and of the client) | none |
/// | `resolve` | `host:port` connected to a fixed address (as curl's `--resolve`), in discovery and the client | DNS |
///
/// The built-in transport's settings (User-Agent, timeouts, TLS roots) are a
/// [`ClientConfig`]'s: each discovery request carries the User-Agent and the deadline
/// `now + timeout`, as a client's do.
///
/// ```
/// use ews_proto::Credentials;
/// use ews_proto::autodiscover::{AutodiscoverConfig, Step, UrlChoice};
/// use ews_proto::driver::Face;
///
/// let config = AutodiscoverConfig::new("kim@contoso.com", Credentials::None, "my-app/1.0")
///     .urls(["https://ad.contoso.com/autodiscover/autodiscover.svc"])
///     .url_choice(UrlChoice::Internal);
/// let mut run = config.start(Face { token_provider: false, tls: true, transport: true })?;
/// let Step::Send { request, .. } = run.poll(std::time::Instant::now()) else {
///     unreachable!("the caller's URL is asked first")
/// };
/// assert_eq!(request.uri(), "https://ad.contoso.com/autodiscover/autodiscover.svc");
/// assert_eq!(request.headers()["user-agent"], "my-app/1.0");
/// # Ok::<(), ews_proto::autodiscover::DiscoveryError>(())
/// ```
#[derive(Clone)]
#[must_use = "a configuration does nothing until a run starts"]
pub struct AutodiscoverConfig {
    email: Result<EmailAddress, UsageError>,
    credentials: Credentials,
    urls: Vec<String>,
    redirect_policy: RedirectPolicy,
    retry_policy: RetryPolicy,
    consent: Arc<dyn Fn(&Redirect) -> bool + Send + Sync>,
    cache: Option<SharedCache>,
    url_choice: UrlChoice,
    transport: Result<ClientConfig, UsageError>,
}

impl AutodiscoverConfig {
    /// Discovery for `email` with `credentials`; `user_agent` is the face's default.
    pub fn new(email: &str, credentials: Credentials, user_agent: &str) -> Self {
        Self {
            email: email.parse(),
            credentials,
            urls: Vec::new(),
            redirect_policy: RedirectPolicy::default(),
            retry_policy: RetryPolicy::default(),
            consent: Arc::new(|_| false),
            cache: None,
            url_choice: UrlChoice::default(),
            transport: Ok(ClientConfig::new(TRANSPORT_ENDPOINT, user_agent)),
        }
    }

    /// Autodiscover URLs to try first (see [`Discovery::urls`]; an invalid one ends the
    /// run with [`DiscoveryError::Usage`] before anything is sent).
    pub fn urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.urls
            .extend(urls.into_iter().map(|u| u.as_ref().to_owned()));
        self
    }

    /// Which other domains may be asked.
    pub fn redirect_policy(mut self, policy: RedirectPolicy) -> Self {
        self.redirect_policy = policy;
        self
    }

    /// The answer to a redirect under [`RedirectPolicy::Ask`].
    pub fn consent(mut self, consent: impl Fn(&Redirect) -> bool + Send + Sync + 'static) -> Self {
        self.consent = Arc::new(consent);
        self
    }

    /// The retry policy for `ServerBusy`, 429 and 503.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Keeps (and reuses) results in `cache`.
    pub fn cache(mut self, cache: &SharedCache) -> Self {
        self.cache = Some(Arc::clone(cache));
        self
    }

    /// Which EWS URL the client uses.
    pub fn url_choice(mut self, choice: UrlChoice) -> Self {
        self.url_choice = choice;
        self
    }

    /// Changes the settings of the built-in transport (a [`ClientConfig`] whose endpoint
    /// is never asked), e.g. `|c| c.connect_timeout(..)`.
    pub fn transport_config(mut self, change: impl FnOnce(ClientConfig) -> ClientConfig) -> Self {
        self.transport = self.transport.map(change);
        self
    }

    /// Trusts an extra CA (an internal one) in the built-in transport. A PEM without a
    /// certificate ends the run with [`DiscoveryError::Usage`] before anything is sent.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.transport = self.transport.and_then(|c| c.add_root_certificate_pem(pem));
        self
    }

    /// Connects `host:port` to `addr` instead of the address DNS gives, in discovery and
    /// in the client built on its transport (the client setting
    /// [`ClientConfig::resolve`]: the URL's name is still the one in `Host`, SNI and the
    /// certificate check).
    pub fn resolve(self, host: &str, port: u16, addr: std::net::SocketAddr) -> Self {
        self.transport_config(|c| c.resolve(host, port, addr))
    }

    /// The credentials discovery (and then the client) uses.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The settings the built-in transport is made with, for a face whose transport is
    /// `face`.
    ///
    /// # Errors
    /// [`DiscoveryError::Usage`]: a bad certificate or `User-Agent`, no transport, `https`
    /// without TLS.
    pub fn transport_settings(&self, face: Face) -> Result<Settings, DiscoveryError> {
        Ok(self.transport.clone()?.validate(face)?)
    }

    /// Starts a run: the cached result when there is one, else a fresh [`Discovery`]
    /// with these settings.
    ///
    /// # Errors
    /// [`DiscoveryError::Usage`]: the address does not parse, or
    /// [`AutodiscoverConfig::transport_settings`] fails.
    pub fn start(&self, face: Face) -> Result<Run, DiscoveryError> {
        let email = self.email.clone()?;
        let settings = self.transport_settings(face)?;
        let cached = self
            .cache
            .as_ref()
            .and_then(|cache| lock(cache).get(&email, &self.credentials).cloned());
        let discovery = Discovery::new(email.clone())
            .urls(&self.urls)
            .redirect_policy(self.redirect_policy.clone())
            .retry_policy(self.retry_policy)
            .limits(settings.limits)
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout);
        Ok(Run {
            discovery,
            auth: Auth::new(self.credentials.clone()),
            cached,
            keep: self
                .cache
                .as_ref()
                .map(|cache| (Arc::clone(cache), email, self.credentials.clone())),
            consent: Arc::clone(&self.consent),
        })
    }

    /// What the client is built on after `found`: the EWS URL [`UrlChoice`] picks (empty
    /// when the server gave none, which the client builder refuses), these credentials
    /// and the version the server supports.
    pub fn client_target<'a>(&self, found: &'a Discovered) -> ClientTarget<'a> {
        ClientTarget {
            endpoint: found.ews_url(self.url_choice).unwrap_or_default(),
            credentials: self.credentials.clone(),
            version: found.version(),
        }
    }
}

impl fmt::Debug for AutodiscoverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials' Debug shows the user name, never a password.
        f.debug_struct("Autodiscover")
            .field("email", &self.email)
            .field("credentials", &self.credentials)
            .field("urls", &self.urls)
            .field("redirect_policy", &self.redirect_policy)
            .field("cache", &self.cache.is_some())
            .field("url_choice", &self.url_choice)
            .finish_non_exhaustive()
    }
}

/// The settings of the client a discovery becomes ([`AutodiscoverConfig::client_target`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientTarget<'a> {
    /// The EWS URL.
    pub endpoint: &'a str,
    /// The credentials.
    pub credentials: Credentials,
    /// The `RequestServerVersion`.
    pub version: ExchangeVersion,
}

/// One discovery as a face drives it: [`Discovery`] with its authentication state, the
/// caller's consent callback and the cache it reads and fills. Poll it, do what the
/// [`Step`] says, hand the outcome back, until [`Step::Done`].
pub struct Run {
    discovery: Discovery,
    auth: Auth,
    cached: Option<Discovered>,
    keep: Option<(SharedCache, EmailAddress, Credentials)>,
    consent: Arc<dyn Fn(&Redirect) -> bool + Send + Sync>,
}

impl Run {
    /// The next step ([`Discovery::poll`]); a cached result is `Done` at once, and a
    /// found one is kept in the cache before it is handed out.
    pub fn poll(&mut self, now: Instant) -> Step {
        if let Some(found) = self.cached.take() {
            return Step::Done(Ok(found));
        }
        let step = self.discovery.poll(&self.auth, now);
        if let (Step::Done(Ok(found)), Some((cache, email, credentials))) = (&step, &self.keep) {
            lock(cache).insert(email, credentials, found.clone());
        }
        step
    }

    /// The outcome of [`Step::Send`] ([`Discovery::handle`]).
    pub fn handle(&mut self, outcome: Result<http::Response<Bytes>, TransportError>, now: Instant) {
        self.discovery.handle(outcome, now);
    }

    /// The resolver's answer to [`Step::ResolveSrv`] ([`Discovery::srv_resolved`]).
    pub fn srv_resolved<E: fmt::Display>(&mut self, records: Result<Vec<SrvRecord>, E>) {
        self.discovery.srv_resolved(records);
    }

    /// Answers [`Step::Confirm`] with the caller's consent callback.
    pub fn confirm(&mut self, redirect: &Redirect) {
        self.discovery.confirm((self.consent)(redirect));
    }

    /// Answers [`Step::FetchToken`]: Autodiscover takes Basic credentials or none, so a
    /// bearer token ends the run with [`DiscoveryError::TokenProvider`].
    pub fn refuse_token(&mut self) {
        self.discovery.token_fetched(
            &mut self.auth,
            Err::<crate::Secret<String>, _>("Autodiscover takes Basic credentials or none"),
        );
    }
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("discovery", &self.discovery)
            .field("cached", &self.cached.is_some())
            .finish_non_exhaustive()
    }
}

/// What a face's `Autodiscover` holds: the shared [`AutodiscoverConfig`] and the face's
/// own transport, SRV resolver and client-builder callback (`T`, `R`: the face's trait
/// objects; `B`: its `ClientBuilder`).
pub struct AutodiscoverParts<T: ?Sized, R: ?Sized, B> {
    /// The settings.
    pub config: AutodiscoverConfig,
    transport: Option<Arc<T>>,
    resolver: Arc<R>,
    client: Option<Box<dyn FnOnce(B) -> B + Send>>,
}

impl<T: ?Sized, R: ?Sized, B> AutodiscoverParts<T, R, B> {
    /// The parts for `config`, with `resolver` (the face's [`NoSrv`]).
    pub fn new(config: AutodiscoverConfig, resolver: Arc<R>) -> Self {
        Self {
            config,
            transport: None,
            resolver,
            client: None,
        }
    }

    /// The caller's transport instead of the built-in one.
    pub fn set_transport(&mut self, transport: Arc<T>) {
        self.transport = Some(transport);
    }

    /// The SRV resolver.
    pub fn set_resolver(&mut self, resolver: Arc<R>) {
        self.resolver = resolver;
    }

    /// Further settings of the client a discovery becomes.
    pub fn set_client(&mut self, configure: Box<dyn FnOnce(B) -> B + Send>) {
        self.client = Some(configure);
    }

    /// The SRV resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// Starts a run for a face whose built-in transport can do `builtin` (see
    /// [`AutodiscoverConfig::start`]).
    ///
    /// # Errors
    /// As [`AutodiscoverConfig::start`].
    pub fn start(&self, builtin: Builtin) -> Result<Run, DiscoveryError> {
        self.config.start(self.face(builtin))
    }

    /// The caller's transport, or the built-in one `make` makes from the transport
    /// settings (once: later calls return the same).
    ///
    /// # Errors
    /// As [`AutodiscoverConfig::transport_settings`]; `make`'s error as
    /// [`DiscoveryError::Client`].
    pub fn transport(
        &mut self,
        builtin: Builtin,
        make: impl FnOnce(&Settings) -> Result<Arc<T>, crate::Error>,
    ) -> Result<Arc<T>, DiscoveryError> {
        if let Some(t) = &self.transport {
            return Ok(Arc::clone(t));
        }
        let settings = self.config.transport_settings(self.face(builtin))?;
        let made = make(&settings).map_err(|e| DiscoveryError::Client(Box::new(e)))?;
        self.transport = Some(Arc::clone(&made));
        Ok(made)
    }

    /// `builder` with the caller's further settings applied.
    pub fn configure_client(&mut self, builder: B) -> B {
        match self.client.take() {
            Some(configure) => configure(builder),
            None => builder,
        }
    }

    fn face(&self, builtin: Builtin) -> Face {
        Face::of(false, self.transport.is_some(), builtin)
    }
}

impl<T: ?Sized, R: ?Sized, B> fmt::Debug for AutodiscoverParts<T, R, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.config, f)
    }
}

fn lock(cache: &SharedCache) -> MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Generates the methods every face's `Autodiscover` shares, on a struct with a field
/// `parts: AutodiscoverParts<..>`: each forwards to [`AutodiscoverConfig`] or
/// [`AutodiscoverParts`], so the settings and their documentation exist once. Used by
/// `ews-blocking` and `ews-async`; not meant for other crates.
#[doc(hidden)]
#[macro_export]
macro_rules! autodiscover_setters {
    (
        transport: $transport:ident,
        resolver: $resolver:ident,
        client: $client:ident,
        builder: $builder:ident,
        user_agent: $ua:expr
    ) => {
        /// Discovery for `email` with `credentials` (Basic or none; they go only where
        /// the core's [`RedirectPolicy`](ews_proto::autodiscover::RedirectPolicy) allows).
        pub fn new(email: &str, credentials: $crate::Credentials) -> Self {
            let config = $crate::autodiscover::AutodiscoverConfig::new(email, credentials, $ua);
            let resolver = std::sync::Arc::new($crate::autodiscover::NoSrv);
            Self {
                parts: $crate::autodiscover::AutodiscoverParts::new(config, resolver as _),
            }
        }

        /// Autodiscover URLs to try first (see
        /// [`Discovery::urls`](ews_proto::autodiscover::Discovery::urls)).
        pub fn urls(mut self, urls: &[&str]) -> Self {
            self.parts.config = self.parts.config.urls(urls);
            self
        }

        /// Which other domains may be asked (see
        /// [`RedirectPolicy`](ews_proto::autodiscover::RedirectPolicy)); with
        /// `RedirectPolicy::Ask`, [`consent`](Self::consent) answers.
        pub fn redirect_policy(mut self, policy: $crate::autodiscover::RedirectPolicy) -> Self {
            self.parts.config = self.parts.config.redirect_policy(policy);
            self
        }

        /// The answer to a redirect under `RedirectPolicy::Ask`. Default: no.
        pub fn consent(
            mut self,
            consent: impl Fn(&$crate::autodiscover::Redirect) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.parts.config = self.parts.config.consent(consent);
            self
        }

        /// The retry policy for `ServerBusy`, 429 and 503.
        pub fn retry_policy(mut self, policy: $crate::RetryPolicy) -> Self {
            self.parts.config = self.parts.config.retry_policy(policy);
            self
        }

        /// The transport for discovery and for the client. Default: the built-in one.
        pub fn transport(mut self, transport: impl $transport) -> Self {
            self.parts.set_transport(std::sync::Arc::new(transport));
            self
        }

        /// The SRV resolver. Default: [`NoSrv`](ews_proto::autodiscover::NoSrv), which
        /// finds none.
        pub fn srv_resolver(mut self, resolver: impl $resolver) -> Self {
            self.parts.set_resolver(std::sync::Arc::new(resolver));
            self
        }

        /// Keeps (and reuses) the result in `cache`.
        pub fn cache(mut self, cache: &$crate::autodiscover::SharedCache) -> Self {
            self.parts.config = self.parts.config.cache(cache);
            self
        }

        /// Which EWS URL the client uses. Default: `UrlChoice::External`.
        pub fn url_choice(mut self, choice: $crate::autodiscover::UrlChoice) -> Self {
            self.parts.config = self.parts.config.url_choice(choice);
            self
        }

        /// Trusts an extra CA (an internal one) in the built-in transport, which
        /// discovery and then the client use. A PEM without a certificate fails the
        /// discovery before anything is sent.
        pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
            self.parts.config = self.parts.config.add_root_certificate_pem(pem);
            self
        }

        /// Connects `host:port` to `addr` instead of the address DNS gives, in discovery
        /// and in the client (the built-in transport's setting, as the client builder's
        /// `resolve`).
        pub fn resolve(mut self, host: &str, port: u16, addr: std::net::SocketAddr) -> Self {
            self.parts.config = self.parts.config.resolve(host, port, addr);
            self
        }

        /// Further settings of the client `build` makes (its endpoint, version,
        /// credentials and transport are set already).
        pub fn client(
            mut self,
            configure: impl FnOnce($builder) -> $builder + Send + 'static,
        ) -> Self {
            self.parts.set_client(Box::new(configure));
            self
        }

        /// The client on what discovery `found`, over `transport`.
        fn client_on(
            &mut self,
            found: &$crate::autodiscover::Discovered,
            transport: impl $transport,
        ) -> Result<$client, $crate::autodiscover::DiscoveryError> {
            let target = self.parts.config.client_target(found);
            let builder = $client::builder(target.endpoint)
                .credentials(target.credentials)
                .version(target.version)
                .transport(transport);
            self.parts
                .configure_client(builder)
                .build()
                .map_err(|e| $crate::autodiscover::DiscoveryError::Client(Box::new(e)))
        }
    };
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::autodiscover::Reason;

    const FACE: Face = Face {
        token_provider: false,
        tls: true,
        transport: true,
    };
    const SETTINGS: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>InternalEwsUrl</Name><Value>https://ex01.corp.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>CasVersion</Name><Value>15.0.1497.2</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;
    const REDIRECT: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>RedirectUrl</ErrorCode><ErrorMessage>m</ErrorMessage><RedirectTarget>https://ad.fabrikam.com/autodiscover/autodiscover.svc</RedirectTarget></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;

    fn kim(credentials: Credentials) -> AutodiscoverConfig {
        AutodiscoverConfig::new("kim@contoso.com", credentials, "ews-test/1")
    }

    fn basic() -> Credentials {
        Credentials::basic("kim@contoso.com", "Passw0rd-1")
    }

    /// Drives `run` to its end: `answer` gives the body for a URL (None: refused). The
    /// result and the requests, as sent.
    fn drive(
        mut run: Run,
        answer: impl Fn(&str) -> Option<&'static str>,
    ) -> (
        Result<Discovered, DiscoveryError>,
        Vec<http::Request<Bytes>>,
    ) {
        let now = Instant::now();
        let mut sent = Vec::new();
        loop {
            match run.poll(now) {
                Step::Send { request, .. } => {
                    let outcome = match answer(&request.uri().to_string()) {
                        Some(body) => Ok(http::Response::new(Bytes::from_static(body.as_bytes()))),
                        None => Err(TransportError::new(
                            crate::TransportErrorKind::Connect,
                            "refused",
                        )),
                    };
                    sent.push(request);
                    run.handle(outcome, now);
                }
                Step::ResolveSrv { .. } => run.srv_resolved(Ok::<_, String>(Vec::new())),
                Step::Confirm(redirect) => run.confirm(&redirect),
                Step::FetchToken { .. } => run.refuse_token(),
                Step::Sleep { .. } => {}
                Step::Done(result) => return (result, sent),
            }
        }
    }

    fn contoso(url: &str) -> Option<&'static str> {
        (url == "https://contoso.com/autodiscover/autodiscover.svc").then_some(SETTINGS)
    }

    #[test]
    fn the_cache_is_keyed_by_domain_and_credentials() {
        let cache = SharedCache::default();
        let (found, sent) = drive(kim(basic()).cache(&cache).start(FACE).unwrap(), contoso);
        let found = found.unwrap();
        assert_eq!(sent.len(), 1);
        // Another address of the domain, the same credentials: from the cache, no request.
        let same = AutodiscoverConfig::new("lee@Contoso.com", basic(), "ews-test/1").cache(&cache);
        let (again, sent) = drive(same.start(FACE).unwrap(), contoso);
        assert_eq!(again.unwrap(), found);
        assert!(sent.is_empty());
        // Other credentials: discovered again, and kept beside the first.
        let (_, sent) = drive(
            kim(Credentials::None).cache(&cache).start(FACE).unwrap(),
            contoso,
        );
        assert_eq!(sent.len(), 1);
        assert_eq!(cache.lock().unwrap().len(), 2);
        // A failure is not kept.
        let other = AutodiscoverConfig::new("kim@fabrikam.com", basic(), "x").cache(&cache);
        let (failed, _) = drive(other.start(FACE).unwrap(), contoso);
        assert!(failed.is_err());
        assert_eq!(cache.lock().unwrap().len(), 2);
    }

    #[test]
    fn requests_carry_the_user_agent_and_a_deadline_and_the_target_follows_the_choice() {
        let (found, sent) = drive(kim(basic()).start(FACE).unwrap(), contoso);
        let found = found.unwrap();
        assert_eq!(sent[0].headers()["user-agent"], "ews-test/1");
        assert!(
            sent[0]
                .extensions()
                .get::<crate::driver::Deadline>()
                .is_some()
        );
        let external = kim(basic()).client_target(&found);
        assert_eq!(
            external.endpoint,
            "https://mail.contoso.com/EWS/Exchange.asmx"
        );
        assert_eq!(external.version, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(external.credentials, basic());
        let internal = kim(basic())
            .url_choice(UrlChoice::Internal)
            .client_target(&found);
        assert_eq!(
            internal.endpoint,
            "https://ex01.corp.contoso.com/EWS/Exchange.asmx"
        );
    }

    #[test]
    fn consent_is_the_callers_and_a_bearer_token_is_refused() {
        let asked = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&asked);
        let config = kim(basic())
            .redirect_policy(RedirectPolicy::Ask)
            .consent(move |r| {
                counted.fetch_add(1, Ordering::SeqCst);
                r.to == "ad.fabrikam.com"
            });
        let (found, sent) = drive(config.start(FACE).unwrap(), |url| match url {
            "https://contoso.com/autodiscover/autodiscover.svc" => Some(REDIRECT),
            "https://ad.fabrikam.com/autodiscover/autodiscover.svc" => Some(SETTINGS),
            _ => None,
        });
        assert!(found.is_ok(), "{found:?}");
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        assert_eq!(sent.len(), 2);
        // The default answer is no.
        let config = kim(basic()).redirect_policy(RedirectPolicy::Ask);
        let (refused, _) = drive(config.start(FACE).unwrap(), |_| Some(REDIRECT));
        let Err(DiscoveryError::Server(f)) = refused else {
            panic!("{refused:?}")
        };
        assert!(matches!(f.reason, Reason::RedirectRefused { .. }), "{f}");

        let (bearer, sent) = drive(kim(Credentials::Bearer).start(FACE).unwrap(), contoso);
        assert!(
            matches!(bearer, Err(DiscoveryError::TokenProvider(_))),
            "{bearer:?}"
        );
        assert!(sent.is_empty());
    }

    #[test]
    fn bad_input_ends_the_run_before_anything_is_sent() {
        let usage = |config: AutodiscoverConfig, face| {
            matches!(config.start(face), Err(DiscoveryError::Usage(_)))
        };
        assert!(usage(
            AutodiscoverConfig::new("no-domain", basic(), "x"),
            FACE
        ));
        assert!(usage(
            kim(basic()).add_root_certificate_pem(b"not a pem"),
            FACE
        ));
        let none = Face {
            transport: false,
            ..FACE
        };
        assert!(usage(kim(basic()), none));
        let (bad_url, sent) = drive(kim(basic()).urls(["ftp://x"]).start(FACE).unwrap(), contoso);
        assert!(
            matches!(bad_url, Err(DiscoveryError::Usage(_))),
            "{bad_url:?}"
        );
        assert!(sent.is_empty());
        // Debug never shows the password.
        assert!(!format!("{:?}", kim(basic())).contains("Passw0rd-1"));
    }
}
