//! The delegate's calendar work, in both faces, checked at the simulator: reading the
//! principal's calendar over a long, full range (series expanded, attendees loaded),
//! moving a meeting (updates counted at each attendee, a stale change key refused and
//! retried, `SendToNone` silent), cancelling with a note, answering a forwarded request
//! on the principal's behalf, and a weekly series in the principal's time zone.
//!
//! Each scenario is written once against [`Face`] and run by a blocking and an async
//! client. Expected values are worked out by hand here, never by the code under test.

use std::collections::{BTreeMap, HashSet};

use ews_proto::calendar::SweepResult;
use ews_proto::jiff::Timestamp;
use ews_proto::jiff::civil::{Weekday, date};
use ews_proto::{
    AttendeeResponse, Body, CalendarChange, CalendarItemType, ConflictResolution, CreateItem,
    Credentials, DeleteItem, DeleteType, DeliverMeetingRequests, DistinguishedFolder, EmailAddress,
    Error, FindItem, FolderId, GetItem, Item, ItemChange, ItemId, Mailbox, MeetingAnswer,
    MessageDisposition, NewCalendarItem, Operation, Recurrence, RecurrencePattern, RecurrenceRange,
    Reply, RespondToMeeting, ResponseCode, SendMeetingCancellations, SendMeetingInvitations,
    SendMeetingInvitationsOrCancellations as Send, TimeZoneId, UpdateItem,
};
use ews_tests::sim::{Seed, SeedItem};
use ews_tests::{
    DelegateSnapshot, ItemKind, ItemSnapshot, PermissionLevel, Permissions, SimConfig, Simulator,
};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";
const U4: &str = "user4@example.com";

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

type Created = <CreateItem as Operation>::Output;
type Updated = <UpdateItem as Operation>::Output;
type Got = <GetItem as Operation>::Output;
type Answered = <RespondToMeeting as Operation>::Output;
type Cancelled = <ews_proto::CancelMeeting as Operation>::Output;
type Found = <FindItem as Operation>::Output;
type Deleted = <DeleteItem as Operation>::Output;

/// The calls of the scenarios, made by `who`'s client of one face.
trait Face {
    fn read_calendar(
        &self,
        who: &str,
        mailbox: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<SweepResult, Error>;
    fn send_meeting_on_behalf(
        &self,
        who: &str,
        principal: &str,
        m: NewCalendarItem,
    ) -> Result<Reply<Created>, Error>;
    fn create(&self, who: &str, op: CreateItem) -> Result<Reply<Created>, Error>;
    fn get_item(&self, who: &str, op: GetItem) -> Result<Reply<Got>, Error>;
    fn find_items(&self, who: &str, op: FindItem) -> Result<Reply<Found>, Error>;
    fn delete(&self, who: &str, op: DeleteItem) -> Result<Reply<Deleted>, Error>;
    fn update_item(&self, who: &str, op: UpdateItem) -> Result<Reply<Updated>, Error>;
    fn update_item_refetching(
        &self,
        who: &str,
        op: UpdateItem,
        retries: u32,
    ) -> Result<Updated, Error>;
    fn cancel_meeting_on_behalf(
        &self,
        who: &str,
        principal: &str,
        id: ItemId,
        note: Option<Body>,
    ) -> Result<Reply<Cancelled>, Error>;
    fn respond_to_meeting(
        &self,
        who: &str,
        mailbox: &str,
        request: ItemId,
        answer: MeetingAnswer,
    ) -> Result<Reply<Answered>, Error>;
    fn respond(&self, who: &str, op: RespondToMeeting) -> Result<Reply<Answered>, Error>;
    fn update_deliver_meeting_requests(
        &self,
        who: &str,
        d: DeliverMeetingRequests,
    ) -> Result<(), Error>;
}

/// The face's methods, once: `$run!(self, call)` runs a call of the face's client (as is,
/// or on the async face's runtime).
macro_rules! face_methods {
    ($run:ident) => {
        fn read_calendar(
            &self,
            who: &str,
            mailbox: &str,
            start: Timestamp,
            end: Timestamp,
        ) -> Result<SweepResult, Error> {
            $run!(
                self,
                self.client(who).read_calendar(&addr(mailbox), start, end)
            )
        }
        fn send_meeting_on_behalf(
            &self,
            who: &str,
            principal: &str,
            m: NewCalendarItem,
        ) -> Result<Reply<Created>, Error> {
            $run!(
                self,
                self.client(who).send_meeting_on_behalf(&addr(principal), m)
            )
        }
        fn create(&self, who: &str, op: CreateItem) -> Result<Reply<Created>, Error> {
            $run!(self, self.client(who).send(&op))
        }
        fn get_item(&self, who: &str, op: GetItem) -> Result<Reply<Got>, Error> {
            $run!(self, self.client(who).get_item(op))
        }
        fn find_items(&self, who: &str, op: FindItem) -> Result<Reply<Found>, Error> {
            $run!(self, self.client(who).find_items(op))
        }
        fn delete(&self, who: &str, op: DeleteItem) -> Result<Reply<Deleted>, Error> {
            $run!(self, self.client(who).send(&op))
        }
        fn update_item(&self, who: &str, op: UpdateItem) -> Result<Reply<Updated>, Error> {
            $run!(self, self.client(who).update_item(op))
        }
        fn update_item_refetching(
            &self,
            who: &str,
            op: UpdateItem,
            retries: u32,
        ) -> Result<Updated, Error> {
            $run!(self, self.client(who).update_item_refetching(op, retries))
        }
        fn cancel_meeting_on_behalf(
            &self,
            who: &str,
            principal: &str,
            id: ItemId,
            note: Option<Body>,
        ) -> Result<Reply<Cancelled>, Error> {
            $run!(
                self,
                self.client(who)
                    .cancel_meeting_on_behalf(&addr(principal), id, note)
            )
        }
        fn respond_to_meeting(
            &self,
            who: &str,
            mailbox: &str,
            request: ItemId,
            answer: MeetingAnswer,
        ) -> Result<Reply<Answered>, Error> {
            $run!(
                self,
                self.client(who)
                    .respond_to_meeting(&addr(mailbox), request, answer)
            )
        }
        fn respond(&self, who: &str, op: RespondToMeeting) -> Result<Reply<Answered>, Error> {
            $run!(self, self.client(who).send(&op))
        }
        fn update_deliver_meeting_requests(
            &self,
            who: &str,
            d: DeliverMeetingRequests,
        ) -> Result<(), Error> {
            $run!(
                self,
                self.client(who)
                    .update_deliver_meeting_requests(&addr(who), d)
            )
            .map(|_| ())
        }
    };
}

macro_rules! now {
    ($face:expr, $call:expr) => {
        $call
    };
}

macro_rules! on_runtime {
    ($face:expr, $call:expr) => {
        $face.rt.block_on($call)
    };
}

fn password(who: &str) -> String {
    let n = who.trim_start_matches("user").chars().next().unwrap_or('0');
    format!("Passw0rd-{n}")
}

struct Blocking(BTreeMap<&'static str, ews_blocking::Client>);

impl Blocking {
    fn new(sim: &Simulator) -> Self {
        Blocking(
            [U1, U2, U3, U4]
                .into_iter()
                .map(|u| {
                    let c = ews_blocking::Client::builder(&sim.url())
                        .credentials(Credentials::basic(u, password(u)))
                        .build()
                        .expect("client");
                    (u, c)
                })
                .collect(),
        )
    }
    fn client(&self, who: &str) -> &ews_blocking::Client {
        &self.0[who]
    }
}

impl Face for Blocking {
    face_methods!(now);
}

struct Async {
    rt: tokio::runtime::Runtime,
    clients: BTreeMap<&'static str, ews_async::Client>,
}

impl Async {
    fn new(sim: &Simulator) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let clients = [U1, U2, U3, U4]
            .into_iter()
            .map(|u| {
                let c = ews_async::Client::builder(&sim.url())
                    .credentials(Credentials::basic(u, password(u)))
                    .build()
                    .expect("client");
                (u, c)
            })
            .collect();
        Async { rt, clients }
    }
    fn client(&self, who: &str) -> &ews_async::Client {
        &self.clients[who]
    }
}

impl Face for Async {
    face_methods!(on_runtime);
}

/// Each scenario, in both faces (a fresh simulator each).
macro_rules! both_faces {
    ($($name:ident),* $(,)?) => {
        mod blocking {
            $(
                #[test]
                fn $name() {
                    let sim = super::simulator();
                    super::$name(&super::Blocking::new(&sim), &sim);
                }
            )*
        }
        mod nonblocking {
            $(
                #[test]
                fn $name() {
                    let sim = super::simulator();
                    super::$name(&super::Async::new(&sim), &sim);
                }
            )*
        }
    };
}

both_faces!(
    the_delegate_reads_a_full_calendar_once,
    the_delegate_moves_a_meeting,
    the_delegate_cancels_with_a_note,
    the_delegate_answers_a_forwarded_request,
    a_weekly_series_keeps_its_local_time,
);

/// The seed organisation; user2 is user1's delegate with Calendar and Inbox Editor.
fn simulator() -> Simulator {
    let sim = Simulator::start(SimConfig::seed());
    assert!(sim.set_delegate(
        U1,
        DelegateSnapshot {
            smtp: U2.to_owned(),
            permissions: Permissions {
                calendar: PermissionLevel::Editor,
                inbox: PermissionLevel::Editor,
                ..Permissions::default()
            },
            receive_copies_of_meeting_messages: true,
            view_private_items: false,
        },
    ));
    sim
}

fn meeting(subject: &str, start: &str, end: &str, attendees: &[&str]) -> NewCalendarItem {
    let mut m = NewCalendarItem::new(subject, ts(start), ts(end)).expect("meeting");
    for a in attendees {
        m = m.required_attendee(Mailbox::new(addr(a)));
    }
    m
}

/// The id (with change key) CreateItem answered.
fn created_id(reply: Reply<Created>) -> ItemId {
    reply
        .body
        .into_iter()
        .next()
        .expect("one answer")
        .into_result()
        .expect("created")
        .expect("an id")
        .id
}

fn inbox_of(sim: &Simulator, who: &str, kind: ItemKind) -> Vec<ItemSnapshot> {
    sim.mailbox(who)
        .expect("mailbox")
        .inbox
        .into_iter()
        .filter(|i| i.kind == kind)
        .collect()
}

fn item_id(i: &ItemSnapshot) -> ItemId {
    ItemId::new(&i.id, Some(i.change_key.clone())).expect("id")
}

fn email(a: &Option<ews_tests::Address>) -> String {
    a.as_ref().map(|a| a.email.clone()).unwrap_or_default()
}

/// (a) Two years of user1's calendar, read by user2: 1,100 single items (some meetings)
/// and a weekly series of 60 occurrences; more than the 1000 entries one CalendarView
/// answer holds, so the sweep must split windows. Every item exactly once, attendees
/// loaded.
fn the_delegate_reads_a_full_calendar_once(face: &dyn Face, sim: &Simulator) {
    // 1,100 half-hour items, one every 15 hours from 2025-01-01 (the last on 2026-11-17).
    let first = ts("2025-01-01T08:00:00Z");
    let items: Vec<SeedItem> = (0..1100i64)
        .map(|n| {
            let start = first
                .checked_add(ews_proto::jiff::SignedDuration::from_hours(15 * n))
                .expect("start");
            let end = start
                .checked_add(ews_proto::jiff::SignedDuration::from_mins(30))
                .expect("end");
            SeedItem {
                owner: U1.to_owned(),
                kind: Some("CalendarItem".to_owned()),
                folder: None,
                subject: Some(format!("Item {n}")),
                body: None,
                from: None,
                sender: None,
                to: Vec::new(),
                cc: Vec::new(),
                received: None,
                is_read: false,
                sensitivity: None,
                importance: None,
                categories: Vec::new(),
                start: Some(start.to_string()),
                end: Some(end.to_string()),
                location: None,
                attendees: if n % 10 == 0 {
                    vec![U3.to_owned()]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let report = sim
        .seed(&Seed {
            items,
            ..Seed::default()
        })
        .expect("seed");
    assert_eq!(report.items.len(), 1100);
    // A weekly series, Monday and Wednesday, 60 occurrences from Monday 2 June 2025 (the
    // 60th is on Wednesday 28 January 2026: 30 weeks of two).
    let series = meeting(
        "Standup",
        "2025-06-02T07:00:00Z",
        "2025-06-02T07:15:00Z",
        &[U3, U4],
    )
    .time_zone(TimeZoneId::new("UTC").expect("zone"))
    .recurrence(Recurrence::new(
        RecurrencePattern::weekly(1, [Weekday::Monday, Weekday::Wednesday]).expect("pattern"),
        RecurrenceRange::numbered(date(2025, 6, 2), 60).expect("range"),
    ));
    let master = created_id(
        face.send_meeting_on_behalf(U2, U1, series)
            .expect("CreateItem"),
    );

    let found = face
        .read_calendar(
            U2,
            U1,
            ts("2025-01-01T00:00:00Z"),
            ts("2027-01-01T00:00:00Z"),
        )
        .expect("the calendar");
    let mut ids = HashSet::new();
    for item in &found.items {
        let id = item.item_id().expect("an id").id().to_owned();
        assert!(ids.insert(id.clone()), "{id} came twice");
    }
    assert_eq!(found.items.len(), 1100 + 60, "every item, once");
    for seeded in &report.items {
        assert!(ids.contains(seeded), "{seeded} is missing");
    }
    assert!(
        !ids.contains(master.id()),
        "a series shows as its occurrences"
    );
    let mut occurrences = 0;
    for item in &found.items {
        let Item::Calendar(c) = item else {
            panic!("not a calendar item: {item:?}");
        };
        let attendees: Vec<String> = c
            .required_attendees
            .iter()
            .filter_map(|a| a.mailbox.address().map(str::to_owned))
            .collect();
        match c.subject.as_deref() {
            Some("Standup") => {
                occurrences += 1;
                assert_eq!(c.calendar_item_type, Some(CalendarItemType::Occurrence));
                assert_eq!(attendees, [U3, U4], "attendees loaded");
            }
            Some(s) => {
                let n: i64 = s.trim_start_matches("Item ").parse().expect("seeded");
                let want: &[&str] = if n % 10 == 0 { &[U3] } else { &[] };
                assert_eq!(attendees, want, "{s}: attendees loaded");
            }
            None => panic!("an item without subject"),
        }
    }
    assert_eq!(occurrences, 60);
    // The sweep asked for the two years in one window and had to split it.
    let views = sim.requests_for("FindItem");
    assert!(views.len() >= 3, "{} views", views.len());

    // One view asking for more than Exchange's 1000 entries gets 1000, and is told that
    // the range held more; a view longer than two years is refused.
    let calendar = FolderId::of(DistinguishedFolder::Calendar, addr(U1));
    let view = |start: &str, end: &str| {
        FindItem::calendar_view(calendar.clone(), ts(start), ts(end))
            .expect("view")
            .page_size(5000)
    };
    let page = face
        .find_items(U2, view("2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z"))
        .expect("FindItem")
        .body
        .into_iter()
        .next()
        .expect("an answer")
        .into_result()
        .expect("a page")
        .expect("a root folder");
    assert_eq!(page.items.len(), 1000);
    assert_eq!(page.includes_last_item_in_range, Some(false));
    assert_eq!(page.total_items_in_view, Some(1160));
    let too_big = face
        .find_items(U2, view("2025-01-01T00:00:00Z", "2027-01-01T00:00:01Z"))
        .expect("FindItem");
    assert_eq!(
        *too_big.body[0].code(),
        ResponseCode::ErrorCalendarViewRangeTooBig
    );
}

/// (b) user2 moves user1's meeting with user3 and user4.
fn the_delegate_moves_a_meeting(face: &dyn Face, sim: &Simulator) {
    let created = created_id(
        face.send_meeting_on_behalf(
            U2,
            U1,
            meeting(
                "Budget",
                "2025-06-03T09:00:00Z",
                "2025-06-03T10:00:00Z",
                &[U3, U4],
            ),
        )
        .expect("CreateItem"),
    );
    // user3 accepts: the answer reaches user1's calendar item, whose change key moves on.
    let request = inbox_of(sim, U3, ItemKind::MeetingRequest).remove(0);
    face.respond_to_meeting(U3, U3, item_id(&request), MeetingAnswer::Accept)
        .expect("accept")
        .body[0]
        .as_result()
        .expect("accepted");
    let organizer = sim.item(created.id()).expect("the meeting");
    assert_eq!(organizer.responses[U3].response_type, "Accept");
    assert_ne!(Some(organizer.change_key.as_str()), created.change_key());

    // A move with the change key CreateItem answered: stale, and NeverOverwrite refuses.
    let move_it = |id: ItemId, conflict| {
        UpdateItem::new(
            ItemChange::new(
                id,
                [
                    CalendarChange::start(ts("2025-06-03T14:00:00Z")),
                    CalendarChange::end(ts("2025-06-03T15:00:00Z")),
                ],
            )
            .expect("change"),
            Send::SendToAllAndSaveCopy,
            conflict,
        )
        .in_mailbox(addr(U1))
    };
    let refused = face
        .update_item(
            U2,
            move_it(created.clone(), ConflictResolution::NeverOverwrite),
        )
        .expect("UpdateItem");
    assert!(refused.body[0].is_irresolvable_conflict(), "{refused:?}");
    assert_eq!(
        *refused.body[0].code(),
        ResponseCode::ErrorIrresolvableConflict
    );
    for a in [U3, U4] {
        assert_eq!(sim.mailbox(a).expect("attendee").updates_received, 0);
    }
    assert_eq!(
        sim.item(created.id()).expect("meeting").start.as_deref(),
        Some("2025-06-03T09:00:00Z")
    );

    // The retry helper reads the item again and succeeds once.
    sim.clear_requests();
    let moved = face
        .update_item_refetching(
            U2,
            move_it(created.clone(), ConflictResolution::NeverOverwrite),
            1,
        )
        .expect("requests and answers");
    let moved = moved[0].as_result().expect("moved").clone();
    let ops: Vec<String> = sim
        .requests()
        .into_iter()
        .filter_map(|r| r.operation)
        .collect();
    assert_eq!(ops, ["UpdateItem", "GetItem", "UpdateItem"]);
    let stored = sim.item(created.id()).expect("meeting");
    assert_eq!(stored.start.as_deref(), Some("2025-06-03T14:00:00Z"));
    assert_eq!(
        moved.id.as_ref().and_then(ItemId::change_key),
        Some(stored.change_key.as_str())
    );
    // Exactly one update at each attendee, sent by user2 on behalf of user1.
    for a in [U3, U4] {
        let mb = sim.mailbox(a).expect("attendee");
        assert_eq!(mb.updates_received, 1, "{a}");
        let updates: Vec<_> = mb
            .inbox
            .iter()
            .filter(|i| i.kind == ItemKind::MeetingRequest && i.is_update)
            .collect();
        assert_eq!(updates.len(), 1, "{a}");
        assert_eq!(updates[0].start.as_deref(), Some("2025-06-03T14:00:00Z"));
        assert_eq!(email(&updates[0].from), U1);
        assert_eq!(email(&updates[0].sender), U2);
    }
    assert_eq!(sim.mailbox(U1).expect("u1").updates_sent, 2);
    // user3's accepted meeting moved with it.
    let u3 = sim.mailbox(U3).expect("u3");
    assert_eq!(u3.calendar.len(), 1);
    assert_eq!(
        u3.calendar[0].start.as_deref(),
        Some("2025-06-03T14:00:00Z")
    );
    // The copy saved in user2's Sent Items.
    assert!(
        sim.mailbox(U2)
            .expect("u2")
            .sent_items
            .iter()
            .any(|i| i.kind == ItemKind::MeetingRequest && i.is_update)
    );

    // SendToNone: the calendar changes, nobody hears of it.
    let fresh = moved.id.clone().expect("new id");
    let quiet = face
        .update_item(
            U2,
            UpdateItem::new(
                ItemChange::new(fresh.clone(), [CalendarChange::location("Room 7")])
                    .expect("change"),
                Send::SendToNone,
                ConflictResolution::NeverOverwrite,
            )
            .in_mailbox(addr(U1)),
        )
        .expect("UpdateItem");
    let after_quiet = quiet.body[0].as_result().expect("updated").clone();
    assert_eq!(
        sim.item(created.id()).expect("meeting").location.as_deref(),
        Some("Room 7")
    );
    for a in [U3, U4] {
        assert_eq!(sim.mailbox(a).expect("attendee").updates_received, 1, "{a}");
    }
    assert_eq!(sim.mailbox(U1).expect("u1").updates_sent, 2);

    // With `fresh` stale (the location changed since), AutoResolve merges a change of
    // another property, and AlwaysOverwrite reports the location it overwrites.
    let subject = face
        .update_item(
            U2,
            UpdateItem::new(
                ItemChange::new(fresh.clone(), [CalendarChange::subject("Budget 2")])
                    .expect("change"),
                Send::SendToNone,
                ConflictResolution::AutoResolve,
            ),
        )
        .expect("UpdateItem");
    assert_eq!(
        subject.body[0].as_result().expect("merged").conflict_count,
        0
    );
    let refused = face
        .update_item(
            U2,
            UpdateItem::new(
                ItemChange::new(fresh.clone(), [CalendarChange::location("Room 8")])
                    .expect("change"),
                Send::SendToNone,
                ConflictResolution::AutoResolve,
            ),
        )
        .expect("UpdateItem");
    assert!(refused.body[0].is_irresolvable_conflict());
    let overwritten = face
        .update_item(
            U2,
            UpdateItem::new(
                ItemChange::new(fresh, [CalendarChange::location("Room 9")]).expect("change"),
                Send::SendToNone,
                ConflictResolution::AlwaysOverwrite,
            ),
        )
        .expect("UpdateItem");
    assert_eq!(
        overwritten.body[0]
            .as_result()
            .expect("overwritten")
            .conflict_count,
        1
    );
    let stored = sim.item(created.id()).expect("meeting");
    assert_eq!(stored.location.as_deref(), Some("Room 9"));
    assert_eq!(stored.subject.as_deref(), Some("Budget 2"));
    assert_ne!(
        after_quiet.id.as_ref().and_then(ItemId::change_key),
        Some(stored.change_key.as_str())
    );

    // user4 has no rights on user1's calendar.
    let current = ItemId::new(&stored.id, Some(stored.change_key.clone())).expect("id");
    let denied = face
        .update_item(
            U4,
            UpdateItem::new(
                ItemChange::new(current, [CalendarChange::location("Room 10")]).expect("change"),
                Send::SendToNone,
                ConflictResolution::AlwaysOverwrite,
            ),
        )
        .expect("UpdateItem");
    assert_eq!(*denied.body[0].code(), ResponseCode::ErrorAccessDenied);
}

/// (c) user2 cancels user1's meeting with a note; cancelling an attendee's copy is
/// refused.
fn the_delegate_cancels_with_a_note(face: &dyn Face, sim: &Simulator) {
    let created = created_id(
        face.send_meeting_on_behalf(
            U2,
            U1,
            meeting(
                "Offsite",
                "2025-07-01T09:00:00Z",
                "2025-07-01T17:00:00Z",
                &[U3, U4],
            ),
        )
        .expect("CreateItem"),
    );
    let request = inbox_of(sim, U3, ItemKind::MeetingRequest).remove(0);
    face.respond_to_meeting(U3, U3, item_id(&request), MeetingAnswer::Accept)
        .expect("accept");
    let copy = sim.mailbox(U3).expect("u3").calendar.remove(0);

    // The attendee's copy cannot be cancelled, nor changed with sending.
    let refused = face
        .cancel_meeting_on_behalf(U3, U3, item_id(&copy), None)
        .expect("CancelCalendarItem");
    assert_eq!(
        *refused.body[0].code(),
        ResponseCode::ErrorCalendarIsNotOrganizer
    );
    let refused = face
        .update_item(
            U3,
            UpdateItem::new(
                ItemChange::new(item_id(&copy), [CalendarChange::location("Home")])
                    .expect("change"),
                Send::SendToAllAndSaveCopy,
                ConflictResolution::AutoResolve,
            ),
        )
        .expect("UpdateItem");
    assert_eq!(
        *refused.body[0].code(),
        ResponseCode::ErrorCalendarIsNotOrganizer
    );
    assert_eq!(sim.mailbox(U4).expect("u4").cancellations_received, 0);

    let note = "Moved to next week, sorry.";
    face.cancel_meeting_on_behalf(U2, U1, created.clone(), Some(Body::text(note)))
        .expect("CancelCalendarItem")
        .body[0]
        .as_result()
        .expect("cancelled");
    for a in [U3, U4] {
        let mb = sim.mailbox(a).expect("attendee");
        assert_eq!(mb.cancellations_received, 1, "{a}");
        let c = inbox_of(sim, a, ItemKind::MeetingCancellation);
        assert_eq!(c.len(), 1, "{a}");
        assert!(
            c[0].body
                .as_ref()
                .is_some_and(|(_, text)| text.contains(note)),
            "{a}: {:?}",
            c[0].body
        );
        assert_eq!(email(&c[0].from), U1);
        assert_eq!(email(&c[0].sender), U2);
    }
    assert_eq!(sim.mailbox(U1).expect("u1").cancellations_sent, 2);
    assert!(sim.mailbox(U3).expect("u3").calendar[0].is_cancelled);
    let stored = sim.item(created.id()).expect("the meeting");
    assert!(stored.is_cancelled);
}

/// (d) user1's requests go to user2 only (DelegatesOnly): user2 accepts one for user1,
/// declines another without a response, and cannot answer a request an update replaced.
fn the_delegate_answers_a_forwarded_request(face: &dyn Face, sim: &Simulator) {
    face.update_deliver_meeting_requests(U1, DeliverMeetingRequests::DelegatesOnly)
        .expect("UpdateDelegate");
    let invite = |subject: &str, start: &str, end: &str| {
        created_id(
            face.create(
                U3,
                CreateItem::new(
                    None,
                    meeting(subject, start, end, &[U1]),
                    SendMeetingInvitations::SendToAllAndSaveCopy,
                )
                .disposition(MessageDisposition::SendAndSaveCopy),
            )
            .expect("CreateItem"),
        )
    };
    let review = invite("Review", "2025-06-04T09:00:00Z", "2025-06-04T09:30:00Z");
    assert!(inbox_of(sim, U1, ItemKind::MeetingRequest).is_empty());
    let forwarded = inbox_of(sim, U2, ItemKind::MeetingRequest);
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].received_representing.as_deref(), Some(U1));
    // user2 reads it: received representing user1.
    let got = face
        .get_item(
            U2,
            GetItem::new(item_id(&forwarded[0])).in_mailbox(addr(U2)),
        )
        .expect("GetItem");
    let Some(Item::Message(m)) = got.body[0].as_result().expect("read").clone() else {
        panic!("not a message");
    };
    assert_eq!(
        m.received_representing.as_ref().and_then(Mailbox::address),
        Some(U1)
    );

    face.respond_to_meeting(U2, U2, item_id(&forwarded[0]), MeetingAnswer::Accept)
        .expect("accept")
        .body[0]
        .as_result()
        .expect("accepted");
    // The organizer hears it from user1, sent by user2, and records user1's answer.
    let u3 = sim.mailbox(U3).expect("u3");
    assert_eq!(u3.responses_received, 1);
    let answer = inbox_of(sim, U3, ItemKind::MeetingResponse).remove(0);
    assert_eq!(email(&answer.from), U1);
    assert_eq!(email(&answer.sender), U2);
    assert_eq!(
        sim.item(review.id()).expect("review").responses[U1].response_type,
        "Accept"
    );
    let seen = face
        .get_item(U3, GetItem::new(review.clone()))
        .expect("GetItem");
    let Some(Item::Calendar(c)) = seen.body[0].as_result().expect("read").clone() else {
        panic!("not a calendar item");
    };
    let user1 = c
        .required_attendees
        .iter()
        .find(|a| a.mailbox.address() == Some(U1))
        .expect("user1 attends");
    assert_eq!(user1.response, Some(AttendeeResponse::Accept));
    let u1 = sim.mailbox(U1).expect("u1");
    assert_eq!(u1.calendar.len(), 1);
    assert_eq!(u1.calendar[0].my_response_type.as_deref(), Some("Accept"));

    // A decline without a response: user1's calendar stays free, user3 hears nothing.
    invite("Lunch", "2025-06-05T11:00:00Z", "2025-06-05T12:00:00Z");
    let lunch = inbox_of(sim, U2, ItemKind::MeetingRequest)
        .into_iter()
        .find(|i| i.subject.as_deref() == Some("Lunch"))
        .expect("forwarded");
    face.respond(
        U2,
        RespondToMeeting::new(MeetingAnswer::Decline, item_id(&lunch))
            .in_mailbox(addr(U2))
            .without_response(),
    )
    .expect("decline")
    .body[0]
        .as_result()
        .expect("declined");
    assert_eq!(sim.mailbox(U3).expect("u3").responses_received, 1);
    assert_eq!(sim.mailbox(U1).expect("u1").calendar.len(), 1);

    // A request an update replaced is out of date; the update itself can be answered.
    let planning = invite("Planning", "2025-06-06T09:00:00Z", "2025-06-06T10:00:00Z");
    let old = inbox_of(sim, U2, ItemKind::MeetingRequest)
        .into_iter()
        .find(|i| i.subject.as_deref() == Some("Planning"))
        .expect("forwarded");
    let planning = sim.item(planning.id()).expect("planning");
    face.update_item(
        U3,
        UpdateItem::new(
            ItemChange::new(item_id(&planning), [CalendarChange::location("Room 3")])
                .expect("change"),
            Send::SendOnlyToAll,
            ConflictResolution::NeverOverwrite,
        ),
    )
    .expect("UpdateItem")
    .body[0]
        .as_result()
        .expect("updated");
    assert_eq!(sim.mailbox(U2).expect("u2").updates_received, 1);
    let stale = face
        .respond_to_meeting(U2, U2, item_id(&old), MeetingAnswer::Accept)
        .expect("accept");
    assert_eq!(
        *stale.body[0].code(),
        ResponseCode::ErrorCalendarMeetingRequestIsOutOfDate
    );
    let update = inbox_of(sim, U2, ItemKind::MeetingRequest)
        .into_iter()
        .find(|i| i.is_update)
        .expect("the update");
    assert_eq!(update.received_representing.as_deref(), Some(U1));
    face.respond_to_meeting(U2, U2, item_id(&update), MeetingAnswer::Tentative)
        .expect("tentative")
        .body[0]
        .as_result()
        .expect("answered");
    assert_eq!(sim.mailbox(U3).expect("u3").responses_received, 2);
    assert_eq!(
        sim.item(&planning.id).expect("planning").responses[U1].response_type,
        "Tentative"
    );
}

/// (e) A weekly series at 10:00 in Berlin, read back across the end of summer time.
fn a_weekly_series_keeps_its_local_time(face: &dyn Face, sim: &Simulator) {
    // Tuesdays from 14 October 2025, four times, 10:00-10:30 Berlin time: 08:00Z while
    // Berlin is on summer time (UTC+2), 09:00Z after it ends on Sunday 26 October.
    let series = meeting(
        "Jour fixe",
        "2025-10-14T08:00:00Z",
        "2025-10-14T08:30:00Z",
        &[U3],
    )
    .time_zone(TimeZoneId::new("W. Europe Standard Time").expect("zone"))
    .recurrence(Recurrence::new(
        RecurrencePattern::weekly(1, [Weekday::Tuesday]).expect("pattern"),
        RecurrenceRange::numbered(date(2025, 10, 14), 4).expect("range"),
    ));
    let master = created_id(
        face.send_meeting_on_behalf(U2, U1, series)
            .expect("CreateItem"),
    );
    let stored = sim.item(master.id()).expect("series");
    assert_eq!(
        stored.start_time_zone.as_deref(),
        Some("W. Europe Standard Time")
    );
    let found = face
        .read_calendar(
            U2,
            U1,
            ts("2025-10-01T00:00:00Z"),
            ts("2025-12-01T00:00:00Z"),
        )
        .expect("the calendar");
    let times: Vec<(String, String)> = found
        .items
        .iter()
        .map(|i| {
            let Item::Calendar(c) = i else {
                panic!("not a calendar item")
            };
            (
                c.start.expect("start").to_string(),
                c.end.expect("end").to_string(),
            )
        })
        .collect();
    let want = [
        ("2025-10-14T08:00:00Z", "2025-10-14T08:30:00Z"),
        ("2025-10-21T08:00:00Z", "2025-10-21T08:30:00Z"),
        ("2025-10-28T09:00:00Z", "2025-10-28T09:30:00Z"),
        ("2025-11-04T09:00:00Z", "2025-11-04T09:30:00Z"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(s, e)| ((*s).to_owned(), (*e).to_owned()))
        .collect();
    assert_eq!(times, want);
    for i in &found.items {
        let Item::Calendar(c) = i else { unreachable!() };
        assert_eq!(
            c.start_time_zone.as_ref().and_then(|z| z.id.as_deref()),
            Some("W. Europe Standard Time")
        );
    }
    // The attendee's invitation names the zone too.
    let invitation = inbox_of(sim, U3, ItemKind::MeetingRequest).remove(0);
    assert_eq!(
        invitation.start_time_zone.as_deref(),
        Some("W. Europe Standard Time")
    );
    assert!(invitation.recurrence.is_some());

    // The second occurrence is called off, the third moved to 11:00 Berlin time (10:00Z
    // on 28 October, winter time); each attendee hears of each once.
    let series_ref = |index| {
        let s = sim.item(master.id()).expect("series");
        ews_proto::ItemRef::occurrence(ItemId::new(&s.id, Some(s.change_key)).expect("id"), index)
            .expect("occurrence")
    };
    face.delete(
        U2,
        DeleteItem::new(series_ref(2), DeleteType::MoveToDeletedItems)
            .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy)
            .in_mailbox(addr(U1)),
    )
    .expect("DeleteItem")
    .body[0]
        .as_result()
        .expect("deleted");
    face.update_item(
        U2,
        UpdateItem::new(
            ItemChange::new(
                series_ref(3),
                [
                    CalendarChange::start(ts("2025-10-28T10:00:00Z")),
                    CalendarChange::end(ts("2025-10-28T10:30:00Z")),
                ],
            )
            .expect("change"),
            Send::SendToAllAndSaveCopy,
            ConflictResolution::NeverOverwrite,
        )
        .in_mailbox(addr(U1)),
    )
    .expect("UpdateItem")
    .body[0]
        .as_result()
        .expect("moved");
    let u3 = sim.mailbox(U3).expect("u3");
    assert_eq!((u3.cancellations_received, u3.updates_received), (1, 1));
    let found = face
        .read_calendar(
            U2,
            U1,
            ts("2025-10-01T00:00:00Z"),
            ts("2025-12-01T00:00:00Z"),
        )
        .expect("the calendar");
    let seen: Vec<(String, Option<CalendarItemType>)> = found
        .items
        .iter()
        .map(|i| {
            let Item::Calendar(c) = i else { unreachable!() };
            (
                c.start.expect("start").to_string(),
                c.calendar_item_type.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "2025-10-14T08:00:00Z".to_owned(),
                Some(CalendarItemType::Occurrence)
            ),
            (
                "2025-10-28T10:00:00Z".to_owned(),
                Some(CalendarItemType::Exception)
            ),
            (
                "2025-11-04T09:00:00Z".to_owned(),
                Some(CalendarItemType::Occurrence)
            ),
        ]
    );
}

mod common;

/// The simulator's new answers (UpdateItem, series with their occurrences and exceptions,
/// zones, recorded responses, meeting updates) are valid against Microsoft's schema, so
/// that what the clients read here is what Exchange could send.
#[test]
fn the_simulators_calendar_answers_are_valid_against_the_schema() {
    use common::{M, T, call, run_validator};
    let sim = simulator();
    let first = |xml: &str, ns: &str, local: &str| {
        common::texts(xml, ns, local)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    let id_of = |xml: &str| {
        let doc = roxmltree::Document::parse(xml).expect("XML");
        let id = doc
            .descendants()
            .find(|n| n.has_tag_name((T, "ItemId")))
            .expect("an ItemId");
        (
            id.attribute("Id").unwrap_or_default().to_owned(),
            id.attribute("ChangeKey").unwrap_or_default().to_owned(),
        )
    };
    let mut answers = Vec::new();
    let created = call(
        &sim,
        U2,
        &format!(
            r#"<m:CreateItem MessageDisposition="SendAndSaveCopy" SendMeetingInvitations="SendToAllAndSaveCopy"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{U1}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>Team sync</t:Subject><t:Start>2025-06-02T07:30:00Z</t:Start><t:End>2025-06-02T08:00:00Z</t:End><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>{U3}</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2025-06-02</t:StartDate><t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence><t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/></t:CalendarItem></m:Items></m:CreateItem>"#
        ),
    );
    assert_eq!(created.codes(), ["NoError"], "{}", created.body);
    let (series, _) = id_of(&created.body);
    // user3 accepts: the answer is recorded on the series.
    let request = inbox_of(&sim, U3, ItemKind::MeetingRequest).remove(0);
    let accepted = call(
        &sim,
        U3,
        &format!(
            r#"<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:AcceptItem><t:ReferenceItemId Id="{}"/></t:AcceptItem></m:Items></m:CreateItem>"#,
            request.id
        ),
    );
    assert_eq!(accepted.codes(), ["NoError"], "{}", accepted.body);
    let ck = sim.item(&series).expect("series").change_key;
    // The second occurrence moves an hour later (an exception), told to all.
    let moved = call(
        &sim,
        U2,
        &format!(
            r#"<m:UpdateItem ConflictResolution="NeverOverwrite" MessageDisposition="SaveOnly" SendMeetingInvitationsOrCancellations="SendToAllAndSaveCopy"><m:ItemChanges><t:ItemChange><t:OccurrenceItemId RecurringMasterId="{series}" ChangeKey="{ck}" InstanceIndex="2"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2025-06-04T08:30:00Z</t:Start></t:CalendarItem></t:SetItemField><t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2025-06-04T09:00:00Z</t:End></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"#
        ),
    );
    assert_eq!(moved.codes(), ["NoError"], "{}", moved.body);
    assert_eq!(first(&moved.body, T, "Count"), "0");
    let (occurrence, _) = id_of(&moved.body);
    answers.push(("update-occurrence", moved));
    // The same change key again: stale now, and refused.
    let stale = call(
        &sim,
        U2,
        &format!(
            r#"<m:UpdateItem ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="{series}" ChangeKey="{ck}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Location"/><t:CalendarItem><t:Location>Room 1</t:Location></t:CalendarItem></t:SetItemField><t:DeleteItemField><t:FieldURI FieldURI="item:Categories"/></t:DeleteItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>"#
        ),
    );
    assert_eq!(
        stale.codes(),
        ["ErrorIrresolvableConflict"],
        "{}",
        stale.body
    );
    answers.push(("update-stale", stale));
    let get = |ids: &[&str]| {
        let ids: String = ids
            .iter()
            .map(|i| format!(r#"<t:ItemId Id="{i}"/>"#))
            .collect();
        format!(
            "<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>"
        )
    };
    let got = call(&sim, U2, &get(&[&series, &occurrence]));
    assert_eq!(got.codes(), ["NoError", "NoError"], "{}", got.body);
    assert_eq!(
        common::texts(&got.body, T, "OriginalStart"),
        ["2025-06-04T07:30:00Z"]
    );
    assert_eq!(
        common::texts(&got.body, T, "CalendarItemType"),
        ["RecurringMaster", "Exception"]
    );
    assert_eq!(first(&got.body, T, "ResponseType"), "Accept");
    answers.push(("get-series-and-exception", got));
    let view = call(
        &sim,
        U2,
        &format!(
            r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:CalendarView MaxEntriesReturned="3" StartDate="2025-06-01T00:00:00Z" EndDate="2025-07-01T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>{U1}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>"#
        ),
    );
    assert_eq!(view.codes(), ["NoError"], "{}", view.body);
    assert_eq!(
        view.attr(M, "RootFolder", "IncludesLastItemInRange"),
        ["false"]
    );
    assert_eq!(view.attr(M, "RootFolder", "TotalItemsInView"), ["6"]);
    answers.push(("calendar-view", view));
    let inbox = call(
        &sim,
        U3,
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:IndexedPageItemView Offset="0" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>"#,
    );
    assert!(
        common::texts(&inbox.body, T, "MeetingRequestType").contains(&"FullUpdate".to_owned()),
        "{}",
        inbox.body
    );
    answers.push(("attendee-inbox", inbox));
    let dir = std::env::temp_dir().join(format!("ews-calendar-answers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for the answers");
    let mut files = Vec::new();
    for (name, r) in &answers {
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        let path = dir.join(format!("{name}.answer.xml"));
        std::fs::write(&path, &r.body).expect("write the answer");
        files.push(path);
    }
    let (ok, report) = run_validator(&["-q"], &files);
    assert!(ok, "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
