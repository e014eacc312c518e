//! `ews_async::Client` over real HTTP(S) against the loopback simulator: authentication,
//! TLS, the on-behalf meeting, and the mapping of network failures to error kinds.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ews_async::proto::{
    DelegatePermissions, DelegateUser, EmailAddress, ExchangeVersion, GetDelegate, Mailbox,
    NewCalendarItem, Permission, ResponseCode, RetryPolicy, ServerError, UserId,
};
use ews_async::{Client, ClientBuilder, Credentials, Error, Secret, TransportErrorKind};
use ews_tests::{Fault, SimConfig, Simulator};

fn addr(s: &str) -> EmailAddress {
    s.parse().unwrap()
}

fn basic(sim: &Simulator, n: u32) -> ClientBuilder {
    Client::builder(&sim.url())
        .credentials(Credentials::basic(
            format!("user{n}@example.com"),
            format!("Passw0rd-{n}"),
        ))
        .version(ExchangeVersion::Exchange2013_SP1)
}

fn kind(e: &Error) -> Option<TransportErrorKind> {
    match e {
        Error::Transport(t) => Some(t.kind()),
        _ => None,
    }
}

fn author(user: &str) -> DelegateUser {
    DelegateUser::new(UserId::smtp(addr(user)))
        .permissions(DelegatePermissions::new().calendar(Permission::Author))
}

fn meeting(subject: &str) -> NewCalendarItem {
    NewCalendarItem::new(
        subject,
        "2025-06-02T15:00:00Z".parse().unwrap(),
        "2025-06-02T16:00:00Z".parse().unwrap(),
    )
    .required_attendee(Mailbox::new(addr("user3@example.com")))
}

#[tokio::test]
async fn basic_auth_and_a_wrong_password() {
    let sim = Simulator::start(SimConfig::seed());
    let client = basic(&sim, 1).user_agent("ews-async-test").build().unwrap();
    let reply = client
        .get_delegates(&addr("user1@example.com"))
        .await
        .unwrap();
    assert!(reply.body.delegates.is_empty());
    assert_eq!(reply.server_version.unwrap().major_version, Some(15));
    let seen = &sim.requests()[0];
    assert_eq!(seen.authenticated_as.as_deref(), Some("user1@example.com"));
    assert_eq!(seen.header("user-agent"), Some("ews-async-test"));
    assert_eq!(seen.header("x-anchormailbox"), Some("user1@example.com"));

    let wrong = Client::builder(&sim.url())
        .credentials(Credentials::basic("user1@example.com", "wrong"))
        .build()
        .unwrap();
    let err = wrong
        .get_delegates(&addr("user1@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Server(ServerError::Unauthorized { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn bearer_token_is_refreshed_once_after_rotation() {
    let sim = Simulator::start(SimConfig::seed());
    let current = Arc::new(Mutex::new("token-user1".to_owned()));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let (c, a) = (current.clone(), asked.clone());
    let client = Client::builder(&sim.url())
        .token_provider(move |refresh: bool| {
            a.lock().unwrap().push(refresh);
            let token = c.lock().unwrap().clone();
            async move { Ok::<_, std::io::Error>(Secret::from(token)) }
        })
        .build()
        .unwrap();
    let user1 = addr("user1@example.com");
    client.get_delegates(&user1).await.unwrap();
    client.get_delegates(&user1).await.unwrap();
    assert_eq!(*asked.lock().unwrap(), [false]);

    // The identity provider issues a new token; the server stops taking the old one.
    assert!(sim.rotate_token("user1@example.com", "token-user1-b"));
    *current.lock().unwrap() = "token-user1-b".to_owned();
    sim.clear_requests();
    client.get_delegates(&user1).await.unwrap();
    assert_eq!(*asked.lock().unwrap(), [false, true]);
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 200]);

    // A provider that keeps handing out a refused token: one refresh, then the 401.
    assert!(sim.expire_token("user1@example.com"));
    let err = client.get_delegates(&user1).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Server(ServerError::Unauthorized { .. })
    ));
}

#[tokio::test]
async fn tls_is_refused_without_the_ca_and_accepted_with_it() {
    let sim = Simulator::start(SimConfig::seed().with_tls());
    let user1 = addr("user1@example.com");

    let err = basic(&sim, 1)
        .build()
        .unwrap()
        .get_delegates(&user1)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Tls), "{err}");
    assert!(sim.requests().is_empty(), "nothing may reach the server");

    let ca = sim.ca_pem().unwrap().as_bytes();
    let client = basic(&sim, 1)
        .add_root_certificate_pem(ca)
        .unwrap()
        .build()
        .unwrap();
    client.get_delegates(&user1).await.unwrap();
    client.get_delegates(&user1).await.unwrap();

    let reckless = basic(&sim, 1)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    reckless.get_delegates(&user1).await.unwrap();
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn https_endpoint_with_a_plain_http_server_fails_before_sending() {
    // The simulator speaks plain HTTP; a TLS client gets no handshake. Nothing is sent.
    let sim = Simulator::start(SimConfig::seed());
    let url = sim.url().replace("http://", "https://");
    let client = Client::builder(&url)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let err = client
        .get_delegates(&addr("user1@example.com"))
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Tls), "{err}");
    assert!(sim.requests().iter().all(|r| r.operation.is_none()));
}

#[tokio::test]
async fn meeting_on_behalf_reaches_the_attendee_from_the_principal() {
    let sim = Simulator::start(SimConfig::seed());
    let principal = basic(&sim, 1).build().unwrap();
    let delegate = basic(&sim, 2).build().unwrap();
    let attendee = basic(&sim, 3).build().unwrap();
    let user1 = addr("user1@example.com");

    let added = principal
        .add_delegate(&user1, author("user2@example.com"))
        .await
        .unwrap();
    assert_eq!(added.body[0].status.code, ResponseCode::NoError);
    let again = principal
        .add_delegate(&user1, author("user2@example.com"))
        .await
        .unwrap();
    assert_eq!(
        again.body[0].status.code,
        ResponseCode::ErrorDelegateAlreadyExists
    );
    let updated = principal
        .update_delegate(&user1, author("user2@example.com"))
        .await
        .unwrap();
    assert_eq!(updated.body[0].status.code, ResponseCode::NoError);

    let created = delegate
        .send_meeting_on_behalf(&user1, meeting("Delegate appointment"))
        .await
        .unwrap();
    let id = created.body[0].clone().into_result().unwrap().unwrap();
    let saved = sim.item(id.id()).unwrap();
    assert_eq!(saved.owner, "user1@example.com");

    let inbox = sim.mailbox("user3@example.com").unwrap().inbox;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].from.as_ref().unwrap().email, "user1@example.com");
    assert_eq!(inbox[0].sender.as_ref().unwrap().email, "user2@example.com");

    // The attendee sees the same through FindItem + GetItem.
    let page = attendee
        .find_items(ews_async::proto::FolderId::own(
            ews_async::proto::DistinguishedFolder::Inbox,
        ))
        .await
        .unwrap()
        .body[0]
        .clone()
        .into_result()
        .unwrap()
        .unwrap();
    let item_id = page.items[0].item_id().unwrap().clone();
    let got = attendee.get_item(item_id).await.unwrap().body[0]
        .clone()
        .into_result()
        .unwrap();
    let Some(ews_async::proto::Item::Message(m)) = got else {
        panic!("not a message: {got:?}")
    };
    assert_eq!(
        m.from.as_ref().and_then(Mailbox::address),
        Some("user1@example.com")
    );
    assert_eq!(
        m.sender.as_ref().and_then(Mailbox::address),
        Some("user2@example.com")
    );

    // Cancel, remove the delegate: the next meeting is refused.
    let deleted = delegate
        .delete_item(
            id,
            ews_async::proto::SendMeetingCancellations::SendToAllAndSaveCopy,
        )
        .await
        .unwrap();
    assert_eq!(deleted.body[0].status.code, ResponseCode::NoError);
    assert_eq!(
        sim.mailbox("user3@example.com")
            .unwrap()
            .cancellations_received,
        1
    );
    principal
        .remove_delegate(&user1, UserId::smtp(addr("user2@example.com")))
        .await
        .unwrap();
    let refused = delegate
        .send_meeting_on_behalf(&user1, meeting("Second"))
        .await
        .unwrap();
    assert_eq!(refused.body[0].status.code, ResponseCode::ErrorAccessDenied);
}

#[tokio::test]
async fn clones_share_one_client_across_tasks() {
    let sim = Simulator::start(SimConfig::seed());
    let client = basic(&sim, 1).build().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .send(&GetDelegate::new(addr("user1@example.com")))
                    .await
                    .map(|r| r.body.delegates.len())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 0);
    }
    assert_eq!(sim.requests_for("GetDelegate").len(), 8);
}

#[tokio::test]
async fn connections_are_pooled_and_reused() {
    let sim = Simulator::start(SimConfig::seed());
    // A counting TCP relay in front of the simulator.
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay_addr = relay.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(0u32));
    let (counter, upstream) = (accepted.clone(), sim.addr());
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = relay.accept().await {
            *counter.lock().unwrap() += 1;
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    let url = sim
        .url()
        .replace(&sim.addr().to_string(), &relay_addr.to_string());
    let client = Client::builder(&url)
        .credentials(Credentials::basic("user1@example.com", "Passw0rd-1"))
        .build()
        .unwrap();
    let user1 = addr("user1@example.com");
    for _ in 0..5 {
        client.get_delegates(&user1).await.unwrap();
    }
    assert_eq!(sim.requests_for("GetDelegate").len(), 5);
    assert_eq!(
        *accepted.lock().unwrap(),
        1,
        "one connection for five calls"
    );
}

#[tokio::test]
async fn server_busy_is_retried_after_its_back_off() {
    let sim = Simulator::start(SimConfig::seed());
    sim.inject(Some("CreateItem"), Fault::ServerBusy { back_off_ms: 20 }, 1);
    let principal = basic(&sim, 1).build().unwrap();
    let user1 = addr("user1@example.com");
    principal
        .add_delegate(&user1, author("user2@example.com"))
        .await
        .unwrap();
    let delegate = basic(&sim, 2).build().unwrap();
    let created = delegate
        .send_meeting_on_behalf(&user1, meeting("Busy"))
        .await
        .unwrap();
    assert_eq!(created.body[0].status.code, ResponseCode::NoError);
    assert_eq!(sim.requests_for("CreateItem").len(), 2);
    assert_eq!(
        sim.mailbox("user3@example.com")
            .unwrap()
            .invitations_received,
        1
    );
}

#[tokio::test]
async fn network_failures_map_to_precise_kinds() {
    let sim = Simulator::start(SimConfig::seed());
    let user1 = addr("user1@example.com");
    let once = |b: ClientBuilder| b.retry_policy(RetryPolicy::never()).build().unwrap();

    sim.inject(None, Fault::TruncatedContentLength, 1);
    let err = once(basic(&sim, 1))
        .get_delegates(&user1)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Truncated), "{err}");

    sim.inject(None, Fault::CloseBeforeRequest, 1);
    let err = once(basic(&sim, 1))
        .get_delegates(&user1)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Io), "{err}");

    sim.inject(None, Fault::OversizedBody { bytes: 64 * 1024 }, 1);
    let err = once(basic(&sim, 1).max_body_bytes(16 * 1024))
        .get_delegates(&user1)
        .await
        .unwrap_err();
    // The transport's cap is the decoder's limit: the same error whichever noticed it.
    assert!(
        matches!(
            err,
            ews_async::Error::Server(ews_async::proto::ServerError::LimitExceeded {
                limit: ews_async::proto::Limit::BodySize,
                max: 16384,
            })
        ),
        "{err}"
    );

    sim.inject(None, Fault::Delay(Duration::from_millis(500)), 1);
    let err = once(basic(&sim, 1).timeout(Duration::from_millis(50)))
        .get_delegates(&user1)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Timeout), "{err}");

    // A port nobody listens on: nothing was sent, so the error is `Connect`.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = Client::builder(&format!("http://127.0.0.1:{port}/EWS/Exchange.asmx"))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
        .get_delegates(&user1)
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Connect), "{err}");
}

#[tokio::test]
async fn a_lost_answer_to_a_meeting_is_not_resent_but_a_read_is() {
    let sim = Simulator::start(SimConfig::seed());
    let user1 = addr("user1@example.com");
    let principal = basic(&sim, 1)
        .retry_policy(
            RetryPolicy::default().delays(Duration::from_millis(5), Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    principal
        .add_delegate(&user1, author("user2@example.com"))
        .await
        .unwrap();

    sim.inject(Some("GetDelegate"), Fault::CloseAfterProcessing, 1);
    principal.get_delegates(&user1).await.unwrap();
    assert_eq!(sim.requests_for("GetDelegate").len(), 2);

    sim.inject(Some("CreateItem"), Fault::CloseAfterProcessing, 1);
    let delegate = basic(&sim, 2).build().unwrap();
    let err = delegate
        .send_meeting_on_behalf(&user1, meeting("Once"))
        .await
        .unwrap_err();
    assert_eq!(kind(&err), Some(TransportErrorKind::Io), "{err}");
    assert_eq!(sim.requests_for("CreateItem").len(), 1);
    assert_eq!(
        sim.mailbox("user3@example.com")
            .unwrap()
            .invitations_received,
        1
    );
}
