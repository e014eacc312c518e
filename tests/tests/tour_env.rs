//! The tour's environment (`Tour::from_vars`, what `Tour::from_env` reads): with
//! `EWS_EMAIL` and no `EWS_URL`, the endpoint and version come from the face's
//! Autodiscover, asked with the right credentials; a failed discovery reports its steps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ews_blocking::proto::autodiscover::{Discovered, DiscoveryError};
use ews_blocking::proto::{Credentials, ExchangeVersion, TransportError, TransportErrorKind};
use ews_blocking::{Autodiscover, FnTransport};
use ews_tests::tour::Tour;

/// A GetUserSettings answer, written by hand after Microsoft's example.
const SETTINGS: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>InternalEwsUrl</Name><Value>https://ex01.corp.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting><UserSetting><Name>CasVersion</Name><Value>15.1.2507.6</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;

fn vars(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("EWS_PRINCIPAL", "user1@contoso.com"),
        ("EWS_PRINCIPAL_PASSWORD", "Passw0rd-1"),
        ("EWS_DELEGATE", "user2@contoso.com"),
        ("EWS_DELEGATE_PASSWORD", "Passw0rd-2"),
        ("EWS_ATTENDEE", "user3@contoso.com"),
        ("EWS_ATTENDEE_PASSWORD", "Passw0rd-3"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    vars
}

/// The `Authorization` headers a server got.
type Seen = Arc<Mutex<Vec<String>>>;

/// The blocking face's Autodiscover over a server that answers `https://contoso.com/...`
/// with `SETTINGS` (unless `answers` is false) and refuses every other host.
fn discover_with(
    answers: bool,
    log: Seen,
) -> impl Fn(&str, Credentials, Option<&[u8]>) -> Result<Discovered, DiscoveryError> {
    move |email: &str, credentials: Credentials, _: Option<&[u8]>| {
        let log = Arc::clone(&log);
        Autodiscover::new(email, credentials)
            .transport(FnTransport::new(move |request: http::Request<Bytes>| {
                if let Some(auth) = request.headers().get("authorization") {
                    let auth = auth.to_str().unwrap_or_default().to_owned();
                    log.lock().expect("not poisoned").push(auth);
                }
                if answers && request.uri().host() == Some("contoso.com") {
                    Ok(http::Response::new(Bytes::from_static(SETTINGS.as_bytes())))
                } else {
                    Err(TransportError::new(TransportErrorKind::Connect, "refused"))
                }
            }))
            .discover()
    }
}

#[test]
fn ews_email_without_ews_url_discovers_the_endpoint_and_version() {
    let vars = vars(&[("EWS_EMAIL", "kim@contoso.com"), ("EWS_PASSWORD", "Kim-pw")]);
    let seen = Seen::default();
    let discover = discover_with(true, Arc::clone(&seen));
    let tour = Tour::from_vars(&|name| vars.get(name).cloned(), &discover).expect("a tour");
    assert_eq!(tour.endpoint, "https://mail.contoso.com/EWS/Exchange.asmx");
    assert_eq!(tour.version, Some(ExchangeVersion::Exchange2016));
    assert!(tour.simulator.is_none());
    assert_eq!(tour.principal.address.as_str(), "user1@contoso.com");
    // Basic, as EWS_EMAIL with EWS_PASSWORD: "kim@contoso.com:Kim-pw".
    assert_eq!(
        *seen.lock().expect("not poisoned"),
        ["Basic a2ltQGNvbnRvc28uY29tOktpbS1wdw=="]
    );
}

#[test]
fn without_ews_password_the_principal_signs_in_to_discovery() {
    let vars = vars(&[("EWS_EMAIL", "kim@contoso.com")]);
    let seen = Seen::default();
    let discover = discover_with(true, Arc::clone(&seen));
    Tour::from_vars(&|name| vars.get(name).cloned(), &discover).expect("a tour");
    // "user1@contoso.com:Passw0rd-1".
    assert_eq!(
        *seen.lock().expect("not poisoned"),
        ["Basic dXNlcjFAY29udG9zby5jb206UGFzc3cwcmQtMQ=="]
    );
}

#[test]
fn a_failed_discovery_shows_its_steps_and_ews_url_wins() {
    let vars_discover = vars(&[("EWS_EMAIL", "kim@contoso.com"), ("EWS_PASSWORD", "pw")]);
    let discover = discover_with(false, Seen::default());
    let e = Tour::from_vars(&|name| vars_discover.get(name).cloned(), &discover)
        .expect_err("nothing answers");
    let text = e.to_string();
    assert!(text.contains("no endpoint for kim@contoso.com"), "{text}");
    assert!(
        text.contains("https://autodiscover.contoso.com/autodiscover/autodiscover.svc"),
        "{text}"
    );
    // EWS_URL set: no discovery at all.
    let with_url = vars(&[
        ("EWS_URL", "https://ex.contoso.com/EWS/Exchange.asmx"),
        ("EWS_EMAIL", "kim@contoso.com"),
    ]);
    let seen = Seen::default();
    let discover = discover_with(true, Arc::clone(&seen));
    let tour = Tour::from_vars(&|name| with_url.get(name).cloned(), &discover).expect("a tour");
    assert_eq!(tour.endpoint, "https://ex.contoso.com/EWS/Exchange.asmx");
    assert_eq!(tour.version, None);
    assert!(seen.lock().expect("not poisoned").is_empty());
}
