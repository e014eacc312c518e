//! The delegate workflow in few lines: a delegate as read becomes one to write (Custom
//! folders left alone), a delivery-only update, GetDelegate filters, the mailbox and extra
//! properties of GetItem, per-item results read in place, non-standard codes as constants,
//! answers decoded without a request, and item kinds. Answers and expected bytes are
//! written by hand.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use bytes::Bytes;
use ews_proto::ops::DecodeAnswer;
use ews_proto::{
    CreateItem, DelegateFolder, DelegateUser, DeliverMeetingRequests, FieldUri, GetDelegate,
    GetItem, ItemId, ItemKind, Operation, Permission, PermissionLevel, RequestContext,
    ResponseCode, UpdateDelegate, UserId,
};

const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

fn envelope(body: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body></s:Envelope>"#
    )))
}

/// A GetDelegate answer: user2 with Calendar Custom, Tasks Editor, Inbox Reviewer.
fn custom_calendar() -> http::Response<Bytes> {
    envelope(&format!(
        r#"<m:GetDelegateResponse ResponseClass="Success" xmlns:m="{M}" xmlns:t="{T}">
  <m:ResponseCode>NoError</m:ResponseCode>
  <m:ResponseMessages>
    <m:DelegateUserResponseMessageType ResponseClass="Success">
      <m:ResponseCode>NoError</m:ResponseCode>
      <m:DelegateUser>
        <t:UserId><t:PrimarySmtpAddress>User2@Example.com</t:PrimarySmtpAddress></t:UserId>
        <t:DelegatePermissions>
          <t:CalendarFolderPermissionLevel>Custom</t:CalendarFolderPermissionLevel>
          <t:TasksFolderPermissionLevel>Editor</t:TasksFolderPermissionLevel>
          <t:InboxFolderPermissionLevel>Reviewer</t:InboxFolderPermissionLevel>
        </t:DelegatePermissions>
        <t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages>
        <t:ViewPrivateItems>false</t:ViewPrivateItems>
      </m:DelegateUser>
    </m:DelegateUserResponseMessageType>
    <m:DelegateUserResponseMessageType ResponseClass="Error">
      <m:MessageText>not found</m:MessageText>
      <m:ResponseCode>ErrorDelegateNotFound</m:ResponseCode>
    </m:DelegateUserResponseMessageType>
  </m:ResponseMessages>
  <m:DeliverMeetingRequests>DelegatesOnly</m:DeliverMeetingRequests>
</m:GetDelegateResponse>"#
    ))
}

fn ctx() -> RequestContext {
    RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").unwrap()
}

fn body<O: Operation>(op: &O) -> String {
    String::from_utf8(op.encode(&ctx()).unwrap().body().to_vec()).unwrap()
}

#[test]
fn a_delegate_as_read_is_written_back_without_its_custom_folder() {
    let read = GetDelegate::decode_answer(&custom_calendar()).unwrap().body;
    let user2 = UserId::smtp("user2@example.com".parse().unwrap());
    // Matched case-insensitively, as Exchange compares addresses.
    let current = read.delegate(&user2).expect("user2 is reported");
    assert_eq!(
        current
            .permissions
            .as_ref()
            .unwrap()
            .level(DelegateFolder::Calendar),
        Some(&PermissionLevel::Custom)
    );

    let update =
        DelegateUser::from(current).permissions_set(DelegateFolder::Tasks, Permission::Author);
    let op = UpdateDelegate::new("user1@example.com".parse().unwrap(), update);
    let xml = body(&op);
    let permissions = "<t:DelegatePermissions>\
        <t:TasksFolderPermissionLevel>Author</t:TasksFolderPermissionLevel>\
        <t:InboxFolderPermissionLevel>Reviewer</t:InboxFolderPermissionLevel>\
        </t:DelegatePermissions>\
        <t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages>\
        <t:ViewPrivateItems>false</t:ViewPrivateItems>";
    assert!(xml.contains(permissions), "{xml}");
    assert!(
        !xml.contains("Calendar"),
        "a Custom folder is never written: {xml}"
    );
    assert!(!xml.contains("Custom"), "{xml}");
}

#[test]
fn one_reply_shape_carries_delivery_and_per_user_results_in_place() {
    let read = GetDelegate::decode_answer(&custom_calendar()).unwrap().body;
    assert_eq!(
        read.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesOnly)
    );
    assert_eq!(read.delegates().count(), 1);
    // The error message is read in place, and a non-standard code matches a constant.
    const DELEGATE_NOT_FOUND: ResponseCode = ResponseCode::nonstandard("ErrorDelegateNotFound");
    let refused = read[1].as_result().unwrap_err();
    assert_eq!(refused.code, DELEGATE_NOT_FOUND);
    assert_ne!(
        refused.code,
        ResponseCode::nonstandard("ErrorDelegateNotFund")
    );
    assert!(!DELEGATE_NOT_FOUND.is_standard());
    assert!(ResponseCode::nonstandard("NoError").is_standard());
    assert!(read[0].as_result().unwrap().is_some());
}

#[test]
fn a_delivery_only_update_writes_no_delegate() {
    let op = UpdateDelegate::deliver_only(
        "user1@example.com".parse().unwrap(),
        DeliverMeetingRequests::DelegatesAndMe,
    );
    let xml = body(&op);
    assert!(
        xml.contains(
            "<m:UpdateDelegate><m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress>\
             </m:Mailbox><m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>\
             </m:UpdateDelegate>"
        ),
        "{xml}"
    );
}

#[test]
fn get_delegate_names_users_and_can_leave_permissions_out() {
    let op = GetDelegate::new("user1@example.com".parse().unwrap())
        .include_permissions(false)
        .user(UserId::smtp("user2@example.com".parse().unwrap()));
    let xml = body(&op);
    assert!(
        xml.contains(
            "<m:GetDelegate IncludePermissions=\"false\"><m:Mailbox><t:EmailAddress>\
             user1@example.com</t:EmailAddress></m:Mailbox><m:UserIds><t:UserId>\
             <t:PrimarySmtpAddress>user2@example.com</t:PrimarySmtpAddress></t:UserId>\
             </m:UserIds></m:GetDelegate>"
        ),
        "{xml}"
    );
}

#[test]
fn get_item_in_the_principals_mailbox_asks_for_attendees() {
    let op = GetItem::new(ItemId::new("AAMk", Some("DwAA".into())).unwrap())
        .in_mailbox("user1@example.com".parse().unwrap())
        .property(FieldUri::RequiredAttendees)
        .property(FieldUri::Organizer)
        .property(FieldUri::RequiredAttendees);
    let request = op.encode(&ctx()).unwrap();
    assert_eq!(request.headers()["X-AnchorMailbox"], "user1@example.com");
    let xml = String::from_utf8(request.body().to_vec()).unwrap();
    assert!(
        xml.contains(
            "<m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties>\
             <t:FieldURI FieldURI=\"calendar:RequiredAttendees\"/>\
             <t:FieldURI FieldURI=\"calendar:Organizer\"/></t:AdditionalProperties></m:ItemShape>"
        ),
        "named twice, sent once: {xml}"
    );
}

#[test]
fn a_logged_create_item_answer_decodes_without_a_request() {
    let answer = envelope(&format!(
        r#"<m:CreateItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>
  <m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
    <m:Items><t:MeetingRequest><t:ItemId Id="AAMk" ChangeKey="CwAA"/></t:MeetingRequest></m:Items>
  </m:CreateItemResponseMessage>
</m:ResponseMessages></m:CreateItemResponse>"#
    ));
    let created = CreateItem::decode_answer(&answer).unwrap().body;
    let item = created[0].as_result().unwrap().as_ref().unwrap();
    assert_eq!(item.kind, ItemKind::MeetingRequest);
    assert_eq!((item.id.id(), item.id.change_key()), ("AAMk", Some("CwAA")));
    // The same answer under another operation's name is not mistaken for it.
    assert!(GetItem::decode_answer(&answer).is_err());
}

#[test]
fn get_item_results_name_the_kind() {
    let answer = envelope(&format!(
        r#"<m:GetItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>
  <m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
    <m:Items><t:MeetingCancellation><t:ItemId Id="A1" ChangeKey="C1"/><t:Subject>x</t:Subject></t:MeetingCancellation></m:Items>
  </m:GetItemResponseMessage>
  <m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
    <m:Items><t:CalendarItem><t:ItemId Id="A2"/></t:CalendarItem></m:Items>
  </m:GetItemResponseMessage>
  <m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
    <m:Items><t:Task><t:ItemId Id="A3"/></t:Task></m:Items>
  </m:GetItemResponseMessage>
</m:ResponseMessages></m:GetItemResponse>"#
    ));
    let items = GetItem::decode_answer(&answer).unwrap().body;
    let kinds: Vec<ItemKind> = items
        .iter()
        .map(|m| m.as_result().unwrap().as_ref().unwrap().kind())
        .collect();
    assert_eq!(kinds[0], ItemKind::MeetingCancellation);
    assert_eq!(kinds[1], ItemKind::CalendarItem);
    assert_eq!(kinds[2].as_str(), "Task");
    assert!(matches!(kinds[2], ItemKind::Other(_)));
    let first = items[0].as_result().unwrap().as_ref().unwrap();
    assert_eq!(first.item_id().unwrap().change_key(), Some("C1"));
}

#[test]
fn wall_clock_times_go_out_without_offset_and_only_with_a_time_zone() {
    let start: jiff::civil::DateTime = "2025-06-02T10:00:00".parse().unwrap();
    let end: jiff::civil::DateTime = "2025-06-02T11:30:00".parse().unwrap();
    assert!(ews_proto::NewCalendarItem::wall_clock("x", end, start).is_err());
    let item = ews_proto::NewCalendarItem::wall_clock("x", start, end).unwrap();
    let op = CreateItem::on_behalf_of("user1@example.com".parse().unwrap(), item);
    // Without a TimeZoneContext the server would read them as UTC: refused.
    assert!(matches!(
        op.encode(&ctx()),
        Err(ews_proto::UsageError::InvalidValue {
            kind: "calendar item",
            ..
        })
    ));
    let zoned = ctx().with_time_zone("W. Europe Standard Time".parse().unwrap());
    let xml = String::from_utf8(op.encode(&zoned).unwrap().body().to_vec()).unwrap();
    assert!(
        xml.contains("<t:Start>2025-06-02T10:00:00</t:Start><t:End>2025-06-02T11:30:00</t:End>"),
        "{xml}"
    );
    assert!(
        xml.contains("<t:TimeZoneDefinition Id=\"W. Europe Standard Time\"/>"),
        "{xml}"
    );
}
