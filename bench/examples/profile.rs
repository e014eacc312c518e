//! Runs one benchmark case a fixed number of times, for profilers and instruction counts:
//!
//! ```sh
//! cargo build --profile bench -p ews-bench --example profile
//! valgrind --tool=callgrind target/release/examples/profile proto-getitem 3
//! ```
//!
//! Cases: `{scan,plain,proto}-{getdelegate,getitem,finditem}`, `ews-{getitem,finditem}`,
//! `proto-encode`, `proto-encode-request`, `ews-encode`, and the loopback round trips on
//! the one-delegate answer `rt-{bare-ureq,blocking,bare-hyper,async}` (user-space
//! instructions of client and server; the kernel's share is not counted). The corpus is generated under `$CARGO_TARGET_DIR/tmp` (default `target/tmp`)
//! unless `EWS_BENCH_CORPUS_PARENT` names another directory.

#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use ews_bench::corpus::{self, Corpus};
use ews_bench::{inputs, ok_response, scan};
use ews_proto::{FindItem, FolderId, GetDelegate, GetItem, ItemId, Operation};

#[path = "../peer_create_item.rs"]
mod peer_create_item;

#[path = "../loopback.rs"]
mod loopback;

fn corpus_parent() -> PathBuf {
    if let Some(dir) = std::env::var_os("EWS_BENCH_CORPUS_PARENT") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("tmp")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args
        .next()
        .unwrap_or_else(|| panic!("usage: profile CASE [N]"));
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let corpus = Corpus::ensure(corpus_parent()).unwrap_or_else(|e| panic!("{e}"));
    let input = match case.rsplit('-').next() {
        Some("getdelegate") => Some(corpus::GET_DELEGATE_10000),
        Some("getitem") => Some(corpus::GET_ITEM_CALENDAR_1000),
        Some("finditem") => Some(corpus::FIND_ITEM_CALENDAR_1000),
        _ => None,
    };
    let body = input.map(|name| Bytes::from(corpus.read(name).unwrap_or_else(|e| panic!("{e}"))));
    let body = body.unwrap_or_default();
    let text = std::str::from_utf8(&body).unwrap_or_else(|e| panic!("{e}"));
    let response = ok_response(body.clone());
    let principal: ews_proto::EmailAddress =
        inputs::PRINCIPAL.parse().unwrap_or_else(|e| panic!("{e}"));
    let id = ItemId::new("AAMkAD", None).unwrap_or_else(|e| panic!("{e}"));
    let ctx = inputs::context();
    let create = inputs::create_item_on_behalf();
    let peer = peer_create_item::peer_envelope();
    let loopback = case.starts_with("rt-").then(|| {
        let answer = corpus
            .read("getdelegate_1.xml")
            .unwrap_or_else(|e| panic!("{e}"));
        let server = loopback::Server::start(Bytes::from(answer));
        let clients = loopback::Clients::new(&server.url);
        // Connections and pools warm, so that N = 0 pays the set-up and N > 0 only calls.
        clients.bare_ureq();
        clients.bare_hyper();
        clients.blocking();
        clients.nonblocking();
        (server, clients)
    });
    let rt = || {
        loopback
            .as_ref()
            .map(|(_, c)| c)
            .unwrap_or_else(|| panic!("no loopback"))
    };
    let mut sink = 0usize;
    for _ in 0..n {
        sink += match case.as_str() {
            "scan-getdelegate" | "scan-getitem" | "scan-finditem" => scan::ns_scan(text).elements,
            "plain-getdelegate" | "plain-getitem" | "plain-finditem" => {
                scan::plain_scan(text).elements
            }
            "proto-getdelegate" => GetDelegate::new(principal.clone())
                .decode(black_box(&response))
                .map(|r| r.body.len())
                .unwrap_or_else(|e| panic!("{e}")),
            "proto-getitem" => GetItem::new(id.clone())
                .decode(black_box(&response))
                .map(|r| r.body.len())
                .unwrap_or_else(|e| panic!("{e}")),
            "proto-finditem" => {
                FindItem::new(FolderId::own(ews_proto::DistinguishedFolder::Calendar))
                    .decode(black_box(&response))
                    .map(|r| r.body.len())
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            "ews-getitem" => {
                ews::soap::Envelope::<ews::get_item::GetItemResponse>::from_xml_document(&body)
                    .map(|e| black_box(e).headers.len())
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            "ews-finditem" => {
                ews::soap::Envelope::<ews::find_item::FindItemResponse>::from_xml_document(&body)
                    .map(|e| black_box(e).headers.len())
                    .unwrap_or_else(|e| panic!("{e}"))
            }
            "proto-encode" => {
                let mut buf = BytesMut::new();
                black_box(&create)
                    .encode_into(&ctx, &mut buf)
                    .unwrap_or_else(|e| panic!("{e}"));
                buf.len()
            }
            "proto-encode-request" => black_box(&create)
                .encode(&ctx)
                .map(|r| r.body().len())
                .unwrap_or_else(|e| panic!("{e}")),
            "ews-encode" => black_box(&peer)
                .as_xml_document()
                .map(|d| d.len())
                .unwrap_or_else(|e| panic!("{e}")),
            "rt-bare-ureq" => rt().bare_ureq(),
            "rt-bare-hyper" => rt().bare_hyper(),
            "rt-blocking" => rt().blocking(),
            "rt-async" => rt().nonblocking(),
            other => panic!("unknown case {other}"),
        };
    }
    if let Some((server, _)) = &loopback {
        assert_eq!(
            server.connections(),
            4,
            "a client opened a connection per call"
        );
    }
    println!("{case} x{n}: {sink}");
}
