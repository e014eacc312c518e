//! `GetItem`: reads calendar items and messages by id.

use crate::error::{ServerError, UsageError};
use crate::ops::{Operation, read_item_responses, write_item_ids};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{EmailAddress, Item, ItemId};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// `BaseShape`: how much of each item the server returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BaseShape {
    /// Only ids.
    IdOnly,
    /// The default set of properties.
    Default,
    /// All properties (includes Organizer, From, Sender and attendees).
    AllProperties,
}

impl BaseShape {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            BaseShape::IdOnly => "IdOnly",
            BaseShape::Default => "Default",
            BaseShape::AllProperties => "AllProperties",
        }
    }

    pub(crate) fn write(self, w: &mut BodyWriter<'_>) {
        w.open(Ns::Messages, "ItemShape");
        w.token(Ns::Types, "BaseShape", self.as_str());
        w.close(Ns::Messages, "ItemShape");
    }
}

/// Gets items by id: calendar items with organizer and attendees, messages and meeting
/// messages with `From` and `Sender` (for a meeting sent on behalf of a principal, `From`
/// is the principal and `Sender` the delegate).
///
/// ```
/// use ews_proto::{GetItem, ItemId, Operation, RequestContext};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = GetItem::new(ItemId::new("AAMkAD...", Some("DwAAAB...".into()))?);
/// op.encode(&ctx)?;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetItem {
    shape: BaseShape,
    ids: Vec<ItemId>,
    anchor: Option<EmailAddress>,
}

impl GetItem {
    /// Gets `id` with all properties.
    pub fn new(id: ItemId) -> Self {
        Self {
            shape: BaseShape::AllProperties,
            ids: vec![id],
            anchor: None,
        }
    }

    /// Gets another item in the same request.
    pub fn id(mut self, id: ItemId) -> Self {
        self.ids.push(id);
        self
    }

    /// Sets the base shape.
    pub fn shape(mut self, shape: BaseShape) -> Self {
        self.shape = shape;
        self
    }

    /// Names the mailbox the items live in, for `X-AnchorMailbox` routing (item ids do
    /// not say).
    pub fn in_mailbox(mut self, mailbox: EmailAddress) -> Self {
        self.anchor = Some(mailbox);
        self
    }
}

impl Operation for GetItem {
    /// One answer per id, in request order.
    type Output = Vec<ResponseMessage<Option<Item>>>;
    const NAME: &'static str = "GetItem";
    const TIME_ZONE_CONTEXT: bool = true;

    fn anchor_mailbox(&self) -> Option<&str> {
        self.anchor.as_ref().map(EmailAddress::as_str)
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        w.open(Ns::Messages, "GetItem");
        self.shape.write(w);
        write_item_ids(w, &self.ids)?;
        w.close(Ns::Messages, "GetItem");
        Ok(())
    }

    fn read_body<'a>(
        &self,
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_item_responses(r, e, |r, c, slot: &mut Option<Item>| {
            if c.is(XmlNs::Messages, "Items") {
                r.children(&c, |r, item| {
                    if slot.is_none() {
                        *slot = Item::read(r, &item)?;
                    }
                    Ok::<_, ServerError>(())
                })?;
            }
            Ok(())
        })
    }
}
