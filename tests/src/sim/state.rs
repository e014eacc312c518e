//! Mailbox state: users, delegates, folders and items, plus the public snapshot types.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::SimUser;

/// A delegate permission level on one of the principal's folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub enum PermissionLevel {
    /// No access.
    #[default]
    None,
    /// Read items.
    Reviewer,
    /// Read and create items, change and delete own items.
    Author,
    /// Read, create, change and delete all items.
    Editor,
    /// A custom set of rights (treated as no access by the simulator's checks).
    Custom,
}

impl PermissionLevel {
    /// Parses the schema value (`None`, `Reviewer`, `Author`, `Editor`, `Custom`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "None" => PermissionLevel::None,
            "Reviewer" => PermissionLevel::Reviewer,
            "Author" => PermissionLevel::Author,
            "Editor" => PermissionLevel::Editor,
            "Custom" => PermissionLevel::Custom,
            _ => return None,
        })
    }

    /// The schema value.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionLevel::None => "None",
            PermissionLevel::Reviewer => "Reviewer",
            PermissionLevel::Author => "Author",
            PermissionLevel::Editor => "Editor",
            PermissionLevel::Custom => "Custom",
        }
    }

    /// Rank used for access checks: None/Custom 0, Reviewer 1, Author 2, Editor 3.
    pub(crate) fn rank(self) -> u8 {
        match self {
            PermissionLevel::None | PermissionLevel::Custom => 0,
            PermissionLevel::Reviewer => 1,
            PermissionLevel::Author => 2,
            PermissionLevel::Editor => 3,
        }
    }
}

/// The six delegate folder permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Permissions {
    /// Calendar folder.
    pub calendar: PermissionLevel,
    /// Tasks folder.
    pub tasks: PermissionLevel,
    /// Inbox folder.
    pub inbox: PermissionLevel,
    /// Contacts folder.
    pub contacts: PermissionLevel,
    /// Notes folder.
    pub notes: PermissionLevel,
    /// Journal folder.
    pub journal: PermissionLevel,
}

impl Permissions {
    /// The level for a distinguished folder name, if delegates can be granted access to it.
    pub fn for_folder(&self, folder: &str) -> Option<PermissionLevel> {
        Some(match folder {
            "calendar" => self.calendar,
            "tasks" => self.tasks,
            "inbox" => self.inbox,
            "contacts" => self.contacts,
            "notes" => self.notes,
            "journal" => self.journal,
            _ => return None,
        })
    }
}

/// One delegate of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegateSnapshot {
    /// The delegate's primary SMTP address.
    pub smtp: String,
    /// Folder permissions.
    pub permissions: Permissions,
    /// ReceiveCopiesOfMeetingMessages.
    pub receive_copies_of_meeting_messages: bool,
    /// ViewPrivateItems.
    pub view_private_items: bool,
}

/// The kind of a stored item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum ItemKind {
    /// t:CalendarItem.
    CalendarItem,
    /// t:Message.
    Message,
    /// t:MeetingRequest.
    MeetingRequest,
    /// t:MeetingCancellation.
    MeetingCancellation,
    /// t:MeetingResponse (an attendee's accept, tentative or decline, to the organizer).
    MeetingResponse,
}

impl ItemKind {
    /// The element name used in responses.
    pub fn element(self) -> &'static str {
        match self {
            ItemKind::CalendarItem => "CalendarItem",
            ItemKind::Message => "Message",
            ItemKind::MeetingRequest => "MeetingRequest",
            ItemKind::MeetingCancellation => "MeetingCancellation",
            ItemKind::MeetingResponse => "MeetingResponse",
        }
    }
}

/// A mailbox address (EmailAddressType: Name, EmailAddress).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Address {
    /// Display name.
    pub name: Option<String>,
    /// SMTP address.
    pub email: String,
}

/// A series' recurrence as sent (`t:Recurrence`): the pattern element and its fields, the
/// range element and its fields, as schema strings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RecurrenceSnapshot {
    /// The pattern element: `DailyRecurrence`, `WeeklyRecurrence`,
    /// `AbsoluteMonthlyRecurrence`, `RelativeMonthlyRecurrence`,
    /// `AbsoluteYearlyRecurrence` or `RelativeYearlyRecurrence`.
    pub pattern: String,
    /// Interval (1 for the yearly patterns, which have none).
    pub interval: u32,
    /// DaysOfWeek (a list for weekly; one DayOfWeekType value for the relative patterns).
    pub days_of_week: Vec<String>,
    /// FirstDayOfWeek (weekly; Sunday when absent).
    pub first_day_of_week: Option<String>,
    /// DayOfMonth (absolute patterns).
    pub day_of_month: Option<u32>,
    /// DayOfWeekIndex (relative patterns: First .. Fourth, Last).
    pub day_of_week_index: Option<String>,
    /// Month (yearly patterns).
    pub month: Option<String>,
    /// The range element: `NoEndRecurrence`, `EndDateRecurrence` or `NumberedRecurrence`.
    pub range: String,
    /// StartDate (`YYYY-MM-DD`, a date of the series' time zone).
    pub start_date: String,
    /// EndDate (inclusive).
    pub end_date: Option<String>,
    /// NumberOfOccurrences.
    pub count: Option<u32>,
}

/// What a change of one occurrence of a series made of it (an exception).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OccurrenceChange {
    /// New Start.
    pub start: Option<String>,
    /// New End.
    pub end: Option<String>,
    /// New Subject.
    pub subject: Option<String>,
    /// New Location.
    pub location: Option<String>,
    /// New LegacyFreeBusyStatus.
    pub legacy_free_busy_status: Option<String>,
}

/// An attendee's answer as the organizer's calendar item records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedResponse {
    /// ResponseType: `Accept`, `Tentative` or `Decline`.
    pub response_type: String,
    /// LastResponseTime (when the response reached the organizer).
    pub last_response_time: String,
}

/// A stored item, as kept by the simulator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSnapshot {
    /// ItemId/@Id.
    pub id: String,
    /// ItemId/@ChangeKey.
    pub change_key: String,
    /// Kind of item.
    pub kind: ItemKind,
    /// Mailbox that holds the item.
    pub owner: String,
    /// Distinguished folder name that holds the item (`calendar`, `inbox`, `sentitems`...).
    pub folder: String,
    /// ItemClass, e.g. `IPM.Appointment`, `IPM.Schedule.Meeting.Request`.
    pub item_class: String,
    /// Subject.
    pub subject: Option<String>,
    /// Body type (`HTML` or `Text`) and text.
    pub body: Option<(String, String)>,
    /// Sensitivity.
    pub sensitivity: Option<String>,
    /// Importance.
    pub importance: Option<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Creation time (simulator clock, UTC).
    pub created: String,
    /// Start.
    pub start: Option<String>,
    /// End.
    pub end: Option<String>,
    /// IsAllDayEvent.
    pub is_all_day_event: Option<bool>,
    /// LegacyFreeBusyStatus.
    pub legacy_free_busy_status: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Meeting UID shared by the calendar item and its meeting messages.
    pub uid: Option<String>,
    /// IsMeeting.
    pub is_meeting: bool,
    /// IsCancelled.
    pub is_cancelled: bool,
    /// MyResponseType of an attendee's calendar item (`Accept`, `Tentative`); None for
    /// the organizer's item (`Organizer`) and for items that are no meeting (`Unknown`).
    pub my_response_type: Option<String>,
    /// MeetingRequestWasSent.
    pub meeting_request_was_sent: bool,
    /// Organizer (the principal).
    pub organizer: Option<Address>,
    /// RequiredAttendees.
    pub required_attendees: Vec<Address>,
    /// OptionalAttendees.
    pub optional_attendees: Vec<Address>,
    /// Resources.
    pub resources: Vec<Address>,
    /// Sender (who actually sent: the delegate when sent on behalf).
    pub sender: Option<Address>,
    /// From (on whose behalf: the principal).
    pub from: Option<Address>,
    /// ToRecipients.
    pub to_recipients: Vec<Address>,
    /// CcRecipients.
    pub cc_recipients: Vec<Address>,
    /// IsRead.
    pub is_read: bool,
    /// The authenticated (or impersonated) account that created the item.
    pub created_by: String,
    /// The principal's DeliverMeetingRequests setting when the meeting was created (where
    /// attendee responses go). Set on calendar items that are meetings.
    pub deliver_meeting_requests: Option<String>,
    /// For meeting messages delivered to a principal as information only
    /// (DelegatesAndSendInformationToMe).
    pub informational: bool,
    /// For meeting messages: the mailbox the message was addressed to when it was
    /// delivered to a delegate as a copy (ReceivedRepresenting).
    pub received_representing: Option<String>,
    /// ReminderIsSet, when set by a request.
    pub reminder_is_set: Option<bool>,
    /// ReminderMinutesBeforeStart, when set by a request.
    pub reminder_minutes_before_start: Option<String>,
    /// The series' recurrence (a recurring master); None for a single item.
    pub recurrence: Option<RecurrenceSnapshot>,
    /// StartTimeZone Id (or Exchange 2007's MeetingTimeZone TimeZoneName), a Windows id.
    pub start_time_zone: Option<String>,
    /// EndTimeZone Id.
    pub end_time_zone: Option<String>,
    /// A series' changed occurrences (exceptions), by instance index (1 is the first).
    pub modified_occurrences: BTreeMap<u32, OccurrenceChange>,
    /// A series' deleted occurrences, by instance index.
    pub deleted_occurrences: BTreeSet<u32>,
    /// For an occurrence as a view or GetItem shows it (never stored): its series' id.
    pub occurrence_of: Option<String>,
    /// For an occurrence: its instance index.
    pub instance_index: Option<u32>,
    /// The organizer's calendar item: the answers received, by attendee address
    /// (lower case).
    pub responses: BTreeMap<String, RecordedResponse>,
    /// AppointmentSequenceNumber: how many updates the meeting has had; a meeting
    /// request carries the number of the version it announces.
    pub sequence: u32,
    /// A meeting request announcing a change of a meeting sent before (MeetingRequestType
    /// `FullUpdate`), not a new meeting.
    pub is_update: bool,
    /// Earlier change keys of the item, oldest first, each with the properties (FieldURI
    /// names, e.g. `calendar:Start`) the write that retired it changed.
    pub change_log: Vec<(String, Vec<String>)>,
}

impl ItemSnapshot {
    pub(crate) fn new(kind: ItemKind, owner: &str, folder: &str, created_by: &str) -> Self {
        ItemSnapshot {
            id: String::new(),
            change_key: String::new(),
            kind,
            owner: owner.to_string(),
            folder: folder.to_string(),
            item_class: match kind {
                ItemKind::CalendarItem => "IPM.Appointment",
                ItemKind::Message => "IPM.Note",
                ItemKind::MeetingRequest => "IPM.Schedule.Meeting.Request",
                ItemKind::MeetingCancellation => "IPM.Schedule.Meeting.Canceled",
                ItemKind::MeetingResponse => "IPM.Schedule.Meeting.Resp.Pos",
            }
            .to_string(),
            subject: None,
            body: None,
            sensitivity: None,
            importance: None,
            categories: Vec::new(),
            created: String::new(),
            start: None,
            end: None,
            is_all_day_event: None,
            legacy_free_busy_status: None,
            location: None,
            uid: None,
            is_meeting: false,
            is_cancelled: false,
            my_response_type: None,
            meeting_request_was_sent: false,
            organizer: None,
            required_attendees: Vec::new(),
            optional_attendees: Vec::new(),
            resources: Vec::new(),
            sender: None,
            from: None,
            to_recipients: Vec::new(),
            cc_recipients: Vec::new(),
            is_read: false,
            created_by: created_by.to_string(),
            deliver_meeting_requests: None,
            informational: false,
            received_representing: None,
            reminder_is_set: None,
            reminder_minutes_before_start: None,
            recurrence: None,
            start_time_zone: None,
            end_time_zone: None,
            modified_occurrences: BTreeMap::new(),
            deleted_occurrences: BTreeSet::new(),
            occurrence_of: None,
            instance_index: None,
            responses: BTreeMap::new(),
            sequence: 0,
            is_update: false,
            change_log: Vec::new(),
        }
    }

    /// All attendees (required, optional, resources).
    pub fn attendees(&self) -> impl Iterator<Item = &Address> {
        self.required_attendees
            .iter()
            .chain(&self.optional_attendees)
            .chain(&self.resources)
    }
}

/// A snapshot of one mailbox, for assertions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxSnapshot {
    /// Primary SMTP address.
    pub smtp: String,
    /// Delegates, in the order they were added.
    pub delegates: Vec<DelegateSnapshot>,
    /// DeliverMeetingRequests (principal-level setting).
    pub deliver_meeting_requests: String,
    /// Items of the calendar folder.
    pub calendar: Vec<ItemSnapshot>,
    /// Items of the inbox.
    pub inbox: Vec<ItemSnapshot>,
    /// Items of Sent Items.
    pub sent_items: Vec<ItemSnapshot>,
    /// Items of Drafts.
    pub drafts: Vec<ItemSnapshot>,
    /// Items of Deleted Items.
    pub deleted_items: Vec<ItemSnapshot>,
    /// Meeting requests delivered to inboxes for meetings organized in this mailbox.
    pub invitations_sent: u32,
    /// Meeting cancellations delivered for meetings organized in this mailbox.
    pub cancellations_sent: u32,
    /// Meeting requests this mailbox received.
    pub invitations_received: u32,
    /// Meeting cancellations this mailbox received.
    pub cancellations_received: u32,
    /// Meeting responses (accept, tentative, decline) this mailbox received.
    pub responses_received: u32,
    /// Meeting updates (UpdateItem with a send mode) delivered for meetings organized in
    /// this mailbox, one per attendee reached.
    pub updates_sent: u32,
    /// Meeting updates this mailbox received.
    pub updates_received: u32,
}

/// Internal mailbox.
#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    pub(crate) delegates: Vec<DelegateSnapshot>,
    pub(crate) deliver_meeting_requests: String,
    pub(crate) items: Vec<ItemSnapshot>,
    pub(crate) invitations_sent: u32,
    pub(crate) cancellations_sent: u32,
    pub(crate) invitations_received: u32,
    pub(crate) cancellations_received: u32,
    pub(crate) responses_received: u32,
    pub(crate) updates_sent: u32,
    pub(crate) updates_received: u32,
}

/// Internal user record.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub(crate) user: SimUser,
    pub(crate) can_impersonate: bool,
}

/// The whole simulated organisation.
#[derive(Debug)]
pub(crate) struct State {
    /// The accounts, in the order they were added (never removed: `by_smtp` indexes them).
    pub(crate) users: Vec<UserRec>,
    /// Lower-case SMTP address -> index in `users`: a lookup per request stays O(1) with
    /// thousands of mailboxes.
    by_smtp: std::collections::HashMap<String, usize>,
    /// SID -> index in `users` (the delegate operations name users by SID).
    by_sid: std::collections::HashMap<String, usize>,
    pub(crate) mailboxes: BTreeMap<String, Mailbox>,
    next_id: u64,
    clock: u64,
    /// Fixed ids and clock ([`super::SimConfig::deterministic`]); otherwise the wall clock
    /// and ids that carry a tag of this run, so that no two runs share an id.
    deterministic: bool,
    run_tag: String,
    /// How long a meeting message takes to reach an inbox (`SimConfig::delivery_delay`).
    pub(crate) delivery_delay: std::time::Duration,
    /// Meeting messages on their way: due time, message, kind.
    in_transit: Vec<(std::time::Instant, ItemSnapshot, ItemKind)>,
}

impl State {
    pub(crate) fn new(users: &[SimUser], impersonators: &[String]) -> Self {
        let mut mailboxes = BTreeMap::new();
        let users: Vec<UserRec> = users
            .iter()
            .map(|u| UserRec {
                can_impersonate: impersonators
                    .iter()
                    .any(|i| i.eq_ignore_ascii_case(&u.smtp)),
                user: u.clone(),
            })
            .collect();
        for u in &users {
            mailboxes.insert(
                u.user.smtp.to_ascii_lowercase(),
                Mailbox {
                    delegates: Vec::new(),
                    deliver_meeting_requests: "DelegatesAndSendInformationToMe".into(),
                    items: Vec::new(),
                    invitations_sent: 0,
                    cancellations_sent: 0,
                    invitations_received: 0,
                    cancellations_received: 0,
                    responses_received: 0,
                    updates_sent: 0,
                    updates_received: 0,
                },
            );
        }
        let mut by_smtp = std::collections::HashMap::with_capacity(users.len());
        let mut by_sid = std::collections::HashMap::with_capacity(users.len());
        for (i, u) in users.iter().enumerate() {
            by_smtp.entry(u.user.smtp.to_ascii_lowercase()).or_insert(i);
            by_sid.entry(u.user.sid.clone()).or_insert(i);
        }
        State {
            users,
            by_smtp,
            by_sid,
            mailboxes,
            next_id: 1,
            clock: 0,
            deterministic: true,
            run_tag: String::new(),
            delivery_delay: std::time::Duration::ZERO,
            in_transit: Vec::new(),
        }
    }

    /// Switches between fixed ids and clock (`true`, the default) and the wall clock with
    /// ids tagged by this run (`false`). Call before anything is stored.
    pub(crate) fn set_deterministic(&mut self, deterministic: bool) {
        self.deterministic = deterministic;
        self.run_tag = if deterministic {
            String::new()
        } else {
            run_tag()
        };
    }

    /// Whether ids and clock are fixed.
    pub(crate) fn is_deterministic(&self) -> bool {
        self.deterministic
    }

    /// Adds an account with an empty mailbox, or replaces the account's details (its
    /// mailbox is kept). Returns true when the account is new.
    pub(crate) fn upsert_user(&mut self, user: SimUser, can_impersonate: bool) -> bool {
        let key = user.smtp.to_ascii_lowercase();
        if let Some(&idx) = self.by_smtp.get(&key) {
            let u = &mut self.users[idx];
            if self.by_sid.get(&u.user.sid) == Some(&idx) {
                self.by_sid.remove(&u.user.sid);
            }
            self.by_sid.entry(user.sid.clone()).or_insert(idx);
            u.user = user;
            u.can_impersonate = can_impersonate;
            return false;
        }
        self.by_smtp.insert(key.clone(), self.users.len());
        self.by_sid
            .entry(user.sid.clone())
            .or_insert(self.users.len());
        self.users.push(UserRec {
            user,
            can_impersonate,
        });
        self.mailboxes.entry(key).or_insert_with(|| Mailbox {
            delegates: Vec::new(),
            deliver_meeting_requests: "DelegatesAndSendInformationToMe".into(),
            items: Vec::new(),
            invitations_sent: 0,
            cancellations_sent: 0,
            invitations_received: 0,
            cancellations_received: 0,
            responses_received: 0,
            updates_sent: 0,
            updates_received: 0,
        });
        true
    }

    /// Looks a user up by SMTP address (case-insensitive).
    pub(crate) fn user(&self, smtp: &str) -> Option<&UserRec> {
        let idx = *self.by_smtp.get(&smtp.trim().to_ascii_lowercase())?;
        self.users.get(idx)
    }

    /// Looks a user up by SID.
    pub(crate) fn user_by_sid(&self, sid: &str) -> Option<&UserRec> {
        let idx = *self.by_sid.get(sid.trim())?;
        self.users.get(idx)
    }

    pub(crate) fn user_mut(&mut self, smtp: &str) -> Option<&mut UserRec> {
        let idx = *self.by_smtp.get(&smtp.trim().to_ascii_lowercase())?;
        self.users.get_mut(idx)
    }

    pub(crate) fn mailbox(&self, smtp: &str) -> Option<&Mailbox> {
        self.mailboxes.get(&smtp.trim().to_ascii_lowercase())
    }

    pub(crate) fn mailbox_mut(&mut self, smtp: &str) -> Option<&mut Mailbox> {
        self.mailboxes.get_mut(&smtp.trim().to_ascii_lowercase())
    }

    /// The Address of a known user (display name filled in) or a bare address.
    pub(crate) fn address(&self, smtp: &str) -> Address {
        match self.user(smtp) {
            Some(u) => Address {
                name: Some(u.user.display_name.clone()),
                email: u.user.smtp.clone(),
            },
            None => Address {
                name: None,
                email: smtp.to_string(),
            },
        }
    }

    /// A fresh opaque item id and change key.
    pub(crate) fn new_ids(&mut self) -> (String, String) {
        let n = self.next_id;
        self.next_id += 1;
        let tag = &self.run_tag;
        let item = if tag.is_empty() {
            format!("item:{n:010}")
        } else {
            format!("item:{tag}:{n:010}")
        };
        (
            format!("AAMkAGSim{}", b64(item.as_bytes())),
            format!("DwAAABYAAA{}", b64(format!("ck:{n:06}").as_bytes())),
        )
    }

    /// A fresh meeting UID.
    pub(crate) fn new_uid(&mut self) -> String {
        let n = self.next_id;
        self.next_id += 1;
        if self.run_tag.is_empty() {
            format!("040000008200E00074C5B7101A82E008000000005{n:020}")
        } else {
            format!(
                "040000008200E00074C5B7101A82E00800000000{}{n:012}",
                self.run_tag.to_ascii_uppercase()
            )
        }
    }

    /// The simulator clock as an xs:dateTime: one second per stored item from
    /// 2025-01-01T00:00:00Z when deterministic, else the wall clock (UTC, whole seconds).
    pub(crate) fn now(&mut self) -> String {
        self.clock += 1;
        if !self.deterministic {
            return jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
        }
        let s = self.clock;
        format!(
            "2025-01-01T{:02}:{:02}:{:02}Z",
            (s / 3600) % 24,
            (s / 60) % 60,
            s % 60
        )
    }

    /// Delivers a meeting message to its owner's mailbox, now or after the delivery delay,
    /// counting it in the mailbox's invitations or cancellations on arrival.
    pub(crate) fn deliver(&mut self, item: ItemSnapshot, kind: ItemKind) {
        if self.delivery_delay.is_zero() {
            self.arrive(item, kind);
        } else {
            let due = std::time::Instant::now() + self.delivery_delay;
            self.in_transit.push((due, item, kind));
        }
    }

    /// Lets every meeting message whose delivery delay has passed arrive.
    pub(crate) fn deliver_due(&mut self) {
        let now = std::time::Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.in_transit)
            .into_iter()
            .partition(|(at, _, _)| *at <= now);
        self.in_transit = later;
        for (_, item, kind) in due {
            self.arrive(item, kind);
        }
    }

    fn arrive(&mut self, item: ItemSnapshot, kind: ItemKind) {
        let to = item.owner.clone();
        if kind == ItemKind::MeetingCancellation {
            // An attendee's calendar item for the meeting is marked cancelled on arrival
            // (in the mailbox the cancellation is for, when a delegate receives a copy).
            let attendee = item
                .received_representing
                .clone()
                .unwrap_or_else(|| to.clone());
            if let Some(mb) = self.mailbox_mut(&attendee) {
                for cal in mb.items.iter_mut().filter(|c| {
                    c.kind == ItemKind::CalendarItem
                        && c.uid.is_some()
                        && c.uid == item.uid
                        && !c
                            .organizer
                            .as_ref()
                            .is_some_and(|o| o.email.eq_ignore_ascii_case(&c.owner))
                }) {
                    cal.is_cancelled = true;
                }
            }
        }
        if kind == ItemKind::MeetingResponse {
            self.record_response(&item);
        }
        if kind == ItemKind::MeetingRequest && item.is_update {
            self.apply_update(&item);
        }
        let is_update = item.is_update;
        if self.store(item).is_some() {
            if let Some(mb) = self.mailbox_mut(&to) {
                match kind {
                    ItemKind::MeetingCancellation => mb.cancellations_received += 1,
                    ItemKind::MeetingResponse => mb.responses_received += 1,
                    _ if is_update => mb.updates_received += 1,
                    _ => mb.invitations_received += 1,
                }
            }
        }
    }

    /// A meeting response reaches its organizer: the organizer's calendar item records
    /// the attendee's answer (ResponseType, LastResponseTime) and gets a new change key.
    fn record_response(&mut self, response: &ItemSnapshot) {
        let Some(attendee) = response.from.as_ref().map(|a| a.email.to_ascii_lowercase()) else {
            return;
        };
        let response_type = match response.item_class.as_str() {
            "IPM.Schedule.Meeting.Resp.Pos" => "Accept",
            "IPM.Schedule.Meeting.Resp.Tent" => "Tentative",
            "IPM.Schedule.Meeting.Resp.Neg" => "Decline",
            _ => return,
        };
        let now = self.now();
        let organizer = response.owner.clone();
        let ids: Vec<String> = self
            .mailbox(&organizer)
            .map(|mb| {
                mb.items
                    .iter()
                    .filter(|c| {
                        c.kind == ItemKind::CalendarItem
                            && c.uid.is_some()
                            && c.uid == response.uid
                            && c.organizer
                                .as_ref()
                                .is_some_and(|o| o.email.eq_ignore_ascii_case(&c.owner))
                    })
                    .map(|c| c.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        for id in ids {
            if let Some(cal) = self.find_item_mut(&id) {
                cal.responses.insert(
                    attendee.clone(),
                    RecordedResponse {
                        response_type: response_type.to_string(),
                        last_response_time: now.clone(),
                    },
                );
            }
            self.touch(&id, &["calendar:RequiredAttendees"]);
        }
    }

    /// A meeting update reaches an attendee (or a delegate for one): the attendee's
    /// calendar item for the meeting takes the new times, place and subject.
    fn apply_update(&mut self, update: &ItemSnapshot) {
        let attendee = update
            .received_representing
            .clone()
            .unwrap_or_else(|| update.owner.clone());
        let ids: Vec<String> = self
            .mailbox(&attendee)
            .map(|mb| {
                mb.items
                    .iter()
                    .filter(|c| {
                        c.kind == ItemKind::CalendarItem
                            && c.uid.is_some()
                            && c.uid == update.uid
                            && !c
                                .organizer
                                .as_ref()
                                .is_some_and(|o| o.email.eq_ignore_ascii_case(&c.owner))
                    })
                    .map(|c| c.id.clone())
                    .collect()
            })
            .unwrap_or_default();
        for id in ids {
            if let Some(cal) = self.find_item_mut(&id) {
                if let Some(index) = update.instance_index {
                    // One occurrence changed: the attendee's series gets the exception.
                    cal.modified_occurrences.insert(
                        index,
                        OccurrenceChange {
                            start: update.start.clone(),
                            end: update.end.clone(),
                            subject: update.subject.clone(),
                            location: update.location.clone(),
                            legacy_free_busy_status: None,
                        },
                    );
                    cal.sequence = update.sequence;
                    self.touch(&id, &["calendar:Start", "calendar:End"]);
                    continue;
                }
                cal.subject = update.subject.clone();
                cal.start = update.start.clone();
                cal.end = update.end.clone();
                cal.location = update.location.clone();
                cal.recurrence = update.recurrence.clone();
                cal.start_time_zone = update.start_time_zone.clone();
                cal.end_time_zone = update.end_time_zone.clone();
                cal.required_attendees = update.required_attendees.clone();
                cal.optional_attendees = update.optional_attendees.clone();
                cal.resources = update.resources.clone();
                cal.sequence = update.sequence;
            }
            self.touch(
                &id,
                &["calendar:Start", "calendar:End", "calendar:Location"],
            );
        }
    }

    /// A write of the item `id` that changed `fields`: a new change key, the old one kept
    /// in the item's change log with what changed.
    pub(crate) fn touch(&mut self, id: &str, fields: &[&str]) -> Option<String> {
        let (_, ck) = self.new_ids();
        let item = self.find_item_mut(id)?;
        let old = std::mem::replace(&mut item.change_key, ck.clone());
        item.change_log
            .push((old, fields.iter().map(|f| (*f).to_string()).collect()));
        Some(ck)
    }

    /// Finds an item by id, to change it.
    pub(crate) fn find_item_mut(&mut self, id: &str) -> Option<&mut ItemSnapshot> {
        self.mailboxes
            .values_mut()
            .flat_map(|m| m.items.iter_mut())
            .find(|i| i.id == id)
    }

    /// Stores an item (assigning id, change key and creation time) and returns its id.
    pub(crate) fn store(&mut self, item: ItemSnapshot) -> Option<String> {
        self.store_at(item, None)
    }

    /// Stores an item as [`State::store`] does, with a given creation time if `created` is
    /// set (seeded items).
    pub(crate) fn store_at(
        &mut self,
        mut item: ItemSnapshot,
        created: Option<String>,
    ) -> Option<String> {
        self.mailbox(&item.owner)?;
        let (id, ck) = self.new_ids();
        item.id = id.clone();
        item.change_key = ck;
        let now = self.now();
        item.created = created.unwrap_or(now);
        let mb = self.mailbox_mut(&item.owner)?;
        mb.items.push(item);
        Some(id)
    }

    /// Finds an item by id.
    pub(crate) fn find_item(&self, id: &str) -> Option<&ItemSnapshot> {
        self.mailboxes
            .values()
            .flat_map(|m| m.items.iter())
            .find(|i| i.id == id)
    }

    /// Removes an item by id.
    pub(crate) fn remove_item(&mut self, id: &str) -> Option<ItemSnapshot> {
        for mb in self.mailboxes.values_mut() {
            if let Some(pos) = mb.items.iter().position(|i| i.id == id) {
                return Some(mb.items.remove(pos));
            }
        }
        None
    }

    /// The delegate entry of `delegate` in `principal`'s mailbox.
    pub(crate) fn delegate(&self, principal: &str, delegate: &str) -> Option<&DelegateSnapshot> {
        self.mailbox(principal)?
            .delegates
            .iter()
            .find(|d| d.smtp.eq_ignore_ascii_case(delegate))
    }

    /// Whether `who` may act on `owner`'s `folder` with at least `rank`
    /// (1 Reviewer, 2 Author, 3 Editor): the owner always may, delegates per permission.
    pub(crate) fn folder_access(&self, who: &str, owner: &str, folder: &str, rank: u8) -> bool {
        if who.eq_ignore_ascii_case(owner) {
            return true;
        }
        self.delegate(owner, who)
            .and_then(|d| d.permissions.for_folder(folder))
            .is_some_and(|l| l.rank() >= rank)
    }

    pub(crate) fn snapshot(&self, smtp: &str) -> Option<MailboxSnapshot> {
        let u = self.user(smtp)?;
        let mb = self.mailbox(smtp)?;
        let folder = |f: &str| {
            mb.items
                .iter()
                .filter(|i| i.folder == f)
                .cloned()
                .collect::<Vec<_>>()
        };
        Some(MailboxSnapshot {
            smtp: u.user.smtp.clone(),
            delegates: mb.delegates.clone(),
            deliver_meeting_requests: mb.deliver_meeting_requests.clone(),
            calendar: folder("calendar"),
            inbox: folder("inbox"),
            sent_items: folder("sentitems"),
            drafts: folder("drafts"),
            deleted_items: folder("deleteditems"),
            invitations_sent: mb.invitations_sent,
            cancellations_sent: mb.cancellations_sent,
            invitations_received: mb.invitations_received,
            cancellations_received: mb.cancellations_received,
            responses_received: mb.responses_received,
            updates_sent: mb.updates_sent,
            updates_received: mb.updates_received,
        })
    }
}

/// A tag for this run: eight hex digits from the wall clock and the process id.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    // Folds 64 bits into 32 so that the tag stays short.
    format!("{:08x}", (mixed ^ (mixed >> 32)) as u32)
}

/// Standard base64 (with padding), enough for opaque ids.
pub(crate) fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(char::from(A[(n >> 18) as usize & 63]));
        out.push(char::from(A[(n >> 12) as usize & 63]));
        out.push(if chunk.len() > 1 {
            char::from(A[(n >> 6) as usize & 63])
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            char::from(A[n as usize & 63])
        } else {
            '='
        });
    }
    out
}

/// Decodes standard base64 (used for Basic credentials). Returns None on bad input.
pub(crate) fn unb64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim().trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for chunk in s.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c)? << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for s in ["", "a", "ab", "abc", "user1@example.com:Passw0rd!"] {
            assert_eq!(unb64(&b64(s.as_bytes())).as_deref(), Some(s.as_bytes()));
        }
        assert_eq!(b64(b"user:pass"), "dXNlcjpwYXNz");
        assert!(unb64("!!!!").is_none());
        assert!(unb64("a").is_none());
    }
}
