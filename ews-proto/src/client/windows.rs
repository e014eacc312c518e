//! Windows-integrated authentication inside a [`Call`](crate::driver::Call): the
//! connection-scoped NTLM / Negotiate handshake, as a state machine that says, before each
//! request, which connection it needs and what `Authorization` it carries, and judges,
//! after each answer, whether the handshake goes on, failed, or is done and the answer is
//! the call's.
//!
//! One call's requests, for an identity without an idle authenticated connection:
//!
//! | # | connection | `Authorization` | the server answers |
//! | --- | --- | --- | --- |
//! | 1 | fresh | none (a probe; skipped with `ntlm_up_front`) | `401`, `WWW-Authenticate: NTLM`, `Negotiate` |
//! | 2 | pinned to #1's | `NTLM <NEGOTIATE>` | `401`, `WWW-Authenticate: NTLM <CHALLENGE>` |
//! | 3 | pinned | `NTLM <AUTHENTICATE>` | the operation's answer (or `401`: credentials refused) |
//!
//! The AUTHENTICATE is built when the CHALLENGE arrives, with the channel binding of the
//! certificate the transport reported for that connection and fresh random values. Later
//! calls take the idle authenticated connection from [`Auth`] and send no `Authorization`
//! at all; an identity's connections are its own `Auth`'s, never another's.
//!
//! Failures, each once per call and never in a loop:
//!
//! * a `401` after AUTHENTICATE: the credentials were refused, the call ends with
//!   [`ServerError::Unauthorized`](crate::ServerError::Unauthorized);
//! * the connection lost between legs: the handshake restarts once, on a fresh connection
//!   with NEGOTIATE; lost again: [`AuthError::Interrupted`];
//! * a `401` on a reused authenticated connection (the server forgot it): a handshake on that
//!   same connection;
//! * a reused connection found gone before anything was sent: another one, or a new
//!   handshake.

use http::HeaderValue;

use crate::client::Auth;
use crate::client::connection::{ConnectionId, ConnectionInfo, ConnectionUse};
use crate::error::{Error, TransportError, TransportErrorKind, UsageError};
use crate::ntlm::{
    self, AuthStep, Authenticator as _, ChannelBinding, Choice, CredentialKind, HandshakeInputs,
    NtlmClient, NtlmCredentials, NtlmError, SpnegoClient,
};

/// Why Windows-integrated authentication failed (a `401` after the whole handshake is
/// [`ServerError::Unauthorized`](crate::ServerError::Unauthorized) instead, as for Basic).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The transport does not keep a handshake on one connection: its answers carry no
    /// [`ConnectionInfo`], or the one of another connection than the request was pinned to.
    /// NTLM needs the built-in transport or one that follows
    /// [`ConnectionUse`](crate::driver::ConnectionUse).
    #[error(
        "the transport does not pin connections, which NTLM needs (no ConnectionInfo in its answers)"
    )]
    NotPinned,
    /// The server closed the connection in the middle of the handshake, and again after the
    /// one restart on a fresh connection.
    #[error("the server closed the connection during the {scheme} handshake, twice: {source}")]
    Interrupted {
        /// `NTLM` or `Negotiate`.
        scheme: &'static str,
        /// The second failure.
        #[source]
        source: TransportError,
    },
    /// A handshake message of the server could not be used (a malformed CHALLENGE, an SPNEGO
    /// `reject`, a `mechListMIC` that does not verify).
    #[error("{0}")]
    Handshake(#[from] NtlmError),
    /// No random bytes for the handshake (the [`HandshakeSource`](crate::driver::HandshakeSource)
    /// failed, or none is set).
    #[error("no random values for the NTLM handshake: {0}")]
    Randomness(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// The mechanism of one handshake.
#[derive(Debug)]
enum Mech {
    Ntlm(NtlmClient),
    Spnego(SpnegoClient),
}

impl Mech {
    fn new(
        choice: Choice,
        c: &NtlmCredentials,
        host: &str,
        cb: ChannelBinding,
        i: HandshakeInputs,
    ) -> Self {
        let ntlm = NtlmClient::new(c.clone(), host, cb, i);
        match choice {
            Choice::Negotiate => Mech::Spnego(SpnegoClient::new(ntlm)),
            _ => Mech::Ntlm(ntlm),
        }
    }

    fn step(&mut self, token: Option<&[u8]>) -> Result<AuthStep, NtlmError> {
        match self {
            Mech::Ntlm(c) => c.step(token),
            Mech::Spnego(c) => c.step(token),
        }
    }
}

/// What went out last.
#[derive(Debug)]
enum Sent {
    /// Nothing of this handshake.
    Nothing,
    /// A request without `Authorization` on an authenticated connection.
    Reuse(ConnectionId),
    /// An anonymous request on a fresh connection, to learn the schemes.
    Probe,
    /// The first token (NEGOTIATE). `pinned`: the connection it was pinned to.
    Negotiate {
        choice: Choice,
        first: Vec<u8>,
        pinned: Option<ConnectionId>,
    },
    /// The last token (AUTHENTICATE) on `id`.
    Authenticate {
        choice: Choice,
        first: Vec<u8>,
        id: ConnectionId,
        mech: Box<Mech>,
    },
}

/// The next request, decided by the last answer.
#[derive(Debug)]
struct Next {
    connection: ConnectionUse,
    authorization: Option<HeaderValue>,
    then: Sent,
}

/// What the next request needs.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) connection: ConnectionUse,
    pub(crate) authorization: Option<HeaderValue>,
}

/// The verdict on an answer.
#[derive(Debug)]
pub(crate) enum Flow {
    /// The handshake goes on: send again at once (not an attempt of the retry policy).
    Continue,
    /// The call ends with this error.
    Fail(Error),
    /// The answer (or failure) is the call's: decode it as usual.
    Pass(Result<http::Response<bytes::Bytes>, TransportError>),
}

/// One call's Windows-integrated authentication.
#[derive(Debug)]
pub(crate) struct Windows {
    sent: Sent,
    next: Option<Next>,
    /// The one restart after a lost connection was used.
    restarted: bool,
    /// The one retry after a reused connection was found gone was used.
    reuse_failed: bool,
    /// The one switch to another offered scheme was used.
    switched: bool,
    /// A `401` showed that the server demands authentication.
    demanded: bool,
}

/// Where the call goes: the endpoint's origin (the key of idle connections) and host (the
/// SPN's).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) origin: &'a str,
    pub(crate) host: &'a str,
    /// May the operation be repeated after an unknown outcome?
    pub(crate) safe: bool,
}

impl Windows {
    pub(crate) fn new() -> Self {
        Self {
            sent: Sent::Nothing,
            next: None,
            restarted: false,
            reuse_failed: false,
            switched: false,
            demanded: false,
        }
    }

    /// The connection and `Authorization` of the next request.
    pub(crate) fn prepare(&mut self, auth: &mut Auth, t: Target<'_>) -> Result<Prepared, Error> {
        let next = match self.next.take() {
            Some(next) => next,
            None => self.start(auth, t)?,
        };
        self.sent = next.then;
        Ok(Prepared {
            connection: next.connection,
            authorization: next.authorization,
        })
    }

    /// A new start: an idle authenticated connection, else a new handshake.
    fn start(&mut self, auth: &mut Auth, t: Target<'_>) -> Result<Next, Error> {
        if let Some(id) = auth.take_idle(t.origin) {
            return Ok(Next {
                connection: ConnectionUse::Pinned(id),
                authorization: None,
                then: Sent::Reuse(id),
            });
        }
        if auth.up_front() {
            return negotiate(auth, t, Choice::Ntlm, ConnectionUse::Fresh);
        }
        Ok(Next {
            connection: ConnectionUse::Fresh,
            authorization: None,
            then: Sent::Probe,
        })
    }

    /// Judges the answer to the last request.
    pub(crate) fn judge(
        &mut self,
        outcome: Result<http::Response<bytes::Bytes>, TransportError>,
        auth: &mut Auth,
        t: Target<'_>,
    ) -> Flow {
        let sent = std::mem::replace(&mut self.sent, Sent::Nothing);
        let response = match outcome {
            Ok(r) => r,
            Err(e) => return self.lost(sent, e, auth, t),
        };
        let info = response.extensions().get::<ConnectionInfo>().cloned();
        let unauthorized = response.status() == http::StatusCode::UNAUTHORIZED;
        self.demanded |= unauthorized;
        let flow = match (sent, unauthorized) {
            (Sent::Nothing, _) => Ok(None),
            (Sent::Reuse(id), false) => {
                auth.put_idle(t.origin, id);
                Ok(None)
            }
            // The server forgot the connection's authentication: a handshake on it.
            (Sent::Reuse(id), true) => self.begin(&response, auth, t, Some(id), info.as_ref()),
            (Sent::Probe, false) => Ok(None),
            (Sent::Probe, true) => match &info {
                Some(info) => self.begin(&response, auth, t, Some(info.id), Some(info)),
                None => Err(AuthError::NotPinned.into()),
            },
            (Sent::Negotiate { .. }, false) => Ok(None),
            (
                Sent::Negotiate {
                    choice,
                    first,
                    pinned,
                },
                true,
            ) => self.challenged(&response, auth, t, choice, first, pinned, info),
            // Credentials refused after the whole handshake: the 401 is the call's answer.
            (Sent::Authenticate { .. }, true) => Ok(None),
            (Sent::Authenticate { id, mech, .. }, false) => {
                finished(&response, auth, t, id, *mech, info.as_ref())
            }
        };
        match flow {
            Ok(None) => Flow::Pass(Ok(response)),
            Ok(Some(next)) => {
                self.next = Some(next);
                Flow::Continue
            }
            Err(e) => Flow::Fail(e),
        }
    }

    /// A `401` that starts a handshake on connection `on` (`None`: a fresh one): the first
    /// token of the scheme chosen from the server's offer. Nothing usable offered: the
    /// `401` is the call's answer.
    fn begin(
        &mut self,
        response: &http::Response<bytes::Bytes>,
        auth: &mut Auth,
        t: Target<'_>,
        on: Option<ConnectionId>,
        info: Option<&ConnectionInfo>,
    ) -> Result<Option<Next>, Error> {
        let challenges = ntlm::parse_www_authenticate(response.headers());
        let Some(choice) = ntlm::choose(&challenges, CredentialKind::Windows) else {
            return Ok(None);
        };
        let id = match (on, info) {
            (Some(on), Some(info)) if info.id == on => on,
            _ => return Err(AuthError::NotPinned.into()),
        };
        negotiate(auth, t, choice, ConnectionUse::Pinned(id)).map(Some)
    }

    /// A `401` after NEGOTIATE: its CHALLENGE gives the AUTHENTICATE, on the same connection.
    #[allow(clippy::too_many_arguments)]
    fn challenged(
        &mut self,
        response: &http::Response<bytes::Bytes>,
        auth: &mut Auth,
        t: Target<'_>,
        choice: Choice,
        first: Vec<u8>,
        pinned: Option<ConnectionId>,
        info: Option<ConnectionInfo>,
    ) -> Result<Option<Next>, Error> {
        let challenges = ntlm::parse_www_authenticate(response.headers());
        let Some(challenge) = ntlm::server_token(&challenges, &choice.scheme()) else {
            // No CHALLENGE. A server that offers another scheme we can use (an up-front
            // NTLM to a server that speaks only Negotiate) gets that one, once.
            return match ntlm::choose(&challenges, CredentialKind::Windows) {
                Some(other) if other != choice && !self.switched => {
                    self.switched = true;
                    let id = info.map(|i| i.id).ok_or(AuthError::NotPinned)?;
                    negotiate(auth, t, other, ConnectionUse::Pinned(id)).map(Some)
                }
                _ => Ok(None),
            };
        };
        let info = match info {
            Some(info) if pinned.is_none_or(|p| p == info.id) => info,
            _ => return Err(AuthError::NotPinned.into()),
        };
        let binding = match &info.peer_certificate {
            None => ChannelBinding::None,
            Some(der) => match ChannelBinding::from_leaf_certificate(der) {
                Ok(binding) => binding,
                // RFC 5929 defines no binding for the algorithm (Ed25519, ...): none.
                Err(ntlm::CertificateError::UnsupportedSignatureAlgorithm(_)) => {
                    ChannelBinding::None
                }
                Err(e) => return Err(AuthError::Handshake(e.into()).into()),
            },
        };
        let credentials = windows_credentials(auth)?;
        let inputs = auth.handshake_inputs()?;
        let mut mech = Mech::new(choice, &credentials, t.host, binding, inputs);
        // The first token depends on no input (flags and mechanism list only): the
        // mechanism built now, with the connection's certificate and fresh random values,
        // replays it, and the MIC covers exactly the bytes that were sent.
        match mech.step(None).map_err(AuthError::from)? {
            AuthStep::Continue(token) if token == first => {}
            _ => return Err(misuse("the handshake's first token changed between legs")),
        }
        let last = match mech.step(Some(challenge)).map_err(AuthError::from)? {
            AuthStep::Last(token) | AuthStep::Continue(token) => token,
            _ => return Err(misuse("the handshake ended before AUTHENTICATE")),
        };
        Ok(Some(Next {
            connection: ConnectionUse::Pinned(info.id),
            authorization: Some(ntlm::authorization(&choice.scheme(), &last)),
            then: Sent::Authenticate {
                choice,
                first,
                id: info.id,
                mech: Box::new(mech),
            },
        }))
    }

    /// The request failed in transit.
    fn lost(&mut self, sent: Sent, e: TransportError, auth: &mut Auth, t: Target<'_>) -> Flow {
        let kind = e.kind();
        let nothing_sent = kind == TransportErrorKind::Connect;
        let broken = matches!(kind, TransportErrorKind::Io | TransportErrorKind::Truncated);
        match sent {
            // A reused connection found gone: nothing was sent; another one, at once.
            Sent::Reuse(_) if nothing_sent && !self.reuse_failed => {
                self.reuse_failed = true;
                Flow::Continue
            }
            // Between legs: the server cannot have acted on a request it answers with 401
            // by design, so the handshake restarts once on a fresh connection. (An
            // AUTHENTICATE carries the operation itself: broken after writing, it restarts
            // only an operation that is safe to repeat.)
            Sent::Negotiate { choice, first, .. }
                if nothing_sent || (broken && (self.demanded || t.safe)) =>
            {
                self.restart(choice, first, e)
            }
            Sent::Authenticate { choice, first, .. } if nothing_sent || (broken && t.safe) => {
                self.restart(choice, first, e)
            }
            _ => {
                let _ = auth;
                Flow::Pass(Err(e))
            }
        }
    }

    fn restart(&mut self, choice: Choice, first: Vec<u8>, e: TransportError) -> Flow {
        if self.restarted {
            return Flow::Fail(
                AuthError::Interrupted {
                    scheme: if choice == Choice::Negotiate {
                        "Negotiate"
                    } else {
                        "NTLM"
                    },
                    source: e,
                }
                .into(),
            );
        }
        self.restarted = true;
        self.next = Some(Next {
            connection: ConnectionUse::Fresh,
            authorization: Some(ntlm::authorization(&choice.scheme(), &first)),
            then: Sent::Negotiate {
                choice,
                first,
                pinned: None,
            },
        });
        Flow::Continue
    }
}

/// The NEGOTIATE leg of `choice` on `connection`.
fn negotiate(
    auth: &Auth,
    t: Target<'_>,
    choice: Choice,
    connection: ConnectionUse,
) -> Result<Next, Error> {
    let credentials = windows_credentials(auth)?;
    // The first token depends on none of the inputs: placeholders, never sent.
    let placeholder = HandshakeInputs {
        client_challenge: [0; 8],
        random_session_key: [0; 16],
        now: jiff::Timestamp::UNIX_EPOCH,
    };
    let mut mech = Mech::new(
        choice,
        &credentials,
        t.host,
        ChannelBinding::None,
        placeholder,
    );
    let first = match mech.step(None).map_err(AuthError::from)? {
        AuthStep::Continue(token) => token,
        _ => return Err(misuse("the handshake has no first token")),
    };
    let pinned = match connection {
        ConnectionUse::Pinned(id) => Some(id),
        _ => None,
    };
    Ok(Next {
        connection,
        authorization: Some(ntlm::authorization(&choice.scheme(), &first)),
        then: Sent::Negotiate {
            choice,
            first,
            pinned,
        },
    })
}

/// The answer after AUTHENTICATE was not a `401`: the connection is authenticated (for
/// Negotiate, once the server's final token checks out) and idle again.
fn finished(
    response: &http::Response<bytes::Bytes>,
    auth: &mut Auth,
    t: Target<'_>,
    id: ConnectionId,
    mut mech: Mech,
    info: Option<&ConnectionInfo>,
) -> Result<Option<Next>, Error> {
    if info.is_none_or(|info| info.id != id) {
        return Err(AuthError::NotPinned.into());
    }
    if let Mech::Spnego(_) = mech {
        let challenges = ntlm::parse_www_authenticate(response.headers());
        let token = ntlm::server_token(&challenges, &ntlm::AuthScheme::Negotiate);
        mech.step(token).map_err(AuthError::from)?;
    }
    auth.put_idle(t.origin, id);
    Ok(None)
}

fn windows_credentials(auth: &Auth) -> Result<NtlmCredentials, Error> {
    match auth.windows() {
        Some(Ok(c)) => Ok(c.clone()),
        Some(Err(e)) => Err(e.into()),
        None => Err(misuse("NTLM handshake without NTLM credentials")),
    }
}

fn misuse(reason: &'static str) -> Error {
    UsageError::invalid("call", reason).into()
}
