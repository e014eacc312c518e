//! The Sans-IO scheduler: many principals, one request in flight each, a shared back-off
//! gate and an adaptive concurrency limit.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use crate::client::outcome_unknown;
use crate::error::{Error, ServerError, TransportErrorKind};
use crate::ops::{DelegateResults, GetDelegate};
use crate::soap::{Impersonation, Reply, RequestContext, ResponseCode};
use crate::sync::desired::DesiredState;
use crate::sync::observed::{Fingerprint, Observed};
use crate::sync::plan::{DelegateOp, Lint, Plan, PlanError, StalePlan, StepKind, plan};
use crate::types::{EmailAddress, UserId};

/// `EWSMaxConcurrency` of Exchange 2013 and later: the most requests one caller may have
/// in progress at once. A [`SchedulerConfig::concurrency`] above it draws a
/// [`ConfigLint`].
pub const EWS_MAX_CONCURRENCY: u32 = 27;

/// How a [`Scheduler`] runs.
///
/// ```
/// use std::time::{Duration, Instant};
/// use ews_proto::sync::{ConfigLint, SchedulerConfig};
/// let config = SchedulerConfig::default()
///     .concurrency(32)
///     .deadline(Instant::now() + Duration::from_secs(600));
/// assert_eq!(config.lints(), [ConfigLint::AboveEwsMaxConcurrency { concurrency: 32 }]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    concurrency: u32,
    deadline: Option<Instant>,
    max_attempts: u32,
    max_replans: u32,
    base_delay: Duration,
    max_delay: Duration,
    probe: bool,
    impersonate: bool,
}

impl Default for SchedulerConfig {
    /// 8 principals at once, no deadline, 5 attempts per request, 3 re-plans per
    /// principal, delays from 500 ms doubling up to 30 s, new delegates probed, each
    /// principal impersonated.
    fn default() -> Self {
        Self {
            concurrency: 8,
            deadline: None,
            max_attempts: 5,
            max_replans: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            probe: true,
            impersonate: true,
        }
    }
}

impl SchedulerConfig {
    /// The most requests in flight at once, one per principal (at least 1). The limit
    /// halves on `ErrorExceededConnectionCount` and HTTP 503 and grows back by one per
    /// window of successes, never above this.
    pub fn concurrency(mut self, n: u32) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// When the whole run must be over: no request is sent at or after it, and the
    /// principals not finished by then fail with [`Failure::Deadline`].
    pub fn deadline(mut self, at: Instant) -> Self {
        self.deadline = Some(at);
        self
    }

    /// The configured [`concurrency`](SchedulerConfig::concurrency): the most requests
    /// a driver will ever have in flight for this run (its worker count).
    pub fn concurrency_limit(&self) -> u32 {
        self.concurrency
    }

    /// The most attempts of one request (the first included, at least 1) before its
    /// principal fails with [`Failure::Attempts`].
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The most re-reads of one principal after writes that did not go as planned
    /// (unknown outcomes, `ErrorDelegateAlreadyExists`, `ErrorNotDelegate`) before it fails
    /// with [`Failure::Replans`].
    pub fn max_replans(mut self, n: u32) -> Self {
        self.max_replans = n;
        self
    }

    /// The first delay of a retry the server names no delay for (doubled per attempt) and
    /// its cap.
    pub fn delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max.max(base);
        self
    }

    /// Whether users about to be added are first checked with a GetDelegate that names
    /// them (default: yes), so that an unresolvable one stops the principal before any of
    /// its writes.
    pub fn probe_new_delegates(mut self, yes: bool) -> Self {
        self.probe = yes;
        self
    }

    /// Whether each request acts on its principal's mailbox by `ExchangeImpersonation`
    /// (default: yes, what one service account with the ApplicationImpersonation right
    /// needs over many mailboxes). Off: every request uses the client's context as it is
    /// (its own mailbox, or the impersonation it already names).
    pub fn impersonate(mut self, yes: bool) -> Self {
        self.impersonate = yes;
        self
    }

    /// The context a request for `principal` runs in: `base` (the client's), impersonating
    /// the principal by SMTP address unless [`SchedulerConfig::impersonate`] is off.
    ///
    /// ```
    /// use ews_proto::{Impersonation, RequestContext};
    /// use ews_proto::sync::SchedulerConfig;
    /// let base = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
    /// let boss = "boss@example.com".parse()?;
    /// let ctx = SchedulerConfig::default().context(&base, &boss);
    /// assert_eq!(ctx.impersonation(), Some(&Impersonation::PrimarySmtpAddress(boss.clone())));
    /// let ctx = SchedulerConfig::default().impersonate(false).context(&base, &boss);
    /// assert_eq!(ctx.impersonation(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(&self, base: &RequestContext, principal: &EmailAddress) -> RequestContext {
        if self.impersonate {
            base.clone()
                .with_impersonation(Impersonation::PrimarySmtpAddress(principal.clone()))
        } else {
            base.clone()
        }
    }

    /// What the configuration risks.
    pub fn lints(&self) -> Vec<ConfigLint> {
        let mut out = Vec::new();
        if self.concurrency > EWS_MAX_CONCURRENCY {
            out.push(ConfigLint::AboveEwsMaxConcurrency {
                concurrency: self.concurrency,
            });
        }
        out
    }

    fn back_off(&self, streak: u32) -> Duration {
        let factor = 1u32.checked_shl(streak).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// A warning about a [`SchedulerConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigLint {
    /// More at once than Exchange's `EWSMaxConcurrency` (27) lets one caller have: expect
    /// `ErrorExceededConnectionCount`.
    AboveEwsMaxConcurrency {
        /// The configured concurrency.
        concurrency: u32,
    },
}

/// Names one request handed out by [`Scheduler::poll`]; its outcome goes back with the
/// same token to [`Scheduler::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(u64);

/// What the driver does next, as [`Scheduler::poll`] says.
///
/// Deliberately not `#[non_exhaustive]`: a driver handles every action.
#[derive(Debug)]
// Handed out once per request and matched at once.
#[allow(clippy::large_enum_variant)]
pub enum Action {
    /// Run `op` for `principal` (with [`RetryPolicy::never`](crate::RetryPolicy::never):
    /// the scheduler does the retrying) and hand its outcome to [`Scheduler::handle`]
    /// with `token`. Poll again at once: more may be sent meanwhile.
    Send {
        /// The principal the request is for.
        principal: EmailAddress,
        /// The operation.
        op: DelegateOp,
        /// Hand it back with the outcome.
        token: Token,
        /// The run's deadline, if any: the exchange should be over by then.
        deadline: Option<Instant>,
    },
    /// Nothing may be sent before this instant (the back-off gate, a retry's delay, or
    /// the deadline): poll again then, or as soon as an outcome was handled.
    WaitUntil(Instant),
    /// The run is over. Handed out once; later polls return `None`.
    Done(Report),
}

/// Which request of a principal failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// The GetDelegate that reads the principal (first, or again after a write that did
    /// not go as planned).
    Read,
    /// The GetDelegate that asks whether users about to be added resolve.
    Probe,
    /// A write.
    Write(StepKind),
    /// The GetDelegate after the writes.
    Verify,
}

/// Why a principal did not converge.
#[derive(Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The principal cannot be planned (an unresolvable desired delegate, ...). Nothing
    /// was written for it after the errors were known.
    Plan(Vec<PlanError>),
    /// The principal changed since the saved plan was made
    /// ([`Scheduler::refuse_stale`]). Nothing was written.
    Stale(StalePlan),
    /// The run's deadline passed first.
    Deadline,
    /// A request failed [`SchedulerConfig::max_attempts`] times; the last error.
    Attempts {
        /// Which request.
        during: RequestKind,
        /// Its last error.
        error: Error,
    },
    /// The principal was re-read and re-planned more than
    /// [`SchedulerConfig::max_replans`] times.
    Replans {
        /// The limit.
        limit: u32,
    },
    /// A write was refused for a delegate with a code no re-plan can cure.
    Refused {
        /// Which write.
        during: RequestKind,
        /// The code.
        code: ResponseCode,
    },
    /// A request failed in a way no retry can cure.
    Error {
        /// Which request.
        during: RequestKind,
        /// The error.
        error: Error,
    },
}

impl Failure {
    /// The kind, without the details.
    pub fn kind(&self) -> FailureKind {
        match self {
            Failure::Plan(_) => FailureKind::Plan,
            Failure::Stale(_) => FailureKind::Stale,
            Failure::Deadline => FailureKind::Deadline,
            Failure::Attempts { .. } => FailureKind::Attempts,
            Failure::Replans { .. } => FailureKind::Replans,
            Failure::Refused { .. } => FailureKind::Refused,
            Failure::Error { .. } => FailureKind::Error,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Plan(errors) => {
                f.write_str("cannot plan: ")?;
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Failure::Stale(e) => write!(f, "{e}"),
            Failure::Deadline => f.write_str("the deadline passed"),
            Failure::Attempts { during, error } => {
                write!(f, "{during:?} failed after every attempt: {error}")
            }
            Failure::Replans { limit } => write!(f, "re-planned more than {limit} times"),
            Failure::Refused { during, code } => write!(f, "{during:?} refused: {code:?}"),
            Failure::Error { during, error } => write!(f, "{during:?} failed: {error}"),
        }
    }
}

/// A [`Failure`]'s kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// [`Failure::Plan`].
    Plan,
    /// [`Failure::Stale`].
    Stale,
    /// [`Failure::Deadline`].
    Deadline,
    /// [`Failure::Attempts`].
    Attempts,
    /// [`Failure::Replans`].
    Replans,
    /// [`Failure::Refused`].
    Refused,
    /// [`Failure::Error`].
    Error,
}

/// How one principal ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// A GetDelegate after the last write (or the first read, when nothing had to change)
    /// shows the desired state.
    Converged,
    /// The GetDelegate after the writes still differs: what would remain to do.
    Drifted(Box<Plan>),
    /// It failed.
    Failed(Failure),
}

/// One principal's end.
#[derive(Debug)]
#[non_exhaustive]
pub struct PrincipalReport {
    /// The principal.
    pub principal: EmailAddress,
    /// How it ended.
    pub outcome: Outcome,
    /// Requests sent for it.
    pub requests: u32,
    /// Writes among them.
    pub writes: u32,
    /// The lints of its last plan.
    pub lints: Vec<Lint>,
    /// What its last GetDelegate showed (`None` if no read was answered).
    pub observed: Option<Observed>,
    /// Verified by an earlier run (as its journal says) and not touched by this one
    /// ([`Scheduler::skip_verified`]).
    pub skipped: bool,
}

/// The end of a run: every principal, sorted, and a few totals.
#[derive(Debug)]
#[non_exhaustive]
pub struct Report {
    /// Every principal, sorted by address.
    pub principals: Vec<PrincipalReport>,
    /// The most requests that were in flight at once.
    pub peak_in_flight: u32,
    /// Requests sent.
    pub requests: u64,
    /// Writes sent.
    pub writes: u64,
}

impl Report {
    /// Did every principal converge?
    pub fn all_converged(&self) -> bool {
        self.principals
            .iter()
            .all(|p| matches!(p.outcome, Outcome::Converged))
    }

    /// The report of `principal` (compared case-insensitively).
    pub fn principal(&self, principal: &EmailAddress) -> Option<&PrincipalReport> {
        self.principals.iter().find(|p| {
            p.principal
                .as_str()
                .eq_ignore_ascii_case(principal.as_str())
        })
    }
}

/// Progress, for the caller to render: read with [`Scheduler::events`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The first request of the principal was handed out.
    Started {
        /// The principal.
        principal: EmailAddress,
    },
    /// The principal was planned with this many writes.
    Planned {
        /// The principal.
        principal: EmailAddress,
        /// Steps of the plan.
        steps: usize,
    },
    /// A write was handed out to be sent (counted once per attempt).
    Writing {
        /// The principal.
        principal: EmailAddress,
        /// Which write.
        kind: StepKind,
    },
    /// The principal was verified as desired.
    Verified {
        /// The principal.
        principal: EmailAddress,
    },
    /// The principal still differs after its writes.
    Drifted {
        /// The principal.
        principal: EmailAddress,
    },
    /// The principal failed.
    Failed {
        /// The principal.
        principal: EmailAddress,
        /// Why.
        failure: FailureKind,
    },
    /// The shared back-off gate closed until this instant.
    BackOff {
        /// When it opens.
        until: Instant,
    },
    /// The concurrency limit changed.
    Concurrency {
        /// The new limit.
        limit: u32,
    },
    /// A warning about the configuration, once at the start.
    Config(ConfigLint),
}

/// Brings many principals to their desired states, as a state machine: it says what to
/// send and when, the driver sends and hands back outcomes. Pure: time comes in as `now`.
///
/// * One request in flight per principal, at most N in all (the concurrency limit, which
///   halves on `ErrorExceededConnectionCount` and HTTP 503 and grows back by one per N
///   successes).
/// * One back-off gate for the whole run, closed until `now + BackOffMilliseconds` (an
///   `ErrorServerBusy`) or `Retry-After` (429, 503): the throttling budget is the caller's,
///   so no principal sends while it is closed. A refused request is sent again after it.
/// * Per principal: read (GetDelegate), plan, probe the users to add, write (Update, Add,
///   Remove), verify (GetDelegate). A write whose outcome is unknown (a broken connection,
///   a timeout, [`Error::Unconfirmed`]) is never sent again as such: the principal is read
///   again and re-planned; so is one answered `ErrorDelegateAlreadyExists` (Add) or
///   `ErrorNotDelegate` (Update).
/// * Attempt caps per request, a re-plan cap per principal, an overall deadline; each
///   ends the principal with a typed [`Failure`].
///
/// The driver loop: poll until `Done`; run each `Send` (many may be out at once) and hand
/// its outcome back; on `WaitUntil`, wait until then or until an outcome arrives; on
/// `None`, wait for an outcome.
///
/// ```
/// use std::time::Instant;
/// use bytes::Bytes;
/// use ews_proto::sync::{Action, DesiredState, Scheduler, SchedulerConfig};
/// # fn transport(op: &ews_proto::sync::DelegateOp) -> Result<ews_proto::Reply<ews_proto::DelegateResults>, ews_proto::Error> {
/// #     let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
/// #       <m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
/// #         <m:ResponseCode>NoError</m:ResponseCode>
/// #         <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
/// #       </m:GetDelegateResponse></s:Body></s:Envelope>"#;
/// #     Ok(op.decode(&http::Response::new(Bytes::from(body)))?)
/// # }
/// let desired = vec![DesiredState::new("boss@example.com".parse()?)];
/// let mut scheduler = Scheduler::new(desired, SchedulerConfig::default());
/// let mut out = Vec::new(); // requests in flight (a real driver runs them concurrently)
/// let report = loop {
///     match scheduler.poll(Instant::now()) {
///         Some(Action::Send { op, token, .. }) => out.push((token, op)),
///         Some(Action::WaitUntil(_)) | None => {
///             // Wait for an outcome (or the instant); here: answer the oldest request.
///             let (token, op) = out.remove(0);
///             let outcome = transport(&op); // a driver: Call with RetryPolicy::never()
///             scheduler.handle(token, outcome, Instant::now());
///         }
///         Some(Action::Done(report)) => break report,
///     }
///     for event in scheduler.events() {
///         let _ = event; // render progress
///     }
/// };
/// assert!(report.all_converged());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    slots: Vec<Slot>,
    /// The next slot never started.
    next_new: usize,
    /// Started slots ready to send, in order.
    ready: VecDeque<usize>,
    /// Started slots waiting for a retry delay.
    delayed: BinaryHeap<Reverse<(Instant, usize)>>,
    in_flight: HashMap<u64, usize>,
    next_token: u64,
    limit: u32,
    window: u32,
    /// Requests sent before this token were out when the limit last decreased: their
    /// refusals are the same overload and do not decrease it again.
    decreased_at: u64,
    gate: Option<Instant>,
    throttle_streak: u32,
    unfinished: usize,
    expired: bool,
    done: bool,
    read_only: bool,
    events: VecDeque<Event>,
    peak_in_flight: u32,
    requests: u64,
    writes: u64,
}

#[derive(Debug)]
struct Slot {
    desired: DesiredState,
    expect: Option<Fingerprint>,
    phase: Phase,
    unresolvable: BTreeSet<EmailAddress>,
    observed: Option<Observed>,
    plan: Option<Plan>,
    attempts: u32,
    requests: u32,
    writes: u32,
    replans: u32,
    started: bool,
    busy: bool,
    skipped: bool,
    outcome: Option<Outcome>,
    lints: Vec<Lint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Read { first: bool },
    Probe,
    Write(usize),
    Verify,
}

/// What a refusal says about the server's load.
struct Throttle {
    /// `ErrorExceededConnectionCount` or 503: too many at once.
    decrease: bool,
    /// The server's back-off, if it named one.
    back_off: Option<Duration>,
    /// Close the gate even without a named back-off.
    gate: bool,
}

impl Scheduler {
    /// A run over `desired` (one state per principal; a later state for the same
    /// principal, compared case-insensitively, replaces an earlier one), sorted by
    /// principal.
    pub fn new(desired: impl IntoIterator<Item = DesiredState>, config: SchedulerConfig) -> Self {
        let mut by_principal = BTreeMap::new();
        for d in desired {
            by_principal.insert(d.principal.as_str().to_ascii_lowercase(), d);
        }
        let slots: Vec<Slot> = by_principal
            .into_values()
            .map(|desired| Slot {
                desired,
                expect: None,
                phase: Phase::Read { first: true },
                unresolvable: BTreeSet::new(),
                observed: None,
                plan: None,
                attempts: 0,
                requests: 0,
                writes: 0,
                replans: 0,
                started: false,
                busy: false,
                skipped: false,
                outcome: None,
                lints: Vec::new(),
            })
            .collect();
        let events = config.lints().into_iter().map(Event::Config).collect();
        Self {
            config,
            unfinished: slots.len(),
            slots,
            next_new: 0,
            ready: VecDeque::new(),
            delayed: BinaryHeap::new(),
            in_flight: HashMap::new(),
            next_token: 0,
            limit: config.concurrency,
            window: 0,
            decreased_at: 0,
            gate: None,
            throttle_streak: 0,
            expired: false,
            done: false,
            read_only: false,
            events,
            peak_in_flight: 0,
            requests: 0,
            writes: 0,
        }
    }

    /// A read-only run over `principals`: one GetDelegate each (retried, throttled and
    /// gated like any other), never a write. Each [`PrincipalReport::observed`] holds
    /// what it showed, for an [`Audit`](crate::sync::Audit).
    pub fn audit(
        principals: impl IntoIterator<Item = EmailAddress>,
        config: SchedulerConfig,
    ) -> Self {
        let mut s = Self::new(principals.into_iter().map(DesiredState::new), config);
        s.read_only = true;
        s
    }

    /// Skips the principals an earlier run verified (compared case-insensitively; see
    /// [`ResumeState`](crate::sync::ResumeState)): nothing is sent for them and they are
    /// reported converged with [`PrincipalReport::skipped`] set. Call before the first
    /// poll; a principal already started is not skipped.
    pub fn skip_verified<'a>(
        mut self,
        principals: impl IntoIterator<Item = &'a EmailAddress>,
    ) -> Self {
        for p in principals {
            if let Some(idx) = self.index_of(p) {
                let slot = &mut self.slots[idx];
                if !slot.started && slot.outcome.is_none() {
                    slot.skipped = true;
                    slot.outcome = Some(Outcome::Converged);
                    self.unfinished = self.unfinished.saturating_sub(1);
                }
            }
        }
        self
    }

    /// The slot of `principal` (the slots are sorted by lower-case address).
    fn index_of(&self, principal: &EmailAddress) -> Option<usize> {
        let key = principal.as_str().to_ascii_lowercase();
        self.slots
            .binary_search_by(|s| s.desired.principal.as_str().to_ascii_lowercase().cmp(&key))
            .ok()
    }

    /// The plan the principal is being written by, once planned.
    pub(crate) fn plan_of(&self, principal: &EmailAddress) -> Option<&Plan> {
        self.index_of(principal)
            .and_then(|idx| self.slots[idx].plan.as_ref())
    }

    /// The run's configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// The desired states of the run, sorted by principal.
    pub(crate) fn desired(&self) -> impl Iterator<Item = &DesiredState> {
        self.slots.iter().map(|s| &s.desired)
    }

    /// Refuses the principal of `saved` if its first read shows another state than the
    /// one `saved` was planned from ([`Failure::Stale`]; nothing is written for it).
    /// A plan for a principal not in the run is ignored.
    pub fn refuse_stale(mut self, saved: &Plan) -> Self {
        let key = saved.principal.as_str();
        if let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.desired.principal.as_str().eq_ignore_ascii_case(key))
        {
            slot.expect = Some(saved.fingerprint.clone());
        }
        self
    }

    /// What to do next. See [`Action`] and the loop in the type's docs.
    pub fn poll(&mut self, now: Instant) -> Option<Action> {
        if self.done {
            return None;
        }
        self.expire(now);
        if self.unfinished == 0 && self.in_flight.is_empty() {
            self.done = true;
            return Some(Action::Done(self.report()));
        }
        if self.in_flight.len() >= self.limit as usize {
            return None;
        }
        if let Some(gate) = self.gate.filter(|g| now < *g) {
            return Some(Action::WaitUntil(self.capped(gate)));
        }
        while let Some(&Reverse((at, idx))) = self.delayed.peek() {
            if at > now {
                break;
            }
            self.delayed.pop();
            self.ready.push_back(idx);
        }
        while let Some(idx) = self.ready.pop_front() {
            if self.slots[idx].outcome.is_none() && !self.slots[idx].busy {
                return Some(self.dispatch(idx));
            }
        }
        while self
            .slots
            .get(self.next_new)
            .is_some_and(|s| s.outcome.is_some())
        {
            self.next_new += 1;
        }
        if self.next_new < self.slots.len() {
            let idx = self.next_new;
            self.next_new += 1;
            return Some(self.dispatch(idx));
        }
        self.delayed
            .peek()
            .map(|&Reverse((at, _))| Action::WaitUntil(self.capped(at)))
    }

    /// Hands over the outcome of the request `token` names (as [`Call`](crate::driver::Call)
    /// returned it). A token that is not in flight (handled already, or never handed out)
    /// is ignored.
    pub fn handle(
        &mut self,
        token: Token,
        outcome: Result<Reply<DelegateResults>, Error>,
        now: Instant,
    ) {
        let Some(idx) = self.in_flight.remove(&token.0) else {
            return;
        };
        self.slots[idx].busy = false;
        match outcome {
            Ok(reply) => {
                self.succeeded();
                self.replied(idx, reply.body, now);
            }
            Err(error) => self.failed(idx, token.0, error, now),
        }
    }

    /// The progress events since the last call, oldest first.
    pub fn events(&mut self) -> std::collections::vec_deque::Drain<'_, Event> {
        self.events.drain(..)
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The concurrency limit now (between 1 and [`SchedulerConfig::concurrency`]).
    pub fn concurrency(&self) -> u32 {
        self.limit
    }

    /// Until when the back-off gate is closed, if it ever closed.
    pub fn gate(&self) -> Option<Instant> {
        self.gate
    }

    fn capped(&self, at: Instant) -> Instant {
        match self.config.deadline {
            Some(d) if d < at => d,
            _ => at,
        }
    }

    fn expire(&mut self, now: Instant) {
        if self.expired || self.config.deadline.is_none_or(|d| now < d) {
            return;
        }
        self.expired = true;
        self.ready.clear();
        self.delayed.clear();
        self.next_new = self.slots.len();
        for idx in 0..self.slots.len() {
            if self.slots[idx].outcome.is_none() && !self.slots[idx].busy {
                self.finish(idx, Outcome::Failed(Failure::Deadline));
            }
        }
    }

    fn dispatch(&mut self, idx: usize) -> Action {
        let token = self.next_token;
        self.next_token += 1;
        let slot = &mut self.slots[idx];
        if !slot.started {
            slot.started = true;
            self.events.push_back(Event::Started {
                principal: slot.desired.principal.clone(),
            });
        }
        let op = slot.request();
        slot.busy = true;
        slot.attempts += 1;
        slot.requests += 1;
        self.requests += 1;
        if op.is_write() {
            slot.writes += 1;
            self.writes += 1;
            let kind = match &op {
                DelegateOp::Add(_) => StepKind::Add,
                DelegateOp::Remove(_) => StepKind::Remove,
                _ => StepKind::Update,
            };
            self.events.push_back(Event::Writing {
                principal: slot.desired.principal.clone(),
                kind,
            });
        }
        self.in_flight.insert(token, idx);
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight.len() as u32);
        Action::Send {
            principal: slot.desired.principal.clone(),
            op,
            token: Token(token),
            deadline: self.config.deadline,
        }
    }

    /// An answer came: additive increase.
    fn succeeded(&mut self) {
        self.throttle_streak = 0;
        if self.limit >= self.config.concurrency {
            return;
        }
        self.window += 1;
        if self.window >= self.limit {
            self.window = 0;
            self.limit += 1;
            self.events
                .push_back(Event::Concurrency { limit: self.limit });
        }
    }

    /// Too many at once: multiplicative decrease, once per overload.
    fn decrease(&mut self, token: u64) {
        if token < self.decreased_at {
            return;
        }
        self.decreased_at = self.next_token;
        self.window = 0;
        let limit = (self.limit / 2).max(1);
        if limit != self.limit {
            self.limit = limit;
            self.events.push_back(Event::Concurrency { limit });
        }
    }

    fn close_gate(&mut self, until: Instant) {
        if self.gate.is_none_or(|g| g < until) {
            self.gate = Some(until);
            self.events.push_back(Event::BackOff { until });
        }
    }

    fn failed(&mut self, idx: usize, token: u64, error: Error, now: Instant) {
        let during = self.slots[idx].kind();
        if let Some(t) = throttle(&error) {
            if t.decrease {
                self.decrease(token);
            }
            let wait = match t.back_off {
                Some(d) => Some(d),
                None if t.gate => Some(self.config.back_off(self.throttle_streak)),
                None => None,
            };
            self.throttle_streak = self.throttle_streak.saturating_add(1);
            if let Some(wait) = wait {
                self.close_gate(now.checked_add(wait).unwrap_or(now));
            }
            // Not processed: the same request again, after the gate.
            return self.retry(idx, now, None, during, error);
        }
        let connect =
            matches!(&error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect);
        let unknown = outcome_unknown(&error) || matches!(error, Error::Unconfirmed(_));
        if connect || (unknown && !matches!(during, RequestKind::Write(_))) {
            let delay = self
                .config
                .back_off(self.slots[idx].attempts.saturating_sub(1));
            return self.retry(idx, now, Some(delay), during, error);
        }
        if unknown {
            // The write may have been applied: read again and re-plan, never resend it.
            return self.re_read(idx, now);
        }
        self.finish(idx, Outcome::Failed(Failure::Error { during, error }));
    }

    fn retry(
        &mut self,
        idx: usize,
        now: Instant,
        delay: Option<Duration>,
        during: RequestKind,
        error: Error,
    ) {
        if self.slots[idx].attempts >= self.config.max_attempts {
            return self.finish(idx, Outcome::Failed(Failure::Attempts { during, error }));
        }
        self.schedule(idx, now, delay);
    }

    fn schedule(&mut self, idx: usize, now: Instant, delay: Option<Duration>) {
        if self.expired || self.config.deadline.is_some_and(|d| now >= d) {
            return self.finish(idx, Outcome::Failed(Failure::Deadline));
        }
        match delay.and_then(|d| now.checked_add(d)) {
            Some(at) if at > now => self.delayed.push(Reverse((at, idx))),
            _ => self.ready.push_back(idx),
        }
    }

    /// The next request of the principal: a new phase, its attempts counted afresh.
    fn advance(&mut self, idx: usize, phase: Phase, now: Instant) {
        self.slots[idx].phase = phase;
        self.slots[idx].attempts = 0;
        self.schedule(idx, now, None);
    }

    fn re_read(&mut self, idx: usize, now: Instant) {
        let slot = &mut self.slots[idx];
        slot.replans += 1;
        if slot.replans > self.config.max_replans {
            let limit = self.config.max_replans;
            return self.finish(idx, Outcome::Failed(Failure::Replans { limit }));
        }
        self.advance(idx, Phase::Read { first: false }, now);
    }

    fn finish(&mut self, idx: usize, outcome: Outcome) {
        let slot = &mut self.slots[idx];
        if slot.outcome.is_some() {
            return;
        }
        let principal = slot.desired.principal.clone();
        self.events.push_back(match &outcome {
            Outcome::Converged => Event::Verified { principal },
            Outcome::Drifted(_) => Event::Drifted { principal },
            Outcome::Failed(f) => Event::Failed {
                principal,
                failure: f.kind(),
            },
        });
        slot.outcome = Some(outcome);
        self.unfinished = self.unfinished.saturating_sub(1);
    }

    fn replied(&mut self, idx: usize, results: DelegateResults, now: Instant) {
        match self.slots[idx].phase {
            Phase::Read { first } => self.after_read(idx, &results, first, false, now),
            Phase::Verify => self.after_read(idx, &results, false, true, now),
            Phase::Probe => self.after_probe(idx, &results, now),
            Phase::Write(step) => self.after_write(idx, step, &results, now),
        }
    }

    fn after_read(
        &mut self,
        idx: usize,
        results: &DelegateResults,
        first: bool,
        verifying: bool,
        now: Instant,
    ) {
        let slot = &mut self.slots[idx];
        let observed = slot.observe(results);
        if first {
            if let Some(planned) = slot.expect.clone() {
                let found = observed.fingerprint();
                if found != planned {
                    let stale = StalePlan {
                        principal: slot.desired.principal.clone(),
                        planned,
                        observed: found,
                    };
                    return self.finish(idx, Outcome::Failed(Failure::Stale(stale)));
                }
            }
        }
        let plan = plan(&slot.desired, &observed);
        slot.lints = plan.lints.clone();
        slot.observed = Some(observed);
        if self.read_only || plan.is_converged() {
            return self.finish(idx, Outcome::Converged);
        }
        if verifying {
            return self.finish(idx, Outcome::Drifted(Box::new(plan)));
        }
        if !plan.errors.is_empty() {
            let errors = plan.errors.clone();
            return self.finish(idx, Outcome::Failed(Failure::Plan(errors)));
        }
        self.events.push_back(Event::Planned {
            principal: slot.desired.principal.clone(),
            steps: plan.steps.len(),
        });
        let adds = plan.steps.iter().any(|s| s.kind() == StepKind::Add);
        slot.plan = Some(plan);
        let next = if adds && self.config.probe {
            Phase::Probe
        } else {
            Phase::Write(0)
        };
        self.advance(idx, next, now);
    }

    fn after_probe(&mut self, idx: usize, results: &DelegateResults, now: Instant) {
        let slot = &mut self.slots[idx];
        let named = slot.added_users();
        let mut appeared = false;
        let mut unresolvable = false;
        // One answer per named user, in order; otherwise the probe cannot tell, and the
        // AddDelegate's own answer will.
        if results.messages.len() == named.len() {
            for (m, user) in results.messages.iter().zip(named) {
                match m.as_result() {
                    Err(s) if s.code == ResponseCode::ErrorDelegateNoUser => {
                        slot.unresolvable.insert(user);
                        unresolvable = true;
                    }
                    Ok(Some(_)) => appeared = true,
                    _ => {}
                }
            }
        }
        if unresolvable {
            if let Some(observed) = slot.observed.take() {
                let observed = slot
                    .unresolvable
                    .iter()
                    .fold(observed, |o, u| o.unresolvable(u));
                let plan = plan(&slot.desired, &observed);
                slot.lints = plan.lints.clone();
                slot.observed = Some(observed);
                return self.finish(idx, Outcome::Failed(Failure::Plan(plan.errors.clone())));
            }
        }
        if appeared {
            // Someone added one of them since the read.
            return self.re_read(idx, now);
        }
        self.advance(idx, Phase::Write(0), now);
    }

    fn after_write(&mut self, idx: usize, step: usize, results: &DelegateResults, now: Instant) {
        let slot = &mut self.slots[idx];
        let Some(current) = slot.plan.as_ref().and_then(|p| p.steps.get(step)) else {
            // Not reachable: a write phase always names a step of the plan. Verify.
            return self.advance(idx, Phase::Verify, now);
        };
        let kind = current.kind();
        let written: Vec<EmailAddress> =
            current.delegates().iter().map(|d| d.user.clone()).collect();
        let steps = slot.plan.as_ref().map_or(0, |p| p.steps.len());
        let mut replan = false;
        let mut refused = None;
        for (i, m) in results.messages.iter().enumerate() {
            let code = &m.status.code;
            if !m.is_error() {
                continue;
            }
            match (kind, code) {
                (StepKind::Add, ResponseCode::ErrorDelegateAlreadyExists)
                | (StepKind::Update, ResponseCode::ErrorNotDelegate)
                | (_, ResponseCode::ErrorServerBusy)
                | (_, ResponseCode::ErrorExceededConnectionCount) => replan = true,
                (StepKind::Add, ResponseCode::ErrorDelegateNoUser) => {
                    if let Some(user) = written.get(i) {
                        slot.unresolvable.insert(user.clone());
                    }
                    replan = true;
                }
                // Already gone: what the removal wanted.
                (StepKind::Remove, ResponseCode::ErrorNotDelegate) => {}
                _ => {
                    refused.get_or_insert_with(|| code.clone());
                }
            }
        }
        if let Some(code) = refused {
            let during = RequestKind::Write(kind);
            return self.finish(idx, Outcome::Failed(Failure::Refused { during, code }));
        }
        if replan {
            return self.re_read(idx, now);
        }
        let next = if step + 1 < steps {
            Phase::Write(step + 1)
        } else {
            Phase::Verify
        };
        self.advance(idx, next, now);
    }

    fn report(&mut self) -> Report {
        let principals = self
            .slots
            .iter_mut()
            .map(|s| PrincipalReport {
                principal: s.desired.principal.clone(),
                // Every slot has an outcome when the run is done; a missing one would be
                // a deadline that took it.
                outcome: s
                    .outcome
                    .take()
                    .unwrap_or(Outcome::Failed(Failure::Deadline)),
                requests: s.requests,
                writes: s.writes,
                lints: std::mem::take(&mut s.lints),
                observed: s.observed.take(),
                skipped: s.skipped,
            })
            .collect();
        Report {
            principals,
            peak_in_flight: self.peak_in_flight,
            requests: self.requests,
            writes: self.writes,
        }
    }
}

impl Slot {
    fn kind(&self) -> RequestKind {
        match self.phase {
            Phase::Read { .. } => RequestKind::Read,
            Phase::Probe => RequestKind::Probe,
            Phase::Verify => RequestKind::Verify,
            Phase::Write(i) => RequestKind::Write(
                self.plan
                    .as_ref()
                    .and_then(|p| p.steps.get(i))
                    .map_or(StepKind::Update, |s| s.kind()),
            ),
        }
    }

    fn request(&self) -> DelegateOp {
        let principal = &self.desired.principal;
        match self.phase {
            Phase::Read { .. } | Phase::Verify => {
                DelegateOp::Get(GetDelegate::new(principal.clone()))
            }
            Phase::Probe => DelegateOp::Get(
                self.added_users()
                    .into_iter()
                    .fold(GetDelegate::new(principal.clone()), |op, u| {
                        op.user(UserId::smtp(u))
                    }),
            ),
            Phase::Write(i) => match self.plan.as_ref().and_then(|p| p.steps.get(i)) {
                Some(step) => step.operation(principal),
                // Not reachable (a write phase names a step); a read is harmless.
                None => DelegateOp::Get(GetDelegate::new(principal.clone())),
            },
        }
    }

    /// The users the plan's Add names, in order.
    fn added_users(&self) -> Vec<EmailAddress> {
        self.plan
            .iter()
            .flat_map(|p| p.steps.iter())
            .filter(|s| s.kind() == StepKind::Add)
            .flat_map(|s| s.delegates().iter().map(|d| d.user.clone()))
            .collect()
    }

    fn observe(&self, results: &DelegateResults) -> Observed {
        self.unresolvable.iter().fold(
            Observed::new(self.desired.principal.clone(), results),
            |o, u| o.unresolvable(u),
        )
    }
}

/// Is `error` the server refusing for load (so the request was not processed)?
fn throttle(error: &Error) -> Option<Throttle> {
    let Error::Server(s) = error else {
        return None;
    };
    let code = match s {
        ServerError::Throttled {
            status,
            retry_after,
            ..
        } => {
            return Some(Throttle {
                decrease: status.as_u16() == 503,
                back_off: *retry_after,
                gate: true,
            });
        }
        ServerError::Fault(f) => f.code(),
        ServerError::Response(r) => r.code.clone(),
        _ => return None,
    };
    match code {
        ResponseCode::ErrorServerBusy => Some(Throttle {
            decrease: false,
            back_off: s.back_off(),
            gate: true,
        }),
        ResponseCode::ErrorExceededConnectionCount => Some(Throttle {
            decrease: true,
            back_off: s.back_off(),
            gate: false,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Excerpt, TransportError};

    fn throttled(status: u16, secs: Option<u64>) -> Error {
        ServerError::Throttled {
            status: http::StatusCode::from_u16(status).expect("status"),
            retry_after: secs.map(Duration::from_secs),
            excerpt: Excerpt::default(),
        }
        .into()
    }

    fn response(code: ResponseCode) -> Error {
        let status = crate::soap::ResponseStatus {
            class: crate::soap::ResponseClass::Error,
            code,
            ..Default::default()
        };
        ServerError::Response(Box::new(status)).into()
    }

    #[test]
    fn throttle_signals_are_told_apart() {
        let t = throttle(&throttled(503, Some(2))).expect("a 503 throttles");
        assert!(t.decrease && t.gate && t.back_off == Some(Duration::from_secs(2)));
        let t = throttle(&throttled(429, None)).expect("a 429 throttles");
        assert!(!t.decrease && t.gate && t.back_off.is_none());
        let t = throttle(&response(ResponseCode::ErrorExceededConnectionCount)).expect("count");
        assert!(t.decrease && !t.gate);
        let t = throttle(&response(ResponseCode::ErrorServerBusy)).expect("busy");
        assert!(!t.decrease && t.gate);
        assert!(throttle(&response(ResponseCode::ErrorAccessDenied)).is_none());
        let io = TransportError::new(TransportErrorKind::Io, std::io::Error::other("x"));
        assert!(throttle(&io.into()).is_none());
    }

    #[test]
    fn an_unknown_token_is_ignored_and_done_comes_once() {
        let now = Instant::now();
        let p: EmailAddress = "boss@example.com".parse().expect("address");
        let mut s = Scheduler::new([DesiredState::new(p)], SchedulerConfig::default());
        let Some(Action::Send { token, .. }) = s.poll(now) else {
            panic!("the first read")
        };
        assert!(s.poll(now).is_none(), "one request in flight per principal");
        s.handle(Token(token.0 + 100), Err(throttled(503, None)), now);
        assert_eq!(s.in_flight(), 1);
        s.handle(
            token,
            Ok(Reply {
                server_version: None,
                body: DelegateResults {
                    deliver_meeting_requests: Some(
                        crate::types::DeliverMeetingRequests::DelegatesAndMe,
                    ),
                    ..DelegateResults::default()
                },
            }),
            now,
        );
        // Handled twice: ignored.
        s.handle(token, Err(throttled(503, None)), now);
        assert!(matches!(s.poll(now), Some(Action::Done(r)) if r.all_converged()));
        assert!(s.poll(now).is_none());
    }

    #[test]
    fn back_off_without_a_named_delay_doubles_and_is_capped() {
        let c =
            SchedulerConfig::default().delays(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(c.back_off(0), Duration::from_millis(100));
        assert_eq!(c.back_off(2), Duration::from_millis(400));
        assert_eq!(c.back_off(40), Duration::from_secs(1));
    }
}
