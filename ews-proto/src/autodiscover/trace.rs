//! The trace of a discovery (one typed record per step) and the error that ends one.

use std::fmt;
use std::time::Duration;

use crate::autodiscover::ErrorCode;
use crate::error::TransportErrorKind;
use crate::error::{Bounded, MalformedKind, UsageError};

/// What kind of step a [`TraceRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StepKind {
    /// A SOAP `GetUserSettings` request.
    Soap,
    /// A POX `autodiscover.xml` request.
    Pox,
    /// The unauthenticated `GET` of `http://autodiscover.{domain}/...`.
    Probe,
    /// The DNS SRV lookup of `_autodiscover._tcp.{domain}`.
    Srv,
    /// The caller's consent to a host or domain outside the trusted ones.
    Consent,
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepKind::Soap => "SOAP",
            StepKind::Pox => "POX",
            StepKind::Probe => "http probe",
            StepKind::Srv => "DNS SRV",
            StepKind::Consent => "consent",
        })
    }
}

/// What a step came to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The server answered with this HTTP status.
    Status(u16),
    /// A 2xx answer that could not be read.
    Malformed(MalformedKind),
    /// The request or its answer was lost on the way.
    Transport(TransportErrorKind),
    /// Not sent, for this reason.
    NotSent(&'static str),
    /// The SRV lookup found this many records (all ports).
    Records(usize),
    /// The SRV lookup failed (the resolver's text, bounded).
    ResolveFailed(String),
    /// The caller (or the allow list) said yes or no.
    Consent(bool),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Status(s) => write!(f, "HTTP {s}"),
            Outcome::Malformed(k) => write!(f, "HTTP 200, {k}"),
            Outcome::Transport(k) => write!(f, "{k}"),
            Outcome::NotSent(why) => write!(f, "not sent: {why}"),
            Outcome::Records(n) => write!(f, "{n} record(s)"),
            Outcome::ResolveFailed(e) => write!(f, "lookup failed: {e}"),
            Outcome::Consent(true) => f.write_str("allowed"),
            Outcome::Consent(false) => f.write_str("refused"),
        }
    }
}

/// The decision taken after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// On to the next candidate.
    NextCandidate,
    /// The same host's POX endpoint next.
    TryPox,
    /// The same request again after this delay (the retry policy's word).
    Retry(Duration),
    /// Follow the redirect to this URL (bounded).
    Follow(String),
    /// Start again with this address (bounded).
    Restart(String),
    /// Try the SRV targets (this many, port 443, in priority and weight order).
    TryTargets(usize),
    /// The settings are found: discovery is over.
    Done,
    /// Discovery ends here (the error says why).
    Stop,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::NextCandidate => f.write_str("next candidate"),
            Action::TryPox => f.write_str("try POX on the same host"),
            Action::Retry(d) => write!(f, "retry after {d:?}"),
            Action::Follow(url) => write!(f, "follow to {url}"),
            Action::Restart(a) => write!(f, "restart as {a}"),
            Action::TryTargets(n) => write!(f, "try {n} target(s)"),
            Action::Done => f.write_str("done"),
            Action::Stop => f.write_str("stop"),
        }
    }
}

/// One step of a discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TraceRecord {
    /// What the step was.
    pub kind: StepKind,
    /// The URL asked, the SRV name looked up, or the host consented to (bounded and
    /// escaped: it may come from a server). Never holds credentials: URLs with user info
    /// are refused.
    pub target: String,
    /// Whether the request carried the `Authorization` header.
    pub credentials: bool,
    /// What came of it.
    pub outcome: Outcome,
    /// The answer's `ErrorCode`, if it had one other than `NoError`.
    pub error_code: Option<ErrorCode>,
    /// What was decided next.
    pub action: Action,
}

/// Every step of a discovery, in order. `Display` prints a table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace(pub(crate) Vec<TraceRecord>);

impl Trace {
    /// The records, in order.
    pub fn records(&self) -> &[TraceRecord] {
        &self.0
    }

    pub(crate) fn push(&mut self, record: TraceRecord) {
        self.0.push(record);
    }
}

/// A table a person can act on: one row per step, with the URL, what came back, the
/// `ErrorCode` and the decision.
impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 6]> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, r)| {
                [
                    (i + 1).to_string(),
                    format!("{}{}", r.kind, if r.credentials { " (auth)" } else { "" }),
                    r.target.clone(),
                    r.outcome.to_string(),
                    r.error_code
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    r.action.to_string(),
                ]
            })
            .collect();
        let head = ["#", "step", "target", "result", "ErrorCode", "decision"];
        let mut widths = head.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 6]| {
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                if i + 1 == cells.len() {
                    writeln!(f, "{cell}")?;
                } else {
                    write!(f, "{cell:<w$}  ")?;
                }
            }
            Ok(())
        };
        line(f, head)?;
        for row in &rows {
            line(f, row.each_ref().map(String::as_str))?;
        }
        Ok(())
    }
}

/// `text` for the trace: bounded (to 200 bytes) and escaped.
pub(crate) fn shown(text: &str) -> String {
    Bounded::at_most(text, 200)
}

/// Why a discovery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Every candidate was tried; none gave the settings.
    Exhausted,
    /// A redirect led back to a URL (or address) already asked.
    RedirectLoop {
        /// The URL or address, bounded.
        to: String,
    },
    /// More redirects than allowed.
    TooManyRedirects {
        /// The limit.
        max: u32,
    },
    /// A redirect to a host or domain the policy does not trust, without consent.
    RedirectRefused {
        /// The host or domain, bounded.
        to: String,
    },
}

/// A failed discovery: why, and the trace of every step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// Why.
    pub reason: Reason,
    /// Every step taken.
    pub trace: Trace,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::Exhausted => {
                f.write_str("Autodiscover failed: no candidate returned the user's settings")?
            }
            Reason::RedirectLoop { to } => {
                write!(f, "Autodiscover failed: a redirect loop back to {to}")?;
            }
            Reason::TooManyRedirects { max } => {
                write!(f, "Autodiscover failed: more than {max} redirects")?;
            }
            Reason::RedirectRefused { to } => write!(
                f,
                "Autodiscover failed: a redirect to {to}, outside the trusted domains, was not allowed (allow it in the redirect policy if it is yours)"
            )?,
        }
        write!(f, "; the steps:\n{}", self.trace)
    }
}

/// Why a discovery ended without settings.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The caller's input cannot be used (an address without a domain, a URL that is
    /// not absolute `https`, the state machine driven out of order). Nothing was sent.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// Servers answered, and what they answered ended discovery (no settings anywhere,
    /// a redirect loop, too many or refused redirects).
    #[error("{0}")]
    Server(Box<Failure>),
    /// No server answered at all: every request was lost on the way (connect, TLS, I/O,
    /// timeout).
    #[error("{0}")]
    Transport(Box<Failure>),
    /// The application's bearer-token provider failed.
    #[error("the token provider failed: {0}")]
    TokenProvider(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// Discovery succeeded, but the client on the discovered URL could not be built (a
    /// URL the server sent that is not one, credentials over `http://`, ...).
    #[error("the discovered endpoint cannot be used: {0}")]
    Client(#[source] Box<crate::Error>),
}

impl DiscoveryError {
    /// The failure (reason and trace), for a `Server` or `Transport` error.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            DiscoveryError::Server(f) | DiscoveryError::Transport(f) => Some(f),
            _ => None,
        }
    }
}
