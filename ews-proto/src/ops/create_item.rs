//! `CreateItem` of calendar items, including the meeting a delegate sends on behalf of a
//! principal.

use crate::error::{ServerError, UsageError};
use crate::ops::{DecodeAnswer, Operation, Repeat, read_body_is_read_answer, read_item_responses};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{
    DistinguishedFolder, EmailAddress, FolderId, ItemId, ItemKind, NewCalendarItem,
};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// An item a `CreateItem` made: its kind and its id (with the change key).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedItem {
    /// What was created.
    pub kind: ItemKind,
    /// Its id and change key.
    pub id: ItemId,
}

/// `MessageDisposition`: whether the item is saved, sent, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageDisposition {
    /// Save only.
    SaveOnly,
    /// Send only.
    SendOnly,
    /// Send, and save a copy (in the sender's Sent Items).
    SendAndSaveCopy,
}

impl MessageDisposition {
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            MessageDisposition::SaveOnly => "SaveOnly",
            MessageDisposition::SendOnly => "SendOnly",
            MessageDisposition::SendAndSaveCopy => "SendAndSaveCopy",
        }
    }
}

/// `SendMeetingInvitations`: whether attendees get meeting requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendMeetingInvitations {
    /// Send none (an appointment, or a meeting saved without inviting anyone).
    SendToNone,
    /// Send to all attendees, keep no copy.
    SendOnlyToAll,
    /// Send to all attendees and save a copy in Sent Items.
    SendToAllAndSaveCopy,
}

impl SendMeetingInvitations {
    const fn as_str(self) -> &'static str {
        match self {
            SendMeetingInvitations::SendToNone => "SendToNone",
            SendMeetingInvitations::SendOnlyToAll => "SendOnlyToAll",
            SendMeetingInvitations::SendToAllAndSaveCopy => "SendToAllAndSaveCopy",
        }
    }
}

/// Creates calendar items (several per request) in a calendar folder.
///
/// For a delegate sending a meeting on behalf of a principal, use
/// [`CreateItem::on_behalf_of`]: it saves into the *principal's* calendar (the
/// `DistinguishedFolderId` carries the principal's mailbox, which other clients make easy
/// to forget, silently putting the meeting in the delegate's own calendar). Attendees then
/// see "delegate on behalf of principal"; the sent copy stays in the delegate's Sent Items.
///
/// ```
/// use ews_proto::{CreateItem, LegacyFreeBusyStatus, Mailbox, NewCalendarItem, Operation,
///                 RequestContext};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse()?;
/// let meeting = NewCalendarItem::new("Delegate appointment", start, "2025-06-02T11:00:00Z".parse()?)?
///     .free_busy(LegacyFreeBusyStatus::Busy)
///     .required_attendee(Mailbox::new("user3@example.com".parse()?));
/// let op = CreateItem::on_behalf_of("user1@example.com".parse()?, meeting);
/// let request = op.encode(&ctx)?;
/// let xml = std::str::from_utf8(request.body())?;
/// assert!(xml.contains(r#"<t:DistinguishedFolderId Id="calendar"><t:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress>"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateItem {
    disposition: Option<MessageDisposition>,
    invitations: SendMeetingInvitations,
    folder: Option<FolderId>,
    items: Vec<NewCalendarItem>,
}

impl CreateItem {
    /// A meeting `item` that the caller (a delegate) creates in `principal`'s calendar and
    /// sends to its attendees on the principal's behalf: `SendAndSaveCopy`,
    /// `SendToAllAndSaveCopy`.
    pub fn on_behalf_of(principal: EmailAddress, item: NewCalendarItem) -> Self {
        Self {
            disposition: Some(MessageDisposition::SendAndSaveCopy),
            invitations: SendMeetingInvitations::SendToAllAndSaveCopy,
            folder: Some(FolderId::of(DistinguishedFolder::Calendar, principal)),
            items: vec![item],
        }
    }

    /// `item` in `folder` (or, with `None`, the caller's default calendar), sending
    /// invitations as `invitations` says.
    pub fn new(
        folder: Option<FolderId>,
        item: NewCalendarItem,
        invitations: SendMeetingInvitations,
    ) -> Self {
        Self {
            disposition: None,
            invitations,
            folder,
            items: vec![item],
        }
    }

    /// Adds another item to the same request.
    pub fn item(mut self, item: NewCalendarItem) -> Self {
        self.items.push(item);
        self
    }

    /// Sets `MessageDisposition`.
    pub fn disposition(mut self, d: MessageDisposition) -> Self {
        self.disposition = Some(d);
        self
    }

    /// Sets `SendMeetingInvitations`.
    pub fn invitations(mut self, i: SendMeetingInvitations) -> Self {
        self.invitations = i;
        self
    }

    /// The items, in request order (the answer's order).
    pub fn items(&self) -> &[NewCalendarItem] {
        &self.items
    }

    /// Does the request send mail?
    pub fn sends_messages(&self) -> bool {
        self.invitations != SendMeetingInvitations::SendToNone
            || matches!(
                self.disposition,
                Some(MessageDisposition::SendOnly | MessageDisposition::SendAndSaveCopy)
            ) && self.items.iter().any(NewCalendarItem::has_attendees)
    }
}

impl Operation for CreateItem {
    /// The id of each created item (none when the server keeps no copy), in request order.
    type Output = Vec<ResponseMessage<Option<CreatedItem>>>;
    const NAME: &'static str = "CreateItem";
    const TIME_ZONE_CONTEXT: bool = true;

    fn anchor_mailbox(&self) -> Option<&str> {
        self.folder.as_ref()?.mailbox().map(EmailAddress::as_str)
    }

    fn repeat(&self) -> Repeat {
        if self.sends_messages() {
            Repeat::SendsMessages
        } else {
            Repeat::CreatesItems
        }
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, ctx: &RequestContext) -> Result<(), UsageError> {
        w.open_start(Ns::Messages, "CreateItem");
        if let Some(d) = self.disposition {
            w.attr("MessageDisposition", d.as_str())?;
        }
        w.attr("SendMeetingInvitations", self.invitations.as_str())?;
        w.open_end();
        if let Some(folder) = &self.folder {
            w.open(Ns::Messages, "SavedItemFolderId");
            folder.write(w)?;
            w.close(Ns::Messages, "SavedItemFolderId");
        }
        if ctx.time_zone().is_none() && self.items.iter().any(NewCalendarItem::is_wall_clock) {
            return Err(UsageError::invalid(
                "calendar item",
                "wall-clock Start/End need the request's time zone (RequestContext::with_time_zone)",
            ));
        }
        w.open(Ns::Messages, "Items");
        for item in &self.items {
            item.write(w, ctx.version())?;
        }
        w.close(Ns::Messages, "Items");
        w.close(Ns::Messages, "CreateItem");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for CreateItem {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_item_responses(r, e, |r, c, created: &mut Option<CreatedItem>| {
            if c.is(XmlNs::Messages, "Items") {
                r.children(&c, |r, item| {
                    let kind = ItemKind::from_wire(item.local_name());
                    r.children(&item, |_, f| {
                        if f.is(XmlNs::Types, "ItemId") && created.is_none() {
                            let id = ItemId::read(&f)?;
                            *created = Some(CreatedItem {
                                kind: kind.clone(),
                                id,
                            });
                        }
                        Ok::<_, ServerError>(())
                    })
                })?;
            }
            Ok(())
        })
    }
}
