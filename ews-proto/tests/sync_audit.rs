//! The read-only audit: delegates, orphans, misconfigurations, lints and the reverse
//! index, from hand-written GetDelegate answers; and an audit run that never writes.

mod sync_support;

use std::time::Instant;

use bytes::Bytes;
use ews_proto::ops::DecodeAnswer;
use ews_proto::sync::{Action, Audit, Lint, OrphanKind, Scheduler, SchedulerConfig};
use ews_proto::{DelegateResults, EmailAddress, GetDelegate};
use sync_support::{Mailbox, Model, ModelDelegate, decode, top_error_xml};

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

fn delegate(smtp: &str, calendar: &str, copies: bool) -> String {
    format!(
        r#"<m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
        <m:DelegateUser><t:UserId><t:PrimarySmtpAddress>{smtp}</t:PrimarySmtpAddress></t:UserId>
        <t:DelegatePermissions><t:CalendarFolderPermissionLevel>{calendar}</t:CalendarFolderPermissionLevel>
        <t:InboxFolderPermissionLevel>Reviewer</t:InboxFolderPermissionLevel></t:DelegatePermissions>
        <t:ReceiveCopiesOfMeetingMessages>{copies}</t:ReceiveCopiesOfMeetingMessages>
        <t:ViewPrivateItems>false</t:ViewPrivateItems></m:DelegateUser></m:DelegateUserResponseMessageType>"#
    )
}

fn orphan(code: &str, user: &str) -> String {
    format!(
        r#"<m:DelegateUserResponseMessageType ResponseClass="Error"><m:MessageText>x</m:MessageText>
        <m:ResponseCode>{code}</m:ResponseCode>
        <m:DelegateUser><t:UserId>{user}</t:UserId></m:DelegateUser></m:DelegateUserResponseMessageType>"#
    )
}

fn answer(messages: &[String], deliver: &str) -> DelegateResults {
    let xml = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
        <m:GetDelegateResponse ResponseClass="Success" xmlns:m="{M}" xmlns:t="{T}">
        <m:ResponseCode>NoError</m:ResponseCode><m:ResponseMessages>{}</m:ResponseMessages>
        <m:DeliverMeetingRequests>{deliver}</m:DeliverMeetingRequests>
        </m:GetDelegateResponse></s:Body></s:Envelope>"#,
        messages.concat()
    );
    GetDelegate::decode_answer(&http::Response::new(Bytes::from(xml)))
        .expect("decodes")
        .body
}

fn audit() -> Audit {
    Audit::from_answers([
        (
            addr("cfo@example.com"),
            answer(
                &[delegate("PA@example.com", "Custom", false)],
                "DelegatesOnly",
            ),
        ),
        (
            addr("boss@example.com"),
            answer(
                &[
                    delegate("pa@example.com", "Editor", true),
                    delegate("helper@example.com", "Reviewer", true),
                    orphan("ErrorDelegateNoUser", "<t:SID>S-1-5-21-1-2-3-4444</t:SID>"),
                    orphan(
                        "ErrorDelegateMissingConfiguration",
                        "<t:PrimarySmtpAddress>half@example.com</t:PrimarySmtpAddress>",
                    ),
                ],
                "DelegatesAndMe",
            ),
        ),
    ])
}

#[test]
fn every_principal_is_audited_with_its_orphans_misconfigurations_and_lints() {
    let audit = audit();
    let names: Vec<&str> = audit
        .principals
        .iter()
        .map(|p| p.principal.as_str())
        .collect();
    assert_eq!(names, ["boss@example.com", "cfo@example.com"]);

    let boss = audit.principal(&addr("BOSS@example.com")).expect("boss");
    let users: Vec<&str> = boss
        .delegates
        .iter()
        .filter_map(|d| d.user.primary_smtp_address())
        .collect();
    assert_eq!(users, ["helper@example.com", "pa@example.com"]);
    let pa = &boss.delegates[1];
    assert_eq!(pa.permissions["calendar"], "Editor");
    assert_eq!(pa.permissions["inbox"], "Reviewer");
    assert_eq!(pa.receive_copies_of_meeting_messages, Some(true));
    assert_eq!(boss.orphans.len(), 1);
    assert_eq!(
        boss.orphans[0].user.as_ref().and_then(|u| u.sid_str()),
        Some("S-1-5-21-1-2-3-4444")
    );
    assert_eq!(boss.misconfigured.len(), 1);
    assert_eq!(
        boss.misconfigured[0]
            .user
            .as_ref()
            .and_then(|u| u.primary_smtp_address()),
        Some("half@example.com")
    );
    // helper receives copies without Editor; the two orphans are kept (an audit prunes
    // nothing).
    assert!(boss.lints.iter().any(|l| matches!(l,
        Lint::CopiesWithoutCalendarEditor { user } if user.primary_smtp_address() == Some("helper@example.com"))));
    assert!(!boss.lints.iter().any(|l| matches!(l,
        Lint::CopiesWithoutCalendarEditor { user } if user.primary_smtp_address() == Some("pa@example.com"))));
    assert_eq!(
        boss.lints
            .iter()
            .filter(|l| matches!(l, Lint::OrphanKept { .. }))
            .count(),
        2
    );
    assert_eq!(
        boss.deliver_meeting_requests.as_deref(),
        Some("DelegatesAndMe")
    );

    let cfo = audit.principal(&addr("cfo@example.com")).expect("cfo");
    assert_eq!(cfo.delegates[0].permissions["calendar"], "Custom");
    assert_eq!(cfo.lints, [Lint::DelegatesOnlyWithoutCopies]);
}

#[test]
fn the_reverse_index_says_whose_delegate_each_user_is() {
    let audit = audit();
    let of = |user: &str| -> Vec<(String, Option<String>, Option<OrphanKind>)> {
        audit
            .delegate_of(user)
            .iter()
            .map(|d| (d.principal.to_string(), d.calendar.clone(), d.orphan))
            .collect()
    };
    assert_eq!(
        of("Pa@Example.com"),
        [
            ("boss@example.com".into(), Some("Editor".into()), None),
            ("cfo@example.com".into(), Some("Custom".into()), None),
        ]
    );
    assert_eq!(
        of("helper@example.com"),
        [("boss@example.com".into(), Some("Reviewer".into()), None)]
    );
    assert_eq!(
        of("half@example.com"),
        [(
            "boss@example.com".into(),
            None,
            Some(OrphanKind::MissingConfiguration)
        )]
    );
    assert_eq!(
        of("sid:S-1-5-21-1-2-3-4444"),
        [("boss@example.com".into(), None, Some(OrphanKind::NoUser))]
    );
    assert!(of("nobody@example.com").is_empty());
    let keys: Vec<&str> = audit.delegate_of.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "half@example.com",
            "helper@example.com",
            "pa@example.com",
            "sid:s-1-5-21-1-2-3-4444"
        ]
    );
}

#[test]
fn an_audit_serializes() {
    let json = serde_json::to_value(audit()).expect("serializes");
    assert_eq!(
        json["delegate_of"]["pa@example.com"][1]["principal"],
        "cfo@example.com"
    );
    assert_eq!(
        json["principals"][0]["orphans"][0]["user"]["sid"],
        "S-1-5-21-1-2-3-4444"
    );
    assert_eq!(
        json["principals"][1]["lints"][0]["lint"],
        "delegates_only_without_copies"
    );
    assert_eq!(
        json["principals"][0]["fingerprint"].as_str().map(str::len),
        Some(64)
    );
}

#[test]
fn an_audit_run_reads_each_principal_once_and_never_writes() {
    let mut model = Model::default()
        .user("pa@example.com")
        .mailbox(
            "a@example.com",
            Mailbox {
                delegates: vec![ModelDelegate::new("pa@example.com").level(0, "Editor")],
                ..Mailbox::default()
            },
        )
        .mailbox("b@example.com", Mailbox::default())
        .mailbox("denied@example.com", Mailbox::default());
    let mut s = Scheduler::audit(
        ["a@example.com", "b@example.com", "denied@example.com"].map(addr),
        SchedulerConfig::default(),
    );
    let now = Instant::now();
    let report = loop {
        match s.poll(now) {
            Some(Action::Send {
                principal,
                op,
                token,
                ..
            }) => {
                assert!(!op.is_write(), "an audit wrote: {op:?}");
                let outcome = if principal.as_str().starts_with("denied") {
                    decode(&op, 200, &top_error_xml(&op, "ErrorAccessDenied"), &[])
                        .map_err(Into::into)
                } else {
                    Ok(model.answer(&op))
                };
                s.handle(token, outcome, now);
            }
            Some(Action::Done(report)) => break report,
            other => panic!("the model answers at once: {other:?}"),
        }
    };
    assert_eq!(report.requests, 3);
    assert_eq!(report.writes, 0);
    let audit = Audit::from_report(&report);
    assert_eq!(audit.principals.len(), 2);
    assert_eq!(audit.failed.len(), 1);
    assert_eq!(audit.failed[0].principal.as_str(), "denied@example.com");
    assert!(
        audit.failed[0].reason.contains("AccessDenied"),
        "{:?}",
        audit.failed
    );
    let whose: Vec<&str> = audit
        .delegate_of("pa@example.com")
        .iter()
        .map(|d| d.principal.as_str())
        .collect();
    assert_eq!(whose, ["a@example.com"]);
    assert_eq!(model.writes, 0);
}
