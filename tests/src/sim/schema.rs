//! A small, hand-written subset of the EWS schema (messages.xsd / types.xsd) used to
//! validate the element order, the element names and a few simple values of the requests
//! the simulator serves, the way Exchange's schema validation does.
//!
//! Every complex type is an `xs:sequence` of particles; a particle is an element (with
//! min/max occurrences) or an `xs:choice` of elements. Derived types are written as
//! several segments (base type fields first, then the extension's fields). Elements whose
//! inside the simulator never reads are typed [`ANY`] and not checked further.

use roxmltree::Node;

use super::soap::{MESSAGES_NS, TYPES_NS};

/// Unbounded `maxOccurs`.
const UNB: u32 = u32::MAX;

/// The namespace of a schema element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ns {
    /// `http://schemas.microsoft.com/exchange/services/2006/messages`
    M,
    /// `http://schemas.microsoft.com/exchange/services/2006/types`
    T,
}

impl Ns {
    fn uri(self) -> &'static str {
        match self {
            Ns::M => MESSAGES_NS,
            Ns::T => TYPES_NS,
        }
    }
}

/// A simple (text) type.
#[derive(Debug)]
pub(crate) enum Simple {
    /// Any string.
    Str,
    /// A string with at least one character.
    NonEmpty,
    /// `xs:boolean`.
    Bool,
    /// `xs:int`.
    Int,
    /// `xs:dateTime` (loosely checked: `YYYY-MM-DDThh:mm:ss` prefix).
    DateTime,
    /// An enumeration.
    Enum(&'static [&'static str]),
}

impl Simple {
    fn check(&self, value: &str) -> bool {
        match self {
            Simple::Str => true,
            Simple::NonEmpty => !value.is_empty(),
            Simple::Bool => matches!(value.trim(), "true" | "false" | "1" | "0"),
            Simple::Int => value.trim().parse::<i64>().is_ok(),
            Simple::DateTime => looks_like_datetime(value.trim()),
            Simple::Enum(values) => values.contains(&value.trim()),
        }
    }
}

fn looks_like_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 19 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
}

/// An attribute declaration.
#[derive(Debug)]
pub(crate) struct Attr {
    name: &'static str,
    required: bool,
    ty: Simple,
}

/// The content model of a type.
#[derive(Debug)]
pub(crate) enum Content {
    /// No children, no text.
    Empty,
    /// Text only.
    Text(Simple),
    /// Anything (not validated).
    Any,
    /// A sequence made of segments (base type first).
    Seq(&'static [&'static [Part]]),
}

/// A type definition.
#[derive(Debug)]
pub(crate) struct TypeDef {
    attrs: &'static [Attr],
    content: Content,
}

/// An element particle.
#[derive(Debug)]
pub(crate) struct El {
    ns: Ns,
    name: &'static str,
    min: u32,
    max: u32,
    ty: &'static TypeDef,
}

/// A particle of a sequence.
#[derive(Debug)]
pub(crate) enum Part {
    /// One element.
    E(El),
    /// A choice between elements, repeated `min..=max` times.
    C(u32, u32, &'static [El]),
}

impl Part {
    fn min(&self) -> u32 {
        match self {
            Part::E(e) => e.min,
            Part::C(min, _, _) => *min,
        }
    }
    fn max(&self) -> u32 {
        match self {
            Part::E(e) => e.max,
            Part::C(_, max, _) => *max,
        }
    }
    fn find(&self, node: Node<'_, '_>) -> Option<&El> {
        let matches = |e: &El| {
            node.tag_name().name() == e.name && node.tag_name().namespace() == Some(e.ns.uri())
        };
        match self {
            Part::E(e) => matches(e).then_some(e),
            Part::C(_, _, list) => list.iter().find(|e| matches(e)),
        }
    }
    fn names(&self, out: &mut Vec<&'static str>) {
        match self {
            Part::E(e) => out.push(e.name),
            Part::C(_, _, list) => out.extend(list.iter().map(|e| e.name)),
        }
    }
}

const fn el(ns: Ns, name: &'static str, min: u32, max: u32, ty: &'static TypeDef) -> El {
    El {
        ns,
        name,
        min,
        max,
        ty,
    }
}
/// Optional types element.
const fn t(name: &'static str, ty: &'static TypeDef) -> Part {
    Part::E(el(Ns::T, name, 0, 1, ty))
}
/// Required types element.
const fn tr(name: &'static str, ty: &'static TypeDef) -> Part {
    Part::E(el(Ns::T, name, 1, 1, ty))
}
/// Optional messages element.
const fn m(name: &'static str, ty: &'static TypeDef) -> Part {
    Part::E(el(Ns::M, name, 0, 1, ty))
}
/// Required messages element.
const fn mr(name: &'static str, ty: &'static TypeDef) -> Part {
    Part::E(el(Ns::M, name, 1, 1, ty))
}
/// A types element inside a choice.
const fn tc(name: &'static str, ty: &'static TypeDef) -> El {
    el(Ns::T, name, 1, 1, ty)
}
const fn attr(name: &'static str, required: bool, ty: Simple) -> Attr {
    Attr { name, required, ty }
}
const fn text(ty: Simple) -> TypeDef {
    TypeDef {
        attrs: &[],
        content: Content::Text(ty),
    }
}

// ---------------------------------------------------------------- simple values

pub(crate) const VERSIONS: &[&str] = &[
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2009",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2012",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
    "V2015_10_05",
    "V2016_01_06",
    "V2016_04_13",
    "V2016_07_13",
    "V2016_10_10",
    "V2017_01_07",
    "V2017_04_14",
    "V2017_07_11",
];
pub(crate) const PERMISSION_LEVELS: &[&str] = &["None", "Editor", "Reviewer", "Author", "Custom"];
pub(crate) const DELIVER_MEETING_REQUESTS: &[&str] = &[
    "DelegatesOnly",
    "DelegatesAndMe",
    "DelegatesAndSendInformationToMe",
    "NoForward",
];
const DISTINGUISHED_USERS: &[&str] = &["Default", "Anonymous"];
pub(crate) const FOLDER_NAMES: &[&str] = &[
    "calendar",
    "contacts",
    "deleteditems",
    "drafts",
    "inbox",
    "journal",
    "notes",
    "outbox",
    "sentitems",
    "tasks",
    "msgfolderroot",
    "publicfoldersroot",
    "root",
    "junkemail",
    "searchfolders",
    "voicemail",
    "recoverableitemsroot",
    "recoverableitemsdeletions",
    "recoverableitemsversions",
    "recoverableitemspurges",
    "recoverableitemsdiscoveryholds",
    "archiveroot",
    "archivemsgfolderroot",
    "archivedeleteditems",
    "archiveinbox",
    "archiverecoverableitemsroot",
    "archiverecoverableitemsdeletions",
    "archiverecoverableitemsversions",
    "archiverecoverableitemspurges",
    "archiverecoverableitemsdiscoveryholds",
    "syncissues",
    "conflicts",
    "localfailures",
    "serverfailures",
    "recipientcache",
    "quickcontacts",
    "conversationhistory",
    "adminauditlogs",
    "todosearch",
    "mycontacts",
    "directory",
    "imcontactlist",
    "peopleconnect",
    "favorites",
    "mecontact",
    "personmetadata",
    "teamspaceactivity",
    "teamspacemessaging",
    "teamspaceworkitems",
    "scheduled",
    "orionnotes",
    "tagitems",
    "alltaggeditems",
    "externalcontacts",
    "teamchat",
    "teamchathistory",
    "yammerroot",
    "yammerinbound",
    "yammeroutbound",
    "yammerfeeds",
    "onedriveroot",
    "onedriverecylebin",
    "onedrivesystem",
    "onedrivevolume",
    "important",
    "starred",
    "archive",
];
const MESSAGE_DISPOSITIONS: &[&str] = &["SaveOnly", "SendOnly", "SendAndSaveCopy"];
const CREATE_OR_DELETE: &[&str] = &["SendToNone", "SendOnlyToAll", "SendToAllAndSaveCopy"];
const DISPOSAL: &[&str] = &["HardDelete", "SoftDelete", "MoveToDeletedItems"];
const AFFECTED_TASKS: &[&str] = &["AllOccurrences", "SpecifiedOccurrenceOnly"];
const SHAPES: &[&str] = &["IdOnly", "Default", "AllProperties", "PcxPeopleSearch"];
const BODY_TYPES: &[&str] = &["Best", "HTML", "Text"];
const BODY_TYPE_VALUES: &[&str] = &["HTML", "Text"];
const FREE_BUSY: &[&str] = &[
    "Free",
    "Tentative",
    "Busy",
    "OOF",
    "WorkingElsewhere",
    "NoData",
];
const IMPORTANCE: &[&str] = &["Low", "Normal", "High"];
const SENSITIVITY: &[&str] = &["Normal", "Personal", "Private", "Confidential"];
const MAILBOX_TYPES: &[&str] = &[
    "Unknown",
    "OneOff",
    "Mailbox",
    "PublicDL",
    "PrivateDL",
    "Contact",
    "PublicFolder",
    "GroupMailbox",
    "ImplicitContact",
];
const RESPONSE_TYPES: &[&str] = &[
    "Unknown",
    "Organizer",
    "Tentative",
    "Accept",
    "Decline",
    "NoResponseReceived",
];
const TRAVERSAL: &[&str] = &["Shallow", "SoftDeleted", "Associated"];
const BASE_POINT: &[&str] = &["Beginning", "End"];
const PRECISION: &[&str] = &["Seconds", "Milliseconds"];

// ---------------------------------------------------------------- shared types

static ANY: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Any,
};
static STR: TypeDef = text(Simple::Str);
static NON_EMPTY: TypeDef = text(Simple::NonEmpty);
static BOOL: TypeDef = text(Simple::Bool);
static INT: TypeDef = text(Simple::Int);
static DATETIME: TypeDef = text(Simple::DateTime);
static PERMISSION: TypeDef = text(Simple::Enum(PERMISSION_LEVELS));
static DELIVER: TypeDef = text(Simple::Enum(DELIVER_MEETING_REQUESTS));
static FREE_BUSY_T: TypeDef = text(Simple::Enum(FREE_BUSY));
static IMPORTANCE_T: TypeDef = text(Simple::Enum(IMPORTANCE));
static SENSITIVITY_T: TypeDef = text(Simple::Enum(SENSITIVITY));
static MAILBOX_TYPE_T: TypeDef = text(Simple::Enum(MAILBOX_TYPES));
static RESPONSE_TYPE_T: TypeDef = text(Simple::Enum(RESPONSE_TYPES));
static SHAPE_T: TypeDef = text(Simple::Enum(SHAPES));
static BODY_TYPE_T: TypeDef = text(Simple::Enum(BODY_TYPES));
static DISTINGUISHED_USER_T: TypeDef = text(Simple::Enum(DISTINGUISHED_USERS));

static ITEM_ID: TypeDef = TypeDef {
    attrs: &[
        attr("Id", true, Simple::Str),
        attr("ChangeKey", false, Simple::Str),
    ],
    content: Content::Empty,
};
static FOLDER_ID: TypeDef = TypeDef {
    attrs: &[
        attr("Id", true, Simple::Str),
        attr("ChangeKey", false, Simple::Str),
    ],
    content: Content::Empty,
};
static ADDRESS_LIST_ID: TypeDef = TypeDef {
    attrs: &[attr("Id", true, Simple::Str)],
    content: Content::Empty,
};

/// EmailAddressType.
static EMAIL_ADDRESS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        t("Name", &STR),
        t("EmailAddress", &NON_EMPTY),
        t("RoutingType", &NON_EMPTY),
        t("MailboxType", &MAILBOX_TYPE_T),
        t("ItemId", &ITEM_ID),
        t("OriginalDisplayName", &STR),
    ]]),
};
static DISTINGUISHED_FOLDER_ID: TypeDef = TypeDef {
    attrs: &[
        attr("Id", true, Simple::Enum(FOLDER_NAMES)),
        attr("ChangeKey", false, Simple::Str),
    ],
    content: Content::Seq(&[&[t("Mailbox", &EMAIL_ADDRESS)]]),
};
/// TargetFolderIdType.
static TARGET_FOLDER_ID: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        1,
        &[
            tc("FolderId", &FOLDER_ID),
            tc("DistinguishedFolderId", &DISTINGUISHED_FOLDER_ID),
            tc("AddressListId", &ADDRESS_LIST_ID),
        ],
    )]]),
};
/// NonEmptyArrayOfBaseFolderIdsType.
static BASE_FOLDER_IDS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        UNB,
        &[
            tc("FolderId", &FOLDER_ID),
            tc("DistinguishedFolderId", &DISTINGUISHED_FOLDER_ID),
        ],
    )]]),
};
/// OccurrenceItemIdType.
static OCCURRENCE_ITEM_ID: TypeDef = TypeDef {
    attrs: &[
        attr("RecurringMasterId", true, Simple::NonEmpty),
        attr("ChangeKey", false, Simple::Str),
        attr("InstanceIndex", true, Simple::Int),
    ],
    content: Content::Empty,
};
/// RecurringMasterItemIdType.
static RECURRING_MASTER_ITEM_ID: TypeDef = TypeDef {
    attrs: &[
        attr("OccurrenceId", true, Simple::NonEmpty),
        attr("ChangeKey", false, Simple::Str),
    ],
    content: Content::Empty,
};
/// NonEmptyArrayOfBaseItemIdsType.
static BASE_ITEM_IDS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        UNB,
        &[
            tc("ItemId", &ITEM_ID),
            tc("OccurrenceItemId", &OCCURRENCE_ITEM_ID),
            tc("RecurringMasterItemId", &RECURRING_MASTER_ITEM_ID),
        ],
    )]]),
};

// ---------------------------------------------------------------- delegates

/// UserIdType.
static USER_ID: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        t("SID", &STR),
        t("PrimarySmtpAddress", &STR),
        t("DisplayName", &STR),
        t("DistinguishedUser", &DISTINGUISHED_USER_T),
        t("ExternalUserIdentity", &STR),
    ]]),
};
/// DelegatePermissionsType.
static DELEGATE_PERMISSIONS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        t("CalendarFolderPermissionLevel", &PERMISSION),
        t("TasksFolderPermissionLevel", &PERMISSION),
        t("InboxFolderPermissionLevel", &PERMISSION),
        t("ContactsFolderPermissionLevel", &PERMISSION),
        t("NotesFolderPermissionLevel", &PERMISSION),
        t("JournalFolderPermissionLevel", &PERMISSION),
    ]]),
};
/// DelegateUserType.
static DELEGATE_USER: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        tr("UserId", &USER_ID),
        t("DelegatePermissions", &DELEGATE_PERMISSIONS),
        t("ReceiveCopiesOfMeetingMessages", &BOOL),
        t("ViewPrivateItems", &BOOL),
    ]]),
};
static DELEGATE_USERS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::E(el(Ns::T, "DelegateUser", 1, UNB, &DELEGATE_USER))]]),
};
static USER_IDS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::E(el(Ns::T, "UserId", 1, UNB, &USER_ID))]]),
};

static ADD_DELEGATE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        mr("Mailbox", &EMAIL_ADDRESS),
        mr("DelegateUsers", &DELEGATE_USERS),
        m("DeliverMeetingRequests", &DELIVER),
    ]]),
};
static UPDATE_DELEGATE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        mr("Mailbox", &EMAIL_ADDRESS),
        m("DelegateUsers", &DELEGATE_USERS),
        m("DeliverMeetingRequests", &DELIVER),
    ]]),
};
static GET_DELEGATE: TypeDef = TypeDef {
    attrs: &[attr("IncludePermissions", true, Simple::Bool)],
    content: Content::Seq(&[&[mr("Mailbox", &EMAIL_ADDRESS), m("UserIds", &USER_IDS)]]),
};
static REMOVE_DELEGATE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[mr("Mailbox", &EMAIL_ADDRESS), mr("UserIds", &USER_IDS)]]),
};

// ---------------------------------------------------------------- items

static BODY: TypeDef = TypeDef {
    attrs: &[
        attr("BodyType", true, Simple::Enum(BODY_TYPE_VALUES)),
        attr("IsTruncated", false, Simple::Bool),
    ],
    content: Content::Text(Simple::Str),
};
static STRINGS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::E(el(Ns::T, "String", 0, UNB, &STR))]]),
};
/// SingleRecipientType.
static SINGLE_RECIPIENT: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[tr("Mailbox", &EMAIL_ADDRESS)]]),
};
/// ArrayOfRecipientsType.
static RECIPIENTS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::E(el(Ns::T, "Mailbox", 0, UNB, &EMAIL_ADDRESS))]]),
};
/// AttendeeType.
static ATTENDEE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        tr("Mailbox", &EMAIL_ADDRESS),
        t("ResponseType", &RESPONSE_TYPE_T),
        t("LastResponseTime", &DATETIME),
        t("ProposedStart", &DATETIME),
        t("ProposedEnd", &DATETIME),
    ]]),
};
/// NonEmptyArrayOfAttendeesType.
static ATTENDEES: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::E(el(Ns::T, "Attendee", 1, UNB, &ATTENDEE))]]),
};

/// ItemType's own fields, in schema order.
static ITEM_FIELDS: &[Part] = &[
    t("MimeContent", &ANY),
    t("ItemId", &ITEM_ID),
    t("ParentFolderId", &FOLDER_ID),
    t("ItemClass", &STR),
    t("Subject", &STR),
    t("Sensitivity", &SENSITIVITY_T),
    t("Body", &BODY),
    t("Attachments", &ANY),
    t("DateTimeReceived", &DATETIME),
    t("Size", &INT),
    t("Categories", &STRINGS),
    t("Importance", &IMPORTANCE_T),
    t("InReplyTo", &STR),
    t("IsSubmitted", &BOOL),
    t("IsDraft", &BOOL),
    t("IsFromMe", &BOOL),
    t("IsResend", &BOOL),
    t("IsUnmodified", &BOOL),
    t("InternetMessageHeaders", &ANY),
    t("DateTimeSent", &DATETIME),
    t("DateTimeCreated", &DATETIME),
    t("ResponseObjects", &ANY),
    t("ReminderDueBy", &DATETIME),
    t("ReminderIsSet", &BOOL),
    t("ReminderNextTime", &DATETIME),
    t("ReminderMinutesBeforeStart", &STR),
    t("DisplayCc", &STR),
    t("DisplayTo", &STR),
    t("DisplayBcc", &STR),
    t("HasAttachments", &BOOL),
    Part::E(el(Ns::T, "ExtendedProperty", 0, UNB, &ANY)),
    t("Culture", &STR),
    t("EffectiveRights", &ANY),
    t("LastModifiedName", &STR),
    t("LastModifiedTime", &DATETIME),
    t("IsAssociated", &BOOL),
    t("WebClientReadFormQueryString", &STR),
    t("WebClientEditFormQueryString", &STR),
    t("ConversationId", &ANY),
    t("UniqueBody", &ANY),
    t("Flag", &ANY),
    t("StoreEntryId", &STR),
    t("InstanceKey", &STR),
    t("NormalizedBody", &ANY),
    t("EntityExtractionResult", &ANY),
    t("PolicyTag", &ANY),
    t("ArchiveTag", &ANY),
    t("RetentionDate", &DATETIME),
    t("Preview", &STR),
    t("RightsManagementLicenseData", &ANY),
    t("PredictedActionReasons", &ANY),
    t("IsClutter", &BOOL),
    t("BlockStatus", &BOOL),
    t("HasBlockedImages", &BOOL),
    t("TextBody", &ANY),
    t("IconIndex", &STR),
    t("SearchKey", &STR),
    t("SortKey", &STR),
    t("Hashtags", &ANY),
    t("Mentions", &ANY),
    t("MentionedMe", &BOOL),
    t("MentionsPreview", &ANY),
    t("MentionsEx", &ANY),
    t("AppliedHashtags", &ANY),
    t("AppliedHashtagsPreview", &ANY),
    t("Likes", &ANY),
    t("LikesPreview", &ANY),
    t("PendingSocialActivityTagIds", &ANY),
    t("AtAllMention", &BOOL),
    t("CanDelete", &BOOL),
    t("InferenceClassification", &STR),
];

/// CalendarItemType's own fields, in schema order.
static CALENDAR_FIELDS: &[Part] = &[
    t("UID", &STR),
    t("RecurrenceId", &DATETIME),
    t("DateTimeStamp", &DATETIME),
    t("Start", &DATETIME),
    t("End", &DATETIME),
    t("OriginalStart", &DATETIME),
    t("IsAllDayEvent", &BOOL),
    t("LegacyFreeBusyStatus", &FREE_BUSY_T),
    t("Location", &STR),
    t("When", &STR),
    t("IsMeeting", &BOOL),
    t("IsCancelled", &BOOL),
    t("IsRecurring", &BOOL),
    t("MeetingRequestWasSent", &BOOL),
    t("IsResponseRequested", &BOOL),
    t("CalendarItemType", &STR),
    t("MyResponseType", &RESPONSE_TYPE_T),
    t("Organizer", &SINGLE_RECIPIENT),
    t("RequiredAttendees", &ATTENDEES),
    t("OptionalAttendees", &ATTENDEES),
    t("Resources", &ATTENDEES),
    t("InboxReminders", &ANY),
    t("ConflictingMeetingCount", &INT),
    t("AdjacentMeetingCount", &INT),
    t("ConflictingMeetings", &ANY),
    t("AdjacentMeetings", &ANY),
    t("Duration", &STR),
    t("TimeZone", &STR),
    t("AppointmentReplyTime", &DATETIME),
    t("AppointmentSequenceNumber", &INT),
    t("AppointmentState", &INT),
    t("Recurrence", &ANY),
    t("FirstOccurrence", &ANY),
    t("LastOccurrence", &ANY),
    t("ModifiedOccurrences", &ANY),
    t("DeletedOccurrences", &ANY),
    t("MeetingTimeZone", &ANY),
    t("StartTimeZone", &ANY),
    t("EndTimeZone", &ANY),
    t("ConferenceType", &INT),
    t("AllowNewTimeProposal", &BOOL),
    t("IsOnlineMeeting", &BOOL),
    t("MeetingWorkspaceUrl", &STR),
    t("NetShowUrl", &STR),
    t("EnhancedLocation", &ANY),
    t("StartWallClock", &DATETIME),
    t("EndWallClock", &DATETIME),
    t("StartTimeZoneId", &STR),
    t("EndTimeZoneId", &STR),
    t("IntendedFreeBusyStatus", &FREE_BUSY_T),
    t("JoinOnlineMeetingUrl", &STR),
    t("OnlineMeetingSettings", &ANY),
    t("IsOrganizer", &BOOL),
    t("CalendarActivityData", &ANY),
    t("DoNotForwardMeeting", &BOOL),
];

/// MessageType's own fields, in schema order.
static MESSAGE_FIELDS: &[Part] = &[
    t("Sender", &SINGLE_RECIPIENT),
    t("ToRecipients", &RECIPIENTS),
    t("CcRecipients", &RECIPIENTS),
    t("BccRecipients", &RECIPIENTS),
    t("IsReadReceiptRequested", &BOOL),
    t("IsDeliveryReceiptRequested", &BOOL),
    t("ConversationIndex", &STR),
    t("ConversationTopic", &STR),
    t("From", &SINGLE_RECIPIENT),
    t("InternetMessageId", &STR),
    t("IsRead", &BOOL),
    t("IsResponseRequested", &BOOL),
    t("References", &STR),
    t("ReplyTo", &RECIPIENTS),
    t("ReceivedBy", &SINGLE_RECIPIENT),
    t("ReceivedRepresenting", &SINGLE_RECIPIENT),
    t("ApprovalRequestData", &ANY),
    t("VotingInformation", &ANY),
    t("ReminderMessageData", &ANY),
    t("MessageSafety", &ANY),
    t("SenderSMTPAddress", &ANY),
    t("MailboxGuids", &ANY),
    t("PublishedCalendarItemIcs", &STR),
    t("PublishedCalendarItemName", &STR),
];

static ITEM: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[ITEM_FIELDS]),
};
static CALENDAR_ITEM: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[ITEM_FIELDS, CALENDAR_FIELDS]),
};
static MESSAGE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[ITEM_FIELDS, MESSAGE_FIELDS]),
};

/// NonEmptyArrayOfAllItemsType. Only Item, Message and CalendarItem are checked in
/// depth; the other kinds are accepted by the schema and refused per item later.
static ALL_ITEMS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        UNB,
        &[
            tc("Item", &ITEM),
            tc("Message", &MESSAGE),
            tc("SharingMessage", &ANY),
            tc("CalendarItem", &CALENDAR_ITEM),
            tc("Contact", &ANY),
            tc("DistributionList", &ANY),
            tc("MeetingMessage", &ANY),
            tc("MeetingRequest", &ANY),
            tc("MeetingResponse", &ANY),
            tc("MeetingCancellation", &ANY),
            tc("Task", &ANY),
            tc("PostItem", &ANY),
            tc("ReplyToItem", &ANY),
            tc("ForwardItem", &ANY),
            tc("ReplyAllToItem", &ANY),
            tc("AcceptItem", &MEETING_RESPONSE),
            tc("TentativelyAcceptItem", &MEETING_RESPONSE),
            tc("DeclineItem", &MEETING_RESPONSE),
            tc("CancelCalendarItem", &CANCEL_CALENDAR_ITEM),
            tc("RemoveItem", &ANY),
            tc("SuppressReadReceipt", &ANY),
            tc("PostReplyItem", &ANY),
            tc("AcceptSharingInvitation", &ANY),
            tc("RoleMember", &ANY),
            tc("Network", &ANY),
            tc("Person", &ANY),
        ],
    )]]),
};

/// CancelCalendarItemType (SmartResponseType: SmartResponseBaseType's restriction of
/// ResponseObjectType, then NewBodyContent).
static CANCEL_CALENDAR_ITEM: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        t("Subject", &STR),
        t("Body", &BODY),
        t("ToRecipients", &RECIPIENTS),
        t("CcRecipients", &RECIPIENTS),
        t("BccRecipients", &RECIPIENTS),
        t("IsReadReceiptRequested", &BOOL),
        t("IsDeliveryReceiptRequested", &BOOL),
        t("From", &SINGLE_RECIPIENT),
        t("ReferenceItemId", &ITEM_ID),
        t("NewBodyContent", &BODY),
    ]]),
};

/// AcceptItemType, TentativelyAcceptItemType, DeclineItemType
/// (MeetingRegistrationResponseObjectType: WellKnownResponseObjectType's restriction of
/// ResponseObjectType, then ProposedStart and ProposedEnd).
static MEETING_RESPONSE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        t("ItemClass", &STR),
        t("Sensitivity", &SENSITIVITY_T),
        t("Body", &BODY),
        t("Attachments", &ANY),
        t("InternetMessageHeaders", &ANY),
        t("Sender", &SINGLE_RECIPIENT),
        t("ToRecipients", &RECIPIENTS),
        t("CcRecipients", &RECIPIENTS),
        t("BccRecipients", &RECIPIENTS),
        t("IsReadReceiptRequested", &BOOL),
        t("IsDeliveryReceiptRequested", &BOOL),
        t("From", &SINGLE_RECIPIENT),
        t("ReferenceItemId", &ITEM_ID),
        t("ProposedStart", &DATETIME),
        t("ProposedEnd", &DATETIME),
    ]]),
};

/// The path of a change (ChangeDescriptionType): FieldURI, IndexedFieldURI or
/// ExtendedFieldURI, one or more.
const CHANGE_PATH: Part = Part::C(
    1,
    UNB,
    &[
        tc("FieldURI", &FIELD_URI),
        tc("IndexedFieldURI", &ANY),
        tc("ExtendedFieldURI", &ANY),
    ],
);
/// The item of a SetItemField / AppendToItemField: one of the item elements.
const CHANGE_ITEM: Part = Part::C(
    1,
    1,
    &[
        tc("Item", &ITEM),
        tc("Message", &MESSAGE),
        tc("SharingMessage", &ANY),
        tc("CalendarItem", &CALENDAR_ITEM),
        tc("Contact", &ANY),
        tc("DistributionList", &ANY),
        tc("MeetingMessage", &ANY),
        tc("MeetingRequest", &ANY),
        tc("MeetingResponse", &ANY),
        tc("MeetingCancellation", &ANY),
        tc("Task", &ANY),
        tc("PostItem", &ANY),
        tc("RoleMember", &ANY),
        tc("Network", &ANY),
        tc("Person", &ANY),
    ],
);
/// SetItemFieldType, AppendToItemFieldType.
static SET_ITEM_FIELD: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[CHANGE_PATH, CHANGE_ITEM]]),
};
/// DeleteItemFieldType.
static DELETE_ITEM_FIELD: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[CHANGE_PATH]]),
};
/// NonEmptyArrayOfItemChangeDescriptionsType.
static ITEM_UPDATES: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        UNB,
        &[
            tc("AppendToItemField", &SET_ITEM_FIELD),
            tc("SetItemField", &SET_ITEM_FIELD),
            tc("DeleteItemField", &DELETE_ITEM_FIELD),
        ],
    )]]),
};
/// ItemChangeType.
static ITEM_CHANGE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        Part::C(
            1,
            1,
            &[
                tc("ItemId", &ITEM_ID),
                tc("OccurrenceItemId", &OCCURRENCE_ITEM_ID),
                tc("RecurringMasterItemId", &RECURRING_MASTER_ITEM_ID),
            ],
        ),
        tr("Updates", &ITEM_UPDATES),
        t("CalendarActivityData", &ANY),
    ]]),
};
/// NonEmptyArrayOfItemChangesType.
static ITEM_CHANGES: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::E(el(Ns::T, "ItemChange", 1, UNB, &ITEM_CHANGE))]]),
};
const CONFLICT_RESOLUTION: &[&str] = &["NeverOverwrite", "AutoResolve", "AlwaysOverwrite"];
const CALENDAR_UPDATE_OPERATIONS: &[&str] = &[
    "SendToNone",
    "SendOnlyToAll",
    "SendOnlyToChanged",
    "SendToAllAndSaveCopy",
    "SendToChangedAndSaveCopy",
];
static UPDATE_ITEM: TypeDef = TypeDef {
    attrs: &[
        attr(
            "ConflictResolution",
            true,
            Simple::Enum(CONFLICT_RESOLUTION),
        ),
        attr(
            "MessageDisposition",
            false,
            Simple::Enum(MESSAGE_DISPOSITIONS),
        ),
        attr(
            "SendMeetingInvitationsOrCancellations",
            false,
            Simple::Enum(CALENDAR_UPDATE_OPERATIONS),
        ),
        attr("SuppressReadReceipts", false, Simple::Bool),
    ],
    content: Content::Seq(&[&[
        m("SavedItemFolderId", &TARGET_FOLDER_ID),
        mr("ItemChanges", &ITEM_CHANGES),
    ]]),
};

static CREATE_ITEM: TypeDef = TypeDef {
    attrs: &[
        attr(
            "MessageDisposition",
            false,
            Simple::Enum(MESSAGE_DISPOSITIONS),
        ),
        attr(
            "SendMeetingInvitations",
            false,
            Simple::Enum(CREATE_OR_DELETE),
        ),
    ],
    content: Content::Seq(&[&[
        m("SavedItemFolderId", &TARGET_FOLDER_ID),
        mr("Items", &ALL_ITEMS),
    ]]),
};

/// ItemResponseShapeType.
static ITEM_SHAPE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        tr("BaseShape", &SHAPE_T),
        t("IncludeMimeContent", &BOOL),
        t("BodyType", &BODY_TYPE_T),
        t("UniqueBodyType", &BODY_TYPE_T),
        t("NormalizedBodyType", &BODY_TYPE_T),
        t("FilterHtmlContent", &BOOL),
        t("ConvertHtmlCodePageToUTF8", &BOOL),
        t("InlineImageUrlTemplate", &STR),
        t("BlockExternalImages", &BOOL),
        t("AddBlankTargetToLinks", &BOOL),
        t("MaximumBodySize", &INT),
        t("AdditionalProperties", &PATHS),
    ]]),
};
static FIELD_URI: TypeDef = TypeDef {
    attrs: &[attr("FieldURI", true, Simple::NonEmpty)],
    content: Content::Empty,
};
static PATHS: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        UNB,
        &[
            tc("FieldURI", &FIELD_URI),
            tc("IndexedFieldURI", &ANY),
            tc("ExtendedFieldURI", &ANY),
        ],
    )]]),
};

static GET_ITEM: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[mr("ItemShape", &ITEM_SHAPE), mr("ItemIds", &BASE_ITEM_IDS)]]),
};

static INDEXED_PAGE_VIEW: TypeDef = TypeDef {
    attrs: &[
        attr("MaxEntriesReturned", false, Simple::Int),
        attr("Offset", true, Simple::Int),
        attr("BasePoint", true, Simple::Enum(BASE_POINT)),
    ],
    content: Content::Empty,
};
static CALENDAR_VIEW: TypeDef = TypeDef {
    attrs: &[
        attr("MaxEntriesReturned", false, Simple::Int),
        attr("StartDate", true, Simple::DateTime),
        attr("EndDate", true, Simple::DateTime),
    ],
    content: Content::Empty,
};
static FIND_ITEM: TypeDef = TypeDef {
    attrs: &[attr("Traversal", true, Simple::Enum(TRAVERSAL))],
    content: Content::Seq(&[&[
        mr("ItemShape", &ITEM_SHAPE),
        Part::C(
            0,
            1,
            &[
                el(Ns::M, "IndexedPageItemView", 1, 1, &INDEXED_PAGE_VIEW),
                el(Ns::M, "FractionalPageItemView", 1, 1, &ANY),
                el(Ns::M, "SeekToConditionPageItemView", 1, 1, &ANY),
                el(Ns::M, "CalendarView", 1, 1, &CALENDAR_VIEW),
                el(Ns::M, "ContactsView", 1, 1, &ANY),
            ],
        ),
        Part::C(
            0,
            1,
            &[
                el(Ns::M, "GroupBy", 1, 1, &ANY),
                el(Ns::M, "DistinguishedGroupBy", 1, 1, &ANY),
            ],
        ),
        m("Restriction", &ANY),
        m("SortOrder", &ANY),
        mr("ParentFolderIds", &BASE_FOLDER_IDS),
        m("QueryString", &ANY),
    ]]),
};

const FOLDER_SHAPES: &[&str] = &["IdOnly", "Default", "AllProperties"];
static FOLDER_SHAPE_T: TypeDef = text(Simple::Enum(FOLDER_SHAPES));
/// FolderResponseShapeType.
static FOLDER_SHAPE: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        tr("BaseShape", &FOLDER_SHAPE_T),
        t("AdditionalProperties", &PATHS),
    ]]),
};
static GET_FOLDER: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[
        mr("FolderShape", &FOLDER_SHAPE),
        mr("FolderIds", &BASE_FOLDER_IDS),
    ]]),
};

static DELETE_ITEM: TypeDef = TypeDef {
    attrs: &[
        attr("DeleteType", true, Simple::Enum(DISPOSAL)),
        attr(
            "SendMeetingCancellations",
            false,
            Simple::Enum(CREATE_OR_DELETE),
        ),
        attr(
            "AffectedTaskOccurrences",
            false,
            Simple::Enum(AFFECTED_TASKS),
        ),
        attr("SuppressReadReceipts", false, Simple::Bool),
    ],
    content: Content::Seq(&[&[mr("ItemIds", &BASE_ITEM_IDS)]]),
};

// ---------------------------------------------------------------- headers

static REQUEST_SERVER_VERSION: TypeDef = TypeDef {
    attrs: &[attr("Version", true, Simple::Enum(VERSIONS))],
    content: Content::Empty,
};
static CONNECTING_SID: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[Part::C(
        1,
        1,
        &[
            tc("PrincipalName", &NON_EMPTY),
            tc("SID", &NON_EMPTY),
            tc("PrimarySmtpAddress", &NON_EMPTY),
            tc("SmtpAddress", &NON_EMPTY),
        ],
    )]]),
};
static EXCHANGE_IMPERSONATION: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[tr("ConnectingSID", &CONNECTING_SID)]]),
};
static TIME_ZONE_DEFINITION: TypeDef = TypeDef {
    attrs: &[
        attr("Id", false, Simple::Str),
        attr("Name", false, Simple::Str),
    ],
    content: Content::Seq(&[&[
        t("Periods", &ANY),
        t("TransitionsGroups", &ANY),
        t("Transitions", &ANY),
    ]]),
};
static TIME_ZONE_CONTEXT: TypeDef = TypeDef {
    attrs: &[],
    content: Content::Seq(&[&[tr("TimeZoneDefinition", &TIME_ZONE_DEFINITION)]]),
};
static PRECISION_T: TypeDef = text(Simple::Enum(PRECISION));
static MAILBOX_CULTURE: TypeDef = text(Simple::NonEmpty);

/// The schema type of a SOAP header element (all in the types namespace), if known.
pub(crate) fn header_type(local: &str) -> Option<&'static TypeDef> {
    Some(match local {
        "RequestServerVersion" => &REQUEST_SERVER_VERSION,
        "ExchangeImpersonation" => &EXCHANGE_IMPERSONATION,
        "MailboxCulture" => &MAILBOX_CULTURE,
        "TimeZoneContext" => &TIME_ZONE_CONTEXT,
        "DateTimePrecision" => &PRECISION_T,
        "ManagementRole" => &ANY,
        _ => return None,
    })
}

/// The schema type of an operation element served by the simulator (messages namespace).
pub(crate) fn operation_type(local: &str) -> Option<&'static TypeDef> {
    Some(match local {
        "AddDelegate" => &ADD_DELEGATE,
        "GetDelegate" => &GET_DELEGATE,
        "UpdateDelegate" => &UPDATE_DELEGATE,
        "RemoveDelegate" => &REMOVE_DELEGATE,
        "CreateItem" => &CREATE_ITEM,
        "UpdateItem" => &UPDATE_ITEM,
        "GetItem" => &GET_ITEM,
        "FindItem" => &FIND_ITEM,
        "DeleteItem" => &DELETE_ITEM,
        "GetFolder" => &GET_FOLDER,
        _ => return None,
    })
}

// ---------------------------------------------------------------- validation

/// A schema violation, located at an element of the request.
#[derive(Debug, Clone)]
pub(crate) struct Violation {
    /// The node the violation is reported at (its byte offset in the request).
    pub(crate) pos: usize,
    /// The violation text, worded like .NET's schema validator.
    pub(crate) text: String,
}

fn qname(node: Node<'_, '_>) -> String {
    format!(
        "'{}' in namespace '{}'",
        node.tag_name().name(),
        node.tag_name().namespace().unwrap_or("")
    )
}

/// Validates `node` (already known to be the element of type `def`).
pub(crate) fn validate(node: Node<'_, '_>, def: &TypeDef) -> Result<(), Violation> {
    if matches!(def.content, Content::Any) {
        // Not modelled: neither attributes nor content are checked.
        return Ok(());
    }
    check_attrs(node, def)?;
    match &def.content {
        Content::Any => Ok(()),
        Content::Empty => {
            if let Some(child) = node.children().find(|c| c.is_element()) {
                return Err(Violation {
                    pos: child.range().start,
                    text: format!(
                        "The element {} cannot contain child element {} because the parent element's content model is empty.",
                        qname(node),
                        qname(child)
                    ),
                });
            }
            check_no_text(node)
        }
        Content::Text(simple) => {
            if let Some(child) = node.children().find(|c| c.is_element()) {
                return Err(Violation {
                    pos: child.range().start,
                    text: format!(
                        "The element {} cannot contain child element {} because the parent element's content model is text only.",
                        qname(node),
                        qname(child)
                    ),
                });
            }
            let value: String = node.children().filter_map(|c| c.text()).collect();
            if simple.check(&value) {
                Ok(())
            } else {
                Err(Violation {
                    pos: node.range().start,
                    text: format!(
                        "The '{}' element is invalid - The value '{}' is invalid according to its datatype.",
                        node.tag_name().name(),
                        value
                    ),
                })
            }
        }
        Content::Seq(segments) => {
            check_no_text(node)?;
            check_sequence(node, segments)
        }
    }
}

fn check_no_text(node: Node<'_, '_>) -> Result<(), Violation> {
    for child in node.children() {
        if child.is_text() && child.text().is_some_and(|t| !t.trim().is_empty()) {
            return Err(Violation {
                pos: node.range().start,
                text: format!(
                    "The element {} cannot contain text. List of possible elements expected: see schema.",
                    qname(node)
                ),
            });
        }
    }
    Ok(())
}

fn check_attrs(node: Node<'_, '_>, def: &TypeDef) -> Result<(), Violation> {
    for a in node.attributes() {
        if a.namespace().is_some() {
            // xsi:type, xml:lang and friends are not checked.
            continue;
        }
        match def.attrs.iter().find(|d| d.name == a.name()) {
            None => {
                return Err(Violation {
                    pos: node.range().start,
                    text: format!("The '{}' attribute is not declared.", a.name()),
                });
            }
            Some(d) => {
                if !d.ty.check(a.value()) {
                    return Err(Violation {
                        pos: node.range().start,
                        text: format!(
                            "The '{}' attribute is invalid - The value '{}' is invalid according to its datatype.",
                            a.name(),
                            a.value()
                        ),
                    });
                }
            }
        }
    }
    for d in def.attrs.iter().filter(|d| d.required) {
        if node.attribute(d.name).is_none() {
            return Err(Violation {
                pos: node.range().start,
                text: format!("The required attribute '{}' is missing.", d.name),
            });
        }
    }
    Ok(())
}

fn expected_from(parts: &[&Part], from: usize) -> String {
    let mut names = Vec::new();
    for p in parts.iter().skip(from) {
        p.names(&mut names);
        if p.min() > 0 {
            break;
        }
    }
    if names.is_empty() {
        String::new()
    } else {
        format!(
            " List of possible elements expected: '{}'.",
            names.join(", ")
        )
    }
}

fn check_sequence(node: Node<'_, '_>, segments: &[&'static [Part]]) -> Result<(), Violation> {
    let parts: Vec<&Part> = segments.iter().flat_map(|s| s.iter()).collect();
    let mut i = 0usize;
    let mut count = 0u32;
    for child in node.children().filter(|c| c.is_element()) {
        loop {
            let Some(part) = parts.get(i) else {
                return Err(Violation {
                    pos: child.range().start,
                    text: format!(
                        "The element {} has invalid child element {}.",
                        qname(node),
                        qname(child)
                    ),
                });
            };
            if count < part.max() {
                if let Some(e) = part.find(child) {
                    count += 1;
                    validate(child, e.ty)?;
                    break;
                }
            }
            if count < part.min() {
                return Err(Violation {
                    pos: child.range().start,
                    text: format!(
                        "The element {} has invalid child element {}.{}",
                        qname(node),
                        qname(child),
                        expected_from(&parts, i)
                    ),
                });
            }
            i += 1;
            count = 0;
            if i >= parts.len() {
                return Err(Violation {
                    pos: child.range().start,
                    text: format!(
                        "The element {} has invalid child element {}.",
                        qname(node),
                        qname(child)
                    ),
                });
            }
        }
    }
    // Whatever is left must be optional.
    let mut j = i;
    let mut c = count;
    while let Some(part) = parts.get(j) {
        if c < part.min() {
            return Err(Violation {
                pos: node.range().start,
                text: format!(
                    "The element {} has incomplete content.{}",
                    qname(node),
                    expected_from(&parts, j)
                ),
            });
        }
        j += 1;
        c = 0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(xml: &str, def: &TypeDef) -> Result<(), Violation> {
        let doc = roxmltree::Document::parse(xml).map_err(|e| Violation {
            pos: 0,
            text: e.to_string(),
        })?;
        validate(doc.root_element(), def)
    }

    const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

    #[test]
    fn delegate_user_order() {
        let ok = format!(
            "<DelegateUser xmlns='{T}'><UserId><PrimarySmtpAddress>a</PrimarySmtpAddress></UserId><ViewPrivateItems>true</ViewPrivateItems></DelegateUser>"
        );
        assert!(check(&ok, &DELEGATE_USER).is_ok());
        let bad = format!(
            "<DelegateUser xmlns='{T}'><UserId/><ViewPrivateItems>true</ViewPrivateItems><ReceiveCopiesOfMeetingMessages>true</ReceiveCopiesOfMeetingMessages></DelegateUser>"
        );
        assert!(check(&bad, &DELEGATE_USER).is_err());
        let missing = format!("<DelegateUser xmlns='{T}'/>");
        let err = check(&missing, &DELEGATE_USER).err().map(|v| v.text);
        assert!(err.is_some_and(|t| t.contains("incomplete content")));
        let bad_value = format!(
            "<DelegateUser xmlns='{T}'><UserId/><ViewPrivateItems>maybe</ViewPrivateItems></DelegateUser>"
        );
        assert!(check(&bad_value, &DELEGATE_USER).is_err());
    }

    #[test]
    fn datetime_shape() {
        assert!(looks_like_datetime("2025-06-02T15:00:00Z"));
        assert!(looks_like_datetime("2025-06-02T15:00:00"));
        assert!(!looks_like_datetime("2025-06-02"));
        assert!(!looks_like_datetime("tomorrow at ten o'clock"));
    }
}
