//! Reading a principal's calendar over a date range, as a delegate: [`CalendarSweep`], a
//! pure planner that turns one long range into `CalendarView` requests, splits a window
//! whose answer is cut, never loses or repeats an item, then loads each item's attendees
//! and body with batched GetItem.
//!
//! Exchange's `CalendarView` does not page: an answer holds at most `MaxEntriesReturned`
//! items (the server caps it at 1000) and says `IncludesLastItemInRange="false"` when the
//! window held more, or refuses a range that is too big (`ErrorCalendarViewRangeTooBig`,
//! `ErrorExceededFindCountLimit`). FindItem cannot return attendees or the body either, so a
//! second pass asks for them by id.

use std::collections::{HashSet, VecDeque};
use std::fmt;

use jiff::{SignedDuration, Timestamp};

use crate::ops::{FieldUri, FindItem, FindItemPage, GetItem};
use crate::soap::{ResponseCode, ResponseMessage, ResponseStatus};
use crate::types::{DistinguishedFolder, EmailAddress, FolderId, Item, ItemId};

/// Reads every calendar item of a mailbox between two instants, occurrences of recurring
/// series included, each exactly once.
///
/// Call order: [`CalendarSweep::poll`] gives the next request (or the end); send it with
/// any client (`client.send(&op)`, which retries as usual) and hand the decoded answer to
/// [`CalendarSweep::found`] (for a [`SweepStep::Find`]) or [`CalendarSweep::loaded`] (for a
/// [`SweepStep::Load`]); poll again. A request that fails as a whole ends the sweep with
/// the caller's error: the sweep holds no connection and no clock.
///
/// ```
/// use ews_proto::calendar::{CalendarSweep, SweepStep};
/// let mut sweep = CalendarSweep::new(
///     "user1@example.com".parse()?,
///     "2025-01-01T00:00:00Z".parse()?,
///     "2028-01-01T00:00:00Z".parse()?,
/// )?;
/// // Three years: two windows of at most two years each.
/// let SweepStep::Find(first) = sweep.poll() else { unreachable!() };
/// assert_eq!(
///     first.calendar_range().map(|(s, _)| s.to_string()),
///     Some("2025-01-01T00:00:00Z".to_owned())
/// );
/// // ... send `first`, then `sweep.found(reply.body)`, and poll again until `Done`.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CalendarSweep {
    mailbox: EmailAddress,
    config: SweepConfig,
    /// Windows not asked for yet, in order.
    windows: VecDeque<(Timestamp, Timestamp)>,
    /// The window asked for, awaiting its answer.
    asked: Option<(Timestamp, Timestamp)>,
    /// Ids already found (boundary items appear in two windows).
    seen: HashSet<String>,
    /// Ids to load, in the order found.
    to_load: VecDeque<ItemId>,
    /// The batch asked for, awaiting its answer.
    loading: Option<usize>,
    result: SweepResult,
    failed: Option<SweepError>,
    requests: u32,
}

/// Limits of a [`CalendarSweep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepConfig {
    /// The widest window one `CalendarView` asks for (default 730 days: Exchange refuses
    /// ranges of more than two years).
    pub max_window: SignedDuration,
    /// The narrowest window split further (default 1 minute): a window this narrow whose
    /// answer is still cut ends the sweep with [`SweepError::Overflow`].
    pub min_window: SignedDuration,
    /// `MaxEntriesReturned` per window (default 1000, Exchange's cap).
    pub max_entries: u32,
    /// Ids per GetItem (default 100).
    pub batch: usize,
    /// The most requests the sweep makes before it gives up (default 10,000): a server that
    /// never lets a window finish cannot keep it going forever.
    pub max_requests: u32,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            max_window: SignedDuration::from_hours(730 * 24),
            min_window: SignedDuration::from_mins(1),
            max_entries: 1000,
            batch: 100,
            max_requests: 10_000,
        }
    }
}

/// What to do next. Deliberately exhaustive, like [`Step`](crate::driver::Step): a new
/// step must break every loop that runs a sweep, at compile time.
#[derive(Debug, Clone)]
pub enum SweepStep {
    /// Send this FindItem and give its answer to [`CalendarSweep::found`].
    Find(FindItem),
    /// Send this GetItem and give its answer to [`CalendarSweep::loaded`].
    Load(GetItem),
    /// The sweep is over.
    Done(Result<SweepResult, SweepError>),
}

/// The items of a sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SweepResult {
    /// Every item found, loaded with attendees and body, in the order found (window by
    /// window, the server's order within each).
    pub items: Vec<Item>,
    /// Items found by the view but gone when loaded (`ErrorItemNotFound`): deleted in
    /// between, not an error.
    pub vanished: Vec<ItemId>,
    /// Items the server would not load, with its answer (for example `ErrorAccessDenied`
    /// on a private item).
    pub refused: Vec<(ItemId, ResponseStatus)>,
    /// How many windows were split because an answer was cut.
    pub splits: u32,
}

/// Why a sweep ended without its items.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SweepError {
    /// A window as narrow as [`SweepConfig::min_window`] still held more items than one
    /// answer carries: reading on would silently drop some.
    Overflow {
        /// The window's start.
        start: Timestamp,
        /// The window's end.
        end: Timestamp,
        /// `MaxEntriesReturned`.
        max_entries: u32,
    },
    /// The server refused a view (`ErrorAccessDenied`, `ErrorCalendarFolderIsInvalidForCalendarView`, ...).
    Refused(ResponseStatus),
    /// An answer had no result for the request (no response message, or no RootFolder).
    NoAnswer,
    /// [`SweepConfig::max_requests`] requests were made without an end.
    TooManyRequests(u32),
    /// [`CalendarSweep::found`] or [`CalendarSweep::loaded`] was called without the step
    /// that asks for it.
    OutOfOrder,
}

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepError::Overflow {
                start,
                end,
                max_entries,
            } => write!(
                f,
                "the calendar holds more than {max_entries} items between {start} and {end}, \
                 the narrowest window: some would be lost"
            ),
            SweepError::Refused(status) => write!(f, "the calendar view was refused: {status}"),
            SweepError::NoAnswer => f.write_str("the server's answer held no result"),
            SweepError::TooManyRequests(n) => {
                write!(f, "the sweep made {n} requests without finishing")
            }
            SweepError::OutOfOrder => {
                f.write_str("an answer was handed to the sweep without the step asking for it")
            }
        }
    }
}

impl std::error::Error for SweepError {}

impl CalendarSweep {
    /// Reads `mailbox`'s calendar from `start` to `end` with the default [`SweepConfig`].
    ///
    /// # Errors
    /// [`crate::UsageError::InvalidValue`] unless `start` is before `end`.
    pub fn new(
        mailbox: EmailAddress,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Self, crate::UsageError> {
        Self::with_config(mailbox, start, end, SweepConfig::default())
    }

    /// The same with other limits.
    ///
    /// # Errors
    /// [`crate::UsageError::InvalidValue`] unless `start` is before `end` and the limits
    /// are positive with `min_window <= max_window`.
    pub fn with_config(
        mailbox: EmailAddress,
        start: Timestamp,
        end: Timestamp,
        config: SweepConfig,
    ) -> Result<Self, crate::UsageError> {
        if start >= end {
            return Err(crate::UsageError::invalid(
                "calendar sweep",
                "start must be before end",
            ));
        }
        if config.min_window <= SignedDuration::ZERO
            || config.min_window > config.max_window
            || config.max_entries == 0
            || config.batch == 0
        {
            return Err(crate::UsageError::invalid(
                "calendar sweep",
                "limits must be positive, min_window at most max_window",
            ));
        }
        let mut windows = VecDeque::new();
        let mut from = start;
        while from < end {
            let to = from
                .checked_add(config.max_window)
                .map_or(end, |t| t.min(end));
            windows.push_back((from, to));
            from = to;
        }
        Ok(Self {
            mailbox,
            config,
            windows,
            asked: None,
            seen: HashSet::new(),
            to_load: VecDeque::new(),
            loading: None,
            result: SweepResult::default(),
            failed: None,
            requests: 0,
        })
    }

    /// The next step. Polling again before handing in the answer asks for the same request.
    pub fn poll(&mut self) -> SweepStep {
        if let Some(e) = &self.failed {
            return SweepStep::Done(Err(e.clone()));
        }
        if let Some(window) = self.asked {
            return self.find(window);
        }
        if let Some(n) = self.loading {
            return self.load(n);
        }
        if self.requests >= self.config.max_requests {
            return self.fail(SweepError::TooManyRequests(self.requests));
        }
        if let Some(window) = self.windows.pop_front() {
            self.requests += 1;
            self.asked = Some(window);
            return self.find(window);
        }
        if !self.to_load.is_empty() {
            self.requests += 1;
            let n = self.to_load.len().min(self.config.batch);
            self.loading = Some(n);
            return self.load(n);
        }
        SweepStep::Done(Ok(self.result.clone()))
    }

    /// Hands in the answer to the last [`SweepStep::Find`] (the `body` of its reply).
    pub fn found(&mut self, answer: Vec<ResponseMessage<Option<FindItemPage>>>) {
        let Some((start, end)) = self.asked.take() else {
            self.failed = Some(SweepError::OutOfOrder);
            return;
        };
        let Some(message) = answer.into_iter().next() else {
            self.failed = Some(SweepError::NoAnswer);
            return;
        };
        let cut = match message.as_result() {
            Ok(Some(page)) => page.includes_last_item_in_range == Some(false),
            Ok(None) => {
                self.failed = Some(SweepError::NoAnswer);
                return;
            }
            Err(status) => {
                let too_big = status.code == ResponseCode::ErrorCalendarViewRangeTooBig
                    || status.code == ResponseCode::ErrorExceededFindCountLimit;
                if !too_big {
                    self.failed = Some(SweepError::Refused(status.clone()));
                    return;
                }
                true
            }
        };
        if cut {
            let width = end.duration_since(start);
            if width <= self.config.min_window {
                self.failed = Some(SweepError::Overflow {
                    start,
                    end,
                    max_entries: self.config.max_entries,
                });
                return;
            }
            // Split in two (whole seconds, so the halves meet exactly) and ask for the
            // earlier half first, keeping the order of the result.
            let half = SignedDuration::from_secs((width.as_secs() / 2).max(1));
            let mid = start.checked_add(half).map_or(end, |t| t.min(end));
            self.windows.push_front((mid, end));
            self.windows.push_front((start, mid));
            self.result.splits += 1;
            return;
        }
        let Ok(Some(page)) = message.into_result() else {
            return; // handled above
        };
        for item in page.items {
            if let Some(id) = item.item_id() {
                if self.seen.insert(id.id().to_owned()) {
                    self.to_load.push_back(id.clone());
                }
            }
        }
    }

    /// Hands in the answer to the last [`SweepStep::Load`] (the `body` of its reply).
    pub fn loaded(&mut self, answer: Vec<ResponseMessage<Option<Item>>>) {
        let Some(n) = self.loading.take() else {
            self.failed = Some(SweepError::OutOfOrder);
            return;
        };
        let ids: Vec<ItemId> = self.to_load.drain(..n.min(self.to_load.len())).collect();
        if answer.len() != ids.len() {
            self.failed = Some(SweepError::NoAnswer);
            return;
        }
        for (id, message) in ids.into_iter().zip(answer) {
            match message.into_result() {
                Ok(Some(item)) => self.result.items.push(item),
                Ok(None) => self.result.vanished.push(id),
                Err(status) if status.code == ResponseCode::ErrorItemNotFound => {
                    self.result.vanished.push(id);
                }
                Err(status) => self.result.refused.push((id, status)),
            }
        }
    }

    fn find(&mut self, (start, end): (Timestamp, Timestamp)) -> SweepStep {
        let folder = FolderId::of(DistinguishedFolder::Calendar, self.mailbox.clone());
        match FindItem::calendar_view(folder, start, end) {
            Ok(op) => SweepStep::Find(op.page_size(self.config.max_entries)),
            // Windows are never empty (cut from start < end, split only while wider than
            // min_window > 0); were one empty, the sweep says so instead of panicking.
            Err(_) => self.fail(SweepError::OutOfOrder),
        }
    }

    fn load(&mut self, n: usize) -> SweepStep {
        let mut ids = self.to_load.iter().take(n).cloned();
        // `loading` is set only with n >= 1 ids queued; were it not, the sweep says so.
        let Some(first) = ids.next() else {
            return self.fail(SweepError::OutOfOrder);
        };
        let mut op = GetItem::new(first)
            .in_mailbox(self.mailbox.clone())
            .property(FieldUri::RequiredAttendees)
            .property(FieldUri::OptionalAttendees)
            .property(FieldUri::Resources)
            .property(FieldUri::Body);
        for id in ids {
            op = op.id(id);
        }
        SweepStep::Load(op)
    }

    fn fail(&mut self, e: SweepError) -> SweepStep {
        self.failed = Some(e.clone());
        SweepStep::Done(Err(e))
    }
}
