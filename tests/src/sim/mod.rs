//! The loopback EWS simulator: configuration, the [`Simulator`] handle and its controls.
//!
//! Served: AddDelegate, GetDelegate, UpdateDelegate, RemoveDelegate, GetFolder (the
//! distinguished folders, see `ops/folder.rs`), CreateItem (calendar items, messages,
//! CancelCalendarItem, AcceptItem, TentativelyAcceptItem, DeclineItem), GetItem, FindItem
//! (paging, CalendarView, Restriction and SortOrder, see `ops/restriction.rs`) and
//! DeleteItem. Every other EWS operation gets a not-implemented response message
//! (`ErrorInvalidOperation`, see `ops::not_implemented` for why that code), never a fault
//! a client could take for a version problem.
//!
//! The same simulator runs as the `ews-sim` program (`src/bin/ews-sim.rs`) with a JSON
//! control endpoint under `/_sim/` (`control.rs`) and JSON seeds ([`Seed`]).

pub mod autodiscover;
mod control;
mod faults;
mod ntlm;
mod ops;
mod schema;
mod seed;
mod server;
mod soap;
mod state;
mod throttle;
mod tls;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

pub use faults::Fault;
pub use ntlm::{ExtendedProtection, WindowsAuth, WindowsSchemes};
pub use seed::{Seed, SeedDelegate, SeedItem, SeedPermissions, SeedReport, SeedUser};
pub use state::{
    Address, DelegateSnapshot, ItemKind, ItemSnapshot, MailboxSnapshot, PermissionLevel,
    Permissions,
};
pub use throttle::{BusyEvery, ConcurrencyReport, GateViolation, MailboxOverlap, Throttling};

/// One account of the simulated organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// Primary SMTP address (also the Basic user name; the local part is accepted too).
    pub smtp: String,
    /// Display name.
    pub display_name: String,
    /// Security identifier, e.g. `S-1-5-21-1111111111-2222222222-333333333-1116`.
    pub sid: String,
    /// Basic authentication password.
    pub password: String,
    /// Bearer token (None: this user cannot authenticate with a token).
    pub token: Option<String>,
}

impl SimUser {
    /// A user with the given SMTP address, display name, SID, password and token.
    pub fn new(smtp: &str, display_name: &str, sid: &str, password: &str, token: &str) -> Self {
        SimUser {
            smtp: smtp.to_string(),
            display_name: display_name.to_string(),
            sid: sid.to_string(),
            password: password.to_string(),
            token: Some(token.to_string()),
        }
    }
}

/// How the simulator's responses look on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerStyle {
    /// Exchange 2013 and later: `s:` envelope prefix and
    /// `<h:ServerVersionInfo MajorVersion="15" ... Version="V2017_07_11" xmlns:h=... xmlns=...>`.
    #[default]
    Exchange2013,
    /// Exchange 2010 SP2: `soap:` envelope prefix and
    /// `<t:ServerVersionInfo MajorVersion="14" ... Version="Exchange2010_SP2">`.
    Exchange2010,
}

/// Which prefixes the response body uses for the messages and types namespaces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BodyPrefixes {
    /// `m:` and `t:`, as Exchange writes them.
    #[default]
    Standard,
    /// Messages elements in the default namespace (no prefix), types elements `t:`.
    DefaultNamespace,
    /// Any prefixes (an empty string means the default namespace; they must differ).
    Custom {
        /// Prefix for the messages namespace.
        messages: String,
        /// Prefix for the types namespace.
        types: String,
    },
}

/// Simulator configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The accounts.
    pub users: Vec<SimUser>,
    /// SMTP addresses of the accounts that hold the ApplicationImpersonation right.
    pub impersonators: Vec<String>,
    /// Response style.
    pub style: ServerStyle,
    /// Body namespace prefixes.
    pub prefixes: BodyPrefixes,
    /// Serve HTTPS with a freshly generated CA and server certificate.
    pub tls: bool,
    /// Reject requests without a RequestServerVersion header (ErrorInvalidServerVersion).
    pub require_server_version: bool,
    /// Realm announced in `WWW-Authenticate: Basic realm="..."`.
    pub realm: String,
    /// Largest request body accepted (bigger ones get HTTP 413).
    pub max_request_bytes: usize,
    /// How long a meeting request or cancellation takes to reach an attendee's inbox
    /// (Exchange delivers mail asynchronously). Default: zero, delivered at once.
    pub delivery_delay: std::time::Duration,
    /// Loopback port to listen on (0, the default: any free port).
    pub port: u16,
    /// Fixed item ids and a fixed clock (the default): item N of a run always has the
    /// same id, and the clock starts at 2025-01-01T00:00:00Z and moves one second per
    /// stored item. Otherwise times are the wall clock (UTC) and ids carry a tag of the
    /// run. Request ids (`request-id`) are numbered either way; TLS keys are always fresh.
    pub deterministic: bool,
    /// Delegates, meeting settings, extra accounts and items put in at start, and again
    /// by [`Simulator::reset`].
    pub seed: Seed,
    /// Windows-integrated authentication (NTLM / Negotiate, per connection, as IIS): when
    /// set, a `401` offers these schemes instead of Basic and Bearer (which are still
    /// accepted). `None` (the default): Basic and Bearer only.
    pub windows: Option<WindowsAuth>,
    /// Service time, the per-caller concurrency limit and periodic `ErrorServerBusy`
    /// (see [`Throttling`]). Default: none of them.
    pub throttling: Throttling,
}

impl SimConfig {
    /// The standard test organisation: user1..user4@example.com (passwords `Passw0rd-1`..,
    /// tokens `token-user1`.., SIDs `S-1-5-21-1111111111-2222222222-333333333-1116`..1119)
    /// plus the service account `admin@example.com` (password `AdminPassw0rd`, token
    /// `token-admin`), which holds the impersonation right.
    pub fn seed() -> Self {
        let mut users: Vec<SimUser> = (1..=4)
            .map(|n| {
                SimUser::new(
                    &format!("user{n}@example.com"),
                    &format!("User{n}"),
                    &format!("S-1-5-21-1111111111-2222222222-333333333-{}", 1115 + n),
                    &format!("Passw0rd-{n}"),
                    &format!("token-user{n}"),
                )
            })
            .collect();
        users.push(SimUser::new(
            "admin@example.com",
            "EWS Service Account",
            "S-1-5-21-1111111111-2222222222-333333333-1500",
            "AdminPassw0rd",
            "token-admin",
        ));
        SimConfig {
            users,
            impersonators: vec!["admin@example.com".to_string()],
            style: ServerStyle::Exchange2013,
            prefixes: BodyPrefixes::Standard,
            tls: false,
            require_server_version: true,
            realm: "ews.example.com".to_string(),
            max_request_bytes: 8 * 1024 * 1024,
            delivery_delay: std::time::Duration::ZERO,
            port: 0,
            deterministic: true,
            seed: Seed::default(),
            windows: None,
            throttling: Throttling::default(),
        }
    }

    /// Sleeps `service_time` before each EWS operation runs ([`Throttling::service_time`]).
    pub fn with_service_time(mut self, service_time: std::time::Duration) -> Self {
        self.throttling.service_time = service_time;
        self
    }

    /// Answers `ErrorExceededConnectionCount` to a caller's request beyond `limit` in
    /// flight ([`Throttling::max_concurrency`]).
    pub fn with_max_concurrency(mut self, limit: u32) -> Self {
        self.throttling.max_concurrency = Some(limit);
        self
    }

    /// Answers every `every`-th request of a caller `ErrorServerBusy` with
    /// `BackOffMilliseconds` `back_off_ms` ([`Throttling::busy_every`]).
    pub fn with_busy_every(mut self, every: u64, back_off_ms: u64) -> Self {
        self.throttling.busy_every = Some(BusyEvery {
            every: every.max(1),
            back_off_ms,
        });
        self
    }

    /// Serves on `n` threads (default 1: one thread serves every connection in turn);
    /// more let a benchmark's simulator keep up with many clients at once.
    pub fn with_worker_threads(mut self, n: usize) -> Self {
        self.throttling.worker_threads = n;
        self
    }

    /// How long after a busy answer other requests count as in transit
    /// ([`Throttling::gate_grace`]).
    pub fn with_gate_grace(mut self, grace: std::time::Duration) -> Self {
        self.throttling.gate_grace = grace;
        self
    }

    /// Windows-integrated authentication (see [`SimConfig::windows`]).
    pub fn with_windows_auth(mut self, windows: WindowsAuth) -> Self {
        self.windows = Some(windows);
        self
    }

    /// Listens on this loopback port (0: any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Fixed ids and clock (`true`, the default) or the wall clock and per-run ids.
    pub fn with_deterministic(mut self, deterministic: bool) -> Self {
        self.deterministic = deterministic;
        self
    }

    /// Puts `seed` in at start (and again on [`Simulator::reset`]).
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the response style.
    pub fn with_style(mut self, style: ServerStyle) -> Self {
        self.style = style;
        self
    }

    /// Sets the body prefixes.
    pub fn with_prefixes(mut self, prefixes: BodyPrefixes) -> Self {
        self.prefixes = prefixes;
        self
    }

    /// Serves HTTPS (self-signed test CA, see [`Simulator::ca_pem`]).
    pub fn with_tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Meeting messages reach inboxes `delay` after they were sent.
    pub fn with_delivery_delay(mut self, delay: std::time::Duration) -> Self {
        self.delivery_delay = delay;
        self
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::seed()
    }
}

/// One HTTP request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Request path (with query).
    pub path: String,
    /// Headers (lower-case names) in arrival order.
    pub headers: Vec<(String, String)>,
    /// Body (lossy UTF-8; empty if it was never read).
    pub body: String,
    /// Local name of the SOAP operation element, if the body had one.
    pub operation: Option<String>,
    /// The authenticated account, if authentication succeeded.
    pub authenticated_as: Option<String>,
    /// The account whose identity was used (the impersonated one, else the caller).
    pub acting_as: Option<String>,
    /// MailboxCulture header value.
    pub mailbox_culture: Option<String>,
    /// TimeZoneContext/TimeZoneDefinition Id.
    pub time_zone: Option<String>,
    /// RequestServerVersion/@Version.
    pub server_version: Option<String>,
    /// HTTP status answered (0 when the connection was closed without an answer).
    pub status: u16,
    /// Name of the injected fault, if one fired ([`Fault::name`]), or of the simulator's
    /// own throttling ([`Throttling`]): `ExceededConnectionCount` (refused beyond the
    /// concurrency limit) or `ServerBusy` (every n-th request).
    pub fault: Option<&'static str>,
    /// The TCP connection the request came on, numbered from 1 per simulator.
    pub connection: u64,
    /// The `request-id` header the simulator answered with (as Exchange does), unique per
    /// simulator: `00000000-0000-4000-8000-` and the request's number in 12 hex digits.
    pub request_id: String,
    /// ResponseCode of a SOAP fault answered, or of the first response message.
    pub response_code: Option<String>,
}

impl RecordedRequest {
    /// Whether the operation ran: answered 200 without a fault, or processed and then cut
    /// off (`CloseAfterProcessing`, `TruncatedContentLength`, `TruncatedXml`,
    /// `OversizedBody`, `Delay`).
    pub fn processed(&self) -> bool {
        match self.fault {
            None => self.status == 200,
            Some(f) => matches!(
                f,
                "CloseAfterProcessing"
                    | "TruncatedContentLength"
                    | "TruncatedXml"
                    | "OversizedBody"
                    | "Delay"
            ),
        }
    }

    /// First value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// State shared between the handle and the server thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) state: Mutex<state::State>,
    pub(crate) faults: Mutex<faults::Faults>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    /// Requests received so far, numbering the `request-id` answered.
    pub(crate) request_count: std::sync::atomic::AtomicU64,
    /// The EWS endpoint's URL (for the control endpoint's description).
    pub(crate) url: String,
    /// TCP connections accepted so far (numbering them).
    pub(crate) connection_count: std::sync::atomic::AtomicU64,
    /// The leaf certificate served (TLS only), DER: what a channel binding must match.
    pub(crate) leaf_der: Option<Vec<u8>>,
    /// Every NTLM AUTHENTICATE checked, in order.
    pub(crate) handshakes: Mutex<Vec<Handshake>>,
    /// Requests in flight per caller and mailbox, the back-off gates, what they showed.
    pub(crate) books: Mutex<throttle::Books>,
}

/// One NTLM AUTHENTICATE the simulator checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The account it named (its SMTP address when known, else the name as sent).
    pub user: String,
    /// The TCP connection it came on.
    pub connection: u64,
    /// `NTLM` or `Negotiate`.
    pub scheme: &'static str,
    /// Why it was refused (`None`: accepted).
    pub refused: Option<&'static str>,
}

impl Shared {
    /// The state as it was at start: the configured accounts, then the configured seed.
    fn initial_state(config: &SimConfig) -> std::io::Result<state::State> {
        let mut st = state::State::new(&config.users, &config.impersonators);
        st.set_deterministic(config.deterministic);
        st.delivery_delay = config.delivery_delay;
        seed::apply(&mut st, &config.seed)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        Ok(st)
    }

    /// Back to the state at start; recorded requests and armed faults are dropped.
    pub(crate) fn reset(&self) {
        // The configured seed was applied once at start, so it applies again.
        if let Ok(st) = Self::initial_state(&self.config) {
            *lock(&self.state) = st;
        }
        lock(&self.faults).clear();
        lock(&self.requests).clear();
        lock(&self.handshakes).clear();
        lock(&self.books).clear();
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not break the others).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running simulator. Dropping it stops the server and joins its thread.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: Option<tls::TlsMaterial>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Starts a simulator on `127.0.0.1:0` in a background thread with its own runtime.
    ///
    /// # Panics
    /// If the loopback socket, the runtime or the test certificate cannot be created
    /// (see [`Simulator::try_start`]).
    pub fn start(config: SimConfig) -> Simulator {
        match Self::try_start(config) {
            Ok(sim) => sim,
            Err(e) => panic!("cannot start the EWS simulator: {e}"),
        }
    }

    /// Starts a simulator, reporting setup errors.
    pub fn try_start(config: SimConfig) -> std::io::Result<Simulator> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let tls = if config.tls {
            Some(tls::TlsMaterial::generate().map_err(std::io::Error::other)?)
        } else {
            None
        };
        let acceptor = match &tls {
            Some(m) => Some(m.acceptor().map_err(std::io::Error::other)?),
            None => None,
        };
        let state = Shared::initial_state(&config)?;
        let url = format!(
            "{}://127.0.0.1:{}/EWS/Exchange.asmx",
            if tls.is_some() { "https" } else { "http" },
            addr.port()
        );
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            faults: Mutex::new(faults::Faults::default()),
            requests: Mutex::new(Vec::new()),
            request_count: std::sync::atomic::AtomicU64::new(0),
            url,
            connection_count: std::sync::atomic::AtomicU64::new(0),
            leaf_der: tls.as_ref().map(|t| t.leaf_der()),
            handshakes: Mutex::new(Vec::new()),
            books: Mutex::new(throttle::Books::default()),
        });
        let runtime = match shared.config.throttling.worker_threads {
            0 | 1 => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            n => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n)
                .enable_all()
                .build()?,
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("ews-sim-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(server::serve(listener, server_shared, acceptor, rx));
                runtime.shutdown_background();
            })?;
        Ok(Simulator {
            shared,
            addr,
            tls,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The EWS endpoint, `http://127.0.0.1:PORT/EWS/Exchange.asmx` (`https://` with TLS).
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    /// The control endpoint (JSON, no authentication, loopback only), on the same port:
    /// `http://127.0.0.1:PORT/_sim/` (`https://` with TLS). See the `control` module.
    pub fn control_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!(
            "{scheme}://127.0.0.1:{}{}",
            self.addr.port(),
            control::PREFIX
        )
    }

    /// Puts a seed into the running simulator (accounts are added or updated, delegates
    /// set, items stored). A seed with a mistake is refused whole, with the reason.
    pub fn seed(&self, seed: &Seed) -> Result<SeedReport, String> {
        let mut st = lock(&self.shared.state);
        st.deliver_due();
        seed::apply(&mut st, seed)
    }

    /// Back to the state at start (the configured accounts and seed): mailboxes,
    /// delegates, tokens and passwords as they were; recorded requests and armed faults
    /// are dropped. Request ids keep counting.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the test CA that signed the server certificate (TLS mode only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    /// PEM of the server (leaf) certificate, valid for `127.0.0.1` and `localhost` (TLS
    /// mode only).
    pub fn cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    /// The configuration the simulator runs with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// All requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The requests for one operation (e.g. `"CreateItem"`).
    pub fn requests_for(&self, operation: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.operation.as_deref() == Some(operation))
            .cloned()
            .collect()
    }

    /// Every NTLM / Negotiate AUTHENTICATE checked so far, oldest first.
    pub fn handshakes(&self) -> Vec<Handshake> {
        lock(&self.shared.handshakes).clone()
    }

    /// The TCP connections on which requests were authenticated as `smtp` (by any scheme).
    pub fn connections_of(&self, smtp: &str) -> std::collections::BTreeSet<u64> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| {
                r.authenticated_as
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(smtp))
            })
            .map(|r| r.connection)
            .collect()
    }

    /// How many TCP connections the simulator accepted.
    pub fn tcp_connections(&self) -> u64 {
        self.shared
            .connection_count
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// What the server saw of its callers' manners: peak in flight per caller, the most
    /// in flight to one mailbox and every overlap, requests sent through a closed
    /// back-off gate, refusals and busy answers (see [`ConcurrencyReport`] and the rules
    /// in [`Throttling`]'s module).
    pub fn concurrency_report(&self) -> ConcurrencyReport {
        lock(&self.shared.books).report()
    }

    /// Authenticated EWS requests in flight now (admitted and not yet answered).
    pub fn in_flight(&self) -> u32 {
        lock(&self.shared.books).in_flight()
    }

    /// Forgets the [`concurrency_report`](Simulator::concurrency_report) (and closes no
    /// gate any more; requests in flight stay counted).
    pub fn clear_concurrency_report(&self) {
        lock(&self.shared.books).clear();
    }

    /// Requests processed so far (answered after their operation ran, or processed and
    /// then cut off by a fault), of `operations`: what a watcher polls cheaply.
    pub fn processed_count(&self, operations: &[&str]) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| {
                r.operation
                    .as_deref()
                    .is_some_and(|op| operations.contains(&op))
                    && r.processed()
            })
            .count()
    }

    /// A snapshot of one mailbox (None for an unknown address).
    pub fn mailbox(&self, smtp: &str) -> Option<MailboxSnapshot> {
        let mut st = lock(&self.shared.state);
        st.deliver_due();
        st.snapshot(smtp)
    }

    /// Snapshots of all mailboxes.
    pub fn mailboxes(&self) -> Vec<MailboxSnapshot> {
        let mut st = lock(&self.shared.state);
        st.deliver_due();
        st.users
            .iter()
            .filter_map(|u| st.snapshot(&u.user.smtp))
            .collect()
    }

    /// From now on, meeting messages reach inboxes `delay` after they were sent.
    pub fn set_delivery_delay(&self, delay: std::time::Duration) {
        lock(&self.shared.state).delivery_delay = delay;
    }

    /// Looks an item up by id in any mailbox.
    pub fn item(&self, id: &str) -> Option<ItemSnapshot> {
        let mut st = lock(&self.shared.state);
        st.deliver_due();
        st.find_item(id).cloned()
    }

    /// Arms `fault` for the next `times` requests of `operation` (`Some("CreateItem")`)
    /// or of any operation (`None`). Faults fire in the order they were armed.
    pub fn inject(&self, operation: Option<&str>, fault: Fault, times: u32) {
        lock(&self.shared.faults).add(operation, fault, times);
    }

    /// Disarms all faults.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// How many fault uses are still armed.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).pending()
    }

    /// Replaces a user's bearer token (the old one stops working at once). Returns false
    /// for an unknown user.
    pub fn rotate_token(&self, smtp: &str, new_token: &str) -> bool {
        self.set_token(smtp, Some(new_token.to_string()))
    }

    /// Expires a user's bearer token: every Bearer request of that user gets 401 until a
    /// new token is set with [`Simulator::rotate_token`].
    pub fn expire_token(&self, smtp: &str) -> bool {
        self.set_token(smtp, None)
    }

    fn set_token(&self, smtp: &str, token: Option<String>) -> bool {
        let mut st = lock(&self.shared.state);
        match st.user_mut(smtp) {
            Some(u) => {
                u.user.token = token;
                true
            }
            None => false,
        }
    }

    /// Changes a user's password.
    pub fn set_password(&self, smtp: &str, password: &str) -> bool {
        let mut st = lock(&self.shared.state);
        match st.user_mut(smtp) {
            Some(u) => {
                u.user.password = password.to_string();
                true
            }
            None => false,
        }
    }

    /// Grants or revokes the impersonation right.
    pub fn set_impersonation_right(&self, smtp: &str, allowed: bool) -> bool {
        let mut st = lock(&self.shared.state);
        match st.user_mut(smtp) {
            Some(u) => {
                u.can_impersonate = allowed;
                true
            }
            None => false,
        }
    }

    /// Sets up a delegate directly (no request), e.g. as a test precondition.
    /// Replaces an existing entry. Returns false for unknown users.
    pub fn set_delegate(&self, principal: &str, delegate: DelegateSnapshot) -> bool {
        let mut st = lock(&self.shared.state);
        if st.user(&delegate.smtp).is_none() {
            return false;
        }
        let Some(mb) = st.mailbox_mut(principal) else {
            return false;
        };
        match mb
            .delegates
            .iter_mut()
            .find(|d| d.smtp.eq_ignore_ascii_case(&delegate.smtp))
        {
            Some(d) => *d = delegate,
            None => mb.delegates.push(delegate),
        }
        true
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
