//! The sync scheduler against a scripted model server on a simulated clock. The harness,
//! not the scheduler, checks the limits: one request in flight per principal, peak
//! concurrency, nothing sent before the back-off gate the server set, writes applied.

mod sync_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ews_proto::sync::{
    Action, ConfigLint, DelegateOp, DesiredDelegate, DesiredState, Event, Failure, Observed,
    Outcome, PlanError, Report, RequestKind, Scheduler, SchedulerConfig, StepKind, Token, plan,
};
use ews_proto::{
    DelegateFolder, EmailAddress, Error, GetDelegate, Permission, TransportError,
    TransportErrorKind,
};
use sync_support::{Mailbox, Model, ModelDelegate, busy_fault_xml, decode, top_error_xml};

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

/// What the scripted server does with one request.
enum Fate {
    /// Apply it and answer.
    Normal,
    /// `ErrorServerBusy` with `BackOffMilliseconds`; not applied.
    Busy(u64),
    /// `ErrorExceededConnectionCount` (whole request); not applied.
    ConnectionCount,
    /// HTTP 503 with `Retry-After` seconds; not applied.
    Unavailable(Option<u64>),
    /// Applied, but the answer is lost (a broken connection).
    LostAfterApply,
    /// Lost before the server saw it (a timeout): not applied, outcome unknown.
    LostBeforeApply,
    /// Answer this XML (status 200) without applying.
    Xml(String),
}

/// What the script is told about a request.
struct Req<'a> {
    name: &'a str,
    /// How many requests this principal sent before this one.
    nth: usize,
    /// All requests sent before this one.
    global: usize,
}

/// Decides each request's fate, and may change the mailbox first (another admin).
type Script = Box<dyn FnMut(&Req<'_>, &mut Model) -> Fate>;

struct Flight {
    token: Token,
    principal: String,
    op: DelegateOp,
    fate: Fate,
    done_at: Instant,
}

/// How long a waiting driver sleeps at most before it polls again.
const EARLY_WAKE: Duration = Duration::from_millis(37);

struct Sim {
    model: Model,
    t0: Instant,
    clock: Instant,
    /// Service time of the n-th request.
    service: Box<dyn Fn(usize) -> Duration>,
    script: Script,
    /// A per-caller concurrency limit: more in flight answers ErrorExceededConnectionCount.
    server_limit: Option<usize>,
    flights: Vec<Flight>,
    /// When the back-off the server last asked for ends.
    server_gate: Option<Instant>,
    violations: Vec<String>,
    /// (time since start, principal, operation name), in order.
    log: Vec<(Duration, String, String)>,
    per_principal: BTreeMap<String, usize>,
    /// Writes the model applied, per principal.
    applied: BTreeMap<String, usize>,
    peak: usize,
    events: Vec<Event>,
    concurrency_seen: Vec<u32>,
}

impl Sim {
    fn new(model: Model) -> Self {
        let t0 = Instant::now();
        Sim {
            model,
            t0,
            clock: t0,
            service: Box::new(|_| Duration::from_millis(10)),
            script: Box::new(|_, _| Fate::Normal),
            server_limit: None,
            flights: Vec::new(),
            server_gate: None,
            violations: Vec::new(),
            log: Vec::new(),
            per_principal: BTreeMap::new(),
            applied: BTreeMap::new(),
            peak: 0,
            events: Vec::new(),
            concurrency_seen: Vec::new(),
        }
    }

    fn run(&mut self, mut s: Scheduler) -> Report {
        for _ in 0..1_000_000 {
            let action = s.poll(self.clock);
            self.events.extend(s.events());
            self.concurrency_seen.push(s.concurrency());
            match action {
                Some(Action::Send {
                    principal,
                    op,
                    token,
                    deadline,
                }) => {
                    if let Some(d) = deadline {
                        if self.clock >= d {
                            self.violations
                                .push(format!("sent at the deadline: {principal}"));
                        }
                    }
                    self.receive(principal.as_str().to_ascii_lowercase(), op, token);
                }
                Some(Action::WaitUntil(t)) => {
                    assert!(t > self.clock, "WaitUntil in the past would spin");
                    // A driver may wake early (a spurious wake-up, another outcome): it
                    // must then be told to wait again, never be let through.
                    let early = self.clock + EARLY_WAKE;
                    let next = self.flights.iter().map(|f| f.done_at).min();
                    let to = next.map_or(t, |n| n.min(t)).min(early);
                    self.advance(&mut s, to);
                }
                None => {
                    let next = self
                        .flights
                        .iter()
                        .map(|f| f.done_at)
                        .min()
                        .expect("None with nothing in flight: the run would hang");
                    self.advance(&mut s, next);
                }
                Some(Action::Done(report)) => {
                    assert!(s.poll(self.clock).is_none(), "Done is handed out once");
                    return report;
                }
            }
        }
        panic!("the run did not end");
    }

    fn receive(&mut self, principal: String, op: DelegateOp, token: Token) {
        let seen = Model::seen(&op);
        assert!(seen.principal.eq_ignore_ascii_case(&principal));
        if self.flights.iter().any(|f| f.principal == principal) {
            self.violations
                .push(format!("two in flight for {principal}"));
        }
        if self.server_gate.is_some_and(|g| self.clock < g) {
            self.violations.push(format!(
                "{} for {principal} sent {:?} before the gate opened",
                seen.name,
                self.server_gate.map(|g| g - self.clock)
            ));
        }
        let nth = self.per_principal.entry(principal.clone()).or_default();
        let req = Req {
            name: &seen.name,
            nth: *nth,
            global: self.log.len(),
        };
        *nth += 1;
        let mut fate = (self.script)(&req, &mut self.model);
        if self
            .server_limit
            .is_some_and(|limit| self.flights.len() + 1 > limit)
        {
            fate = Fate::ConnectionCount;
        }
        let service = (self.service)(self.log.len());
        self.log
            .push((self.clock - self.t0, principal.clone(), seen.name));
        self.flights.push(Flight {
            token,
            principal,
            op,
            fate,
            done_at: self.clock + service,
        });
        self.peak = self.peak.max(self.flights.len());
    }

    fn advance(&mut self, s: &mut Scheduler, to: Instant) {
        self.clock = to;
        loop {
            let Some(i) = self
                .flights
                .iter()
                .enumerate()
                .filter(|(_, f)| f.done_at <= self.clock)
                .min_by_key(|(_, f)| (f.done_at, f.token))
                .map(|(i, _)| i)
            else {
                return;
            };
            let f = self.flights.remove(i);
            let outcome = self.outcome(&f);
            s.handle(f.token, outcome, self.clock);
        }
    }

    fn outcome(
        &mut self,
        f: &Flight,
    ) -> Result<ews_proto::Reply<ews_proto::DelegateResults>, Error> {
        let gate = |sim: &mut Sim, d: Duration| {
            let until = sim.clock + d;
            sim.server_gate = Some(sim.server_gate.map_or(until, |g| g.max(until)));
        };
        match &f.fate {
            Fate::Normal | Fate::LostAfterApply => {
                if f.op.is_write() {
                    *self.applied.entry(f.principal.clone()).or_default() += 1;
                }
                let reply = self.model.answer(&f.op);
                if matches!(f.fate, Fate::LostAfterApply) {
                    return Err(
                        TransportError::new(TransportErrorKind::Io, "connection reset").into(),
                    );
                }
                Ok(reply)
            }
            Fate::LostBeforeApply => {
                Err(TransportError::new(TransportErrorKind::Timeout, "timed out").into())
            }
            Fate::Busy(ms) => {
                gate(self, Duration::from_millis(*ms));
                Err(decode(&f.op, 500, &busy_fault_xml(*ms), &[])
                    .expect_err("a fault")
                    .into())
            }
            Fate::ConnectionCount => Err(decode(
                &f.op,
                200,
                &top_error_xml(&f.op, "ErrorExceededConnectionCount"),
                &[],
            )
            .expect_err("a whole-request error")
            .into()),
            Fate::Unavailable(secs) => {
                if let Some(secs) = secs {
                    gate(self, Duration::from_secs(*secs));
                }
                let secs = secs.map(|s| s.to_string());
                let headers: Vec<(&str, &str)> =
                    secs.iter().map(|s| ("Retry-After", s.as_str())).collect();
                Err(decode(&f.op, 503, "", &headers).expect_err("503").into())
            }
            Fate::Xml(xml) => decode(&f.op, 200, xml, &[]).map_err(Error::from),
        }
    }

    fn ops_of(&self, principal: &str) -> Vec<&str> {
        self.log
            .iter()
            .filter(|(_, p, _)| p == principal)
            .map(|(_, _, n)| n.as_str())
            .collect()
    }

    fn assert_clean(&self) {
        assert!(self.violations.is_empty(), "{:#?}", self.violations);
    }
}

const USERS: [&str; 4] = [
    "a@example.com",
    "b@example.com",
    "c@example.com",
    "d@example.com",
];

fn principal(i: usize) -> String {
    format!("p{i:03}@example.com")
}

/// `n` principals; each wants a, b and c (Calendar Editor for a, with copies), and starts
/// from one of four states.
fn fleet(n: usize) -> (Model, Vec<DesiredState>) {
    let mut model = Model::default();
    for u in USERS {
        model = model.user(u);
    }
    let mut desired = Vec::new();
    for i in 0..n {
        let p = principal(i);
        let delegates = match i % 4 {
            0 => vec![],
            1 => vec![
                ModelDelegate::new("a@example.com")
                    .level(0, "Editor")
                    .receive(true),
            ],
            2 => vec![
                ModelDelegate::new("d@example.com"),
                ModelDelegate::new("b@example.com"),
            ],
            _ => vec![
                ModelDelegate::new("a@example.com").level(0, "Author"),
                ModelDelegate::new("b@example.com"),
                ModelDelegate::new("c@example.com").level(2, "Custom"),
            ],
        };
        model = model.mailbox(
            &p,
            Mailbox {
                delegates,
                ..Mailbox::default()
            },
        );
        desired.push(
            DesiredState::new(addr(&p))
                .delegate(
                    DesiredDelegate::new(addr("a@example.com"))
                        .folder(DelegateFolder::Calendar, Permission::Editor)
                        .receive_copies_of_meeting_messages(true),
                )
                .delegate(DesiredDelegate::new(addr("b@example.com")))
                .delegate(DesiredDelegate::new(addr("c@example.com")))
                .prune(true),
        );
    }
    (model, desired)
}

/// The number of writes each principal's first plan holds.
fn planned_writes(model: &Model, desired: &[DesiredState]) -> BTreeMap<String, usize> {
    let mut model = model.clone();
    desired
        .iter()
        .map(|d| {
            let reply = model.answer(&DelegateOp::Get(GetDelegate::new(d.principal().clone())));
            let observed = Observed::new(d.principal().clone(), &reply.body);
            (
                d.principal().as_str().to_owned(),
                plan(d, &observed).steps().len(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn failure<'a>(report: &'a Report, p: &str) -> &'a Failure {
    match &report.principal(&addr(p)).expect("in the report").outcome {
        Outcome::Failed(f) => f,
        other => panic!("{p}: {other:?}"),
    }
}

#[test]
fn many_principals_under_throttling_converge_within_the_limits() {
    let (model, desired) = fleet(60);
    let planned = planned_writes(&model, &desired);
    let mut sim = Sim::new(model);
    sim.service = Box::new(|n| Duration::from_millis(5 + (n as u64 * 37) % 45));
    sim.script = Box::new(|r, _| match r.global {
        g if g % 17 == 5 => Fate::Busy(300),
        g if g % 29 == 7 => Fate::Unavailable(Some(1)),
        g if g % 23 == 11 => Fate::ConnectionCount,
        g if g % 31 == 13 => Fate::Unavailable(None),
        _ => Fate::Normal,
    });
    let config = SchedulerConfig::default()
        .concurrency(6)
        .delays(Duration::from_millis(50), Duration::from_secs(2));
    let report = sim.run(Scheduler::new(desired, config));
    sim.assert_clean();
    assert!(report.all_converged(), "{report:#?}");
    assert!(
        sim.peak <= 6 && report.peak_in_flight <= 6,
        "peak {}",
        sim.peak
    );
    assert!(sim.peak >= 2, "ran concurrently");
    // No write applied twice: each principal got exactly the writes of its first plan.
    assert_eq!(sim.applied, planned);
    let verified = sim
        .events
        .iter()
        .filter(|e| matches!(e, Event::Verified { .. }))
        .count();
    assert_eq!(verified, 60);
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::BackOff { .. }))
    );
}

#[test]
fn nothing_is_sent_before_the_back_off_gate_opens() {
    for fate in [0, 1] {
        let (model, desired) = fleet(12);
        let mut sim = Sim::new(model);
        sim.script = Box::new(move |r, _| match (r.global, fate) {
            (3, 0) => Fate::Busy(5_000),
            (3, _) => Fate::Unavailable(Some(2)),
            _ => Fate::Normal,
        });
        let report = sim.run(Scheduler::new(
            desired,
            SchedulerConfig::default().concurrency(4),
        ));
        sim.assert_clean();
        assert!(report.all_converged());
        // The gate held everyone back: the run lasted at least as long as it.
        let (last, ..) = sim.log.last().expect("requests");
        let wait = if fate == 0 { 5 } else { 2 };
        assert!(*last >= Duration::from_secs(wait), "{last:?}");
    }
}

#[test]
fn connection_count_refusals_halve_the_limit_and_successes_grow_it_back() {
    let (model, desired) = fleet(40);
    let mut sim = Sim::new(model);
    sim.server_limit = Some(2);
    let report = sim.run(Scheduler::new(
        desired,
        SchedulerConfig::default().concurrency(8),
    ));
    sim.assert_clean();
    assert!(report.all_converged(), "{report:#?}");
    let limits: Vec<u32> = sim
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Concurrency { limit } => Some(*limit),
            _ => None,
        })
        .collect();
    let lowest = *limits.iter().min().expect("the limit changed");
    assert!(lowest <= 2, "{limits:?}");
    let first_low = limits.iter().position(|l| *l == lowest).expect("seen");
    assert!(
        limits[first_low..].iter().any(|l| *l > lowest),
        "grew back: {limits:?}"
    );
    // Halving, not dropping by one: the first change from 8 is to 4.
    assert_eq!(limits[0], 4, "{limits:?}");
}

#[test]
fn a_503_halves_the_limit_once_per_overload() {
    let (model, desired) = fleet(16);
    let mut sim = Sim::new(model);
    // Four requests in flight answer 503 together: one overload, one halving.
    sim.script = Box::new(|r, _| {
        if (4..8).contains(&r.global) {
            Fate::Unavailable(None)
        } else {
            Fate::Normal
        }
    });
    sim.service = Box::new(|_| Duration::from_millis(10));
    let report = sim.run(Scheduler::new(
        desired,
        SchedulerConfig::default().concurrency(8),
    ));
    sim.assert_clean();
    assert!(report.all_converged());
    let first = sim.events.iter().find_map(|e| match e {
        Event::Concurrency { limit } => Some(*limit),
        _ => None,
    });
    assert_eq!(first, Some(4));
    assert!(
        sim.concurrency_seen.iter().all(|c| *c >= 4),
        "{:?}",
        sim.concurrency_seen
    );
}

fn one(mailbox: Mailbox, desired: DesiredState) -> (Sim, Scheduler) {
    let mut model = Model::default();
    for u in USERS {
        model = model.user(u);
    }
    let model = model.mailbox(desired.principal().as_str(), mailbox);
    (
        Sim::new(model),
        Scheduler::new([desired], SchedulerConfig::default()),
    )
}

const P: &str = "boss@example.com";

fn wants_a() -> DesiredState {
    DesiredState::new(addr(P)).delegate(
        DesiredDelegate::new(addr("a@example.com"))
            .folder(DelegateFolder::Calendar, Permission::Editor),
    )
}

#[test]
fn an_unknown_outcome_is_read_back_not_resent() {
    // Applied, answer lost: a re-read shows it done; the Add went out once.
    let (mut sim, s) = one(Mailbox::default(), wants_a());
    sim.script = Box::new(|r, _| {
        if r.name == "AddDelegate" {
            Fate::LostAfterApply
        } else {
            Fate::Normal
        }
    });
    let report = sim.run(s);
    sim.assert_clean();
    assert!(report.all_converged());
    assert_eq!(
        sim.ops_of(P),
        ["GetDelegate", "GetDelegate", "AddDelegate", "GetDelegate"]
    );

    // Lost before the server saw it: re-read, re-planned, added (the plan's own write).
    let (mut sim, s) = one(Mailbox::default(), wants_a());
    let mut lost = false;
    sim.script = Box::new(move |r, _| {
        if r.name == "AddDelegate" && !lost {
            lost = true;
            Fate::LostBeforeApply
        } else {
            Fate::Normal
        }
    });
    let report = sim.run(s);
    assert!(report.all_converged());
    let ops = sim.ops_of(P);
    assert_eq!(
        ops,
        [
            "GetDelegate",
            "GetDelegate",
            "AddDelegate",
            "GetDelegate",
            "GetDelegate",
            "AddDelegate",
            "GetDelegate"
        ]
    );
    assert_eq!(sim.applied[P], 1);
}

#[test]
fn already_exists_and_not_delegate_re_plan_the_principal() {
    // Someone adds a (with other settings) between our read and our Add.
    let (mut sim, s) = one(Mailbox::default(), wants_a());
    sim.script = Box::new(|r, m| {
        if r.name == "AddDelegate" {
            m.mailbox_mut(P)
                .delegates
                .push(ModelDelegate::new("a@example.com").level(0, "Reviewer"));
        }
        Fate::Normal
    });
    let report = sim.run(s);
    sim.assert_clean();
    assert!(report.all_converged(), "{report:#?}");
    assert_eq!(
        sim.ops_of(P),
        [
            "GetDelegate",
            "GetDelegate",
            "AddDelegate",
            "GetDelegate",
            "UpdateDelegate",
            "GetDelegate"
        ]
    );

    // Someone removes a between our read and our Update.
    let start = Mailbox {
        delegates: vec![ModelDelegate::new("a@example.com").level(0, "Reviewer")],
        ..Mailbox::default()
    };
    let (mut sim, s) = one(start, wants_a());
    sim.script = Box::new(|r, m| {
        if r.name == "UpdateDelegate" {
            m.mailbox_mut(P).delegates.clear();
        }
        Fate::Normal
    });
    let report = sim.run(s);
    assert!(report.all_converged(), "{report:#?}");
    assert_eq!(
        sim.ops_of(P),
        [
            "GetDelegate",
            "UpdateDelegate",
            "GetDelegate",
            "GetDelegate",
            "AddDelegate",
            "GetDelegate"
        ]
    );
}

#[test]
fn the_deadline_fails_what_is_left_and_nothing_is_sent_after_it() {
    let (model, desired) = fleet(10);
    let mut sim = Sim::new(model);
    sim.script = Box::new(|r, _| {
        if r.global == 0 {
            Fate::Busy(60_000)
        } else {
            Fate::Normal
        }
    });
    let deadline = sim.t0 + Duration::from_secs(10);
    let config = SchedulerConfig::default().concurrency(2).deadline(deadline);
    let report = sim.run(Scheduler::new(desired, config));
    sim.assert_clean();
    assert!(sim.log.iter().all(|(at, ..)| *at < Duration::from_secs(10)));
    let deadlines = report
        .principals
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Failed(Failure::Deadline)))
        .count();
    assert_eq!(deadlines, 10, "{report:#?}");
}

#[test]
fn attempt_and_re_plan_caps_end_in_typed_failures() {
    // Busy forever: the read fails after three attempts.
    let (mut sim, _) = one(Mailbox::default(), wants_a());
    sim.script = Box::new(|_, _| Fate::Busy(0));
    let s = Scheduler::new([wants_a()], SchedulerConfig::default().max_attempts(3));
    let report = sim.run(s);
    match failure(&report, P) {
        Failure::Attempts {
            during: RequestKind::Read,
            error,
        } => assert!(error.to_string().contains("ErrorServerBusy"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.ops_of(P).len(), 3);

    // Every Add answers "already exists" but the delegate never shows: re-plans run out.
    let (mut sim, _) = one(Mailbox::default(), wants_a());
    sim.script = Box::new(|r, _| {
        if r.name == "AddDelegate" {
            Fate::Xml(already_exists())
        } else {
            Fate::Normal
        }
    });
    let s = Scheduler::new([wants_a()], SchedulerConfig::default().max_replans(2));
    let report = sim.run(s);
    assert!(matches!(failure(&report, P), Failure::Replans { limit: 2 }));
    let adds = sim
        .ops_of(P)
        .iter()
        .filter(|n| **n == "AddDelegate")
        .count();
    assert_eq!(adds, 3);

    // A refusal no re-plan cures ends the principal with its code.
    let (mut sim, s) = one(Mailbox::default(), wants_a());
    sim.script = Box::new(|r, _| {
        if r.name == "AddDelegate" {
            Fate::Xml(already_exists().replace(
                "ErrorDelegateAlreadyExists",
                "ErrorDelegateValidationFailed",
            ))
        } else {
            Fate::Normal
        }
    });
    let report = sim.run(s);
    assert!(matches!(
        failure(&report, P),
        Failure::Refused {
            during: RequestKind::Write(StepKind::Add),
            ..
        }
    ));
}

fn already_exists() -> String {
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:AddDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>NoError</m:ResponseCode><m:ResponseMessages><m:DelegateUserResponseMessageType ResponseClass="Error"><m:MessageText>exists</m:MessageText><m:ResponseCode>ErrorDelegateAlreadyExists</m:ResponseCode></m:DelegateUserResponseMessageType></m:ResponseMessages></m:AddDelegateResponse></s:Body></s:Envelope>"#.to_owned()
}

#[test]
fn verification_reports_converged_or_drifted() {
    let (mut sim, s) = one(Mailbox::default(), wants_a());
    // Between our Add and our verification, someone lowers a's Calendar level.
    sim.script = Box::new(|r, m| {
        if r.name == "GetDelegate" && r.nth == 3 {
            if let Some(d) = m.mailbox_mut(P).delegates.first_mut() {
                d.levels[0] = "Reviewer".to_owned();
            }
        }
        Fate::Normal
    });
    let report = sim.run(s);
    let Outcome::Drifted(rest) = &report.principals[0].outcome else {
        panic!("{report:#?}")
    };
    assert_eq!(rest.steps()[0].kind(), StepKind::Update);
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::Drifted { .. }))
    );

    let (mut sim, s) = one(Mailbox::default(), wants_a());
    let report = sim.run(s);
    assert!(matches!(report.principals[0].outcome, Outcome::Converged));
    assert!(
        sim.events
            .iter()
            .any(|e| matches!(e, Event::Verified { .. }))
    );
    assert_eq!(report.writes, 1);
}

#[test]
fn an_unresolvable_delegate_fails_the_principal_before_any_write() {
    let start = Mailbox {
        delegates: vec![ModelDelegate::new("b@example.com")],
        ..Mailbox::default()
    };
    let desired = wants_a()
        .delegate(DesiredDelegate::new(addr("ghost@example.com")))
        .prune(true);
    for probe in [true, false] {
        let (mut sim, _) = one(start.clone(), desired.clone());
        let s = Scheduler::new(
            [desired.clone()],
            SchedulerConfig::default().probe_new_delegates(probe),
        );
        let report = sim.run(s);
        match failure(&report, P) {
            Failure::Plan(errors) => assert_eq!(
                errors,
                &[PlanError::Unresolvable {
                    user: addr("ghost@example.com")
                }]
            ),
            other => panic!("{other:?}"),
        }
        // b was never removed.
        assert!(sim.model.mailboxes[P].delegate("b@example.com").is_some());
        let ops = sim.ops_of(P);
        assert!(!ops.contains(&"RemoveDelegate"), "{ops:?}");
        if probe {
            assert_eq!(ops, ["GetDelegate", "GetDelegate"]);
        }
    }
}

#[test]
fn a_stale_saved_plan_is_refused_before_any_write() {
    let mut model = Model::default().user("a@example.com");
    let model_then = {
        model = model.mailbox(P, Mailbox::default());
        model.clone()
    };
    let mut then = model_then;
    let reply = then.answer(&DelegateOp::Get(GetDelegate::new(addr(P))));
    let saved = plan(&wants_a(), &Observed::new(addr(P), &reply.body));
    // Since then, someone added c.
    model
        .mailbox_mut(P)
        .delegates
        .push(ModelDelegate::new("c@example.com"));
    let mut sim = Sim::new(model);
    let s = Scheduler::new([wants_a()], SchedulerConfig::default()).refuse_stale(&saved);
    let report = sim.run(s);
    assert!(matches!(failure(&report, P), Failure::Stale(_)));
    assert_eq!(report.writes, 0);
}

#[test]
fn concurrency_above_ews_max_concurrency_is_a_config_lint() {
    let mut s = Scheduler::new(
        Vec::<DesiredState>::new(),
        SchedulerConfig::default().concurrency(28),
    );
    let events: Vec<Event> = s.events().collect();
    assert_eq!(
        events,
        [Event::Config(ConfigLint::AboveEwsMaxConcurrency {
            concurrency: 28
        })]
    );
    assert!(
        SchedulerConfig::default()
            .concurrency(27)
            .lints()
            .is_empty()
    );
    assert!(matches!(s.poll(Instant::now()), Some(Action::Done(r)) if r.principals.is_empty()));
}
