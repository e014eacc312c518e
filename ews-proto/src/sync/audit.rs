//! A read-only audit of many principals' delegates: each principal's delegates, orphans,
//! misconfigurations and lints, and the reverse index ("whose delegate is X?").

use std::collections::BTreeMap;

use crate::ops::DelegateResults;
use crate::sync::desired::DesiredState;
use crate::sync::observed::{Fingerprint, Observed, Orphan, OrphanKind, user_key};
use crate::sync::plan::{Lint, plan};
use crate::sync::scheduler::{Outcome, Report};
use crate::types::{DelegateFolder, EmailAddress, UserId};

/// One delegate as audited: who, the level on each folder the server reported (by folder:
/// `"calendar"`, `"tasks"`, `"inbox"`, `"contacts"`, `"notes"`, `"journal"`; `Custom`
/// included) and the two flags as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AuditedDelegate {
    /// The delegate.
    #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::user_id"))]
    pub user: UserId,
    /// Level by folder, for the folders reported.
    pub permissions: BTreeMap<String, String>,
    /// `ReceiveCopiesOfMeetingMessages`, if reported.
    pub receive_copies_of_meeting_messages: Option<bool>,
    /// `ViewPrivateItems`, if reported.
    pub view_private_items: Option<bool>,
}

/// An orphan or a misconfigured delegate as audited: the user the server named, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AuditedOrphan {
    /// The user, when the answer named one.
    #[cfg_attr(
        feature = "serde",
        serde(with = "crate::sync::serde_impl::opt_user_id")
    )]
    pub user: Option<UserId>,
}

/// One principal as audited.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PrincipalAudit {
    /// The principal.
    #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
    pub principal: EmailAddress,
    /// The healthy delegates, sorted by address (then SID).
    pub delegates: Vec<AuditedDelegate>,
    /// Delegates whose user is gone (`ErrorDelegateNoUser`).
    pub orphans: Vec<AuditedOrphan>,
    /// Delegates only half configured (`ErrorDelegateMissingConfiguration`).
    pub misconfigured: Vec<AuditedOrphan>,
    /// What Outlook dislikes in the state as it is (and the orphans and unreadable
    /// entries, as [`Lint`]s).
    pub lints: Vec<Lint>,
    /// `DeliverMeetingRequests`, if reported.
    pub deliver_meeting_requests: Option<String>,
    /// The fingerprint of what was read (a later sync can refuse a plan made from another
    /// state).
    pub fingerprint: Fingerprint,
}

/// Where one user is a delegate: the principal, and the user's Calendar level there (or
/// the orphan kind, when the entry is an orphan).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct DelegateOf {
    /// The principal.
    #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
    pub principal: EmailAddress,
    /// The Calendar level, if reported.
    pub calendar: Option<String>,
    /// Set when the entry is an orphan or misconfigured.
    pub orphan: Option<OrphanKind>,
}

/// A principal whose GetDelegate could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct AuditFailure {
    /// The principal.
    #[cfg_attr(feature = "serde", serde(with = "crate::sync::serde_impl::email"))]
    pub principal: EmailAddress,
    /// Why.
    pub reason: String,
}

/// The audit of many principals: each one's delegates, orphans, misconfigurations and
/// lints, the reverse index, and the principals that could not be read. Pure: built from
/// GetDelegate answers ([`Audit::from_answers`]), observations ([`Audit::new`]) or an
/// audit run's [`Report`] ([`Audit::from_report`]).
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::GetDelegate;
/// use ews_proto::ops::DecodeAnswer;
/// use ews_proto::sync::Audit;
/// let answer = |delegate: &str| http::Response::new(Bytes::from(format!(r#"<s:Envelope
///   xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:GetDelegateResponse ResponseClass="Success"
///       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
///       xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
///     <m:ResponseCode>NoError</m:ResponseCode>
///     <m:ResponseMessages>
///       <m:DelegateUserResponseMessageType ResponseClass="Success">
///         <m:ResponseCode>NoError</m:ResponseCode>
///         <m:DelegateUser><t:UserId><t:PrimarySmtpAddress>{delegate}</t:PrimarySmtpAddress></t:UserId></m:DelegateUser>
///       </m:DelegateUserResponseMessageType>
///     </m:ResponseMessages>
///     <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
///   </m:GetDelegateResponse></s:Body></s:Envelope>"#)));
/// let audit = Audit::from_answers([
///     ("boss@example.com".parse()?, GetDelegate::decode_answer(&answer("pa@example.com"))?.body),
///     ("cfo@example.com".parse()?, GetDelegate::decode_answer(&answer("PA@example.com"))?.body),
/// ]);
/// let whose: Vec<&str> = audit.delegate_of("pa@example.com").iter().map(|d| d.principal.as_str()).collect();
/// assert_eq!(whose, ["boss@example.com", "cfo@example.com"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Audit {
    /// Every principal read, sorted by address (case-insensitively).
    pub principals: Vec<PrincipalAudit>,
    /// By delegate (lower-case SMTP address, else `sid:` and the SID): where that user is
    /// a delegate, sorted by principal.
    pub delegate_of: BTreeMap<String, Vec<DelegateOf>>,
    /// The principals that could not be read, sorted.
    pub failed: Vec<AuditFailure>,
}

impl Audit {
    /// The audit of `observations` (one per principal; a later one for the same principal
    /// replaces an earlier one).
    pub fn new(observations: impl IntoIterator<Item = Observed>) -> Self {
        let by_principal: BTreeMap<String, Observed> = observations
            .into_iter()
            .map(|o| (o.principal.as_str().to_ascii_lowercase(), o))
            .collect();
        let mut audit = Audit::default();
        for observed in by_principal.into_values() {
            audit.add(&observed);
        }
        for entries in audit.delegate_of.values_mut() {
            entries.sort_by_key(|e| e.principal.as_str().to_ascii_lowercase());
        }
        audit
    }

    /// The audit of GetDelegate answers (with permissions), one per principal.
    pub fn from_answers(
        answers: impl IntoIterator<Item = (EmailAddress, DelegateResults)>,
    ) -> Self {
        Self::new(
            answers
                .into_iter()
                .map(|(principal, results)| Observed::new(principal, &results)),
        )
    }

    /// The audit of a run made by [`Scheduler::audit`](crate::sync::Scheduler::audit):
    /// every principal read, and those whose read failed.
    pub fn from_report(report: &Report) -> Self {
        let mut audit = Self::new(report.principals.iter().filter_map(|p| p.observed.clone()));
        audit.failed = report
            .principals
            .iter()
            .filter(|p| p.observed.is_none())
            .map(|p| AuditFailure {
                principal: p.principal.clone(),
                reason: match &p.outcome {
                    Outcome::Failed(f) => f.to_string(),
                    _ => "not read".to_owned(),
                },
            })
            .collect();
        audit
    }

    /// The audit of `principal` (compared case-insensitively).
    pub fn principal(&self, principal: &EmailAddress) -> Option<&PrincipalAudit> {
        self.principals.iter().find(|p| {
            p.principal
                .as_str()
                .eq_ignore_ascii_case(principal.as_str())
        })
    }

    /// Where `user` (an SMTP address, compared case-insensitively, or `sid:` and a SID) is
    /// a delegate.
    pub fn delegate_of(&self, user: &str) -> &[DelegateOf] {
        self.delegate_of
            .get(&user.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    fn add(&mut self, observed: &Observed) {
        let principal = observed.principal.clone();
        // A desired state that asks for nothing: its plan writes nothing, and its lints
        // judge the state as it is.
        let judged = plan(&DesiredState::new(principal.clone()), observed);
        let (lints, fingerprint) = (judged.lints, judged.fingerprint);
        let mut delegates = Vec::new();
        for (key, d) in &observed.delegates {
            let mut permissions = BTreeMap::new();
            let mut calendar = None;
            if let Some(granted) = &d.permissions {
                for folder in DelegateFolder::ALL {
                    if let Some(level) = granted.level(folder) {
                        if folder == DelegateFolder::Calendar {
                            calendar = Some(level.to_string());
                        }
                        permissions.insert(folder_name(folder).to_owned(), level.to_string());
                    }
                }
            }
            self.delegate_of
                .entry(key.clone())
                .or_default()
                .push(DelegateOf {
                    principal: principal.clone(),
                    calendar,
                    orphan: None,
                });
            delegates.push(AuditedDelegate {
                user: d.user_id.clone(),
                permissions,
                receive_copies_of_meeting_messages: d.receive_copies_of_meeting_messages,
                view_private_items: d.view_private_items,
            });
        }
        let mut orphans = Vec::new();
        let mut misconfigured = Vec::new();
        for Orphan { kind, user } in &observed.orphans {
            if let Some(key) = user.as_ref().and_then(user_key) {
                self.delegate_of.entry(key).or_default().push(DelegateOf {
                    principal: principal.clone(),
                    calendar: None,
                    orphan: Some(*kind),
                });
            }
            let entry = AuditedOrphan { user: user.clone() };
            match kind {
                OrphanKind::MissingConfiguration => misconfigured.push(entry),
                _ => orphans.push(entry),
            }
        }
        self.principals.push(PrincipalAudit {
            principal,
            delegates,
            orphans,
            misconfigured,
            lints,
            deliver_meeting_requests: observed.deliver.as_ref().map(|d| d.as_str().to_owned()),
            fingerprint,
        });
    }
}

fn folder_name(folder: DelegateFolder) -> &'static str {
    match folder {
        DelegateFolder::Calendar => "calendar",
        DelegateFolder::Tasks => "tasks",
        DelegateFolder::Inbox => "inbox",
        DelegateFolder::Contacts => "contacts",
        DelegateFolder::Notes => "notes",
        DelegateFolder::Journal => "journal",
    }
}
