//! Autodiscover: golden requests against Microsoft's documented examples, the answer
//! decoders on hand-written answers, and the state machine driven by scripted servers.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ews_proto::autodiscover::{
    Answer, Discovered, Discovery, DiscoveryError, ErrorCode, ErrorLevel, Outcome, Reason,
    RedirectPolicy, SrvRecord, Step, StepKind, UrlChoice, UserSettingName, decode_pox, decode_soap,
    pox_request, soap_request,
};
use ews_proto::driver::Auth;
use ews_proto::{Credentials, ExchangeVersion, Limits, TransportError, TransportErrorKind};

// ---- golden requests ---------------------------------------------------------------

/// The element tree of `xml`: (namespace, local name, attributes, text) per element, in
/// document order; comments and white space between elements ignored.
/// One element: namespace, local name, sorted attributes, trimmed text.
type Node = (String, String, Vec<(String, String)>, String);

fn tree(xml: &str) -> Vec<Node> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .filter(|n| n.is_element())
        .map(|n| {
            let mut attrs: Vec<_> = n
                .attributes()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect();
            attrs.sort();
            let text: String = n
                .children()
                .filter(|c| c.is_text())
                .map(|c| c.text().unwrap_or_default().trim().to_owned())
                .collect();
            (
                n.tag_name().namespace().unwrap_or_default().to_owned(),
                n.tag_name().name().to_owned(),
                attrs,
                text,
            )
        })
        .collect()
}

fn golden(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/autodiscover")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn get_user_settings_matches_the_documented_example_element_for_element() {
    let request = soap_request(
        &"https://myserver.contoso.com/autodiscover/autodiscover.svc"
            .parse()
            .unwrap(),
        &"UserName@domain.contoso.com".parse().unwrap(),
        ExchangeVersion::Exchange2010,
        &[
            UserSettingName::UserDisplayName,
            UserSettingName::UserDN,
            UserSettingName::UserDeploymentId,
            UserSettingName::InternalMailboxServer,
            UserSettingName::MailboxDN,
            UserSettingName::ActiveDirectoryServer,
            UserSettingName::CasVersion,
            UserSettingName::EwsSupportedSchemas,
        ],
    )
    .unwrap();
    let body = std::str::from_utf8(request.body()).unwrap();
    assert_eq!(tree(body), tree(&golden("get_user_settings.xml")));
    // The prefixes and declarations are the example's too.
    for declared in [
        r#"xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover""#,
        r#"xmlns:wsa="http://www.w3.org/2005/08/addressing""#,
        r#"xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/""#,
    ] {
        assert!(body.contains(declared), "{declared}");
    }
    assert_eq!(request.method(), http::Method::POST);
    assert_eq!(
        request.headers()["soapaction"],
        "\"http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings\""
    );
    assert_eq!(request.headers()["content-type"], "text/xml; charset=utf-8");
    assert!(request.headers().get("authorization").is_none());
}

#[test]
fn the_pox_request_matches_the_documented_example_element_for_element() {
    let request = pox_request(
        &"https://contoso.com/autodiscover/autodiscover.xml"
            .parse()
            .unwrap(),
        &"user@contoso.com".parse().unwrap(),
    )
    .unwrap();
    let body = std::str::from_utf8(request.body()).unwrap();
    assert_eq!(tree(body), tree(&golden("pox.xml")));
    assert_eq!(request.method(), http::Method::POST);
}

/// The element lists of Microsoft's two documented request examples, written out here
/// by hand from the pages ("GetUserSettings operation (SOAP)": the request example;
/// "POX Autodiscover request for Exchange": the request body), independently of the
/// snapshot files: (namespace, local name, text) in document order, `http://` namespaces
/// (the pages print `https://`, a documentation error no server accepts).
#[test]
fn the_requests_hold_the_documented_element_lists() {
    const AD: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
    const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
    const WSA: &str = "http://www.w3.org/2005/08/addressing";
    const POX: &str =
        "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
    let url = "https://myserver.contoso.com/autodiscover/autodiscover.svc";
    let action =
        "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";
    let mut soap = vec![
        (SOAP, "Envelope", ""),
        (SOAP, "Header", ""),
        (AD, "RequestedServerVersion", "Exchange2010"),
        (WSA, "Action", action),
        (WSA, "To", url),
        (SOAP, "Body", ""),
        (AD, "GetUserSettingsRequestMessage", ""),
        (AD, "Request", ""),
        (AD, "Users", ""),
        (AD, "User", ""),
        (AD, "Mailbox", "UserName@domain.contoso.com"),
        (AD, "RequestedSettings", ""),
    ];
    let settings = [
        "UserDisplayName",
        "UserDN",
        "UserDeploymentId",
        "InternalMailboxServer",
        "MailboxDN",
        "ActiveDirectoryServer",
        "CasVersion",
        "EwsSupportedSchemas",
    ];
    soap.extend(settings.iter().map(|s| (AD, "Setting", *s)));
    let request = soap_request(
        &url.parse().unwrap(),
        &"UserName@domain.contoso.com".parse().unwrap(),
        ExchangeVersion::Exchange2010,
        &[
            UserSettingName::UserDisplayName,
            UserSettingName::UserDN,
            UserSettingName::UserDeploymentId,
            UserSettingName::InternalMailboxServer,
            UserSettingName::MailboxDN,
            UserSettingName::ActiveDirectoryServer,
            UserSettingName::CasVersion,
            UserSettingName::EwsSupportedSchemas,
        ],
    )
    .unwrap();
    let elements = |xml: &str| -> Vec<(String, String, String)> {
        tree(xml)
            .into_iter()
            .map(|(ns, name, _, text)| (ns, name, text))
            .collect()
    };
    let want = |list: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        list.iter()
            .map(|(ns, name, text)| ((*ns).to_owned(), (*name).to_owned(), (*text).to_owned()))
            .collect()
    };
    assert_eq!(
        elements(std::str::from_utf8(request.body()).unwrap()),
        want(&soap)
    );
    let request = pox_request(
        &"https://contoso.com/autodiscover/autodiscover.xml"
            .parse()
            .unwrap(),
        &"user@contoso.com".parse().unwrap(),
    )
    .unwrap();
    let pox = [
        (POX, "Autodiscover", ""),
        (POX, "Request", ""),
        (POX, "EMailAddress", "user@contoso.com"),
        (
            POX,
            "AcceptableResponseSchema",
            "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a",
        ),
    ];
    assert_eq!(
        elements(std::str::from_utf8(request.body()).unwrap()),
        want(&pox)
    );
}

#[test]
fn values_are_escaped_in_requests() {
    let request = soap_request(
        &"https://x.contoso.com/autodiscover/autodiscover.svc?a=1&b=2"
            .parse()
            .unwrap(),
        &"kim@contoso.com".parse().unwrap(),
        ExchangeVersion::Exchange2010,
        UserSettingName::DEFAULT,
    )
    .unwrap();
    let body = std::str::from_utf8(request.body()).unwrap();
    assert!(body.contains("?a=1&amp;b=2</wsa:To>"), "{body}");
    roxmltree::Document::parse(body).unwrap();
}

// ---- decoders ----------------------------------------------------------------------

const SOAP_OK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:a="http://www.w3.org/2005/08/addressing">
  <s:Header>
    <a:Action s:mustUnderstand="1">http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse</a:Action>
  </s:Header>
  <s:Body>
    <GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover">
      <Response xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
        <ErrorCode>NoError</ErrorCode>
        <ErrorMessage />
        <UserResponses>
          <UserResponse>
            <ErrorCode>NoError</ErrorCode>
            <ErrorMessage>No error.</ErrorMessage>
            <RedirectTarget i:nil="true" />
            <UserSettingErrors>
              <UserSettingError>
                <ErrorCode>SettingIsNotAvailable</ErrorCode>
                <ErrorMessage>User setting 'ExternalEwsUrl' is not available. </ErrorMessage>
                <SettingName>ExternalEwsUrl</SettingName>
              </UserSettingError>
            </UserSettingErrors>
            <UserSettings>
              <UserSetting i:type="StringSetting">
                <Name>UserDisplayName</Name>
                <Value>Kim Akers</Value>
              </UserSetting>
              <UserSetting i:type="StringSetting">
                <Name>AutoDiscoverSMTPAddress</Name>
                <Value>kim@contoso.com</Value>
              </UserSetting>
              <UserSetting i:type="StringSetting">
                <Name>InternalEwsUrl</Name>
                <Value>https://ex01.corp.contoso.com/EWS/Exchange.asmx</Value>
              </UserSetting>
              <UserSetting i:type="StringSetting">
                <Name>CasVersion</Name>
                <Value>15.01.2507.006</Value>
              </UserSetting>
              <UserSetting i:type="StringSetting">
                <Name>EwsSupportedSchemas</Name>
                <Value>Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016</Value>
              </UserSetting>
            </UserSettings>
          </UserResponse>
        </UserResponses>
      </Response>
    </GetUserSettingsResponseMessage>
  </s:Body>
</s:Envelope>"#;

fn soap_user(code: &str, target: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>{code}</ErrorCode><ErrorMessage>m</ErrorMessage><RedirectTarget>{target}</RedirectTarget></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#
    )
}

fn soap_settings(ews: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse><ErrorCode>NoError</ErrorCode><UserSettings><UserSetting><Name>ExternalEwsUrl</Name><Value>{ews}</Value></UserSetting><UserSetting><Name>CasVersion</Name><Value>15.1.2507.6</Value></UserSetting></UserSettings></UserResponse></UserResponses></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#
    )
}

const SOAP_BUSY: &str = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover"><Response><ErrorCode>ServerBusy</ErrorCode><ErrorMessage>busy</ErrorMessage></Response></GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;

const POX_OK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <User>
      <DisplayName>Kim Akers</DisplayName>
      <AutoDiscoverSMTPAddress>kim@contoso.com</AutoDiscoverSMTPAddress>
    </User>
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>EXCH</Type>
        <Server>ex01.corp.contoso.com</Server>
        <ServerVersion>738180DA</ServerVersion>
        <EwsUrl>https://ex01.corp.contoso.com/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
      <Protocol>
        <Type>EXPR</Type>
        <EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>
      </Protocol>
    </Account>
  </Response>
</Autodiscover>"#;

const POX_ERROR: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response>
    <Error Time="16:56:32.6164027" Id="1054084152">
      <ErrorCode>600</ErrorCode>
      <Message>Invalid Request</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>"#;

#[test]
fn a_soap_answer_yields_the_settings_and_the_errors_of_the_third_level() {
    let Answer::Settings(s) = decode_soap(SOAP_OK.as_bytes(), &Limits::default()).unwrap() else {
        panic!()
    };
    assert_eq!(s.display_name.as_deref(), Some("Kim Akers"));
    assert_eq!(s.smtp_address.as_deref(), Some("kim@contoso.com"));
    assert_eq!(
        s.internal_ews_url.as_deref(),
        Some("https://ex01.corp.contoso.com/EWS/Exchange.asmx")
    );
    assert_eq!(s.external_ews_url, None);
    assert_eq!(s.server_version, Some((15, 1, 2507)));
    assert_eq!(s.request_version(), Some(ExchangeVersion::Exchange2016));
    assert_eq!(s.setting_errors.len(), 1);
    assert_eq!(s.setting_errors[0].setting, "ExternalEwsUrl");
    assert_eq!(s.setting_errors[0].code, ErrorCode::SettingIsNotAvailable);
}

#[test]
fn soap_error_codes_are_read_at_the_response_and_the_user_level() {
    let limits = Limits::default();
    assert_eq!(
        decode_soap(SOAP_BUSY.as_bytes(), &limits).unwrap(),
        Answer::Error {
            level: ErrorLevel::Response,
            code: ErrorCode::ServerBusy,
            message: "busy".into()
        }
    );
    let invalid = decode_soap(soap_user("InvalidUser", "").as_bytes(), &limits).unwrap();
    assert!(matches!(
        invalid,
        Answer::Error {
            level: ErrorLevel::User,
            code: ErrorCode::InvalidUser,
            ..
        }
    ));
    assert_eq!(
        decode_soap(
            soap_user("RedirectAddress", "kim@fabrikam.com").as_bytes(),
            &limits
        )
        .unwrap(),
        Answer::RedirectAddress("kim@fabrikam.com".into())
    );
    assert_eq!(
        decode_soap(
            soap_user(
                "RedirectUrl",
                "https://ad.fabrikam.com/autodiscover/autodiscover.svc"
            )
            .as_bytes(),
            &limits
        )
        .unwrap(),
        Answer::RedirectUrl("https://ad.fabrikam.com/autodiscover/autodiscover.svc".into())
    );
    let strange = decode_soap(soap_user("Weird\nCode", "").as_bytes(), &limits).unwrap();
    let Answer::Error { code, .. } = strange else {
        panic!()
    };
    assert_eq!(code.to_string(), "Weird\\nCode");
}

#[test]
fn prefixes_do_not_matter_but_namespaces_do() {
    let prefixed = SOAP_OK
        .replace(
            r#"<GetUserSettingsResponseMessage xmlns="#,
            r#"<q:GetUserSettingsResponseMessage xmlns:q="#,
        )
        .replace(
            "</GetUserSettingsResponseMessage>",
            "</q:GetUserSettingsResponseMessage>",
        )
        .replace("<Response ", r#"<q:Response "#)
        .replace("</Response>", "</q:Response>");
    // Response's children are now in no namespace: the answer is incomplete, and says so.
    assert!(decode_soap(prefixed.as_bytes(), &Limits::default()).is_err());
    let all = SOAP_OK
        .replace("<", "<z:")
        .replace("<z:/", "</z:")
        .replace("<z:?", "<?")
        .replace("<z:s:", "<s:")
        .replace("</z:s:", "</s:")
        .replace("<z:a:", "<a:")
        .replace("</z:a:", "</a:")
        .replace(
            r#"xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover""#,
            r#"xmlns:z="http://schemas.microsoft.com/exchange/2010/Autodiscover""#,
        );
    assert!(matches!(
        decode_soap(all.as_bytes(), &Limits::default()).unwrap(),
        Answer::Settings(_)
    ));
    let https = SOAP_OK.replace(
        "http://schemas.microsoft.com/exchange/2010/Autodiscover\"",
        "https://schemas.microsoft.com/exchange/2010/Autodiscover\"",
    );
    assert!(decode_soap(https.as_bytes(), &Limits::default()).is_err());
    // The right local name in another namespace is not the answer, even when everything
    // inside it is.
    let elsewhere = SOAP_OK
        .replace(
            r#"<GetUserSettingsResponseMessage xmlns="#,
            r#"<x:GetUserSettingsResponseMessage xmlns:x="urn:elsewhere" xmlns="#,
        )
        .replace(
            "</GetUserSettingsResponseMessage>",
            "</x:GetUserSettingsResponseMessage>",
        );
    match decode_soap(elsewhere.as_bytes(), &Limits::default()) {
        Err(ews_proto::ServerError::Malformed(m)) => {
            assert_eq!(m.kind(), ews_proto::error::MalformedKind::UnexpectedElement)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_pox_answer_yields_internal_and_external_urls_and_its_errors() {
    let Answer::Settings(s) = decode_pox(POX_OK.as_bytes(), &Limits::default()).unwrap() else {
        panic!()
    };
    assert_eq!(
        s.internal_ews_url.as_deref(),
        Some("https://ex01.corp.contoso.com/EWS/Exchange.asmx")
    );
    assert_eq!(
        s.external_ews_url.as_deref(),
        Some("https://mail.contoso.com/EWS/Exchange.asmx")
    );
    assert_eq!(s.display_name.as_deref(), Some("Kim Akers"));
    assert_eq!(s.request_version(), Some(ExchangeVersion::Exchange2010_SP1));
    let Answer::Error {
        level,
        code,
        message,
    } = decode_pox(POX_ERROR.as_bytes(), &Limits::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (level, code.as_str(), message.as_str()),
        (ErrorLevel::Response, "600", "Invalid Request")
    );
    let url = POX_OK.replace(
        "<Action>settings</Action>",
        "<Action>redirectUrl</Action><RedirectUrl>https://ad.fabrikam.com/autodiscover/autodiscover.xml</RedirectUrl>",
    );
    assert_eq!(
        decode_pox(url.as_bytes(), &Limits::default()).unwrap(),
        Answer::RedirectUrl("https://ad.fabrikam.com/autodiscover/autodiscover.xml".into())
    );
}

#[test]
fn hostile_answers_are_errors_not_panics() {
    let limits = Limits::default();
    for body in [
        "",
        "<html><body>404</body></html>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]><x/>",
        &SOAP_OK[..SOAP_OK.len() / 2],
        &POX_OK[..POX_OK.len() / 3],
        "\u{feff}<Autodiscover/>",
    ] {
        assert!(decode_soap(body.as_bytes(), &limits).is_err(), "{body}");
        assert!(decode_pox(body.as_bytes(), &limits).is_err(), "{body}");
    }
    let deep = format!("{}{}", "<a>".repeat(200), "</a>".repeat(200));
    assert!(decode_pox(deep.as_bytes(), &limits).is_err());
    assert!(decode_soap(SOAP_OK.as_bytes(), &limits.max_body_bytes(10)).is_err());
}

// ---- the state machine -------------------------------------------------------------

type Reply = Result<http::Response<Bytes>, TransportError>;

fn ok(body: &str) -> Reply {
    Ok(http::Response::builder()
        .status(200)
        .body(Bytes::from(body.to_owned()))
        .unwrap())
}

fn status(code: u16) -> Reply {
    Ok(http::Response::builder()
        .status(code)
        .header("retry-after", "1")
        .body(Bytes::new())
        .unwrap())
}

fn redirect(to: &str) -> Reply {
    Ok(http::Response::builder()
        .status(302)
        .header("location", to)
        .body(Bytes::new())
        .unwrap())
}

fn refused() -> Reply {
    Err(TransportError::new(TransportErrorKind::Connect, "refused"))
}

/// What a scripted run saw: every request (method, URL, Authorization), and the result.
struct Run {
    sent: Vec<(String, String, Option<String>)>,
    srv: Vec<String>,
    asked: Vec<String>,
    slept: Vec<Duration>,
    result: Result<Discovered, DiscoveryError>,
}

/// Drives `d` against `server` (URL -> answers in order; a URL without one refuses the
/// connection), an SRV table, and a consent answer.
fn run(
    mut d: Discovery,
    credentials: Credentials,
    mut server: HashMap<&str, Vec<Reply>>,
    srv: Vec<SrvRecord>,
    consent: bool,
) -> Run {
    let auth = Auth::new(credentials);
    let mut clock = Instant::now();
    let mut out = Run {
        sent: vec![],
        srv: vec![],
        asked: vec![],
        slept: vec![],
        result: Err(DiscoveryError::Usage(
            ews_proto::UsageError::InvalidEndpoint(String::new()),
        )),
    };
    for _ in 0..200 {
        match d.poll(&auth, clock) {
            Step::Send { request, .. } => {
                let url = request.uri().to_string();
                let authz = request
                    .headers()
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                out.sent
                    .push((request.method().to_string(), url.clone(), authz));
                let reply = server
                    .get_mut(url.as_str())
                    .and_then(|r| (!r.is_empty()).then(|| r.remove(0)))
                    .unwrap_or_else(refused);
                d.handle(reply, clock);
            }
            Step::ResolveSrv { name } => {
                out.srv.push(name);
                d.srv_resolved(Ok::<_, std::io::Error>(srv.clone()));
            }
            Step::Confirm(r) => {
                out.asked.push(r.to.clone());
                d.confirm(consent);
            }
            Step::FetchToken { .. } => panic!("no tokens here"),
            Step::Sleep { until } => {
                out.slept.push(until - clock);
                clock = until;
            }
            Step::Done(result) => {
                out.result = result;
                return out;
            }
        }
    }
    panic!("discovery did not end");
}

fn basic() -> Credentials {
    Credentials::basic("kim@contoso.com", "Passw0rd-1")
}

const D1: &str = "https://contoso.com/autodiscover/autodiscover.svc";
const D1X: &str = "https://contoso.com/autodiscover/autodiscover.xml";
const D2: &str = "https://autodiscover.contoso.com/autodiscover/autodiscover.svc";
const PROBE: &str = "http://autodiscover.contoso.com/autodiscover/autodiscover.xml";
const EWS: &str = "https://mail.contoso.com/EWS/Exchange.asmx";

fn kim() -> Discovery {
    Discovery::new("kim@contoso.com".parse().unwrap())
}

#[test]
fn candidates_are_tried_in_the_documented_order_and_the_failure_names_each() {
    let r = run(
        kim().urls(["https://scp.contoso.com/autodiscover/autodiscover.svc"]),
        basic(),
        HashMap::new(),
        vec![],
        false,
    );
    let urls: Vec<&str> = r.sent.iter().map(|(_, u, _)| u.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://scp.contoso.com/autodiscover/autodiscover.svc",
            D1,
            D2,
            PROBE
        ]
    );
    assert_eq!(r.srv, ["_autodiscover._tcp.contoso.com"]);
    let Err(DiscoveryError::Transport(f)) = &r.result else {
        panic!("{:?}", r.result)
    };
    assert_eq!(f.reason, Reason::Exhausted);
    let shown = r.result.as_ref().unwrap_err().to_string();
    for url in [D1, D2, PROBE, "_autodiscover._tcp.contoso.com"] {
        assert!(shown.contains(url), "{url} missing in\n{shown}");
    }
    assert!(shown.contains("connect failed"), "{shown}");
    assert!(!shown.contains("Passw0rd"), "{shown}");
    assert_eq!(f.trace.records().len(), 5);
    println!("{shown}");
}

#[test]
fn a_401_from_one_candidate_does_not_end_discovery() {
    let server = HashMap::from([(D1, vec![status(401)]), (D2, vec![ok(&soap_settings(EWS))])]);
    let r = run(kim(), basic(), server, vec![], false);
    let found = r.result.unwrap();
    assert_eq!(found.ews_url(UrlChoice::External), Some(EWS));
    assert_eq!(found.version(), ExchangeVersion::Exchange2016);
    let trace = found.trace.records();
    assert_eq!(trace[0].outcome, Outcome::Status(401));
    assert_eq!(trace.len(), 2);
    // Never the POX twin of a host that refused the credentials.
    assert!(r.sent.iter().all(|(_, u, _)| u != D1X));
}

#[test]
fn a_missing_soap_endpoint_falls_back_to_pox_on_the_same_host() {
    let server = HashMap::from([(D1, vec![status(404)]), (D1X, vec![ok(POX_OK)])]);
    let r = run(kim(), basic(), server, vec![], false);
    let found = r.result.unwrap();
    assert_eq!(
        found.ews_url(UrlChoice::Internal),
        Some("https://ex01.corp.contoso.com/EWS/Exchange.asmx")
    );
    assert_eq!(
        found.ews_url(UrlChoice::External),
        Some("https://mail.contoso.com/EWS/Exchange.asmx")
    );
    assert_eq!(found.autodiscover_url, D1X);
}

#[test]
fn the_http_probe_never_carries_credentials_and_follows_only_https() {
    let target = "https://autodiscover-eu.contoso.com/autodiscover/autodiscover.xml";
    let target_soap = "https://autodiscover-eu.contoso.com/autodiscover/autodiscover.svc";
    let server = HashMap::from([
        (PROBE, vec![redirect(target)]),
        (target_soap, vec![ok(&soap_settings(EWS))]),
    ]);
    let r = run(kim(), basic(), server, vec![], false);
    assert!(r.result.is_ok(), "{:?}", r.result);
    let probe = r.sent.iter().find(|(_, u, _)| u == PROBE).unwrap();
    assert_eq!((probe.0.as_str(), &probe.2), ("GET", &None));
    let after = r.sent.iter().find(|(_, u, _)| u == target_soap).unwrap();
    assert!(after.2.as_deref().unwrap().starts_with("Basic "));
    for (_, url, authz) in &r.sent {
        if url.starts_with("http://") {
            assert_eq!(authz, &None, "{url}");
        }
    }

    // A redirect to http is not followed.
    let server = HashMap::from([(
        PROBE,
        vec![redirect(
            "http://autodiscover-eu.contoso.com/autodiscover/autodiscover.xml",
        )],
    )]);
    // Without credentials nothing else would stop it: only the policy does.
    let r = run(kim(), Credentials::None, server, vec![], false);
    assert_eq!(r.sent.len(), 3, "{:?}", r.sent);
    let failure = r.result.as_ref().unwrap_err().failure().unwrap();
    let probe = &failure.trace.records()[2];
    assert_eq!(
        (probe.kind, &probe.action),
        (
            StepKind::Probe,
            &ews_proto::autodiscover::Action::NextCandidate
        )
    );
}

#[test]
fn a_redirect_loop_ends_in_a_typed_error_naming_every_step() {
    let server = HashMap::from([
        (D1, vec![ok(&soap_user("RedirectUrl", D2))]),
        (D2, vec![ok(&soap_user("RedirectUrl", D1))]),
    ]);
    let r = run(kim(), basic(), server, vec![], false);
    let Err(DiscoveryError::Server(f)) = &r.result else {
        panic!("{:?}", r.result)
    };
    assert_eq!(f.reason, Reason::RedirectLoop { to: D1.into() });
    assert_eq!(f.trace.records().len(), 2);
    assert_eq!(
        f.trace.records()[0].error_code,
        Some(ErrorCode::RedirectUrl)
    );
    let shown = f.to_string();
    assert!(
        shown.contains("redirect loop") && shown.contains(D1) && shown.contains(D2),
        "{shown}"
    );
    assert_eq!(r.sent.len(), 2);
}

#[test]
fn a_cross_domain_redirect_needs_consent() {
    let foreign = "https://ad.fabrikam.com/autodiscover/autodiscover.svc";
    let script = || {
        HashMap::from([
            (D1, vec![ok(&soap_user("RedirectUrl", foreign))]),
            (foreign, vec![ok(&soap_settings(EWS))]),
        ])
    };
    // Same domain only: refused, and nothing reaches fabrikam.
    let r = run(kim(), basic(), script(), vec![], false);
    let Err(DiscoveryError::Server(f)) = &r.result else {
        panic!("{:?}", r.result)
    };
    assert_eq!(
        f.reason,
        Reason::RedirectRefused {
            to: "ad.fabrikam.com".into()
        }
    );
    assert!(
        r.sent.iter().all(|(_, u, _)| !u.contains("fabrikam")),
        "{:?}",
        r.sent
    );
    assert!(f.to_string().contains("ad.fabrikam.com"));

    // Ask, and the caller says no: the same.
    let r = run(
        kim().redirect_policy(RedirectPolicy::Ask),
        basic(),
        script(),
        vec![],
        false,
    );
    assert_eq!(r.asked, ["ad.fabrikam.com"]);
    assert!(
        matches!(&r.result, Err(DiscoveryError::Server(f)) if matches!(f.reason, Reason::RedirectRefused { .. }))
    );
    assert!(r.sent.iter().all(|(_, u, _)| !u.contains("fabrikam")));

    // Ask, and yes; or an allow list: followed.
    let r = run(
        kim().redirect_policy(RedirectPolicy::Ask),
        basic(),
        script(),
        vec![],
        true,
    );
    assert!(r.result.is_ok(), "{:?}", r.result);
    let r = run(
        kim().redirect_policy(RedirectPolicy::Allow(vec!["fabrikam.com".into()])),
        basic(),
        script(),
        vec![],
        false,
    );
    assert!(r.asked.is_empty());
    assert_eq!(r.result.unwrap().ews_url(UrlChoice::External), Some(EWS));
}

#[test]
fn redirect_address_restarts_with_the_new_address() {
    let alias = "https://contoso.com/autodiscover/autodiscover.svc";
    let server = HashMap::from([(
        alias,
        vec![
            ok(&soap_user("RedirectAddress", "kim.akers@contoso.com")),
            ok(&soap_settings(EWS)),
        ],
    )]);
    let r = run(kim(), basic(), server, vec![], false);
    let found = r.result.unwrap();
    assert_eq!(found.email.as_str(), "kim.akers@contoso.com");
    // The same URL, asked again for the new address.
    assert_eq!(r.sent.len(), 2);

    // A RedirectAddress to another domain is a cross-domain redirect.
    let server = HashMap::from([(
        D1,
        vec![ok(&soap_user("RedirectAddress", "kim@fabrikam.com"))],
    )]);
    let r = run(kim(), basic(), server, vec![], false);
    assert!(
        matches!(&r.result, Err(DiscoveryError::Server(f)) if f.reason == Reason::RedirectRefused { to: "fabrikam.com".into() })
    );
}

#[test]
fn at_most_ten_redirects() {
    let urls: Vec<String> = (0..12)
        .map(|i| format!("https://ad{i}.contoso.com/autodiscover/autodiscover.svc"))
        .collect();
    let mut server: HashMap<&str, Vec<Reply>> = HashMap::new();
    server.insert(D1, vec![ok(&soap_user("RedirectUrl", &urls[0]))]);
    for i in 0..11 {
        server.insert(
            urls[i].as_str(),
            vec![ok(&soap_user("RedirectUrl", &urls[i + 1]))],
        );
    }
    let r = run(kim(), basic(), server, vec![], false);
    assert!(
        matches!(&r.result, Err(DiscoveryError::Server(f)) if f.reason == Reason::TooManyRedirects { max: 10 }),
        "{:?}",
        r.result
    );
    assert_eq!(r.sent.len(), 11);
}

#[test]
fn server_busy_goes_through_the_retry_policy() {
    let server = HashMap::from([(
        D1,
        vec![ok(SOAP_BUSY), status(503), ok(&soap_settings(EWS))],
    )]);
    let r = run(kim(), basic(), server, vec![], false);
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(
        r.slept,
        [Duration::from_millis(500), Duration::from_secs(1)]
    );
    let r = run(
        kim().retry_policy(ews_proto::RetryPolicy::never()),
        basic(),
        HashMap::from([(D1, vec![ok(SOAP_BUSY)])]),
        vec![],
        false,
    );
    assert!(r.slept.is_empty());
    assert_eq!(r.sent[1].1, D2, "busy once, then on to the next candidate");
}

#[test]
fn srv_targets_are_asked_by_priority_and_weight_and_need_consent_elsewhere() {
    let records = vec![
        SrvRecord::new(10, 0, 443, "b.contoso.com"),
        SrvRecord::new(0, 5, 443, "a.contoso.com"),
        SrvRecord::new(0, 50, 80, "wrong-port.contoso.com"),
        SrvRecord::new(0, 1, 443, "c.contoso.com"),
    ];
    let r = run(kim(), basic(), HashMap::new(), records, false);
    let after_probe: Vec<&str> = r.sent.iter().skip(3).map(|(_, u, _)| u.as_str()).collect();
    assert_eq!(
        after_probe,
        [
            "https://a.contoso.com/autodiscover/autodiscover.svc",
            "https://c.contoso.com/autodiscover/autodiscover.svc",
            "https://b.contoso.com/autodiscover/autodiscover.svc"
        ]
    );
    let srv = r
        .result
        .as_ref()
        .unwrap_err()
        .failure()
        .unwrap()
        .trace
        .records()
        .iter()
        .find(|t| t.kind == StepKind::Srv)
        .unwrap()
        .clone();
    assert_eq!(srv.outcome, Outcome::Records(4));

    let hosted = vec![SrvRecord::new(0, 0, 443, "autodiscover.hoster.net")];
    let r = run(kim(), basic(), HashMap::new(), hosted, false);
    assert!(
        matches!(&r.result, Err(DiscoveryError::Server(f)) if matches!(f.reason, Reason::RedirectRefused { .. }))
    );
    assert!(r.sent.iter().all(|(_, u, _)| !u.contains("hoster")));
}

#[test]
fn bad_input_is_a_usage_error_before_anything_is_sent() {
    for bad in [
        "http://mail.contoso.com/autodiscover/autodiscover.svc",
        "https://kim:pw@mail.contoso.com/autodiscover/autodiscover.svc",
        "not a url",
    ] {
        let r = run(kim().urls([bad]), basic(), HashMap::new(), vec![], false);
        assert!(r.sent.is_empty());
        assert!(matches!(r.result, Err(DiscoveryError::Usage(_))), "{bad}");
    }
}

#[test]
fn driving_out_of_order_is_a_usage_error_not_a_panic() {
    let auth = Auth::new(Credentials::None);
    let mut d = kim();
    d.handle(status(200), Instant::now());
    assert!(matches!(
        d.poll(&auth, Instant::now()),
        Step::Done(Err(DiscoveryError::Usage(_)))
    ));
    let mut d = kim();
    assert!(matches!(d.poll(&auth, Instant::now()), Step::Send { .. }));
    assert!(matches!(
        d.poll(&auth, Instant::now()),
        Step::Done(Err(DiscoveryError::Usage(_)))
    ));
    assert!(matches!(
        d.poll(&auth, Instant::now()),
        Step::Done(Err(DiscoveryError::Usage(_)))
    ));
}
