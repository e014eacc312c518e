//! Delegates at scale on tasks: [`Client::sync_delegates`] and [`Client::audit_delegates`]
//! run the core's [`SyncRun`] with one tokio task per request in flight. Every decision
//! (what to send, when, what to journal) is the core's; this loop spawns, waits, appends
//! the journal's lines and calls the progress callback.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::ops::ControlFlow;
use std::path::Path;

use ews_proto::sync::{
    Action, Audit, DelegateOp, DesiredState, Event, Journal, Report, Scheduler, SchedulerConfig,
    SyncError, SyncRun, Token,
};
use ews_proto::{DelegateResults, EmailAddress, Error, Reply, RequestContext, RetryPolicy};
use tokio::task::JoinSet;

use crate::Client;

type Outcome = Result<Reply<DelegateResults>, Error>;

impl Client {
    /// Brings every principal of `states` to its desired delegates, `config`'s number of
    /// principals at once (one task each, on the current tokio runtime), throttle-aware
    /// ([`Scheduler`]), and verifies each with a GetDelegate.
    ///
    /// With `journal`, the run appends its records to that file (created if missing,
    /// locked against a second run) and resumes what it holds: principals an earlier run
    /// verified are skipped, every other one is read again (a write in doubt is never
    /// sent again as such). `progress` sees every [`Event`]; returning
    /// `ControlFlow::Break(())` stops the run ([`SyncError::Stopped`]). The journal's
    /// lines (a few hundred bytes each) are written with `std::fs` from this task.
    ///
    /// # Errors
    /// [`SyncError`]: the journal cannot be opened, locked, read or written, belongs to
    /// other desired states, or the run was stopped. What happened to each principal is
    /// in the [`Report`].
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use ews_async::proto::{DelegateFolder, Permission};
    /// use ews_async::proto::sync::{DesiredDelegate, DesiredState, Event, SchedulerConfig};
    /// # async fn run(client: ews_async::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let states = vec![DesiredState::new("boss@example.com".parse()?).delegate(
    ///     DesiredDelegate::new("assistant@example.com".parse()?)
    ///         .folder(DelegateFolder::Calendar, Permission::Editor),
    /// )];
    /// let journal = std::path::Path::new("delegates.journal");
    /// let report = client
    ///     .sync_delegates(states, SchedulerConfig::default(), Some(journal), |e| {
    ///         if let Event::Verified { principal } = e { eprintln!("{principal} verified"); }
    ///         ControlFlow::Continue(())
    ///     })
    ///     .await?;
    /// assert!(report.all_converged());
    /// # Ok(()) }
    /// ```
    pub async fn sync_delegates(
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
        self.drive(run, file, progress).await
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
    /// use ews_async::proto::sync::SchedulerConfig;
    /// # async fn run(client: ews_async::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let principals = vec!["boss@example.com".parse()?, "cfo@example.com".parse()?];
    /// let audit = client
    ///     .audit_delegates(principals, SchedulerConfig::default(), |_| ControlFlow::Continue(()))
    ///     .await?;
    /// for entry in audit.delegate_of("assistant@example.com") {
    ///     println!("delegate of {}", entry.principal);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn audit_delegates(
        &self,
        principals: impl IntoIterator<Item = EmailAddress>,
        config: SchedulerConfig,
        progress: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Audit, SyncError> {
        let run = SyncRun::new(Scheduler::audit(principals, config));
        let report = self.drive(run, None, progress).await?;
        Ok(Audit::from_report(&report))
    }

    /// The loop: the run decides, this spawns a task per request, waits, journals and
    /// reports progress.
    async fn drive(
        &self,
        mut run: SyncRun,
        mut journal: Option<File>,
        mut progress: impl FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Report, SyncError> {
        let mut tasks: JoinSet<(Token, Outcome)> = JoinSet::new();
        let mut stopped = false;
        loop {
            let action = if stopped { None } else { run.poll(now()) };
            stopped |= run.flush(append(&mut journal), &mut progress)?.is_break();
            let wait_until = match action {
                Some(Action::Send {
                    principal,
                    op,
                    token,
                    deadline,
                }) if !stopped => {
                    let ctx = run.context(self.context(), &principal);
                    let client = self.clone();
                    tasks.spawn(async move { (token, client.send_op(&op, &ctx, deadline).await) });
                    continue;
                }
                Some(Action::Done(report)) => return Ok(report),
                Some(Action::WaitUntil(at)) if !stopped => Some(at),
                _ => None,
            };
            let joined = match wait_until {
                Some(at) if tasks.is_empty() => {
                    tokio::time::sleep_until(at.into()).await;
                    continue;
                }
                Some(at) => match tokio::time::timeout_at(at.into(), tasks.join_next()).await {
                    Ok(joined) => joined,
                    Err(_) => continue,
                },
                None => tasks.join_next().await,
            };
            // `None`: nothing in flight (stopped, or, not reachable, nothing to wait for).
            let Some(joined) = joined else {
                return Err(SyncError::Stopped);
            };
            // A task panicked or was cancelled: not reachable (sending never panics); the
            // request stays in flight for the scheduler, so the run ends here.
            let Ok((token, outcome)) = joined else {
                return Err(SyncError::Stopped);
            };
            run.handle(token, outcome, now());
            stopped |= run.flush(append(&mut journal), &mut progress)?.is_break();
        }
    }

    /// One request, as the scheduler asked: retries are the scheduler's, not the call's;
    /// every exchange is over by the run's `deadline` (the client's timeout still bounds
    /// each, whichever comes first: [`Call::deadline`](ews_proto::driver::Call::deadline)).
    async fn send_op(
        &self,
        op: &DelegateOp,
        ctx: &RequestContext,
        deadline: Option<std::time::Instant>,
    ) -> Outcome {
        let never = RetryPolicy::never();
        match op {
            DelegateOp::Get(o) => self.send_with(o, ctx, never, deadline).await,
            DelegateOp::Add(o) => self.send_with(o, ctx, never, deadline).await,
            DelegateOp::Update(o) => self.send_with(o, ctx, never, deadline).await,
            DelegateOp::Remove(o) => self.send_with(o, ctx, never, deadline).await,
        }
    }
}

/// The core's notion of now, on tokio's clock.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
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
