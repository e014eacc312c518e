//! `UpdateItem` of calendar items: typed per-field changes, the change key always sent,
//! the send mode always chosen, and [`StaleKeyRetry`], a bounded refetch-and-retry for
//! stale change keys.

use jiff::civil::DateTime;
use jiff::{Timestamp, ZonedDateTime};

use crate::error::{MalformedKind, ServerError, UsageError};
use crate::ops::{
    BaseShape, DecodeAnswer, GetItem, MessageDisposition, Operation, Repeat,
    read_body_is_read_answer, read_item_responses,
};
use crate::soap::{ExchangeVersion, RequestContext, ResponseCode, ResponseMessage};
use crate::types::{
    Body, EmailAddress, Importance, Item, ItemId, ItemKind, ItemRef, LegacyFreeBusyStatus, Mailbox,
    Recurrence, Sensitivity, TimeZoneId, format_timestamp,
};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// `ConflictResolution`: what the server does when the item changed since the change key
/// sent. Always sent; there is no default, because each answer suits another caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConflictResolution {
    /// Fail with `ErrorIrresolvableConflict` whenever the change key is stale. The one
    /// choice under which a repeated update can never apply twice.
    NeverOverwrite,
    /// Apply the update when the server can merge it with what changed since; fail with
    /// `ErrorIrresolvableConflict` when it cannot (Microsoft's usual choice).
    AutoResolve,
    /// Apply the update whatever changed since.
    AlwaysOverwrite,
}

impl ConflictResolution {
    const fn as_str(self) -> &'static str {
        match self {
            ConflictResolution::NeverOverwrite => "NeverOverwrite",
            ConflictResolution::AutoResolve => "AutoResolve",
            ConflictResolution::AlwaysOverwrite => "AlwaysOverwrite",
        }
    }
}

/// `SendMeetingInvitationsOrCancellations`: who hears of a changed meeting. A required
/// argument of [`UpdateItem::new`]: a silent default would mail everyone (or no one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendMeetingInvitationsOrCancellations {
    /// Tell no one (the calendar changes, attendees keep the old meeting).
    SendToNone,
    /// Send the update to every attendee, keep no copy.
    SendOnlyToAll,
    /// Send it only to attendees added or removed, keep no copy.
    SendOnlyToChanged,
    /// Send it to every attendee and save a copy in Sent Items.
    SendToAllAndSaveCopy,
    /// Send it only to attendees added or removed and save a copy.
    SendToChangedAndSaveCopy,
}

impl SendMeetingInvitationsOrCancellations {
    const fn as_str(self) -> &'static str {
        match self {
            Self::SendToNone => "SendToNone",
            Self::SendOnlyToAll => "SendOnlyToAll",
            Self::SendOnlyToChanged => "SendOnlyToChanged",
            Self::SendToAllAndSaveCopy => "SendToAllAndSaveCopy",
            Self::SendToChangedAndSaveCopy => "SendToChangedAndSaveCopy",
        }
    }
}

/// Start or End: an instant, or a wall-clock time read in the request's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum When {
    Instant(Timestamp),
    WallClock(DateTime),
}

impl When {
    fn text(self) -> String {
        match self {
            When::Instant(t) => format_timestamp(t),
            When::WallClock(t) => t.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        }
    }
}

/// Which attendee list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum List {
    Required,
    Optional,
    Resources,
}

impl List {
    const fn element(self) -> &'static str {
        match self {
            List::Required => "RequiredAttendees",
            List::Optional => "OptionalAttendees",
            List::Resources => "Resources",
        }
    }

    const fn uri(self) -> &'static str {
        match self {
            List::Required => "calendar:RequiredAttendees",
            List::Optional => "calendar:OptionalAttendees",
            List::Resources => "calendar:Resources",
        }
    }
}

/// One typed change of a calendar item. On the wire each becomes one `SetItemField`,
/// `AppendToItemField` or `DeleteItemField` naming one property, with a `t:CalendarItem`
/// that holds exactly that property, as the schema demands; the two that are two
/// properties in EWS become two such changes ([`CalendarChange::reminder`]: `ReminderIsSet`
/// and `ReminderMinutesBeforeStart`; [`CalendarChange::time_zone`]: `StartTimeZone` and
/// `EndTimeZone`, or Exchange 2007's one `MeetingTimeZone`).
///
/// Appending is offered only where Exchange allows it: the body and the attendee lists.
///
/// ```
/// use ews_proto::{Body, CalendarChange, Importance, Mailbox};
/// let changes = [
///     CalendarChange::subject("Budget review (moved)"),
///     CalendarChange::append_body(Body::text("\nMoved to the large room.")),
///     CalendarChange::location("Room 1"),
///     CalendarChange::importance(Importance::High),
///     CalendarChange::append_required_attendees([Mailbox::new("user4@example.com".parse()?)])?,
/// ];
/// # let _ = changes;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarChange(Change);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Subject(String),
    Sensitivity(Sensitivity),
    Body(Body),
    AppendBody(Body),
    Categories(Vec<String>),
    DeleteCategories,
    Importance(Importance),
    Reminder(Option<u32>),
    Start(When),
    End(When),
    AllDay(bool),
    FreeBusy(LegacyFreeBusyStatus),
    Location(String),
    DeleteLocation,
    Attendees(List, Vec<Mailbox>),
    AppendAttendees(List, Vec<Mailbox>),
    DeleteAttendees(List),
    Recurrence(Recurrence),
    DeleteRecurrence,
    TimeZone(TimeZoneId),
}

impl CalendarChange {
    /// Sets the subject.
    pub fn subject(subject: impl Into<String>) -> Self {
        CalendarChange(Change::Subject(subject.into()))
    }

    /// Sets the sensitivity.
    pub fn sensitivity(s: Sensitivity) -> Self {
        CalendarChange(Change::Sensitivity(s))
    }

    /// Replaces the body.
    pub fn body(body: Body) -> Self {
        CalendarChange(Change::Body(body))
    }

    /// Appends `body` to the body (`AppendToItemField`; of the same kind, text or HTML).
    pub fn append_body(body: Body) -> Self {
        CalendarChange(Change::AppendBody(body))
    }

    /// Replaces the categories; an empty list removes them (`DeleteItemField`).
    pub fn categories<S: Into<String>>(categories: impl IntoIterator<Item = S>) -> Self {
        let list: Vec<String> = categories.into_iter().map(Into::into).collect();
        if list.is_empty() {
            CalendarChange(Change::DeleteCategories)
        } else {
            CalendarChange(Change::Categories(list))
        }
    }

    /// Sets the importance.
    pub fn importance(i: Importance) -> Self {
        CalendarChange(Change::Importance(i))
    }

    /// Sets a reminder `minutes` before the start (two properties: `ReminderIsSet` true
    /// and `ReminderMinutesBeforeStart`; at most `i32::MAX`, checked by [`ItemChange::new`]).
    pub fn reminder(minutes: u32) -> Self {
        CalendarChange(Change::Reminder(Some(minutes)))
    }

    /// Turns the reminder off (`ReminderIsSet` false).
    pub fn no_reminder() -> Self {
        CalendarChange(Change::Reminder(None))
    }

    /// Moves the start to an instant (written in UTC).
    pub fn start(start: Timestamp) -> Self {
        CalendarChange(Change::Start(When::Instant(start)))
    }

    /// Moves the end to an instant (written in UTC).
    pub fn end(end: Timestamp) -> Self {
        CalendarChange(Change::End(When::Instant(end)))
    }

    /// Moves the start to a wall-clock time, read by the server in the request's time zone
    /// (`TimeZoneContext`, from
    /// [`RequestContext::with_time_zone`](crate::RequestContext::with_time_zone); a
    /// request without one refuses it).
    pub fn start_wall_clock(start: DateTime) -> Self {
        CalendarChange(Change::Start(When::WallClock(start)))
    }

    /// Moves the end to a wall-clock time (see [`CalendarChange::start_wall_clock`]).
    pub fn end_wall_clock(end: DateTime) -> Self {
        CalendarChange(Change::End(When::WallClock(end)))
    }

    /// Moves the meeting to `start`..`end`, two zoned times: the two instants and the
    /// meeting's time zone (the Windows id of `start`'s zone), three changes.
    ///
    /// ```
    /// use ews_proto::CalendarChange;
    /// use ews_proto::jiff::ZonedDateTime;
    /// let start: ZonedDateTime = "2025-06-03T14:00[Europe/Berlin]".parse()?;
    /// let end: ZonedDateTime = "2025-06-03T15:00[Europe/Berlin]".parse()?;
    /// assert_eq!(CalendarChange::times(&start, &end)?.len(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `end` is before `start`, the two zones differ, or
    /// the zone has no Windows id.
    pub fn times(
        start: &ZonedDateTime,
        end: &ZonedDateTime,
    ) -> Result<Vec<CalendarChange>, UsageError> {
        let zone = TimeZoneId::from_jiff(start.time_zone())?;
        if TimeZoneId::from_jiff(end.time_zone())? != zone {
            return Err(UsageError::invalid(
                "calendar change",
                "Start and End are in different time zones",
            ));
        }
        if end.timestamp() < start.timestamp() {
            return Err(END_BEFORE_START);
        }
        Ok(vec![
            CalendarChange::start(start.timestamp()),
            CalendarChange::end(end.timestamp()),
            CalendarChange::time_zone(zone),
        ])
    }

    /// Makes the item an all-day event, or not.
    pub fn all_day(yes: bool) -> Self {
        CalendarChange(Change::AllDay(yes))
    }

    /// Sets how the item shows in free/busy.
    pub fn free_busy(status: LegacyFreeBusyStatus) -> Self {
        CalendarChange(Change::FreeBusy(status))
    }

    /// Sets the location.
    pub fn location(location: impl Into<String>) -> Self {
        CalendarChange(Change::Location(location.into()))
    }

    /// Removes the location.
    pub fn clear_location() -> Self {
        CalendarChange(Change::DeleteLocation)
    }

    /// Replaces the required attendees; an empty list removes them all.
    pub fn required_attendees(attendees: impl IntoIterator<Item = Mailbox>) -> Self {
        Self::set_list(List::Required, attendees)
    }

    /// Replaces the optional attendees; an empty list removes them all.
    pub fn optional_attendees(attendees: impl IntoIterator<Item = Mailbox>) -> Self {
        Self::set_list(List::Optional, attendees)
    }

    /// Replaces the resources; an empty list removes them all.
    pub fn resources(resources: impl IntoIterator<Item = Mailbox>) -> Self {
        Self::set_list(List::Resources, resources)
    }

    /// Adds required attendees, keeping the others (`AppendToItemField`).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for an empty list.
    pub fn append_required_attendees(
        attendees: impl IntoIterator<Item = Mailbox>,
    ) -> Result<Self, UsageError> {
        Self::append_list(List::Required, attendees)
    }

    /// Adds optional attendees, keeping the others (`AppendToItemField`).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for an empty list.
    pub fn append_optional_attendees(
        attendees: impl IntoIterator<Item = Mailbox>,
    ) -> Result<Self, UsageError> {
        Self::append_list(List::Optional, attendees)
    }

    /// Adds resources, keeping the others (`AppendToItemField`).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for an empty list.
    pub fn append_resources(
        resources: impl IntoIterator<Item = Mailbox>,
    ) -> Result<Self, UsageError> {
        Self::append_list(List::Resources, resources)
    }

    fn set_list(list: List, attendees: impl IntoIterator<Item = Mailbox>) -> Self {
        let v: Vec<Mailbox> = attendees.into_iter().collect();
        if v.is_empty() {
            CalendarChange(Change::DeleteAttendees(list))
        } else {
            CalendarChange(Change::Attendees(list, v))
        }
    }

    fn append_list(
        list: List,
        attendees: impl IntoIterator<Item = Mailbox>,
    ) -> Result<Self, UsageError> {
        let v: Vec<Mailbox> = attendees.into_iter().collect();
        if v.is_empty() {
            return Err(UsageError::invalid(
                "calendar change",
                "appending attendees needs at least one",
            ));
        }
        Ok(CalendarChange(Change::AppendAttendees(list, v)))
    }

    /// Makes the item a series, or changes its series.
    pub fn recurrence(recurrence: Recurrence) -> Self {
        CalendarChange(Change::Recurrence(recurrence))
    }

    /// Ends the series: the item becomes a single appointment (`DeleteItemField`).
    pub fn remove_recurrence() -> Self {
        CalendarChange(Change::DeleteRecurrence)
    }

    /// Sets the meeting's time zone: `StartTimeZone` and `EndTimeZone` from Exchange 2010
    /// on, `MeetingTimeZone` for Exchange 2007 SP1 (chosen by the request's version).
    pub fn time_zone(tz: TimeZoneId) -> Self {
        CalendarChange(Change::TimeZone(tz))
    }

    /// The property this change is about, to refuse two changes of one property.
    fn slot(&self) -> &'static str {
        match &self.0 {
            Change::Subject(_) => "item:Subject",
            Change::Sensitivity(_) => "item:Sensitivity",
            Change::Body(_) | Change::AppendBody(_) => "item:Body",
            Change::Categories(_) | Change::DeleteCategories => "item:Categories",
            Change::Importance(_) => "item:Importance",
            Change::Reminder(_) => "item:ReminderIsSet",
            Change::Start(_) => "calendar:Start",
            Change::End(_) => "calendar:End",
            Change::AllDay(_) => "calendar:IsAllDayEvent",
            Change::FreeBusy(_) => "calendar:LegacyFreeBusyStatus",
            Change::Location(_) | Change::DeleteLocation => "calendar:Location",
            Change::Attendees(l, _)
            | Change::AppendAttendees(l, _)
            | Change::DeleteAttendees(l) => l.uri(),
            Change::Recurrence(_) | Change::DeleteRecurrence => "calendar:Recurrence",
            Change::TimeZone(_) => "calendar:StartTimeZone",
        }
    }

    fn is_append(&self) -> bool {
        matches!(self.0, Change::AppendBody(_) | Change::AppendAttendees(..))
    }

    fn is_wall_clock(&self) -> bool {
        matches!(
            self.0,
            Change::Start(When::WallClock(_)) | Change::End(When::WallClock(_))
        )
    }

    /// Writes the change's `SetItemField`/`AppendToItemField`/`DeleteItemField` elements,
    /// one property each.
    fn write(&self, w: &mut BodyWriter<'_>, version: ExchangeVersion) -> Result<(), UsageError> {
        match &self.0 {
            Change::Subject(s) => set(w, "item:Subject", |w| w.leaf(Ns::Types, "Subject", s)),
            Change::Sensitivity(s) => set(w, "item:Sensitivity", |w| {
                w.leaf(Ns::Types, "Sensitivity", s.as_str())
            }),
            Change::Body(b) => set(w, "item:Body", |w| b.write_as(w, "Body")),
            Change::AppendBody(b) => field(w, "AppendToItemField", "item:Body", |w| {
                b.write_as(w, "Body")
            }),
            Change::Categories(list) => set(w, "item:Categories", |w| {
                w.open(Ns::Types, "Categories");
                for c in list {
                    w.leaf(Ns::Types, "String", c)?;
                }
                w.close(Ns::Types, "Categories");
                Ok(())
            }),
            Change::DeleteCategories => delete(w, "item:Categories"),
            Change::Importance(i) => set(w, "item:Importance", |w| {
                w.leaf(Ns::Types, "Importance", i.as_str())
            }),
            Change::Reminder(minutes) => {
                set(w, "item:ReminderIsSet", |w| {
                    w.bool(Ns::Types, "ReminderIsSet", minutes.is_some());
                    Ok(())
                })?;
                match minutes {
                    Some(m) => set(w, "item:ReminderMinutesBeforeStart", |w| {
                        w.token(Ns::Types, "ReminderMinutesBeforeStart", &m.to_string());
                        Ok(())
                    }),
                    None => Ok(()),
                }
            }
            Change::Start(t) => set(w, "calendar:Start", |w| {
                w.token(Ns::Types, "Start", &t.text());
                Ok(())
            }),
            Change::End(t) => set(w, "calendar:End", |w| {
                w.token(Ns::Types, "End", &t.text());
                Ok(())
            }),
            Change::AllDay(v) => set(w, "calendar:IsAllDayEvent", |w| {
                w.bool(Ns::Types, "IsAllDayEvent", *v);
                Ok(())
            }),
            Change::FreeBusy(s) => set(w, "calendar:LegacyFreeBusyStatus", |w| {
                w.leaf(Ns::Types, "LegacyFreeBusyStatus", s.as_str())
            }),
            Change::Location(l) => {
                set(w, "calendar:Location", |w| w.leaf(Ns::Types, "Location", l))
            }
            Change::DeleteLocation => delete(w, "calendar:Location"),
            Change::Attendees(list, people) => {
                set(w, list.uri(), |w| write_attendees(w, *list, people))
            }
            Change::AppendAttendees(list, people) => {
                field(w, "AppendToItemField", list.uri(), |w| {
                    write_attendees(w, *list, people)
                })
            }
            Change::DeleteAttendees(list) => delete(w, list.uri()),
            Change::Recurrence(r) => set(w, "calendar:Recurrence", |w| r.write(w)),
            Change::DeleteRecurrence => delete(w, "calendar:Recurrence"),
            Change::TimeZone(tz) if version < ExchangeVersion::Exchange2010 => {
                set(w, "calendar:MeetingTimeZone", |w| {
                    w.open_start(Ns::Types, "MeetingTimeZone");
                    w.attr("TimeZoneName", tz.as_str())?;
                    w.empty_end();
                    Ok(())
                })
            }
            Change::TimeZone(tz) => {
                for (uri, element) in [
                    ("calendar:StartTimeZone", "StartTimeZone"),
                    ("calendar:EndTimeZone", "EndTimeZone"),
                ] {
                    set(w, uri, |w| {
                        w.open_start(Ns::Types, element);
                        w.attr("Id", tz.as_str())?;
                        w.empty_end();
                        Ok(())
                    })?;
                }
                Ok(())
            }
        }
    }
}

const END_BEFORE_START: UsageError = UsageError::invalid("calendar change", "End is before Start");

fn write_attendees(
    w: &mut BodyWriter<'_>,
    list: List,
    people: &[Mailbox],
) -> Result<(), UsageError> {
    w.open(Ns::Types, list.element());
    for m in people {
        w.open(Ns::Types, "Attendee");
        m.write(w, Ns::Types, "Mailbox")?;
        w.close(Ns::Types, "Attendee");
    }
    w.close(Ns::Types, list.element());
    Ok(())
}

/// `<t:{element}><t:FieldURI FieldURI="{uri}"/><t:CalendarItem>{property}</t:CalendarItem></t:{element}>`:
/// the path names one property and the item holds that one.
fn field(
    w: &mut BodyWriter<'_>,
    element: &'static str,
    uri: &'static str,
    property: impl FnOnce(&mut BodyWriter<'_>) -> Result<(), UsageError>,
) -> Result<(), UsageError> {
    w.open(Ns::Types, element);
    field_uri(w, uri)?;
    w.open(Ns::Types, "CalendarItem");
    property(w)?;
    w.close(Ns::Types, "CalendarItem");
    w.close(Ns::Types, element);
    Ok(())
}

fn set(
    w: &mut BodyWriter<'_>,
    uri: &'static str,
    property: impl FnOnce(&mut BodyWriter<'_>) -> Result<(), UsageError>,
) -> Result<(), UsageError> {
    field(w, "SetItemField", uri, property)
}

fn delete(w: &mut BodyWriter<'_>, uri: &'static str) -> Result<(), UsageError> {
    w.open(Ns::Types, "DeleteItemField");
    field_uri(w, uri)?;
    w.close(Ns::Types, "DeleteItemField");
    Ok(())
}

fn field_uri(w: &mut BodyWriter<'_>, uri: &'static str) -> Result<(), UsageError> {
    w.open_start(Ns::Types, "FieldURI");
    w.attr("FieldURI", uri)?;
    w.empty_end();
    Ok(())
}

/// The changes of one item (`t:ItemChange`): which item, at which version, and what.
///
/// Checked when built: at least one change, the item's change key known (a stale key is
/// then refused by the server, `ErrorIrresolvableConflict`, instead of an update
/// silently applied over someone else's), no property changed twice, End not before
/// Start.
///
/// ```
/// use ews_proto::{CalendarChange, ItemChange, ItemId, UsageError};
/// let fresh = ItemId::new("AAMkADk=", Some("DwAAABYA".into()))?;
/// let change = ItemChange::new(fresh, [CalendarChange::location("Room 2")])?;
/// # let _ = change;
/// let without_key = ItemId::new("AAMkADk=", None)?;
/// let refused = ItemChange::new(without_key, [CalendarChange::location("Room 2")]);
/// assert!(matches!(refused, Err(UsageError::InvalidValue { kind: "item change", .. })));
/// # Ok::<(), UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemChange {
    target: ItemRef,
    changes: Vec<CalendarChange>,
}

impl ItemChange {
    /// The error of an item change whose item has no change key (compare with `==`).
    pub const MISSING_CHANGE_KEY: UsageError = UsageError::invalid(
        "item change",
        "the item's ChangeKey is needed (UpdateItem always sends it): read the item first",
    );

    /// `changes` of the item `target` (an [`ItemId`], or an occurrence or series by
    /// [`ItemRef`]), whose change key must be known.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] with kind `"item change"`: [`ItemChange::MISSING_CHANGE_KEY`]
    /// when `target` has no change key; no change; one property changed twice; End
    /// before Start (both instants or both wall-clock); a reminder beyond `i32::MAX`
    /// minutes.
    pub fn new(
        target: impl Into<ItemRef>,
        changes: impl IntoIterator<Item = CalendarChange>,
    ) -> Result<Self, UsageError> {
        let target = target.into();
        if target.change_key().is_none_or(str::is_empty) {
            return Err(Self::MISSING_CHANGE_KEY);
        }
        let changes: Vec<CalendarChange> = changes.into_iter().collect();
        if changes.is_empty() {
            return Err(UsageError::invalid(
                "item change",
                "an UpdateItem change needs at least one property",
            ));
        }
        for (i, c) in changes.iter().enumerate() {
            if changes[..i]
                .iter()
                .any(|earlier| earlier.slot() == c.slot())
            {
                return Err(UsageError::invalid(
                    "item change",
                    "one property is changed twice in the same item change",
                ));
            }
            if let Change::Reminder(Some(m)) = c.0 {
                if i32::try_from(m).is_err() {
                    return Err(UsageError::invalid(
                        "item change",
                        "the reminder is more than i32::MAX minutes before the start",
                    ));
                }
            }
        }
        let find = |pick: fn(&Change) -> Option<When>| changes.iter().find_map(|c| pick(&c.0));
        let start = find(|c| match c {
            Change::Start(t) => Some(*t),
            _ => None,
        });
        let end = find(|c| match c {
            Change::End(t) => Some(*t),
            _ => None,
        });
        let backwards = match (start, end) {
            (Some(When::Instant(s)), Some(When::Instant(e))) => e < s,
            (Some(When::WallClock(s)), Some(When::WallClock(e))) => e < s,
            _ => false,
        };
        if backwards {
            return Err(UsageError::invalid("item change", "End is before Start"));
        }
        Ok(Self { target, changes })
    }

    /// The item changed.
    pub fn target(&self) -> &ItemRef {
        &self.target
    }

    /// The changes, in the order written.
    pub fn changes(&self) -> &[CalendarChange] {
        &self.changes
    }

    /// The same changes of the item at the version `fresh` names: the id GetItem returned
    /// for [`ItemChange::target`], with its current change key. For an occurrence or a
    /// series reference, the new target is `fresh` itself (the occurrence's or series' own
    /// id).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`]: [`ItemChange::MISSING_CHANGE_KEY`] when `fresh` has no change
    /// key; kind `"item change"` when the target is an item id and `fresh` is another
    /// item's.
    pub fn retarget(&self, fresh: ItemId) -> Result<ItemChange, UsageError> {
        if fresh.change_key().is_none_or(str::is_empty) {
            return Err(Self::MISSING_CHANGE_KEY);
        }
        if self.target.is_item_id() && fresh.id() != self.target.id() {
            return Err(UsageError::invalid(
                "item change",
                "the fresh id names another item than the change's",
            ));
        }
        Ok(ItemChange {
            target: ItemRef::item(fresh),
            changes: self.changes.clone(),
        })
    }

    fn write(&self, w: &mut BodyWriter<'_>, version: ExchangeVersion) -> Result<(), UsageError> {
        w.open(Ns::Types, "ItemChange");
        self.target.write(w)?;
        w.open(Ns::Types, "Updates");
        for c in &self.changes {
            c.write(w, version)?;
        }
        w.close(Ns::Types, "Updates");
        w.close(Ns::Types, "ItemChange");
        Ok(())
    }
}

/// What an UpdateItem did to one item: its new id (with the new change key) and how many
/// conflicts the server resolved (`ConflictResults`, 0 when the answer leaves it out).
/// Empty ([`Default`]) in an error message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdatedItem {
    /// The item's kind, as the server answered.
    pub kind: Option<ItemKind>,
    /// The item's id and its new change key (the next update needs this one).
    pub id: Option<ItemId>,
    /// `ConflictResults/Count`: conflicts the server resolved (under `AutoResolve`) or
    /// overwrote (under `AlwaysOverwrite`).
    pub conflict_count: u32,
}

impl ResponseMessage<UpdatedItem> {
    /// Was the update refused because the item changed since its change key
    /// (`ErrorIrresolvableConflict`)? Then read the item again and retry
    /// ([`ItemChange::retarget`], [`StaleKeyRetry`]).
    pub fn is_irresolvable_conflict(&self) -> bool {
        self.status.code == ResponseCode::ErrorIrresolvableConflict
    }
}

/// Changes calendar items: typed per-field changes ([`CalendarChange`]) of one or more
/// items ([`ItemChange`]), always with the change key, `ConflictResolution` and
/// `SendMeetingInvitationsOrCancellations`, and `MessageDisposition="SaveOnly"` (a calendar
/// item is saved; the send mode says who hears of it). Binds `TimeZoneContext`: a
/// [`RequestContext::with_time_zone`](crate::RequestContext::with_time_zone) zone is sent,
/// and is how wall-clock changes are read.
///
/// A delegate moving a meeting of the principal's calendar and telling the attendees:
///
/// ```
/// use ews_proto::{CalendarChange, ConflictResolution, ItemChange, ItemId, Operation,
///                 RequestContext, SendMeetingInvitationsOrCancellations, UpdateItem};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let meeting = ItemId::new("AAMkADk0N2E4=", Some("DwAAABYA".into()))?; // from GetItem
/// let op = UpdateItem::new(
///     ItemChange::new(meeting, [
///         CalendarChange::start("2025-06-03T14:00:00Z".parse()?),
///         CalendarChange::end("2025-06-03T15:00:00Z".parse()?),
///     ])?,
///     SendMeetingInvitationsOrCancellations::SendToAllAndSaveCopy,
///     ConflictResolution::AutoResolve,
/// )
/// .in_mailbox("user1@example.com".parse()?);
/// let xml = String::from_utf8(op.encode(&ctx)?.body().to_vec())?;
/// assert!(xml.contains(r#"<t:ItemId Id="AAMkADk0N2E4=" ChangeKey="DwAAABYA"/>"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Repeat
///
/// [`Repeat::SendsMessages`] when the send mode is not `SendToNone` (a repeat mails the
/// attendees again). Otherwise [`Repeat::Safe`], because the change key is always sent:
/// if the first attempt was applied, the item's change key moved on and a repeat is
/// refused (`ErrorIrresolvableConflict`, a typed false failure that a refetch resolves),
/// or, when the server merges it, sets the same values again. The exception is an append
/// (body, attendees) under `AutoResolve` or `AlwaysOverwrite`: a merged repeat would
/// append twice, so it is [`Repeat::CreatesItems`] (not repeated); under `NeverOverwrite`
/// even an append is refused the second time, so `Safe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateItem {
    conflict: ConflictResolution,
    send: SendMeetingInvitationsOrCancellations,
    changes: Vec<ItemChange>,
    anchor: Option<EmailAddress>,
}

impl UpdateItem {
    /// Applies `change`, telling attendees as `send` says and resolving conflicts as
    /// `conflict` says; both required, neither has a default.
    pub fn new(
        change: ItemChange,
        send: SendMeetingInvitationsOrCancellations,
        conflict: ConflictResolution,
    ) -> Self {
        Self {
            conflict,
            send,
            changes: vec![change],
            anchor: None,
        }
    }

    /// Changes another item in the same request (answers come in request order).
    pub fn item(mut self, change: ItemChange) -> Self {
        self.changes.push(change);
        self
    }

    /// Names the mailbox the items live in (the principal's, for a delegate), for
    /// `X-AnchorMailbox` routing: item ids do not say.
    pub fn in_mailbox(mut self, mailbox: EmailAddress) -> Self {
        self.anchor = Some(mailbox);
        self
    }

    /// The item changes, in request order.
    pub fn changes(&self) -> &[ItemChange] {
        &self.changes
    }

    /// The conflict resolution sent.
    pub fn conflict_resolution(&self) -> ConflictResolution {
        self.conflict
    }

    /// The send mode sent.
    pub fn send_mode(&self) -> SendMeetingInvitationsOrCancellations {
        self.send
    }

    /// Does the request send mail (any send mode but `SendToNone`)?
    pub fn sends_messages(&self) -> bool {
        self.send != SendMeetingInvitationsOrCancellations::SendToNone
    }

    /// The same update with other item changes (the same send mode, conflict
    /// resolution and mailbox), for a retry of some of them.
    fn with_changes(&self, changes: Vec<ItemChange>) -> UpdateItem {
        UpdateItem {
            conflict: self.conflict,
            send: self.send,
            changes,
            anchor: self.anchor.clone(),
        }
    }
}

impl Operation for UpdateItem {
    /// One answer per item change, in request order.
    type Output = Vec<ResponseMessage<UpdatedItem>>;
    const NAME: &'static str = "UpdateItem";
    const TIME_ZONE_CONTEXT: bool = true;

    fn anchor_mailbox(&self) -> Option<&str> {
        self.anchor.as_ref().map(EmailAddress::as_str)
    }

    fn repeat(&self) -> Repeat {
        let appends = self
            .changes
            .iter()
            .any(|c| c.changes.iter().any(CalendarChange::is_append));
        if self.sends_messages() {
            Repeat::SendsMessages
        } else if appends && self.conflict != ConflictResolution::NeverOverwrite {
            Repeat::CreatesItems
        } else {
            Repeat::Safe
        }
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, ctx: &RequestContext) -> Result<(), UsageError> {
        if ctx.time_zone().is_none()
            && self
                .changes
                .iter()
                .any(|c| c.changes.iter().any(CalendarChange::is_wall_clock))
        {
            return Err(UsageError::invalid(
                "calendar change",
                "wall-clock Start/End need the request's time zone (RequestContext::with_time_zone)",
            ));
        }
        // UpdateItemType's attributes: ConflictResolution, MessageDisposition,
        // SendMeetingInvitationsOrCancellations (attribute order is free; this is the
        // schema's).
        w.open_start(Ns::Messages, "UpdateItem");
        w.attr("ConflictResolution", self.conflict.as_str())?;
        w.attr("MessageDisposition", MessageDisposition::SaveOnly.as_str())?;
        w.attr("SendMeetingInvitationsOrCancellations", self.send.as_str())?;
        w.open_end();
        w.open(Ns::Messages, "ItemChanges");
        for c in &self.changes {
            c.write(w, ctx.version())?;
        }
        w.close(Ns::Messages, "ItemChanges");
        w.close(Ns::Messages, "UpdateItem");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for UpdateItem {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_item_responses(r, e, |r, c, updated: &mut UpdatedItem| {
            if c.is(XmlNs::Messages, "Items") {
                r.children(&c, |r, item| {
                    if item.ns() != XmlNs::Types || updated.id.is_some() {
                        return Ok(());
                    }
                    let kind = ItemKind::from_wire(item.local_name());
                    r.children(&item, |_, f| {
                        if f.is(XmlNs::Types, "ItemId") && updated.id.is_none() {
                            updated.id = Some(ItemId::read(&f)?);
                            updated.kind = Some(kind.clone());
                        }
                        Ok::<_, ServerError>(())
                    })
                })?;
            } else if c.is(XmlNs::Messages, "ConflictResults") {
                let mut count = None;
                r.children(&c, |r, n| {
                    if n.is(XmlNs::Types, "Count") {
                        count = Some(r.parse(&n, |s| s.parse::<u32>().ok())?);
                    }
                    Ok::<_, ServerError>(())
                })?;
                updated.conflict_count = count.ok_or_else(|| {
                    c.malformed(
                        MalformedKind::MissingElement,
                        "ConflictResults without Count",
                    )
                })?;
            }
            Ok(())
        })
    }
}

/// Why a [`StaleKeyRetry`] stopped without a per-item answer for every change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StaleKeyRetryError {
    /// An answer held another number of messages than the request had items.
    #[error("the server answered {answered} messages to a request of {asked} items")]
    CountMismatch {
        /// Items in the request.
        asked: usize,
        /// Messages in the answer.
        answered: usize,
    },
    /// The refetch answered an item without a usable id or change key, or another item.
    #[error("the refetched item cannot be retried: {0}")]
    Refetch(UsageError),
}

/// What a [`StaleKeyRetry`] wants done next. Exhaustive on purpose: a new step must break
/// every loop that runs one, at compile time.
#[derive(Debug, Clone)]
pub enum RetryStep {
    /// Send this UpdateItem and give its answer to [`StaleKeyRetry::updated`].
    Update(UpdateItem),
    /// Send this GetItem (ids only) and give its answer to [`StaleKeyRetry::refetched`].
    Refetch(GetItem),
    /// Over: one answer per item change of the first update, in its order. An item still
    /// stale after the last retry keeps its `ErrorIrresolvableConflict`; an item the
    /// refetch could not read (deleted in between: `ErrorItemNotFound`) carries that
    /// answer.
    Done(Result<Vec<ResponseMessage<UpdatedItem>>, StaleKeyRetryError>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Update,
    Refetch,
    Done,
}

/// A bounded refetch-and-retry of an [`UpdateItem`] for stale change keys, as a pure state
/// machine: the items answered `ErrorIrresolvableConflict` are read again (GetItem, ids
/// only, for the current change key) and their same changes sent again with it, at most
/// `max_retries` times. Items that succeeded are never sent again.
///
/// Call order: [`StaleKeyRetry::poll`] gives the next request; send it with any client and
/// hand the decoded answer's body to [`StaleKeyRetry::updated`] (after a
/// [`RetryStep::Update`]) or [`StaleKeyRetry::refetched`] (after a
/// [`RetryStep::Refetch`]); poll again until [`RetryStep::Done`]. Polling again without an
/// answer gives the same request again. A request that fails as a whole is the caller's
/// error: the machine holds no connection and no clock.
///
/// Retrying re-applies the caller's changes over whatever changed the item in between:
/// that is the point of it, and why it is bounded and explicit.
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::ops::DecodeAnswer;
/// use ews_proto::{CalendarChange, ConflictResolution, GetItem, ItemChange, ItemId,
///                 RetryStep, SendMeetingInvitationsOrCancellations, StaleKeyRetry,
///                 UpdateItem};
/// let stale = ItemId::new("AAMk1", Some("old".into()))?;
/// let op = UpdateItem::new(
///     ItemChange::new(stale, [CalendarChange::location("Room 2")])?,
///     SendMeetingInvitationsOrCancellations::SendToNone,
///     ConflictResolution::NeverOverwrite,
/// );
/// let mut retry = StaleKeyRetry::new(op, 1);
/// let answer = |xml: &'static str| http::Response::new(Bytes::from_static(xml.as_bytes()));
/// let RetryStep::Update(first) = retry.poll() else { unreachable!() };
/// # let _ = first;
/// retry.updated(UpdateItem::decode_answer(&answer(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:UpdateItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:UpdateItemResponseMessage ResponseClass="Error"><m:MessageText>stale</m:MessageText><m:ResponseCode>ErrorIrresolvableConflict</m:ResponseCode><m:Items/></m:UpdateItemResponseMessage></m:ResponseMessages></m:UpdateItemResponse></s:Body></s:Envelope>"#))?.body);
/// let RetryStep::Refetch(get) = retry.poll() else { unreachable!() };
/// assert_eq!(get.ids()[0].id(), "AAMk1");
/// retry.refetched(GetItem::decode_answer(&answer(r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages><m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="AAMk1" ChangeKey="new"/></t:CalendarItem></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>"#))?.body);
/// let RetryStep::Update(again) = retry.poll() else { unreachable!() };
/// assert_eq!(again.changes()[0].target().change_key(), Some("new"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StaleKeyRetry {
    update: UpdateItem,
    /// The current version of each item change of the first update.
    changes: Vec<ItemChange>,
    /// The answer so far for each item change of the first update.
    results: Vec<Option<ResponseMessage<UpdatedItem>>>,
    /// The indexes (into `changes`) the next or current request is about.
    pending: Vec<usize>,
    retries_left: u32,
    phase: Phase,
    error: Option<StaleKeyRetryError>,
}

impl StaleKeyRetry {
    /// Runs `update`, retrying its stale items at most `max_retries` times (0: no retry,
    /// just the update).
    pub fn new(update: UpdateItem, max_retries: u32) -> Self {
        let changes = update.changes.clone();
        let n = changes.len();
        Self {
            update,
            changes,
            results: vec![None; n],
            pending: (0..n).collect(),
            retries_left: max_retries,
            phase: Phase::Update,
            error: None,
        }
    }

    /// The next thing to do.
    pub fn poll(&self) -> RetryStep {
        match self.phase {
            Phase::Update => {
                let changes = self
                    .pending
                    .iter()
                    .map(|&i| self.changes[i].clone())
                    .collect();
                RetryStep::Update(self.update.with_changes(changes))
            }
            Phase::Refetch => {
                let mut targets = self.pending.iter().map(|&i| self.changes[i].target.clone());
                // Invariant: the Refetch phase is entered only with pending items.
                let Some(first) = targets.next() else {
                    return RetryStep::Done(Ok(Vec::new()));
                };
                let mut get = GetItem::new(first).shape(BaseShape::IdOnly);
                for t in targets {
                    get = get.id(t);
                }
                if let Some(m) = &self.update.anchor {
                    get = get.in_mailbox(m.clone());
                }
                RetryStep::Refetch(get)
            }
            Phase::Done => RetryStep::Done(match &self.error {
                Some(e) => Err(e.clone()),
                None => Ok(self.results.iter().flatten().cloned().collect()),
            }),
        }
    }

    /// The answer to the last [`RetryStep::Update`]. Ignored in another phase.
    pub fn updated(&mut self, answer: Vec<ResponseMessage<UpdatedItem>>) {
        if self.phase != Phase::Update {
            return;
        }
        if answer.len() != self.pending.len() {
            return self.fail(StaleKeyRetryError::CountMismatch {
                asked: self.pending.len(),
                answered: answer.len(),
            });
        }
        let mut stale = Vec::new();
        for (&i, message) in self.pending.iter().zip(answer) {
            if message.is_irresolvable_conflict() {
                stale.push(i);
            }
            self.results[i] = Some(message);
        }
        if stale.is_empty() || self.retries_left == 0 {
            self.phase = Phase::Done;
        } else {
            self.retries_left -= 1;
            self.pending = stale;
            self.phase = Phase::Refetch;
        }
    }

    /// The answer to the last [`RetryStep::Refetch`]. Ignored in another phase.
    pub fn refetched(&mut self, answer: Vec<ResponseMessage<Option<Item>>>) {
        if self.phase != Phase::Refetch {
            return;
        }
        if answer.len() != self.pending.len() {
            return self.fail(StaleKeyRetryError::CountMismatch {
                asked: self.pending.len(),
                answered: answer.len(),
            });
        }
        let mut again = Vec::new();
        for (&i, message) in self.pending.iter().zip(answer) {
            if message.is_error() {
                // Gone or unreadable since: that is this item's answer.
                self.results[i] = Some(ResponseMessage {
                    status: message.status,
                    value: UpdatedItem::default(),
                });
                continue;
            }
            let fresh = message.value.as_ref().and_then(Item::item_id).cloned();
            let retargeted = match fresh {
                Some(id) => self.changes[i].retarget(id),
                None => Err(ItemChange::MISSING_CHANGE_KEY),
            };
            match retargeted {
                Ok(change) => {
                    self.changes[i] = change;
                    again.push(i);
                }
                Err(e) => return self.fail(StaleKeyRetryError::Refetch(e)),
            }
        }
        self.pending = again;
        self.phase = if self.pending.is_empty() {
            Phase::Done
        } else {
            Phase::Update
        };
    }

    fn fail(&mut self, e: StaleKeyRetryError) {
        self.error = Some(e);
        self.phase = Phase::Done;
    }
}
