//! The delegate tour (`ews_tests::tour`), run by both faces against servers that behave
//! like real ones: mail delivered late, an inbox holding an earlier run's invitation.

use std::sync::Arc;
use std::time::Duration;

use ews_tests::SimConfig;
use ews_tests::tour::{Account, Failure, Tour};

// The examples themselves, for their `connect`: the test runs exactly what they run.
#[path = "../../ews-async/examples/async-delegate-tour.rs"]
mod async_tour;
#[path = "../../ews-blocking/examples/delegate-tour.rs"]
mod blocking_tour;

fn blocking(tour: &Tour, account: &Account) -> Result<blocking_tour::Blocking, Failure> {
    blocking_tour::connect(tour, account)
}

fn nonblocking(tour: &Tour, account: &Account) -> Result<async_tour::Async, Failure> {
    let runtime = Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    );
    async_tour::connect(&runtime, tour, account)
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
