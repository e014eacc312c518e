//! Loopback round trips between ews-proto and the simulator, two independent
//! implementations: every golden request of ews-proto is accepted by the simulator's
//! schema checks, and every answer decodes through ews-proto; then the seed story runs
//! end to end through `Operation::encode` / `Operation::decode` and a minimal HTTP client.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use ews_proto::*;
use ews_tests::mini::{MiniClient, basic};
use ews_tests::{SimConfig, Simulator};

fn agent() -> MiniClient {
    MiniClient::new()
}

fn send(client: &MiniClient, request: http::Request<Bytes>, auth: &str) -> http::Response<Bytes> {
    client.send(request, auth).expect("the simulator answers")
}

fn golden_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ews-proto/tests/golden");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("golden dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

/// Decodes `response` as the answer to the operation named in the golden request.
fn decode_as(operation: &str, response: &http::Response<Bytes>) -> Result<(), ServerError> {
    let a = addr("user1@example.com");
    let u = UserId::smtp(a.clone());
    let id = ItemId::new("x", None).expect("id");
    let start: ews_proto::jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
    match operation {
        "AddDelegate" => AddDelegate::new(a, DelegateUser::new(u))
            .decode(response)
            .map(drop),
        "UpdateDelegate" => UpdateDelegate::new(a, DelegateUser::new(u))
            .decode(response)
            .map(drop),
        "GetDelegate" => GetDelegate::new(a).decode(response).map(drop),
        "RemoveDelegate" => RemoveDelegate::new(a, u).decode(response).map(drop),
        "CreateItem" => CreateItem::on_behalf_of(a, NewCalendarItem::new("s", start, start))
            .decode(response)
            .map(drop),
        "GetItem" => GetItem::new(id).decode(response).map(drop),
        "DeleteItem" => DeleteItem::new(id, DeleteType::HardDelete)
            .decode(response)
            .map(drop),
        "FindItem" => FindItem::new(FolderId::own(DistinguishedFolder::Inbox))
            .decode(response)
            .map(drop),
        other => panic!("no decoder for {other}"),
    }
}

#[test]
fn every_golden_request_is_accepted_and_its_answer_decodes() {
    let sim = Simulator::start(SimConfig::seed());
    let agent = agent();
    let files = golden_files();
    assert!(files.len() >= 40, "golden files found: {}", files.len());
    let mut operations = std::collections::BTreeSet::new();
    for file in files {
        let body = std::fs::read(&file).expect("golden file");
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
        ]
        .into_iter()
        .find(|op| text.contains(&format!("<m:{op}>")) || text.contains(&format!("<m:{op} ")))
        .expect("a known operation");
        operations.insert(operation);
        let auth = if text.contains("ExchangeImpersonation") {
            basic("admin@example.com", "AdminPassw0rd")
        } else {
            basic("user1@example.com", "Passw0rd-1")
        };
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
        let response = send(&agent, request, &auth);
        let answer = String::from_utf8_lossy(response.body()).into_owned();
        assert!(
            !answer.contains("ErrorSchemaValidation"),
            "{}: the simulator rejected the request's schema: {answer}",
            file.display()
        );
        match decode_as(operation, &response) {
            Ok(()) => {}
            Err(ServerError::Malformed { reason, offset }) => {
                panic!(
                    "{}: ews-proto could not read the simulator's answer at {offset}: {reason}\n{answer}",
                    file.display()
                )
            }
            Err(ServerError::NotXml { .. } | ServerError::Status { .. }) => {
                panic!("{}: not an EWS answer: {answer}", file.display())
            }
            // A typed refusal (access denied, unknown impersonated user, ...) is a decoded answer.
            Err(_) => {}
        }
    }
    assert_eq!(operations.len(), 8, "{operations:?}");
}

#[test]
fn seed_story_end_to_end_through_ews_proto() {
    let sim = Simulator::start(SimConfig::seed());
    let agent = agent();
    let ctx = RequestContext::new(&sim.url())
        .expect("url")
        .version(ExchangeVersion::Exchange2013_SP1);
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
    let d = reply.body.delegates[0].value.clone().expect("delegate");
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
    assert_eq!(created.kind, ews_proto::CreatedKind::CalendarItem);
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
        assert!(reply.body.delegates.is_empty());
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
