//! UpdateItem: the bytes of each kind of change (written by hand here, not blessed), the
//! checks made when a change is built, the repeat rule, decoding of answers with
//! `ConflictResults`, and the stale-key retry machine.

use bytes::Bytes;
use ews_proto::ops::{DecodeAnswer, Repeat};
use ews_proto::*;

const ENDPOINT: &str = "https://mail.example.com/EWS/Exchange.asmx";
const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

fn ctx() -> RequestContext {
    RequestContext::new(ENDPOINT)
        .expect("endpoint")
        .with_version(ExchangeVersion::Exchange2013_SP1)
}

fn id(ck: Option<&str>) -> ItemId {
    ItemId::new("AAMk1=", ck.map(str::to_owned)).expect("id")
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

fn op(changes: Vec<CalendarChange>) -> UpdateItem {
    UpdateItem::new(
        ItemChange::new(id(Some("ck1")), changes).expect("valid change"),
        SendMeetingInvitationsOrCancellations::SendToNone,
        ConflictResolution::NeverOverwrite,
    )
}

/// The `t:Updates` content of the first item change.
fn updates(op: &UpdateItem, ctx: &RequestContext) -> String {
    let body = String::from_utf8(op.encode(ctx).expect("encodes").body().to_vec()).expect("utf8");
    let start = body.find("<t:Updates>").expect("Updates") + "<t:Updates>".len();
    let end = body.find("</t:Updates>").expect("end of Updates");
    body[start..end].to_owned()
}

fn set(uri: &str, property: &str) -> String {
    format!(
        r#"<t:SetItemField><t:FieldURI FieldURI="{uri}"/><t:CalendarItem>{property}</t:CalendarItem></t:SetItemField>"#
    )
}

#[test]
fn each_change_is_one_property_in_its_own_field() {
    let ts = |s: &str| -> jiff::Timestamp { s.parse().expect("ts") };
    let cases: Vec<(CalendarChange, String)> = vec![
        (
            CalendarChange::subject("A & B"),
            set("item:Subject", "<t:Subject>A &amp; B</t:Subject>"),
        ),
        (
            CalendarChange::body(Body::text("x")),
            set("item:Body", r#"<t:Body BodyType="Text">x</t:Body>"#),
        ),
        (
            CalendarChange::append_body(Body::text("more")),
            r#"<t:AppendToItemField><t:FieldURI FieldURI="item:Body"/><t:CalendarItem><t:Body BodyType="Text">more</t:Body></t:CalendarItem></t:AppendToItemField>"#.to_owned(),
        ),
        (
            CalendarChange::start(ts("2025-06-03T14:00:00Z")),
            set("calendar:Start", "<t:Start>2025-06-03T14:00:00Z</t:Start>"),
        ),
        (
            CalendarChange::end(ts("2025-06-03T15:30:00Z")),
            set("calendar:End", "<t:End>2025-06-03T15:30:00Z</t:End>"),
        ),
        (
            CalendarChange::location("Room 1"),
            set("calendar:Location", "<t:Location>Room 1</t:Location>"),
        ),
        (
            CalendarChange::clear_location(),
            r#"<t:DeleteItemField><t:FieldURI FieldURI="calendar:Location"/></t:DeleteItemField>"#
                .to_owned(),
        ),
        (
            CalendarChange::free_busy(LegacyFreeBusyStatus::Tentative),
            set(
                "calendar:LegacyFreeBusyStatus",
                "<t:LegacyFreeBusyStatus>Tentative</t:LegacyFreeBusyStatus>",
            ),
        ),
        (
            CalendarChange::importance(Importance::High),
            set("item:Importance", "<t:Importance>High</t:Importance>"),
        ),
        (
            CalendarChange::sensitivity(Sensitivity::Private),
            set("item:Sensitivity", "<t:Sensitivity>Private</t:Sensitivity>"),
        ),
        (
            CalendarChange::categories(["A", "B"]),
            set(
                "item:Categories",
                "<t:Categories><t:String>A</t:String><t:String>B</t:String></t:Categories>",
            ),
        ),
        (
            // Two properties, two fields.
            CalendarChange::reminder(15),
            set("item:ReminderIsSet", "<t:ReminderIsSet>true</t:ReminderIsSet>")
                + &set(
                    "item:ReminderMinutesBeforeStart",
                    "<t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart>",
                ),
        ),
        (
            CalendarChange::no_reminder(),
            set("item:ReminderIsSet", "<t:ReminderIsSet>false</t:ReminderIsSet>"),
        ),
        (
            CalendarChange::required_attendees([Mailbox::new(addr("user3@example.com"))]),
            set(
                "calendar:RequiredAttendees",
                "<t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user3@example.com</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>",
            ),
        ),
        (
            CalendarChange::append_optional_attendees([Mailbox::new(addr("user4@example.com"))])
                .expect("one"),
            r#"<t:AppendToItemField><t:FieldURI FieldURI="calendar:OptionalAttendees"/><t:CalendarItem><t:OptionalAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user4@example.com</t:EmailAddress></t:Mailbox></t:Attendee></t:OptionalAttendees></t:CalendarItem></t:AppendToItemField>"#.to_owned(),
        ),
        (
            CalendarChange::required_attendees([]),
            r#"<t:DeleteItemField><t:FieldURI FieldURI="calendar:RequiredAttendees"/></t:DeleteItemField>"#.to_owned(),
        ),
        (
            CalendarChange::time_zone(TimeZoneId::new("Tokyo Standard Time").expect("tz")),
            set("calendar:StartTimeZone", r#"<t:StartTimeZone Id="Tokyo Standard Time"/>"#)
                + &set("calendar:EndTimeZone", r#"<t:EndTimeZone Id="Tokyo Standard Time"/>"#),
        ),
        (
            CalendarChange::remove_recurrence(),
            r#"<t:DeleteItemField><t:FieldURI FieldURI="calendar:Recurrence"/></t:DeleteItemField>"#.to_owned(),
        ),
    ];
    for (change, want) in cases {
        let label = format!("{change:?}");
        assert_eq!(updates(&op(vec![change]), &ctx()), want, "{label}");
    }
}

#[test]
fn the_frame_holds_every_required_attribute_and_the_change_key() {
    let op = UpdateItem::new(
        ItemChange::new(id(Some("ck1")), [CalendarChange::location("R")]).expect("valid"),
        SendMeetingInvitationsOrCancellations::SendToAllAndSaveCopy,
        ConflictResolution::AutoResolve,
    )
    .in_mailbox(addr("user1@example.com"));
    let request = op.encode(&ctx()).expect("encodes");
    assert_eq!(request.headers()["X-AnchorMailbox"], "user1@example.com");
    assert_eq!(
        request.headers()["SOAPAction"],
        "\"http://schemas.microsoft.com/exchange/services/2006/messages/UpdateItem\""
    );
    let body = std::str::from_utf8(request.body()).expect("utf8");
    assert!(body.contains(
        r#"<soap:Body><m:UpdateItem ConflictResolution="AutoResolve" MessageDisposition="SaveOnly" SendMeetingInvitationsOrCancellations="SendToAllAndSaveCopy"><m:ItemChanges><t:ItemChange><t:ItemId Id="AAMk1=" ChangeKey="ck1"/><t:Updates>"#
    ), "{body}");
}

#[test]
fn the_time_zone_context_is_bound_and_wall_clock_needs_it() {
    const { assert!(UpdateItem::TIME_ZONE_CONTEXT) };
    let dt = |s: &str| -> jiff::civil::DateTime { s.parse().expect("civil") };
    let op = op(vec![
        CalendarChange::start_wall_clock(dt("2025-06-03T16:00:00")),
        CalendarChange::end_wall_clock(dt("2025-06-03T17:00:00")),
    ]);
    assert!(matches!(
        op.encode(&ctx()),
        Err(UsageError::InvalidValue {
            kind: "calendar change",
            ..
        })
    ));
    let zoned = ctx().with_time_zone(TimeZoneId::new("W. Europe Standard Time").expect("tz"));
    let request = op.encode(&zoned).expect("encodes with a zone");
    let body = std::str::from_utf8(request.body()).expect("utf8");
    assert!(body.contains(
        r#"<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>"#
    ));
    assert!(body.contains("<t:Start>2025-06-03T16:00:00</t:Start>"));
}

#[test]
fn exchange_2007_gets_meeting_time_zone() {
    let op = op(vec![CalendarChange::time_zone(
        TimeZoneId::new("Tokyo Standard Time").expect("tz"),
    )]);
    let v2007 = ctx().with_version(ExchangeVersion::Exchange2007_SP1);
    assert_eq!(
        updates(&op, &v2007),
        set(
            "calendar:MeetingTimeZone",
            r#"<t:MeetingTimeZone TimeZoneName="Tokyo Standard Time"/>"#
        )
    );
}

#[test]
fn zoned_times_move_the_meeting_with_its_zone() {
    let start: jiff::ZonedDateTime = "2025-06-03T16:00[Europe/Berlin]".parse().expect("zoned");
    let end: jiff::ZonedDateTime = "2025-06-03T17:00[Europe/Berlin]".parse().expect("zoned");
    let changes = CalendarChange::times(&start, &end).expect("valid");
    let xml = updates(&op(changes), &ctx());
    assert!(xml.starts_with(&set(
        "calendar:Start",
        "<t:Start>2025-06-03T14:00:00Z</t:Start>"
    )));
    assert!(xml.ends_with(&set(
        "calendar:EndTimeZone",
        r#"<t:EndTimeZone Id="W. Europe Standard Time"/>"#
    )));
    let tokyo: jiff::ZonedDateTime = "2025-06-03T23:00[Asia/Tokyo]".parse().expect("zoned");
    assert!(CalendarChange::times(&start, &tokyo).is_err(), "two zones");
    assert!(CalendarChange::times(&end, &start).is_err(), "backwards");
}

#[test]
fn a_change_without_change_key_is_refused_where_it_is_built() {
    let loc = || [CalendarChange::location("R")];
    assert_eq!(
        ItemChange::new(id(None), loc()),
        Err(ItemChange::MISSING_CHANGE_KEY)
    );
    assert_eq!(
        ItemChange::new(id(Some("")), loc()),
        Err(ItemChange::MISSING_CHANGE_KEY)
    );
    let occurrence = ItemRef::occurrence(id(None), 2).expect("index");
    assert_eq!(
        ItemChange::new(occurrence, loc()),
        Err(ItemChange::MISSING_CHANGE_KEY)
    );
    let ok = ItemChange::new(id(Some("ck1")), loc()).expect("valid");
    assert_eq!(ok.retarget(id(None)), Err(ItemChange::MISSING_CHANGE_KEY));
    let other = ItemId::new("AAMkOther=", Some("ck2".into())).expect("id");
    assert!(ok.retarget(other).is_err(), "another item's id");
    let fresh = ok.retarget(id(Some("ck2"))).expect("same item");
    assert_eq!(fresh.target().change_key(), Some("ck2"));
    assert_eq!(fresh.changes(), ok.changes());
}

#[test]
fn invalid_changes_are_refused() {
    let ts = |s: &str| -> jiff::Timestamp { s.parse().expect("ts") };
    let key = || id(Some("ck1"));
    let invalid = |r: Result<ItemChange, UsageError>| {
        matches!(
            r,
            Err(UsageError::InvalidValue {
                kind: "item change",
                ..
            })
        )
    };
    assert!(invalid(ItemChange::new(key(), [])), "no change");
    assert!(
        invalid(ItemChange::new(
            key(),
            [
                CalendarChange::body(Body::text("a")),
                CalendarChange::append_body(Body::text("b"))
            ]
        )),
        "the body twice"
    );
    assert!(
        invalid(ItemChange::new(
            key(),
            [
                CalendarChange::start(ts("2025-06-03T15:00:00Z")),
                CalendarChange::end(ts("2025-06-03T14:00:00Z"))
            ]
        )),
        "backwards"
    );
    assert!(
        invalid(ItemChange::new(key(), [CalendarChange::reminder(u32::MAX)])),
        "beyond xs:int"
    );
    assert!(CalendarChange::append_required_attendees([]).is_err());
    assert!(CalendarChange::append_resources([]).is_err());
}

#[test]
fn repeat_follows_the_send_mode_and_appends() {
    use ConflictResolution::*;
    use SendMeetingInvitationsOrCancellations::*;
    let with = |change: CalendarChange, send, conflict| {
        UpdateItem::new(
            ItemChange::new(id(Some("ck1")), [change]).expect("valid"),
            send,
            conflict,
        )
        .repeat()
    };
    let loc = || CalendarChange::location("R");
    let append = || CalendarChange::append_body(Body::text("b"));
    assert_eq!(with(loc(), SendToNone, AutoResolve), Repeat::Safe);
    assert_eq!(with(loc(), SendToNone, AlwaysOverwrite), Repeat::Safe);
    for send in [
        SendOnlyToAll,
        SendOnlyToChanged,
        SendToAllAndSaveCopy,
        SendToChangedAndSaveCopy,
    ] {
        assert_eq!(with(loc(), send, NeverOverwrite), Repeat::SendsMessages);
    }
    assert_eq!(
        with(append(), SendToNone, AutoResolve),
        Repeat::CreatesItems
    );
    assert_eq!(
        with(append(), SendToNone, AlwaysOverwrite),
        Repeat::CreatesItems
    );
    assert_eq!(with(append(), SendToNone, NeverOverwrite), Repeat::Safe);
}

fn envelope(messages: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:UpdateItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>{messages}</m:ResponseMessages></m:UpdateItemResponse></s:Body></s:Envelope>"#
    )))
}

const UPDATED: &str = r#"<m:UpdateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="AAMk1=" ChangeKey="ck2"/></t:CalendarItem></m:Items><m:ConflictResults><t:Count>2</t:Count></m:ConflictResults></m:UpdateItemResponseMessage>"#;
const STALE: &str = r#"<m:UpdateItemResponseMessage ResponseClass="Error"><m:MessageText>The change key is stale.</m:MessageText><m:ResponseCode>ErrorIrresolvableConflict</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/></m:UpdateItemResponseMessage>"#;

#[test]
fn answers_decode_with_new_change_key_conflicts_and_the_typed_conflict() {
    let reply =
        UpdateItem::decode_answer(&envelope(&format!("{UPDATED}{STALE}"))).expect("decodes");
    let [done, stale] = &reply.body[..] else {
        panic!("{:?}", reply.body)
    };
    let updated = done.as_result().expect("success");
    assert_eq!(
        updated.id.as_ref().and_then(ItemId::change_key),
        Some("ck2")
    );
    assert_eq!(updated.kind, Some(ItemKind::CalendarItem));
    assert_eq!(updated.conflict_count, 2);
    assert!(!done.is_irresolvable_conflict());
    assert!(stale.is_irresolvable_conflict());
    assert_eq!(stale.code(), &ResponseCode::ErrorIrresolvableConflict);
    assert_eq!(stale.value, UpdatedItem::default());

    // Without ConflictResults: no conflict.
    let plain = r#"<m:UpdateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="AAMk1=" ChangeKey="ck3"/></t:CalendarItem></m:Items></m:UpdateItemResponseMessage>"#;
    let reply = UpdateItem::decode_answer(&envelope(plain)).expect("decodes");
    assert_eq!(reply.body[0].value.conflict_count, 0);

    // A ConflictResults without a count, or with a negative one, is malformed.
    for bad in [
        "<m:ConflictResults/>",
        "<m:ConflictResults><t:Count>-1</t:Count></m:ConflictResults>",
    ] {
        let message = UPDATED.replace(
            "<m:ConflictResults><t:Count>2</t:Count></m:ConflictResults>",
            bad,
        );
        assert!(
            matches!(
                UpdateItem::decode_answer(&envelope(&message)),
                Err(ServerError::Malformed(_))
            ),
            "{bad}"
        );
    }
}

fn get_answer(messages: &str) -> Vec<ResponseMessage<Option<Item>>> {
    let xml = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>{messages}</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>"#
    );
    GetItem::decode_answer(&http::Response::new(Bytes::from(xml)))
        .expect("decodes")
        .body
}

fn got(id: &str, ck: &str) -> String {
    format!(
        r#"<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="{id}" ChangeKey="{ck}"/></t:CalendarItem></m:Items></m:GetItemResponseMessage>"#
    )
}

fn update_answer(messages: &str) -> Vec<ResponseMessage<UpdatedItem>> {
    UpdateItem::decode_answer(&envelope(messages))
        .expect("decodes")
        .body
}

fn two_items() -> UpdateItem {
    let b = ItemId::new("AAMk2=", Some("old".into())).expect("id");
    op(vec![CalendarChange::location("R")])
        .item(ItemChange::new(b, [CalendarChange::subject("S")]).expect("valid"))
}

#[test]
fn stale_items_alone_are_refetched_and_sent_again_with_the_new_key() {
    let mut retry = StaleKeyRetry::new(two_items().in_mailbox(addr("user1@example.com")), 2);
    let RetryStep::Update(first) = retry.poll() else {
        panic!("update first")
    };
    assert_eq!(first.changes().len(), 2);
    // Polling again without an answer asks the same.
    let RetryStep::Update(same) = retry.poll() else {
        panic!("same step")
    };
    assert_eq!(same, first);
    retry.updated(update_answer(&format!("{UPDATED}{STALE}")));
    let RetryStep::Refetch(get) = retry.poll() else {
        panic!("refetch the stale one")
    };
    assert_eq!(get.ids().len(), 1);
    assert_eq!(get.ids()[0].id(), "AAMk2=");
    assert_eq!(get.anchor_mailbox(), Some("user1@example.com"));
    retry.refetched(get_answer(&got("AAMk2=", "new")));
    let RetryStep::Update(again) = retry.poll() else {
        panic!("update again")
    };
    assert_eq!(again.changes().len(), 1);
    assert_eq!(again.changes()[0].target().change_key(), Some("new"));
    assert_eq!(
        again.changes()[0].changes(),
        &[CalendarChange::subject("S")]
    );
    assert_eq!(again.send_mode(), first.send_mode());
    assert_eq!(again.anchor_mailbox(), Some("user1@example.com"));
    retry.updated(update_answer(
        &UPDATED.replace("AAMk1=", "AAMk2=").replace("ck2", "newer"),
    ));
    let RetryStep::Done(Ok(results)) = retry.poll() else {
        panic!("done")
    };
    let keys: Vec<_> = results
        .iter()
        .map(|m| {
            m.value
                .id
                .as_ref()
                .and_then(ItemId::change_key)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(keys, [Some("ck2".to_owned()), Some("newer".to_owned())]);
}

#[test]
fn retries_are_bounded_and_end_with_the_conflict() {
    let mut retry = StaleKeyRetry::new(op(vec![CalendarChange::location("R")]), 1);
    retry.updated(update_answer(STALE));
    let RetryStep::Refetch(_) = retry.poll() else {
        panic!("one retry")
    };
    retry.refetched(get_answer(&got("AAMk1=", "ck9")));
    retry.updated(update_answer(STALE));
    let RetryStep::Done(Ok(results)) = retry.poll() else {
        panic!("no second retry")
    };
    assert!(results[0].is_irresolvable_conflict());

    let mut none = StaleKeyRetry::new(op(vec![CalendarChange::location("R")]), 0);
    none.updated(update_answer(STALE));
    assert!(matches!(none.poll(), RetryStep::Done(Ok(r)) if r[0].is_irresolvable_conflict()));
}

#[test]
fn a_vanished_item_and_a_short_answer_end_the_retry() {
    let mut retry = StaleKeyRetry::new(op(vec![CalendarChange::location("R")]), 3);
    retry.updated(update_answer(STALE));
    retry.refetched(get_answer(
        r#"<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>gone</m:MessageText><m:ResponseCode>ErrorItemNotFound</m:ResponseCode><m:Items/></m:GetItemResponseMessage>"#,
    ));
    let RetryStep::Done(Ok(results)) = retry.poll() else {
        panic!("done")
    };
    assert_eq!(results[0].code(), &ResponseCode::ErrorItemNotFound);

    let mut short = StaleKeyRetry::new(two_items(), 3);
    short.updated(update_answer(UPDATED));
    assert!(matches!(
        short.poll(),
        RetryStep::Done(Err(StaleKeyRetryError::CountMismatch {
            asked: 2,
            answered: 1
        }))
    ));

    let mut wrong = StaleKeyRetry::new(op(vec![CalendarChange::location("R")]), 3);
    wrong.updated(update_answer(STALE));
    wrong.refetched(get_answer(&got("AAMkOther=", "x")));
    assert!(matches!(
        wrong.poll(),
        RetryStep::Done(Err(StaleKeyRetryError::Refetch(_)))
    ));
}

#[test]
fn an_occurrence_is_retried_under_the_id_the_refetch_gave() {
    let series = ItemId::new("AAMkSeries=", Some("s1".into())).expect("id");
    let target = ItemRef::occurrence(series, 3).expect("index");
    let change = ItemChange::new(target.clone(), [CalendarChange::location("R")]).expect("valid");
    let mut retry = StaleKeyRetry::new(
        UpdateItem::new(
            change,
            SendMeetingInvitationsOrCancellations::SendToNone,
            ConflictResolution::AutoResolve,
        ),
        1,
    );
    retry.updated(update_answer(STALE));
    let RetryStep::Refetch(get) = retry.poll() else {
        panic!("refetch")
    };
    assert_eq!(get.ids(), &[target]);
    retry.refetched(get_answer(&got("AAMkOcc3=", "o2")));
    let RetryStep::Update(again) = retry.poll() else {
        panic!("update")
    };
    let xml = updates(&again, &ctx());
    assert!(!xml.is_empty());
    let body =
        String::from_utf8(again.encode(&ctx()).expect("encodes").body().to_vec()).expect("utf8");
    assert!(
        body.contains(r#"<t:ItemId Id="AAMkOcc3=" ChangeKey="o2"/>"#),
        "{body}"
    );
}
