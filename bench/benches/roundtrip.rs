//! Loopback round trips: the drivers (`ews-blocking` on ureq, `ews-async` on hyper) against
//! a bare ureq / bare hyper client posting the same pre-built request bytes, all to the same
//! local HTTP/1.1 server, which answers every POST with the same canned GetDelegate answer
//! (100 delegates, about 96 KB, from the corpus).
//!
//! The bare clients only post and read the body; the drivers also encode the request and
//! decode the answer, so the difference is the whole cost of the drivers and the core.

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use ews_bench::corpus::Corpus;
use ews_proto::{GetDelegate, Operation};
use http_body_util::{BodyExt, Full};

/// Starts the canned server on a background thread; returns its address.
fn start_server(answer: Bytes) -> SocketAddr {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("cannot bind: {e}"),
    };
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    listener
        .set_nonblocking(true)
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async move {
            let listener =
                tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("{e}"));
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let answer = answer.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let answer = answer.clone();
                            async move {
                                // Read the request body fully, as a server would.
                                let _ = req.into_body().collect().await;
                                let mut resp = hyper::Response::new(Full::new(answer));
                                resp.headers_mut().insert(
                                    http::header::CONTENT_TYPE,
                                    http::HeaderValue::from_static("text/xml; charset=utf-8"),
                                );
                                Ok::<_, Infallible>(resp)
                            }
                        },
                    );
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
    });
    addr
}

fn principal() -> ews_proto::EmailAddress {
    "grace.muller12@contoso.com"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"))
}

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
    let addr = start_server(answer);
    let url = format!("http://{addr}/EWS/Exchange.asmx");
    let op = GetDelegate::new(principal());
    let ctx = ews_proto::RequestContext::new(&url).unwrap_or_else(|e| panic!("{e}"));
    let request = op.encode(&ctx).unwrap_or_else(|e| panic!("{e}"));
    let body = request.body().clone();
    let soap_action = request.headers()["SOAPAction"].clone();
    let auth = "Basic dXNlcjE6cGFzc3dvcmQ="; // user1:password

    let blocking = ews_blocking::Client::builder(&url)
        .credentials(ews_blocking::Credentials::basic("user1", "password"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let reply = blocking.send(&op).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply.body.delegates.len(), delegates);

    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
    let post_ureq = || -> Vec<u8> {
        let mut resp = agent
            .post(&url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", soap_action.as_bytes())
            .header("Authorization", auth)
            .send(&body[..])
            .unwrap_or_else(|e| panic!("{e}"));
        resp.body_mut()
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(post_ureq().len(), answer_len);

    let mut g = c.benchmark_group(format!("roundtrip/getdelegate_{delegates}"));
    g.bench_function("bare-ureq", |b| b.iter(|| black_box(post_ureq())));
    g.bench_function("ews-blocking", |b| {
        b.iter(|| {
            blocking
                .send(black_box(&op))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let async_client = ews_async::Client::builder(&url)
        .credentials(ews_async::Credentials::basic("user1", "password"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let hyper_client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let uri: http::Uri = url.parse().unwrap_or_else(|e| panic!("{e}"));
    let post_hyper = || {
        let req = http::Request::post(uri.clone())
            .header(http::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", soap_action.clone())
            .header(http::header::AUTHORIZATION, auth)
            .body(Full::new(body.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
        let client = &hyper_client;
        async move {
            let resp = client.request(req).await.unwrap_or_else(|e| panic!("{e}"));
            resp.into_body()
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .to_bytes()
        }
    };
    let reply = rt
        .block_on(async_client.send(&op))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(reply.body.delegates.len(), delegates);
    assert_eq!(rt.block_on(post_hyper()).len(), answer_len);

    g.bench_function("bare-hyper", |b| {
        b.iter(|| black_box(rt.block_on(post_hyper())))
    });
    g.bench_function("ews-async", |b| {
        b.iter(|| {
            rt.block_on(async_client.send(black_box(&op)))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = roundtrip
}
criterion_main!(benches);
