//! Blocking Exchange Web Services client: a thin driver over the Sans-IO core
//! [`ews_proto`] (re-exported as [`proto`]).
//!
//! The client moves bytes, sleeps and asks for tokens when the core's [`Call`](proto::driver::Call)
//! says so; every protocol decision (what to send, whether to retry and after how long,
//! when to refresh a token) is made by `ews-proto`, so this driver and the async one
//! (`ews-async`) behave alike by construction.
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//! use ews_blocking::Client;
//! use ews_blocking::proto::{Credentials, ExchangeVersion};
//!
//! let client = Client::builder("https://mail.example.com/EWS/Exchange.asmx")
//!     .credentials(Credentials::basic("user2@example.com", "Passw0rd-2"))
//!     .version(ExchangeVersion::Exchange2013_SP1)
//!     .timeout(Duration::from_secs(60))
//!     .build()?;
//! // Debug output never shows secrets.
//! assert!(!format!("{client:?}").contains("Passw0rd-2"));
//! // client.send_meeting_on_behalf(&"user1@example.com".parse()?, meeting)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/delegate-tour.rs` walks the whole delegate story (add, update, send on
//! behalf, read at the attendee, remove) against the embedded simulator or a real server.
//!
//! # Features
//!
//! * `rustls` (default): the built-in [`UreqTransport`] with TLS by rustls, certificate
//!   verification on, Mozilla's roots plus your own
//!   ([`ClientBuilder::add_root_certificate_pem`]).
//! * `ureq`: the built-in transport over plain HTTP only.
//! * `fault-injection`: `ClientBuilder::fail_reads_after_sending`, a flaky network for
//!   tests (never in production).
//! * `dns`: `DnsSrv`, [`Autodiscover`]'s DNS SRV lookups by the system's resolver
//!   (hickory-resolver).
//!
//! With neither, bring a [`Transport`] ([`ClientBuilder::transport`]).
//!
//! # Tracing
//!
//! Each operation runs in an `INFO` span `ews` with the fields `operation`, `mailbox`
//! (the `X-AnchorMailbox` it acts on), `attempt`, `status`, `request_id` (the server's
//! `request-id` header) and `server_version` (`ServerVersionInfo`). The SOAP request and
//! response bodies are logged at `TRACE` under the target `ews::soap`. Headers are never
//! logged, so neither is `Authorization`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod autodiscover;
mod client;
#[cfg(feature = "fault-injection")]
mod faults;
#[cfg(feature = "ureq")]
mod pinned;
mod sync;
#[cfg(feature = "rustls")]
mod tls;
mod trace;
mod transport;
#[cfg(feature = "ureq")]
mod ureq_transport;

#[cfg(feature = "dns")]
pub use autodiscover::DnsSrv;
pub use autodiscover::{Autodiscover, SrvResolver};
pub use client::{BoxError, Client, ClientBuilder, TokenProvider};
pub use ews_proto as proto;
pub use ews_proto::autodiscover::{NoSrv, SharedCache};
pub use ews_proto::{
    Credentials, Error, Reply, RequestContext, RetryPolicy, Secret, TransportError,
    TransportErrorKind,
};
pub use transport::{FnTransport, Transport};
#[cfg(feature = "ureq")]
pub use ureq_transport::UreqTransport;
