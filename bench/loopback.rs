//! The loopback round trip shared by `benches/roundtrip.rs` and the `rt-*` cases of
//! `examples/profile.rs`: a local HTTP/1.1 server (hyper, its own thread) answering every
//! POST with the same canned body, and the four clients that call it: the drivers, and bare
//! ureq / bare hyper posting the same pre-built request bytes without encoding or decoding.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use ews_proto::{GetDelegate, Operation};
use http_body_util::{BodyExt, Full};

/// A running canned server: its URL and how many connections it accepted.
pub(crate) struct Server {
    pub(crate) url: String,
    connections: Arc<AtomicUsize>,
}

impl Server {
    /// Starts the server on a background thread with its own runtime.
    pub(crate) fn start(answer: Bytes) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot bind: {e}"));
        let addr: SocketAddr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("{e}"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            rt.block_on(serve(listener, answer, counter));
        });
        Server {
            url: format!("http://{addr}/EWS/Exchange.asmx"),
            connections,
        }
    }

    /// Connections accepted so far (1 when every client reuses its connection).
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn serve(listener: std::net::TcpListener, answer: Bytes, connections: Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap_or_else(|e| panic!("{e}"));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.fetch_add(1, Ordering::Relaxed);
        let answer = answer.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
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
                });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

/// The operation every client runs, and the bytes the bare clients post for it.
pub(crate) struct Clients {
    pub(crate) op: GetDelegate,
    body: Bytes,
    soap_action: http::HeaderValue,
    uri: http::Uri,
    url: String,
    pub(crate) blocking: ews_blocking::Client,
    pub(crate) nonblocking: ews_async::Client,
    agent: ureq::Agent,
    hyper: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    pub(crate) runtime: tokio::runtime::Runtime,
}

/// `user1:password`, as the drivers send it.
const AUTH: &str = "Basic dXNlcjE6cGFzc3dvcmQ=";

impl Clients {
    pub(crate) fn new(url: &str) -> Clients {
        let op = GetDelegate::new(
            "grace.muller12@contoso.com"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
        );
        let ctx = ews_proto::RequestContext::new(url).unwrap_or_else(|e| panic!("{e}"));
        let request = op.encode(&ctx).unwrap_or_else(|e| panic!("{e}"));
        let credentials = || ews_proto::Credentials::basic("user1", "password");
        Clients {
            body: request.body().clone(),
            soap_action: request.headers()["SOAPAction"].clone(),
            uri: url.parse().unwrap_or_else(|e| panic!("{e}")),
            url: url.to_owned(),
            blocking: ews_blocking::Client::builder(url)
                .credentials(credentials())
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
            nonblocking: ews_async::Client::builder(url)
                .credentials(credentials())
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
            agent: ureq::Agent::config_builder().build().into(),
            hyper:
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{e}")),
            op,
        }
    }

    /// Bare ureq: post the bytes, read the answer. Returns its length.
    pub(crate) fn bare_ureq(&self) -> usize {
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", self.soap_action.as_bytes())
            .header("Authorization", AUTH)
            .send(&self.body[..])
            .unwrap_or_else(|e| panic!("{e}"));
        resp.body_mut()
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{e}"))
            .len()
    }

    /// Bare hyper: post the bytes, read the answer. Returns its length.
    pub(crate) fn bare_hyper(&self) -> usize {
        let req = http::Request::post(self.uri.clone())
            .header(http::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", self.soap_action.clone())
            .header(http::header::AUTHORIZATION, AUTH)
            .body(Full::new(self.body.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
        self.runtime.block_on(async {
            let resp = self
                .hyper
                .request(req)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            resp.into_body()
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .to_bytes()
                .len()
        })
    }

    /// ews-blocking: encode, send, decode. Returns the number of delegates.
    pub(crate) fn blocking(&self) -> usize {
        let reply = self
            .blocking
            .send(&self.op)
            .unwrap_or_else(|e| panic!("{e}"));
        reply.body.len()
    }

    /// ews-async: encode, send, decode. Returns the number of delegates.
    pub(crate) fn nonblocking(&self) -> usize {
        let reply = self
            .runtime
            .block_on(self.nonblocking.send(&self.op))
            .unwrap_or_else(|e| panic!("{e}"));
        reply.body.len()
    }
}
