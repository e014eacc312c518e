//! `FindItem`: lists the items of a folder, a page at a time.

use crate::error::{MalformedKind, ServerError, UsageError};
use crate::ops::{BaseShape, Operation, read_item_responses};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{EmailAddress, FolderId, Item, format_timestamp};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};
use jiff::Timestamp;

/// Lists the items of a folder (shallow traversal): `page_size` at a time from `offset`
/// ([`FindItem::new`]), or the calendar items and occurrences between two instants
/// ([`FindItem::calendar_view`], Exchange's `CalendarView`).
///
/// Paging is decided here, not in the drivers: [`FindItem::next_page`] gives the request
/// for the next page, or `None` when the answer included the last item. A calendar view
/// does not page; [`CalendarSweep`](crate::calendar::CalendarSweep) splits a long range.
///
/// ```
/// use ews_proto::{DistinguishedFolder, FindItem, FolderId, Operation, RequestContext};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let inbox = FolderId::of(DistinguishedFolder::Inbox, "user3@example.com".parse()?);
/// let op = FindItem::new(inbox).page_size(50);
/// op.encode(&ctx)?;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindItem {
    folder: FolderId,
    shape: BaseShape,
    page_size: u32,
    view: View,
}

/// Which view a FindItem asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// `IndexedPageItemView` from this offset.
    Indexed { offset: u32 },
    /// `CalendarView` from `start` to `end`.
    Calendar { start: Timestamp, end: Timestamp },
}

/// One page of a folder's items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FindItemPage {
    /// The items of this page.
    pub items: Vec<Item>,
    /// `TotalItemsInView`: how many items the folder view holds.
    pub total_items_in_view: Option<u32>,
    /// `IncludesLastItemInRange`: is this the last page?
    pub includes_last_item_in_range: Option<bool>,
    /// `IndexedPagingOffset`: where the next page starts.
    pub indexed_paging_offset: Option<u32>,
}

impl FindItem {
    /// The first page (100 items) of `folder`, default shape.
    pub fn new(folder: FolderId) -> Self {
        Self {
            folder,
            shape: BaseShape::Default,
            page_size: 100,
            view: View::Indexed { offset: 0 },
        }
    }

    /// The calendar items of `folder` (a calendar: `FolderId::of(Calendar, principal)` for
    /// a principal's) that overlap `start`..`end`, recurring series expanded into their
    /// occurrences, at most 1000 (Exchange's default limit; see
    /// [`FindItem::page_size`]). The answer's `includes_last_item_in_range` is `false` when
    /// the range held more.
    ///
    /// ```
    /// use ews_proto::{DistinguishedFolder, FindItem, FolderId};
    /// let calendar = FolderId::of(DistinguishedFolder::Calendar, "user1@example.com".parse()?);
    /// let june = FindItem::calendar_view(
    ///     calendar,
    ///     "2025-06-01T00:00:00Z".parse()?,
    ///     "2025-07-01T00:00:00Z".parse()?,
    /// )?;
    /// # let _ = june;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] unless `start` is before `end`.
    pub fn calendar_view(
        folder: FolderId,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Self, UsageError> {
        if start >= end {
            return Err(UsageError::invalid(
                "calendar view",
                "StartDate must be before EndDate",
            ));
        }
        Ok(Self {
            folder,
            shape: BaseShape::Default,
            page_size: 1000,
            view: View::Calendar { start, end },
        })
    }

    /// Sets the page size, `MaxEntriesReturned` (at least 1).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// The range of a calendar view (`None` for a paged view).
    pub fn calendar_range(&self) -> Option<(Timestamp, Timestamp)> {
        match self.view {
            View::Calendar { start, end } => Some((start, end)),
            View::Indexed { .. } => None,
        }
    }

    /// The folder searched.
    pub fn folder(&self) -> &FolderId {
        &self.folder
    }

    /// `MaxEntriesReturned`.
    pub fn max_entries(&self) -> u32 {
        self.page_size
    }

    /// Sets the base shape.
    pub fn shape(mut self, shape: BaseShape) -> Self {
        self.shape = shape;
        self
    }

    /// The request for the page after `page`, or `None` if `page` was the last one (or the
    /// server did not say where to go on).
    pub fn next_page(&self, page: &FindItemPage) -> Option<FindItem> {
        let View::Indexed { offset } = self.view else {
            return None; // a calendar view does not page
        };
        if page.includes_last_item_in_range != Some(false) {
            return None;
        }
        let next = page.indexed_paging_offset?;
        if next <= offset {
            return None; // a server that does not advance would loop forever
        }
        Some(FindItem {
            view: View::Indexed { offset: next },
            ..self.clone()
        })
    }
}

impl From<FolderId> for FindItem {
    /// The first page of the folder.
    fn from(folder: FolderId) -> Self {
        FindItem::new(folder)
    }
}

impl Operation for FindItem {
    /// One answer per folder (one here).
    type Output = Vec<ResponseMessage<Option<FindItemPage>>>;
    const NAME: &'static str = "FindItem";
    const TIME_ZONE_CONTEXT: bool = true;

    fn anchor_mailbox(&self) -> Option<&str> {
        self.folder.mailbox().map(EmailAddress::as_str)
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        w.open_start(Ns::Messages, "FindItem");
        w.attr("Traversal", "Shallow")?;
        w.open_end();
        self.shape.write(w)?;
        match self.view {
            View::Indexed { offset } => {
                w.open_start(Ns::Messages, "IndexedPageItemView");
                w.attr("MaxEntriesReturned", &self.page_size.to_string())?;
                w.attr("Offset", &offset.to_string())?;
                w.attr("BasePoint", "Beginning")?;
            }
            View::Calendar { start, end } => {
                w.open_start(Ns::Messages, "CalendarView");
                w.attr("MaxEntriesReturned", &self.page_size.to_string())?;
                w.attr("StartDate", &format_timestamp(start))?;
                w.attr("EndDate", &format_timestamp(end))?;
            }
        }
        w.empty_end();
        w.open(Ns::Messages, "ParentFolderIds");
        self.folder.write(w)?;
        w.close(Ns::Messages, "ParentFolderIds");
        w.close(Ns::Messages, "FindItem");
        Ok(())
    }

    fn read_body<'a>(
        &self,
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_item_responses(r, e, |r, c, slot: &mut Option<FindItemPage>| {
            if !c.is(XmlNs::Messages, "RootFolder") {
                return Ok(());
            }
            let number = |name: &str| -> Result<Option<u32>, ServerError> {
                match c.attr(name)? {
                    None => Ok(None),
                    Some(v) => v.trim().parse().map(Some).map_err(|_| {
                        c.malformed(
                            MalformedKind::BadValue,
                            format!("RootFolder/@{name} is not a count"),
                        )
                    }),
                }
            };
            let mut page = FindItemPage {
                items: Vec::new(),
                total_items_in_view: number("TotalItemsInView")?,
                includes_last_item_in_range: match c.attr("IncludesLastItemInRange")?.as_deref() {
                    None => None,
                    Some(v) => Some(crate::types::parse_bool(v.trim()).ok_or_else(|| {
                        c.malformed(
                            MalformedKind::BadValue,
                            "IncludesLastItemInRange is not a boolean",
                        )
                    })?),
                },
                indexed_paging_offset: number("IndexedPagingOffset")?,
            };
            r.children(&c, |r, items| {
                if items.is(XmlNs::Types, "Items") {
                    r.children(&items, |r, item| {
                        if let Some(it) = Item::read(r, &item)? {
                            page.items.push(it);
                        }
                        Ok::<_, ServerError>(())
                    })?;
                }
                Ok::<_, ServerError>(())
            })?;
            *slot = Some(page);
            Ok(())
        })
    }
}
