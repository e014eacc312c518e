//! The EWS data model: each type knows how to write and read itself.

mod address;
mod delegate;
mod folder;
mod item;
mod recurrence;
mod time_zone;

use std::fmt;

pub use address::{DistinguishedUser, EmailAddress, Mailbox, Sid, UserId};
pub(crate) use delegate::parse_bool;
pub use delegate::{
    Delegate, DelegateFolder, DelegatePermissions, DelegateUser, DeliverMeetingRequests,
    GrantedPermissions, Permission, PermissionLevel,
};
pub use folder::{DistinguishedFolder, FolderId, ItemId};
pub(crate) use item::format_timestamp;
pub use item::{
    Attendee, AttendeeResponse, Body, BodyKind, CalendarItem, CalendarItemType, Importance, Item,
    ItemKind, LegacyFreeBusyStatus, MeetingRequestType, Message, MessageKind, NewCalendarItem,
    OccurrenceInfo, ReportedTimeZone, Sensitivity, TimeZoneId,
};
pub use recurrence::{
    ItemRef, Month, PatternKind, Recurrence, RecurrencePattern, RecurrenceRange, RelativeDay,
    ReportedPattern, ReportedRange, ReportedRecurrence, WeekIndex,
};

/// A value a server sent that this crate does not know, kept as text.
///
/// The decoder makes these; the one public way to make one is a named constant for a
/// non-standard code ([`ResponseCode::nonstandard`](crate::ResponseCode::nonstandard)),
/// so an enum's `Other` variant is never built by hand with a typo in a match arm.
/// Equality, ordering and hashing are by text.
#[derive(Clone)]
pub struct Unrecognized(Text);

/// Decoded text, or a `'static` name given by the application.
#[derive(Clone)]
enum Text {
    Owned(Box<str>),
    Static(&'static str),
}

impl Unrecognized {
    pub(crate) fn new(s: &str) -> Self {
        Unrecognized(Text::Owned(s.into()))
    }

    pub(crate) const fn from_static(s: &'static str) -> Self {
        Unrecognized(Text::Static(s))
    }

    /// The value as sent.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Owned(s) => s,
            Text::Static(s) => s,
        }
    }
}

impl PartialEq for Unrecognized {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Unrecognized {}

impl std::hash::Hash for Unrecognized {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Unrecognized {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Unrecognized {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Unrecognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Unrecognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
