//! [`SyncRun`]: a [`Scheduler`] with its journal, what a driver loops over.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::error::Error;
use crate::ops::DelegateResults;
use crate::soap::{Reply, RequestContext};
use crate::sync::journal::{
    JOURNAL_FORMAT, Journal, JournalError, Record, ResumeState, desired_digest, plan_digest, resume,
};
use crate::sync::scheduler::{Action, Event, Scheduler, Token};
use crate::types::EmailAddress;

/// A [`Scheduler`] and the journal records its run produces: the one loop both drivers
/// run, for a sync ([`Scheduler::new`]) or an audit ([`Scheduler::audit`]).
///
/// The driver loop: [`poll`](SyncRun::poll); append every line of
/// [`lines`](SyncRun::lines) to the journal (each written and flushed before anything
/// else happens, so a write's `started` record is on disk before the write is sent);
/// render [`events`](SyncRun::events); then act on the action as [`Scheduler`] says
/// (`Send` in [`context`](SyncRun::context), outcomes back through
/// [`handle`](SyncRun::handle), followed by lines and events again).
///
/// ```
/// use std::time::Instant;
/// use ews_proto::sync::{Action, DesiredState, Journal, Scheduler, SchedulerConfig, SyncRun};
/// let desired = vec![DesiredState::new("boss@example.com".parse()?)];
/// let mut run = SyncRun::journaled(
///     Scheduler::new(desired, SchedulerConfig::default()),
///     &Journal::default(), // a new journal; else `Journal::decode` of the file
/// )?;
/// let Some(Action::Send { principal, .. }) = run.poll(Instant::now()) else { unreachable!() };
/// let lines: Vec<String> = run.lines().collect();
/// assert!(lines[0].starts_with(r#"{"record":"run","format":1,"#));
/// # let _ = principal;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SyncRun {
    scheduler: Scheduler,
    journaled: bool,
    /// Records not yet handed out; a line break first when the journal's text ended
    /// mid-line.
    records: VecDeque<Record>,
    open_line: bool,
    events: VecDeque<Event>,
    /// Writes in flight: token -> (principal, the journal's seq).
    writes: HashMap<Token, (EmailAddress, u64)>,
    next_seq: u64,
    resumed: Option<ResumeState>,
}

impl SyncRun {
    /// A run without a journal.
    pub fn new(scheduler: Scheduler) -> Self {
        Self {
            scheduler,
            journaled: false,
            records: VecDeque::new(),
            open_line: false,
            events: VecDeque::new(),
            writes: HashMap::new(),
            next_seq: 0,
            resumed: None,
        }
    }

    /// A journaled run, resuming `journal` (the journal file as read back; an empty one
    /// starts afresh): the principals it verified are skipped
    /// ([`Scheduler::skip_verified`]), every other one is read again. The first record is
    /// the run's header.
    ///
    /// # Errors
    /// [`JournalError`] if the journal is of other desired states than the scheduler's,
    /// or not a journal this crate wrote.
    pub fn journaled(scheduler: Scheduler, journal: &Journal) -> Result<Self, JournalError> {
        let state = resume(&journal.records)?;
        Self::resuming(scheduler, state, journal.open_line)
    }

    fn resuming(
        scheduler: Scheduler,
        state: ResumeState,
        open_line: bool,
    ) -> Result<Self, JournalError> {
        let desired = desired_digest(scheduler.desired());
        state.check(&desired)?;
        let principals = scheduler.desired().count() as u64;
        let resumed = state.runs() > 0;
        let scheduler = scheduler.skip_verified(state.verified());
        let mut run = Self::new(scheduler);
        run.journaled = true;
        run.open_line = open_line;
        run.records.push_back(Record::Run {
            format: JOURNAL_FORMAT,
            desired,
            principals,
            resumed,
        });
        run.resumed = Some(state);
        Ok(run)
    }

    /// What the journal said when the run resumed it.
    pub fn resume_state(&self) -> Option<&ResumeState> {
        self.resumed.as_ref()
    }

    /// The scheduler's next action ([`Scheduler::poll`]); a write handed out is recorded
    /// as started.
    pub fn poll(&mut self, now: Instant) -> Option<Action> {
        let action = self.scheduler.poll(now);
        if let Some(Action::Send {
            principal,
            op,
            token,
            ..
        }) = &action
        {
            if op.is_write() && self.journaled {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.records.push_back(Record::Started {
                    principal: principal.clone(),
                    seq,
                    op: op.name().to_owned(),
                });
                self.writes.insert(*token, (principal.clone(), seq));
            }
        }
        self.drain_events();
        action
    }

    /// Hands the outcome of `token`'s request to the scheduler
    /// ([`Scheduler::handle`]); a write's outcome is recorded as finished, with its codes.
    pub fn handle(
        &mut self,
        token: Token,
        outcome: Result<Reply<DelegateResults>, Error>,
        now: Instant,
    ) {
        if let Some((principal, seq)) = self.writes.remove(&token) {
            let (codes, error) = match &outcome {
                Ok(reply) => (
                    reply
                        .body
                        .messages
                        .iter()
                        .map(|m| m.status.code.as_str().to_owned())
                        .collect(),
                    None,
                ),
                Err(e) => (Vec::new(), Some(bounded(&e.to_string()))),
            };
            self.records.push_back(Record::Finished {
                principal,
                seq,
                codes,
                error,
            });
        }
        self.scheduler.handle(token, outcome, now);
        self.drain_events();
    }

    /// The context `principal`'s requests run in ([`SchedulerConfig::context`](crate::sync::SchedulerConfig::context)).
    pub fn context(&self, base: &RequestContext, principal: &EmailAddress) -> RequestContext {
        self.scheduler.config().context(base, principal)
    }

    /// The records since the last call, oldest first (none without a journal).
    pub fn records(&mut self) -> std::collections::vec_deque::Drain<'_, Record> {
        self.open_line = false;
        self.records.drain(..)
    }

    /// The records since the last call as the journal's text, one JSON line each (a
    /// line break first if the journal read back ended mid-line): append each, in order.
    #[cfg(feature = "serde")]
    pub fn lines(&mut self) -> impl Iterator<Item = String> + '_ {
        let mut newline = self.open_line && !self.records.is_empty();
        self.records().map(move |r| {
            let line = r.to_line();
            if std::mem::take(&mut newline) {
                format!("\n{line}")
            } else {
                line
            }
        })
    }

    /// The progress events since the last call, oldest first.
    pub fn events(&mut self) -> std::collections::vec_deque::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// What a driver does after every [`poll`](SyncRun::poll) and
    /// [`handle`](SyncRun::handle): hands each new journal line to `append` (in order,
    /// each whole: the driver writes it to the journal file unbuffered), then every event
    /// to `progress`. Says whether `progress` asked to stop (every event is still
    /// handed out). The driver does the IO; the order is the core's.
    ///
    /// # Errors
    /// [`SyncError::JournalIo`] with `append`'s error: nothing more is handed out.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use std::time::Instant;
    /// use ews_proto::sync::{DesiredState, Journal, Scheduler, SchedulerConfig, SyncRun};
    /// let desired = vec![DesiredState::new("boss@example.com".parse()?)];
    /// let scheduler = Scheduler::new(desired, SchedulerConfig::default());
    /// let mut run = SyncRun::journaled(scheduler, &Journal::default())?;
    /// let _send = run.poll(Instant::now());
    /// let mut file = Vec::new();
    /// let flow = run.flush(
    ///     |line| { file.extend_from_slice(line.as_bytes()); Ok(()) },
    ///     |_event| ControlFlow::Continue(()),
    /// )?;
    /// assert!(flow.is_continue());
    /// assert!(file.starts_with(br#"{"record":"run""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn flush(
        &mut self,
        mut append: impl FnMut(&str) -> std::io::Result<()>,
        mut progress: impl FnMut(&Event) -> std::ops::ControlFlow<()>,
    ) -> Result<std::ops::ControlFlow<()>, SyncError> {
        for line in self.lines() {
            append(&line).map_err(SyncError::JournalIo)?;
        }
        let mut flow = std::ops::ControlFlow::Continue(());
        for event in self.events() {
            if progress(&event).is_break() {
                flow = std::ops::ControlFlow::Break(());
            }
        }
        Ok(flow)
    }

    /// The scheduler.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    fn drain_events(&mut self) {
        let events: Vec<Event> = self.scheduler.events().collect();
        for event in events {
            if self.journaled {
                match &event {
                    Event::Planned { principal, steps } => {
                        if let Some(plan) = self.scheduler.plan_of(principal) {
                            self.records.push_back(Record::Planned {
                                principal: principal.clone(),
                                fingerprint: plan.fingerprint().clone(),
                                plan: plan_digest(plan),
                                steps: u32::try_from(*steps).unwrap_or(u32::MAX),
                            });
                        }
                    }
                    Event::Verified { principal } => {
                        self.records.push_back(Record::Verified {
                            principal: principal.clone(),
                        });
                    }
                    _ => {}
                }
            }
            self.events.push_back(event);
        }
    }
}

/// At most 300 bytes of `text`, cut at a character boundary.
fn bounded(text: &str) -> String {
    let mut end = text.len().min(300);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Why a driver's sync or audit run did not end with a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The journal cannot be resumed by this run.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal file could not be opened, read, locked or written.
    #[error("journal file: {0}")]
    JournalIo(#[source] std::io::Error),
    /// Another run holds the journal's lock.
    #[error("another run holds the journal's lock")]
    Locked,
    /// The progress callback stopped the run: nothing more was sent, the requests in
    /// flight finished and were journaled. Resume from the journal.
    #[error("the run was stopped")]
    Stopped,
}
