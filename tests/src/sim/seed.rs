//! Seeding: users, delegates, meeting settings and items, from a JSON document (the
//! `ews-sim --seed` file and the control endpoint's `POST /_sim/seed`).
//!
//! ```json
//! {
//!   "users": [{"smtp": "ann@example.com", "password": "pw", "display_name": "Ann",
//!              "token": "token-ann", "sid": "S-1-5-21-1-2-3-1001", "impersonator": false}],
//!   "delegates": [{"principal": "ann@example.com", "delegate": "bob@example.com",
//!                  "permissions": {"calendar": "Editor", "inbox": "Reviewer"},
//!                  "receive_copies_of_meeting_messages": true, "view_private_items": false}],
//!   "deliver_meeting_requests": {"ann@example.com": "DelegatesAndMe"},
//!   "items": [{"owner": "bob@example.com", "kind": "Message", "folder": "inbox",
//!              "subject": "Hello", "from": "ann@example.com", "to": ["bob@example.com"],
//!              "received": "2025-03-01T09:00:00Z", "is_read": false}]
//! }
//! ```
//!
//! Every member is optional. Unknown members are refused (a typo must not be ignored).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SimUser;
use super::schema::DELIVER_MEETING_REQUESTS;
use super::state::{Address, DelegateSnapshot, ItemKind, ItemSnapshot, PermissionLevel, State};

/// What to put into the simulator: see the module documentation for the JSON shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Accounts to add (or to update, matched by SMTP address).
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// Delegates to set up (an existing entry for the same pair is replaced).
    #[serde(default)]
    pub delegates: Vec<SeedDelegate>,
    /// DeliverMeetingRequests per principal (SMTP address to the schema value).
    #[serde(default)]
    pub deliver_meeting_requests: BTreeMap<String, String>,
    /// Items to store.
    #[serde(default)]
    pub items: Vec<SeedItem>,
}

/// One account of a seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// Primary SMTP address (also the Basic user name).
    pub smtp: String,
    /// Basic password.
    pub password: String,
    /// Display name (default: the local part of the address).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Bearer token (default: none).
    #[serde(default)]
    pub token: Option<String>,
    /// SID (default: one made from the address).
    #[serde(default)]
    pub sid: Option<String>,
    /// Holds the ApplicationImpersonation right.
    #[serde(default)]
    pub impersonator: bool,
}

impl SeedUser {
    /// The account this entry describes.
    pub fn to_user(&self) -> SimUser {
        let smtp = self.smtp.trim().to_string();
        let local = smtp.split('@').next().unwrap_or(&smtp).to_string();
        SimUser {
            display_name: self.display_name.clone().unwrap_or(local),
            sid: self.sid.clone().unwrap_or_else(|| sid_for(&smtp)),
            password: self.password.clone(),
            token: self.token.clone(),
            smtp,
        }
    }
}

/// A stable, made-up SID for an address: the same address always gets the same SID.
fn sid_for(smtp: &str) -> String {
    // FNV-1a over the lower-case address; any stable spread will do.
    let mut h: u32 = 0x811c_9dc5;
    for b in smtp.to_ascii_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!(
        "S-1-5-21-1111111111-2222222222-333333333-{}",
        10_000 + (h % 1_000_000)
    )
}

/// Folder permission levels of a seeded delegate (schema values; absent means `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPermissions {
    /// Calendar.
    #[serde(default)]
    pub calendar: Option<String>,
    /// Tasks.
    #[serde(default)]
    pub tasks: Option<String>,
    /// Inbox.
    #[serde(default)]
    pub inbox: Option<String>,
    /// Contacts.
    #[serde(default)]
    pub contacts: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Journal.
    #[serde(default)]
    pub journal: Option<String>,
}

/// One delegate of a seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDelegate {
    /// The mailbox owner.
    pub principal: String,
    /// The delegate.
    pub delegate: String,
    /// Folder permissions.
    #[serde(default)]
    pub permissions: SeedPermissions,
    /// ReceiveCopiesOfMeetingMessages.
    #[serde(default)]
    pub receive_copies_of_meeting_messages: bool,
    /// ViewPrivateItems.
    #[serde(default)]
    pub view_private_items: bool,
}

/// One item of a seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeedItem {
    /// The mailbox that holds it.
    pub owner: String,
    /// `Message` (default) or `CalendarItem`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Distinguished folder name (default: `inbox` for a message, `calendar` for a
    /// calendar item).
    #[serde(default)]
    pub folder: Option<String>,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Text body.
    #[serde(default)]
    pub body: Option<String>,
    /// From (SMTP address; default: the owner).
    #[serde(default)]
    pub from: Option<String>,
    /// Sender (default: `from`).
    #[serde(default)]
    pub sender: Option<String>,
    /// ToRecipients.
    #[serde(default)]
    pub to: Vec<String>,
    /// CcRecipients.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Creation and receipt time (xs:dateTime; default: the simulator clock).
    #[serde(default)]
    pub received: Option<String>,
    /// IsRead.
    #[serde(default)]
    pub is_read: bool,
    /// Sensitivity (`Normal`, `Personal`, `Private`, `Confidential`).
    #[serde(default)]
    pub sensitivity: Option<String>,
    /// Importance (`Low`, `Normal`, `High`).
    #[serde(default)]
    pub importance: Option<String>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Calendar items: Start.
    #[serde(default)]
    pub start: Option<String>,
    /// Calendar items: End.
    #[serde(default)]
    pub end: Option<String>,
    /// Calendar items: Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Calendar items: required attendees (a meeting organized by the owner; no invitation
    /// is sent for a seeded meeting).
    #[serde(default)]
    pub attendees: Vec<String>,
}

/// What a seed added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    /// Accounts added (updated ones are not counted).
    pub users_added: usize,
    /// Delegate entries set.
    pub delegates: usize,
    /// Ids of the items stored, in seed order.
    pub items: Vec<String>,
}

fn level(value: &Option<String>, what: &str) -> Result<PermissionLevel, String> {
    match value {
        None => Ok(PermissionLevel::None),
        Some(v) => PermissionLevel::parse(v).ok_or_else(|| {
            format!("{what}: '{v}' is not a permission level (None, Reviewer, Author, Editor)")
        }),
    }
}

/// Checks every entry first, then applies the seed: a refused seed changes nothing.
pub(crate) fn apply(st: &mut State, seed: &Seed) -> Result<SeedReport, String> {
    // Accounts known once the seed's own users are in (a set: seeds of thousands of
    // accounts and delegates are checked in linear time).
    let seeded: std::collections::HashSet<String> = seed
        .users
        .iter()
        .map(|u| u.smtp.trim().to_ascii_lowercase())
        .collect();
    let known =
        |smtp: &str| st.user(smtp).is_some() || seeded.contains(&smtp.trim().to_ascii_lowercase());
    for u in &seed.users {
        if !u.smtp.contains('@') || u.smtp.trim().is_empty() {
            return Err(format!("users: '{}' is not an SMTP address", u.smtp));
        }
    }
    let mut delegates = Vec::new();
    for d in &seed.delegates {
        for who in [&d.principal, &d.delegate] {
            if !known(who) {
                return Err(format!("delegates: '{who}' is not an account"));
            }
        }
        if d.principal.trim().eq_ignore_ascii_case(d.delegate.trim()) {
            return Err(format!(
                "delegates: '{}' cannot be its own delegate",
                d.principal
            ));
        }
        let p = &d.permissions;
        let permissions = super::Permissions {
            calendar: level(&p.calendar, "calendar")?,
            tasks: level(&p.tasks, "tasks")?,
            inbox: level(&p.inbox, "inbox")?,
            contacts: level(&p.contacts, "contacts")?,
            notes: level(&p.notes, "notes")?,
            journal: level(&p.journal, "journal")?,
        };
        delegates.push((
            d.principal.trim().to_string(),
            DelegateSnapshot {
                smtp: d.delegate.trim().to_string(),
                permissions,
                receive_copies_of_meeting_messages: d.receive_copies_of_meeting_messages,
                view_private_items: d.view_private_items,
            },
        ));
    }
    for (who, value) in &seed.deliver_meeting_requests {
        if !known(who) {
            return Err(format!(
                "deliver_meeting_requests: '{who}' is not an account"
            ));
        }
        if !DELIVER_MEETING_REQUESTS.contains(&value.as_str()) {
            return Err(format!(
                "deliver_meeting_requests: '{value}' is not one of {DELIVER_MEETING_REQUESTS:?}"
            ));
        }
    }
    for (n, i) in seed.items.iter().enumerate() {
        if !known(&i.owner) {
            return Err(format!("items[{n}]: owner '{}' is not an account", i.owner));
        }
        match i.kind.as_deref() {
            None | Some("Message") | Some("CalendarItem") => {}
            Some(other) => {
                return Err(format!(
                    "items[{n}]: kind '{other}' (only Message and CalendarItem can be seeded)"
                ));
            }
        }
        if let Some(f) = &i.folder {
            if !super::ops::ITEM_FOLDERS.contains(&f.as_str()) {
                return Err(format!(
                    "items[{n}]: folder '{f}' (one of {:?})",
                    super::ops::ITEM_FOLDERS
                ));
            }
        }
    }

    let mut report = SeedReport::default();
    for u in &seed.users {
        if st.upsert_user(u.to_user(), u.impersonator) {
            report.users_added += 1;
        }
    }
    for (principal, d) in delegates {
        if let Some(mb) = st.mailbox_mut(&principal) {
            match mb
                .delegates
                .iter_mut()
                .find(|x| x.smtp.eq_ignore_ascii_case(&d.smtp))
            {
                Some(x) => *x = d,
                None => mb.delegates.push(d),
            }
            report.delegates += 1;
        }
    }
    for (who, value) in &seed.deliver_meeting_requests {
        if let Some(mb) = st.mailbox_mut(who) {
            mb.deliver_meeting_requests = value.clone();
        }
    }
    for i in &seed.items {
        let calendar = i.kind.as_deref() == Some("CalendarItem");
        let owner = st
            .user(&i.owner)
            .map(|u| u.user.smtp.clone())
            .unwrap_or_else(|| i.owner.clone());
        let folder = i
            .folder
            .clone()
            .unwrap_or_else(|| if calendar { "calendar" } else { "inbox" }.to_string());
        let kind = if calendar {
            ItemKind::CalendarItem
        } else {
            ItemKind::Message
        };
        let mut item = ItemSnapshot::new(kind, &owner, &folder, &owner);
        item.subject = i.subject.clone();
        item.body = i.body.clone().map(|b| ("Text".to_string(), b));
        item.sensitivity = i.sensitivity.clone();
        item.importance = i.importance.clone();
        item.categories = i.categories.clone();
        item.is_read = i.is_read;
        let addr = |st: &State, s: &String| -> Address { st.address(s.trim()) };
        if calendar {
            item.start = i.start.clone();
            item.end = i.end.clone();
            item.location = i.location.clone();
            item.required_attendees = i.attendees.iter().map(|a| addr(st, a)).collect();
            item.is_meeting = !item.required_attendees.is_empty();
            item.organizer = Some(st.address(&owner));
            item.uid = Some(st.new_uid());
        } else {
            let from = i.from.clone().unwrap_or_else(|| owner.clone());
            item.from = Some(addr(st, &from));
            item.sender = Some(addr(st, i.sender.as_ref().unwrap_or(&from)));
            item.to_recipients = i.to.iter().map(|a| addr(st, a)).collect();
            item.cc_recipients = i.cc.iter().map(|a| addr(st, a)).collect();
        }
        if let Some(id) = st.store_at(item, i.received.clone()) {
            report.items.push(id);
        }
    }
    Ok(report)
}
