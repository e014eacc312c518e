//! Test support for `ews`: a stateful loopback Exchange Web Services simulator.
//!
//! The simulator is an *independent oracle*: it does not use the client crates. It reads
//! requests with a generic XML tree parser (matching elements by namespace URI and local
//! name, never by prefix), checks them against a hand-written subset of the EWS schema
//! (element order, unknown elements, enumerations; violations get the same
//! `ErrorSchemaValidation` SOAP fault Exchange sends) and writes the response XML itself.
//!
//! It serves AddDelegate, GetDelegate, UpdateDelegate, RemoveDelegate, CreateItem
//! (calendar items, messages, CancelCalendarItem, Accept/TentativelyAccept/DeclineItem),
//! GetItem, FindItem (paged or CalendarView, with Restriction and SortOrder), DeleteItem
//! and GetFolder over real HTTP/1.1 (optionally HTTPS) on `127.0.0.1`, with Basic and
//! Bearer authentication, ExchangeImpersonation, per-folder delegate permissions, meeting
//! delivery on behalf of a principal, request recording, mailbox snapshots and fault
//! injection; any other EWS operation answers `ErrorInvalidOperation`. The `ews-sim`
//! binary serves it to tests in any language, with a control endpoint (`sim::control`).
//!
//! # Example
//!
//! ```
//! use ews_tests::{SimConfig, Simulator};
//! use std::io::{Read, Write};
//!
//! let sim = Simulator::start(SimConfig::seed());
//! let body = r#"<?xml version="1.0" encoding="utf-8"?>
//! <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
//!             xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
//!             xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
//!   <s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></s:Header>
//!   <s:Body>
//!     <m:GetDelegate IncludePermissions="true">
//!       <m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></m:Mailbox>
//!     </m:GetDelegate>
//!   </s:Body>
//! </s:Envelope>"#;
//!
//! // A raw HTTP/1.1 request; any HTTP client works.
//! let mut tcp = std::net::TcpStream::connect(sim.addr()).unwrap();
//! write!(
//!     tcp,
//!     "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer token-user1\r\n\
//!      Content-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
//!     sim.addr(),
//!     body.len(),
//!     body
//! )
//! .unwrap();
//! let mut answer = String::new();
//! tcp.read_to_string(&mut answer).unwrap();
//! assert!(answer.starts_with("HTTP/1.1 200"));
//! assert!(answer.contains("<m:ResponseCode>NoError</m:ResponseCode>"));
//!
//! // What the simulator saw, and its state.
//! assert_eq!(sim.requests()[0].operation.as_deref(), Some("GetDelegate"));
//! assert!(sim.mailbox("user1@example.com").unwrap().delegates.is_empty());
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod mini;
pub mod proxy;
pub mod sim;
pub mod tour;

pub use sim::{
    Address, BodyPrefixes, DelegateSnapshot, ExtendedProtection, Fault, Handshake, ItemKind,
    ItemSnapshot, MailboxSnapshot, PermissionLevel, Permissions, RecordedRequest, ServerStyle,
    SimConfig, SimUser, Simulator, WindowsAuth, WindowsSchemes,
};

/// The workspace README's Rust examples (the core's and the drivers' quick starts),
/// compiled and run as doctests here because this crate depends on every crate they use.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
