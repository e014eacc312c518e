//! Windows-integrated authentication (NTLMv2, Negotiate) through both faces, against the
//! simulator's own NTLM server side (`ews_tests::sim`, written from MS-NLMP apart from the
//! core): the delegate tour over TLS under Extended Protection `Require`, a wrong password,
//! a server closing between legs, a Negotiate-only server, a channel binding of another
//! certificate (a TLS-intercepting relay), and connection reuse counted at the simulator.
//!
//! Each scenario is written once, generic over [`Face`], and instantiated per face by
//! [`faces!`].

use std::sync::Arc;

use ews_proto::error::AuthError;
use ews_proto::{Credentials, Error, GetDelegate, Operation, Reply, ServerError};
use ews_tests::tour::{Account, Failure, Tour, TourClient};
use ews_tests::{ExtendedProtection, Fault, SimConfig, Simulator, WindowsAuth, WindowsSchemes};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";

/// A client of one face, as these scenarios drive it.
trait Face: Sized {
    /// A client of `url` (trusting `ca_pem`) with `credentials`.
    fn build(url: &str, ca_pem: Option<&str>, credentials: Credentials, up_front: bool) -> Self;
    /// Two clients sharing one built-in transport (plain HTTP only: a shared transport
    /// built outside a client trusts Mozilla's roots only).
    fn sharing(url: &str, a: Credentials, b: Credentials) -> (Self, Self);
    /// Runs `op` to its end.
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send;
}

struct Blocking(ews_blocking::Client);

impl Face for Blocking {
    fn build(url: &str, ca_pem: Option<&str>, credentials: Credentials, up_front: bool) -> Self {
        let mut b = ews_blocking::Client::builder(url)
            .credentials(credentials)
            .ntlm_up_front(up_front);
        if let Some(pem) = ca_pem {
            b = b.add_root_certificate_pem(pem.as_bytes()).expect("the CA");
        }
        Blocking(b.build().expect("the client builds"))
    }

    fn sharing(url: &str, a: Credentials, b: Credentials) -> (Self, Self) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let transport = ews_blocking::UreqTransport::from_agent(agent, 1 << 20);
        let make = |c| {
            Blocking(
                ews_blocking::Client::builder(url)
                    .credentials(c)
                    .transport(transport.clone())
                    .build()
                    .expect("the client builds"),
            )
        };
        (make(a), make(b))
    }

    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.0.send(op)
    }
}

struct Async(ews_async::Client, Arc<tokio::runtime::Runtime>);

fn runtime() -> Arc<tokio::runtime::Runtime> {
    Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
    )
}

impl Face for Async {
    fn build(url: &str, ca_pem: Option<&str>, credentials: Credentials, up_front: bool) -> Self {
        let rt = runtime();
        let mut b = ews_async::Client::builder(url)
            .credentials(credentials)
            .ntlm_up_front(up_front);
        if let Some(pem) = ca_pem {
            b = b.add_root_certificate_pem(pem.as_bytes()).expect("the CA");
        }
        let client = {
            let _guard = rt.enter();
            b.build().expect("the client builds")
        };
        Async(client, rt)
    }

    fn sharing(url: &str, a: Credentials, b: Credentials) -> (Self, Self) {
        let rt = runtime();
        let _guard = rt.enter();
        let transport = ews_async::HyperTransport::new().expect("the transport");
        let make = |c| {
            Async(
                ews_async::Client::builder(url)
                    .credentials(c)
                    .transport(transport.clone())
                    .build()
                    .expect("the client builds"),
                Arc::clone(&rt),
            )
        };
        (make(a), make(b))
    }

    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.1.block_on(self.0.send(op))
    }
}

/// A face's client as the tour drives it.
struct Touring<F>(F);

impl<F: Face> TourClient for Touring<F> {
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.0.send(op)
    }
}

macro_rules! faces {
    ($($scenario:ident),* $(,)?) => {
        mod blocking {
            $(#[test] fn $scenario() { super::$scenario::<super::Blocking>(); })*
        }
        mod hyper {
            $(#[test] fn $scenario() { super::$scenario::<super::Async>(); })*
        }
    };
}

faces!(
    the_delegate_tour_over_tls_under_extended_protection_require,
    a_wrong_password_is_one_handshake_and_a_typed_error,
    a_server_closing_after_the_challenge_restarts_once_then_fails_typed,
    a_server_offering_only_negotiate,
    a_channel_binding_of_another_certificate_is_refused,
    a_hundred_calls_cost_one_handshake_and_one_connection,
    two_identities_never_share_a_connection,
    up_front_negotiate_saves_the_probe,
);

fn windows(schemes: WindowsSchemes, ep: ExtendedProtection) -> SimConfig {
    SimConfig::seed().with_tls().with_windows_auth(WindowsAuth {
        schemes,
        extended_protection: ep,
        ..WindowsAuth::default()
    })
}

fn require() -> SimConfig {
    windows(
        WindowsSchemes::NegotiateAndNtlm,
        ExtendedProtection::Require,
    )
}

fn ntlm(n: u32) -> Credentials {
    Credentials::ntlm(format!(r"EXAMPLE\user{n}"), format!("Passw0rd-{n}"))
}

fn client<F: Face>(sim: &Simulator, credentials: Credentials) -> F {
    F::build(&sim.url(), sim.ca_pem(), credentials, false)
}

fn get_delegate() -> GetDelegate {
    GetDelegate::new(U1.parse().expect("address"))
}

fn the_delegate_tour_over_tls_under_extended_protection_require<F: Face>() {
    let tour = Tour::simulated(require()).expect("the simulator");
    let sim = tour.simulator.as_ref().expect("embedded");
    let ca = sim.ca_pem().map(str::to_owned);
    tour.run(
        |tour: &Tour, account: &Account| -> Result<Touring<F>, Failure> {
            // `DOMAIN\user` for user1 and user3, a UPN for user2: both forms sign in.
            let local = account
                .address
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default();
            let name = match local {
                "user2" => account.address.as_str().to_owned(),
                _ => format!(r"EXAMPLE\{local}"),
            };
            let credentials = Credentials::ntlm(name, account.password.as_str());
            Ok(Touring(F::build(
                &tour.endpoint,
                ca.as_deref(),
                credentials,
                false,
            )))
        },
    )
    .expect("the tour with NTLM under Extended Protection Require");
    let handshakes = sim.handshakes();
    assert!(
        handshakes
            .iter()
            .all(|h| h.refused.is_none() && h.scheme == "NTLM"),
        "{handshakes:?}"
    );
    // One handshake per account: every later call reused its connection.
    assert_eq!(handshakes.len(), 3, "{handshakes:?}");
    assert!(sim.requests().iter().all(|r| r.status != 0));
}

fn a_wrong_password_is_one_handshake_and_a_typed_error<F: Face>() {
    let sim = Simulator::start(require());
    let c: F = client(&sim, Credentials::ntlm(r"EXAMPLE\user1", "wrong"));
    let e = c.send(&get_delegate()).expect_err("refused");
    assert!(
        matches!(e, Error::Server(ServerError::Unauthorized { .. })),
        "{e:?}"
    );
    let handshakes = sim.handshakes();
    assert_eq!(handshakes.len(), 1, "{handshakes:?}");
    assert_eq!(handshakes[0].refused, Some("NtlmWrongPassword"));
    assert!(sim.requests().len() <= 3, "{:?}", sim.requests().len());
    assert!(sim.requests().iter().all(|r| r.status == 401));
}

fn a_server_closing_after_the_challenge_restarts_once_then_fails_typed<F: Face>() {
    let sim = Simulator::start(require());
    sim.inject(None, Fault::CloseAfterChallenge, 1);
    let c: F = client(&sim, ntlm(1));
    c.send(&get_delegate())
        .expect("the restart on a fresh connection");
    assert_eq!(sim.handshakes().len(), 1);
    assert_eq!(
        sim.tcp_connections(),
        2,
        "the restart took a fresh connection"
    );

    let sim = Simulator::start(require());
    sim.inject(None, Fault::CloseAfterChallenge, 2);
    let c: F = client(&sim, ntlm(1));
    let e = c.send(&get_delegate()).expect_err("closed twice");
    assert!(
        matches!(e, Error::Auth(AuthError::Interrupted { .. })),
        "{e:?}"
    );
    assert!(sim.handshakes().is_empty());
    let faults = sim.requests().iter().filter(|r| r.fault.is_some()).count();
    assert_eq!(faults, 2, "one restart, not a loop");
    assert_eq!(sim.requests().len(), 3, "probe, NEGOTIATE, NEGOTIATE again");
}

fn a_server_offering_only_negotiate<F: Face>() {
    let sim = Simulator::start(windows(
        WindowsSchemes::NegotiateOnly,
        ExtendedProtection::Require,
    ));
    let c: F = client(&sim, ntlm(1));
    for _ in 0..3 {
        c.send(&get_delegate()).expect("NTLM in SPNEGO");
    }
    let handshakes = sim.handshakes();
    assert_eq!(handshakes.len(), 1, "{handshakes:?}");
    assert_eq!(handshakes[0].scheme, "Negotiate");
    assert_eq!(handshakes[0].refused, None);
    // And with NTLM up front, the core switches to Negotiate once.
    let sim = Simulator::start(windows(
        WindowsSchemes::NegotiateOnly,
        ExtendedProtection::Require,
    ));
    let c = F::build(&sim.url(), sim.ca_pem(), ntlm(1), true);
    c.send(&get_delegate()).expect("switched to Negotiate");
    assert_eq!(sim.handshakes()[0].scheme, "Negotiate");
}

fn a_channel_binding_of_another_certificate_is_refused<F: Face>() {
    for (ep, passes) in [
        (ExtendedProtection::Require, false),
        (ExtendedProtection::Allow, false),
        (ExtendedProtection::None, true),
    ] {
        let sim = Simulator::start(windows(WindowsSchemes::NegotiateAndNtlm, ep));
        let relay = relay::Intercepting::start(&sim);
        let c: F = F::build(&relay.url(), Some(relay.ca_pem()), ntlm(1), false);
        let result = c.send(&get_delegate());
        let handshakes = sim.handshakes();
        assert_eq!(handshakes.len(), 1, "{ep:?}: {handshakes:?}");
        if passes {
            assert!(result.is_ok(), "{ep:?}: {result:?}");
        } else {
            assert!(
                matches!(result, Err(Error::Server(ServerError::Unauthorized { .. }))),
                "{ep:?}: {result:?}"
            );
            assert_eq!(handshakes[0].refused, Some("NtlmWrongChannelBinding"));
        }
    }
}

fn a_hundred_calls_cost_one_handshake_and_one_connection<F: Face>() {
    let sim = Simulator::start(require());
    let c: F = client(&sim, ntlm(1));
    for _ in 0..100 {
        c.send(&get_delegate()).expect("GetDelegate");
    }
    assert_eq!(sim.handshakes().len(), 1, "one handshake");
    assert_eq!(sim.tcp_connections(), 1, "one TCP connection");
    let legs = sim
        .requests()
        .iter()
        .filter(|r| r.header("authorization").is_some())
        .count();
    assert_eq!(legs, 2, "NEGOTIATE and AUTHENTICATE, once");
    assert_eq!(
        sim.requests().len(),
        102,
        "the probe, two legs, 99 bare requests"
    );
    // The 401s are answered before the body is read as an operation.
    assert_eq!(sim.requests_for("GetDelegate").len(), 100);
}

fn two_identities_never_share_a_connection<F: Face>() {
    // Two clients of one face each with its own transport, over TLS, interleaved.
    let sim = Simulator::start(require());
    let (a, b): (F, F) = (client(&sim, ntlm(1)), client(&sim, ntlm(2)));
    for _ in 0..5 {
        a.send(&get_delegate()).expect("user1");
        b.send(&GetDelegate::new(U2.parse().expect("address")))
            .expect("user2");
    }
    let (one, two) = (sim.connections_of(U1), sim.connections_of(U2));
    assert_eq!((one.len(), two.len()), (1, 1), "{one:?} {two:?}");
    assert!(one.is_disjoint(&two), "{one:?} {two:?}");
    assert_eq!(sim.handshakes().len(), 2);

    // Two identities sharing one transport (and its connections), over plain HTTP.
    let sim = Simulator::start(SimConfig::seed().with_windows_auth(WindowsAuth::default()));
    let (a, b) = F::sharing(&sim.url(), ntlm(1), ntlm(2));
    for _ in 0..5 {
        a.send(&get_delegate()).expect("user1");
        b.send(&GetDelegate::new(U2.parse().expect("address")))
            .expect("user2");
    }
    let (one, two) = (sim.connections_of(U1), sim.connections_of(U2));
    assert_eq!((one.len(), two.len()), (1, 1), "{one:?} {two:?}");
    assert!(one.is_disjoint(&two), "{one:?} {two:?}");
    // Every request on a connection was its own identity's.
    for r in sim.requests() {
        if let Some(who) = &r.authenticated_as {
            let mine = if who == U1 { &one } else { &two };
            assert!(mine.contains(&r.connection), "{r:?}");
        }
    }
}

fn up_front_negotiate_saves_the_probe<F: Face>() {
    let sim = Simulator::start(require());
    let c = F::build(&sim.url(), sim.ca_pem(), ntlm(1), true);
    c.send(&get_delegate()).expect("GetDelegate");
    c.send(&get_delegate()).expect("GetDelegate");
    assert_eq!(
        sim.requests().len(),
        3,
        "NEGOTIATE, AUTHENTICATE, a bare request"
    );
    assert_eq!(sim.handshakes().len(), 1);
}

/// A TLS-intercepting relay: it terminates TLS with a certificate of its own (its own CA),
/// and opens a TLS connection of its own to the simulator. The client's channel binding
/// is then the relay certificate's, not the simulator's: what Extended Protection exists
/// to catch.
mod relay {
    use std::sync::Arc;

    use ews_tests::Simulator;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

    pub(super) struct Intercepting {
        addr: std::net::SocketAddr,
        ca_pem: String,
        _runtime: tokio::runtime::Runtime,
    }

    impl Intercepting {
        pub(super) fn start(sim: &Simulator) -> Intercepting {
            let key = rcgen::KeyPair::generate().expect("key");
            let params =
                rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
            let cert = params.self_signed(&key).expect("certificate");
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let server = rustls::ServerConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert.der().clone()],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                )
                .expect("server config");
            let mut roots = rustls::RootCertStore::empty();
            let sim_ca = sim.ca_pem().expect("a TLS simulator");
            for c in rustls::pki_types::pem::PemObject::pem_slice_iter(sim_ca.as_bytes()) {
                let c: CertificateDer<'static> = c.expect("PEM");
                roots.add(c).expect("the simulator's CA");
            }
            let client = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            let listener = runtime
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .expect("bind");
            let addr = listener.local_addr().expect("addr");
            let upstream = sim.addr();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
            let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
            runtime.spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let (acceptor, connector) = (acceptor.clone(), connector.clone());
                    tokio::spawn(async move {
                        let Ok(mut down) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Ok(tcp) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        let name = ServerName::try_from("127.0.0.1").expect("name");
                        let Ok(mut up) = connector.connect(name, tcp).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    });
                }
            });
            Intercepting {
                addr,
                ca_pem: cert.pem(),
                _runtime: runtime,
            }
        }

        pub(super) fn url(&self) -> String {
            format!("https://127.0.0.1:{}/EWS/Exchange.asmx", self.addr.port())
        }

        pub(super) fn ca_pem(&self) -> &str {
            &self.ca_pem
        }
    }
}
