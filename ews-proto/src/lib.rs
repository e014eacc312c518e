//! Sans-IO core of an Exchange Web Services client.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
