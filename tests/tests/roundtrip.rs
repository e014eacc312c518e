//! Loopback round trips between ews-proto and the simulator, two independent
//! implementations: every golden request of ews-proto gets the outcome written down for
//! it here (success, or a named ResponseCode) from the simulator, and ews-proto decodes
//! the answer to that same outcome; then the seed story runs
//! end to end through `Operation::encode` / `Operation::decode` and a minimal HTTP client.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use ews_proto::driver::X_ANCHOR_MAILBOX;
use ews_proto::ops::Repeat;
use ews_proto::*;
use ews_tests::mini::{MiniClient, basic};
use ews_tests::{SimConfig, Simulator};

fn agent() -> MiniClient {
    MiniClient::new()
}

fn send(client: &MiniClient, request: http::Request<Bytes>, auth: &str) -> http::Response<Bytes> {
    client.send(request, auth).expect("the simulator answers")
}

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ews-proto/tests/golden")
}

/// Every golden request, as (path relative to the golden folder, file).
fn golden_files() -> Vec<(String, PathBuf)> {
    let root = golden_root();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("golden dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&root).expect("below the golden folder");
                out.push((rel.to_string_lossy().replace('\\', "/"), path));
            }
        }
    }
    out.sort();
    out
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

/// What the simulator must answer to one golden request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// HTTP 200; the outer status of a delegate operation `NoError`; one response message
    /// per entry, with that `ResponseCode`, in order.
    Messages(&'static [&'static str]),
    /// HTTP 500, a SOAP fault with this `ResponseCode`.
    Fault(&'static str),
}

/// One golden request's run: who sends it, which of user1's delegates exist beforehand
/// (with Calendar Editor), and what must come back.
#[derive(Debug, Clone, Copy)]
struct Expect {
    caller: &'static str,
    delegates_of_user1: &'static [&'static str],
    outcome: Outcome,
}

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";
const ADMIN: &str = "admin@example.com";

/// The expected outcome of each golden request against a fresh seed simulator, worked out
/// from the request and the seed organisation (`SimConfig::seed`), not from a run.
fn expectation(file: &str) -> Expect {
    use Outcome::*;
    let e = |caller, delegates_of_user1, outcome| Expect {
        caller,
        delegates_of_user1,
        outcome,
    };
    match file {
        // The principal adds delegates to its own mailbox: one NoError per user.
        "AddDelegate/seed.request.xml" => e(U2, &[], Messages(&["NoError"])),
        "AddDelegate/no-forward.request.xml" => e(U1, &[], Messages(&["NoError"])),
        "AddDelegate/two-delegates-all-folders.request.xml" => {
            e(U1, &[], Messages(&["NoError", "NoError"]))
        }
        // user2 and user3 are delegates already: both updated.
        "UpdateDelegate/seed.request.xml" => e(U1, &[U2, U3], Messages(&["NoError", "NoError"])),
        // Only the principal-level setting: no per-user message.
        "UpdateDelegate/deliver-only.request.xml" => e(U1, &[], Messages(&[])),
        "GetDelegate/all.request.xml" => e(U1, &[U2], Messages(&["NoError"])),
        // user2 is a delegate, the SID of user3 names no delegate.
        "GetDelegate/filtered-without-permissions.request.xml" => {
            e(U1, &[U2], Messages(&["NoError", "ErrorNotDelegate"]))
        }
        "RemoveDelegate/one.request.xml" => e(U1, &[U2], Messages(&["NoError"])),
        "RemoveDelegate/two.request.xml" => {
            e(U1, &[U2], Messages(&["NoError", "ErrorNotDelegate"]))
        }
        // A delegate with Calendar Editor creates in user1's calendar on user1's behalf.
        "CreateItem/seed-on-behalf.request.xml"
        | "CreateItem/all-fields.request.xml"
        | "CreateItem/exchange2007-meeting-time-zone.request.xml"
        | "CreateItem/send-only-to-all.request.xml"
        | "headers/time-zone-context.request.xml" => e(U2, &[U2], Messages(&["NoError"])),
        "CreateItem/two-appointments-own-calendar.request.xml" => {
            e(U1, &[], Messages(&["NoError", "NoError"]))
        }
        // The ids of these requests name no item of the seed mailboxes.
        "GetItem/one.request.xml"
        | "DeleteItem/cancel-meeting.request.xml"
        | "GetItem/with-attendees.request.xml"
        | "CreateItem/cancel-with-note.request.xml"
        | "CreateItem/accept-on-behalf.request.xml"
        | "CreateItem/decline-without-response.request.xml" => {
            e(U1, &[], Messages(&["ErrorItemNotFound"]))
        }
        "GetItem/two-id-only-in-mailbox.request.xml" | "DeleteItem/hard-delete-two.request.xml" => {
            e(
                U1,
                &[],
                Messages(&["ErrorItemNotFound", "ErrorItemNotFound"]),
            )
        }
        // Recurring series: a delegate's meeting on behalf of user1, and five of user1's own.
        "CreateItem/recurring-weekly-zoned.request.xml" => e(U2, &[U2], Messages(&["NoError"])),
        "CreateItem/recurrence-patterns.request.xml" => e(
            U1,
            &[],
            Messages(&["NoError", "NoError", "NoError", "NoError", "NoError"]),
        ),
        // Occurrence and series references to a series no seed mailbox holds.
        "GetItem/occurrence-and-series.request.xml" => e(
            U1,
            &[],
            Messages(&["ErrorItemNotFound", "ErrorItemNotFound"]),
        ),
        "DeleteItem/one-occurrence.request.xml" => e(U1, &[], Messages(&["ErrorItemNotFound"])),
        // UpdateItem by user2 (a delegate with Calendar Editor): the ids name no item.
        "UpdateItem/move-on-behalf.request.xml"
        | "UpdateItem/every-field.request.xml"
        | "UpdateItem/wall-clock-in-context-zone.request.xml"
        | "UpdateItem/exchange2007-meeting-time-zone.request.xml" => {
            e(U2, &[U2], Messages(&["ErrorItemNotFound"]))
        }
        "UpdateItem/occurrence-and-series.request.xml" => e(
            U2,
            &[U2],
            Messages(&[
                "ErrorItemNotFound",
                "ErrorItemNotFound",
                "ErrorItemNotFound",
            ]),
        ),
        // user3 reads its own inbox, user1 its own calendar (both empty: one page each).
        "FindItem/inbox-of-attendee.request.xml" => e(U3, &[], Messages(&["NoError"])),
        "FindItem/own-calendar-all-properties.request.xml" => e(U1, &[], Messages(&["NoError"])),
        // user2, a delegate with Calendar Editor, views user1's (empty) calendar.
        "FindItem/calendar-view-of-principal.request.xml" => e(U2, &[U2], Messages(&["NoError"])),
        // The service account impersonates user1 by SID and by primary address ...
        "headers/impersonation-sid.request.xml"
        | "headers/impersonation-primary-smtp.request.xml" => e(ADMIN, &[], Messages(&[])),
        // ... but no seed user has the UPN user1@corp.example.com or the proxy address
        // alias1@example.com.
        "headers/impersonation-principal-name.request.xml" => {
            e(ADMIN, &[], Fault("ErrorImpersonationFailed"))
        }
        "headers/impersonation-smtp.request.xml" => e(ADMIN, &[], Fault("ErrorNonExistentMailbox")),
        // Impersonating user2, a delegate of user1, to create in user1's calendar.
        "headers/all-together.request.xml" => e(ADMIN, &[U2], Messages(&["NoError"])),
        // GetDelegate of user1, who has no delegates: the outer NoError only.
        "headers/mailbox-culture.request.xml" | "headers/time-zone-not-bound.request.xml" => {
            e(U1, &[], Messages(&[]))
        }
        // Every ExchangeVersionType value is accepted.
        v if v.starts_with("headers/version/") => e(U1, &[], Messages(&[])),
        other => panic!("golden file {other} has no expected outcome here: add one"),
    }
}

fn password(user: &str) -> &'static str {
    match user {
        U1 => "Passw0rd-1",
        U2 => "Passw0rd-2",
        U3 => "Passw0rd-3",
        ADMIN => "AdminPassw0rd",
        other => panic!("no password for {other}"),
    }
}

fn calendar_editor(smtp: &str) -> ews_tests::DelegateSnapshot {
    ews_tests::DelegateSnapshot {
        smtp: smtp.to_owned(),
        permissions: ews_tests::Permissions {
            calendar: ews_tests::PermissionLevel::Editor,
            ..Default::default()
        },
        receive_copies_of_meeting_messages: false,
        view_private_items: false,
    }
}

/// The outcome as the simulator wrote it, read with a generic XML parser.
fn answered(response: &http::Response<Bytes>) -> Result<Outcome, String> {
    const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
    const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
    const E: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
    let status = response.status().as_u16();
    let text = std::str::from_utf8(response.body()).map_err(|e| e.to_string())?;
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| format!("HTTP {status}, not XML ({e}): {text:.200}"))?;
    let is = |n: &roxmltree::Node<'_, '_>, ns: &str, local: &str| {
        n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local
    };
    let leaked = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let body = doc
        .root_element()
        .children()
        .find(|n| is(n, SOAP, "Body"))
        .ok_or_else(|| format!("HTTP {status}, no soap:Body: {text:.200}"))?;
    let answer = body
        .children()
        .find(roxmltree::Node::is_element)
        .ok_or_else(|| format!("HTTP {status}, empty soap:Body"))?;
    fn code_of<'a>(n: roxmltree::Node<'a, '_>, ns: &str) -> Option<&'a str> {
        n.children()
            .find(|c| {
                c.is_element()
                    && c.tag_name().namespace() == Some(ns)
                    && c.tag_name().name() == "ResponseCode"
            })
            .and_then(|c| c.text())
            .map(str::trim)
    }
    if is(&answer, SOAP, "Fault") {
        let code = answer
            .descendants()
            .find(|n| is(n, E, "ResponseCode"))
            .and_then(|n| n.text())
            .ok_or("a fault without e:ResponseCode")?;
        if status != 500 {
            return Err(format!("a fault {code} with HTTP {status}"));
        }
        return Ok(Outcome::Fault(leaked(code.trim())));
    }
    if status != 200 {
        return Err(format!("HTTP {status}: {text:.200}"));
    }
    if let Some(outer) = code_of(answer, M) {
        if outer != "NoError" {
            return Err(format!("outer ResponseCode {outer}"));
        }
    }
    let codes: Vec<&'static str> = answer
        .children()
        .filter(|n| is(n, M, "ResponseMessages"))
        .flat_map(|list| list.children().filter(roxmltree::Node::is_element))
        .map(|m| code_of(m, M).map_or("(none)", leaked))
        .collect();
    Ok(Outcome::Messages(Box::leak(codes.into_boxed_slice())))
}

/// The codes of the response messages ews-proto decoded from `response`, read as the
/// answer to `operation`.
fn decode_as(
    operation: &str,
    response: &http::Response<Bytes>,
) -> Result<Vec<String>, ServerError> {
    let a = addr(U1);
    let u = UserId::smtp(a.clone());
    let id = ItemId::new("x", None).expect("id");
    let start: ews_proto::jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
    fn codes<'a, T: 'a>(messages: impl IntoIterator<Item = &'a ResponseMessage<T>>) -> Vec<String> {
        messages
            .into_iter()
            .map(|m| m.status.code.as_str().to_owned())
            .collect()
    }
    Ok(match operation {
        "AddDelegate" => codes(
            &AddDelegate::new(a, DelegateUser::new(u))
                .decode(response)?
                .body,
        ),
        "UpdateDelegate" => codes(
            &UpdateDelegate::new(a, DelegateUser::new(u))
                .decode(response)?
                .body,
        ),
        "GetDelegate" => codes(&GetDelegate::new(a).decode(response)?.body),
        "RemoveDelegate" => codes(&RemoveDelegate::new(a, u).decode(response)?.body),
        "CreateItem" => codes(
            &CreateItem::on_behalf_of(
                a,
                NewCalendarItem::new("s", start, start).expect("start is not after end"),
            )
            .decode(response)?
            .body,
        ),
        "GetItem" => codes(&GetItem::new(id).decode(response)?.body),
        "DeleteItem" => codes(
            &DeleteItem::new(id, DeleteType::HardDelete)
                .decode(response)?
                .body,
        ),
        "FindItem" => codes(
            &FindItem::new(FolderId::own(DistinguishedFolder::Inbox))
                .decode(response)?
                .body,
        ),
        "UpdateItem" => {
            codes(&<UpdateItem as ews_proto::ops::DecodeAnswer>::decode_answer(response)?.body)
        }
        other => panic!("no decoder for {other}"),
    })
}

#[test]
fn every_golden_request_gets_its_expected_outcome_and_decodes_to_it() {
    let files = golden_files();
    assert!(files.len() >= 40, "golden files found: {}", files.len());
    // Every RequestServerVersion value has its file.
    let versions = files
        .iter()
        .filter(|(rel, _)| rel.starts_with("headers/version/"))
        .count();
    assert_eq!(versions, ExchangeVersion::ALL.len());
    let agent = agent();
    let mut operations = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for (rel, file) in &files {
        let expect = expectation(rel);
        let body = std::fs::read(file).expect("golden file");
        let text = String::from_utf8(body.clone()).expect("UTF-8");
        let operation = [
            "AddDelegate",
            "UpdateDelegate",
            "GetDelegate",
            "RemoveDelegate",
            "CreateItem",
            "GetItem",
            "DeleteItem",
            "FindItem",
            "UpdateItem",
        ]
        .into_iter()
        .find(|op| text.contains(&format!("<m:{op}>")) || text.contains(&format!("<m:{op} ")))
        .expect("a known operation");
        operations.insert(operation);
        // A fresh organisation per request: no outcome depends on the files' order.
        let sim = Simulator::start(SimConfig::seed());
        for d in expect.delegates_of_user1 {
            assert!(sim.set_delegate(U1, calendar_editor(d)), "{d}");
        }
        let request = http::Request::post(sim.url())
            .header("content-type", "text/xml; charset=utf-8")
            .header(
                "soapaction",
                format!(
                    "\"http://schemas.microsoft.com/exchange/services/2006/messages/{operation}\""
                ),
            )
            .body(Bytes::from(body))
            .expect("request");
        let response = send(
            &agent,
            request,
            &basic(expect.caller, password(expect.caller)),
        );
        let answer = String::from_utf8_lossy(response.body()).into_owned();
        // The simulator's side, read without ews-proto.
        match answered(&response) {
            Ok(got) if got == expect.outcome => {}
            Ok(got) => {
                failures.push(format!(
                    "{rel}: the simulator answered {got:?}, expected {:?}\n{answer}",
                    expect.outcome
                ));
                continue;
            }
            Err(e) => {
                failures.push(format!(
                    "{rel}: expected {:?}, the simulator answered {e}",
                    expect.outcome
                ));
                continue;
            }
        }
        // ews-proto's reading of the same answer.
        let decoded = decode_as(operation, &response);
        let agrees = match (&decoded, expect.outcome) {
            (Ok(codes), Outcome::Messages(want)) => {
                codes.iter().map(String::as_str).eq(want.iter().copied())
            }
            (Err(ServerError::Fault(f)), Outcome::Fault(want)) => f.code().as_str() == want,
            _ => false,
        };
        if !agrees {
            failures.push(format!(
                "{rel}: ews-proto decoded {decoded:?}, expected {:?}\n{answer}",
                expect.outcome
            ));
        }
    }
    assert_eq!(operations.len(), 9, "{operations:?}");
    assert!(
        failures.is_empty(),
        "{} of {} golden requests did not get their expected outcome:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn seed_story_end_to_end_through_ews_proto() {
    let sim = Simulator::start(SimConfig::seed());
    let agent = agent();
    let ctx = RequestContext::new(&sim.url())
        .expect("url")
        .with_version(ExchangeVersion::Exchange2013_SP1);
    let as_user1 = basic("user1@example.com", "Passw0rd-1");
    let as_user2 = basic("user2@example.com", "Passw0rd-2");
    let as_user3 = basic("user3@example.com", "Passw0rd-3");
    let exchange = |op_request: http::Request<Bytes>, auth: &str| send(&agent, op_request, auth);

    // user1 (principal) adds user2: Calendar Author, Contacts Reviewer, DelegatesAndMe.
    let add = AddDelegate::new(
        addr("user1@example.com"),
        DelegateUser::new(UserId::smtp(addr("user2@example.com")))
            .permissions(
                DelegatePermissions::new()
                    .calendar(Permission::Author)
                    .contacts(Permission::Reviewer),
            )
            .receive_copies_of_meeting_messages(false)
            .view_private_items(false),
    )
    .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    let reply = add
        .decode(&exchange(add.encode(&ctx).expect("encode"), &as_user1))
        .expect("decode");
    assert!(reply.server_version.is_some());
    let delegate = reply.body[0]
        .clone()
        .into_result()
        .expect("added")
        .expect("delegate echoed");
    assert_eq!(
        delegate.user_id.primary_smtp_address(),
        Some("user2@example.com")
    );

    // Adding again: ErrorDelegateAlreadyExists for that user.
    let reply = add
        .decode(&exchange(add.encode(&ctx).expect("encode"), &as_user1))
        .expect("decode");
    assert_eq!(
        reply.body[0].status.code,
        ResponseCode::ErrorDelegateAlreadyExists
    );

    // GetDelegate shows the permissions and the principal-level setting.
    let get = GetDelegate::new(addr("user1@example.com"));
    let reply = get
        .decode(&exchange(get.encode(&ctx).expect("encode"), &as_user1))
        .expect("decode");
    assert_eq!(
        reply.body.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesAndMe)
    );
    let d = reply.body[0].value.clone().expect("delegate");
    let p = d.permissions.expect("permissions");
    assert_eq!(
        p.level(DelegateFolder::Calendar),
        Some(&PermissionLevel::Set(Permission::Author))
    );
    assert_eq!(
        p.level(DelegateFolder::Contacts),
        Some(&PermissionLevel::Set(Permission::Reviewer))
    );

    // UpdateDelegate of a non-delegate: ErrorNotDelegate.
    let update = UpdateDelegate::new(
        addr("user1@example.com"),
        DelegateUser::new(UserId::smtp(addr("user3@example.com")))
            .permissions(DelegatePermissions::new().journal(Permission::Reviewer)),
    );
    let reply = update
        .decode(&exchange(update.encode(&ctx).expect("encode"), &as_user1))
        .expect("decode");
    assert_eq!(reply.body[0].status.code, ResponseCode::ErrorNotDelegate);

    // user2 sends a meeting on behalf of user1 to user3.
    let meeting = NewCalendarItem::new(
        "Delegate appointment",
        "2025-06-02T15:00:00Z".parse().expect("ts"),
        "2025-06-02T16:00:00Z".parse().expect("ts"),
    )
    .expect("start is not after end")
    .body(Body::text("This is the text of the delegate appointment."))
    .free_busy(LegacyFreeBusyStatus::Busy)
    .required_attendee(Mailbox::new(addr("user3@example.com")));
    let create = CreateItem::on_behalf_of(addr("user1@example.com"), meeting.clone());
    let request = create.encode(&ctx).expect("encode");
    assert_eq!(request.headers()[X_ANCHOR_MAILBOX], "user1@example.com");
    let reply = create
        .decode(&exchange(request, &as_user2))
        .expect("decode");
    let created = reply.body[0]
        .clone()
        .into_result()
        .expect("created")
        .expect("item id");
    // The server says what it made: the meeting, in the principal's calendar.
    assert_eq!(created.kind, ews_proto::ItemKind::CalendarItem);
    let id = created.id;

    // The meeting sits in user1's calendar, organised by user1.
    let get_item = GetItem::new(id.clone()).in_mailbox(addr("user1@example.com"));
    let reply = get_item
        .decode(&exchange(get_item.encode(&ctx).expect("encode"), &as_user2))
        .expect("decode");
    let Some(Item::Calendar(c)) = reply.body[0].value.clone() else {
        panic!("calendar item: {:?}", reply.body)
    };
    assert_eq!(
        c.organizer.and_then(|o| o.smtp_address()),
        Some(addr("user1@example.com"))
    );
    assert_eq!(
        c.required_attendees[0].mailbox.address(),
        Some("user3@example.com")
    );

    // user3's inbox holds the request: From user1, Sender user2.
    let find =
        FindItem::new(FolderId::own(DistinguishedFolder::Inbox)).shape(BaseShape::AllProperties);
    let reply = find
        .decode(&exchange(find.encode(&ctx).expect("encode"), &as_user3))
        .expect("decode");
    let page = reply.body[0].value.clone().expect("page");
    let request_item = page
        .items
        .iter()
        .find(|i| i.subject() == Some("Delegate appointment"))
        .expect("invitation");
    let get = GetItem::new(request_item.item_id().expect("id").clone());
    let reply = get
        .decode(&exchange(get.encode(&ctx).expect("encode"), &as_user3))
        .expect("decode");
    let Some(Item::Message(m)) = reply.body[0].value.clone() else {
        panic!("message: {:?}", reply.body)
    };
    assert_eq!(m.kind, MessageKind::MeetingRequest);
    assert_eq!(
        m.from.and_then(|f| f.smtp_address()),
        Some(addr("user1@example.com"))
    );
    assert_eq!(
        m.sender.and_then(|s| s.smtp_address()),
        Some(addr("user2@example.com"))
    );
    assert_eq!(
        sim.mailbox("user2@example.com")
            .expect("user2")
            .sent_items
            .len(),
        1
    );

    // The delegate cancels it: user3 receives a cancellation.
    let delete = DeleteItem::new(id, DeleteType::MoveToDeletedItems)
        .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy)
        .in_mailbox(addr("user1@example.com"));
    assert_eq!(delete.repeat(), Repeat::SendsMessages);
    let reply = delete
        .decode(&exchange(delete.encode(&ctx).expect("encode"), &as_user2))
        .expect("decode");
    assert!(!reply.body[0].is_error(), "{:?}", reply.body[0]);
    assert_eq!(
        sim.mailbox("user3@example.com")
            .expect("user3")
            .cancellations_received,
        1
    );

    // Removed, the delegate can no longer create meetings in user1's calendar.
    let remove = RemoveDelegate::new(
        addr("user1@example.com"),
        UserId::smtp(addr("user2@example.com")),
    );
    let reply = remove
        .decode(&exchange(remove.encode(&ctx).expect("encode"), &as_user1))
        .expect("decode");
    assert!(!reply.body[0].is_error());
    let reply = remove
        .decode(&exchange(remove.encode(&ctx).expect("encode"), &as_user1))
        .expect("decode");
    assert_eq!(reply.body[0].status.code, ResponseCode::ErrorNotDelegate);
    let create = CreateItem::on_behalf_of(addr("user1@example.com"), meeting);
    let reply = create
        .decode(&exchange(create.encode(&ctx).expect("encode"), &as_user2))
        .expect("decode");
    assert_eq!(reply.body[0].status.code, ResponseCode::ErrorAccessDenied);
    assert_eq!(
        sim.mailbox("user3@example.com")
            .expect("user3")
            .invitations_received,
        1
    );
}

#[test]
fn both_server_styles_decode_and_report_their_version() {
    for (style, major) in [
        (ews_tests::ServerStyle::Exchange2013, 15),
        (ews_tests::ServerStyle::Exchange2010, 14),
    ] {
        let sim = Simulator::start(SimConfig::seed().with_style(style));
        let ctx = RequestContext::new(&sim.url()).expect("url");
        let get = GetDelegate::new(addr("user1@example.com"));
        let response = send(
            &agent(),
            get.encode(&ctx).expect("encode"),
            &basic("user1", "Passw0rd-1"),
        );
        let reply = get.decode(&response).expect("decode");
        assert_eq!(
            reply.server_version.and_then(|v| v.major_version),
            Some(major)
        );
        assert!(reply.body.is_empty());
    }
}

#[test]
fn wrong_credentials_are_a_typed_auth_error() {
    let sim = Simulator::start(SimConfig::seed());
    let ctx = RequestContext::new(&sim.url()).expect("url");
    let get = GetDelegate::new(addr("user1@example.com"));
    let response = send(
        &agent(),
        get.encode(&ctx).expect("encode"),
        &basic("user1@example.com", "wrong"),
    );
    match get.decode(&response) {
        Err(ServerError::Unauthorized { challenges, .. }) => {
            assert!(
                challenges.iter().any(|c| c.starts_with("Basic")),
                "{challenges:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}
