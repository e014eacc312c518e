//! What a GetDelegate showed of one principal, sorted, with its fingerprint.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::UsageError;
use crate::ops::DelegateResults;
use crate::soap::ResponseCode;
use crate::types::{
    Delegate, DelegateFolder, DeliverMeetingRequests, EmailAddress, PermissionLevel, UserId,
};

/// Why a delegate entry is an orphan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum OrphanKind {
    /// `ErrorDelegateNoUser`: the delegate's user no longer exists (a deleted account).
    NoUser,
    /// `ErrorDelegateMissingConfiguration`: the delegate is only half configured (for
    /// example listed without its folder permissions).
    MissingConfiguration,
}

impl OrphanKind {
    fn of(code: &ResponseCode) -> Option<Self> {
        match code {
            ResponseCode::ErrorDelegateNoUser => Some(OrphanKind::NoUser),
            ResponseCode::ErrorDelegateMissingConfiguration => {
                Some(OrphanKind::MissingConfiguration)
            }
            _ => None,
        }
    }

    /// The response code it comes from (`ErrorDelegateNoUser`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OrphanKind::NoUser => "ErrorDelegateNoUser",
            OrphanKind::MissingConfiguration => "ErrorDelegateMissingConfiguration",
        }
    }
}

/// A delegate entry the server reported with `ErrorDelegateNoUser` or
/// `ErrorDelegateMissingConfiguration`, and the user id it carried, if any (without one it
/// cannot be addressed by RemoveDelegate).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Orphan {
    /// Which of the two.
    pub kind: OrphanKind,
    /// The user, when the answer named one by SMTP address or SID.
    pub user: Option<UserId>,
}

/// One principal as a GetDelegate answer showed it, in a stable order: the healthy
/// delegates (by SMTP address, else SID), the orphans, the entries that could not be read,
/// `DeliverMeetingRequests`, and the desired users the server said it cannot resolve.
///
/// The last is how the observed side tells a user the server cannot resolve: a
/// GetDelegate that names the user (or an AddDelegate of it) answers
/// `ErrorDelegateNoUser`. The [`Scheduler`](crate::sync::Scheduler) asks before adding;
/// a caller planning by hand says so with [`Observed::unresolvable`].
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::GetDelegate;
/// use ews_proto::ops::DecodeAnswer;
/// use ews_proto::sync::{Observed, OrphanKind};
/// let answer = http::Response::new(Bytes::from_static(br#"<s:Envelope
///   xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:GetDelegateResponse ResponseClass="Success"
///       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
///       xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
///     <m:ResponseCode>NoError</m:ResponseCode>
///     <m:ResponseMessages>
///       <m:DelegateUserResponseMessageType ResponseClass="Success">
///         <m:ResponseCode>NoError</m:ResponseCode>
///         <m:DelegateUser>
///           <t:UserId><t:PrimarySmtpAddress>Assistant@example.com</t:PrimarySmtpAddress></t:UserId>
///         </m:DelegateUser>
///       </m:DelegateUserResponseMessageType>
///       <m:DelegateUserResponseMessageType ResponseClass="Error">
///         <m:MessageText>The delegate does not map to a user in the Active Directory.</m:MessageText>
///         <m:ResponseCode>ErrorDelegateNoUser</m:ResponseCode>
///       </m:DelegateUserResponseMessageType>
///     </m:ResponseMessages>
///     <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
///   </m:GetDelegateResponse></s:Body></s:Envelope>"#));
/// let results = GetDelegate::decode_answer(&answer)?.body;
/// let observed = Observed::new("boss@example.com".parse()?, &results)
///     .unresolvable(&"gone@example.com".parse()?);
/// assert_eq!(observed.delegates().count(), 1);
/// assert_eq!(observed.orphans()[0].kind, OrphanKind::NoUser);
/// assert_eq!(observed.fingerprint().as_str().len(), 64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub(crate) principal: EmailAddress,
    /// Sorted by [`delegate_key`], one per key.
    pub(crate) delegates: Vec<(String, Delegate)>,
    /// Sorted by kind, then key (`None` first).
    pub(crate) orphans: Vec<Orphan>,
    /// The codes of entries that are neither delegates nor orphans, sorted.
    pub(crate) unreadable: Vec<ResponseCode>,
    pub(crate) deliver: Option<DeliverMeetingRequests>,
    /// Lower-case addresses.
    pub(crate) unresolvable: BTreeSet<String>,
    /// [`Observed::fingerprint`], once computed (a run asks for it several times per
    /// principal: the plan, the stale-plan check, the audit). Every change of the fields
    /// above goes through a method that clears it.
    fingerprint: Memo,
}

/// A computed fingerprint, left out of equality (two observations that hold the same are
/// equal whether or not one has been fingerprinted) and of `Debug`.
#[derive(Clone, Default)]
struct Memo(std::sync::OnceLock<Fingerprint>);

impl PartialEq for Memo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Memo {}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

impl Observed {
    /// What `results` (a GetDelegate answer for `principal`, with permissions) shows.
    ///
    /// Each message is a healthy delegate (Success or Warning with a delegate that has an
    /// SMTP address or SID), an [`Orphan`] (`ErrorDelegateNoUser`,
    /// `ErrorDelegateMissingConfiguration`, whatever the class), or an unreadable entry
    /// (any other error, or a delegate with neither an address nor a SID), which a plan
    /// never touches.
    pub fn new(principal: EmailAddress, results: &DelegateResults) -> Self {
        let mut delegates: Vec<(String, Delegate)> = Vec::new();
        let mut orphans = Vec::new();
        let mut unreadable = Vec::new();
        for m in &results.messages {
            if let Some(kind) = OrphanKind::of(&m.status.code) {
                let user = m
                    .value
                    .as_ref()
                    .map(|d| d.user_id.clone())
                    .filter(|u| user_key(u).is_some());
                orphans.push(Orphan { kind, user });
                continue;
            }
            match m.as_result() {
                Ok(Some(d)) => match user_key(&d.user_id) {
                    Some(key) => delegates.push((key, d.clone())),
                    None => unreadable.push(m.status.code.clone()),
                },
                Ok(None) => {}
                Err(status) => unreadable.push(status.code.clone()),
            }
        }
        // Stable: the first report of a user wins.
        delegates.sort_by(|a, b| a.0.cmp(&b.0));
        delegates.dedup_by(|later, first| later.0 == first.0);
        orphans.sort_by_key(|o| (o.kind, o.user.as_ref().and_then(user_key)));
        unreadable.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Self {
            principal,
            delegates,
            orphans,
            unreadable,
            deliver: results.deliver_meeting_requests.clone(),
            unresolvable: BTreeSet::new(),
            fingerprint: Memo::default(),
        }
    }

    /// Records that the server cannot resolve `user` (it answered `ErrorDelegateNoUser` to
    /// a GetDelegate or AddDelegate naming it). A plan that would add the user is an error.
    pub fn unresolvable(mut self, user: &EmailAddress) -> Self {
        self.unresolvable.insert(user.as_str().to_ascii_lowercase());
        self.fingerprint = Memo::default();
        self
    }

    /// The principal.
    pub fn principal(&self) -> &EmailAddress {
        &self.principal
    }

    /// The healthy delegates, sorted by SMTP address (lower case), then SID.
    pub fn delegates(&self) -> impl Iterator<Item = &Delegate> {
        self.delegates.iter().map(|(_, d)| d)
    }

    /// The orphans.
    pub fn orphans(&self) -> &[Orphan] {
        &self.orphans
    }

    /// The codes of entries that were neither delegates nor orphans.
    pub fn unreadable(&self) -> &[ResponseCode] {
        &self.unreadable
    }

    /// `DeliverMeetingRequests`, if the server reported it.
    pub fn deliver_meeting_requests(&self) -> Option<&DeliverMeetingRequests> {
        self.deliver.as_ref()
    }

    /// A stable hash of everything observed (order-independent: the entries are sorted
    /// first): equal for two observations that hold the same, different as soon as a
    /// level, a flag, an entry or the delivery differs.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
            .0
            .get_or_init(|| self.compute_fingerprint())
            .clone()
    }

    fn compute_fingerprint(&self) -> Fingerprint {
        let mut h = Sha256::new();
        let mut line = |parts: &[&str]| {
            for p in parts {
                // Length-prefixed, so that no two different lists hash alike.
                h.update((p.len() as u64).to_be_bytes());
                h.update(p.as_bytes());
            }
            h.update(b"\n");
        };
        line(&["ews-sync-observed-v1", self.principal.as_str()]);
        let deliver = self
            .deliver
            .as_ref()
            .map_or("-", DeliverMeetingRequests::as_str);
        line(&["deliver", deliver]);
        for (key, d) in &self.delegates {
            // One line: "delegate", the key, the six folders' levels, the two flags
            // (borrowed, not formatted: this runs for every answer of a run).
            let mut parts: [&str; 10] = ["-"; 10];
            parts[0] = "delegate";
            parts[1] = key;
            for (i, folder) in DelegateFolder::ALL.into_iter().enumerate() {
                let level = d.permissions.as_ref().and_then(|p| p.level(folder));
                parts[2 + i] = level.map_or("-", PermissionLevel::as_str);
            }
            parts[8] = flag(d.receive_copies_of_meeting_messages);
            parts[9] = flag(d.view_private_items);
            line(&parts);
        }
        for o in &self.orphans {
            let key = o.user.as_ref().and_then(user_key);
            line(&["orphan", o.kind.as_str(), key.as_deref().unwrap_or("-")]);
        }
        for code in &self.unreadable {
            line(&["unreadable", code.as_str()]);
        }
        for user in &self.unresolvable {
            line(&["unresolvable", user]);
        }
        let digest = h.finalize();
        let mut hex = String::with_capacity(64);
        for b in digest {
            hex.push(HEX[usize::from(b >> 4)]);
            hex.push(HEX[usize::from(b & 0xf)]);
        }
        Fingerprint(hex)
    }
}

const HEX: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f',
];

fn flag(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "true",
        Some(false) => "false",
        None => "-",
    }
}

/// How an observed user is matched: its SMTP address in lower case, else `sid:` and its
/// SID in lower case; `None` for a user with neither (it cannot be addressed).
pub(crate) fn user_key(user: &UserId) -> Option<String> {
    if let Some(smtp) = user.primary_smtp_address() {
        return Some(smtp.to_ascii_lowercase());
    }
    user.sid_str()
        .map(|sid| format!("sid:{}", sid.to_ascii_lowercase()))
}

/// A SHA-256 of an [`Observed`], as 64 lower-case hex digits: what a saved plan keeps of
/// the state it was made from, so that a later run can refuse it when the principal has
/// changed since ([`Plan::check_current`](crate::sync::Plan::check_current)).
///
/// ```
/// use ews_proto::sync::Fingerprint;
/// let f: Fingerprint = "00".repeat(32).parse()?;
/// assert_eq!(f.to_string(), "00".repeat(32));
/// assert!("xyz".parse::<Fingerprint>().is_err());
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The 64 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Fingerprint {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, UsageError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Fingerprint(s.to_owned()))
        } else {
            Err(UsageError::invalid(
                "fingerprint",
                "must be 64 lower-case hex digits",
            ))
        }
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
