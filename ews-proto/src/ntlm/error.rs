//! The errors of the NTLM and SPNEGO clients. None of them holds a password, a key or a hash.

use crate::ntlm::binding::CertificateError;
use crate::ntlm::user::UserNameError;

/// An NTLM or SPNEGO handshake step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NtlmError {
    /// A step was called in a state where it does not fit (for example `authenticate` before
    /// `negotiate`, or anything after the handshake completed or failed).
    #[error("NTLM handshake step `{call}` called in state `{state}`")]
    OutOfOrder {
        /// The step called.
        call: &'static str,
        /// The state the client was in.
        state: &'static str,
    },
    /// The server's CHALLENGE message is malformed or asks for something unsupported.
    #[error("NTLM CHALLENGE message: {0}")]
    Challenge(#[from] ChallengeError),
    /// The server's SPNEGO token is malformed or unexpected.
    #[error("SPNEGO token: {0}")]
    Spnego(#[from] SpnegoError),
    /// The server refused the authentication (SPNEGO `negState` = `reject`).
    #[error("the server rejected the authentication (SPNEGO reject)")]
    Rejected,
    /// A value does not fit the 16-bit length field of its NTLM message field (a user name,
    /// domain, host or the server's target information far beyond any real size).
    #[error("NTLM field `{field}` is too long for the message")]
    TooLong {
        /// The field.
        field: &'static str,
    },
    /// The server chose options this client cannot follow.
    #[error("unsupported NTLM option: {0}")]
    Unsupported(&'static str),
    /// The user name is not usable.
    #[error(transparent)]
    UserName(#[from] UserNameError),
    /// The channel binding could not be computed from the server certificate.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
}

/// What is wrong with a CHALLENGE message. Lengths and offsets are the message's own values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Longer than [`crate::ntlm::MAX_TOKEN_LEN`].
    #[error("{len} bytes, more than the 64 KiB accepted")]
    TooLong {
        /// The message's length.
        len: usize,
    },
    /// Shorter than the fixed part of a CHALLENGE message.
    #[error("{len} bytes, too short for a CHALLENGE message")]
    TooShort {
        /// The message's length.
        len: usize,
    },
    /// The first 8 bytes are not `NTLMSSP\0`.
    #[error("no NTLMSSP signature")]
    BadSignature,
    /// The message type is not 2 (CHALLENGE).
    #[error("message type {found}, expected 2 (CHALLENGE)")]
    WrongMessageType {
        /// The type found.
        found: u32,
    },
    /// A field's offset and length point outside the message.
    #[error(
        "field {field} (offset {offset}, length {len}) lies outside the {message_len}-byte message"
    )]
    OutOfRange {
        /// `TargetName` or `TargetInfo`.
        field: &'static str,
        /// Its offset.
        offset: u32,
        /// Its length.
        len: u16,
        /// The message's length.
        message_len: usize,
    },
    /// The message has no target information (AV pairs), which NTLMv2 needs: the server
    /// speaks only NTLMv1, which this client refuses.
    #[error("no target information (an NTLMv1-only server)")]
    NoTargetInfo,
    /// The server does not use Unicode strings (`NTLMSSP_NEGOTIATE_UNICODE` unset).
    #[error("the server did not select Unicode strings")]
    NotUnicode,
    /// An AV pair runs past the end of the target information.
    #[error("AV pair at offset {offset} of the target information is truncated")]
    AvPairTruncated {
        /// Its offset within the target information.
        offset: usize,
    },
    /// An AV pair of a fixed-size kind has the wrong length (`MsvAvFlags` 4, `MsvAvTimestamp` 8).
    #[error("AV pair {id} has length {len}")]
    BadAvPair {
        /// Its `AvId`.
        id: u16,
        /// Its `AvLen`.
        len: u16,
    },
}

/// What is wrong with a server's SPNEGO token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpnegoError {
    /// Longer than [`crate::ntlm::MAX_TOKEN_LEN`].
    #[error("{len} bytes, more than the 64 KiB accepted")]
    TooLong {
        /// The token's length.
        len: usize,
    },
    /// Not a DER `NegTokenResp` (the reason names the first structural fault).
    #[error("malformed NegTokenResp: {0}")]
    Malformed(&'static str),
    /// The server chose a mechanism other than NTLM (its OID, dotted).
    #[error("the server chose mechanism {0}, not NTLM")]
    UnsupportedMech(String),
    /// The server's reply to our `NegTokenInit` carries no NTLM CHALLENGE.
    #[error("the server's NegTokenResp carries no response token")]
    NoResponseToken,
    /// The server's `negState` does not fit this point of the exchange.
    #[error("unexpected negState {0}")]
    UnexpectedState(u8),
    /// The server's `mechListMIC` does not verify: the mechanism list may have been altered.
    #[error("the server's mechListMIC does not verify")]
    BadMechListMic,
}
