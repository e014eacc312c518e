//! `plan(desired, observed)`: the fewest delegate writes that turn one into the other.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;

use crate::error::{ServerError, UsageError};
use crate::ops::{
    AddDelegate, DelegateResults, GetDelegate, Operation, RemoveDelegate, UpdateDelegate,
};
use crate::soap::{Reply, RequestContext, ResponseCode};
use crate::sync::desired::{Delivery, DesiredDelegate, DesiredState};
use crate::sync::observed::{Fingerprint, Observed, OrphanKind, user_key};
use crate::types::{
    Delegate, DelegateFolder, DeliverMeetingRequests, EmailAddress, Permission, PermissionLevel,
    UserId,
};

/// One of the four delegate operations, as the [`Scheduler`](crate::sync::Scheduler)
/// hands them out and [`Plan::operations`] returns them: the crate's real operation values,
/// run like any other (`Call::new(&op, &ctx)` in a driver).
///
/// Deliberately not `#[non_exhaustive]`: a driver runs every kind, so a new kind is a
/// breaking change the compiler points out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DelegateOp {
    /// A read: the principal's delegates, or whether named users resolve.
    Get(GetDelegate),
    /// Adds delegates.
    Add(AddDelegate),
    /// Updates delegates, or only `DeliverMeetingRequests`.
    Update(UpdateDelegate),
    /// Removes delegates.
    Remove(RemoveDelegate),
}

impl DelegateOp {
    /// The operation's name (`"GetDelegate"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            DelegateOp::Get(_) => GetDelegate::NAME,
            DelegateOp::Add(_) => AddDelegate::NAME,
            DelegateOp::Update(_) => UpdateDelegate::NAME,
            DelegateOp::Remove(_) => RemoveDelegate::NAME,
        }
    }

    /// Does the operation change the mailbox?
    pub fn is_write(&self) -> bool {
        !matches!(self, DelegateOp::Get(_))
    }

    /// [`Operation::encode`] of the operation inside.
    pub fn encode(&self, ctx: &RequestContext) -> Result<http::Request<Bytes>, UsageError> {
        match self {
            DelegateOp::Get(op) => op.encode(ctx),
            DelegateOp::Add(op) => op.encode(ctx),
            DelegateOp::Update(op) => op.encode(ctx),
            DelegateOp::Remove(op) => op.encode(ctx),
        }
    }

    /// [`Operation::decode`] of the operation inside.
    pub fn decode(
        &self,
        response: &http::Response<Bytes>,
    ) -> Result<Reply<DelegateResults>, ServerError> {
        match self {
            DelegateOp::Get(op) => op.decode(response),
            DelegateOp::Add(op) => op.decode(response),
            DelegateOp::Update(op) => op.decode(response),
            DelegateOp::Remove(op) => op.decode(response),
        }
    }
}

/// Which kind of write a [`Step`] is. Steps of a plan run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum StepKind {
    /// UpdateDelegate: delegates whose settings differ, and/or `DeliverMeetingRequests`.
    Update,
    /// AddDelegate: delegates missing.
    Add,
    /// RemoveDelegate: delegates not wanted (prune only) and orphans (prune only).
    Remove,
}

/// Why a delegate is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum RemovalReason {
    /// A healthy delegate the desired state does not name (under prune).
    NotDesired,
    /// An orphan (under prune).
    Orphan(OrphanKind),
}

/// A delegate a [`Step`] removes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub(crate) user: UserId,
    pub(crate) reason: RemovalReason,
}

impl Removal {
    /// The user, as the server reported it.
    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// Why.
    pub fn reason(&self) -> RemovalReason {
        self.reason
    }
}

/// One write of a [`Plan`]: at most one of each [`StepKind`] per principal.
///
/// An Update or Add always carries `DeliverMeetingRequests` (the desired value, or the
/// observed one when delivery is unmanaged), so that no write changes it by leaving it
/// out. An Add or Remove always names at least one delegate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step(pub(crate) StepInner);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepInner {
    Update {
        /// May be empty: then the step changes only the delivery.
        delegates: Vec<DesiredDelegate>,
        deliver: DeliverMeetingRequests,
    },
    Add {
        /// Never empty.
        delegates: Vec<DesiredDelegate>,
        deliver: DeliverMeetingRequests,
    },
    Remove {
        /// Never empty.
        users: Vec<Removal>,
    },
}

impl Step {
    /// Update, Add or Remove.
    pub fn kind(&self) -> StepKind {
        match &self.0 {
            StepInner::Update { .. } => StepKind::Update,
            StepInner::Add { .. } => StepKind::Add,
            StepInner::Remove { .. } => StepKind::Remove,
        }
    }

    /// The delegates an Update or Add writes (each with its managed folders and both
    /// flags), sorted by address; empty for a Remove and a delivery-only Update.
    pub fn delegates(&self) -> &[DesiredDelegate] {
        match &self.0 {
            StepInner::Update { delegates, .. } | StepInner::Add { delegates, .. } => delegates,
            StepInner::Remove { .. } => &[],
        }
    }

    /// The delegates a Remove takes away, sorted; empty for the others.
    pub fn removals(&self) -> &[Removal] {
        match &self.0 {
            StepInner::Remove { users } => users,
            _ => &[],
        }
    }

    /// The `DeliverMeetingRequests` an Update or Add sends (always `Some` for these two).
    pub fn deliver_meeting_requests(&self) -> Option<&DeliverMeetingRequests> {
        match &self.0 {
            StepInner::Update { deliver, .. } | StepInner::Add { deliver, .. } => Some(deliver),
            StepInner::Remove { .. } => None,
        }
    }

    /// The step as the crate's operation for `principal`.
    pub fn operation(&self, principal: &EmailAddress) -> DelegateOp {
        let p = principal.clone();
        match &self.0 {
            StepInner::Update { delegates, deliver } => match delegates.split_first() {
                None => DelegateOp::Update(UpdateDelegate::deliver_only(p, deliver.clone())),
                Some((first, rest)) => {
                    let op = rest
                        .iter()
                        .fold(UpdateDelegate::new(p, first.to_delegate_user()), |op, d| {
                            op.delegate(d.to_delegate_user())
                        });
                    DelegateOp::Update(op.deliver_meeting_requests(deliver.clone()))
                }
            },
            StepInner::Add { delegates, deliver } => match delegates.split_first() {
                Some((first, rest)) => {
                    let op = rest
                        .iter()
                        .fold(AddDelegate::new(p, first.to_delegate_user()), |op, d| {
                            op.delegate(d.to_delegate_user())
                        });
                    DelegateOp::Add(op.deliver_meeting_requests(deliver.clone()))
                }
                // Not reachable: `plan` and deserialization never build an empty Add. A
                // read is the harmless stand-in.
                None => DelegateOp::Get(GetDelegate::new(p)),
            },
            StepInner::Remove { users } => match users.split_first() {
                Some((first, rest)) => DelegateOp::Remove(
                    rest.iter()
                        .fold(RemoveDelegate::new(p, first.user.clone()), |op, r| {
                            op.user(r.user.clone())
                        }),
                ),
                // Not reachable, as above.
                None => DelegateOp::Get(GetDelegate::new(p)),
            },
        }
    }
}

/// Why a principal cannot be planned. A plan with an error has no steps: nothing is
/// written for that principal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "error", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum PlanError {
    /// A desired delegate the server cannot resolve (`ErrorDelegateNoUser`): never
    /// "solved" by removing anything.
    Unresolvable {
        /// The delegate.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        user: EmailAddress,
    },
    /// A desired delegate the server reports as `ErrorDelegateMissingConfiguration`: an
    /// UpdateDelegate cannot repair it; remove it (with prune, from a state that does not
    /// name it) and add it again.
    Misconfigured {
        /// The delegate.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        user: EmailAddress,
    },
    /// The principal named as its own delegate (`ErrorDelegateCannotAddOwner`).
    OwnerAsDelegate,
    /// Delivery is unmanaged and the server did not report `DeliverMeetingRequests`, so
    /// a write could not send the current value and might change it.
    DeliveryUnknown,
    /// The observation is of another principal.
    WrongPrincipal {
        /// The principal observed.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
        observed: EmailAddress,
    },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Unresolvable { user } => {
                write!(f, "the server cannot resolve the delegate {user}")
            }
            PlanError::Misconfigured { user } => write!(
                f,
                "the delegate {user} is misconfigured (ErrorDelegateMissingConfiguration)"
            ),
            PlanError::OwnerAsDelegate => f.write_str("the principal cannot be its own delegate"),
            PlanError::DeliveryUnknown => f.write_str(
                "DeliverMeetingRequests is unmanaged and was not reported: a write could change it",
            ),
            PlanError::WrongPrincipal { observed } => {
                write!(f, "the observation is of another principal ({observed})")
            }
        }
    }
}

impl std::error::Error for PlanError {}

/// Something Outlook dislikes, or that a plan leaves as it is: reported, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "lint", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Lint {
    /// After the plan, this delegate receives copies of meeting messages without Editor on
    /// the Calendar (Outlook needs Editor to let a delegate act on them).
    CopiesWithoutCalendarEditor {
        /// The delegate.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::user_id"))]
        user: UserId,
    },
    /// After the plan, meeting requests go to the delegates only, and no delegate receives
    /// copies of them: nobody sees them.
    DelegatesOnlyWithoutCopies,
    /// An orphan left in place because prune is off.
    OrphanKept {
        /// Why it is an orphan.
        kind: OrphanKind,
        /// Its user, if the server named one.
        #[cfg_attr(
            feature = "serde",
            serde(with = "crate::sync::serde_impl::opt_user_id")
        )]
        user: Option<UserId>,
    },
    /// An orphan prune would remove, but the server named no user to remove it by.
    OrphanWithoutId {
        /// Why it is an orphan.
        kind: OrphanKind,
    },
    /// An entry of the answer that is neither a delegate nor an orphan, left alone.
    UnreadableEntry {
        /// Its response code.
        #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::code"))]
        code: ResponseCode,
    },
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lint::CopiesWithoutCalendarEditor { user } => write!(
                f,
                "{} receives copies of meeting messages without Editor on the Calendar",
                who(Some(user))
            ),
            Lint::DelegatesOnlyWithoutCopies => f.write_str(
                "meeting requests go to the delegates only, and no delegate receives copies",
            ),
            Lint::OrphanKept { kind, user } => {
                write!(
                    f,
                    "orphan {} ({}) kept: prune is off",
                    who(user.as_ref()),
                    kind.as_str()
                )
            }
            Lint::OrphanWithoutId { kind } => {
                write!(f, "an orphan ({}) names no user to remove", kind.as_str())
            }
            Lint::UnreadableEntry { code } => write!(f, "an entry answered {code:?}, left alone"),
        }
    }
}

fn who(user: Option<&UserId>) -> String {
    user.and_then(user_key)
        .unwrap_or_else(|| "(no id)".to_owned())
}

/// One principal's plan: the steps (Update, Add, Remove, each at most once, in that
/// order), the errors that stop it (then there are no steps), the lints, and the
/// fingerprint of the observation it was made from.
///
/// Deterministic: the same desired state and observation (in any message order) give the
/// same plan, with delegates sorted by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub(crate) principal: EmailAddress,
    pub(crate) fingerprint: Fingerprint,
    pub(crate) steps: Vec<Step>,
    pub(crate) errors: Vec<PlanError>,
    pub(crate) lints: Vec<Lint>,
}

/// A saved plan was made from another state of the principal than the one observed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan for {principal} is stale: planned from {planned}, observed {observed}")]
#[non_exhaustive]
pub struct StalePlan {
    /// The principal.
    pub principal: EmailAddress,
    /// The plan's fingerprint.
    pub planned: Fingerprint,
    /// The fingerprint observed now.
    pub observed: Fingerprint,
}

impl Plan {
    /// The principal.
    pub fn principal(&self) -> &EmailAddress {
        &self.principal
    }

    /// The fingerprint of the observation the plan was made from.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// The steps, in the order they run.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Why the principal could not be planned (no steps then).
    pub fn errors(&self) -> &[PlanError] {
        &self.errors
    }

    /// The lints.
    pub fn lints(&self) -> &[Lint] {
        &self.lints
    }

    /// No step and no error: the principal is as desired.
    pub fn is_converged(&self) -> bool {
        self.steps.is_empty() && self.errors.is_empty()
    }

    /// The steps as operations, in order.
    pub fn operations(&self) -> Vec<DelegateOp> {
        self.steps
            .iter()
            .map(|s| s.operation(&self.principal))
            .collect()
    }

    /// Refuses the plan if `now` (a fresh observation) differs from the one it was made
    /// from.
    pub fn check_current(&self, now: &Observed) -> Result<(), StalePlan> {
        let observed = now.fingerprint();
        if observed == self.fingerprint {
            Ok(())
        } else {
            Err(StalePlan {
                principal: self.principal.clone(),
                planned: self.fingerprint.clone(),
                observed,
            })
        }
    }
}

/// The plan that turns `observed` into `desired`.
///
/// The rules:
/// * A desired delegate observed with different managed settings (a folder level the
///   state names, a flag) is updated with all its managed settings; one not observed is
///   added. Folders the state does not name are never written, so a `Custom` level there
///   is kept.
/// * A delegate not named is removed only under prune; so is an orphan (one without a
///   user id cannot be removed and is a lint). Without prune an orphan is a lint.
/// * A desired delegate the server cannot resolve (an orphan `ErrorDelegateNoUser` with
///   its address, or [`Observed::unresolvable`]) is an error, as is one reported
///   misconfigured; a plan with an error has no steps, so nothing is ever removed for it.
/// * Update, then Add, then Remove: a swap adds the new delegate before removing the old,
///   and never leaves the principal without delegates.
/// * Every Update and Add sends `DeliverMeetingRequests`: the managed value, or the
///   observed one when unmanaged. A managed value that differs is sent with the Update
///   (or the Add, when there is no Update), or as a delivery-only Update.
/// * Lints judge the state after the plan: a delegate who receives copies of meeting
///   messages without Editor on the Calendar, `DelegatesOnly` with nobody receiving copies.
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::{DelegateFolder, GetDelegate, Permission};
/// use ews_proto::ops::DecodeAnswer;
/// use ews_proto::sync::{plan, DelegateOp, DesiredDelegate, DesiredState, Observed, StepKind};
/// let answer = http::Response::new(Bytes::from_static(br#"<s:Envelope
///   xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:GetDelegateResponse ResponseClass="Success"
///       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
///     <m:ResponseCode>NoError</m:ResponseCode>
///     <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
///   </m:GetDelegateResponse></s:Body></s:Envelope>"#));
/// let boss: ews_proto::EmailAddress = "boss@example.com".parse()?;
/// let observed = Observed::new(boss.clone(), &GetDelegate::decode_answer(&answer)?.body);
/// let desired = DesiredState::new(boss)
///     .delegate(DesiredDelegate::new("assistant@example.com".parse()?)
///         .folder(DelegateFolder::Calendar, Permission::Editor));
/// let plan = plan(&desired, &observed);
/// assert_eq!(plan.steps().len(), 1);
/// assert_eq!(plan.steps()[0].kind(), StepKind::Add);
/// // Unmanaged delivery: the observed value is sent with the Add.
/// assert_eq!(plan.steps()[0].deliver_meeting_requests().map(|d| d.as_str()), Some("DelegatesAndMe"));
/// assert!(matches!(plan.operations()[0], DelegateOp::Add(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan(desired: &DesiredState, observed: &Observed) -> Plan {
    let mut errors = Vec::new();
    let mut lints = Vec::new();
    let principal_key = desired.principal.as_str().to_ascii_lowercase();
    if !observed
        .principal
        .as_str()
        .eq_ignore_ascii_case(desired.principal.as_str())
    {
        errors.push(PlanError::WrongPrincipal {
            observed: observed.principal.clone(),
        });
    }
    let have: BTreeMap<&str, &Delegate> = observed
        .delegates
        .iter()
        .map(|(k, d)| (k.as_str(), d))
        .collect();
    // Orphans that name a user, by key (the first report wins).
    let mut orphan_of: BTreeMap<String, OrphanKind> = BTreeMap::new();
    for o in &observed.orphans {
        if let Some(key) = o.user.as_ref().and_then(user_key) {
            orphan_of.entry(key).or_insert(o.kind);
        }
    }

    let mut updates = Vec::new();
    let mut adds = Vec::new();
    for (key, want) in &desired.delegates {
        if *key == principal_key {
            errors.push(PlanError::OwnerAsDelegate);
        } else if let Some(current) = have.get(key.as_str()) {
            if differs(want, current) {
                updates.push(want.clone());
            }
        } else if let Some(kind) = orphan_of.get(key) {
            let user = want.user.clone();
            errors.push(match kind {
                OrphanKind::NoUser => PlanError::Unresolvable { user },
                OrphanKind::MissingConfiguration => PlanError::Misconfigured { user },
            });
        } else if observed.unresolvable.contains(key) {
            errors.push(PlanError::Unresolvable {
                user: want.user.clone(),
            });
        } else {
            adds.push(want.clone());
        }
    }

    let mut removals: Vec<(String, Removal)> = Vec::new();
    if desired.prune {
        for (key, d) in &observed.delegates {
            if !desired.delegates.contains_key(key) {
                removals.push((
                    key.clone(),
                    Removal {
                        user: d.user_id.clone(),
                        reason: RemovalReason::NotDesired,
                    },
                ));
            }
        }
    }
    for o in &observed.orphans {
        let key = o.user.as_ref().and_then(user_key);
        match (&o.user, key) {
            // A desired user: already an error above.
            (_, Some(key)) if desired.delegates.contains_key(&key) => {}
            (Some(user), Some(key)) if desired.prune => removals.push((
                key,
                Removal {
                    user: user.clone(),
                    reason: RemovalReason::Orphan(o.kind),
                },
            )),
            _ if desired.prune => lints.push(Lint::OrphanWithoutId { kind: o.kind }),
            _ => lints.push(Lint::OrphanKept {
                kind: o.kind,
                user: o.user.clone(),
            }),
        }
    }
    removals.sort_by(|a, b| a.0.cmp(&b.0));
    removals.dedup_by(|later, first| later.0 == first.0);
    for code in &observed.unreadable {
        lints.push(Lint::UnreadableEntry { code: code.clone() });
    }

    let (deliver, deliver_changes) = match &desired.delivery {
        Delivery::Managed(want) => (Some(want.clone()), observed.deliver.as_ref() != Some(want)),
        Delivery::Unmanaged => (observed.deliver.clone(), false),
    };
    let mut steps = Vec::new();
    let writes_delivery = !updates.is_empty() || !adds.is_empty() || deliver_changes;
    match deliver {
        Some(deliver) if writes_delivery => {
            if !updates.is_empty() || (deliver_changes && adds.is_empty()) {
                steps.push(Step(StepInner::Update {
                    delegates: updates,
                    deliver: deliver.clone(),
                }));
            }
            if !adds.is_empty() {
                steps.push(Step(StepInner::Add {
                    delegates: adds,
                    deliver,
                }));
            }
        }
        None if writes_delivery => errors.push(PlanError::DeliveryUnknown),
        _ => {}
    }
    if !removals.is_empty() {
        steps.push(Step(StepInner::Remove {
            users: removals.into_iter().map(|(_, r)| r).collect(),
        }));
    }
    if !errors.is_empty() {
        steps.clear();
    }
    lints.extend(after_lints(observed, &steps));
    Plan {
        principal: desired.principal.clone(),
        fingerprint: observed.fingerprint(),
        steps,
        errors,
        lints,
    }
}

/// Does the observed delegate differ from the desired one in anything the state manages?
fn differs(want: &DesiredDelegate, have: &Delegate) -> bool {
    let level_differs = DelegateFolder::ALL.iter().any(|&folder| {
        want.permissions.level(folder).is_some_and(|level| {
            have.permissions.as_ref().and_then(|p| p.level(folder))
                != Some(&PermissionLevel::Set(level))
        })
    });
    level_differs
        || have.receive_copies_of_meeting_messages != Some(want.receive_copies)
        || have.view_private_items != Some(want.view_private_items)
}

/// The lints of the state the steps leave: per delegate (sorted), then the delivery.
fn after_lints(observed: &Observed, steps: &[Step]) -> Vec<Lint> {
    // key -> (who, Calendar level, receives copies)
    let mut after: BTreeMap<String, (UserId, Option<PermissionLevel>, Option<bool>)> = observed
        .delegates
        .iter()
        .map(|(k, d)| {
            let calendar = d
                .permissions
                .as_ref()
                .and_then(|p| p.level(DelegateFolder::Calendar))
                .cloned();
            (
                k.clone(),
                (
                    d.user_id.clone(),
                    calendar,
                    d.receive_copies_of_meeting_messages,
                ),
            )
        })
        .collect();
    let mut deliver = observed.deliver.clone();
    for step in steps {
        if let Some(d) = step.deliver_meeting_requests() {
            deliver = Some(d.clone());
        }
        for d in step.delegates() {
            let entry = after
                .entry(d.key())
                .or_insert_with(|| (UserId::smtp(d.user.clone()), None, None));
            if let Some(level) = d.permissions.level(DelegateFolder::Calendar) {
                entry.1 = Some(PermissionLevel::Set(level));
            }
            entry.2 = Some(d.receive_copies);
        }
        for r in step.removals() {
            if let Some(key) = user_key(&r.user) {
                after.remove(&key);
            }
        }
    }
    let mut lints = Vec::new();
    for (user, calendar, copies) in after.values() {
        if *copies == Some(true) && *calendar != Some(PermissionLevel::Set(Permission::Editor)) {
            lints.push(Lint::CopiesWithoutCalendarEditor { user: user.clone() });
        }
    }
    let nobody_copies = !after.values().any(|(_, _, copies)| *copies == Some(true));
    if deliver == Some(DeliverMeetingRequests::DelegatesOnly) && nobody_copies {
        lints.push(Lint::DelegatesOnlyWithoutCopies);
    }
    lints
}
