//! `CreateItem` of `AcceptItem` / `TentativelyAcceptItem` / `DeclineItem`: answering a
//! meeting request, for instance by a delegate on the principal's behalf.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    CreateItem, CreatedItem, DecodeAnswer, MessageDisposition, Operation, Repeat,
    read_body_is_read_answer,
};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{Body, EmailAddress, ItemId};
use crate::xml::{BodyReader, BodyWriter, Element, Ns};

/// How to answer a meeting request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MeetingAnswer {
    /// `AcceptItem`.
    Accept,
    /// `TentativelyAcceptItem`.
    Tentative,
    /// `DeclineItem`.
    Decline,
}

impl MeetingAnswer {
    const fn element(self) -> &'static str {
        match self {
            MeetingAnswer::Accept => "AcceptItem",
            MeetingAnswer::Tentative => "TentativelyAcceptItem",
            MeetingAnswer::Decline => "DeclineItem",
        }
    }
}

/// Answers a meeting request (or the calendar item it made) with Accept, Tentative or
/// Decline. A delegate who got the principal's request (`DeliverMeetingRequests` sends it
/// to the delegates) answers it on the principal's behalf: the organizer sees the
/// principal's answer, sent by the delegate.
///
/// Sends the answer to the organizer unless [`RespondToMeeting::without_response`] says
/// not to (the calendar is updated either way). Never repeated after an unknown outcome.
///
/// ```
/// use ews_proto::{ItemId, MeetingAnswer, Operation, RequestContext, RespondToMeeting};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let request = ItemId::new("AAMkADk=", Some("CwAAABYA".into()))?;
/// let op = RespondToMeeting::new(MeetingAnswer::Accept, request)
///     .in_mailbox("user2@example.com".parse()?);
/// let xml = String::from_utf8(op.encode(&ctx)?.body().to_vec())?;
/// assert!(xml.contains(r#"<m:CreateItem MessageDisposition="SendAndSaveCopy">"#));
/// assert!(xml.contains(r#"<t:AcceptItem><t:ReferenceItemId Id="AAMkADk=" ChangeKey="CwAAABYA"/></t:AcceptItem>"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RespondToMeeting {
    answer: MeetingAnswer,
    reference: ItemId,
    body: Option<Body>,
    send: bool,
    mailbox: Option<EmailAddress>,
}

impl RespondToMeeting {
    /// Answers the meeting request (or calendar item) `reference`; the change key, when
    /// known, makes the server refuse a stale request (`ErrorIrresolvableConflict`).
    pub fn new(answer: MeetingAnswer, reference: ItemId) -> Self {
        Self {
            answer,
            reference,
            body: None,
            send: true,
            mailbox: None,
        }
    }

    /// A note to the organizer with the answer.
    pub fn body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }

    /// Updates the calendar without sending the answer (`MessageDisposition="SaveOnly"`).
    pub fn without_response(mut self) -> Self {
        self.send = false;
        self
    }

    /// The mailbox holding the request, for `X-AnchorMailbox` (item ids do not say).
    pub fn in_mailbox(mut self, mailbox: EmailAddress) -> Self {
        self.mailbox = Some(mailbox);
        self
    }
}

impl Operation for RespondToMeeting {
    /// The answer's own item, when the server reports one.
    type Output = Vec<ResponseMessage<Option<CreatedItem>>>;
    const NAME: &'static str = "CreateItem";
    const TIME_ZONE_CONTEXT: bool = true;

    fn anchor_mailbox(&self) -> Option<&str> {
        self.mailbox.as_ref().map(EmailAddress::as_str)
    }

    fn repeat(&self) -> Repeat {
        if self.send {
            Repeat::SendsMessages
        } else {
            Repeat::CreatesItems
        }
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        let disposition = if self.send {
            MessageDisposition::SendAndSaveCopy
        } else {
            MessageDisposition::SaveOnly
        };
        w.open_start(Ns::Messages, "CreateItem");
        w.attr("MessageDisposition", disposition.as_str())?;
        w.open_end();
        w.open(Ns::Messages, "Items");
        let element = self.answer.element();
        w.open(Ns::Types, element);
        // WellKnownResponseObjectType: Body comes before ReferenceItemId.
        if let Some(body) = &self.body {
            body.write_as(w, "Body")?;
        }
        self.reference.write(w, "ReferenceItemId")?;
        w.close(Ns::Types, element);
        w.close(Ns::Messages, "Items");
        w.close(Ns::Messages, "CreateItem");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for RespondToMeeting {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        CreateItem::read_answer(r, e)
    }
}
