//! [`Discovery`]: from an email address to the user's settings, as a state machine.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, LOCATION, RETRY_AFTER, USER_AGENT};
use http::{HeaderValue, StatusCode, Uri};

use crate::autodiscover::answer::{Answer, ErrorCode, UserSettings, decode_pox, decode_soap};
use crate::autodiscover::request::{UserSettingName, pox_request, probe_request, soap_request};
use crate::autodiscover::trace::{
    Action, DiscoveryError, Failure, Outcome, Reason, StepKind, Trace, TraceRecord, shown,
};
use crate::client::{Auth, Decision, RetryPolicy, Secret};
use crate::error::{Error, ServerError, TransportError, UsageError};
use crate::ops::Repeat;
use crate::soap::{ExchangeVersion, ResponseCode, ResponseStatus};
use crate::types::EmailAddress;
use crate::xml::Limits;

/// The most redirects one discovery follows (`RedirectAddress`, `RedirectUrl` and the
/// http probe's redirect together), as the EWS Managed API.
pub const MAX_HOPS: u32 = 10;

/// Which hosts outside the address's own domain may be asked (and so receive the
/// credentials) when a redirect or an SRV record points there.
///
/// The address's domain and its subdomains are always trusted, as are the URLs the caller
/// lists ([`Discovery::urls`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RedirectPolicy {
    /// Only the address's domain (default): any other host ends discovery with
    /// [`Reason::RedirectRefused`].
    #[default]
    SameDomain,
    /// Also these domains (and their subdomains), without asking.
    Allow(Vec<String>),
    /// Ask the caller each time: [`Step::Confirm`], answered with [`Discovery::confirm`].
    Ask,
}

/// One DNS SRV record, as the driver's resolver returns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SrvRecord {
    /// Lower is tried first.
    pub priority: u16,
    /// Among equal priorities, higher is tried first.
    pub weight: u16,
    /// Only 443 is used.
    pub port: u16,
    /// The host (a trailing dot is ignored).
    pub target: String,
}

impl SrvRecord {
    /// A record.
    pub fn new(priority: u16, weight: u16, port: u16, target: impl Into<String>) -> Self {
        Self {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }
}

/// A redirect the caller is asked about ([`RedirectPolicy::Ask`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Redirect {
    /// The host (or, for a `RedirectAddress`, the domain) that would be asked next and
    /// receive the credentials.
    pub to: String,
    /// The URL or address that would be used, bounded.
    pub target: String,
}

/// What the driver does next, as [`Discovery::poll`] says.
///
/// Deliberately not `#[non_exhaustive]`: a driver must handle every step.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// Send this request and hand the outcome to [`Discovery::handle`]. It follows no
    /// redirect itself (the state machine reads them).
    Send {
        /// The request; `Authorization` on it only when `credentials` is set.
        request: http::Request<Bytes>,
        /// When the whole exchange must be over.
        deadline: Option<Instant>,
        /// Whether the request carries the credentials (never for the http probe, never
        /// to a host the policy did not allow).
        credentials: bool,
    },
    /// Look up the SRV records of `name` and hand them to [`Discovery::srv_resolved`].
    ResolveSrv {
        /// `_autodiscover._tcp.{domain}`.
        name: String,
    },
    /// Ask the caller whether this redirect may be followed; answer with
    /// [`Discovery::confirm`].
    Confirm(Redirect),
    /// Ask the token provider for a bearer token and hand it to
    /// [`Discovery::token_fetched`].
    FetchToken {
        /// The previous token was refused (never set by discovery, which moves on to the
        /// next candidate after a 401).
        refresh: bool,
    },
    /// Sleep until this instant, then poll again.
    Sleep {
        /// When to poll again.
        until: Instant,
    },
    /// Discovery is over.
    Done(Result<Discovered, DiscoveryError>),
}

/// Which EWS URL a client uses when the server gives both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UrlChoice {
    /// `ExternalEwsUrl`, else `InternalEwsUrl` (default).
    #[default]
    External,
    /// `InternalEwsUrl`, else `ExternalEwsUrl` (inside the organisation's network).
    Internal,
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovered {
    /// The address the settings are for (after any `RedirectAddress`).
    pub email: EmailAddress,
    /// The Autodiscover URL that answered.
    pub autodiscover_url: String,
    /// The settings it returned.
    pub settings: UserSettings,
    /// Every step taken.
    pub trace: Trace,
}

impl Discovered {
    /// The EWS URL to use, as `choice` says (falling back to the other one).
    pub fn ews_url(&self, choice: UrlChoice) -> Option<&str> {
        let s = &self.settings;
        let (first, second) = match choice {
            UrlChoice::External => (&s.external_ews_url, &s.internal_ews_url),
            UrlChoice::Internal => (&s.internal_ews_url, &s.external_ews_url),
        };
        first.as_deref().or(second.as_deref())
    }

    /// The `RequestServerVersion` to send (see [`UserSettings::request_version`]),
    /// [`ExchangeVersion::default`] when the server said nothing about its version.
    pub fn version(&self) -> ExchangeVersion {
        self.settings.request_version().unwrap_or_default()
    }

    /// The mailbox's display name.
    pub fn display_name(&self) -> Option<&str> {
        self.settings.display_name.as_deref()
    }

    /// The mailbox's primary SMTP address (the discovered address when the server did not
    /// say).
    pub fn primary_smtp_address(&self) -> &str {
        self.settings
            .smtp_address
            .as_deref()
            .unwrap_or(self.email.as_str())
    }
}

/// Which protocol a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Soap,
    Pox,
}

/// Where a candidate URL came from: the caller's are trusted as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Caller,
    Found,
}

#[derive(Debug, Clone)]
struct Candidate {
    url: Uri,
    protocol: Protocol,
    /// The same host's POX URL, tried when the SOAP one is not there.
    fallback: Option<Uri>,
    source: Source,
}

#[derive(Debug, Clone)]
enum Task {
    Try(Candidate),
    Probe(Uri),
    Srv(String),
}

/// The request being made (and retried).
#[derive(Debug, Clone)]
struct Current {
    task: Task,
    credentials: bool,
    attempts: u32,
    started: Option<Instant>,
}

#[derive(Debug)]
enum Pending {
    Candidate(Candidate),
    Address(EmailAddress),
}

#[derive(Debug)]
enum State {
    Ready,
    InFlight(Current),
    AwaitingToken(Current),
    Sleep(Instant, Current),
    AwaitingSrv(String),
    AwaitingConsent(Pending, Redirect),
    Done(Option<Result<Discovered, DiscoveryError>>),
}

/// One discovery, from an email address to the user's settings. Pure: time comes in as
/// `now`, the driver does the I/O (HTTP, DNS SRV) and asks the caller when told to.
///
/// The candidates, in Microsoft's documented order: the caller's URLs
/// ([`Discovery::urls`]); `https://{domain}/autodiscover/autodiscover.svc` (SOAP, then
/// the same host's `autodiscover.xml` POX when SOAP is not there);
/// `https://autodiscover.{domain}/...` alike; the unauthenticated
/// `http://autodiscover.{domain}/autodiscover/autodiscover.xml` probe, whose redirect is
/// followed only to `https` and which never carries credentials; the DNS SRV records of
/// `_autodiscover._tcp.{domain}` (port 443, lowest priority first, then highest weight).
/// `RedirectAddress` restarts with the new address, `RedirectUrl` asks the new URL, at
/// most [`MAX_HOPS`] redirects; no URL is asked twice for one address; a host outside the
/// trusted domains is asked only as the [`RedirectPolicy`] says. A 401, a refused
/// connection or a missing endpoint moves on to the next candidate; `ServerBusy` (and
/// HTTP 429/503) go through the [`RetryPolicy`].
///
/// The whole driver loop:
///
/// ```
/// # use std::time::Instant;
/// use ews_proto::Credentials;
/// use ews_proto::autodiscover::{Discovery, Step, SrvRecord};
/// use ews_proto::driver::Auth;
/// # fn transport_send(_: http::Request<bytes::Bytes>) -> Result<http::Response<bytes::Bytes>, ews_proto::TransportError> {
/// #     Err(ews_proto::TransportError::new(ews_proto::TransportErrorKind::Connect, "refused"))
/// # }
/// # fn resolve_srv(_: &str) -> Result<Vec<SrvRecord>, std::io::Error> { Ok(vec![]) }
/// let mut auth = Auth::new(Credentials::basic("kim@contoso.com", "Passw0rd-1"));
/// let mut discovery = Discovery::new("kim@contoso.com".parse()?);
/// let result = loop {
///     match discovery.poll(&auth, Instant::now()) {
///         Step::Send { request, .. } => {
///             let outcome = transport_send(request);
///             discovery.handle(outcome, Instant::now());
///         }
///         Step::ResolveSrv { name } => discovery.srv_resolved(resolve_srv(&name)),
///         Step::Confirm(_redirect) => discovery.confirm(false),
///         Step::FetchToken { .. } => discovery.token_fetched(&mut auth, Err("no tokens")),
///         Step::Sleep { until } => std::thread::sleep(until - Instant::now()),
///         Step::Done(result) => break result,
///     }
/// };
/// let error = result.unwrap_err();
/// // Every step is in the error, as a table.
/// assert!(error.to_string().contains("https://autodiscover.contoso.com/autodiscover/autodiscover.svc"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Discovery {
    original: EmailAddress,
    email: EmailAddress,
    caller_urls: Vec<Uri>,
    invalid: Option<UsageError>,
    policy: RedirectPolicy,
    retry: RetryPolicy,
    limits: Limits,
    user_agent: Option<HeaderValue>,
    timeout: Option<Duration>,
    version: ExchangeVersion,
    settings: Vec<UserSettingName>,
    queue: VecDeque<Task>,
    started: bool,
    visited: HashSet<String>,
    addresses: HashSet<String>,
    /// Domains whose hosts (and subdomains') are trusted.
    trusted_domains: Vec<String>,
    /// Hosts the caller consented to.
    trusted_hosts: Vec<String>,
    hops: u32,
    trace: Trace,
    state: State,
}

impl Discovery {
    /// A discovery for `email`, with the default policies: same-domain redirects only,
    /// [`RetryPolicy::default`], [`Limits::default`], `RequestedServerVersion`
    /// `Exchange2010`, the settings [`UserSettingName::DEFAULT`].
    pub fn new(email: EmailAddress) -> Self {
        let domain = domain_of(&email);
        let mut addresses = HashSet::new();
        addresses.insert(email.as_str().to_ascii_lowercase());
        Self {
            original: email.clone(),
            email,
            caller_urls: Vec::new(),
            invalid: None,
            policy: RedirectPolicy::default(),
            retry: RetryPolicy::default(),
            limits: Limits::default(),
            user_agent: None,
            timeout: None,
            version: ExchangeVersion::Exchange2010,
            settings: UserSettingName::DEFAULT.to_vec(),
            queue: VecDeque::new(),
            started: false,
            visited: HashSet::new(),
            addresses,
            trusted_domains: vec![domain],
            trusted_hosts: Vec::new(),
            hops: 0,
            trace: Trace::default(),
            state: State::Ready,
        }
    }

    /// Autodiscover URLs to try first, in order (an SCP lookup's result, a known
    /// server). Each must be an absolute `https` URL (or `http` to a loopback host)
    /// without user info; one ending in `.xml` is asked in POX, any other in SOAP. Their
    /// hosts are trusted. An invalid one ends discovery with [`DiscoveryError::Usage`]
    /// before anything is sent.
    pub fn urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for url in urls {
            match caller_url(url.as_ref()) {
                Ok(uri) => self.caller_urls.push(uri),
                Err(e) => {
                    self.invalid.get_or_insert(e);
                }
            }
        }
        self
    }

    /// Sets the redirect policy.
    pub fn redirect_policy(mut self, policy: RedirectPolicy) -> Self {
        if let RedirectPolicy::Allow(domains) = &policy {
            self.trusted_domains
                .extend(domains.iter().map(|d| normal_host(d)));
        }
        self.policy = policy;
        self
    }

    /// Sets the retry policy (for `ServerBusy`, 429 and 503).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the decoding limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the `User-Agent` of every request.
    pub fn user_agent(mut self, user_agent: HeaderValue) -> Self {
        self.user_agent = Some(user_agent);
        self
    }

    /// Sets the deadline of each exchange (`now + timeout`).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the `RequestedServerVersion` of the SOAP requests (an Autodiscover value:
    /// `Exchange2010` to `Exchange2013_SP1`).
    pub fn requested_version(mut self, version: ExchangeVersion) -> Self {
        self.version = version;
        self
    }

    /// Sets the settings asked for.
    pub fn settings(mut self, settings: &[UserSettingName]) -> Self {
        settings.clone_into(&mut self.settings);
        self
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The next step. After [`Step::Send`] call [`Discovery::handle`], after
    /// [`Step::ResolveSrv`] [`Discovery::srv_resolved`], after [`Step::Confirm`]
    /// [`Discovery::confirm`], after [`Step::FetchToken`] [`Discovery::token_fetched`]
    /// before polling again.
    pub fn poll(&mut self, auth: &Auth, now: Instant) -> Step {
        if !self.started {
            self.started = true;
            if let Some(e) = self.invalid.take() {
                return self.finish(Err(e.into()));
            }
            let mut queue: VecDeque<Task> = self
                .caller_urls
                .iter()
                .map(|url| Task::Try(candidate(url.clone(), Source::Caller)))
                .collect();
            match derived(&domain_of(&self.email)) {
                Ok(found) => queue.extend(found),
                Err(e) => return self.finish(Err(e.into())),
            }
            self.queue = queue;
        }
        match std::mem::replace(&mut self.state, State::Ready) {
            State::Done(result) => {
                self.state = State::Done(None);
                Step::Done(result.unwrap_or_else(|| Err(misuse("polled after discovery ended"))))
            }
            State::Sleep(until, current) if now < until => {
                self.state = State::Sleep(until, current);
                Step::Sleep { until }
            }
            State::Sleep(_, current) => self.send(current, auth, now),
            State::InFlight(_) => self.finish(Err(misuse("polled while a request was in flight"))),
            State::AwaitingSrv(_) => self.finish(Err(misuse("polled before srv_resolved"))),
            State::AwaitingConsent(pending, redirect) => {
                self.state = State::AwaitingConsent(pending, redirect.clone());
                Step::Confirm(redirect)
            }
            State::AwaitingToken(_) if auth.needs_token() => self.finish(Err(misuse(
                "FetchToken was answered without Discovery::token_fetched",
            ))),
            State::AwaitingToken(current) => self.send(current, auth, now),
            State::Ready => self.next(auth, now),
        }
    }

    /// The next task of the queue, to its first step.
    fn next(&mut self, auth: &Auth, now: Instant) -> Step {
        while let Some(task) = self.queue.pop_front() {
            match task {
                Task::Srv(name) => {
                    self.state = State::AwaitingSrv(name.clone());
                    return Step::ResolveSrv { name };
                }
                Task::Probe(url) => {
                    if !self.visit(&url) {
                        continue;
                    }
                    let current = Current {
                        task: Task::Probe(url),
                        credentials: false,
                        attempts: 0,
                        started: None,
                    };
                    return self.send(current, auth, now);
                }
                Task::Try(c) => {
                    let host = host_of(&c.url);
                    if c.source != Source::Caller && !self.trusts(&host) {
                        match self.admit(&host) {
                            Admission::No => return self.refuse(&host, &c.url.to_string()),
                            Admission::Ask => {
                                let redirect = Redirect {
                                    to: shown(&host),
                                    target: shown(&c.url.to_string()),
                                };
                                self.state =
                                    State::AwaitingConsent(Pending::Candidate(c), redirect.clone());
                                return Step::Confirm(redirect);
                            }
                        }
                    }
                    let has_credentials = auth.header().is_some() || auth.needs_token();
                    if has_credentials && auth.check_endpoint(&c.url).is_err() {
                        self.record(
                            &c,
                            false,
                            Outcome::NotSent("credentials over plain http"),
                            None,
                            Action::NextCandidate,
                        );
                        continue;
                    }
                    if !self.visit(&c.url) {
                        continue;
                    }
                    let current = Current {
                        task: Task::Try(c),
                        credentials: has_credentials,
                        attempts: 0,
                        started: None,
                    };
                    if auth.needs_token() {
                        self.state = State::AwaitingToken(current);
                        return Step::FetchToken { refresh: false };
                    }
                    return self.send(current, auth, now);
                }
            }
        }
        self.fail(Reason::Exhausted)
    }

    fn send(&mut self, mut current: Current, auth: &Auth, now: Instant) -> Step {
        let encoded = match &current.task {
            Task::Try(c) => match c.protocol {
                Protocol::Soap => soap_request(&c.url, &self.email, self.version, &self.settings),
                Protocol::Pox => pox_request(&c.url, &self.email),
            },
            Task::Probe(url) => Ok(probe_request(url)),
            Task::Srv(_) => Err(misuse_usage("an SRV lookup is not a request")),
        };
        let mut request = match encoded {
            Ok(r) => r,
            Err(e) => return self.finish(Err(e.into())),
        };
        // The one place credentials are put on a request: candidates the policy admitted.
        let credentials = match (&current.task, auth.header()) {
            (Task::Try(_), Some(value)) if current.credentials => {
                request.headers_mut().insert(AUTHORIZATION, value);
                true
            }
            _ => false,
        };
        current.credentials = credentials;
        if let Some(ua) = &self.user_agent {
            request.headers_mut().insert(USER_AGENT, ua.clone());
        }
        let deadline = self.timeout.and_then(|t| now.checked_add(t));
        if let Some(at) = deadline {
            request.extensions_mut().insert(crate::client::Deadline(at));
        }
        current.attempts += 1;
        current.started.get_or_insert(now);
        self.state = State::InFlight(current);
        Step::Send {
            request,
            deadline,
            credentials,
        }
    }

    /// Hands over the outcome of the last [`Step::Send`].
    pub fn handle(&mut self, outcome: Result<http::Response<Bytes>, TransportError>, now: Instant) {
        let current = match std::mem::replace(&mut self.state, State::Ready) {
            State::InFlight(current) => current,
            other => {
                self.state = other;
                self.finish_later(Err(misuse("handle without a request in flight")));
                return;
            }
        };
        match current.task.clone() {
            Task::Probe(url) => self.handle_probe(&url, outcome),
            Task::Try(c) => self.handle_try(c, current, outcome, now),
            Task::Srv(_) => {}
        }
    }

    fn handle_probe(&mut self, url: &Uri, outcome: Result<http::Response<Bytes>, TransportError>) {
        let target = shown(&url.to_string());
        let record = |this: &mut Self, outcome, action| {
            this.trace.push(TraceRecord {
                kind: StepKind::Probe,
                target: target.clone(),
                credentials: false,
                outcome,
                error_code: None,
                action,
            });
        };
        let response = match outcome {
            Ok(r) => r,
            Err(e) => return record(self, Outcome::Transport(e.kind()), Action::NextCandidate),
        };
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<Uri>().ok());
        let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
        match location.filter(|l| redirect && safe_https(l)) {
            Some(to) => {
                record(
                    self,
                    Outcome::Status(status.as_u16()),
                    Action::Follow(shown(&to.to_string())),
                );
                if self.hop().is_err() {
                    return;
                }
                let soap = soap_twin(&to);
                let c = match soap {
                    Some(soap) => Candidate {
                        url: soap,
                        protocol: Protocol::Soap,
                        fallback: Some(to),
                        source: Source::Found,
                    },
                    None => Candidate {
                        url: to,
                        protocol: Protocol::Pox,
                        fallback: None,
                        source: Source::Found,
                    },
                };
                self.queue.push_front(Task::Try(c));
            }
            // Not a redirect, or one to http (or nowhere): never followed.
            None => record(
                self,
                Outcome::Status(status.as_u16()),
                Action::NextCandidate,
            ),
        }
    }

    fn handle_try(
        &mut self,
        c: Candidate,
        current: Current,
        outcome: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) {
        let creds = current.credentials;
        let response = match outcome {
            Ok(r) => r,
            Err(e) => {
                // The host is not reachable (or not safely): its POX twin would not be either.
                return self.record(
                    &c,
                    creds,
                    Outcome::Transport(e.kind()),
                    None,
                    Action::NextCandidate,
                );
            }
        };
        let status = response.status();
        let code = status.as_u16();
        if matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let error = ServerError::Throttled {
                status,
                retry_after,
                excerpt: Default::default(),
            };
            return self.retry_or_next(c, current, Outcome::Status(code), None, error.into(), now);
        }
        if matches!(code, 401 | 403) {
            // Refused credentials here say nothing of the next candidate.
            return self.record(
                &c,
                creds,
                Outcome::Status(code),
                None,
                Action::NextCandidate,
            );
        }
        if !status.is_success() {
            return self.not_here(c, creds, Outcome::Status(code));
        }
        let decoded = match c.protocol {
            Protocol::Soap => decode_soap(response.body(), &self.limits),
            Protocol::Pox => decode_pox(response.body(), &self.limits),
        };
        let answer = match decoded {
            Ok(a) => a,
            Err(ServerError::Malformed(m)) => {
                return self.not_here(c, creds, Outcome::Malformed(m.kind()));
            }
            Err(_) => return self.not_here(c, creds, Outcome::Status(code)),
        };
        match answer {
            Answer::Settings(settings) => {
                if settings.internal_ews_url.is_none() && settings.external_ews_url.is_none() {
                    return self.not_here(c, creds, Outcome::NotSent("no EWS URL in the answer"));
                }
                self.record(&c, creds, Outcome::Status(code), None, Action::Done);
                let found = Discovered {
                    email: self.email.clone(),
                    autodiscover_url: c.url.to_string(),
                    settings: *settings,
                    trace: self.trace.clone(),
                };
                self.state = State::Done(Some(Ok(found)));
            }
            Answer::RedirectAddress(address) => self.redirect_address(&c, creds, code, &address),
            Answer::RedirectUrl(url) => self.redirect_url(&c, creds, code, &url),
            Answer::Error {
                code: ErrorCode::ServerBusy,
                ..
            } => {
                let error = ServerError::Response(Box::new(ResponseStatus {
                    code: ResponseCode::ErrorServerBusy,
                    ..ResponseStatus::default()
                }));
                self.retry_or_next(
                    c,
                    current,
                    Outcome::Status(code),
                    Some(ErrorCode::ServerBusy),
                    error.into(),
                    now,
                );
            }
            Answer::Error { code: error, .. } => {
                self.record(
                    &c,
                    creds,
                    Outcome::Status(code),
                    Some(error),
                    Action::NextCandidate,
                );
            }
        }
    }

    /// The endpoint is not there (404, a page that is not the answer, ...): the same
    /// host's POX twin, else the next candidate.
    fn not_here(&mut self, mut c: Candidate, creds: bool, outcome: Outcome) {
        match c.fallback.take() {
            Some(pox) => {
                self.record(&c, creds, outcome, None, Action::TryPox);
                self.queue.push_front(Task::Try(Candidate {
                    url: pox,
                    protocol: Protocol::Pox,
                    fallback: None,
                    source: c.source,
                }));
            }
            None => self.record(&c, creds, outcome, None, Action::NextCandidate),
        }
    }

    fn retry_or_next(
        &mut self,
        c: Candidate,
        current: Current,
        outcome: Outcome,
        error_code: Option<ErrorCode>,
        error: Error,
        now: Instant,
    ) {
        let elapsed = current
            .started
            .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        match self
            .retry
            .decide(current.attempts, elapsed, &error, Repeat::Safe)
        {
            Decision::RetryAfter(d) => {
                self.record(
                    &c,
                    current.credentials,
                    outcome,
                    error_code,
                    Action::Retry(d),
                );
                self.state = State::Sleep(now + d, current);
            }
            Decision::GiveUp => {
                self.record(
                    &c,
                    current.credentials,
                    outcome,
                    error_code,
                    Action::NextCandidate,
                );
            }
        }
    }

    fn redirect_address(&mut self, c: &Candidate, creds: bool, status: u16, address: &str) {
        let code = Some(ErrorCode::RedirectAddress);
        let Ok(email) = address.parse::<EmailAddress>() else {
            return self.record(
                c,
                creds,
                Outcome::Malformed(crate::error::MalformedKind::BadValue),
                code,
                Action::NextCandidate,
            );
        };
        self.record(
            c,
            creds,
            Outcome::Status(status),
            code,
            Action::Restart(shown(email.as_str())),
        );
        if self.hop().is_err() {
            return;
        }
        if !self.addresses.insert(email.as_str().to_ascii_lowercase()) {
            self.fail_later(Reason::RedirectLoop {
                to: shown(email.as_str()),
            });
            return;
        }
        let domain = domain_of(&email);
        if self.trusts(&domain) {
            return self.restart(email);
        }
        match self.admit(&domain) {
            Admission::No => {
                self.consent_record(&domain, false);
                self.fail_later(Reason::RedirectRefused { to: shown(&domain) });
            }
            Admission::Ask => {
                let redirect = Redirect {
                    to: shown(&domain),
                    target: shown(email.as_str()),
                };
                self.state = State::AwaitingConsent(Pending::Address(email), redirect);
            }
        }
    }

    /// Starts again for `email`: the caller's URLs, then its domain's candidates.
    fn restart(&mut self, email: EmailAddress) {
        let mut queue: VecDeque<Task> = self
            .caller_urls
            .iter()
            .map(|url| Task::Try(candidate(url.clone(), Source::Caller)))
            .collect();
        match derived(&domain_of(&email)) {
            Ok(found) => queue.extend(found),
            Err(e) => return self.finish_later(Err(e.into())),
        }
        self.email = email;
        self.queue = queue;
    }

    fn redirect_url(&mut self, c: &Candidate, creds: bool, status: u16, url: &str) {
        let code = Some(ErrorCode::RedirectUrl);
        let to = match url.parse::<Uri>() {
            Ok(to) if safe_https(&to) => to,
            _ => {
                return self.record(
                    c,
                    creds,
                    Outcome::Malformed(crate::error::MalformedKind::BadValue),
                    code,
                    Action::NextCandidate,
                );
            }
        };
        self.record(
            c,
            creds,
            Outcome::Status(status),
            code,
            Action::Follow(shown(&to.to_string())),
        );
        if self.hop().is_err() {
            return;
        }
        if self.visited.contains(&self.visit_key(&to)) {
            self.fail_later(Reason::RedirectLoop {
                to: shown(&to.to_string()),
            });
            return;
        }
        self.queue.push_front(Task::Try(Candidate {
            url: to,
            protocol: c.protocol,
            fallback: None,
            source: Source::Found,
        }));
    }

    /// Hands over the SRV records of the last [`Step::ResolveSrv`] (or the resolver's
    /// failure).
    pub fn srv_resolved<E: std::fmt::Display>(&mut self, records: Result<Vec<SrvRecord>, E>) {
        let name = match std::mem::replace(&mut self.state, State::Ready) {
            State::AwaitingSrv(name) => name,
            other => {
                self.state = other;
                return self.finish_later(Err(misuse("srv_resolved without a lookup")));
            }
        };
        let record = |this: &mut Self, outcome, action| {
            this.trace.push(TraceRecord {
                kind: StepKind::Srv,
                target: shown(&name),
                credentials: false,
                outcome,
                error_code: None,
                action,
            });
        };
        let records = match records {
            Ok(r) => r,
            Err(e) => {
                return record(
                    self,
                    Outcome::ResolveFailed(shown(&e.to_string())),
                    Action::NextCandidate,
                );
            }
        };
        let targets = srv_targets(&records);
        let found: Vec<Task> = targets
            .iter()
            .filter_map(|host| {
                let soap = format!("https://{host}/autodiscover/autodiscover.svc")
                    .parse()
                    .ok()?;
                let pox = format!("https://{host}/autodiscover/autodiscover.xml")
                    .parse()
                    .ok()?;
                Some(Task::Try(Candidate {
                    url: soap,
                    protocol: Protocol::Soap,
                    fallback: Some(pox),
                    source: Source::Found,
                }))
            })
            .collect();
        let action = if found.is_empty() {
            Action::NextCandidate
        } else {
            Action::TryTargets(found.len())
        };
        record(self, Outcome::Records(records.len()), action);
        for task in found.into_iter().rev() {
            self.queue.push_front(task);
        }
    }

    /// The caller's answer to the last [`Step::Confirm`]: `true` trusts the host (or
    /// domain) for the rest of this discovery, `false` ends it with
    /// [`Reason::RedirectRefused`].
    pub fn confirm(&mut self, allowed: bool) {
        let (pending, redirect) = match std::mem::replace(&mut self.state, State::Ready) {
            State::AwaitingConsent(pending, redirect) => (pending, redirect),
            other => {
                self.state = other;
                return self.finish_later(Err(misuse("confirm without a Confirm step")));
            }
        };
        self.consent_record(&redirect.to, allowed);
        if !allowed {
            return self.fail_later(Reason::RedirectRefused { to: redirect.to });
        }
        match pending {
            Pending::Candidate(c) => {
                self.trusted_hosts.push(host_of(&c.url));
                self.queue.push_front(Task::Try(c));
            }
            Pending::Address(email) => {
                self.trusted_domains.push(domain_of(&email));
                self.restart(email);
            }
        }
    }

    /// Hands over the token provider's answer to [`Step::FetchToken`].
    pub fn token_fetched<E>(&mut self, auth: &mut Auth, fetched: Result<Secret<String>, E>)
    where
        E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    {
        let error: Box<dyn std::error::Error + Send + Sync> = match fetched {
            Ok(token) => match auth.set_token(token) {
                Ok(()) => return,
                Err(e) => Box::new(e),
            },
            Err(e) => e.into(),
        };
        self.state = State::Done(Some(Err(DiscoveryError::TokenProvider(error))));
    }

    fn consent_record(&mut self, to: &str, allowed: bool) {
        self.trace.push(TraceRecord {
            kind: StepKind::Consent,
            target: shown(to),
            credentials: false,
            outcome: Outcome::Consent(allowed),
            error_code: None,
            action: if allowed {
                Action::NextCandidate
            } else {
                Action::Stop
            },
        });
    }

    fn record(
        &mut self,
        c: &Candidate,
        credentials: bool,
        outcome: Outcome,
        error_code: Option<ErrorCode>,
        action: Action,
    ) {
        self.trace.push(TraceRecord {
            kind: match c.protocol {
                Protocol::Soap => StepKind::Soap,
                Protocol::Pox => StepKind::Pox,
            },
            target: shown(&c.url.to_string()),
            credentials,
            outcome,
            error_code,
            action,
        });
    }

    /// Marks `url` asked for the current address; `false` if it was already.
    fn visit(&mut self, url: &Uri) -> bool {
        let key = self.visit_key(url);
        self.visited.insert(key)
    }

    fn visit_key(&self, url: &Uri) -> String {
        format!("{} {}", self.email.as_str(), url).to_ascii_lowercase()
    }

    /// Counts a redirect; past [`MAX_HOPS`] ends discovery.
    fn hop(&mut self) -> Result<(), ()> {
        self.hops += 1;
        if self.hops > MAX_HOPS {
            self.fail_later(Reason::TooManyRedirects { max: MAX_HOPS });
            return Err(());
        }
        Ok(())
    }

    fn trusts(&self, host: &str) -> bool {
        self.trusted_hosts.iter().any(|h| h == host)
            || self.trusted_domains.iter().any(|d| {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|p| p.ends_with('.'))
            })
    }

    fn admit(&self, _host: &str) -> Admission {
        match self.policy {
            // An allowed domain is trusted already (`redirect_policy`).
            RedirectPolicy::SameDomain | RedirectPolicy::Allow(_) => Admission::No,
            RedirectPolicy::Ask => Admission::Ask,
        }
    }

    fn refuse(&mut self, host: &str, _target: &str) -> Step {
        self.consent_record(host, false);
        self.fail(Reason::RedirectRefused { to: shown(host) })
    }

    fn failure(&self, reason: Reason) -> DiscoveryError {
        let failure = Box::new(Failure {
            reason,
            trace: self.trace.clone(),
        });
        // Only transport failures, never an answer: nobody answered.
        let answered = self
            .trace
            .0
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Status(_) | Outcome::Malformed(_)));
        if answered || !matches!(failure.reason, Reason::Exhausted) {
            DiscoveryError::Server(failure)
        } else {
            DiscoveryError::Transport(failure)
        }
    }

    fn fail(&mut self, reason: Reason) -> Step {
        let error = self.failure(reason);
        self.finish(Err(error))
    }

    fn fail_later(&mut self, reason: Reason) {
        let error = self.failure(reason);
        self.finish_later(Err(error));
    }

    fn finish(&mut self, result: Result<Discovered, DiscoveryError>) -> Step {
        self.state = State::Done(None);
        Step::Done(result)
    }

    fn finish_later(&mut self, result: Result<Discovered, DiscoveryError>) {
        self.state = State::Done(Some(result));
    }

    /// The address discovery started from (before any `RedirectAddress`).
    pub fn original_email(&self) -> &EmailAddress {
        &self.original
    }
}

enum Admission {
    No,
    Ask,
}

/// The SRV targets to try: port 443 only, lowest priority first, then highest weight;
/// each host once.
pub(crate) fn srv_targets(records: &[SrvRecord]) -> Vec<String> {
    let mut usable: Vec<&SrvRecord> = records.iter().filter(|r| r.port == 443).collect();
    usable.sort_by(|a, b| a.priority.cmp(&b.priority).then(b.weight.cmp(&a.weight)));
    let mut hosts: Vec<String> = Vec::new();
    for r in usable {
        let host = normal_host(&r.target);
        if !host.is_empty() && !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// A caller's URL as a candidate: `.xml` is POX, anything else SOAP (with the POX twin
/// of an `autodiscover.svc`).
fn candidate(url: Uri, source: Source) -> Candidate {
    let path = url.path().to_ascii_lowercase();
    if path.ends_with(".xml") {
        return Candidate {
            url,
            protocol: Protocol::Pox,
            fallback: None,
            source,
        };
    }
    let fallback = if path.ends_with("/autodiscover.svc") {
        let s = url.to_string();
        s.get(..s.len() - 4)
            .and_then(|stem| format!("{stem}.xml").parse().ok())
    } else {
        None
    };
    Candidate {
        url,
        protocol: Protocol::Soap,
        fallback,
        source,
    }
}

/// The `autodiscover.svc` next to an `autodiscover.xml` URL.
fn soap_twin(pox: &Uri) -> Option<Uri> {
    let s = pox.to_string();
    let lower = s.to_ascii_lowercase();
    if !pox
        .path()
        .to_ascii_lowercase()
        .ends_with("/autodiscover.xml")
        || pox.query().is_some()
    {
        return None;
    }
    let stem = s.get(..lower.len() - 4)?;
    format!("{stem}.svc").parse().ok()
}

/// The candidates derived from `domain`, in order.
fn derived(domain: &str) -> Result<Vec<Task>, UsageError> {
    let uri = |s: String| {
        s.parse::<Uri>().map_err(|_| UsageError::InvalidValue {
            kind: "e-mail address",
            reason: "its domain cannot be a host name",
        })
    };
    let mut tasks = Vec::new();
    for host in [domain.to_owned(), format!("autodiscover.{domain}")] {
        tasks.push(Task::Try(Candidate {
            url: uri(format!("https://{host}/autodiscover/autodiscover.svc"))?,
            protocol: Protocol::Soap,
            fallback: Some(uri(format!(
                "https://{host}/autodiscover/autodiscover.xml"
            ))?),
            source: Source::Found,
        }));
    }
    tasks.push(Task::Probe(uri(format!(
        "http://autodiscover.{domain}/autodiscover/autodiscover.xml"
    ))?));
    tasks.push(Task::Srv(format!("_autodiscover._tcp.{domain}")));
    Ok(tasks)
}

fn caller_url(s: &str) -> Result<Uri, UsageError> {
    let bad = || UsageError::InvalidEndpoint(shown(s));
    let uri: Uri = s.parse().map_err(|_| bad())?;
    let loopback_http = uri.scheme_str() == Some("http")
        && uri.host().is_some_and(|h| {
            h.eq_ignore_ascii_case("localhost")
                || h.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
    if !(safe_https(&uri) || loopback_http && !has_user_info(&uri)) {
        return Err(bad());
    }
    Ok(uri)
}

/// An absolute `https` URL with a host and no user info.
fn safe_https(uri: &Uri) -> bool {
    uri.scheme_str() == Some("https")
        && uri.host().is_some_and(|h| !h.is_empty())
        && !has_user_info(uri)
}

fn has_user_info(uri: &Uri) -> bool {
    uri.authority().is_some_and(|a| a.as_str().contains('@'))
}

fn host_of(uri: &Uri) -> String {
    normal_host(uri.host().unwrap_or_default())
}

fn normal_host(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn domain_of(email: &EmailAddress) -> String {
    let s = email.as_str();
    normal_host(s.rsplit_once('@').map_or(s, |(_, d)| d))
}

fn misuse_usage(reason: &'static str) -> UsageError {
    UsageError::InvalidValue {
        kind: "autodiscover driver",
        reason,
    }
}

fn misuse(reason: &'static str) -> DiscoveryError {
    misuse_usage(reason).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_targets_are_port_443_by_priority_then_weight() {
        let records = [
            SrvRecord::new(10, 5, 443, "c.contoso.com."),
            SrvRecord::new(0, 1, 443, "b.contoso.com"),
            SrvRecord::new(0, 9, 443, "a.contoso.com"),
            SrvRecord::new(0, 100, 8443, "wrong-port.contoso.com"),
            SrvRecord::new(5, 0, 443, "A.CONTOSO.COM"),
        ];
        assert_eq!(
            srv_targets(&records),
            ["a.contoso.com", "b.contoso.com", "c.contoso.com"]
        );
    }

    #[test]
    fn derived_candidates_follow_the_documented_order() {
        let tasks = derived("contoso.com").unwrap();
        let shown: Vec<String> = tasks
            .iter()
            .map(|t| match t {
                Task::Try(c) => format!("{:?} {}", c.protocol, c.url),
                Task::Probe(u) => format!("probe {u}"),
                Task::Srv(n) => format!("srv {n}"),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "Soap https://contoso.com/autodiscover/autodiscover.svc",
                "Soap https://autodiscover.contoso.com/autodiscover/autodiscover.svc",
                "probe http://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                "srv _autodiscover._tcp.contoso.com",
            ]
        );
    }

    #[test]
    fn trust_is_the_domain_its_subdomains_and_consented_hosts() {
        let d = Discovery::new("kim@contoso.com".parse().unwrap());
        assert!(d.trusts("contoso.com"));
        assert!(d.trusts("autodiscover.contoso.com"));
        assert!(!d.trusts("evilcontoso.com"));
        assert!(!d.trusts("contoso.com.evil.net"));
        let d = d.redirect_policy(RedirectPolicy::Allow(vec!["Fabrikam.com.".into()]));
        assert!(d.trusts("mail.fabrikam.com"));
    }

    #[test]
    fn soap_and_pox_twins() {
        let pox: Uri = "https://x.contoso.com/Autodiscover/Autodiscover.xml"
            .parse()
            .unwrap();
        assert_eq!(
            soap_twin(&pox).unwrap().to_string(),
            "https://x.contoso.com/Autodiscover/Autodiscover.svc"
        );
        let c = candidate(
            "https://x.contoso.com/autodiscover/autodiscover.svc"
                .parse()
                .unwrap(),
            Source::Caller,
        );
        assert_eq!(
            c.fallback.unwrap().to_string(),
            "https://x.contoso.com/autodiscover/autodiscover.xml"
        );
        assert!(caller_url("http://mail.contoso.com/autodiscover/autodiscover.svc").is_err());
        assert!(caller_url("https://u:p@mail.contoso.com/autodiscover/autodiscover.svc").is_err());
        assert!(caller_url("http://127.0.0.1:8080/autodiscover/autodiscover.svc").is_ok());
    }
}
