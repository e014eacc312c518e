//! Blocking Exchange Web Services client: a thin driver over [`ews_proto`].
//!
//! This crate moves bytes and sleeps when the core says so; every protocol decision
//! (what to send, whether to retry, how to authenticate) is made by `ews-proto`.
//! The ureq transport arrives with its own issue; for now the crate re-exports the core.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use ews_proto as proto;
