//! Recurrence, occurrence ids and time zones: the bytes of each pattern and range (written
//! by hand here), where `Recurrence` sits in a new calendar item, what cannot be built,
//! and the Windows/IANA mapping.

use ews_proto::jiff::civil::{Date, Weekday::*, date};
use ews_proto::*;

const ENDPOINT: &str = "https://mail.example.com/EWS/Exchange.asmx";

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().expect("ts")
}

fn body(item: NewCalendarItem, version: ExchangeVersion) -> String {
    let ctx = RequestContext::new(ENDPOINT)
        .expect("endpoint")
        .with_version(version);
    let op = CreateItem::new(None, item, SendMeetingInvitations::SendToNone);
    String::from_utf8(op.encode(&ctx).expect("encodes").body().to_vec()).expect("utf8")
}

/// The `<t:Recurrence>` element of a new item with `r`.
fn recurrence_xml(r: Recurrence) -> String {
    let item = NewCalendarItem::new("s", ts("2025-06-02T07:00:00Z"), ts("2025-06-02T08:00:00Z"))
        .expect("item")
        .recurrence(r);
    let xml = body(item, ExchangeVersion::Exchange2013_SP1);
    let start = xml.find("<t:Recurrence>").expect("Recurrence written");
    let end = xml.find("</t:Recurrence>").expect("end") + "</t:Recurrence>".len();
    xml[start..end].to_owned()
}

const JUNE_2: Date = date(2025, 6, 2);

#[test]
fn each_pattern_and_range_has_its_bytes() {
    let no_end = || RecurrenceRange::no_end(JUNE_2).expect("range");
    let cases = [
        (
            RecurrencePattern::daily(2).expect("p"),
            RecurrenceRange::numbered(JUNE_2, 10).expect("range"),
            "<t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2025-06-02</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence>",
        ),
        (
            // Days in week order, each once, whatever order they came in.
            RecurrencePattern::weekly(1, [Friday, Monday, Wednesday, Monday]).expect("p"),
            RecurrenceRange::until(JUNE_2, date(2025, 12, 31)).expect("range"),
            "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday Friday</t:DaysOfWeek></t:WeeklyRecurrence><t:EndDateRecurrence><t:StartDate>2025-06-02</t:StartDate><t:EndDate>2025-12-31</t:EndDate></t:EndDateRecurrence>",
        ),
        (
            RecurrencePattern::weekly(3, [Sunday])
                .expect("p")
                .first_day_of_week(Monday),
            no_end(),
            "<t:WeeklyRecurrence><t:Interval>3</t:Interval><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02</t:StartDate></t:NoEndRecurrence>",
        ),
        (
            RecurrencePattern::absolute_monthly(2, 15).expect("p"),
            no_end(),
            "<t:AbsoluteMonthlyRecurrence><t:Interval>2</t:Interval><t:DayOfMonth>15</t:DayOfMonth></t:AbsoluteMonthlyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02</t:StartDate></t:NoEndRecurrence>",
        ),
        (
            RecurrencePattern::relative_monthly(1, WeekIndex::Second, Tuesday.into()).expect("p"),
            no_end(),
            "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Tuesday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02</t:StartDate></t:NoEndRecurrence>",
        ),
        (
            RecurrencePattern::relative_monthly(1, WeekIndex::Last, RelativeDay::WeekendDay)
                .expect("p"),
            no_end(),
            "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>WeekendDay</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02</t:StartDate></t:NoEndRecurrence>",
        ),
        (
            // Yearly patterns have no Interval; DayOfMonth comes before Month.
            RecurrencePattern::absolute_yearly(Month::December, 24).expect("p"),
            no_end(),
            "<t:AbsoluteYearlyRecurrence><t:DayOfMonth>24</t:DayOfMonth><t:Month>December</t:Month></t:AbsoluteYearlyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02</t:StartDate></t:NoEndRecurrence>",
        ),
        (
            RecurrencePattern::relative_yearly(Month::October, WeekIndex::Last, Sunday.into())
                .expect("p"),
            no_end(),
            "<t:RelativeYearlyRecurrence><t:DaysOfWeek>Sunday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex><t:Month>October</t:Month></t:RelativeYearlyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-02</t:StartDate></t:NoEndRecurrence>",
        ),
    ];
    for (pattern, range, inner) in cases {
        assert_eq!(
            recurrence_xml(Recurrence::new(pattern, range)),
            format!("<t:Recurrence>{inner}</t:Recurrence>")
        );
    }
}

#[test]
fn recurrence_sits_after_the_attendees_and_before_the_time_zones() {
    let r = Recurrence::new(
        RecurrencePattern::daily(1).expect("p"),
        RecurrenceRange::numbered(JUNE_2, 3).expect("range"),
    );
    let item = NewCalendarItem::new("s", ts("2025-06-02T07:00:00Z"), ts("2025-06-02T08:00:00Z"))
        .expect("item")
        .location("Room")
        .resource(Mailbox::new("room1@example.com".parse().expect("addr")))
        .time_zone(TimeZoneId::new("W. Europe Standard Time").expect("tz"))
        .recurrence(r);
    for (version, zone) in [
        (ExchangeVersion::Exchange2013_SP1, "<t:StartTimeZone "),
        (ExchangeVersion::Exchange2007_SP1, "<t:MeetingTimeZone "),
    ] {
        let xml = body(item.clone(), version);
        let at = |tag: &str| xml.find(tag).unwrap_or_else(|| panic!("{tag} in {xml}"));
        assert!(at("<t:End>") < at("<t:Location>"));
        assert!(at("<t:Location>") < at("</t:Resources>"));
        assert!(at("</t:Resources>") < at("<t:Recurrence>"), "{xml}");
        assert!(at("</t:Recurrence>") < at(zone), "{xml}");
    }
}

#[test]
fn invalid_patterns_and_ranges_cannot_be_built() {
    let refused = |r: Result<RecurrencePattern, UsageError>| {
        matches!(
            r,
            Err(UsageError::InvalidValue {
                kind: "recurrence pattern",
                ..
            })
        )
    };
    assert!(refused(RecurrencePattern::daily(0)));
    assert!(refused(RecurrencePattern::daily(u32::MAX)), "beyond xs:int");
    assert!(refused(RecurrencePattern::weekly(0, [Monday])));
    assert!(refused(RecurrencePattern::weekly(1, [])));
    assert!(refused(RecurrencePattern::absolute_monthly(1, 0)));
    assert!(refused(RecurrencePattern::absolute_monthly(1, 32)));
    assert!(refused(RecurrencePattern::absolute_monthly(0, 1)));
    assert!(refused(RecurrencePattern::relative_monthly(
        0,
        WeekIndex::First,
        RelativeDay::Day
    )));
    assert!(refused(RecurrencePattern::absolute_yearly(
        Month::February,
        30
    )));
    assert!(refused(RecurrencePattern::absolute_yearly(
        Month::April,
        31
    )));
    assert!(refused(RecurrencePattern::absolute_yearly(
        Month::January,
        0
    )));
    assert!(RecurrencePattern::absolute_yearly(Month::February, 29).is_ok());
    assert!(RecurrencePattern::absolute_yearly(Month::December, 31).is_ok());
    assert!(RecurrencePattern::absolute_monthly(1, 31).is_ok());
    assert_eq!(Month::from_number(0), None);
    assert_eq!(Month::from_number(13), None);
    assert_eq!(Month::from_number(2), Some(Month::February));

    let range = |r: Result<RecurrenceRange, UsageError>| {
        matches!(
            r,
            Err(UsageError::InvalidValue {
                kind: "recurrence range",
                ..
            })
        )
    };
    assert!(range(RecurrenceRange::until(JUNE_2, date(2025, 6, 1))));
    assert!(RecurrenceRange::until(JUNE_2, JUNE_2).is_ok(), "one day");
    assert!(range(RecurrenceRange::numbered(JUNE_2, 0)));
    assert!(range(RecurrenceRange::numbered(JUNE_2, u32::MAX)));
    assert!(range(RecurrenceRange::no_end(date(0, 1, 1))));
    assert_eq!(
        RecurrenceRange::numbered(JUNE_2, 4).expect("r").start(),
        JUNE_2
    );

    let series = ItemId::new("AAMk=", None).expect("id");
    assert!(ItemRef::occurrence(series.clone(), 0).is_err());
    assert!(ItemRef::occurrence(series, u32::MAX).is_err());
}

#[test]
fn occurrence_and_series_ids_in_get_and_delete() {
    let ctx = RequestContext::new(ENDPOINT).expect("endpoint");
    let series = ItemId::new("AAMkS=", Some("ck".into())).expect("id");
    let occurrence = ItemId::new("AAMkO=", None).expect("id");
    let get = GetItem::new(ItemRef::occurrence(series.clone(), 7).expect("index"))
        .id(ItemRef::master_of(occurrence))
        .id(series.clone());
    let xml = String::from_utf8(get.encode(&ctx).expect("encodes").body().to_vec()).expect("utf8");
    assert!(xml.contains(
        r#"<m:ItemIds><t:OccurrenceItemId RecurringMasterId="AAMkS=" ChangeKey="ck" InstanceIndex="7"/><t:RecurringMasterItemId OccurrenceId="AAMkO="/><t:ItemId Id="AAMkS=" ChangeKey="ck"/></m:ItemIds>"#
    ), "{xml}");
    let delete = DeleteItem::new(
        ItemRef::occurrence(series, 1).expect("index"),
        DeleteType::HardDelete,
    );
    let xml =
        String::from_utf8(delete.encode(&ctx).expect("encodes").body().to_vec()).expect("utf8");
    assert!(xml.contains(
        r#"<m:ItemIds><t:OccurrenceItemId RecurringMasterId="AAMkS=" ChangeKey="ck" InstanceIndex="1"/></m:ItemIds>"#
    ), "{xml}");
}

#[test]
fn windows_and_iana_names_map_both_ways() {
    for (iana, windows) in [
        ("Europe/Berlin", "W. Europe Standard Time"),
        ("Europe/Zurich", "W. Europe Standard Time"),
        ("Europe/London", "GMT Standard Time"),
        ("America/New_York", "Eastern Standard Time"),
        ("America/Winnipeg", "Central Standard Time"),
        ("Asia/Tokyo", "Tokyo Standard Time"),
        ("Asia/Kolkata", "India Standard Time"),
        ("Asia/Calcutta", "India Standard Time"),
        ("Europe/Kyiv", "FLE Standard Time"),
        ("Europe/Kiev", "FLE Standard Time"),
        ("Asia/Kathmandu", "Nepal Standard Time"),
        ("Australia/Sydney", "AUS Eastern Standard Time"),
    ] {
        assert_eq!(
            TimeZoneId::from_iana(iana).expect(iana).as_str(),
            windows,
            "{iana}"
        );
    }
    for (windows, iana) in [
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("India Standard Time", "Asia/Kolkata"),
        ("FLE Standard Time", "Europe/Kyiv"),
        ("Nepal Standard Time", "Asia/Kathmandu"),
        ("Eastern Standard Time", "America/New_York"),
    ] {
        let tz = TimeZoneId::new(windows).expect("id");
        assert_eq!(tz.iana(), Some(iana), "{windows}");
        // And the way back lands on the same Windows id.
        assert_eq!(TimeZoneId::from_iana(iana).expect(iana), tz);
        assert!(tz.to_jiff().is_ok(), "{windows} is in jiff's database");
    }
    let india = TimeZoneId::new("India Standard Time").expect("id");
    assert_eq!(
        india
            .offset_at(ts("2025-01-01T00:00:00Z"))
            .map(|o| o.seconds()),
        Some(5 * 3600 + 1800)
    );
    assert!(TimeZoneId::from_iana("Not/AZone").is_err());
    assert_eq!(TimeZoneId::new("My Custom Zone").expect("id").iana(), None);
    assert!(
        TimeZoneId::new("My Custom Zone")
            .expect("id")
            .to_jiff()
            .is_err()
    );
    let fixed = jiff::tz::TimeZone::fixed(jiff::tz::offset(2));
    assert!(
        TimeZoneId::from_jiff(&fixed).is_err(),
        "a fixed offset has no Windows id"
    );
}

#[test]
fn a_zoned_item_writes_instants_and_its_windows_zone() {
    let start: jiff::ZonedDateTime = "2025-06-02T09:30[America/New_York]".parse().expect("z");
    let end: jiff::ZonedDateTime = "2025-06-02T10:00[America/New_York]".parse().expect("z");
    let item = NewCalendarItem::zoned("Sync", &start, &end).expect("item");
    let xml = body(item.clone(), ExchangeVersion::Exchange2013_SP1);
    assert!(xml.contains(
        r#"<t:Start>2025-06-02T13:30:00Z</t:Start><t:End>2025-06-02T14:00:00Z</t:End><t:StartTimeZone Id="Eastern Standard Time"/><t:EndTimeZone Id="Eastern Standard Time"/>"#
    ), "{xml}");
    let xml = body(item, ExchangeVersion::Exchange2007_SP1);
    assert!(
        xml.contains(r#"<t:MeetingTimeZone TimeZoneName="Eastern Standard Time"/>"#),
        "{xml}"
    );
    let tokyo: jiff::ZonedDateTime = "2025-06-02T23:00[Asia/Tokyo]".parse().expect("z");
    assert!(
        NewCalendarItem::zoned("x", &start, &tokyo).is_err(),
        "two zones"
    );
    assert!(
        NewCalendarItem::zoned("x", &end, &start).is_err(),
        "backwards"
    );
}
