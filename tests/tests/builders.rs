//! No builder input panics later: arbitrary strings go to every string-taking setter of
//! both clients, and each client that builds makes a real call (to the loopback
//! simulator) through its built-in transport, where a bad header value used to panic.

use std::sync::OnceLock;
use std::time::Duration;

use ews_proto::{Credentials, Error, RetryPolicy, Secret};
use ews_tests::{SimConfig, Simulator};
use proptest::prelude::*;

/// Everything a builder takes as a string (or bytes).
#[derive(Debug, Clone)]
struct Inputs {
    user_agent: String,
    username: String,
    password: String,
    token: String,
    pem: Vec<u8>,
}

fn sim() -> &'static Simulator {
    static SIM: OnceLock<Simulator> = OnceLock::new();
    SIM.get_or_init(|| Simulator::start(SimConfig::seed()))
}

/// Strings heavy in what breaks headers and URLs, mixed with anything at all.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z]{0,5}[\r\n\0\t\u{7f}\u{85}\u{2028}]{1,3}[ -~]{0,10}",
        "[ -~]{0,40}",
    ]
}

fn inputs() -> impl Strategy<Value = Inputs> {
    (
        nasty(),
        nasty(),
        nasty(),
        nasty(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(user_agent, username, password, token, pem)| Inputs {
            user_agent,
            username,
            password,
            token,
            pem,
        })
}

fn principal() -> ews_proto::EmailAddress {
    "user1@example.com".parse().expect("address")
}

fn blocking(url: &str, i: &Inputs, bearer: bool) -> Result<(), Error> {
    let mut b = ews_blocking::Client::builder(url)
        .user_agent(&i.user_agent)
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::never());
    b = if bearer {
        let token = i.token.clone();
        b.token_provider(move |_| Ok::<_, ews_blocking::BoxError>(Secret::from(token.as_str())))
    } else {
        b.credentials(Credentials::basic(&i.username, i.password.as_str()))
    };
    // The PEM setter consumes the builder and may refuse: probed on a builder of its own.
    let _ = ews_blocking::Client::builder(url).add_root_certificate_pem(&i.pem);
    let client = b.build()?;
    client.get_delegates(principal()).map(drop)
}

fn asynchronous(url: &str, i: &Inputs, bearer: bool) -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let mut b = ews_async::Client::builder(url)
        .user_agent(&i.user_agent)
        .timeout(Duration::from_secs(5))
        .retry_policy(RetryPolicy::never());
    b = if bearer {
        let token = i.token.clone();
        b.token_provider(move |_| {
            let token = token.clone();
            async move { Ok::<_, ews_async::BoxError>(Secret::from(token.as_str())) }
        })
    } else {
        b.credentials(Credentials::basic(&i.username, i.password.as_str()))
    };
    let _ = ews_async::Client::builder(url).add_root_certificate_pem(&i.pem);
    let client = b.build()?;
    rt.block_on(client.get_delegates(principal())).map(drop)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_setter_strings_never_panic(i in inputs(), bearer in any::<bool>()) {
        let url = sim().url();
        // Errors are fine (a refused User-Agent, a 401, an unsendable token); a panic is not.
        let _ = blocking(&url, &i, bearer);
        let _ = asynchronous(&url, &i, bearer);
    }

    #[test]
    fn arbitrary_endpoints_never_panic(endpoint in nasty(), suffix in nasty()) {
        let base = sim().url();
        // Built only: an arbitrary host would mean a DNS lookup. Loopback URLs with an
        // arbitrary path or query are built and called.
        endpoint_probe(&endpoint, false);
        endpoint_probe(&format!("{base}/{suffix}"), true);
        endpoint_probe(&format!("{base}?{suffix}"), true);
    }
}

/// Builds both clients for `url` and, when `call`, makes one call with each that built.
fn endpoint_probe(url: &str, call: bool) {
    let basic = || Credentials::basic("user1@example.com", "Passw0rd-1");
    let blocking = ews_blocking::Client::builder(url)
        .credentials(basic())
        .retry_policy(RetryPolicy::never())
        .build();
    if let (Ok(client), true) = (&blocking, call) {
        let _ = client.get_delegates(principal());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = rt.enter();
    let nonblocking = ews_async::Client::builder(url)
        .credentials(basic())
        .retry_policy(RetryPolicy::never())
        .build();
    if let (Ok(client), true) = (&nonblocking, call) {
        let _ = rt.block_on(client.get_delegates(principal()));
    }
}
