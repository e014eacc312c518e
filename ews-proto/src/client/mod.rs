//! What drivers call: the [`Call`] state machine, the pure [`RetryPolicy`], credentials
//! and the [`Auth`] state, and [`Secret`].
//!
//! A driver owns a transport, an [`Auth`] and a token provider; for each operation it runs
//! the loop shown on [`Call`]. Everything that decides lives here; the driver only sends,
//! sleeps, and asks the application for tokens.

mod auth;
mod call;
mod config;
mod connection;
mod methods;
mod proxy;
mod resolve;
mod retry;
mod secret;
mod windows;

pub use auth::{Auth, Credentials};
pub use call::{Call, Deadline, Step};
pub use config::{
    BuilderParts, Builtin, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Face, Settings,
    Validated,
};
pub use connection::{
    ConnectionId, ConnectionInfo, ConnectionUse, FixedHandshakeSource, HandshakeSource, SourceError,
};
pub use proxy::{Proxy, ProxySetting};
pub use resolve::Resolve;
pub(crate) use retry::outcome_unknown;
pub use retry::{Decision, RetryPolicy};
pub use secret::Secret;
pub use windows::AuthError;
