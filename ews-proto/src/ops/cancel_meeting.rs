//! `CreateItem` of `CancelCalendarItem`: the organizer (or a delegate for the principal who
//! organizes it) cancels a meeting, with a note to the attendees.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    CreateItem, CreatedItem, DecodeAnswer, MessageDisposition, Operation, Repeat,
    read_body_is_read_answer,
};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{Body, EmailAddress, ItemId};
use crate::xml::{BodyReader, BodyWriter, Element, Ns};

/// Cancels a meeting: the attendees get a cancellation (with the note of
/// [`CancelMeeting::note`], `NewBodyContent`) and the organizer's calendar item is marked
/// cancelled. Only the organizer's item can be cancelled (`ErrorCalendarIsNotOrganizer`
/// otherwise). Never repeated after an unknown outcome.
///
/// ```
/// use ews_proto::{Body, CancelMeeting, ItemId, Operation, RequestContext};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let meeting = ItemId::new("AAMkADk=", Some("DwAAABYA".into()))?;
/// let op = CancelMeeting::new(meeting)
///     .note(Body::text("Moved to next week."))
///     .in_mailbox("user1@example.com".parse()?);
/// let request = op.encode(&ctx)?;
/// assert_eq!(request.headers()["X-AnchorMailbox"], "user1@example.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelMeeting {
    reference: ItemId,
    note: Option<Body>,
    mailbox: Option<EmailAddress>,
}

impl CancelMeeting {
    /// Cancels the meeting whose (organizer's) calendar item is `meeting`.
    pub fn new(meeting: ItemId) -> Self {
        Self {
            reference: meeting,
            note: None,
            mailbox: None,
        }
    }

    /// The note the attendees read in the cancellation.
    pub fn note(mut self, note: Body) -> Self {
        self.note = Some(note);
        self
    }

    /// The mailbox holding the meeting (the principal's, for a delegate), for
    /// `X-AnchorMailbox`.
    pub fn in_mailbox(mut self, mailbox: EmailAddress) -> Self {
        self.mailbox = Some(mailbox);
        self
    }
}

impl Operation for CancelMeeting {
    /// The cancellation's own item, when the server reports one.
    type Output = Vec<ResponseMessage<Option<CreatedItem>>>;
    const NAME: &'static str = "CreateItem";
    const TIME_ZONE_CONTEXT: bool = true;

    fn anchor_mailbox(&self) -> Option<&str> {
        self.mailbox.as_ref().map(EmailAddress::as_str)
    }

    fn repeat(&self) -> Repeat {
        Repeat::SendsMessages
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        w.open_start(Ns::Messages, "CreateItem");
        w.attr(
            "MessageDisposition",
            MessageDisposition::SendAndSaveCopy.as_str(),
        )?;
        w.open_end();
        w.open(Ns::Messages, "Items");
        w.open(Ns::Types, "CancelCalendarItem");
        // SmartResponseType: ReferenceItemId, then NewBodyContent.
        self.reference.write(w, "ReferenceItemId")?;
        if let Some(note) = &self.note {
            note.write_as(w, "NewBodyContent")?;
        }
        w.close(Ns::Types, "CancelCalendarItem");
        w.close(Ns::Messages, "Items");
        w.close(Ns::Messages, "CreateItem");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for CancelMeeting {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        CreateItem::read_answer(r, e)
    }
}
