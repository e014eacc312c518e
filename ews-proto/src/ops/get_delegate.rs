//! `GetDelegate`: lists a principal's delegates and its meeting-request delivery.

use crate::error::{ServerError, UsageError};
use crate::ops::{
    DecodeAnswer, DelegateResults, Operation, read_body_is_read_answer, read_delegate_response,
    write_principal,
};
use crate::soap::RequestContext;
use crate::types::{DeliverMeetingRequests, EmailAddress, UserId};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// Gets the delegates of a principal's mailbox: all of them, or only the users named with
/// [`GetDelegate::user`] (a named user who is not a delegate gets `ErrorNotDelegate`).
///
/// ```
/// use ews_proto::{GetDelegate, Operation, RequestContext, UserId};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = GetDelegate::new("user1@example.com".parse()?)
///     .include_permissions(true)
///     .user(UserId::smtp("user2@example.com".parse()?));
/// op.encode(&ctx)?;
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetDelegate {
    principal: EmailAddress,
    include_permissions: bool,
    users: Vec<UserId>,
}

impl GetDelegate {
    /// All delegates of `principal`, with their permissions.
    pub fn new(principal: EmailAddress) -> Self {
        Self {
            principal,
            include_permissions: true,
            users: Vec::new(),
        }
    }

    /// Whether the answer includes folder permissions (default: yes).
    pub fn include_permissions(mut self, yes: bool) -> Self {
        self.include_permissions = yes;
        self
    }

    /// Restricts the answer to this user (may be called several times).
    pub fn user(mut self, user: UserId) -> Self {
        self.users.push(user);
        self
    }
}

impl From<EmailAddress> for GetDelegate {
    /// All delegates of the principal, with their permissions.
    fn from(principal: EmailAddress) -> Self {
        GetDelegate::new(principal)
    }
}

impl From<&EmailAddress> for GetDelegate {
    /// All delegates of the principal, with their permissions.
    fn from(principal: &EmailAddress) -> Self {
        GetDelegate::new(principal.clone())
    }
}

impl Operation for GetDelegate {
    type Output = DelegateResults;
    const NAME: &'static str = "GetDelegate";

    fn anchor_mailbox(&self) -> Option<&str> {
        Some(self.principal.as_str())
    }

    fn write_body(&self, w: &mut BodyWriter<'_>, _ctx: &RequestContext) -> Result<(), UsageError> {
        w.open_start(Ns::Messages, "GetDelegate");
        w.attr(
            "IncludePermissions",
            if self.include_permissions {
                "true"
            } else {
                "false"
            },
        )?;
        w.open_end();
        write_principal(w, &self.principal)?;
        if !self.users.is_empty() {
            w.open(Ns::Messages, "UserIds");
            for u in &self.users {
                u.write(w, Ns::Types)?;
            }
            w.close(Ns::Messages, "UserIds");
        }
        w.close(Ns::Messages, "GetDelegate");
        Ok(())
    }

    read_body_is_read_answer!();
}

impl DecodeAnswer for GetDelegate {
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        let mut deliver = None;
        let mut results = read_delegate_response(r, e, |r, c| {
            if c.is(XmlNs::Messages, "DeliverMeetingRequests") {
                deliver = Some(DeliverMeetingRequests::from_wire(r.text(&c)?.trim()));
            }
            Ok(())
        })?;
        results.deliver_meeting_requests = deliver;
        Ok(results)
    }
}
