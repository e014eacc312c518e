//! Delegates at scale, both faces, against the simulator: 1,000 principals x 3 delegates
//! with `ErrorServerBusy` (BackOffMilliseconds), 503, `ErrorExceededConnectionCount` (the
//! simulator's per-caller concurrency limit is below the run's) and lost answers injected:
//! every principal verified, no write processed twice, never two requests in flight to one
//! principal, peak concurrency <= N and nothing sent through a closed back-off gate — each
//! counted at the simulator, not by the client. A run killed halfway (SIGKILL: the test
//! binary runs itself as a child process) and resumed from its journal; a run stopped
//! halfway in-process and resumed; the journal's lock; a read-only audit with its reverse
//! index.

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
/// The principals of the runs at scale.
const AT_SCALE: usize = 1_000;
const POOL: usize = 10;
const WRITES: [&str; 3] = ["AddDelegate", "UpdateDelegate", "RemoveDelegate"];
/// The runs' concurrency (N).
const N: u32 = 8;
/// The simulator's per-caller limit (EWSMaxConcurrency), below N: refusals happen.
const SERVER_LIMIT: u32 = 6;
const CALLER: &str = "admin@example.com";

fn principal(i: usize) -> String {
    format!("p{i:04}@example.com")
}

fn pool(k: usize) -> String {
    format!("d{}@example.com", k % POOL)
}

/// Principal i: d(i) on Calendar at Reviewer (wanted at Editor, receiving copies: an
/// Update), d(i+5) (not wanted: a Remove under prune); d(i+1) and d(i+2) missing (one
/// Add).
fn simulator() -> Simulator {
    simulator_of(PRINCIPALS, SimConfig::seed())
}

/// `n` principals seeded as [`simulator`] says, in a simulator configured by `config`.
fn simulator_of(n: usize, config: SimConfig) -> Simulator {
    let sim = Simulator::start(config);
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
        users: (0..n)
            .map(principal)
            .chain((0..POOL).map(pool))
            .map(user)
            .collect(),
        delegates: (0..n)
            .flat_map(|i| [delegate(i, i, "Reviewer"), delegate(i, i + 5, "Author")])
            .collect(),
        ..Seed::default()
    };
    sim.seed(&seed).expect("the seed");
    sim
}

fn desired() -> Vec<DesiredState> {
    desired_of(PRINCIPALS)
}

fn desired_of(n: usize) -> Vec<DesiredState> {
    (0..n)
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
        .concurrency(N)
        .delays(Duration::from_millis(5), Duration::from_millis(100))
}

/// At scale, refusals beyond the server's limit come on top of the injected faults: more
/// attempts per request.
fn config_at_scale() -> SchedulerConfig {
    config().max_attempts(12)
}

/// The simulator at scale: a service time (requests overlap as against a real server), a
/// per-caller limit below N, and a back-off longer than the gate's grace (so that a
/// request sent through the gate cannot pass for one in transit).
fn simulator_at_scale() -> Simulator {
    simulator_of(
        AT_SCALE,
        SimConfig::seed()
            .with_service_time(Duration::from_millis(1))
            .with_max_concurrency(SERVER_LIMIT)
            // Generous for debug builds on a loaded machine: a request decided on before
            // the refusal came may take this long to arrive (new connections, threads).
            .with_gate_grace(Duration::from_millis(100)),
    )
}

/// Throttling at scale: busy answers with a back-off longer than the grace, spread over
/// the run (armed again as they fire), 503s and lost answers.
fn throttle_at_scale(sim: &Simulator) {
    sim.inject(None, Fault::ServerBusy { back_off_ms: 300 }, 3);
    sim.inject(
        None,
        Fault::ServiceUnavailable {
            retry_after_secs: 0,
        },
        6,
    );
    sim.inject(
        Some("AddDelegate"),
        Fault::ServerBusy { back_off_ms: 250 },
        3,
    );
    sim.inject(Some("AddDelegate"), Fault::CloseAfterProcessing, 5);
    sim.inject(Some("UpdateDelegate"), Fault::CloseAfterProcessing, 5);
    sim.inject(
        Some("RemoveDelegate"),
        Fault::ServiceUnavailable {
            retry_after_secs: 0,
        },
        5,
    );
}

/// What the simulator recorded of the client's manners: never two requests in flight to
/// one principal, at most N at once, nothing through a closed gate; and the throttling
/// was really met (refusals beyond the limit, busy answers).
fn check_manners(sim: &Simulator) {
    let report = sim.concurrency_report();
    assert!(
        report.mailbox_overlaps.is_empty(),
        "two requests in flight to one principal: {:?}",
        &report.mailbox_overlaps[..report.mailbox_overlaps.len().min(5)]
    );
    assert_eq!(report.max_per_mailbox, 1);
    let peak = report.peak_of(CALLER);
    assert!(peak <= N, "peak in flight {peak} > {N}");
    assert!(
        report.gate_violations.is_empty(),
        "sent through a closed gate: {:?} ({} in transit)",
        &report.gate_violations[..report.gate_violations.len().min(5)],
        report.in_transit
    );
    assert!(report.refused > 0, "the limit was met: {report:?}");
    assert!(report.busy > 0 && report.gates_closed > 0, "{report:?}");
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
            if r.processed() {
                let who = r.acting_as.clone().unwrap_or_default().to_ascii_lowercase();
                *out.entry((who, op.to_owned())).or_insert(0) += 1;
            }
        }
    }
    out
}

/// Every principal has its three desired delegates as desired, and nothing else.
fn check_converged(sim: &Simulator) {
    check_converged_of(sim, PRINCIPALS);
}

fn check_converged_of(sim: &Simulator, n: usize) {
    for i in 0..n {
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
    check_each_write_once_of(sim, PRINCIPALS);
}

fn check_each_write_once_of(sim: &Simulator, n: usize) {
    let writes = processed_writes(sim);
    for ((who, op), times) in &writes {
        assert_eq!(*times, 1, "{op} processed {times} times for {who}");
    }
    assert_eq!(writes.len(), n * 3);
}

fn check_report(report: &Report) {
    check_report_of(report, PRINCIPALS);
}

fn check_report_of(report: &Report, n: usize) {
    let failed: Vec<_> = report
        .principals
        .iter()
        .filter(|p| !matches!(p.outcome, ews_proto::sync::Outcome::Converged))
        .take(3)
        .collect();
    assert!(report.all_converged(), "{failed:#?}");
    assert_eq!(report.principals.len(), n);
    assert!(report.peak_in_flight <= N, "{}", report.peak_in_flight);
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
    blocking_at(&sim.url())
}

fn blocking_at(url: &str) -> ews_blocking::Client {
    ews_blocking::Client::builder(url)
        .credentials(Credentials::basic(CALLER, "AdminPassw0rd"))
        .build()
        .expect("client")
}

fn async_client(sim: &Simulator) -> ews_async::Client {
    async_client_at(&sim.url())
}

fn async_client_at(url: &str) -> ews_async::Client {
    ews_async::Client::builder(url)
        .credentials(Credentials::basic(CALLER, "AdminPassw0rd"))
        .build()
        .expect("client")
}

#[test]
fn blocking_sync_of_1000_principals_converges_under_throttling_with_each_write_once() {
    let sim = simulator_at_scale();
    throttle_at_scale(&sim);
    let client = blocking(&sim);
    let mut backoffs = 0;
    let report = client
        .sync_delegates(desired_of(AT_SCALE), config_at_scale(), None, |e| {
            if matches!(e, Event::BackOff { .. }) {
                backoffs += 1;
            }
            ControlFlow::Continue(())
        })
        .expect("a report");
    check_manners(&sim);
    check_each_write_once_of(&sim, AT_SCALE);
    check_report_of(&report, AT_SCALE);
    assert!(backoffs > 0, "the throttling was seen");
    assert_eq!(sim.pending_faults(), 0, "every fault fired");
    check_converged_of(&sim, AT_SCALE);

    // A second run writes nothing.
    sim.clear_requests();
    let again = client
        .sync_delegates(desired_of(AT_SCALE), config_at_scale(), None, |_| {
            ControlFlow::Continue(())
        })
        .expect("a report");
    assert!(again.all_converged());
    assert_eq!(again.writes, 0);
    assert!(processed_writes(&sim).is_empty());
    check_manners(&sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_sync_of_1000_principals_converges_under_throttling_with_each_write_once() {
    let sim = simulator_at_scale();
    throttle_at_scale(&sim);
    let client = async_client(&sim);
    let report = client
        .sync_delegates(desired_of(AT_SCALE), config_at_scale(), None, |_| {
            ControlFlow::Continue(())
        })
        .await
        .expect("a report");
    check_manners(&sim);
    check_each_write_once_of(&sim, AT_SCALE);
    check_report_of(&report, AT_SCALE);
    assert_eq!(sim.pending_faults(), 0, "every fault fired");
    check_converged_of(&sim, AT_SCALE);
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
    // d0 is d(i) of p0000, p0010, .. and d(i+5) of p0005, p0015, ..: 10 principals.
    assert_eq!(audit.delegate_of("D0@example.com").len(), 10);
    let p00 = audit
        .principal(&principal(0).parse().expect("address"))
        .expect("p0000");
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

/// The kill tests (SIGKILL: Unix only).
#[cfg(unix)]
mod killed {
    use super::*;

    /// The principals of the kill tests.
    const KILLED: usize = 300;
    /// Set for the child process of a kill test: face, simulator URL and journal path, one a
    /// line.
    const CHILD_ENV: &str = "EWS_SYNC_KILL_CHILD";

    /// The child half of the kill tests, run by them as a separate process (this test binary
    /// again, with [`CHILD_ENV`] set): a journaled sync of [`KILLED`] principals, until the
    /// parent kills it with SIGKILL.
    #[test]
    #[ignore = "the child process of the kill tests, which run it themselves"]
    fn kill_child() {
        let spec = std::env::var(CHILD_ENV)
            .expect("run by the kill tests only (they set EWS_SYNC_KILL_CHILD)");
        let mut lines = spec.lines();
        let (Some(face), Some(url), Some(path)) = (lines.next(), lines.next(), lines.next()) else {
            panic!("{CHILD_ENV}: face, URL and journal, one a line");
        };
        let path = PathBuf::from(path);
        let states = desired_of(KILLED);
        let report = match face {
            "blocking" => blocking_at(url)
                .sync_delegates(states, config(), Some(&path), |_| ControlFlow::Continue(())),
            _ => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async_client_at(url).sync_delegates(
                    states,
                    config(),
                    Some(&path),
                    |_| ControlFlow::Continue(()),
                )),
        };
        // Only if the parent was too slow to kill it: the parent then fails.
        let _ = report;
    }

    /// Runs [`kill_child`] as a child process with `face`, kills it (SIGKILL) once some but
    /// not all of its writes were processed at the simulator, and checks the journal it left.
    /// Returns the simulator (with the throttling for the resumed run armed) and the journal.
    fn killed_halfway(face: &str) -> (Simulator, PathBuf, usize) {
        let sim = simulator_of(
            KILLED,
            SimConfig::seed()
                .with_service_time(Duration::from_millis(2))
                .with_max_concurrency(SERVER_LIMIT)
                .with_gate_grace(Duration::from_millis(100)),
        );
        // Lost answers: writes the killed run journaled as unknown.
        sim.inject(Some("AddDelegate"), Fault::CloseAfterProcessing, 3);
        sim.inject(Some("UpdateDelegate"), Fault::CloseAfterProcessing, 3);
        let path = journal_path(&format!("kill-{face}"));
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = std::process::Command::new(exe)
            .args(["--exact", "killed::kill_child", "--ignored", "--nocapture"])
            .env(
                CHILD_ENV,
                format!("{face}\n{}\n{}", sim.url(), path.display()),
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the child process");
        let all = KILLED * 3;
        let started = std::time::Instant::now();
        while sim.processed_count(&WRITES) < all / 2 {
            if let Some(status) = child.try_wait().expect("the child's status") {
                panic!("the child ended ({status}) before it was killed");
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the child wrote too slowly"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("reaped");
        {
            use std::os::unix::process::ExitStatusExt as _;
            assert_eq!(status.signal(), Some(9), "{status}");
        }
        // What the killed process had sent ends at the server (answered into a closed socket,
        // or dropped unprocessed): a restart comes after that.
        while sim.in_flight() > 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        let written = sim.processed_count(&WRITES);
        assert!(written >= all / 2 && written < all, "{written} of {all}");
        let text = std::fs::read_to_string(&path).expect("the killed run's journal");
        let state = resume(&Journal::decode(&text).expect("decodes").records).expect("resumes");
        let verified = state.verified().count();
        assert!(verified > 0 && verified < KILLED, "{verified}");
        // The resumed run meets throttling too.
        sim.inject(None, Fault::ServerBusy { back_off_ms: 300 }, 2);
        sim.inject(
            None,
            Fault::ServiceUnavailable {
                retry_after_secs: 0,
            },
            3,
        );
        (sim, path, verified)
    }

    /// After the resumed run: converged, each write processed once over both processes, the
    /// killed run's verified principals skipped, and the manners of both runs.
    fn check_resumed(sim: &Simulator, report: &Report, verified: usize) {
        check_manners(sim);
        check_each_write_once_of(sim, KILLED);
        check_report_of(report, KILLED);
        let skipped = report.principals.iter().filter(|p| p.skipped).count();
        assert_eq!(skipped, verified);
        check_converged_of(sim, KILLED);
    }

    #[test]
    fn blocking_sync_killed_halfway_resumes_from_its_journal_with_no_write_twice() {
        let (sim, path, verified) = killed_halfway("blocking");
        let report = blocking(&sim)
            .sync_delegates(desired_of(KILLED), config(), Some(&path), |_| {
                ControlFlow::Continue(())
            })
            .expect("resumed");
        check_resumed(&sim, &report, verified);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn async_sync_killed_halfway_resumes_from_its_journal_with_no_write_twice() {
        let (sim, path, verified) = killed_halfway("async");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let report = runtime
            .block_on(async_client(&sim).sync_delegates(
                desired_of(KILLED),
                config(),
                Some(&path),
                |_| ControlFlow::Continue(()),
            ))
            .expect("resumed");
        check_resumed(&sim, &report, verified);
        let _ = std::fs::remove_file(&path);
    }
}

/// The run's deadline bounds each send: an UpdateDelegate the server sits on (a 6 s
/// delay before it is processed) is given up at the deadline (1.5 s after the start), so
/// the run ends before the server processes it; a driver that waited for the answer
/// would return after. The principal fails with the deadline, its write never resent.
fn check_deadline_bounds_the_send(sim: &Simulator, report: &Report) {
    assert_eq!(
        sim.processed_count(&["UpdateDelegate"]),
        0,
        "the run waited for the answer past its deadline"
    );
    let p = report
        .principal(&principal(0).parse().expect("address"))
        .expect("p0000");
    assert!(
        matches!(
            p.outcome,
            ews_proto::sync::Outcome::Failed(ews_proto::sync::Failure::Deadline)
        ),
        "{:?}",
        p.outcome
    );
    // Sent once, never again.
    assert_eq!(p.writes, 1);
}

fn deadline_run() -> (Simulator, Vec<DesiredState>, SchedulerConfig) {
    let sim = simulator_of(1, SimConfig::seed());
    sim.inject(
        Some("UpdateDelegate"),
        Fault::Delay(Duration::from_secs(6)),
        1,
    );
    let deadline = std::time::Instant::now() + Duration::from_millis(1500);
    (sim, desired_of(1), config().deadline(deadline))
}

#[test]
fn blocking_sends_are_bounded_by_the_runs_deadline() {
    let (sim, states, config) = deadline_run();
    let report = blocking(&sim)
        .sync_delegates(states, config, None, |_| ControlFlow::Continue(()))
        .expect("a report");
    check_deadline_bounds_the_send(&sim, &report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_sends_are_bounded_by_the_runs_deadline() {
    let (sim, states, config) = deadline_run();
    let report = async_client(&sim)
        .sync_delegates(states, config, None, |_| ControlFlow::Continue(()))
        .await
        .expect("a report");
    check_deadline_bounds_the_send(&sim, &report);
}
