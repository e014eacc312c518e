//! The operations, one file each, and the [`Operation`] trait the drivers are generic over.
//!
//! Adding an operation means adding a file here (its request type, its output type, the
//! body it writes and reads) plus golden files and fixtures; no driver changes.

mod add_delegate;
mod cancel_meeting;
mod create_item;
mod delete_item;
mod find_item;
mod get_delegate;
mod get_item;
mod read_back;
mod remove_delegate;
mod respond_to_meeting;
mod update_delegate;
mod update_item;

use bytes::{Bytes, BytesMut};

pub use add_delegate::AddDelegate;
pub use cancel_meeting::CancelMeeting;
pub use create_item::{CreateItem, CreatedItem, MessageDisposition, SendMeetingInvitations};
pub use delete_item::{AffectedTaskOccurrences, DeleteItem, DeleteType, SendMeetingCancellations};
pub use find_item::{FindItem, FindItemPage};
pub use get_delegate::GetDelegate;
pub use get_item::{BaseShape, FieldUri, GetItem};
pub use read_back::{ReadBack, Unconfirmed, WriteCheck, WriteState, WriteTarget};
pub use remove_delegate::RemoveDelegate;
pub use respond_to_meeting::{MeetingAnswer, RespondToMeeting};
pub use update_delegate::UpdateDelegate;
pub use update_item::{
    CalendarChange, ConflictResolution, ItemChange, RetryStep,
    SendMeetingInvitationsOrCancellations, StaleKeyRetry, StaleKeyRetryError, UpdateItem,
    UpdatedItem,
};

use crate::error::{ServerError, UsageError};
use crate::soap::{self, Reply, RequestContext, ResponseMessage, ResponseStatus, finish_batch};
use crate::types::{Delegate, DeliverMeetingRequests, UserId};
use crate::xml::{BodyReader, BodyWriter, Element, Limits, XmlNs};

/// Whether a request may be sent again when it is unknown whether the server acted on it.
///
/// | operation | `repeat()` |
/// | --- | --- |
/// | [`GetDelegate`], [`GetItem`], [`FindItem`] | `Safe` |
/// | [`AddDelegate`], [`UpdateDelegate`], [`RemoveDelegate`] | `ReadsBack` |
/// | [`CreateItem`] | `SendsMessages` when it sends, else `CreatesItems` |
/// | [`DeleteItem`] | `SendsMessages` when it sends cancellations, else `Safe` |
/// | [`UpdateItem`] | `SendsMessages` when it sends, else `Safe` (`CreatesItems` for an append not under `NeverOverwrite`) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repeat {
    /// Repeating does no harm: the operation reads, or its effect is the same (or a
    /// typed error such as `ErrorDelegateAlreadyExists`) the second time.
    Safe,
    /// The operation creates items: sending it twice would create them twice.
    CreatesItems,
    /// The operation sends mail (invitations, cancellations). Sending it twice would send
    /// the mail twice, so it is repeated only when the server provably did not process it.
    SendsMessages,
    /// The operation changes state that a read can show (the delegate writes). Repeated
    /// only when the server provably did not process it; after an unknown outcome the core
    /// sends the operation's [`Operation::read_back`] query instead and reports what it
    /// found ([`Unconfirmed`]), because a resent AddDelegate that had worked would answer
    /// `ErrorDelegateAlreadyExists`: a false failure.
    ReadsBack,
}

/// An EWS operation: what it writes, what it reads back.
///
/// Drivers call [`Operation::encode`], send the request, and call
/// [`Operation::decode`] on the answer; the retry policy looks at [`Operation::repeat`].
///
/// ```
/// use ews_proto::{GetDelegate, Operation, RequestContext};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let op = GetDelegate::new("user1@example.com".parse()?);
/// let request = op.encode(&ctx)?;
/// assert_eq!(request.method(), http::Method::POST);
/// assert_eq!(request.headers()["X-AnchorMailbox"], "user1@example.com");
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
pub trait Operation {
    /// What a successful exchange yields.
    type Output;

    /// The operation's element name, which is also the last part of its SOAPAction.
    const NAME: &'static str;

    /// Does the WSDL bind `TimeZoneContext` to this operation? Only then is it sent.
    const TIME_ZONE_CONTEXT: bool = false;

    /// The mailbox the operation acts on, for `X-AnchorMailbox` (impersonation, when set
    /// in the context, takes precedence).
    fn anchor_mailbox(&self) -> Option<&str> {
        None
    }

    /// Whether the request may be repeated after an unknown outcome.
    fn repeat(&self) -> Repeat {
        Repeat::Safe
    }

    /// For a [`Repeat::ReadsBack`] operation: the read that tells, after an unknown
    /// outcome, whether the write was applied. `None` (the default) for the others.
    fn read_back(&self) -> Option<ReadBack> {
        None
    }

    /// Writes the operation element (the single child of `soap:Body`).
    fn write_body(&self, w: &mut BodyWriter<'_>, ctx: &RequestContext) -> Result<(), UsageError>;

    /// Reads the operation's response element `response` (`m:{NAME}Response`).
    fn read_body<'a>(
        &self,
        r: &mut BodyReader<'a>,
        response: &Element<'a>,
    ) -> Result<Self::Output, ServerError>;

    /// The complete HTTP request: POST to the context's endpoint with the SOAP envelope,
    /// `Content-Type`, `SOAPAction` and `X-AnchorMailbox`.
    fn encode(&self, ctx: &RequestContext) -> Result<http::Request<Bytes>, UsageError> {
        soap::encode(self, ctx)
    }

    /// Appends just the SOAP envelope to `buf` (for callers that manage their buffers).
    /// On error nothing is appended.
    fn encode_into(&self, ctx: &RequestContext, buf: &mut BytesMut) -> Result<(), UsageError> {
        soap::encode_into(self, ctx, buf)
    }

    /// Decodes the HTTP answer with the default [`Limits`].
    fn decode(&self, response: &http::Response<Bytes>) -> Result<Reply<Self::Output>, ServerError> {
        soap::decode(self, response, &Limits::default())
    }

    /// Decodes the HTTP answer with explicit [`Limits`].
    fn decode_with(
        &self,
        response: &http::Response<Bytes>,
        limits: &Limits,
    ) -> Result<Reply<Self::Output>, ServerError> {
        soap::decode(self, response, limits)
    }
}

/// Operations whose answer reads the same whatever the request held, so that an answer can
/// be decoded without building a request first (a logged answer, a test fixture). Every
/// operation of this crate but [`FindItem`] (whose pages are computed from the request's
/// offset) implements it.
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::{CreateItem, ops::DecodeAnswer};
/// let logged = http::Response::new(Bytes::from_static(br#"<s:Envelope
///   xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:CreateItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
///       xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
///     <m:ResponseMessages>
///       <m:CreateItemResponseMessage ResponseClass="Success">
///         <m:ResponseCode>NoError</m:ResponseCode>
///         <m:Items><t:CalendarItem><t:ItemId Id="AAMk" ChangeKey="DwAA"/></t:CalendarItem></m:Items>
///       </m:CreateItemResponseMessage>
///     </m:ResponseMessages>
///   </m:CreateItemResponse></s:Body></s:Envelope>"#));
/// let reply = CreateItem::decode_answer(&logged)?;
/// let created = reply.body[0].as_result().map_err(Clone::clone)?.as_ref().ok_or("no item")?;
/// assert_eq!(created.kind, ews_proto::ItemKind::CalendarItem);
/// assert_eq!(created.id.change_key(), Some("DwAA"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait DecodeAnswer: Operation + Sized {
    /// Reads the operation's response element; what [`Operation::read_body`] does for
    /// every value of the operation.
    fn read_answer<'a>(
        r: &mut BodyReader<'a>,
        response: &Element<'a>,
    ) -> Result<Self::Output, ServerError>;

    /// Decodes an answer with the default [`Limits`], without a request.
    fn decode_answer(response: &http::Response<Bytes>) -> Result<Reply<Self::Output>, ServerError> {
        Self::decode_answer_with(response, &Limits::default())
    }

    /// Decodes an answer with explicit [`Limits`], without a request.
    fn decode_answer_with(
        response: &http::Response<Bytes>,
        limits: &Limits,
    ) -> Result<Reply<Self::Output>, ServerError> {
        soap::decode(
            &AnswerOf::<Self>(std::marker::PhantomData),
            response,
            limits,
        )
    }
}

/// Inside an `impl Operation`: `read_body` is the operation's [`DecodeAnswer::read_answer`]
/// (for operations whose answer reads the same whatever the request held).
macro_rules! read_body_is_read_answer {
    () => {
        fn read_body<'a>(
            &self,
            r: &mut $crate::xml::BodyReader<'a>,
            e: &$crate::xml::Element<'a>,
        ) -> Result<Self::Output, $crate::error::ServerError> {
            <Self as $crate::ops::DecodeAnswer>::read_answer(r, e)
        }
    };
}
pub(crate) use read_body_is_read_answer;

/// Stands in for a `DecodeAnswer` operation where the decoder wants an operation value:
/// same name, reads through `read_answer`, writes nothing.
struct AnswerOf<O>(std::marker::PhantomData<fn() -> O>);

impl<O: DecodeAnswer> Operation for AnswerOf<O> {
    type Output = O::Output;
    const NAME: &'static str = O::NAME;
    const TIME_ZONE_CONTEXT: bool = O::TIME_ZONE_CONTEXT;

    fn write_body(&self, _: &mut BodyWriter<'_>, _: &RequestContext) -> Result<(), UsageError> {
        Err(UsageError::invalid(
            "operation",
            "an answer reader has no request to write",
        ))
    }

    fn read_body<'a>(
        &self,
        r: &mut BodyReader<'a>,
        response: &Element<'a>,
    ) -> Result<Self::Output, ServerError> {
        O::read_answer(r, response)
    }
}

/// The answer of all four delegate operations (AddDelegate, GetDelegate, UpdateDelegate,
/// RemoveDelegate): the outer status of the `*DelegateResponse`, one message per user, and
/// (GetDelegate only) where the principal's meeting requests go. It dereferences to the
/// messages (`results[0]`, `results.iter()`).
///
/// An outer `Error` never gets here: it is the call's `Err`
/// ([`ServerError::Response`]), whatever per-user messages came with it. An outer
/// `Warning` is kept in [`DelegateResults::status`].
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::{DelegateUser, DeliverMeetingRequests, GetDelegate, UserId};
/// use ews_proto::ops::DecodeAnswer;
/// let answer = http::Response::new(Bytes::from_static(br#"<s:Envelope
///   xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <m:GetDelegateResponse ResponseClass="Success"
///       xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
///       xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
///     <m:ResponseCode>NoError</m:ResponseCode>
///     <m:ResponseMessages>
///       <m:DelegateUserResponseMessageType ResponseClass="Success">
///         <m:ResponseCode>NoError</m:ResponseCode>
///         <m:DelegateUser>
///           <t:UserId><t:PrimarySmtpAddress>user2@example.com</t:PrimarySmtpAddress></t:UserId>
///         </m:DelegateUser>
///       </m:DelegateUserResponseMessageType>
///     </m:ResponseMessages>
///     <m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>
///   </m:GetDelegateResponse></s:Body></s:Envelope>"#));
/// let results = GetDelegate::decode_answer(&answer)?.body;
/// assert_eq!(results.deliver_meeting_requests, Some(DeliverMeetingRequests::DelegatesAndMe));
/// let user2 = UserId::smtp("user2@example.com".parse()?);
/// let delegate = results.delegate(&user2).ok_or("not a delegate")?;
/// // Read, change, write back: folders reported `Custom` stay as they are.
/// let update = DelegateUser::from(delegate).view_private_items(true);
/// assert_eq!(update.user_id(), &user2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DelegateResults {
    /// The outer `ResponseClass`, `ResponseCode` and `MessageText` (Success or Warning).
    pub status: ResponseStatus,
    /// One answer per user.
    pub messages: Vec<ResponseMessage<Option<Delegate>>>,
    /// GetDelegate's `DeliverMeetingRequests` (`None` in the other three answers, which do
    /// not carry it, and from servers that leave it out).
    pub deliver_meeting_requests: Option<DeliverMeetingRequests>,
}

impl DelegateResults {
    /// The delegates the answer reports (messages with an error status or without a
    /// delegate skipped).
    pub fn delegates(&self) -> impl Iterator<Item = &Delegate> {
        self.messages.iter().filter_map(|m| match m.as_result() {
            Ok(Some(d)) => Some(d),
            _ => None,
        })
    }

    /// The reported delegate that is `user` (matched by SMTP address, case-insensitively, or
    /// by SID), if any.
    pub fn delegate(&self, user: &UserId) -> Option<&Delegate> {
        self.delegates().find(|d| d.user_id.same_user(user))
    }
}

impl std::ops::Deref for DelegateResults {
    type Target = Vec<ResponseMessage<Option<Delegate>>>;

    fn deref(&self) -> &Self::Target {
        &self.messages
    }
}

impl IntoIterator for DelegateResults {
    type Item = ResponseMessage<Option<Delegate>>;
    type IntoIter = std::vec::IntoIter<Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.messages.into_iter()
    }
}

impl<'a> IntoIterator for &'a DelegateResults {
    type Item = &'a ResponseMessage<Option<Delegate>>;
    type IntoIter = std::slice::Iter<'a, ResponseMessage<Option<Delegate>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.messages.iter()
    }
}

/// Reads a `BaseDelegateResponseMessageType` answer: the top-level frame, the per-user
/// `DelegateUserResponseMessageType` messages, and any further child through `extra`.
///
/// A top-level `Error` is the failure of the whole request, with or without per-user
/// messages.
pub(crate) fn read_delegate_response<'a>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
    mut extra: impl FnMut(&mut BodyReader<'a>, Element<'a>) -> Result<(), ServerError>,
) -> Result<DelegateResults, ServerError> {
    let mut messages: Option<Vec<ResponseMessage<Option<Delegate>>>> = None;
    let top = ResponseStatus::read(r, e, |r, c| {
        if c.is(XmlNs::Messages, "ResponseMessages") {
            let list = messages.get_or_insert_with(Vec::new);
            r.children(&c, |r, m| {
                if m.ns() != XmlNs::Messages {
                    return Ok(());
                }
                r.count_item()?;
                let mut delegate = None;
                let status = ResponseStatus::read(r, &m, |r, d| {
                    if d.is(XmlNs::Messages, "DelegateUser") {
                        delegate = Some(Delegate::read(r, &d)?);
                    }
                    Ok(())
                })?;
                list.push(ResponseMessage {
                    status,
                    value: delegate,
                });
                Ok::<_, ServerError>(())
            })
        } else {
            extra(r, c)
        }
    })?;
    if top.is_error() {
        return Err(ServerError::Response(Box::new(top)));
    }
    let messages = finish_batch(messages.unwrap_or_default())?;
    Ok(DelegateResults {
        status: top,
        messages,
        deliver_meeting_requests: None,
    })
}

/// Reads an item-operation answer (`CreateItemResponse`, `GetItemResponse`, ...):
/// `m:ResponseMessages` holding one `m:*ResponseMessage` per item. `value` reads the
/// children that follow the status frame into the message's value.
pub(crate) fn read_item_responses<'a, T: Default>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
    mut value: impl FnMut(&mut BodyReader<'a>, Element<'a>, &mut T) -> Result<(), ServerError>,
) -> Result<Vec<ResponseMessage<T>>, ServerError> {
    let mut list = Vec::new();
    r.children(e, |r, c| {
        if !c.is(XmlNs::Messages, "ResponseMessages") {
            return Ok(());
        }
        r.children(&c, |r, m| {
            if m.ns() != XmlNs::Messages || !m.local_name().ends_with("ResponseMessage") {
                return Ok(());
            }
            r.count_item()?;
            let mut v = T::default();
            let status = ResponseStatus::read(r, &m, |r, child| value(r, child, &mut v))?;
            list.push(ResponseMessage { status, value: v });
            Ok::<_, ServerError>(())
        })
    })?;
    finish_batch(list)
}

/// Writes the body shared by AddDelegate and UpdateDelegate: `m:Mailbox`, then
/// `m:DelegateUsers` (left out when empty, which only UpdateDelegate allows), then
/// `m:DeliverMeetingRequests`.
pub(crate) fn write_delegate_change(
    w: &mut BodyWriter<'_>,
    element: &'static str,
    principal: &crate::types::EmailAddress,
    delegates: &[crate::types::DelegateUser],
    deliver: Option<&crate::types::DeliverMeetingRequests>,
    version: crate::soap::ExchangeVersion,
) -> Result<(), UsageError> {
    use crate::xml::Ns;
    w.open(Ns::Messages, element);
    write_principal(w, principal)?;
    if !delegates.is_empty() {
        w.open(Ns::Messages, "DelegateUsers");
        for d in delegates {
            d.write(w)?;
        }
        w.close(Ns::Messages, "DelegateUsers");
    }
    if let Some(d) = deliver {
        d.write(w, version)?;
    }
    w.close(Ns::Messages, element);
    Ok(())
}

/// Writes `<m:ItemIds>` with one `<t:ItemId/>` (or occurrence or series reference) per
/// id (GetItem, DeleteItem).
pub(crate) fn write_item_ids(
    w: &mut BodyWriter<'_>,
    ids: &[crate::types::ItemRef],
) -> Result<(), UsageError> {
    use crate::xml::Ns;
    w.open(Ns::Messages, "ItemIds");
    for id in ids {
        id.write(w)?;
    }
    w.close(Ns::Messages, "ItemIds");
    Ok(())
}

/// Writes `<m:Mailbox><t:EmailAddress>..</t:EmailAddress></m:Mailbox>`, the principal
/// element of the delegate operations.
pub(crate) fn write_principal(
    w: &mut BodyWriter<'_>,
    principal: &crate::types::EmailAddress,
) -> Result<(), UsageError> {
    w.open(crate::xml::Ns::Messages, "Mailbox");
    w.leaf(crate::xml::Ns::Types, "EmailAddress", principal.as_str())?;
    w.close(crate::xml::Ns::Messages, "Mailbox");
    Ok(())
}
