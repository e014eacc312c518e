//! The loopback Autodiscover server: SOAP `GetUserSettings` and POX `autodiscover.xml`
//! over https, the unauthenticated http redirect probe over http, one host name at a
//! time (routed by the `Host` header), with a record of every request.
//!
//! Discovery asks real host names on ports 443 and 80 (`contoso.com`,
//! `autodiscover.contoso.com`, ...). The server listens on two loopback ports (https and
//! http) and a client is told to connect each name there ([`AutodiscoverSim::resolves`],
//! the `--resolve` of curl); names whose connection must be refused go to a loopback port
//! nobody listens on. Its own test CA signs one leaf certificate that names every
//! configured host, so the client's TLS check of the real name still happens.
//!
//! What each host does is a [`AdHost`] (its SOAP and POX endpoints, each an
//! [`AdAnswer`]) or, on http, an [`AdProbe`]. The answers are written here from
//! Microsoft's documented shapes (the `GetUserSettings` response, the POX Outlook
//! response schema `2006a`) with the `http://` namespaces servers use; requests are read
//! by namespace URI and local name and checked element by element against the documented
//! request (anything else is a SOAP fault, or POX error `600`).
//!
//! ```
//! use ews_tests::sim::autodiscover::{AdAnswer, AdConfig, AdHost, AutodiscoverSim, Deployment};
//!
//! let sim = AutodiscoverSim::start(
//!     AdConfig::contoso().host(
//!         "autodiscover.contoso.com",
//!         AdHost::both(AdAnswer::Settings(Deployment::external("https://mail.contoso.com/EWS/Exchange.asmx"))),
//!     ),
//! );
//! // Every configured name, on 443 and 80, with where to connect it.
//! let to = sim.resolves().into_iter().find(|(h, p, _)| h == "autodiscover.contoso.com" && *p == 443);
//! assert_eq!(to.map(|(_, _, a)| a), Some(sim.https_addr()));
//! assert!(sim.ca_pem().contains("BEGIN CERTIFICATE"));
//! assert!(sim.requests().is_empty());
//! ```

mod wire;

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

use super::lock;

/// A mailbox the server knows (its SMTP address is also the Basic user name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdUser {
    /// Primary SMTP address.
    pub smtp: String,
    /// Display name.
    pub display_name: String,
    /// Basic password.
    pub password: String,
}

impl AdUser {
    /// A user.
    pub fn new(smtp: &str, display_name: &str, password: &str) -> Self {
        AdUser {
            smtp: smtp.to_owned(),
            display_name: display_name.to_owned(),
            password: password.to_owned(),
        }
    }
}

/// Where a mailbox's EWS lives, as the settings answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// `InternalEwsUrl` (POX: the `EXCH` protocol); `None`: `SettingIsNotAvailable`.
    pub internal_ews_url: Option<String>,
    /// `ExternalEwsUrl` (POX: the `EXPR` protocol); `None`: `SettingIsNotAvailable`.
    pub external_ews_url: Option<String>,
    /// `CasVersion`, four numbers (POX: `ServerVersion` in its hex encoding).
    pub cas_version: (u32, u32, u32, u32),
    /// `EwsSupportedSchemas`, comma separated as Exchange writes it (empty: not
    /// available).
    pub ews_supported_schemas: String,
}

impl Deployment {
    /// Both URLs the same (the usual on-premises setup seen from outside).
    pub fn both(url: &str) -> Self {
        Deployment {
            internal_ews_url: Some(url.to_owned()),
            external_ews_url: Some(url.to_owned()),
            ..Self::external(url)
        }
    }

    /// Only `ExternalEwsUrl`.
    pub fn external(url: &str) -> Self {
        Deployment {
            internal_ews_url: None,
            external_ews_url: Some(url.to_owned()),
            cas_version: (15, 1, 2507, 6),
            ews_supported_schemas: "Exchange2007, Exchange2007_SP1, Exchange2010, \
                Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016"
                .to_owned(),
        }
    }

    /// An internal-only deployment: `InternalEwsUrl`, and `ExternalEwsUrl` not available.
    pub fn internal_only(url: &str) -> Self {
        Deployment {
            internal_ews_url: Some(url.to_owned()),
            external_ews_url: None,
            ..Self::external(url)
        }
    }
}

/// The `ErrorCode` level an error answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdLevel {
    /// `Response/ErrorCode` (POX: `Response/Error`).
    Response,
    /// `UserResponse/ErrorCode` (POX: `Account/Error`).
    User,
}

/// What one endpoint (SOAP or POX) of a host answers an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdAnswer {
    /// The settings of the mailbox asked for (`InvalidUser` / POX `500` for an unknown
    /// one).
    Settings(Deployment),
    /// `RedirectAddress` (POX `redirectAddr`) to this address.
    RedirectAddress(String),
    /// `RedirectUrl` (POX `redirectUrl`) to this Autodiscover URL.
    RedirectUrl(String),
    /// An error code at a level (POX: the code is written as given, e.g. `500`).
    Error(AdLevel, String),
    /// This HTTP status with an empty body, before any authentication (404: no such
    /// endpoint; 401: refuses every credential).
    Status(u16),
}

/// What one https host does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdHost {
    /// `/autodiscover/autodiscover.svc`.
    pub soap: AdAnswer,
    /// `/autodiscover/autodiscover.xml`.
    pub pox: AdAnswer,
    /// Nobody listens: the connection is refused.
    pub refuse: bool,
}

impl AdHost {
    /// Both endpoints answer `answer`.
    pub fn both(answer: AdAnswer) -> Self {
        AdHost {
            soap: answer.clone(),
            pox: answer,
            refuse: false,
        }
    }

    /// SOAP answers `answer`; there is no POX endpoint (404).
    pub fn soap(answer: AdAnswer) -> Self {
        AdHost {
            soap: answer,
            pox: AdAnswer::Status(404),
            refuse: false,
        }
    }

    /// POX answers `answer`; there is no SOAP endpoint (404), as Exchange 2007.
    pub fn pox(answer: AdAnswer) -> Self {
        AdHost {
            soap: AdAnswer::Status(404),
            pox: answer,
            refuse: false,
        }
    }

    /// The connection is refused.
    pub fn refuse() -> Self {
        AdHost {
            refuse: true,
            ..AdHost::both(AdAnswer::Status(404))
        }
    }
}

/// What `GET http://{host}/autodiscover/autodiscover.xml` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdProbe {
    /// `302 Found` to this `Location`.
    Redirect(String),
    /// This status, no `Location`.
    Status(u16),
}

/// The organisation: users, hosts, probes.
#[derive(Debug, Clone, Default)]
pub struct AdConfig {
    /// The mailboxes.
    pub users: Vec<AdUser>,
    /// The https hosts.
    pub hosts: Vec<(String, AdHost)>,
    /// The http hosts answering the redirect probe.
    pub probes: Vec<(String, AdProbe)>,
    /// Further names that exist but refuse every connection (so that no lookup ever
    /// leaves the machine).
    pub names: Vec<String>,
}

impl AdConfig {
    /// `kim@contoso.com` (`Kim Akers`, password `Passw0rd-k`) and `kim@fabrikam.com`
    /// (`Kim Akers (Fabrikam)`, the same password); the names `contoso.com`,
    /// `autodiscover.contoso.com`, `mail.contoso.com`, `fabrikam.com`,
    /// `autodiscover.fabrikam.com` known and refusing until configured.
    pub fn contoso() -> Self {
        AdConfig {
            users: vec![
                AdUser::new("kim@contoso.com", "Kim Akers", "Passw0rd-k"),
                AdUser::new("kim@fabrikam.com", "Kim Akers (Fabrikam)", "Passw0rd-k"),
            ],
            hosts: Vec::new(),
            probes: Vec::new(),
            names: [
                "contoso.com",
                "autodiscover.contoso.com",
                "mail.contoso.com",
                "fabrikam.com",
                "autodiscover.fabrikam.com",
            ]
            .map(String::from)
            .to_vec(),
        }
    }

    /// Sets what https host `name` does (replacing an earlier setting).
    pub fn host(mut self, name: &str, host: AdHost) -> Self {
        let name = name.to_ascii_lowercase();
        self.hosts.retain(|(n, _)| *n != name);
        self.hosts.push((name, host));
        self
    }

    /// Sets what `http://{name}/autodiscover/autodiscover.xml` answers.
    pub fn probe(mut self, name: &str, probe: AdProbe) -> Self {
        let name = name.to_ascii_lowercase();
        self.probes.retain(|(n, _)| *n != name);
        self.probes.push((name, probe));
        self
    }

    /// Every name the server knows (hosts, probes, names), once each.
    fn all_names(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        let names = self.hosts.iter().map(|(n, _)| n);
        for n in names
            .chain(self.probes.iter().map(|(n, _)| n))
            .chain(&self.names)
        {
            let n = n.to_ascii_lowercase();
            if !all.contains(&n) {
                all.push(n);
            }
        }
        all
    }
}

/// An `Authorization` header the server saw: its scheme, and the value (for assertions;
/// never shown by `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct AdAuthorization {
    /// `Basic`, `Bearer`, `NTLM`, ... as sent.
    pub scheme: String,
    value: String,
}

impl AdAuthorization {
    /// The whole header value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for AdAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <{} bytes>", self.scheme, self.value.len())
    }
}

/// What kind of request the server took it for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdKind {
    /// A POST to `autodiscover.svc`.
    Soap,
    /// A POST to `autodiscover.xml` over https.
    Pox,
    /// Anything over http (the probe is a `GET` of `autodiscover.xml`).
    Http,
    /// Any other path or method.
    Other,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct AdRequest {
    /// `https` or `http` (which listener took it).
    pub scheme: &'static str,
    /// The `Host` header's name (lower case, without the port).
    pub host: String,
    /// The `Host` header's port, else the scheme's default.
    pub port: u16,
    /// The loopback port the connection came to.
    pub local_port: u16,
    /// The method.
    pub method: String,
    /// The path (with query).
    pub path: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<AdAuthorization>,
    /// What it was taken for.
    pub kind: AdKind,
    /// SOAP: `Mailbox`; POX: `EMailAddress`.
    pub mailbox: Option<String>,
    /// SOAP: the `RequestedSettings/Setting` values, in order.
    pub settings: Vec<String>,
    /// SOAP: `RequestedServerVersion`.
    pub requested_version: Option<String>,
    /// SOAP: `wsa:To`.
    pub to: Option<String>,
    /// SOAP: `wsa:Action`.
    pub action: Option<String>,
    /// The `SOAPAction` header.
    pub soap_action: Option<String>,
    /// Why the body was refused as not the documented request (`None`: accepted, or
    /// not read).
    pub invalid: Option<String>,
    /// The status answered.
    pub status: u16,
}

impl AdRequest {
    /// `scheme://host[:port]path`, the URL the client asked (the port shown when not the
    /// scheme's default).
    pub fn url(&self) -> String {
        let default = if self.scheme == "https" { 443 } else { 80 };
        match self.port == default {
            true => format!("{}://{}{}", self.scheme, self.host, self.path),
            false => format!("{}://{}:{}{}", self.scheme, self.host, self.port, self.path),
        }
    }
}

struct Shared {
    config: AdConfig,
    requests: Mutex<Vec<AdRequest>>,
}

/// A running Autodiscover server (two loopback listeners, one thread). Dropping it stops
/// the server.
pub struct AutodiscoverSim {
    shared: Arc<Shared>,
    https: SocketAddr,
    http: SocketAddr,
    refused: SocketAddr,
    /// Holds `refused` (bound, not listening).
    _refusing: tokio::net::TcpSocket,
    ca_pem: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for AutodiscoverSim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutodiscoverSim")
            .field("https", &self.https)
            .field("http", &self.http)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl AutodiscoverSim {
    /// Starts the server.
    ///
    /// # Panics
    /// If a loopback socket, the runtime or the certificates cannot be made.
    pub fn start(config: AdConfig) -> Self {
        match Self::try_start(config) {
            Ok(sim) => sim,
            Err(e) => panic!("cannot start the Autodiscover simulator: {e}"),
        }
    }

    /// Starts the server, reporting setup errors.
    pub fn try_start(config: AdConfig) -> std::io::Result<Self> {
        let https = TcpListener::bind("127.0.0.1:0")?;
        let http = TcpListener::bind("127.0.0.1:0")?;
        // A port nobody listens on: bound (so nobody else gets it) but never listening,
        // so every connection to it is refused.
        let refusing = tokio::net::TcpSocket::new_v4()?;
        refusing.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let refused = refusing.local_addr()?;
        for l in [&https, &http] {
            l.set_nonblocking(true)?;
        }
        let (https_addr, http_addr) = (https.local_addr()?, http.local_addr()?);
        let (ca_pem, acceptor) = tls(&config.all_names()).map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            config,
            requests: Mutex::new(Vec::new()),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("autodiscover-sim-{}", https_addr.port()))
            .spawn(move || {
                runtime.block_on(serve(https, http, server, acceptor, rx));
                runtime.shutdown_background();
            })?;
        Ok(AutodiscoverSim {
            shared,
            https: https_addr,
            http: http_addr,
            refused,
            _refusing: refusing,
            ca_pem,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The https listener.
    pub fn https_addr(&self) -> SocketAddr {
        self.https
    }

    /// The http listener.
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// A loopback address whose connections are refused.
    pub fn refused_addr(&self) -> SocketAddr {
        self.refused
    }

    /// The test CA (PEM) that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Where a client connects each known name, on 443 and on 80: the https listener
    /// for a configured (not refusing) host, the http listener for a probe host, else
    /// the refused address.
    pub fn resolves(&self) -> Vec<(String, u16, SocketAddr)> {
        let c = &self.shared.config;
        let mut out = Vec::new();
        for name in c.all_names() {
            let served = c.hosts.iter().any(|(n, h)| *n == name && !h.refuse);
            let probed = c.probes.iter().any(|(n, _)| *n == name);
            out.push((
                name.clone(),
                443,
                if served { self.https } else { self.refused },
            ));
            out.push((name, 80, if probed { self.http } else { self.refused }));
        }
        out
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<AdRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Every `Authorization` header seen, per `scheme://host:port` the client asked
    /// (hosts with none are absent), in order of arrival.
    pub fn authorizations(&self) -> std::collections::BTreeMap<String, Vec<AdAuthorization>> {
        let mut out = std::collections::BTreeMap::<String, Vec<AdAuthorization>>::new();
        for r in lock(&self.shared.requests).iter() {
            if let Some(a) = &r.authorization {
                let key = format!("{}://{}:{}", r.scheme, r.host, r.port);
                out.entry(key).or_default().push(a.clone());
            }
        }
        out
    }

    /// Forgets the requests seen so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }
}

impl Drop for AutodiscoverSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A CA and a leaf for `names`; the acceptor serves (leaf, CA).
fn tls(
    names: &[String],
) -> Result<(String, TlsAcceptor), Box<dyn std::error::Error + Send + Sync>> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Autodiscover simulator test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "autodiscover-simulator");
    let leaf = params.signed_by(&key, &issuer)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), CertificateDer::from(ca.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    Ok((ca.pem(), TlsAcceptor::from(Arc::new(config))))
}

async fn serve(
    https: TcpListener,
    http: TcpListener,
    shared: Arc<Shared>,
    acceptor: TlsAcceptor,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let (Ok(https), Ok(http)) = (
        tokio::net::TcpListener::from_std(https),
        tokio::net::TcpListener::from_std(http),
    ) else {
        return;
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = https.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let local = stream.local_addr().map(|a| a.port()).unwrap_or(0);
                let (shared, acceptor) = (Arc::clone(&shared), acceptor.clone());
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        connection(stream, shared, "https", local).await;
                    }
                });
            }
            accepted = http.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let local = stream.local_addr().map(|a| a.port()).unwrap_or(0);
                tokio::spawn(connection(stream, Arc::clone(&shared), "http", local));
            }
        }
    }
}

async fn connection<I>(io: I, shared: Arc<Shared>, scheme: &'static str, local_port: u16)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move {
            let answer = handle(&shared, scheme, local_port, req).await;
            Ok::<_, std::convert::Infallible>(answer)
        }
    });
    let _ = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

async fn handle(
    shared: &Shared,
    scheme: &'static str,
    local_port: u16,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host_header = header(header::HOST).unwrap_or_default();
    let (host, port) = split_host(&host_header, if scheme == "https" { 443 } else { 80 });
    let authorization = header(header::AUTHORIZATION).map(|value| AdAuthorization {
        scheme: value.split(' ').next().unwrap_or_default().to_owned(),
        value,
    });
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let lower = parts.uri.path().to_ascii_lowercase();
    let post = parts.method == http::Method::POST;
    let kind = match (scheme, lower.as_str()) {
        ("http", _) => AdKind::Http,
        (_, "/autodiscover/autodiscover.svc") if post => AdKind::Soap,
        (_, "/autodiscover/autodiscover.xml") if post => AdKind::Pox,
        _ => AdKind::Other,
    };
    let mut rec = AdRequest {
        scheme,
        host: host.clone(),
        port,
        local_port,
        method: parts.method.to_string(),
        path,
        authorization,
        kind,
        mailbox: None,
        settings: Vec::new(),
        requested_version: None,
        to: None,
        action: None,
        soap_action: header(header::HeaderName::from_static("soapaction")),
        invalid: None,
        status: 0,
    };
    let c = &shared.config;
    let response = match kind {
        AdKind::Http => {
            let probe = c.probes.iter().find(|(n, _)| *n == host).map(|(_, p)| p);
            let is_probe =
                parts.method == http::Method::GET && lower == "/autodiscover/autodiscover.xml";
            match probe {
                Some(AdProbe::Redirect(to)) if is_probe => {
                    let mut r = empty(StatusCode::FOUND);
                    if let Ok(v) = HeaderValue::from_str(to) {
                        r.headers_mut().insert(header::LOCATION, v);
                    }
                    r
                }
                Some(AdProbe::Status(s)) if is_probe => empty(status(*s)),
                _ => empty(StatusCode::NOT_FOUND),
            }
        }
        AdKind::Soap | AdKind::Pox => {
            let served = c.hosts.iter().find(|(n, h)| *n == host && !h.refuse);
            match served {
                None => empty(StatusCode::NOT_FOUND),
                Some((_, h)) => {
                    let answer = if kind == AdKind::Soap {
                        &h.soap
                    } else {
                        &h.pox
                    };
                    endpoint(c, kind, answer, &body, &mut rec)
                }
            }
        }
        AdKind::Other => empty(StatusCode::NOT_FOUND),
    };
    rec.status = response.status().as_u16();
    lock(&shared.requests).push(rec);
    response
}

/// One SOAP or POX endpoint: status answers first, then authentication, then the body.
fn endpoint(
    c: &AdConfig,
    kind: AdKind,
    answer: &AdAnswer,
    body: &[u8],
    rec: &mut AdRequest,
) -> Response<Full<Bytes>> {
    if let AdAnswer::Status(s) = answer {
        return match *s {
            401 => unauthorized(),
            s => empty(status(s)),
        };
    }
    let authenticated = rec
        .authorization
        .as_ref()
        .is_some_and(|a| basic_user(c, a.value()).is_some());
    if !authenticated {
        return unauthorized();
    }
    let text = String::from_utf8_lossy(body);
    if kind == AdKind::Soap {
        match wire::read_soap(&text) {
            Ok(r) => {
                rec.mailbox = Some(r.mailbox.clone());
                rec.settings = r.settings.clone();
                rec.requested_version = r.version.clone();
                rec.to = r.to.clone();
                rec.action = r.action.clone();
                xml(StatusCode::OK, wire::soap_answer(c, answer, &r))
            }
            Err(why) => {
                rec.invalid = Some(why.clone());
                xml(StatusCode::INTERNAL_SERVER_ERROR, wire::soap_fault(&why))
            }
        }
    } else {
        match wire::read_pox(&text) {
            Ok(mailbox) => {
                rec.mailbox = Some(mailbox.clone());
                xml(StatusCode::OK, wire::pox_answer(c, answer, &mailbox))
            }
            Err(why) => {
                rec.invalid = Some(why.clone());
                xml(StatusCode::OK, wire::pox_error("600", "Invalid Request"))
            }
        }
    }
}

/// The user a Basic header names, if its password is right.
fn basic_user<'a>(c: &'a AdConfig, value: &str) -> Option<&'a AdUser> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(super::state::unb64(rest.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    c.users
        .iter()
        .find(|u| u.smtp.eq_ignore_ascii_case(user) && u.password == password)
}

fn split_host(host: &str, default: u16) -> (String, u16) {
    let host = host.trim().to_ascii_lowercase();
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((h, p)) = rest.split_once(']') {
            let port = p.strip_prefix(':').and_then(|p| p.parse().ok());
            return (h.to_owned(), port.unwrap_or(default));
        }
    }
    match host.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_owned(), p.parse().unwrap_or(default)),
        _ => (host.trim_end_matches('.').to_owned(), default),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

fn unauthorized() -> Response<Full<Bytes>> {
    let mut r = empty(StatusCode::UNAUTHORIZED);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"autodiscover\""),
    );
    r
}

fn xml(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_split_into_name_and_port() {
        assert_eq!(split_host("Contoso.COM", 443), ("contoso.com".into(), 443));
        assert_eq!(
            split_host("contoso.com:8443", 443),
            ("contoso.com".into(), 8443)
        );
        assert_eq!(split_host("[::1]:80", 443), ("::1".into(), 80));
        assert_eq!(split_host("contoso.com.", 80), ("contoso.com".into(), 80));
    }

    #[test]
    fn every_name_resolves_on_both_ports() {
        let sim = AutodiscoverSim::start(
            AdConfig::contoso()
                .host("contoso.com", AdHost::refuse())
                .host(
                    "autodiscover.contoso.com",
                    AdHost::both(AdAnswer::Status(404)),
                )
                .probe("autodiscover.contoso.com", AdProbe::Status(404)),
        );
        let r = sim.resolves();
        let at = |h: &str, p: u16| r.iter().find(|(n, q, _)| n == h && *q == p).map(|e| e.2);
        assert_eq!(at("contoso.com", 443), Some(sim.refused_addr()));
        assert_eq!(at("autodiscover.contoso.com", 443), Some(sim.https_addr()));
        assert_eq!(at("autodiscover.contoso.com", 80), Some(sim.http_addr()));
        assert_eq!(at("fabrikam.com", 80), Some(sim.refused_addr()));
        assert_eq!(r.len(), 10);
        let shown = format!(
            "{:?}",
            AdAuthorization {
                scheme: "Basic".into(),
                value: "Basic c2VjcmV0".into()
            }
        );
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
    }
}
