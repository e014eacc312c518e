//! The wire name of every enumeration value the library writes or reads, written here by
//! hand from Microsoft's schema (`types.xsd`, `messages.xsd`), never taken from the code
//! under test.
//!
//! Each table pairs a Rust value with the text the schema gives it. The write side
//! encodes a request through the public API and finds that exact text at its place in the
//! output (element text or attribute, matched by namespace and local name); the read side
//! decodes answers written here and expects the value back. Every text is also checked
//! against the enumeration of its simple type, read from `../shared/ews-schema` at test
//! time, so a table cannot drift from the schema either. Swapping two wire strings in the
//! library (and re-blessing the golden files) fails these tests.

use std::collections::BTreeSet;
use std::path::PathBuf;

use bytes::Bytes;
use ews_proto::jiff::Timestamp;
use ews_proto::*;

const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

// ------------------------------------------------------------------ helpers

/// `../shared/ews-schema`, beside the workspace root (the parent of this crate).
fn schema_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ews-proto lives inside the workspace")
        .to_path_buf();
    let dir = root.join("../shared/ews-schema");
    assert!(
        dir.join("types.xsd").is_file(),
        "Microsoft's schema is missing: expected {}/types.xsd (`../shared` beside the \
         workspace root)",
        dir.display()
    );
    dir
}

/// Every `xs:enumeration` value of the simple type `name` in `file` (a union's members
/// included).
fn schema_values(file: &str, name: &str) -> BTreeSet<String> {
    let path = schema_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).expect("the schema is XML");
    let simple = doc
        .descendants()
        .find(|n| n.has_tag_name("simpleType") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no simpleType {name} in {file}"));
    let values: BTreeSet<String> = simple
        .descendants()
        .filter(|n| n.has_tag_name("enumeration"))
        .filter_map(|n| n.attribute("value"))
        .map(str::to_owned)
        .collect();
    assert!(!values.is_empty(), "{name} in {file} has no enumeration");
    values
}

/// The element names of the sequence of complex type `name` in types.xsd, in order.
fn schema_sequence(name: &str) -> Vec<String> {
    let path = schema_dir().join("types.xsd");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).expect("the schema is XML");
    let complex = doc
        .descendants()
        .find(|n| n.has_tag_name("complexType") && n.attribute("name") == Some(name))
        .unwrap_or_else(|| panic!("no complexType {name}"));
    complex
        .descendants()
        .filter(|n| n.has_tag_name("element"))
        .filter_map(|n| n.attribute("name"))
        .map(str::to_owned)
        .collect()
}

/// Asserts every text in `wire` is a value of the schema's simple type.
fn assert_legal(file: &str, simple_type: &str, wire: &[&str]) {
    let legal = schema_values(file, simple_type);
    for w in wire {
        assert!(
            legal.contains(*w),
            "{w:?} is not a value of {simple_type} ({file}); the schema has {legal:?}"
        );
    }
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn ctx(version: ExchangeVersion) -> RequestContext {
    RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")
        .expect("endpoint")
        .with_version(version)
}

fn encode<O: Operation>(op: &O, version: ExchangeVersion) -> String {
    let request = op.encode(&ctx(version)).expect("request encodes");
    String::from_utf8(request.body().to_vec()).expect("UTF-8")
}

/// The texts of every `{ns}local` element of `xml`, in document order.
fn texts(xml: &str, ns: &str, local: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("request is XML");
    doc.descendants()
        .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local)
        .map(|n| n.text().unwrap_or("").to_owned())
        .collect()
}

/// The value of attribute `attr` on every `{ns}local` element of `xml`.
fn attrs(xml: &str, ns: &str, local: &str, attr: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("request is XML");
    doc.descendants()
        .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local)
        .filter_map(|n| n.attribute(attr).map(str::to_owned))
        .collect()
}

/// An HTTP 200 answer holding `body` inside a SOAP envelope (and `header`).
fn answer(header: &str, body: &str) -> http::Response<Bytes> {
    let xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="{M}" xmlns:t="{T}"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    );
    http::Response::builder()
        .status(200)
        .header("content-type", "text/xml; charset=utf-8")
        .body(Bytes::from(xml))
        .expect("response")
}

fn principal() -> EmailAddress {
    addr("user1@example.com")
}

fn delegate_user() -> DelegateUser {
    DelegateUser::new(UserId::smtp(addr("user2@example.com")))
}

/// A GetItem answer with one message per `(class, code, items)`.
fn get_item_answer(messages: &[(&str, &str, &str)]) -> http::Response<Bytes> {
    let inner: String = messages
        .iter()
        .map(|(class, code, items)| {
            format!(
                r#"<m:GetItemResponseMessage ResponseClass="{class}"><m:ResponseCode>{code}</m:ResponseCode><m:Items>{items}</m:Items></m:GetItemResponseMessage>"#
            )
        })
        .collect();
    answer(
        "",
        &format!(
            "<m:GetItemResponse><m:ResponseMessages>{inner}</m:ResponseMessages></m:GetItemResponse>"
        ),
    )
}

fn get_item() -> GetItem {
    GetItem::new(ItemId::new("AAMkAD1=", None).expect("id"))
}

/// The calendar items of a decoded GetItem answer, one per message.
fn calendar_items(response: &http::Response<Bytes>) -> Vec<CalendarItem> {
    let reply = get_item().decode(response).expect("decodes");
    reply
        .body
        .iter()
        .map(|m| match &m.value {
            Some(Item::Calendar(c)) => (**c).clone(),
            other => panic!("not a calendar item: {other:?}"),
        })
        .collect()
}

/// A GetDelegate answer with one delegate message per `delegate_user` XML, and `tail`
/// after the messages.
fn get_delegate_answer(delegate_users: &[String], tail: &str) -> http::Response<Bytes> {
    let inner: String = delegate_users
        .iter()
        .map(|d| {
            format!(
                r#"<m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:DelegateUser>{d}</m:DelegateUser></m:DelegateUserResponseMessageType>"#
            )
        })
        .collect();
    answer(
        "",
        &format!(
            r#"<m:GetDelegateResponse ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:ResponseMessages>{inner}</m:ResponseMessages>{tail}</m:GetDelegateResponse>"#
        ),
    )
}

fn delegates_of(response: &http::Response<Bytes>) -> Vec<Delegate> {
    let reply = GetDelegate::new(principal())
        .decode(response)
        .expect("decodes");
    reply
        .body
        .iter()
        .map(|m| m.value.clone().expect("a delegate"))
        .collect()
}

// ------------------------------------------------------------------ delegates

/// `DelegateFolderPermissionLevelType`: the levels a client sets.
const PERMISSIONS: [(Permission, &str); 4] = [
    (Permission::None, "None"),
    (Permission::Reviewer, "Reviewer"),
    (Permission::Author, "Author"),
    (Permission::Editor, "Editor"),
];

/// `DelegatePermissionsType`'s elements, in schema order.
const FOLDERS: [(DelegateFolder, &str); 6] = [
    (DelegateFolder::Calendar, "CalendarFolderPermissionLevel"),
    (DelegateFolder::Tasks, "TasksFolderPermissionLevel"),
    (DelegateFolder::Inbox, "InboxFolderPermissionLevel"),
    (DelegateFolder::Contacts, "ContactsFolderPermissionLevel"),
    (DelegateFolder::Notes, "NotesFolderPermissionLevel"),
    (DelegateFolder::Journal, "JournalFolderPermissionLevel"),
];

#[test]
fn permission_levels() {
    // Write: each level on the Calendar folder of an AddDelegate.
    for (level, wire) in PERMISSIONS {
        let op = AddDelegate::new(
            principal(),
            delegate_user().permissions(DelegatePermissions::new().calendar(level)),
        );
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(
            texts(&xml, T, "CalendarFolderPermissionLevel"),
            [wire],
            "{level:?}: {xml}"
        );
    }
    // Read: the four settable levels and the read-only Custom.
    let read = [
        ("None", PermissionLevel::Set(Permission::None)),
        ("Reviewer", PermissionLevel::Set(Permission::Reviewer)),
        ("Author", PermissionLevel::Set(Permission::Author)),
        ("Editor", PermissionLevel::Set(Permission::Editor)),
        ("Custom", PermissionLevel::Custom),
    ];
    let users: Vec<String> = read
        .iter()
        .map(|(wire, _)| {
            format!(
                "<t:UserId><t:PrimarySmtpAddress>user2@example.com</t:PrimarySmtpAddress></t:UserId><t:DelegatePermissions><t:CalendarFolderPermissionLevel>{wire}</t:CalendarFolderPermissionLevel></t:DelegatePermissions>"
            )
        })
        .collect();
    let delegates = delegates_of(&get_delegate_answer(&users, ""));
    assert_eq!(delegates.len(), read.len());
    for (d, (wire, want)) in delegates.iter().zip(&read) {
        let got = d
            .permissions
            .as_ref()
            .expect("permissions")
            .level(DelegateFolder::Calendar);
        assert_eq!(got, Some(want), "{wire}");
        assert_eq!(want.to_string(), *wire);
    }
    // The schema: these five, no more, no fewer.
    let ours: BTreeSet<String> = read.iter().map(|(w, _)| (*w).to_owned()).collect();
    assert_eq!(
        schema_values("types.xsd", "DelegateFolderPermissionLevelType"),
        ours
    );
}

#[test]
fn folders_of_delegate_permissions() {
    // The schema's element names, in its order, are ours.
    let names: Vec<&str> = FOLDERS.iter().map(|(_, n)| *n).collect();
    assert_eq!(schema_sequence("DelegatePermissionsType"), names);
    assert_eq!(
        DelegateFolder::ALL.to_vec(),
        FOLDERS.iter().map(|(f, _)| *f).collect::<Vec<_>>()
    );
    // Write: each folder alone carries its level under its own element name.
    for (folder, element) in FOLDERS {
        let op = AddDelegate::new(
            principal(),
            delegate_user().permissions(DelegatePermissions::new().set(folder, Permission::Author)),
        );
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        for (_, other) in FOLDERS {
            let want: &[&str] = if other == element { &["Author"] } else { &[] };
            assert_eq!(texts(&xml, T, other), want, "{folder:?}: {xml}");
        }
    }
    // Read: six folders at six tellable levels (Custom on one).
    let levels = ["Editor", "Author", "None", "Reviewer", "Custom", "Author"];
    let inner: String = FOLDERS
        .iter()
        .zip(levels)
        .map(|((_, element), level)| format!("<t:{element}>{level}</t:{element}>"))
        .collect();
    let user = format!(
        "<t:UserId><t:PrimarySmtpAddress>user2@example.com</t:PrimarySmtpAddress></t:UserId><t:DelegatePermissions>{inner}</t:DelegatePermissions>"
    );
    let delegates = delegates_of(&get_delegate_answer(&[user], ""));
    let p = delegates[0].permissions.clone().expect("permissions");
    for ((folder, element), level) in FOLDERS.iter().zip(levels) {
        assert_eq!(
            p.level(*folder).map(ToString::to_string).as_deref(),
            Some(level),
            "{element}"
        );
    }
}

fn deliver_values() -> [(DeliverMeetingRequests, &'static str); 4] {
    [
        (DeliverMeetingRequests::DelegatesOnly, "DelegatesOnly"),
        (DeliverMeetingRequests::DelegatesAndMe, "DelegatesAndMe"),
        (
            DeliverMeetingRequests::DelegatesAndSendInformationToMe,
            "DelegatesAndSendInformationToMe",
        ),
        (DeliverMeetingRequests::NoForward, "NoForward"),
    ]
}

#[test]
fn deliver_meeting_requests() {
    for (value, wire) in deliver_values() {
        // Write, in both operations that carry it (NoForward needs Exchange2010_SP1).
        let add =
            AddDelegate::new(principal(), delegate_user()).deliver_meeting_requests(value.clone());
        let update = UpdateDelegate::deliver_only(principal(), value.clone());
        for xml in [
            encode(&add, ExchangeVersion::Exchange2010_SP1),
            encode(&update, ExchangeVersion::Exchange2013_SP1),
        ] {
            assert_eq!(
                texts(&xml, M, "DeliverMeetingRequests"),
                [wire],
                "{value:?}: {xml}"
            );
        }
        assert_eq!(value.as_str(), wire);
        // Read, from a GetDelegate answer.
        let response = get_delegate_answer(
            &[],
            &format!("<m:DeliverMeetingRequests>{wire}</m:DeliverMeetingRequests>"),
        );
        let reply = GetDelegate::new(principal())
            .decode(&response)
            .expect("decodes");
        assert_eq!(reply.body.deliver_meeting_requests, Some(value), "{wire}");
    }
    let ours: BTreeSet<String> = deliver_values()
        .iter()
        .map(|(_, w)| (*w).to_owned())
        .collect();
    assert_eq!(
        schema_values("types.xsd", "DeliverMeetingRequestsType"),
        ours
    );
}

#[test]
fn distinguished_users() {
    let table = [
        (DistinguishedUser::Default, "Default"),
        (DistinguishedUser::Anonymous, "Anonymous"),
    ];
    for (user, wire) in table {
        let op = RemoveDelegate::new(principal(), UserId::distinguished(user));
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(
            texts(&xml, T, "DistinguishedUser"),
            [wire],
            "{user:?}: {xml}"
        );
        let response = get_delegate_answer(
            &[format!(
                "<t:UserId><t:DistinguishedUser>{wire}</t:DistinguishedUser></t:UserId>"
            )],
            "",
        );
        let delegates = delegates_of(&response);
        assert_eq!(delegates[0].user_id.distinguished_user(), Some(wire));
    }
    let ours: BTreeSet<String> = table.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "DistinguishedUserType"), ours);
}

// ------------------------------------------------------------------ calendar items

fn meeting() -> NewCalendarItem {
    NewCalendarItem::new(
        "Wire names",
        ts("2025-06-02T15:00:00Z"),
        ts("2025-06-02T16:00:00Z"),
    )
    .expect("start is not after end")
}

fn create(item: NewCalendarItem) -> String {
    encode(
        &CreateItem::on_behalf_of(principal(), item),
        ExchangeVersion::Exchange2013_SP1,
    )
}

/// A calendar item element holding `fields`.
fn calendar(fields: &str) -> String {
    format!(r#"<t:CalendarItem><t:ItemId Id="AAMkAD1=" ChangeKey="CK"/>{fields}</t:CalendarItem>"#)
}

/// Decodes one calendar item per `fields` from a GetItem answer.
fn read_items(fields: &[String]) -> Vec<CalendarItem> {
    let messages: Vec<String> = fields.iter().map(|f| calendar(f)).collect();
    let triples: Vec<(&str, &str, &str)> = messages
        .iter()
        .map(|m| ("Success", "NoError", m.as_str()))
        .collect();
    let items = calendar_items(&get_item_answer(&triples));
    assert_eq!(items.len(), fields.len());
    items
}

#[test]
fn sensitivity() {
    let table = [
        (Sensitivity::Normal, "Normal"),
        (Sensitivity::Personal, "Personal"),
        (Sensitivity::Private, "Private"),
        (Sensitivity::Confidential, "Confidential"),
    ];
    for (value, wire) in &table {
        let xml = create(meeting().sensitivity(value.clone()));
        assert_eq!(texts(&xml, T, "Sensitivity"), [*wire], "{value:?}");
    }
    let fields: Vec<String> = table
        .iter()
        .map(|(_, w)| format!("<t:Sensitivity>{w}</t:Sensitivity>"))
        .collect();
    for (item, (value, wire)) in read_items(&fields).iter().zip(&table) {
        assert_eq!(item.sensitivity.as_ref(), Some(value), "{wire}");
    }
    let wires: Vec<&str> = table.iter().map(|(_, w)| *w).collect();
    assert_legal("types.xsd", "SensitivityChoicesType", &wires);
}

#[test]
fn importance() {
    let table = [
        (Importance::Low, "Low"),
        (Importance::Normal, "Normal"),
        (Importance::High, "High"),
    ];
    for (value, wire) in &table {
        let xml = create(meeting().importance(value.clone()));
        assert_eq!(texts(&xml, T, "Importance"), [*wire], "{value:?}");
    }
    let fields: Vec<String> = table
        .iter()
        .map(|(_, w)| format!("<t:Importance>{w}</t:Importance>"))
        .collect();
    for (item, (value, wire)) in read_items(&fields).iter().zip(&table) {
        assert_eq!(item.importance.as_ref(), Some(value), "{wire}");
    }
    let wires: Vec<&str> = table.iter().map(|(_, w)| *w).collect();
    assert_legal("types.xsd", "ImportanceChoicesType", &wires);
}

#[test]
fn legacy_free_busy_status() {
    let table = [
        (LegacyFreeBusyStatus::Free, "Free"),
        (LegacyFreeBusyStatus::Tentative, "Tentative"),
        (LegacyFreeBusyStatus::Busy, "Busy"),
        (LegacyFreeBusyStatus::Oof, "OOF"),
        (LegacyFreeBusyStatus::WorkingElsewhere, "WorkingElsewhere"),
        (LegacyFreeBusyStatus::NoData, "NoData"),
    ];
    for (value, wire) in &table {
        let xml = create(meeting().free_busy(value.clone()));
        assert_eq!(texts(&xml, T, "LegacyFreeBusyStatus"), [*wire], "{value:?}");
    }
    let fields: Vec<String> = table
        .iter()
        .map(|(_, w)| format!("<t:LegacyFreeBusyStatus>{w}</t:LegacyFreeBusyStatus>"))
        .collect();
    for (item, (value, wire)) in read_items(&fields).iter().zip(&table) {
        assert_eq!(item.legacy_free_busy_status.as_ref(), Some(value), "{wire}");
    }
    let ours: BTreeSet<String> = table.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "LegacyFreeBusyType"), ours);
}

#[test]
fn body_type() {
    let table = [
        (Body::text("plain"), BodyKind::Text, "Text"),
        (Body::html("<p>rich</p>"), BodyKind::Html, "HTML"),
    ];
    for (body, kind, wire) in &table {
        let xml = create(meeting().body(body.clone()));
        assert_eq!(attrs(&xml, T, "Body", "BodyType"), [*wire], "{kind:?}");
    }
    let fields: Vec<String> = table
        .iter()
        .map(|(_, _, w)| format!(r#"<t:Body BodyType="{w}">x</t:Body>"#))
        .collect();
    for (item, (_, kind, wire)) in read_items(&fields).iter().zip(&table) {
        assert_eq!(item.body.as_ref().map(|b| b.kind), Some(*kind), "{wire}");
    }
    let ours: BTreeSet<String> = table.iter().map(|(_, _, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "BodyTypeType"), ours);
}

#[test]
fn attendee_response_type() {
    let table = [
        (AttendeeResponse::Unknown, "Unknown"),
        (AttendeeResponse::Organizer, "Organizer"),
        (AttendeeResponse::Tentative, "Tentative"),
        (AttendeeResponse::Accept, "Accept"),
        (AttendeeResponse::Decline, "Decline"),
        (AttendeeResponse::NoResponseReceived, "NoResponseReceived"),
    ];
    let fields: Vec<String> = table
        .iter()
        .map(|(_, w)| {
            format!(
                "<t:MyResponseType>{w}</t:MyResponseType><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user3@example.com</t:EmailAddress></t:Mailbox><t:ResponseType>{w}</t:ResponseType></t:Attendee></t:RequiredAttendees>"
            )
        })
        .collect();
    for (item, (value, wire)) in read_items(&fields).iter().zip(&table) {
        assert_eq!(item.my_response_type.as_ref(), Some(value), "{wire}");
        assert_eq!(
            item.required_attendees[0].response.as_ref(),
            Some(value),
            "{wire}"
        );
        assert_eq!(value.as_str(), *wire);
    }
    let ours: BTreeSet<String> = table.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "ResponseTypeType"), ours);
}

#[test]
fn message_disposition_and_send_meeting_invitations() {
    let dispositions = [
        (MessageDisposition::SaveOnly, "SaveOnly"),
        (MessageDisposition::SendOnly, "SendOnly"),
        (MessageDisposition::SendAndSaveCopy, "SendAndSaveCopy"),
    ];
    for (value, wire) in dispositions {
        let op = CreateItem::on_behalf_of(principal(), meeting()).disposition(value);
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(
            attrs(&xml, M, "CreateItem", "MessageDisposition"),
            [wire],
            "{value:?}"
        );
    }
    let invitations = [
        (SendMeetingInvitations::SendToNone, "SendToNone"),
        (SendMeetingInvitations::SendOnlyToAll, "SendOnlyToAll"),
        (
            SendMeetingInvitations::SendToAllAndSaveCopy,
            "SendToAllAndSaveCopy",
        ),
    ];
    for (value, wire) in invitations {
        let op = CreateItem::new(None, meeting(), value);
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(
            attrs(&xml, M, "CreateItem", "SendMeetingInvitations"),
            [wire],
            "{value:?}"
        );
    }
    let ours: BTreeSet<String> = dispositions.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "MessageDispositionType"), ours);
    let ours: BTreeSet<String> = invitations.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(
        schema_values("types.xsd", "CalendarItemCreateOrDeleteOperationType"),
        ours
    );
}

// ------------------------------------------------------------------ item operations

fn item_id() -> ItemId {
    ItemId::new("AAMkAD1=", None).expect("id")
}

#[test]
fn delete_type_cancellations_and_task_occurrences() {
    let types = [
        (DeleteType::HardDelete, "HardDelete"),
        (DeleteType::SoftDelete, "SoftDelete"),
        (DeleteType::MoveToDeletedItems, "MoveToDeletedItems"),
    ];
    for (value, wire) in types {
        let xml = encode(
            &DeleteItem::new(item_id(), value),
            ExchangeVersion::Exchange2013_SP1,
        );
        assert_eq!(
            attrs(&xml, M, "DeleteItem", "DeleteType"),
            [wire],
            "{value:?}"
        );
    }
    let cancellations = [
        (SendMeetingCancellations::SendToNone, "SendToNone"),
        (SendMeetingCancellations::SendOnlyToAll, "SendOnlyToAll"),
        (
            SendMeetingCancellations::SendToAllAndSaveCopy,
            "SendToAllAndSaveCopy",
        ),
    ];
    for (value, wire) in cancellations {
        let op = DeleteItem::new(item_id(), DeleteType::MoveToDeletedItems).cancellations(value);
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(
            attrs(&xml, M, "DeleteItem", "SendMeetingCancellations"),
            [wire],
            "{value:?}"
        );
    }
    let occurrences = [
        (AffectedTaskOccurrences::AllOccurrences, "AllOccurrences"),
        (
            AffectedTaskOccurrences::SpecifiedOccurrenceOnly,
            "SpecifiedOccurrenceOnly",
        ),
    ];
    for (value, wire) in occurrences {
        let op = DeleteItem::new(item_id(), DeleteType::HardDelete).task_occurrences(value);
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(
            attrs(&xml, M, "DeleteItem", "AffectedTaskOccurrences"),
            [wire],
            "{value:?}"
        );
    }
    let ours: BTreeSet<String> = types.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "DisposalType"), ours);
    let ours: BTreeSet<String> = cancellations.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(
        schema_values("types.xsd", "CalendarItemCreateOrDeleteOperationType"),
        ours
    );
    let ours: BTreeSet<String> = occurrences.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(
        schema_values("types.xsd", "AffectedTaskOccurrencesType"),
        ours
    );
}

#[test]
fn base_shapes() {
    let table = [
        (BaseShape::IdOnly, "IdOnly"),
        (BaseShape::Default, "Default"),
        (BaseShape::AllProperties, "AllProperties"),
    ];
    for (value, wire) in table {
        for xml in [
            encode(&get_item().shape(value), ExchangeVersion::Exchange2013_SP1),
            encode(
                &FindItem::new(FolderId::own(DistinguishedFolder::Calendar)).shape(value),
                ExchangeVersion::Exchange2013_SP1,
            ),
        ] {
            assert_eq!(texts(&xml, T, "BaseShape"), [wire], "{value:?}: {xml}");
        }
    }
    let wires: Vec<&str> = table.iter().map(|(_, w)| *w).collect();
    assert_legal("types.xsd", "DefaultShapeNamesType", &wires);
}

#[test]
fn distinguished_folder_names() {
    let table = [
        (DistinguishedFolder::Calendar, "calendar"),
        (DistinguishedFolder::Contacts, "contacts"),
        (DistinguishedFolder::DeletedItems, "deleteditems"),
        (DistinguishedFolder::Drafts, "drafts"),
        (DistinguishedFolder::Inbox, "inbox"),
        (DistinguishedFolder::Journal, "journal"),
        (DistinguishedFolder::Notes, "notes"),
        (DistinguishedFolder::Outbox, "outbox"),
        (DistinguishedFolder::SentItems, "sentitems"),
        (DistinguishedFolder::Tasks, "tasks"),
        (DistinguishedFolder::MsgFolderRoot, "msgfolderroot"),
        (DistinguishedFolder::Root, "root"),
        (DistinguishedFolder::JunkEmail, "junkemail"),
    ];
    for (folder, wire) in table {
        for id in [FolderId::own(folder), FolderId::of(folder, principal())] {
            let xml = encode(&FindItem::new(id), ExchangeVersion::Exchange2013_SP1);
            assert_eq!(
                attrs(&xml, T, "DistinguishedFolderId", "Id"),
                [wire],
                "{folder:?}: {xml}"
            );
        }
        // CreateItem's saved-item folder is the same type.
        let op = CreateItem::new(
            Some(FolderId::own(folder)),
            meeting(),
            SendMeetingInvitations::SendToNone,
        );
        let xml = encode(&op, ExchangeVersion::Exchange2013_SP1);
        assert_eq!(attrs(&xml, T, "DistinguishedFolderId", "Id"), [wire]);
    }
    let wires: Vec<&str> = table.iter().map(|(_, w)| *w).collect();
    assert_legal("types.xsd", "DistinguishedFolderIdNameType", &wires);
}

// ------------------------------------------------------------------ envelope

#[test]
fn exchange_versions() {
    use ExchangeVersion::*;
    let table = [
        (Exchange2007, "Exchange2007"),
        (Exchange2007_SP1, "Exchange2007_SP1"),
        (Exchange2009, "Exchange2009"),
        (Exchange2010, "Exchange2010"),
        (Exchange2010_SP1, "Exchange2010_SP1"),
        (Exchange2010_SP2, "Exchange2010_SP2"),
        (Exchange2012, "Exchange2012"),
        (Exchange2013, "Exchange2013"),
        (Exchange2013_SP1, "Exchange2013_SP1"),
        (Exchange2015, "Exchange2015"),
        (Exchange2016, "Exchange2016"),
        (V2015_10_05, "V2015_10_05"),
        (V2016_01_06, "V2016_01_06"),
        (V2016_04_13, "V2016_04_13"),
        (V2016_07_13, "V2016_07_13"),
        (V2016_10_10, "V2016_10_10"),
        (V2017_01_07, "V2017_01_07"),
        (V2017_04_14, "V2017_04_14"),
        (V2017_07_11, "V2017_07_11"),
    ];
    assert_eq!(
        ExchangeVersion::ALL,
        table.iter().map(|(v, _)| *v).collect::<Vec<_>>()
    );
    for (version, wire) in table {
        // Write: RequestServerVersion/@Version.
        let xml = encode(&GetDelegate::new(principal()), version);
        assert_eq!(
            attrs(&xml, T, "RequestServerVersion", "Version"),
            [wire],
            "{version:?}"
        );
        // Read: ServerVersionInfo/@Version.
        let response = answer(
            &format!(
                r#"<t:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="{wire}"/>"#
            ),
            r#"<m:GetDelegateResponse ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse>"#,
        );
        let reply = GetDelegate::new(principal())
            .decode(&response)
            .expect("decodes");
        let info = reply.server_version.expect("ServerVersionInfo");
        assert_eq!(info.request_version(), Some(version), "{wire}");
    }
    let ours: BTreeSet<String> = table.iter().map(|(_, w)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "ExchangeVersionType"), ours);
}

#[test]
fn response_classes() {
    let table = [
        ("Success", ResponseClass::Success),
        ("Warning", ResponseClass::Warning),
        ("Error", ResponseClass::Error),
    ];
    let messages: Vec<(&str, &str, &str)> = table
        .iter()
        .map(|(wire, _)| (*wire, "NoError", ""))
        .collect();
    let reply = get_item()
        .decode(&get_item_answer(&messages))
        .expect("decodes");
    let got: Vec<ResponseClass> = reply.body.iter().map(|m| m.status.class).collect();
    assert_eq!(got, table.iter().map(|(_, c)| *c).collect::<Vec<_>>());
    let ours: BTreeSet<String> = table.iter().map(|(w, _)| (*w).to_owned()).collect();
    assert_eq!(schema_values("types.xsd", "ResponseClassType"), ours);
}

#[test]
fn response_codes() {
    // The codes this library's users meet in the delegate workflow, plus a few others.
    let table = [
        ("NoError", ResponseCode::NoError),
        ("ErrorAccessDenied", ResponseCode::ErrorAccessDenied),
        (
            "ErrorDelegateAlreadyExists",
            ResponseCode::ErrorDelegateAlreadyExists,
        ),
        ("ErrorDelegateNoUser", ResponseCode::ErrorDelegateNoUser),
        ("ErrorNotDelegate", ResponseCode::ErrorNotDelegate),
        ("ErrorItemNotFound", ResponseCode::ErrorItemNotFound),
        ("ErrorServerBusy", ResponseCode::ErrorServerBusy),
        ("ErrorSchemaValidation", ResponseCode::ErrorSchemaValidation),
        (
            "ErrorInvalidServerVersion",
            ResponseCode::ErrorInvalidServerVersion,
        ),
        (
            "ErrorNonExistentMailbox",
            ResponseCode::ErrorNonExistentMailbox,
        ),
        (
            "ErrorImpersonateUserDenied",
            ResponseCode::ErrorImpersonateUserDenied,
        ),
        (
            "ErrorImpersonationFailed",
            ResponseCode::ErrorImpersonationFailed,
        ),
        (
            "ErrorSendMeetingInvitationsRequired",
            ResponseCode::ErrorSendMeetingInvitationsRequired,
        ),
        (
            "ErrorSendMeetingCancellationsRequired",
            ResponseCode::ErrorSendMeetingCancellationsRequired,
        ),
        ("ErrorInvalidRequest", ResponseCode::ErrorInvalidRequest),
        (
            "ErrorMailboxMoveInProgress",
            ResponseCode::ErrorMailboxMoveInProgress,
        ),
        (
            "ErrorInternalServerError",
            ResponseCode::ErrorInternalServerError,
        ),
    ];
    let messages: Vec<(&str, &str, &str)> = table
        .iter()
        .map(|(wire, _)| {
            let class = if *wire == "NoError" {
                "Success"
            } else {
                "Error"
            };
            (class, *wire, "")
        })
        .collect();
    let reply = get_item()
        .decode(&get_item_answer(&messages))
        .expect("decodes");
    assert_eq!(reply.body.len(), table.len());
    for (m, (wire, code)) in reply.body.iter().zip(&table) {
        assert_eq!(&m.status.code, code, "{wire}");
        assert_eq!(code.as_str(), *wire);
    }
    let wires: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
    assert_legal("messages.xsd", "ResponseCodeType", &wires);
}

#[test]
fn impersonation_identifiers() {
    // ConnectingSIDType's choice: one element per kind of identifier.
    let table = [
        (
            Impersonation::PrincipalName("user1@corp.example.com".parse().expect("upn")),
            "PrincipalName",
            "user1@corp.example.com",
        ),
        (
            Impersonation::Sid(
                "S-1-5-21-1111111111-2222222222-333333333-1116"
                    .parse()
                    .expect("sid"),
            ),
            "SID",
            "S-1-5-21-1111111111-2222222222-333333333-1116",
        ),
        (
            Impersonation::PrimarySmtpAddress(addr("user1@example.com")),
            "PrimarySmtpAddress",
            "user1@example.com",
        ),
        (
            Impersonation::SmtpAddress(addr("alias1@example.com")),
            "SmtpAddress",
            "alias1@example.com",
        ),
    ];
    for (who, element, value) in &table {
        let context = ctx(ExchangeVersion::Exchange2013_SP1).with_impersonation(who.clone());
        let request = GetDelegate::new(principal())
            .encode(&context)
            .expect("encodes");
        let xml = std::str::from_utf8(request.body()).expect("UTF-8");
        let doc = roxmltree::Document::parse(xml).expect("XML");
        let sid = doc
            .descendants()
            .find(|n| n.tag_name().namespace() == Some(T) && n.tag_name().name() == "ConnectingSID")
            .expect("ConnectingSID");
        let children: Vec<(String, String)> = sid
            .children()
            .filter(roxmltree::Node::is_element)
            .map(|c| {
                assert_eq!(c.tag_name().namespace(), Some(T));
                (
                    c.tag_name().name().to_owned(),
                    c.text().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert_eq!(children, [((*element).to_owned(), (*value).to_owned())]);
    }
    let names: BTreeSet<String> = schema_sequence("ConnectingSIDType").into_iter().collect();
    let ours: BTreeSet<String> = table.iter().map(|(_, e, _)| (*e).to_owned()).collect();
    assert_eq!(names, ours);
}
