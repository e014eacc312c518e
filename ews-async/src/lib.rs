//! Async Exchange Web Services client: a thin tokio/hyper driver over [`ews_proto`].
//!
//! This crate moves bytes and sleeps when the core says so; every protocol decision
//! (what to send, whether to retry, how to authenticate) is made by `ews-proto`'s
//! [`Call`](ews_proto::driver::Call) state machine. The whole driver loop is one `match` on the
//! core's [`Step`](ews_proto::driver::Step): send through the [`Transport`], ask the
//! [`TokenProvider`], `tokio::time::sleep`, or return.
//!
//! It has the same surface as `ews-blocking`, with `async` methods: delegate management
//! ([`Client::add_delegate`], [`Client::get_delegates`], [`Client::update_delegate`],
//! [`Client::remove_delegate`]), meetings a delegate sends on behalf of a principal
//! ([`Client::send_meeting_on_behalf`]) and the item operations to check and clean up
//! ([`Client::find_items`], [`Client::get_item`], [`Client::delete_item`]); any other
//! [`Operation`](ews_proto::Operation) goes through [`Client::send`].
//!
//! # Quick start
//!
//! ```no_run
//! use ews_async::{Client, Credentials};
//! use ews_async::proto::{Mailbox, NewCalendarItem, ResponseCode};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // user2 is a delegate of user1 with Calendar Author rights.
//!     let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
//!         .credentials(Credentials::basic("user2@example.com", "Passw0rd-2"))
//!         .build()?;
//!     let meeting = NewCalendarItem::new(
//!         "Delegate appointment",
//!         "2025-06-02T15:00:00Z".parse()?,
//!         "2025-06-02T16:00:00Z".parse()?,
//!     )?
//!     .required_attendee(Mailbox::new("user3@example.com".parse()?));
//!     let reply = client
//!         .send_meeting_on_behalf(&"user1@example.com".parse()?, meeting)
//!         .await?;
//!     assert_eq!(reply.body[0].status.code, ResponseCode::NoError);
//!     Ok(())
//! }
//! ```
//!
//! # Features
//!
//! * `rustls` (default): the built-in [`HyperTransport`] with TLS by rustls (ring
//!   provider, Mozilla's WebPKI roots, verification on).
//! * `hyper`: the built-in transport for plain `http://` only (an `https` endpoint is
//!   refused at [`ClientBuilder::build`]).
//! * `fault-injection`: `ClientBuilder::fail_reads_after_sending`, a flaky network for
//!   tests (never in production).
//! * `dns`: `DnsSrv`, [`Autodiscover`]'s DNS SRV lookups by the system's resolver
//!   (hickory-resolver).
//!
//! With neither, bring a [`Transport`] of your own.
//!
//! # Runtime
//!
//! tokio: the built-in transport spawns its connection tasks on the current runtime,
//! and retries sleep with `tokio::time::sleep` (so `tokio::time::pause` works in tests).
//!
//! # Tracing
//!
//! Each call is an `info` span named `ews` with the fields `operation`, `mailbox` (the
//! `X-AnchorMailbox` sent), `status` (the last HTTP status), `request_id` (the
//! `request-id` response header), `server_version` (`ServerVersionInfo`) and `attempt`
//! (as in `ews-blocking`). Retries, token fetches and transport errors are `debug` events;
//! request and response SOAP bodies are `trace` events with the target `ews::soap` (the
//! same target as the blocking driver). Headers are never logged, so neither is
//! `Authorization`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod autodiscover;
mod client;
#[cfg(feature = "fault-injection")]
mod faults;
#[cfg(feature = "hyper")]
mod hyper_transport;
#[cfg(feature = "hyper")]
mod pinned;
mod sync;
#[cfg(feature = "rustls")]
mod tls;
mod token;
mod transport;

#[cfg(feature = "dns")]
pub use autodiscover::DnsSrv;
pub use autodiscover::{Autodiscover, SrvResolver, SrvResult};
pub use client::{Client, ClientBuilder};
pub use ews_proto::autodiscover::{NoSrv, SharedCache};
#[cfg(feature = "hyper")]
pub use hyper_transport::HyperTransport;
pub use token::{BoxError, TokenProvider};
pub use transport::{FnTransport, Transport, TransportResult};

/// The core, re-exported: operations, types, errors, policies.
pub use ews_proto as proto;
pub use ews_proto::{
    Credentials, Error, Reply, RequestContext, RetryPolicy, Secret, TransportError,
    TransportErrorKind,
};

#[cfg(test)]
mod tests;
