//! Delegate management: AddDelegate, GetDelegate, UpdateDelegate, RemoveDelegate.

mod common;

use common::*;
use ews_tests::{PermissionLevel, SimConfig, Simulator};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";

#[test]
fn seed_add_delegate_twice_gives_already_exists() {
    let sim = Simulator::start(SimConfig::seed());
    let r = call(&sim, U1, &seed_add(U1, U2));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.codes(), ["NoError", "NoError"]);
    assert_eq!(r.classes(), ["Success", "Success"]);
    // Per-user element name is the schema's quirky type name.
    assert_eq!(r.texts(T, "PrimarySmtpAddress"), [U2]);
    assert_eq!(
        r.texts(T, "SID"),
        ["S-1-5-21-1111111111-2222222222-333333333-1117"]
    );
    assert_eq!(r.texts(M, "DelegateUserResponseMessageType").len(), 1);

    let mb = sim.mailbox(U1).expect("mailbox");
    assert_eq!(mb.delegates.len(), 1);
    let d = &mb.delegates[0];
    assert_eq!(d.smtp, U2);
    assert_eq!(d.permissions.calendar, PermissionLevel::Author);
    assert_eq!(d.permissions.contacts, PermissionLevel::Reviewer);
    assert_eq!(d.permissions.inbox, PermissionLevel::None);
    assert!(!d.receive_copies_of_meeting_messages);
    assert!(!d.view_private_items);
    assert_eq!(mb.deliver_meeting_requests, "DelegatesAndMe");

    let again = call(&sim, U1, &seed_add(U1, U2));
    assert_eq!(again.status, 200);
    assert_eq!(again.codes(), ["NoError", "ErrorDelegateAlreadyExists"]);
    assert_eq!(again.classes(), ["Success", "Error"]);
    assert_eq!(
        again.texts(M, "MessageText"),
        ["The user is already a delegate for the mailbox."]
    );
    assert_eq!(sim.mailbox(U1).expect("mailbox").delegates.len(), 1);
}

#[test]
fn add_delegate_per_user_results_in_request_order() {
    let sim = Simulator::start(SimConfig::seed());
    let users = [
        delegate_user(U3, &[("Inbox", "Editor")], ""),
        delegate_user("nobody@example.com", &[], ""),
        delegate_user(U1, &[], ""),
        delegate_user(U2, &[("Calendar", "Reviewer")], ""),
    ];
    let r = call(&sim, U1, &add_delegate(U1, &users, None));
    assert_eq!(
        r.codes(),
        [
            "NoError",
            "NoError",
            "ErrorDelegateNoUser",
            "ErrorDelegateCannotAddOwner",
            "NoError"
        ]
    );
    let mb = sim.mailbox(U1).expect("mailbox");
    let who: Vec<&str> = mb.delegates.iter().map(|d| d.smtp.as_str()).collect();
    assert_eq!(who, [U3, U2]);
    // Default DeliverMeetingRequests when never set.
    assert_eq!(
        mb.deliver_meeting_requests,
        "DelegatesAndSendInformationToMe"
    );
}

#[test]
fn add_delegate_by_sid() {
    let sim = Simulator::start(SimConfig::seed());
    let body = add_delegate(
        U1,
        &["<t:DelegateUser><t:UserId><t:SID>S-1-5-21-1111111111-2222222222-333333333-1118</t:SID></t:UserId></t:DelegateUser>".to_string()],
        None,
    );
    let r = call(&sim, U1, &body);
    assert_eq!(r.codes(), ["NoError", "NoError"]);
    assert_eq!(sim.mailbox(U1).expect("mb").delegates[0].smtp, U3);
}

#[test]
fn only_the_owner_manages_delegates() {
    let sim = Simulator::start(SimConfig::seed());
    let r = call(&sim, U2, &seed_add(U1, U2));
    assert_eq!(r.status, 200);
    // Request-level error: outer ResponseClass=Error, no per-user messages.
    assert_eq!(r.classes(), ["Error"]);
    assert_eq!(r.codes(), ["ErrorAccessDenied"]);
    assert!(r.texts(M, "ResponseMessages").is_empty());
    assert!(sim.mailbox(U1).expect("mb").delegates.is_empty());

    for body in [
        get_delegate(U1, true, &[]),
        update_delegate(U1, &[], Some("NoForward")),
        remove_delegate(U1, &[U2]),
    ] {
        let r = call(&sim, U3, &body);
        assert_eq!(r.codes(), ["ErrorAccessDenied"], "{body}");
        assert_eq!(r.classes(), ["Error"]);
    }
    assert_eq!(
        sim.mailbox(U1).expect("mb").deliver_meeting_requests,
        "DelegatesAndSendInformationToMe"
    );

    // Unknown mailbox.
    let r = call(&sim, U1, &get_delegate("ghost@example.com", true, &[]));
    assert_eq!(r.codes(), ["ErrorNonExistentMailbox"]);
}

#[test]
fn impersonating_the_owner_may_manage_delegates() {
    let sim = Simulator::start(SimConfig::seed());
    let body = envelope(&impersonate("PrimarySmtpAddress", U1), &seed_add(U1, U2));
    let r = post_as(&sim, "admin@example.com", &body);
    assert_eq!(r.codes(), ["NoError", "NoError"], "{}", r.body);
    assert_eq!(sim.mailbox(U1).expect("mb").delegates.len(), 1);
    let rec = sim.requests_for("AddDelegate");
    assert_eq!(
        rec[0].authenticated_as.as_deref(),
        Some("admin@example.com")
    );
    assert_eq!(rec[0].acting_as.as_deref(), Some(U1));
}

#[test]
fn get_delegate_shapes() {
    let sim = Simulator::start(SimConfig::seed());
    // Zero delegates is a valid success answer.
    let r = call(&sim, U1, &get_delegate(U1, true, &[]));
    assert_eq!(r.codes(), ["NoError"]);
    assert_eq!(r.classes(), ["Success"]);
    assert!(r.texts(M, "ResponseMessages").is_empty());
    assert_eq!(
        r.texts(M, "DeliverMeetingRequests"),
        ["DelegatesAndSendInformationToMe"]
    );

    call(&sim, U1, &seed_add(U1, U2));
    let r = call(&sim, U1, &get_delegate(U1, true, &[]));
    assert_eq!(r.codes(), ["NoError", "NoError"]);
    assert_eq!(r.texts(T, "CalendarFolderPermissionLevel"), ["Author"]);
    assert_eq!(r.texts(T, "ContactsFolderPermissionLevel"), ["Reviewer"]);
    assert_eq!(r.texts(T, "InboxFolderPermissionLevel"), ["None"]);
    assert_eq!(r.texts(M, "DeliverMeetingRequests"), ["DelegatesAndMe"]);
    // DeliverMeetingRequests comes after ResponseMessages.
    let pos_rm = r.body.find("ResponseMessages>").expect("messages");
    let pos_dmr = r.body.find("DeliverMeetingRequests>").expect("dmr");
    assert!(pos_dmr > pos_rm);

    let r = call(&sim, U1, &get_delegate(U1, false, &[]));
    assert!(r.texts(T, "DelegatePermissions").is_empty());
    assert_eq!(r.texts(T, "ViewPrivateItems"), ["false"]);

    let r = call(
        &sim,
        U1,
        &get_delegate(U1, true, &[U3, U2, "ghost@example.com"]),
    );
    assert_eq!(
        r.codes(),
        [
            "NoError",
            "ErrorNotDelegate",
            "NoError",
            "ErrorDelegateNoUser"
        ]
    );
    assert_eq!(r.texts(T, "PrimarySmtpAddress"), [U2]);
}

#[test]
fn update_delegate_changes_only_named_fields() {
    let sim = Simulator::start(SimConfig::seed());
    call(&sim, U1, &seed_add(U1, U2));
    let r = call(
        &sim,
        U1,
        &update_delegate(
            U1,
            &[delegate_user(
                U2,
                &[("Tasks", "Editor"), ("Journal", "Custom")],
                "<t:ViewPrivateItems>true</t:ViewPrivateItems>",
            )],
            None,
        ),
    );
    assert_eq!(r.codes(), ["NoError", "NoError"], "{}", r.body);
    let d = sim.mailbox(U1).expect("mb").delegates[0].clone();
    assert_eq!(d.permissions.calendar, PermissionLevel::Author);
    assert_eq!(d.permissions.contacts, PermissionLevel::Reviewer);
    assert_eq!(d.permissions.tasks, PermissionLevel::Editor);
    assert_eq!(d.permissions.journal, PermissionLevel::Custom);
    assert!(d.view_private_items);
    assert!(!d.receive_copies_of_meeting_messages);
    assert_eq!(
        sim.mailbox(U1).expect("mb").deliver_meeting_requests,
        "DelegatesAndMe"
    );

    // Only DeliverMeetingRequests, no DelegateUsers.
    let r = call(&sim, U1, &update_delegate(U1, &[], Some("DelegatesOnly")));
    assert_eq!(r.codes(), ["NoError"]);
    assert!(r.texts(M, "ResponseMessages").is_empty());
    let mb = sim.mailbox(U1).expect("mb");
    assert_eq!(mb.deliver_meeting_requests, "DelegatesOnly");
    assert_eq!(mb.delegates[0].permissions.tasks, PermissionLevel::Editor);
}

#[test]
fn update_delegate_of_non_delegate_gives_not_delegate() {
    let sim = Simulator::start(SimConfig::seed());
    let r = call(
        &sim,
        U1,
        &update_delegate(
            U1,
            &[delegate_user(U3, &[("Calendar", "Editor")], "")],
            None,
        ),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.codes(), ["NoError", "ErrorNotDelegate"]);
    assert_eq!(r.classes(), ["Success", "Error"]);
    assert_eq!(
        r.texts(M, "MessageText"),
        ["The user is not a delegate for the mailbox."]
    );
    assert_eq!(r.texts(M, "DescriptiveLinkKey"), ["0"]);
    assert!(sim.mailbox(U1).expect("mb").delegates.is_empty());
}

#[test]
fn remove_delegate_per_user() {
    let sim = Simulator::start(SimConfig::seed());
    call(&sim, U1, &seed_add(U1, U2));
    let r = call(&sim, U1, &remove_delegate(U1, &[U2, U3]));
    assert_eq!(r.codes(), ["NoError", "NoError", "ErrorNotDelegate"]);
    assert!(sim.mailbox(U1).expect("mb").delegates.is_empty());
    let r = call(&sim, U1, &remove_delegate(U1, &[U2]));
    assert_eq!(r.codes(), ["NoError", "ErrorNotDelegate"]);
}

#[test]
fn all_permission_levels_round_trip() {
    let sim = Simulator::start(SimConfig::seed());
    let perms = [
        ("Calendar", "Editor"),
        ("Tasks", "Author"),
        ("Inbox", "Reviewer"),
        ("Contacts", "None"),
        ("Notes", "Custom"),
        ("Journal", "Author"),
    ];
    let r = call(
        &sim,
        U1,
        &add_delegate(
            U1,
            &[delegate_user(
                U2,
                &perms,
                "<t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>true</t:ViewPrivateItems>",
            )],
            Some("NoForward"),
        ),
    );
    assert_eq!(r.codes(), ["NoError", "NoError"]);
    let g = call(&sim, U1, &get_delegate(U1, true, &[U2]));
    for (folder, level) in perms {
        assert_eq!(
            g.texts(T, &format!("{folder}FolderPermissionLevel")),
            [level],
            "{folder}"
        );
    }
    assert_eq!(g.texts(T, "ReceiveCopiesOfMeetingMessages"), ["true"]);
    assert_eq!(g.texts(T, "ViewPrivateItems"), ["true"]);
    assert_eq!(g.texts(M, "DeliverMeetingRequests"), ["NoForward"]);
}
