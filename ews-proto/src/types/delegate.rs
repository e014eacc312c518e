//! Delegates and their permissions.

use std::fmt;

use crate::error::{MalformedKind, ServerError, UsageError};
use crate::soap::ExchangeVersion;
use crate::types::{Unrecognized, UserId};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// A permission level a principal can grant a delegate on one folder.
///
/// `Custom` is deliberately absent: a server reports it (see [`PermissionLevel`]) when the
/// folder's rights match no predefined level, but a client cannot set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Permission {
    /// No access.
    None,
    /// Read items.
    Reviewer,
    /// Read and create items, change and delete own items.
    Author,
    /// Read, create, change and delete all items.
    Editor,
}

impl Permission {
    const fn as_str(self) -> &'static str {
        match self {
            Permission::None => "None",
            Permission::Reviewer => "Reviewer",
            Permission::Author => "Author",
            Permission::Editor => "Editor",
        }
    }
}

/// A permission level as a server reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PermissionLevel {
    /// A level a client can also set.
    Set(Permission),
    /// `Custom`: rights that match no predefined level. Read-only.
    Custom,
    /// A value this crate does not know.
    Other(Unrecognized),
}

impl PermissionLevel {
    fn from_wire(s: &str) -> Self {
        match s {
            "None" => PermissionLevel::Set(Permission::None),
            "Reviewer" => PermissionLevel::Set(Permission::Reviewer),
            "Author" => PermissionLevel::Set(Permission::Author),
            "Editor" => PermissionLevel::Set(Permission::Editor),
            "Custom" => PermissionLevel::Custom,
            other => PermissionLevel::Other(Unrecognized::new(other)),
        }
    }

    /// The level as the server wrote it (`Editor`, `Custom`, or an unknown value as
    /// received); the same text as `Display`, without allocating.
    pub fn as_str(&self) -> &str {
        match self {
            PermissionLevel::Set(p) => p.as_str(),
            PermissionLevel::Custom => "Custom",
            PermissionLevel::Other(u) => u.as_str(),
        }
    }

    /// The level as a settable [`Permission`], unless it is `Custom` or unknown.
    pub fn permission(&self) -> Option<Permission> {
        match self {
            PermissionLevel::Set(p) => Some(*p),
            _ => None,
        }
    }
}

impl From<Permission> for PermissionLevel {
    fn from(p: Permission) -> Self {
        PermissionLevel::Set(p)
    }
}

impl fmt::Display for PermissionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The six folders a delegate can be given permissions on, in schema order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DelegateFolder {
    /// Calendar.
    Calendar,
    /// Tasks.
    Tasks,
    /// Inbox.
    Inbox,
    /// Contacts.
    Contacts,
    /// Notes.
    Notes,
    /// Journal.
    Journal,
}

impl DelegateFolder {
    /// All six, in schema order.
    pub const ALL: [DelegateFolder; 6] = [
        DelegateFolder::Calendar,
        DelegateFolder::Tasks,
        DelegateFolder::Inbox,
        DelegateFolder::Contacts,
        DelegateFolder::Notes,
        DelegateFolder::Journal,
    ];

    const fn element(self) -> &'static str {
        match self {
            DelegateFolder::Calendar => "CalendarFolderPermissionLevel",
            DelegateFolder::Tasks => "TasksFolderPermissionLevel",
            DelegateFolder::Inbox => "InboxFolderPermissionLevel",
            DelegateFolder::Contacts => "ContactsFolderPermissionLevel",
            DelegateFolder::Notes => "NotesFolderPermissionLevel",
            DelegateFolder::Journal => "JournalFolderPermissionLevel",
        }
    }

    fn from_element(local: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.element() == local)
    }

    const fn index(self) -> usize {
        self as usize
    }
}

/// Permissions to set for a delegate, per folder. A folder left unset is not written, so
/// an update leaves it as it is.
///
/// ```
/// use ews_proto::{DelegatePermissions, Permission};
/// let p = DelegatePermissions::new()
///     .calendar(Permission::Author)
///     .contacts(Permission::Reviewer);
/// assert_eq!(p.level(ews_proto::DelegateFolder::Calendar), Some(Permission::Author));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DelegatePermissions {
    levels: [Option<Permission>; 6],
}

impl DelegatePermissions {
    /// No folder set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the level on `folder`.
    pub fn set(mut self, folder: DelegateFolder, level: Permission) -> Self {
        self.levels[folder.index()] = Some(level);
        self
    }

    /// The level set on `folder`, if any.
    pub fn level(&self, folder: DelegateFolder) -> Option<Permission> {
        self.levels[folder.index()]
    }

    /// Sets the Calendar level.
    pub fn calendar(self, level: Permission) -> Self {
        self.set(DelegateFolder::Calendar, level)
    }
    /// Sets the Tasks level.
    pub fn tasks(self, level: Permission) -> Self {
        self.set(DelegateFolder::Tasks, level)
    }
    /// Sets the Inbox level.
    pub fn inbox(self, level: Permission) -> Self {
        self.set(DelegateFolder::Inbox, level)
    }
    /// Sets the Contacts level.
    pub fn contacts(self, level: Permission) -> Self {
        self.set(DelegateFolder::Contacts, level)
    }
    /// Sets the Notes level.
    pub fn notes(self, level: Permission) -> Self {
        self.set(DelegateFolder::Notes, level)
    }
    /// Sets the Journal level.
    pub fn journal(self, level: Permission) -> Self {
        self.set(DelegateFolder::Journal, level)
    }

    fn is_empty(&self) -> bool {
        self.levels.iter().all(Option::is_none)
    }

    fn write(&self, w: &mut BodyWriter<'_>) {
        if self.is_empty() {
            return;
        }
        w.open(Ns::Types, "DelegatePermissions");
        for folder in DelegateFolder::ALL {
            if let Some(level) = self.level(folder) {
                w.token(Ns::Types, folder.element(), level.as_str());
            }
        }
        w.close(Ns::Types, "DelegatePermissions");
    }
}

/// Permissions a server reports for a delegate, per folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantedPermissions {
    levels: [Option<PermissionLevel>; 6],
}

impl GrantedPermissions {
    /// The level reported for `folder`, if any.
    pub fn level(&self, folder: DelegateFolder) -> Option<&PermissionLevel> {
        self.levels[folder.index()].as_ref()
    }

    /// The levels a client can write back: every folder reported at a level of
    /// [`Permission`]; folders reported `Custom` (or with a value this crate does not know)
    /// are left unset, so writing the result leaves them as they are. The reference: a
    /// custom level can be read, not set.
    pub fn settable(&self) -> DelegatePermissions {
        let mut out = DelegatePermissions::new();
        for folder in DelegateFolder::ALL {
            if let Some(level) = self.level(folder).and_then(PermissionLevel::permission) {
                out = out.set(folder, level);
            }
        }
        out
    }

    fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut p = GrantedPermissions::default();
        r.children(e, |r, c| {
            if c.ns() == XmlNs::Types {
                if let Some(folder) = DelegateFolder::from_element(c.local_name()) {
                    let text = r.text(&c)?;
                    p.levels[folder.index()] = Some(PermissionLevel::from_wire(text.trim()));
                }
            }
            Ok::<_, ServerError>(())
        })?;
        Ok(p)
    }
}

/// A delegate to add or update: who, which folder permissions, and two flags.
///
/// ```
/// use ews_proto::{DelegatePermissions, DelegateUser, Permission, UserId};
/// let user = DelegateUser::new(UserId::smtp("user2@example.com".parse()?))
///     .permissions(DelegatePermissions::new().calendar(Permission::Author))
///     .receive_copies_of_meeting_messages(false)
///     .view_private_items(false);
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateUser {
    user_id: UserId,
    permissions: DelegatePermissions,
    receive_copies_of_meeting_messages: Option<bool>,
    view_private_items: Option<bool>,
}

impl DelegateUser {
    /// The delegate `user_id`, with nothing set.
    pub fn new(user_id: UserId) -> Self {
        Self {
            user_id,
            permissions: DelegatePermissions::new(),
            receive_copies_of_meeting_messages: None,
            view_private_items: None,
        }
    }

    /// Sets the folder permissions.
    pub fn permissions(mut self, permissions: DelegatePermissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// Sets the level on one folder, keeping the others.
    pub fn permissions_set(mut self, folder: DelegateFolder, level: Permission) -> Self {
        self.permissions = self.permissions.set(folder, level);
        self
    }

    /// Whether the delegate receives copies of meeting messages sent to the principal.
    pub fn receive_copies_of_meeting_messages(mut self, yes: bool) -> Self {
        self.receive_copies_of_meeting_messages = Some(yes);
        self
    }

    /// Whether the delegate can see the principal's private items.
    pub fn view_private_items(mut self, yes: bool) -> Self {
        self.view_private_items = Some(yes);
        self
    }

    /// The delegate's id.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The folder permissions set (folders not set are left as they are).
    pub(crate) fn permission_set(&self) -> &DelegatePermissions {
        &self.permissions
    }

    /// `ReceiveCopiesOfMeetingMessages`, if set.
    pub(crate) fn receive_copies(&self) -> Option<bool> {
        self.receive_copies_of_meeting_messages
    }

    /// `ViewPrivateItems`, if set.
    pub(crate) fn private_items(&self) -> Option<bool> {
        self.view_private_items
    }

    /// Writes `<t:DelegateUser>` in schema order.
    pub(crate) fn write(&self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        w.open(Ns::Types, "DelegateUser");
        self.user_id.write(w, Ns::Types)?;
        self.permissions.write(w);
        if let Some(v) = self.receive_copies_of_meeting_messages {
            w.bool(Ns::Types, "ReceiveCopiesOfMeetingMessages", v);
        }
        if let Some(v) = self.view_private_items {
            w.bool(Ns::Types, "ViewPrivateItems", v);
        }
        w.close(Ns::Types, "DelegateUser");
        Ok(())
    }
}

/// A delegate as a server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delegate {
    /// Who.
    pub user_id: UserId,
    /// The folder permissions; absent when they were not asked for.
    pub permissions: Option<GrantedPermissions>,
    /// Whether the delegate receives copies of meeting messages.
    pub receive_copies_of_meeting_messages: Option<bool>,
    /// Whether the delegate can see private items.
    pub view_private_items: Option<bool>,
}

/// A delegate as read, ready to be changed and written back with UpdateDelegate: the same
/// user, the settable folder levels ([`GrantedPermissions::settable`]: `Custom` folders
/// left as they are) and both flags as reported.
///
/// ```
/// use ews_proto::{Delegate, DelegateUser, Permission};
/// # fn change(current: &Delegate) -> DelegateUser {
/// let update = DelegateUser::from(current)
///     .permissions_set(ews_proto::DelegateFolder::Calendar, Permission::Editor);
/// # update }
/// ```
impl From<&Delegate> for DelegateUser {
    fn from(d: &Delegate) -> Self {
        DelegateUser {
            user_id: d.user_id.clone(),
            permissions: d
                .permissions
                .as_ref()
                .map(GrantedPermissions::settable)
                .unwrap_or_default(),
            receive_copies_of_meeting_messages: d.receive_copies_of_meeting_messages,
            view_private_items: d.view_private_items,
        }
    }
}

impl From<Delegate> for DelegateUser {
    fn from(d: Delegate) -> Self {
        DelegateUser::from(&d)
    }
}

impl Delegate {
    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut user_id = None;
        let mut permissions = None;
        let mut receive = None;
        let mut private = None;
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            match c.local_name() {
                "UserId" => user_id = Some(UserId::read(r, &c)?),
                "DelegatePermissions" => permissions = Some(GrantedPermissions::read(r, &c)?),
                "ReceiveCopiesOfMeetingMessages" => receive = Some(r.parse(&c, parse_bool)?),
                "ViewPrivateItems" => private = Some(r.parse(&c, parse_bool)?),
                _ => {}
            }
            Ok::<_, ServerError>(())
        })?;
        Ok(Delegate {
            user_id: user_id.ok_or_else(|| {
                e.malformed(MalformedKind::MissingElement, "DelegateUser without UserId")
            })?,
            permissions,
            receive_copies_of_meeting_messages: receive,
            view_private_items: private,
        })
    }
}

/// `xs:boolean`: `true`, `false`, `1`, `0`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Where meeting requests to the principal go: a principal-level setting, not per delegate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeliverMeetingRequests {
    /// Only to the delegates.
    DelegatesOnly,
    /// To the delegates and the principal.
    DelegatesAndMe,
    /// To the delegates, with an information copy to the principal.
    DelegatesAndSendInformationToMe,
    /// Not forwarded to delegates. Needs Exchange2010_SP1 or later.
    NoForward,
    /// A value this crate does not know, as a server sent it. Only a server can produce
    /// it; writing it back sends the same text.
    Other(Unrecognized),
}

impl DeliverMeetingRequests {
    /// The value on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            DeliverMeetingRequests::DelegatesOnly => "DelegatesOnly",
            DeliverMeetingRequests::DelegatesAndMe => "DelegatesAndMe",
            DeliverMeetingRequests::DelegatesAndSendInformationToMe => {
                "DelegatesAndSendInformationToMe"
            }
            DeliverMeetingRequests::NoForward => "NoForward",
            DeliverMeetingRequests::Other(u) => u.as_str(),
        }
    }

    pub(crate) fn from_wire(s: &str) -> Self {
        match s {
            "DelegatesOnly" => DeliverMeetingRequests::DelegatesOnly,
            "DelegatesAndMe" => DeliverMeetingRequests::DelegatesAndMe,
            "DelegatesAndSendInformationToMe" => {
                DeliverMeetingRequests::DelegatesAndSendInformationToMe
            }
            "NoForward" => DeliverMeetingRequests::NoForward,
            other => DeliverMeetingRequests::Other(Unrecognized::new(other)),
        }
    }

    /// Writes `<m:DeliverMeetingRequests>`, refusing `NoForward` before Exchange2010_SP1.
    pub(crate) fn write(
        &self,
        w: &mut BodyWriter<'_>,
        version: ExchangeVersion,
    ) -> Result<(), UsageError> {
        if *self == DeliverMeetingRequests::NoForward && version < ExchangeVersion::Exchange2010_SP1
        {
            return Err(UsageError::RequiresVersion {
                feature: "DeliverMeetingRequests NoForward",
                required: ExchangeVersion::Exchange2010_SP1,
                requested: version,
            });
        }
        w.leaf(Ns::Messages, "DeliverMeetingRequests", self.as_str())
    }
}

impl fmt::Display for DeliverMeetingRequests {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
