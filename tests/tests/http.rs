//! HTTP layer: authentication, token rotation, routing, recording, response styles,
//! fault injection, TLS and shutdown.

mod common;

use std::time::{Duration, Instant};

use common::*;
use ews_tests::{Fault, ServerStyle, SimConfig, Simulator};

const U1: &str = "user1@example.com";

fn basic(user: &str, password: &str) -> String {
    // Tiny base64 for the test (independent of the simulator's).
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let data = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

fn get1() -> String {
    envelope("", &get_delegate(U1, true, &[]))
}

#[test]
fn authentication() {
    let sim = Simulator::start(SimConfig::seed());
    for auth in [
        basic(U1, "Passw0rd-1"),
        basic("user1", "Passw0rd-1"),
        basic("EXAMPLE\\user1", "Passw0rd-1"),
        "Bearer token-user1".to_string(),
    ] {
        let r = post_auth(&sim, Some(&auth), &get1());
        assert_eq!(r.status, 200, "{auth}");
        assert_eq!(r.codes(), ["NoError"]);
    }
    for auth in [
        None,
        Some(basic(U1, "wrong")),
        Some(basic("ghost", "Passw0rd-1")),
        Some("Bearer token-nope".to_string()),
        Some("NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==".to_string()),
        Some("Basic !!!".to_string()),
        Some("garbage".to_string()),
    ] {
        let r = post_auth(&sim, auth.as_deref(), &get1());
        assert_eq!(r.status, 401, "{auth:?}");
        let challenges = r.header_all("www-authenticate");
        assert!(
            challenges.iter().any(|c| c.starts_with("Basic realm=\"")),
            "{challenges:?}"
        );
        assert!(challenges.iter().any(|c| c == "Bearer"), "{challenges:?}");
    }
    let recorded = sim.requests();
    assert_eq!(recorded.len(), 11);
    assert_eq!(recorded[0].authenticated_as.as_deref(), Some(U1));
    assert_eq!(recorded[10].authenticated_as, None);
    assert_eq!(recorded[10].status, 401);
}

#[test]
fn bearer_token_rotation() {
    let sim = Simulator::start(SimConfig::seed());
    assert_eq!(post_as(&sim, U1, &get1()).status, 200);
    assert!(sim.expire_token(U1));
    assert_eq!(post_as(&sim, U1, &get1()).status, 401);
    assert!(sim.rotate_token(U1, "fresh-token"));
    assert_eq!(
        post_auth(&sim, Some("Bearer fresh-token"), &get1()).status,
        200
    );
    assert_eq!(post_as(&sim, U1, &get1()).status, 401);
    assert!(!sim.rotate_token("ghost@example.com", "x"));
    assert!(sim.set_password(U1, "new"));
    assert_eq!(
        post_auth(&sim, Some(&basic(U1, "new")), &get1()).status,
        200
    );
}

#[test]
fn routing_and_content_type() {
    let sim = Simulator::start(SimConfig::seed());
    let raw = raw_exchange(
        &sim,
        b"GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("answer");
    assert_eq!(split_http(&raw).map(|s| s.0), Some(405));
    let raw = raw_exchange(
        &sim,
        b"POST /owa/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .expect("answer");
    assert_eq!(split_http(&raw).map(|s| s.0), Some(404));
    let req = String::from_utf8(raw_post(&sim, U1, &get1()))
        .expect("utf8")
        .replace("text/xml; charset=utf-8", "application/json");
    let raw = raw_exchange(&sim, req.as_bytes()).expect("answer");
    assert_eq!(split_http(&raw).map(|s| s.0), Some(415));
    // Case-insensitive path, as IIS.
    let req = String::from_utf8(raw_post(&sim, U1, &get1()))
        .expect("utf8")
        .replace("/EWS/Exchange.asmx", "/ews/exchange.asmx");
    let raw = raw_exchange(&sim, req.as_bytes()).expect("answer");
    assert_eq!(split_http(&raw).map(|s| s.0), Some(200));
}

#[test]
fn requests_are_recorded() {
    let sim = Simulator::start(SimConfig::seed());
    let body = get1();
    post_as(&sim, U1, &body);
    let rec = &sim.requests()[0];
    assert_eq!(rec.method, "POST");
    assert_eq!(rec.path, "/EWS/Exchange.asmx");
    assert_eq!(rec.body, body);
    assert_eq!(rec.operation.as_deref(), Some("GetDelegate"));
    assert_eq!(rec.header("authorization"), Some("Bearer token-user1"));
    assert_eq!(rec.header("Content-Type"), Some("text/xml; charset=utf-8"));
    assert_eq!(rec.status, 200);
    assert_eq!(rec.response_code.as_deref(), Some("NoError"));
    assert_eq!(rec.server_version.as_deref(), Some("Exchange2013_SP1"));
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[test]
fn response_styles() {
    let sim = Simulator::start(SimConfig::seed());
    let r = post_as(&sim, U1, &get1());
    assert!(r.body.contains("<s:Envelope xmlns:s="), "{}", r.body);
    assert!(r.body.contains("<h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"2\" MajorBuildNumber=\"1544\" MinorBuildNumber=\"4\" Version=\"V2017_07_11\""));
    assert_eq!(r.attr(T, "ServerVersionInfo", "Version"), ["V2017_07_11"]);

    let sim = Simulator::start(SimConfig::seed().with_style(ServerStyle::Exchange2010));
    let r = post_as(&sim, U1, &get1());
    assert!(r.body.contains("<soap:Envelope xmlns:soap="), "{}", r.body);
    assert!(r.body.contains("<t:ServerVersionInfo MajorVersion=\"14\""));
    assert_eq!(
        r.attr(T, "ServerVersionInfo", "Version"),
        ["Exchange2010_SP2"]
    );
    assert_eq!(r.codes(), ["NoError"]);
}

#[test]
fn server_busy_then_recovery() {
    let sim = Simulator::start(SimConfig::seed());
    sim.inject(None, Fault::ServerBusy { back_off_ms: 1234 }, 2);
    for _ in 0..2 {
        let r = post_as(&sim, U1, &get1());
        assert_eq!(r.status, 500);
        assert_eq!(r.fault_code().as_deref(), Some("ErrorServerBusy"));
        assert_eq!(r.texts(T, "Value"), ["1234"]);
        assert_eq!(r.attr(T, "Value", "Name"), ["BackOffMilliseconds"]);
    }
    assert_eq!(post_as(&sim, U1, &get1()).status, 200);
    assert_eq!(sim.requests()[0].fault, Some("ServerBusy"));
    assert_eq!(sim.pending_faults(), 0);
}

#[test]
fn faults_target_one_operation() {
    let sim = Simulator::start(SimConfig::seed());
    sim.inject(
        Some("CreateItem"),
        Fault::ServiceUnavailable {
            retry_after_secs: 7,
        },
        1,
    );
    sim.inject(
        Some("CreateItem"),
        Fault::TooManyRequests {
            retry_after_secs: 3,
        },
        1,
    );
    assert_eq!(post_as(&sim, U1, &get1()).status, 200);
    let create = envelope("", &create_meeting(None, "SendToNone", "x", &[], &[]));
    let r = post_as(&sim, U1, &create);
    assert_eq!(r.status, 503);
    assert_eq!(r.header_all("retry-after"), ["7"]);
    let r = post_as(&sim, U1, &create);
    assert_eq!(r.status, 429);
    assert_eq!(r.header_all("retry-after"), ["3"]);
    assert!(sim.mailbox(U1).expect("mb").calendar.is_empty());
    assert_eq!(post_as(&sim, U1, &create).status, 200);
    assert_eq!(sim.mailbox(U1).expect("mb").calendar.len(), 1);

    sim.inject(Some("GetItem"), Fault::HtmlErrorPage, 1);
    sim.clear_faults();
    assert_eq!(post_as(&sim, U1, &create).status, 200);
}

#[test]
fn close_before_and_after_processing() {
    let sim = Simulator::start(SimConfig::seed());
    let create = envelope("", &create_meeting(None, "SendToNone", "x", &[], &[]));

    sim.inject(None, Fault::CloseBeforeRequest, 1);
    let raw = raw_exchange(&sim, &raw_post(&sim, U1, &create)).unwrap_or_default();
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
    assert!(sim.mailbox(U1).expect("mb").calendar.is_empty());

    sim.inject(Some("CreateItem"), Fault::CloseBeforeRequest, 1);
    let raw = raw_exchange(&sim, &raw_post(&sim, U1, &create)).unwrap_or_default();
    assert!(raw.is_empty());
    assert!(sim.mailbox(U1).expect("mb").calendar.is_empty());

    // The dangerous case: the meeting exists but the client never heard.
    sim.inject(Some("CreateItem"), Fault::CloseAfterProcessing, 1);
    let raw = raw_exchange(&sim, &raw_post(&sim, U1, &create)).unwrap_or_default();
    assert!(raw.is_empty());
    assert_eq!(sim.mailbox(U1).expect("mb").calendar.len(), 1);
    let recs = sim.requests();
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r.status == 0));
    assert_eq!(recs[2].fault, Some("CloseAfterProcessing"));
    assert_eq!(recs[2].response_code.as_deref(), Some("NoError"));

    // ureq sees an error, not an answer.
    sim.inject(None, Fault::CloseAfterProcessing, 1);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let err = agent
        .post(sim.url())
        .header("Authorization", "Bearer token-user1")
        .header("Content-Type", "text/xml")
        .send(&get1());
    assert!(err.is_err());
}

#[test]
fn delay() {
    let sim = Simulator::start(SimConfig::seed());
    sim.inject(
        Some("GetDelegate"),
        Fault::Delay(Duration::from_millis(400)),
        1,
    );
    let t = Instant::now();
    let r = post_as(&sim, U1, &get1());
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(r.status, 200);
    assert_eq!(r.codes(), ["NoError"]);
}

#[test]
fn truncated_answers() {
    let sim = Simulator::start(SimConfig::seed());
    sim.inject(None, Fault::TruncatedContentLength, 1);
    let raw = raw_exchange(&sim, &raw_post(&sim, U1, &get1())).expect("answer");
    let (status, headers, body) = split_http(&raw).expect("http head");
    assert_eq!(status, 200);
    let announced: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .expect("content-length");
    assert!(body.len() < announced, "{} < {announced}", body.len());

    sim.inject(None, Fault::TruncatedXml, 1);
    let r = post_as(&sim, U1, &get1());
    assert_eq!(r.status, 200);
    assert!(roxmltree::Document::parse(&r.body).is_err());
}

#[test]
fn html_and_oversized_answers() {
    let sim = Simulator::start(SimConfig::seed());
    sim.inject(None, Fault::HtmlErrorPage, 1);
    let r = post_as(&sim, U1, &get1());
    assert_eq!(r.status, 200);
    assert!(r.header_all("content-type")[0].starts_with("text/html"));
    assert!(r.body.starts_with("<!DOCTYPE html>"));

    sim.inject(
        None,
        Fault::OversizedBody {
            bytes: 3 * 1024 * 1024,
        },
        1,
    );
    let r = post_as(&sim, U1, &get1());
    assert_eq!(r.status, 200);
    assert!(r.body.len() >= 3 * 1024 * 1024);
    assert_eq!(r.codes(), ["NoError"]);
}

#[test]
fn concurrent_clients() {
    let sim = Simulator::start(SimConfig::seed());
    std::thread::scope(|s| {
        for n in 0..4 {
            let sim = &sim;
            s.spawn(move || {
                for i in 0..5 {
                    let body = envelope(
                        "",
                        &create_meeting(None, "SendToNone", &format!("t{n}-{i}"), &[], &[]),
                    );
                    let r = post_as(sim, "user2@example.com", &body);
                    assert_eq!(r.codes(), ["NoError"]);
                }
            });
        }
    });
    assert_eq!(
        sim.mailbox("user2@example.com").expect("mb").calendar.len(),
        20
    );
    let ids: std::collections::BTreeSet<_> = sim
        .mailbox("user2@example.com")
        .expect("mb")
        .calendar
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(ids.len(), 20);
}

#[test]
fn drop_stops_the_server() {
    let sim = Simulator::start(SimConfig::seed());
    let addr = sim.addr();
    assert_eq!(post_as(&sim, U1, &get1()).status, 200);
    drop(sim);
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn tls_unknown_certificate_is_refused_custom_root_accepted() {
    let sim = Simulator::start(SimConfig::seed().with_tls());
    assert!(sim.url().starts_with("https://127.0.0.1:"));
    let ca = sim.ca_pem().expect("ca pem");
    assert!(ca.contains("BEGIN CERTIFICATE"));
    assert!(sim.cert_pem().is_some());

    let default_agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let refused = default_agent
        .post(sim.url())
        .header("Authorization", "Bearer token-user1")
        .header("Content-Type", "text/xml")
        .send(&get1());
    assert!(refused.is_err());

    let cert = ureq::tls::Certificate::from_pem(ca.as_bytes()).expect("pem");
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls)
        .build()
        .into();
    let mut resp = agent
        .post(sim.url())
        .header("Authorization", "Bearer token-user1")
        .header("Content-Type", "text/xml")
        .send(&get1())
        .expect("TLS with the custom root");
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.body_mut().read_to_string().expect("body");
    assert_eq!(texts(&body, M, "ResponseCode"), ["NoError"]);
}
