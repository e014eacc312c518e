//! Sans-IO core of an Exchange Web Services (EWS) client.
//!
//! # Scope
//!
//! This crate turns EWS operations into [`http::Request<Bytes>`](http::Request) values and
//! [`http::Response<Bytes>`](http::Response) values into typed results. It opens no
//! sockets, reads no clock, never sleeps, spawns no threads and logs nothing. Every
//! decision a client makes (what to send, whether and when to retry, how to authenticate,
//! which page to fetch next) is a pure function or state machine here, so that the
//! blocking (`ews-blocking`) and async (`ews-async`) drivers only move bytes and sleep
//! when told to.
//!
//! It covers delegate management ([`AddDelegate`], [`GetDelegate`], [`UpdateDelegate`],
//! [`RemoveDelegate`]) and meetings a delegate sends on behalf of a principal
//! ([`CreateItem::on_behalf_of`], [`GetItem`], [`FindItem`], [`DeleteItem`]).
//!
//! # Where things are
//!
//! The root holds what an application writes every day: the operations and their options,
//! the data model ([`DelegateUser`], [`NewCalendarItem`], [`Item`], ...), the
//! [`RequestContext`], [`Reply`] and per-item [`ResponseMessage`]s, the errors, and
//! [`Credentials`] and [`RetryPolicy`] for a client builder. The rest is in modules:
//!
//! | module | for |
//! | --- | --- |
//! | [`error`] | everything an error carries ([`error::Fault`], [`error::Unconfirmed`], [`error::MalformedKind`], ...) |
//! | [`ops`] | the [`Operation`] trait's companions: [`ops::Repeat`], [`ops::ReadBack`], [`ops::DecodeAnswer`] |
//! | [`driver`] | people writing a driver: [`driver::Call`], [`driver::Step`], [`driver::Auth`], the validated settings |
//! | [`wire`] | people adding an operation: the body writer and reader, namespaces |
//!
//! Inside, the layers are `xml` (our reader and writer over quick-xml; no quick-xml type is
//! public) → `soap` (envelope, headers, faults, response frame) → `types` (the EWS data
//! model) → `ops` (one file per operation) → `client` (the call state machine, retry
//! policy and authentication state the drivers run). Arrows point down only.
//!
//! # Design notes (where this differs from the suggested sketch, and why)
//!
//! * **The driver loop calls no policy.** The sketch had drivers call
//!   `policy.decide(..)` on errors and handle 401 themselves. Here [`Call`](driver::Call) owns the whole
//!   sequence (token first use, encode, decode, 401 refresh, retry policy) and tells the
//!   driver one [`Step`](driver::Step) at a time: send, fetch a token, sleep, or done. A driver's loop
//!   then has exactly one `match` and no `if`, and the blocking and async drivers cannot
//!   drift apart in behaviour. [`Step`](driver::Step) is deliberately exhaustive so a new step breaks
//!   every driver at compile time.
//! * **Decoding is a method (`&self`).** [`Operation::decode`] takes the operation, so an
//!   answer can be read in the light of its request (for example [`FindItem::next_page`]
//!   computes paging from the request's offset), at no cost to the stateless ones.
//! * **Repeatability has three values, not two.** [`Repeat::CreatesItems`](ops::Repeat::CreatesItems) sits between
//!   `Safe` and `SendsMessages`: saving an appointment twice sends no mail but still
//!   duplicates it, so it is not repeated after an unknown outcome either.
//! * **A batch in which every item is `ErrorServerBusy` is an error of the request.**
//!   Exchange refuses a throttled batch item by item; since nothing was processed, the
//!   core turns it into one [`ServerError::Response`] that the retry policy honours
//!   (with `BackOffMilliseconds`, even 0). Mixed batches stay per item.
//! * **Leaves and text do not go through quick-xml's events.** The sketch reads every
//!   event from quick-xml. But most of an answer is leaf elements and text, and quick-xml
//!   0.42 reports each entity reference as an event of its own (an HTML body holds
//!   hundreds) and checks each piece as UTF-8 again. The reader takes `<name>text</name>`
//!   leaves and the text of just-opened elements straight from the `&str` (one-pass
//!   unescaping, namespace resolved against quick-xml's scope) and leaves every other
//!   construct to quick-xml; a differential property test holds both paths to the same
//!   result. Decoding is then faster than a bare quick-xml event scan of the same bytes
//!   (`BENCHMARKS.md`).
//! * **Values the server invents keep their text.** Enumerations the server fills
//!   (`ResponseCode`, permission levels, versions, ...) have an `Other(Unrecognized)` arm
//!   whose payload has no public constructor, so callers cannot build a misspelt value.
//!
//! # Which error an answer is
//!
//! The HTTP status decides first, the body second: outside 2xx, an answer is a SOAP
//! [`error::Fault`] or [`ServerError::Status`] (an HTML page at 500 included);
//! [`ServerError::Malformed`] only ever describes a 2xx answer, with a typed
//! [`error::MalformedKind`]. The table is in the [`error`] module.
//!
//! # Hostile input
//!
//! [`Operation::decode`] applies [`Limits::default`]: bodies over 64 MiB are refused before
//! parsing, nesting deeper than 64 elements and answers with more than 1,000,000 items
//! stop with [`ServerError::LimitExceeded`]. [`Operation::decode_with`] takes other
//! [`Limits`]. A DOCTYPE is refused and no entity is expanded, so entity-expansion attacks
//! are [`ServerError::Malformed`]. No input panics: every decoder is fuzzed (see
//! `FUZZING.md` in the repository).
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use ews_proto::{AddDelegate, DelegatePermissions, DelegateUser, Operation, Permission,
//!                 RequestContext, ResponseCode, UserId};
//!
//! let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
//! let op = AddDelegate::new(
//!     "user1@example.com".parse()?,
//!     DelegateUser::new(UserId::smtp("user2@example.com".parse()?))
//!         .permissions(DelegatePermissions::new().calendar(Permission::Author)),
//! );
//! let request = op.encode(&ctx)?;            // send this with any HTTP client ...
//! # let _ = request;
//! let answer = http::Response::builder()      // ... and decode what comes back
//!     .status(200)
//!     .body(Bytes::from_static(br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
//!       <m:AddDelegateResponse ResponseClass="Success"
//!           xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
//!         <m:ResponseCode>NoError</m:ResponseCode>
//!         <m:ResponseMessages>
//!           <m:DelegateUserResponseMessageType ResponseClass="Error">
//!             <m:MessageText>The delegate already exists.</m:MessageText>
//!             <m:ResponseCode>ErrorDelegateAlreadyExists</m:ResponseCode>
//!           </m:DelegateUserResponseMessageType>
//!         </m:ResponseMessages>
//!       </m:AddDelegateResponse></s:Body></s:Envelope>"#))?;
//! let reply = op.decode(&answer)?;
//! assert_eq!(reply.body[0].status.code, ResponseCode::ErrorDelegateAlreadyExists);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod autodiscover;
pub mod calendar;
mod client;
pub mod error;
pub mod ntlm;
pub mod ops;
mod soap;
pub mod sync;
mod types;
mod xml;

// What an application writes every day: operations and their options, the data model,
// the request context, replies and errors, credentials and the retry policy.
pub use client::{Credentials, RetryPolicy, Secret};
pub use error::{Error, ServerError, TransportError, TransportErrorKind, UsageError};
pub use ops::{
    AddDelegate, AffectedTaskOccurrences, BaseShape, CalendarChange, CancelMeeting,
    ConflictResolution, CreateItem, CreatedItem, DelegateResults, DeleteItem, DeleteType, FieldUri,
    FindItem, FindItemPage, GetDelegate, GetItem, ItemChange, MeetingAnswer, MessageDisposition,
    Operation, RemoveDelegate, RespondToMeeting, RetryStep, SendMeetingCancellations,
    SendMeetingInvitations, SendMeetingInvitationsOrCancellations, StaleKeyRetry,
    StaleKeyRetryError, UpdateDelegate, UpdateItem, UpdatedItem,
};
pub use soap::{
    ExchangeVersion, Impersonation, MailboxCulture, PrincipalName, Reply, RequestContext,
    ResponseClass, ResponseCode, ResponseMessage, ResponseStatus, ServerVersionInfo, VersionName,
};
pub use types::{
    Attendee, AttendeeResponse, Body, BodyKind, CalendarItem, CalendarItemType, Delegate,
    DelegateFolder, DelegatePermissions, DelegateUser, DeliverMeetingRequests, DistinguishedFolder,
    DistinguishedUser, EmailAddress, FolderId, GrantedPermissions, Importance, Item, ItemId,
    ItemKind, ItemRef, LegacyFreeBusyStatus, Mailbox, MeetingRequestType, Message, MessageKind,
    Month, NewCalendarItem, OccurrenceInfo, PatternKind, Permission, PermissionLevel, Recurrence,
    RecurrencePattern, RecurrenceRange, RelativeDay, ReportedPattern, ReportedRange,
    ReportedRecurrence, ReportedTimeZone, Sensitivity, Sid, TimeZoneId, Unrecognized, UserId,
    WeekIndex,
};
pub use xml::Limits;

pub mod driver {
    //! For people writing a driver (the blocking and async clients are two): the [`Call`]
    //! state machine a driver runs for each operation, the [`Auth`] state it keeps, the
    //! settings a client builder validates ([`ClientConfig`] into [`Settings`]), and the
    //! retry policy's [`Decision`]s.
    //!
    //! An application never needs this module: it builds a client of `ews-blocking` or
    //! `ews-async` and calls its methods.
    pub use crate::client::{
        Auth, BuilderParts, Builtin, Call, ClientConfig, ConnectionId, ConnectionInfo,
        ConnectionUse, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Deadline, Decision, Face,
        FixedHandshakeSource, HandshakeSource, Proxy, ProxySetting, Resolve, Settings, SourceError,
        Step, Validated,
    };
    pub use crate::error::{InvalidToken, LogText};
    pub use crate::soap::X_ANCHOR_MAILBOX;
}

pub mod wire {
    //! For people adding an operation: the body writer and reader an [`Operation`]
    //! implementation uses, the namespaces, and the parsed [`Element`].
    //!
    //! [`Operation`]: crate::Operation
    pub use crate::soap::{NS_ERRORS, NS_MESSAGES, NS_SOAP, NS_TYPES};
    pub use crate::xml::{BodyReader, BodyWriter, Element, Limits, Ns, XmlNs};
}

/// The date-time crate of this API's [`jiff::Timestamp`] fields, re-exported so callers
/// use the same version.
pub use jiff;

// The workspace README's Rust examples are compiled and run as doctests by `ews-tests`,
// which depends on every crate they use (the drivers' quick starts included).
