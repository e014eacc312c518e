//! Recurring series: the [`Recurrence`] of a new or changed calendar item (a
//! [`RecurrencePattern`] and a [`RecurrenceRange`]), and [`ItemRef`], which names an item
//! by id, an occurrence of a series by its index, or the series of an occurrence.
//!
//! Every type here is valid once built: an interval is at least 1, a day of the month
//! exists in its month, a weekly pattern has a day, a range ends on or after its start and
//! counts at least one occurrence.

use jiff::civil::{Date, Weekday};

use crate::error::{ServerError, UsageError};
use crate::types::ItemId;
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// A month, for yearly patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Month {
    January,
    February,
    March,
    April,
    May,
    June,
    July,
    August,
    September,
    October,
    November,
    December,
}

impl Month {
    /// The month numbered `n` (1 is January), or `None` outside 1..=12.
    pub const fn from_number(n: u8) -> Option<Month> {
        use Month::*;
        Some(match n {
            1 => January,
            2 => February,
            3 => March,
            4 => April,
            5 => May,
            6 => June,
            7 => July,
            8 => August,
            9 => September,
            10 => October,
            11 => November,
            12 => December,
            _ => return None,
        })
    }

    /// The value on the wire (`January`).
    pub const fn as_str(self) -> &'static str {
        use Month::*;
        match self {
            January => "January",
            February => "February",
            March => "March",
            April => "April",
            May => "May",
            June => "June",
            July => "July",
            August => "August",
            September => "September",
            October => "October",
            November => "November",
            December => "December",
        }
    }

    /// The most days the month has (29 for February).
    const fn max_days(self) -> u8 {
        match self {
            Month::February => 29,
            Month::April | Month::June | Month::September | Month::November => 30,
            _ => 31,
        }
    }
}

/// Which week of the month a relative pattern means (`DayOfWeekIndex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum WeekIndex {
    First,
    Second,
    Third,
    Fourth,
    /// The last one of the month (the fourth or the fifth).
    Last,
}

impl WeekIndex {
    const fn as_str(self) -> &'static str {
        match self {
            WeekIndex::First => "First",
            WeekIndex::Second => "Second",
            WeekIndex::Third => "Third",
            WeekIndex::Fourth => "Fourth",
            WeekIndex::Last => "Last",
        }
    }
}

/// The day a relative pattern means (`DayOfWeekType`): a weekday, or one of the three
/// kinds of day Exchange counts (`Day`, `Weekday`, `WeekendDay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelativeDay {
    /// That weekday (the second *Tuesday*).
    On(Weekday),
    /// Any day (the last *day* of the month).
    Day,
    /// Monday to Friday (the first *weekday*).
    Weekday,
    /// Saturday or Sunday.
    WeekendDay,
}

impl RelativeDay {
    const fn as_str(self) -> &'static str {
        match self {
            RelativeDay::On(d) => weekday_str(d),
            RelativeDay::Day => "Day",
            RelativeDay::Weekday => "Weekday",
            RelativeDay::WeekendDay => "WeekendDay",
        }
    }
}

impl From<Weekday> for RelativeDay {
    fn from(d: Weekday) -> Self {
        RelativeDay::On(d)
    }
}

const fn weekday_str(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// Monday first, as jiff (and ISO 8601) count.
const WEEK: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// A non-empty set of weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Days(u8);

impl Days {
    fn bit(d: Weekday) -> u8 {
        1 << d.to_monday_zero_offset()
    }

    fn iter(self) -> impl Iterator<Item = Weekday> {
        WEEK.into_iter()
            .filter(move |d| self.0 & Days::bit(*d) != 0)
    }
}

/// How often a series repeats: one of Exchange's six calendar patterns.
///
/// ```
/// use ews_proto::{Month, RecurrencePattern, RelativeDay, WeekIndex};
/// use ews_proto::jiff::civil::Weekday;
/// // Every other week on Monday and Thursday.
/// let fortnightly = RecurrencePattern::weekly(2, [Weekday::Monday, Weekday::Thursday])?;
/// // The second Tuesday of every month.
/// let board = RecurrencePattern::relative_monthly(1, WeekIndex::Second, Weekday::Tuesday.into())?;
/// // The last weekday of every quarter's month.
/// let close = RecurrencePattern::relative_monthly(3, WeekIndex::Last, RelativeDay::Weekday)?;
/// // Every 14 March.
/// let birthday = RecurrencePattern::absolute_yearly(Month::March, 14)?;
/// assert!(RecurrencePattern::daily(0).is_err());
/// assert!(RecurrencePattern::absolute_monthly(1, 32).is_err());
/// assert!(RecurrencePattern::absolute_yearly(Month::February, 30).is_err());
/// assert!(RecurrencePattern::weekly(1, []).is_err());
/// # let _ = (fortnightly, board, close, birthday);
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurrencePattern(Pattern);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pattern {
    Daily {
        interval: u32,
    },
    Weekly {
        interval: u32,
        days: Days,
        first_day_of_week: Option<Weekday>,
    },
    AbsoluteMonthly {
        interval: u32,
        day: u8,
    },
    RelativeMonthly {
        interval: u32,
        index: WeekIndex,
        day: RelativeDay,
    },
    AbsoluteYearly {
        month: Month,
        day: u8,
    },
    RelativeYearly {
        month: Month,
        index: WeekIndex,
        day: RelativeDay,
    },
}

/// `xs:int` holds the interval and the count.
const MAX_INT: u32 = i32::MAX as u32;

fn interval(n: u32) -> Result<u32, UsageError> {
    if (1..=MAX_INT).contains(&n) {
        Ok(n)
    } else {
        Err(UsageError::invalid(
            "recurrence pattern",
            "the interval must be at least 1 (and fit an xs:int)",
        ))
    }
}

fn day_of_month(day: u8, month: Option<Month>) -> Result<u8, UsageError> {
    let max = month.map_or(31, Month::max_days);
    if (1..=max).contains(&day) {
        Ok(day)
    } else if month.is_some() {
        Err(UsageError::invalid(
            "recurrence pattern",
            "the day of the month does not exist in that month",
        ))
    } else {
        Err(UsageError::invalid(
            "recurrence pattern",
            "the day of the month must be 1 to 31",
        ))
    }
}

impl RecurrencePattern {
    /// Every `interval` days.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `interval` is 0.
    pub fn daily(interval: u32) -> Result<Self, UsageError> {
        Ok(RecurrencePattern(Pattern::Daily {
            interval: self::interval(interval)?,
        }))
    }

    /// Every `interval` weeks on each of `days` (duplicates count once).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `interval` is 0 or `days` is empty.
    pub fn weekly(
        interval: u32,
        days: impl IntoIterator<Item = Weekday>,
    ) -> Result<Self, UsageError> {
        let set = days.into_iter().fold(0, |set, d| set | Days::bit(d));
        if set == 0 {
            return Err(UsageError::invalid(
                "recurrence pattern",
                "a weekly pattern needs at least one weekday",
            ));
        }
        Ok(RecurrencePattern(Pattern::Weekly {
            interval: self::interval(interval)?,
            days: Days(set),
            first_day_of_week: None,
        }))
    }

    /// A weekly pattern whose weeks start on `first` (`FirstDayOfWeek`; the server's
    /// default is the mailbox's setting), which decides which weeks an interval above 1
    /// skips. Other patterns are returned unchanged.
    pub fn first_day_of_week(mut self, first: Weekday) -> Self {
        if let Pattern::Weekly {
            first_day_of_week, ..
        } = &mut self.0
        {
            *first_day_of_week = Some(first);
        }
        self
    }

    /// Every `interval` months on day `day` (1 to 31; in a shorter month Exchange takes
    /// its last day).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `interval` is 0 or `day` is outside 1..=31.
    pub fn absolute_monthly(interval: u32, day: u8) -> Result<Self, UsageError> {
        Ok(RecurrencePattern(Pattern::AbsoluteMonthly {
            interval: self::interval(interval)?,
            day: day_of_month(day, None)?,
        }))
    }

    /// Every `interval` months on the `index` `day` (the second Tuesday, the last weekday).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `interval` is 0.
    pub fn relative_monthly(
        interval: u32,
        index: WeekIndex,
        day: RelativeDay,
    ) -> Result<Self, UsageError> {
        Ok(RecurrencePattern(Pattern::RelativeMonthly {
            interval: self::interval(interval)?,
            index,
            day,
        }))
    }

    /// Every year on `day` of `month` (29 February: in other years, Exchange takes the
    /// 28th).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `month` has no day `day`.
    pub fn absolute_yearly(month: Month, day: u8) -> Result<Self, UsageError> {
        Ok(RecurrencePattern(Pattern::AbsoluteYearly {
            month,
            day: day_of_month(day, Some(month))?,
        }))
    }

    /// Every year on the `index` `day` of `month` (the last Sunday of October). Infallible
    /// (every combination exists); a `Result` like its siblings.
    ///
    /// # Errors
    /// None today.
    pub fn relative_yearly(
        month: Month,
        index: WeekIndex,
        day: RelativeDay,
    ) -> Result<Self, UsageError> {
        Ok(RecurrencePattern(Pattern::RelativeYearly {
            month,
            index,
            day,
        }))
    }

    /// Which of the six patterns it is.
    pub fn kind(&self) -> PatternKind {
        match &self.0 {
            Pattern::Daily { .. } => PatternKind::Daily,
            Pattern::Weekly { .. } => PatternKind::Weekly,
            Pattern::AbsoluteMonthly { .. } => PatternKind::AbsoluteMonthly,
            Pattern::RelativeMonthly { .. } => PatternKind::RelativeMonthly,
            Pattern::AbsoluteYearly { .. } => PatternKind::AbsoluteYearly,
            Pattern::RelativeYearly { .. } => PatternKind::RelativeYearly,
        }
    }

    /// `Interval`: every how many days, weeks or months (`None` for the yearly patterns,
    /// which have none).
    pub fn interval(&self) -> Option<u32> {
        match &self.0 {
            Pattern::Daily { interval }
            | Pattern::Weekly { interval, .. }
            | Pattern::AbsoluteMonthly { interval, .. }
            | Pattern::RelativeMonthly { interval, .. } => Some(*interval),
            Pattern::AbsoluteYearly { .. } | Pattern::RelativeYearly { .. } => None,
        }
    }

    /// The weekdays of a weekly pattern, Monday first (empty for the other patterns).
    pub fn days_of_week(&self) -> Vec<Weekday> {
        match &self.0 {
            Pattern::Weekly { days, .. } => days.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The `FirstDayOfWeek` of a weekly pattern, if set.
    pub fn week_start(&self) -> Option<Weekday> {
        match &self.0 {
            Pattern::Weekly {
                first_day_of_week, ..
            } => *first_day_of_week,
            _ => None,
        }
    }

    /// `DayOfMonth` of an absolute monthly or yearly pattern.
    pub fn day_of_month(&self) -> Option<u8> {
        match &self.0 {
            Pattern::AbsoluteMonthly { day, .. } | Pattern::AbsoluteYearly { day, .. } => {
                Some(*day)
            }
            _ => None,
        }
    }

    /// `DayOfWeekIndex` and `DaysOfWeek` of a relative monthly or yearly pattern (the
    /// *second* *Tuesday*).
    pub fn relative(&self) -> Option<(WeekIndex, RelativeDay)> {
        match &self.0 {
            Pattern::RelativeMonthly { index, day, .. }
            | Pattern::RelativeYearly { index, day, .. } => Some((*index, *day)),
            _ => None,
        }
    }

    /// `Month` of a yearly pattern.
    pub fn month(&self) -> Option<Month> {
        match &self.0 {
            Pattern::AbsoluteYearly { month, .. } | Pattern::RelativeYearly { month, .. } => {
                Some(*month)
            }
            _ => None,
        }
    }

    /// Writes the pattern element (`t:WeeklyRecurrence`, ...), fields in schema order.
    fn write(&self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        let interval = |w: &mut BodyWriter<'_>, n: u32| {
            w.token(Ns::Types, "Interval", &n.to_string());
        };
        match &self.0 {
            Pattern::Daily { interval: n } => {
                w.open(Ns::Types, "DailyRecurrence");
                interval(w, *n);
                w.close(Ns::Types, "DailyRecurrence");
            }
            Pattern::Weekly {
                interval: n,
                days,
                first_day_of_week,
            } => {
                w.open(Ns::Types, "WeeklyRecurrence");
                interval(w, *n);
                let list: Vec<&str> = days.iter().map(weekday_str).collect();
                // A list of tokens: the one space-separated value `token` does not take.
                w.leaf(Ns::Types, "DaysOfWeek", &list.join(" "))?;
                if let Some(first) = first_day_of_week {
                    w.token(Ns::Types, "FirstDayOfWeek", weekday_str(*first));
                }
                w.close(Ns::Types, "WeeklyRecurrence");
            }
            Pattern::AbsoluteMonthly { interval: n, day } => {
                w.open(Ns::Types, "AbsoluteMonthlyRecurrence");
                interval(w, *n);
                w.token(Ns::Types, "DayOfMonth", &day.to_string());
                w.close(Ns::Types, "AbsoluteMonthlyRecurrence");
            }
            Pattern::RelativeMonthly {
                interval: n,
                index,
                day,
            } => {
                w.open(Ns::Types, "RelativeMonthlyRecurrence");
                interval(w, *n);
                w.token(Ns::Types, "DaysOfWeek", day.as_str());
                w.token(Ns::Types, "DayOfWeekIndex", index.as_str());
                w.close(Ns::Types, "RelativeMonthlyRecurrence");
            }
            Pattern::AbsoluteYearly { month, day } => {
                w.open(Ns::Types, "AbsoluteYearlyRecurrence");
                w.token(Ns::Types, "DayOfMonth", &day.to_string());
                w.token(Ns::Types, "Month", month.as_str());
                w.close(Ns::Types, "AbsoluteYearlyRecurrence");
            }
            Pattern::RelativeYearly { month, index, day } => {
                w.open(Ns::Types, "RelativeYearlyRecurrence");
                w.token(Ns::Types, "DaysOfWeek", day.as_str());
                w.token(Ns::Types, "DayOfWeekIndex", index.as_str());
                w.token(Ns::Types, "Month", month.as_str());
                w.close(Ns::Types, "RelativeYearlyRecurrence");
            }
        }
        Ok(())
    }
}

/// When a series starts and ends: never, on a date, or after a number of occurrences.
/// Dates are the calendar's (no time, no zone): the series' own time zone applies.
///
/// ```
/// use ews_proto::RecurrenceRange;
/// use ews_proto::jiff::civil::date;
/// let start = date(2025, 6, 2);
/// let forever = RecurrenceRange::no_end(start)?;
/// let summer = RecurrenceRange::until(start, date(2025, 8, 29))?;
/// let ten = RecurrenceRange::numbered(start, 10)?;
/// assert!(RecurrenceRange::until(start, date(2025, 6, 1)).is_err());
/// assert!(RecurrenceRange::numbered(start, 0).is_err());
/// # let _ = (forever, summer, ten);
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurrenceRange(Range);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Range {
    NoEnd { start: Date },
    EndDate { start: Date, end: Date },
    Numbered { start: Date, count: u32 },
}

/// `xs:date` with a four-digit year: years 1 to 9999.
fn xs_date(d: Date) -> Result<Date, UsageError> {
    if d.year() >= 1 {
        Ok(d)
    } else {
        Err(UsageError::invalid(
            "recurrence range",
            "dates before year 1 cannot be sent",
        ))
    }
}

impl RecurrenceRange {
    /// From `start` on, without end.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for a date before year 1.
    pub fn no_end(start: Date) -> Result<Self, UsageError> {
        Ok(RecurrenceRange(Range::NoEnd {
            start: xs_date(start)?,
        }))
    }

    /// From `start` to `end`, both included.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `end` is before `start`, or for a date before
    /// year 1.
    pub fn until(start: Date, end: Date) -> Result<Self, UsageError> {
        if end < start {
            return Err(UsageError::invalid(
                "recurrence range",
                "the end date is before the start date",
            ));
        }
        Ok(RecurrenceRange(Range::EndDate {
            start: xs_date(start)?,
            end,
        }))
    }

    /// From `start`, `count` occurrences.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `count` is 0 (or beyond an `xs:int`), or for a
    /// date before year 1.
    pub fn numbered(start: Date, count: u32) -> Result<Self, UsageError> {
        if !(1..=MAX_INT).contains(&count) {
            return Err(UsageError::invalid(
                "recurrence range",
                "a numbered range needs at least one occurrence",
            ));
        }
        Ok(RecurrenceRange(Range::Numbered {
            start: xs_date(start)?,
            count,
        }))
    }

    /// The first day of the series.
    pub fn start(&self) -> Date {
        match &self.0 {
            Range::NoEnd { start }
            | Range::EndDate { start, .. }
            | Range::Numbered { start, .. } => *start,
        }
    }

    /// The last day of an end-date range.
    pub fn end_date(&self) -> Option<Date> {
        match &self.0 {
            Range::EndDate { end, .. } => Some(*end),
            _ => None,
        }
    }

    /// The number of occurrences of a numbered range.
    pub fn number_of_occurrences(&self) -> Option<u32> {
        match &self.0 {
            Range::Numbered { count, .. } => Some(*count),
            _ => None,
        }
    }

    /// Does the series go on without end?
    pub fn is_no_end(&self) -> bool {
        matches!(self.0, Range::NoEnd { .. })
    }

    fn write(&self, w: &mut BodyWriter<'_>) {
        let date = |w: &mut BodyWriter<'_>, name: &'static str, d: Date| {
            w.token(Ns::Types, name, &d.to_string());
        };
        match &self.0 {
            Range::NoEnd { start } => {
                w.open(Ns::Types, "NoEndRecurrence");
                date(w, "StartDate", *start);
                w.close(Ns::Types, "NoEndRecurrence");
            }
            Range::EndDate { start, end } => {
                w.open(Ns::Types, "EndDateRecurrence");
                date(w, "StartDate", *start);
                date(w, "EndDate", *end);
                w.close(Ns::Types, "EndDateRecurrence");
            }
            Range::Numbered { start, count } => {
                w.open(Ns::Types, "NumberedRecurrence");
                date(w, "StartDate", *start);
                w.token(Ns::Types, "NumberOfOccurrences", &count.to_string());
                w.close(Ns::Types, "NumberedRecurrence");
            }
        }
    }
}

/// A calendar item's `Recurrence`: a pattern over a range. Set it on a
/// [`NewCalendarItem`](crate::NewCalendarItem) (with a time zone, so that the series
/// keeps its wall-clock time across daylight saving time) or change it with
/// [`CalendarChange::recurrence`](crate::CalendarChange::recurrence).
///
/// ```
/// use ews_proto::{Recurrence, RecurrencePattern, RecurrenceRange};
/// use ews_proto::jiff::civil::{Weekday, date};
/// let standup = Recurrence::new(
///     RecurrencePattern::weekly(1, [Weekday::Monday, Weekday::Wednesday, Weekday::Friday])?,
///     RecurrenceRange::numbered(date(2025, 6, 2), 30)?,
/// );
/// # let _ = standup;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recurrence {
    pattern: RecurrencePattern,
    range: RecurrenceRange,
}

impl Recurrence {
    /// `pattern` over `range`.
    pub fn new(pattern: RecurrencePattern, range: RecurrenceRange) -> Self {
        Self { pattern, range }
    }

    /// The pattern.
    pub fn pattern(&self) -> &RecurrencePattern {
        &self.pattern
    }

    /// The range.
    pub fn range(&self) -> &RecurrenceRange {
        &self.range
    }

    /// Writes `<t:Recurrence>`: the pattern, then the range (`RecurrenceType`).
    pub(crate) fn write(&self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        w.open(Ns::Types, "Recurrence");
        self.pattern.write(w)?;
        self.range.write(w);
        w.close(Ns::Types, "Recurrence");
        Ok(())
    }
}

/// Which of Exchange's six calendar patterns a [`RecurrencePattern`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatternKind {
    /// `DailyRecurrence`.
    Daily,
    /// `WeeklyRecurrence`.
    Weekly,
    /// `AbsoluteMonthlyRecurrence`.
    AbsoluteMonthly,
    /// `RelativeMonthlyRecurrence`.
    RelativeMonthly,
    /// `AbsoluteYearlyRecurrence`.
    AbsoluteYearly,
    /// `RelativeYearlyRecurrence`.
    RelativeYearly,
}

/// A series' pattern as a server reports it: one this crate builds, or another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportedPattern {
    /// One of the six calendar patterns, with values [`RecurrencePattern`]'s constructors
    /// accept.
    Known(RecurrencePattern),
    /// A pattern element this crate does not know (a task's `DailyRegeneration`, a later
    /// server's), or a known one whose values it refuses (an interval of 0, a missing
    /// day): kept by its element name, and the item still reads.
    Other {
        /// The element's local name (`WeeklyRecurrence`, ...).
        element: String,
    },
}

/// A series' range as a server reports it: one this crate builds, or another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportedRange {
    /// A no-end, end-date or numbered range with values [`RecurrenceRange`]'s
    /// constructors accept.
    Known(RecurrenceRange),
    /// Another range element, or a known one whose values this crate refuses (an end
    /// before the start, no occurrences): kept by its element name.
    Other {
        /// The element's local name (`EndDateRecurrence`, ...).
        element: String,
    },
}

/// A series' `Recurrence` as a server reports it (on a recurring master, or a meeting
/// request or cancellation for a series). What the server sends is read, never refused:
/// a pattern or range this crate cannot represent is [`ReportedPattern::Other`] or
/// [`ReportedRange::Other`], and the item reads whole.
///
/// Dates are the calendar's: an offset Exchange writes on them (`2025-06-02-07:00`, the
/// series' time zone at the time) is dropped.
///
/// ```
/// use ews_proto::{RecurrencePattern, RecurrenceRange, ReportedPattern, ReportedRecurrence};
/// use ews_proto::jiff::civil::{Weekday, date};
/// # fn read(r: &ReportedRecurrence) -> Result<(), Box<dyn std::error::Error>> {
/// // `r` from CalendarItem::recurrence: end the series at the end of the year.
/// let series = r.to_recurrence().ok_or("a series this crate cannot rewrite")?;
/// let new_range = RecurrenceRange::until(series.range().start(), date(2025, 12, 31))?;
/// let change = ews_proto::Recurrence::new(series.pattern().clone(), new_range);
/// # let _ = change;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportedRecurrence {
    /// The pattern (`None` when the server sent none).
    pub pattern: Option<ReportedPattern>,
    /// The range (`None` when the server sent none).
    pub range: Option<ReportedRange>,
}

impl ReportedRecurrence {
    /// The series as a [`Recurrence`] to write back (for
    /// [`CalendarChange::recurrence`](crate::CalendarChange::recurrence)), when both the
    /// pattern and the range are known.
    pub fn to_recurrence(&self) -> Option<Recurrence> {
        match (&self.pattern, &self.range) {
            (Some(ReportedPattern::Known(p)), Some(ReportedRange::Known(r))) => {
                Some(Recurrence::new(p.clone(), r.clone()))
            }
            _ => None,
        }
    }

    /// Reads `t:Recurrence` (`RecurrenceType`: a pattern, then a range).
    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut out = ReportedRecurrence::default();
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            let name = c.local_name();
            let fields = Fields::read(r, &c)?;
            // RecurrenceType is a pattern, then a range: an element this crate does not
            // know is the pattern when none came yet, else the range.
            let is_range =
                RANGES.contains(&name) || (!PATTERNS.contains(&name) && out.pattern.is_some());
            if is_range {
                out.range = Some(match read_range(name, &fields) {
                    Some(range) => ReportedRange::Known(range),
                    None => ReportedRange::Other {
                        element: name.to_owned(),
                    },
                });
            } else {
                out.pattern = Some(match read_pattern(name, &fields) {
                    Some(pattern) => ReportedPattern::Known(pattern),
                    None => ReportedPattern::Other {
                        element: name.to_owned(),
                    },
                });
            }
            Ok::<_, ServerError>(())
        })?;
        Ok(out)
    }
}

/// The elements of `RecurrencePatternTypes`.
const PATTERNS: &[&str] = &[
    "RelativeYearlyRecurrence",
    "AbsoluteYearlyRecurrence",
    "RelativeMonthlyRecurrence",
    "AbsoluteMonthlyRecurrence",
    "WeeklyRecurrence",
    "DailyRecurrence",
];

/// The elements of `RecurrenceRangeTypes`.
const RANGES: &[&str] = &["NoEndRecurrence", "EndDateRecurrence", "NumberedRecurrence"];

/// The leaves of a pattern or range element, as text (the last of each name wins; other
/// children are skipped).
#[derive(Default)]
struct Fields {
    interval: Option<String>,
    days_of_week: Option<String>,
    day_of_week_index: Option<String>,
    day_of_month: Option<String>,
    month: Option<String>,
    first_day_of_week: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    number_of_occurrences: Option<String>,
}

impl Fields {
    fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut f = Fields::default();
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            let slot = match c.local_name() {
                "Interval" => &mut f.interval,
                "DaysOfWeek" => &mut f.days_of_week,
                "DayOfWeekIndex" => &mut f.day_of_week_index,
                "DayOfMonth" => &mut f.day_of_month,
                "Month" => &mut f.month,
                "FirstDayOfWeek" => &mut f.first_day_of_week,
                "StartDate" => &mut f.start_date,
                "EndDate" => &mut f.end_date,
                "NumberOfOccurrences" => &mut f.number_of_occurrences,
                _ => return Ok(()),
            };
            *slot = Some(r.text(&c)?.trim().to_owned());
            Ok::<_, ServerError>(())
        })?;
        Ok(f)
    }
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    WEEK.into_iter().find(|d| weekday_str(*d) == s)
}

fn parse_relative_day(s: &str) -> Option<RelativeDay> {
    match s {
        "Day" => Some(RelativeDay::Day),
        "Weekday" => Some(RelativeDay::Weekday),
        "WeekendDay" => Some(RelativeDay::WeekendDay),
        other => parse_weekday(other).map(RelativeDay::On),
    }
}

fn parse_week_index(s: &str) -> Option<WeekIndex> {
    [
        WeekIndex::First,
        WeekIndex::Second,
        WeekIndex::Third,
        WeekIndex::Fourth,
        WeekIndex::Last,
    ]
    .into_iter()
    .find(|i| i.as_str() == s)
}

fn parse_month(s: &str) -> Option<Month> {
    (1..=12)
        .filter_map(Month::from_number)
        .find(|m| m.as_str() == s)
}

/// A weekly pattern's `DaysOfWeek`: a list of `DayOfWeekType` tokens; the three kinds of
/// day stand for their weekdays (`Weekday`: Monday to Friday).
fn parse_days(s: &str) -> Option<Vec<Weekday>> {
    let mut days = Vec::new();
    for token in s.split_whitespace() {
        match parse_relative_day(token)? {
            RelativeDay::On(d) => days.push(d),
            RelativeDay::Day => days.extend(WEEK),
            RelativeDay::Weekday => days.extend(&WEEK[..5]),
            RelativeDay::WeekendDay => days.extend(&WEEK[5..]),
        }
    }
    Some(days)
}

/// `xs:date`, with or without a time-zone suffix (`Z`, `+02:00`, `-07:00`), which is
/// dropped: a series' dates are calendar dates.
fn parse_date(s: &str) -> Option<Date> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let bytes = s.as_bytes();
    let n = bytes.len();
    let has_offset = n > 10
        && matches!(bytes[n - 6], b'+' | b'-')
        && bytes[n - 5].is_ascii_digit()
        && bytes[n - 4].is_ascii_digit()
        && bytes[n - 3] == b':'
        && bytes[n - 2].is_ascii_digit()
        && bytes[n - 1].is_ascii_digit();
    let s = if has_offset { s.get(..n - 6)? } else { s };
    // Exactly `YYYY-MM-DD` (jiff also reads longer forms, which are not an xs:date).
    if s.len() != 10 {
        return None;
    }
    s.parse().ok()
}

fn parse_number(s: &Option<String>) -> Option<u32> {
    s.as_deref()?.parse().ok()
}

fn read_pattern(element: &str, f: &Fields) -> Option<RecurrencePattern> {
    let interval = || parse_number(&f.interval);
    let relative = || {
        Some((
            parse_week_index(f.day_of_week_index.as_deref()?)?,
            parse_relative_day(f.days_of_week.as_deref()?)?,
        ))
    };
    let month = || parse_month(f.month.as_deref()?);
    let day = || -> Option<u8> { f.day_of_month.as_deref()?.parse().ok() };
    let pattern = match element {
        "DailyRecurrence" => RecurrencePattern::daily(interval()?),
        "WeeklyRecurrence" => {
            let p = RecurrencePattern::weekly(interval()?, parse_days(f.days_of_week.as_deref()?)?);
            match f.first_day_of_week.as_deref() {
                None => p,
                Some(first) => {
                    let first = parse_weekday(first)?;
                    p.map(|p| p.first_day_of_week(first))
                }
            }
        }
        "AbsoluteMonthlyRecurrence" => RecurrencePattern::absolute_monthly(interval()?, day()?),
        "RelativeMonthlyRecurrence" => {
            let (index, d) = relative()?;
            RecurrencePattern::relative_monthly(interval()?, index, d)
        }
        "AbsoluteYearlyRecurrence" => RecurrencePattern::absolute_yearly(month()?, day()?),
        "RelativeYearlyRecurrence" => {
            let (index, d) = relative()?;
            RecurrencePattern::relative_yearly(month()?, index, d)
        }
        _ => return None,
    };
    pattern.ok()
}

fn read_range(element: &str, f: &Fields) -> Option<RecurrenceRange> {
    let start = parse_date(f.start_date.as_deref()?)?;
    let range = match element {
        "NoEndRecurrence" => RecurrenceRange::no_end(start),
        "EndDateRecurrence" => RecurrenceRange::until(start, parse_date(f.end_date.as_deref()?)?),
        "NumberedRecurrence" => {
            RecurrenceRange::numbered(start, parse_number(&f.number_of_occurrences)?)
        }
        _ => return None,
    };
    range.ok()
}

/// Names an item for GetItem, DeleteItem and UpdateItem: by its id (`t:ItemId`), as an
/// occurrence of a series (`t:OccurrenceItemId`: the series' id and the occurrence's
/// 1-based index), or as the series an occurrence belongs to (`t:RecurringMasterItemId`).
/// An [`ItemId`] converts into the first.
///
/// ```
/// use ews_proto::{ItemId, ItemRef};
/// let series = ItemId::new("AAMkADk=", Some("DwAAABYA".into()))?;
/// let third = ItemRef::occurrence(series.clone(), 3)?;
/// assert_eq!(third.instance_index(), Some(3));
/// assert!(ItemRef::occurrence(series, 0).is_err());
/// let plain: ItemRef = ItemId::new("AAMkADl=", None)?.into();
/// assert_eq!(plain.id(), "AAMkADl=");
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemRef(Target);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    Item(ItemId),
    Occurrence { master: ItemId, index: u32 },
    MasterOf(ItemId),
}

impl ItemRef {
    /// The item `id`.
    pub fn item(id: ItemId) -> Self {
        ItemRef(Target::Item(id))
    }

    /// The occurrence numbered `instance_index` (1 is the first) of the series `master`
    /// (its `ChangeKey`, when it has one, is sent with the reference).
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `instance_index` is 0 (or beyond an `xs:int`).
    pub fn occurrence(master: ItemId, instance_index: u32) -> Result<Self, UsageError> {
        if !(1..=MAX_INT).contains(&instance_index) {
            return Err(UsageError::invalid(
                "occurrence item id",
                "the instance index counts from 1",
            ));
        }
        Ok(ItemRef(Target::Occurrence {
            master,
            index: instance_index,
        }))
    }

    /// The series (recurring master) that the occurrence or exception `occurrence`
    /// belongs to.
    pub fn master_of(occurrence: ItemId) -> Self {
        ItemRef(Target::MasterOf(occurrence))
    }

    /// The id written: the item's, the series' (for an occurrence), or the occurrence's
    /// (for its series).
    pub fn id(&self) -> &str {
        self.item_id().id()
    }

    /// The change key written with it, if any.
    pub fn change_key(&self) -> Option<&str> {
        self.item_id().change_key()
    }

    /// The [`ItemId`] the reference is built on (see [`ItemRef::id`]).
    pub fn item_id(&self) -> &ItemId {
        match &self.0 {
            Target::Item(id) | Target::MasterOf(id) => id,
            Target::Occurrence { master, .. } => master,
        }
    }

    /// The occurrence's index, for an occurrence reference.
    pub fn instance_index(&self) -> Option<u32> {
        match &self.0 {
            Target::Occurrence { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// Is it a plain item id (not an occurrence or series reference)?
    pub(crate) fn is_item_id(&self) -> bool {
        matches!(self.0, Target::Item(_))
    }

    /// Writes `<t:ItemId/>`, `<t:OccurrenceItemId/>` or `<t:RecurringMasterItemId/>`.
    pub(crate) fn write(&self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        match &self.0 {
            Target::Item(id) => id.write(w, "ItemId"),
            Target::Occurrence { master, index } => {
                w.open_start(Ns::Types, "OccurrenceItemId");
                w.attr("RecurringMasterId", master.id())?;
                if let Some(ck) = master.change_key() {
                    w.attr("ChangeKey", ck)?;
                }
                w.attr("InstanceIndex", &index.to_string())?;
                w.empty_end();
                Ok(())
            }
            Target::MasterOf(occurrence) => {
                w.open_start(Ns::Types, "RecurringMasterItemId");
                w.attr("OccurrenceId", occurrence.id())?;
                if let Some(ck) = occurrence.change_key() {
                    w.attr("ChangeKey", ck)?;
                }
                w.empty_end();
                Ok(())
            }
        }
    }
}

impl From<ItemId> for ItemRef {
    fn from(id: ItemId) -> Self {
        ItemRef::item(id)
    }
}
