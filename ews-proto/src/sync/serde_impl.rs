//! Serialize and Deserialize (feature `serde`) for the desired state and the plan.
//!
//! Every value is checked on the way in, as the constructors check it: addresses parse,
//! levels are writable ones, a desired state names each delegate once, an Add or Remove
//! names at least one delegate, a plan's steps run Update, Add, Remove with each at most
//! once, and a plan with errors has no steps.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::soap::ResponseCode;
use crate::sync::desired::{Delivery, DesiredDelegate, DesiredState};
use crate::sync::observed::Fingerprint;
use crate::sync::plan::{Lint, Plan, PlanError, Removal, RemovalReason, Step, StepInner};
use crate::types::{
    DelegateFolder, DelegatePermissions, DeliverMeetingRequests, EmailAddress, Permission, Sid,
    UserId,
};

/// An [`EmailAddress`] as its text.
pub(crate) mod email {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &EmailAddress, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<EmailAddress, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIdRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    smtp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

impl From<&UserId> for UserIdRepr {
    fn from(u: &UserId) -> Self {
        UserIdRepr {
            smtp: u.primary_smtp_address().map(str::to_owned),
            sid: u.sid_str().map(str::to_owned),
        }
    }
}

impl TryFrom<UserIdRepr> for UserId {
    type Error = String;
    fn try_from(r: UserIdRepr) -> Result<Self, String> {
        let sid = r
            .sid
            .map(|s| s.parse::<Sid>().map_err(|e| e.to_string()))
            .transpose()?;
        match (r.smtp, sid) {
            (Some(smtp), sid) => {
                let user =
                    UserId::smtp(smtp.parse().map_err(|e: crate::UsageError| e.to_string())?);
                Ok(match sid {
                    Some(sid) => user.with_sid(sid),
                    None => user,
                })
            }
            (None, Some(sid)) => Ok(UserId::sid(sid)),
            (None, None) => Err("a user needs an smtp address or a sid".to_owned()),
        }
    }
}

/// A [`UserId`] as `{"smtp": .., "sid": ..}` (either or both).
pub(crate) mod user_id {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &UserId, s: S) -> Result<S::Ok, S::Error> {
        UserIdRepr::from(v).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UserId, D::Error> {
        UserId::try_from(UserIdRepr::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// An optional [`UserId`].
pub(crate) mod opt_user_id {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<UserId>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(UserIdRepr::from).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UserId>, D::Error> {
        Option::<UserIdRepr>::deserialize(d)?
            .map(UserId::try_from)
            .transpose()
            .map_err(D::Error::custom)
    }
}

/// A [`ResponseCode`] as its name.
pub(crate) mod code {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &ResponseCode, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ResponseCode, D::Error> {
        Ok(ResponseCode::from_wire(&String::deserialize(d)?))
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// The writable levels, by name.
#[derive(Clone, Copy, Serialize, Deserialize)]
enum Level {
    None,
    Reviewer,
    Author,
    Editor,
}

impl From<Permission> for Level {
    fn from(p: Permission) -> Self {
        match p {
            Permission::None => Level::None,
            Permission::Reviewer => Level::Reviewer,
            Permission::Author => Level::Author,
            Permission::Editor => Level::Editor,
        }
    }
}

impl From<Level> for Permission {
    fn from(l: Level) -> Self {
        match l {
            Level::None => Permission::None,
            Level::Reviewer => Permission::Reviewer,
            Level::Author => Permission::Author,
            Level::Editor => Permission::Editor,
        }
    }
}

/// The managed folders, in schema order; a folder left out is not managed.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionsRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tasks: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inbox: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contacts: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    journal: Option<Level>,
}

impl PermissionsRepr {
    fn slot(&mut self, folder: DelegateFolder) -> &mut Option<Level> {
        match folder {
            DelegateFolder::Calendar => &mut self.calendar,
            DelegateFolder::Tasks => &mut self.tasks,
            DelegateFolder::Inbox => &mut self.inbox,
            DelegateFolder::Contacts => &mut self.contacts,
            DelegateFolder::Notes => &mut self.notes,
            DelegateFolder::Journal => &mut self.journal,
        }
    }
}

impl From<&DelegatePermissions> for PermissionsRepr {
    fn from(p: &DelegatePermissions) -> Self {
        let mut r = PermissionsRepr::default();
        for folder in DelegateFolder::ALL {
            *r.slot(folder) = p.level(folder).map(Level::from);
        }
        r
    }
}

impl From<PermissionsRepr> for DelegatePermissions {
    fn from(mut r: PermissionsRepr) -> Self {
        let mut p = DelegatePermissions::new();
        for folder in DelegateFolder::ALL {
            if let Some(level) = *r.slot(folder) {
                p = p.set(folder, level.into());
            }
        }
        p
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesiredDelegateRepr {
    #[serde(with = "email")]
    user: EmailAddress,
    #[serde(default)]
    permissions: PermissionsRepr,
    #[serde(default)]
    receive_copies_of_meeting_messages: bool,
    #[serde(default)]
    view_private_items: bool,
}

/// `{"user": .., "permissions": {"calendar": "Editor", ..}, "receive_copies_of_meeting_messages": .., "view_private_items": ..}`.
impl Serialize for DesiredDelegate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DesiredDelegateRepr {
            user: self.user.clone(),
            permissions: (&self.permissions).into(),
            receive_copies_of_meeting_messages: self.receive_copies,
            view_private_items: self.view_private_items,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DesiredDelegate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = DesiredDelegateRepr::deserialize(d)?;
        Ok(DesiredDelegate {
            user: r.user,
            permissions: r.permissions.into(),
            receive_copies: r.receive_copies_of_meeting_messages,
            view_private_items: r.view_private_items,
        })
    }
}

/// The values a desired state can ask for.
#[derive(Serialize, Deserialize)]
enum DeliverName {
    DelegatesOnly,
    DelegatesAndMe,
    DelegatesAndSendInformationToMe,
    NoForward,
}

impl DeliverName {
    fn of(d: &DeliverMeetingRequests) -> Option<Self> {
        match d {
            DeliverMeetingRequests::DelegatesOnly => Some(DeliverName::DelegatesOnly),
            DeliverMeetingRequests::DelegatesAndMe => Some(DeliverName::DelegatesAndMe),
            DeliverMeetingRequests::DelegatesAndSendInformationToMe => {
                Some(DeliverName::DelegatesAndSendInformationToMe)
            }
            DeliverMeetingRequests::NoForward => Some(DeliverName::NoForward),
            DeliverMeetingRequests::Other(_) => None,
        }
    }

    fn value(self) -> DeliverMeetingRequests {
        match self {
            DeliverName::DelegatesOnly => DeliverMeetingRequests::DelegatesOnly,
            DeliverName::DelegatesAndMe => DeliverMeetingRequests::DelegatesAndMe,
            DeliverName::DelegatesAndSendInformationToMe => {
                DeliverMeetingRequests::DelegatesAndSendInformationToMe
            }
            DeliverName::NoForward => DeliverMeetingRequests::NoForward,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesiredStateRepr {
    #[serde(with = "email")]
    principal: EmailAddress,
    #[serde(default)]
    delegates: Vec<DesiredDelegate>,
    /// Absent: unmanaged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deliver_meeting_requests: Option<DeliverName>,
    #[serde(default)]
    prune: bool,
}

/// `{"principal": .., "delegates": [..], "deliver_meeting_requests": .. (absent:
/// unmanaged), "prune": ..}`; a delegate named twice is refused.
impl Serialize for DesiredState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let deliver = match &self.delivery {
            Delivery::Unmanaged => None,
            // Only a server makes `Other`; a desired state built by hand cannot hold it.
            Delivery::Managed(d) => Some(DeliverName::of(d).ok_or_else(|| {
                serde::ser::Error::custom(
                    "a desired DeliverMeetingRequests this crate does not know",
                )
            })?),
        };
        DesiredStateRepr {
            principal: self.principal.clone(),
            delegates: self.delegates.values().cloned().collect(),
            deliver_meeting_requests: deliver,
            prune: self.prune,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DesiredState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = DesiredStateRepr::deserialize(d)?;
        let mut state = DesiredState::new(r.principal).prune(r.prune);
        if let Some(deliver) = r.deliver_meeting_requests {
            state = state.deliver_meeting_requests(deliver.value());
        }
        for delegate in r.delegates {
            if state.delegates.contains_key(&delegate.key()) {
                return Err(D::Error::custom(format!(
                    "the delegate {} is named twice",
                    delegate.user
                )));
            }
            state = state.delegate(delegate);
        }
        Ok(state)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemovalRepr {
    #[serde(with = "user_id")]
    user: UserId,
    reason: RemovalReason,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", deny_unknown_fields)]
enum StepRepr {
    Update {
        delegates: Vec<DesiredDelegate>,
        deliver_meeting_requests: String,
    },
    Add {
        delegates: Vec<DesiredDelegate>,
        deliver_meeting_requests: String,
    },
    Remove {
        users: Vec<RemovalRepr>,
    },
}

/// `{"op": "Update" | "Add", "delegates": [..], "deliver_meeting_requests": ..}` or
/// `{"op": "Remove", "users": [{"user": .., "reason": ..}]}`.
impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            StepInner::Update { delegates, deliver } => StepRepr::Update {
                delegates: delegates.clone(),
                deliver_meeting_requests: deliver.as_str().to_owned(),
            },
            StepInner::Add { delegates, deliver } => StepRepr::Add {
                delegates: delegates.clone(),
                deliver_meeting_requests: deliver.as_str().to_owned(),
            },
            StepInner::Remove { users } => StepRepr::Remove {
                users: users
                    .iter()
                    .map(|r| RemovalRepr {
                        user: r.user.clone(),
                        reason: r.reason,
                    })
                    .collect(),
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A plan may carry a value the server invented (unmanaged delivery sends back what
        // was observed), so any text is taken, as the decoder takes it.
        let deliver = |s: String| DeliverMeetingRequests::from_wire(&s);
        Ok(Step(match StepRepr::deserialize(d)? {
            StepRepr::Update {
                delegates,
                deliver_meeting_requests,
            } => StepInner::Update {
                delegates,
                deliver: deliver(deliver_meeting_requests),
            },
            StepRepr::Add {
                delegates,
                deliver_meeting_requests,
            } => {
                if delegates.is_empty() {
                    return Err(D::Error::custom("an Add names at least one delegate"));
                }
                StepInner::Add {
                    delegates,
                    deliver: deliver(deliver_meeting_requests),
                }
            }
            StepRepr::Remove { users } => {
                if users.is_empty() {
                    return Err(D::Error::custom("a Remove names at least one delegate"));
                }
                StepInner::Remove {
                    users: users
                        .into_iter()
                        .map(|r| Removal {
                            user: r.user,
                            reason: r.reason,
                        })
                        .collect(),
                }
            }
        }))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRepr {
    #[serde(with = "email")]
    principal: EmailAddress,
    fingerprint: Fingerprint,
    steps: Vec<Step>,
    #[serde(default)]
    errors: Vec<PlanError>,
    #[serde(default)]
    lints: Vec<Lint>,
}

/// `{"principal", "fingerprint", "steps", "errors", "lints"}`.
impl Serialize for Plan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PlanRepr {
            principal: self.principal.clone(),
            fingerprint: self.fingerprint.clone(),
            steps: self.steps.clone(),
            errors: self.errors.clone(),
            lints: self.lints.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = PlanRepr::deserialize(d)?;
        if !r.errors.is_empty() && !r.steps.is_empty() {
            return Err(D::Error::custom("a plan with errors has no steps"));
        }
        let in_order = r.steps.windows(2).all(|w| w[0].kind() < w[1].kind());
        if !in_order {
            return Err(D::Error::custom(
                "a plan's steps run Update, Add, Remove, each at most once",
            ));
        }
        Ok(Plan {
            principal: r.principal,
            fingerprint: r.fingerprint,
            steps: r.steps,
            errors: r.errors,
            lints: r.lints,
        })
    }
}
