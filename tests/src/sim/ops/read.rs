//! GetItem, FindItem and the item writer (schema field order).
//!
//! Shapes: IdOnly writes ItemId; Default adds Subject, Body, the calendar fields
//! (Start, End, IsAllDayEvent, LegacyFreeBusyStatus, Location, Organizer, attendees) and
//! the message fields (Sender, ToRecipients, From, IsRead); AllProperties writes every
//! field kept. `t:AdditionalProperties/t:FieldURI` adds single fields. FindItem never
//! writes Body or the attendee lists (as Exchange, which refuses them in FindItem).

use roxmltree::Node;

use super::restriction::{self, Expr, SortKey};
use super::{ACCESS_DENIED, Ctx, NOT_IMPLEMENTED, recurrence, resolve_folder, write_address};
use crate::sim::soap::{self, MESSAGES_NS, TYPES_NS, W, WNs};
use crate::sim::state::{Address, ItemKind, ItemSnapshot, State};

/// The most entries one FindItem answer holds (Exchange's EWSFindCountLimit default).
pub(crate) const FIND_COUNT_LIMIT: usize = 1000;

/// Fields in the Default shape.
const DEFAULT_FIELDS: &[&str] = &[
    "Subject",
    "Body",
    "HasAttachments",
    "Start",
    "End",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "IsCancelled",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
    "Resources",
    "Sender",
    "ToRecipients",
    "CcRecipients",
    "From",
    "IsRead",
    "ReceivedRepresenting",
    "IsDelegated",
];

/// Which fields to write.
#[derive(Debug)]
pub(crate) struct Shape {
    all: bool,
    base: &'static [&'static str],
    extra: Vec<String>,
    exclude: &'static [&'static str],
}

impl Shape {
    pub(crate) fn parse(node: Option<Node<'_, '_>>, find: bool) -> Shape {
        let base = node
            .and_then(|n| soap::t_text(n, "BaseShape"))
            .unwrap_or_else(|| "Default".to_string());
        let extra = node
            .and_then(|n| soap::child(n, TYPES_NS, "AdditionalProperties"))
            .map(|p| {
                soap::children(p, TYPES_NS, "FieldURI")
                    .filter_map(|f| f.attribute("FieldURI"))
                    .map(|u| u.rsplit(':').next().unwrap_or(u).to_string())
                    .collect()
            })
            .unwrap_or_default();
        Shape {
            all: base == "AllProperties",
            base: if base == "Default" {
                DEFAULT_FIELDS
            } else {
                &[]
            },
            extra,
            exclude: if find {
                &[
                    "Body",
                    "RequiredAttendees",
                    "OptionalAttendees",
                    "Resources",
                    "Recurrence",
                    "ModifiedOccurrences",
                    "DeletedOccurrences",
                ]
            } else {
                &[]
            },
        }
    }

    fn want(&self, field: &str) -> bool {
        if self.exclude.contains(&field) {
            return false;
        }
        self.all || self.base.contains(&field) || self.extra.iter().any(|e| e == field)
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn opt_leaf(w: &mut W, shape: &Shape, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        if shape.want(name) {
            w.leaf(WNs::T, name, v);
        }
    }
}

fn attendee_list(
    w: &mut W,
    st: &State,
    shape: &Shape,
    name: &str,
    item: &ItemSnapshot,
    list: &[Address],
) {
    if list.is_empty() || !shape.want(name) {
        return;
    }
    w.open(WNs::T, name, &[]);
    for a in list {
        w.open(WNs::T, "Attendee", &[]);
        write_address(w, st, "Mailbox", a);
        match item.responses.get(&a.email.to_ascii_lowercase()) {
            Some(r) => {
                w.leaf(WNs::T, "ResponseType", &r.response_type);
                w.leaf(WNs::T, "LastResponseTime", &r.last_response_time);
            }
            None => w.leaf(WNs::T, "ResponseType", "Unknown"),
        }
        w.close(WNs::T, "Attendee");
    }
    w.close(WNs::T, name);
}

fn single(w: &mut W, st: &State, shape: &Shape, name: &str, a: Option<&Address>) {
    if let Some(a) = a {
        if shape.want(name) {
            w.open(WNs::T, name, &[]);
            write_address(w, st, "Mailbox", a);
            w.close(WNs::T, name);
        }
    }
}

fn recipient_list(w: &mut W, st: &State, shape: &Shape, name: &str, list: &[Address]) {
    if list.is_empty() || !shape.want(name) {
        return;
    }
    w.open(WNs::T, name, &[]);
    for a in list {
        write_address(w, st, "Mailbox", a);
    }
    w.close(WNs::T, name);
}

/// Writes one item in schema order.
pub(crate) fn write_item(w: &mut W, st: &State, shape: &Shape, item: &ItemSnapshot) {
    let el = item.kind.element();
    w.open(WNs::T, el, &[]);
    w.empty(
        WNs::T,
        "ItemId",
        &[("Id", &item.id), ("ChangeKey", &item.change_key)],
    );
    // ItemType fields.
    opt_leaf(w, shape, "ItemClass", Some(&item.item_class));
    opt_leaf(w, shape, "Subject", item.subject.as_deref());
    opt_leaf(w, shape, "Sensitivity", item.sensitivity.as_deref());
    if let Some((ty, text)) = &item.body {
        if shape.want("Body") {
            w.leaf_attrs(WNs::T, "Body", &[("BodyType", ty)], text);
        }
    }
    let is_message = item.kind != ItemKind::CalendarItem;
    if is_message {
        opt_leaf(w, shape, "DateTimeReceived", Some(&item.created));
    }
    if !item.categories.is_empty() && shape.want("Categories") {
        w.open(WNs::T, "Categories", &[]);
        for c in &item.categories {
            w.leaf(WNs::T, "String", c);
        }
        w.close(WNs::T, "Categories");
    }
    opt_leaf(w, shape, "Importance", item.importance.as_deref());
    if is_message {
        opt_leaf(w, shape, "DateTimeSent", Some(&item.created));
    }
    opt_leaf(w, shape, "DateTimeCreated", Some(&item.created));
    if let Some(set) = item.reminder_is_set {
        opt_leaf(w, shape, "ReminderIsSet", Some(bool_str(set)));
    }
    opt_leaf(
        w,
        shape,
        "ReminderMinutesBeforeStart",
        item.reminder_minutes_before_start.as_deref(),
    );
    opt_leaf(w, shape, "HasAttachments", Some("false"));

    match item.kind {
        ItemKind::CalendarItem => write_calendar_fields(w, st, shape, item),
        ItemKind::Message
        | ItemKind::MeetingRequest
        | ItemKind::MeetingCancellation
        | ItemKind::MeetingResponse => {
            write_message_fields(w, st, shape, item);
        }
    }
    w.close(WNs::T, el);
}

fn write_calendar_fields(w: &mut W, st: &State, shape: &Shape, item: &ItemSnapshot) {
    opt_leaf(w, shape, "UID", item.uid.as_deref());
    opt_leaf(w, shape, "Start", item.start.as_deref());
    opt_leaf(w, shape, "End", item.end.as_deref());
    opt_leaf(
        w,
        shape,
        "IsAllDayEvent",
        Some(bool_str(item.is_all_day_event.unwrap_or(false))),
    );
    opt_leaf(
        w,
        shape,
        "LegacyFreeBusyStatus",
        Some(item.legacy_free_busy_status.as_deref().unwrap_or("Busy")),
    );
    opt_leaf(w, shape, "Location", item.location.as_deref());
    opt_leaf(w, shape, "IsMeeting", Some(bool_str(item.is_meeting)));
    opt_leaf(w, shape, "IsCancelled", Some(bool_str(item.is_cancelled)));
    let recurring = item.recurrence.is_some() || item.occurrence_of.is_some();
    opt_leaf(w, shape, "IsRecurring", Some(bool_str(recurring)));
    opt_leaf(
        w,
        shape,
        "MeetingRequestWasSent",
        Some(bool_str(item.meeting_request_was_sent)),
    );
    opt_leaf(
        w,
        shape,
        "CalendarItemType",
        Some(calendar_item_type(st, item)),
    );
    opt_leaf(
        w,
        shape,
        "MyResponseType",
        Some(match &item.my_response_type {
            Some(r) => r.as_str(),
            None if item.is_meeting => "Organizer",
            None => "Unknown",
        }),
    );
    single(w, st, shape, "Organizer", item.organizer.as_ref());
    attendee_list(
        w,
        st,
        shape,
        "RequiredAttendees",
        item,
        &item.required_attendees,
    );
    attendee_list(
        w,
        st,
        shape,
        "OptionalAttendees",
        item,
        &item.optional_attendees,
    );
    attendee_list(w, st, shape, "Resources", item, &item.resources);
    if item.is_meeting {
        opt_leaf(
            w,
            shape,
            "AppointmentSequenceNumber",
            Some(&item.sequence.to_string()),
        );
    }
    if let Some(rec) = &item.recurrence {
        if shape.want("Recurrence") {
            recurrence::write(w, rec);
        }
        if !item.modified_occurrences.is_empty() && shape.want("ModifiedOccurrences") {
            w.open(WNs::T, "ModifiedOccurrences", &[]);
            for index in item.modified_occurrences.keys() {
                let (Some(changed), Some(original)) = (
                    recurrence::occurrence(item, *index),
                    original_occurrence(item, *index),
                ) else {
                    continue;
                };
                w.open(WNs::T, "Occurrence", &[]);
                w.empty(
                    WNs::T,
                    "ItemId",
                    &[("Id", &changed.id), ("ChangeKey", &item.change_key)],
                );
                w.leaf(WNs::T, "Start", changed.start.as_deref().unwrap_or(""));
                w.leaf(WNs::T, "End", changed.end.as_deref().unwrap_or(""));
                w.leaf(
                    WNs::T,
                    "OriginalStart",
                    original.start.as_deref().unwrap_or(""),
                );
                w.close(WNs::T, "Occurrence");
            }
            w.close(WNs::T, "ModifiedOccurrences");
        }
        if !item.deleted_occurrences.is_empty() && shape.want("DeletedOccurrences") {
            w.open(WNs::T, "DeletedOccurrences", &[]);
            for index in &item.deleted_occurrences {
                if let Some(o) = original_occurrence(item, *index) {
                    w.open(WNs::T, "DeletedOccurrence", &[]);
                    w.leaf(WNs::T, "Start", o.start.as_deref().unwrap_or(""));
                    w.close(WNs::T, "DeletedOccurrence");
                }
            }
            w.close(WNs::T, "DeletedOccurrences");
        }
    }
    for (name, zone) in [
        ("StartTimeZone", &item.start_time_zone),
        ("EndTimeZone", &item.end_time_zone),
    ] {
        if let Some(id) = zone {
            if shape.want(name) {
                w.empty(WNs::T, name, &[("Id", id), ("Name", id)]);
            }
        }
    }
}

/// Occurrence `index` of `series` as the pattern places it (before any change, deleted
/// or not).
fn original_occurrence(series: &ItemSnapshot, index: u32) -> Option<ItemSnapshot> {
    let mut plain = series.clone();
    plain.modified_occurrences.clear();
    plain.deleted_occurrences.clear();
    recurrence::occurrence(&plain, index)
}

/// CalendarItemType: RecurringMaster, Occurrence, Exception or Single.
fn calendar_item_type(st: &State, item: &ItemSnapshot) -> &'static str {
    if item.recurrence.is_some() {
        return "RecurringMaster";
    }
    match (&item.occurrence_of, item.instance_index) {
        (Some(master), Some(index)) => match st.find_item(master) {
            Some(series) if recurrence::is_exception(series, index) => "Exception",
            _ => "Occurrence",
        },
        _ => "Single",
    }
}

fn write_message_fields(w: &mut W, st: &State, shape: &Shape, item: &ItemSnapshot) {
    // MessageType.
    single(w, st, shape, "Sender", item.sender.as_ref());
    recipient_list(w, st, shape, "ToRecipients", &item.to_recipients);
    recipient_list(w, st, shape, "CcRecipients", &item.cc_recipients);
    single(w, st, shape, "From", item.from.as_ref());
    opt_leaf(w, shape, "IsRead", Some(bool_str(item.is_read)));
    let representing = item.received_representing.as_ref().map(|r| st.address(r));
    single(w, st, shape, "ReceivedRepresenting", representing.as_ref());
    if item.kind == ItemKind::Message {
        return;
    }
    // MeetingMessageType.
    opt_leaf(
        w,
        shape,
        "IsDelegated",
        Some(bool_str(item.received_representing.is_some())),
    );
    if item.kind == ItemKind::MeetingRequest {
        opt_leaf(
            w,
            shape,
            "IsOutOfDate",
            Some(bool_str(super::create::is_out_of_date(st, item))),
        );
    }
    opt_leaf(w, shape, "UID", item.uid.as_deref());
    // MeetingRequestMessageType / MeetingCancellationMessageType.
    if item.kind == ItemKind::MeetingRequest {
        opt_leaf(
            w,
            shape,
            "MeetingRequestType",
            Some(if item.informational {
                "PrincipalWantsCopy"
            } else if item.is_update {
                "FullUpdate"
            } else {
                "NewMeetingRequest"
            }),
        );
        opt_leaf(
            w,
            shape,
            "IntendedFreeBusyStatus",
            item.legacy_free_busy_status.as_deref(),
        );
        opt_leaf(w, shape, "Start", item.start.as_deref());
        opt_leaf(w, shape, "End", item.end.as_deref());
        opt_leaf(
            w,
            shape,
            "IsAllDayEvent",
            Some(bool_str(item.is_all_day_event.unwrap_or(false))),
        );
        opt_leaf(
            w,
            shape,
            "LegacyFreeBusyStatus",
            Some(if item.informational {
                "Free"
            } else {
                "Tentative"
            }),
        );
        opt_leaf(w, shape, "Location", item.location.as_deref());
        opt_leaf(w, shape, "IsMeeting", Some("true"));
        opt_leaf(w, shape, "IsCancelled", Some("false"));
        opt_leaf(w, shape, "CalendarItemType", Some("Single"));
        single(w, st, shape, "Organizer", item.organizer.as_ref());
        attendee_list(
            w,
            st,
            shape,
            "RequiredAttendees",
            item,
            &item.required_attendees,
        );
        attendee_list(
            w,
            st,
            shape,
            "OptionalAttendees",
            item,
            &item.optional_attendees,
        );
        attendee_list(w, st, shape, "Resources", item, &item.resources);
    } else {
        opt_leaf(w, shape, "Start", item.start.as_deref());
        opt_leaf(w, shape, "End", item.end.as_deref());
        opt_leaf(w, shape, "Location", item.location.as_deref());
        opt_leaf(w, shape, "CalendarItemType", Some("Single"));
    }
}

/// Whether `who` may read `item`: the owner; a delegate with at least Reviewer on the
/// folder (and ViewPrivateItems for private items).
pub(crate) fn can_read(st: &State, who: &str, item: &ItemSnapshot) -> bool {
    if who.eq_ignore_ascii_case(&item.owner) {
        return true;
    }
    if !st.folder_access(who, &item.owner, &item.folder, 1) {
        return false;
    }
    if item.sensitivity.as_deref() == Some("Private") {
        return st
            .delegate(&item.owner, who)
            .is_some_and(|d| d.view_private_items);
    }
    true
}

/// GetItem.
pub(crate) fn get_item(st: &State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    let shape = Shape::parse(soap::child(op, MESSAGES_NS, "ItemShape"), false);
    let ids: Vec<Node<'_, '_>> = soap::child(op, MESSAGES_NS, "ItemIds")
        .map(|i| i.children().filter(|c| c.is_element()).collect())
        .unwrap_or_default();
    let results: Vec<Result<ItemSnapshot, (&str, &str)>> = ids
        .iter()
        .map(|id| match recurrence::resolve(st, *id) {
            Err(e) => Err(e),
            Ok(item) if !can_read(st, &ctx.me, &item) => Err(("ErrorAccessDenied", ACCESS_DENIED)),
            Ok(item) => Ok(item),
        })
        .collect();
    ctx.envelope(|w| {
        w.root("GetItemResponse", &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        for r in &results {
            match r {
                Ok(item) => {
                    w.open(
                        WNs::M,
                        "GetItemResponseMessage",
                        &[("ResponseClass", "Success")],
                    );
                    w.response_fields("NoError", None);
                    w.open(WNs::M, "Items", &[]);
                    write_item(w, st, &shape, item);
                    w.close(WNs::M, "Items");
                }
                Err((code, text)) => {
                    w.open(
                        WNs::M,
                        "GetItemResponseMessage",
                        &[("ResponseClass", "Error")],
                    );
                    w.response_fields(code, Some(text));
                    w.empty(WNs::M, "Items", &[]);
                }
            }
            w.close(WNs::M, "GetItemResponseMessage");
        }
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, "GetItemResponse");
    })
}

/// One folder's FindItem result.
struct Page<'s> {
    items: Vec<std::borrow::Cow<'s, ItemSnapshot>>,
    /// IndexedPagingOffset (None for a CalendarView, which has none).
    offset: Option<usize>,
    total: usize,
    last: bool,
}

/// What FindItem was asked for beyond the folders, parsed once for all of them.
struct Query {
    restriction: Option<Expr>,
    sort: Vec<SortKey>,
    /// CalendarView: start, end, MaxEntriesReturned.
    calendar: Option<(jiff::Timestamp, jiff::Timestamp, Option<usize>)>,
}

/// Parses Restriction, SortOrder and the view; refuses what the simulator does not serve.
fn parse_query(op: Node<'_, '_>) -> Result<Query, (&'static str, String)> {
    for unserved in [
        "FractionalPageItemView",
        "SeekToConditionPageItemView",
        "ContactsView",
        "GroupBy",
        "DistinguishedGroupBy",
        "QueryString",
    ] {
        if soap::child(op, MESSAGES_NS, unserved).is_some() {
            return Err((
                NOT_IMPLEMENTED,
                format!("The simulator does not implement FindItem's m:{unserved}."),
            ));
        }
    }
    let restriction = soap::child(op, MESSAGES_NS, "Restriction")
        .map(restriction::parse_restriction)
        .transpose()?;
    let sort = soap::child(op, MESSAGES_NS, "SortOrder")
        .map(restriction::parse_sort_order)
        .transpose()?
        .unwrap_or_default();
    let calendar = match soap::child(op, MESSAGES_NS, "CalendarView") {
        None => None,
        Some(v) => {
            let date = |name: &str| {
                v.attribute(name)
                    .and_then(restriction::parse_datetime)
                    .ok_or((
                        "ErrorInvalidValueForProperty",
                        format!("CalendarView needs a valid {name}."),
                    ))
            };
            let (start, end) = (date("StartDate")?, date("EndDate")?);
            if end < start {
                return Err((
                    "ErrorCalendarEndDateIsEarlierThanStartDate",
                    "The EndDate of the CalendarView is earlier than its StartDate.".to_string(),
                ));
            }
            let two_years = start
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .checked_add(jiff::ToSpan::years(2))
                .map(|z| z.timestamp())
                .unwrap_or(jiff::Timestamp::MAX);
            if end > two_years {
                return Err((
                    "ErrorCalendarViewRangeTooBig",
                    "The CalendarView range is longer than two years.".to_string(),
                ));
            }
            let max = v
                .attribute("MaxEntriesReturned")
                .and_then(|m| m.trim().parse::<usize>().ok());
            Some((start, end, max))
        }
    };
    Ok(Query {
        restriction,
        sort,
        calendar,
    })
}

/// FindItem (Shallow traversal; IndexedPageItemView paging or a CalendarView; newest
/// first unless a SortOrder says otherwise; Restriction evaluated, see `restriction`).
pub(crate) fn find_item(st: &State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    let shape = Shape::parse(soap::child(op, MESSAGES_NS, "ItemShape"), true);
    let query = parse_query(op);
    let view = soap::child(op, MESSAGES_NS, "IndexedPageItemView");
    let max = view
        .and_then(|v| v.attribute("MaxEntriesReturned"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let offset = view
        .and_then(|v| v.attribute("Offset"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let from_end = view.and_then(|v| v.attribute("BasePoint")) == Some("End");
    let traversal = op.attribute("Traversal").unwrap_or("Shallow");
    let folders: Vec<Node<'_, '_>> = soap::child(op, MESSAGES_NS, "ParentFolderIds")
        .map(|f| f.children().filter(|c| c.is_element()).collect())
        .unwrap_or_default();
    let results: Vec<Result<Page<'_>, (&str, String)>> = folders
        .iter()
        .map(|f| {
            if traversal != "Shallow" {
                return Err((
                    NOT_IMPLEMENTED,
                    "The simulator only supports Traversal=\"Shallow\".".to_string(),
                ));
            }
            let query = query.as_ref().map_err(Clone::clone)?;
            let (owner, folder) = resolve_folder(st, ctx, *f)?;
            if !st.folder_access(&ctx.me, &owner, &folder, 1) {
                return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
            }
            let mut all: Vec<&ItemSnapshot> = st
                .mailbox(&owner)
                .map(|m| {
                    m.items
                        .iter()
                        .filter(|i| i.folder == folder && can_read(st, &ctx.me, i))
                        .filter(|i| {
                            query
                                .restriction
                                .as_ref()
                                .is_none_or(|r| restriction::matches(r, i))
                        })
                        .collect()
                })
                .unwrap_or_default();
            all.reverse();
            restriction::sort(&mut all, &query.sort);
            if let Some((start, end, max)) = query.calendar {
                // Calendar items and occurrences of series that overlap [start, end),
                // earliest first; a series shows as its occurrences, never as itself.
                let overlaps = |i: &ItemSnapshot| {
                    restriction::span(i)
                        .is_some_and(|(s, e)| s < end && (e > start || (s == e && s >= start)))
                };
                let mut found: Vec<std::borrow::Cow<'_, ItemSnapshot>> = Vec::new();
                for i in all.into_iter().filter(|i| i.kind == ItemKind::CalendarItem) {
                    if i.recurrence.is_some() {
                        found.extend(
                            recurrence::occurrences(i, start, end)
                                .into_iter()
                                .map(std::borrow::Cow::Owned),
                        );
                    } else if overlaps(i) {
                        found.push(std::borrow::Cow::Borrowed(i));
                    }
                }
                found.sort_by_key(|i| restriction::span(i).map(|(s, _)| s));
                let total = found.len();
                // Exchange's FindCount limit: never more than 1000 entries in one answer.
                let keep = max
                    .unwrap_or(FIND_COUNT_LIMIT)
                    .min(FIND_COUNT_LIMIT)
                    .min(total);
                found.truncate(keep);
                return Ok(Page {
                    items: found,
                    offset: None,
                    total,
                    last: keep >= total,
                });
            }
            let total = all.len();
            let (start, end) = if from_end {
                let end = total.saturating_sub(offset);
                let start = max.map_or(0, |m| end.saturating_sub(m));
                (start, end)
            } else {
                let start = offset.min(total);
                let end = max.map_or(total, |m| start.saturating_add(m).min(total));
                (start, end)
            };
            Ok(Page {
                items: all[start..end]
                    .iter()
                    .map(|i| std::borrow::Cow::Borrowed(*i))
                    .collect(),
                offset: Some(if from_end {
                    offset + (end - start)
                } else {
                    end
                }),
                total,
                last: end >= total,
            })
        })
        .collect();
    ctx.envelope(|w| {
        w.root("FindItemResponse", &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        for r in &results {
            match r {
                Ok(page) => {
                    w.open(
                        WNs::M,
                        "FindItemResponseMessage",
                        &[("ResponseClass", "Success")],
                    );
                    w.response_fields("NoError", None);
                    let offset = page.offset.map(|o| o.to_string());
                    let total = page.total.to_string();
                    let mut attrs: Vec<(&str, &str)> = Vec::new();
                    if let Some(o) = &offset {
                        attrs.push(("IndexedPagingOffset", o));
                    }
                    attrs.push(("TotalItemsInView", &total));
                    attrs.push(("IncludesLastItemInRange", bool_str(page.last)));
                    w.open(WNs::M, "RootFolder", &attrs);
                    w.open(WNs::T, "Items", &[]);
                    for item in &page.items {
                        write_item(w, st, &shape, item);
                    }
                    w.close(WNs::T, "Items");
                    w.close(WNs::M, "RootFolder");
                }
                Err((code, text)) => {
                    w.open(
                        WNs::M,
                        "FindItemResponseMessage",
                        &[("ResponseClass", "Error")],
                    );
                    w.response_fields(code, Some(text));
                }
            }
            w.close(WNs::M, "FindItemResponseMessage");
        }
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, "FindItemResponse");
    })
}
