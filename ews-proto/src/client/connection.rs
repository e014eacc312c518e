//! Connections as the core sees them: which one a request must travel on
//! ([`ConnectionUse`]), which one carried an answer ([`ConnectionInfo`]), and where a
//! connection-scoped handshake gets its random values and the time ([`HandshakeSource`]).
//!
//! Basic and Bearer authenticate every request, so any connection does
//! ([`ConnectionUse::Any`]). NTLM and Negotiate authenticate a *connection*: the legs of a
//! handshake must share one, and later requests of the same identity reuse it without a new
//! handshake. The core decides which connection each request needs; the driver's transport
//! keeps the connections and reports, with every answer, which one carried it.
//!
//! The contract, for a transport:
//!
//! * The request's extensions hold its [`ConnectionUse`] (also in
//!   [`Step::Send`](crate::driver::Step::Send)). A transport that finds none uses any
//!   connection.
//! * [`ConnectionUse::Fresh`]: open a new connection for this request (never one of a
//!   pool), keep it after the answer, apart from any pool, and give it a new
//!   [`ConnectionId`].
//! * [`ConnectionUse::Pinned`]: send on that connection and no other. When it is gone (the
//!   server closed it, the transport dropped it), fail with
//!   [`TransportErrorKind::Connect`](crate::TransportErrorKind::Connect) before writing a
//!   byte.
//! * Put a [`ConnectionInfo`] in the answer's extensions for `Fresh` and `Pinned`
//!   requests: the connection's id and, over TLS, the server's leaf certificate (DER), which
//!   the core turns into the channel binding of Extended Protection.
//! * Read every answer whole (a `401`'s body too), so that the connection stays usable.
//!
//! A transport that reports no [`ConnectionInfo`] (a closure-made test transport, say)
//! still works for Basic and Bearer; an NTLM call through it ends with
//! [`AuthError::NotPinned`](crate::error::AuthError::NotPinned).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

/// A connection's identity within one transport, as its [`ConnectionInfo`] reports it.
/// Only the transport that made an id knows what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Which connection a request must travel on: in [`Step::Send`](crate::driver::Step::Send)
/// and in the request's extensions. A transport opens a new connection for `Fresh` and keeps
/// it apart from any pool, sends `Pinned` on that connection and no other (failing with a
/// `Connect` error, before any byte, when it is gone), uses any connection for `Any`, and
/// reports the connection it used in the answer's extensions as a [`ConnectionInfo`].
///
/// Deliberately not `#[non_exhaustive]`, like `Step`: a transport must handle every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionUse {
    /// Any connection (a pooled one, or a new one the pool keeps).
    Any,
    /// A new connection, kept apart from any pool after the answer.
    Fresh,
    /// Exactly this connection; `Connect` (nothing sent) if it is gone.
    Pinned(ConnectionId),
}

/// Which connection carried an answer, reported by the transport in the answer's
/// extensions (`response.extensions_mut().insert(info)`).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The connection's id (the same for every answer it carries).
    pub id: ConnectionId,
    /// The server's leaf certificate, DER, over TLS; `None` for plain HTTP.
    pub peer_certificate: Option<Bytes>,
}

impl fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A certificate's bytes say nothing in a log; its size is enough.
        f.debug_struct("ConnectionInfo")
            .field("id", &self.id)
            .field(
                "peer_certificate",
                &self.peer_certificate.as_ref().map(|c| c.len()),
            )
            .finish()
    }
}

/// The error type of a [`HandshakeSource`].
pub type SourceError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a connection-scoped handshake needs and a pure core cannot have: random bytes and
/// the wall-clock time. The drivers supply one that reads the operating system's
/// generator and clock; tests inject [`FixedHandshakeSource`].
///
/// The core asks for 24 random bytes per handshake (the NTLMv2 client challenge and the
/// exported session key); the time is used only when the server's CHALLENGE carries no
/// timestamp.
pub trait HandshakeSource: Send + Sync + 'static {
    /// Fills `buf` from a cryptographically secure generator.
    ///
    /// # Errors
    /// When the generator fails; the call then ends with
    /// [`AuthError::Randomness`](crate::error::AuthError::Randomness).
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), SourceError>;

    /// The wall-clock time now.
    fn now(&self) -> SystemTime;
}

/// Fixed "random" bytes and a fixed time: for tests only (an NTLM exchange with a
/// predictable client challenge can be replayed). Its bytes repeat cyclically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedHandshakeSource {
    /// The bytes handed out, repeated as needed (empty: zeros).
    pub bytes: Vec<u8>,
    /// The time handed out.
    pub now: SystemTime,
}

impl HandshakeSource for FixedHandshakeSource {
    fn fill_random(&self, buf: &mut [u8]) -> Result<(), SourceError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = match self.bytes.len() {
                0 => 0,
                n => self.bytes[i % n],
            };
        }
        Ok(())
    }

    fn now(&self) -> SystemTime {
        self.now
    }
}

/// A shared [`HandshakeSource`], with a `Debug` that says only whether there is one.
#[derive(Clone)]
pub(crate) struct SourceHandle(pub(crate) Arc<dyn HandshakeSource>);

impl fmt::Debug for SourceHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HandshakeSource(..)")
    }
}
