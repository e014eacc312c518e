//! What only the async face has, against the loopback simulator: one client shared by
//! spawned tasks. Everything both faces share (authentication, TLS, proxies, the
//! on-behalf meeting, pooling, the mapping of network failures, timeouts, limits) is in the
//! conformance table (`tests/tests/conformance.rs`), which runs every scenario in both.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use ews_async::proto::{EmailAddress, ExchangeVersion, GetDelegate};
use ews_async::{Client, Credentials};
use ews_tests::{SimConfig, Simulator};

fn addr(s: &str) -> EmailAddress {
    s.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clones_share_one_client_across_tasks() {
    let sim = Simulator::start(SimConfig::seed());
    let client = Client::builder(&sim.url())
        .credentials(Credentials::basic("user1@example.com", "Passw0rd-1"))
        .version(ExchangeVersion::Exchange2013_SP1)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .send(&GetDelegate::new(addr("user1@example.com")))
                    .await
                    .map(|r| r.body.len())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 0);
    }
    assert_eq!(sim.requests_for("GetDelegate").len(), 8);
}
