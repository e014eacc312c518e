//! Response fixtures for every operation decode as expected, in Exchange 2010 style and
//! Exchange 2013+ style envelopes, plus faults, HTTP errors and broken inputs.
//!
//! Fixtures whose name contains `future` deliberately hold values newer than the schema
//! (unknown response codes, elements, permission levels); all others are schema-valid,
//! which CI checks.

use std::time::Duration;

use bytes::Bytes;
use ews_proto::error::{Limit, MalformedKind};
use ews_proto::*;

fn response(status: u16, body: impl Into<Bytes>) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/xml; charset=utf-8")
        .body(body.into())
        .expect("valid response")
}

fn fixture(path: &str) -> Bytes {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    Bytes::from(std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}")))
}

fn ok(path: &str) -> http::Response<Bytes> {
    response(200, fixture(path))
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("valid address")
}

fn add_delegate() -> AddDelegate {
    AddDelegate::new(
        addr("user1@example.com"),
        DelegateUser::new(UserId::smtp(addr("user2@example.com"))),
    )
}

fn item_id() -> ItemId {
    ItemId::new("AAMkAD1=", None).expect("valid id")
}

// ---------------------------------------------------------------- delegates

#[test]
fn add_delegate_success_exchange_2010_style() {
    let reply = add_delegate()
        .decode(&ok("AddDelegate/success-2010.xml"))
        .expect("decodes");
    let sv = reply.server_version.expect("ServerVersionInfo");
    assert_eq!(sv.major_version, Some(14));
    assert_eq!(
        sv.request_version(),
        Some(ExchangeVersion::Exchange2010_SP2)
    );
    assert_eq!(reply.body.len(), 1);
    let d = reply.body[0]
        .clone()
        .into_result()
        .expect("success")
        .expect("delegate");
    assert_eq!(d.user_id.primary_smtp_address(), Some("user2@example.com"));
    assert_eq!(
        d.user_id.sid_str(),
        Some("S-1-5-21-1111111111-2222222222-333333333-1117")
    );
    assert_eq!(d.user_id.display_name(), Some("User Two"));
    let p = d.permissions.expect("permissions");
    assert_eq!(
        p.level(DelegateFolder::Calendar),
        Some(&PermissionLevel::Set(Permission::Author))
    );
    assert_eq!(
        p.level(DelegateFolder::Contacts),
        Some(&PermissionLevel::Set(Permission::Reviewer))
    );
    assert_eq!(
        p.level(DelegateFolder::Journal),
        Some(&PermissionLevel::Set(Permission::None))
    );
    assert_eq!(d.receive_copies_of_meeting_messages, Some(false));
    assert_eq!(d.view_private_items, Some(false));
}

#[test]
fn add_delegate_success_exchange_2013_default_namespaces() {
    let reply = add_delegate()
        .decode(&ok(
            "AddDelegate/success-2013-default-ns-future-element.xml",
        ))
        .expect("decodes");
    let sv = reply
        .server_version
        .expect("h:ServerVersionInfo with its own xmlns");
    assert_eq!((sv.major_version, sv.minor_version), (Some(15), Some(2)));
    assert_eq!(sv.major_build_number, Some(1544));
    assert_eq!(sv.request_version(), Some(ExchangeVersion::V2017_07_11));
    let d = reply.body[0]
        .clone()
        .into_result()
        .expect("success")
        .expect("delegate");
    assert_eq!(d.user_id.primary_smtp_address(), Some("user2@example.com"));
    assert_eq!(
        d.view_private_items,
        Some(false),
        "read past the unknown sibling element"
    );
}

#[test]
fn add_delegate_seed_success_and_error() {
    let reply = add_delegate()
        .decode(&ok("AddDelegate/success-2013-seed.xml"))
        .expect("decodes");
    let d = reply.body[0].value.clone().expect("delegate");
    assert_eq!(d.user_id.primary_smtp_address(), Some("user1@example.com"));
    assert_eq!(
        d.permissions, None,
        "the seed's answer carries no DelegatePermissions"
    );

    let reply = add_delegate()
        .decode(&ok("AddDelegate/already-exists-seed.xml"))
        .expect("decodes");
    assert_eq!(reply.body.len(), 1);
    let status = reply.body[0]
        .clone()
        .into_result()
        .expect_err("per-user error");
    assert_eq!(status.code, ResponseCode::ErrorDelegateAlreadyExists);
    assert_eq!(
        status.text.as_deref(),
        Some("The user is already a delegate for the mailbox.")
    );
    assert_eq!(status.descriptive_link_key, Some(0));
    assert_eq!(status.class, ResponseClass::Error);
}

#[test]
fn top_level_error_without_items_fails_the_request() {
    let err = add_delegate()
        .decode(&ok("AddDelegate/access-denied-top-level.xml"))
        .expect_err("whole request failed");
    let ServerError::Response(status) = err else {
        panic!("expected Response, got {err:?}")
    };
    assert_eq!(status.code, ResponseCode::ErrorAccessDenied);
    assert_eq!(
        status.text.as_deref(),
        Some("Access is denied. Check credentials and try again.")
    );
}

#[test]
fn batches_mix_success_warning_and_error_in_order() {
    let reply = add_delegate()
        .decode(&ok("AddDelegate/mixed-batch-future-code.xml"))
        .expect("decodes");
    let classes: Vec<_> = reply.body.iter().map(|m| m.status.class).collect();
    assert_eq!(
        classes,
        [
            ResponseClass::Success,
            ResponseClass::Warning,
            ResponseClass::Error,
            ResponseClass::Error
        ]
    );
    assert_eq!(
        reply.body[1].status.code,
        ResponseCode::ErrorDelegateMissingConfiguration
    );
    assert!(
        reply.body[1].clone().into_result().is_ok(),
        "a warning still carries its value"
    );
    assert_eq!(reply.body[2].status.code, ResponseCode::ErrorDelegateNoUser);
    match &reply.body[3].status.code {
        ResponseCode::Other(u) => assert_eq!(u.as_str(), "ErrorSomethingNewInExchange2030"),
        other => panic!("expected fallback, got {other:?}"),
    }
}

#[test]
fn get_delegate_with_permissions_custom_and_unknown_levels() {
    let op = GetDelegate::new(addr("user1@example.com"));
    let reply = op
        .decode(&ok("GetDelegate/with-permissions-2013-future-level.xml"))
        .expect("decodes");
    assert_eq!(
        reply.body.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesAndSendInformationToMe)
    );
    let delegates: Vec<Delegate> = reply
        .body
        .messages
        .iter()
        .filter_map(|m| m.value.clone())
        .collect();
    assert_eq!(delegates.len(), 2);
    let p = delegates[0].permissions.as_ref().expect("permissions");
    assert_eq!(
        p.level(DelegateFolder::Inbox),
        Some(&PermissionLevel::Custom)
    );
    assert_eq!(
        p.level(DelegateFolder::Inbox)
            .and_then(PermissionLevel::permission),
        None
    );
    assert_eq!(
        p.level(DelegateFolder::Notes),
        Some(&PermissionLevel::Set(Permission::Editor))
    );
    match p.level(DelegateFolder::Journal) {
        Some(PermissionLevel::Other(u)) => assert_eq!(u.as_str(), "FutureLevel"),
        other => panic!("expected fallback, got {other:?}"),
    }
    assert_eq!(delegates[0].receive_copies_of_meeting_messages, Some(true));
    assert_eq!(delegates[1].user_id.display_name(), Some("User & Three"));
}

#[test]
fn get_delegate_with_zero_delegates_is_valid() {
    let reply = GetDelegate::new(addr("user1@example.com"))
        .decode(&ok("GetDelegate/none.xml"))
        .expect("decodes");
    assert!(reply.body.is_empty());
    assert_eq!(
        reply.body.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesAndMe)
    );
    assert_eq!(reply.server_version.and_then(|v| v.major_version), Some(14));
}

#[test]
fn get_delegate_filtered_with_a_non_delegate() {
    let reply = GetDelegate::new(addr("user1@example.com"))
        .decode(&ok("GetDelegate/filtered-not-delegate.xml"))
        .expect("decodes");
    assert_eq!(reply.body.len(), 2);
    assert_eq!(
        reply.body[0]
            .value
            .as_ref()
            .and_then(|d| d.view_private_items),
        Some(true)
    );
    assert_eq!(reply.body[1].status.code, ResponseCode::ErrorNotDelegate);
    assert_eq!(
        reply.body.deliver_meeting_requests,
        Some(DeliverMeetingRequests::NoForward)
    );
    assert!(
        reply.server_version.is_none(),
        "no header: no version, no panic"
    );
}

#[test]
fn update_delegate_seed_success_and_error() {
    let op = UpdateDelegate::deliver_only(
        addr("user1@example.com"),
        DeliverMeetingRequests::DelegatesOnly,
    );
    let reply = op
        .decode(&ok("UpdateDelegate/success-seed.xml"))
        .expect("decodes");
    assert!(reply.body.iter().all(|m| !m.is_error()));
    assert!(!reply.body.is_empty());

    let reply = op
        .decode(&ok("UpdateDelegate/not-delegate-seed.xml"))
        .expect("decodes");
    let status = reply.body[0]
        .clone()
        .into_result()
        .expect_err("per-user error");
    assert_eq!(status.code, ResponseCode::ErrorNotDelegate);
    assert_eq!(
        status.text.as_deref(),
        Some("The user is not a delegate for the mailbox.")
    );
}

#[test]
fn remove_delegate_mixed() {
    let op = RemoveDelegate::new(
        addr("user1@example.com"),
        UserId::smtp(addr("user2@example.com")),
    );
    let reply = op.decode(&ok("RemoveDelegate/mixed.xml")).expect("decodes");
    let codes: Vec<_> = reply.body.iter().map(|m| m.code().clone()).collect();
    assert_eq!(
        codes,
        [ResponseCode::NoError, ResponseCode::ErrorNotDelegate]
    );
}

// ---------------------------------------------------------------- items

fn create_item() -> CreateItem {
    let start: jiff::Timestamp = "2025-06-02T15:00:00Z".parse().expect("ts");
    CreateItem::on_behalf_of(
        addr("user1@example.com"),
        NewCalendarItem::new("x", start, start).expect("start is not after end"),
    )
}

#[test]
fn create_item_seed_success() {
    let reply = create_item()
        .decode(&ok("CreateItem/success-seed.xml"))
        .expect("decodes");
    let created = reply.body[0]
        .clone()
        .into_result()
        .expect("success")
        .expect("id");
    assert_eq!(created.kind, ews_proto::ItemKind::CalendarItem);
    assert_eq!(created.id.id(), "AAMkADEzOGExample=");
    assert_eq!(created.id.change_key(), Some("DwAAABYAAAExample"));
}

#[test]
fn create_item_two_items_mixed() {
    let reply = create_item()
        .decode(&ok("CreateItem/two-items-mixed-2010.xml"))
        .expect("decodes");
    assert_eq!(reply.body.len(), 2);
    assert_eq!(
        reply.body[0].value.as_ref().map(|c| c.id.id()),
        Some("AAMkAD1=")
    );
    assert_eq!(reply.body[1].status.code, ResponseCode::ErrorAccessDenied);
    assert_eq!(reply.body[1].value, None);
}

#[test]
fn create_item_send_only_returns_no_item() {
    let reply = create_item()
        .decode(&ok("CreateItem/send-only-no-item.xml"))
        .expect("decodes");
    assert_eq!(reply.body[0].clone().into_result(), Ok(None));
}

#[test]
fn a_batch_where_every_item_is_busy_is_a_throttling_error_with_back_off_zero() {
    let err = create_item()
        .decode(&ok("CreateItem/all-busy.xml"))
        .expect_err("busy");
    let ServerError::Response(status) = &err else {
        panic!("expected Response, got {err:?}")
    };
    assert_eq!(status.code, ResponseCode::ErrorServerBusy);
    assert_eq!(err.back_off(), Some(Duration::ZERO));
}

#[test]
fn get_item_calendar_item_with_organizer_and_attendees() {
    let reply = GetItem::new(item_id())
        .decode(&ok("GetItem/calendar-item-2013.xml"))
        .expect("decodes");
    let Some(Item::Calendar(c)) = reply.body[0].value.clone() else {
        panic!("calendar item expected")
    };
    assert_eq!(c.subject.as_deref(), Some("Delegate appointment"));
    assert_eq!(c.item_class.as_deref(), Some("IPM.Appointment"));
    let body = c.body.expect("body");
    assert_eq!(body.kind, BodyKind::Html);
    assert!(
        body.content.contains("appointment. &nbsp;</body>"),
        "entities decoded once: {}",
        body.content
    );
    assert_eq!(c.categories, ["Work"]);
    assert_eq!(c.start, Some("2025-06-02T15:00:00Z".parse().expect("ts")));
    assert_eq!(c.end, Some("2025-06-02T16:00:00Z".parse().expect("ts")));
    assert_eq!(c.legacy_free_busy_status, Some(LegacyFreeBusyStatus::Busy));
    assert_eq!(c.location.as_deref(), Some("Room 1"));
    assert_eq!(c.is_meeting, Some(true));
    assert_eq!(c.reminder_minutes_before_start, Some(15));
    assert_eq!(c.my_response_type, Some(AttendeeResponse::Organizer));
    let organizer = c.organizer.expect("organizer");
    assert_eq!(organizer.smtp_address(), Some(addr("user1@example.com")));
    assert_eq!(organizer.name(), Some("User One"));
    assert_eq!(c.required_attendees.len(), 1);
    assert_eq!(
        c.required_attendees[0].response,
        Some(AttendeeResponse::Accept)
    );
    let legacy = &c.optional_attendees[0].mailbox;
    assert_eq!(legacy.routing_type(), Some("EX"));
    assert_eq!(
        legacy.smtp_address(),
        None,
        "an EX address is not an SMTP address"
    );
}

#[test]
fn get_item_meeting_request_shows_on_behalf_and_a_missing_item() {
    let reply = GetItem::new(item_id())
        .decode(&ok("GetItem/meeting-request-and-not-found-2010.xml"))
        .expect("decodes");
    assert_eq!(reply.body.len(), 2);
    let Some(Item::Message(m)) = reply.body[0].value.clone() else {
        panic!("message expected")
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
    assert_eq!(m.to_recipients.len(), 1);
    assert_eq!(m.is_read, Some(false));
    assert_eq!(m.location.as_deref(), Some(""));
    assert_eq!(reply.body[1].status.code, ResponseCode::ErrorItemNotFound);
    assert!(reply.body[1].value.is_none());
}

#[test]
fn delete_item_results() {
    let op = DeleteItem::new(item_id(), DeleteType::MoveToDeletedItems);
    let reply = op.decode(&ok("DeleteItem/success.xml")).expect("decodes");
    assert_eq!(reply.body.len(), 2);
    assert!(!reply.body[0].is_error());
    assert_eq!(reply.body[1].status.code, ResponseCode::ErrorItemNotFound);
}

#[test]
fn find_item_page_and_next_page() {
    let inbox = FolderId::of(DistinguishedFolder::Inbox, addr("user3@example.com"));
    let op = FindItem::new(inbox).page_size(2);
    let reply = op.decode(&ok("FindItem/inbox-page.xml")).expect("decodes");
    let page = reply.body[0].value.clone().expect("page");
    assert_eq!(page.total_items_in_view, Some(3));
    assert_eq!(page.includes_last_item_in_range, Some(false));
    assert_eq!(page.items.len(), 2);
    let Item::Message(m) = &page.items[0] else {
        panic!("meeting request expected")
    };
    assert_eq!(m.kind, MessageKind::MeetingRequest);
    assert_eq!(
        m.sender.as_ref().and_then(Mailbox::address),
        Some("user2@example.com")
    );
    let next = op.next_page(&page).expect("a next page");
    let body = next
        .encode(&RequestContext::new("https://x.example/EWS/Exchange.asmx").expect("url"))
        .expect("encodes");
    assert!(
        std::str::from_utf8(body.body())
            .expect("utf8")
            .contains(r#"Offset="2""#)
    );
    let mut last = page.clone();
    last.includes_last_item_in_range = Some(true);
    assert!(op.next_page(&last).is_none());
    let mut stuck = page;
    stuck.indexed_paging_offset = Some(0);
    assert!(
        op.next_page(&stuck).is_none(),
        "a server that does not advance must not loop"
    );
}

// ---------------------------------------------------------------- faults and HTTP

#[test]
fn server_busy_fault_with_back_off() {
    let err = add_delegate()
        .decode(&response(500, fixture("faults/server-busy.xml")))
        .expect_err("fault");
    assert_eq!(err.back_off(), Some(Duration::from_millis(297_749)));
    let ServerError::Fault(f) = err else {
        panic!("fault expected")
    };
    assert_eq!(f.code(), ResponseCode::ErrorServerBusy);
    assert_eq!(f.fault_code, "a:ErrorServerBusy");
    assert!(
        f.fault_string
            .starts_with("The server cannot service this request")
    );
}

#[test]
fn schema_validation_fault_with_position() {
    let err = create_item()
        .decode(&response(500, fixture("faults/schema-validation-2010.xml")))
        .expect_err("fault");
    let ServerError::Fault(f) = &err else {
        panic!("fault expected")
    };
    assert_eq!(f.code(), ResponseCode::ErrorSchemaValidation);
    assert_eq!((f.line_number, f.line_position), (Some(2), Some(630)));
    assert!(
        f.violation
            .as_deref()
            .expect("violation")
            .contains("invalid child element 'Subject'")
    );
    assert_eq!(
        f.message.as_deref(),
        Some("The request failed schema validation.")
    );
    assert!(err.to_string().contains("line 2, position 630"), "{err}");
}

#[test]
fn soap12_fault_from_a_compatible_server() {
    let err = add_delegate()
        .decode(&response(
            500,
            fixture("faults/soap12-compatible-server.xml"),
        ))
        .expect_err("fault");
    let ServerError::Fault(f) = err else {
        panic!("fault expected")
    };
    assert_eq!(f.code(), ResponseCode::ErrorMailboxStoreUnavailable);
    assert_eq!(f.fault_string, "Mailbox store unavailable");
}

#[test]
fn http_statuses_are_typed() {
    let op = add_delegate();
    let r = http::Response::builder()
        .status(401)
        .header("www-authenticate", "Negotiate")
        .header("www-authenticate", "Basic realm=\"mail.example.com\"")
        .body(Bytes::from_static(b"401 - Unauthorized"))
        .expect("response");
    match op.decode(&r) {
        Err(ServerError::Unauthorized {
            challenges,
            excerpt,
        }) => {
            assert_eq!(
                challenges,
                ["Negotiate", "Basic realm=\"mail.example.com\""]
            );
            assert_eq!(excerpt.as_str(), "401 - Unauthorized");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        op.decode(&response(403, "EWS is disabled")),
        Err(ServerError::Forbidden { .. })
    ));
    for status in [429, 503] {
        let r = http::Response::builder()
            .status(status)
            .header("retry-after", "7")
            .body(Bytes::new())
            .expect("response");
        match op.decode(&r) {
            Err(e @ ServerError::Throttled { .. }) => {
                assert_eq!(e.back_off(), Some(Duration::from_secs(7)))
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    let r = response(503, "");
    assert!(matches!(
        op.decode(&r),
        Err(ServerError::Throttled {
            retry_after: None,
            ..
        })
    ));
    match op.decode(&response(502, "Bad gateway")) {
        Err(ServerError::Status { status, excerpt }) => {
            assert_eq!(status, 502);
            assert_eq!(excerpt.as_str(), "Bad gateway");
        }
        other => panic!("{other:?}"),
    }
    // A 500 that carries no fault but a valid answer is still an error status.
    assert!(matches!(
        op.decode(&response(500, fixture("AddDelegate/success-2010.xml"))),
        Err(ServerError::Status { .. })
    ));
}

#[test]
fn an_html_page_with_status_200_is_not_xml() {
    let page = "<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>";
    match add_delegate().decode(&response(200, page)) {
        Err(ServerError::Malformed(m)) => {
            assert_eq!(m.kind(), MalformedKind::NotXml);
            assert!(m.detail().contains("Sign in"), "{m}");
            assert!(
                m.detail()
                    .contains("Content-Type \"text/xml; charset=utf-8\""),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    for body in [&b"\xEF\xBB\xBF   plain text"[..], &[0xff, 0xfe, b'<']] {
        match add_delegate().decode(&response(200, body.to_vec())) {
            Err(ServerError::Malformed(m)) => assert_eq!(m.kind(), MalformedKind::NotXml),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn broken_inputs_are_malformed_not_panics() {
    let full = fixture("AddDelegate/success-2010.xml");
    // Every truncation of a valid answer is an error (or, past the last tag, still valid).
    for cut in 0..full.len() {
        let r = response(200, full.slice(..cut));
        match add_delegate().decode(&r) {
            Ok(_) => assert!(
                std::str::from_utf8(&full[cut..])
                    .expect("ascii")
                    .trim()
                    .is_empty(),
                "truncated at {cut} decoded"
            ),
            Err(ServerError::Malformed { .. }) => {}
            Err(other) => panic!("truncated at {cut}: {other:?}"),
        }
    }
    let cases: &[&str] = &[
        "",
        "<",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>",
        "<Envelope><Body/></Envelope>",
        "<x:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
        // the wrong answer element
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:GetDelegateResponse ResponseClass=\"Success\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope>",
        // https namespace is not EWS
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Success\" xmlns:m=\"https://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope>",
        // bad class
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Maybe\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope>",
        // garbage after the envelope
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Success\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"/></s:Body></s:Envelope><oops>",
        // bad boolean
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Success\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages><m:DelegateUserResponseMessageType ResponseClass=\"Success\"><m:DelegateUser><t:UserId/><t:ViewPrivateItems>perhaps</t:ViewPrivateItems></m:DelegateUser></m:DelegateUserResponseMessageType></m:ResponseMessages></m:AddDelegateResponse></s:Body></s:Envelope>",
        // undeclared prefix
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><q:X/></s:Body></s:Envelope>",
    ];
    for case in cases {
        let result = add_delegate().decode(&response(200, *case));
        assert!(
            matches!(result, Err(ServerError::Malformed { .. })),
            "{case}: {result:?}"
        );
    }
}

/// The error types; `tests/hostile_memory.rs` checks the same documents (and a 100 MB text
/// node) under the default limits with a counting allocator, for time and memory.
#[test]
fn hostile_documents_fail_fast_with_typed_errors() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>&lol2;</s:Body></s:Envelope>"#;
    let err = add_delegate()
        .decode(&response(200, laughs))
        .expect_err("doctype");
    assert!(err.to_string().contains("DOCTYPE"), "{err}");

    // Inside the answer, where unknown elements are skipped (a wrong element in the Body
    // would end the read at once, before any depth).
    let deep = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Success\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">{}{}</m:AddDelegateResponse></s:Body></s:Envelope>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let err = add_delegate()
        .decode(&response(200, deep))
        .expect_err("deep");
    assert!(
        matches!(
            err,
            ServerError::LimitExceeded {
                limit: Limit::Depth,
                ..
            }
        ),
        "{err:?}"
    );

    let limits = Limits::default().max_body_bytes(1 << 20);
    let big = vec![b' '; 2 << 20];
    let err = add_delegate()
        .decode_with(&response(200, big), &limits)
        .expect_err("big");
    assert!(
        matches!(
            err,
            ServerError::LimitExceeded {
                limit: Limit::BodySize,
                ..
            }
        ),
        "{err:?}"
    );

    let many = format!(
        "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><m:AddDelegateResponse ResponseClass=\"Success\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><m:ResponseMessages>{}</m:ResponseMessages></m:AddDelegateResponse></s:Body></s:Envelope>",
        "<m:DelegateUserResponseMessageType ResponseClass=\"Success\"/>".repeat(1_000)
    );
    let err = add_delegate()
        .decode_with(&response(200, many), &Limits::default().max_items(100))
        .expect_err("many");
    assert!(
        matches!(
            err,
            ServerError::LimitExceeded {
                limit: Limit::Items,
                max: 100
            }
        ),
        "{err:?}"
    );
}
