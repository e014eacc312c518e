//! CreateItem / GetItem / FindItem / DeleteItem, meetings on behalf of a principal.

mod common;

use common::*;
use ews_tests::{DelegateSnapshot, ItemKind, PermissionLevel, Permissions, SimConfig, Simulator};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";
const U4: &str = "user4@example.com";

fn with_delegate(sim: &Simulator, principal: &str, delegate: &str, calendar: PermissionLevel) {
    assert!(sim.set_delegate(
        principal,
        DelegateSnapshot {
            smtp: delegate.to_string(),
            permissions: Permissions {
                calendar,
                ..Permissions::default()
            },
            receive_copies_of_meeting_messages: false,
            view_private_items: false,
        },
    ));
}

fn created_id(r: &Resp) -> String {
    r.attr(T, "ItemId", "Id")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no ItemId in {}", r.body))
}

#[test]
fn seed_meeting_on_behalf_of_principal() {
    let sim = Simulator::start(SimConfig::seed());
    // user1 makes user2 a delegate (the seed AddDelegate), then user2 sends on behalf.
    let r = call(&sim, U1, &seed_add(U1, U2));
    assert_eq!(r.codes(), ["NoError", "NoError"]);

    let r = call(
        &sim,
        U2,
        &create_meeting(
            Some(U1),
            "SendToAllAndSaveCopy",
            "Delegate appointment",
            &[U3],
            &[],
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.codes(), ["NoError"]);
    assert_eq!(r.classes(), ["Success"]);
    let id = created_id(&r);
    assert_eq!(r.attr(T, "ItemId", "ChangeKey").len(), 1);

    // The meeting is in the principal's calendar, organized by the principal.
    let u1 = sim.mailbox(U1).expect("u1");
    assert_eq!(u1.calendar.len(), 1);
    let meeting = &u1.calendar[0];
    assert_eq!(meeting.id, id);
    assert_eq!(
        meeting.organizer.as_ref().map(|o| o.email.as_str()),
        Some(U1)
    );
    assert_eq!(meeting.created_by, U2);
    assert!(meeting.is_meeting && meeting.meeting_request_was_sent);
    assert_eq!(meeting.legacy_free_busy_status.as_deref(), Some("Busy"));
    assert_eq!(
        meeting.deliver_meeting_requests.as_deref(),
        Some("DelegatesAndMe")
    );
    assert_eq!(u1.invitations_sent, 1);

    // user3 got the request: From = principal, Sender = delegate.
    let u3 = sim.mailbox(U3).expect("u3");
    assert_eq!(u3.inbox.len(), 1);
    let req = &u3.inbox[0];
    assert_eq!(req.kind, ItemKind::MeetingRequest);
    assert_eq!(req.from.as_ref().map(|a| a.email.as_str()), Some(U1));
    assert_eq!(req.sender.as_ref().map(|a| a.email.as_str()), Some(U2));
    assert_eq!(req.subject.as_deref(), Some("Delegate appointment"));
    assert_eq!(u3.invitations_received, 1);

    // The sent copy is in the delegate's Sent Items, not the principal's.
    let u2 = sim.mailbox(U2).expect("u2");
    assert_eq!(u2.sent_items.len(), 1);
    assert_eq!(u2.sent_items[0].kind, ItemKind::MeetingRequest);
    assert!(u1.sent_items.is_empty());

    // user3 finds the request in the inbox and reads From/Sender over EWS.
    let f = call(&sim, U3, &find_item("inbox", None, "Default", ""));
    assert_eq!(f.codes(), ["NoError"]);
    assert_eq!(f.attr(M, "RootFolder", "TotalItemsInView"), ["1"]);
    assert_eq!(f.attr(M, "RootFolder", "IncludesLastItemInRange"), ["true"]);
    let req_id = f.attr(T, "ItemId", "Id")[0].clone();
    let g = call(&sim, U3, &get_item("AllProperties", &[&req_id]));
    assert_eq!(g.codes(), ["NoError"], "{}", g.body);
    let doc = roxmltree::Document::parse(&g.body).expect("xml");
    let addr_of = |field: &str| {
        doc.descendants()
            .find(|n| n.tag_name().namespace() == Some(T) && n.tag_name().name() == field)
            .and_then(|n| {
                n.descendants()
                    .find(|c| c.tag_name().name() == "EmailAddress")
                    .and_then(|c| c.text())
                    .map(str::to_string)
            })
    };
    assert_eq!(addr_of("From").as_deref(), Some(U1));
    assert_eq!(addr_of("Sender").as_deref(), Some(U2));
    assert_eq!(addr_of("Organizer").as_deref(), Some(U1));
    assert_eq!(g.texts(T, "Subject"), ["Delegate appointment"]);
    assert_eq!(g.texts(T, "MeetingRequestType"), ["NewMeetingRequest"]);
    assert_eq!(g.texts(T, "ItemClass"), ["IPM.Schedule.Meeting.Request"]);
}

#[test]
fn create_in_other_calendar_needs_author() {
    let sim = Simulator::start(SimConfig::seed());
    let body = create_meeting(Some(U1), "SendToAllAndSaveCopy", "x", &[U3], &[]);
    // No delegate at all.
    let r = call(&sim, U2, &body);
    assert_eq!(r.status, 200);
    assert_eq!(r.codes(), ["ErrorAccessDenied"]);
    assert_eq!(r.classes(), ["Error"]);
    assert_eq!(r.texts(M, "Items"), [""]);
    // Reviewer is not enough.
    with_delegate(&sim, U1, U2, PermissionLevel::Reviewer);
    assert_eq!(call(&sim, U2, &body).codes(), ["ErrorAccessDenied"]);
    assert!(sim.mailbox(U1).expect("u1").calendar.is_empty());
    assert!(sim.mailbox(U3).expect("u3").inbox.is_empty());
    // Editor is.
    with_delegate(&sim, U1, U2, PermissionLevel::Editor);
    assert_eq!(call(&sim, U2, &body).codes(), ["NoError"]);
    // Impersonation of the principal works without any delegate entry.
    let imp = envelope(
        &impersonate("SmtpAddress", U4),
        &create_meeting(Some(U4), "SendToNone", "y", &[], &[]),
    );
    let r = post_as(&sim, "admin@example.com", &imp);
    assert_eq!(r.codes(), ["NoError"], "{}", r.body);
    assert_eq!(sim.mailbox(U4).expect("u4").calendar.len(), 1);
    // Unknown principal.
    let r = call(
        &sim,
        U2,
        &create_meeting(Some("ghost@example.com"), "SendToNone", "z", &[], &[]),
    );
    assert_eq!(r.codes(), ["ErrorNonExistentMailbox"]);
}

#[test]
fn own_calendar_and_invitation_modes() {
    let sim = Simulator::start(SimConfig::seed());
    // SendToNone: stored, no invitations.
    let r = call(
        &sim,
        U1,
        &create_meeting(None, "SendToNone", "quiet", &[U3], &[]),
    );
    assert_eq!(r.codes(), ["NoError"]);
    assert!(sim.mailbox(U3).expect("u3").inbox.is_empty());
    // SendOnlyToAll: invitations, no sent copy; optional attendees and resources too.
    let r = call(
        &sim,
        U1,
        &create_meeting(None, "SendOnlyToAll", "loud", &[U3], &[U4]),
    );
    assert_eq!(r.codes(), ["NoError"]);
    let u1 = sim.mailbox(U1).expect("u1");
    assert!(u1.sent_items.is_empty());
    assert_eq!(u1.calendar.len(), 2);
    assert_eq!(u1.invitations_sent, 2);
    assert_eq!(sim.mailbox(U4).expect("u4").inbox.len(), 1);
    let req = &sim.mailbox(U3).expect("u3").inbox[0];
    assert_eq!(req.sender, req.from);
}

#[test]
fn several_items_give_several_messages() {
    let sim = Simulator::start(SimConfig::seed());
    let body = r#"<m:CreateItem SendMeetingInvitations="SendToNone">
      <m:Items>
        <t:CalendarItem><t:Subject>a</t:Subject><t:Start>2025-06-02T10:00:00Z</t:Start><t:End>2025-06-02T11:00:00Z</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent></t:CalendarItem>
        <t:Contact/>
        <t:CalendarItem><t:Subject>b</t:Subject></t:CalendarItem>
      </m:Items></m:CreateItem>"#;
    let r = call(&sim, U1, body);
    assert_eq!(r.codes(), ["NoError", "ErrorInvalidRequest", "NoError"]);
    assert_eq!(r.attr(T, "ItemId", "Id").len(), 2);
    assert_eq!(sim.mailbox(U1).expect("u1").calendar.len(), 2);
}

#[test]
fn time_zone_and_culture_are_recorded() {
    let sim = Simulator::start(SimConfig::seed());
    let headers = "<t:MailboxCulture>de-DE</t:MailboxCulture><t:TimeZoneContext><t:TimeZoneDefinition Id=\"W. Europe Standard Time\"/></t:TimeZoneContext>";
    let r = post_as(
        &sim,
        U1,
        &envelope(headers, &create_meeting(None, "SendToNone", "tz", &[], &[])),
    );
    assert_eq!(r.codes(), ["NoError"]);
    let rec = &sim.requests_for("CreateItem")[0];
    assert_eq!(rec.time_zone.as_deref(), Some("W. Europe Standard Time"));
    assert_eq!(rec.mailbox_culture.as_deref(), Some("de-DE"));
    assert_eq!(rec.server_version.as_deref(), Some("Exchange2013_SP1"));
}

#[test]
fn get_item_shapes_and_access() {
    let sim = Simulator::start(SimConfig::seed());
    let r = call(
        &sim,
        U1,
        &create_meeting(None, "SendToNone", "Shapes", &[U3], &[U4]),
    );
    let id = created_id(&r);

    let g = call(&sim, U1, &get_item("IdOnly", &[&id]));
    assert_eq!(g.codes(), ["NoError"]);
    assert!(g.texts(T, "Subject").is_empty());

    let g = call(&sim, U1, &get_item("Default", &[&id]));
    assert_eq!(g.texts(T, "Subject"), ["Shapes"]);
    assert_eq!(g.texts(T, "Start"), ["2025-06-02T15:00:00Z"]);
    assert_eq!(g.texts(T, "LegacyFreeBusyStatus"), ["Busy"]);
    assert_eq!(g.texts(T, "Location"), ["Room 1"]);
    assert_eq!(g.texts(T, "Body"), ["Agenda for Shapes."]);
    assert_eq!(g.attr(T, "Body", "BodyType"), ["Text"]);
    assert_eq!(g.texts(T, "Attendee").len(), 2);
    assert!(g.texts(T, "ItemClass").is_empty());

    let g = call(&sim, U1, &get_item("AllProperties", &[&id]));
    assert_eq!(g.texts(T, "ItemClass"), ["IPM.Appointment"]);
    assert_eq!(g.texts(T, "IsMeeting"), ["true"]);

    // Unknown and malformed ids: per-item errors, in order.
    let g = call(
        &sim,
        U1,
        &get_item("IdOnly", &["AAMkAGSimNope", &id, "bad id!"]),
    );
    assert_eq!(
        g.codes(),
        ["ErrorItemNotFound", "NoError", "ErrorInvalidIdMalformed"]
    );

    // Access: a stranger is denied; a Reviewer delegate may read; impersonation may.
    assert_eq!(
        call(&sim, U2, &get_item("Default", &[&id])).codes(),
        ["ErrorAccessDenied"]
    );
    with_delegate(&sim, U1, U2, PermissionLevel::Reviewer);
    assert_eq!(
        call(&sim, U2, &get_item("Default", &[&id])).codes(),
        ["NoError"]
    );
    let imp = envelope(
        &impersonate("PrincipalName", U1),
        &get_item("Default", &[&id]),
    );
    assert_eq!(
        post_as(&sim, "admin@example.com", &imp).codes(),
        ["NoError"]
    );
}

#[test]
fn find_item_pages_and_checks_access() {
    let sim = Simulator::start(SimConfig::seed());
    for n in 0..5 {
        let r = call(
            &sim,
            U1,
            &create_meeting(None, "SendToNone", &format!("m{n}"), &[], &[]),
        );
        assert_eq!(r.codes(), ["NoError"]);
    }
    let page =
        "<m:IndexedPageItemView MaxEntriesReturned=\"2\" Offset=\"0\" BasePoint=\"Beginning\"/>";
    let f = call(&sim, U1, &find_item("calendar", None, "Default", page));
    assert_eq!(f.codes(), ["NoError"], "{}", f.body);
    assert_eq!(f.attr(M, "RootFolder", "TotalItemsInView"), ["5"]);
    assert_eq!(
        f.attr(M, "RootFolder", "IncludesLastItemInRange"),
        ["false"]
    );
    assert_eq!(f.attr(M, "RootFolder", "IndexedPagingOffset"), ["2"]);
    assert_eq!(f.texts(T, "Subject"), ["m4", "m3"]);
    let page =
        "<m:IndexedPageItemView MaxEntriesReturned=\"10\" Offset=\"4\" BasePoint=\"Beginning\"/>";
    let f = call(&sim, U1, &find_item("calendar", None, "IdOnly", page));
    assert_eq!(f.attr(T, "ItemId", "Id").len(), 1);
    assert_eq!(f.attr(M, "RootFolder", "IncludesLastItemInRange"), ["true"]);

    // Other mailbox: denied without Reviewer, allowed with it.
    let f = call(&sim, U2, &find_item("calendar", Some(U1), "Default", ""));
    assert_eq!(f.codes(), ["ErrorAccessDenied"]);
    with_delegate(&sim, U1, U2, PermissionLevel::Reviewer);
    let f = call(&sim, U2, &find_item("calendar", Some(U1), "Default", ""));
    assert_eq!(f.attr(M, "RootFolder", "TotalItemsInView"), ["5"]);
    // Sent Items cannot be delegated.
    let f = call(&sim, U2, &find_item("sentitems", Some(U1), "Default", ""));
    assert_eq!(f.codes(), ["ErrorAccessDenied"]);
    // Empty inbox.
    let f = call(&sim, U4, &find_item("inbox", None, "Default", ""));
    assert_eq!(f.attr(M, "RootFolder", "TotalItemsInView"), ["0"]);
}

#[test]
fn delete_item_sends_cancellations() {
    let sim = Simulator::start(SimConfig::seed());
    with_delegate(&sim, U1, U2, PermissionLevel::Editor);
    let r = call(
        &sim,
        U2,
        &create_meeting(Some(U1), "SendToAllAndSaveCopy", "Doomed", &[U3], &[U4]),
    );
    let id = created_id(&r);

    // Calendar items need SendMeetingCancellations.
    let d = call(&sim, U2, &delete_item(&[&id], None, "MoveToDeletedItems"));
    assert_eq!(d.codes(), ["ErrorSendMeetingCancellationsRequired"]);

    let d = call(
        &sim,
        U2,
        &delete_item(
            &[&id, "AAMkAGSimNope"],
            Some("SendToAllAndSaveCopy"),
            "MoveToDeletedItems",
        ),
    );
    assert_eq!(d.codes(), ["NoError", "ErrorItemNotFound"]);
    let u1 = sim.mailbox(U1).expect("u1");
    assert!(u1.calendar.is_empty());
    assert_eq!(u1.deleted_items.len(), 1);
    assert_eq!(u1.cancellations_sent, 2);
    for who in [U3, U4] {
        let mb = sim.mailbox(who).expect("attendee");
        assert_eq!(mb.cancellations_received, 1);
        let c = mb
            .inbox
            .iter()
            .find(|i| i.kind == ItemKind::MeetingCancellation)
            .expect("cancellation");
        assert_eq!(c.subject.as_deref(), Some("Canceled: Doomed"));
        assert_eq!(c.from.as_ref().map(|a| a.email.as_str()), Some(U1));
        assert_eq!(c.sender.as_ref().map(|a| a.email.as_str()), Some(U2));
    }
    // Delegate's Sent Items: the request copy and the cancellation copy.
    assert_eq!(sim.mailbox(U2).expect("u2").sent_items.len(), 2);
    let g = call(&sim, U3, &find_item("inbox", None, "Default", ""));
    assert_eq!(g.texts(T, "Subject"), ["Canceled: Doomed", "Doomed"]);
}

#[test]
fn delete_item_access_and_hard_delete() {
    let sim = Simulator::start(SimConfig::seed());
    let r = call(
        &sim,
        U1,
        &create_meeting(None, "SendToNone", "mine", &[], &[]),
    );
    let id = created_id(&r);
    // Author may not delete items it did not create.
    with_delegate(&sim, U1, U2, PermissionLevel::Author);
    let d = call(
        &sim,
        U2,
        &delete_item(&[&id], Some("SendToNone"), "HardDelete"),
    );
    assert_eq!(d.codes(), ["ErrorAccessDenied"]);
    let d = call(
        &sim,
        U1,
        &delete_item(&[&id], Some("SendToNone"), "HardDelete"),
    );
    assert_eq!(d.codes(), ["NoError"]);
    let u1 = sim.mailbox(U1).expect("u1");
    assert!(u1.calendar.is_empty() && u1.deleted_items.is_empty());
    assert_eq!(sim.item(&id), None);
}

#[test]
fn delegates_receiving_copies_follow_deliver_meeting_requests() {
    let sim = Simulator::start(SimConfig::seed());
    // user3's delegate user4 receives copies; user3 wants DelegatesOnly.
    let r = call(
        &sim,
        U3,
        &add_delegate(
            U3,
            &[delegate_user(
                U4,
                &[("Calendar", "Editor")],
                "<t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages>",
            )],
            Some("DelegatesOnly"),
        ),
    );
    assert_eq!(r.codes(), ["NoError", "NoError"]);
    call(
        &sim,
        U1,
        &create_meeting(None, "SendOnlyToAll", "fwd", &[U3], &[]),
    );
    assert!(sim.mailbox(U3).expect("u3").inbox.is_empty());
    let copy = &sim.mailbox(U4).expect("u4").inbox[0];
    assert_eq!(copy.received_representing.as_deref(), Some(U3));

    call(
        &sim,
        U3,
        &update_delegate(U3, &[], Some("DelegatesAndSendInformationToMe")),
    );
    call(
        &sim,
        U1,
        &create_meeting(None, "SendOnlyToAll", "info", &[U3], &[]),
    );
    let u3 = sim.mailbox(U3).expect("u3");
    assert_eq!(u3.inbox.len(), 1);
    assert!(u3.inbox[0].informational);
    assert_eq!(sim.mailbox(U4).expect("u4").inbox.len(), 2);
}

#[test]
fn messages_can_be_sent_and_saved() {
    let sim = Simulator::start(SimConfig::seed());
    let body = format!(
        r#"<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:Message><t:Subject>hello</t:Subject><t:Body BodyType="HTML">&lt;p&gt;hi&lt;/p&gt;</t:Body><t:ToRecipients><t:Mailbox><t:EmailAddress>{U3}</t:EmailAddress></t:Mailbox></t:ToRecipients></t:Message></m:Items></m:CreateItem>"#
    );
    let r = call(&sim, U1, &body);
    assert_eq!(r.codes(), ["NoError"], "{}", r.body);
    assert!(r.attr(T, "ItemId", "Id").is_empty());
    assert_eq!(
        sim.mailbox(U3).expect("u3").inbox[0].subject.as_deref(),
        Some("hello")
    );
    assert_eq!(sim.mailbox(U1).expect("u1").sent_items.len(), 1);
    // Without MessageDisposition.
    let r = call(
        &sim,
        U1,
        &body.replace(" MessageDisposition=\"SendAndSaveCopy\"", ""),
    );
    assert_eq!(r.codes(), ["ErrorMessageDispositionRequired"]);
}
