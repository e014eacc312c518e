//! The delegate tour (`ews_tests::tour`), run by both faces against servers that behave
//! like real ones: mail delivered late, an inbox holding an earlier run's invitation.

use std::time::Duration;

use ews_proto::{Error, Operation, Reply};
use ews_tests::SimConfig;
use ews_tests::tour::{Account, Failure, Tour, TourClient};

struct Blocking(ews_blocking::Client);

impl TourClient for Blocking {
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.0.send(op)
    }
}

fn blocking(tour: &Tour, account: &Account) -> Result<Blocking, Failure> {
    let client = ews_blocking::Client::builder(&tour.endpoint).credentials(account.credentials());
    Ok(Blocking(client.build()?))
}

struct Async(ews_async::Client, tokio::runtime::Runtime);

impl TourClient for Async {
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.1.block_on(self.0.send(op))
    }
}

fn nonblocking(tour: &Tour, account: &Account) -> Result<Async, Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = {
        let _guard = rt.enter();
        let b = ews_async::Client::builder(&tour.endpoint).credentials(account.credentials());
        b.build()?
    };
    Ok(Async(client, rt))
}

#[test]
fn the_tour_waits_for_an_invitation_delivered_late() {
    let late = || SimConfig::seed().with_delivery_delay(Duration::from_secs(2));
    let tour = Tour::simulated(late()).expect("simulator");
    tour.run(blocking).expect("the blocking tour");
    let tour = Tour::simulated(late()).expect("simulator");
    tour.run(nonblocking).expect("the async tour");
}

#[test]
fn an_earlier_runs_invitation_does_not_pass_a_rerun() {
    let mut tour = Tour::simulated(SimConfig::seed()).expect("simulator");
    tour.run(blocking).expect("the first run");
    let sim = tour.simulator.as_ref().expect("embedded");
    assert_eq!(
        sim.mailbox("user3@example.com")
            .expect("mailbox")
            .invitations_received,
        1
    );
    // The rerun's invitation does not arrive in time; the first run's is in the inbox.
    sim.set_delivery_delay(Duration::from_secs(3600));
    tour.invitation_wait = Duration::from_millis(600);
    let e = tour
        .run(nonblocking)
        .expect_err("no invitation of this run");
    assert!(e.to_string().contains("did not arrive"), "{e}");
}
