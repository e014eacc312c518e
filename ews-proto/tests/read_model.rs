//! The calendar read model on answers written by hand: a request forwarded to a delegate
//! (ReceivedBy, ReceivedRepresenting, IsDelegated, AssociatedCalendarItemId), a series with
//! its occurrences and a custom time zone that fails nothing, an organizer known only by
//! its Exchange (EX) address.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use bytes::Bytes;
use ews_proto::ops::DecodeAnswer;
use ews_proto::{
    AttendeeResponse, CalendarItemType, GetItem, Item, MeetingRequestType, MessageKind,
};

fn get_item(items: &str) -> Vec<Item> {
    let body = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:GetItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
    xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>
<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
<m:Items>{items}</m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse>
</s:Body></s:Envelope>"#
    );
    GetItem::decode_answer(&http::Response::new(Bytes::from(body)))
        .unwrap()
        .body
        .into_iter()
        .map(|m| m.into_result().unwrap().unwrap())
        .collect()
}

#[test]
fn a_request_forwarded_to_the_delegate_says_for_whom() {
    let items = get_item(
        r#"<t:MeetingRequest>
  <t:ItemId Id="MR1" ChangeKey="CK1"/>
  <t:Subject>Budget</t:Subject>
  <t:ResponseType>NoResponseReceived</t:ResponseType>
  <t:IsDelegated>true</t:IsDelegated>
  <t:IsOutOfDate>false</t:IsOutOfDate>
  <t:AssociatedCalendarItemId Id="CAL1" ChangeKey="CK2"/>
  <t:MeetingRequestType>NewMeetingRequest</t:MeetingRequestType>
  <t:ReceivedBy><t:Mailbox><t:EmailAddress>user2@example.com</t:EmailAddress></t:Mailbox></t:ReceivedBy>
  <t:ReceivedRepresenting><t:Mailbox><t:Name>User One</t:Name><t:EmailAddress>user1@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:ReceivedRepresenting>
  <t:OptionalAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user4@example.com</t:EmailAddress></t:Mailbox></t:Attendee></t:OptionalAttendees>
</t:MeetingRequest>"#,
    );
    let Item::Message(m) = &items[0] else {
        panic!("a message")
    };
    assert_eq!(m.kind, MessageKind::MeetingRequest);
    assert_eq!(
        m.received_by.as_ref().and_then(|b| b.address()),
        Some("user2@example.com")
    );
    assert_eq!(
        m.received_representing.as_ref().and_then(|b| b.address()),
        Some("user1@example.com")
    );
    assert_eq!(m.is_delegated, Some(true));
    assert_eq!(m.is_out_of_date, Some(false));
    assert_eq!(
        m.associated_calendar_item_id
            .as_ref()
            .map(|i| (i.id(), i.change_key())),
        Some(("CAL1", Some("CK2")))
    );
    assert_eq!(
        m.meeting_request_type,
        Some(MeetingRequestType::NewMeetingRequest)
    );
    assert_eq!(m.response_type, Some(AttendeeResponse::NoResponseReceived));
    assert_eq!(m.optional_attendees.len(), 1);
}

#[test]
fn a_series_with_a_custom_time_zone_reads_whole() {
    let items = get_item(
        r#"<t:CalendarItem>
  <t:ItemId Id="M1"/>
  <t:Start>2025-06-02T08:00:00Z</t:Start>
  <t:End>2025-06-02T09:00:00Z</t:End>
  <t:IsRecurring>true</t:IsRecurring>
  <t:CalendarItemType>RecurringMaster</t:CalendarItemType>
  <t:Organizer><t:Mailbox><t:Name>User One</t:Name><t:EmailAddress>/O=EXAMPLE/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=USER1</t:EmailAddress><t:RoutingType>EX</t:RoutingType></t:Mailbox></t:Organizer>
  <t:FirstOccurrence><t:ItemId Id="O1"/><t:Start>2025-06-02T08:00:00Z</t:Start><t:End>2025-06-02T09:00:00Z</t:End><t:OriginalStart>2025-06-02T08:00:00Z</t:OriginalStart></t:FirstOccurrence>
  <t:LastOccurrence><t:ItemId Id="O9"/><t:Start>2025-07-28T08:00:00Z</t:Start><t:End>2025-07-28T09:00:00Z</t:End><t:OriginalStart>2025-07-28T08:00:00Z</t:OriginalStart></t:LastOccurrence>
  <t:ModifiedOccurrences><t:Occurrence><t:ItemId Id="O3"/><t:Start>2025-06-16T10:00:00Z</t:Start><t:End>2025-06-16T11:00:00Z</t:End><t:OriginalStart>2025-06-16T08:00:00Z</t:OriginalStart></t:Occurrence></t:ModifiedOccurrences>
  <t:DeletedOccurrences><t:DeletedOccurrence><t:Start>2025-06-23T08:00:00Z</t:Start></t:DeletedOccurrence></t:DeletedOccurrences>
  <t:StartTimeZone Id="Customized Time Zone" Name="Customized Time Zone">
    <t:Periods><t:Period Bias="-PT1H" Name="Standard" Id="Std"/></t:Periods>
    <t:TransitionsGroups><t:TransitionsGroup Id="0"><t:Transition><t:To Kind="Period">Std</t:To></t:Transition></t:TransitionsGroup></t:TransitionsGroups>
  </t:StartTimeZone>
  <t:EndTimeZone Id="Nowhere Standard Time"/>
</t:CalendarItem>"#,
    );
    let Item::Calendar(c) = &items[0] else {
        panic!("a calendar item")
    };
    assert_eq!(
        c.calendar_item_type,
        Some(CalendarItemType::RecurringMaster)
    );
    assert_eq!(c.is_recurring, Some(true));
    assert_eq!(
        c.first_occurrence
            .as_ref()
            .and_then(|o| o.item_id.as_ref())
            .map(|i| i.id()),
        Some("O1")
    );
    assert_eq!(
        c.last_occurrence
            .as_ref()
            .and_then(|o| o.start)
            .map(|t| t.to_string()),
        Some("2025-07-28T08:00:00Z".to_owned())
    );
    assert_eq!(c.modified_occurrences.len(), 1);
    assert_eq!(
        c.modified_occurrences[0]
            .original_start
            .map(|t| t.to_string()),
        Some("2025-06-16T08:00:00Z".to_owned())
    );
    assert_eq!(
        c.deleted_occurrences
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>(),
        ["2025-06-23T08:00:00Z"]
    );
    let start_zone = c.start_time_zone.as_ref().unwrap();
    assert_eq!(start_zone.id.as_deref(), Some("Customized Time Zone"));
    assert_eq!(
        c.end_time_zone.as_ref().and_then(|z| z.id.as_deref()),
        Some("Nowhere Standard Time")
    );
    // An EX organizer is not an SMTP address: the routing type says so.
    let organizer = c.organizer.as_ref().unwrap();
    assert_eq!(organizer.routing_type(), Some("EX"));
}

#[test]
fn an_unknown_item_type_value_is_kept() {
    let items = get_item(
        r#"<t:CalendarItem><t:ItemId Id="X"/><t:CalendarItemType>Hologram</t:CalendarItemType></t:CalendarItem>"#,
    );
    let Item::Calendar(c) = &items[0] else {
        panic!("a calendar item")
    };
    assert_eq!(
        c.calendar_item_type.as_ref().map(|t| t.as_str()),
        Some("Hologram")
    );
    assert!(matches!(
        c.calendar_item_type,
        Some(CalendarItemType::Other(_))
    ));
}
