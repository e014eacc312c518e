//! Delegates at scale: a read-only audit of many principals against the simulator, with a
//! service time per request and a per-caller concurrency limit, in both faces, against
//! the ideal `principals x service time / limit` (plus the back-off time the server asked
//! for, when it throttles).
//!
//! ```sh
//! cargo run --release -p ews-bench --example audit_at_scale
//! cargo run --release -p ews-bench --example audit_at_scale -- 10000 5 16 1000 100
//! #                                       principals, service ms, limit, busy every, back-off ms
//! ```
//!
//! Environment: `FACES` (`blocking,async`, the default, or one of them), `SIM_THREADS`
//! (the simulator's server threads, default 1), `CLIENT_THREADS` (the async face's tokio
//! workers, default 2).
//!
//! The simulator runs in a child process (this program again, `serve ...`), so that the
//! peak memory stated is the client's alone: its heap high-water mark (a counting
//! allocator) and the process's resident high-water mark (`VmHWM`). Every run is checked:
//! every principal audited with three delegates, and the simulator's own records (peak in
//! flight at most the limit, no refusal, never two requests in flight to one principal,
//! nothing sent through a closed back-off gate).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use ews_bench::alloc::{self, Counting};
use ews_proto::sync::SchedulerConfig;
use ews_proto::{Credentials, EmailAddress};
use ews_tests::sim::{Seed, SeedDelegate, SeedPermissions, SeedUser};
use ews_tests::{SimConfig, Simulator};

#[global_allocator]
static ALLOC: Counting = Counting;

const POOL: usize = 10;
const CALLER: &str = "admin@example.com";
const PASSWORD: &str = "AdminPassw0rd";

fn principal(i: usize) -> String {
    format!("p{i:05}@example.com")
}

/// The run's shape.
#[derive(Debug, Clone, Copy)]
struct Shape {
    principals: usize,
    service: Duration,
    limit: u32,
    /// ServerBusy every n-th request, with this back-off (ms).
    busy: Option<(u64, u64)>,
}

impl Shape {
    fn args(&self) -> Vec<String> {
        let (every, back_off) = self.busy.unwrap_or((0, 0));
        vec![
            self.principals.to_string(),
            self.service.as_millis().to_string(),
            self.limit.to_string(),
            every.to_string(),
            back_off.to_string(),
        ]
    }

    fn parse(args: &[String]) -> Option<Shape> {
        let n = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
        let every = n(3).unwrap_or(0);
        Some(Shape {
            principals: usize::try_from(n(0)?).ok()?,
            service: Duration::from_millis(n(1)?),
            limit: u32::try_from(n(2)?).ok()?,
            busy: (every > 0).then(|| (every, n(4).unwrap_or(100))),
        })
    }
}

/// The child: a simulator of `shape`, seeded; prints its URL, serves until stdin closes,
/// then prints what it recorded.
fn serve(shape: Shape) {
    let mut config = SimConfig::seed()
        .with_service_time(shape.service)
        .with_max_concurrency(shape.limit)
        .with_worker_threads(
            std::env::var("SIM_THREADS")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(1),
        );
    if let Some((every, back_off)) = shape.busy {
        config = config.with_busy_every(every, back_off);
    }
    let sim = Simulator::start(config);
    let user = |smtp: String| SeedUser {
        smtp,
        password: "Passw0rd-x".into(),
        display_name: None,
        token: None,
        sid: None,
        impersonator: false,
    };
    let delegate = |p: usize, d: usize| SeedDelegate {
        principal: principal(p),
        delegate: format!("d{}@example.com", d % POOL),
        permissions: SeedPermissions {
            calendar: Some("Editor".into()),
            ..SeedPermissions::default()
        },
        receive_copies_of_meeting_messages: false,
        view_private_items: false,
    };
    let seed = Seed {
        users: (0..shape.principals)
            .map(principal)
            .chain((0..POOL).map(|k| format!("d{k}@example.com")))
            .map(user)
            .collect(),
        delegates: (0..shape.principals)
            .flat_map(|i| [delegate(i, i), delegate(i, i + 1), delegate(i, i + 2)])
            .collect(),
        ..Seed::default()
    };
    let started = Instant::now();
    if let Err(e) = sim.seed(&seed) {
        eprintln!("the seed: {e}");
        std::process::exit(2);
    }
    eprintln!(
        "seeded {} principals in {:?}",
        shape.principals,
        started.elapsed()
    );
    println!("{}", sim.url());
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
        line.clear();
    }
    let r = sim.concurrency_report();
    println!(
        "peak={} refused={} busy={} gates={} overlaps={} violations={} in_transit={} admitted={} connections={} service_us={} turnaround_us={}",
        r.peak_of(CALLER),
        r.refused,
        r.busy,
        r.gates_closed,
        r.mailbox_overlaps.len(),
        r.gate_violations.len(),
        r.in_transit,
        r.admitted,
        sim.tcp_connections(),
        r.mean_service().as_micros(),
        r.mean_turnaround().as_micros(),
    );
}

/// A simulator child process.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<std::process::ChildStdout>,
    url: String,
}

impl Server {
    fn start(shape: Shape) -> Server {
        let exe = std::env::current_exe().expect("this program");
        let mut child = Command::new(exe)
            .arg("serve")
            .args(shape.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the simulator process");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut url = String::new();
        stdout.read_line(&mut url).expect("the URL");
        Server {
            child,
            stdin,
            stdout,
            url: url.trim().to_owned(),
        }
    }

    /// Stops the simulator; returns what it recorded.
    fn stop(mut self) -> String {
        drop(self.stdin.take());
        let mut report = String::new();
        self.stdout.read_line(&mut report).expect("the report");
        let _ = self.child.wait();
        report.trim().to_owned()
    }
}

/// The resident high-water mark of this process, from `/proc/self/status` (Linux).
fn vm_hwm() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "n/a".to_owned())
}

fn field(report: &str, name: &str) -> u64 {
    report
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

fn run(face: &str, shape: Shape) {
    let server = Server::start(shape);
    let principals: Vec<EmailAddress> = (0..shape.principals)
        .map(|i| principal(i).parse().expect("address"))
        .collect();
    let config = SchedulerConfig::default().concurrency(shape.limit);
    let before = alloc::live();
    alloc::reset_peak();
    let started = Instant::now();
    let audit = match face {
        "blocking" => ews_blocking::Client::builder(&server.url)
            .credentials(Credentials::basic(CALLER, PASSWORD))
            .build()
            .expect("client")
            .audit_delegates(principals, config, |_| ControlFlow::Continue(())),
        _ => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(
                std::env::var("CLIENT_THREADS")
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(2),
            )
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                ews_async::Client::builder(&server.url)
                    .credentials(Credentials::basic(CALLER, PASSWORD))
                    .build()
                    .expect("client")
                    .audit_delegates(principals, config, |_| ControlFlow::Continue(()))
                    .await
            }),
    }
    .expect("an audit");
    let elapsed = started.elapsed();
    let peak_heap = alloc::peak().saturating_sub(before);
    assert_eq!(audit.principals.len(), shape.principals);
    assert!(audit.failed.is_empty(), "{:?}", &audit.failed[..1]);
    assert!(audit.principals.iter().all(|p| p.delegates.len() == 3));
    drop(audit);
    let report = server.stop();
    assert_eq!(field(&report, "refused"), 0, "{report}");
    assert_eq!(field(&report, "overlaps"), 0, "{report}");
    assert_eq!(field(&report, "violations"), 0, "{report}");
    assert!(field(&report, "peak") <= u64::from(shape.limit), "{report}");
    let busy = field(&report, "busy");
    let work = shape.service.as_secs_f64() * shape.principals as f64 / f64::from(shape.limit);
    let back_off = shape
        .busy
        .map_or(0.0, |(_, ms)| busy as f64 * ms as f64 / 1000.0);
    let ideal = work + back_off;
    let secs = elapsed.as_secs_f64();
    // The same ideal with the service time the simulator really kept (its mean time from
    // a request's arrival to its answer), to tell the client's overhead from the server's.
    let kept = field(&report, "service_us") as f64 / 1e6;
    let kept_ideal = kept * shape.principals as f64 / f64::from(shape.limit) + back_off;
    println!(
        "{face:8} principals={} service={:?} limit={} busy_answers={busy} elapsed={secs:.3}s ideal={ideal:.3}s (work {work:.3}s + back-off {back_off:.3}s) ratio={:.3} (against the service time kept: {kept_ideal:.3}s, ratio {:.3}) peak_heap={:.1}MiB VmHWM={} | server: {report}",
        shape.principals,
        shape.service,
        shape.limit,
        secs / ideal,
        secs / kept_ideal,
        peak_heap as f64 / (1024.0 * 1024.0),
        vm_hwm(),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        let shape = Shape::parse(&args[1..])
            .expect("serve PRINCIPALS SERVICE_MS LIMIT [EVERY BACK_OFF_MS]");
        return serve(shape);
    }
    let shape = Shape::parse(&args).unwrap_or(Shape {
        principals: 10_000,
        service: Duration::from_millis(5),
        limit: 16,
        busy: None,
    });
    let faces: Vec<String> = std::env::var("FACES")
        .unwrap_or_else(|_| "blocking,async".to_owned())
        .split(',')
        .map(str::to_owned)
        .collect();
    let throttled = Shape {
        busy: Some(shape.busy.unwrap_or((1_000, 100))),
        ..shape
    };
    for face in &faces {
        run(
            face,
            Shape {
                busy: None,
                ..shape
            },
        );
    }
    for face in &faces {
        run(face, throttled);
    }
}
