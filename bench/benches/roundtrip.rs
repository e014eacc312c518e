//! Loopback round trips: the drivers (`ews-blocking` on ureq, `ews-async` on hyper) against
//! a bare ureq / bare hyper client posting the same pre-built request bytes, all to the same
//! local HTTP/1.1 server, which answers every POST with the same canned GetDelegate answer
//! from the corpus (1 delegate, 1.9 KB; 100 delegates, 96 KB). See `../loopback.rs`.
//!
//! The bare clients only post and read the body; the drivers also encode the request and
//! decode the answer, so the difference is the whole cost of the drivers and the core.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use ews_bench::corpus::Corpus;

#[path = "../loopback.rs"]
mod loopback;

fn roundtrip(c: &mut Criterion) {
    let corpus = Corpus::ensure(env!("CARGO_TARGET_TMPDIR")).unwrap_or_else(|e| panic!("{e}"));
    // One delegate: what the drivers add per call; 100 delegates: with a 96 KB answer to
    // decode, which the bare clients skip.
    roundtrip_case(c, &corpus, 1);
    roundtrip_case(c, &corpus, 100);
}

fn roundtrip_case(c: &mut Criterion, corpus: &Corpus, delegates: usize) {
    let answer = Bytes::from(
        corpus
            .read(&format!("getdelegate_{delegates}.xml"))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let answer_len = answer.len();
    let server = loopback::Server::start(answer);
    let clients = loopback::Clients::new(&server.url);
    // Every client works and gets the whole answer before anything is timed.
    assert_eq!(clients.blocking(), delegates);
    assert_eq!(clients.nonblocking(), delegates);
    assert_eq!(clients.bare_ureq(), answer_len);
    assert_eq!(clients.bare_hyper(), answer_len);

    let mut g = c.benchmark_group(format!("roundtrip/getdelegate_{delegates}"));
    g.bench_function("bare-ureq", |b| b.iter(|| black_box(clients.bare_ureq())));
    g.bench_function("ews-blocking", |b| b.iter(|| black_box(clients.blocking())));
    g.bench_function("bare-hyper", |b| b.iter(|| black_box(clients.bare_hyper())));
    g.bench_function("ews-async", |b| b.iter(|| black_box(clients.nonblocking())));
    g.finish();
    // Connection reuse on both sides: one per client, none per call.
    assert_eq!(
        server.connections(),
        4,
        "a client opened a connection per call"
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = roundtrip
}
criterion_main!(benches);
