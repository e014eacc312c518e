//! The per-call cost of NTLM against Basic: both faces calling GetDelegate over TLS on the
//! same simulator build, one simulator per scheme (NTLM under Extended Protection
//! `Require`). After the first call an NTLM client reuses its authenticated connection, so
//! the steady state compared here is the pinned connection against the pool; each case
//! checks at the simulator that its calls cost one handshake in all.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ews_proto::{Credentials, GetDelegate};
use ews_tests::{ExtendedProtection, SimConfig, Simulator, WindowsAuth, WindowsSchemes};

const U1: &str = "user1@example.com";

fn basic() -> Credentials {
    Credentials::basic(U1, "Passw0rd-1")
}

fn ntlm() -> Credentials {
    Credentials::ntlm(U1, "Passw0rd-1")
}

fn blocking(sim: &Simulator, c: Credentials) -> ews_blocking::Client {
    let pem = sim.ca_pem().unwrap_or_else(|| panic!("a TLS simulator"));
    ews_blocking::Client::builder(&sim.url())
        .credentials(c)
        .add_root_certificate_pem(pem.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn nonblocking(rt: &tokio::runtime::Runtime, sim: &Simulator, c: Credentials) -> ews_async::Client {
    let pem = sim.ca_pem().unwrap_or_else(|| panic!("a TLS simulator"));
    let _guard = rt.enter();
    ews_async::Client::builder(&sim.url())
        .credentials(c)
        .add_root_certificate_pem(pem.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn ntlm_against_basic(c: &mut Criterion) {
    let basic_sim = Simulator::start(SimConfig::seed().with_tls());
    let ntlm_sim = Simulator::start(SimConfig::seed().with_tls().with_windows_auth(WindowsAuth {
        schemes: WindowsSchemes::NtlmOnly,
        extended_protection: ExtendedProtection::Require,
        ..WindowsAuth::default()
    }));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let op = GetDelegate::new(U1.parse().unwrap_or_else(|e| panic!("{e}")));

    let b_basic = blocking(&basic_sim, basic());
    let b_ntlm = blocking(&ntlm_sim, ntlm());
    let a_basic = nonblocking(&rt, &basic_sim, basic());
    let a_ntlm = nonblocking(&rt, &ntlm_sim, ntlm());
    let call_b = |client: &ews_blocking::Client| {
        client
            .send(&op)
            .unwrap_or_else(|e| panic!("{e}"))
            .body
            .len()
    };
    let call_a = |client: &ews_async::Client| {
        rt.block_on(client.send(&op))
            .unwrap_or_else(|e| panic!("{e}"))
            .body
            .len()
    };
    // Every client works before anything is timed.
    for _ in 0..3 {
        call_b(&b_basic);
        call_b(&b_ntlm);
        call_a(&a_basic);
        call_a(&a_ntlm);
    }

    let mut g = c.benchmark_group("ntlm-vs-basic/getdelegate");
    g.bench_function("blocking-basic", |b| b.iter(|| black_box(call_b(&b_basic))));
    g.bench_function("blocking-ntlm", |b| b.iter(|| black_box(call_b(&b_ntlm))));
    g.bench_function("async-basic", |b| b.iter(|| black_box(call_a(&a_basic))));
    g.bench_function("async-ntlm", |b| b.iter(|| black_box(call_a(&a_ntlm))));
    g.finish();
    // One handshake per NTLM client, however many calls were timed.
    assert_eq!(
        ntlm_sim.handshakes().len(),
        2,
        "an NTLM client authenticated more than once"
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = ntlm_against_basic
}
criterion_main!(benches);
