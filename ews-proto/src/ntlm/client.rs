//! [`NtlmClient`]: the connection-scoped NTLMv2 state machine, NEGOTIATE -> CHALLENGE ->
//! AUTHENTICATE.

use crate::ntlm::binding::ChannelBinding;
use crate::ntlm::crypto;
use crate::ntlm::error::NtlmError;
use crate::ntlm::message::{self, Authenticate, MIC_OFFSET, flags};
use crate::ntlm::user::NtlmCredentials;
use crate::ntlm::www_authenticate::AuthScheme;
use crate::ntlm::{AuthStep, Authenticator};

/// The values a handshake needs from outside a pure function: randomness and the time. The
/// driver draws both random values from a cryptographic generator for every handshake.
///
/// `Debug` shows the time only.
#[derive(Clone, PartialEq, Eq)]
pub struct HandshakeInputs {
    /// The 8-byte client challenge of the NTLMv2 response.
    pub client_challenge: [u8; 8],
    /// The exported session key sent (RC4-encrypted) when key exchange is negotiated; it keys
    /// the MIC and the SPNEGO `mechListMIC`.
    pub random_session_key: [u8; 16],
    /// The current time, used only when the CHALLENGE carries no `MsvAvTimestamp`.
    pub now: jiff::Timestamp,
}

impl std::fmt::Debug for HandshakeInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeInputs")
            .field("client_challenge", &"..")
            .field("random_session_key", &"..")
            .field("now", &self.now)
            .finish()
    }
}

/// An NTLMv2 client for one handshake on one connection.
///
/// Call order: [`NtlmClient::new`], [`NtlmClient::negotiate`] (send it), then
/// [`NtlmClient::authenticate`] with the server's CHALLENGE (send what it returns). Any other
/// order is [`NtlmError::OutOfOrder`]; after an error every call is. The module documentation
/// ([`crate::ntlm`]) shows the whole exchange with HTTP headers.
///
/// ```
/// use ews_proto::ntlm::{ChannelBinding, HandshakeInputs, NtlmClient, NtlmCredentials, NtlmError};
///
/// let credentials = NtlmCredentials::new(r"Domain\User", None, "Password")?;
/// let inputs = HandshakeInputs {
///     client_challenge: [0xaa; 8],
///     random_session_key: [0x55; 16],
///     now: "2025-06-02T10:00:00Z".parse()?,
/// };
/// // Over TLS: ChannelBinding::from_leaf_certificate(&peer_certificate_der)?
/// let mut client = NtlmClient::new(credentials, "Server", ChannelBinding::None, inputs);
///
/// // 1. NEGOTIATE, to send as `Authorization: NTLM <base64>`.
/// let negotiate = client.negotiate()?;
/// assert_eq!(&negotiate[..8], b"NTLMSSP\0");
///
/// // 2. The server's CHALLENGE (from its 401's `WWW-Authenticate: NTLM <base64>`; here the
/// //    one of MS-NLMP 4.2.4.3) gives the AUTHENTICATE, sent with the request again.
/// # let challenge = [
/// #     0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00,
/// #     0x0c, 0x00, 0x38, 0x00, 0x00, 0x00, 0x33, 0x82, 0x8a, 0xe2, 0x01, 0x23, 0x45, 0x67,
/// #     0x89, 0xab, 0xcd, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00,
/// #     0x24, 0x00, 0x44, 0x00, 0x00, 0x00, 0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f,
/// #     0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00, 0x72, 0x00, 0x02, 0x00,
/// #     0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00, 0x69, 0x00, 0x6e, 0x00,
/// #     0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00, 0x65, 0x00,
/// #     0x72, 0x00, 0x00, 0x00, 0x00, 0x00,
/// # ];
/// let authenticate = client.authenticate(&challenge)?;
/// assert_eq!(authenticate[8], 3);
/// assert!(client.is_complete());
///
/// // 3. Anything more is a typed error, not a panic.
/// assert!(matches!(client.authenticate(&challenge), Err(NtlmError::OutOfOrder { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `Debug` shows the state, the user, the domain and the SPN; never the password or a key.
#[derive(Debug)]
pub struct NtlmClient {
    credentials: NtlmCredentials,
    spn: String,
    channel_binding: ChannelBinding,
    workstation: String,
    inputs: HandshakeInputs,
    state: State,
}

enum State {
    Initial,
    NegotiateSent { negotiate: Vec<u8> },
    Complete(Session),
    Failed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Initial => "initial",
            State::NegotiateSent { .. } => "negotiate sent",
            State::Complete(_) => "complete",
            State::Failed => "failed",
        }
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a completed handshake leaves: the flags both sides agreed on and the exported session
/// key (for the SPNEGO `mechListMIC`).
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) flags: u32,
    pub(crate) exported_session_key: [u8; 16],
}

impl NtlmClient {
    /// A client for `credentials` against `host` (the host name of the URL: the SPN sent is
    /// `HTTP/<host>`), bound to `channel_binding`.
    pub fn new(
        credentials: NtlmCredentials,
        host: &str,
        channel_binding: ChannelBinding,
        inputs: HandshakeInputs,
    ) -> Self {
        Self {
            credentials,
            spn: format!("HTTP/{host}"),
            channel_binding,
            workstation: String::new(),
            inputs,
            state: State::Initial,
        }
    }

    /// The workstation name sent in the AUTHENTICATE message (default: none). Servers only log
    /// it.
    pub fn workstation(mut self, name: &str) -> Self {
        self.workstation = name.to_owned();
        self
    }

    /// The SPN sent as `MsvAvTargetName` (`HTTP/<host>`).
    pub fn spn(&self) -> &str {
        &self.spn
    }

    /// Did [`NtlmClient::authenticate`] succeed?
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete(_))
    }

    /// The NEGOTIATE message (32 bytes: flags 0xe0088235, no domain, workstation or version).
    ///
    /// # Errors
    /// [`NtlmError::OutOfOrder`] unless this is the first step.
    pub fn negotiate(&mut self) -> Result<Vec<u8>, NtlmError> {
        if !matches!(self.state, State::Initial) {
            return Err(self.out_of_order("negotiate"));
        }
        let negotiate = message::negotiate(flags::CLIENT);
        self.state = State::NegotiateSent {
            negotiate: negotiate.clone(),
        };
        Ok(negotiate)
    }

    /// The AUTHENTICATE message answering the server's `challenge` (the CHALLENGE message,
    /// base64-decoded).
    ///
    /// The flags sent are those of the CHALLENGE that the NEGOTIATE asked for (plus
    /// `NEGOTIATE_TARGET_INFO`, and `REQUEST_TARGET`, as in MS-NLMP 4.2.4.3); key exchange is
    /// used when the server offered it together with signing or sealing.
    ///
    /// # Errors
    /// [`NtlmError::OutOfOrder`] unless [`NtlmClient::negotiate`] came just before;
    /// [`NtlmError::Challenge`] for a malformed CHALLENGE; [`NtlmError::TooLong`] when a name
    /// or the server's target information cannot fit the message. The client is failed after
    /// any error.
    pub fn authenticate(&mut self, challenge: &[u8]) -> Result<Vec<u8>, NtlmError> {
        let negotiate = match std::mem::replace(&mut self.state, State::Failed) {
            State::NegotiateSent { negotiate } => negotiate,
            other => {
                self.state = other;
                return Err(self.out_of_order("authenticate"));
            }
        };
        let (message, session) = self.build_authenticate(&negotiate, challenge)?;
        self.state = State::Complete(session);
        Ok(message)
    }

    fn build_authenticate(
        &self,
        negotiate: &[u8],
        challenge_bytes: &[u8],
    ) -> Result<(Vec<u8>, Session), NtlmError> {
        let challenge = message::parse_challenge(challenge_bytes)?;
        let mut negotiated = (challenge.flags & (flags::CLIENT | flags::NEGOTIATE_TARGET_INFO))
            | (flags::CLIENT & flags::REQUEST_TARGET);
        let key_exchange = negotiated & flags::NEGOTIATE_KEY_EXCH != 0
            && negotiated & (flags::NEGOTIATE_SIGN | flags::NEGOTIATE_SEAL) != 0;
        if !key_exchange {
            // A server decrypts the session key only with signing or sealing (MS-NLMP
            // 3.2.5.1.2): without them, do not claim key exchange.
            negotiated &= !flags::NEGOTIATE_KEY_EXCH;
        }

        let time = challenge
            .timestamp
            .unwrap_or_else(|| crypto::filetime(self.inputs.now));
        let av_pairs = message::client_av_pairs(
            &challenge.av_pairs,
            &self.channel_binding.hash(),
            &crypto::utf16le(&self.spn),
        )?;
        let key = crypto::ntowf_v2(
            self.credentials.password().expose(),
            self.credentials.user(),
            self.credentials.domain(),
        );
        let client_challenge = &self.inputs.client_challenge;
        let (nt_response, nt_proof) = crypto::ntv2_response(
            &key,
            &challenge.server_challenge,
            client_challenge,
            time,
            &av_pairs,
        );
        // MS-NLMP 3.1.5.1.2: with a server timestamp, no LMv2 response (it cannot carry the
        // time) but Z(24).
        let lm_response = match challenge.timestamp {
            Some(_) => [0u8; 24],
            None => crypto::lmv2_response(&key, &challenge.server_challenge, client_challenge),
        };
        let key_exchange_key = crypto::session_base_key(&key, &nt_proof);
        let (exported_session_key, encrypted) = if key_exchange {
            let random = self.inputs.random_session_key;
            (random, Some(crypto::rc4(&key_exchange_key, &random)))
        } else {
            (key_exchange_key, None)
        };

        let mut message = Authenticate {
            flags: negotiated,
            lm_response: &lm_response,
            nt_response: &nt_response,
            domain: &crypto::utf16le(self.credentials.domain()),
            user: &crypto::utf16le(self.credentials.user()),
            workstation: &crypto::utf16le(&self.workstation),
            encrypted_session_key: encrypted.as_ref().map_or(&[], |k| k.as_slice()),
            version: [0; 8],
            with_mic: true,
        }
        .encode()?;
        let mic = crypto::hmac_md5(
            &exported_session_key,
            &[negotiate, challenge_bytes, &message],
        );
        message[MIC_OFFSET..MIC_OFFSET + 16].copy_from_slice(&mic);
        Ok((
            message,
            Session {
                flags: negotiated,
                exported_session_key,
            },
        ))
    }

    /// The session of a completed handshake.
    pub(crate) fn session(&self) -> Option<&Session> {
        match &self.state {
            State::Complete(session) => Some(session),
            _ => None,
        }
    }

    /// Marks the client failed (a wrapping mechanism refused the exchange).
    pub(crate) fn fail(&mut self) {
        self.state = State::Failed;
    }

    pub(crate) fn state_name(&self) -> &'static str {
        self.state.name()
    }

    fn out_of_order(&self, call: &'static str) -> NtlmError {
        NtlmError::OutOfOrder {
            call,
            state: self.state.name(),
        }
    }
}

impl Authenticator for NtlmClient {
    fn scheme(&self) -> AuthScheme {
        AuthScheme::Ntlm
    }

    /// `None` first: the NEGOTIATE ([`AuthStep::Continue`]); then the CHALLENGE: the
    /// AUTHENTICATE ([`AuthStep::Last`]); then `None` (a `2xx` without token): [`AuthStep::Done`].
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<AuthStep, NtlmError> {
        match (&self.state, server_token) {
            (State::Initial, None) => self.negotiate().map(AuthStep::Continue),
            (State::NegotiateSent { .. }, Some(token)) => {
                self.authenticate(token).map(AuthStep::Last)
            }
            (State::Complete(_), None) => Ok(AuthStep::Done),
            _ => Err(self.out_of_order("step")),
        }
    }
}
