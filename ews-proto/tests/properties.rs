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
        let item = NewCalendarItem::new(subject.clone(), start, start)
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
        let op = CreateItem::on_behalf_of("user1@example.com".parse().expect("addr"), NewCalendarItem::new(subject.clone(), start, start));
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
    let _ = CreateItem::on_behalf_of(a.clone(), NewCalendarItem::new("s", start, start))
        .decode(&response);
    let _ = GetItem::new(id.clone()).decode(&response);
    let _ = DeleteItem::new(id, DeleteType::HardDelete).decode(&response);
    let _ = FindItem::new(FolderId::of(DistinguishedFolder::Inbox, a)).decode(&response);
}
