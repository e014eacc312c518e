//! CreateItem (calendar items and messages) and meeting message delivery.
//!
//! Response shape: `m:CreateItemResponse > m:ResponseMessages > m:CreateItemResponseMessage
//! ResponseClass=...` per item in request order; success carries `m:ResponseCode NoError`
//! and `m:Items` with `t:CalendarItem > t:ItemId Id ChangeKey` (empty `m:Items` for a sent
//! message); an error carries MessageText, ResponseCode, DescriptiveLinkKey and an empty
//! `m:Items`.
//!
//! `t:CancelCalendarItem` cancels a meeting the way Exchange does: with SendOnly or
//! SendAndSaveCopy every attendee gets a `t:MeetingCancellation` (subject
//! `Canceled: ...`, the t:NewBodyContent or t:Body as its body; a delegate's copies and
//! DeliverMeetingRequests are honoured as for invitations; an attendee's calendar item
//! for the meeting is marked IsCancelled when it arrives), SendAndSaveCopy keeps a copy in
//! the sender's Sent Items (or the SavedItemFolderId), and the organizer's calendar item
//! is marked IsCancelled and moved to Deleted Items (same id, new change key). SaveOnly
//! only saves the cancellation message in the sender's Drafts. The referenced item must
//! be a calendar item the sender organizes or may delete as a delegate (Editor, or Author
//! for the items it created).
//!
//! `t:AcceptItem`, `t:TentativelyAcceptItem` and `t:DeclineItem` answer a meeting request
//! (the ReferenceItemId; a delegate's copy answers for the principal it was received
//! for): the attendee's calendar gets the meeting with MyResponseType Accept or Tentative
//! (a decline removes it), whatever the disposition. With SendOnly or SendAndSaveCopy the
//! organizer gets a `t:MeetingResponse` (`Accepted: ...`, `Tentative: ...`, `Declined:
//! ...`; From the attendee, Sender the one who answered), which, when it arrives, records
//! the answer on the organizer's calendar item (the attendee's ResponseType and
//! LastResponseTime, and a new change key); SendAndSaveCopy keeps a copy in Sent Items (or
//! the SavedItemFolderId), and the request moves to Deleted Items. SaveOnly saves the
//! response in Drafts unsent and leaves the request. Answering needs the request (its
//! owner, or Editor on its folder) and Editor on the attendee's calendar unless one is
//! the attendee; a request superseded by an update of its meeting that reached the same
//! mailbox since is refused (`ErrorCalendarMeetingRequestIsOutOfDate`).

use roxmltree::Node;

use super::{
    ACCESS_DENIED, Ctx, ITEM_NOT_FOUND, id_well_formed, read_address, recurrence, request_time,
    resolve_folder,
};
use crate::sim::soap::{self, MESSAGES_NS, TYPES_NS, WNs};
use crate::sim::state::{Address, ItemKind, ItemSnapshot, State};

type ItemError = (&'static str, String);

/// What was created for one item of the request.
struct Created {
    kind: ItemKind,
    ids: Option<(String, String)>,
}

/// CreateItem.
pub(crate) fn create_item(st: &mut State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    let disposition = op.attribute("MessageDisposition");
    let invitations = op
        .attribute("SendMeetingInvitations")
        .unwrap_or("SendToNone");
    let target = soap::child(op, MESSAGES_NS, "SavedItemFolderId")
        .and_then(|f| f.children().find(|c| c.is_element()))
        .map(|f| resolve_folder(st, ctx, f));
    let items: Vec<Node<'_, '_>> = soap::child(op, MESSAGES_NS, "Items")
        .map(|i| i.children().filter(|c| c.is_element()).collect())
        .unwrap_or_default();
    let mut results = Vec::new();
    for item in items {
        let result = match &target {
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(t)) => create_one(st, ctx, item, Some(t), disposition, invitations),
            None => create_one(st, ctx, item, None, disposition, invitations),
        };
        results.push(result);
    }
    ctx.envelope(|w| {
        w.root("CreateItemResponse", &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        for r in &results {
            match r {
                Ok(c) => {
                    w.open(
                        WNs::M,
                        "CreateItemResponseMessage",
                        &[("ResponseClass", "Success")],
                    );
                    w.response_fields("NoError", None);
                    w.open(WNs::M, "Items", &[]);
                    if let Some((id, ck)) = &c.ids {
                        w.open(WNs::T, c.kind.element(), &[]);
                        w.empty(WNs::T, "ItemId", &[("Id", id), ("ChangeKey", ck)]);
                        w.close(WNs::T, c.kind.element());
                    }
                    w.close(WNs::M, "Items");
                }
                Err((code, text)) => {
                    w.open(
                        WNs::M,
                        "CreateItemResponseMessage",
                        &[("ResponseClass", "Error")],
                    );
                    w.response_fields(code, Some(text));
                    w.empty(WNs::M, "Items", &[]);
                }
            }
            w.close(WNs::M, "CreateItemResponseMessage");
        }
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, "CreateItemResponse");
    })
}

fn create_one(
    st: &mut State,
    ctx: &Ctx,
    node: Node<'_, '_>,
    target: Option<&(String, String)>,
    disposition: Option<&str>,
    invitations: &str,
) -> Result<Created, ItemError> {
    match node.tag_name().name() {
        "CalendarItem" => create_calendar_item(st, ctx, node, target, invitations),
        "Message" => create_message(st, ctx, node, target, disposition),
        "CancelCalendarItem" => cancel_calendar_item(st, ctx, node, target, disposition),
        name @ ("AcceptItem" | "TentativelyAcceptItem" | "DeclineItem") => {
            match Reply::from_element(name) {
                Some(reply) => respond_to_meeting(st, ctx, node, reply, target, disposition),
                None => Err(("ErrorInvalidRequest", format!("Unknown response t:{name}."))),
            }
        }
        other => Err((
            "ErrorInvalidRequest",
            format!(
                "The simulator cannot create t:{other} items, only t:CalendarItem and t:Message."
            ),
        )),
    }
}

pub(crate) fn attendees(node: Node<'_, '_>, name: &str) -> Vec<Address> {
    soap::child(node, TYPES_NS, name)
        .map(|list| {
            list.children()
                .filter(|c| c.is_element())
                .filter_map(|a| soap::child(a, TYPES_NS, "Mailbox"))
                .map(read_address)
                .collect()
        })
        .unwrap_or_default()
}

fn recipients(node: Node<'_, '_>, name: &str) -> Vec<Address> {
    soap::child(node, TYPES_NS, name)
        .map(|list| {
            soap::children(list, TYPES_NS, "Mailbox")
                .map(read_address)
                .collect()
        })
        .unwrap_or_default()
}

fn single_recipient(node: Node<'_, '_>, name: &str) -> Option<Address> {
    soap::child(node, TYPES_NS, name)
        .and_then(|r| soap::child(r, TYPES_NS, "Mailbox"))
        .map(read_address)
}

/// Reads the ItemType fields the simulator keeps.
pub(crate) fn read_common(item: &mut ItemSnapshot, node: Node<'_, '_>) {
    item.subject = soap::t_text(node, "Subject");
    item.sensitivity = soap::t_text(node, "Sensitivity");
    item.importance = soap::t_text(node, "Importance");
    if let Some(b) = soap::child(node, TYPES_NS, "Body") {
        let ty = b.attribute("BodyType").unwrap_or("Text").to_string();
        let text: String = b.children().filter_map(|c| c.text()).collect();
        item.body = Some((ty, text));
    }
    if let Some(c) = soap::child(node, TYPES_NS, "Categories") {
        item.categories = soap::children(c, TYPES_NS, "String")
            .map(soap::text_of)
            .collect();
    }
}

fn create_calendar_item(
    st: &mut State,
    ctx: &Ctx,
    node: Node<'_, '_>,
    target: Option<&(String, String)>,
    invitations: &str,
) -> Result<Created, ItemError> {
    let (owner, folder) = target
        .cloned()
        .unwrap_or_else(|| (ctx.me.clone(), "calendar".to_string()));
    if !st.folder_access(&ctx.me, &owner, &folder, 2) {
        return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
    }
    let mut item = ItemSnapshot::new(ItemKind::CalendarItem, &owner, &folder, &ctx.me);
    read_common(&mut item, node);
    item.start = soap::t_text(node, "Start").map(|t| request_time(ctx, &t));
    item.end = soap::t_text(node, "End").map(|t| request_time(ctx, &t));
    item.reminder_is_set = soap::t_text(node, "ReminderIsSet").map(|v| v == "true" || v == "1");
    item.reminder_minutes_before_start = soap::t_text(node, "ReminderMinutesBeforeStart");
    if let Some(r) = soap::child(node, TYPES_NS, "Recurrence") {
        item.recurrence = Some(recurrence::parse(r)?);
    }
    // Exchange 2010 on: StartTimeZone and EndTimeZone; Exchange 2007 SP1: MeetingTimeZone
    // for both. Without any, the request's TimeZoneContext.
    let meeting_zone = recurrence::time_zone_of(node, "MeetingTimeZone");
    item.start_time_zone = recurrence::time_zone_of(node, "StartTimeZone")
        .or_else(|| meeting_zone.clone())
        .or_else(|| ctx.time_zone.clone());
    item.end_time_zone = recurrence::time_zone_of(node, "EndTimeZone")
        .or(meeting_zone)
        .or_else(|| item.start_time_zone.clone());
    if let Some((s, e)) = super::restriction::span(&item) {
        if e < s {
            return Err((
                "ErrorCalendarEndDateIsEarlierThanStartDate",
                "The End of the calendar item is earlier than its Start.".to_string(),
            ));
        }
    }
    item.is_all_day_event = soap::t_text(node, "IsAllDayEvent").map(|v| v == "true" || v == "1");
    item.legacy_free_busy_status = soap::t_text(node, "LegacyFreeBusyStatus");
    item.location = soap::t_text(node, "Location");
    item.required_attendees = attendees(node, "RequiredAttendees");
    item.optional_attendees = attendees(node, "OptionalAttendees");
    item.resources = attendees(node, "Resources");
    let has_attendees = item.attendees().next().is_some();
    item.is_meeting = has_attendees;
    item.organizer = Some(st.address(&owner));
    item.uid = Some(soap::t_text(node, "UID").unwrap_or_else(|| st.new_uid()));
    if item.is_meeting {
        item.deliver_meeting_requests = st
            .mailbox(&owner)
            .map(|m| m.deliver_meeting_requests.clone());
    }
    let send = item.is_meeting && invitations != "SendToNone";
    item.meeting_request_was_sent = send;
    let template = item.clone();
    let id = st
        .store(item)
        .ok_or(("ErrorNonExistentMailbox", super::NO_MAILBOX.to_string()))?;
    let ck = st
        .find_item(&id)
        .map(|i| i.change_key.clone())
        .unwrap_or_default();
    if send {
        let delivered = deliver_meeting_message(st, &template, &ctx.me, ItemKind::MeetingRequest);
        if let Some(mb) = st.mailbox_mut(&owner) {
            mb.invitations_sent += delivered;
        }
        if invitations == "SendToAllAndSaveCopy" {
            save_sent_copy(st, &template, &ctx.me, ItemKind::MeetingRequest);
        }
    }
    Ok(Created {
        kind: ItemKind::CalendarItem,
        ids: Some((id, ck)),
    })
}

/// Builds the meeting message (request or cancellation) from a calendar item.
/// What a cancellation's sender wrote instead of the meeting's subject and body.
#[derive(Debug, Default)]
pub(crate) struct MessageOverride {
    pub(crate) subject: Option<String>,
    pub(crate) body: Option<(String, String)>,
    /// The message announces a change of the meeting (MeetingRequestType FullUpdate).
    pub(crate) is_update: bool,
}

pub(crate) fn meeting_message(
    st: &State,
    cal: &ItemSnapshot,
    sender: &str,
    kind: ItemKind,
    owner: &str,
    folder: &str,
    over: Option<&MessageOverride>,
) -> ItemSnapshot {
    let mut m = ItemSnapshot::new(kind, owner, folder, sender);
    m.subject = match kind {
        ItemKind::MeetingCancellation => Some(format!(
            "Canceled: {}",
            cal.subject.clone().unwrap_or_default()
        )),
        _ => cal.subject.clone(),
    };
    m.body = cal.body.clone();
    if let Some(over) = over {
        if let Some(subject) = &over.subject {
            m.subject = Some(subject.clone());
        }
        if let Some(body) = &over.body {
            m.body = Some(body.clone());
        }
        m.is_update = over.is_update;
    }
    m.sensitivity = cal.sensitivity.clone();
    m.importance = cal.importance.clone();
    m.start = cal.start.clone();
    m.end = cal.end.clone();
    m.is_all_day_event = cal.is_all_day_event;
    m.legacy_free_busy_status = cal.legacy_free_busy_status.clone();
    m.location = cal.location.clone();
    m.uid = cal.uid.clone();
    m.is_meeting = true;
    m.is_cancelled = kind == ItemKind::MeetingCancellation;
    m.organizer = cal.organizer.clone();
    m.required_attendees = cal.required_attendees.clone();
    m.optional_attendees = cal.optional_attendees.clone();
    m.resources = cal.resources.clone();
    m.recurrence = cal.recurrence.clone();
    m.start_time_zone = cal.start_time_zone.clone();
    m.end_time_zone = cal.end_time_zone.clone();
    m.sequence = cal.sequence;
    m.instance_index = cal.instance_index;
    m.from = cal.organizer.clone();
    m.sender = Some(st.address(sender));
    m.to_recipients = cal.required_attendees.clone();
    m.to_recipients.extend(cal.resources.iter().cloned());
    m.cc_recipients = cal.optional_attendees.clone();
    m
}

/// Delivers a meeting request or cancellation for `cal` (organized by its organizer,
/// sent by `sender`) to every attendee with a mailbox, honouring each attendee's
/// delegates (ReceiveCopiesOfMeetingMessages) and DeliverMeetingRequests setting.
/// Returns how many attendees were reached.
pub(crate) fn deliver_meeting_message(
    st: &mut State,
    cal: &ItemSnapshot,
    sender: &str,
    kind: ItemKind,
) -> u32 {
    deliver_with(st, cal, sender, kind, None)
}

/// [`deliver_meeting_message`] with the sender's own subject or body.
pub(crate) fn deliver_with(
    st: &mut State,
    cal: &ItemSnapshot,
    sender: &str,
    kind: ItemKind,
    over: Option<&MessageOverride>,
) -> u32 {
    let mut reached = 0;
    let mut seen: Vec<String> = Vec::new();
    let attendees: Vec<Address> = cal.attendees().cloned().collect();
    for a in attendees {
        let Some(user) = st.user(&a.email).map(|u| u.user.smtp.clone()) else {
            continue; // external recipient: leaves the organisation
        };
        if seen.iter().any(|s| s.eq_ignore_ascii_case(&user)) {
            continue;
        }
        seen.push(user.clone());
        reached += 1;
        let Some(mb) = st.mailbox(&user) else {
            continue;
        };
        let copies: Vec<String> = mb
            .delegates
            .iter()
            .filter(|d| d.receive_copies_of_meeting_messages)
            .map(|d| d.smtp.clone())
            .collect();
        // (mailbox, informational, received representing)
        let mut targets: Vec<(String, bool, Option<String>)> = Vec::new();
        let setting = mb.deliver_meeting_requests.as_str();
        let principal_copy = match (copies.is_empty(), setting) {
            (true, _) | (_, "NoForward") => Some(false),
            (false, "DelegatesOnly") => None,
            (false, "DelegatesAndMe") => Some(false),
            (false, _) => Some(true),
        };
        if let Some(info) = principal_copy {
            targets.push((user.clone(), info, None));
        }
        if !copies.is_empty() && setting != "NoForward" {
            for d in copies {
                targets.push((d, false, Some(user.clone())));
            }
        }
        for (to, informational, representing) in targets {
            let mut m = meeting_message(st, cal, sender, kind, &to, "inbox", over);
            m.informational = informational;
            m.received_representing = representing;
            st.deliver(m, kind);
        }
    }
    reached
}

/// Saves the sent meeting message in the sender's (the delegate's) Sent Items.
pub(crate) fn save_sent_copy(st: &mut State, cal: &ItemSnapshot, sender: &str, kind: ItemKind) {
    save_sent_copy_with(st, cal, sender, kind, None, None);
}

/// [`save_sent_copy`] with the sender's own subject or body, into `dest` (owner, folder)
/// if given.
pub(crate) fn save_sent_copy_with(
    st: &mut State,
    cal: &ItemSnapshot,
    sender: &str,
    kind: ItemKind,
    over: Option<&MessageOverride>,
    dest: Option<&(String, String)>,
) {
    let (owner, folder) = dest
        .cloned()
        .unwrap_or_else(|| (sender.to_string(), "sentitems".to_string()));
    let mut m = meeting_message(st, cal, sender, kind, &owner, &folder, over);
    m.is_read = true;
    let _ = st.store(m);
}

fn create_message(
    st: &mut State,
    ctx: &Ctx,
    node: Node<'_, '_>,
    target: Option<&(String, String)>,
    disposition: Option<&str>,
) -> Result<Created, ItemError> {
    let Some(disposition) = disposition else {
        return Err((
            "ErrorMessageDispositionRequired",
            "MessageDisposition is required for this request.".to_string(),
        ));
    };
    let mut msg = ItemSnapshot::new(ItemKind::Message, &ctx.me, "drafts", &ctx.me);
    read_common(&mut msg, node);
    msg.to_recipients = recipients(node, "ToRecipients");
    msg.cc_recipients = recipients(node, "CcRecipients");
    let bcc = recipients(node, "BccRecipients");
    let from = single_recipient(node, "From")
        .and_then(|a| st.user(&a.email).map(|u| u.user.smtp.clone()))
        .unwrap_or_else(|| ctx.me.clone());
    if !from.eq_ignore_ascii_case(&ctx.me) && st.delegate(&from, &ctx.me).is_none() {
        return Err((
            "ErrorSendAsDenied",
            "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account.".to_string(),
        ));
    }
    msg.from = Some(st.address(&from));
    msg.sender = Some(st.address(&ctx.me));

    if disposition == "SaveOnly" {
        let (owner, folder) = target
            .cloned()
            .unwrap_or_else(|| (ctx.me.clone(), "drafts".to_string()));
        if !st.folder_access(&ctx.me, &owner, &folder, 2) {
            return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
        }
        msg.owner = owner;
        msg.folder = folder;
        let id = st
            .store(msg)
            .ok_or(("ErrorNonExistentMailbox", super::NO_MAILBOX.to_string()))?;
        let ck = st
            .find_item(&id)
            .map(|i| i.change_key.clone())
            .unwrap_or_default();
        return Ok(Created {
            kind: ItemKind::Message,
            ids: Some((id, ck)),
        });
    }
    let (copy_owner, copy_folder) = target
        .cloned()
        .unwrap_or_else(|| (ctx.me.clone(), "sentitems".to_string()));
    if disposition == "SendAndSaveCopy" && !st.folder_access(&ctx.me, &copy_owner, &copy_folder, 2)
    {
        return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
    }
    let everyone: Vec<Address> = msg
        .to_recipients
        .iter()
        .chain(&msg.cc_recipients)
        .chain(&bcc)
        .cloned()
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for a in everyone {
        let Some(user) = st.user(&a.email).map(|u| u.user.smtp.clone()) else {
            continue;
        };
        if seen.iter().any(|s| s.eq_ignore_ascii_case(&user)) {
            continue;
        }
        seen.push(user.clone());
        let mut copy = msg.clone();
        copy.owner = user;
        copy.folder = "inbox".into();
        let _ = st.store(copy);
    }
    if disposition == "SendAndSaveCopy" {
        let mut copy = msg;
        copy.owner = copy_owner;
        copy.folder = copy_folder;
        copy.is_read = true;
        let _ = st.store(copy);
    }
    Ok(Created {
        kind: ItemKind::Message,
        ids: None,
    })
}

/// CancelCalendarItem (see the module documentation).
fn cancel_calendar_item(
    st: &mut State,
    ctx: &Ctx,
    node: Node<'_, '_>,
    target: Option<&(String, String)>,
    disposition: Option<&str>,
) -> Result<Created, ItemError> {
    let Some(disposition) = disposition else {
        return Err((
            "ErrorMessageDispositionRequired",
            "MessageDisposition is required for this request.".to_string(),
        ));
    };
    let Some(reference) = soap::child(node, TYPES_NS, "ReferenceItemId") else {
        return Err((
            "ErrorMissingInformationReferenceItemId",
            "A CancelCalendarItem needs a ReferenceItemId.".to_string(),
        ));
    };
    let id = reference.attribute("Id").unwrap_or("");
    if !id_well_formed(id) {
        return Err(("ErrorInvalidIdMalformed", "Id is malformed.".to_string()));
    }
    let cal = st
        .find_item(id)
        .cloned()
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND.to_string()))?;
    if cal.kind != ItemKind::CalendarItem {
        return Err((
            "ErrorInvalidReferenceItem",
            "The ReferenceItemId of a CancelCalendarItem must name a calendar item.".to_string(),
        ));
    }
    let own = cal.created_by.eq_ignore_ascii_case(&ctx.me);
    let allowed = st.folder_access(&ctx.me, &cal.owner, &cal.folder, 3)
        || (own && st.folder_access(&ctx.me, &cal.owner, &cal.folder, 2));
    if !allowed {
        return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
    }
    let organizer_is_owner = cal
        .organizer
        .as_ref()
        .is_some_and(|o| o.email.eq_ignore_ascii_case(&cal.owner));
    if !organizer_is_owner {
        return Err((
            "ErrorCalendarIsNotOrganizer",
            "Only the organizer of a meeting (or its delegate) can cancel it.".to_string(),
        ));
    }
    if cal.is_cancelled {
        return Err((
            "ErrorCalendarIsCancelledForRemove",
            "The meeting is already cancelled.".to_string(),
        ));
    }
    let body = soap::child(node, TYPES_NS, "NewBodyContent")
        .or_else(|| soap::child(node, TYPES_NS, "Body"))
        .map(|b| {
            let ty = b.attribute("BodyType").unwrap_or("Text").to_string();
            (
                ty,
                b.children().filter_map(|c| c.text()).collect::<String>(),
            )
        });
    let over = MessageOverride {
        subject: soap::t_text(node, "Subject"),
        body,
        is_update: false,
    };

    if disposition == "SaveOnly" {
        let (owner, folder) = target
            .cloned()
            .unwrap_or_else(|| (ctx.me.clone(), "drafts".to_string()));
        if !st.folder_access(&ctx.me, &owner, &folder, 2) {
            return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
        }
        let draft = meeting_message(
            st,
            &cal,
            &ctx.me,
            ItemKind::MeetingCancellation,
            &owner,
            &folder,
            Some(&over),
        );
        let id = st
            .store(draft)
            .ok_or(("ErrorNonExistentMailbox", super::NO_MAILBOX.to_string()))?;
        let ck = st
            .find_item(&id)
            .map(|i| i.change_key.clone())
            .unwrap_or_default();
        return Ok(Created {
            kind: ItemKind::MeetingCancellation,
            ids: Some((id, ck)),
        });
    }
    if disposition == "SendAndSaveCopy" {
        if let Some((owner, folder)) = target {
            if !st.folder_access(&ctx.me, owner, folder, 2) {
                return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
            }
        }
    }
    if cal.is_meeting {
        let kind = ItemKind::MeetingCancellation;
        let delivered = deliver_with(st, &cal, &ctx.me, kind, Some(&over));
        if let Some(mb) = st.mailbox_mut(&cal.owner) {
            mb.cancellations_sent += delivered;
        }
        if disposition == "SendAndSaveCopy" {
            save_sent_copy_with(st, &cal, &ctx.me, kind, Some(&over), target);
        }
    }
    // The organizer's item: cancelled, and moved to Deleted Items with a new change key.
    if let Some(moved) = st.find_item_mut(&cal.id) {
        moved.is_cancelled = true;
        moved.folder = "deleteditems".to_string();
    }
    st.touch(&cal.id, &["calendar:IsCancelled"]);
    Ok(Created {
        kind: ItemKind::MeetingCancellation,
        ids: None,
    })
}

/// How an attendee answers a meeting request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    Accept,
    Tentative,
    Decline,
}

impl Reply {
    fn from_element(name: &str) -> Option<Reply> {
        Some(match name {
            "AcceptItem" => Reply::Accept,
            "TentativelyAcceptItem" => Reply::Tentative,
            "DeclineItem" => Reply::Decline,
            _ => return None,
        })
    }

    /// Subject prefix, ItemClass of the response, MyResponseType, refusal for an organizer.
    fn describe(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Reply::Accept => (
                "Accepted",
                "IPM.Schedule.Meeting.Resp.Pos",
                "Accept",
                "ErrorCalendarIsOrganizerForAccept",
            ),
            Reply::Tentative => (
                "Tentative",
                "IPM.Schedule.Meeting.Resp.Tent",
                "Tentative",
                "ErrorCalendarIsOrganizerForTentative",
            ),
            Reply::Decline => (
                "Declined",
                "IPM.Schedule.Meeting.Resp.Neg",
                "Decline",
                "ErrorCalendarIsOrganizerForDecline",
            ),
        }
    }
}

/// AcceptItem, TentativelyAcceptItem and DeclineItem (see the module documentation).
fn respond_to_meeting(
    st: &mut State,
    ctx: &Ctx,
    node: Node<'_, '_>,
    reply: Reply,
    target: Option<&(String, String)>,
    disposition: Option<&str>,
) -> Result<Created, ItemError> {
    let (prefix, class, response_type, organizer_code) = reply.describe();
    let Some(disposition) = disposition else {
        return Err((
            "ErrorMessageDispositionRequired",
            "MessageDisposition is required for this request.".to_string(),
        ));
    };
    let Some(reference) = soap::child(node, TYPES_NS, "ReferenceItemId") else {
        return Err((
            "ErrorMissingInformationReferenceItemId",
            "A meeting response needs a ReferenceItemId.".to_string(),
        ));
    };
    let id = reference.attribute("Id").unwrap_or("");
    if !id_well_formed(id) {
        return Err(("ErrorInvalidIdMalformed", "Id is malformed.".to_string()));
    }
    let request = st
        .find_item(id)
        .cloned()
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND.to_string()))?;
    let organized_here = request
        .organizer
        .as_ref()
        .is_some_and(|o| o.email.eq_ignore_ascii_case(&request.owner));
    if request.kind == ItemKind::CalendarItem && organized_here {
        return Err((
            organizer_code,
            "The organizer of a meeting cannot respond to it.".to_string(),
        ));
    }
    if request.kind != ItemKind::MeetingRequest {
        return Err((
            "ErrorInvalidReferenceItem",
            "The ReferenceItemId of a meeting response must name a meeting request.".to_string(),
        ));
    }
    // The attendee: the mailbox the request was for (a delegate's copy names it).
    let attendee = request
        .received_representing
        .clone()
        .unwrap_or_else(|| request.owner.clone());
    let may_use_request = ctx.me.eq_ignore_ascii_case(&request.owner)
        || st.folder_access(&ctx.me, &request.owner, &request.folder, 3);
    let may_answer = st.folder_access(&ctx.me, &attendee, "calendar", 3);
    if !may_use_request || !may_answer {
        return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
    }
    if is_out_of_date(st, &request) {
        return Err((
            "ErrorCalendarMeetingRequestIsOutOfDate",
            "The meeting request is out of date: an update of the meeting has arrived since."
                .to_string(),
        ));
    }
    let organizer = request.organizer.clone().unwrap_or_default();
    let body = soap::child(node, TYPES_NS, "Body").map(|b| {
        let ty = b.attribute("BodyType").unwrap_or("Text").to_string();
        (
            ty,
            b.children().filter_map(|c| c.text()).collect::<String>(),
        )
    });
    let response = |st: &State, owner: &str, folder: &str| {
        let mut m = ItemSnapshot::new(ItemKind::MeetingResponse, owner, folder, &ctx.me);
        m.item_class = class.to_string();
        m.subject = Some(format!(
            "{prefix}: {}",
            request.subject.clone().unwrap_or_default()
        ));
        m.body = body.clone();
        m.start = request.start.clone();
        m.end = request.end.clone();
        m.location = request.location.clone();
        m.uid = request.uid.clone();
        m.is_meeting = true;
        m.organizer = request.organizer.clone();
        m.from = Some(st.address(&attendee));
        m.sender = Some(st.address(&ctx.me));
        m.to_recipients = vec![organizer.clone()];
        m
    };

    // SaveOnly keeps the response in Drafts (or the SavedItemFolderId) unsent; the
    // calendar is answered either way, as Exchange does ("applies changes to both the
    // meeting request message and the associated calendar item").
    let mut draft_ids = None;
    if disposition == "SaveOnly" {
        let (owner, folder) = target
            .cloned()
            .unwrap_or_else(|| (ctx.me.clone(), "drafts".to_string()));
        if !st.folder_access(&ctx.me, &owner, &folder, 2) {
            return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
        }
        let draft = response(st, &owner, &folder);
        let id = st
            .store(draft)
            .ok_or(("ErrorNonExistentMailbox", super::NO_MAILBOX.to_string()))?;
        let ck = st
            .find_item(&id)
            .map(|i| i.change_key.clone())
            .unwrap_or_default();
        draft_ids = Some((id, ck));
    } else if disposition == "SendAndSaveCopy" {
        if let Some((owner, folder)) = target {
            if !st.folder_access(&ctx.me, owner, folder, 2) {
                return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
            }
        }
    }
    // The attendee's calendar: the meeting with this response, or none after a decline.
    let same_meeting = |i: &ItemSnapshot| {
        i.kind == ItemKind::CalendarItem && i.folder == "calendar" && i.uid == request.uid
    };
    if let Some(mb) = st.mailbox_mut(&attendee) {
        mb.items.retain(|i| !same_meeting(i));
    }
    if reply != Reply::Decline {
        let mut cal = ItemSnapshot::new(ItemKind::CalendarItem, &attendee, "calendar", &ctx.me);
        cal.subject = request.subject.clone();
        cal.body = request.body.clone();
        cal.sensitivity = request.sensitivity.clone();
        cal.importance = request.importance.clone();
        cal.start = request.start.clone();
        cal.end = request.end.clone();
        cal.is_all_day_event = request.is_all_day_event;
        cal.legacy_free_busy_status = Some(
            match reply {
                Reply::Tentative => "Tentative",
                _ => request.legacy_free_busy_status.as_deref().unwrap_or("Busy"),
            }
            .to_string(),
        );
        cal.location = request.location.clone();
        cal.uid = request.uid.clone();
        cal.is_meeting = true;
        cal.my_response_type = Some(response_type.to_string());
        cal.organizer = request.organizer.clone();
        cal.required_attendees = request.required_attendees.clone();
        cal.optional_attendees = request.optional_attendees.clone();
        cal.resources = request.resources.clone();
        cal.recurrence = request.recurrence.clone();
        cal.start_time_zone = request.start_time_zone.clone();
        cal.end_time_zone = request.end_time_zone.clone();
        cal.sequence = request.sequence;
        let _ = st.store(cal);
    }
    if disposition != "SaveOnly" {
        // The response reaches the organizer, if the organizer has a mailbox here (which
        // records it on its calendar item when it arrives).
        if let Some(to) = st.user(&organizer.email).map(|u| u.user.smtp.clone()) {
            let m = response(st, &to, "inbox");
            st.deliver(m, ItemKind::MeetingResponse);
        }
    }
    if disposition == "SendAndSaveCopy" {
        let (owner, folder) = target
            .cloned()
            .unwrap_or_else(|| (ctx.me.clone(), "sentitems".to_string()));
        let mut copy = response(st, &owner, &folder);
        copy.is_read = true;
        let _ = st.store(copy);
    }
    // The answered request goes to Deleted Items once the answer is sent, as Exchange
    // moves it; an unsent answer (a draft) leaves it where it is.
    if disposition != "SaveOnly" {
        if let Some(moved) = st.find_item_mut(&request.id) {
            moved.folder = "deleteditems".to_string();
            moved.is_read = true;
        }
        st.touch(&request.id, &["item:IsRead"]);
    }
    Ok(Created {
        kind: ItemKind::MeetingResponse,
        ids: draft_ids,
    })
}

/// Is `request` superseded: has a later version of its meeting (an update, with a higher
/// sequence number) reached the same mailbox for the same attendee since?
pub(crate) fn is_out_of_date(st: &State, request: &ItemSnapshot) -> bool {
    st.mailbox(&request.owner).is_some_and(|mb| {
        mb.items.iter().any(|i| {
            i.kind == ItemKind::MeetingRequest
                && i.uid.is_some()
                && i.uid == request.uid
                && i.received_representing == request.received_representing
                && i.sequence > request.sequence
        })
    })
}
