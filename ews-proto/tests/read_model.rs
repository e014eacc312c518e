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

fn calendar(items: &str) -> ews_proto::CalendarItem {
    match get_item(items).remove(0) {
        Item::Calendar(c) => *c,
        other => panic!("a calendar item, not {other:?}"),
    }
}

/// A recurring master whose `Recurrence` holds `pattern` and `range` (hand-written in the
/// schema's `RecurrenceType`; dates as Exchange writes them, with the zone's offset).
fn master(pattern: &str, range: &str) -> ews_proto::CalendarItem {
    calendar(&format!(
        r#"<t:CalendarItem><t:ItemId Id="M1" ChangeKey="CK"/><t:Subject>Series</t:Subject>
<t:CalendarItemType>RecurringMaster</t:CalendarItemType>
<t:Recurrence>{pattern}{range}</t:Recurrence>
<t:FirstOccurrence><t:ItemId Id="O1"/><t:Start>2025-06-02T08:00:00Z</t:Start><t:End>2025-06-02T09:00:00Z</t:End><t:OriginalStart>2025-06-02T08:00:00Z</t:OriginalStart></t:FirstOccurrence>
</t:CalendarItem>"#
    ))
}

#[test]
fn every_calendar_pattern_and_range_reads_back_as_the_builder_makes_it() {
    use ews_proto::jiff::civil::{Weekday, date};
    use ews_proto::{Month, RecurrencePattern as P, RecurrenceRange as R, RelativeDay, WeekIndex};
    let numbered = r#"<t:NumberedRecurrence><t:StartDate>2025-06-02-07:00</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence>"#;
    let cases: [(&str, P); 7] = [
        (
            r#"<t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence>"#,
            P::daily(2).unwrap(),
        ),
        (
            r#"<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday Friday</t:DaysOfWeek></t:WeeklyRecurrence>"#,
            P::weekly(1, [Weekday::Monday, Weekday::Wednesday, Weekday::Friday]).unwrap(),
        ),
        (
            r#"<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Thursday Monday</t:DaysOfWeek><t:FirstDayOfWeek>Sunday</t:FirstDayOfWeek></t:WeeklyRecurrence>"#,
            P::weekly(2, [Weekday::Monday, Weekday::Thursday])
                .unwrap()
                .first_day_of_week(Weekday::Sunday),
        ),
        (
            r#"<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>31</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>"#,
            P::absolute_monthly(1, 31).unwrap(),
        ),
        (
            r#"<t:RelativeMonthlyRecurrence><t:Interval>3</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>"#,
            P::relative_monthly(3, WeekIndex::Last, RelativeDay::Weekday).unwrap(),
        ),
        (
            r#"<t:AbsoluteYearlyRecurrence><t:DayOfMonth>29</t:DayOfMonth><t:Month>February</t:Month></t:AbsoluteYearlyRecurrence>"#,
            P::absolute_yearly(Month::February, 29).unwrap(),
        ),
        (
            r#"<t:RelativeYearlyRecurrence><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex><t:Month>October</t:Month></t:RelativeYearlyRecurrence>"#,
            P::relative_yearly(Month::October, WeekIndex::Second, Weekday::Sunday.into()).unwrap(),
        ),
    ];
    for (xml, want) in cases {
        let c = master(xml, numbered);
        let got = c.recurrence.as_ref().and_then(|r| r.to_recurrence());
        let got = got.unwrap_or_else(|| panic!("{xml}: {:?}", c.recurrence));
        assert_eq!(got.pattern(), &want, "{xml}");
        assert_eq!(got.range(), &R::numbered(date(2025, 6, 2), 10).unwrap());
    }
    let weekly = r#"<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Tuesday</t:DaysOfWeek></t:WeeklyRecurrence>"#;
    for (xml, want) in [
        (
            r#"<t:NoEndRecurrence><t:StartDate>2025-06-03Z</t:StartDate></t:NoEndRecurrence>"#,
            R::no_end(date(2025, 6, 3)).unwrap(),
        ),
        (
            r#"<t:EndDateRecurrence><t:StartDate>2025-06-03+02:00</t:StartDate><t:EndDate>2025-08-26+02:00</t:EndDate></t:EndDateRecurrence>"#,
            R::until(date(2025, 6, 3), date(2025, 8, 26)).unwrap(),
        ),
        (
            r#"<t:EndDateRecurrence><t:StartDate>2025-06-03</t:StartDate><t:EndDate>2025-06-03</t:EndDate></t:EndDateRecurrence>"#,
            R::until(date(2025, 6, 3), date(2025, 6, 3)).unwrap(),
        ),
    ] {
        let c = master(weekly, xml);
        let got = c.recurrence.as_ref().and_then(|r| r.to_recurrence());
        assert_eq!(got.map(|r| r.range().clone()), Some(want), "{xml}");
    }
    // The accessors tell the same.
    let c = master(cases_weekly_two(), numbered);
    let p = c
        .recurrence
        .unwrap()
        .to_recurrence()
        .unwrap()
        .pattern()
        .clone();
    assert_eq!(p.kind(), ews_proto::PatternKind::Weekly);
    assert_eq!(p.interval(), Some(2));
    assert_eq!(p.days_of_week(), [Weekday::Monday, Weekday::Thursday]);
    assert_eq!(p.week_start(), Some(Weekday::Sunday));
    assert_eq!(p.month(), None);
}

fn cases_weekly_two() -> &'static str {
    r#"<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Thursday Monday</t:DaysOfWeek><t:FirstDayOfWeek>Sunday</t:FirstDayOfWeek></t:WeeklyRecurrence>"#
}

#[test]
fn a_pattern_or_range_this_crate_cannot_hold_is_kept_by_name_and_fails_nothing() {
    use ews_proto::{ReportedPattern, ReportedRange};
    let numbered = r#"<t:NumberedRecurrence><t:StartDate>2025-06-02</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence>"#;
    let other_pattern = |c: &ews_proto::CalendarItem| match &c.recurrence.as_ref().unwrap().pattern
    {
        Some(ReportedPattern::Other { element }) => element.clone(),
        p => panic!("{p:?}"),
    };
    let other_range = |c: &ews_proto::CalendarItem| match &c.recurrence.as_ref().unwrap().range {
        Some(ReportedRange::Other { element }) => element.clone(),
        r => panic!("{r:?}"),
    };
    for (pattern, element) in [
        // A task pattern, a later server's, and calendar patterns the builder refuses.
        (
            r#"<t:DailyRegeneration><t:Interval>2</t:Interval></t:DailyRegeneration>"#,
            "DailyRegeneration",
        ),
        (
            r#"<t:LunarYearlyRecurrence><t:Month>3</t:Month></t:LunarYearlyRecurrence>"#,
            "LunarYearlyRecurrence",
        ),
        (
            r#"<t:DailyRecurrence><t:Interval>0</t:Interval></t:DailyRecurrence>"#,
            "DailyRecurrence",
        ),
        (r#"<t:DailyRecurrence/>"#, "DailyRecurrence"),
        (
            r#"<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Funday</t:DaysOfWeek></t:WeeklyRecurrence>"#,
            "WeeklyRecurrence",
        ),
        (
            r#"<t:AbsoluteYearlyRecurrence><t:DayOfMonth>30</t:DayOfMonth><t:Month>February</t:Month></t:AbsoluteYearlyRecurrence>"#,
            "AbsoluteYearlyRecurrence",
        ),
        (
            r#"<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek><t:DayOfWeekIndex>Fifth</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>"#,
            "RelativeMonthlyRecurrence",
        ),
    ] {
        let c = master(pattern, numbered);
        assert_eq!(other_pattern(&c), element);
        assert!(c.recurrence.as_ref().unwrap().to_recurrence().is_none());
        // The range and the rest of the item still read.
        assert!(matches!(
            c.recurrence.as_ref().unwrap().range,
            Some(ReportedRange::Known(_))
        ));
        assert_eq!(c.subject.as_deref(), Some("Series"));
        assert!(c.first_occurrence.is_some());
    }
    let daily = r#"<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>"#;
    for (range, element) in [
        (
            r#"<t:EndDateRecurrence><t:StartDate>2025-06-03</t:StartDate><t:EndDate>2025-06-02</t:EndDate></t:EndDateRecurrence>"#,
            "EndDateRecurrence",
        ),
        (
            r#"<t:NumberedRecurrence><t:StartDate>2025-06-03</t:StartDate><t:NumberOfOccurrences>0</t:NumberOfOccurrences></t:NumberedRecurrence>"#,
            "NumberedRecurrence",
        ),
        (
            r#"<t:NoEndRecurrence><t:StartDate>June 3rd</t:StartDate></t:NoEndRecurrence>"#,
            "NoEndRecurrence",
        ),
        (
            r#"<t:NoEndRecurrence><t:StartDate>2025-06-03T10:00:00</t:StartDate></t:NoEndRecurrence>"#,
            "NoEndRecurrence",
        ),
        (
            r#"<t:ForeverAndADayRecurrence/>"#,
            "ForeverAndADayRecurrence",
        ),
    ] {
        let c = master(daily, range);
        assert_eq!(other_range(&c), element, "{range}");
        assert!(matches!(
            c.recurrence.as_ref().unwrap().pattern,
            Some(ReportedPattern::Known(_))
        ));
    }
}

#[test]
fn a_read_series_writes_back_as_it_came() {
    use ews_proto::{
        CalendarChange, ConflictResolution, ItemChange, Operation, RequestContext,
        SendMeetingInvitationsOrCancellations, UpdateItem,
    };
    let pattern = r#"<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Tuesday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>"#;
    let range = r#"<t:EndDateRecurrence><t:StartDate>2025-06-10</t:StartDate><t:EndDate>2025-12-09</t:EndDate></t:EndDateRecurrence>"#;
    let c = master(
        pattern,
        &range.replace("</t:StartDate>", "-07:00</t:StartDate>"),
    );
    let series = c.recurrence.unwrap().to_recurrence().unwrap();
    let op = UpdateItem::new(
        ItemChange::new(c.item_id.unwrap(), [CalendarChange::recurrence(series)]).unwrap(),
        SendMeetingInvitationsOrCancellations::SendToNone,
        ConflictResolution::NeverOverwrite,
    );
    let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").unwrap();
    let xml = String::from_utf8(op.encode(&ctx).unwrap().body().to_vec()).unwrap();
    let sent = format!("<t:Recurrence>{pattern}{range}</t:Recurrence>");
    assert!(xml.contains(&sent), "{xml}");
}

#[test]
fn attendees_answers_and_the_item_state_read_whole() {
    let c = calendar(
        r#"<t:CalendarItem><t:ItemId Id="C1"/>
<t:IsMeeting>true</t:IsMeeting><t:IsCancelled>true</t:IsCancelled><t:IsRecurring>false</t:IsRecurring>
<t:CalendarItemType>Single</t:CalendarItemType><t:MyResponseType>Tentative</t:MyResponseType>
<t:Organizer><t:Mailbox><t:Name>User One</t:Name><t:EmailAddress>user1@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:Organizer>
<t:RequiredAttendees>
  <t:Attendee><t:Mailbox><t:EmailAddress>user3@example.com</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox><t:ResponseType>Accept</t:ResponseType><t:LastResponseTime>2025-06-01T09:30:00Z</t:LastResponseTime></t:Attendee>
  <t:Attendee><t:Mailbox><t:EmailAddress>/O=EXAMPLE/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=USER4</t:EmailAddress><t:RoutingType>EX</t:RoutingType></t:Mailbox><t:ResponseType>Decline</t:ResponseType><t:LastResponseTime>2025-06-01T10:00:00+02:00</t:LastResponseTime><t:ProposedStart>2025-06-03T08:00:00Z</t:ProposedStart><t:ProposedEnd>2025-06-03T09:00:00Z</t:ProposedEnd></t:Attendee>
</t:RequiredAttendees>
<t:Resources><t:Attendee><t:Mailbox><t:EmailAddress>room1@example.com</t:EmailAddress></t:Mailbox><t:ResponseType>Unknown</t:ResponseType></t:Attendee></t:Resources>
</t:CalendarItem>"#,
    );
    assert_eq!(c.is_meeting, Some(true));
    assert_eq!(c.is_cancelled, Some(true));
    assert_eq!(c.my_response_type, Some(AttendeeResponse::Tentative));
    let [accepted, declined] = &c.required_attendees[..] else {
        panic!("{:?}", c.required_attendees)
    };
    assert_eq!(accepted.response, Some(AttendeeResponse::Accept));
    assert_eq!(
        accepted.last_response_time.map(|t| t.to_string()),
        Some("2025-06-01T09:30:00Z".to_owned())
    );
    assert_eq!(
        accepted
            .mailbox
            .smtp_address()
            .map(|a| a.as_str().to_owned()),
        Some("user3@example.com".to_owned())
    );
    assert_eq!(declined.response, Some(AttendeeResponse::Decline));
    assert_eq!(
        declined.last_response_time.map(|t| t.to_string()),
        Some("2025-06-01T08:00:00Z".to_owned())
    );
    assert_eq!(
        declined.proposed_start.map(|t| t.to_string()),
        Some("2025-06-03T08:00:00Z".to_owned())
    );
    assert_eq!(declined.mailbox.routing_type(), Some("EX"));
    assert_eq!(declined.mailbox.smtp_address(), None);
    assert_eq!(c.resources[0].response, Some(AttendeeResponse::Unknown));
    // An EX organizer is no SMTP address.
    let ex = calendar(
        r#"<t:CalendarItem><t:Organizer><t:Mailbox><t:EmailAddress>/O=EXAMPLE/CN=USER1</t:EmailAddress><t:RoutingType>EX</t:RoutingType></t:Mailbox></t:Organizer></t:CalendarItem>"#,
    );
    let organizer = ex.organizer.unwrap();
    assert_eq!(organizer.address(), Some("/O=EXAMPLE/CN=USER1"));
    assert_eq!(organizer.smtp_address(), None);
}

#[test]
fn exchange_2007s_meeting_time_zone_is_kept_and_stands_in_for_the_start_zone() {
    let c = calendar(
        r#"<t:CalendarItem><t:ItemId Id="C7"/>
<t:MeetingTimeZone TimeZoneName="Pacific Standard Time"><t:BaseOffset>PT8H</t:BaseOffset>
  <t:Standard><t:Offset>PT0M</t:Offset><t:RelativeYearlyRecurrence><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex><t:Month>November</t:Month></t:RelativeYearlyRecurrence><t:Time>02:00:00</t:Time></t:Standard>
  <t:Daylight><t:Offset>-PT60M</t:Offset><t:RelativeYearlyRecurrence><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex><t:Month>March</t:Month></t:RelativeYearlyRecurrence><t:Time>02:00:00</t:Time></t:Daylight>
</t:MeetingTimeZone></t:CalendarItem>"#,
    );
    let zone = c.meeting_time_zone.as_ref().unwrap();
    assert_eq!(zone.name.as_deref(), Some("Pacific Standard Time"));
    assert_eq!(c.start_time_zone.as_ref(), Some(zone));
    assert_eq!(c.end_time_zone, None);
    // With both, each is kept as received.
    let c = calendar(
        r#"<t:CalendarItem><t:MeetingTimeZone TimeZoneName="(UTC+01:00) Custom"/><t:StartTimeZone Id="W. Europe Standard Time" Name="(UTC+01:00) Amsterdam"/><t:EndTimeZone Id="Tokyo Standard Time"/></t:CalendarItem>"#,
    );
    assert_eq!(
        c.meeting_time_zone.and_then(|z| z.name),
        Some("(UTC+01:00) Custom".to_owned())
    );
    assert_eq!(
        c.start_time_zone.and_then(|z| z.id),
        Some("W. Europe Standard Time".to_owned())
    );
    assert_eq!(
        c.end_time_zone.and_then(|z| z.id),
        Some("Tokyo Standard Time".to_owned())
    );
}

#[test]
fn meeting_messages_carry_the_series_and_its_zones() {
    use ews_proto::ReportedPattern;
    let items = get_item(
        r#"<t:MeetingRequest><t:ItemId Id="MR2"/><t:Subject>Weekly sync</t:Subject>
<t:ReceivedBy><t:Mailbox><t:EmailAddress>user2@example.com</t:EmailAddress></t:Mailbox></t:ReceivedBy>
<t:ReceivedRepresenting><t:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></t:Mailbox></t:ReceivedRepresenting>
<t:IsDelegated>true</t:IsDelegated>
<t:MeetingRequestType>NewMeetingRequest</t:MeetingRequestType>
<t:Resources><t:Attendee><t:Mailbox><t:EmailAddress>room1@example.com</t:EmailAddress></t:Mailbox></t:Attendee></t:Resources>
<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek></t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02+05:30</t:StartDate></t:NoEndRecurrence></t:Recurrence>
<t:StartTimeZone Id="India Standard Time"/><t:EndTimeZone Id="Mars Standard Time"/>
</t:MeetingRequest>"#,
    );
    let Item::Message(m) = &items[0] else {
        panic!("a message")
    };
    assert_eq!(m.kind, MessageKind::MeetingRequest);
    assert_eq!(m.resources.len(), 1);
    let series = m.recurrence.as_ref().unwrap().to_recurrence().unwrap();
    use ews_proto::jiff::civil::{Weekday, date};
    assert_eq!(
        series.pattern().days_of_week(),
        [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday
        ]
    );
    assert_eq!(series.range().start(), date(2025, 6, 2));
    assert!(series.range().is_no_end());
    assert_eq!(
        m.start_time_zone.as_ref().and_then(|z| z.id.as_deref()),
        Some("India Standard Time")
    );
    assert_eq!(
        m.end_time_zone.as_ref().and_then(|z| z.id.as_deref()),
        Some("Mars Standard Time")
    );
    let items = get_item(
        r#"<t:MeetingCancellation><t:ItemId Id="MC1"/><t:Recurrence><t:DailyRegeneration><t:Interval>1</t:Interval></t:DailyRegeneration></t:Recurrence></t:MeetingCancellation>"#,
    );
    let Item::Message(cancel) = &items[0] else {
        panic!("a message")
    };
    assert_eq!(cancel.kind, MessageKind::MeetingCancellation);
    assert!(matches!(
        cancel.recurrence.as_ref().unwrap().pattern,
        Some(ReportedPattern::Other { .. })
    ));
}

/// The `xs:element` names of the schema's complex type `name` and of the types it extends,
/// base first: the order the read model's fields follow.
fn schema_sequence(name: &str) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/ews-schema/types.xsd"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let mut chain = Vec::new();
    let mut next = Some(name.to_owned());
    while let Some(n) = next.take() {
        let ty = doc
            .descendants()
            .find(|d| d.has_tag_name("complexType") && d.attribute("name") == Some(n.as_str()))
            .unwrap_or_else(|| panic!("{n} is not in types.xsd"));
        let names: Vec<String> = ty
            .descendants()
            .filter(|d| d.has_tag_name("element"))
            .filter_map(|d| d.attribute("name").map(str::to_owned))
            .collect();
        chain.push(names);
        next = ty
            .descendants()
            .find(|d| d.has_tag_name("extension"))
            .and_then(|d| d.attribute("base"))
            .map(|b| b.trim_start_matches("t:").to_owned());
    }
    chain.into_iter().rev().flatten().collect()
}

/// The field names of a struct's `Debug` output, as wire names (`item_id` → `ItemId`).
fn wire_fields(debug: &str) -> Vec<String> {
    let inner = &debug[debug.find('{').unwrap() + 1..];
    let mut names = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            ':' if depth == 0 => {
                let field = inner[start..i].trim().trim_start_matches(',').trim();
                let wire: String = match field {
                    "uid" => "UID".to_owned(),
                    f => f
                        .split('_')
                        .map(|w| w[..1].to_uppercase() + &w[1..])
                        .collect(),
                };
                names.push(wire);
            }
            ',' if depth == 0 => start = i,
            _ => {}
        }
    }
    names
}

/// Fields named otherwise than their element.
const RENAMED: &[(&str, &str)] = &[("Response", "ResponseType")];

fn assert_schema_order(debug: &str, schema_type: &str, not_on_the_wire: &[&str]) {
    let sequence = schema_sequence(schema_type);
    let mut last = 0;
    for field in wire_fields(debug) {
        if not_on_the_wire.contains(&field.as_str()) {
            continue;
        }
        let field = RENAMED
            .iter()
            .find(|(f, _)| *f == field)
            .map_or(field, |(_, wire)| (*wire).to_owned());
        let at = sequence
            .iter()
            .position(|s| *s == field)
            .unwrap_or_else(|| panic!("{field} is not an element of {schema_type}"));
        assert!(at >= last, "{field} is out of {schema_type}'s order");
        last = at;
    }
}

#[test]
fn the_read_model_follows_the_schemas_order() {
    let c = calendar("<t:CalendarItem/>");
    assert_schema_order(&format!("{c:?}"), "CalendarItemType", &[]);
    for (element, schema_type) in [
        ("MeetingRequest", "MeetingRequestMessageType"),
        ("Message", "MeetingRequestMessageType"),
    ] {
        let Item::Message(m) = get_item(&format!("<t:{element}/>")).remove(0) else {
            panic!("a message")
        };
        assert_schema_order(&format!("{m:?}"), schema_type, &["Kind"]);
    }
    let items = get_item(
        r#"<t:CalendarItem><t:RequiredAttendees><t:Attendee><t:Mailbox/></t:Attendee></t:RequiredAttendees><t:FirstOccurrence/></t:CalendarItem>"#,
    );
    let Item::Calendar(c) = &items[0] else {
        panic!("a calendar item")
    };
    let attendee = format!("{:?}", c.required_attendees[0]);
    assert_schema_order(&attendee, "AttendeeType", &[]);
    let occurrence = format!("{:?}", c.first_occurrence.as_ref().unwrap());
    assert_schema_order(&occurrence, "OccurrenceInfoType", &[]);
}
