//! Hostile answers fail fast, with a typed error, in bounded memory, under the DEFAULT
//! [`Limits`]: a billion-laughs document (with and without its DOCTYPE), a 100 MB text
//! node, and a 100,000-level nesting. Memory is measured with a counting global allocator,
//! which is why this is its own test binary with a single test (nothing else allocates
//! while it measures).

use std::time::{Duration, Instant};

use bytes::Bytes;
use ews_proto::error::Limit;
use ews_proto::*;
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// What decoding may allocate on top of the input it is given.
const EXTRA: usize = 1 << 20;
/// How long "fast" is, with room for an unoptimised build on a busy machine.
const FAST: Duration = Duration::from_secs(10);

fn response(body: Vec<u8>) -> http::Response<Bytes> {
    http::Response::builder()
        .status(200)
        .header("content-type", "text/xml; charset=utf-8")
        .body(Bytes::from(body))
        .expect("valid response")
}

fn add_delegate() -> AddDelegate {
    AddDelegate::new(
        "user1@example.com".parse().expect("addr"),
        DelegateUser::new(UserId::smtp("user2@example.com".parse().expect("addr"))),
    )
}

/// Decodes `body` with the default limits; returns the error, the bytes allocated on top
/// of what was live before, and the time taken.
fn measure(name: &str, body: Vec<u8>) -> ServerError {
    let response = response(body);
    let op = add_delegate();
    ALLOC.reset_peak_usage();
    let before = ALLOC.current_usage();
    let started = Instant::now();
    let result = op.decode(&response);
    let elapsed = started.elapsed();
    let extra = ALLOC.peak_usage().saturating_sub(before);
    let err = result.expect_err(name);
    assert!(
        extra < EXTRA,
        "{name}: decoding allocated {extra} bytes on top of the input"
    );
    assert!(elapsed < FAST, "{name}: took {elapsed:?}");
    err
}

const ENVELOPE_START: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:AddDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>"#;
const ENVELOPE_END: &str = "</m:ResponseCode></m:AddDelegateResponse></s:Body></s:Envelope>";

#[test]
fn hostile_documents_fail_fast_in_bounded_memory_under_default_limits() {
    assert_eq!(Limits::default().max_body_bytes, 64 << 20);
    assert_eq!(Limits::default().max_depth, 64);

    // Billion laughs: ten levels of ten references each, 10^9 "lol"s if expanded.
    let mut laughs = String::from(r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"#);
    laughs.push_str(r#"<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">"#);
    for i in 2..=9 {
        let p = i - 1;
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&lol{p};").repeat(10)
        ));
    }
    laughs.push_str("]>");
    laughs.push_str(ENVELOPE_START);
    laughs.push_str("&lol9;");
    laughs.push_str(ENVELOPE_END);
    let err = measure("billion laughs", laughs.into_bytes());
    assert!(matches!(err, ServerError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().contains("DOCTYPE"), "{err}");

    // The same references without the DOCTYPE: undeclared entities, never expanded.
    let refs = format!("{ENVELOPE_START}{}{ENVELOPE_END}", "&lol9;".repeat(1000));
    let err = measure("undeclared entity references", refs.into_bytes());
    assert!(matches!(err, ServerError::Malformed { .. }), "{err:?}");

    // A 100 MB text node: over max_body_bytes, refused before parsing.
    let mut big = ENVELOPE_START.as_bytes().to_vec();
    big.resize(big.len() + 100_000_000, b'x');
    big.extend_from_slice(ENVELOPE_END.as_bytes());
    let err = measure("100 MB text node", big);
    assert!(
        matches!(
            err,
            ServerError::LimitExceeded {
                limit: Limit::BodySize,
                max
            } if max == 64 << 20
        ),
        "{err:?}"
    );

    // A 60 MB text node under the limit, in an element the decoder does not know: read
    // through and skipped without a copy. (Text the decoder keeps, such as MessageText,
    // is copied once: memory is then bounded by max_body_bytes.)
    let mut skipped = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:AddDelegateResponse ResponseClass="Error" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:FutureElement>"#.to_vec();
    skipped.resize(skipped.len() + 60_000_000, b'x');
    skipped.extend_from_slice(
        b"</m:FutureElement><m:ResponseCode>ErrorAccessDenied</m:ResponseCode></m:AddDelegateResponse></s:Body></s:Envelope>",
    );
    let err = measure("60 MB text node", skipped);
    assert!(matches!(err, ServerError::Response(_)), "{err:?}");

    // 100,000 levels of nesting inside the answer (where unknown elements are skipped):
    // refused at depth 64.
    let deep = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Success\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">{}{}</m:AddDelegateResponse></s:Body></s:Envelope>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let err = measure("100,000-level nesting", deep.into_bytes());
    assert!(
        matches!(
            err,
            ServerError::LimitExceeded {
                limit: Limit::Depth,
                max: 64
            }
        ),
        "{err:?}"
    );
}
