//! Building the on-behalf CreateItem request (5 attendees, ~2 KB HTML body): `ews-proto`
//! against the `ews` crate 0.1.2 serialising its own CreateItem message.
//!
//! The peer models a calendar item as its `Message` type, which has no Start, End,
//! Location, RequiredAttendees or time zone: it is given the closest message it can
//! express (the same subject, sensitivity, HTML body and reminder, the 5 attendees as
//! `ToRecipients`, saved into the principal's calendar with `SendAndSaveCopy`). Its
//! document is therefore somewhat smaller than ours; the sizes are printed.

#![allow(clippy::print_stdout)]

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use ews_bench::inputs;
use ews_proto::Operation;

#[path = "../peer_create_item.rs"]
mod peer_create_item;
use peer_create_item::peer_envelope;

fn create_item(c: &mut Criterion) {
    let ctx = inputs::context();
    let op = inputs::create_item_on_behalf();
    let peer = peer_envelope();

    let ours = op.encode(&ctx).unwrap_or_else(|e| panic!("{e}"));
    let theirs = peer.as_xml_document().unwrap_or_else(|e| panic!("{e}"));
    let ours_text = std::str::from_utf8(ours.body()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ours_text.matches("<t:Attendee>").count(), 5);
    // The HTML body goes out whole, as one CDATA section (see `BodyWriter::text_block`).
    assert!(ours_text.contains(&format!("<![CDATA[{}]]>", inputs::html_body())));
    println!(
        "create_item_on_behalf: ews-proto body {} bytes, ews 0.1.2 document {} bytes",
        ours.body().len(),
        theirs.len()
    );

    let mut g = c.benchmark_group("encode/create_item_on_behalf_5_attendees");
    g.bench_function("ews-proto-encode", |b| {
        b.iter(|| black_box(&op).encode(black_box(&ctx)))
    });
    g.bench_function("ews-proto-encode_into", |b| {
        b.iter(|| {
            let mut buf = BytesMut::new();
            black_box(&op).encode_into(black_box(&ctx), &mut buf)?;
            Ok::<_, ews_proto::UsageError>(buf)
        })
    });
    g.bench_function("ews-0.1.2-as_xml_document", |b| {
        b.iter(|| black_box(&peer).as_xml_document())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = create_item
}
criterion_main!(benches);
