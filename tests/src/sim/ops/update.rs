//! UpdateItem of calendar items (and the item fields of any item), as Exchange applies it.
//!
//! Response shape: `m:UpdateItemResponse > m:ResponseMessages > m:UpdateItemResponseMessage
//! ResponseClass=...` per `t:ItemChange` in request order; success carries `m:ResponseCode
//! NoError`, `m:Items` with the item's element and its `t:ItemId` (the new change key), then
//! `m:ConflictResults > t:Count`; an error carries MessageText, ResponseCode,
//! DescriptiveLinkKey and an empty `m:Items`.
//!
//! What it keeps of Exchange:
//! - **One property per change.** Each `SetItemField` / `AppendToItemField` holds an item
//!   element with exactly the one property its FieldURI names
//!   (`ErrorIncorrectUpdatePropertyCount`, `ErrorUpdatePropertyMismatch`); appending is
//!   allowed for the body, the categories and the attendee lists only
//!   (`ErrorInvalidPropertyAppend`); Start, End and LegacyFreeBusyStatus cannot be deleted
//!   (`ErrorInvalidPropertyDelete`). Start and End without an offset are read in the
//!   request's TimeZoneContext.
//! - **Change keys.** Every write of an item (an update, a response recorded at the
//!   organizer, a cancellation, an update reaching an attendee) gives it a new change key
//!   and logs the old one with the properties the write changed. A change whose
//!   ChangeKey is not the current one is stale: `NeverOverwrite` refuses it
//!   (`ErrorIrresolvableConflict`); `AutoResolve` applies it when none of its properties
//!   changed since that key (the conflicts it resolved: 0), else refuses it;
//!   `AlwaysOverwrite` applies it and counts the properties it overwrote in
//!   `ConflictResults`. A change key the item never had counts as every property changed.
//! - **Who may.** The item's owner; a delegate with Editor on the folder, or Author for
//!   the items it created (`ErrorAccessDenied` otherwise).
//! - **Sending.** `SendMeetingInvitationsOrCancellations` is required for a calendar item
//!   (`ErrorSendMeetingInvitationsOrCancellationsRequired`). An attendee's copy of a
//!   meeting cannot be sent (`ErrorCalendarIsNotOrganizer` unless `SendToNone`). For the
//!   organizer's meeting, `SendOnlyToAll` and `SendToAllAndSaveCopy` deliver one meeting
//!   update (a `t:MeetingRequest`, MeetingRequestType `FullUpdate`, the new sequence
//!   number) to every attendee, honouring each one's delegates and
//!   DeliverMeetingRequests; `SendOnlyToChanged` and `SendToChangedAndSaveCopy` invite the
//!   attendees added and send a cancellation to those removed; the `...AndSaveCopy` modes
//!   keep a copy in the sender's Sent Items (or the SavedItemFolderId). `SendToNone` tells
//!   no one. Updates are counted at the organizer (`updates_sent`) and at each attendee
//!   (`updates_received`); an update reaching an attendee changes the attendee's calendar
//!   item, and makes the earlier requests of that attendee out of date.
//! - **Occurrences.** An `t:OccurrenceItemId` (or an occurrence's own id) changes one
//!   occurrence of a series: Start, End, Subject, Location and LegacyFreeBusyStatus make
//!   it an exception; a `t:RecurringMasterItemId` changes the series.

use std::collections::BTreeSet;

use roxmltree::Node;

use super::create::{self, MessageOverride};
use super::{ACCESS_DENIED, Ctx, ITEM_NOT_FOUND, NOT_IMPLEMENTED, recurrence, request_time};
use crate::sim::soap::{self, MESSAGES_NS, TYPES_NS, WNs};
use crate::sim::state::{Address, ItemKind, ItemSnapshot, OccurrenceChange, State};

type ItemError = (&'static str, String);

/// What one item change did.
struct Updated {
    kind: ItemKind,
    id: String,
    change_key: String,
    conflicts: usize,
}

/// One `SetItemField`, `AppendToItemField` or `DeleteItemField`.
struct Edit<'a, 'i> {
    how: How,
    uri: String,
    /// The item element holding the property (Set, Append).
    container: Option<Node<'a, 'i>>,
    /// The property element (Set, Append).
    property: Option<Node<'a, 'i>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Set,
    Append,
    Delete,
}

/// UpdateItem (see the module documentation).
pub(crate) fn update_item(st: &mut State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    let conflict = op.attribute("ConflictResolution").unwrap_or("AutoResolve");
    let send = op.attribute("SendMeetingInvitationsOrCancellations");
    let target = soap::child(op, MESSAGES_NS, "SavedItemFolderId")
        .and_then(|f| f.children().find(|c| c.is_element()))
        .map(|f| super::resolve_folder(st, ctx, f));
    let changes: Vec<Node<'_, '_>> = soap::child(op, MESSAGES_NS, "ItemChanges")
        .map(|c| soap::children(c, TYPES_NS, "ItemChange").collect())
        .unwrap_or_default();
    let results: Vec<Result<Updated, ItemError>> = changes
        .iter()
        .map(|change| match &target {
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(t)) => update_one(st, ctx, *change, conflict, send, Some(t)),
            None => update_one(st, ctx, *change, conflict, send, None),
        })
        .collect();
    ctx.envelope(|w| {
        w.root("UpdateItemResponse", &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        for r in &results {
            match r {
                Ok(u) => {
                    w.open(
                        WNs::M,
                        "UpdateItemResponseMessage",
                        &[("ResponseClass", "Success")],
                    );
                    w.response_fields("NoError", None);
                    w.open(WNs::M, "Items", &[]);
                    w.open(WNs::T, u.kind.element(), &[]);
                    w.empty(
                        WNs::T,
                        "ItemId",
                        &[("Id", &u.id), ("ChangeKey", &u.change_key)],
                    );
                    w.close(WNs::T, u.kind.element());
                    w.close(WNs::M, "Items");
                    w.open(WNs::M, "ConflictResults", &[]);
                    w.leaf(WNs::T, "Count", &u.conflicts.to_string());
                    w.close(WNs::M, "ConflictResults");
                }
                Err((code, text)) => {
                    w.open(
                        WNs::M,
                        "UpdateItemResponseMessage",
                        &[("ResponseClass", "Error")],
                    );
                    w.response_fields(code, Some(text));
                    w.empty(WNs::M, "Items", &[]);
                }
            }
            w.close(WNs::M, "UpdateItemResponseMessage");
        }
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, "UpdateItemResponse");
    })
}

/// Reads the changes of one `t:Updates`.
fn edits<'a, 'i>(updates: Node<'a, 'i>) -> Result<Vec<Edit<'a, 'i>>, ItemError> {
    let mut out = Vec::new();
    for u in updates.children().filter(|c| c.is_element()) {
        let how = match u.tag_name().name() {
            "SetItemField" => How::Set,
            "AppendToItemField" => How::Append,
            _ => How::Delete,
        };
        let mut children = u.children().filter(|c| c.is_element());
        let path = children.next().ok_or((
            "ErrorInvalidPropertyRequest",
            "A change names no property.".to_string(),
        ))?;
        if path.tag_name().name() != "FieldURI" {
            return Err((
                NOT_IMPLEMENTED,
                format!(
                    "The simulator does not update properties named by t:{}.",
                    path.tag_name().name()
                ),
            ));
        }
        let uri = path.attribute("FieldURI").unwrap_or("").to_string();
        let container = children.next();
        if children.next().is_some() {
            return Err((
                "ErrorIncorrectUpdatePropertyCount",
                "A change names more than one property.".to_string(),
            ));
        }
        let property = match (how, container) {
            (How::Delete, _) => None,
            (_, None) => {
                return Err((
                    "ErrorIncorrectUpdatePropertyCount",
                    format!("The change of {uri} holds no item."),
                ));
            }
            (_, Some(c)) => {
                let props: Vec<Node<'_, '_>> = c.children().filter(|p| p.is_element()).collect();
                if props.len() != 1 {
                    return Err((
                        "ErrorIncorrectUpdatePropertyCount",
                        format!(
                            "An item change must hold exactly one property; the change of {uri} holds {}.",
                            props.len()
                        ),
                    ));
                }
                let name = uri.rsplit(':').next().unwrap_or("");
                if props[0].tag_name().name() != name {
                    return Err((
                        "ErrorUpdatePropertyMismatch",
                        format!(
                            "The property t:{} does not match the FieldURI {uri}.",
                            props[0].tag_name().name()
                        ),
                    ));
                }
                Some(props[0])
            }
        };
        out.push(Edit {
            how,
            uri,
            container,
            property,
        });
    }
    Ok(out)
}

fn update_one(
    st: &mut State,
    ctx: &Ctx,
    change: Node<'_, '_>,
    conflict: &str,
    send: Option<&str>,
    target: Option<&(String, String)>,
) -> Result<Updated, ItemError> {
    let reference = change
        .children()
        .find(|c| c.is_element())
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND.to_string()))?;
    let resolved = recurrence::resolve(st, reference).map_err(|(c, t)| (c, t.to_string()))?;
    let occurrence = resolved.occurrence_of.clone().zip(resolved.instance_index);
    let stored_id = occurrence
        .as_ref()
        .map_or_else(|| resolved.id.clone(), |(m, _)| m.clone());
    let item = st
        .find_item(&stored_id)
        .cloned()
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND.to_string()))?;
    let own = item.created_by.eq_ignore_ascii_case(&ctx.me);
    let allowed = st.folder_access(&ctx.me, &item.owner, &item.folder, 3)
        || (own && st.folder_access(&ctx.me, &item.owner, &item.folder, 2));
    if !allowed {
        return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
    }
    let updates = soap::child(change, TYPES_NS, "Updates").ok_or((
        "ErrorInvalidPropertyRequest",
        "The item change has no Updates.".to_string(),
    ))?;
    let edits = edits(updates)?;
    let fields: BTreeSet<String> = edits.iter().map(|e| e.uri.clone()).collect();

    // A stale change key (see the module documentation).
    let mut conflicts = 0;
    let sent_key = reference.attribute("ChangeKey").filter(|k| !k.is_empty());
    if let Some(key) = sent_key.filter(|k| *k != item.change_key) {
        let since: Option<BTreeSet<&str>> = item
            .change_log
            .iter()
            .position(|(old, _)| old == key)
            .map(|at| {
                item.change_log[at..]
                    .iter()
                    .flat_map(|(_, f)| f.iter().map(String::as_str))
                    .collect()
            });
        let overlap = since.as_ref().map_or(fields.len(), |s| {
            fields.iter().filter(|f| s.contains(f.as_str())).count()
        });
        let irresolvable = (
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key \
             passed in the request does not match the current change key for the item."
                .to_string(),
        );
        match conflict {
            "NeverOverwrite" => return Err(irresolvable),
            "AutoResolve" if since.is_none() || overlap > 0 => return Err(irresolvable),
            "AutoResolve" => {}
            _ => conflicts = overlap,
        }
    }

    let is_calendar = item.kind == ItemKind::CalendarItem;
    let send = match send {
        Some(s) => s,
        None if is_calendar => {
            return Err((
                "ErrorSendMeetingInvitationsOrCancellationsRequired",
                "SendMeetingInvitationsOrCancellations is required for calendar items.".to_string(),
            ));
        }
        None => "SendToNone",
    };
    let organizer_is_owner = item
        .organizer
        .as_ref()
        .is_some_and(|o| o.email.eq_ignore_ascii_case(&item.owner));
    if is_calendar && item.is_meeting && !organizer_is_owner && send != "SendToNone" {
        return Err((
            "ErrorCalendarIsNotOrganizer",
            "Only the organizer of a meeting can send its update; this is an attendee's copy."
                .to_string(),
        ));
    }

    let mut after = match occurrence {
        Some(_) => resolved.clone(),
        None => item.clone(),
    };
    for e in &edits {
        apply(ctx, &mut after, e, occurrence.is_some())?;
    }
    if let Some((s, e)) = super::restriction::span(&after) {
        if e < s {
            return Err((
                "ErrorCalendarEndDateIsEarlierThanStartDate",
                "The End of the calendar item is earlier than its Start.".to_string(),
            ));
        }
    }

    // Store the change.
    let field_list: Vec<&str> = fields.iter().map(String::as_str).collect();
    match &occurrence {
        Some((_, index)) => {
            if let Some(series) = st.find_item_mut(&stored_id) {
                series.modified_occurrences.insert(
                    *index,
                    OccurrenceChange {
                        start: after.start.clone(),
                        end: after.end.clone(),
                        subject: after.subject.clone(),
                        location: after.location.clone(),
                        legacy_free_busy_status: after.legacy_free_busy_status.clone(),
                    },
                );
            }
        }
        None => {
            if let Some(stored) = st.find_item_mut(&stored_id) {
                let id = std::mem::take(&mut stored.id);
                let key = std::mem::take(&mut stored.change_key);
                let log = std::mem::take(&mut stored.change_log);
                *stored = after.clone();
                stored.id = id;
                stored.change_key = key;
                stored.change_log = log;
                if is_calendar {
                    stored.is_meeting = stored.attendees().next().is_some() || stored.is_meeting;
                }
            }
        }
    }
    let sends = is_calendar && after.is_meeting && organizer_is_owner && send != "SendToNone";
    if sends {
        if let Some(stored) = st.find_item_mut(&stored_id) {
            stored.sequence += 1;
            stored.meeting_request_was_sent = true;
        }
    }
    let change_key = st
        .touch(&stored_id, &field_list)
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND.to_string()))?;
    if sends {
        let sequence = st.find_item(&stored_id).map_or(0, |i| i.sequence);
        let mut template = after.clone();
        template.sequence = sequence;
        tell_attendees(st, ctx, &item, &template, send, target);
    }
    let id = match &occurrence {
        Some((master, index)) => recurrence::occurrence_id(master, *index),
        None => stored_id,
    };
    Ok(Updated {
        kind: item.kind,
        id,
        change_key,
        conflicts,
    })
}

/// Sends the update of `after` (the meeting, or one occurrence of it) as `send` says.
fn tell_attendees(
    st: &mut State,
    ctx: &Ctx,
    before: &ItemSnapshot,
    after: &ItemSnapshot,
    send: &str,
    target: Option<&(String, String)>,
) {
    let update = MessageOverride {
        is_update: true,
        ..MessageOverride::default()
    };
    let organizer = after.owner.clone();
    if matches!(send, "SendOnlyToAll" | "SendToAllAndSaveCopy") {
        let reached =
            create::deliver_with(st, after, &ctx.me, ItemKind::MeetingRequest, Some(&update));
        if let Some(mb) = st.mailbox_mut(&organizer) {
            mb.updates_sent += reached;
        }
    } else {
        // Only the attendees added (invited) and removed (told it is cancelled for them).
        let has = |list: &ItemSnapshot, a: &Address| {
            list.attendees()
                .any(|b| b.email.eq_ignore_ascii_case(&a.email))
        };
        let only = |from: &ItemSnapshot, keep: &dyn Fn(&Address) -> bool| {
            let mut t = from.clone();
            t.required_attendees.retain(|a| keep(a));
            t.optional_attendees.retain(|a| keep(a));
            t.resources.retain(|a| keep(a));
            t
        };
        let added = only(after, &|a| !has(before, a));
        let removed = only(before, &|a| !has(after, a));
        let invited = create::deliver_with(st, &added, &ctx.me, ItemKind::MeetingRequest, None);
        let cancelled =
            create::deliver_with(st, &removed, &ctx.me, ItemKind::MeetingCancellation, None);
        if let Some(mb) = st.mailbox_mut(&organizer) {
            mb.invitations_sent += invited;
            mb.cancellations_sent += cancelled;
        }
    }
    if send.ends_with("AndSaveCopy") {
        create::save_sent_copy_with(
            st,
            after,
            &ctx.me,
            ItemKind::MeetingRequest,
            Some(&update),
            target,
        );
    }
}

fn text(node: Option<Node<'_, '_>>) -> String {
    node.map(soap::text_of).unwrap_or_default()
}

/// Applies one change to `item` (an occurrence when `occurrence`).
fn apply(
    ctx: &Ctx,
    item: &mut ItemSnapshot,
    e: &Edit<'_, '_>,
    occurrence: bool,
) -> Result<(), ItemError> {
    let uri = e.uri.as_str();
    let cannot_append = || {
        (
            "ErrorInvalidPropertyAppend",
            format!("{uri} cannot be appended to."),
        )
    };
    let cannot_delete = || {
        (
            "ErrorInvalidPropertyDelete",
            format!("{uri} cannot be deleted."),
        )
    };
    const OCCURRENCE_FIELDS: &[&str] = &[
        "item:Subject",
        "calendar:Start",
        "calendar:End",
        "calendar:Location",
        "calendar:LegacyFreeBusyStatus",
    ];
    if occurrence && !OCCURRENCE_FIELDS.contains(&uri) {
        return Err((
            NOT_IMPLEMENTED,
            format!("The simulator does not change {uri} of a single occurrence."),
        ));
    }
    let value = || text(e.property);
    let is_calendar = item.kind == ItemKind::CalendarItem;
    if uri.starts_with("calendar:") && !is_calendar {
        return Err((
            "ErrorInvalidPropertySet",
            format!("{uri} is not a property of this item."),
        ));
    }
    match (uri, e.how) {
        (_, How::Append)
            if !matches!(
                uri,
                "item:Body"
                    | "item:Categories"
                    | "calendar:RequiredAttendees"
                    | "calendar:OptionalAttendees"
                    | "calendar:Resources"
            ) =>
        {
            return Err(cannot_append());
        }
        ("calendar:Start" | "calendar:End" | "calendar:LegacyFreeBusyStatus", How::Delete) => {
            return Err(cannot_delete());
        }
        ("item:Subject", How::Delete) => item.subject = None,
        ("item:Subject", _) => item.subject = Some(value()),
        ("item:Sensitivity", How::Delete) => item.sensitivity = None,
        ("item:Sensitivity", _) => item.sensitivity = Some(value()),
        ("item:Importance", How::Delete) => item.importance = None,
        ("item:Importance", _) => item.importance = Some(value()),
        ("item:Body", How::Delete) => item.body = None,
        ("item:Body", how) => {
            let b = e.property.ok_or_else(cannot_append)?;
            let ty = b.attribute("BodyType").unwrap_or("Text").to_string();
            let new: String = b.children().filter_map(|c| c.text()).collect();
            item.body = Some(match (how, item.body.take()) {
                (How::Append, Some((old_ty, old))) => (old_ty, old + &new),
                _ => (ty, new),
            });
        }
        ("item:Categories", how) => {
            let list: Vec<String> = e
                .property
                .map(|c| {
                    soap::children(c, TYPES_NS, "String")
                        .map(soap::text_of)
                        .collect()
                })
                .unwrap_or_default();
            match how {
                How::Delete => item.categories.clear(),
                How::Append => item.categories.extend(list),
                How::Set => item.categories = list,
            }
        }
        ("item:ReminderIsSet", How::Delete) => item.reminder_is_set = None,
        ("item:ReminderIsSet", _) => {
            item.reminder_is_set = Some(matches!(value().as_str(), "true" | "1"));
        }
        ("item:ReminderMinutesBeforeStart", How::Delete) => {
            item.reminder_minutes_before_start = None;
        }
        ("item:ReminderMinutesBeforeStart", _) => {
            item.reminder_minutes_before_start = Some(value());
        }
        ("calendar:Start" | "calendar:End", _) => {
            let t = request_time(ctx, &value());
            if super::restriction::parse_datetime(&t).is_none() {
                return Err((
                    "ErrorInvalidValueForProperty",
                    format!("{uri} is not a valid xs:dateTime."),
                ));
            }
            if uri == "calendar:Start" {
                item.start = Some(t);
            } else {
                item.end = Some(t);
            }
        }
        ("calendar:IsAllDayEvent", How::Delete) => item.is_all_day_event = None,
        ("calendar:IsAllDayEvent", _) => {
            item.is_all_day_event = Some(matches!(value().as_str(), "true" | "1"));
        }
        ("calendar:LegacyFreeBusyStatus", _) => item.legacy_free_busy_status = Some(value()),
        ("calendar:Location", How::Delete) => item.location = None,
        ("calendar:Location", _) => item.location = Some(value()),
        (
            "calendar:RequiredAttendees" | "calendar:OptionalAttendees" | "calendar:Resources",
            how,
        ) => {
            let name = uri.trim_start_matches("calendar:");
            let new = e
                .container
                .map(|c| create::attendees(c, name))
                .unwrap_or_default();
            let list = match name {
                "RequiredAttendees" => &mut item.required_attendees,
                "OptionalAttendees" => &mut item.optional_attendees,
                _ => &mut item.resources,
            };
            match how {
                How::Delete => list.clear(),
                How::Set => *list = new,
                How::Append => {
                    for a in new {
                        if !list.iter().any(|b| b.email.eq_ignore_ascii_case(&a.email)) {
                            list.push(a);
                        }
                    }
                }
            }
            if item.attendees().next().is_some() {
                item.is_meeting = true;
            }
        }
        ("calendar:Recurrence", How::Delete) => {
            item.recurrence = None;
            item.modified_occurrences.clear();
            item.deleted_occurrences.clear();
        }
        ("calendar:Recurrence", _) => {
            let r = e.property.ok_or_else(cannot_append)?;
            item.recurrence = Some(recurrence::parse(r)?);
            // A new pattern makes new occurrences: the old exceptions go.
            item.modified_occurrences.clear();
            item.deleted_occurrences.clear();
        }
        ("calendar:StartTimeZone" | "calendar:EndTimeZone" | "calendar:MeetingTimeZone", how) => {
            let id = match how {
                How::Delete => None,
                _ => e
                    .property
                    .and_then(|p| p.attribute("Id").or_else(|| p.attribute("TimeZoneName")))
                    .map(str::to_string),
            };
            if how != How::Delete && id.as_deref().is_none_or(|i| i.trim().is_empty()) {
                return Err((
                    "ErrorCalendarInvalidTimeZone",
                    format!("{uri} names no time zone."),
                ));
            }
            match uri {
                "calendar:StartTimeZone" => item.start_time_zone = id,
                "calendar:EndTimeZone" => item.end_time_zone = id,
                _ => {
                    item.start_time_zone = id.clone();
                    item.end_time_zone = id;
                }
            }
        }
        _ => {
            return Err((
                NOT_IMPLEMENTED,
                format!("The simulator does not update {uri}."),
            ));
        }
    }
    Ok(())
}
