//! Golden requests: every operation, every header alone and together, and the seed
//! scenarios, byte-compared with `tests/golden/**.request.xml`.
//!
//! The same files are validated against Microsoft's schema inside `cargo test`
//! (`tests/tests/xsd.rs`, through `../shared/ews-schema/validate.sh`), and the seed
//! requests are compared with Microsoft's examples (`tests/tests/seeds.rs`): blessing
//! writes what the code produces, those tests hold it to truth the code did not write.
//!
//! To regenerate after an intended change, run
//! `EWS_BLESS=1 cargo test -p ews-proto --test golden`: it rewrites only the files that
//! change and prints a unified diff (one tag per line) of each to stderr. Review it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use ews_proto::driver::X_ANCHOR_MAILBOX;
use ews_proto::*;
use jiff::Timestamp;

const ENDPOINT: &str = "https://mail.example.com/EWS/Exchange.asmx";

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("test address is valid")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp is valid")
}

fn ctx(version: ExchangeVersion) -> RequestContext {
    RequestContext::new(ENDPOINT)
        .expect("endpoint is valid")
        .with_version(version)
}

/// One golden case: the file, the encoded request, the expected `X-AnchorMailbox`.
struct Case {
    file: &'static str,
    request: http::Request<Bytes>,
    anchor: Option<&'static str>,
    action: &'static str,
}

fn case<O: Operation>(
    file: &'static str,
    op: &O,
    ctx: &RequestContext,
    anchor: Option<&'static str>,
) -> Case {
    Case {
        file,
        request: op.encode(ctx).expect("golden request encodes"),
        anchor,
        action: O::NAME,
    }
}

fn seed_meeting() -> NewCalendarItem {
    NewCalendarItem::new(
        "Delegate appointment",
        ts("2025-06-02T15:00:00Z"),
        ts("2025-06-02T16:00:00Z"),
    )
    .expect("start is not after end")
    .body(Body::text("This is the text of the delegate appointment."))
    .free_busy(LegacyFreeBusyStatus::Busy)
    .required_attendee(Mailbox::new(addr("user3@example.com")))
}

fn full_meeting() -> NewCalendarItem {
    NewCalendarItem::new(
        "Planning <Q3> & budget",
        ts("2025-06-02T08:00:00Z"),
        ts("2025-06-02T09:30:00Z"),
    )
    .expect("start is not after end")
    .sensitivity(Sensitivity::Private)
    .body(Body::html("<p>Agenda: \"numbers\" &amp; <b>plans</b></p>"))
    .category("Work")
    .category("Budget & Finance")
    .importance(Importance::High)
    .reminder(15)
    .all_day(false)
    .free_busy(LegacyFreeBusyStatus::Tentative)
    .location("Room 1 — \"Large\"")
    .required_attendee(Mailbox::new(addr("user3@example.com")).with_name("User Three"))
    .required_attendee(Mailbox::new(addr("user4@example.com")))
    .optional_attendee(Mailbox::new(addr("user5@example.com")).with_name("Ünïcødé Ørg 会議"))
    .resource(Mailbox::new(addr("room1@example.com")).with_name("Room 1"))
    .time_zone(TimeZoneId::new("W. Europe Standard Time").expect("valid tz"))
}

fn user(s: &str) -> UserId {
    UserId::smtp(addr(s))
}

fn civil(s: &str) -> jiff::civil::DateTime {
    s.parse().expect("test wall-clock time is valid")
}

fn zoned(s: &str) -> jiff::ZonedDateTime {
    s.parse().expect("test zoned time is valid")
}

fn date(s: &str) -> jiff::civil::Date {
    s.parse().expect("test date is valid")
}

fn meeting_id() -> ItemId {
    ItemId::new("AAMkADk0N2E4=", Some("DwAAABYA".into())).expect("id")
}

fn series_id() -> ItemId {
    ItemId::new("AAMkSeries=", Some("DwSeries".into())).expect("id")
}

/// Every other week on Monday and Wednesday (weeks from Sunday), through August.
fn weekly_series() -> Recurrence {
    use jiff::civil::Weekday::*;
    Recurrence::new(
        RecurrencePattern::weekly(2, [Wednesday, Monday])
            .expect("a pattern")
            .first_day_of_week(Sunday),
        RecurrenceRange::until(date("2025-06-02"), date("2025-08-29")).expect("a range"),
    )
}

/// One change of every kind but the times and the recurrence.
fn every_field() -> Vec<CalendarChange> {
    vec![
        CalendarChange::subject("Budget <review> & plans"),
        CalendarChange::sensitivity(Sensitivity::Confidential),
        CalendarChange::append_body(Body::html("<p>Moved to Room 1.</p>")),
        CalendarChange::categories(["Work", "Budget"]),
        CalendarChange::importance(Importance::Low),
        CalendarChange::reminder(30),
        CalendarChange::all_day(false),
        CalendarChange::free_busy(LegacyFreeBusyStatus::Oof),
        CalendarChange::location("Room 1"),
        CalendarChange::required_attendees([
            Mailbox::new(addr("user3@example.com")).with_name("User Three"),
            Mailbox::new(addr("user4@example.com")),
        ]),
        CalendarChange::append_optional_attendees([Mailbox::new(addr("user5@example.com"))])
            .expect("one attendee"),
        CalendarChange::resources([]),
        CalendarChange::time_zone(TimeZoneId::new("W. Europe Standard Time").expect("tz")),
    ]
}

/// The five other patterns and the three ranges, one item each, in the caller's calendar.
fn recurrence_patterns() -> CreateItem {
    use jiff::civil::Weekday::*;
    let start = date("2025-06-02");
    let item = |subject: &str, pattern: RecurrencePattern, range: RecurrenceRange| {
        NewCalendarItem::new(
            subject,
            ts("2025-06-02T07:00:00Z"),
            ts("2025-06-02T08:00:00Z"),
        )
        .expect("start is not after end")
        .time_zone(TimeZoneId::new("W. Europe Standard Time").expect("tz"))
        .recurrence(Recurrence::new(pattern, range))
    };
    CreateItem::new(
        None,
        item(
            "Every third day",
            RecurrencePattern::daily(3).expect("pattern"),
            RecurrenceRange::no_end(start).expect("range"),
        ),
        SendMeetingInvitations::SendToNone,
    )
    .item(item(
        "On the 31st",
        RecurrencePattern::absolute_monthly(1, 31).expect("pattern"),
        RecurrenceRange::numbered(start, 12).expect("range"),
    ))
    .item(item(
        "Last weekday of the quarter",
        RecurrencePattern::relative_monthly(3, WeekIndex::Last, RelativeDay::Weekday)
            .expect("pattern"),
        RecurrenceRange::until(start, date("2026-06-01")).expect("range"),
    ))
    .item(item(
        "Leap day",
        RecurrencePattern::absolute_yearly(Month::February, 29).expect("pattern"),
        RecurrenceRange::no_end(start).expect("range"),
    ))
    .item(item(
        "Second Tuesday of November",
        RecurrencePattern::relative_yearly(Month::November, WeekIndex::Second, Tuesday.into())
            .expect("pattern"),
        RecurrenceRange::numbered(start, 5).expect("range"),
    ))
    .disposition(MessageDisposition::SaveOnly)
}

fn cases() -> Vec<Case> {
    use ExchangeVersion::*;
    let v2007 = ctx(Exchange2007_SP1);
    let v2013 = ctx(Exchange2013_SP1);
    let mut out = vec![
        // --- AddDelegate
        case(
            "AddDelegate/seed.request.xml",
            &AddDelegate::new(
                addr("user2@example.com"),
                DelegateUser::new(user("user1@example.com"))
                    .permissions(
                        DelegatePermissions::new()
                            .calendar(Permission::Author)
                            .contacts(Permission::Reviewer),
                    )
                    .receive_copies_of_meeting_messages(false)
                    .view_private_items(false),
            )
            .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe),
            &v2007,
            Some("user2@example.com"),
        ),
        case(
            "AddDelegate/two-delegates-all-folders.request.xml",
            &AddDelegate::new(
                addr("user1@example.com"),
                DelegateUser::new(
                    UserId::sid(
                        "S-1-5-21-1111111111-2222222222-333333333-1117"
                            .parse()
                            .expect("sid"),
                    )
                    .with_display_name("User Two"),
                )
                .permissions(
                    DelegatePermissions::new()
                        .journal(Permission::Editor)
                        .notes(Permission::Author)
                        .contacts(Permission::Reviewer)
                        .inbox(Permission::None)
                        .tasks(Permission::Editor)
                        .calendar(Permission::Editor),
                )
                .receive_copies_of_meeting_messages(true)
                .view_private_items(true),
            )
            .delegate(DelegateUser::new(user("user3@example.com"))),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "AddDelegate/no-forward.request.xml",
            &AddDelegate::new(
                addr("user1@example.com"),
                DelegateUser::new(user("user2@example.com"))
                    .permissions(DelegatePermissions::new().calendar(Permission::Reviewer)),
            )
            .deliver_meeting_requests(DeliverMeetingRequests::NoForward),
            &ctx(Exchange2010_SP1),
            Some("user1@example.com"),
        ),
        // --- UpdateDelegate
        case(
            "UpdateDelegate/seed.request.xml",
            &UpdateDelegate::new(
                addr("user1@example.com"),
                DelegateUser::new(user("user2@example.com"))
                    .permissions(DelegatePermissions::new().tasks(Permission::None))
                    .view_private_items(true),
            )
            .delegate(
                DelegateUser::new(user("user3@example.com"))
                    .permissions(DelegatePermissions::new().journal(Permission::Reviewer)),
            )
            .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndSendInformationToMe),
            &v2007,
            Some("user1@example.com"),
        ),
        case(
            "UpdateDelegate/deliver-only.request.xml",
            &UpdateDelegate::deliver_only(
                addr("user1@example.com"),
                DeliverMeetingRequests::DelegatesOnly,
            ),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- GetDelegate
        case(
            "GetDelegate/all.request.xml",
            &GetDelegate::new(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "GetDelegate/filtered-without-permissions.request.xml",
            &GetDelegate::new(addr("user1@example.com"))
                .include_permissions(false)
                .user(user("user2@example.com"))
                .user(UserId::sid(
                    "S-1-5-21-1111111111-2222222222-333333333-1118"
                        .parse()
                        .expect("sid"),
                )),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- RemoveDelegate
        case(
            "RemoveDelegate/one.request.xml",
            &RemoveDelegate::new(addr("user1@example.com"), user("user2@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "RemoveDelegate/two.request.xml",
            &RemoveDelegate::new(addr("user1@example.com"), user("user2@example.com"))
                .user(user("user3@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- CreateItem
        case(
            "CreateItem/seed-on-behalf.request.xml",
            &CreateItem::on_behalf_of(addr("user1@example.com"), seed_meeting()),
            &v2007,
            Some("user1@example.com"),
        ),
        case(
            "CreateItem/all-fields.request.xml",
            &CreateItem::on_behalf_of(addr("user1@example.com"), full_meeting()),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "CreateItem/exchange2007-meeting-time-zone.request.xml",
            &CreateItem::on_behalf_of(addr("user1@example.com"), full_meeting()),
            &v2007,
            Some("user1@example.com"),
        ),
        case(
            "CreateItem/two-appointments-own-calendar.request.xml",
            &CreateItem::new(
                None,
                NewCalendarItem::new(
                    "Dentist",
                    ts("2025-06-03T07:00:00Z"),
                    ts("2025-06-03T08:00:00Z"),
                )
                .expect("start is not after end")
                .free_busy(LegacyFreeBusyStatus::Oof)
                .no_reminder(),
                SendMeetingInvitations::SendToNone,
            )
            .item(
                NewCalendarItem::new(
                    "Holiday",
                    ts("2025-06-04T00:00:00Z"),
                    ts("2025-06-05T00:00:00Z"),
                )
                .expect("start is not after end")
                .all_day(true)
                .free_busy(LegacyFreeBusyStatus::Free),
            )
            .disposition(MessageDisposition::SaveOnly),
            &v2013,
            None,
        ),
        case(
            "CreateItem/send-only-to-all.request.xml",
            &CreateItem::on_behalf_of(addr("user1@example.com"), seed_meeting())
                .disposition(MessageDisposition::SendOnly)
                .invitations(SendMeetingInvitations::SendOnlyToAll),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- GetItem
        case(
            "GetItem/one.request.xml",
            &GetItem::new(ItemId::new("AAMkADk0N2E4=", Some("DwAAABYA".into())).expect("id")),
            &v2013,
            None,
        ),
        case(
            "GetItem/two-id-only-in-mailbox.request.xml",
            &GetItem::new(ItemId::new("AAMkAD1=", None).expect("id"))
                .id(ItemId::new("AAMkAD2+/=", Some("CQAAABYA".into())).expect("id"))
                .shape(BaseShape::IdOnly)
                .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- DeleteItem
        case(
            "DeleteItem/cancel-meeting.request.xml",
            &DeleteItem::new(
                ItemId::new("AAMkADk0N2E4=", Some("DwAAABYA".into())).expect("id"),
                DeleteType::MoveToDeletedItems,
            )
            .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy)
            .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "DeleteItem/hard-delete-two.request.xml",
            &DeleteItem::new(
                ItemId::new("AAMkAD1=", None).expect("id"),
                DeleteType::HardDelete,
            )
            .id(ItemId::new("AAMkAD2=", None).expect("id"))
            .cancellations(SendMeetingCancellations::SendToNone)
            .task_occurrences(AffectedTaskOccurrences::AllOccurrences),
            &v2013,
            None,
        ),
        // --- CreateItem of response objects
        case(
            "CreateItem/accept-on-behalf.request.xml",
            &RespondToMeeting::new(
                MeetingAnswer::Accept,
                ItemId::new("AAMkAGMr=", Some("CwAAABYA".into())).expect("id"),
            )
            .body(Body::text("Accepted for user1."))
            .in_mailbox(addr("user2@example.com")),
            &v2013,
            Some("user2@example.com"),
        ),
        case(
            "CreateItem/decline-without-response.request.xml",
            &RespondToMeeting::new(
                MeetingAnswer::Decline,
                ItemId::new("AAMkAGMr=", None).expect("id"),
            )
            .without_response(),
            &v2013,
            None,
        ),
        case(
            "CreateItem/cancel-with-note.request.xml",
            &CancelMeeting::new(ItemId::new("AAMkADk0N2E4=", Some("DwAAABYA".into())).expect("id"))
                .note(Body::text("Moved to next week."))
                .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- FindItem
        case(
            "FindItem/calendar-view-of-principal.request.xml",
            &FindItem::calendar_view(
                FolderId::of(DistinguishedFolder::Calendar, addr("user1@example.com")),
                ts("2025-06-01T00:00:00Z"),
                ts("2025-07-01T00:00:00Z"),
            )
            .expect("a range")
            .page_size(500),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "GetItem/with-attendees.request.xml",
            &GetItem::new(ItemId::new("AAMkADk0N2E4=", Some("DwAAABYA".into())).expect("id"))
                .property(FieldUri::RequiredAttendees)
                .property(FieldUri::OptionalAttendees)
                .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        // --- FindItem
        case(
            "FindItem/inbox-of-attendee.request.xml",
            &FindItem::new(FolderId::of(
                DistinguishedFolder::Inbox,
                addr("user3@example.com"),
            ))
            .page_size(50),
            &v2013,
            Some("user3@example.com"),
        ),
        case(
            "FindItem/own-calendar-all-properties.request.xml",
            &FindItem::new(FolderId::own(DistinguishedFolder::Calendar))
                .shape(BaseShape::AllProperties),
            &v2013,
            None,
        ),
        // --- UpdateItem
        case(
            "UpdateItem/move-on-behalf.request.xml",
            &UpdateItem::new(
                ItemChange::new(
                    meeting_id(),
                    [
                        CalendarChange::start(ts("2025-06-03T14:00:00Z")),
                        CalendarChange::end(ts("2025-06-03T15:00:00Z")),
                    ],
                )
                .expect("a valid change"),
                SendMeetingInvitationsOrCancellations::SendToAllAndSaveCopy,
                ConflictResolution::AutoResolve,
            )
            .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "UpdateItem/every-field.request.xml",
            &UpdateItem::new(
                ItemChange::new(meeting_id(), every_field()).expect("a valid change"),
                SendMeetingInvitationsOrCancellations::SendToChangedAndSaveCopy,
                ConflictResolution::NeverOverwrite,
            )
            .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "UpdateItem/wall-clock-in-context-zone.request.xml",
            &UpdateItem::new(
                ItemChange::new(
                    meeting_id(),
                    [
                        CalendarChange::start_wall_clock(civil("2025-06-03T16:00:00")),
                        CalendarChange::end_wall_clock(civil("2025-06-03T17:00:00")),
                    ],
                )
                .expect("a valid change"),
                SendMeetingInvitationsOrCancellations::SendOnlyToChanged,
                ConflictResolution::AlwaysOverwrite,
            ),
            &v2013
                .clone()
                .with_time_zone(TimeZoneId::new("W. Europe Standard Time").expect("tz")),
            None,
        ),
        case(
            "UpdateItem/exchange2007-meeting-time-zone.request.xml",
            &UpdateItem::new(
                ItemChange::new(
                    meeting_id(),
                    [
                        CalendarChange::start(ts("2025-06-03T14:00:00Z")),
                        CalendarChange::time_zone(
                            TimeZoneId::from_iana("Europe/Berlin").expect("tz"),
                        ),
                    ],
                )
                .expect("a valid change"),
                SendMeetingInvitationsOrCancellations::SendOnlyToAll,
                ConflictResolution::AutoResolve,
            ),
            &v2007,
            None,
        ),
        case(
            "UpdateItem/occurrence-and-series.request.xml",
            &UpdateItem::new(
                ItemChange::new(
                    ItemRef::occurrence(series_id(), 3).expect("index"),
                    [
                        CalendarChange::location("Room 2"),
                        CalendarChange::free_busy(LegacyFreeBusyStatus::Free),
                    ],
                )
                .expect("a valid change"),
                SendMeetingInvitationsOrCancellations::SendToNone,
                ConflictResolution::AutoResolve,
            )
            .item(
                ItemChange::new(
                    ItemRef::master_of(
                        ItemId::new("AAMkOcc4=", Some("DwOcc4".into())).expect("id"),
                    ),
                    [CalendarChange::recurrence(weekly_series())],
                )
                .expect("a valid change"),
            )
            .item(
                ItemChange::new(
                    series_id(),
                    [
                        CalendarChange::remove_recurrence(),
                        CalendarChange::clear_location(),
                        CalendarChange::categories(Vec::<String>::new()),
                        CalendarChange::optional_attendees([]),
                    ],
                )
                .expect("a valid change"),
            ),
            &v2013,
            None,
        ),
        // --- Recurrence on create, zoned times
        case(
            "CreateItem/recurring-weekly-zoned.request.xml",
            &CreateItem::on_behalf_of(
                addr("user1@example.com"),
                NewCalendarItem::zoned(
                    "Team sync",
                    &zoned("2025-06-02T09:30[Europe/Berlin]"),
                    &zoned("2025-06-02T10:00[Europe/Berlin]"),
                )
                .expect("a valid item")
                .required_attendee(Mailbox::new(addr("user3@example.com")))
                .recurrence(weekly_series()),
            ),
            &v2013,
            Some("user1@example.com"),
        ),
        case(
            "CreateItem/recurrence-patterns.request.xml",
            &recurrence_patterns(),
            &v2013,
            None,
        ),
        // --- Occurrence and series ids
        case(
            "GetItem/occurrence-and-series.request.xml",
            &GetItem::new(ItemRef::occurrence(series_id(), 2).expect("index"))
                .id(ItemRef::master_of(
                    ItemId::new("AAMkOcc4=", None).expect("id"),
                ))
                .shape(BaseShape::IdOnly),
            &v2013,
            None,
        ),
        case(
            "DeleteItem/one-occurrence.request.xml",
            &DeleteItem::new(
                ItemRef::occurrence(series_id(), 5).expect("index"),
                DeleteType::MoveToDeletedItems,
            )
            .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy)
            .in_mailbox(addr("user1@example.com")),
            &v2013,
            Some("user1@example.com"),
        ),
    ];

    // --- Headers, each alone (on GetDelegate, which binds all but TimeZoneContext) ...
    let get = GetDelegate::new(addr("user1@example.com"));
    let impersonations = [
        (
            "headers/impersonation-principal-name.request.xml",
            Impersonation::PrincipalName("user1@corp.example.com".parse().expect("upn")),
            Some("user1@corp.example.com"),
        ),
        (
            "headers/impersonation-sid.request.xml",
            Impersonation::Sid(
                "S-1-5-21-1111111111-2222222222-333333333-1116"
                    .parse()
                    .expect("sid"),
            ),
            Some("user1@example.com"),
        ),
        (
            "headers/impersonation-primary-smtp.request.xml",
            Impersonation::PrimarySmtpAddress(addr("user1@example.com")),
            Some("user1@example.com"),
        ),
        (
            "headers/impersonation-smtp.request.xml",
            Impersonation::SmtpAddress(addr("alias1@example.com")),
            Some("alias1@example.com"),
        ),
    ];
    for (file, who, anchor) in impersonations {
        out.push(case(
            file,
            &get,
            &v2013.clone().with_impersonation(who),
            anchor,
        ));
    }
    out.push(case(
        "headers/mailbox-culture.request.xml",
        &get,
        &v2013
            .clone()
            .with_culture("ja-JP".parse().expect("culture")),
        Some("user1@example.com"),
    ));
    let tz = TimeZoneId::new("Tokyo Standard Time").expect("tz");
    out.push(case(
        "headers/time-zone-context.request.xml",
        &CreateItem::on_behalf_of(addr("user1@example.com"), seed_meeting()),
        &v2013.clone().with_time_zone(tz.clone()),
        Some("user1@example.com"),
    ));
    // TimeZoneContext is not bound to GetDelegate: the context's zone is left out.
    out.push(case(
        "headers/time-zone-not-bound.request.xml",
        &get,
        &v2013.clone().with_time_zone(tz.clone()),
        Some("user1@example.com"),
    ));
    // ... and all together.
    out.push(case(
        "headers/all-together.request.xml",
        &CreateItem::on_behalf_of(addr("user1@example.com"), seed_meeting()),
        &v2013
            .clone()
            .with_impersonation(Impersonation::PrimarySmtpAddress(addr("user2@example.com")))
            .with_culture("en-US".parse().expect("culture"))
            .with_time_zone(tz),
        Some("user2@example.com"),
    ));
    // --- RequestServerVersion: every ExchangeVersionType value.
    for v in ExchangeVersion::ALL {
        let file: &'static str =
            Box::leak(format!("headers/version/{v}.request.xml").into_boxed_str());
        out.push(case(file, &get, &ctx(*v), Some("user1@example.com")));
    }
    out
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn requests_match_golden_files() {
    let bless = std::env::var_os("EWS_BLESS").is_some();
    let mut failures = Vec::new();
    let mut report = String::new();
    let (mut rewritten, mut unchanged) = (0, 0);
    for c in cases() {
        let path = golden_dir().join(c.file);
        let body = String::from_utf8_lossy(c.request.body()).into_owned();
        let old = std::fs::read(&path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        if bless {
            if old.as_deref() == Some(body.as_str()) {
                unchanged += 1;
                continue;
            }
            std::fs::create_dir_all(path.parent().expect("golden files live in a folder"))
                .expect("create folder");
            std::fs::write(&path, &body).expect("write golden file");
            rewritten += 1;
            report.push_str(&unified_diff(c.file, old.as_deref(), &body));
            continue;
        }
        match old {
            Some(expected) if expected == body => {}
            Some(expected) => failures.push(format!(
                "{}: differs from the golden file (EWS_BLESS=1 rewrites it after an intended \
                 change):\n{}",
                c.file,
                unified_diff(c.file, Some(&expected), &body)
            )),
            None => failures.push(format!(
                "{}: missing (run with EWS_BLESS=1 to create it)",
                c.file
            )),
        }
    }
    if bless {
        // Straight to the process's stderr, past the test harness's capture: whoever
        // blesses sees every change written.
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "{report}EWS_BLESS: {rewritten} golden file(s) rewritten, {unchanged} unchanged"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The XML as one tag (or text run) per line: golden bodies are a single line, so a diff
/// by physical lines would show the whole body twice.
fn diff_units(xml: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in xml.lines() {
        let mut start = 0;
        for (i, ch) in line.char_indices() {
            let cut = match ch {
                '>' => Some(i + 1),
                '<' if i > start => Some(i),
                _ => None,
            };
            if let Some(end) = cut {
                out.push(&line[start..end]);
                start = end;
            }
        }
        if start < line.len() {
            out.push(&line[start..]);
        }
    }
    out
}

/// A unified diff (three units of context) from `old` (`None`: a new file) to `new`.
fn unified_diff(file: &str, old: Option<&str>, new: &str) -> String {
    let a = old.map(diff_units).unwrap_or_default();
    let b = diff_units(new);
    // Longest common subsequence, from the end: lcs[i][j] for a[i..], b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // The edit script: (' ' | '-' | '+', old index, new index, text).
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i, j, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i, j, a[i]));
            i += 1;
        } else {
            ops.push(('+', i, j, b[j]));
            j += 1;
        }
    }
    let mut out = format!(
        "--- a/ews-proto/tests/golden/{file}{}\n+++ b/ews-proto/tests/golden/{file} (one tag per line)\n",
        if old.is_none() { " (new file)" } else { "" }
    );
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut k = 0;
    while k < changed.len() {
        // A hunk: changes closer than twice the context share one.
        let first = changed[k];
        let mut last = first;
        while k + 1 < changed.len() && changed[k + 1] <= last + 2 * CONTEXT + 1 {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let from = first.saturating_sub(CONTEXT);
        let to = (last + CONTEXT + 1).min(ops.len());
        let hunk = &ops[from..to];
        let old_len = hunk.iter().filter(|o| o.0 != '+').count();
        let new_len = hunk.iter().filter(|o| o.0 != '-').count();
        let (_, old_at, new_at, _) = hunk[0];
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            old_at + usize::from(old_len > 0),
            new_at + usize::from(new_len > 0)
        ));
        for (tag, _, _, text) in hunk {
            out.push_str(&format!("{tag}{text}\n"));
        }
    }
    out
}

#[test]
fn the_bless_diff_shows_exactly_the_change() {
    let old = r#"<a><b x="1">text</b><c/><d/><e/><f/><g/><h/><i/></a>"#;
    let new = r#"<a><b x="2">text</b><c/><d/><e/><f/><g/><h/><i/><j/></a>"#;
    let diff = unified_diff("X/y.request.xml", Some(old), new);
    assert_eq!(
        diff,
        "--- a/ews-proto/tests/golden/X/y.request.xml\n\
         +++ b/ews-proto/tests/golden/X/y.request.xml (one tag per line)\n\
         @@ -1,5 +1,5 @@\n <a>\n-<b x=\"1\">\n+<b x=\"2\">\n text\n </b>\n <c/>\n\
         @@ -9,4 +9,5 @@\n <g/>\n <h/>\n <i/>\n+<j/>\n </a>\n"
    );
    let created = unified_diff("n.xml", None, "<a>t</a>");
    assert!(created.contains("(new file)"), "{created}");
    assert!(
        created.ends_with("@@ -0,0 +1,3 @@\n+<a>\n+t\n+</a>\n"),
        "{created}"
    );
    assert_eq!(unified_diff("same.xml", Some(old), old).lines().count(), 2);
}

#[test]
fn http_framing_of_every_golden_request() {
    for c in cases() {
        let r = &c.request;
        assert_eq!(r.method(), http::Method::POST, "{}", c.file);
        assert_eq!(r.uri(), ENDPOINT, "{}", c.file);
        assert_eq!(
            r.headers()["content-type"],
            "text/xml; charset=utf-8",
            "{}",
            c.file
        );
        let action = format!(
            "\"http://schemas.microsoft.com/exchange/services/2006/messages/{}\"",
            c.action
        );
        assert_eq!(r.headers()["soapaction"], action.as_str(), "{}", c.file);
        let anchor = r
            .headers()
            .get(X_ANCHOR_MAILBOX)
            .map(|v| v.to_str().expect("ascii"));
        let expected_anchor = match c.file {
            // A SID cannot route: the operation's own mailbox is used.
            "headers/impersonation-sid.request.xml" => Some("user1@example.com"),
            _ => c.anchor,
        };
        assert_eq!(anchor, expected_anchor, "{}", c.file);
        let body = std::str::from_utf8(r.body()).expect("UTF-8 body");
        assert!(
            !body.contains("https://schemas"),
            "{}: https namespace",
            c.file
        );
    }
}

#[test]
fn every_golden_file_is_produced_by_a_case() {
    let produced: BTreeSet<String> = cases().iter().map(|c| c.file.to_owned()).collect();
    let mut on_disk = BTreeSet::new();
    let mut stack = vec![golden_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("golden dir exists") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(golden_dir()).expect("below golden dir");
                on_disk.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let stale: Vec<_> = on_disk.difference(&produced).collect();
    assert!(stale.is_empty(), "golden files no case produces: {stale:?}");
}

#[test]
fn on_behalf_golden_carries_the_principal_mailbox() {
    let body = std::fs::read_to_string(golden_dir().join("CreateItem/seed-on-behalf.request.xml"))
        .expect("golden file");
    assert!(body.contains(
        "<m:SavedItemFolderId><t:DistinguishedFolderId Id=\"calendar\"><t:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId>"
    ));
    assert!(body.contains("<m:CreateItem MessageDisposition=\"SendAndSaveCopy\" SendMeetingInvitations=\"SendToAllAndSaveCopy\">"));
}
