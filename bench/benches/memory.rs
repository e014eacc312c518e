//! Peak heap memory while decoding, as a ratio to the response body size.
//!
//! A counting global allocator records the high-water mark of live heap bytes. The body is
//! allocated before the mark is reset, so the ratio is what decoding adds on top of the
//! body: the reader's state, temporary strings and the decoded result (which is kept).
//! Allocation sizes do not depend on the machine or timing, so the numbers are exact and
//! repeatable. A `realloc` is counted as if old and new blocks were both live for a moment
//! (an upper bound).
//!
//! `cargo bench -p ews-bench --bench memory`; the results are also written to
//! `target/tmp/ews-bench-memory.tsv` for the report.

#![allow(clippy::print_stdout)]

use std::hint::black_box;

use bytes::Bytes;
use ews_bench::alloc::{self, Counting};
use ews_bench::corpus::{self, Corpus};
use ews_bench::{ok_response, scan};
use ews_proto::{GetDelegate, GetItem, ItemId, Operation};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The target: peak decode memory at most this many times the body size.
const TARGET_RATIO: f64 = 1.5;

struct Measured {
    peak: usize,
    retained: usize,
}

fn measure<T>(f: impl FnOnce() -> T) -> Measured {
    let before = alloc::live();
    alloc::reset_peak();
    let out = black_box(f());
    let peak = alloc::peak() - before;
    let retained = alloc::live().saturating_sub(before);
    drop(out);
    Measured { peak, retained }
}

fn main() {
    let corpus = match Corpus::ensure(env!("CARGO_TARGET_TMPDIR")) {
        Ok(c) => c,
        Err(e) => panic!("cannot generate the benchmark corpus: {e}"),
    };
    let read = |name: &str| match corpus.read(name) {
        Ok(b) => Bytes::from(b),
        Err(e) => panic!("cannot read {name}: {e}"),
    };
    let principal = match "grace.muller12@contoso.com".parse() {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    let item_id = match ItemId::new("AAMkAD", None) {
        Ok(id) => id,
        Err(e) => panic!("{e}"),
    };

    let mut rows = Vec::new();

    let body = read(corpus::GET_DELEGATE_10000);
    let response = ok_response(body.clone());
    let op = GetDelegate::new(principal);
    let m = measure(|| op.decode(&response).unwrap_or_else(|e| panic!("{e}")));
    rows.push(("getdelegate_10000", "ews-proto", body.len(), m));
    let text = std::str::from_utf8(&body).unwrap_or_else(|e| panic!("{e}"));
    let m = measure(|| scan::ns_scan(text));
    rows.push(("getdelegate_10000", "quick-xml-ns-scan", body.len(), m));
    drop(response);

    let body = read(corpus::GET_ITEM_CALENDAR_1000);
    let response = ok_response(body.clone());
    let op = GetItem::new(item_id);
    let m = measure(|| op.decode(&response).unwrap_or_else(|e| panic!("{e}")));
    rows.push(("getitem_calendar_1000", "ews-proto", body.len(), m));
    let m = measure(|| {
        ews::soap::Envelope::<ews::get_item::GetItemResponse>::from_xml_document(&body)
            .unwrap_or_else(|e| panic!("{e}"))
    });
    rows.push(("getitem_calendar_1000", "ews-0.1.2", body.len(), m));

    let mut tsv = String::from("input\tdecoder\tbody_bytes\tpeak_bytes\tretained_bytes\n");
    println!(
        "{:<24} {:<26} {:>11} {:>11} {:>7} {:>11} {:>7}",
        "input", "decoder", "body", "peak", "ratio", "retained", "ratio"
    );
    for (input, decoder, len, m) in &rows {
        println!(
            "{input:<24} {decoder:<26} {len:>11} {:>11} {:>6.2}x {:>11} {:>6.2}x",
            m.peak,
            m.peak as f64 / *len as f64,
            m.retained,
            m.retained as f64 / *len as f64,
        );
        tsv.push_str(&format!(
            "{input}\t{decoder}\t{len}\t{}\t{}\n",
            m.peak, m.retained
        ));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ews-bench-memory.tsv");
    if let Err(e) = std::fs::write(&path, tsv) {
        panic!("cannot write {}: {e}", path.display());
    }

    let (_, _, len, m) = &rows[0];
    let ratio = m.peak as f64 / *len as f64;
    println!(
        "target: peak while decoding getdelegate_10000 <= {TARGET_RATIO}x the body: {ratio:.2}x ({})",
        if ratio <= TARGET_RATIO {
            "met"
        } else {
            "MISSED"
        }
    );
}
