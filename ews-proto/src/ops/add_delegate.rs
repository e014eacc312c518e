//! `AddDelegate`: a principal grants delegates access to folders of its mailbox.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    DecodeAnswer, DelegateResults, Operation, ReadBack, Repeat, read_body_is_read_answer,
    read_delegate_response, write_delegate_change,
};
use crate::soap::RequestContext;
use crate::types::{DelegateUser, DeliverMeetingRequests, EmailAddress};
use crate::xml::{BodyReader, BodyWriter, Element};

/// Adds one or more delegates to a principal's mailbox.
///
/// The answer holds one result per delegate, in request order. Adding a user who already
/// is a delegate fails for that user with `ErrorDelegateAlreadyExists`; use
/// [`crate::UpdateDelegate`] to change an existing delegate.
///
/// ```
/// use ews_proto::{AddDelegate, DelegatePermissions, DelegateUser, DeliverMeetingRequests,
///                 Operation, Permission, RequestContext, UserId};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = AddDelegate::new(
///     "user2@example.com".parse()?,
///     DelegateUser::new(UserId::smtp("user1@example.com".parse()?))
///         .permissions(DelegatePermissions::new()
///             .calendar(Permission::Author)
///             .contacts(Permission::Reviewer))
///         .receive_copies_of_meeting_messages(false)
///         .view_private_items(false),
/// )
/// .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
/// let request = op.encode(&ctx)?;
/// assert!(std::str::from_utf8(request.body()).unwrap().contains("<m:AddDelegate>"));
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddDelegate {
    principal: EmailAddress,
    delegates: Vec<DelegateUser>,
    deliver_meeting_requests: Option<DeliverMeetingRequests>,
}

impl AddDelegate {
    /// Adds `delegate` to `principal`'s mailbox. A request always names at least one
    /// delegate, which is why the first one is an argument here.
    pub fn new(principal: EmailAddress, delegate: DelegateUser) -> Self {
        Self {
            principal,
            delegates: vec![delegate],
            deliver_meeting_requests: None,
        }
    }

    /// Adds another delegate to the same request.
    pub fn delegate(mut self, delegate: DelegateUser) -> Self {
        self.delegates.push(delegate);
        self
    }

    /// Also sets where the principal's meeting requests go.
    pub fn deliver_meeting_requests(mut self, d: DeliverMeetingRequests) -> Self {
        self.deliver_meeting_requests = Some(d);
        self
    }

    /// The delegates, in request order (the answer's order).
    pub fn delegates(&self) -> &[DelegateUser] {
        &self.delegates
    }
}

impl Operation for AddDelegate {
    type Output = DelegateResults;
    const NAME: &'static str = "AddDelegate";

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

impl DecodeAnswer for AddDelegate {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_delegate_response(r, e, |_, _| Ok(()))
    }
}
