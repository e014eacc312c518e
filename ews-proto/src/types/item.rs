//! What: calendar items to create, and the calendar items and messages a server returns.

use jiff::Timestamp;

use crate::error::{MalformedKind, ServerError, UsageError};
use crate::soap::ExchangeVersion;
use crate::types::{ItemId, Mailbox, ReportedRecurrence, parse_bool, wire_enum};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

wire_enum! {
    /// `Importance`.
    pub enum Importance {
        /// `Low`.
        Low = "Low",
        /// `Normal`.
        Normal = "Normal",
        /// `High`.
        High = "High",
    }
}

wire_enum! {
    /// `Sensitivity`.
    pub enum Sensitivity {
        /// `Normal`.
        Normal = "Normal",
        /// `Personal`.
        Personal = "Personal",
        /// `Private`.
        Private = "Private",
        /// `Confidential`.
        Confidential = "Confidential",
    }
}

wire_enum! {
    /// `LegacyFreeBusyStatus`: how the meeting shows in free/busy.
    pub enum LegacyFreeBusyStatus {
        /// `Free`.
        Free = "Free",
        /// `Tentative`.
        Tentative = "Tentative",
        /// `Busy`.
        Busy = "Busy",
        /// `OOF` (out of office).
        Oof = "OOF",
        /// `WorkingElsewhere`.
        WorkingElsewhere = "WorkingElsewhere",
        /// `NoData`.
        NoData = "NoData",
    }
}

wire_enum! {
    /// An attendee's `ResponseType`.
    pub enum AttendeeResponse {
        /// `Unknown`.
        Unknown = "Unknown",
        /// `Organizer`.
        Organizer = "Organizer",
        /// `Tentative`.
        Tentative = "Tentative",
        /// `Accept`.
        Accept = "Accept",
        /// `Decline`.
        Decline = "Decline",
        /// `NoResponseReceived`.
        NoResponseReceived = "NoResponseReceived",
    }
}

wire_enum! {
    /// A calendar item's `CalendarItemType`: a single appointment, or part of a series.
    pub enum CalendarItemType {
        /// `Single`: not recurring.
        Single = "Single",
        /// `Occurrence`: an unchanged occurrence of a series.
        Occurrence = "Occurrence",
        /// `Exception`: an occurrence changed from its series.
        Exception = "Exception",
        /// `RecurringMaster`: the series itself.
        RecurringMaster = "RecurringMaster",
    }
}

wire_enum! {
    /// A meeting request's `MeetingRequestType`.
    pub enum MeetingRequestType {
        /// `None`.
        None = "None",
        /// `FullUpdate`: the meeting changed in time or place.
        FullUpdate = "FullUpdate",
        /// `InformationalUpdate`: a change that needs no new answer.
        InformationalUpdate = "InformationalUpdate",
        /// `NewMeetingRequest`.
        NewMeetingRequest = "NewMeetingRequest",
        /// `Outdated`: a newer request replaced it.
        Outdated = "Outdated",
        /// `SilentUpdate`.
        SilentUpdate = "SilentUpdate",
        /// `PrincipalWantsCopy`: the principal's copy of a request sent to its delegates.
        PrincipalWantsCopy = "PrincipalWantsCopy",
    }
}

/// A time zone as a server reports it (`StartTimeZone`, `EndTimeZone`,
/// `MeetingTimeZone`): kept as received, whether or not it names a zone this crate or
/// jiff knows, so an unknown or custom zone never fails an item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportedTimeZone {
    /// `Id` (a Windows time-zone id, such as `W. Europe Standard Time`), if sent.
    pub id: Option<String>,
    /// `Name` (display name, or `TimeZoneName` of an Exchange 2007 `MeetingTimeZone`).
    pub name: Option<String>,
}

/// One occurrence of a series as a server lists it (`FirstOccurrence`, `LastOccurrence`,
/// `ModifiedOccurrences`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OccurrenceInfo {
    /// The occurrence's own id.
    pub item_id: Option<ItemId>,
    /// `Start`.
    pub start: Option<Timestamp>,
    /// `End`.
    pub end: Option<Timestamp>,
    /// `OriginalStart`: where the series put it.
    pub original_start: Option<Timestamp>,
}

/// The format of a [`Body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyKind {
    /// Plain text.
    Text,
    /// HTML.
    Html,
}

impl BodyKind {
    const fn as_str(self) -> &'static str {
        match self {
            BodyKind::Text => "Text",
            BodyKind::Html => "HTML",
        }
    }
}

/// An item body: text or HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Text or HTML.
    pub kind: BodyKind,
    /// The content (for HTML, the markup itself; on the wire it is a CDATA section, or
    /// escaped text when it holds a `]]>` or nothing to escape).
    pub content: String,
    /// `IsTruncated`, when a server says so.
    pub is_truncated: bool,
}

impl Body {
    /// A plain-text body.
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            kind: BodyKind::Text,
            content: content.into(),
            is_truncated: false,
        }
    }

    /// An HTML body.
    pub fn html(content: impl Into<String>) -> Self {
        Self {
            kind: BodyKind::Html,
            content: content.into(),
            is_truncated: false,
        }
    }

    fn write(&self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        self.write_as(w, "Body")
    }

    /// Writes the body as `<t:{element} BodyType=..>` (`Body`, `NewBodyContent`).
    pub(crate) fn write_as(
        &self,
        w: &mut BodyWriter<'_>,
        element: &'static str,
    ) -> Result<(), UsageError> {
        w.open_start(Ns::Types, element);
        w.attr("BodyType", self.kind.as_str())?;
        w.open_end();
        w.text_block(&self.content, element)?;
        w.close(Ns::Types, element);
        Ok(())
    }

    fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let kind = match e.attr("BodyType")?.as_deref() {
            Some("HTML") => BodyKind::Html,
            _ => BodyKind::Text,
        };
        let is_truncated = e
            .attr("IsTruncated")?
            .as_deref()
            .and_then(parse_bool)
            .unwrap_or(false);
        Ok(Body {
            kind,
            content: r.text(e)?.into_owned(),
            is_truncated,
        })
    }
}

/// A Windows time-zone id such as `W. Europe Standard Time` (what Exchange calls a time
/// zone; not an IANA name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimeZoneId(Box<str>);

impl TimeZoneId {
    /// Validates a non-empty id of at most 256 characters without control characters.
    pub fn new(id: &str) -> Result<Self, UsageError> {
        if id.trim().is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
            return Err(UsageError::invalid(
                "time zone id",
                "must be a non-empty Windows time-zone id without control characters",
            ));
        }
        Ok(TimeZoneId(id.into()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for TimeZoneId {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, UsageError> {
        TimeZoneId::new(s)
    }
}

/// A calendar item to create: an appointment, or a meeting once it has attendees.
///
/// ```
/// use ews_proto::{Body, LegacyFreeBusyStatus, Mailbox, NewCalendarItem};
/// let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse()?;
/// let meeting = NewCalendarItem::new("Delegate appointment", start, start + jiff::SignedDuration::from_hours(1))?
///     .body(Body::text("This is the text of the delegate appointment."))
///     .free_busy(LegacyFreeBusyStatus::Busy)
///     .required_attendee(Mailbox::new("user3@example.com".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCalendarItem {
    subject: String,
    sensitivity: Option<Sensitivity>,
    body: Option<Body>,
    categories: Vec<String>,
    importance: Option<Importance>,
    reminder_minutes: Option<Option<u32>>,
    times: Times,
    is_all_day: Option<bool>,
    free_busy: Option<LegacyFreeBusyStatus>,
    location: Option<String>,
    required: Vec<Mailbox>,
    optional: Vec<Mailbox>,
    resources: Vec<Mailbox>,
    time_zone: Option<TimeZoneId>,
    recurrence: Option<crate::types::Recurrence>,
}

impl NewCalendarItem {
    /// An item titled `subject` from `start` to `end`, two instants (written in UTC).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `end` is before `start` (equal is an item of no
    /// duration, which Exchange accepts).
    pub fn new(
        subject: impl Into<String>,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Self, UsageError> {
        if end < start {
            return Err(END_BEFORE_START);
        }
        Ok(Self::with_times(
            subject.into(),
            Times::Instants { start, end },
        ))
    }

    /// An item titled `subject` from `start` to `end` on the wall clock: written without
    /// an offset, so the server reads them in the request's time zone
    /// ([`RequestContext::with_time_zone`](crate::RequestContext::with_time_zone), the
    /// `TimeZoneContext` header), as Microsoft's CreateItem example does. A request
    /// without a time zone refuses such an item (it would be read as UTC).
    ///
    /// ```
    /// use ews_proto::NewCalendarItem;
    /// let planning = NewCalendarItem::wall_clock(
    ///     "Planning",
    ///     "2025-06-02T10:00:00".parse()?,
    ///     "2025-06-02T11:00:00".parse()?,
    /// )?;
    /// # let _ = planning;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `end` is before `start`.
    pub fn wall_clock(
        subject: impl Into<String>,
        start: jiff::civil::DateTime,
        end: jiff::civil::DateTime,
    ) -> Result<Self, UsageError> {
        if end < start {
            return Err(END_BEFORE_START);
        }
        Ok(Self::with_times(
            subject.into(),
            Times::WallClock { start, end },
        ))
    }

    fn with_times(subject: String, times: Times) -> Self {
        Self {
            subject,
            sensitivity: None,
            body: None,
            categories: Vec::new(),
            importance: None,
            reminder_minutes: None,
            times,
            is_all_day: None,
            free_busy: None,
            location: None,
            required: Vec::new(),
            optional: Vec::new(),
            resources: Vec::new(),
            time_zone: None,
            recurrence: None,
        }
    }

    /// Are Start and End wall-clock times (read in the request's time zone)?
    pub fn is_wall_clock(&self) -> bool {
        matches!(self.times, Times::WallClock { .. })
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }
    /// Sets the sensitivity.
    pub fn sensitivity(mut self, s: Sensitivity) -> Self {
        self.sensitivity = Some(s);
        self
    }
    /// Adds a category.
    pub fn category(mut self, c: impl Into<String>) -> Self {
        self.categories.push(c.into());
        self
    }
    /// Sets the importance.
    pub fn importance(mut self, i: Importance) -> Self {
        self.importance = Some(i);
        self
    }
    /// Sets a reminder `minutes` before the start.
    pub fn reminder(mut self, minutes: u32) -> Self {
        self.reminder_minutes = Some(Some(minutes));
        self
    }
    /// Turns the reminder off explicitly.
    pub fn no_reminder(mut self) -> Self {
        self.reminder_minutes = Some(None);
        self
    }
    /// Marks the item as an all-day event.
    pub fn all_day(mut self, yes: bool) -> Self {
        self.is_all_day = Some(yes);
        self
    }
    /// Sets how the item shows in free/busy.
    pub fn free_busy(mut self, status: LegacyFreeBusyStatus) -> Self {
        self.free_busy = Some(status);
        self
    }
    /// Sets the location.
    pub fn location(mut self, l: impl Into<String>) -> Self {
        self.location = Some(l.into());
        self
    }
    /// Adds a required attendee.
    pub fn required_attendee(mut self, m: Mailbox) -> Self {
        self.required.push(m);
        self
    }
    /// Adds an optional attendee.
    pub fn optional_attendee(mut self, m: Mailbox) -> Self {
        self.optional.push(m);
        self
    }
    /// Adds a resource (a room or equipment).
    pub fn resource(mut self, m: Mailbox) -> Self {
        self.resources.push(m);
        self
    }
    /// Sets the meeting's time zone (a Windows time-zone id).
    pub fn time_zone(mut self, tz: TimeZoneId) -> Self {
        self.time_zone = Some(tz);
        self
    }
    /// Makes the item a recurring series (give it a time zone too, so that the series
    /// keeps its wall-clock time across daylight saving time: [`NewCalendarItem::zoned`]).
    pub fn recurrence(mut self, r: crate::types::Recurrence) -> Self {
        self.recurrence = Some(r);
        self
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Does the item invite anyone?
    pub fn has_attendees(&self) -> bool {
        !(self.required.is_empty() && self.optional.is_empty() && self.resources.is_empty())
    }

    /// Writes `<t:CalendarItem>`: ItemType fields first, then CalendarItemType fields, each
    /// in schema order.
    pub(crate) fn write(
        &self,
        w: &mut BodyWriter<'_>,
        version: ExchangeVersion,
    ) -> Result<(), UsageError> {
        w.open(Ns::Types, "CalendarItem");
        w.leaf(Ns::Types, "Subject", &self.subject)?;
        if let Some(s) = &self.sensitivity {
            w.leaf(Ns::Types, "Sensitivity", s.as_str())?;
        }
        if let Some(b) = &self.body {
            b.write(w)?;
        }
        if !self.categories.is_empty() {
            w.open(Ns::Types, "Categories");
            for c in &self.categories {
                w.leaf(Ns::Types, "String", c)?;
            }
            w.close(Ns::Types, "Categories");
        }
        if let Some(i) = &self.importance {
            w.leaf(Ns::Types, "Importance", i.as_str())?;
        }
        if let Some(reminder) = self.reminder_minutes {
            w.bool(Ns::Types, "ReminderIsSet", reminder.is_some());
            if let Some(minutes) = reminder {
                w.token(
                    Ns::Types,
                    "ReminderMinutesBeforeStart",
                    &minutes.to_string(),
                );
            }
        }
        let (start, end) = match &self.times {
            Times::Instants { start, end } => (format_timestamp(*start), format_timestamp(*end)),
            Times::WallClock { start, end } => (format_civil(*start), format_civil(*end)),
        };
        w.token(Ns::Types, "Start", &start);
        w.token(Ns::Types, "End", &end);
        if let Some(v) = self.is_all_day {
            w.bool(Ns::Types, "IsAllDayEvent", v);
        }
        if let Some(s) = &self.free_busy {
            w.leaf(Ns::Types, "LegacyFreeBusyStatus", s.as_str())?;
        }
        if let Some(l) = &self.location {
            w.leaf(Ns::Types, "Location", l)?;
        }
        for (element, list) in [
            ("RequiredAttendees", &self.required),
            ("OptionalAttendees", &self.optional),
            ("Resources", &self.resources),
        ] {
            if list.is_empty() {
                continue;
            }
            w.open(Ns::Types, element);
            for m in list {
                w.open(Ns::Types, "Attendee");
                m.write(w, Ns::Types, "Mailbox")?;
                w.close(Ns::Types, "Attendee");
            }
            w.close(Ns::Types, element);
        }
        // CalendarItemType: Recurrence after the attendees, before the time zones.
        if let Some(r) = &self.recurrence {
            r.write(w)?;
        }
        if let Some(tz) = &self.time_zone {
            if version < ExchangeVersion::Exchange2010 {
                w.open_start(Ns::Types, "MeetingTimeZone");
                w.attr("TimeZoneName", tz.as_str())?;
                w.empty_end();
            } else {
                for element in ["StartTimeZone", "EndTimeZone"] {
                    w.open_start(Ns::Types, element);
                    w.attr("Id", tz.as_str())?;
                    w.empty_end();
                }
            }
        }
        w.close(Ns::Types, "CalendarItem");
        Ok(())
    }
}

/// When a new item starts and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Times {
    /// Two instants, written in UTC.
    Instants { start: Timestamp, end: Timestamp },
    /// Two wall-clock times, written without offset.
    WallClock {
        start: jiff::civil::DateTime,
        end: jiff::civil::DateTime,
    },
}

const END_BEFORE_START: UsageError = UsageError::invalid("calendar item", "End is before Start");

/// Formats a wall-clock time as `xs:dateTime` without offset (`2025-06-02T10:00:00`),
/// whole seconds.
fn format_civil(t: jiff::civil::DateTime) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Formats an instant as `xs:dateTime` in UTC (`2025-06-02T10:00:00Z`).
pub(crate) fn format_timestamp(t: Timestamp) -> String {
    t.to_string()
}

/// Parses `xs:dateTime`. A value without an offset (which Exchange never sends in
/// answers, but some compatible servers do) is read as UTC.
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let civil: jiff::civil::DateTime = s.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

/// An attendee as a server reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attendee {
    /// Who (`Mailbox`).
    pub mailbox: Mailbox,
    /// Their answer, if known (`ResponseType`).
    pub response: Option<AttendeeResponse>,
    /// When they answered (`LastResponseTime`).
    pub last_response_time: Option<Timestamp>,
    /// The start they proposed with their answer (`ProposedStart`).
    pub proposed_start: Option<Timestamp>,
    /// The end they proposed with their answer (`ProposedEnd`).
    pub proposed_end: Option<Timestamp>,
}

impl Attendee {
    fn read_list<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Vec<Attendee>, ServerError> {
        let mut list = Vec::new();
        r.children(e, |r, a| {
            if !a.is(XmlNs::Types, "Attendee") {
                return Ok(());
            }
            r.count_item()?;
            let mut mailbox = None;
            let mut response = None;
            let mut last_response_time = None;
            let mut proposed_start = None;
            let mut proposed_end = None;
            r.children(&a, |r, c| {
                if c.ns() != XmlNs::Types {
                    return Ok(());
                }
                match c.local_name() {
                    "Mailbox" => mailbox = Some(Mailbox::read(r, &c)?),
                    "ResponseType" => {
                        response = Some(AttendeeResponse::from_wire(r.text(&c)?.trim()))
                    }
                    "LastResponseTime" => last_response_time = Some(timestamp(r, &c)?),
                    "ProposedStart" => proposed_start = Some(timestamp(r, &c)?),
                    "ProposedEnd" => proposed_end = Some(timestamp(r, &c)?),
                    _ => {}
                }
                Ok::<_, ServerError>(())
            })?;
            let mailbox = mailbox.ok_or_else(|| {
                a.malformed(MalformedKind::MissingElement, "Attendee without Mailbox")
            })?;
            list.push(Attendee {
                mailbox,
                response,
                last_response_time,
                proposed_start,
                proposed_end,
            });
            Ok::<_, ServerError>(())
        })?;
        Ok(list)
    }
}

/// A calendar item as a server reports it. Fields the server did not send are `None`
/// (or empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CalendarItem {
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `ItemClass` (`IPM.Appointment`, ...).
    pub item_class: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Sensitivity`.
    pub sensitivity: Option<Sensitivity>,
    /// `Body`.
    pub body: Option<Body>,
    /// `Categories`.
    pub categories: Vec<String>,
    /// `Importance`.
    pub importance: Option<Importance>,
    /// `ReminderIsSet`.
    pub reminder_is_set: Option<bool>,
    /// `ReminderMinutesBeforeStart`.
    pub reminder_minutes_before_start: Option<i32>,
    /// `UID` (the iCalendar UID).
    pub uid: Option<String>,
    /// `Start`.
    pub start: Option<Timestamp>,
    /// `End`.
    pub end: Option<Timestamp>,
    /// `IsAllDayEvent`.
    pub is_all_day_event: Option<bool>,
    /// `LegacyFreeBusyStatus`.
    pub legacy_free_busy_status: Option<LegacyFreeBusyStatus>,
    /// `Location`.
    pub location: Option<String>,
    /// `IsMeeting`.
    pub is_meeting: Option<bool>,
    /// `IsCancelled`.
    pub is_cancelled: Option<bool>,
    /// `IsRecurring`.
    pub is_recurring: Option<bool>,
    /// `CalendarItemType`: single, occurrence, exception or the series.
    pub calendar_item_type: Option<CalendarItemType>,
    /// `MyResponseType`.
    pub my_response_type: Option<AttendeeResponse>,
    /// `Organizer`: for a meeting sent on behalf of a principal, the principal. An
    /// organizer known by its Exchange address keeps its routing type (`EX`):
    /// [`Mailbox::smtp_address`] is then `None`.
    pub organizer: Option<Mailbox>,
    /// `RequiredAttendees`.
    pub required_attendees: Vec<Attendee>,
    /// `OptionalAttendees`.
    pub optional_attendees: Vec<Attendee>,
    /// `Resources`.
    pub resources: Vec<Attendee>,
    /// `Recurrence`: the series' pattern and range (on a recurring master).
    pub recurrence: Option<ReportedRecurrence>,
    /// `FirstOccurrence` (of a series).
    pub first_occurrence: Option<OccurrenceInfo>,
    /// `LastOccurrence` (of a series with an end).
    pub last_occurrence: Option<OccurrenceInfo>,
    /// `ModifiedOccurrences`: the exceptions of a series.
    pub modified_occurrences: Vec<OccurrenceInfo>,
    /// `DeletedOccurrences`: the starts of the occurrences removed from a series.
    pub deleted_occurrences: Vec<Timestamp>,
    /// `MeetingTimeZone` (Exchange 2007's one zone of a meeting), as received.
    pub meeting_time_zone: Option<ReportedTimeZone>,
    /// `StartTimeZone`, as received; when the server sent none, its `MeetingTimeZone`
    /// (an Exchange 2007 server's only zone).
    pub start_time_zone: Option<ReportedTimeZone>,
    /// `EndTimeZone`, as received.
    pub end_time_zone: Option<ReportedTimeZone>,
}

wire_enum! {
    /// The kind of an item, as the element a server answered with (`CreateItem`, `GetItem`,
    /// `FindItem`).
    pub enum ItemKind {
        /// `t:CalendarItem` (an appointment or a meeting).
        CalendarItem = "CalendarItem",
        /// `t:Message`.
        Message = "Message",
        /// `t:MeetingRequest`.
        MeetingRequest = "MeetingRequest",
        /// `t:MeetingResponse`.
        MeetingResponse = "MeetingResponse",
        /// `t:MeetingCancellation`.
        MeetingCancellation = "MeetingCancellation",
    }
}

/// The kind of a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// `Message`.
    Message,
    /// `MeetingRequest`.
    MeetingRequest,
    /// `MeetingResponse`.
    MeetingResponse,
    /// `MeetingCancellation`.
    MeetingCancellation,
}

/// A message (mail, meeting request, response or cancellation) as a server reports it.
///
/// For a message a delegate sent on behalf of a principal, `from` is the principal and
/// `sender` the delegate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// Which element the server sent.
    pub kind: MessageKind,
    /// `ItemId`.
    pub item_id: Option<ItemId>,
    /// `ItemClass` (`IPM.Note`, `IPM.Schedule.Meeting.Request`, ...).
    pub item_class: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Body`.
    pub body: Option<Body>,
    /// `DateTimeSent`.
    pub date_time_sent: Option<Timestamp>,
    /// `Sender`: who actually sent it (the delegate).
    pub sender: Option<Mailbox>,
    /// `ToRecipients`.
    pub to_recipients: Vec<Mailbox>,
    /// `CcRecipients`.
    pub cc_recipients: Vec<Mailbox>,
    /// `From`: on whose behalf (the principal).
    pub from: Option<Mailbox>,
    /// `IsRead`.
    pub is_read: Option<bool>,
    /// `ReceivedBy`: whose mailbox got it (the delegate, for a forwarded request).
    pub received_by: Option<Mailbox>,
    /// `ReceivedRepresenting`: for whom (the principal, for a request forwarded to a
    /// delegate by `DeliverMeetingRequests`).
    pub received_representing: Option<Mailbox>,
    /// `AssociatedCalendarItemId`: the calendar item the meeting message belongs to.
    pub associated_calendar_item_id: Option<ItemId>,
    /// `IsDelegated`: the copy a delegate got for its principal.
    pub is_delegated: Option<bool>,
    /// `IsOutOfDate`: a newer update of the meeting exists.
    pub is_out_of_date: Option<bool>,
    /// `ResponseType` (the answer a meeting response carries, or the recipient's).
    pub response_type: Option<AttendeeResponse>,
    /// `MeetingRequestType` (meeting requests).
    pub meeting_request_type: Option<MeetingRequestType>,
    /// `Start` of the meeting (meeting messages).
    pub start: Option<Timestamp>,
    /// `End` of the meeting (meeting messages).
    pub end: Option<Timestamp>,
    /// `Location` of the meeting (meeting messages).
    pub location: Option<String>,
    /// `Organizer` of the meeting (meeting messages), routing type kept.
    pub organizer: Option<Mailbox>,
    /// `RequiredAttendees` (meeting messages).
    pub required_attendees: Vec<Attendee>,
    /// `OptionalAttendees` (meeting messages).
    pub optional_attendees: Vec<Attendee>,
    /// `Resources` (meeting requests).
    pub resources: Vec<Attendee>,
    /// `Recurrence` of the series a meeting request or cancellation is about.
    pub recurrence: Option<ReportedRecurrence>,
    /// `MeetingTimeZone` (meeting requests from Exchange 2007), as received.
    pub meeting_time_zone: Option<ReportedTimeZone>,
    /// `StartTimeZone` (meeting requests), as received; when the server sent none, its
    /// `MeetingTimeZone`.
    pub start_time_zone: Option<ReportedTimeZone>,
    /// `EndTimeZone` (meeting requests), as received.
    pub end_time_zone: Option<ReportedTimeZone>,
}

/// An item returned by `GetItem` or `FindItem`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A `CalendarItem`.
    Calendar(Box<CalendarItem>),
    /// A `Message`, `MeetingRequest`, `MeetingResponse` or `MeetingCancellation`.
    Message(Box<Message>),
    /// Another item type (contact, task, ...), with its id and subject.
    Other {
        /// The element's local name (`Contact`, `Task`, ...).
        element: String,
        /// `ItemId`.
        item_id: Option<ItemId>,
        /// `Subject`.
        subject: Option<String>,
    },
}

impl Item {
    /// The item's id, if the server sent it.
    pub fn item_id(&self) -> Option<&ItemId> {
        match self {
            Item::Calendar(c) => c.item_id.as_ref(),
            Item::Message(m) => m.item_id.as_ref(),
            Item::Other { item_id, .. } => item_id.as_ref(),
        }
    }

    /// What kind of item it is (the element the server sent).
    pub fn kind(&self) -> ItemKind {
        match self {
            Item::Calendar(_) => ItemKind::CalendarItem,
            Item::Message(m) => match m.kind {
                MessageKind::Message => ItemKind::Message,
                MessageKind::MeetingRequest => ItemKind::MeetingRequest,
                MessageKind::MeetingResponse => ItemKind::MeetingResponse,
                MessageKind::MeetingCancellation => ItemKind::MeetingCancellation,
            },
            Item::Other { element, .. } => ItemKind::from_wire(element),
        }
    }

    /// The item's subject, if the server sent it.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Item::Calendar(c) => c.subject.as_deref(),
            Item::Message(m) => m.subject.as_deref(),
            Item::Other { subject, .. } => subject.as_deref(),
        }
    }

    /// Reads one item element (a child of `Items`). Returns `None` for an element in
    /// another namespace.
    pub(crate) fn read<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Option<Item>, ServerError> {
        if e.ns() != XmlNs::Types {
            return Ok(None);
        }
        r.count_item()?;
        let kind = match e.local_name() {
            "CalendarItem" => {
                return CalendarItem::read(r, e).map(|c| Some(Item::Calendar(Box::new(c))));
            }
            "Message" => MessageKind::Message,
            "MeetingRequest" => MessageKind::MeetingRequest,
            "MeetingResponse" => MessageKind::MeetingResponse,
            "MeetingCancellation" => MessageKind::MeetingCancellation,
            other => {
                let element = other.to_owned();
                let mut item_id = None;
                let mut subject = None;
                r.children(e, |r, c| {
                    match c.local_name() {
                        "ItemId" => item_id = Some(ItemId::read(&c)?),
                        "Subject" => subject = Some(r.text(&c)?.into_owned()),
                        _ => {}
                    }
                    Ok::<_, ServerError>(())
                })?;
                return Ok(Some(Item::Other {
                    element,
                    item_id,
                    subject,
                }));
            }
        };
        Message::read(r, e, kind).map(|m| Some(Item::Message(Box::new(m))))
    }
}

fn text<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<String, ServerError> {
    Ok(r.text(e)?.into_owned())
}

fn timestamp<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Timestamp, ServerError> {
    r.parse(e, parse_timestamp)
}

/// Reads a `Sender`/`From`/`Organizer`-style element: a single `t:Mailbox` child.
fn single_mailbox<'a>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
) -> Result<Option<Mailbox>, ServerError> {
    let mut found = None;
    r.children(e, |r, c| {
        if c.is(XmlNs::Types, "Mailbox") {
            found = Some(Mailbox::read(r, &c)?);
        }
        Ok::<_, ServerError>(())
    })?;
    Ok(found)
}

fn mailbox_list<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Vec<Mailbox>, ServerError> {
    let mut list = Vec::new();
    r.children(e, |r, c| {
        if c.is(XmlNs::Types, "Mailbox") {
            r.count_item()?;
            list.push(Mailbox::read(r, &c)?);
        }
        Ok::<_, ServerError>(())
    })?;
    Ok(list)
}

impl ReportedTimeZone {
    /// Reads the zone's `Id` and `Name` (or `TimeZoneName`) and skips its periods: a zone
    /// is reported, never interpreted, so no content of it fails the item.
    fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let id = e.attr("Id")?.map(|v| v.into_owned());
        let name = match e.attr("Name")? {
            Some(v) => Some(v.into_owned()),
            None => e.attr("TimeZoneName")?.map(|v| v.into_owned()),
        };
        r.children(e, |_, _| Ok::<_, ServerError>(()))?;
        Ok(ReportedTimeZone { id, name })
    }
}

impl OccurrenceInfo {
    fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut o = OccurrenceInfo {
            item_id: None,
            start: None,
            end: None,
            original_start: None,
        };
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            match c.local_name() {
                "ItemId" => o.item_id = Some(ItemId::read(&c)?),
                "Start" => o.start = Some(timestamp(r, &c)?),
                "End" => o.end = Some(timestamp(r, &c)?),
                "OriginalStart" => o.original_start = Some(timestamp(r, &c)?),
                _ => {}
            }
            Ok::<_, ServerError>(())
        })?;
        Ok(o)
    }
}

impl CalendarItem {
    fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut it = CalendarItem::default();
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            match c.local_name() {
                "ItemId" => it.item_id = Some(ItemId::read(&c)?),
                "ItemClass" => it.item_class = Some(text(r, &c)?),
                "Subject" => it.subject = Some(text(r, &c)?),
                "Sensitivity" => it.sensitivity = Some(Sensitivity::from_wire(r.text(&c)?.trim())),
                "Body" => it.body = Some(Body::read(r, &c)?),
                "Categories" => {
                    r.children(&c, |r, s| {
                        if s.is(XmlNs::Types, "String") {
                            r.count_item()?;
                            it.categories.push(text(r, &s)?);
                        }
                        Ok::<_, ServerError>(())
                    })?;
                }
                "Importance" => it.importance = Some(Importance::from_wire(r.text(&c)?.trim())),
                "ReminderIsSet" => it.reminder_is_set = Some(r.parse(&c, parse_bool)?),
                "ReminderMinutesBeforeStart" => {
                    it.reminder_minutes_before_start = Some(r.parse(&c, |s| s.parse().ok())?);
                }
                "UID" => it.uid = Some(text(r, &c)?),
                "Start" => it.start = Some(timestamp(r, &c)?),
                "End" => it.end = Some(timestamp(r, &c)?),
                "IsAllDayEvent" => it.is_all_day_event = Some(r.parse(&c, parse_bool)?),
                "LegacyFreeBusyStatus" => {
                    it.legacy_free_busy_status =
                        Some(LegacyFreeBusyStatus::from_wire(r.text(&c)?.trim()));
                }
                "Location" => it.location = Some(text(r, &c)?),
                "IsMeeting" => it.is_meeting = Some(r.parse(&c, parse_bool)?),
                "IsCancelled" => it.is_cancelled = Some(r.parse(&c, parse_bool)?),
                "MyResponseType" => {
                    it.my_response_type = Some(AttendeeResponse::from_wire(r.text(&c)?.trim()))
                }
                "Organizer" => it.organizer = single_mailbox(r, &c)?,
                "RequiredAttendees" => it.required_attendees = Attendee::read_list(r, &c)?,
                "OptionalAttendees" => it.optional_attendees = Attendee::read_list(r, &c)?,
                "Resources" => it.resources = Attendee::read_list(r, &c)?,
                "CalendarItemType" => {
                    it.calendar_item_type = Some(CalendarItemType::from_wire(r.text(&c)?.trim()));
                }
                "IsRecurring" => it.is_recurring = Some(r.parse(&c, parse_bool)?),
                "FirstOccurrence" => it.first_occurrence = Some(OccurrenceInfo::read(r, &c)?),
                "LastOccurrence" => it.last_occurrence = Some(OccurrenceInfo::read(r, &c)?),
                "ModifiedOccurrences" => {
                    r.children(&c, |r, o| {
                        if o.is(XmlNs::Types, "Occurrence") {
                            r.count_item()?;
                            it.modified_occurrences.push(OccurrenceInfo::read(r, &o)?);
                        }
                        Ok::<_, ServerError>(())
                    })?;
                }
                "DeletedOccurrences" => {
                    r.children(&c, |r, o| {
                        if o.is(XmlNs::Types, "DeletedOccurrence") {
                            r.count_item()?;
                            r.children(&o, |r, f| {
                                if f.is(XmlNs::Types, "Start") {
                                    it.deleted_occurrences.push(timestamp(r, &f)?);
                                }
                                Ok::<_, ServerError>(())
                            })?;
                        }
                        Ok::<_, ServerError>(())
                    })?;
                }
                "Recurrence" => it.recurrence = Some(ReportedRecurrence::read(r, &c)?),
                "MeetingTimeZone" => it.meeting_time_zone = Some(ReportedTimeZone::read(r, &c)?),
                "StartTimeZone" => it.start_time_zone = Some(ReportedTimeZone::read(r, &c)?),
                "EndTimeZone" => it.end_time_zone = Some(ReportedTimeZone::read(r, &c)?),
                _ => {}
            }
            Ok::<_, ServerError>(())
        })?;
        if it.start_time_zone.is_none() {
            it.start_time_zone.clone_from(&it.meeting_time_zone);
        }
        Ok(it)
    }
}

impl Message {
    fn read<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
        kind: MessageKind,
    ) -> Result<Self, ServerError> {
        let mut m = Message {
            kind,
            item_id: None,
            item_class: None,
            subject: None,
            body: None,
            date_time_sent: None,
            sender: None,
            to_recipients: Vec::new(),
            cc_recipients: Vec::new(),
            from: None,
            is_read: None,
            received_by: None,
            received_representing: None,
            associated_calendar_item_id: None,
            is_delegated: None,
            is_out_of_date: None,
            response_type: None,
            meeting_request_type: None,
            start: None,
            end: None,
            location: None,
            organizer: None,
            required_attendees: Vec::new(),
            optional_attendees: Vec::new(),
            resources: Vec::new(),
            recurrence: None,
            meeting_time_zone: None,
            start_time_zone: None,
            end_time_zone: None,
        };
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            match c.local_name() {
                "ItemId" => m.item_id = Some(ItemId::read(&c)?),
                "ItemClass" => m.item_class = Some(text(r, &c)?),
                "Subject" => m.subject = Some(text(r, &c)?),
                "Body" => m.body = Some(Body::read(r, &c)?),
                "DateTimeSent" => m.date_time_sent = Some(timestamp(r, &c)?),
                "Sender" => m.sender = single_mailbox(r, &c)?,
                "ToRecipients" => m.to_recipients = mailbox_list(r, &c)?,
                "CcRecipients" => m.cc_recipients = mailbox_list(r, &c)?,
                "From" => m.from = single_mailbox(r, &c)?,
                "IsRead" => m.is_read = Some(r.parse(&c, parse_bool)?),
                "Start" => m.start = Some(timestamp(r, &c)?),
                "End" => m.end = Some(timestamp(r, &c)?),
                "Location" => m.location = Some(text(r, &c)?),
                "Organizer" => m.organizer = single_mailbox(r, &c)?,
                "RequiredAttendees" => m.required_attendees = Attendee::read_list(r, &c)?,
                "OptionalAttendees" => m.optional_attendees = Attendee::read_list(r, &c)?,
                "ReceivedBy" => m.received_by = single_mailbox(r, &c)?,
                "ReceivedRepresenting" => m.received_representing = single_mailbox(r, &c)?,
                "IsDelegated" => m.is_delegated = Some(r.parse(&c, parse_bool)?),
                "IsOutOfDate" => m.is_out_of_date = Some(r.parse(&c, parse_bool)?),
                "AssociatedCalendarItemId" => {
                    m.associated_calendar_item_id = Some(ItemId::read(&c)?);
                }
                "ResponseType" => {
                    m.response_type = Some(AttendeeResponse::from_wire(r.text(&c)?.trim()));
                }
                "MeetingRequestType" => {
                    m.meeting_request_type =
                        Some(MeetingRequestType::from_wire(r.text(&c)?.trim()));
                }
                "Resources" => m.resources = Attendee::read_list(r, &c)?,
                "Recurrence" => m.recurrence = Some(ReportedRecurrence::read(r, &c)?),
                "MeetingTimeZone" => m.meeting_time_zone = Some(ReportedTimeZone::read(r, &c)?),
                "StartTimeZone" => m.start_time_zone = Some(ReportedTimeZone::read(r, &c)?),
                "EndTimeZone" => m.end_time_zone = Some(ReportedTimeZone::read(r, &c)?),
                _ => {}
            }
            Ok::<_, ServerError>(())
        })?;
        if m.start_time_zone.is_none() {
            m.start_time_zone.clone_from(&m.meeting_time_zone);
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_with_and_without_offset() {
        let z = parse_timestamp("2025-06-02T10:00:00Z").unwrap();
        assert_eq!(parse_timestamp("2025-06-02T12:00:00+02:00"), Some(z));
        assert_eq!(parse_timestamp("2025-06-02T10:00:00"), Some(z));
        assert_eq!(parse_timestamp("2025-06-02T10:00:00.000Z"), Some(z));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(format_timestamp(z), "2025-06-02T10:00:00Z");
    }
}
