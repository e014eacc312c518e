//! `UpdateDelegate`: changes existing delegates' permissions, or the principal's
//! meeting-request delivery.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    DecodeAnswer, DelegateResults, Operation, ReadBack, Repeat, read_body_is_read_answer,
    read_delegate_response, write_delegate_change,
};
use crate::soap::RequestContext;
use crate::types::{DelegateUser, DeliverMeetingRequests, EmailAddress};
use crate::xml::{BodyReader, BodyWriter, Element};

/// Updates delegates of a principal's mailbox; only the folders and flags set on each
/// [`DelegateUser`] change. Updating a user who is not a delegate fails for that user with
/// `ErrorNotDelegate`.
///
/// Built either with delegates ([`UpdateDelegate::new`]) or only to change
/// `DeliverMeetingRequests` ([`UpdateDelegate::deliver_only`]), so a request always
/// changes something.
///
/// ```
/// use ews_proto::{DelegatePermissions, DelegateUser, DeliverMeetingRequests, Operation,
///                 Permission, RequestContext, UpdateDelegate, UserId};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = UpdateDelegate::new(
///     "user1@example.com".parse()?,
///     DelegateUser::new(UserId::smtp("user2@example.com".parse()?))
///         .permissions(DelegatePermissions::new().tasks(Permission::None))
///         .view_private_items(true),
/// )
/// .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndSendInformationToMe);
/// op.encode(&ctx)?;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateDelegate {
    principal: EmailAddress,
    delegates: Vec<DelegateUser>,
    deliver_meeting_requests: Option<DeliverMeetingRequests>,
}

impl UpdateDelegate {
    /// Updates `delegate` in `principal`'s mailbox.
    pub fn new(principal: EmailAddress, delegate: DelegateUser) -> Self {
        Self {
            principal,
            delegates: vec![delegate],
            deliver_meeting_requests: None,
        }
    }

    /// Changes only where `principal`'s meeting requests go.
    pub fn deliver_only(principal: EmailAddress, d: DeliverMeetingRequests) -> Self {
        Self {
            principal,
            delegates: Vec::new(),
            deliver_meeting_requests: Some(d),
        }
    }

    /// Updates another delegate in the same request.
    pub fn delegate(mut self, delegate: DelegateUser) -> Self {
        self.delegates.push(delegate);
        self
    }

    /// Also sets where the principal's meeting requests go.
    pub fn deliver_meeting_requests(mut self, d: DeliverMeetingRequests) -> Self {
        self.deliver_meeting_requests = Some(d);
        self
    }
}

impl Operation for UpdateDelegate {
    type Output = DelegateResults;
    const NAME: &'static str = "UpdateDelegate";

    fn anchor_mailbox(&self) -> Option<&str> {
        Some(self.principal.as_str())
    }

    fn repeat(&self) -> Repeat {
        Repeat::ReadsBack
    }

    fn read_back(&self) -> Option<ReadBack> {
        Some(ReadBack::present(
            &self.principal,
            &self.delegates,
            self.deliver_meeting_requests.as_ref(),
        ))
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, ctx: &RequestContext) -> Result<(), UsageError> {
        write_delegate_change(
            w,
            Self::NAME,
            &self.principal,
            &self.delegates,
            self.deliver_meeting_requests.as_ref(),
            ctx.version(),
        )
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for UpdateDelegate {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_delegate_response(r, e, |_, _| Ok(()))
    }
}
