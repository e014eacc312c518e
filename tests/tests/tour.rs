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

/// What the tour did, as the simulator saw it: one update of the moved meeting at the
/// attendee, sent by the delegate for the principal; the principal's acceptance recorded
/// on the attendee's own meeting.
fn check_at_the_simulator(tour: &Tour) {
    let sim = tour.simulator.as_ref().expect("embedded");
    let (user1, user2) = ("user1@example.com", "user2@example.com");
    let user3 = sim.mailbox("user3@example.com").expect("user3");
    assert_eq!(user3.updates_received, 1);
    assert_eq!(sim.mailbox(user1).expect("user1").updates_sent, 1);
    let update = user3
        .inbox
        .iter()
        .chain(&user3.deleted_items)
        .find(|i| i.is_update)
        .expect("the update");
    assert!(
        update
            .subject
            .as_deref()
            .is_some_and(|s| s.ends_with("(moved)"))
    );
    assert_eq!(update.start.as_deref(), Some("2025-06-02T16:00:00Z"));
    assert_eq!(update.from.as_ref().map(|a| a.email.as_str()), Some(user1));
    assert_eq!(
        update.sender.as_ref().map(|a| a.email.as_str()),
        Some(user2)
    );
    let review = user3
        .calendar
        .iter()
        .find(|i| {
            i.subject
                .as_deref()
                .is_some_and(|s| s.starts_with("Review"))
        })
        .expect("user3's meeting");
    assert_eq!(review.responses[user1].response_type, "Accept");
    assert_eq!(user3.responses_received, 1);
}

#[test]
fn the_tour_waits_for_an_invitation_delivered_late() {
    let late = || SimConfig::seed().with_delivery_delay(Duration::from_secs(2));
    let tour = Tour::simulated(late()).expect("simulator");
    tour.run(blocking).expect("the blocking tour");
    check_at_the_simulator(&tour);
    let tour = Tour::simulated(late()).expect("simulator");
    tour.run(nonblocking).expect("the async tour");
    check_at_the_simulator(&tour);
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
