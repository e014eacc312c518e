//! [`Autodiscover`]: a [`Client`] from an email address and credentials.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use ews_proto::autodiscover::{
    Cache, Discovered, Discovery, DiscoveryError, Redirect, RedirectPolicy, SrvRecord, Step,
    UrlChoice,
};
use ews_proto::driver::{Auth, Builtin, ClientConfig, Face};
use ews_proto::{Credentials, EmailAddress, RetryPolicy, Secret, UsageError};

use crate::client::BoxError;
use crate::transport::Transport;
use crate::{Client, ClientBuilder};

/// Looks up DNS SRV records (`_autodiscover._tcp.{domain}`) for discovery.
///
/// The default, [`NoSrv`], finds none; implement it over the resolver of your choice (or
/// a table, in tests).
pub trait SrvResolver: Send + Sync + 'static {
    /// The SRV records of `name`.
    fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, BoxError>;
}

impl<F> SrvResolver for F
where
    F: Fn(&str) -> Result<Vec<SrvRecord>, BoxError> + Send + Sync + 'static,
{
    fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, BoxError> {
        self(name)
    }
}

/// The resolver that finds no SRV record: SRV discovery is skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSrv;

impl SrvResolver for NoSrv {
    fn srv(&self, _name: &str) -> Result<Vec<SrvRecord>, BoxError> {
        Ok(Vec::new())
    }
}

/// Discovery results a caller keeps across [`Autodiscover`] runs, per (domain,
/// credentials); drop it to forget them. Clones share it.
pub type SharedCache = Arc<Mutex<Cache>>;

type Consent = Arc<dyn Fn(&Redirect) -> bool + Send + Sync>;

/// Finds the EWS endpoint of a mailbox, then builds a [`Client`] on it.
///
/// Every decision is the core's [`Discovery`] state machine; this runs its loop
/// (HTTP through the [`Transport`], SRV through the [`SrvResolver`], consent through the
/// callback, sleeps).
///
/// ```no_run
/// use ews_blocking::Autodiscover;
/// use ews_blocking::proto::Credentials;
///
/// let client = Autodiscover::new("kim@contoso.com", Credentials::basic("kim@contoso.com", "Passw0rd-1"))
///     .build()?;
/// println!("EWS at {}", client.context().endpoint());
/// # Ok::<(), ews_blocking::proto::autodiscover::DiscoveryError>(())
/// ```
#[must_use = "discovery runs at `discover` or `build`"]
pub struct Autodiscover {
    email: Result<EmailAddress, UsageError>,
    credentials: Credentials,
    configure: Vec<Box<dyn FnOnce(Discovery) -> Discovery + Send>>,
    transport: Option<Arc<dyn Transport>>,
    resolver: Arc<dyn SrvResolver>,
    consent: Consent,
    cache: Option<SharedCache>,
    choice: UrlChoice,
    /// The built-in transport's settings (fixed addresses, extra roots).
    config: ClientConfig,
    builder: Option<Box<dyn FnOnce(ClientBuilder) -> ClientBuilder + Send>>,
}

impl Autodiscover {
    /// Discovery for `email` with `credentials` (Basic or none; they go only where the
    /// core's [`RedirectPolicy`] allows).
    pub fn new(email: &str, credentials: Credentials) -> Self {
        Self {
            email: email.parse(),
            credentials,
            configure: Vec::new(),
            transport: None,
            resolver: Arc::new(NoSrv),
            consent: Arc::new(|_| false),
            cache: None,
            choice: UrlChoice::default(),
            config: ClientConfig::new("https://autodiscover.invalid/", "ews-blocking"),
            builder: None,
        }
    }

    /// Autodiscover URLs to try first (see [`Discovery::urls`]).
    pub fn urls(mut self, urls: &[&str]) -> Self {
        let urls: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
        self.configure.push(Box::new(move |d| d.urls(urls)));
        self
    }

    /// Which other domains may be asked (see [`RedirectPolicy`]); with
    /// [`RedirectPolicy::Ask`], [`Autodiscover::consent`] answers.
    pub fn redirect_policy(mut self, policy: RedirectPolicy) -> Self {
        self.configure
            .push(Box::new(move |d| d.redirect_policy(policy)));
        self
    }

    /// The answer to a redirect under [`RedirectPolicy::Ask`]. Default: no.
    pub fn consent(mut self, consent: impl Fn(&Redirect) -> bool + Send + Sync + 'static) -> Self {
        self.consent = Arc::new(consent);
        self
    }

    /// The retry policy for `ServerBusy`, 429 and 503.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.configure
            .push(Box::new(move |d| d.retry_policy(policy)));
        self
    }

    /// The transport for discovery and for the client. Default: the built-in one.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The SRV resolver. Default: [`NoSrv`].
    pub fn srv_resolver(mut self, resolver: impl SrvResolver) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// Keeps (and reuses) the result in `cache`.
    pub fn cache(mut self, cache: &SharedCache) -> Self {
        self.cache = Some(Arc::clone(cache));
        self
    }

    /// Connects `host:port` to `addr` instead of the address DNS gives, in discovery and
    /// in the client (the built-in transport's setting, as the client builder's
    /// `resolve`).
    pub fn resolve(mut self, host: &str, port: u16, addr: std::net::SocketAddr) -> Self {
        self.config = self.config.resolve(host, port, addr);
        self
    }

    /// Trusts the CA certificate(s) in `pem`, in discovery and in the client (the
    /// built-in transport's setting, as the client builder's).
    ///
    /// # Errors
    /// [`DiscoveryError::Usage`] when `pem` holds no certificate or a malformed one.
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, DiscoveryError> {
        self.config = self.config.add_root_certificate_pem(pem)?;
        Ok(self)
    }

    /// Which EWS URL the client uses. Default: [`UrlChoice::External`].
    pub fn url_choice(mut self, choice: UrlChoice) -> Self {
        self.choice = choice;
        self
    }

    /// Further settings of the client [`Autodiscover::build`] makes (its endpoint,
    /// version, credentials and transport are set already).
    pub fn client(
        mut self,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder + Send + 'static,
    ) -> Self {
        self.builder = Some(Box::new(configure));
        self
    }

    /// Runs discovery (or takes the cached result).
    ///
    /// # Errors
    /// [`DiscoveryError`]; its `Display` is a table of every step.
    pub fn discover(&mut self) -> Result<Discovered, DiscoveryError> {
        let email = self.email.clone()?;
        if let Some(found) = self.cached(&email) {
            return Ok(found);
        }
        let transport = self.active_transport()?;
        let mut discovery = Discovery::new(email.clone());
        for configure in self.configure.drain(..) {
            discovery = configure(discovery);
        }
        let mut auth = Auth::new(self.credentials.clone());
        // The whole driver loop: every decision is the core's.
        let result = loop {
            match discovery.poll(&auth, Instant::now()) {
                Step::Send { request, .. } => {
                    let outcome = transport.send(request);
                    discovery.handle(outcome, Instant::now());
                }
                Step::ResolveSrv { name } => discovery.srv_resolved(self.resolver.srv(&name)),
                Step::Confirm(redirect) => discovery.confirm((self.consent)(&redirect)),
                Step::FetchToken { .. } => discovery.token_fetched(
                    &mut auth,
                    Err::<Secret<String>, _>("Autodiscover takes Basic credentials or none"),
                ),
                Step::Sleep { until } => {
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                }
                Step::Done(result) => break result,
            }
        };
        if let (Ok(found), Some(cache)) = (&result, &self.cache) {
            lock(cache).insert(&email, &self.credentials, found.clone());
        }
        result
    }

    /// Runs discovery, then builds the client on the chosen EWS URL with the version the
    /// server supports.
    ///
    /// # Errors
    /// [`DiscoveryError`]; [`DiscoveryError::Client`] when the discovered URL cannot be
    /// used.
    pub fn build(mut self) -> Result<Client, DiscoveryError> {
        let found = self.discover()?;
        let transport = self.active_transport()?;
        let mut builder = Client::builder(found.ews_url(self.choice).unwrap_or_default())
            .credentials(self.credentials.clone())
            .version(found.version())
            .transport(transport);
        if let Some(configure) = self.builder.take() {
            builder = configure(builder);
        }
        builder
            .build()
            .map_err(|e| DiscoveryError::Client(Box::new(e)))
    }

    fn cached(&self, email: &EmailAddress) -> Option<Discovered> {
        let cache = self.cache.as_ref()?;
        lock(cache).get(email, &self.credentials).cloned()
    }

    /// The caller's transport, or the built-in one (made once).
    fn active_transport(&mut self) -> Result<Arc<dyn Transport>, DiscoveryError> {
        if let Some(t) = &self.transport {
            return Ok(Arc::clone(t));
        }
        let made = builtin_transport(&self.config)?;
        self.transport = Some(Arc::clone(&made));
        Ok(made)
    }
}

#[cfg(feature = "ureq")]
fn builtin_transport(config: &ClientConfig) -> Result<Arc<dyn Transport>, DiscoveryError> {
    let builtin = Builtin {
        transport: true,
        tls: cfg!(feature = "rustls"),
    };
    let settings = config.validate(Face::of(false, false, builtin))?;
    let transport =
        crate::UreqTransport::new(&settings).map_err(|e| DiscoveryError::Client(Box::new(e)))?;
    Ok(Arc::new(transport))
}

#[cfg(not(feature = "ureq"))]
fn builtin_transport(_: &ClientConfig) -> Result<Arc<dyn Transport>, DiscoveryError> {
    let _ = (
        Builtin {
            transport: false,
            tls: false,
        },
        ClientConfig::new,
        Face::of,
    );
    Err(UsageError::InvalidValue {
        kind: "transport",
        reason: "no transport: enable the `ureq` feature or call `transport`",
    }
    .into())
}

fn lock(cache: &SharedCache) -> std::sync::MutexGuard<'_, Cache> {
    cache.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Autodiscover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Autodiscover")
            .field("email", &self.email)
            .field("credentials", &self.credentials)
            .field("cache", &self.cache.is_some())
            .field("url_choice", &self.choice)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;
    use ews_proto::TransportError;

    use super::*;
    use crate::FnTransport;

    const SETTINGS: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>CasVersion</Name><Value>15.0.1497.2</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;

    fn server(
        calls: Arc<AtomicUsize>,
    ) -> FnTransport<
        impl Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + Send + Sync,
    > {
        FnTransport::new(move |request: http::Request<Bytes>| {
            calls.fetch_add(1, Ordering::SeqCst);
            if request.uri().host() == Some("autodiscover.contoso.com") {
                Ok(http::Response::new(Bytes::from_static(SETTINGS.as_bytes())))
            } else {
                Err(TransportError::new(
                    ews_proto::TransportErrorKind::Connect,
                    "refused",
                ))
            }
        })
    }

    #[test]
    fn a_client_from_an_address_and_the_cache_skips_the_second_discovery() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = SharedCache::default();
        let creds = || Credentials::basic("kim@contoso.com", "Passw0rd-1");
        let client = Autodiscover::new("kim@contoso.com", creds())
            .transport(server(Arc::clone(&calls)))
            .cache(&cache)
            .build()
            .unwrap();
        assert_eq!(
            client.context().endpoint().to_string(),
            "https://mail.contoso.com/EWS/Exchange.asmx"
        );
        assert_eq!(
            client.context().version(),
            ews_proto::ExchangeVersion::Exchange2013_SP1
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let again = Autodiscover::new("kim@contoso.com", creds())
            .transport(server(Arc::clone(&calls)))
            .cache(&cache)
            .build()
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "served from the cache");
        let _ = again;
        // Other credentials are another entry.
        Autodiscover::new("kim@contoso.com", Credentials::None)
            .transport(server(Arc::clone(&calls)))
            .cache(&cache)
            .build()
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert!(!format!("{:?}", lock(&cache)).contains("Passw0rd-1"));
    }

    #[test]
    fn srv_lookups_go_through_the_resolver() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&asked);
        let e = Autodiscover::new("kim@contoso.com", Credentials::None)
            .transport(FnTransport::new(|_| {
                Err(TransportError::new(
                    ews_proto::TransportErrorKind::Connect,
                    "refused",
                ))
            }))
            .srv_resolver(move |name: &str| {
                seen.lock().unwrap().push(name.to_owned());
                Ok(vec![])
            })
            .build()
            .unwrap_err();
        assert_eq!(*asked.lock().unwrap(), ["_autodiscover._tcp.contoso.com"]);
        assert!(matches!(e, DiscoveryError::Transport(_)), "{e}");
    }
}
