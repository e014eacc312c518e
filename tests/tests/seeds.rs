//! The seed pages' requests, built through ews-proto's public API, equal Microsoft's
//! examples in `../shared/ews-schema/examples/*.request*.xml`.
//!
//! The comparison is a namespace-aware tree compare: element namespace URI and local
//! name, attributes by namespace and name, text trimmed, element order significant;
//! prefixes, namespace declarations, comments and white space between elements are
//! ignored. A mismatch names the path of every difference.

mod common;

use std::path::PathBuf;

use ews_proto::jiff::Timestamp;
use ews_proto::*;
use roxmltree::{Document, Node};

const ENDPOINT: &str = "https://mail.example.com/EWS/Exchange.asmx";

fn example(name: &str) -> (PathBuf, String) {
    let path = common::schema_dir().join("examples").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, text)
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn ctx(version: ExchangeVersion) -> RequestContext {
    RequestContext::new(ENDPOINT)
        .expect("endpoint")
        .with_version(version)
}

fn body<O: Operation>(op: &O, ctx: &RequestContext) -> String {
    let request = op.encode(ctx).expect("the example's request encodes");
    String::from_utf8(request.body().to_vec()).expect("UTF-8 body")
}

// ------------------------------------------------------------------ tree compare

/// A readable name for a namespace URI in diff paths.
fn prefix(uri: Option<&str>) -> String {
    match uri {
        None => String::new(),
        Some("http://schemas.xmlsoap.org/soap/envelope/") => "soap:".into(),
        Some("http://schemas.microsoft.com/exchange/services/2006/messages") => "m:".into(),
        Some("http://schemas.microsoft.com/exchange/services/2006/types") => "t:".into(),
        Some(other) => format!("{{{other}}}"),
    }
}

fn name_of(n: Node<'_, '_>) -> String {
    format!(
        "{}{}",
        prefix(n.tag_name().namespace()),
        n.tag_name().name()
    )
}

/// The element's own text (its text and CDATA children), trimmed.
fn own_text(n: Node<'_, '_>) -> String {
    n.children()
        .filter(Node::is_text)
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

fn attributes(n: Node<'_, '_>) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = n
        .attributes()
        .map(|a| {
            (
                format!("{}{}", prefix(a.namespace()), a.name()),
                a.value().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

/// Appends to `diffs` every difference between `want` and `got`, each with its path.
fn compare(want: Node<'_, '_>, got: Node<'_, '_>, path: &str, diffs: &mut Vec<String>) {
    let (want_name, got_name) = (want.tag_name(), got.tag_name());
    if want_name.namespace() != got_name.namespace() || want_name.name() != got_name.name() {
        diffs.push(format!(
            "{path}: element differs: expected {} ({:?}), got {} ({:?})",
            want_name.name(),
            want_name.namespace(),
            got_name.name(),
            got_name.namespace()
        ));
        return;
    }
    let (wa, ga) = (attributes(want), attributes(got));
    if wa != ga {
        diffs.push(format!(
            "{path}: attributes differ:\n      expected {wa:?}\n      got      {ga:?}"
        ));
    }
    let (wt, gt) = (own_text(want), own_text(got));
    if wt != gt {
        diffs.push(format!(
            "{path}: text differs:\n      expected {wt:?}\n      got      {gt:?}"
        ));
    }
    let wc: Vec<Node<'_, '_>> = want.children().filter(Node::is_element).collect();
    let gc: Vec<Node<'_, '_>> = got.children().filter(Node::is_element).collect();
    for i in 0..wc.len().max(gc.len()) {
        match (wc.get(i), gc.get(i)) {
            (Some(w), Some(g)) => {
                let step = format!("{path}/{}[{}]", name_of(*w), i + 1);
                compare(*w, *g, &step, diffs);
            }
            (Some(w), None) => diffs.push(format!(
                "{path}: child {} ({}) missing from the request",
                i + 1,
                name_of(*w)
            )),
            (None, Some(g)) => diffs.push(format!(
                "{path}: child {} ({}) not in the example",
                i + 1,
                name_of(*g)
            )),
            (None, None) => {}
        }
    }
}

/// The differences between the example file's tree and the request body's.
fn differences(example: &str, request: &str) -> Vec<String> {
    let want = Document::parse(example).expect("the example is XML");
    let got = Document::parse(request).expect("the request is XML");
    let root = want.root_element();
    let mut diffs = Vec::new();
    compare(
        root,
        got.root_element(),
        &format!("/{}", name_of(root)),
        &mut diffs,
    );
    diffs
}

/// Asserts the request equals the example, printing every difference by path.
fn assert_same_tree(file: &str, request: &str) {
    let (path, expected) = example(file);
    let diffs = differences(&expected, request);
    assert!(
        diffs.is_empty(),
        "the request built through the public API differs from {}:\n  {}\n\nrequest:\n{request}",
        path.display(),
        diffs.join("\n  ")
    );
}

#[test]
fn the_compare_sees_what_it_must_and_ignores_what_it_may() {
    // Same tree: other prefixes, a default namespace, white space, a comment, CDATA.
    let a = r#"<?xml version="1.0"?><!-- c --><s:E xmlns:s="urn:a" xmlns:t="urn:b"><t:X k="1"> v </t:X><t:Y/></s:E>"#;
    let b = "<E xmlns=\"urn:a\">\n  <X xmlns=\"urn:b\" k=\"1\"><![CDATA[v]]></X>\n  <Y xmlns=\"urn:b\"></Y>\n</E>";
    assert_eq!(differences(a, b), Vec::<String>::new());
    // Each kind of difference is seen, with its path.
    for (other, needle) in [
        (
            a.replace("urn:b", "urn:c"),
            "/{urn:a}E/{urn:b}X[1]: element differs",
        ),
        (a.replace(r#"k="1""#, r#"k="2""#), "attributes differ"),
        (a.replace(r#" k="1""#, ""), "attributes differ"),
        (a.replace(" v ", "w"), "text differs"),
        (a.replace("<t:Y/>", ""), "child 2 ({urn:b}Y) missing"),
        (
            a.replace("<t:Y/>", "<t:Y/><t:Z/>"),
            "child 3 ({urn:b}Z) not in",
        ),
        (
            a.replace(
                r#"<t:X k="1"> v </t:X><t:Y/>"#,
                r#"<t:Y/><t:X k="1"> v </t:X>"#,
            ),
            "element differs",
        ),
    ] {
        let diffs = differences(a, &other);
        assert!(
            diffs.iter().any(|d| d.contains(needle)),
            "{other}: {diffs:?} lacks {needle:?}"
        );
    }
}

// ------------------------------------------------------------------ the examples

#[test]
fn add_delegate_example() {
    // "AddDelegate: user2 adds user1 as delegate (Calendar=Author, Contacts=Reviewer)."
    let op = AddDelegate::new(
        addr("user2@example.com"),
        DelegateUser::new(UserId::smtp(addr("user1@example.com")))
            .permissions(
                DelegatePermissions::new()
                    .calendar(Permission::Author)
                    .contacts(Permission::Reviewer),
            )
            .receive_copies_of_meeting_messages(false)
            .view_private_items(false),
    )
    .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    assert_same_tree(
        "AddDelegate.request.xml",
        &body(&op, &ctx(ExchangeVersion::Exchange2007_SP1)),
    );
}

#[test]
fn update_delegate_example() {
    // user2: Tasks=None and may view private items; user3: Journal=Reviewer.
    let op = UpdateDelegate::new(
        addr("user1@example.com"),
        DelegateUser::new(UserId::smtp(addr("user2@example.com")))
            .permissions(DelegatePermissions::new().tasks(Permission::None))
            .view_private_items(true),
    )
    .delegate(
        DelegateUser::new(UserId::smtp(addr("user3@example.com")))
            .permissions(DelegatePermissions::new().journal(Permission::Reviewer)),
    )
    .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndSendInformationToMe);
    assert_same_tree(
        "UpdateDelegate.request.xml",
        &body(&op, &ctx(ExchangeVersion::Exchange2007_SP1)),
    );
}

#[test]
fn create_item_example() {
    // A delegate (user2) creates a meeting in user1's calendar, sent on user1's behalf.
    let meeting = NewCalendarItem::new(
        "Delegate appointment",
        ts("2025-06-02T15:00:00Z"),
        ts("2025-06-02T16:00:00Z"),
    )
    .expect("start is not after end")
    .body(Body::text("This is the text of the delegate appointment."))
    .free_busy(LegacyFreeBusyStatus::Busy)
    .required_attendee(Mailbox::new(addr("user3@example.com")));
    let op = CreateItem::on_behalf_of(addr("user1@example.com"), meeting);
    assert_same_tree(
        "CreateItem.request.xml",
        &body(&op, &ctx(ExchangeVersion::Exchange2007_SP1)),
    );
}

#[test]
fn create_item_with_all_headers_example() {
    // Every header services.wsdl binds to CreateItem, in WSDL part order; the meeting
    // saved in the impersonated user's own calendar.
    let context = ctx(ExchangeVersion::Exchange2013_SP1)
        .with_impersonation(Impersonation::PrimarySmtpAddress(addr("user1@example.com")))
        .with_culture("en-US".parse().expect("culture"))
        .with_time_zone(TimeZoneId::new("W. Europe Standard Time").expect("time zone"));
    // Start/End on the wall clock, read by the server in the TimeZoneContext zone.
    let meeting = NewCalendarItem::wall_clock(
        "Planning",
        "2025-06-02T10:00:00".parse().expect("civil"),
        "2025-06-02T11:00:00".parse().expect("civil"),
    )
    .expect("start is not after end")
    .body(Body::html("<p>Agenda to follow.</p>"))
    .category("Work")
    .importance(Importance::High)
    .reminder(15)
    .all_day(false)
    .free_busy(LegacyFreeBusyStatus::Busy)
    .location("Room 1")
    .required_attendee(Mailbox::new(addr("user3@example.com")).with_name("User Three"))
    .optional_attendee(Mailbox::new(addr("user4@example.com")));
    let op = CreateItem::new(
        Some(FolderId::own(DistinguishedFolder::Calendar)),
        meeting,
        SendMeetingInvitations::SendToAllAndSaveCopy,
    )
    .disposition(MessageDisposition::SendAndSaveCopy);
    assert_same_tree("CreateItem.request-all-headers.xml", &body(&op, &context));
}

#[test]
fn every_example_request_has_a_test() {
    // A new example in the shared folder must get its own test above.
    let covered = [
        "AddDelegate.request.xml",
        "CreateItem.request-all-headers.xml",
        "CreateItem.request.xml",
        "UpdateDelegate.request.xml",
    ];
    let mut found: Vec<String> = std::fs::read_dir(common::schema_dir().join("examples"))
        .expect("examples folder")
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.contains(".request") && n.ends_with(".xml"))
        .collect();
    found.sort();
    assert_eq!(found, covered);
}
