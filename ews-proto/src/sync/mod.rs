//! Delegates at scale: a desired state per principal, a pure plan of the fewest writes,
//! and a Sans-IO scheduler that applies plans over many mailboxes within the server's
//! throttling.
//!
//! * [`DesiredState`]: what one principal's delegates should be ([`DesiredDelegate`]s
//!   with writable levels, the two flags, [`Delivery`], prune).
//! * [`Observed`]: what a GetDelegate showed, with orphans and unresolvable users made
//!   explicit, and its [`Fingerprint`].
//! * [`plan`]`(desired, observed)` → [`Plan`]: at most one Update, one Add and one Remove
//!   ([`Step`]s, turned into the crate's operations by [`Plan::operations`]), the
//!   [`PlanError`]s that stop a principal and the [`Lint`]s Outlook would complain about.
//! * [`Scheduler`]: reads, plans, writes and verifies many principals; says what to send
//!   ([`Action`]) and takes outcomes back, time passed in.
//! * [`SyncRun`]: a scheduler and its [`Journal`] of [`Record`]s, the loop a driver runs;
//!   [`resume`] says what a journal lets a later run skip ([`ResumeState`]).
//! * [`Audit`]: a read-only run's observations as every principal's delegates, orphans,
//!   misconfigurations and lints, and the reverse index ([`Audit::delegate_of`]).
//!
//! With the `serde` feature, the desired state and the plan (with the types in them)
//! implement `Serialize` and `Deserialize`, checked on the way in; journal records are
//! read and written as JSON Lines, and an [`Audit`] serializes.

mod audit;
mod desired;
mod journal;
mod observed;
mod plan;
mod run;
mod scheduler;
#[cfg(feature = "serde")]
mod serde_impl;

pub use audit::{Audit, AuditFailure, AuditedDelegate, AuditedOrphan, DelegateOf, PrincipalAudit};
pub use desired::{Delivery, DesiredDelegate, DesiredState};
pub use journal::{
    Digest, JOURNAL_FORMAT, Journal, JournalError, PrincipalJournal, Record, ResumeDecision,
    ResumeState, desired_digest, plan_digest, resume,
};
pub use observed::{Fingerprint, Observed, Orphan, OrphanKind};
pub use plan::{
    DelegateOp, Lint, Plan, PlanError, Removal, RemovalReason, StalePlan, Step, StepKind, plan,
};
pub use run::{SyncError, SyncRun};
pub use scheduler::{
    Action, ConfigLint, EWS_MAX_CONCURRENCY, Event, Failure, FailureKind, Outcome, PrincipalReport,
    Report, RequestKind, Scheduler, SchedulerConfig, Token,
};
