//! Autodiscover conformance: every scenario of the loopback Autodiscover simulator
//! (`ews_tests::sim::autodiscover`), written once and run through both faces' builders
//! (`ews_blocking::Autodiscover`, `ews_async::Autodiscover`) with their built-in
//! transports.
//!
//! Discovery asks real host names on 443 and 80; each client is told where to connect
//! them with the `resolve` setting (curl's `--resolve`), so the TLS check of the real name
//! (against the simulator's own CA) still happens and no lookup leaves the machine. The
//! EWS URLs handed out point at a TLS EWS simulator, so the built client makes one real
//! `GetDelegate`.
//!
//! Every scenario ends by checking the simulator's record of every request: no
//! `Authorization` header over http, none to a host outside the trusted domains.
//! Expected traces are written out step by step (URL, result, `ErrorCode`, decision),
//! from the candidate order Microsoft documents ("Autodiscover for Exchange").

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ews_proto::autodiscover::{
    Action, Discovered, DiscoveryError, ErrorCode, GET_USER_SETTINGS_ACTION, Outcome, Reason,
    Redirect, RedirectPolicy, SrvRecord, StepKind, Trace, UrlChoice, UserSettingName,
};
use ews_proto::{Credentials, ExchangeVersion, GetDelegate, RetryPolicy, TransportErrorKind};
use ews_tests::sim::autodiscover::{
    AdAnswer, AdConfig, AdHost, AdKind, AdProbe, AutodiscoverSim, Deployment,
};
use ews_tests::{SimConfig, SimUser, Simulator};

const KIM: &str = "kim@contoso.com";
const PASSWORD: &str = "Passw0rd-k";
/// `Basic` and base64 of `kim@contoso.com:Passw0rd-k`, worked out by hand (outside the
/// code under test).
const BASIC: &str = "Basic a2ltQGNvbnRvc28uY29tOlBhc3N3MHJkLWs=";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Consent = Arc<dyn Fn(&Redirect) -> bool + Send + Sync>;
type Srv = Arc<dyn Fn(&str) -> Result<Vec<SrvRecord>, BoxError> + Send + Sync>;

// ---------------------------------------------------------------------------------------
// The face-independent surface
// ---------------------------------------------------------------------------------------

/// Everything a scenario sets on an `Autodiscover` builder.
#[derive(Clone)]
struct Setup {
    email: String,
    credentials: Credentials,
    resolves: Vec<(String, u16, SocketAddr)>,
    roots: Vec<String>,
    policy: Option<RedirectPolicy>,
    consent: Option<Consent>,
    srv: Option<Srv>,
    choice: UrlChoice,
}

/// What the built client did: its endpoint, its version, and one `GetDelegate` of
/// `mailbox`.
struct Built {
    endpoint: String,
    version: ExchangeVersion,
    get_delegate: Result<(), ews_proto::Error>,
}

/// A face under test.
trait Face {
    /// Runs discovery.
    fn discover(s: &Setup) -> Result<Discovered, DiscoveryError>;
    /// Runs discovery, builds the client and makes one `GetDelegate` of `mailbox`.
    fn build(s: &Setup, mailbox: &str) -> Result<Built, DiscoveryError>;
}

/// Instantiates every scenario for one face.
macro_rules! scenarios {
    ($module:ident, $face:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn the_first_candidate_refuses_the_connection() {
                super::the_first_candidate_refuses_the_connection::<$face>();
            }

            #[test]
            fn an_http_probe_redirects_to_https_where_pox_answers() {
                super::an_http_probe_redirects_to_https_where_pox_answers::<$face>();
            }

            #[test]
            fn a_redirect_address_to_an_allowed_domain_restarts_there() {
                super::a_redirect_address_to_an_allowed_domain_restarts_there::<$face>();
            }

            #[test]
            fn a_redirect_url_to_another_domain_without_consent_is_refused() {
                super::a_redirect_url_to_another_domain_without_consent_is_refused::<$face>();
            }

            #[test]
            fn a_redirect_url_to_another_domain_with_the_callbacks_consent() {
                super::a_redirect_url_to_another_domain_with_the_callbacks_consent::<$face>();
            }

            #[test]
            fn a_redirect_loop_ends_in_a_typed_error_naming_every_step() {
                super::a_redirect_loop_ends_in_a_typed_error_naming_every_step::<$face>();
            }

            #[test]
            fn a_redirect_address_loop_ends_in_a_typed_error() {
                super::a_redirect_address_loop_ends_in_a_typed_error::<$face>();
            }

            #[test]
            fn a_401_on_one_candidate_does_not_end_discovery() {
                super::a_401_on_one_candidate_does_not_end_discovery::<$face>();
            }

            #[test]
            fn srv_only_discovery_uses_the_resolver() {
                super::srv_only_discovery_uses_the_resolver::<$face>();
            }

            #[test]
            fn an_internal_only_deployment() {
                super::an_internal_only_deployment::<$face>();
            }

            #[test]
            fn credentials_never_go_over_http_nor_to_a_host_the_policy_did_not_allow() {
                super::credentials_never_go_over_http_nor_to_a_host_the_policy_did_not_allow::<
                    $face,
                >();
            }

            #[test]
            fn error_codes_at_the_response_and_the_user_level_move_on() {
                super::error_codes_at_the_response_and_the_user_level_move_on::<$face>();
            }

            #[test]
            fn a_certificate_that_does_not_name_the_host_is_refused() {
                super::a_certificate_that_does_not_name_the_host_is_refused::<$face>();
            }

            #[test]
            fn nobody_answering_is_a_transport_error() {
                super::nobody_answering_is_a_transport_error::<$face>();
            }
        }
    };
}

// >>> BLOCKING FACE <<<

struct Blocking;

fn blocking(s: &Setup) -> Result<ews_blocking::Autodiscover, DiscoveryError> {
    let mut a = ews_blocking::Autodiscover::new(&s.email, s.credentials.clone())
        .url_choice(s.choice)
        .retry_policy(fast_retries());
    for (host, port, addr) in &s.resolves {
        a = a.resolve(host, *port, *addr);
    }
    for pem in &s.roots {
        a = a.add_root_certificate_pem(pem.as_bytes());
    }
    if let Some(p) = &s.policy {
        a = a.redirect_policy(p.clone());
    }
    if let Some(c) = &s.consent {
        let c = Arc::clone(c);
        a = a.consent(move |r| c(r));
    }
    if let Some(srv) = &s.srv {
        let srv = Arc::clone(srv);
        a = a.srv_resolver(move |name: &str| srv(name));
    }
    Ok(a)
}

impl Face for Blocking {
    fn discover(s: &Setup) -> Result<Discovered, DiscoveryError> {
        blocking(s)?.discover()
    }

    fn build(s: &Setup, mailbox: &str) -> Result<Built, DiscoveryError> {
        let client = blocking(s)?.build()?;
        Ok(Built {
            endpoint: client.context().endpoint().to_string(),
            version: client.context().version(),
            get_delegate: client.send(&GetDelegate::new(addr(mailbox))).map(drop),
        })
    }
}

scenarios!(blocking, Blocking);

// >>> ASYNC FACE <<<

struct Async;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn not_blocking(s: &Setup) -> Result<ews_async::Autodiscover, DiscoveryError> {
    let mut a = ews_async::Autodiscover::new(&s.email, s.credentials.clone())
        .url_choice(s.choice)
        .retry_policy(fast_retries());
    for (host, port, addr) in &s.resolves {
        a = a.resolve(host, *port, *addr);
    }
    for pem in &s.roots {
        a = a.add_root_certificate_pem(pem.as_bytes());
    }
    if let Some(p) = &s.policy {
        a = a.redirect_policy(p.clone());
    }
    if let Some(c) = &s.consent {
        let c = Arc::clone(c);
        a = a.consent(move |r| c(r));
    }
    if let Some(srv) = &s.srv {
        let srv = Arc::clone(srv);
        a = a.srv_resolver(move |name: &str| {
            let found = srv(name);
            async move { found }
        });
    }
    Ok(a)
}

impl Face for Async {
    fn discover(s: &Setup) -> Result<Discovered, DiscoveryError> {
        let mut a = not_blocking(s)?;
        runtime().block_on(a.discover())
    }

    fn build(s: &Setup, mailbox: &str) -> Result<Built, DiscoveryError> {
        let a = not_blocking(s)?;
        let rt = runtime();
        rt.block_on(async {
            let client = a.build().await?;
            Ok(Built {
                endpoint: client.context().endpoint().to_string(),
                version: client.context().version(),
                get_delegate: client
                    .send(&GetDelegate::new(addr(mailbox)))
                    .await
                    .map(drop),
            })
        })
    }
}

scenarios!(hyper, Async);

// ---------------------------------------------------------------------------------------
// The world: an Autodiscover simulator and a TLS EWS simulator
// ---------------------------------------------------------------------------------------

struct World {
    ad: AutodiscoverSim,
    ews: Simulator,
}

/// The EWS simulator (TLS) with kim@contoso.com and kim@fabrikam.com.
fn ews() -> Simulator {
    let mut config = SimConfig::seed().with_tls();
    for (smtp, name, sid) in [
        (
            KIM,
            "Kim Akers",
            "S-1-5-21-1111111111-2222222222-333333333-2001",
        ),
        (
            "kim@fabrikam.com",
            "Kim Akers (Fabrikam)",
            "S-1-5-21-1111111111-2222222222-333333333-2002",
        ),
    ] {
        config
            .users
            .push(SimUser::new(smtp, name, sid, PASSWORD, "token-kim"));
    }
    Simulator::start(config)
}

/// Starts the EWS simulator, then the Autodiscover one configured by `configure` (given
/// the EWS URL).
fn world(configure: impl FnOnce(AdConfig, &str) -> AdConfig) -> World {
    let ews = ews();
    let ad = AutodiscoverSim::start(configure(AdConfig::contoso(), &ews.url()));
    World { ad, ews }
}

impl World {
    /// Kim's discovery: Basic credentials, every name resolved to the simulator, both
    /// CAs trusted.
    fn setup(&self) -> Setup {
        Setup {
            email: KIM.to_owned(),
            credentials: Credentials::basic(KIM, PASSWORD),
            resolves: self.ad.resolves(),
            roots: vec![
                self.ad.ca_pem().to_owned(),
                self.ews.ca_pem().expect("a TLS EWS simulator").to_owned(),
            ],
            policy: None,
            consent: None,
            srv: None,
            choice: UrlChoice::default(),
        }
    }

    /// The simulator's record, checked: no credentials over http, none outside
    /// `trusted` (domains, with their subdomains); returns it.
    fn checked_requests(&self, trusted: &[&str]) -> Vec<ews_tests::sim::autodiscover::AdRequest> {
        let requests = self.ad.requests();
        for r in &requests {
            if r.scheme == "http" {
                assert!(
                    r.authorization.is_none(),
                    "credentials over http: {} {:?}",
                    r.url(),
                    r.authorization
                );
            }
            let inside = trusted
                .iter()
                .any(|d| r.host == *d || r.host.ends_with(&format!(".{d}")));
            if !inside {
                assert!(
                    r.authorization.is_none(),
                    "credentials to {} outside {trusted:?}",
                    r.url()
                );
            }
        }
        requests
    }

    /// The built client reached the EWS simulator once, as Kim, with `version`.
    fn assert_one_get_delegate(&self, built: &Built, version: &str) {
        assert_eq!(built.endpoint, self.ews.url());
        if let Err(e) = &built.get_delegate {
            panic!("GetDelegate through the discovered client: {e}");
        }
        let calls = self.ews.requests_for("GetDelegate");
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(calls[0].authenticated_as.as_deref(), Some(KIM));
        assert_eq!(calls[0].server_version.as_deref(), Some(version));
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().delays(Duration::from_millis(5), Duration::from_millis(20))
}

fn addr(s: &str) -> ews_proto::EmailAddress {
    s.parse().expect("an address")
}

fn settings(url: &str) -> AdAnswer {
    AdAnswer::Settings(Deployment::both(url))
}

const SVC: &str = "/autodiscover/autodiscover.svc";
const XML: &str = "/autodiscover/autodiscover.xml";

/// One expected trace row: kind, target, credentials, result, ErrorCode, decision.
type Row = (StepKind, String, bool, Outcome, Option<ErrorCode>, Action);

fn rows(trace: &Trace) -> Vec<Row> {
    trace
        .records()
        .iter()
        .map(|r| {
            (
                r.kind,
                r.target.clone(),
                r.credentials,
                r.outcome.clone(),
                r.error_code.clone(),
                r.action.clone(),
            )
        })
        .collect()
}

/// Compares step by step (a differing row is named with its number).
fn assert_trace(trace: &Trace, want: &[Row]) {
    let got = rows(trace);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "step {} differs; the whole trace:\n{trace}", i + 1);
    }
    assert_eq!(
        got.len(),
        want.len(),
        "the number of steps; the trace:\n{trace}"
    );
}

fn https(host: &str, path: &str) -> String {
    format!("https://{host}{path}")
}

fn refused_soap(host: &str) -> Row {
    (
        StepKind::Soap,
        https(host, SVC),
        true,
        Outcome::Transport(TransportErrorKind::Connect),
        None,
        Action::NextCandidate,
    )
}

fn done(kind: StepKind, url: String) -> Row {
    (kind, url, true, Outcome::Status(200), None, Action::Done)
}

/// The failure of a `Server` error, or a panic naming what came instead.
fn server_failure(e: &DiscoveryError) -> &ews_proto::autodiscover::Failure {
    match e {
        DiscoveryError::Server(f) => f,
        other => panic!("expected a Server error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------------------

/// Item 5, "the first candidate refuses the connection": discovery moves on to
/// `autodiscover.{domain}`; the request the core built is the documented one, as the
/// simulator read it; the client built on the answer works.
fn the_first_candidate_refuses_the_connection<F: Face>() {
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::refuse())
            .host("autodiscover.contoso.com", AdHost::soap(settings(ews)))
    });
    let found = F::discover(&w.setup()).expect("discovered");
    assert_trace(
        &found.trace,
        &[
            refused_soap("contoso.com"),
            done(StepKind::Soap, https("autodiscover.contoso.com", SVC)),
        ],
    );
    assert_eq!(
        found.autodiscover_url,
        https("autodiscover.contoso.com", SVC)
    );
    assert_eq!(found.display_name(), Some("Kim Akers"));
    assert_eq!(found.primary_smtp_address(), KIM);
    assert_eq!(found.settings.server_version, Some((15, 1, 2507)));
    assert_eq!(found.version(), ExchangeVersion::Exchange2016);
    // What the simulator read from the core's request (the round trip).
    let seen = w.checked_requests(&["contoso.com"]);
    assert_eq!(seen.len(), 1, "{seen:?}");
    let r = &seen[0];
    assert_eq!((r.kind, r.invalid.as_deref()), (AdKind::Soap, None));
    assert_eq!(r.url(), https("autodiscover.contoso.com", SVC));
    assert_eq!(r.mailbox.as_deref(), Some(KIM));
    let asked: Vec<&str> = UserSettingName::DEFAULT
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(r.settings, asked);
    assert_eq!(r.requested_version.as_deref(), Some("Exchange2010"));
    assert_eq!(
        r.to.as_deref(),
        Some(https("autodiscover.contoso.com", SVC).as_str())
    );
    assert_eq!(r.action.as_deref(), Some(GET_USER_SETTINGS_ACTION));
    assert_eq!(
        r.soap_action.as_deref(),
        Some(format!("\"{GET_USER_SETTINGS_ACTION}\"").as_str())
    );
    let auth = r.authorization.as_ref().expect("Basic credentials");
    assert_eq!(auth.scheme, "Basic");
    // The recorder really holds the header: the absence checks mean something.
    assert_eq!(auth.value(), BASIC);

    w.ad.clear_requests();
    let built = F::build(&w.setup(), KIM).expect("a client");
    assert_eq!(built.version, ExchangeVersion::Exchange2016);
    w.assert_one_get_delegate(&built, "Exchange2016");
}

/// Item 5, "an http probe that redirects to https": both https candidates refuse, the
/// unauthenticated probe is redirected to `mail.contoso.com`, which has no SOAP endpoint
/// (Exchange 2007): its POX endpoint answers.
fn an_http_probe_redirects_to_https_where_pox_answers<F: Face>() {
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::refuse())
            .host("autodiscover.contoso.com", AdHost::refuse())
            .probe(
                "autodiscover.contoso.com",
                AdProbe::Redirect(https("mail.contoso.com", XML)),
            )
            .host("mail.contoso.com", AdHost::pox(settings(ews)))
    });
    let found = F::discover(&w.setup()).expect("discovered");
    assert_trace(
        &found.trace,
        &[
            refused_soap("contoso.com"),
            refused_soap("autodiscover.contoso.com"),
            (
                StepKind::Probe,
                format!("http://autodiscover.contoso.com{XML}"),
                false,
                Outcome::Status(302),
                None,
                Action::Follow(https("mail.contoso.com", XML)),
            ),
            (
                StepKind::Soap,
                https("mail.contoso.com", SVC),
                true,
                Outcome::Status(404),
                None,
                Action::TryPox,
            ),
            done(StepKind::Pox, https("mail.contoso.com", XML)),
        ],
    );
    assert_eq!(found.display_name(), Some("Kim Akers"));
    // POX carries no CasVersion string: the version comes from ServerVersion's bits.
    assert_eq!(found.settings.server_version, Some((15, 1, 2507)));
    let seen = w.checked_requests(&["contoso.com"]);
    let kinds: Vec<(AdKind, String, bool)> = seen
        .iter()
        .map(|r| (r.kind, r.url(), r.authorization.is_some()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                AdKind::Http,
                format!("http://autodiscover.contoso.com{XML}"),
                false
            ),
            (AdKind::Soap, https("mail.contoso.com", SVC), true),
            (AdKind::Pox, https("mail.contoso.com", XML), true),
        ]
    );
    assert_eq!(seen[0].method, "GET");
    assert_eq!(
        (seen[2].mailbox.as_deref(), seen[2].invalid.as_deref()),
        (Some(KIM), None)
    );
    w.ad.clear_requests();
    let built = F::build(&w.setup(), KIM).expect("a client");
    w.assert_one_get_delegate(&built, "Exchange2016");
}

/// Item 5, "a `RedirectAddress`", to a domain the allow list trusts: discovery starts
/// again for the new address at its own domain's candidates.
fn a_redirect_address_to_an_allowed_domain_restarts_there<F: Face>() {
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::refuse())
            .host(
                "autodiscover.contoso.com",
                AdHost::soap(AdAnswer::RedirectAddress("kim@fabrikam.com".into())),
            )
            .host("fabrikam.com", AdHost::refuse())
            .host("autodiscover.fabrikam.com", AdHost::soap(settings(ews)))
    });
    let setup = Setup {
        policy: Some(RedirectPolicy::Allow(vec!["fabrikam.com".into()])),
        ..w.setup()
    };
    let found = F::discover(&setup).expect("discovered");
    assert_trace(
        &found.trace,
        &[
            refused_soap("contoso.com"),
            (
                StepKind::Soap,
                https("autodiscover.contoso.com", SVC),
                true,
                Outcome::Status(200),
                Some(ErrorCode::RedirectAddress),
                Action::Restart("kim@fabrikam.com".into()),
            ),
            refused_soap("fabrikam.com"),
            done(StepKind::Soap, https("autodiscover.fabrikam.com", SVC)),
        ],
    );
    assert_eq!(found.email.as_str(), "kim@fabrikam.com");
    assert_eq!(found.primary_smtp_address(), "kim@fabrikam.com");
    assert_eq!(found.display_name(), Some("Kim Akers (Fabrikam)"));
    let seen = w.checked_requests(&["contoso.com", "fabrikam.com"]);
    let mailboxes: Vec<_> = seen.iter().map(|r| r.mailbox.as_deref()).collect();
    assert_eq!(mailboxes, [Some(KIM), Some("kim@fabrikam.com")]);
    w.ad.clear_requests();
    let built = F::build(&setup, KIM).expect("a client");
    w.assert_one_get_delegate(&built, "Exchange2016");
}

fn fabrikam_redirect(c: AdConfig, ews: &str) -> AdConfig {
    c.host(
        "contoso.com",
        AdHost::soap(AdAnswer::RedirectUrl(https(
            "autodiscover.fabrikam.com",
            SVC,
        ))),
    )
    .host("autodiscover.fabrikam.com", AdHost::soap(settings(ews)))
}

/// Item 5, "a `RedirectUrl` to another domain", without consent (the default policy,
/// then `Ask` with a callback that says no): a typed error whose trace names every step,
/// and not one request to the other domain.
fn a_redirect_url_to_another_domain_without_consent_is_refused<F: Face>() {
    let w = world(fabrikam_redirect);
    let follow = (
        StepKind::Soap,
        https("contoso.com", SVC),
        true,
        Outcome::Status(200),
        Some(ErrorCode::RedirectUrl),
        Action::Follow(https("autodiscover.fabrikam.com", SVC)),
    );
    let refused = (
        StepKind::Consent,
        "autodiscover.fabrikam.com".to_owned(),
        false,
        Outcome::Consent(false),
        None,
        Action::Stop,
    );
    let asked: Arc<Mutex<Vec<Redirect>>> = Arc::default();
    let seen = Arc::clone(&asked);
    let ask = Setup {
        policy: Some(RedirectPolicy::Ask),
        consent: Some(Arc::new(move |r: &Redirect| {
            seen.lock().expect("unpoisoned").push(r.clone());
            false
        })),
        ..w.setup()
    };
    for setup in [w.setup(), ask] {
        w.ad.clear_requests();
        let e = F::discover(&setup).expect_err("refused");
        let failure = server_failure(&e);
        assert_eq!(
            failure.reason,
            Reason::RedirectRefused {
                to: "autodiscover.fabrikam.com".into()
            }
        );
        assert_trace(&failure.trace, &[follow.clone(), refused.clone()]);
        let shown = e.to_string();
        for part in [
            "autodiscover.fabrikam.com",
            "https://contoso.com/autodiscover/autodiscover.svc",
            "RedirectUrl",
        ] {
            assert!(shown.contains(part), "{part} in {shown}");
        }
        let seen = w.checked_requests(&["contoso.com"]);
        assert_eq!(seen.len(), 1, "only contoso.com was asked: {seen:?}");
    }
    let asked = asked.lock().expect("unpoisoned");
    assert_eq!(asked.len(), 1, "the callback was asked once: {asked:?}");
    assert_eq!(asked[0].to, "autodiscover.fabrikam.com");
    assert_eq!(asked[0].target, https("autodiscover.fabrikam.com", SVC));
}

/// The same redirect with the callback's consent: discovery goes on to the other domain.
fn a_redirect_url_to_another_domain_with_the_callbacks_consent<F: Face>() {
    let w = world(fabrikam_redirect);
    let setup = Setup {
        policy: Some(RedirectPolicy::Ask),
        consent: Some(Arc::new(|r: &Redirect| r.to == "autodiscover.fabrikam.com")),
        ..w.setup()
    };
    let found = F::discover(&setup).expect("discovered");
    assert_trace(
        &found.trace,
        &[
            (
                StepKind::Soap,
                https("contoso.com", SVC),
                true,
                Outcome::Status(200),
                Some(ErrorCode::RedirectUrl),
                Action::Follow(https("autodiscover.fabrikam.com", SVC)),
            ),
            (
                StepKind::Consent,
                "autodiscover.fabrikam.com".to_owned(),
                false,
                Outcome::Consent(true),
                None,
                Action::NextCandidate,
            ),
            done(StepKind::Soap, https("autodiscover.fabrikam.com", SVC)),
        ],
    );
    // The mailbox stays Kim's at contoso (a RedirectUrl changes the server, not the user).
    assert_eq!(found.email.as_str(), KIM);
    w.checked_requests(&["contoso.com", "autodiscover.fabrikam.com"]);
    w.ad.clear_requests();
    let built = F::build(&setup, KIM).expect("a client");
    w.assert_one_get_delegate(&built, "Exchange2016");
}

/// Item 5, "a redirect loop": two hosts send each other's URL.
fn a_redirect_loop_ends_in_a_typed_error_naming_every_step<F: Face>() {
    let w = world(|c, _| {
        c.host(
            "contoso.com",
            AdHost::soap(AdAnswer::RedirectUrl(https(
                "autodiscover.contoso.com",
                SVC,
            ))),
        )
        .host(
            "autodiscover.contoso.com",
            AdHost::soap(AdAnswer::RedirectUrl(https("contoso.com", SVC))),
        )
    });
    let e = F::discover(&w.setup()).expect_err("a loop");
    let failure = server_failure(&e);
    assert_eq!(
        failure.reason,
        Reason::RedirectLoop {
            to: https("contoso.com", SVC)
        }
    );
    let redirect = |from: &str, to: &str| {
        (
            StepKind::Soap,
            https(from, SVC),
            true,
            Outcome::Status(200),
            Some(ErrorCode::RedirectUrl),
            Action::Follow(https(to, SVC)),
        )
    };
    assert_trace(
        &failure.trace,
        &[
            redirect("contoso.com", "autodiscover.contoso.com"),
            redirect("autodiscover.contoso.com", "contoso.com"),
        ],
    );
    let shown = e.to_string();
    assert!(shown.contains("redirect loop"), "{shown}");
    let seen = w.checked_requests(&["contoso.com"]);
    assert_eq!(seen.len(), 2, "each URL asked once: {seen:?}");
}

/// A loop of addresses (`RedirectAddress` back to the first one) ends alike.
fn a_redirect_address_loop_ends_in_a_typed_error<F: Face>() {
    let w = world(|c, _| {
        c.host(
            "contoso.com",
            AdHost::soap(AdAnswer::RedirectAddress("kim@fabrikam.com".into())),
        )
        .host(
            "fabrikam.com",
            AdHost::soap(AdAnswer::RedirectAddress(KIM.into())),
        )
    });
    let setup = Setup {
        policy: Some(RedirectPolicy::Allow(vec!["fabrikam.com".into()])),
        ..w.setup()
    };
    let e = F::discover(&setup).expect_err("a loop");
    let failure = server_failure(&e);
    assert_eq!(failure.reason, Reason::RedirectLoop { to: KIM.into() });
    assert_trace(
        &failure.trace,
        &[
            (
                StepKind::Soap,
                https("contoso.com", SVC),
                true,
                Outcome::Status(200),
                Some(ErrorCode::RedirectAddress),
                Action::Restart("kim@fabrikam.com".into()),
            ),
            (
                StepKind::Soap,
                https("fabrikam.com", SVC),
                true,
                Outcome::Status(200),
                Some(ErrorCode::RedirectAddress),
                Action::Restart(KIM.into()),
            ),
        ],
    );
    w.checked_requests(&["contoso.com", "fabrikam.com"]);
}

/// Item 5, "a 401 on one candidate": refused credentials at one host say nothing of the
/// next.
fn a_401_on_one_candidate_does_not_end_discovery<F: Face>() {
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::both(AdAnswer::Status(401)))
            .host("autodiscover.contoso.com", AdHost::soap(settings(ews)))
    });
    let found = F::discover(&w.setup()).expect("discovered");
    assert_trace(
        &found.trace,
        &[
            (
                StepKind::Soap,
                https("contoso.com", SVC),
                true,
                Outcome::Status(401),
                None,
                Action::NextCandidate,
            ),
            done(StepKind::Soap, https("autodiscover.contoso.com", SVC)),
        ],
    );
    let seen = w.checked_requests(&["contoso.com"]);
    let statuses: Vec<(String, u16)> = seen.iter().map(|r| (r.host.clone(), r.status)).collect();
    assert_eq!(
        statuses,
        [
            ("contoso.com".to_owned(), 401),
            ("autodiscover.contoso.com".to_owned(), 200)
        ]
    );
}

/// Item 5, "SRV-only discovery": nothing answers at the derived names, not even the
/// probe; the SRV record names `mail.contoso.com`.
fn srv_only_discovery_uses_the_resolver<F: Face>() {
    let w = world(|c, ews| c.host("mail.contoso.com", AdHost::soap(settings(ews))));
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&asked);
    let setup = Setup {
        srv: Some(Arc::new(move |name: &str| {
            seen.lock().expect("unpoisoned").push(name.to_owned());
            Ok(vec![
                SrvRecord::new(10, 0, 8443, "wrong-port.contoso.com"),
                SrvRecord::new(0, 5, 443, "mail.contoso.com."),
            ])
        })),
        ..w.setup()
    };
    let found = F::discover(&setup).expect("discovered");
    assert_trace(
        &found.trace,
        &[
            refused_soap("contoso.com"),
            refused_soap("autodiscover.contoso.com"),
            (
                StepKind::Probe,
                format!("http://autodiscover.contoso.com{XML}"),
                false,
                Outcome::Transport(TransportErrorKind::Connect),
                None,
                Action::NextCandidate,
            ),
            (
                StepKind::Srv,
                "_autodiscover._tcp.contoso.com".to_owned(),
                false,
                Outcome::Records(2),
                None,
                Action::TryTargets(1),
            ),
            done(StepKind::Soap, https("mail.contoso.com", SVC)),
        ],
    );
    assert_eq!(
        *asked.lock().expect("unpoisoned"),
        ["_autodiscover._tcp.contoso.com"]
    );
    let seen = w.checked_requests(&["contoso.com"]);
    assert_eq!(seen.len(), 1, "{seen:?}");
    w.ad.clear_requests();
    let built = F::build(&setup, KIM).expect("a client");
    w.assert_one_get_delegate(&built, "Exchange2016");
}

/// Item 5, "an internal-only deployment": `InternalEwsUrl` only (`ExternalEwsUrl` is
/// `SettingIsNotAvailable`). `UrlChoice::Internal` builds on it; with `External` the
/// settings say why there is no external URL, and the client falls back to the internal
/// one (the core's documented rule: `ExternalEwsUrl`, else `InternalEwsUrl`).
fn an_internal_only_deployment<F: Face>() {
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::refuse()).host(
            "autodiscover.contoso.com",
            AdHost::soap(AdAnswer::Settings(Deployment::internal_only(ews))),
        )
    });
    let found = F::discover(&w.setup()).expect("discovered");
    assert_eq!(
        found.settings.internal_ews_url.as_deref(),
        Some(w.ews.url().as_str())
    );
    assert_eq!(found.settings.external_ews_url, None);
    let errors: Vec<(&str, &ErrorCode)> = found
        .settings
        .setting_errors
        .iter()
        .map(|e| (e.setting.as_str(), &e.code))
        .collect();
    assert_eq!(
        errors,
        [("ExternalEwsUrl", &ErrorCode::SettingIsNotAvailable)]
    );
    assert_eq!(
        found.ews_url(UrlChoice::Internal),
        Some(w.ews.url().as_str())
    );
    assert_eq!(
        found.ews_url(UrlChoice::External),
        Some(w.ews.url().as_str())
    );

    let internal = Setup {
        choice: UrlChoice::Internal,
        ..w.setup()
    };
    let built = F::build(&internal, KIM).expect("a client");
    w.assert_one_get_delegate(&built, "Exchange2016");
    w.checked_requests(&["contoso.com"]);
}

/// Credentials go only over https, only to trusted hosts: the http probe's redirect to
/// another domain is refused before anything is sent there, a redirect to plain http is
/// not followed, and the simulator's record shows the header only where allowed.
fn credentials_never_go_over_http_nor_to_a_host_the_policy_did_not_allow<F: Face>() {
    // The probe redirects to another domain.
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::refuse())
            .host(
                "autodiscover.contoso.com",
                AdHost::both(AdAnswer::Status(401)),
            )
            .probe(
                "autodiscover.contoso.com",
                AdProbe::Redirect(https("autodiscover.fabrikam.com", XML)),
            )
            .host("autodiscover.fabrikam.com", AdHost::both(settings(ews)))
    });
    let e = F::discover(&w.setup()).expect_err("refused");
    let failure = server_failure(&e);
    assert_eq!(
        failure.reason,
        Reason::RedirectRefused {
            to: "autodiscover.fabrikam.com".into()
        }
    );
    assert_trace(
        &failure.trace,
        &[
            refused_soap("contoso.com"),
            (
                StepKind::Soap,
                https("autodiscover.contoso.com", SVC),
                true,
                Outcome::Status(401),
                None,
                Action::NextCandidate,
            ),
            (
                StepKind::Probe,
                format!("http://autodiscover.contoso.com{XML}"),
                false,
                Outcome::Status(302),
                None,
                Action::Follow(https("autodiscover.fabrikam.com", XML)),
            ),
            (
                StepKind::Consent,
                "autodiscover.fabrikam.com".to_owned(),
                false,
                Outcome::Consent(false),
                None,
                Action::Stop,
            ),
        ],
    );
    let seen = w.checked_requests(&["contoso.com"]);
    let hosts: Vec<(&str, &str, bool)> = seen
        .iter()
        .map(|r| (r.scheme, r.host.as_str(), r.authorization.is_some()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("https", "autodiscover.contoso.com", true),
            ("http", "autodiscover.contoso.com", false),
        ]
    );
    let by_host = w.ad.authorizations();
    let keys: Vec<&str> = by_host.keys().map(String::as_str).collect();
    assert_eq!(keys, ["https://autodiscover.contoso.com:443"]);
    let values: Vec<&str> = by_host.values().flatten().map(|a| a.value()).collect();
    assert_eq!(values, [BASIC]);

    // The probe redirects to plain http: not followed, nothing sent there.
    let w = world(|c, ews| {
        c.host("contoso.com", AdHost::refuse())
            .host("autodiscover.contoso.com", AdHost::refuse())
            .probe(
                "autodiscover.contoso.com",
                AdProbe::Redirect(format!("http://mail.contoso.com{XML}")),
            )
            .probe("mail.contoso.com", AdProbe::Status(200))
            .host("mail.contoso.com", AdHost::both(settings(ews)))
    });
    let e = F::discover(&w.setup()).expect_err("nothing found");
    let failure = server_failure(&e);
    assert_eq!(failure.reason, Reason::Exhausted);
    let probe = &rows(&failure.trace)[2];
    assert_eq!(
        (probe.0, probe.3.clone(), probe.5.clone()),
        (StepKind::Probe, Outcome::Status(302), Action::NextCandidate)
    );
    let seen = w.checked_requests(&["contoso.com"]);
    assert_eq!(seen.len(), 1, "only the probe: {seen:?}");
    assert_eq!(
        (seen[0].scheme, seen[0].authorization.is_none()),
        ("http", true)
    );
}

/// `ErrorCode` at the two levels the core reads, in SOAP and in POX: each is named in
/// the trace and discovery moves on to the next candidate.
fn error_codes_at_the_response_and_the_user_level_move_on<F: Face>() {
    use ews_tests::sim::autodiscover::AdLevel;
    let w = world(|c, ews| {
        c.host(
            "contoso.com",
            AdHost::soap(AdAnswer::Error(
                AdLevel::Response,
                "InternalServerError".into(),
            )),
        )
        .host(
            "autodiscover.contoso.com",
            AdHost {
                soap: AdAnswer::Status(404),
                pox: AdAnswer::Error(AdLevel::User, "602".into()),
                refuse: false,
            },
        )
        .probe(
            "autodiscover.contoso.com",
            AdProbe::Redirect(https("mail.contoso.com", XML)),
        )
        .host(
            "mail.contoso.com",
            AdHost {
                soap: AdAnswer::Error(AdLevel::User, "InvalidUser".into()),
                pox: settings(ews),
                refuse: false,
            },
        )
    });
    let e = F::discover(&w.setup()).expect_err("no settings");
    let failure = server_failure(&e);
    assert_eq!(failure.reason, Reason::Exhausted);
    let coded = |kind, url: String, code: ErrorCode| {
        (
            kind,
            url,
            true,
            Outcome::Status(200),
            Some(code),
            Action::NextCandidate,
        )
    };
    assert_trace(
        &failure.trace,
        &[
            coded(
                StepKind::Soap,
                https("contoso.com", SVC),
                ErrorCode::InternalServerError,
            ),
            (
                StepKind::Soap,
                https("autodiscover.contoso.com", SVC),
                true,
                Outcome::Status(404),
                None,
                Action::TryPox,
            ),
            coded(
                StepKind::Pox,
                https("autodiscover.contoso.com", XML),
                ErrorCode::from_wire("602"),
            ),
            (
                StepKind::Probe,
                format!("http://autodiscover.contoso.com{XML}"),
                false,
                Outcome::Status(302),
                None,
                Action::Follow(https("mail.contoso.com", XML)),
            ),
            coded(
                StepKind::Soap,
                https("mail.contoso.com", SVC),
                ErrorCode::InvalidUser,
            ),
            (
                StepKind::Srv,
                "_autodiscover._tcp.contoso.com".to_owned(),
                false,
                Outcome::Records(0),
                None,
                Action::NextCandidate,
            ),
        ],
    );
    let shown = e.to_string();
    for code in ["InternalServerError", "602", "InvalidUser"] {
        assert!(shown.contains(code), "{code} in {shown}");
    }
    w.checked_requests(&["contoso.com"]);
}

/// The fixed address changes where a connection goes, not the name TLS checks: a host
/// the simulator's certificate does not name, resolved to its https listener, fails the
/// handshake (and nothing reaches the server).
fn a_certificate_that_does_not_name_the_host_is_refused<F: Face>() {
    let w = world(|c, _| c);
    let mut setup = Setup {
        srv: Some(Arc::new(|_: &str| {
            Ok(vec![SrvRecord::new(0, 0, 443, "legacy.contoso.com")])
        })),
        ..w.setup()
    };
    setup
        .resolves
        .push(("legacy.contoso.com".into(), 443, w.ad.https_addr()));
    let e = F::discover(&setup).expect_err("refused");
    let DiscoveryError::Transport(failure) = &e else {
        panic!("expected a Transport error, got {e:?}");
    };
    let last = rows(&failure.trace).pop().expect("steps");
    assert_eq!(
        last,
        (
            StepKind::Soap,
            https("legacy.contoso.com", SVC),
            true,
            Outcome::Transport(TransportErrorKind::Tls),
            None,
            Action::NextCandidate,
        )
    );
    assert!(w.ad.requests().is_empty(), "{:?}", w.ad.requests());
}

/// Nobody answers at all: a `Transport` error (no server was reached) with every
/// candidate in its trace.
fn nobody_answering_is_a_transport_error<F: Face>() {
    let w = world(|c, _| c);
    let e = F::discover(&w.setup()).expect_err("nobody there");
    let DiscoveryError::Transport(failure) = &e else {
        panic!("expected a Transport error, got {e:?}");
    };
    assert_eq!(failure.reason, Reason::Exhausted);
    let targets: Vec<String> = rows(&failure.trace).into_iter().map(|r| r.1).collect();
    assert_eq!(
        targets,
        [
            https("contoso.com", SVC),
            https("autodiscover.contoso.com", SVC),
            format!("http://autodiscover.contoso.com{XML}"),
            "_autodiscover._tcp.contoso.com".to_owned(),
        ]
    );
    assert!(w.ad.requests().is_empty());
}

// ---------------------------------------------------------------------------------------
// Golden requests, through the simulator
// ---------------------------------------------------------------------------------------

mod golden {
    //! The requests the core builds, and Microsoft's documented examples themselves
    //! (`ews-proto/tests/snapshots/autodiscover/`, hand-written from "GetUserSettings
    //! operation (SOAP)" and "POX Autodiscover request for Exchange"), sent to the
    //! simulator, which reads them element by element as those pages list them, and
    //! answered; the core reads the answers back.

    use std::net::SocketAddr;

    use bytes::Bytes;
    use ews_proto::Limits;
    use ews_proto::autodiscover::{
        Answer, ErrorCode, ErrorLevel, UserSettingName, decode_pox, decode_soap, pox_request,
        soap_request,
    };
    use ews_tests::sim::autodiscover::{AdConfig, AdHost, AutodiscoverSim};
    use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};

    use super::{BASIC, KIM, SVC, XML, https, settings};

    /// Every connection goes to the simulator's https listener.
    #[derive(Debug)]
    struct To(SocketAddr);

    impl Resolver for To {
        fn resolve(
            &self,
            _: &http::Uri,
            _: &ureq::config::Config,
            _: ureq::unversioned::transport::NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let mut addrs = self.empty();
            addrs.push(self.0);
            Ok(addrs)
        }
    }

    fn send(sim: &AutodiscoverSim, mut request: http::Request<Bytes>) -> (u16, Vec<u8>) {
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let ca = Certificate::from_pem(sim.ca_pem().as_bytes()).expect("the CA");
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&[ca]))
            .build();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .build();
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            To(sim.https_addr()),
        );
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            BASIC.parse().expect("a header value"),
        );
        let (parts, body) = request.into_parts();
        let mut response = agent
            .run(http::Request::from_parts(parts, body.to_vec()))
            .expect("an answer");
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_vec().expect("a body");
        (status, body)
    }

    fn sim() -> AutodiscoverSim {
        let ews = "https://mail.contoso.com/EWS/Exchange.asmx";
        AutodiscoverSim::start(
            AdConfig::contoso().host("autodiscover.contoso.com", AdHost::both(settings(ews))),
        )
    }

    fn example(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ews-proto/tests/snapshots/autodiscover")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn post(url: &str, body: String) -> http::Request<Bytes> {
        http::Request::post(url)
            .header("content-type", "text/xml; charset=utf-8")
            .body(Bytes::from(body))
            .expect("a request")
    }

    /// The settings of Microsoft's example, in its order.
    const EXAMPLE_SETTINGS: [UserSettingName; 8] = [
        UserSettingName::UserDisplayName,
        UserSettingName::UserDN,
        UserSettingName::UserDeploymentId,
        UserSettingName::InternalMailboxServer,
        UserSettingName::MailboxDN,
        UserSettingName::ActiveDirectoryServer,
        UserSettingName::CasVersion,
        UserSettingName::EwsSupportedSchemas,
    ];

    #[test]
    fn get_user_settings_round_trips_through_the_simulator() {
        let sim = sim();
        let url = https("autodiscover.contoso.com", SVC);
        let request = soap_request(
            &url.parse().unwrap(),
            &KIM.parse().unwrap(),
            ews_proto::ExchangeVersion::Exchange2010,
            &EXAMPLE_SETTINGS,
        )
        .unwrap();
        let (status, body) = send(&sim, request);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let seen = sim.requests();
        assert_eq!(seen[0].invalid, None);
        let names: Vec<&str> = EXAMPLE_SETTINGS.iter().map(|s| s.as_str()).collect();
        assert_eq!(seen[0].settings, names);
        let Answer::Settings(s) = decode_soap(&body, &Limits::default()).unwrap() else {
            panic!("settings expected")
        };
        assert_eq!(s.display_name.as_deref(), Some("Kim Akers"));
        assert_eq!(s.server_version, Some((15, 1, 2507)));
        assert!(s.setting_errors.is_empty(), "{:?}", s.setting_errors);
        assert_eq!(
            s.request_version(),
            Some(ews_proto::ExchangeVersion::Exchange2016)
        );
    }

    #[test]
    fn microsofts_examples_are_read_by_the_simulator_and_answered() {
        let sim = sim();
        // The example's mailbox is nobody the simulator knows: InvalidUser, read back at
        // the user level.
        let (status, body) = send(
            &sim,
            post(
                &https("autodiscover.contoso.com", SVC),
                example("get_user_settings.xml"),
            ),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(sim.requests()[0].invalid, None);
        assert_eq!(
            sim.requests()[0].mailbox.as_deref(),
            Some("UserName@domain.contoso.com")
        );
        match decode_soap(&body, &Limits::default()).unwrap() {
            Answer::Error { level, code, .. } => {
                assert_eq!((level, code), (ErrorLevel::User, ErrorCode::InvalidUser));
            }
            other => panic!("InvalidUser expected, got {other:?}"),
        }
        let (status, body) = send(
            &sim,
            post(&https("autodiscover.contoso.com", XML), example("pox.xml")),
        );
        assert_eq!((status, sim.requests()[1].invalid.as_deref()), (200, None));
        // POX: an unknown address is error 500 at the response level.
        match decode_pox(&body, &Limits::default()).unwrap() {
            Answer::Error { level, code, .. } => {
                assert_eq!((level, code.as_str()), (ErrorLevel::Response, "500"));
            }
            other => panic!("error 500 expected, got {other:?}"),
        }
        // The documentation's https:// namespaces are refused, as by servers.
        let https_ns = example("get_user_settings.xml").replace(
            "http://schemas.microsoft.com/exchange/2010/Autodiscover\"",
            "https://schemas.microsoft.com/exchange/2010/Autodiscover\"",
        );
        let (status, _) = send(
            &sim,
            post(&https("autodiscover.contoso.com", SVC), https_ns),
        );
        assert_eq!(status, 500);
        assert!(sim.requests()[2].invalid.is_some());
    }

    #[test]
    fn the_pox_request_round_trips_through_the_simulator() {
        let sim = sim();
        let url = https("autodiscover.contoso.com", XML);
        let request = pox_request(&url.parse().unwrap(), &KIM.parse().unwrap()).unwrap();
        let (status, body) = send(&sim, request);
        assert_eq!((status, sim.requests()[0].invalid.as_deref()), (200, None));
        let Answer::Settings(s) = decode_pox(&body, &Limits::default()).unwrap() else {
            panic!("settings expected")
        };
        let ews = Some("https://mail.contoso.com/EWS/Exchange.asmx");
        assert_eq!(s.internal_ews_url.as_deref(), ews);
        assert_eq!(s.external_ews_url.as_deref(), ews);
        assert_eq!(s.smtp_address.as_deref(), Some(KIM));
        assert_eq!(s.server_version, Some((15, 1, 2507)));
    }
}

// ---------------------------------------------------------------------------------------
// The resolve setting on pinned (NTLM) connections
// ---------------------------------------------------------------------------------------

mod resolve {
    //! NTLM runs on connections the faces open themselves (not the pools'): they too go
    //! to the fixed address, with the URL's name in `Host`.

    use ews_proto::{Credentials, GetDelegate};
    use ews_tests::{SimConfig, Simulator, WindowsAuth};

    use super::addr;

    fn sim() -> Simulator {
        Simulator::start(SimConfig::seed().with_windows_auth(WindowsAuth::default()))
    }

    fn ntlm() -> Credentials {
        Credentials::ntlm(r"EXAMPLE\user1", "Passw0rd-1")
    }

    /// One accepted handshake and the GetDelegate, whose `Host` is the URL's.
    fn check(sim: &Simulator, port: u16) {
        let handshakes = sim.handshakes();
        assert_eq!(handshakes.len(), 1, "{handshakes:?}");
        assert_eq!(handshakes[0].refused, None);
        let calls = sim.requests_for("GetDelegate");
        let host = calls.last().and_then(|r| r.header("host"));
        assert_eq!(host, Some(format!("mail.contoso.com:{port}").as_str()));
    }

    #[test]
    fn blocking_pinned_connections_go_to_the_fixed_address() {
        let sim = sim();
        let port = sim.addr().port();
        let client = ews_blocking::Client::builder(&format!(
            "http://mail.contoso.com:{port}/EWS/Exchange.asmx"
        ))
        .credentials(ntlm())
        .danger_allow_credentials_over_http(true)
        .resolve("mail.contoso.com", port, sim.addr())
        .build()
        .expect("a client");
        client
            .send(&GetDelegate::new(addr("user1@example.com")))
            .expect("GetDelegate over NTLM");
        check(&sim, port);
    }

    #[test]
    fn async_pinned_connections_go_to_the_fixed_address() {
        let sim = sim();
        let port = sim.addr().port();
        let rt = super::runtime();
        rt.block_on(async {
            let client = ews_async::Client::builder(&format!(
                "http://mail.contoso.com:{port}/EWS/Exchange.asmx"
            ))
            .credentials(ntlm())
            .danger_allow_credentials_over_http(true)
            .resolve("mail.contoso.com", port, sim.addr())
            .build()
            .expect("a client");
            client
                .send(&GetDelegate::new(addr("user1@example.com")))
                .await
                .expect("GetDelegate over NTLM");
        });
        check(&sim, port);
    }
}
