//! [`Autodiscover`]: a [`Client`] from an email address and credentials.
//!
//! The settings and everything that is not I/O are the core's
//! ([`AutodiscoverConfig`](ews_proto::autodiscover::AutodiscoverConfig) and
//! [`Run`](ews_proto::autodiscover::Run)); this is the driver loop.

use std::time::Instant;

use ews_proto::autodiscover::{
    AutodiscoverParts, Discovered, DiscoveryError, NoSrv, SrvRecord, Step,
};

use crate::client::{BUILTIN, BoxError, DEFAULT_USER_AGENT, default_transport};
use crate::transport::Transport;
use crate::{Client, ClientBuilder};

/// Looks up DNS SRV records (`_autodiscover._tcp.{domain}`) for discovery.
///
/// The default, [`NoSrv`], finds none; with the `dns` feature, `DnsSrv` asks the
/// system's resolver. Implement it over the resolver of your choice, or with a closure
/// (a table, in tests). Which record is tried first is the core's decision.
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

impl SrvResolver for NoSrv {
    fn srv(&self, _name: &str) -> Result<Vec<SrvRecord>, BoxError> {
        Ok(Vec::new())
    }
}

/// Finds the EWS endpoint of a mailbox, then builds a [`Client`] on it.
///
/// Every decision is the core's [`Discovery`](ews_proto::autodiscover::Discovery) state
/// machine; this runs its loop (HTTP through the [`Transport`], SRV through the
/// [`SrvResolver`], consent through the callback, sleeps).
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
#[derive(Debug)]
pub struct Autodiscover {
    parts: AutodiscoverParts<dyn Transport, dyn SrvResolver, ClientBuilder>,
}

impl Autodiscover {
    ews_proto::autodiscover_setters!(
        transport: Transport,
        resolver: SrvResolver,
        client: Client,
        builder: ClientBuilder,
        user_agent: DEFAULT_USER_AGENT
    );

    /// Runs discovery (or takes the cached result).
    ///
    /// # Errors
    /// [`DiscoveryError`]; its `Display` is a table of every step.
    pub fn discover(&mut self) -> Result<Discovered, DiscoveryError> {
        let mut run = self.parts.start(BUILTIN)?;
        // The whole driver loop: every decision is the core's.
        loop {
            match run.poll(Instant::now()) {
                Step::Send { request, .. } => {
                    let outcome = self
                        .parts
                        .transport(BUILTIN, default_transport)?
                        .send(request);
                    run.handle(outcome, Instant::now());
                }
                Step::ResolveSrv { name } => run.srv_resolved(self.parts.resolver().srv(&name)),
                Step::Confirm(redirect) => run.confirm(&redirect),
                Step::FetchToken { .. } => run.refuse_token(),
                Step::Sleep { until } => {
                    std::thread::sleep(until.saturating_duration_since(Instant::now()));
                }
                Step::Done(result) => return result,
            }
        }
    }

    /// Runs discovery, then builds the client on the chosen EWS URL with the version the
    /// server supports, over the transport discovery used.
    ///
    /// # Errors
    /// [`DiscoveryError`]; [`DiscoveryError::Client`] when the discovered URL cannot be
    /// used.
    pub fn build(mut self) -> Result<Client, DiscoveryError> {
        let found = self.discover()?;
        let transport = self.parts.transport(BUILTIN, default_transport)?;
        self.client_on(&found, transport)
    }
}

/// The system's DNS resolver as an [`SrvResolver`] (feature `dns`): hickory-resolver with
/// the operating system's configuration (`/etc/resolv.conf`, the Windows registry).
///
/// hickory has no blocking API, so each lookup runs on a private current-thread tokio
/// runtime made with the resolver (no thread of its own; the lookup runs on the caller's
/// thread, within hickory's timeouts). A name without SRV records is an empty answer.
///
/// ```no_run
/// use ews_blocking::{Autodiscover, DnsSrv};
/// use ews_blocking::proto::Credentials;
///
/// let client = Autodiscover::new("kim@contoso.com", Credentials::basic("kim@contoso.com", "Passw0rd-1"))
///     .srv_resolver(DnsSrv::system()?)
///     .build()?;
/// # Ok::<(), ews_blocking::BoxError>(())
/// ```
#[cfg(feature = "dns")]
#[derive(Debug)]
pub struct DnsSrv {
    resolver: hickory_resolver::TokioResolver,
    runtime: tokio::runtime::Runtime,
}

#[cfg(feature = "dns")]
impl DnsSrv {
    /// The operating system's resolver configuration.
    ///
    /// # Errors
    /// The configuration cannot be read, or no runtime can be made.
    pub fn system() -> Result<Self, BoxError> {
        Self::with(hickory_resolver::TokioResolver::builder_tokio()?)
    }

    /// Asks only the DNS server at `server` (UDP, then TCP on the same port).
    ///
    /// # Errors
    /// No runtime can be made.
    pub fn with_name_server(server: std::net::SocketAddr) -> Result<Self, BoxError> {
        use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
        let servers = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), servers);
        Self::with(hickory_resolver::TokioResolver::builder_with_config(
            config,
            Default::default(),
        ))
    }

    fn with(
        builder: hickory_resolver::ResolverBuilder<
            hickory_resolver::name_server::TokioConnectionProvider,
        >,
    ) -> Result<Self, BoxError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            resolver: builder.build(),
            runtime,
        })
    }
}

#[cfg(feature = "dns")]
impl SrvResolver for DnsSrv {
    fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, BoxError> {
        // A fully qualified name: no search domain is appended.
        let name = format!("{}.", name.trim_end_matches('.'));
        match self.runtime.block_on(self.resolver.srv_lookup(name)) {
            Ok(found) => Ok(found
                .iter()
                .map(|r| SrvRecord::new(r.priority(), r.weight(), r.port(), r.target().to_utf8()))
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use ews_proto::autodiscover::SharedCache;
    use ews_proto::{Credentials, TransportError};

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
        assert!(!format!("{:?}", cache.lock().unwrap()).contains("Passw0rd-1"));
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
