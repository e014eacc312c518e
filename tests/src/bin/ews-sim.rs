//! `ews-sim`: the loopback EWS simulator as a program, for tests in any language.
//!
//! It prints the EWS URL as the only line on standard output once it is serving, then
//! runs until SIGTERM or SIGINT (or, with `--exit-on-stdin-eof`, until its standard input
//! is closed), and exits 0 after a clean shutdown. Everything else it says goes to
//! standard error. The control endpoint (JSON) is at the same origin under `/_sim/`.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ews_tests::sim::{Seed, ServerStyle, SimConfig, Simulator};

/// A loopback Exchange Web Services simulator with Exchange's delegate semantics.
///
/// Prints the EWS URL (http://127.0.0.1:PORT/EWS/Exchange.asmx) as one line on stdout when
/// it is ready, and stops cleanly on SIGTERM, SIGINT or (with --exit-on-stdin-eof) when
/// stdin is closed. The control endpoint (JSON: seed, snapshot, faults, recorded
/// requests, reset) is at http://127.0.0.1:PORT/_sim/.
///
/// Accounts unless --seed replaces them: user1..user4@example.com (Basic passwords
/// Passw0rd-1..4, tokens token-user1..4) and admin@example.com (AdminPassw0rd, holds
/// the impersonation right).
#[derive(Debug, Parser)]
#[command(name = "ews-sim", version, about, long_about)]
struct Args {
    /// Loopback port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,

    /// Serve HTTPS with a fresh test CA and a certificate for 127.0.0.1 and localhost.
    #[arg(long)]
    tls: bool,

    /// Where to write the test CA (PEM) with --tls [default: ews-sim-PORT-ca.pem in the
    /// temporary directory].
    #[arg(long, value_name = "PATH", requires = "tls")]
    ca_file: Option<PathBuf>,

    /// A JSON seed: accounts, delegates, DeliverMeetingRequests and items. Accounts listed
    /// there replace the standard ones (see the README for the shape).
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,

    /// Keep the standard accounts and add the seed's accounts to them.
    #[arg(long, requires = "seed")]
    keep_standard_users: bool,

    /// Fixed item ids and a fixed clock (from 2025-01-01T00:00:00Z, one second per stored
    /// item) instead of the wall clock and ids unique to the run.
    #[arg(long)]
    deterministic: bool,

    /// Which Exchange the answers look like.
    #[arg(long, value_enum, default_value_t = Style::Exchange2013)]
    style: Style,

    /// Meeting requests and cancellations reach inboxes this many milliseconds after they
    /// are sent.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    delivery_delay_ms: u64,

    /// Also stop when standard input reaches end of file (for a parent that holds a pipe
    /// to it). Off by default: a background job's stdin is often /dev/null.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Style {
    /// Exchange 2013 and later (`s:` envelope, Version="V2017_07_11").
    Exchange2013,
    /// Exchange 2010 SP2 (`soap:` envelope).
    Exchange2010,
}

/// Writes one line to standard error (nothing to do if that fails).
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "ews-sim: {text}");
}

fn config(args: &Args) -> Result<SimConfig, String> {
    let mut config = SimConfig::seed()
        .with_port(args.port)
        .with_deterministic(args.deterministic)
        .with_style(match args.style {
            Style::Exchange2013 => ServerStyle::Exchange2013,
            Style::Exchange2010 => ServerStyle::Exchange2010,
        })
        .with_delivery_delay(Duration::from_millis(args.delivery_delay_ms));
    if args.tls {
        config = config.with_tls();
    }
    if let Some(path) = &args.seed {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the seed {}: {e}", path.display()))?;
        let mut seed: Seed = serde_json::from_str(&text)
            .map_err(|e| format!("the seed {} is not valid: {e}", path.display()))?;
        if !seed.users.is_empty() && !args.keep_standard_users {
            config.users = seed.users.iter().map(|u| u.to_user()).collect();
            config.impersonators = seed
                .users
                .iter()
                .filter(|u| u.impersonator)
                .map(|u| u.smtp.clone())
                .collect();
            seed.users.clear();
        }
        config = config.with_seed(seed);
    }
    Ok(config)
}

/// What stops the simulator, set up before the URL is printed (so that a SIGTERM sent as
/// soon as the URL is read is already a clean stop).
struct Stop {
    runtime: tokio::runtime::Runtime,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    stdin_eof: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Stop {
    fn listen(exit_on_stdin_eof: bool) -> Result<Stop, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the signal runtime: {e}"))?;
        #[cfg(unix)]
        let (term, int) = {
            use tokio::signal::unix::{SignalKind, signal};
            let _entered = runtime.enter();
            (
                signal(SignalKind::terminate())
                    .map_err(|e| format!("cannot listen for SIGTERM: {e}"))?,
                signal(SignalKind::interrupt())
                    .map_err(|e| format!("cannot listen for SIGINT: {e}"))?,
            )
        };
        let stdin_eof = if exit_on_stdin_eof {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            // A plain thread: a blocking read of stdin cannot be cancelled, and the process
            // ends (ending the thread) once the simulator has stopped.
            std::thread::Builder::new()
                .name("ews-sim-stdin".into())
                .spawn(move || {
                    let mut stdin = std::io::stdin().lock();
                    let mut buf = [0u8; 4096];
                    while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
                    let _ = tx.send(());
                })
                .map_err(|e| format!("cannot watch stdin: {e}"))?;
            Some(rx)
        } else {
            None
        };
        Ok(Stop {
            runtime,
            #[cfg(unix)]
            term,
            #[cfg(unix)]
            int,
            stdin_eof,
        })
    }

    /// Blocks until a stop arrives; returns what it was.
    fn wait(mut self) -> &'static str {
        let stdin_eof = self.stdin_eof.take();
        self.runtime.block_on(async move {
            let stdin_closed = async move {
                match stdin_eof {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(unix)]
            {
                tokio::select! {
                    _ = self.term.recv() => "SIGTERM",
                    _ = self.int.recv() => "SIGINT",
                    () = stdin_closed => "stdin closed",
                }
            }
            #[cfg(not(unix))]
            {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => "Ctrl-C",
                    () = stdin_closed => "stdin closed",
                }
            }
        })
    }
}

fn run(args: &Args) -> Result<(), String> {
    let config = config(args)?;
    let stop = Stop::listen(args.exit_on_stdin_eof)?;
    let sim = Simulator::try_start(config).map_err(|e| format!("cannot start: {e}"))?;
    if let Some(pem) = sim.ca_pem() {
        let path = args.ca_file.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("ews-sim-{}-ca.pem", sim.addr().port()))
        });
        std::fs::write(&path, pem)
            .map_err(|e| format!("cannot write the CA to {}: {e}", path.display()))?;
        say(&format!("test CA written to {}", path.display()));
    }
    say(&format!(
        "serving EWS at {} (control endpoint: {}); stop with SIGTERM{}",
        sim.url(),
        sim.control_url(),
        if args.exit_on_stdin_eof {
            " or by closing stdin"
        } else {
            ""
        }
    ));
    {
        // The one line on stdout: what a script reads to find the simulator.
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", sim.url())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write the URL to stdout: {e}"))?;
    }
    let why = stop.wait();
    drop(sim);
    say(&format!("stopped ({why})"));
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(&e);
            ExitCode::FAILURE
        }
    }
}
