//! Throttling as Exchange does it, and the server's own records of a client's manners.
//!
//! * A **service time** per request: an async sleep before the operation runs, so that
//!   requests overlap as they do against a real server.
//! * A **per-caller concurrency limit** (Exchange's `EWSMaxConcurrency`): requests in
//!   flight are counted per authenticated caller; one that would exceed the limit is
//!   answered (after the service time, like every answer), unprocessed, with
//!   `ErrorExceededConnectionCount` the way Exchange
//!   answers it: HTTP 200 and an error *response* (not a SOAP fault) with the MessageText
//!   `You have exceeded the available concurrent connections for your account.  Try again
//!   once your other requests have completed.` and MessageXml values `Policy`
//!   (`MaxConcurrency`), `MaxConcurrencyLimit` and `ErrorMessage` (as Exchange Online
//!   sends them; the EWS Managed API shows them as `ErrorDetails`). The delegate
//!   operations carry it on the outer `m:XxxDelegateResponse` (their request-level error
//!   shape); every other operation in one `m:XxxResponseMessage ResponseClass="Error"`.
//!   (Exchange charges impersonated requests to the impersonated mailbox's budget; the
//!   simulator charges the authenticated caller, the stricter rule for a service account
//!   that impersonates many mailboxes.)
//! * **ServerBusy every n-th request** of a caller, with a `BackOffMilliseconds`
//!   ([`Throttling::busy_every`]), besides the armed [`Fault`](super::Fault)s.
//!
//! What the simulator checks, counted at the server (see [`ConcurrencyReport`]):
//!
//! * Requests in flight per caller (peak; refused ones count: they were sent) and per
//!   target mailbox — the impersonated one (`ExchangeImpersonation`), else the
//!   `X-AnchorMailbox` header, else the caller's own. A request arriving for a mailbox
//!   that already has one in flight is a [`MailboxOverlap`].
//! * The **back-off gate**: when the simulator answers `ErrorServerBusy` with
//!   `BackOffMilliseconds` B (or HTTP 503 / 429 with `Retry-After` R) at instant t, that
//!   caller's gate is closed until t + B. A request from that caller arriving before then
//!   is a [`GateViolation`], with one tolerance: a request that may have been on its way
//!   before the client could read the busy answer. The server cannot see when a client
//!   dispatched a request, so the rule is: a request arriving within
//!   [`Throttling::gate_grace`] of t is *in transit* (counted, not a violation) unless it
//!   is for the refused request's mailbox (one request in flight per mailbox: the client
//!   decided on it after it had the refusal in hand). Any request arriving later than
//!   t + grace and before t + B is a violation whatever it is for. Requests that arrived
//!   before t (in flight when the busy answer was sent) are never judged by that gate.
//!   The connection does not tell: a pooled client may send a request it decided on
//!   before the refusal came on the very connection that carried the refusal (one thread
//!   reads the answer and gives the connection back, another takes it).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::soap::{self, W, WNs};
use super::{BodyPrefixes, ServerStyle, Shared, lock};

/// How the simulator throttles ([`SimConfig::throttling`](super::SimConfig::throttling)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Throttling {
    /// How long each EWS request takes, from its arrival to its answer: the operation
    /// runs once this much time has passed since the request arrived (after
    /// authentication and armed faults; a `Delay` fault longer than it delays more), and
    /// an `ErrorExceededConnectionCount` refusal is answered after it too (the refused
    /// request stays counted in flight meanwhile, not against the limit), so that at the
    /// server a client's requests overlap as the client sent them. Kept to within tens
    /// of microseconds (not tokio's millisecond timer). Default: zero.
    pub service_time: Duration,
    /// The most requests one authenticated caller may have in flight; one more is
    /// answered `ErrorExceededConnectionCount`. Default: none.
    pub max_concurrency: Option<u32>,
    /// Every n-th admitted request of a caller is answered `ErrorServerBusy` with this
    /// back-off, unprocessed. Default: none.
    pub busy_every: Option<BusyEvery>,
    /// How long after a busy answer a request for another mailbox is taken to have been
    /// in transit rather than sent through a closed gate (see the module docs).
    /// Default: 20 ms.
    pub gate_grace: Duration,
    /// Threads the server runs on (0 or 1, the default: one).
    pub worker_threads: usize,
}

impl Default for Throttling {
    fn default() -> Self {
        Self {
            service_time: Duration::ZERO,
            max_concurrency: None,
            busy_every: None,
            gate_grace: Duration::from_millis(20),
            worker_threads: 1,
        }
    }
}

/// `ErrorServerBusy` on every `every`-th request of a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyEvery {
    /// Which requests: the `every`-th, `2 * every`-th, ... (at least 1).
    pub every: u64,
    /// Their `BackOffMilliseconds`.
    pub back_off_ms: u64,
}

/// The server's records of how clients behaved ([`Simulator::concurrency_report`](super::Simulator::concurrency_report)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConcurrencyReport {
    /// The most requests each authenticated caller had in flight at once (refused ones
    /// included).
    pub peak_per_caller: BTreeMap<String, u32>,
    /// The most requests any one mailbox had in flight at once.
    pub max_per_mailbox: u32,
    /// Every request that arrived for a mailbox that already had one in flight.
    pub mailbox_overlaps: Vec<MailboxOverlap>,
    /// Every request that arrived while its caller's back-off gate was closed.
    pub gate_violations: Vec<GateViolation>,
    /// Requests that arrived while the gate was closed but may have been on their way
    /// before the busy answer could be read (tolerated: see the module docs).
    pub in_transit: u64,
    /// How many times a gate closed (a busy or throttled answer with a back-off).
    pub gates_closed: u64,
    /// Requests answered `ErrorExceededConnectionCount`.
    pub refused: u64,
    /// Requests answered `ErrorServerBusy` (armed faults and [`Throttling::busy_every`]).
    pub busy: u64,
    /// Requests admitted (authenticated EWS requests the books saw).
    pub admitted: u64,
    /// Authenticated requests timed: from the request's arrival to its answer being
    /// handed to the HTTP layer (the service time and the simulator's own work).
    pub timed: u64,
    /// Their total time in the simulator ([`ConcurrencyReport::mean_service`]).
    pub service_total: Duration,
    /// Requests that came on a connection that had carried an answer before: the time
    /// from that answer to this request's arrival (the client's turnaround: reading and
    /// decoding the answer, deciding, encoding and sending the next request).
    pub turnarounds: u64,
    /// Their total ([`ConcurrencyReport::mean_turnaround`]).
    pub turnaround_total: Duration,
}

impl ConcurrencyReport {
    /// The mean time a request spent in the simulator (zero if none was timed).
    pub fn mean_service(&self) -> Duration {
        mean(self.service_total, self.timed)
    }

    /// The mean client turnaround on a kept-alive connection (zero if none).
    pub fn mean_turnaround(&self) -> Duration {
        mean(self.turnaround_total, self.turnarounds)
    }

    /// The peak in flight of one caller (0 if it never sent).
    pub fn peak_of(&self, caller: &str) -> u32 {
        self.peak_per_caller
            .get(&caller.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }
}

fn mean(total: Duration, n: u64) -> Duration {
    match u32::try_from(n) {
        Ok(0) => Duration::ZERO,
        Ok(n) => total / n,
        Err(_) => Duration::from_secs_f64(total.as_secs_f64() / n as f64),
    }
}

/// A request for a mailbox that already had one in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxOverlap {
    /// The mailbox (lower case).
    pub mailbox: String,
    /// The request's `request-id`.
    pub request_id: String,
    /// In flight to the mailbox with it.
    pub in_flight: u32,
}

/// A request that arrived before its caller's back-off gate opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateViolation {
    /// The caller (lower case).
    pub caller: String,
    /// The mailbox it was for (lower case).
    pub mailbox: String,
    /// The request's `request-id`.
    pub request_id: String,
    /// How long before the gate opened it arrived.
    pub early_by: Duration,
}

/// One closed gate of a caller.
#[derive(Debug, Clone)]
struct Gate {
    sent: Instant,
    until: Instant,
    mailbox: String,
}

#[derive(Debug, Default)]
struct Caller {
    /// Every request in flight, refused ones included (they wait the service time too).
    in_flight: u32,
    /// The requests in flight that were not refused: what the limit counts.
    running: u32,
    admitted: u64,
    gates: Vec<Gate>,
}

/// The books: in flight per caller and mailbox, the gates, the report.
#[derive(Debug, Default)]
pub(crate) struct Books {
    callers: HashMap<String, Caller>,
    mailboxes: HashMap<String, u32>,
    report: ConcurrencyReport,
}

/// What [`admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Go on.
    Go,
    /// Refuse with `ErrorExceededConnectionCount`.
    Refuse {
        /// The limit.
        limit: u32,
    },
    /// Answer `ErrorServerBusy` with this back-off ([`Throttling::busy_every`]).
    Busy {
        /// BackOffMilliseconds.
        back_off_ms: u64,
    },
}

/// A request in flight: counted until dropped.
#[derive(Debug)]
pub(crate) struct InFlight<'a> {
    shared: &'a Shared,
    caller: String,
    mailbox: String,
    /// Counted as running (not refused).
    running: bool,
}

impl InFlight<'_> {
    /// Closes the caller's gate for `wait` from now: the answer being sent says so.
    pub(crate) fn close_gate(&self, wait: Duration) {
        let now = Instant::now();
        let mut books = lock(&self.shared.books);
        if wait.is_zero() {
            return;
        }
        books.report.gates_closed += 1;
        let gate = Gate {
            sent: now,
            until: now + wait,
            mailbox: self.mailbox.clone(),
        };
        books
            .callers
            .entry(self.caller.clone())
            .or_default()
            .gates
            .push(gate);
    }

    /// Counts a busy answer.
    pub(crate) fn count_busy(&self) {
        lock(&self.shared.books).report.busy += 1;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut books = lock(&self.shared.books);
        if let Some(c) = books.callers.get_mut(&self.caller) {
            c.in_flight = c.in_flight.saturating_sub(1);
            if self.running {
                c.running = c.running.saturating_sub(1);
            }
        }
        if let Some(n) = books.mailboxes.get_mut(&self.mailbox) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                books.mailboxes.remove(&self.mailbox);
            }
        }
    }
}

/// Books one authenticated request arriving now: checks the gates, counts it in flight
/// (until the returned guard drops) and says whether it may go on.
pub(crate) fn admit<'a>(
    shared: &'a Shared,
    caller: &str,
    mailbox: &str,
    request_id: &str,
) -> (InFlight<'a>, Admission) {
    let now = Instant::now();
    let config = &shared.config.throttling;
    let caller = caller.to_ascii_lowercase();
    let mailbox = mailbox.to_ascii_lowercase();
    let mut guard = lock(&shared.books);
    let books = &mut *guard;
    books.report.admitted += 1;
    let c = books.callers.entry(caller.clone()).or_default();
    c.gates.retain(|g| g.until > now);
    if let Some(g) = c.gates.iter().max_by_key(|g| g.until) {
        let known = g.mailbox == mailbox || now >= g.sent + config.gate_grace;
        if known {
            books.report.gate_violations.push(GateViolation {
                caller: caller.clone(),
                mailbox: mailbox.clone(),
                request_id: request_id.to_owned(),
                early_by: g.until - now,
            });
        } else {
            books.report.in_transit += 1;
        }
    }
    c.in_flight += 1;
    c.admitted += 1;
    let (in_flight, running, admitted) = (c.in_flight, c.running, c.admitted);
    let peak = books
        .report
        .peak_per_caller
        .entry(caller.clone())
        .or_default();
    *peak = (*peak).max(in_flight);
    let n = books.mailboxes.entry(mailbox.clone()).or_default();
    *n += 1;
    let on_mailbox = *n;
    books.report.max_per_mailbox = books.report.max_per_mailbox.max(on_mailbox);
    if on_mailbox > 1 {
        books.report.mailbox_overlaps.push(MailboxOverlap {
            mailbox: mailbox.clone(),
            request_id: request_id.to_owned(),
            in_flight: on_mailbox,
        });
    }
    let admission = match (config.max_concurrency, config.busy_every) {
        (Some(limit), _) if running >= limit => {
            books.report.refused += 1;
            Admission::Refuse { limit }
        }
        (_, Some(b)) if admitted % b.every.max(1) == 0 => Admission::Busy {
            back_off_ms: b.back_off_ms,
        },
        _ => Admission::Go,
    };
    let refused = matches!(admission, Admission::Refuse { .. });
    if !refused {
        if let Some(c) = books.callers.get_mut(&caller) {
            c.running += 1;
        }
    }
    drop(guard);
    let ticket = InFlight {
        shared,
        caller,
        mailbox,
        running: !refused,
    };
    (ticket, admission)
}

impl Books {
    /// A copy of the report.
    pub(crate) fn report(&self) -> ConcurrencyReport {
        self.report.clone()
    }

    /// Times one authenticated request: its time in the simulator and the turnaround
    /// before it on its connection, if an answer came before on it.
    pub(crate) fn timed(&mut self, service: Duration, turnaround: Option<Duration>) {
        self.report.timed += 1;
        self.report.service_total += service;
        if let Some(t) = turnaround {
            self.report.turnarounds += 1;
            self.report.turnaround_total += t;
        }
    }

    /// Requests in flight now, of every caller.
    pub(crate) fn in_flight(&self) -> u32 {
        self.callers.values().map(|c| c.in_flight).sum()
    }

    /// Forgets the report and the gates (requests in flight stay counted).
    pub(crate) fn clear(&mut self) {
        self.report = ConcurrencyReport::default();
        for c in self.callers.values_mut() {
            c.gates.clear();
            c.admitted = 0;
        }
    }
}

/// Waits until `until` (the request's arrival plus the service time), precisely.
///
/// Not with tokio's timer: it rounds a deadline up to the next millisecond and parks in
/// whole milliseconds, so a 5 ms sleep takes 6 to 7 ms, and a benchmark against "5 ms per
/// request" would measure the simulator's clock. A thread's sleep (the blocking pool's)
/// overshoots too: the sleeping thread wakes late (timer slack, a parked vCPU) and hands
/// back to the server's thread late, together 0.3 to 0.4 ms on a shared 2-core machine.
/// So the sleep ends early by the overshoot seen so far (a moving average of how late
/// this function returned against `until`), and a request is answered at its deadline on
/// average rather than a wake-up later. It never ends before `until` minus that average,
/// and the report's `mean_service` states what was really kept.
pub(crate) async fn serve_until(until: Instant) {
    let left = until.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return;
    }
    let early = Duration::from_nanos(OVERSHOOT_NS.load(Ordering::Relaxed));
    let sleep = left.saturating_sub(early);
    if !sleep.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(sleep)).await;
    }
    // How late this wait ended against `until` had it slept the whole `left`:
    // `now - (until - early)`, folded into the average (1/8 weight).
    let late = Instant::now()
        .saturating_duration_since(until.checked_sub(early).unwrap_or(until))
        .as_nanos()
        .min(u128::from(MAX_OVERSHOOT_NS)) as u64;
    let seen = OVERSHOOT_NS.load(Ordering::Relaxed);
    let next = seen - seen / 8 + late / 8;
    OVERSHOOT_NS.store(next.min(MAX_OVERSHOOT_NS), Ordering::Relaxed);
}

/// The moving average of [`serve_until`]'s overshoot, in nanoseconds (shared by every
/// request of the process: it measures the machine, not a request).
static OVERSHOOT_NS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// The largest overshoot [`serve_until`] compensates (a stalled machine must not make
/// every later answer early).
const MAX_OVERSHOOT_NS: u64 = 1_000_000;

/// The MessageText Exchange answers `ErrorExceededConnectionCount` with.
pub(crate) const EXCEEDED_TEXT: &str = "You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.";

/// The mailbox a request acts on: the impersonated one (`ExchangeImpersonation`'s
/// `ConnectingSID`), else the `X-AnchorMailbox` header, else the caller's own.
pub(crate) fn target_mailbox(
    doc: &roxmltree::Document<'_>,
    headers: &http::HeaderMap,
    caller: &str,
) -> String {
    let impersonated = doc
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "ConnectingSID")
        .and_then(|sid| sid.children().find(|c| c.is_element()))
        .map(soap::text_of)
        .filter(|t| !t.trim().is_empty());
    impersonated
        .or_else(|| {
            headers
                .get("x-anchormailbox")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| caller.to_owned())
        .trim()
        .to_ascii_lowercase()
}

/// The `ErrorExceededConnectionCount` answer to `operation` (HTTP 200), as Exchange
/// writes it.
pub(crate) fn exceeded(
    style: ServerStyle,
    prefixes: &BodyPrefixes,
    operation: &str,
    limit: u32,
) -> String {
    let fields = |w: &mut W| {
        w.response_fields("ErrorExceededConnectionCount", Some(EXCEEDED_TEXT));
        w.open(WNs::M, "MessageXml", &[]);
        w.leaf_attrs(WNs::T, "Value", &[("Name", "Policy")], "MaxConcurrency");
        let value = limit.to_string();
        w.leaf_attrs(WNs::T, "Value", &[("Name", "MaxConcurrencyLimit")], &value);
        let text = format!(
            "This operation exceeds the throttling budget for policy part 'MaxConcurrency', policy value '{limit}',  Budget type: 'Ews'.  Suggested backoff time 0 ms."
        );
        w.leaf_attrs(WNs::T, "Value", &[("Name", "ErrorMessage")], &text);
        w.close(WNs::M, "MessageXml");
    };
    let root = format!("{operation}Response");
    soap::envelope(style, prefixes, |w| {
        if operation.ends_with("Delegate") {
            // The delegate operations' request-level error: on the outer element.
            w.root(&root, &[("ResponseClass", "Error")]);
            fields(w);
        } else {
            w.root(&root, &[]);
            w.open(WNs::M, "ResponseMessages", &[]);
            let message = format!("{operation}ResponseMessage");
            w.open(WNs::M, &message, &[("ResponseClass", "Error")]);
            fields(w);
            w.close(WNs::M, &message);
            w.close(WNs::M, "ResponseMessages");
        }
        w.close(WNs::M, &root);
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    use crate::sim::{Fault, SimConfig, Simulator};

    fn get_delegate(principal: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>{principal}</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></s:Header><s:Body><m:GetDelegate IncludePermissions="true"><m:Mailbox><t:EmailAddress>{principal}</t:EmailAddress></m:Mailbox></m:GetDelegate></s:Body></s:Envelope>"#
        )
    }

    /// Sends one request on `tcp` (kept alive) and reads the answer: (head, body).
    fn exchange(sim: &Simulator, tcp: &mut TcpStream, principal: &str) -> (String, String) {
        let body = get_delegate(principal);
        write!(
            tcp,
            "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer token-admin\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
            sim.addr(),
            body.len(),
        )
        .expect("send");
        let (head, body) = crate::sim::server::tests::read_answer(tcp);
        (head, String::from_utf8(body).expect("UTF-8"))
    }

    fn connect(sim: &Simulator) -> TcpStream {
        let tcp = TcpStream::connect(sim.addr()).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        tcp
    }

    #[test]
    fn a_request_beyond_the_limit_is_refused_unprocessed_as_exchange_does() {
        let sim = Simulator::start(
            SimConfig::seed()
                .with_max_concurrency(1)
                .with_service_time(Duration::from_millis(400)),
        );
        let addr = sim.addr();
        let first = std::thread::spawn(move || {
            let mut tcp = TcpStream::connect(addr).expect("connect");
            let body = get_delegate("user1@example.com");
            write!(
                tcp,
                "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer token-admin\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len(),
            )
            .expect("send");
            let mut answer = String::new();
            tcp.read_to_string(&mut answer).expect("answer");
            answer
        });
        while sim.concurrency_report().admitted == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut tcp = connect(&sim);
        let (head, xml) = exchange(&sim, &mut tcp, "user2@example.com");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let doc = roxmltree::Document::parse(&xml).expect("XML");
        let root = doc
            .descendants()
            .find(|n| n.tag_name().name() == "GetDelegateResponse")
            .expect("the operation's response");
        assert_eq!(root.attribute("ResponseClass"), Some("Error"));
        let text = |name: &str| {
            root.children()
                .find(|n| n.tag_name().name() == name)
                .map(crate::sim::soap::text_of)
        };
        assert_eq!(
            text("ResponseCode").as_deref(),
            Some("ErrorExceededConnectionCount")
        );
        assert_eq!(text("MessageText").as_deref(), Some(super::EXCEEDED_TEXT));
        let values: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "Value")
            .map(|n| (n.attribute("Name").unwrap_or(""), n.text().unwrap_or("")))
            .collect();
        assert_eq!(values[0], ("Policy", "MaxConcurrency"));
        assert_eq!(values[1], ("MaxConcurrencyLimit", "1"));
        let first = first.join().expect("the first request");
        assert!(
            first.contains("<m:ResponseCode>NoError</m:ResponseCode>"),
            "{first}"
        );

        let report = sim.concurrency_report();
        assert_eq!(report.refused, 1);
        // Both were timed, the refused one included: each took the service time at least.
        assert_eq!(report.timed, 2);
        assert!(report.mean_service() >= Duration::from_millis(400));
        assert_eq!(report.turnarounds, 0, "one request per connection so far");
        assert_eq!(report.peak_of("admin@example.com"), 2);
        assert_eq!(report.max_per_mailbox, 1);
        let refused = sim
            .requests()
            .into_iter()
            .find(|r| r.fault == Some("ExceededConnectionCount"))
            .expect("recorded");
        assert!(!refused.processed());
        assert_eq!(
            refused.response_code.as_deref(),
            Some("ErrorExceededConnectionCount")
        );
        // The limit is per caller: once the first is answered, the next goes through.
        let (_, xml) = exchange(&sim, &mut tcp, "user2@example.com");
        assert!(
            xml.contains("<m:ResponseCode>NoError</m:ResponseCode>"),
            "{xml}"
        );
        // The second request on that connection: a turnaround timed.
        assert_eq!(sim.concurrency_report().turnarounds, 1);
    }

    #[test]
    fn two_requests_in_flight_to_one_mailbox_are_recorded() {
        let sim = Simulator::start(SimConfig::seed().with_service_time(Duration::from_millis(300)));
        let addr = sim.addr();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                std::thread::spawn(move || {
                    let sim_addr = addr;
                    let mut tcp = TcpStream::connect(sim_addr).expect("connect");
                    let body = get_delegate("user1@example.com");
                    write!(
                        tcp,
                        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {sim_addr}\r\nAuthorization: Bearer token-admin\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len(),
                    )
                    .expect("send");
                    let mut answer = String::new();
                    tcp.read_to_string(&mut answer).expect("answer");
                })
            })
            .collect();
        for t in threads {
            t.join().expect("joined");
        }
        let report = sim.concurrency_report();
        assert_eq!(report.max_per_mailbox, 2, "{report:?}");
        assert_eq!(report.mailbox_overlaps.len(), 1);
        assert_eq!(report.mailbox_overlaps[0].mailbox, "user1@example.com");
        assert_eq!(report.peak_of("ADMIN@example.com"), 2);
    }

    #[test]
    fn a_request_through_a_closed_gate_is_a_violation_unless_it_was_in_transit() {
        let sim = Simulator::start(SimConfig::seed().with_gate_grace(Duration::from_millis(150)));
        sim.inject(
            None,
            Fault::ServerBusy {
                back_off_ms: 60_000,
            },
            1,
        );
        let mut a = connect(&sim);
        let mut b = connect(&sim);
        let (_, xml) = exchange(&sim, &mut a, "user1@example.com");
        assert!(xml.contains("ErrorServerBusy"), "{xml}");
        // Another mailbox on another connection at once: it may have been on its way.
        let _ = exchange(&sim, &mut b, "user2@example.com");
        let report = sim.concurrency_report();
        assert_eq!((report.in_transit, report.gate_violations.len()), (1, 0));
        // On the connection that carried the busy answer: a pooled client may have
        // decided on it before the refusal came (another thread read it).
        let _ = exchange(&sim, &mut a, "user3@example.com");
        // For the refused mailbox: sent after its answer, whatever the connection.
        let _ = exchange(&sim, &mut b, "user1@example.com");
        // After the grace, anything.
        std::thread::sleep(Duration::from_millis(200));
        let _ = exchange(&sim, &mut b, "user4@example.com");
        let report = sim.concurrency_report();
        let violations: Vec<&str> = report
            .gate_violations
            .iter()
            .map(|v| v.mailbox.as_str())
            .collect();
        assert_eq!(violations, ["user1@example.com", "user4@example.com"]);
        assert_eq!(report.in_transit, 2);
        assert!(report.gate_violations[1].early_by > Duration::from_secs(50));
        assert_eq!((report.gates_closed, report.busy), (1, 1));
        // Cleared: the gate is forgotten.
        sim.clear_concurrency_report();
        let _ = exchange(&sim, &mut b, "user4@example.com");
        assert!(sim.concurrency_report().gate_violations.is_empty());
    }

    #[test]
    fn every_nth_request_is_answered_busy() {
        let sim = Simulator::start(SimConfig::seed().with_busy_every(3, 25));
        let mut tcp = connect(&sim);
        let codes: Vec<bool> = (0..6)
            .map(|_| {
                let (head, xml) = exchange(&sim, &mut tcp, "user1@example.com");
                std::thread::sleep(Duration::from_millis(40));
                head.starts_with("HTTP/1.1 500") && xml.contains("BackOffMilliseconds\">25<")
            })
            .collect();
        assert_eq!(codes, [false, false, true, false, false, true]);
        let report = sim.concurrency_report();
        assert_eq!((report.busy, report.gates_closed), (2, 2));
        assert!(report.gate_violations.is_empty(), "{report:?}");
    }
}
