//! Delegates at scale on threads: [`Client::sync_delegates`] and
//! [`Client::audit_delegates`] run the core's [`SyncRun`] with a pool of worker threads.
//! Every decision (what to send, when, what to journal) is the core's; this loop sends,
//! waits, appends the journal's lines and calls the progress callback.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use ews_proto::sync::{
    Action, Audit, DelegateOp, DesiredState, Event, Journal, Report, Scheduler, SchedulerConfig,
    SyncError, SyncRun, Token,
};
use ews_proto::{DelegateResults, EmailAddress, Error, Reply, RequestContext, RetryPolicy};

use crate::Client;

type Outcome = Result<Reply<DelegateResults>, Error>;

/// A request for a worker: its token, the operation, its context and the run's deadline.
type Job = (Token, DelegateOp, RequestContext, Option<Instant>);

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

    /// The loop: the run decides, this sends on worker threads, waits, journals and
    /// reports progress.
    fn drive(
        &self,
        mut run: SyncRun,
        mut journal: Option<File>,
        mut progress: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Report, SyncError> {
        let workers = run.scheduler().config().concurrency_limit();
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let (done, outcomes) = mpsc::channel::<(Token, Outcome)>();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let (queue, done) = (Arc::clone(&queue), done.clone());
                scope.spawn(move || {
                    loop {
                        // The lock is held only while taking a job.
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok((token, op, ctx, deadline)) = job else {
                            break;
                        };
                        if done
                            .send((token, self.send_op(&op, &ctx, deadline)))
                            .is_err()
                        {
                            break;
                        }
                    }
                });
            }
            let mut in_flight = 0usize;
            let mut stopped = false;
            let result = loop {
                let action = if stopped {
                    None
                } else {
                    run.poll(Instant::now())
                };
                match run.flush(append(&mut journal), &mut progress) {
                    Ok(flow) => stopped |= flow.is_break(),
                    Err(e) => break Err(e),
                }
                let wait_until = match action {
                    Some(Action::Send {
                        principal,
                        op,
                        token,
                        deadline,
                    }) if !stopped => {
                        let ctx = run.context(self.context(), &principal);
                        in_flight += 1;
                        if jobs.send((token, op, ctx, deadline)).is_err() {
                            // Not reachable: the workers live as long as this loop.
                            break Err(SyncError::Stopped);
                        }
                        continue;
                    }
                    Some(Action::Done(report)) => break Ok(report),
                    Some(Action::WaitUntil(at)) if !stopped => Some(at),
                    _ => None,
                };
                if in_flight == 0 {
                    match wait_until {
                        Some(at) => {
                            std::thread::sleep(at.saturating_duration_since(Instant::now()));
                            continue;
                        }
                        // Stopped, or (not reachable) nothing to wait for.
                        None => break Err(SyncError::Stopped),
                    }
                }
                let received = match wait_until {
                    Some(at) => {
                        match outcomes.recv_timeout(at.saturating_duration_since(Instant::now())) {
                            Ok(received) => received,
                            Err(_) => continue,
                        }
                    }
                    None => match outcomes.recv() {
                        Ok(received) => received,
                        Err(_) => break Err(SyncError::Stopped),
                    },
                };
                in_flight -= 1;
                run.handle(received.0, received.1, Instant::now());
                match run.flush(append(&mut journal), &mut progress) {
                    Ok(flow) => stopped |= flow.is_break(),
                    Err(e) => break Err(e),
                }
            };
            // Closing the queue ends the workers; the scope joins them.
            drop(jobs);
            result
        })
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
