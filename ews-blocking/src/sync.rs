//! Delegates at scale on threads: [`Client::sync_delegates`] and
//! [`Client::audit_delegates`] run the core's [`SyncRun`] with a pool of worker threads.
//! Every decision (what to send, when, what to journal) is the core's; this loop sends,
//! waits, appends the journal's lines and calls the progress callback.
//!
//! How the loop works: the run (and the journal file) is behind a mutex shared by as many
//! worker threads as the concurrency limit. A worker locks it, hands its last outcome to
//! the run ([`SyncRun::handle`]), polls ([`SyncRun::poll`]) and flushes
//! ([`SyncRun::flush`]): the journal's lines are written there, under the lock and before
//! any request they announce is sent; the events go down a channel. Then, as the run says:
//! - `Send`: it unlocks, wakes one waiting worker (there may be more to send) and sends
//!   the request itself, then locks again with the outcome; no other thread is woken on
//!   the way from one request to the next;
//! - `WaitUntil(at)`: it waits on the condition variable until `at` at most;
//! - nothing (at the concurrency limit, or stopped): it waits on the condition variable,
//!   woken by a worker that sends, or by the run's end;
//! - `Done`: the run has ended.
//!
//! The caller's thread renders the events with `progress` (which need not be `Send`);
//! on `Break` it marks the run stopped: no worker polls again, the requests in flight
//! finish and are journaled, and the last one's worker ends the run with
//! [`SyncError::Stopped`]. A journal line that cannot be written ends the run with that
//! error (nothing more is sent). Once the run has ended, every worker exits, the channel
//! closes and the caller's thread returns the result.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ews_proto::sync::{
    Action, Audit, DelegateOp, DesiredState, Event, Journal, Report, Scheduler, SchedulerConfig,
    SyncError, SyncRun, Token,
};
use ews_proto::{DelegateResults, EmailAddress, Error, Reply, RequestContext, RetryPolicy};

use crate::Client;

type Outcome = Result<Reply<DelegateResults>, Error>;

/// What the workers share: the run's state, and the condition they wait on for it.
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The run, its journal, whether the caller asked to stop, and how the run ended.
struct State {
    run: SyncRun,
    journal: Option<File>,
    stopped: bool,
    /// Once set, every worker exits.
    end: Option<Result<Report, SyncError>>,
}

impl Client {
    /// Brings every principal of `states` to its desired delegates, `config`'s number of
    /// principals at once (one thread each), throttle-aware ([`Scheduler`]), and verifies
    /// each with a GetDelegate.
    ///
    /// With `journal`, the run appends its records to that file (created if missing,
    /// locked against a second run) and resumes what it holds: principals an earlier run
    /// verified are skipped, every other one is read again (a write in doubt is never
    /// sent again as such). `progress` sees every [`Event`]; returning
    /// `ControlFlow::Break(())` stops the run ([`SyncError::Stopped`]).
    ///
    /// # Errors
    /// [`SyncError`]: the journal cannot be opened, locked, read or written, belongs to
    /// other desired states, or the run was stopped. What happened to each principal is
    /// in the [`Report`].
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use ews_blocking::Client;
    /// use ews_blocking::proto::{DelegateFolder, Permission};
    /// use ews_blocking::proto::sync::{DesiredDelegate, DesiredState, Event, SchedulerConfig};
    /// # fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let states = vec![DesiredState::new("boss@example.com".parse()?).delegate(
    ///     DesiredDelegate::new("assistant@example.com".parse()?)
    ///         .folder(DelegateFolder::Calendar, Permission::Editor),
    /// )];
    /// let journal = std::path::Path::new("delegates.journal");
    /// let report = client.sync_delegates(states, SchedulerConfig::default(), Some(journal), |e| {
    ///     if let Event::Verified { principal } = e { eprintln!("{principal} verified"); }
    ///     ControlFlow::Continue(())
    /// })?;
    /// assert!(report.all_converged());
    /// # Ok(()) }
    /// ```
    pub fn sync_delegates(
        &self,
        states: impl IntoIterator<Item = DesiredState>,
        config: SchedulerConfig,
        journal: Option<&Path>,
        progress: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Report, SyncError> {
        let scheduler = Scheduler::new(states, config);
        let (run, file) = match journal {
            Some(path) => {
                let (file, journal) = open_journal(path)?;
                (SyncRun::journaled(scheduler, &journal)?, Some(file))
            }
            None => (SyncRun::new(scheduler), None),
        };
        self.drive(run, file, progress)
    }

    /// Reads every principal's delegates (one GetDelegate each, never a write, throttled
    /// like a sync) and audits them: delegates, orphans, misconfigurations, lints and
    /// the reverse index ([`Audit::delegate_of`]).
    ///
    /// # Errors
    /// [`SyncError::Stopped`] if `progress` stopped the run.
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use ews_blocking::proto::sync::SchedulerConfig;
    /// # fn run(client: ews_blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let principals = vec!["boss@example.com".parse()?, "cfo@example.com".parse()?];
    /// let audit = client.audit_delegates(principals, SchedulerConfig::default(), |_| ControlFlow::Continue(()))?;
    /// for entry in audit.delegate_of("assistant@example.com") {
    ///     println!("delegate of {}", entry.principal);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn audit_delegates(
        &self,
        principals: impl IntoIterator<Item = EmailAddress>,
        config: SchedulerConfig,
        progress: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Audit, SyncError> {
        let run = SyncRun::new(Scheduler::audit(principals, config));
        let report = self.drive(run, None, progress)?;
        Ok(Audit::from_report(&report))
    }

    /// The loop (see the module docs): `workers` threads share the run; this thread
    /// hands its events to `progress` and, on `Break`, stops the run.
    fn drive(
        &self,
        run: SyncRun,
        journal: Option<File>,
        mut progress: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Report, SyncError> {
        let workers = run.scheduler().config().concurrency_limit();
        let shared = Shared {
            state: Mutex::new(State {
                run,
                journal,
                stopped: false,
                end: None,
            }),
            wake: Condvar::new(),
        };
        std::thread::scope(|scope| {
            let (events, rendered) = mpsc::channel::<Vec<Event>>();
            for _ in 0..workers {
                let (shared, events) = (&shared, events.clone());
                scope.spawn(move || self.work(shared, &events));
            }
            drop(events);
            let mut broke = false;
            // Ends when every worker has exited (and dropped its sender).
            for event in rendered.iter().flatten() {
                if progress(&event).is_break() && !broke {
                    broke = true;
                    shared.lock().stopped = true;
                    shared.wake.notify_all();
                }
            }
        });
        let end = shared
            .state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .end;
        // A run the caller stopped that came to its end meanwhile keeps its report (as
        // in the async face); one that did not is `Stopped`.
        // `None` is not reachable: a worker exits only once the run has ended.
        end.unwrap_or(Err(SyncError::Stopped))
    }

    /// One worker: under the lock, hands its last outcome to the run, polls, journals
    /// and forwards the events; sends (unlocked) what the run hands it, or waits.
    fn work(&self, shared: &Shared, events: &mpsc::Sender<Vec<Event>>) {
        let mut state = shared.lock();
        let mut outcome: Option<(Token, Outcome)> = None;
        loop {
            if state.end.is_some() {
                break;
            }
            let now = Instant::now();
            if let Some((token, outcome)) = outcome.take() {
                state.run.handle(token, outcome, now);
            }
            let action = if state.stopped {
                None
            } else {
                state.run.poll(now)
            };
            let State { run, journal, .. } = &mut *state;
            let mut batch = Vec::new();
            let flushed = run.flush(append(journal), |event| {
                batch.push(event.clone());
                ControlFlow::Continue(())
            });
            if !batch.is_empty() {
                // Fails only once the caller's thread is gone (its `progress` panicked).
                let _ = events.send(batch);
            }
            // A journal line not written: nothing more is sent (this request neither).
            if let Err(e) = flushed {
                state.end = Some(Err(e));
                break;
            }
            match action {
                Some(Action::Send {
                    principal,
                    op,
                    token,
                    deadline,
                }) => {
                    let ctx = state.run.context(self.context(), &principal);
                    drop(state);
                    // There may be more to send: the next waiting worker polls too.
                    shared.wake.notify_one();
                    outcome = Some((token, self.send_op(&op, &ctx, deadline)));
                    state = shared.lock();
                }
                Some(Action::Done(report)) => {
                    state.end = Some(Ok(report));
                    break;
                }
                Some(Action::WaitUntil(at)) => {
                    let timeout = at.saturating_duration_since(Instant::now());
                    state = (shared.wake.wait_timeout(state, timeout))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                // Stopped, or (not reachable) nothing to wait for: the run ends.
                _ if state.run.scheduler().in_flight() == 0 => {
                    state.end = Some(Err(SyncError::Stopped));
                    break;
                }
                _ => {
                    state = shared
                        .wake
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner)
                }
            }
        }
        // The run has ended: every waiting worker wakes and exits.
        drop(state);
        shared.wake.notify_all();
    }

    /// One request, as the scheduler asked: retries are the scheduler's, not the call's;
    /// every exchange is over by the run's `deadline` (the client's timeout still bounds
    /// each, whichever comes first: [`Call::deadline`](ews_proto::driver::Call::deadline)).
    fn send_op(&self, op: &DelegateOp, ctx: &RequestContext, deadline: Option<Instant>) -> Outcome {
        let never = RetryPolicy::never();
        match op {
            DelegateOp::Get(o) => self.send_with(o, ctx, never, deadline),
            DelegateOp::Add(o) => self.send_with(o, ctx, never, deadline),
            DelegateOp::Update(o) => self.send_with(o, ctx, never, deadline),
            DelegateOp::Remove(o) => self.send_with(o, ctx, never, deadline),
        }
    }
}

/// Opens (or creates) the journal at `path`, takes its exclusive lock (held until the
/// file is closed) and reads what it holds: the file IO, which only a driver may do.
fn open_journal(path: &Path) -> Result<(File, Journal), SyncError> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(SyncError::JournalIo)?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => return Err(SyncError::Locked),
        Err(fs4::TryLockError::Error(e)) => return Err(SyncError::JournalIo(e)),
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(SyncError::JournalIo)?;
    Ok((file, Journal::decode(&text)?))
}

/// Writes one journal line to the file, if there is one: whole and unbuffered, so that it
/// is on disk before anything else happens.
fn append(journal: &mut Option<File>) -> impl FnMut(&str) -> std::io::Result<()> + '_ {
    move |line| match journal {
        Some(file) => file.write_all(line.as_bytes()),
        None => Ok(()),
    }
}
