//! [`SpnegoClient`]: NTLM inside SPNEGO (RFC 4178), for servers that offer only `Negotiate`.

use crate::ntlm::client::{NtlmClient, Session};
use crate::ntlm::crypto::{self, Direction};
use crate::ntlm::der::{self, Reader};
use crate::ntlm::error::{NtlmError, SpnegoError};
use crate::ntlm::message::flags;
use crate::ntlm::www_authenticate::AuthScheme;
use crate::ntlm::{AuthStep, Authenticator, MAX_TOKEN_LEN};

/// 1.3.6.1.5.5.2, SPNEGO.
const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// 1.3.6.1.4.1.311.2.2.10, NTLMSSP.
const NTLMSSP_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];

/// `negState` values (RFC 4178 section 4.2.2).
const ACCEPT_COMPLETED: u8 = 0;
const ACCEPT_INCOMPLETE: u8 = 1;
const REJECT: u8 = 2;
const REQUEST_MIC: u8 = 3;

/// NTLM wrapped in SPNEGO, for `WWW-Authenticate: Negotiate`.
///
/// Call order: [`SpnegoClient::new`] around a fresh [`NtlmClient`], [`SpnegoClient::init_token`]
/// (the `NegTokenInit` with the NEGOTIATE message), [`SpnegoClient::respond`] with the server's
/// `NegTokenResp` (the `NegTokenResp` with the AUTHENTICATE message and the `mechListMIC`),
/// and, when the final `2xx` carries a `Negotiate` token, [`SpnegoClient::finish`] with it.
/// Any other order is [`NtlmError::OutOfOrder`].
///
/// ```
/// use ews_proto::ntlm::{ChannelBinding, HandshakeInputs, NtlmClient, NtlmCredentials, SpnegoClient};
/// let inputs = HandshakeInputs {
///     client_challenge: [1; 8],
///     random_session_key: [2; 16],
///     now: "2025-06-02T10:00:00Z".parse()?,
/// };
/// let credentials = NtlmCredentials::new("alice@example.com", None, "pw")?;
/// let ntlm = NtlmClient::new(credentials, "mail.example.com", ChannelBinding::None, inputs);
/// let mut spnego = SpnegoClient::new(ntlm);
/// let init = spnego.init_token()?;
/// assert_eq!(&init[..2], &[0x60, 0x40]); // [APPLICATION 0], then the SPNEGO OID
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// See the module documentation ([`crate::ntlm`]) for why the `mechListMIC` is always sent.
#[derive(Debug)]
pub struct SpnegoClient {
    ntlm: NtlmClient,
    state: SpnegoState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpnegoState {
    Initial,
    InitSent,
    ResponseSent,
    Complete,
    Failed,
}

impl SpnegoState {
    fn name(self) -> &'static str {
        match self {
            SpnegoState::Initial => "initial",
            SpnegoState::InitSent => "init sent",
            SpnegoState::ResponseSent => "response sent",
            SpnegoState::Complete => "complete",
            SpnegoState::Failed => "failed",
        }
    }
}

/// The parts of a server's `NegTokenResp`.
struct NegTokenResp<'a> {
    neg_state: Option<u8>,
    supported_mech: Option<&'a [u8]>,
    response_token: Option<&'a [u8]>,
    mech_list_mic: Option<&'a [u8]>,
}

impl SpnegoClient {
    /// Wraps `ntlm`, which must not have started.
    pub fn new(ntlm: NtlmClient) -> Self {
        Self {
            ntlm,
            state: SpnegoState::Initial,
        }
    }

    /// Has the exchange completed ([`SpnegoClient::respond`] succeeded, and
    /// [`SpnegoClient::finish`] too if it was called)?
    pub fn is_complete(&self) -> bool {
        matches!(
            self.state,
            SpnegoState::ResponseSent | SpnegoState::Complete
        )
    }

    /// The initial token: `[APPLICATION 0] { SPNEGO OID, [0] NegTokenInit { [0] mechTypes
    /// { NTLMSSP }, [2] mechToken NEGOTIATE } }`.
    ///
    /// # Errors
    /// [`NtlmError::OutOfOrder`] unless this is the first step (of this client and of the NTLM
    /// client inside).
    pub fn init_token(&mut self) -> Result<Vec<u8>, NtlmError> {
        if self.state != SpnegoState::Initial {
            return Err(self.out_of_order("init_token"));
        }
        let negotiate = self
            .ntlm
            .negotiate()
            .inspect_err(|_| self.state = SpnegoState::Failed)?;
        let mut init = Vec::new();
        der::write(&mut init, 0xa0, &mech_type_list());
        der::write(&mut init, 0xa2, &der::tlv(0x04, &negotiate));
        let mut inner = der::tlv(0x06, SPNEGO_OID);
        der::write(&mut inner, 0xa0, &der::tlv(0x30, &init));
        self.state = SpnegoState::InitSent;
        Ok(der::tlv(0x60, &inner))
    }

    /// The answer to the server's first `NegTokenResp` (which must accept NTLM and carry its
    /// CHALLENGE): `[1] NegTokenResp { [2] responseToken AUTHENTICATE, [3] mechListMIC }`.
    ///
    /// # Errors
    /// [`NtlmError::OutOfOrder`] unless [`SpnegoClient::init_token`] came just before;
    /// [`NtlmError::Spnego`] for a malformed token, another mechanism, or no CHALLENGE;
    /// [`NtlmError::Rejected`] for `negState` `reject`; the errors of
    /// [`NtlmClient::authenticate`]. The client is failed after any error.
    pub fn respond(&mut self, server_token: &[u8]) -> Result<Vec<u8>, NtlmError> {
        if self.state != SpnegoState::InitSent {
            return Err(self.out_of_order("respond"));
        }
        self.state = SpnegoState::Failed;
        let resp = parse_neg_token_resp(server_token)?;
        match resp.neg_state {
            None | Some(ACCEPT_INCOMPLETE) | Some(REQUEST_MIC) => {}
            Some(REJECT) => return Err(self.fail(NtlmError::Rejected)),
            Some(other) => return Err(self.fail(SpnegoError::UnexpectedState(other).into())),
        }
        match resp.supported_mech {
            Some(mech) if mech != NTLMSSP_OID => {
                return Err(self.fail(SpnegoError::UnsupportedMech(der::oid_text(mech)).into()));
            }
            _ => {}
        }
        let Some(challenge) = resp.response_token else {
            return Err(self.fail(SpnegoError::NoResponseToken.into()));
        };
        let authenticate = self.ntlm.authenticate(challenge)?;
        let mic = {
            // Invariant: authenticate succeeded, so the NTLM client holds its session.
            let session = self.ntlm.session().expect("a completed NTLM handshake");
            mech_list_mic(session, Direction::ClientToServer)?
        };
        let mut fields = der::tlv(0xa2, &der::tlv(0x04, &authenticate));
        der::write(&mut fields, 0xa3, &der::tlv(0x04, &mic));
        self.state = SpnegoState::ResponseSent;
        Ok(der::tlv(0xa1, &der::tlv(0x30, &fields)))
    }

    /// Checks the server's last token (of the `2xx` answer): `negState` must be
    /// `accept-completed` (or absent), and a `mechListMIC`, when present, must be the server's
    /// signature of our mechanism list. A server that sends no final token needs no call.
    ///
    /// # Errors
    /// [`NtlmError::OutOfOrder`] unless [`SpnegoClient::respond`] came just before;
    /// [`NtlmError::Rejected`]; [`NtlmError::Spnego`] for a malformed token, another
    /// `negState` or a `mechListMIC` that does not verify.
    pub fn finish(&mut self, server_token: &[u8]) -> Result<(), NtlmError> {
        if self.state != SpnegoState::ResponseSent {
            return Err(self.out_of_order("finish"));
        }
        self.state = SpnegoState::Failed;
        let resp = parse_neg_token_resp(server_token)?;
        match resp.neg_state {
            None | Some(ACCEPT_COMPLETED) => {}
            Some(REJECT) => return Err(self.fail(NtlmError::Rejected)),
            Some(other) => return Err(self.fail(SpnegoError::UnexpectedState(other).into())),
        }
        if let Some(mic) = resp.mech_list_mic {
            // Invariant: respond succeeded, so the NTLM client holds its session.
            let session = self.ntlm.session().expect("a completed NTLM handshake");
            let expected = mech_list_mic(session, Direction::ServerToClient)?;
            if mic != expected {
                return Err(self.fail(SpnegoError::BadMechListMic.into()));
            }
        }
        self.state = SpnegoState::Complete;
        Ok(())
    }

    fn fail(&mut self, error: NtlmError) -> NtlmError {
        self.state = SpnegoState::Failed;
        self.ntlm.fail();
        error
    }

    fn out_of_order(&self, call: &'static str) -> NtlmError {
        NtlmError::OutOfOrder {
            call,
            state: if self.state == SpnegoState::Initial {
                self.ntlm.state_name()
            } else {
                self.state.name()
            },
        }
    }
}

impl Authenticator for SpnegoClient {
    fn scheme(&self) -> AuthScheme {
        AuthScheme::Negotiate
    }

    /// `None` first: the `NegTokenInit` ([`AuthStep::Continue`]); then the server's
    /// `NegTokenResp`: ours ([`AuthStep::Last`]); then the final token of the `2xx`, or `None`
    /// if it had none: [`AuthStep::Done`].
    fn step(&mut self, server_token: Option<&[u8]>) -> Result<AuthStep, NtlmError> {
        match (self.state, server_token) {
            (SpnegoState::Initial, None) => self.init_token().map(AuthStep::Continue),
            (SpnegoState::InitSent, Some(token)) => self.respond(token).map(AuthStep::Last),
            (SpnegoState::ResponseSent, Some(token)) => self.finish(token).map(|()| AuthStep::Done),
            (SpnegoState::ResponseSent, None) => {
                self.state = SpnegoState::Complete;
                Ok(AuthStep::Done)
            }
            (SpnegoState::Complete, None) => Ok(AuthStep::Done),
            _ => Err(self.out_of_order("step")),
        }
    }
}

/// `MechTypeList ::= SEQUENCE OF MechType`, with NTLMSSP only: the bytes the `mechListMIC`
/// signs.
fn mech_type_list() -> Vec<u8> {
    der::tlv(0x30, &der::tlv(0x06, NTLMSSP_OID))
}

/// The NTLM `GSS_GetMIC` of the mechanism list (MS-NLMP 3.4.4.2, sequence number 0, a fresh
/// RC4 state: the first signature of the context).
fn mech_list_mic(session: &Session, dir: Direction) -> Result<[u8; 16], NtlmError> {
    if session.flags & flags::NEGOTIATE_EXTENDED_SESSIONSECURITY == 0 {
        return Err(NtlmError::Unsupported(
            "a SPNEGO mechListMIC without NTLM extended session security",
        ));
    }
    let key = &session.exported_session_key;
    let signing = crypto::signing_key(key, dir);
    let mut sealing = (session.flags & flags::NEGOTIATE_KEY_EXCH != 0)
        .then(|| crypto::rc4_state(&crypto::sealing_key(key, session.flags, dir)));
    Ok(crypto::signature(
        &signing,
        sealing.as_mut(),
        0,
        &mech_type_list(),
    ))
}

/// Reads `[1] NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1]
/// OID OPTIONAL, responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING
/// OPTIONAL, ... }`; later extension fields are skipped.
fn parse_neg_token_resp(token: &[u8]) -> Result<NegTokenResp<'_>, SpnegoError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(SpnegoError::TooLong { len: token.len() });
    }
    let malformed = |e: der::DerError| SpnegoError::Malformed(e.describe());
    let mut outer = Reader::new(token);
    if outer.peek_tag() != Some(0xa1) {
        return Err(SpnegoError::Malformed("not a NegTokenResp ([1])"));
    }
    let body = outer.expect(0xa1).map_err(malformed)?;
    outer.finish().map_err(malformed)?;
    let mut wrapper = Reader::new(body);
    let seq = wrapper.expect(0x30).map_err(malformed)?;
    wrapper.finish().map_err(malformed)?;
    let mut fields = Reader::new(seq);
    let mut resp = NegTokenResp {
        neg_state: None,
        supported_mech: None,
        response_token: None,
        mech_list_mic: None,
    };
    if let Some(content) = fields.optional(0xa0).map_err(malformed)? {
        let mut r = Reader::new(content);
        let value = r.expect(0x0a).map_err(malformed)?;
        r.finish().map_err(malformed)?;
        match value {
            [v] => resp.neg_state = Some(*v),
            _ => return Err(SpnegoError::Malformed("negState is not one byte")),
        }
    }
    if let Some(content) = fields.optional(0xa1).map_err(malformed)? {
        let mut r = Reader::new(content);
        resp.supported_mech = Some(r.expect(0x06).map_err(malformed)?);
        r.finish().map_err(malformed)?;
    }
    if let Some(content) = fields.optional(0xa2).map_err(malformed)? {
        let mut r = Reader::new(content);
        resp.response_token = Some(r.expect(0x04).map_err(malformed)?);
        r.finish().map_err(malformed)?;
    }
    if let Some(content) = fields.optional(0xa3).map_err(malformed)? {
        let mut r = Reader::new(content);
        resp.mech_list_mic = Some(r.expect(0x04).map_err(malformed)?);
        r.finish().map_err(malformed)?;
    }
    while !fields.is_empty() {
        match fields.any().map_err(malformed)? {
            (tag, _, _) if (0xa4..=0xbe).contains(&tag) => {}
            _ => return Err(SpnegoError::Malformed("unexpected field in NegTokenResp")),
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mech_type_list_bytes() {
        assert_eq!(
            mech_type_list(),
            [
                0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a
            ]
        );
    }

    #[test]
    fn neg_token_resp_fields() {
        // negState accept-incomplete, supportedMech NTLMSSP, responseToken "AB", mechListMIC "C",
        // and an extension field [4] that is skipped.
        let token = [
            0xa1, 0x22, 0x30, 0x20, 0xa0, 0x03, 0x0a, 0x01, 0x01, 0xa1, 0x0c, 0x06, 0x0a, 0x2b,
            0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa2, 0x04, 0x04, 0x02, b'A',
            b'B', 0xa3, 0x03, 0x04, 0x01, b'C', 0xa4, 0x00,
        ];
        let r = parse_neg_token_resp(&token).unwrap();
        assert_eq!(r.neg_state, Some(1));
        assert_eq!(r.supported_mech, Some(NTLMSSP_OID));
        assert_eq!(r.response_token, Some(&b"AB"[..]));
        assert_eq!(r.mech_list_mic, Some(&b"C"[..]));
    }

    #[test]
    fn neg_token_resp_refusals() {
        let bad = |t: &[u8]| parse_neg_token_resp(t).err().unwrap();
        assert!(matches!(
            bad(&[0xa0, 0x02, 0x30, 0x00]),
            SpnegoError::Malformed(_)
        ));
        assert!(matches!(
            bad(&[0xa1, 0x02, 0x30, 0x00, 0x00]),
            SpnegoError::Malformed(_)
        ));
        assert!(matches!(
            bad(&[0xa1, 0x04, 0x30, 0x02, 0x05, 0x00]),
            SpnegoError::Malformed(_)
        ));
        assert!(matches!(
            bad(&[0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x02, 0x00]),
            SpnegoError::Malformed(_)
        ));
        assert!(matches!(
            bad(&[0xa1, 0x84, 0xff, 0xff, 0xff, 0xff]),
            SpnegoError::Malformed(_)
        ));
        assert_eq!(
            bad(&vec![0; MAX_TOKEN_LEN + 1]),
            SpnegoError::TooLong {
                len: MAX_TOKEN_LEN + 1
            }
        );
        // An empty sequence is a valid (if useless) NegTokenResp.
        assert!(parse_neg_token_resp(&[0xa1, 0x02, 0x30, 0x00]).is_ok());
    }
}
