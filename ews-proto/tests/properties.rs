//! Property tests: any string in any text field survives encoding exactly as a generic XML
//! parser reads it (or is refused locally when XML cannot carry it), and decoding never
//! panics, whatever the bytes.

use bytes::Bytes;
use ews_proto::*;
use proptest::prelude::*;

const TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

fn ctx() -> RequestContext {
    RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").expect("valid endpoint")
}

fn xml_can_carry(s: &str) -> bool {
    s.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    })
}

/// Text of every `t:{local}` element, in document order.
fn texts(doc: &roxmltree::Document<'_>, local: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| {
            n.is_element()
                && n.tag_name().name() == local
                && n.tag_name().namespace() == Some(TYPES)
        })
        .map(|n| n.children().filter_map(|c| c.text()).collect::<String>())
        .collect()
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[<>&\"'\\r\\n\\t ]{0,8}[a-z]{0,4}[<>&;#x0-9]{0,6}",
        Just("]]>".to_owned()),
        Just("&amp;&lt;&#x26;".to_owned()),
        Just("\r\n\r".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn calendar_item_text_fields_survive_encoding(
        subject in any_text(),
        body in any_text(),
        location in any_text(),
        category in any_text(),
        name in any_text(),
        html in any::<bool>(),
    ) {
        let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
        let item = NewCalendarItem::new(subject.clone(), start, start).expect("start is not after end")
            .body(if html { Body::html(body.clone()) } else { Body::text(body.clone()) })
            .location(location.clone())
            .category(category.clone())
            .required_attendee(Mailbox::new("user3@example.com".parse().expect("addr")).with_name(name.clone()));
        let op = CreateItem::on_behalf_of("user1@example.com".parse().expect("addr"), item);
        let all = [&subject, &body, &location, &category, &name];
        match op.encode(&ctx()) {
            Ok(request) => {
                prop_assert!(all.iter().all(|s| xml_can_carry(s)));
                let xml = std::str::from_utf8(request.body()).expect("UTF-8");
                let doc = roxmltree::Document::parse(xml).expect("well-formed");
                prop_assert_eq!(texts(&doc, "Subject"), vec![subject.clone()]);
                prop_assert_eq!(texts(&doc, "Body"), vec![body.clone()]);
                prop_assert_eq!(texts(&doc, "Location"), vec![location.clone()]);
                prop_assert_eq!(texts(&doc, "String"), vec![category.clone()]);
                prop_assert_eq!(texts(&doc, "Name"), vec![name.clone()]);
                // Nothing the user wrote can add elements: the structure is fixed.
                let elements = doc.descendants().filter(|n| n.is_element()).count();
                prop_assert_eq!(elements, 23);
            }
            Err(UsageError::InvalidCharacter { .. }) => {
                prop_assert!(all.iter().any(|s| !xml_can_carry(s)));
            }
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn attribute_values_and_display_names_survive_encoding(
        id in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}]{1,40}",
        change_key in any_text(),
        display in any_text(),
    ) {
        let item = ItemId::new(id.clone(), Some(change_key.clone())).expect("non-empty");
        let get = GetItem::new(item);
        match get.encode(&ctx()) {
            Ok(request) => {
                prop_assert!(xml_can_carry(&change_key) && xml_can_carry(&id));
                let xml = std::str::from_utf8(request.body()).expect("UTF-8");
                let doc = roxmltree::Document::parse(xml).expect("well-formed");
                let node = doc.descendants().find(|n| n.tag_name().name() == "ItemId").expect("ItemId");
                prop_assert_eq!(node.attribute("Id"), Some(id.as_str()));
                prop_assert_eq!(node.attribute("ChangeKey"), Some(change_key.as_str()));
            }
            Err(UsageError::InvalidCharacter { .. }) => prop_assert!(!xml_can_carry(&change_key) || !xml_can_carry(&id)),
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }

        let user = UserId::smtp("user2@example.com".parse().expect("addr")).with_display_name(display.clone());
        let op = AddDelegate::new("user1@example.com".parse().expect("addr"), DelegateUser::new(user));
        match op.encode(&ctx()) {
            Ok(request) => {
                let xml = std::str::from_utf8(request.body()).expect("UTF-8");
                let doc = roxmltree::Document::parse(xml).expect("well-formed");
                prop_assert_eq!(texts(&doc, "DisplayName"), vec![display.clone()]);
            }
            Err(UsageError::InvalidCharacter { .. }) => prop_assert!(!xml_can_carry(&display)),
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn an_encode_error_leaves_the_callers_buffer_as_it_was(subject in any::<String>()) {
        let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
        let op = CreateItem::on_behalf_of("user1@example.com".parse().expect("addr"), NewCalendarItem::new(subject.clone(), start, start).expect("start is not after end"));
        let mut buf = bytes::BytesMut::from(&b"prefix"[..]);
        let result = op.encode_into(&ctx(), &mut buf);
        prop_assert_eq!(result.is_ok(), xml_can_carry(&subject));
        if result.is_err() {
            prop_assert_eq!(&buf[..], b"prefix");
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        decode_all(status, Bytes::from(body));
    }

    #[test]
    fn decoding_mutated_fixtures_never_panics(which in 0usize..FIXTURES.len(), at in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut body = FIXTURES[which].as_bytes().to_vec();
        let i = at.index(body.len());
        body[i] = byte;
        let j = cut.index(body.len() + 1);
        body.truncate(j.max(i));
        decode_all(200, Bytes::from(body.clone()));
        decode_all(500, Bytes::from(body));
    }
}

const FIXTURES: &[&str] = &[
    include_str!("fixtures/AddDelegate/success-2010.xml"),
    include_str!("fixtures/AddDelegate/success-2013-default-ns-future-element.xml"),
    include_str!("fixtures/AddDelegate/mixed-batch-future-code.xml"),
    include_str!("fixtures/GetDelegate/with-permissions-2013-future-level.xml"),
    include_str!("fixtures/CreateItem/two-items-mixed-2010.xml"),
    include_str!("fixtures/GetItem/calendar-item-2013.xml"),
    include_str!("fixtures/GetItem/meeting-request-and-not-found-2010.xml"),
    include_str!("fixtures/FindItem/inbox-page.xml"),
    include_str!("fixtures/faults/server-busy.xml"),
    include_str!("fixtures/faults/schema-validation-2010.xml"),
];

/// Runs every operation's decoder over `body`; any panic fails the property.
fn decode_all(status: u16, body: Bytes) {
    let response = http::Response::builder()
        .status(status)
        .body(body)
        .expect("valid status");
    let a: EmailAddress = "user1@example.com".parse().expect("addr");
    let u = UserId::smtp(a.clone());
    let id = ItemId::new("x", None).expect("id");
    let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
    let _ = AddDelegate::new(a.clone(), DelegateUser::new(u.clone())).decode(&response);
    let _ = GetDelegate::new(a.clone()).decode(&response);
    let _ = UpdateDelegate::new(a.clone(), DelegateUser::new(u.clone())).decode(&response);
    let _ = RemoveDelegate::new(a.clone(), u).decode(&response);
    let _ = CreateItem::on_behalf_of(
        a.clone(),
        NewCalendarItem::new("s", start, start).expect("start is not after end"),
    )
    .decode(&response);
    let _ = GetItem::new(id.clone()).decode(&response);
    let _ = DeleteItem::new(id, DeleteType::HardDelete).decode(&response);
    let _ = FindItem::new(FolderId::of(DistinguishedFolder::Inbox, a)).decode(&response);
}

/// The element skeleton of a request: every element's namespace and name and its
/// attribute names, in document order. Values are left out.
fn skeleton(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed");
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let attrs: Vec<&str> = n.attributes().map(|a| a.name()).collect();
            format!(
                "{{{}}}{} {attrs:?}",
                n.tag_name().namespace().unwrap_or(""),
                n.tag_name().name()
            )
        })
        .collect()
}

/// Text of the `{ns}local` elements and the `attr` values of `{ns}local` elements.
fn read_back(xml: &str, local: &str, attr: Option<&str>) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed");
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == local)
        .filter_map(|n| match attr {
            Some(a) => n.attribute(a).map(str::to_owned),
            None => Some(n.children().filter_map(|c| c.text()).collect()),
        })
        .collect()
}

fn body_of(request: &http::Request<Bytes>) -> String {
    String::from_utf8(request.body().to_vec()).expect("UTF-8")
}

/// An address with markup characters in both halves (all valid for `EmailAddress`).
fn hostile_address() -> impl Strategy<Value = String> {
    (
        "[<>&\"'a-z;#=/\u{e9}\u{FFFD}]{1,12}",
        "[<>&\"'a-z;#.\u{4f1a}]{1,12}",
    )
        .prop_map(|(l, d)| format!("{l}@{d}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// No value in any string-bearing field (SMTP addresses of principals, delegates,
    /// attendees and folders, display names, principal names and SMTP addresses in
    /// ExchangeImpersonation, SIDs, culture, time-zone ids, folder and item ids and change
    /// keys) changes the element structure a schema-aware reader sees, and each reads
    /// back exactly.
    #[test]
    fn no_string_field_changes_the_request_structure(
        principal in hostile_address(),
        delegate in hostile_address(),
        attendee in hostile_address(),
        upn in "[<>&\"'a-z;#@.]{1,16}",
        display in any_text(),
        tz in "[<>&\"'a-zA-Z ;#().+-]{1,20}",
        folder_id in "[<>&\"'a-zA-Z0-9+/=;#]{1,20}",
        change_key in "[<>&\"'a-zA-Z0-9+/= ;#\t\n\r]{0,20}",
        culture in "[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8}){0,2}",
        sid_parts in proptest::collection::vec(0u32..u32::MAX, 1..6),
        which in 0usize..3,
    ) {
        prop_assume!(xml_can_carry(&display) && !tz.trim().is_empty());
        let sid = format!("S-1-{}", sid_parts.iter().map(u32::to_string).collect::<Vec<_>>().join("-"));
        let benign = ("a@b", "c@d", "e@f", "upn", "x", "Zone", "id", "ck", "en", "S-1-5");
        let hostile = (principal.as_str(), delegate.as_str(), attendee.as_str(), upn.as_str(),
            display.as_str(), tz.as_str(), folder_id.as_str(), change_key.as_str(), culture.as_str(), sid.as_str());

        // Build the same requests from both sets of values.
        let build = |v: (&str, &str, &str, &str, &str, &str, &str, &str, &str, &str)| -> Vec<http::Request<Bytes>> {
            let (p, d, a, u, n, z, f, k, c, s) = v;
            let imp = match which {
                0 => Impersonation::PrincipalName(u.parse().expect("upn")),
                1 => Impersonation::Sid(s.parse().expect("sid")),
                _ => Impersonation::SmtpAddress(a.parse().expect("addr")),
            };
            let ctx = ctx()
                .with_impersonation(imp)
                .with_culture(c.parse().expect("culture"))
                .with_time_zone(TimeZoneId::new(z).expect("tz"));
            let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
            let add = AddDelegate::new(
                p.parse().expect("addr"),
                DelegateUser::new(
                    UserId::smtp(d.parse().expect("addr"))
                        .with_sid(s.parse().expect("sid"))
                        .with_display_name(n),
                ),
            );
            let get = GetDelegate::new(p.parse().expect("addr")).user(UserId::sid(s.parse().expect("sid")));
            let create = CreateItem::new(
                Some(FolderId::new(f, Some(k.to_owned())).expect("non-empty id")),
                NewCalendarItem::new(n, start, start).expect("start is not after end")
                    .required_attendee(Mailbox::new(a.parse().expect("addr")).with_name(n))
                    .time_zone(TimeZoneId::new(z).expect("tz")),
                SendMeetingInvitations::SendToNone,
            );
            let find = FindItem::new(FolderId::of(DistinguishedFolder::Calendar, p.parse().expect("addr")));
            let delete = DeleteItem::new(ItemId::new(f, Some(k.to_owned())).expect("id"), DeleteType::SoftDelete)
                .in_mailbox(a.parse().expect("addr"));
            vec![
                add.encode(&ctx).expect("encodes"),
                get.encode(&ctx).expect("encodes"),
                create.encode(&ctx).expect("encodes"),
                find.encode(&ctx).expect("encodes"),
                delete.encode(&ctx).expect("encodes"),
            ]
        };
        let reference = build(benign);
        let requests = build(hostile);
        for (r, b) in requests.iter().zip(&reference) {
            prop_assert_eq!(skeleton(&body_of(r)), skeleton(&body_of(b)));
        }
        let [add, get, create, find, delete] = &requests[..] else { unreachable!() };
        let (add, get, create, find, delete) = (body_of(add), body_of(get), body_of(create), body_of(find), body_of(delete));
        let imp_value = match which { 0 => upn.clone(), 1 => sid.clone(), _ => attendee.clone() };
        let imp_element = ["PrincipalName", "SID", "SmtpAddress"][which];
        prop_assert_eq!(read_back(&add, imp_element, None).first().cloned(), Some(imp_value));
        prop_assert_eq!(read_back(&add, "MailboxCulture", None), vec![culture.clone()]);
        prop_assert_eq!(read_back(&add, "EmailAddress", None), vec![principal.clone()]);
        prop_assert_eq!(read_back(&add, "PrimarySmtpAddress", None), vec![delegate.clone()]);
        prop_assert_eq!(read_back(&add, "DisplayName", None), vec![display.clone()]);
        prop_assert!(read_back(&add, "SID", None).ends_with(std::slice::from_ref(&sid)));
        prop_assert!(read_back(&get, "SID", None).ends_with(std::slice::from_ref(&sid)));
        prop_assert_eq!(read_back(&create, "TimeZoneDefinition", Some("Id")), vec![tz.clone()]);
        prop_assert_eq!(read_back(&create, "StartTimeZone", Some("Id")), vec![tz.clone()]);
        prop_assert_eq!(read_back(&create, "FolderId", Some("Id")), vec![folder_id.clone()]);
        prop_assert_eq!(read_back(&create, "FolderId", Some("ChangeKey")), vec![change_key.clone()]);
        prop_assert_eq!(read_back(&create, "Subject", None), vec![display.clone()]);
        prop_assert_eq!(read_back(&create, "Name", None), vec![display.clone()]);
        prop_assert_eq!(read_back(&create, "EmailAddress", None), vec![attendee.clone()]);
        prop_assert_eq!(read_back(&find, "EmailAddress", None), vec![principal.clone()]);
        prop_assert_eq!(read_back(&delete, "ItemId", Some("Id")), vec![folder_id.clone()]);
        prop_assert_eq!(read_back(&delete, "ItemId", Some("ChangeKey")), vec![change_key.clone()]);
        prop_assert_eq!(requests[4].headers()["X-AnchorMailbox"].as_bytes(), match which {
            0 => upn.as_bytes(),
            1 => attendee.as_bytes(),
            _ => attendee.as_bytes(),
        });
    }
}
