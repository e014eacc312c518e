//! The EWS data model: each type knows how to write and read itself.

mod address;
mod delegate;
mod folder;
mod item;

use std::fmt;

pub use address::{DistinguishedUser, EmailAddress, Mailbox, Sid, UserId};
pub(crate) use delegate::parse_bool;
pub use delegate::{
    Delegate, DelegateFolder, DelegatePermissions, DelegateUser, DeliverMeetingRequests,
    GrantedPermissions, Permission, PermissionLevel,
};
pub use folder::{DistinguishedFolder, FolderId, ItemId};
pub use item::{
    Attendee, AttendeeResponse, Body, BodyKind, CalendarItem, Importance, Item,
    LegacyFreeBusyStatus, Message, MessageKind, NewCalendarItem, Sensitivity, TimeZoneId,
};

/// A value a server sent that this crate does not know, kept as text.
///
/// Only the decoder makes these (there is no public constructor), so an enum's `Other`
/// variant can never be built by hand with a typo in it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unrecognized(Box<str>);

impl Unrecognized {
    pub(crate) fn new(s: &str) -> Self {
        Unrecognized(s.into())
    }

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Unrecognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Unrecognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a server-supplied enumeration: known variants with their wire text, plus
/// `Other(Unrecognized)`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this crate does not know, as a server sent it.
            Other($crate::types::Unrecognized),
        }

        impl $name {
            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Other(u) => u.as_str(),
                }
            }

            #[allow(dead_code)]
            pub(crate) fn from_wire(s: &str) -> Self {
                match s {
                    $($wire => $name::$variant,)*
                    other => $name::Other($crate::types::Unrecognized::new(other)),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;
