//! The journal of a sync run, for resume: append-only records, their JSON Lines (feature
//! `serde`), and the pure [`resume`] decision.
//!
//! A run appends, in order: a [`Record::Run`] header (the digest of the desired state), a
//! [`Record::Planned`] per principal planned (the observed fingerprint and the plan's
//! digest), a [`Record::Started`] before each write is sent and a [`Record::Finished`] with
//! its codes when its outcome is known, and a [`Record::Verified`] when a principal's
//! GetDelegate shows the desired state. Reads are not journaled.
//!
//! Resume never replays a write. A principal verified in the journal is skipped; every
//! other one is read again and planned from what the server shows now, so a write that
//! was started and never finished (the process died with it in flight) is judged by its
//! effect, never sent again as such. Losing the journal's tail therefore costs reads,
//! never a duplicate write.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::error::UsageError;
use crate::sync::desired::{Delivery, DesiredState};
use crate::sync::observed::{Fingerprint, user_key};
use crate::sync::plan::{Plan, StepKind};
use crate::types::{DelegateFolder, EmailAddress};

/// The journal format this crate writes and reads ([`Record::Run::format`]).
pub const JOURNAL_FORMAT: u32 = 1;

/// A SHA-256 as 64 lower-case hex digits: of a run's desired state
/// ([`desired_digest`]) or of a plan ([`plan_digest`]).
///
/// ```
/// use ews_proto::sync::Digest;
/// let d: Digest = "ab".repeat(32).parse()?;
/// assert_eq!(d.as_str().len(), 64);
/// assert!("AB".parse::<Digest>().is_err());
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn of(h: Sha256) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(64);
        for b in h.finalize() {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        Digest(hex)
    }
}

impl FromStr for Digest {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, UsageError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Digest(s.to_owned()))
        } else {
            Err(UsageError::invalid(
                "digest",
                "must be 64 lower-case hex digits",
            ))
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Length-prefixed fields, one line at a time, so that no two different lists hash alike.
struct Hasher(Sha256);

impl Hasher {
    fn new(tag: &str) -> Self {
        let mut h = Hasher(Sha256::new());
        h.line(&[tag]);
        h
    }

    fn line(&mut self, parts: &[&str]) {
        for p in parts {
            self.0.update((p.len() as u64).to_be_bytes());
            self.0.update(p.as_bytes());
        }
        self.0.update(b"\n");
    }
}

fn delegate_line(h: &mut Hasher, d: &crate::sync::DesiredDelegate) {
    let mut parts = vec![d.key()];
    for folder in DelegateFolder::ALL {
        parts.push(
            d.permissions
                .level(folder)
                .map_or_else(|| "-".to_owned(), |l| format!("{l:?}")),
        );
    }
    parts.push(d.receive_copies.to_string());
    parts.push(d.view_private_items.to_string());
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    h.line(&parts);
}

/// The digest of a run's desired states, as the [`Scheduler`](crate::sync::Scheduler)
/// keeps them: one per principal (compared case-insensitively, the last one wins), in any
/// order. Equal for the same states, different as soon as a delegate, a level, a flag, the
/// delivery or prune differs.
pub fn desired_digest<'a>(states: impl IntoIterator<Item = &'a DesiredState>) -> Digest {
    let by_principal: BTreeMap<String, &DesiredState> = states
        .into_iter()
        .map(|s| (s.principal.as_str().to_ascii_lowercase(), s))
        .collect();
    let mut h = Hasher::new("ews-sync-desired-v1");
    for (key, s) in by_principal {
        let delivery = match &s.delivery {
            Delivery::Unmanaged => "unmanaged",
            Delivery::Managed(d) => d.as_str(),
        };
        h.line(&["principal", &key, delivery, &s.prune.to_string()]);
        for d in s.delegates.values() {
            delegate_line(&mut h, d);
        }
    }
    Digest::of(h.0)
}

/// The digest of a plan: its principal, the fingerprint it was made from and its steps.
pub fn plan_digest(plan: &Plan) -> Digest {
    let mut h = Hasher::new("ews-sync-plan-v1");
    h.line(&[
        &plan.principal.as_str().to_ascii_lowercase(),
        plan.fingerprint.as_str(),
    ]);
    for step in &plan.steps {
        let deliver = step.deliver_meeting_requests().map_or("-", |d| d.as_str());
        h.line(&[step_name(step.kind()), deliver]);
        for d in step.delegates() {
            delegate_line(&mut h, d);
        }
        for r in step.removals() {
            let key = user_key(&r.user).unwrap_or_default();
            h.line(&["remove", &key, &format!("{:?}", r.reason)]);
        }
    }
    for e in &plan.errors {
        h.line(&["error", &e.to_string()]);
    }
    Digest::of(h.0)
}

fn step_name(kind: StepKind) -> &'static str {
    match kind {
        StepKind::Update => "UpdateDelegate",
        StepKind::Add => "AddDelegate",
        StepKind::Remove => "RemoveDelegate",
    }
}

/// One line of the journal.
///
/// As JSON (feature `serde`): an object with `"record"` naming the kind (`"run"`,
/// `"planned"`, `"started"`, `"finished"`, `"verified"`) and the fields below in snake
/// case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "record", rename_all = "snake_case", deny_unknown_fields)
)]
#[non_exhaustive]
pub enum Record {
    /// A run started, or resumed an earlier one: every later record until the next header
    /// is of this run.
    Run {
        /// [`JOURNAL_FORMAT`].
        format: u32,
        /// [`desired_digest`] of the run's desired states.
        desired: Digest,
        /// How many principals the run holds.
        principals: u64,
        /// Whether the run resumed a journal.
        #[cfg_attr(feature = "serde", serde(default))]
        resumed: bool,
    },
    /// A principal was planned from what its read showed.
    Planned {
        /// The principal.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        principal: EmailAddress,
        /// The fingerprint of what the read showed.
        fingerprint: Fingerprint,
        /// [`plan_digest`] of the plan.
        plan: Digest,
        /// How many writes it has.
        steps: u32,
    },
    /// A write is about to be sent.
    Started {
        /// The principal.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        principal: EmailAddress,
        /// Names the write within the run, for its [`Record::Finished`].
        seq: u64,
        /// `AddDelegate`, `UpdateDelegate` or `RemoveDelegate`.
        op: String,
    },
    /// A write's outcome.
    Finished {
        /// The principal.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        principal: EmailAddress,
        /// The [`Record::Started`] it ends.
        seq: u64,
        /// The response code of each per-delegate message (empty when the request as a
        /// whole failed).
        #[cfg_attr(feature = "serde", serde(default))]
        codes: Vec<String>,
        /// Why the request as a whole failed, if it did.
        #[cfg_attr(
            feature = "serde",
            serde(default, skip_serializing_if = "Option::is_none")
        )]
        error: Option<String>,
    },
    /// A principal's GetDelegate showed its desired state.
    Verified {
        /// The principal.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        principal: EmailAddress,
    },
}

impl Record {
    /// The principal a record is about (`None` for a header).
    pub fn principal(&self) -> Option<&EmailAddress> {
        match self {
            Record::Run { .. } => None,
            Record::Planned { principal, .. }
            | Record::Started { principal, .. }
            | Record::Finished { principal, .. }
            | Record::Verified { principal } => Some(principal),
        }
    }
}

/// Why a journal cannot be read or resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A line that is not a record, and not the torn last line of a run.
    #[error("journal line {line}: {reason}")]
    Line {
        /// The line's number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Records before the first run header.
    #[error("the journal does not start with a run header")]
    NoHeader,
    /// A header of a format this crate does not read.
    #[error("journal format {found} is not {JOURNAL_FORMAT}")]
    Format {
        /// The format found.
        found: u32,
    },
    /// The journal is of other desired states than the run's: resuming it could skip a
    /// principal whose desired state changed.
    #[error("the journal is of another desired state ({journal}) than this run's ({run})")]
    OtherDesiredState {
        /// The journal's digest.
        journal: Digest,
        /// The run's.
        run: Digest,
    },
}

/// A journal read back: its records, and how many torn lines (cut by a crash) were left
/// out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Journal {
    /// The records, in order.
    pub records: Vec<Record>,
    /// Lines left out as torn: the last line of the text when it has no line end, or a
    /// line just before a run header.
    pub torn: usize,
    /// Whether the text ends in the middle of a line: the next record written must start
    /// on a new line.
    pub open_line: bool,
}

#[cfg(feature = "serde")]
impl Record {
    /// The record as one JSON line, with its line end.
    pub fn to_line(&self) -> String {
        // Every field is a string, a number, a bool or a list of strings: serializing
        // cannot fail; the fallback keeps the signature total.
        let mut line = serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"));
        line.push('\n');
        line
    }

    /// The record one JSON line holds (without its line end; surrounding blanks are
    /// ignored).
    pub fn from_line(line: &str) -> Result<Record, String> {
        serde_json::from_str(line.trim()).map_err(|e| e.to_string())
    }
}

#[cfg(feature = "serde")]
impl Journal {
    /// Reads a journal's text. Blank lines are skipped. A line that is not a record is
    /// left out as torn when it is the last line and has no line end, or when the next
    /// line is a run header (a run that died mid-line, resumed since); any other is an
    /// error.
    ///
    /// ```
    /// use ews_proto::sync::{Journal, Record};
    /// let text = concat!(
    ///     r#"{"record":"run","format":1,"desired":""#, "0000000000000000000000000000000000000000000000000000000000000000", r#"","principals":2}"#, "\n",
    ///     r#"{"record":"verified","principal":"boss@example.com"}"#, "\n",
    ///     r#"{"record":"start"#, // torn by a crash
    /// );
    /// let journal = Journal::decode(text)?;
    /// assert_eq!(journal.records.len(), 2);
    /// assert!(matches!(&journal.records[1], Record::Verified { .. }));
    /// assert_eq!((journal.torn, journal.open_line), (1, true));
    /// # Ok::<(), ews_proto::sync::JournalError>(())
    /// ```
    pub fn decode(text: &str) -> Result<Journal, JournalError> {
        let open_line = !text.is_empty() && !text.ends_with('\n');
        let lines: Vec<(usize, &str)> = text
            .split('\n')
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l))
            .collect();
        let parsed: Vec<Result<Record, String>> =
            lines.iter().map(|(_, l)| Record::from_line(l)).collect();
        let mut journal = Journal {
            open_line,
            ..Journal::default()
        };
        for (i, result) in parsed.iter().enumerate() {
            match result {
                Ok(r) => journal.records.push(r.clone()),
                Err(reason) => {
                    let last = i + 1 == parsed.len();
                    let before_header = matches!(parsed.get(i + 1), Some(Ok(Record::Run { .. })));
                    if (last && open_line) || before_header {
                        journal.torn += 1;
                    } else {
                        return Err(JournalError::Line {
                            line: lines[i].0,
                            reason: reason.clone(),
                        });
                    }
                }
            }
        }
        Ok(journal)
    }
}

/// What the journal says of one principal, after its last record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrincipalJournal {
    /// Planned, no write started since.
    Planned,
    /// A write was started and its outcome never recorded: it may or may not have been
    /// applied.
    InDoubt {
        /// `AddDelegate`, `UpdateDelegate` or `RemoveDelegate`.
        op: String,
    },
    /// Its last write finished; not verified since.
    Written,
    /// Verified as desired.
    Verified,
}

/// What resume does with one principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResumeDecision {
    /// Verified by an earlier run: nothing is sent.
    Skip,
    /// Read again and planned from what the server shows now (a write in doubt is judged
    /// by its effect, never sent again as such).
    Reread,
}

/// What a journal says for resume ([`resume`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeState {
    desired: Option<Digest>,
    runs: u32,
    /// By lower-case address.
    principals: BTreeMap<String, (EmailAddress, PrincipalJournal)>,
}

impl ResumeState {
    /// The digest of the desired states the journal was written for (`None` for an empty
    /// journal).
    pub fn desired(&self) -> Option<&Digest> {
        self.desired.as_ref()
    }

    /// How many runs wrote the journal.
    pub fn runs(&self) -> u32 {
        self.runs
    }

    /// What the journal says of `principal` (compared case-insensitively), if anything.
    pub fn principal(&self, principal: &EmailAddress) -> Option<&PrincipalJournal> {
        self.principals
            .get(&principal.as_str().to_ascii_lowercase())
            .map(|(_, s)| s)
    }

    /// What resume does with `principal`: skip it if verified, else read it again.
    pub fn decision(&self, principal: &EmailAddress) -> ResumeDecision {
        match self.principal(principal) {
            Some(PrincipalJournal::Verified) => ResumeDecision::Skip,
            _ => ResumeDecision::Reread,
        }
    }

    /// The verified principals, sorted.
    pub fn verified(&self) -> impl Iterator<Item = &EmailAddress> {
        self.principals
            .values()
            .filter(|(_, s)| *s == PrincipalJournal::Verified)
            .map(|(p, _)| p)
    }

    /// The principals with a write in doubt, and which write, sorted.
    pub fn in_doubt(&self) -> impl Iterator<Item = (&EmailAddress, &str)> {
        self.principals.values().filter_map(|(p, s)| match s {
            PrincipalJournal::InDoubt { op } => Some((p, op.as_str())),
            _ => None,
        })
    }

    /// Refuses a run over other desired states than the journal's (an empty journal fits
    /// any run).
    pub fn check(&self, run: &Digest) -> Result<(), JournalError> {
        match &self.desired {
            Some(journal) if journal != run => Err(JournalError::OtherDesiredState {
                journal: journal.clone(),
                run: run.clone(),
            }),
            _ => Ok(()),
        }
    }
}

/// What `records` (a journal, oldest first) say for resume: per principal, its last state
/// ([`PrincipalJournal`]) and so the [`ResumeDecision`].
///
/// Every header must have the same desired digest and the journal's format; a `Finished`
/// ends only the `Started` of the same run with the same `seq`, so a write in doubt in one
/// run stays in doubt until that principal is verified or writes again.
///
/// ```
/// use ews_proto::sync::{resume, Journal, PrincipalJournal, ResumeDecision};
/// let zeros = "0".repeat(64);
/// let text = format!(concat!(
///     r#"{{"record":"run","format":1,"desired":"{z}","principals":2}}"#, "\n",
///     r#"{{"record":"verified","principal":"a@example.com"}}"#, "\n",
///     r#"{{"record":"started","principal":"b@example.com","seq":7,"op":"AddDelegate"}}"#, "\n",
/// ), z = zeros);
/// let state = resume(&Journal::decode(&text)?.records)?;
/// assert_eq!(state.decision(&"A@example.com".parse()?), ResumeDecision::Skip);
/// let b = "b@example.com".parse()?;
/// assert_eq!(state.decision(&b), ResumeDecision::Reread);
/// assert_eq!(state.principal(&b), Some(&PrincipalJournal::InDoubt { op: "AddDelegate".into() }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn resume(records: &[Record]) -> Result<ResumeState, JournalError> {
    let mut state = ResumeState::default();
    // The writes started and not finished in the current run: seq -> principal key.
    let mut open: BTreeMap<u64, String> = BTreeMap::new();
    // Principals whose write an earlier run left in doubt: only a verification clears it.
    let mut sticky: BTreeSet<String> = BTreeSet::new();
    for record in records {
        if let Record::Run {
            format, desired, ..
        } = record
        {
            if *format != JOURNAL_FORMAT {
                return Err(JournalError::Format { found: *format });
            }
            if let Some(first) = &state.desired {
                if first != desired {
                    return Err(JournalError::OtherDesiredState {
                        journal: first.clone(),
                        run: desired.clone(),
                    });
                }
            }
            state.desired = Some(desired.clone());
            state.runs += 1;
            sticky.extend(std::mem::take(&mut open).into_values());
            continue;
        }
        if state.desired.is_none() {
            return Err(JournalError::NoHeader);
        }
        let Some(principal) = record.principal() else {
            continue;
        };
        let key = principal.as_str().to_ascii_lowercase();
        let entry = state
            .principals
            .entry(key.clone())
            .or_insert_with(|| (principal.clone(), PrincipalJournal::Planned));
        let in_doubt = sticky.contains(&key) || open.values().any(|k| *k == key);
        match record {
            Record::Planned { .. } if !in_doubt => entry.1 = PrincipalJournal::Planned,
            Record::Started { seq, op, .. } => {
                open.insert(*seq, key);
                entry.1 = PrincipalJournal::InDoubt { op: op.clone() };
            }
            Record::Finished { seq, .. } if open.get(seq) == Some(&key) => {
                open.remove(seq);
                if !sticky.contains(&key) && !open.values().any(|k| *k == key) {
                    entry.1 = PrincipalJournal::Written;
                }
            }
            Record::Verified { .. } => {
                sticky.remove(&key);
                open.retain(|_, k| *k != key);
                entry.1 = PrincipalJournal::Verified;
            }
            // A plan after a write in doubt, or a finish of nothing this run started:
            // neither says what the write did.
            _ => {}
        }
    }
    Ok(state)
}
