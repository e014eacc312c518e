//! [`Call`]: one operation from its first attempt to its result, as a state machine.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderValue;
use http::header::{AUTHORIZATION, USER_AGENT};

use crate::client::connection::ConnectionUse;
use crate::client::retry::outcome_unknown;
use crate::client::windows::{Flow, Target, Windows};
use crate::client::{Auth, Decision, RetryPolicy, Secret, Settings};
use crate::error::{
    Bounded, Error, Limit, ServerError, TransportError, TransportErrorKind, UsageError,
};
use crate::ops::{Operation, ReadBack, Repeat, Unconfirmed};
use crate::soap::{Reply, RequestContext};
use crate::xml::Limits;

/// When an exchange must be over: the deadline of a [`Step::Send`], also carried in the
/// request's extensions (`request.extensions().get::<Deadline>()`) so that a transport
/// that runs the exchange itself (a blocking one) applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline(pub Instant);

/// What the driver does next, as [`Call::poll`] says.
///
/// Deliberately not `#[non_exhaustive]`: a driver must handle every step, so a new kind of
/// step is a breaking change that the compiler points out in every driver.
#[derive(Debug)]
// Handed out once per exchange and matched at once: boxing the request would cost an
// allocation per request for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Step<T> {
    /// Send this request on the connection `connection` says and hand the outcome to
    /// [`Call::handle`]. A transport that has not received the whole answer by `deadline`
    /// gives up with [`TransportErrorKind::Timeout`] (or `Connect`, when it was still
    /// connecting). For `Fresh` and `Pinned` the answer carries a
    /// [`ConnectionInfo`](crate::driver::ConnectionInfo) in its extensions (see
    /// [`ConnectionUse`] for the transport's side).
    Send {
        /// The request, `Authorization` and `User-Agent` included; its extensions hold
        /// the [`Deadline`] and the [`ConnectionUse`] too, for a transport that runs the
        /// exchange itself.
        request: http::Request<Bytes>,
        /// When the whole exchange must be over; `None`: no timeout.
        deadline: Option<Instant>,
        /// Which connection the request must travel on: [`ConnectionUse::Any`] except
        /// for connection-scoped authentication (NTLM, Negotiate).
        connection: ConnectionUse,
    },
    /// Ask the application's token provider for a bearer token (`refresh`: the last one
    /// was refused) and hand its answer to [`Call::token_fetched`].
    FetchToken {
        /// The previous token was refused with 401.
        refresh: bool,
    },
    /// Sleep until this instant, then poll again. Polling earlier yields the same step
    /// again: a driver that wakes early cannot cut a back-off short.
    Sleep {
        /// When to poll again.
        until: Instant,
    },
    /// The call is over.
    Done(Result<Reply<T>, Error>),
}

/// One operation from its first attempt to its result: encoding, authentication, the
/// retry policy, decoding. Pure: time comes in as `now`, and the driver does the I/O.
///
/// The whole driver loop:
///
/// ```
/// # use std::time::Instant;
/// # use ews_proto::*;
/// use ews_proto::driver::{Auth, Call, Step};
/// # fn transport_send(_: http::Request<bytes::Bytes>) -> Result<http::Response<bytes::Bytes>, TransportError> {
/// #     Ok(http::Response::builder().status(503).header("retry-after", "0").body(bytes::Bytes::new()).unwrap())
/// # }
/// # fn fetch_token(_: bool) -> Result<Secret<String>, std::io::Error> { Ok(Secret::from("t")) }
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
/// let mut auth = Auth::new(Credentials::Bearer);
/// let op = GetDelegate::new("user1@example.com".parse()?);
/// let mut call = Call::new(&op, &ctx).policy(RetryPolicy::default().max_attempts(2));
/// let result = loop {
///     match call.poll(&mut auth, Instant::now()) {
///         // On the connection `connection` says; give up at the deadline.
///         Step::Send { request, deadline: _, connection: _ } => {
///             let outcome = transport_send(request);
///             call.handle(outcome, &mut auth, Instant::now());
///         }
///         Step::FetchToken { refresh } => call.token_fetched(&mut auth, fetch_token(refresh)),
///         Step::Sleep { until } => std::thread::sleep(until - Instant::now()),
///         Step::Done(result) => break result,
///     }
/// };
/// assert!(matches!(result, Err(Error::Server(ServerError::Throttled { .. }))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Call<'a, O: Operation> {
    op: &'a O,
    ctx: &'a RequestContext,
    policy: RetryPolicy,
    limits: Limits,
    user_agent: Option<HeaderValue>,
    timeout: Option<Duration>,
    /// No exchange of the call may run past this (a caller's own deadline).
    until: Option<Instant>,
    started: Option<Instant>,
    attempts: u32,
    /// Requests of a connection-scoped handshake (its legs): not attempts of the policy.
    free: u32,
    /// The NTLM / Negotiate handshake of this call (NTLM credentials only).
    windows: Option<Windows>,
    refreshed: bool,
    sent_with_token: u64,
    /// Set once the write's answer was lost: the read-back to send instead of the write,
    /// and the error that lost it.
    read_back: Option<(ReadBack, Error)>,
    state: State<O::Output>,
}

#[derive(Debug)]
enum State<T> {
    /// Ready to send (after a token check).
    Ready,
    /// Asked the driver for a token; the next poll checks it arrived.
    AwaitingToken,
    /// About to ask for a refreshed token.
    Refresh,
    /// A request is out; waiting for `handle`.
    InFlight,
    /// Waiting until this instant before the next request.
    Sleep(Instant),
    /// Finished; the result is handed out once.
    Done(Option<Result<Reply<T>, Error>>),
}

impl<'a, O: Operation> Call<'a, O> {
    /// A call of `op` in `ctx`, with the default policy and limits.
    pub fn new(op: &'a O, ctx: &'a RequestContext) -> Self {
        Self {
            op,
            ctx,
            policy: RetryPolicy::default(),
            limits: Limits::default(),
            user_agent: None,
            timeout: None,
            until: None,
            started: None,
            attempts: 0,
            free: 0,
            windows: None,
            refreshed: false,
            sent_with_token: 0,
            read_back: None,
            state: State::Ready,
        }
    }

    /// A call of `op` in `ctx` with a client's validated [`Settings`]: its retry policy,
    /// limits, `User-Agent` and timeout. What both drivers use.
    pub fn configured(op: &'a O, ctx: &'a RequestContext, settings: &Settings) -> Self {
        Self::new(op, ctx)
            .policy(settings.policy)
            .limits(settings.limits)
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
    }

    /// Sets the `User-Agent` of every request.
    pub fn user_agent(mut self, user_agent: HeaderValue) -> Self {
        self.user_agent = Some(user_agent);
        self
    }

    /// Sets the timeout of each exchange: every [`Step::Send`] carries the deadline
    /// `now + timeout`.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Bounds every exchange of the call by `at` (`None`: no bound): a send's
    /// [`Deadline`] is the earlier of `now + timeout` and `at`, so an exchange started
    /// near `at` gets only what is left. The [`sync`](crate::sync) scheduler's
    /// `Action::Send` deadline is one.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use ews_proto::driver::{Auth, Call, Step};
    /// use ews_proto::{Credentials, GetDelegate, RequestContext};
    /// let mut auth = Auth::new(Credentials::basic("admin@example.com", "Passw0rd"));
    /// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?;
    /// let op = GetDelegate::new("boss@example.com".parse()?);
    /// let now = Instant::now();
    /// let mut call = Call::new(&op, &ctx)
    ///     .timeout(Some(Duration::from_secs(100)))
    ///     .deadline(Some(now + Duration::from_secs(2)));
    /// let Step::Send { deadline, .. } = call.poll(&mut auth, now) else { unreachable!() };
    /// assert_eq!(deadline, Some(now + Duration::from_secs(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deadline(mut self, at: Option<Instant>) -> Self {
        self.until = at;
        self
    }

    /// Sets the retry policy.
    pub fn policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the decoding limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How many requests were sent so far (the legs of an NTLM handshake included; the
    /// retry policy counts a handshake and the request it authenticates as one attempt).
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The next step. After [`Step::Send`], call [`Call::handle`] before polling again;
    /// after [`Step::Done`], the call is over.
    pub fn poll(&mut self, auth: &mut Auth, now: Instant) -> Step<O::Output> {
        match std::mem::replace(&mut self.state, State::Ready) {
            State::Done(result) => {
                self.state = State::Done(None);
                Step::Done(result.unwrap_or_else(|| Err(misuse("polled after the call finished"))))
            }
            State::Sleep(until) if now < until => {
                self.state = State::Sleep(until);
                Step::Sleep { until }
            }
            State::Sleep(_) => self.poll(auth, now),
            State::Refresh => {
                self.state = State::AwaitingToken;
                Step::FetchToken { refresh: true }
            }
            State::InFlight => self.finish(Err(misuse("polled while a request was in flight"))),
            State::AwaitingToken if auth.needs_token() => self.finish(Err(misuse(
                "FetchToken was answered without Auth::set_token",
            ))),
            State::Ready if auth.needs_token() => {
                self.state = State::AwaitingToken;
                Step::FetchToken { refresh: false }
            }
            State::Ready | State::AwaitingToken => self.send(auth, now),
        }
    }

    fn send(&mut self, auth: &mut Auth, now: Instant) -> Step<O::Output> {
        if let Err(e) = auth
            .check_endpoint(self.ctx.endpoint())
            .and_then(|()| auth.check_credentials())
        {
            return self.finish(Err(e.into()));
        }
        let encoded = match &self.read_back {
            Some((read_back, _)) => read_back.query().encode(self.ctx),
            None => self.op.encode(self.ctx),
        };
        let mut request = match encoded {
            Ok(r) => r,
            Err(e) => return self.finish(Err(e.into())),
        };
        let (connection, authorization) = if auth.windows().is_some() {
            let ctx = self.ctx;
            let origin = origin(ctx);
            let target = self.target(ctx, &origin);
            let windows = self.windows.get_or_insert_with(Windows::new);
            match windows.prepare(auth, target) {
                Ok(p) => (p.connection, p.authorization),
                Err(e) => return self.finish(Err(e)),
            }
        } else {
            (ConnectionUse::Any, auth.header())
        };
        if let Some(value) = authorization {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        request.extensions_mut().insert(connection);
        if let Some(value) = &self.user_agent {
            request.headers_mut().insert(USER_AGENT, value.clone());
        }
        let deadline = match (self.timeout.and_then(|t| now.checked_add(t)), self.until) {
            (Some(t), Some(u)) => Some(t.min(u)),
            (t, u) => t.or(u),
        };
        if let Some(at) = deadline {
            request.extensions_mut().insert(Deadline(at));
        }
        self.started.get_or_insert(now);
        self.attempts += 1;
        self.sent_with_token = auth.generation();
        self.state = State::InFlight;
        Step::Send {
            request,
            deadline,
            connection,
        }
    }

    /// Where this call goes, for the handshake.
    fn target<'t>(&self, ctx: &'t RequestContext, origin: &'t str) -> Target<'t> {
        Target {
            origin,
            host: ctx.endpoint().host().unwrap_or_default(),
            safe: self.read_back.is_some() || self.op.repeat() == Repeat::Safe,
        }
    }

    /// Lets the handshake judge an answer first: `None` when it took it (the handshake
    /// goes on, or the call failed).
    fn judge_windows(
        &mut self,
        outcome: Result<http::Response<Bytes>, TransportError>,
        auth: &mut Auth,
    ) -> Option<Result<http::Response<Bytes>, TransportError>> {
        let ctx = self.ctx;
        let origin = origin(ctx);
        let target = self.target(ctx, &origin);
        let windows = match self.windows.as_mut() {
            Some(w) => w,
            None => return Some(outcome),
        };
        match windows.judge(outcome, auth, target) {
            Flow::Pass(outcome) => Some(outcome),
            Flow::Continue => {
                self.free += 1;
                self.state = State::Ready;
                None
            }
            Flow::Fail(error) => {
                match self.read_back.as_ref().map(|(r, _)| r.unknown()) {
                    Some(unknown) => self.unconfirmed(unknown, Some(error)),
                    None => self.state = State::Done(Some(Err(error))),
                }
                None
            }
        }
    }

    fn finish(&mut self, result: Result<Reply<O::Output>, Error>) -> Step<O::Output> {
        self.state = State::Done(None);
        Step::Done(result)
    }

    /// Hands over the outcome of the last [`Step::Send`].
    pub fn handle(
        &mut self,
        outcome: Result<http::Response<Bytes>, TransportError>,
        auth: &mut Auth,
        now: Instant,
    ) {
        if !matches!(self.state, State::InFlight) {
            self.state = State::Done(Some(Err(misuse("handled without a request in flight"))));
            return;
        }
        let Some(outcome) = self.judge_windows(outcome, auth) else {
            return;
        };
        if self.read_back.is_some() {
            return self.handle_read_back(outcome, auth, now);
        }
        let error = match outcome {
            Ok(response) => match self.op.decode_with(&response, &self.limits) {
                Ok(reply) => {
                    self.state = State::Done(Some(Ok(reply)));
                    return;
                }
                Err(e) => Error::Server(e),
            },
            Err(e) => self.transport_error(e),
        };
        if self.refresh_after(&error, auth) {
            return;
        }
        self.state = match self.decide(&error, self.op.repeat(), now) {
            Decision::RetryAfter(d) => State::Sleep(now + d),
            Decision::GiveUp => match self.op.read_back() {
                Some(read_back) if outcome_unknown(&error) => {
                    // The write may have been applied: read it back, never resend it.
                    self.read_back = Some((read_back, error));
                    State::Ready
                }
                _ => State::Done(Some(Err(error))),
            },
        };
    }

    /// The outcome of a read-back query: judge the writes, or try the read again.
    fn handle_read_back(
        &mut self,
        outcome: Result<http::Response<Bytes>, TransportError>,
        auth: &Auth,
        now: Instant,
    ) {
        let Some((read_back, _)) = &self.read_back else {
            return;
        };
        let judged = match outcome {
            Ok(response) => read_back
                .query()
                .decode_with(&response, &self.limits)
                .map(|reply| read_back.judge(&reply.body))
                .map_err(Error::Server),
            Err(e) => Err(self.transport_error(e)),
        };
        let unknown = read_back.unknown();
        let error = match judged {
            Ok(checks) => return self.unconfirmed(checks, None),
            Err(e) => e,
        };
        if self.refresh_after(&error, auth) {
            return;
        }
        match self.decide(&error, Repeat::Safe, now) {
            Decision::RetryAfter(d) => self.state = State::Sleep(now + d),
            Decision::GiveUp => self.unconfirmed(unknown, Some(error)),
        }
    }

    /// What a transport's failure means for the call: an answer over the body cap is the
    /// same [`ServerError::LimitExceeded`] whichever side noticed it; a request the
    /// transport could not form is the caller's ([`UsageError::InvalidRequest`]).
    fn transport_error(&self, e: TransportError) -> Error {
        match e.kind() {
            TransportErrorKind::BodyTooLarge => ServerError::LimitExceeded {
                limit: Limit::BodySize,
                max: self.limits.max_body_bytes,
            }
            .into(),
            TransportErrorKind::InvalidRequest => UsageError::InvalidRequest {
                reason: Bounded(&e.to_string()).to_string(),
            }
            .into(),
            _ => Error::Transport(e),
        }
    }

    fn unconfirmed(&mut self, checks: Vec<crate::ops::WriteCheck>, failed: Option<Error>) {
        if let Some((_, cause)) = self.read_back.take() {
            let report = Unconfirmed {
                cause,
                checks,
                read_back_error: failed,
            };
            self.state = State::Done(Some(Err(Error::Unconfirmed(Box::new(report)))));
        }
    }

    /// After a 401: asks for one fresh token per call when the credentials can refresh.
    /// A 401 proves the request was not processed: resending is safe for any operation.
    /// If another call refreshed the token meanwhile, that one is used.
    fn refresh_after(&mut self, error: &Error, auth: &Auth) -> bool {
        if !matches!(error, Error::Server(ServerError::Unauthorized { .. }))
            || !auth.refreshable()
            || self.refreshed
        {
            return false;
        }
        self.refreshed = true;
        self.state = if auth.generation() != self.sent_with_token {
            State::Ready
        } else {
            State::Refresh
        };
        true
    }

    fn decide(&self, error: &Error, repeat: Repeat, now: Instant) -> Decision {
        let elapsed = self
            .started
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        let attempts = self.attempts.saturating_sub(self.free);
        self.policy.decide(attempts, elapsed, error, repeat)
    }

    /// Hands over what the token provider answered after [`Step::FetchToken`]: a token is
    /// stored in `auth` (one that cannot be a header value ends the call with
    /// [`Error::TokenProvider`] holding [`InvalidToken`](crate::driver::InvalidToken), and is
    /// never sent); a failure ends the call with [`Error::TokenProvider`].
    pub fn token_fetched<E>(&mut self, auth: &mut Auth, fetched: Result<Secret<String>, E>)
    where
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        match fetched {
            Ok(token) => {
                if let Err(e) = auth.set_token(token) {
                    self.token_failed(e);
                }
            }
            Err(e) => self.token_failed(e),
        }
    }

    /// Reports that the token provider failed after [`Step::FetchToken`]; the next poll
    /// ends the call with [`Error::TokenProvider`].
    pub fn token_failed(
        &mut self,
        error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) {
        self.state = State::Done(Some(Err(Error::TokenProvider(error.into()))));
    }
}

/// `scheme://authority` of the call's endpoint: what an authenticated connection is for.
fn origin(ctx: &RequestContext) -> String {
    let endpoint = ctx.endpoint();
    format!(
        "{}://{}",
        endpoint.scheme_str().unwrap_or_default(),
        endpoint.authority().map_or("", |a| a.as_str())
    )
}

fn misuse(reason: &'static str) -> Error {
    UsageError::InvalidValue {
        kind: "call sequence",
        reason,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Credentials, Secret};
    use crate::error::TransportErrorKind;
    use crate::ops::Repeat;
    use crate::{CreateItem, GetDelegate, NewCalendarItem};

    const OK: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse></s:Body></s:Envelope>"#;

    fn ctx() -> RequestContext {
        RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").unwrap()
    }

    fn resp(status: u16, body: &str) -> Result<http::Response<Bytes>, TransportError> {
        Ok(http::Response::builder()
            .status(status)
            .header("retry-after", "1")
            .body(Bytes::from(body.to_owned()))
            .unwrap())
    }

    /// Runs `call` against scripted outcomes; returns the steps taken and the result.
    fn run<O: Operation>(
        call: &mut Call<'_, O>,
        auth: &mut Auth,
        mut outcomes: Vec<Result<http::Response<Bytes>, TransportError>>,
        mut tokens: Vec<Result<&str, &str>>,
    ) -> (Vec<String>, Result<Reply<O::Output>, Error>) {
        outcomes.reverse();
        tokens.reverse();
        let t0 = Instant::now();
        let mut clock = t0;
        let mut steps = Vec::new();
        loop {
            match call.poll(auth, clock) {
                Step::Send { request: req, .. } => {
                    let h = req
                        .headers()
                        .get(AUTHORIZATION)
                        .map(|v| v.to_str().unwrap().to_owned());
                    steps.push(format!("send({})", h.unwrap_or_default()));
                    call.handle(outcomes.pop().expect("scripted outcome"), auth, clock);
                }
                Step::FetchToken { refresh } => {
                    steps.push(format!("token(refresh={refresh})"));
                    let fetched = tokens.pop().expect("scripted token").map(Secret::from);
                    call.token_fetched(auth, fetched);
                }
                Step::Sleep { until } => {
                    steps.push(format!("sleep({}ms)", (until - clock).as_millis()));
                    clock = until;
                }
                Step::Done(r) => return (steps, r),
            }
        }
    }

    #[test]
    fn basic_success_in_one_request() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::basic("a", "b"));
        let mut call = Call::new(&op, &c);
        let (steps, r) = run(&mut call, &mut auth, vec![resp(200, OK)], vec![]);
        assert_eq!(steps, ["send(Basic YTpi)"]);
        assert!(r.is_ok());
        assert!(matches!(
            call.poll(&mut auth, Instant::now()),
            Step::Done(Err(Error::Usage(_)))
        ));
    }

    #[test]
    fn bearer_fetches_a_token_then_refreshes_once_on_401() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::Bearer);
        let mut call = Call::new(&op, &c);
        let (steps, r) = run(
            &mut call,
            &mut auth,
            vec![resp(401, ""), resp(200, OK)],
            vec![Ok("old"), Ok("new")],
        );
        assert_eq!(
            steps,
            [
                "token(refresh=false)",
                "send(Bearer old)",
                "token(refresh=true)",
                "send(Bearer new)"
            ]
        );
        assert!(r.is_ok());

        // A second 401 in the same call is final.
        let mut call = Call::new(&op, &c);
        let (steps, r) = run(
            &mut call,
            &mut auth,
            vec![resp(401, ""), resp(401, "")],
            vec![Ok("newer")],
        );
        assert_eq!(
            steps,
            [
                "send(Bearer new)",
                "token(refresh=true)",
                "send(Bearer newer)"
            ]
        );
        assert!(matches!(
            r,
            Err(Error::Server(ServerError::Unauthorized { .. }))
        ));
    }

    #[test]
    fn basic_401_is_final() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::basic("a", "wrong"));
        let (steps, r) = run(
            &mut Call::new(&op, &c),
            &mut auth,
            vec![resp(401, "")],
            vec![],
        );
        assert_eq!(steps.len(), 1);
        assert!(matches!(
            r,
            Err(Error::Server(ServerError::Unauthorized { .. }))
        ));
    }

    #[test]
    fn token_provider_failure_ends_the_call() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::Bearer);
        let (_, r) = run(
            &mut Call::new(&op, &c),
            &mut auth,
            vec![],
            vec![Err("idp down")],
        );
        assert!(matches!(r, Err(Error::TokenProvider(e)) if e.to_string() == "idp down"));
    }

    #[test]
    fn throttling_is_retried_after_the_servers_delay() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::None);
        let (steps, r) = run(
            &mut Call::new(&op, &c),
            &mut auth,
            vec![resp(503, ""), resp(429, ""), resp(200, OK)],
            vec![],
        );
        assert_eq!(
            steps,
            [
                "send()",
                "sleep(1000ms)",
                "send()",
                "sleep(1000ms)",
                "send()"
            ]
        );
        assert!(r.is_ok());
    }

    #[test]
    fn a_lost_answer_to_a_meeting_invitation_is_never_resent() {
        let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().unwrap();
        let op = CreateItem::on_behalf_of(
            "user1@example.com".parse().unwrap(),
            NewCalendarItem::new("x", start, start)
                .expect("start is not after end")
                .required_attendee(crate::Mailbox::new("user3@example.com".parse().unwrap())),
        );
        assert_eq!(op.repeat(), Repeat::SendsMessages);
        let c = ctx();
        let mut auth = Auth::new(Credentials::None);
        let lost = Err(TransportError::new(
            TransportErrorKind::Io,
            std::io::Error::other("reset"),
        ));
        let (steps, r) = run(&mut Call::new(&op, &c), &mut auth, vec![lost], vec![]);
        assert_eq!(steps, ["send()"]);
        assert!(matches!(r, Err(Error::Transport(_))));

        // ... but a lost GetDelegate is.
        let get = GetDelegate::new("user1@example.com".parse().unwrap());
        let lost = Err(TransportError::new(
            TransportErrorKind::Io,
            std::io::Error::other("reset"),
        ));
        let (steps, r) = run(
            &mut Call::new(&get, &c),
            &mut auth,
            vec![lost, resp(200, OK)],
            vec![],
        );
        assert_eq!(steps, ["send()", "sleep(500ms)", "send()"]);
        assert!(r.is_ok());
    }

    #[test]
    fn usage_errors_end_the_call_before_anything_is_sent() {
        let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().unwrap();
        let op = CreateItem::on_behalf_of(
            "user1@example.com".parse().unwrap(),
            NewCalendarItem::new("bad\u{1}", start, start).expect("start is not after end"),
        );
        let c = ctx();
        let mut auth = Auth::new(Credentials::None);
        let (steps, r) = run(&mut Call::new(&op, &c), &mut auth, vec![], vec![]);
        assert!(steps.is_empty());
        assert!(matches!(
            r,
            Err(Error::Usage(UsageError::InvalidCharacter { .. }))
        ));
    }

    const ADDED: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseCode>NoError</m:ResponseCode><m:ResponseMessages><m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:DelegateUser><t:UserId><t:PrimarySmtpAddress>user2@example.com</t:PrimarySmtpAddress></t:UserId><t:DelegatePermissions><t:CalendarFolderPermissionLevel>Author</t:CalendarFolderPermissionLevel></t:DelegatePermissions></m:DelegateUser></m:DelegateUserResponseMessageType></m:ResponseMessages></m:GetDelegateResponse></s:Body></s:Envelope>"#;

    fn reset() -> Result<http::Response<Bytes>, TransportError> {
        Err(TransportError::new(
            TransportErrorKind::Io,
            std::io::Error::other("reset"),
        ))
    }

    fn add_user2() -> crate::AddDelegate {
        crate::AddDelegate::new(
            "user1@example.com".parse().unwrap(),
            crate::DelegateUser::new(crate::UserId::smtp("user2@example.com".parse().unwrap()))
                .permissions(crate::DelegatePermissions::new().calendar(crate::Permission::Author)),
        )
    }

    /// Runs `call`, recording the SOAPAction of every request sent.
    fn actions<O: Operation>(
        call: &mut Call<'_, O>,
        mut outcomes: Vec<Result<http::Response<Bytes>, TransportError>>,
    ) -> (Vec<String>, Result<Reply<O::Output>, Error>) {
        outcomes.reverse();
        let mut auth = Auth::new(Credentials::None);
        let mut sent = Vec::new();
        let mut clock = Instant::now();
        loop {
            match call.poll(&mut auth, clock) {
                Step::Send { request: req, .. } => {
                    let action = req.headers()["SOAPAction"].to_str().unwrap();
                    sent.push(
                        action
                            .trim_matches('"')
                            .rsplit('/')
                            .next()
                            .unwrap()
                            .to_owned(),
                    );
                    call.handle(outcomes.pop().expect("scripted outcome"), &mut auth, clock);
                }
                Step::Sleep { until } => clock = until,
                Step::FetchToken { .. } => panic!("no token needed"),
                Step::Done(r) => return (sent, r),
            }
        }
    }

    #[test]
    fn a_lost_delegate_write_is_read_back_not_resent() {
        let op = add_user2();
        let c = ctx();
        let (sent, r) = actions(&mut Call::new(&op, &c), vec![reset(), resp(200, ADDED)]);
        assert_eq!(sent, ["AddDelegate", "GetDelegate"]);
        let Err(Error::Unconfirmed(u)) = r else {
            panic!("expected Unconfirmed, got {r:?}");
        };
        assert!(u.all_applied(), "{u}");
        assert!(matches!(u.cause, Error::Transport(_)));
        assert_eq!(u.checks.len(), 1);

        // Not there: not applied, and still not resent.
        let (sent, r) = actions(&mut Call::new(&op, &c), vec![reset(), resp(200, OK)]);
        assert_eq!(sent, ["AddDelegate", "GetDelegate"]);
        let Err(Error::Unconfirmed(u)) = r else {
            panic!("expected Unconfirmed, got {r:?}");
        };
        assert_eq!(u.checks[0].state, crate::error::WriteState::NotApplied);
    }

    #[test]
    fn a_failing_read_back_is_retried_then_reports_unknown() {
        let op = add_user2();
        let c = ctx();
        let call = Call::new(&op, &c).policy(RetryPolicy::default().max_attempts(3));
        let (sent, r) = actions(&mut { call }, vec![reset(), reset(), reset()]);
        assert_eq!(sent, ["AddDelegate", "GetDelegate", "GetDelegate"]);
        let Err(Error::Unconfirmed(u)) = r else {
            panic!("expected Unconfirmed, got {r:?}");
        };
        assert_eq!(u.checks[0].state, crate::error::WriteState::Unknown);
        assert!(u.read_back_error.is_some());
    }

    #[test]
    fn a_delegate_write_refused_as_busy_is_repeated_and_a_final_error_is_not_read_back() {
        let op = add_user2();
        let c = ctx();
        let (sent, r) = actions(&mut Call::new(&op, &c), vec![resp(503, ""), resp(401, "")]);
        assert_eq!(sent, ["AddDelegate", "AddDelegate"]);
        assert!(matches!(
            r,
            Err(Error::Server(ServerError::Unauthorized { .. }))
        ));
    }

    #[test]
    fn credentials_are_never_sent_in_clear_to_a_remote_host() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = RequestContext::new("http://mail.example.com/EWS/Exchange.asmx").unwrap();
        let mut auth = Auth::new(Credentials::basic("a", "b"));
        let (steps, r) = run(&mut Call::new(&op, &c), &mut auth, vec![], vec![]);
        assert!(steps.is_empty());
        assert!(matches!(
            r,
            Err(Error::Usage(UsageError::CredentialsOverHttp { .. }))
        ));
    }

    #[test]
    fn a_token_that_cannot_be_a_header_ends_the_call_unsent() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::Bearer);
        let (steps, r) = run(
            &mut Call::new(&op, &c),
            &mut auth,
            vec![],
            vec![Ok("abc\r\nX-Injected: yes")],
        );
        assert_eq!(steps, ["token(refresh=false)"]);
        let Err(Error::TokenProvider(e)) = r else {
            panic!("expected a token error, got {r:?}");
        };
        assert!(e.is::<crate::driver::InvalidToken>());
    }

    #[test]
    fn a_driver_that_wakes_early_gets_the_same_sleep_again() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::None);
        let mut call = Call::new(&op, &c);
        let t0 = Instant::now();
        assert!(matches!(call.poll(&mut auth, t0), Step::Send { .. }));
        call.handle(resp(503, ""), &mut auth, t0); // Retry-After: 1
        let until = t0 + Duration::from_secs(1);
        for early in [t0, t0 + Duration::from_millis(999)] {
            match call.poll(&mut auth, early) {
                Step::Sleep { until: u } => assert_eq!(u, until),
                other => panic!("expected the sleep again, got {other:?}"),
            }
        }
        assert!(matches!(call.poll(&mut auth, until), Step::Send { .. }));
    }

    #[test]
    fn every_request_carries_the_user_agent_and_its_deadline() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::None);
        let mut call = Call::new(&op, &c)
            .user_agent(HeaderValue::from_static("probe/1"))
            .timeout(Some(Duration::from_secs(3)));
        let t0 = Instant::now();
        let Step::Send {
            request, deadline, ..
        } = call.poll(&mut auth, t0)
        else {
            panic!("expected a request");
        };
        assert_eq!(request.headers()[USER_AGENT], "probe/1");
        assert_eq!(deadline, Some(t0 + Duration::from_secs(3)));
        assert_eq!(
            request.extensions().get::<Deadline>(),
            Some(&Deadline(t0 + Duration::from_secs(3)))
        );
    }

    #[test]
    fn transport_verdicts_that_belong_to_the_caller_or_the_limits() {
        let op = GetDelegate::new("user1@example.com".parse().unwrap());
        let c = ctx();
        let mut auth = Auth::new(Credentials::None);
        let too_big = Err(TransportError::new(TransportErrorKind::BodyTooLarge, "cap"));
        let (steps, r) = run(&mut Call::new(&op, &c), &mut auth, vec![too_big], vec![]);
        assert_eq!(steps.len(), 1);
        assert!(matches!(
            r,
            Err(Error::Server(ServerError::LimitExceeded {
                limit: Limit::BodySize,
                ..
            }))
        ));
        let unformable = Err(TransportError::new(
            TransportErrorKind::InvalidRequest,
            "bad header",
        ));
        let (steps, r) = run(&mut Call::new(&op, &c), &mut auth, vec![unformable], vec![]);
        assert_eq!(steps.len(), 1, "attempted once");
        assert!(matches!(
            r,
            Err(Error::Usage(UsageError::InvalidRequest { .. }))
        ));
    }

    mod windows {
        use super::*;
        use crate::client::connection::{ConnectionId, ConnectionInfo, FixedHandshakeSource};
        use crate::error::AuthError;

        /// The CHALLENGE of MS-NLMP section 4.2.4.3.
        const CHALLENGE: &str = "TlRMTVNTUAACAAAADAAMADgAAAAzgoriASNFZ4mrze8AAAAAAAAAACQAJABEAAAABgBwFwAAAA9TAGUAcgB2AGUAcgACAAwARABvAG0AYQBpAG4AAQAMAFMAZQByAHYAZQByAAAAAAA=";

        type Outcome = Result<http::Response<Bytes>, TransportError>;

        fn on(id: u64, status: u16, www: &[&str], body: &str) -> Outcome {
            let mut b = http::Response::builder().status(status);
            for w in www {
                b = b.header("www-authenticate", *w);
            }
            let mut r = b.body(Bytes::from(body.to_owned())).unwrap();
            r.extensions_mut().insert(ConnectionInfo {
                id: ConnectionId(id),
                peer_certificate: None,
            });
            Ok(r)
        }

        fn offer(id: u64) -> Outcome {
            on(id, 401, &["Negotiate", "NTLM"], "")
        }

        fn challenge(id: u64) -> Outcome {
            on(id, 401, &[&format!("NTLM {CHALLENGE}")], "")
        }

        fn gone() -> Outcome {
            Err(TransportError::new(TransportErrorKind::Connect, "gone"))
        }

        fn windows_auth() -> Auth {
            Auth::new(Credentials::ntlm(r"DOMAIN\user", "Password")).handshake_source(
                std::sync::Arc::new(FixedHandshakeSource {
                    bytes: vec![0xaa],
                    now: std::time::SystemTime::UNIX_EPOCH,
                }),
            )
        }

        /// Runs a call, recording `connection authorization-scheme` per request.
        fn script(
            auth: &mut Auth,
            mut outcomes: Vec<Outcome>,
        ) -> (Vec<String>, Result<Reply<crate::DelegateResults>, Error>) {
            let op = GetDelegate::new("user1@example.com".parse().unwrap());
            let c = ctx();
            let mut call = Call::new(&op, &c);
            outcomes.reverse();
            let mut sent = Vec::new();
            let mut clock = Instant::now();
            loop {
                match call.poll(auth, clock) {
                    Step::Send {
                        request,
                        connection,
                        ..
                    } => {
                        assert_eq!(
                            request.extensions().get::<ConnectionUse>(),
                            Some(&connection)
                        );
                        let scheme = request.headers().get(AUTHORIZATION).map(|v| {
                            let v = v.to_str().unwrap();
                            let (scheme, token) = v.split_once(' ').unwrap();
                            // The message type: 1 NEGOTIATE, 3 AUTHENTICATE.
                            let raw = base64::Engine::decode(
                                &base64::engine::general_purpose::STANDARD,
                                token,
                            )
                            .unwrap();
                            format!("{scheme}:{}", raw[8])
                        });
                        sent.push(format!("{connection:?} {}", scheme.unwrap_or_default()));
                        let Some(outcome) = outcomes.pop() else {
                            panic!("no scripted outcome for {sent:?}");
                        };
                        call.handle(outcome, auth, clock);
                    }
                    Step::Sleep { until } => {
                        sent.push("sleep".into());
                        clock = until;
                    }
                    Step::FetchToken { .. } => panic!("no tokens for NTLM"),
                    Step::Done(r) => return (sent, r),
                }
            }
        }

        #[test]
        fn three_legs_on_one_connection_then_reuse_without_a_handshake() {
            let mut auth = windows_auth();
            let (sent, r) = script(&mut auth, vec![offer(7), challenge(7), on(7, 200, &[], OK)]);
            assert_eq!(
                sent,
                [
                    "Fresh ",
                    "Pinned(ConnectionId(7)) NTLM:1",
                    "Pinned(ConnectionId(7)) NTLM:3"
                ]
            );
            assert!(r.is_ok(), "{r:?}");
            assert_eq!(auth.idle_connections(), 1);
            for _ in 0..3 {
                let (sent, r) = script(&mut auth, vec![on(7, 200, &[], OK)]);
                assert_eq!(sent, ["Pinned(ConnectionId(7)) "]);
                assert!(r.is_ok());
            }
            // Another identity knows nothing of connection 7.
            let mut other = windows_auth();
            let (sent, _) = script(
                &mut other,
                vec![offer(8), challenge(8), on(8, 200, &[], OK)],
            );
            assert_eq!(sent[0], "Fresh ");
            assert!(!sent.iter().any(|s| s.contains("(7)")), "{sent:?}");
        }

        #[test]
        fn a_401_after_authenticate_is_final_after_three_requests() {
            let mut auth = windows_auth();
            let (sent, r) = script(
                &mut auth,
                vec![
                    offer(1),
                    challenge(1),
                    on(1, 401, &["Negotiate", "NTLM"], ""),
                ],
            );
            assert_eq!(sent.len(), 3, "{sent:?}");
            assert!(
                matches!(r, Err(Error::Server(ServerError::Unauthorized { .. }))),
                "{r:?}"
            );
            assert_eq!(auth.idle_connections(), 0);
        }

        #[test]
        fn a_connection_lost_between_legs_restarts_once_then_is_typed() {
            let mut auth = windows_auth();
            let (sent, r) = script(
                &mut auth,
                vec![
                    offer(1),
                    challenge(1),
                    gone(),
                    challenge(2),
                    on(2, 200, &[], OK),
                ],
            );
            assert_eq!(
                sent,
                [
                    "Fresh ",
                    "Pinned(ConnectionId(1)) NTLM:1",
                    "Pinned(ConnectionId(1)) NTLM:3",
                    "Fresh NTLM:1",
                    "Pinned(ConnectionId(2)) NTLM:3"
                ]
            );
            assert!(r.is_ok(), "{r:?}");

            let mut auth = windows_auth();
            let (sent, r) = script(
                &mut auth,
                vec![offer(1), challenge(1), gone(), challenge(2), gone()],
            );
            assert_eq!(sent.len(), 5, "{sent:?}");
            assert!(
                matches!(r, Err(Error::Auth(AuthError::Interrupted { .. }))),
                "{r:?}"
            );
        }

        #[test]
        fn a_transport_that_does_not_pin_is_a_typed_error() {
            let mut auth = windows_auth();
            let unpinned = Ok(http::Response::builder()
                .status(401)
                .header("www-authenticate", "NTLM")
                .body(Bytes::new())
                .unwrap());
            let (sent, r) = script(&mut auth, vec![unpinned]);
            assert_eq!(sent.len(), 1);
            assert!(matches!(r, Err(Error::Auth(AuthError::NotPinned))), "{r:?}");
        }

        #[test]
        fn a_server_without_integrated_schemes_gets_no_handshake() {
            let mut auth = windows_auth();
            let (sent, r) = script(&mut auth, vec![on(1, 401, &["Basic realm=\"x\""], "")]);
            assert_eq!(sent.len(), 1);
            assert!(matches!(
                r,
                Err(Error::Server(ServerError::Unauthorized { .. }))
            ));
        }

        #[test]
        fn up_front_skips_the_probe_and_a_forgotten_connection_is_reauthenticated() {
            let mut auth = windows_auth().ntlm_up_front(true);
            let (sent, r) = script(&mut auth, vec![challenge(3), on(3, 200, &[], OK)]);
            assert_eq!(sent, ["Fresh NTLM:1", "Pinned(ConnectionId(3)) NTLM:3"]);
            assert!(r.is_ok());
            // The server forgot connection 3's authentication: a handshake on it.
            let (sent, r) = script(&mut auth, vec![offer(3), challenge(3), on(3, 200, &[], OK)]);
            assert_eq!(
                sent,
                [
                    "Pinned(ConnectionId(3)) ",
                    "Pinned(ConnectionId(3)) NTLM:1",
                    "Pinned(ConnectionId(3)) NTLM:3"
                ]
            );
            assert!(r.is_ok());
            // Gone before sending: a new handshake at once, no sleep.
            let (sent, r) = script(&mut auth, vec![gone(), challenge(4), on(4, 200, &[], OK)]);
            assert_eq!(
                sent,
                [
                    "Pinned(ConnectionId(3)) ",
                    "Fresh NTLM:1",
                    "Pinned(ConnectionId(4)) NTLM:3"
                ]
            );
            assert!(r.is_ok());
        }

        #[test]
        fn handshake_legs_are_not_attempts_of_the_retry_policy() {
            let mut auth = windows_auth();
            let busy = || on(1, 503, &[], "");
            // Default policy: 5 attempts. With 2 legs counted they would be 3.
            let (sent, r) = script(
                &mut auth,
                vec![
                    offer(1),
                    challenge(1),
                    busy(),
                    busy(),
                    busy(),
                    busy(),
                    on(1, 200, &[], OK),
                ],
            );
            assert_eq!(sent.iter().filter(|s| *s == "sleep").count(), 4, "{sent:?}");
            assert!(r.is_ok(), "{r:?}");
        }

        #[test]
        fn ntlm_credentials_never_show_the_password() {
            let auth = windows_auth();
            let shown = format!(
                "{auth:?} {:?}",
                Credentials::ntlm_in_domain("u", "D", "Passw0rd-9")
            );
            assert!(
                !shown.contains("Passw0rd-9") && !shown.contains("\"Password\""),
                "{shown}"
            );
            assert!(
                Auth::new(Credentials::ntlm(r"D\", "x"))
                    .check_credentials()
                    .is_err()
            );
        }
    }
}
