//! `RemoveDelegate`: takes delegates away from a principal's mailbox.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    DecodeAnswer, DelegateResults, Operation, ReadBack, Repeat, read_body_is_read_answer,
    read_delegate_response, write_principal,
};
use crate::soap::RequestContext;
use crate::types::{EmailAddress, UserId};
use crate::xml::{BodyReader, BodyWriter, Element, Ns};

/// Removes delegates from a principal's mailbox. Removing a user who is not a delegate
/// fails for that user with `ErrorNotDelegate`.
///
/// ```
/// use ews_proto::{Operation, RemoveDelegate, RequestContext, UserId};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = RemoveDelegate::new("user1@example.com".parse()?, UserId::smtp("user2@example.com".parse()?));
/// op.encode(&ctx)?;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoveDelegate {
    principal: EmailAddress,
    users: Vec<UserId>,
}

impl RemoveDelegate {
    /// Removes `user` from `principal`'s delegates.
    pub fn new(principal: EmailAddress, user: UserId) -> Self {
        Self {
            principal,
            users: vec![user],
        }
    }

    /// Removes another user in the same request.
    pub fn user(mut self, user: UserId) -> Self {
        self.users.push(user);
        self
    }
}

impl Operation for RemoveDelegate {
    type Output = DelegateResults;
    const NAME: &'static str = "RemoveDelegate";

    fn anchor_mailbox(&self) -> Option<&str> {
        Some(self.principal.as_str())
    }

    fn repeat(&self) -> Repeat {
        Repeat::ReadsBack
    }

    fn read_back(&self) -> Option<ReadBack> {
        Some(ReadBack::absent(&self.principal, &self.users))
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        w.open(Ns::Messages, "RemoveDelegate");
        write_principal(w, &self.principal)?;
        w.open(Ns::Messages, "UserIds");
        for u in &self.users {
            u.write(w, Ns::Types)?;
        }
        w.close(Ns::Messages, "UserIds");
        w.close(Ns::Messages, "RemoveDelegate");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for RemoveDelegate {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        read_delegate_response(r, e, |_, _| Ok(()))
    }
}
