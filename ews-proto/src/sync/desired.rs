//! The desired state of one principal's delegates.

use std::collections::BTreeMap;

use crate::types::{
    DelegateFolder, DelegatePermissions, DelegateUser, DeliverMeetingRequests, EmailAddress,
    Permission, UserId,
};

/// One delegate as it should be: who, the level on each folder the state manages, and the
/// two flags.
///
/// Only writable levels ([`Permission`]) can be asked for: `Custom` is something a server
/// reports, not something a client sets. A folder the state does not name is not managed:
/// whatever the mailbox holds there (a `Custom` level included) is kept. Both flags are
/// always managed and default to `false`.
///
/// ```
/// use ews_proto::{DelegateFolder, Permission};
/// use ews_proto::sync::DesiredDelegate;
/// let d = DesiredDelegate::new("assistant@example.com".parse()?)
///     .folder(DelegateFolder::Calendar, Permission::Editor)
///     .receive_copies_of_meeting_messages(true);
/// assert_eq!(d.permission_set().level(DelegateFolder::Calendar), Some(Permission::Editor));
/// assert_eq!(d.permission_set().level(DelegateFolder::Inbox), None); // not managed
/// assert!(d.receive_copies() && !d.private_items());
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredDelegate {
    pub(crate) user: EmailAddress,
    pub(crate) permissions: DelegatePermissions,
    pub(crate) receive_copies: bool,
    pub(crate) view_private_items: bool,
}

impl DesiredDelegate {
    /// The delegate `user`: no folder managed, both flags `false`.
    pub fn new(user: EmailAddress) -> Self {
        Self {
            user,
            permissions: DelegatePermissions::new(),
            receive_copies: false,
            view_private_items: false,
        }
    }

    /// Manages exactly the folders set in `permissions`.
    pub fn permissions(mut self, permissions: DelegatePermissions) -> Self {
        self.permissions = permissions;
        self
    }

    /// Manages `folder` at `level`, keeping the other folders.
    pub fn folder(mut self, folder: DelegateFolder, level: Permission) -> Self {
        self.permissions = self.permissions.set(folder, level);
        self
    }

    /// Whether the delegate receives copies of the principal's meeting messages.
    pub fn receive_copies_of_meeting_messages(mut self, yes: bool) -> Self {
        self.receive_copies = yes;
        self
    }

    /// Whether the delegate sees the principal's private items.
    pub fn view_private_items(mut self, yes: bool) -> Self {
        self.view_private_items = yes;
        self
    }

    /// The delegate's address.
    pub fn user(&self) -> &EmailAddress {
        &self.user
    }

    /// The managed folders and their levels (a folder not set is not managed).
    pub fn permission_set(&self) -> &DelegatePermissions {
        &self.permissions
    }

    /// `ReceiveCopiesOfMeetingMessages`.
    pub fn receive_copies(&self) -> bool {
        self.receive_copies
    }

    /// `ViewPrivateItems`.
    pub fn private_items(&self) -> bool {
        self.view_private_items
    }

    /// The key delegates are matched by: the address in ASCII lower case (Exchange
    /// compares SMTP addresses case-insensitively).
    pub(crate) fn key(&self) -> String {
        self.user.as_str().to_ascii_lowercase()
    }

    /// What AddDelegate or UpdateDelegate sends for this delegate: the managed folders and
    /// both flags.
    pub(crate) fn to_delegate_user(&self) -> DelegateUser {
        DelegateUser::new(UserId::smtp(self.user.clone()))
            .permissions(self.permissions)
            .receive_copies_of_meeting_messages(self.receive_copies)
            .view_private_items(self.view_private_items)
    }
}

/// Whether a desired state manages where the principal's meeting requests go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Not managed: every AddDelegate and UpdateDelegate sends the value observed, so that
    /// a write never changes it by leaving it out.
    #[default]
    Unmanaged,
    /// Managed: the principal's `DeliverMeetingRequests` is this value.
    Managed(DeliverMeetingRequests),
}

/// What one principal's delegates should be: the delegates, where meeting requests go
/// ([`Delivery`]), and whether delegates the state does not name are removed (`prune`,
/// off by default).
///
/// Without prune, a delegate the state does not name is left alone, and so is an orphan
/// (a delegate whose user is gone). A second delegate with the same address (compared
/// case-insensitively) replaces the first.
///
/// ```
/// use ews_proto::{DelegateFolder, DeliverMeetingRequests, Permission};
/// use ews_proto::sync::{Delivery, DesiredDelegate, DesiredState};
/// let state = DesiredState::new("boss@example.com".parse()?)
///     .delegate(DesiredDelegate::new("assistant@example.com".parse()?)
///         .folder(DelegateFolder::Calendar, Permission::Editor)
///         .receive_copies_of_meeting_messages(true))
///     .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe)
///     .prune(true);
/// assert_eq!(state.delegates().count(), 1);
/// assert_eq!(state.delivery(), &Delivery::Managed(DeliverMeetingRequests::DelegatesAndMe));
/// assert!(state.prunes());
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredState {
    pub(crate) principal: EmailAddress,
    /// By [`DesiredDelegate::key`], so iteration is sorted and stable.
    pub(crate) delegates: BTreeMap<String, DesiredDelegate>,
    pub(crate) delivery: Delivery,
    pub(crate) prune: bool,
}

impl DesiredState {
    /// `principal` with no delegate named, delivery unmanaged, prune off.
    pub fn new(principal: EmailAddress) -> Self {
        Self {
            principal,
            delegates: BTreeMap::new(),
            delivery: Delivery::Unmanaged,
            prune: false,
        }
    }

    /// Names a delegate (replacing one with the same address).
    pub fn delegate(mut self, delegate: DesiredDelegate) -> Self {
        self.delegates.insert(delegate.key(), delegate);
        self
    }

    /// Manages `DeliverMeetingRequests` at `value`.
    pub fn deliver_meeting_requests(mut self, value: DeliverMeetingRequests) -> Self {
        self.delivery = Delivery::Managed(value);
        self
    }

    /// Sets the [`Delivery`] (managed or not).
    pub fn delivery_setting(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Whether delegates not named (and orphans) are removed.
    pub fn prune(mut self, yes: bool) -> Self {
        self.prune = yes;
        self
    }

    /// The principal.
    pub fn principal(&self) -> &EmailAddress {
        &self.principal
    }

    /// The delegates named, sorted by address (case-insensitively).
    pub fn delegates(&self) -> impl Iterator<Item = &DesiredDelegate> {
        self.delegates.values()
    }

    /// Whether the state manages `DeliverMeetingRequests`.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// Whether delegates not named (and orphans) are removed.
    pub fn prunes(&self) -> bool {
        self.prune
    }
}
