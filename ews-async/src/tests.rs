//! Unit tests of the driver loop with the in-memory transport ([`FnTransport`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ews_proto::{
    CreateItem, Error, GetDelegate, Mailbox, NewCalendarItem, RetryPolicy, Secret, ServerError,
    TransportError, TransportErrorKind,
};
use http::header::AUTHORIZATION;

use crate::{Client, ClientBuilder, Credentials, FnTransport, TransportResult};

const ENDPOINT: &str = "https://mail.example.com/EWS/Exchange.asmx";

const OK: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body><m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse></s:Body></s:Envelope>"#;

/// What the in-memory server saw: each request's `Authorization` and the tokio time
/// it arrived.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(String, tokio::time::Instant, http::HeaderMap)>>>);

impl Log {
    fn push(&self, request: &http::Request<Bytes>) {
        let auth = request
            .headers()
            .get(AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push((auth, tokio::time::Instant::now(), request.headers().clone()));
    }
    fn auths(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|e| e.0.clone()).collect()
    }
    fn times(&self) -> Vec<tokio::time::Instant> {
        self.0.lock().unwrap().iter().map(|e| e.1).collect()
    }
    fn headers(&self, n: usize) -> http::HeaderMap {
        self.0.lock().unwrap()[n].2.clone()
    }
}

fn answer(status: u16, body: &'static str) -> TransportResult {
    Ok(http::Response::builder()
        .status(status)
        .header("retry-after", "5")
        .header("request-id", "0b8e4f2a-req")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap())
}

/// A builder whose transport answers from `script` in order and logs every request.
fn scripted(log: &Log, script: Vec<TransportResult>) -> ClientBuilder {
    let log = log.clone();
    let script = Arc::new(Mutex::new(script.into_iter()));
    Client::builder(ENDPOINT).transport(FnTransport::new(move |request| {
        log.push(&request);
        let next = script.lock().unwrap().next().expect("scripted answer");
        async move { next }
    }))
}

fn user1() -> ews_proto::EmailAddress {
    "user1@example.com".parse().unwrap()
}

fn meeting() -> NewCalendarItem {
    let start: ews_proto::jiff::Timestamp = "2025-06-02T15:00:00Z".parse().unwrap();
    NewCalendarItem::new("x", start, start)
        .expect("start is not after end")
        .required_attendee(Mailbox::new("user3@example.com".parse().unwrap()))
}

fn transport_error(kind: TransportErrorKind) -> TransportResult {
    Err(TransportError::new(kind, "scripted"))
}

#[tokio::test]
async fn one_request_with_basic_auth_user_agent_and_anchor() {
    let log = Log::default();
    let client = scripted(&log, vec![answer(200, OK)])
        .credentials(Credentials::basic("a", "b"))
        .user_agent("tour/1")
        .build()
        .unwrap();
    let reply = client.get_delegates(user1()).await.unwrap();
    assert_eq!(reply.server_version.unwrap().major_version, Some(15));
    assert_eq!(log.auths(), ["Basic YTpi"]);
    let headers = log.headers(0);
    assert_eq!(headers["user-agent"], "tour/1");
    assert_eq!(headers["x-anchormailbox"], "user1@example.com");
}

#[tokio::test]
async fn bearer_token_is_fetched_once_then_refreshed_after_a_401() {
    let log = Log::default();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let asked2 = asked.clone();
    let client = scripted(
        &log,
        vec![answer(200, OK), answer(401, ""), answer(200, OK)],
    )
    .token_provider(move |refresh: bool| {
        let asked = asked2.clone();
        async move {
            let mut asked = asked.lock().unwrap();
            asked.push(refresh);
            Ok::<_, std::io::Error>(format!("token-{}", asked.len()))
        }
    })
    .build()
    .unwrap();
    client.get_delegates(user1()).await.unwrap();
    // The second call reuses the token, is refused, refreshes once and succeeds.
    client.get_delegates(user1()).await.unwrap();
    assert_eq!(*asked.lock().unwrap(), [false, true]);
    assert_eq!(
        log.auths(),
        ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    );
    let shown = format!("{client:?}");
    assert!(!shown.contains("token-2"), "{shown}");
}

#[tokio::test]
async fn a_failing_token_provider_ends_the_call_without_a_request() {
    let log = Log::default();
    let client = scripted(&log, vec![])
        .token_provider(|_| async { Err::<Secret<String>, _>("idp down") })
        .build()
        .unwrap();
    let err = client.get_delegates(user1()).await.unwrap_err();
    assert!(matches!(&err, Error::TokenProvider(e) if e.to_string() == "idp down"));
    assert!(log.auths().is_empty());
}

#[tokio::test(start_paused = true)]
async fn throttling_sleeps_as_long_as_the_server_asks() {
    let log = Log::default();
    let client = scripted(&log, vec![answer(503, ""), answer(200, OK)])
        .build()
        .unwrap();
    client.get_delegates(user1()).await.unwrap();
    let times = log.times();
    assert_eq!(times.len(), 2);
    assert_eq!(times[1] - times[0], Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_server_asking_for_too_long_ends_the_call() {
    let log = Log::default();
    let client = scripted(&log, vec![answer(503, "")])
        .retry_policy(RetryPolicy::default().max_total_wait(Duration::from_secs(1)))
        .build()
        .unwrap();
    let err = client.get_delegates(user1()).await.unwrap_err();
    assert!(matches!(err, Error::Server(ServerError::Throttled { .. })));
    assert_eq!(log.times().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_overall_timeout_is_a_timeout_and_a_meeting_is_not_resent() {
    let count = Arc::new(Mutex::new(0));
    let count2 = count.clone();
    let client = Client::builder(ENDPOINT)
        .timeout(Duration::from_secs(2))
        .transport(FnTransport::new(move |_| {
            *count2.lock().unwrap() += 1;
            async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                answer(200, OK)
            }
        }))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = client
        .send_meeting_on_behalf(&user1(), meeting())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.kind() == TransportErrorKind::Timeout),
        "{err:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert_eq!(*count.lock().unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_connect_is_retried_even_for_a_meeting() {
    let log = Log::default();
    let created = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:CreateItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items/></m:CreateItemResponseMessage></m:ResponseMessages></m:CreateItemResponse></s:Body></s:Envelope>"#;
    let client = scripted(
        &log,
        vec![
            transport_error(TransportErrorKind::Connect),
            answer(200, created),
        ],
    )
    .build()
    .unwrap();
    client
        .send_meeting_on_behalf(&user1(), meeting())
        .await
        .unwrap();
    assert_eq!(log.times().len(), 2);

    // A broken connection may have delivered the invitations: never resent.
    let log = Log::default();
    let client = scripted(&log, vec![transport_error(TransportErrorKind::Io)])
        .build()
        .unwrap();
    let err = client
        .send(&CreateItem::on_behalf_of(user1(), meeting()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport(_)));
    assert_eq!(log.times().len(), 1);
}

#[test]
fn debug_of_builder_and_client_redacts_secrets() {
    let builder = Client::builder(ENDPOINT)
        .credentials(Credentials::basic("user1@example.com", "Passw0rd-1"))
        .transport(FnTransport::new(|_| async { answer(200, OK) }));
    let shown = format!("{builder:?}");
    assert!(shown.contains("user1@example.com"), "{shown}");
    assert!(!shown.contains("Passw0rd-1"), "{shown}");
    let client = builder.build().unwrap();
    let shown = format!("{client:?}");
    assert!(shown.contains("user1@example.com"), "{shown}");
    assert!(!shown.contains("Passw0rd-1"), "{shown}");
    assert!(
        !shown.contains("dXNlcjFAZXhhbXBsZS5jb206UGFzc3cwcmQtMQ"),
        "{shown}"
    );
}

#[test]
fn builder_refusals() {
    let e = Client::builder(ENDPOINT)
        .credentials(Credentials::Bearer)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Usage(_)), "{e}");
    assert!(matches!(
        Client::builder("not a url").build(),
        Err(Error::Usage(_))
    ));
    assert!(
        Client::builder(ENDPOINT)
            .add_root_certificate_pem(b"no pem here")
            .is_err()
    );
    assert!(
        Client::builder(ENDPOINT)
            .add_root_certificate_pem(
                b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"
            )
            .is_err()
    );
}

#[test]
fn client_and_futures_are_send() {
    fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    fn send<T: Send>(_: &T) {}
    send_sync_clone::<Client>();
    let client = Client::builder(ENDPOINT)
        .transport(FnTransport::new(|_| async { answer(200, OK) }))
        .build()
        .unwrap();
    let op = GetDelegate::new(user1());
    send(&client.send(&op));
    send(&client.get_delegates(user1()));
    send(&client.send_meeting_on_behalf(&user1(), meeting()));
    send(&client.remove_delegate(&user1(), ews_proto::UserId::smtp(user1())));
}
