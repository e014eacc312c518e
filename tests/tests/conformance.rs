//! The conformance suite: ONE table of scenarios, run through every client driver against
//! the loopback simulator.
//!
//! Each scenario is a generic function `fn name<C: ConformanceClient>()`, written once.
//! [`conformance!`] instantiates the whole table as a test module per driver:
//!
//! ```text
//! conformance!(blocking, Blocking);      // ews_blocking::Client
//! conformance!(hyper, Async);            // ews_async::Client (see the marked place below)
//! ```
//!
//! A driver joins by implementing [`ConformanceClient`] (build a client from a
//! [`Config`], run one operation to its end) and adding one `conformance!` line. Scenarios
//! assert outcomes, typed errors and what the simulator saw (request counts, headers,
//! mailbox snapshots), never timings: server delays are kept at 0-50 ms.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ews_proto::error::{Limit, MalformedKind, WriteState};
use ews_proto::{
    AddDelegate, CreateItem, Credentials, DelegateFolder, DelegatePermissions, DelegateUser,
    DeleteItem, DeleteType, DeliverMeetingRequests, DistinguishedFolder, EmailAddress, Error,
    ExchangeVersion, FindItem, FolderId, GetDelegate, GetItem, Impersonation, Item, ItemId,
    LegacyFreeBusyStatus, Mailbox, NewCalendarItem, Operation, Permission, RemoveDelegate, Reply,
    ResponseCode, ResponseMessage, RetryPolicy, Secret, SendMeetingCancellations, ServerError,
    TransportError, TransportErrorKind, UpdateDelegate, UsageError, UserId,
};
use ews_tests::{DelegateSnapshot, Fault, PermissionLevel, Permissions, SimConfig, Simulator};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";

// ---------------------------------------------------------------------------------------
// The driver-independent surface
// ---------------------------------------------------------------------------------------

/// The token provider a scenario hands to a client: `refresh` in, token or error out.
type Tokens = Arc<
    dyn Fn(bool) -> Result<Secret<String>, Box<dyn std::error::Error + Send + Sync>> + Send + Sync,
>;

/// Everything a scenario may configure on a client. Each driver maps it onto its builder.
#[derive(Clone)]
struct Config {
    url: String,
    credentials: Credentials,
    /// Set: Bearer authentication with this provider (overrides `credentials`).
    tokens: Option<Tokens>,
    impersonate: Option<Impersonation>,
    retry_policy: RetryPolicy,
    max_body_bytes: Option<usize>,
    root_pem: Option<Vec<u8>>,
    danger_accept_invalid_certs: bool,
    /// The whole-exchange timeout.
    timeout: Option<Duration>,
    /// The `User-Agent`.
    user_agent: Option<String>,
    /// Fault injection in the built-in transport: reads fail after a request was sent.
    fail_reads: Option<std::io::ErrorKind>,
    /// An HTTP proxy to tunnel through.
    proxy: Option<String>,
}

impl Config {
    /// `user` with Basic authentication (the seed password), fast retries.
    fn basic(sim: &Simulator, user: &str) -> Config {
        let n = user
            .strip_prefix("user")
            .and_then(|s| s.chars().next())
            .unwrap_or('1');
        Config {
            url: sim.url(),
            credentials: Credentials::basic(user, format!("Passw0rd-{n}")),
            tokens: None,
            impersonate: None,
            // Quick exponential delays for failures the server names no delay for.
            retry_policy: RetryPolicy::default()
                .delays(Duration::from_millis(5), Duration::from_millis(20)),
            max_body_bytes: None,
            root_pem: None,
            danger_accept_invalid_certs: false,
            timeout: None,
            user_agent: None,
            fail_reads: None,
            proxy: None,
        }
    }
}

/// A client driver under test: build it from a [`Config`], run one operation.
///
/// `ews_blocking::Client` and `ews_async::Client` share their public surface, so an
/// implementation is a few lines of builder calls (the async one wraps `send` in a
/// runtime's `block_on`).
/// A transport made of a function, for scenarios that look at what a client hands its
/// transport.
type Handler = Arc<
    dyn Fn(http::Request<bytes::Bytes>) -> Result<http::Response<bytes::Bytes>, TransportError>
        + Send
        + Sync,
>;

trait ConformanceClient: Sized {
    /// Builds a client; errors are the builder's.
    fn build(config: Config) -> Result<Self, Error>;

    /// Builds a client whose transport is `handler`.
    fn build_with(config: Config, handler: Handler) -> Result<Self, Error>;

    /// The client's `Debug` output, and its builder's for `config`.
    fn debug(&self, config: Config) -> String;

    /// Runs `op` to its end (retries, token refresh and all).
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send;
}

/// Instantiates every scenario for one driver as a test module.
///
/// Adding a scenario: write `fn name<C: ConformanceClient>()` below and add one line here.
macro_rules! conformance {
    ($module:ident, $client:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn delegate_lifecycle_with_every_error_code() {
                scenarios::delegate_lifecycle_with_every_error_code::<$client>();
            }
            #[test]
            fn only_the_owner_manages_delegates() {
                scenarios::only_the_owner_manages_delegates::<$client>();
            }
            #[test]
            fn meeting_on_behalf_and_its_cancellation() {
                scenarios::meeting_on_behalf_and_its_cancellation::<$client>();
            }
            #[test]
            fn anchor_mailbox_on_every_request_acting_on_another_mailbox() {
                scenarios::anchor_mailbox_on_every_request_acting_on_another_mailbox::<$client>(
                );
            }
            #[test]
            fn impersonation_anchors_every_request() {
                scenarios::impersonation_anchors_every_request::<$client>();
            }
            #[test]
            fn basic_auth() {
                scenarios::basic_auth::<$client>();
            }
            #[test]
            fn bearer_refreshes_once_on_401() {
                scenarios::bearer_refreshes_once_on_401::<$client>();
            }
            #[test]
            fn wrong_credentials_are_a_typed_auth_error() {
                scenarios::wrong_credentials_are_a_typed_auth_error::<$client>();
            }
            #[test]
            fn server_busy_and_throttling_are_retried_with_the_servers_delays() {
                scenarios::server_busy_and_throttling_are_retried_with_the_servers_delays::<
                    $client,
                >();
            }
            #[test]
            fn busy_create_item_is_retried_and_invites_once() {
                scenarios::busy_create_item_is_retried_and_invites_once::<$client>();
            }
            #[test]
            fn lost_answer_to_create_item_is_not_resent_but_get_delegate_is() {
                scenarios::lost_answer_to_create_item_is_not_resent_but_get_delegate_is::<
                    $client,
                >();
            }
            #[test]
            fn connection_closed_before_the_request_is_retried() {
                scenarios::connection_closed_before_the_request_is_retried::<$client>();
            }
            #[test]
            fn oversized_body_is_a_typed_error() {
                scenarios::oversized_body_is_a_typed_error::<$client>();
            }
            #[test]
            fn truncated_bodies_are_typed_errors() {
                scenarios::truncated_bodies_are_typed_errors::<$client>();
            }
            #[test]
            fn html_error_page_is_not_xml() {
                scenarios::html_error_page_is_not_xml::<$client>();
            }
            #[test]
            fn unknown_certificate_is_refused_until_its_ca_is_added() {
                scenarios::unknown_certificate_is_refused_until_its_ca_is_added::<$client>();
            }
            #[test]
            fn a_read_failing_after_a_sent_meeting_never_resends_it() {
                scenarios::a_read_failing_after_a_sent_meeting_never_resends_it::<$client>();
            }
            #[test]
            fn a_server_that_never_reads_ends_in_timeout() {
                scenarios::a_server_that_never_reads_ends_in_timeout::<$client>();
            }
            #[test]
            fn lost_delegate_writes_are_read_back_not_resent() {
                scenarios::lost_delegate_writes_are_read_back_not_resent::<$client>();
            }
            #[test]
            fn credentials_never_travel_in_clear_to_a_remote_host() {
                scenarios::credentials_never_travel_in_clear_to_a_remote_host::<$client>();
            }
            #[test]
            fn header_values_that_cannot_be_sent_are_typed_errors() {
                scenarios::header_values_that_cannot_be_sent_are_typed_errors::<$client>();
            }
            #[test]
            fn a_huge_fault_string_is_bounded_and_escaped() {
                scenarios::a_huge_fault_string_is_bounded_and_escaped::<$client>();
            }
            #[test]
            fn a_server_that_never_answers_times_out() {
                scenarios::a_server_that_never_answers_times_out::<$client>();
            }
            #[test]
            fn the_body_cap_is_the_decoding_limit() {
                scenarios::the_body_cap_is_the_decoding_limit::<$client>();
            }
            #[test]
            fn every_transport_sends_the_user_agent() {
                scenarios::every_transport_sends_the_user_agent::<$client>();
            }
            #[test]
            fn a_connect_that_outlasts_the_deadline_is_connect() {
                scenarios::a_connect_that_outlasts_the_deadline_is_connect::<$client>();
            }
            #[test]
            fn connections_are_pooled_and_reused() {
                scenarios::connections_are_pooled_and_reused::<$client>();
            }
            #[test]
            fn a_failed_connect_is_retried_even_for_a_meeting() {
                scenarios::a_failed_connect_is_retried_even_for_a_meeting::<$client>();
            }
            #[test]
            fn https_to_a_plain_http_server_fails_before_sending() {
                scenarios::https_to_a_plain_http_server_fails_before_sending::<$client>();
            }
            #[test]
            fn a_server_asking_for_too_long_a_wait_ends_the_call() {
                scenarios::a_server_asking_for_too_long_a_wait_ends_the_call::<$client>();
            }
            #[test]
            fn debug_output_never_shows_a_secret() {
                scenarios::debug_output_never_shows_a_secret::<$client>();
            }
            #[test]
            fn a_proxy_tunnels_every_connection() {
                scenarios::a_proxy_tunnels_every_connection::<$client>();
            }
            #[test]
            fn a_request_that_cannot_be_formed_is_attempted_once() {
                scenarios::a_request_that_cannot_be_formed_is_attempted_once::<$client>();
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// The drivers
// ---------------------------------------------------------------------------------------

/// `ews_blocking::Client`.
struct Blocking(ews_blocking::Client);

impl ConformanceClient for Blocking {
    fn build(c: Config) -> Result<Self, Error> {
        let mut b = ews_blocking::Client::builder(&c.url)
            .credentials(c.credentials)
            .version(ExchangeVersion::Exchange2013_SP1)
            .retry_policy(c.retry_policy)
            .danger_accept_invalid_certs(c.danger_accept_invalid_certs);
        if let Some(tokens) = c.tokens {
            b = b.token_provider(move |refresh| tokens(refresh));
        }
        if let Some(who) = c.impersonate {
            b = b.impersonate(who);
        }
        if let Some(n) = c.max_body_bytes {
            b = b.max_body_bytes(n);
        }
        if let Some(pem) = &c.root_pem {
            b = b.add_root_certificate_pem(pem)?;
        }
        if let Some(t) = c.timeout {
            b = b.timeout(t);
        }
        if let Some(ua) = &c.user_agent {
            b = b.user_agent(ua);
        }
        if let Some(kind) = c.fail_reads {
            b = b.fail_reads_after_sending(kind);
        }
        if let Some(proxy) = &c.proxy {
            b = b.proxy(proxy);
        }
        b.build().map(Blocking)
    }

    fn debug(&self, c: Config) -> String {
        let mut builder = ews_blocking::Client::builder(&c.url).credentials(c.credentials);
        if let Some(proxy) = &c.proxy {
            builder = builder.proxy(proxy);
        }
        format!("{:?} {builder:?}", self.0)
    }

    fn build_with(c: Config, handler: Handler) -> Result<Self, Error> {
        let mut b = ews_blocking::Client::builder(&c.url)
            .credentials(c.credentials)
            .retry_policy(c.retry_policy)
            .transport(ews_blocking::FnTransport::new(move |r| handler(r)));
        if let Some(ua) = &c.user_agent {
            b = b.user_agent(ua);
        }
        b.build().map(Blocking)
    }

    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.0.send(op)
    }
}

conformance!(blocking, Blocking);

// >>> ASYNC DRIVER: `ews_async::Client`. <<<

/// `ews_async::Client`, driven by its own current-thread tokio runtime (the client's
/// pooled connections live on it between calls; the client is dropped first).
struct Async(ews_async::Client, tokio::runtime::Runtime);

impl ConformanceClient for Async {
    fn build(c: Config) -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut b = ews_async::Client::builder(&c.url)
            .credentials(c.credentials)
            .version(ExchangeVersion::Exchange2013_SP1)
            .retry_policy(c.retry_policy)
            .danger_accept_invalid_certs(c.danger_accept_invalid_certs);
        if let Some(tokens) = c.tokens {
            b = b.token_provider(move |refresh| {
                let token = tokens(refresh);
                async move { token }
            });
        }
        if let Some(who) = c.impersonate {
            b = b.impersonate(who);
        }
        if let Some(n) = c.max_body_bytes {
            b = b.max_body_bytes(n);
        }
        if let Some(pem) = &c.root_pem {
            b = b.add_root_certificate_pem(pem)?;
        }
        if let Some(t) = c.timeout {
            b = b.timeout(t);
        }
        if let Some(ua) = &c.user_agent {
            b = b.user_agent(ua);
        }
        if let Some(kind) = c.fail_reads {
            b = b.fail_reads_after_sending(kind);
        }
        if let Some(proxy) = &c.proxy {
            b = b.proxy(proxy);
        }
        let client = {
            let _guard = rt.enter();
            b.build()?
        };
        Ok(Async(client, rt))
    }

    fn debug(&self, c: Config) -> String {
        let mut builder = ews_async::Client::builder(&c.url).credentials(c.credentials);
        if let Some(proxy) = &c.proxy {
            builder = builder.proxy(proxy);
        }
        format!("{:?} {builder:?}", self.0)
    }

    fn build_with(c: Config, handler: Handler) -> Result<Self, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut b = ews_async::Client::builder(&c.url)
            .credentials(c.credentials)
            .retry_policy(c.retry_policy)
            .transport(ews_async::FnTransport::new(move |r| {
                let answer = handler(r);
                async move { answer }
            }));
        if let Some(ua) = &c.user_agent {
            b = b.user_agent(ua);
        }
        Ok(Async(b.build()?, rt))
    }

    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.1.block_on(self.0.send(op))
    }
}

conformance!(hyper, Async);

// ---------------------------------------------------------------------------------------
// The scenarios
// ---------------------------------------------------------------------------------------

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

fn client<C: ConformanceClient>(config: Config) -> C {
    C::build(config).expect("the client builds")
}

/// The seed delegate: Calendar Author, Contacts Reviewer.
fn seed_delegate(user: &str) -> DelegateUser {
    DelegateUser::new(UserId::smtp(addr(user)))
        .permissions(
            DelegatePermissions::new()
                .calendar(Permission::Author)
                .contacts(Permission::Reviewer),
        )
        .receive_copies_of_meeting_messages(false)
        .view_private_items(false)
}

/// Makes `delegate` a Calendar Author of `principal` directly in the simulator.
fn make_delegate(sim: &Simulator, principal: &str, delegate: &str) {
    assert!(sim.set_delegate(
        principal,
        DelegateSnapshot {
            smtp: delegate.to_owned(),
            permissions: Permissions {
                calendar: PermissionLevel::Author,
                ..Permissions::default()
            },
            receive_copies_of_meeting_messages: false,
            view_private_items: false,
        }
    ));
}

fn meeting(subject: &str) -> NewCalendarItem {
    NewCalendarItem::new(
        subject,
        "2025-06-02T15:00:00Z".parse().expect("start"),
        "2025-06-02T16:00:00Z".parse().expect("end"),
    )
    .expect("start is not after end")
    .free_busy(LegacyFreeBusyStatus::Busy)
    .required_attendee(Mailbox::new(addr(U3)))
}

fn codes<T>(messages: &[ResponseMessage<T>]) -> Vec<&str> {
    messages.iter().map(|m| m.status.code.as_str()).collect()
}

fn only<T: Clone>(messages: &[ResponseMessage<T>]) -> T {
    assert_eq!(messages.len(), 1, "one answer expected");
    messages[0].clone().into_result().expect("success")
}

fn transport_kind(result: Result<impl std::fmt::Debug, Error>) -> TransportErrorKind {
    match result {
        Err(Error::Transport(t)) => t.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn invitations(sim: &Simulator, user: &str) -> u32 {
    sim.mailbox(user).expect("mailbox").invitations_received
}

mod scenarios {
    use super::*;

    pub(super) fn delegate_lifecycle_with_every_error_code<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        let add = AddDelegate::new(addr(U1), seed_delegate(U2))
            .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);

        let reply = u1.send(&add).expect("AddDelegate");
        assert_eq!(codes(&reply.body), ["NoError"]);
        assert!(reply.server_version.is_some());
        let again = u1.send(&add).expect("AddDelegate again");
        assert_eq!(codes(&again.body), ["ErrorDelegateAlreadyExists"]);

        // Per-user refusals in one batch, in request order.
        let batch = AddDelegate::new(addr(U1), DelegateUser::new(UserId::smtp(addr(U3))))
            .delegate(DelegateUser::new(UserId::smtp(addr("nobody@example.com"))))
            .delegate(DelegateUser::new(UserId::smtp(addr(U1))));
        let reply = u1.send(&batch).expect("AddDelegate batch");
        assert_eq!(
            codes(&reply.body),
            [
                "NoError",
                "ErrorDelegateNoUser",
                "ErrorDelegateCannotAddOwner"
            ]
        );

        // The reference's fallback: GetDelegate, then UpdateDelegate.
        let got = u1
            .send(&GetDelegate::new(addr(U1)).user(UserId::smtp(addr(U2))))
            .expect("GetDelegate");
        let d = only(&got.body).expect("a delegate");
        assert_eq!(d.user_id.primary_smtp_address(), Some(U2));
        let calendar = d
            .permissions
            .as_ref()
            .and_then(|p| p.level(DelegateFolder::Calendar))
            .map(ToString::to_string);
        assert_eq!(calendar.as_deref(), Some("Author"));
        assert_eq!(
            got.body.deliver_meeting_requests,
            Some(DeliverMeetingRequests::DelegatesAndMe)
        );

        let editor = DelegateUser::new(UserId::smtp(addr(U2)))
            .permissions(DelegatePermissions::new().calendar(Permission::Editor));
        let updated = u1
            .send(&UpdateDelegate::new(addr(U1), editor))
            .expect("UpdateDelegate");
        assert_eq!(codes(&updated.body), ["NoError"]);
        let mb = sim.mailbox(U1).expect("mailbox");
        let u2 = mb.delegates.iter().find(|d| d.smtp == U2).expect("user2");
        assert_eq!(u2.permissions.calendar, PermissionLevel::Editor);

        let not_delegate = u1
            .send(&UpdateDelegate::new(
                addr(U1),
                DelegateUser::new(UserId::smtp(addr(U4))),
            ))
            .expect("UpdateDelegate of a non-delegate");
        assert_eq!(codes(&not_delegate.body), ["ErrorNotDelegate"]);
        let no_user = u1
            .send(&RemoveDelegate::new(
                addr(U1),
                UserId::smtp(addr("nobody@example.com")),
            ))
            .expect("RemoveDelegate of nobody");
        assert_eq!(codes(&no_user.body), ["ErrorDelegateNoUser"]);

        let removed = u1
            .send(
                &RemoveDelegate::new(addr(U1), UserId::smtp(addr(U2))).user(UserId::smtp(addr(U3))),
            )
            .expect("RemoveDelegate");
        assert_eq!(codes(&removed.body), ["NoError", "NoError"]);
        let again = u1
            .send(&RemoveDelegate::new(addr(U1), UserId::smtp(addr(U2))))
            .expect("RemoveDelegate again");
        assert_eq!(codes(&again.body), ["ErrorNotDelegate"]);
        assert!(sim.mailbox(U1).expect("mailbox").delegates.is_empty());
        let none = u1.send(&GetDelegate::new(addr(U1))).expect("GetDelegate");
        assert!(none.body.is_empty());
    }

    pub(super) fn only_the_owner_manages_delegates<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u2 = client::<C>(Config::basic(&sim, U2));
        let refused = u2.send(&AddDelegate::new(addr(U1), seed_delegate(U2)));
        match refused {
            Err(Error::Server(ServerError::Response(status))) => {
                assert_eq!(status.code, ResponseCode::ErrorAccessDenied);
            }
            other => panic!("expected a request-level ErrorAccessDenied, got {other:?}"),
        }
        assert!(sim.mailbox(U1).expect("mailbox").delegates.is_empty());
        // A request-level refusal is final: sent once.
        assert_eq!(sim.requests().len(), 1);
    }

    pub(super) fn meeting_on_behalf_and_its_cancellation<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        make_delegate(&sim, U1, U2);
        let (u2, u3) = (
            client::<C>(Config::basic(&sim, U2)),
            client::<C>(Config::basic(&sim, U3)),
        );

        let created = u2
            .send(&CreateItem::on_behalf_of(
                addr(U1),
                meeting("Delegate appointment"),
            ))
            .expect("CreateItem");
        let saved = only(&created.body).expect("an item id");
        assert_eq!(saved.kind, ews_proto::ItemKind::CalendarItem);
        let id: ItemId = saved.id;
        assert_eq!(invitations(&sim, U3), 1);
        let saved = sim.item(id.id()).expect("the meeting is stored");
        assert_eq!(saved.owner, U1, "saved in the principal's calendar");

        // The attendee's copy: From the principal, Sender the delegate.
        let inbox = u3
            .send(&FindItem::new(FolderId::own(DistinguishedFolder::Inbox)))
            .expect("FindItem");
        let page = only(&inbox.body).expect("a page");
        let invitation = page
            .items
            .iter()
            .find(|i| i.subject() == Some("Delegate appointment"))
            .expect("the invitation");
        let got = u3
            .send(&GetItem::new(invitation.item_id().expect("id").clone()))
            .expect("GetItem");
        let Some(Item::Message(m)) = only(&got.body) else {
            panic!("the invitation is a message");
        };
        assert_eq!(m.from.as_ref().and_then(Mailbox::address), Some(U1));
        assert_eq!(m.sender.as_ref().and_then(Mailbox::address), Some(U2));

        // The delegate cancels it on the principal's behalf.
        let deleted = u2
            .send(
                &DeleteItem::new(id, DeleteType::MoveToDeletedItems)
                    .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy),
            )
            .expect("DeleteItem");
        assert_eq!(codes(&deleted.body), ["NoError"]);
        let attendee = sim.mailbox(U3).expect("mailbox");
        assert_eq!(attendee.cancellations_received, 1);
        assert_eq!(attendee.invitations_received, 1);
        assert!(sim.mailbox(U1).expect("mailbox").calendar.is_empty());

        // Not a delegate any more: refused per item, nothing sent.
        assert!(sim.set_delegate(
            U1,
            DelegateSnapshot {
                smtp: U2.to_owned(),
                permissions: Permissions::default(),
                receive_copies_of_meeting_messages: false,
                view_private_items: false,
            }
        ));
        let refused = u2
            .send(&CreateItem::on_behalf_of(addr(U1), meeting("Second")))
            .expect("CreateItem");
        assert_eq!(codes(&refused.body), ["ErrorAccessDenied"]);
        assert_eq!(invitations(&sim, U3), 1);
    }

    pub(super) fn anchor_mailbox_on_every_request_acting_on_another_mailbox<
        C: ConformanceClient,
    >() {
        let sim = Simulator::start(SimConfig::seed());
        let (u1, u2) = (
            client::<C>(Config::basic(&sim, U1)),
            client::<C>(Config::basic(&sim, U2)),
        );
        u1.send(&AddDelegate::new(addr(U1), seed_delegate(U2)))
            .expect("AddDelegate");
        u1.send(&GetDelegate::new(addr(U1))).expect("GetDelegate");
        u1.send(&UpdateDelegate::new(addr(U1), seed_delegate(U2)))
            .expect("UpdateDelegate");
        let created = u2
            .send(&CreateItem::on_behalf_of(addr(U1), meeting("Anchored")))
            .expect("CreateItem");
        let id: ItemId = only(&created.body).expect("id").id;
        u2.send(&GetItem::new(id.clone()).in_mailbox(addr(U1)))
            .expect("GetItem");
        u2.send(
            &DeleteItem::new(id, DeleteType::MoveToDeletedItems)
                .cancellations(SendMeetingCancellations::SendToNone)
                .in_mailbox(addr(U1)),
        )
        .expect("DeleteItem");
        u1.send(&RemoveDelegate::new(addr(U1), UserId::smtp(addr(U2))))
            .expect("RemoveDelegate");

        let requests = sim.requests();
        assert_eq!(requests.len(), 7);
        for r in &requests {
            assert_eq!(
                r.header("x-anchormailbox"),
                Some(U1),
                "{:?} as {:?}",
                r.operation,
                r.authenticated_as
            );
        }
    }

    pub(super) fn impersonation_anchors_every_request<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.credentials = Credentials::basic("admin@example.com", "AdminPassw0rd");
        config.impersonate = Some(Impersonation::PrimarySmtpAddress(addr(U1)));
        let admin = client::<C>(config);
        let reply = admin
            .send(&AddDelegate::new(addr(U1), seed_delegate(U2)))
            .expect("AddDelegate as user1");
        assert_eq!(codes(&reply.body), ["NoError"]);
        admin
            .send(&FindItem::new(FolderId::own(DistinguishedFolder::Inbox)))
            .expect("FindItem as user1");
        for r in sim.requests() {
            assert_eq!(r.header("x-anchormailbox"), Some(U1));
            assert_eq!(r.acting_as.as_deref(), Some(U1));
            assert_eq!(r.authenticated_as.as_deref(), Some("admin@example.com"));
        }
    }

    pub(super) fn basic_auth<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        u1.send(&GetDelegate::new(addr(U1))).expect("GetDelegate");
        let r = &sim.requests()[0];
        assert_eq!(r.authenticated_as.as_deref(), Some(U1));
        assert!(
            r.header("authorization")
                .is_some_and(|h| h.starts_with("Basic "))
        );
    }

    pub(super) fn bearer_refreshes_once_on_401<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        // The identity provider: hands out its current token and records every call.
        let current = Arc::new(Mutex::new(String::from("token-user1")));
        let calls = Arc::new(Mutex::new(Vec::<bool>::new()));
        let (cur, log) = (Arc::clone(&current), Arc::clone(&calls));
        let mut config = Config::basic(&sim, U1);
        config.tokens = Some(Arc::new(move |refresh| {
            log.lock().expect("log").push(refresh);
            Ok(Secret::from(cur.lock().expect("token").as_str()))
        }));
        let u1 = client::<C>(config);

        u1.send(&GetDelegate::new(addr(U1))).expect("first call");
        u1.send(&GetDelegate::new(addr(U1))).expect("second call");
        assert_eq!(*calls.lock().expect("log"), [false], "one token, reused");

        // The server rotates the token: one 401, one refresh, one resend.
        sim.rotate_token(U1, "token-rotated");
        *current.lock().expect("token") = "token-rotated".to_owned();
        sim.clear_requests();
        u1.send(&GetDelegate::new(addr(U1)))
            .expect("after rotation");
        assert_eq!(*calls.lock().expect("log"), [false, true]);
        let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [401, 200]);

        // Expired, and the provider has nothing newer: the second 401 is final.
        sim.expire_token(U1);
        sim.clear_requests();
        let e = u1.send(&GetDelegate::new(addr(U1)));
        assert!(
            matches!(e, Err(Error::Server(ServerError::Unauthorized { .. }))),
            "{e:?}"
        );
        assert_eq!(*calls.lock().expect("log"), [false, true, true]);
        assert_eq!(sim.requests().len(), 2);
    }

    pub(super) fn wrong_credentials_are_a_typed_auth_error<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.credentials = Credentials::basic(U1, "wrong");
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        match e {
            Err(Error::Server(ServerError::Unauthorized { challenges, .. })) => {
                assert!(
                    challenges.iter().any(|c| c.starts_with("Basic")),
                    "{challenges:?}"
                );
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
        assert_eq!(sim.requests().len(), 1, "a refused password is not retried");

        // A token provider that fails is typed too, and nothing is sent.
        let mut config = Config::basic(&sim, U1);
        config.tokens = Some(Arc::new(|_| Err("identity provider down".into())));
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        assert!(matches!(e, Err(Error::TokenProvider(_))), "{e:?}");
        assert_eq!(sim.requests().len(), 1);
    }

    pub(super) fn server_busy_and_throttling_are_retried_with_the_servers_delays<
        C: ConformanceClient,
    >() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        sim.inject(
            Some("GetDelegate"),
            Fault::ServerBusy { back_off_ms: 50 },
            1,
        );
        sim.inject(Some("GetDelegate"), Fault::ServerBusy { back_off_ms: 0 }, 1);
        sim.inject(
            Some("GetDelegate"),
            Fault::ServiceUnavailable {
                retry_after_secs: 0,
            },
            1,
        );
        sim.inject(
            Some("GetDelegate"),
            Fault::TooManyRequests {
                retry_after_secs: 0,
            },
            1,
        );
        u1.send(&GetDelegate::new(addr(U1)))
            .expect("succeeds after four refusals");
        let seen: Vec<(u16, Option<&str>)> =
            sim.requests().iter().map(|r| (r.status, r.fault)).collect();
        assert_eq!(
            seen,
            [
                (500, Some("ServerBusy")),
                (500, Some("ServerBusy")),
                (503, Some("ServiceUnavailable")),
                (429, Some("TooManyRequests")),
                (200, None),
            ]
        );

        // The policy's attempt limit ends a longer refusal with the server's error.
        sim.clear_requests();
        sim.inject(
            Some("GetDelegate"),
            Fault::ServerBusy { back_off_ms: 0 },
            10,
        );
        let mut config = Config::basic(&sim, U1);
        config.retry_policy = config.retry_policy.max_attempts(3);
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        match e {
            Err(Error::Server(ServerError::Fault(f))) => {
                assert_eq!(f.code(), ResponseCode::ErrorServerBusy);
            }
            other => panic!("expected the ErrorServerBusy fault, got {other:?}"),
        }
        assert_eq!(sim.requests().len(), 3);
        sim.clear_faults();
    }

    pub(super) fn busy_create_item_is_retried_and_invites_once<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        make_delegate(&sim, U1, U2);
        let u2 = client::<C>(Config::basic(&sim, U2));
        // ErrorServerBusy proves the request was not processed: even a send is repeated.
        sim.inject(Some("CreateItem"), Fault::ServerBusy { back_off_ms: 0 }, 1);
        sim.inject(
            Some("CreateItem"),
            Fault::ServiceUnavailable {
                retry_after_secs: 0,
            },
            1,
        );
        let created = u2
            .send(&CreateItem::on_behalf_of(addr(U1), meeting("Busy")))
            .expect("CreateItem");
        assert_eq!(codes(&created.body), ["NoError"]);
        assert_eq!(sim.requests_for("CreateItem").len(), 3);
        assert_eq!(invitations(&sim, U3), 1);
    }

    pub(super) fn lost_answer_to_create_item_is_not_resent_but_get_delegate_is<
        C: ConformanceClient,
    >() {
        let sim = Simulator::start(SimConfig::seed());
        make_delegate(&sim, U1, U2);
        let u2 = client::<C>(Config::basic(&sim, U2));
        sim.inject(Some("CreateItem"), Fault::CloseAfterProcessing, 1);
        let e = u2.send(&CreateItem::on_behalf_of(addr(U1), meeting("Lost answer")));
        assert_eq!(transport_kind(e), TransportErrorKind::Io);
        assert_eq!(sim.requests_for("CreateItem").len(), 1, "never resent");
        assert_eq!(invitations(&sim, U3), 1, "one invitation, not two");

        // The same loss for a read: repeated, and it succeeds.
        let u1 = client::<C>(Config::basic(&sim, U1));
        sim.inject(Some("GetDelegate"), Fault::CloseAfterProcessing, 1);
        let got = u1.send(&GetDelegate::new(addr(U1))).expect("retried");
        assert_eq!(got.body.len(), 1);
        assert_eq!(sim.requests_for("GetDelegate").len(), 2);
    }

    pub(super) fn connection_closed_before_the_request_is_retried<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        sim.inject(Some("GetDelegate"), Fault::CloseBeforeRequest, 1);
        u1.send(&GetDelegate::new(addr(U1))).expect("retried");
        let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [0, 200]);
    }

    pub(super) fn oversized_body_is_a_typed_error<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.max_body_bytes = Some(16 * 1024);
        let u1 = client::<C>(config);
        sim.inject(
            Some("GetDelegate"),
            Fault::OversizedBody { bytes: 256 * 1024 },
            1,
        );
        let e = u1.send(&GetDelegate::new(addr(U1)));
        assert!(
            matches!(
                e,
                Err(Error::Server(ServerError::LimitExceeded {
                    limit: Limit::BodySize,
                    max: 16384,
                }))
            ),
            "{e:?}"
        );
        assert_eq!(sim.requests().len(), 1, "a cap is not cured by repeating");
        // Under the cap, the same client works.
        u1.send(&GetDelegate::new(addr(U1))).expect("small answer");
    }

    pub(super) fn truncated_bodies_are_typed_errors<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        make_delegate(&sim, U1, U2);
        let u2 = client::<C>(Config::basic(&sim, U2));
        sim.inject(Some("CreateItem"), Fault::TruncatedContentLength, 1);
        let kind = transport_kind(u2.send(&CreateItem::on_behalf_of(addr(U1), meeting("Cut"))));
        assert_eq!(kind, TransportErrorKind::Truncated);
        assert_eq!(sim.requests_for("CreateItem").len(), 1);
        assert_eq!(invitations(&sim, U3), 1);

        // Well framed, but the XML stops in the middle: a malformed answer, not retried.
        let u1 = client::<C>(Config::basic(&sim, U1));
        sim.inject(Some("GetDelegate"), Fault::TruncatedXml, 1);
        let e = u1.send(&GetDelegate::new(addr(U1)));
        assert!(
            matches!(e, Err(Error::Server(ServerError::Malformed(ref m))) if m.kind() == MalformedKind::Truncated),
            "{e:?}"
        );
        assert_eq!(sim.requests_for("GetDelegate").len(), 1);
    }

    pub(super) fn html_error_page_is_not_xml<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        sim.inject(None, Fault::HtmlErrorPage, 1);
        let e = u1.send(&GetDelegate::new(addr(U1)));
        match e {
            // A 200 whose body is an HTML page: a malformed answer, not XML.
            Err(Error::Server(ServerError::Malformed(m))) => {
                assert_eq!(m.kind(), MalformedKind::NotXml);
                assert!(m.detail().contains("Content-Type \"text/html"), "{m}");
            }
            other => panic!("expected Malformed(NotXml), got {other:?}"),
        }
        assert_eq!(sim.requests().len(), 1);
    }

    pub(super) fn unknown_certificate_is_refused_until_its_ca_is_added<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed().with_tls());
        assert!(sim.url().starts_with("https://"));
        let u1 = client::<C>(Config::basic(&sim, U1));
        let refused = u1.send(&GetDelegate::new(addr(U1)));
        // The message names the cause, not just "connect failed".
        let shown = format!("{}", refused.as_ref().expect_err("refused"));
        assert!(shown.contains("UnknownIssuer"), "{shown}");
        assert_eq!(transport_kind(refused), TransportErrorKind::Tls);
        assert!(sim.requests().is_empty(), "nothing reached the server");

        let mut config = Config::basic(&sim, U1);
        config.root_pem = Some(sim.ca_pem().expect("CA").as_bytes().to_vec());
        let trusted = client::<C>(config);
        trusted
            .send(&GetDelegate::new(addr(U1)))
            .expect("trusted once the CA is added");

        let mut config = Config::basic(&sim, U1);
        config.danger_accept_invalid_certs = true;
        client::<C>(config)
            .send(&GetDelegate::new(addr(U1)))
            .expect("the danger option accepts any certificate");
        assert_eq!(sim.requests().len(), 2);
    }

    pub(super) fn a_read_failing_after_a_sent_meeting_never_resends_it<C: ConformanceClient>() {
        use std::io::ErrorKind as K;
        // Linux reports these on an established socket whose route died: after the
        // request went out they prove nothing about the server.
        for kind in [
            K::HostUnreachable,
            K::NetworkUnreachable,
            K::ConnectionRefused,
        ] {
            let sim = Simulator::start(SimConfig::seed());
            make_delegate(&sim, U1, U2);
            let mut config = Config::basic(&sim, U2);
            config.fail_reads = Some(kind);
            let u2 = client::<C>(config);
            let e = u2.send(&CreateItem::on_behalf_of(addr(U1), meeting("Flaky")));
            assert_eq!(transport_kind(e), TransportErrorKind::Io, "{kind:?}");
            assert_eq!(
                sim.requests_for("CreateItem").len(),
                1,
                "{kind:?}: sent once"
            );
            assert_eq!(invitations(&sim, U3), 1, "{kind:?}: one invitation");
        }
    }

    pub(super) fn a_server_that_never_reads_ends_in_timeout<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        make_delegate(&sim, U1, U2);
        let timeout = Duration::from_secs(1);
        let mut config = Config::basic(&sim, U2);
        config.timeout = Some(timeout);
        let u2 = client::<C>(config);
        sim.inject(
            None,
            Fault::NeverRead {
                hold: Duration::from_secs(10),
            },
            1,
        );
        // 8 MiB: more than the socket buffers hold, so sending blocks.
        let big = meeting("Big").body(ews_proto::Body::text("x".repeat(8 << 20)));
        let started = std::time::Instant::now();
        let e = u2.send(&CreateItem::on_behalf_of(addr(U1), big));
        let took = started.elapsed();
        assert_eq!(transport_kind(e), TransportErrorKind::Timeout);
        // An upper bound only (a hang was 45 s and more): the issue's 1.5x the timeout.
        assert!(took < timeout.mul_f32(1.5), "took {took:?}");
        assert!(
            sim.requests_for("CreateItem").is_empty(),
            "nothing processed"
        );
    }

    pub(super) fn lost_delegate_writes_are_read_back_not_resent<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        let unconfirmed = |r: Result<Reply<ews_proto::DelegateResults>, Error>| match r {
            Err(Error::Unconfirmed(u)) => u,
            other => panic!("expected Unconfirmed, got {other:?}"),
        };

        // Applied, then the connection reset: the read-back says applied; one write.
        sim.inject(Some("AddDelegate"), Fault::CloseAfterProcessing, 1);
        let u = unconfirmed(u1.send(&AddDelegate::new(addr(U1), seed_delegate(U2))));
        assert!(u.all_applied(), "{u}");
        assert_eq!(
            u.state_of(&UserId::smtp(addr(U2))),
            Some(WriteState::Applied)
        );
        assert_eq!(sim.requests_for("AddDelegate").len(), 1);
        assert_eq!(sim.requests_for("GetDelegate").len(), 1);
        assert_eq!(sim.mailbox(U1).expect("mailbox").delegates.len(), 1);

        let editor = DelegateUser::new(UserId::smtp(addr(U2)))
            .permissions(DelegatePermissions::new().calendar(Permission::Editor));
        sim.inject(Some("UpdateDelegate"), Fault::CloseAfterProcessing, 1);
        let u = unconfirmed(u1.send(&UpdateDelegate::new(addr(U1), editor)));
        assert!(u.all_applied(), "{u}");
        assert_eq!(sim.requests_for("UpdateDelegate").len(), 1);

        sim.inject(Some("RemoveDelegate"), Fault::CloseAfterProcessing, 1);
        let u = unconfirmed(u1.send(&RemoveDelegate::new(addr(U1), UserId::smtp(addr(U2)))));
        assert!(u.all_applied(), "{u}");
        assert_eq!(sim.requests_for("RemoveDelegate").len(), 1);
        assert!(sim.mailbox(U1).expect("mailbox").delegates.is_empty());

        // Lost before the server acted: not applied, and still not resent.
        sim.inject(Some("AddDelegate"), Fault::CloseBeforeRequest, 1);
        let u = unconfirmed(u1.send(&AddDelegate::new(addr(U1), seed_delegate(U2))));
        assert_eq!(
            u.state_of(&UserId::smtp(addr(U2))),
            Some(WriteState::NotApplied)
        );
        assert_eq!(
            sim.requests_for("AddDelegate").len(),
            2,
            "one more, not two"
        );
        assert!(sim.mailbox(U1).expect("mailbox").delegates.is_empty());
    }

    pub(super) fn credentials_never_travel_in_clear_to_a_remote_host<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        for url in [
            "http://ews.example.invalid/EWS/Exchange.asmx",
            "http://192.0.2.10/EWS/Exchange.asmx",
        ] {
            let mut config = Config::basic(&sim, U1);
            config.url = url.to_owned();
            match C::build(config) {
                Err(Error::Usage(UsageError::CredentialsOverHttp { .. })) => {}
                Err(other) => panic!("{url}: expected CredentialsOverHttp, got {other:?}"),
                Ok(_) => panic!("{url}: built"),
            }
        }
        // A password in the URL is refused, and not echoed.
        let mut config = Config::basic(&sim, U1);
        config.url = sim.url().replace("://", "://user1:S3cret-pw@");
        match C::build(config) {
            Err(e @ Error::Usage(UsageError::InvalidEndpoint(_))) => {
                assert!(!format!("{e} {e:?}").contains("S3cret"), "{e:?}");
            }
            Err(other) => panic!("expected InvalidEndpoint, got {other:?}"),
            Ok(_) => panic!("built with user info in the URL"),
        }
        // Loopback is fine in clear (the simulator).
        client::<C>(Config::basic(&sim, U1))
            .send(&GetDelegate::new(addr(U1)))
            .expect("loopback over http");
        assert_eq!(sim.requests().len(), 1);
    }

    pub(super) fn header_values_that_cannot_be_sent_are_typed_errors<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.user_agent = Some("probe\r\nX-Injected: yes".to_owned());
        assert!(matches!(C::build(config), Err(Error::Usage(_))));

        let mut config = Config::basic(&sim, U1);
        config.tokens = Some(Arc::new(|_| Ok(Secret::from("tok\r\nX-Injected: yes"))));
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        match e {
            Err(Error::TokenProvider(inner)) => {
                assert!(inner.is::<ews_proto::driver::InvalidToken>(), "{inner}");
            }
            other => panic!("expected a token error, got {other:?}"),
        }
        assert!(sim.requests().is_empty(), "nothing was sent");
    }

    pub(super) fn a_huge_fault_string_is_bounded_and_escaped<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        sim.inject(
            Some("GetDelegate"),
            Fault::HugeFaultString { bytes: 1 << 20 },
            1,
        );
        let e = u1.send(&GetDelegate::new(addr(U1))).expect_err("a fault");
        let shown = e.to_string();
        assert!(matches!(e, Error::Server(ServerError::Fault(_))), "{shown}");
        assert!(shown.len() <= 4096, "{} bytes", shown.len());
        assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
    }

    pub(super) fn a_server_that_never_answers_times_out<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let timeout = Duration::from_secs(1);
        let mut config = Config::basic(&sim, U1);
        config.timeout = Some(timeout);
        config.retry_policy = RetryPolicy::never();
        let u1 = client::<C>(config);
        sim.inject(
            Some("GetDelegate"),
            Fault::Delay(Duration::from_secs(10)),
            1,
        );
        let started = std::time::Instant::now();
        let e = u1.send(&GetDelegate::new(addr(U1)));
        let took = started.elapsed();
        assert_eq!(transport_kind(e), TransportErrorKind::Timeout);
        assert!(took < timeout.mul_f32(1.5), "took {took:?}");
    }

    pub(super) fn the_body_cap_is_the_decoding_limit<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        // Raised to 128 MiB, a 100 MiB answer is read and decoded.
        let mut config = Config::basic(&sim, U1);
        config.max_body_bytes = Some(128 << 20);
        let big = client::<C>(config);
        sim.inject(
            Some("GetDelegate"),
            Fault::OversizedBody { bytes: 100 << 20 },
            1,
        );
        big.send(&GetDelegate::new(addr(U1)))
            .expect("100 MiB under a 128 MiB cap");
        // Under the default (64 MiB), a 65 MiB answer is the decoder's limit error.
        let default = client::<C>(Config::basic(&sim, U1));
        sim.inject(
            Some("GetDelegate"),
            Fault::OversizedBody { bytes: 65 << 20 },
            1,
        );
        match default.send(&GetDelegate::new(addr(U1))) {
            Err(Error::Server(ServerError::LimitExceeded {
                limit: Limit::BodySize,
                max,
            })) => assert_eq!(max, 64 << 20),
            other => panic!("expected LimitExceeded, got {other:?}"),
        }
    }

    pub(super) fn every_transport_sends_the_user_agent<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.user_agent = Some("probe/1.0".to_owned());
        client::<C>(config.clone())
            .send(&GetDelegate::new(addr(U1)))
            .expect("GetDelegate");
        assert_eq!(sim.requests()[0].header("user-agent"), Some("probe/1.0"));

        // A custom transport gets it on the request too, as the default when none is set.
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = Arc::clone(&seen);
        let handler: Handler = Arc::new(move |request| {
            let ua = request.headers().get(http::header::USER_AGENT);
            let ua = ua.map(|v| v.to_str().expect("ASCII").to_owned());
            log.lock().expect("log").push(ua.unwrap_or_default());
            Ok(http::Response::new(bytes::Bytes::from_static(
                EMPTY_GET_DELEGATE,
            )))
        });
        let custom = C::build_with(config.clone(), Arc::clone(&handler)).expect("build");
        custom.send(&GetDelegate::new(addr(U1))).expect("custom");
        config.user_agent = None;
        let default = C::build_with(config, handler).expect("build");
        default.send(&GetDelegate::new(addr(U1))).expect("default");
        let seen = seen.lock().expect("log").clone();
        assert_eq!(seen[0], "probe/1.0");
        assert!(seen[1].starts_with("ews-"), "{seen:?}");
    }

    pub(super) fn a_request_that_cannot_be_formed_is_attempted_once<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let calls = Arc::new(Mutex::new(0u32));
        let count = Arc::clone(&calls);
        let handler: Handler = Arc::new(move |_| {
            *count.lock().expect("count") += 1;
            Err(TransportError::new(
                TransportErrorKind::InvalidRequest,
                "the HTTP library refuses a header",
            ))
        });
        let c = C::build_with(Config::basic(&sim, U1), handler).expect("build");
        let e = c.send(&GetDelegate::new(addr(U1)));
        assert!(
            matches!(e, Err(Error::Usage(UsageError::InvalidRequest { .. }))),
            "{e:?}"
        );
        assert_eq!(*calls.lock().expect("count"), 1);
    }

    pub(super) fn a_proxy_tunnels_every_connection<C: ConformanceClient>() {
        // Plain http endpoint, proxy without authentication.
        let sim = Simulator::start(SimConfig::seed());
        let proxy = ews_tests::proxy::ConnectProxy::start(None);
        let mut config = Config::basic(&sim, U1);
        config.proxy = Some(proxy.url());
        client::<C>(config)
            .send(&GetDelegate::new(addr(U1)))
            .expect("through the proxy");
        let tunnels = proxy.tunnels();
        assert_eq!(tunnels.len(), 1, "{tunnels:?}");
        let port = sim
            .url()
            .split(':')
            .nth(2)
            .and_then(|p| p.split('/').next())
            .map(str::to_owned);
        assert_eq!(
            Some(tunnels[0].target.clone()),
            port.map(|p| format!("127.0.0.1:{p}"))
        );
        assert_eq!(tunnels[0].status, 200);

        // https endpoint inside the tunnel, proxy with Basic authentication.
        let sim = Simulator::start(SimConfig::seed().with_tls());
        let want = "Basic YWxpY2U6UzNjcmV0"; // base64("alice:S3cret")
        let proxy = ews_tests::proxy::ConnectProxy::start(Some(want));
        let mut config = Config::basic(&sim, U1);
        config.root_pem = Some(sim.ca_pem().expect("CA").as_bytes().to_vec());
        config.proxy = Some(proxy.url().replace("://", "://alice:S3cret@"));
        client::<C>(config.clone())
            .send(&GetDelegate::new(addr(U1)))
            .expect("TLS through an authenticating proxy");
        assert_eq!(proxy.tunnels()[0].authorization.as_deref(), Some(want));
        assert_eq!(sim.requests().len(), 1);

        // Refused by the proxy: nothing reached the server, and it is a connect failure.
        config.proxy = Some(proxy.url().replace("://", "://alice:wrong@"));
        config.retry_policy = RetryPolicy::never();
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        assert_eq!(transport_kind(e), TransportErrorKind::Connect);
        assert_eq!(proxy.tunnels().last().map(|t| t.status), Some(407));
        assert_eq!(sim.requests().len(), 1);
    }

    pub(super) fn a_connect_that_outlasts_the_deadline_is_connect<C: ConformanceClient>() {
        // A server that accepts TCP and never answers the TLS handshake: the deadline
        // passes while the client is still connecting, before a byte of the request.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!(
            "https://{}/EWS/Exchange.asmx",
            listener.local_addr().expect("address")
        );
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().take(2).collect();
            std::thread::sleep(Duration::from_secs(5));
            drop(held);
        });
        let sim = Simulator::start(SimConfig::seed());
        let timeout = Duration::from_secs(1);
        let mut config = Config::basic(&sim, U1);
        config.url = url;
        config.timeout = Some(timeout);
        config.retry_policy = RetryPolicy::never();
        let started = std::time::Instant::now();
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        let took = started.elapsed();
        assert_eq!(transport_kind(e), TransportErrorKind::Connect);
        assert!(took < timeout.mul_f32(1.5), "took {took:?}");
    }

    pub(super) fn connections_are_pooled_and_reused<C: ConformanceClient>() {
        // The proxy sees one tunnel per new connection.
        let sim = Simulator::start(SimConfig::seed());
        let proxy = ews_tests::proxy::ConnectProxy::start(None);
        let mut config = Config::basic(&sim, U1);
        config.proxy = Some(proxy.url());
        let u1 = client::<C>(config);
        for _ in 0..5 {
            u1.send(&GetDelegate::new(addr(U1))).expect("GetDelegate");
        }
        assert_eq!(sim.requests_for("GetDelegate").len(), 5);
        assert_eq!(proxy.tunnels().len(), 1, "one connection for five calls");
    }

    pub(super) fn a_failed_connect_is_retried_even_for_a_meeting<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        make_delegate(&sim, U1, U2);
        let proxy = ews_tests::proxy::ConnectProxy::start(None);
        proxy.refuse_next(1);
        let mut config = Config::basic(&sim, U2);
        config.proxy = Some(proxy.url());
        let created = client::<C>(config)
            .send(&CreateItem::on_behalf_of(
                addr(U1),
                meeting("After a failed connect"),
            ))
            .expect("retried after the failed connect");
        assert_eq!(codes(&created.body), ["NoError"]);
        let statuses: Vec<u16> = proxy.tunnels().iter().map(|t| t.status).collect();
        assert_eq!(statuses, [502, 200]);
        assert_eq!(sim.requests_for("CreateItem").len(), 1);
        assert_eq!(invitations(&sim, U3), 1);
    }

    pub(super) fn https_to_a_plain_http_server_fails_before_sending<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.url = sim.url().replace("http://", "https://");
        config.retry_policy = RetryPolicy::never();
        let e = client::<C>(config).send(&GetDelegate::new(addr(U1)));
        assert_eq!(transport_kind(e), TransportErrorKind::Tls);
        assert!(sim.requests().iter().all(|r| r.operation.is_none()));
    }

    pub(super) fn a_server_asking_for_too_long_a_wait_ends_the_call<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let u1 = client::<C>(Config::basic(&sim, U1));
        // Five minutes is past the policy's total wait: the server's error, at once.
        sim.inject(
            Some("GetDelegate"),
            Fault::ServerBusy {
                back_off_ms: 300_000,
            },
            1,
        );
        let e = u1.send(&GetDelegate::new(addr(U1)));
        match e {
            Err(Error::Server(ServerError::Fault(f))) => {
                assert_eq!(f.back_off(), Some(Duration::from_secs(300)));
            }
            other => panic!("expected the busy fault, got {other:?}"),
        }
        assert_eq!(sim.requests().len(), 1);
    }

    pub(super) fn debug_output_never_shows_a_secret<C: ConformanceClient>() {
        let sim = Simulator::start(SimConfig::seed());
        let mut config = Config::basic(&sim, U1);
        config.proxy = Some("http://proxyuser:Pr0xy-secret@127.0.0.1:9".to_owned());
        let basic = client::<C>(config.clone());
        let mut bearer = config.clone();
        bearer.tokens = Some(Arc::new(|_| Ok(Secret::from("token-s3cret"))));
        let bearer = client::<C>(bearer);
        // One call each through the proxy fails (nothing listens on port 9), but the
        // bearer client has fetched its token by then.
        let _ = bearer.send(&GetDelegate::new(addr(U1)));
        for shown in [basic.debug(config.clone()), bearer.debug(config)] {
            assert!(shown.contains(U1), "{shown}");
            for secret in [
                "Passw0rd-1",
                "token-s3cret",
                "Pr0xy-secret",
                "UGFzc3cwcmQtMQ",
            ] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }
    }
}

const U4: &str = "user4@example.com";

/// A GetDelegate answer with no delegates.
const EMPTY_GET_DELEGATE: &[u8] = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse></s:Body></s:Envelope>"#;

/// Compile-time check that the async client has the same surface as the blocking one.
#[allow(dead_code)]
async fn surface_async(c: &ews_async::Client) -> Result<(), Error> {
    let a = addr(U1);
    c.add_delegate(&a, seed_delegate(U2)).await?;
    c.get_delegates(&a).await?;
    c.update_delegate(&a, seed_delegate(U2)).await?;
    c.remove_delegate(&a, UserId::smtp(addr(U2))).await?;
    c.send_meeting_on_behalf(&a, meeting("x")).await?;
    c.find_items(FolderId::own(DistinguishedFolder::Inbox))
        .await?;
    let id = ItemId::new("x", None).expect("id");
    c.get_item(id.clone()).await?;
    c.delete_item(id, SendMeetingCancellations::SendToNone)
        .await?;
    c.send_in(&GetDelegate::new(a), c.context()).await?;
    Ok(())
}

/// Compile-time check that the blocking client has the shared surface the table assumes.
#[allow(dead_code)]
fn surface(c: &ews_blocking::Client) -> Result<(), Error> {
    let a = addr(U1);
    c.add_delegate(&a, seed_delegate(U2))?;
    c.get_delegates(&a)?;
    c.update_delegate(&a, seed_delegate(U2))?;
    c.remove_delegate(&a, UserId::smtp(addr(U2)))?;
    c.send_meeting_on_behalf(&a, meeting("x"))?;
    c.find_items(FolderId::own(DistinguishedFolder::Inbox))?;
    let id = ItemId::new("x", None).expect("id");
    c.get_item(id.clone())?;
    c.delete_item(id, SendMeetingCancellations::SendToNone)?;
    c.send_in(&GetDelegate::new(a), c.context())?;
    Ok(())
}
