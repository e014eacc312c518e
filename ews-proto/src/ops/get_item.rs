//! `GetItem`: reads calendar items and messages by id.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    DecodeAnswer, Operation, read_body_is_read_answer, read_item_responses, write_item_ids,
};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{EmailAddress, Item, ItemId, ItemRef};
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

    pub(crate) fn write(self, w: &mut BodyWriter<'_>) -> Result<(), UsageError> {
        write_shape(w, self, &[])
    }
}

/// Writes `<m:ItemShape>`: `BaseShape`, then (when any) `AdditionalProperties`, last in
/// the schema's `ItemResponseShapeType`.
pub(crate) fn write_shape(
    w: &mut BodyWriter<'_>,
    shape: BaseShape,
    extra: &[FieldUri],
) -> Result<(), UsageError> {
    w.open(Ns::Messages, "ItemShape");
    w.token(Ns::Types, "BaseShape", shape.as_str());
    if !extra.is_empty() {
        w.open(Ns::Types, "AdditionalProperties");
        for f in extra {
            w.open_start(Ns::Types, "FieldURI");
            w.attr("FieldURI", f.as_str())?;
            w.empty_end();
        }
        w.close(Ns::Types, "AdditionalProperties");
    }
    w.close(Ns::Messages, "ItemShape");
    Ok(())
}

macro_rules! field_uris {
    ($($(#[$m:meta])* $variant:ident = $wire:literal,)*) => {
        /// A property to ask for beyond the base shape (`t:FieldURI`, a value of the
        /// schema's `UnindexedFieldURIType`): the ones this crate's read model decodes.
        ///
        /// Exchange leaves some properties out of a shape unless they are named: a
        /// meeting's attendees, for one, come with `calendar:RequiredAttendees`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FieldUri {
            $($(#[$m])* $variant,)*
        }

        impl FieldUri {
            /// Every property this enum names, in declaration order.
            pub const ALL: &'static [FieldUri] = &[$(FieldUri::$variant),*];

            /// The value on the wire (`calendar:RequiredAttendees`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(FieldUri::$variant => $wire,)*
                }
            }
        }
    };
}

field_uris! {
    /// `item:Subject`.
    Subject = "item:Subject",
    /// `item:Body`.
    Body = "item:Body",
    /// `item:ItemClass`.
    ItemClass = "item:ItemClass",
    /// `item:Categories`.
    Categories = "item:Categories",
    /// `item:Importance`.
    Importance = "item:Importance",
    /// `item:Sensitivity`.
    Sensitivity = "item:Sensitivity",
    /// `item:DateTimeSent`.
    DateTimeSent = "item:DateTimeSent",
    /// `item:DateTimeReceived`.
    DateTimeReceived = "item:DateTimeReceived",
    /// `message:From` (the principal, on a message sent on its behalf).
    From = "message:From",
    /// `message:Sender` (the delegate who sent it).
    Sender = "message:Sender",
    /// `message:ToRecipients`.
    ToRecipients = "message:ToRecipients",
    /// `message:CcRecipients`.
    CcRecipients = "message:CcRecipients",
    /// `message:IsRead`.
    IsRead = "message:IsRead",
    /// `calendar:Start`.
    Start = "calendar:Start",
    /// `calendar:End`.
    End = "calendar:End",
    /// `calendar:Location`.
    Location = "calendar:Location",
    /// `calendar:LegacyFreeBusyStatus`.
    LegacyFreeBusyStatus = "calendar:LegacyFreeBusyStatus",
    /// `calendar:Organizer`.
    Organizer = "calendar:Organizer",
    /// `calendar:RequiredAttendees`.
    RequiredAttendees = "calendar:RequiredAttendees",
    /// `calendar:OptionalAttendees`.
    OptionalAttendees = "calendar:OptionalAttendees",
    /// `calendar:Resources`.
    Resources = "calendar:Resources",
    /// `calendar:MyResponseType`.
    MyResponseType = "calendar:MyResponseType",
    /// `calendar:IsCancelled`.
    IsCancelled = "calendar:IsCancelled",
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
    extra: Vec<FieldUri>,
    ids: Vec<ItemRef>,
    anchor: Option<EmailAddress>,
}

impl GetItem {
    /// Gets `id` (an [`ItemId`], or an occurrence or series by [`ItemRef`]) with all
    /// properties.
    pub fn new(id: impl Into<ItemRef>) -> Self {
        Self {
            shape: BaseShape::AllProperties,
            extra: Vec::new(),
            ids: vec![id.into()],
            anchor: None,
        }
    }

    /// Gets another item in the same request.
    pub fn id(mut self, id: impl Into<ItemRef>) -> Self {
        self.ids.push(id.into());
        self
    }

    /// Sets the base shape.
    pub fn shape(mut self, shape: BaseShape) -> Self {
        self.shape = shape;
        self
    }

    /// The ids asked for, in request order.
    pub fn ids(&self) -> &[ItemRef] {
        &self.ids
    }

    /// Also asks for `property` (see [`FieldUri`]; named twice, it is sent once).
    pub fn property(mut self, property: FieldUri) -> Self {
        if !self.extra.contains(&property) {
            self.extra.push(property);
        }
        self
    }

    /// Names the mailbox the items live in, for `X-AnchorMailbox` routing (item ids do
    /// not say).
    pub fn in_mailbox(mut self, mailbox: EmailAddress) -> Self {
        self.anchor = Some(mailbox);
        self
    }
}

impl From<ItemId> for GetItem {
    /// The item with all properties.
    fn from(id: ItemId) -> Self {
        GetItem::new(id)
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
        write_shape(w, self.shape, &self.extra)?;
        write_item_ids(w, &self.ids)?;
        w.close(Ns::Messages, "GetItem");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for GetItem {
    fn read_answer<'a>(
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
