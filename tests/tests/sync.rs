//! Delegates at scale, both faces, against the simulator: 50 principals x 3 delegates with
//! `ErrorServerBusy` (BackOffMilliseconds), 503 and lost answers injected; every principal verified, no
//! write processed twice (counted at the simulator); a run stopped halfway and resumed
//! from its journal; the journal's lock; a read-only audit with its reverse index.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use ews_proto::sync::{
    DesiredDelegate, DesiredState, Event, Journal, Report, SchedulerConfig, SyncError, resume,
};
use ews_proto::{Credentials, DelegateFolder, Permission};
use ews_tests::sim::{Seed, SeedDelegate, SeedPermissions, SeedUser};
use ews_tests::{Fault, SimConfig, Simulator};

const PRINCIPALS: usize = 50;
const POOL: usize = 10;
const WRITES: [&str; 3] = ["AddDelegate", "UpdateDelegate", "RemoveDelegate"];

fn principal(i: usize) -> String {
    format!("p{i:02}@example.com")
}

fn pool(k: usize) -> String {
    format!("d{}@example.com", k % POOL)
}

/// Principal i: d(i) on Calendar at Reviewer (wanted at Editor, receiving copies: an
/// Update), d(i+5) (not wanted: a Remove under prune); d(i+1) and d(i+2) missing (one
/// Add).
fn simulator() -> Simulator {
    let sim = Simulator::start(SimConfig::seed());
    let user = |smtp: String| SeedUser {
        smtp,
        password: "Passw0rd-x".into(),
        display_name: None,
        token: None,
        sid: None,
        impersonator: false,
    };
    let delegate = |p: usize, d: usize, calendar: &str| SeedDelegate {
        principal: principal(p),
        delegate: pool(d),
        permissions: SeedPermissions {
            calendar: Some(calendar.into()),
            ..SeedPermissions::default()
        },
        receive_copies_of_meeting_messages: false,
        view_private_items: false,
    };
    let seed = Seed {
        users: (0..PRINCIPALS)
            .map(principal)
            .chain((0..POOL).map(pool))
            .map(user)
            .collect(),
        delegates: (0..PRINCIPALS)
            .flat_map(|i| [delegate(i, i, "Reviewer"), delegate(i, i + 5, "Author")])
            .collect(),
        ..Seed::default()
    };
    sim.seed(&seed).expect("the seed");
    sim
}

fn desired() -> Vec<DesiredState> {
    (0..PRINCIPALS)
        .map(|i| {
            let d = |k: usize, level: Permission| {
                DesiredDelegate::new(pool(k).parse().expect("address"))
                    .folder(DelegateFolder::Calendar, level)
            };
            DesiredState::new(principal(i).parse().expect("address"))
                .delegate(d(i, Permission::Editor).receive_copies_of_meeting_messages(true))
                .delegate(d(i + 1, Permission::Author))
                .delegate(d(i + 2, Permission::Reviewer))
                .prune(true)
        })
        .collect()
}

fn config() -> SchedulerConfig {
    SchedulerConfig::default()
        .concurrency(8)
        .delays(Duration::from_millis(5), Duration::from_millis(100))
}

fn throttle(sim: &Simulator) {
    sim.inject(None, Fault::ServerBusy { back_off_ms: 40 }, 4);
    sim.inject(
        None,
        Fault::ServiceUnavailable {
            retry_after_secs: 0,
        },
        4,
    );
    sim.inject(
        Some("AddDelegate"),
        Fault::ServerBusy { back_off_ms: 20 },
        3,
    );
    // Applied, then the connection closes: the outcome is unknown to the client.
    sim.inject(Some("AddDelegate"), Fault::CloseAfterProcessing, 2);
    sim.inject(Some("UpdateDelegate"), Fault::CloseAfterProcessing, 2);
    sim.inject(
        Some("RemoveDelegate"),
        Fault::ServiceUnavailable {
            retry_after_secs: 0,
        },
        3,
    );
}

/// The writes the simulator processed (no fault fired), by (principal, operation).
fn processed_writes(sim: &Simulator) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for op in WRITES {
        for r in sim.requests_for(op) {
            // Processed: answered without a fault, or processed and the answer lost.
            let processed = match r.fault {
                None => r.status == 200,
                Some(fault) => fault == "CloseAfterProcessing",
            };
            if processed {
                let who = r.acting_as.clone().unwrap_or_default().to_ascii_lowercase();
                *out.entry((who, op.to_owned())).or_insert(0) += 1;
            }
        }
    }
    out
}

/// Every principal has its three desired delegates as desired, and nothing else.
fn check_converged(sim: &Simulator) {
    for i in 0..PRINCIPALS {
        let mb = sim.mailbox(&principal(i)).expect("mailbox");
        let mut have: Vec<String> = mb
            .delegates
            .iter()
            .map(|d| d.smtp.to_ascii_lowercase())
            .collect();
        have.sort();
        let mut want = vec![pool(i), pool(i + 1), pool(i + 2)];
        want.sort();
        assert_eq!(have, want, "{}", principal(i));
    }
}

/// One Update, one Add and one Remove processed per principal: none twice, none missing.
fn check_each_write_once(sim: &Simulator) {
    let writes = processed_writes(sim);
    for ((who, op), n) in &writes {
        assert_eq!(*n, 1, "{op} processed {n} times for {who}");
    }
    assert_eq!(writes.len(), PRINCIPALS * 3, "{writes:?}");
}

fn check_report(report: &Report) {
    assert!(report.all_converged(), "{report:#?}");
    assert_eq!(report.principals.len(), PRINCIPALS);
    assert!(report.peak_in_flight <= 8, "{}", report.peak_in_flight);
}

fn journal_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ews-sync-{}-{name}.journal", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Drops the last `finished` line: the process died after that write was applied and
/// before its outcome reached the journal.
fn lose_last_finished(path: &PathBuf) {
    let text = std::fs::read_to_string(path).expect("the journal");
    let lines: Vec<&str> = text.lines().collect();
    let cut = lines
        .iter()
        .rposition(|l| l.contains(r#""record":"finished""#))
        .expect("a finished write");
    let kept: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != cut)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(path, kept).expect("rewrite");
}

fn blocking(sim: &Simulator) -> ews_blocking::Client {
    ews_blocking::Client::builder(&sim.url())
        .credentials(Credentials::basic("admin@example.com", "AdminPassw0rd"))
        .build()
        .expect("client")
}

fn async_client(sim: &Simulator) -> ews_async::Client {
    ews_async::Client::builder(&sim.url())
        .credentials(Credentials::basic("admin@example.com", "AdminPassw0rd"))
        .build()
        .expect("client")
}

#[test]
fn blocking_sync_converges_under_throttling_with_each_write_once() {
    let sim = simulator();
    throttle(&sim);
    let client = blocking(&sim);
    let mut backoffs = 0;
    let report = client
        .sync_delegates(desired(), config(), None, |e| {
            if matches!(e, Event::BackOff { .. }) {
                backoffs += 1;
            }
            ControlFlow::Continue(())
        })
        .expect("a report");
    check_report(&report);
    assert!(backoffs > 0, "the throttling was seen");
    assert_eq!(sim.pending_faults(), 0, "every fault fired");
    check_converged(&sim);
    check_each_write_once(&sim);

    // A second run writes nothing.
    sim.clear_requests();
    let again = client
        .sync_delegates(desired(), config(), None, |_| ControlFlow::Continue(()))
        .expect("a report");
    assert!(again.all_converged());
    assert_eq!(again.writes, 0);
    assert!(processed_writes(&sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_sync_converges_under_throttling_with_each_write_once() {
    let sim = simulator();
    throttle(&sim);
    let client = async_client(&sim);
    let report = client
        .sync_delegates(desired(), config(), None, |_| ControlFlow::Continue(()))
        .await
        .expect("a report");
    check_report(&report);
    assert_eq!(sim.pending_faults(), 0, "every fault fired");
    check_converged(&sim);
    check_each_write_once(&sim);
}

const STOP_AT: usize = 70;

#[test]
fn blocking_sync_stopped_halfway_resumes_from_its_journal_with_no_write_twice() {
    let sim = simulator();
    throttle(&sim);
    let client = blocking(&sim);
    let path = journal_path("blocking-resume");
    let mut writes = 0;
    let stopped = client.sync_delegates(desired(), config(), Some(&path), |e| {
        if matches!(e, Event::Writing { .. }) {
            writes += 1;
            if writes == STOP_AT {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    assert!(matches!(stopped, Err(SyncError::Stopped)), "{stopped:?}");
    lose_last_finished(&path);
    let text = std::fs::read_to_string(&path).expect("journal");
    let state = resume(&Journal::decode(&text).expect("decodes").records).expect("resumes");
    let verified = state.verified().count();
    assert!(verified > 0 && verified < PRINCIPALS, "{verified}");
    assert!(state.in_doubt().count() > 0, "a write in doubt");

    let report = client
        .sync_delegates(desired(), config(), Some(&path), |_| {
            ControlFlow::Continue(())
        })
        .expect("resumed");
    check_report(&report);
    let skipped = report.principals.iter().filter(|p| p.skipped).count();
    assert_eq!(skipped, verified);
    check_converged(&sim);
    check_each_write_once(&sim);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_sync_stopped_halfway_resumes_from_its_journal_with_no_write_twice() {
    let sim = simulator();
    throttle(&sim);
    let client = async_client(&sim);
    let path = journal_path("async-resume");
    let mut writes = 0;
    let stopped = client
        .sync_delegates(desired(), config(), Some(&path), |e| {
            if matches!(e, Event::Writing { .. }) {
                writes += 1;
                if writes == STOP_AT {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })
        .await;
    assert!(matches!(stopped, Err(SyncError::Stopped)), "{stopped:?}");
    lose_last_finished(&path);
    let report = client
        .sync_delegates(desired(), config(), Some(&path), |_| {
            ControlFlow::Continue(())
        })
        .await
        .expect("resumed");
    check_report(&report);
    assert!(report.principals.iter().any(|p| p.skipped));
    check_converged(&sim);
    check_each_write_once(&sim);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_second_run_on_the_same_journal_is_refused_while_the_first_holds_it() {
    let sim = simulator();
    let client = blocking(&sim);
    let path = journal_path("lock");
    let mut second = None;
    let report = client
        .sync_delegates(desired(), config(), Some(&path), |e| {
            if second.is_none() && matches!(e, Event::Writing { .. }) {
                second = Some(
                    client.sync_delegates(desired(), config(), Some(&path), |_| {
                        ControlFlow::Continue(())
                    }),
                );
            }
            ControlFlow::Continue(())
        })
        .expect("the first run");
    assert!(report.all_converged());
    assert!(
        matches!(second, Some(Err(SyncError::Locked))),
        "{:?}",
        second.map(|r| r.map(|_| "a report"))
    );
    // Released with the first run: a third one resumes and skips every principal.
    let third = client
        .sync_delegates(desired(), config(), Some(&path), |_| {
            ControlFlow::Continue(())
        })
        .expect("the lock is free");
    assert_eq!(third.requests, 0);
    assert!(third.principals.iter().all(|p| p.skipped));
    // Other desired states: refused, nothing sent.
    let other = client.sync_delegates(desired().into_iter().take(3), config(), Some(&path), |_| {
        ControlFlow::Continue(())
    });
    assert!(matches!(other, Err(SyncError::Journal(_))), "{other:?}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn both_faces_audit_read_only_with_the_reverse_index() {
    let sim = simulator();
    throttle(&sim);
    let principals: Vec<_> = (0..PRINCIPALS)
        .map(|i| principal(i).parse().expect("address"))
        .collect();
    let audit = blocking(&sim)
        .audit_delegates(principals.clone(), config(), |_| ControlFlow::Continue(()))
        .expect("an audit");
    assert_eq!(audit.principals.len(), PRINCIPALS);
    assert!(audit.failed.is_empty(), "{:?}", audit.failed);
    // d0 is d(i) of p00, p10, .. and d(i+5) of p05, p15, ..: 10 principals.
    assert_eq!(audit.delegate_of("D0@example.com").len(), 10);
    let p00 = audit
        .principal(&"p00@example.com".parse().expect("address"))
        .expect("p00");
    assert_eq!(p00.delegates.len(), 2);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let again = runtime
        .block_on(
            async_client(&sim).audit_delegates(principals, config(), |_| ControlFlow::Continue(())),
        )
        .expect("an audit");
    assert_eq!(again, audit);
    assert!(processed_writes(&sim).is_empty(), "an audit wrote");
    assert_eq!(
        sim.requests_for("GetDelegate")
            .iter()
            .filter(|r| r.fault.is_none())
            .count(),
        2 * PRINCIPALS
    );
}
