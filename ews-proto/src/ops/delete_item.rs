//! `DeleteItem`, with meeting cancellations so a delegate can cancel what it sent.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    DecodeAnswer, Operation, Repeat, read_body_is_read_answer, read_item_responses, write_item_ids,
};
use crate::soap::{RequestContext, ResponseMessage};
use crate::types::{EmailAddress, ItemRef};
use crate::xml::{BodyReader, BodyWriter, Element, Ns};

/// `DeleteType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeleteType {
    /// Delete permanently.
    HardDelete,
    /// Move to the dumpster.
    SoftDelete,
    /// Move to Deleted Items.
    MoveToDeletedItems,
}

/// `SendMeetingCancellations`: whether deleting a meeting tells its attendees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendMeetingCancellations {
    /// Tell no one.
    SendToNone,
    /// Send cancellations, keep no copy.
    SendOnlyToAll,
    /// Send cancellations and save a copy in Sent Items.
    SendToAllAndSaveCopy,
}

/// `AffectedTaskOccurrences` (required by the server when deleting tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AffectedTaskOccurrences {
    /// The whole series.
    AllOccurrences,
    /// Only the current occurrence.
    SpecifiedOccurrenceOnly,
}

/// Deletes items; for meetings, optionally sends cancellations to the attendees.
///
/// ```
/// use ews_proto::{DeleteItem, DeleteType, ItemId, Operation, RequestContext,
///                 SendMeetingCancellations};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = DeleteItem::new(ItemId::new("AAMkAD...", None)?, DeleteType::MoveToDeletedItems)
///     .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy);
/// op.encode(&ctx)?;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteItem {
    delete_type: DeleteType,
    cancellations: Option<SendMeetingCancellations>,
    task_occurrences: Option<AffectedTaskOccurrences>,
    ids: Vec<ItemRef>,
    anchor: Option<EmailAddress>,
}

impl DeleteItem {
    /// Deletes `id` (an [`ItemId`](crate::ItemId), or an occurrence or series by
    /// [`ItemRef`]) as `delete_type` says.
    pub fn new(id: impl Into<ItemRef>, delete_type: DeleteType) -> Self {
        Self {
            delete_type,
            cancellations: None,
            task_occurrences: None,
            ids: vec![id.into()],
            anchor: None,
        }
    }

    /// Deletes another item in the same request.
    pub fn id(mut self, id: impl Into<ItemRef>) -> Self {
        self.ids.push(id.into());
        self
    }

    /// Sets `SendMeetingCancellations` (needed when deleting meetings).
    pub fn cancellations(mut self, c: SendMeetingCancellations) -> Self {
        self.cancellations = Some(c);
        self
    }

    /// Sets `AffectedTaskOccurrences` (needed when deleting tasks).
    pub fn task_occurrences(mut self, a: AffectedTaskOccurrences) -> Self {
        self.task_occurrences = Some(a);
        self
    }

    /// Names the mailbox the items live in, for `X-AnchorMailbox` routing.
    pub fn in_mailbox(mut self, mailbox: EmailAddress) -> Self {
        self.anchor = Some(mailbox);
        self
    }
}

impl Operation for DeleteItem {
    /// One answer per id, in request order.
    type Output = Vec<ResponseMessage<()>>;
    const NAME: &'static str = "DeleteItem";

    fn anchor_mailbox(&self) -> Option<&str> {
        self.anchor.as_ref().map(EmailAddress::as_str)
    }

    fn repeat(&self) -> Repeat {
        match self.cancellations {
            None | Some(SendMeetingCancellations::SendToNone) => Repeat::Safe,
            Some(_) => Repeat::SendsMessages,
        }
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        w.open_start(Ns::Messages, "DeleteItem");
        w.attr(
            "DeleteType",
            match self.delete_type {
                DeleteType::HardDelete => "HardDelete",
                DeleteType::SoftDelete => "SoftDelete",
                DeleteType::MoveToDeletedItems => "MoveToDeletedItems",
            },
        )?;
        if let Some(c) = self.cancellations {
            w.attr(
                "SendMeetingCancellations",
                match c {
                    SendMeetingCancellations::SendToNone => "SendToNone",
                    SendMeetingCancellations::SendOnlyToAll => "SendOnlyToAll",
                    SendMeetingCancellations::SendToAllAndSaveCopy => "SendToAllAndSaveCopy",
                },
            )?;
        }
        if let Some(a) = self.task_occurrences {
            w.attr(
                "AffectedTaskOccurrences",
                match a {
                    AffectedTaskOccurrences::AllOccurrences => "AllOccurrences",
                    AffectedTaskOccurrences::SpecifiedOccurrenceOnly => "SpecifiedOccurrenceOnly",
                },
            )?;
        }
        w.open_end();
        write_item_ids(w, &self.ids)?;
        w.close(Ns::Messages, "DeleteItem");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for DeleteItem {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_item_responses(r, e, |_, _, _: &mut ()| Ok(()))
    }
}
