//! Recurring series: reading `t:Recurrence`, writing it back, and expanding a series into
//! its occurrences the way Exchange's CalendarView does.
//!
//! A series is its master's Start and End (the first occurrence, an instant), its time
//! zone (StartTimeZone, a Windows id) and its recurrence. Every occurrence starts at the
//! master's wall-clock time of day in that zone, on each date the pattern gives from the
//! range's StartDate (so a series keeps its local time across daylight saving time), and
//! lasts as long as the master. The dates are found one day at a time, by asking of each
//! date whether the pattern holds on it: slow but plain, which is what an oracle should
//! be. An occurrence is numbered by its position in the series (InstanceIndex, 1 the
//! first); a deleted one keeps its number, a changed one (an exception) takes its changed
//! fields.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use roxmltree::Node;

use crate::sim::soap::{self, TYPES_NS, W, WNs};
use crate::sim::state::{ItemSnapshot, RecurrenceSnapshot, State, b64, unb64};

/// The patterns a calendar item can have.
const PATTERNS: &[&str] = &[
    "DailyRecurrence",
    "WeeklyRecurrence",
    "AbsoluteMonthlyRecurrence",
    "RelativeMonthlyRecurrence",
    "AbsoluteYearlyRecurrence",
    "RelativeYearlyRecurrence",
];

/// The longest a series is followed (from its StartDate), so that no answer loops.
const HORIZON_YEARS: i16 = 100;

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Windows time-zone ids the simulator knows, with their IANA zone (CLDR's windowsZones,
/// territory 001). An id not in the table is read as UTC.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("Romance Standard Time", "Europe/Paris"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("India Standard Time", "Asia/Calcutta"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Arabian Standard Time", "Asia/Dubai"),
];

/// The zone of a Windows time-zone id (UTC when absent or unknown).
pub(crate) fn zone(windows_id: Option<&str>) -> TimeZone {
    let iana = windows_id.and_then(|id| {
        WINDOWS_ZONES
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(id.trim()))
            .map(|(_, iana)| *iana)
    });
    match iana {
        Some("UTC") | None => TimeZone::UTC,
        Some(name) => TimeZone::get(name).unwrap_or(TimeZone::UTC),
    }
}

/// Reads a `t:Recurrence` element.
pub(crate) fn parse(node: Node<'_, '_>) -> Result<RecurrenceSnapshot, (&'static str, String)> {
    let bad = |what: &str| {
        (
            "ErrorCalendarInvalidRecurrence",
            format!("The recurrence is not valid: {what}."),
        )
    };
    let mut elements = node.children().filter(|c| c.is_element());
    let pattern = elements.next().ok_or_else(|| bad("no pattern"))?;
    let range = elements.next().ok_or_else(|| bad("no range"))?;
    let name = pattern.tag_name().name();
    if !PATTERNS.contains(&name) {
        return Err(bad(&format!(
            "the pattern {name} is not a calendar pattern"
        )));
    }
    let number = |n: Node<'_, '_>, field: &str| -> Result<Option<u32>, (&'static str, String)> {
        match soap::t_text(n, field) {
            None => Ok(None),
            Some(v) => v
                .parse::<u32>()
                .map(Some)
                .map_err(|_| bad(&format!("{field} '{v}'"))),
        }
    };
    let interval = number(pattern, "Interval")?.unwrap_or(1);
    if interval == 0 {
        return Err(bad("Interval 0"));
    }
    let days_of_week: Vec<String> = soap::t_text(pattern, "DaysOfWeek")
        .map(|d| d.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let rec = RecurrenceSnapshot {
        pattern: name.to_string(),
        interval,
        days_of_week,
        first_day_of_week: soap::t_text(pattern, "FirstDayOfWeek"),
        day_of_month: number(pattern, "DayOfMonth")?,
        day_of_week_index: soap::t_text(pattern, "DayOfWeekIndex"),
        month: soap::t_text(pattern, "Month"),
        range: range.tag_name().name().to_string(),
        start_date: soap::t_text(range, "StartDate").unwrap_or_default(),
        end_date: soap::t_text(range, "EndDate"),
        count: number(range, "NumberOfOccurrences")?,
    };
    // The fields each pattern needs, checked once here so that expansion never fails.
    let weekdays_ok = rec.days_of_week.iter().all(|d| day_kind(d).is_some());
    let ok = match name {
        "WeeklyRecurrence" => !rec.days_of_week.is_empty() && weekdays_ok,
        "AbsoluteMonthlyRecurrence" => rec.day_of_month.is_some_and(|d| (1..=31).contains(&d)),
        "RelativeMonthlyRecurrence" => {
            rec.days_of_week.len() == 1 && weekdays_ok && week_index(&rec).is_some()
        }
        "AbsoluteYearlyRecurrence" => {
            rec.day_of_month.is_some_and(|d| (1..=31).contains(&d)) && month(&rec).is_some()
        }
        "RelativeYearlyRecurrence" => {
            rec.days_of_week.len() == 1
                && weekdays_ok
                && week_index(&rec).is_some()
                && month(&rec).is_some()
        }
        _ => true,
    };
    if !ok {
        return Err(bad(&format!("the fields of {name}")));
    }
    if rec
        .first_day_of_week
        .as_deref()
        .is_some_and(|f| weekday(f).is_none())
    {
        return Err(bad("FirstDayOfWeek"));
    }
    let start = parse_date(&rec.start_date).ok_or_else(|| bad("StartDate"))?;
    match rec.range.as_str() {
        "NoEndRecurrence" => {}
        "EndDateRecurrence" => {
            let end = rec
                .end_date
                .as_deref()
                .and_then(parse_date)
                .ok_or_else(|| bad("EndDate"))?;
            if end < start {
                return Err(bad("EndDate before StartDate"));
            }
        }
        "NumberedRecurrence" => {
            if rec.count.is_none_or(|c| c == 0) {
                return Err(bad("NumberOfOccurrences"));
            }
        }
        other => return Err(bad(&format!("the range {other}"))),
    }
    Ok(rec)
}

/// Writes `t:Recurrence` (pattern, then range, fields in schema order).
pub(crate) fn write(w: &mut W, rec: &RecurrenceSnapshot) {
    w.open(WNs::T, "Recurrence", &[]);
    w.open(WNs::T, &rec.pattern, &[]);
    let yearly = rec.pattern.ends_with("YearlyRecurrence");
    if !yearly {
        w.leaf(WNs::T, "Interval", &rec.interval.to_string());
    }
    match rec.pattern.as_str() {
        "WeeklyRecurrence" => {
            w.leaf(WNs::T, "DaysOfWeek", &rec.days_of_week.join(" "));
            if let Some(f) = &rec.first_day_of_week {
                w.leaf(WNs::T, "FirstDayOfWeek", f);
            }
        }
        "AbsoluteMonthlyRecurrence" | "AbsoluteYearlyRecurrence" => {
            if let Some(d) = rec.day_of_month {
                w.leaf(WNs::T, "DayOfMonth", &d.to_string());
            }
        }
        "RelativeMonthlyRecurrence" | "RelativeYearlyRecurrence" => {
            w.leaf(WNs::T, "DaysOfWeek", &rec.days_of_week.join(" "));
            if let Some(i) = &rec.day_of_week_index {
                w.leaf(WNs::T, "DayOfWeekIndex", i);
            }
        }
        _ => {}
    }
    if yearly {
        if let Some(m) = &rec.month {
            w.leaf(WNs::T, "Month", m);
        }
    }
    w.close(WNs::T, &rec.pattern);
    w.open(WNs::T, &rec.range, &[]);
    w.leaf(WNs::T, "StartDate", &rec.start_date);
    match rec.range.as_str() {
        "EndDateRecurrence" => {
            if let Some(e) = &rec.end_date {
                w.leaf(WNs::T, "EndDate", e);
            }
        }
        "NumberedRecurrence" => {
            if let Some(c) = rec.count {
                w.leaf(WNs::T, "NumberOfOccurrences", &c.to_string());
            }
        }
        _ => {}
    }
    w.close(WNs::T, &rec.range);
    w.close(WNs::T, "Recurrence");
}

/// The id of occurrence `index` of the series `master` (an opaque id of the base64
/// alphabet, as Exchange's are).
pub(crate) fn occurrence_id(master: &str, index: u32) -> String {
    format!(
        "AAMkAGSimOcc{}",
        b64(format!("{master}|{index}").as_bytes())
    )
}

/// The series id and instance index an occurrence id names.
pub(crate) fn parse_occurrence_id(id: &str) -> Option<(String, u32)> {
    let raw = unb64(id.strip_prefix("AAMkAGSimOcc")?)?;
    let text = String::from_utf8(raw).ok()?;
    let (master, index) = text.rsplit_once('|')?;
    Some((master.to_string(), index.parse().ok()?))
}

fn parse_date(s: &str) -> Option<Date> {
    // xs:date, possibly with a zone suffix (`2025-06-02Z`, `2025-06-02+02:00`).
    s.get(..10)?.parse().ok()
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "Sunday" => Weekday::Sunday,
        "Monday" => Weekday::Monday,
        "Tuesday" => Weekday::Tuesday,
        "Wednesday" => Weekday::Wednesday,
        "Thursday" => Weekday::Thursday,
        "Friday" => Weekday::Friday,
        "Saturday" => Weekday::Saturday,
        _ => return None,
    })
}

/// A DayOfWeekType value: one weekday, or `Day`, `Weekday`, `WeekendDay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayKind {
    One(Weekday),
    Day,
    Weekday,
    WeekendDay,
}

fn day_kind(name: &str) -> Option<DayKind> {
    Some(match name {
        "Day" => DayKind::Day,
        "Weekday" => DayKind::Weekday,
        "WeekendDay" => DayKind::WeekendDay,
        other => DayKind::One(weekday(other)?),
    })
}

impl DayKind {
    fn holds(self, d: Date) -> bool {
        let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
        match self {
            DayKind::One(w) => d.weekday() == w,
            DayKind::Day => true,
            DayKind::Weekday => !weekend,
            DayKind::WeekendDay => weekend,
        }
    }
}

/// DayOfWeekIndex: 1..=4, or 5 for Last.
fn week_index(rec: &RecurrenceSnapshot) -> Option<u8> {
    Some(match rec.day_of_week_index.as_deref()? {
        "First" => 1,
        "Second" => 2,
        "Third" => 3,
        "Fourth" => 4,
        "Last" => 5,
        _ => return None,
    })
}

fn month(rec: &RecurrenceSnapshot) -> Option<i8> {
    let m = rec.month.as_deref()?;
    MONTHS
        .iter()
        .position(|n| *n == m)
        .and_then(|p| i8::try_from(p + 1).ok())
}

/// Days since 1970-01-01 (negative before).
fn day_number(d: Date) -> i64 {
    let days_from_civil = |y: i64, m: i64, d: i64| {
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    };
    days_from_civil(
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    )
}

fn month_number(d: Date) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month())
}

/// Does the relative day (`index`-th `kind` of `d`'s month, 5 the last) fall on `d`?
fn relative_holds(kind: DayKind, index: u8, d: Date) -> bool {
    if !kind.holds(d) {
        return false;
    }
    let first = d.first_of_month();
    let mut n = 0u8;
    let mut last = None;
    let mut day = first;
    while day.month() == d.month() {
        if kind.holds(day) {
            n += 1;
            if n == index && index < 5 {
                return day == d;
            }
            last = Some(day);
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    index == 5 && last == Some(d)
}

/// Does the pattern hold on `d` (a date on or after the range's StartDate)?
fn holds(rec: &RecurrenceSnapshot, start: Date, d: Date) -> bool {
    let interval = i64::from(rec.interval.max(1));
    let clamp = |day: u32| u32::try_from(d.days_in_month()).unwrap_or(28).min(day);
    let one_kind = || rec.days_of_week.first().and_then(|k| day_kind(k));
    match rec.pattern.as_str() {
        "DailyRecurrence" => (day_number(d) - day_number(start)) % interval == 0,
        "WeeklyRecurrence" => {
            let first = rec
                .first_day_of_week
                .as_deref()
                .and_then(weekday)
                .unwrap_or(Weekday::Sunday);
            let week_start = |x: Date| {
                let back = (i64::from(x.weekday().to_sunday_zero_offset())
                    - i64::from(first.to_sunday_zero_offset()))
                .rem_euclid(7);
                day_number(x) - back
            };
            let weeks = (week_start(d) - week_start(start)) / 7;
            weeks % interval == 0
                && rec
                    .days_of_week
                    .iter()
                    .filter_map(|k| weekday(k))
                    .any(|w| w == d.weekday())
        }
        "AbsoluteMonthlyRecurrence" => {
            (month_number(d) - month_number(start)) % interval == 0
                && rec
                    .day_of_month
                    .is_some_and(|day| u32::try_from(d.day()).ok() == Some(clamp(day)))
        }
        "RelativeMonthlyRecurrence" => {
            (month_number(d) - month_number(start)) % interval == 0
                && match (one_kind(), week_index(rec)) {
                    (Some(kind), Some(index)) => relative_holds(kind, index, d),
                    _ => false,
                }
        }
        "AbsoluteYearlyRecurrence" => {
            month(rec) == Some(d.month())
                && rec
                    .day_of_month
                    .is_some_and(|day| u32::try_from(d.day()).ok() == Some(clamp(day)))
        }
        "RelativeYearlyRecurrence" => {
            month(rec) == Some(d.month())
                && match (one_kind(), week_index(rec)) {
                    (Some(kind), Some(index)) => relative_holds(kind, index, d),
                    _ => false,
                }
        }
        _ => false,
    }
}

/// The dates of a series, numbered from 1, up to `until` (inclusive) and the
/// `max_index`-th at most.
fn dates(
    rec: &RecurrenceSnapshot,
    until: Option<Date>,
    max_index: Option<u32>,
) -> Vec<(u32, Date)> {
    let Some(start) = parse_date(&rec.start_date) else {
        return Vec::new();
    };
    let horizon = start
        .checked_add(HORIZON_YEARS.years())
        .unwrap_or(Date::MAX);
    let mut last = horizon;
    if let Some(end) = rec.end_date.as_deref().and_then(parse_date) {
        if rec.range == "EndDateRecurrence" {
            last = last.min(end);
        }
    }
    if let Some(u) = until {
        last = last.min(u);
    }
    let count = if rec.range == "NumberedRecurrence" {
        rec.count.unwrap_or(0)
    } else {
        u32::MAX
    }
    .min(max_index.unwrap_or(u32::MAX));
    let mut out = Vec::new();
    let mut n = 0u32;
    let mut d = start;
    while d <= last && n < count {
        if holds(rec, start, d) {
            n += 1;
            out.push((n, d));
        }
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    out
}

fn format(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The master's start, duration, zone and local time of day.
fn series_times(master: &ItemSnapshot) -> Option<(jiff::SignedDuration, TimeZone, Time)> {
    let (s, e) = super::restriction::span(master)?;
    let tz = zone(master.start_time_zone.as_deref());
    let local = s.to_zoned_datetime(tz.clone()).time();
    Some((e.duration_since(s), tz, local))
}

/// Occurrence `index` of `master` as an item of its own (with the exception's changes);
/// None for a deleted occurrence or an index beyond the series.
fn make(
    master: &ItemSnapshot,
    index: u32,
    date: Date,
    times: &(jiff::SignedDuration, TimeZone, Time),
) -> Option<ItemSnapshot> {
    if master.deleted_occurrences.contains(&index) {
        return None;
    }
    let (duration, tz, local) = times;
    let start = date
        .to_datetime(*local)
        .to_zoned_datetime(tz.clone())
        .ok()?
        .timestamp();
    let end = start.checked_add(*duration).ok()?;
    let mut o = master.clone();
    o.id = occurrence_id(&master.id, index);
    o.recurrence = None;
    o.modified_occurrences.clear();
    o.deleted_occurrences.clear();
    o.change_log.clear();
    o.occurrence_of = Some(master.id.clone());
    o.instance_index = Some(index);
    o.start = Some(format(start));
    o.end = Some(format(end));
    if let Some(change) = master.modified_occurrences.get(&index) {
        if let Some(s) = &change.start {
            o.start = Some(s.clone());
        }
        if let Some(e) = &change.end {
            o.end = Some(e.clone());
        }
        if let Some(s) = &change.subject {
            o.subject = Some(s.clone());
        }
        if let Some(l) = &change.location {
            o.location = Some(l.clone());
        }
        if let Some(f) = &change.legacy_free_busy_status {
            o.legacy_free_busy_status = Some(f.clone());
        }
    }
    Some(o)
}

/// Is `o` (an occurrence made by [`make`]) an exception (a changed occurrence)?
pub(crate) fn is_exception(master: &ItemSnapshot, index: u32) -> bool {
    master.modified_occurrences.contains_key(&index)
}

/// The occurrences of the series `master` that overlap `[from, to)`, earliest first.
pub(crate) fn occurrences(
    master: &ItemSnapshot,
    from: Timestamp,
    to: Timestamp,
) -> Vec<ItemSnapshot> {
    let (Some(rec), Some(times)) = (&master.recurrence, series_times(master)) else {
        return Vec::new();
    };
    // A day past the view's end in the series' zone, and a day for a moved exception.
    let until = to
        .to_zoned_datetime(times.1.clone())
        .date()
        .checked_add(2.days())
        .ok();
    dates(rec, until, None)
        .into_iter()
        .filter_map(|(i, d)| make(master, i, d, &times))
        .filter(|o| {
            super::restriction::span(o)
                .is_some_and(|(s, e)| s < to && (e > from || (s == e && s >= from)))
        })
        .collect()
}

/// Occurrence `index` of the series `master`, if it exists (not deleted, in the series).
pub(crate) fn occurrence(master: &ItemSnapshot, index: u32) -> Option<ItemSnapshot> {
    let rec = master.recurrence.as_ref()?;
    let times = series_times(master)?;
    let (i, d) = dates(rec, None, Some(index)).last().copied()?;
    if i != index {
        return None;
    }
    make(master, index, d, &times)
}

/// Reads the text of a `t:StartTimeZone`/`t:EndTimeZone` (its Id) or a
/// `t:MeetingTimeZone` (its TimeZoneName) child of `node`.
pub(crate) fn time_zone_of(node: Node<'_, '_>, element: &str) -> Option<String> {
    let tz = soap::child(node, TYPES_NS, element)?;
    tz.attribute("Id")
        .or_else(|| tz.attribute("TimeZoneName"))
        .map(str::to_string)
}

/// What an item reference (`t:ItemId`, `t:OccurrenceItemId`, `t:RecurringMasterItemId`)
/// names: the stored item, or an occurrence of a stored series (made from it).
pub(crate) fn resolve(
    st: &State,
    node: Node<'_, '_>,
) -> Result<ItemSnapshot, (&'static str, &'static str)> {
    const MALFORMED: (&str, &str) = ("ErrorInvalidIdMalformed", "Id is malformed.");
    const NOT_FOUND: (&str, &str) = ("ErrorItemNotFound", super::ITEM_NOT_FOUND);
    let by_id = |id: &str| -> Result<ItemSnapshot, (&'static str, &'static str)> {
        if !super::id_well_formed(id) {
            return Err(MALFORMED);
        }
        if let Some(item) = st.find_item(id) {
            return Ok(item.clone());
        }
        let (master, index) = parse_occurrence_id(id).ok_or(NOT_FOUND)?;
        let series = st.find_item(&master).ok_or(NOT_FOUND)?;
        occurrence(series, index).ok_or(NOT_FOUND)
    };
    match node.tag_name().name() {
        "ItemId" => by_id(node.attribute("Id").unwrap_or("")),
        "OccurrenceItemId" => {
            let master = node.attribute("RecurringMasterId").unwrap_or("");
            let index = node
                .attribute("InstanceIndex")
                .and_then(|i| i.trim().parse::<u32>().ok())
                .ok_or(MALFORMED)?;
            let series = by_id(master)?;
            if series.recurrence.is_none() {
                return Err((
                    "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                    "The item is not a recurring series.",
                ));
            }
            occurrence(&series, index).ok_or((
                "ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange",
                "The occurrence index is out of the recurrence range.",
            ))
        }
        "RecurringMasterItemId" => {
            let occ = by_id(node.attribute("OccurrenceId").unwrap_or(""))?;
            match &occ.occurrence_of {
                Some(master) => st.find_item(master).cloned().ok_or(NOT_FOUND),
                None if occ.recurrence.is_some() => Ok(occ),
                None => Err((
                    "ErrorItemNotFound",
                    "The item is not an occurrence of a recurring series.",
                )),
            }
        }
        _ => Err(NOT_FOUND),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(xml: &str) -> RecurrenceSnapshot {
        let text = format!(r#"<t:Recurrence xmlns:t="{TYPES_NS}">{xml}</t:Recurrence>"#);
        let doc = roxmltree::Document::parse(&text).expect("xml");
        parse(doc.root_element()).expect("recurrence")
    }

    fn days(r: &RecurrenceSnapshot, n: usize) -> Vec<String> {
        dates(r, None, None)
            .into_iter()
            .take(n)
            .map(|(_, d)| d.to_string())
            .collect()
    }

    #[test]
    fn patterns_give_the_dates_a_calendar_shows() {
        // Every other week on Monday and Wednesday from Monday 2 June 2025.
        let weekly = rec(
            "<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek></t:WeeklyRecurrence><t:EndDateRecurrence><t:StartDate>2025-06-02</t:StartDate><t:EndDate>2025-06-30</t:EndDate></t:EndDateRecurrence>",
        );
        assert_eq!(
            days(&weekly, 10),
            [
                "2025-06-02",
                "2025-06-04",
                "2025-06-16",
                "2025-06-18",
                "2025-06-30"
            ]
        );
        // The 31st, or the month's last day.
        let monthly = rec(
            "<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>31</t:DayOfMonth></t:AbsoluteMonthlyRecurrence><t:NumberedRecurrence><t:StartDate>2025-01-01</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence>",
        );
        assert_eq!(
            days(&monthly, 10),
            ["2025-01-31", "2025-02-28", "2025-03-31"]
        );
        // The last weekday of every third month.
        let relative = rec(
            "<t:RelativeMonthlyRecurrence><t:Interval>3</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence><t:NumberedRecurrence><t:StartDate>2025-06-02</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence>",
        );
        assert_eq!(
            days(&relative, 10),
            ["2025-06-30", "2025-09-30", "2025-12-31"]
        );
        // The second Tuesday of November.
        let yearly = rec(
            "<t:RelativeYearlyRecurrence><t:DaysOfWeek>Tuesday</t:DaysOfWeek><t:DayOfWeekIndex>Second</t:DayOfWeekIndex><t:Month>November</t:Month></t:RelativeYearlyRecurrence><t:NumberedRecurrence><t:StartDate>2025-06-02</t:StartDate><t:NumberOfOccurrences>2</t:NumberOfOccurrences></t:NumberedRecurrence>",
        );
        assert_eq!(days(&yearly, 10), ["2025-11-11", "2026-11-10"]);
        // Every third day, no end.
        let daily = rec(
            "<t:DailyRecurrence><t:Interval>3</t:Interval></t:DailyRecurrence><t:NoEndRecurrence><t:StartDate>2025-06-29</t:StartDate></t:NoEndRecurrence>",
        );
        assert_eq!(days(&daily, 3), ["2025-06-29", "2025-07-02", "2025-07-05"]);
    }

    #[test]
    fn occurrences_keep_the_local_time_across_dst() {
        let mut m = ItemSnapshot::new(
            crate::sim::state::ItemKind::CalendarItem,
            "a@x",
            "calendar",
            "a@x",
        );
        m.id = "AAMkSeries".to_string();
        // 09:30 in Berlin (summer time, UTC+2) on Monday 20 October 2025, weekly.
        m.start = Some("2025-10-20T07:30:00Z".to_string());
        m.end = Some("2025-10-20T08:00:00Z".to_string());
        m.start_time_zone = Some("W. Europe Standard Time".to_string());
        m.recurrence = Some(rec(
            "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2025-10-20</t:StartDate><t:NumberOfOccurrences>2</t:NumberOfOccurrences></t:NumberedRecurrence>",
        ));
        let all = occurrences(
            &m,
            "2025-10-01T00:00:00Z".parse().expect("ts"),
            "2025-12-01T00:00:00Z".parse().expect("ts"),
        );
        let starts: Vec<_> = all.iter().filter_map(|o| o.start.clone()).collect();
        // After 26 October Berlin is UTC+1: 09:30 local is 08:30Z.
        assert_eq!(starts, ["2025-10-20T07:30:00Z", "2025-10-27T08:30:00Z"]);
        let second = occurrence(&m, 2).expect("second");
        assert_eq!(second.start.as_deref(), Some("2025-10-27T08:30:00Z"));
        assert!(occurrence(&m, 3).is_none());
        let id = second.id.clone();
        assert_eq!(
            parse_occurrence_id(&id),
            Some(("AAMkSeries".to_string(), 2))
        );
    }
}
