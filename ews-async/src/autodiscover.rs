//! [`Autodiscover`]: a [`Client`] from an email address and credentials (async).
//!
//! The settings and everything that is not I/O are the core's
//! ([`AutodiscoverConfig`](ews_proto::autodiscover::AutodiscoverConfig) and
//! [`Run`](ews_proto::autodiscover::Run)); this is the driver loop.

use std::future::Future;
use std::sync::Arc;

use ews_proto::autodiscover::{
    AutodiscoverParts, Discovered, DiscoveryError, NoSrv, SrvRecord, Step,
};

use crate::client::{BUILTIN, DEFAULT_USER_AGENT, default_transport};
use crate::token::BoxError;
use crate::transport::{BoxFuture, DynTransport, Transport, TransportResult};
use crate::{Client, ClientBuilder};

/// What an [`SrvResolver`] returns.
pub type SrvResult = Result<Vec<SrvRecord>, BoxError>;

/// Looks up DNS SRV records (`_autodiscover._tcp.{domain}`) for discovery, asynchronously.
///
/// The default, [`NoSrv`], finds none; with the `dns` feature, `DnsSrv` asks the
/// system's resolver. Implement it over the resolver of your choice, or with a closure
/// returning a future (a table, in tests). Which record is tried first is the core's
/// decision.
///
/// ```
/// use ews_async::{Autodiscover, Credentials};
/// use ews_async::proto::autodiscover::SrvRecord;
///
/// let discovery = Autodiscover::new("kim@contoso.com", Credentials::None).srv_resolver(|name: &str| {
///     let found = name == "_autodiscover._tcp.contoso.com";
///     async move { Ok(if found { vec![SrvRecord::new(0, 0, 443, "mail.contoso.com")] } else { vec![] }) }
/// });
/// # let _ = discovery;
/// ```
pub trait SrvResolver: Send + Sync + 'static {
    /// The SRV records of `name`.
    fn srv(&self, name: &str) -> impl Future<Output = SrvResult> + Send;
}

impl<F, Fut> SrvResolver for F
where
    F: Fn(&str) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = SrvResult> + Send,
{
    fn srv(&self, name: &str) -> impl Future<Output = SrvResult> + Send {
        self(name)
    }
}

impl SrvResolver for NoSrv {
    async fn srv(&self, _name: &str) -> SrvResult {
        Ok(Vec::new())
    }
}

/// The object-safe form [`Autodiscover`] stores.
pub(crate) trait DynSrvResolver: Send + Sync + 'static {
    fn srv_boxed<'a>(&'a self, name: &'a str) -> BoxFuture<'a, SrvResult>;
}

impl<R: SrvResolver> DynSrvResolver for R {
    fn srv_boxed<'a>(&'a self, name: &'a str) -> BoxFuture<'a, SrvResult> {
        Box::pin(self.srv(name))
    }
}

/// Finds the EWS endpoint of a mailbox, then builds a [`Client`] on it.
///
/// Every decision is the core's [`Discovery`](ews_proto::autodiscover::Discovery) state
/// machine; this runs its loop (HTTP through the [`Transport`], SRV through the
/// [`SrvResolver`], consent through the callback, sleeps).
///
/// ```no_run
/// use ews_async::Autodiscover;
/// use ews_async::proto::Credentials;
///
/// # async fn run() -> Result<(), ews_async::proto::autodiscover::DiscoveryError> {
/// let client = Autodiscover::new("kim@contoso.com", Credentials::basic("kim@contoso.com", "Passw0rd-1"))
///     .build()
///     .await?;
/// println!("EWS at {}", client.context().endpoint());
/// # Ok(())
/// # }
/// ```
#[must_use = "discovery runs at `discover` or `build`"]
#[derive(Debug)]
pub struct Autodiscover {
    parts: AutodiscoverParts<dyn DynTransport, dyn DynSrvResolver, ClientBuilder>,
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
    pub async fn discover(&mut self) -> Result<Discovered, DiscoveryError> {
        let mut run = self.parts.start(BUILTIN)?;
        // The whole driver loop: every decision is the core's.
        loop {
            match run.poll(now()) {
                Step::Send {
                    request, deadline, ..
                } => {
                    let transport = self.parts.transport(BUILTIN, default_transport)?;
                    let outcome = exchange(&*transport, request, deadline).await;
                    run.handle(outcome, now());
                }
                Step::ResolveSrv { name } => {
                    run.srv_resolved(self.parts.resolver().srv_boxed(&name).await);
                }
                Step::Confirm(redirect) => run.confirm(&redirect),
                Step::FetchToken { .. } => run.refuse_token(),
                Step::Sleep { until } => tokio::time::sleep_until(until.into()).await,
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
    pub async fn build(mut self) -> Result<Client, DiscoveryError> {
        let found = self.discover().await?;
        let transport = self.parts.transport(BUILTIN, default_transport)?;
        self.client_on(&found, Shared(transport))
    }
}

/// The core's notion of now, on tokio's clock (paused-time tests see their sleeps).
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// One exchange, over by `deadline` whatever the transport does.
async fn exchange(
    transport: &dyn DynTransport,
    request: http::Request<bytes::Bytes>,
    deadline: Option<std::time::Instant>,
) -> TransportResult {
    let sending = transport.send_boxed(request);
    match deadline {
        Some(at) => tokio::time::timeout_at(at.into(), sending)
            .await
            .unwrap_or_else(|_| {
                Err(ews_proto::TransportError::new(
                    ews_proto::TransportErrorKind::Timeout,
                    "no complete answer by the deadline",
                ))
            }),
        None => sending.await,
    }
}

/// The discovery's transport, handed on to the client.
struct Shared(Arc<dyn DynTransport>);

impl Transport for Shared {
    fn send(
        &self,
        request: http::Request<bytes::Bytes>,
    ) -> impl std::future::Future<Output = TransportResult> + Send {
        self.0.send_boxed(request)
    }

    fn name(&self) -> &'static str {
        self.0.name()
    }
}

/// The system's DNS resolver as an [`SrvResolver`] (feature `dns`): hickory-resolver on
/// the current tokio runtime, with the operating system's configuration
/// (`/etc/resolv.conf`, the Windows registry). A name without SRV records is an empty
/// answer.
///
/// ```no_run
/// use ews_async::{Autodiscover, DnsSrv};
/// use ews_async::proto::Credentials;
///
/// # async fn run() -> Result<(), ews_async::BoxError> {
/// let client = Autodiscover::new("kim@contoso.com", Credentials::basic("kim@contoso.com", "Passw0rd-1"))
///     .srv_resolver(DnsSrv::system()?)
///     .build()
///     .await?;
/// # let _ = client; Ok(()) }
/// ```
#[cfg(feature = "dns")]
#[derive(Debug, Clone)]
pub struct DnsSrv(hickory_resolver::TokioResolver);

#[cfg(feature = "dns")]
impl DnsSrv {
    /// The operating system's resolver configuration.
    ///
    /// # Errors
    /// The configuration cannot be read.
    pub fn system() -> Result<Self, BoxError> {
        Ok(Self(
            hickory_resolver::TokioResolver::builder_tokio()?.build(),
        ))
    }

    /// Asks only the DNS server at `server` (UDP, then TCP on the same port).
    pub fn with_name_server(server: std::net::SocketAddr) -> Self {
        use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
        let group = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let provider = hickory_resolver::name_server::TokioConnectionProvider::default();
        let config = ResolverConfig::from_parts(None, Vec::new(), group);
        Self(hickory_resolver::TokioResolver::builder_with_config(config, provider).build())
    }
}

#[cfg(feature = "dns")]
impl SrvResolver for DnsSrv {
    async fn srv(&self, name: &str) -> SrvResult {
        // A fully qualified name: no search domain is appended.
        let lookup = self
            .0
            .srv_lookup(format!("{}.", name.trim_end_matches('.')));
        match lookup.await {
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(e.into()),
            Ok(found) => Ok(found
                .iter()
                .map(|r| SrvRecord::new(r.priority(), r.weight(), r.port(), r.target().to_utf8()))
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use std::sync::Mutex;

    use bytes::Bytes;
    use ews_proto::autodiscover::{SharedCache, UrlChoice};
    use ews_proto::{Credentials, TransportError};

    use super::*;
    use crate::FnTransport;

    const SETTINGS: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>InternalEwsUrl</Name><Value>https://ex01.corp.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;

    #[tokio::test]
    async fn a_client_from_an_address_on_the_chosen_url_and_cached() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let transport = Arc::new(FnTransport::new(move |request: http::Request<Bytes>| {
            counted.fetch_add(1, Ordering::SeqCst);
            let found = request.uri().host() == Some("contoso.com")
                && request.headers().get("authorization").is_some();
            async move {
                if found {
                    Ok(http::Response::new(Bytes::from_static(SETTINGS.as_bytes())))
                } else {
                    Err(TransportError::new(
                        ews_proto::TransportErrorKind::Connect,
                        "refused",
                    ))
                }
            }
        }));
        let cache = SharedCache::default();
        let creds = || Credentials::basic("kim@contoso.com", "Passw0rd-1");
        let client = Autodiscover::new("kim@contoso.com", creds())
            .transport(Arc::clone(&transport))
            .url_choice(UrlChoice::Internal)
            .cache(&cache)
            .build()
            .await
            .unwrap();
        assert_eq!(
            client.context().endpoint().to_string(),
            "https://ex01.corp.contoso.com/EWS/Exchange.asmx"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let external = Autodiscover::new("kim@contoso.com", creds())
            .transport(Arc::clone(&transport))
            .cache(&cache)
            .build()
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "served from the cache");
        assert_eq!(
            external.context().endpoint().to_string(),
            "https://mail.contoso.com/EWS/Exchange.asmx"
        );
    }

    #[tokio::test]
    async fn srv_lookups_go_through_the_resolver_and_its_targets_are_asked() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (seen, sent) = (Arc::clone(&asked), Arc::clone(&asked));
        let e = Autodiscover::new("kim@contoso.com", Credentials::None)
            .transport(FnTransport::new(move |request: http::Request<Bytes>| {
                sent.lock().unwrap().push(request.uri().to_string());
                async {
                    Err(TransportError::new(
                        ews_proto::TransportErrorKind::Connect,
                        "refused",
                    ))
                }
            }))
            .srv_resolver(move |name: &str| {
                seen.lock().unwrap().push(name.to_owned());
                async { Ok(vec![SrvRecord::new(0, 0, 443, "ad.contoso.com.")]) }
            })
            .discover()
            .await
            .unwrap_err();
        let asked = asked.lock().unwrap();
        let srv = asked
            .iter()
            .position(|a| a == "_autodiscover._tcp.contoso.com")
            .expect("the SRV name was resolved");
        assert_eq!(
            asked[srv + 1..].first().map(String::as_str),
            Some("https://ad.contoso.com/autodiscover/autodiscover.svc"),
            "{asked:?}"
        );
        assert!(matches!(e, DiscoveryError::Transport(_)), "{e}");
    }
}
