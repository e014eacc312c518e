//! Decoding the corpus: `ews-proto` against the raw quick-xml scan (the ceiling) and the
//! `ews` crate 0.1.2 (the peer), on the same bytes in the same run.
//!
//! `cargo bench -p ews-bench --bench decode`; `cargo test -p ews-bench --benches` runs each
//! case once, with the correctness checks.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ews_bench::corpus::{self, Corpus};
use ews_bench::{ok_response, scan};
use ews_proto::{FindItem, FolderId, GetDelegate, GetItem, Item, ItemId, Operation};

fn corpus() -> Corpus {
    match Corpus::ensure(env!("CARGO_TARGET_TMPDIR")) {
        Ok(c) => c,
        Err(e) => panic!("cannot generate the benchmark corpus: {e}"),
    }
}

fn load(c: &Corpus, name: &str) -> (Bytes, String) {
    let bytes = match c.read(name) {
        Ok(b) => b,
        Err(e) => panic!("cannot read {name}: {e}"),
    };
    let text = match String::from_utf8(bytes.clone()) {
        Ok(t) => t,
        Err(e) => panic!("{name} is not UTF-8: {e}"),
    };
    (Bytes::from(bytes), text)
}

fn principal() -> ews_proto::EmailAddress {
    match "grace.muller12@contoso.com".parse() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    }
}

fn item_id() -> ItemId {
    match ItemId::new("AAMkAD", None) {
        Ok(id) => id,
        Err(e) => panic!("{e}"),
    }
}

/// The peer's GetItem decode: its `Envelope::from_xml_document`, counting the items.
fn peer_get_item(body: &[u8]) -> usize {
    use ews::OperationResponse;
    match ews::soap::Envelope::<ews::get_item::GetItemResponse>::from_xml_document(body) {
        Ok(env) => env
            .body
            .response_messages()
            .iter()
            .map(|m| match m {
                ews::ResponseClass::Success(m) | ews::ResponseClass::Warning(m) => {
                    m.items.inner.len()
                }
                ews::ResponseClass::Error(_) => 0,
            })
            .sum(),
        Err(e) => panic!("ews 0.1.2 cannot decode the GetItem answer: {e}"),
    }
}

/// The peer's FindItem decode, counting the items.
fn peer_find_item(body: &[u8]) -> usize {
    use ews::OperationResponse;
    match ews::soap::Envelope::<ews::find_item::FindItemResponse>::from_xml_document(body) {
        Ok(env) => env
            .body
            .response_messages()
            .iter()
            .map(|m| match m {
                ews::ResponseClass::Success(m) | ews::ResponseClass::Warning(m) => {
                    m.root_folder.items.inner.len()
                }
                ews::ResponseClass::Error(_) => 0,
            })
            .sum(),
        Err(e) => panic!("ews 0.1.2 cannot decode the FindItem answer: {e}"),
    }
}

fn get_delegate(c: &mut Criterion) {
    let (bytes, text) = load(&corpus(), corpus::GET_DELEGATE_10000);
    let response = ok_response(bytes.clone());
    let op = GetDelegate::new(principal());

    // Check what is measured.
    let reply = op.decode(&response).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply.body.len(), 10_000);
    assert!(
        reply
            .body
            .messages
            .iter()
            .all(|d| d.value.as_ref().is_some_and(|d| d.permissions.is_some()))
    );
    assert!(scan::ns_scan(&text).bound > 100_000);

    let mut g = c.benchmark_group("decode/getdelegate_10000");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("quick-xml-ns-scan", |b| {
        b.iter(|| scan::ns_scan(black_box(&text)))
    });
    g.bench_function("quick-xml-scan", |b| {
        b.iter(|| scan::plain_scan(black_box(&text)))
    });
    g.bench_function("ews-proto", |b| b.iter(|| op.decode(black_box(&response))));
    // ews 0.1.2 has no GetDelegate operation: no peer here.
    g.finish();
}

fn get_item(c: &mut Criterion) {
    let (bytes, text) = load(&corpus(), corpus::GET_ITEM_CALENDAR_1000);
    let response = ok_response(bytes.clone());
    let op = GetItem::new(item_id());

    let reply = op.decode(&response).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply.body.len(), 1000);
    for m in &reply.body {
        match &m.value {
            Some(Item::Calendar(it)) => {
                assert_eq!(it.required_attendees.len(), 5);
                assert!(it.body.as_ref().is_some_and(|b| b.content.len() > 1500));
            }
            other => panic!("expected a calendar item, got {other:?}"),
        }
    }
    assert_eq!(peer_get_item(&bytes), 1000);

    let mut g = c.benchmark_group("decode/getitem_calendar_1000");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("quick-xml-ns-scan", |b| {
        b.iter(|| scan::ns_scan(black_box(&text)))
    });
    g.bench_function("quick-xml-scan", |b| {
        b.iter(|| scan::plain_scan(black_box(&text)))
    });
    g.bench_function("ews-proto", |b| b.iter(|| op.decode(black_box(&response))));
    g.bench_function("ews-0.1.2", |b| b.iter(|| peer_get_item(black_box(&bytes))));
    g.finish();
}

fn find_item(c: &mut Criterion) {
    let (bytes, text) = load(&corpus(), corpus::FIND_ITEM_CALENDAR_1000);
    let response = ok_response(bytes.clone());
    let op = FindItem::new(FolderId::of(
        ews_proto::DistinguishedFolder::Calendar,
        principal(),
    ));

    let reply = op.decode(&response).unwrap_or_else(|e| panic!("{e}"));
    let found: usize = reply
        .body
        .iter()
        .filter_map(|m| m.value.as_ref())
        .map(|page| page.items.len())
        .sum();
    assert_eq!(found, 1000);
    assert_eq!(peer_find_item(&bytes), 1000);

    let mut g = c.benchmark_group("decode/finditem_calendar_1000");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("quick-xml-ns-scan", |b| {
        b.iter(|| scan::ns_scan(black_box(&text)))
    });
    g.bench_function("ews-proto", |b| b.iter(|| op.decode(black_box(&response))));
    g.bench_function("ews-0.1.2", |b| {
        b.iter(|| peer_find_item(black_box(&bytes)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = get_delegate, get_item, find_item
}
criterion_main!(benches);
