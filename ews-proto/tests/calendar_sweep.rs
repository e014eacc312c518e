//! The calendar sweep against a model server that answers CalendarView as Exchange does
//! (at most 1000 items per answer, `IncludesLastItemInRange="false"` when cut): every item
//! of a long range comes back exactly once, loaded; a window that stays cut at the minimum
//! width ends in a typed error; refusals are typed. Answers are XML written here.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::collections::HashMap;

use bytes::Bytes;
use ews_proto::calendar::{CalendarSweep, SweepConfig, SweepError, SweepStep};
use ews_proto::{FindItem, GetItem, Item, Operation};
use jiff::{SignedDuration, Timestamp};

const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

#[derive(Clone)]
struct Entry {
    id: String,
    start: Timestamp,
    end: Timestamp,
}

/// A calendar as the server holds it, with recurring series already expanded.
struct Model {
    entries: Vec<Entry>,
    /// Answer at most this many per view (Exchange: 1000).
    limit: usize,
    /// Ids deleted after the view found them.
    deleted: Vec<String>,
    /// Windows wider than this are refused with ErrorCalendarViewRangeTooBig.
    max_range: Option<SignedDuration>,
    finds: usize,
}

fn envelope(body: String) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body></s:Envelope>"#
    )))
}

impl Model {
    fn find(&mut self, op: &FindItem) -> http::Response<Bytes> {
        self.finds += 1;
        let (start, end) = op.calendar_range().expect("a calendar view");
        if self
            .max_range
            .is_some_and(|m| end.duration_since(start) > m)
        {
            return envelope(format!(
                r#"<m:FindItemResponse xmlns:m="{M}"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass="Error"><m:MessageText>too big</m:MessageText><m:ResponseCode>ErrorCalendarViewRangeTooBig</m:ResponseCode></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>"#
            ));
        }
        let mut hits: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.start < end && (e.end > start || (e.end == e.start && e.start >= start)))
            .collect();
        hits.sort_by_key(|e| (e.start, e.id.clone()));
        let cap = self.limit.min(op.max_entries() as usize);
        let last = hits.len() <= cap;
        hits.truncate(cap);
        let items: String = hits
            .iter()
            .map(|e| {
                format!(
                    r#"<t:CalendarItem><t:ItemId Id="{}" ChangeKey="ck"/><t:Start>{}</t:Start><t:End>{}</t:End></t:CalendarItem>"#,
                    e.id, e.start, e.end
                )
            })
            .collect();
        envelope(format!(
            r#"<m:FindItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:RootFolder TotalItemsInView="{}" IncludesLastItemInRange="{last}"><t:Items>{items}</t:Items></m:RootFolder></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>"#,
            hits.len()
        ))
    }

    fn get(&self, op: &GetItem) -> http::Response<Bytes> {
        let messages: String = op
            .ids()
            .iter()
            .map(|id| {
                if self.deleted.iter().any(|d| d == id.id()) {
                    r#"<m:GetItemResponseMessage ResponseClass="Error"><m:MessageText>gone</m:MessageText><m:ResponseCode>ErrorItemNotFound</m:ResponseCode><m:Items/></m:GetItemResponseMessage>"#.to_owned()
                } else {
                    format!(
                        r#"<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:ItemId Id="{}" ChangeKey="ck"/><t:Subject>s</t:Subject><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>user3@example.com</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem></m:Items></m:GetItemResponseMessage>"#,
                        id.id()
                    )
                }
            })
            .collect();
        envelope(format!(
            r#"<m:GetItemResponse xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>{messages}</m:ResponseMessages></m:GetItemResponse>"#
        ))
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Runs a sweep against the model to its end.
fn run(
    model: &mut Model,
    mut sweep: CalendarSweep,
) -> Result<ews_proto::calendar::SweepResult, SweepError> {
    for _ in 0..100_000 {
        match sweep.poll() {
            SweepStep::Find(op) => {
                let answer = model.find(&op);
                sweep.found(op.decode(&answer).unwrap().body);
            }
            SweepStep::Load(op) => {
                assert!(op.ids().len() <= 100, "batches of at most 100");
                let answer = model.get(&op);
                sweep.loaded(op.decode(&answer).unwrap().body);
            }
            SweepStep::Done(result) => return result,
        }
    }
    panic!("the sweep did not end");
}

/// 2,500 entries over three years: a daily series (1,095 occurrences), a weekly series
/// of multi-day items that cross window boundaries, and single items, some at the same
/// instant.
fn three_years() -> Vec<Entry> {
    let origin = ts("2025-01-01T00:00:00Z");
    let mut out = Vec::new();
    for day in 0..1095 {
        let start = origin + SignedDuration::from_hours(24 * day + 9);
        out.push(Entry {
            id: format!("daily-{day}"),
            start,
            end: start + SignedDuration::from_mins(30),
        });
    }
    for week in 0..156 {
        let start = origin + SignedDuration::from_hours(24 * 7 * week + 20);
        out.push(Entry {
            id: format!("weekly-{week}"),
            start,
            end: start + SignedDuration::from_hours(60),
        });
    }
    let mut n = 0;
    while out.len() < 2500 {
        // Deterministic spread, with clusters of up to 5 at one instant.
        let hour = (n * 7919 / 5) % (1095 * 24);
        let start = origin + SignedDuration::from_hours(hour as i64);
        out.push(Entry {
            id: format!("single-{n}"),
            start,
            end: start + SignedDuration::from_hours(1),
        });
        n += 1;
    }
    out
}

#[test]
fn three_years_of_2500_items_come_back_exactly_once_each() {
    let entries = three_years();
    assert_eq!(entries.len(), 2500);
    let mut model = Model {
        entries: entries.clone(),
        limit: 1000,
        deleted: vec!["single-7".to_owned(), "daily-400".to_owned()],
        max_range: None,
        finds: 0,
    };
    let sweep = CalendarSweep::new(
        "user1@example.com".parse().unwrap(),
        ts("2025-01-01T00:00:00Z"),
        ts("2028-01-01T00:00:00Z"),
    )
    .unwrap();
    let result = run(&mut model, sweep).expect("the sweep ends with the items");
    let mut count: HashMap<String, usize> = HashMap::new();
    for item in &result.items {
        let Item::Calendar(c) = item else {
            panic!("not a calendar item")
        };
        assert_eq!(c.required_attendees.len(), 1, "attendees were loaded");
        *count
            .entry(c.item_id.as_ref().unwrap().id().to_owned())
            .or_default() += 1;
    }
    assert!(count.values().all(|&n| n == 1), "an item came back twice");
    assert_eq!(count.len(), 2498, "every item but the two deleted ones");
    assert_eq!(result.vanished.len(), 2);
    for e in &entries {
        let deleted = e.id == "single-7" || e.id == "daily-400";
        assert_eq!(count.contains_key(&e.id), !deleted, "{}", e.id);
    }
    assert!(result.splits > 0, "the 1000-item cap made windows split");
    assert!(model.finds < 40, "{} views for three years", model.finds);
}

#[test]
fn a_range_the_server_refuses_as_too_big_is_split() {
    let mut model = Model {
        entries: three_years(),
        limit: 5000,
        deleted: Vec::new(),
        max_range: Some(SignedDuration::from_hours(24 * 200)),
        finds: 0,
    };
    let sweep = CalendarSweep::new(
        "user1@example.com".parse().unwrap(),
        ts("2025-01-01T00:00:00Z"),
        ts("2028-01-01T00:00:00Z"),
    )
    .unwrap();
    let result = run(&mut model, sweep).unwrap();
    assert_eq!(result.items.len(), 2500);
}

#[test]
fn a_window_still_cut_at_the_minimum_width_is_a_typed_error() {
    // 1,001 items at one instant: no window can hold them in one answer.
    let at = ts("2025-06-02T10:00:00Z");
    let entries = (0..1001)
        .map(|i| Entry {
            id: format!("same-{i}"),
            start: at,
            end: at + SignedDuration::from_mins(30),
        })
        .collect();
    let mut model = Model {
        entries,
        limit: 1000,
        deleted: Vec::new(),
        max_range: None,
        finds: 0,
    };
    let sweep = CalendarSweep::new(
        "user1@example.com".parse().unwrap(),
        ts("2025-06-01T00:00:00Z"),
        ts("2025-07-01T00:00:00Z"),
    )
    .unwrap();
    match run(&mut model, sweep) {
        Err(SweepError::Overflow {
            start,
            end,
            max_entries,
        }) => {
            assert_eq!(max_entries, 1000);
            assert!(end.duration_since(start) <= SignedDuration::from_mins(1));
            assert!(start <= at && at < end + SignedDuration::from_mins(30));
        }
        other => panic!("expected Overflow, got {:?}", other.map(|r| r.items.len())),
    }
    assert!(model.finds < 40, "bisection ends: {} views", model.finds);
}

#[test]
fn a_refused_view_ends_the_sweep_with_the_servers_status() {
    let mut sweep = CalendarSweep::new(
        "user1@example.com".parse().unwrap(),
        ts("2025-06-01T00:00:00Z"),
        ts("2025-07-01T00:00:00Z"),
    )
    .unwrap();
    let SweepStep::Find(op) = sweep.poll() else {
        panic!("a view first")
    };
    assert_eq!(
        op.folder().mailbox().map(|m| m.as_str()),
        Some("user1@example.com")
    );
    let denied = envelope(format!(
        r#"<m:FindItemResponse xmlns:m="{M}"><m:ResponseMessages><m:FindItemResponseMessage ResponseClass="Error"><m:MessageText>no</m:MessageText><m:ResponseCode>ErrorAccessDenied</m:ResponseCode></m:FindItemResponseMessage></m:ResponseMessages></m:FindItemResponse>"#
    ));
    sweep.found(op.decode(&denied).unwrap().body);
    match sweep.poll() {
        SweepStep::Done(Err(SweepError::Refused(status))) => {
            assert_eq!(status.code, ews_proto::ResponseCode::ErrorAccessDenied);
        }
        other => panic!("{other:?}"),
    }
    // Out of order: an answer without the step that asks for it.
    sweep.loaded(Vec::new());
    assert!(matches!(sweep.poll(), SweepStep::Done(Err(_))));
}

#[test]
fn bad_ranges_and_limits_are_refused_where_built() {
    let a = ts("2025-06-01T00:00:00Z");
    assert!(CalendarSweep::new("user1@example.com".parse().unwrap(), a, a).is_err());
    let mut config = SweepConfig::default();
    config.min_window = SignedDuration::ZERO;
    assert!(
        CalendarSweep::with_config(
            "user1@example.com".parse().unwrap(),
            a,
            a + SignedDuration::from_hours(1),
            config
        )
        .is_err()
    );
    let folder = ews_proto::FolderId::own(ews_proto::DistinguishedFolder::Calendar);
    assert!(FindItem::calendar_view(folder, a, a).is_err());
}
