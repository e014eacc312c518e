//! `ews-sim` (the binary) and the simulator's control endpoint, GetFolder, the
//! not-implemented answer, FindItem restrictions and CancelCalendarItem. Every request is
//! raw SOAP or JSON written here by hand: the simulator is the oracle, the core's encoder
//! is not involved.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ews_tests::sim::{
    DelegateSnapshot, PermissionLevel, Permissions, Seed, SeedItem, SimConfig, Simulator,
};
use serde_json::{Value, json};

const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
const E: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";

const U1: (&str, &str) = ("user1@example.com", "Passw0rd-1");
const U2: (&str, &str) = ("user2@example.com", "Passw0rd-2");
const U3: (&str, &str) = ("user3@example.com", "Passw0rd-3");
const U4: (&str, &str) = ("user4@example.com", "Passw0rd-4");

// ------------------------------------------------------------------ HTTP helpers

fn agent(ca_pem: Option<&str>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)));
    if let Some(pem) = ca_pem {
        let cert = ureq::tls::Certificate::from_pem(pem.as_bytes()).expect("the CA is PEM");
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
                .build(),
        );
    }
    config.build().into()
}

#[derive(Debug)]
struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    fn texts(&self, ns: &str, local: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(&self.body).expect("the answer is XML");
        doc.descendants()
            .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local)
            .map(|n| n.children().filter_map(|c| c.text()).collect())
            .collect()
    }

    fn codes(&self) -> Vec<String> {
        self.texts(M, "ResponseCode")
    }

    fn attrs(&self, ns: &str, local: &str, attr: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(&self.body).expect("the answer is XML");
        doc.descendants()
            .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local)
            .filter_map(|n| n.attribute(attr).map(str::to_string))
            .collect()
    }

    /// Local names of the element children of every `parent` element, in order.
    fn children_of(&self, ns: &str, parent: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(&self.body).expect("the answer is XML");
        doc.descendants()
            .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == parent)
            .flat_map(|n| n.children().filter(|c| c.is_element()))
            .map(|c| c.tag_name().name().to_string())
            .collect()
    }
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="{M}" xmlns:t="{T}">
  <soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/></soap:Header>
  <soap:Body>{body}</soap:Body>
</soap:Envelope>"#
    )
}

fn basic(user: (&str, &str)) -> String {
    // Hand-rolled base64 of "user:password" (the test must not borrow the simulator's).
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{}:{}", user.0, user.1);
    let mut out = String::new();
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

fn soap_at(agent: &ureq::Agent, url: &str, user: (&str, &str), body: &str) -> Resp {
    let mut resp = agent
        .post(url)
        .header("Authorization", &basic(user))
        .header("Content-Type", "text/xml; charset=utf-8")
        .send(&envelope(body))
        .expect("the simulator answers");
    Resp {
        status: resp.status().as_u16(),
        body: resp.body_mut().read_to_string().expect("a text body"),
    }
}

fn soap(sim: &Simulator, user: (&str, &str), body: &str) -> Resp {
    soap_at(&agent(None), &sim.url(), user, body)
}

/// One control request; returns the status and the JSON answer.
fn control(
    agent: &ureq::Agent,
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let url = format!("{base}{path}");
    let result = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        ("POST", Some(b)) => agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(&b.to_string()),
        ("POST", None) => agent.post(&url).send_empty(),
        ("PUT", _) => agent.put(&url).send_empty(),
        (other, _) => panic!("no helper for {other}"),
    };
    let mut resp = result.expect("the control endpoint answers");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("a text body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, value)
}

fn ctl(sim: &Simulator, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    control(&agent(None), &sim.control_url(), method, path, body)
}

fn editor_on_calendar(smtp: &str) -> DelegateSnapshot {
    DelegateSnapshot {
        smtp: smtp.to_string(),
        permissions: Permissions {
            calendar: PermissionLevel::Editor,
            ..Permissions::default()
        },
        receive_copies_of_meeting_messages: false,
        view_private_items: false,
    }
}

// ------------------------------------------------------------------ the binary

/// A running `ews-sim` process, killed if a test fails before stopping it.
struct SimProcess {
    child: Child,
    url: String,
    stdout: BufReader<ChildStdout>,
}

impl SimProcess {
    fn spawn(args: &[&str], stdin: Stdio) -> SimProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ews-sim"))
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ews-sim starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            let _ = tx.send((read.map(|_| line), reader));
        });
        let (line, stdout) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok((Ok(line), reader)) => (line, reader),
            other => {
                let _ = child.kill();
                panic!("no URL line from ews-sim: {other:?}");
            }
        };
        SimProcess {
            child,
            url: line.trim_end_matches('\n').to_string(),
            stdout,
        }
    }

    fn base(&self) -> String {
        self.url
            .strip_suffix("/EWS/Exchange.asmx")
            .expect("an EWS URL")
            .to_string()
    }

    fn control_url(&self) -> String {
        format!("{}/_sim/", self.base())
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM");
    }

    /// Waits for the process to end; returns its status, the rest of stdout and stderr.
    fn wait(mut self, limit: Duration) -> (ExitStatus, String, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("ews-sim did not stop within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).expect("stdout");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut err).expect("stderr");
        }
        (status, rest, err)
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ews-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir.join(name)
}

fn assert_url_line(url: &str) -> u16 {
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .or_else(|| url.strip_prefix("https://127.0.0.1:"))
        .and_then(|r| r.strip_suffix("/EWS/Exchange.asmx"))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("not an EWS URL line: {url:?}"));
    assert_ne!(port, 0);
    port
}

const GET_DELEGATE_U1: &str = r#"<m:GetDelegate IncludePermissions="true"><m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></m:Mailbox></m:GetDelegate>"#;

#[test]
fn the_binary_prints_one_url_line_serves_and_stops_cleanly_on_sigterm() {
    let mut p = SimProcess::spawn(&[], Stdio::null());
    assert_url_line(&p.url);
    assert!(p.url.starts_with("http://"));
    // It serves EWS and the control endpoint at once.
    let r = soap_at(&agent(None), &p.url, U1, GET_DELEGATE_U1);
    assert_eq!((r.status, r.codes()), (200, vec!["NoError".to_string()]));
    let (status, info) = control(&agent(None), &p.control_url(), "GET", "", None);
    assert_eq!(status, 200);
    assert_eq!(info["ews_url"], json!(p.url));
    assert_eq!(info["deterministic"], json!(false));
    assert!(p.running(), "stdin is /dev/null and it is still running");
    p.sigterm();
    let (status, rest, err) = p.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}: {err}");
    assert_eq!(rest, "", "nothing but the URL line on stdout");
    assert!(err.contains("stopped (SIGTERM)"), "{err}");
}

#[test]
fn the_binary_stops_when_stdin_closes_only_if_asked_to() {
    // Asked to: closing stdin stops it.
    let mut p = SimProcess::spawn(&["--exit-on-stdin-eof"], Stdio::piped());
    assert_url_line(&p.url);
    let r = soap_at(&agent(None), &p.url, U1, GET_DELEGATE_U1);
    assert_eq!(r.status, 200);
    drop(p.child.stdin.take());
    let (status, rest, err) = p.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}: {err}");
    assert_eq!(rest, "");
    assert!(err.contains("stopped (stdin closed)"), "{err}");

    // Not asked to: a closed stdin changes nothing.
    let mut p = SimProcess::spawn(&[], Stdio::piped());
    drop(p.child.stdin.take());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        p.running(),
        "stopped although --exit-on-stdin-eof was not given"
    );
    let r = soap_at(&agent(None), &p.url, U1, GET_DELEGATE_U1);
    assert_eq!(r.status, 200);
    p.sigterm();
    let (status, _, _) = p.wait(Duration::from_secs(10));
    assert!(status.success());
}

#[test]
fn the_binary_seeds_from_a_file_on_a_given_port_deterministically() {
    let seed = json!({
        "users": [
            {"smtp": "ann@example.org", "password": "pw-ann", "display_name": "Ann"},
            {"smtp": "bob@example.org", "password": "pw-bob"}
        ],
        "delegates": [{"principal": "ann@example.org", "delegate": "bob@example.org",
                       "permissions": {"calendar": "Editor", "inbox": "Reviewer"}}],
        "deliver_meeting_requests": {"ann@example.org": "DelegatesAndMe"},
        "items": [{"owner": "ann@example.org", "subject": "Seeded", "from": "bob@example.org"}]
    });
    let path = temp_path("seed.json");
    std::fs::write(&path, seed.to_string()).expect("write the seed");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("addr").port()
    };
    let args = [
        "--seed",
        path.to_str().expect("UTF-8 path"),
        "--deterministic",
        "--port",
        &port.to_string(),
    ];
    let mut ids = Vec::new();
    for run in 0..2 {
        let p = SimProcess::spawn(&args, Stdio::null());
        assert_eq!(assert_url_line(&p.url), port, "run {run}");
        let a = agent(None);
        let (_, info) = control(&a, &p.control_url(), "GET", "", None);
        assert_eq!(info["users"], json!(["ann@example.org", "bob@example.org"]));
        assert_eq!(info["deterministic"], json!(true));
        let (status, ann) = control(
            &a,
            &p.control_url(),
            "GET",
            "mailboxes/ann@example.org",
            None,
        );
        assert_eq!(status, 200);
        assert_eq!(ann["deliver_meeting_requests"], json!("DelegatesAndMe"));
        assert_eq!(ann["delegates"][0]["smtp"], json!("bob@example.org"));
        assert_eq!(
            ann["delegates"][0]["permissions"]["calendar"],
            json!("Editor")
        );
        assert_eq!(
            ann["delegates"][0]["permissions"]["inbox"],
            json!("Reviewer")
        );
        assert_eq!(ann["inbox"][0]["subject"], json!("Seeded"));
        // The fixed clock.
        assert_eq!(ann["inbox"][0]["created"], json!("2025-01-01T00:00:01Z"));
        ids.push(ann["inbox"][0]["id"].clone());
        // The seeded accounts authenticate; the standard ones are gone.
        let r = soap_at(
            &a,
            &p.url,
            ("bob@example.org", "pw-bob"),
            r#"<m:GetDelegate IncludePermissions="true"><m:Mailbox><t:EmailAddress>bob@example.org</t:EmailAddress></m:Mailbox></m:GetDelegate>"#,
        );
        assert_eq!(r.codes(), ["NoError"]);
        let r = soap_at(&a, &p.url, U1, GET_DELEGATE_U1);
        assert_eq!(r.status, 401);
        p.sigterm();
        let (status, _, err) = p.wait(Duration::from_secs(10));
        assert!(status.success(), "{err}");
    }
    assert_eq!(ids[0], ids[1], "deterministic ids repeat across runs");

    // Without --deterministic: the wall clock and ids of this run.
    let mut other = Vec::new();
    for _ in 0..2 {
        let p = SimProcess::spawn(
            &["--seed", path.to_str().expect("UTF-8 path")],
            Stdio::null(),
        );
        let (_, ann) = control(
            &agent(None),
            &p.control_url(),
            "GET",
            "mailboxes/ann@example.org",
            None,
        );
        let created = ann["inbox"][0]["created"]
            .as_str()
            .expect("created")
            .to_string();
        assert!(!created.starts_with("2025-01-01T00:00:0"), "{created}");
        other.push(ann["inbox"][0]["id"].clone());
        p.sigterm();
        let _ = p.wait(Duration::from_secs(10));
    }
    assert_ne!(other[0], other[1]);
    assert_ne!(other[0], ids[0]);
}

#[test]
fn the_binary_refuses_a_bad_seed_and_a_ca_file_without_tls() {
    let path = temp_path("bad-seed.json");
    std::fs::write(
        &path,
        r#"{"delegates": [{"principal": "nobody@x", "delegate": "user2@example.com"}]}"#,
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ews-sim"))
        .args(["--seed", path.to_str().expect("UTF-8")])
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nobody@x"), "{err}");
    std::fs::write(&path, r#"{"delegatez": []}"#).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ews-sim"))
        .args(["--seed", path.to_str().expect("UTF-8")])
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(!out.status.success(), "an unknown member is refused");
    let out = Command::new(env!("CARGO_BIN_EXE_ews-sim"))
        .args(["--ca-file", "/nonexistent/ca.pem"])
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let help = Command::new(env!("CARGO_BIN_EXE_ews-sim"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--port",
        "--tls",
        "--ca-file",
        "--seed",
        "--deterministic",
        "--exit-on-stdin-eof",
    ] {
        assert!(text.contains(flag), "{flag} in --help");
    }
}

#[test]
fn the_binary_serves_https_with_the_ca_it_wrote() {
    let ca_file = temp_path("ca.pem");
    let _ = std::fs::remove_file(&ca_file);
    let p = SimProcess::spawn(
        &["--tls", "--ca-file", ca_file.to_str().expect("UTF-8")],
        Stdio::null(),
    );
    assert!(p.url.starts_with("https://127.0.0.1:"), "{}", p.url);
    assert_url_line(&p.url);
    let pem = std::fs::read_to_string(&ca_file).expect("the CA file exists once the URL is out");
    assert!(pem.contains("BEGIN CERTIFICATE"));
    // Refused without the CA, served with it.
    assert!(agent(None).get(&p.control_url()).call().is_err());
    let a = agent(Some(&pem));
    let r = soap_at(&a, &p.url, U1, GET_DELEGATE_U1);
    assert_eq!(r.codes(), ["NoError"]);
    let (status, info) = control(&a, &p.control_url(), "GET", "", None);
    assert_eq!((status, info["tls"].clone()), (200, json!(true)));
    p.sigterm();
    let (status, _, _) = p.wait(Duration::from_secs(10));
    assert!(status.success());
}

#[test]
fn the_binary_shares_no_code_with_the_core() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("src/bin") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("readable");
        for name in ["ews_proto", "ews_blocking", "ews_async", "ews_tests::tour"] {
            assert!(!text.contains(name), "{} mentions {name}", path.display());
        }
        seen += 1;
    }
    assert!(seen >= 1);
}

// ------------------------------------------------------------------ control endpoint

#[test]
fn control_seed_snapshot_inject_requests_and_reset() {
    let sim = Simulator::start(SimConfig::seed());
    // Seed: a new account, a delegate, an item.
    let (status, report) = ctl(
        &sim,
        "POST",
        "seed",
        Some(&json!({
            "users": [{"smtp": "carol@example.com", "password": "pw", "token": "token-carol"}],
            "delegates": [{"principal": "user1@example.com", "delegate": "carol@example.com",
                           "permissions": {"inbox": "Reviewer"}}],
            "items": [{"owner": "user1@example.com", "subject": "from the seed"}]
        })),
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["users_added"], json!(1));
    assert_eq!(report["delegates"], json!(1));
    let item_id = report["items"][0].as_str().expect("an item id").to_string();
    // Snapshot, through the endpoint and the library alike.
    let (status, u1) = ctl(&sim, "GET", "mailboxes/user1%40example.com", None);
    assert_eq!(status, 200);
    assert_eq!(u1["delegates"][0]["smtp"], json!("carol@example.com"));
    assert_eq!(u1["inbox"][0]["id"], json!(item_id));
    assert_eq!(sim.mailbox(U1.0).expect("u1").inbox[0].id, item_id);
    let (_, all) = ctl(&sim, "GET", "mailboxes", None);
    assert_eq!(all.as_array().map(Vec::len), Some(6));
    // The new account works.
    let r = soap(
        &sim,
        ("carol@example.com", "pw"),
        &get_folder("Default", &[dist("inbox", Some(U1.0))]),
    );
    assert_eq!(r.codes(), ["NoError"]);
    // A refused seed changes nothing.
    let (status, err) = ctl(
        &sim,
        "POST",
        "seed",
        Some(
            &json!({"users": [{"smtp": "dave@example.com", "password": "pw"}],
                     "delegates": [{"principal": "user1@example.com", "delegate": "ghost@example.com"}]}),
        ),
    );
    assert_eq!(status, 400);
    assert!(
        err["error"]
            .as_str()
            .is_some_and(|e| e.contains("ghost@example.com")),
        "{err}"
    );
    let (status, _) = ctl(&sim, "GET", "mailboxes/dave@example.com", None);
    assert_eq!(status, 404);
    let (status, _) = ctl(&sim, "POST", "seed", Some(&json!({"itemz": []})));
    assert_eq!(status, 400);

    // Inject: the next GetFolder is refused as busy, then served.
    let (status, pending) = ctl(
        &sim,
        "POST",
        "faults",
        Some(
            &json!({"operation": "GetFolder", "fault": {"kind": "ServerBusy", "back_off_ms": 250}}),
        ),
    );
    assert_eq!((status, pending["pending"].clone()), (200, json!(1)));
    let busy = soap(&sim, U1, &get_folder("IdOnly", &[dist("inbox", None)]));
    assert_eq!(busy.status, 500);
    assert_eq!(busy.texts(E, "ResponseCode"), ["ErrorServerBusy"]);
    assert!(
        busy.body.contains(r#"Name="BackOffMilliseconds">250<"#),
        "{}",
        busy.body
    );
    let ok = soap(&sim, U1, &get_folder("IdOnly", &[dist("inbox", None)]));
    assert_eq!(ok.codes(), ["NoError"]);
    assert_eq!(ctl(&sim, "GET", "faults", None).1["pending"], json!(0));
    ctl(
        &sim,
        "POST",
        "faults",
        Some(&json!({"times": 3, "fault": {"kind": "HtmlErrorPage"}})),
    );
    assert_eq!(sim.pending_faults(), 3);
    assert_eq!(ctl(&sim, "DELETE", "faults", None).1["pending"], json!(0));
    assert_eq!(sim.pending_faults(), 0);
    let (status, _) = ctl(
        &sim,
        "POST",
        "faults",
        Some(&json!({"fault": {"kind": "Meteor"}})),
    );
    assert_eq!(status, 400);

    // Recorded requests: EWS ones only (control requests are not recorded), filterable.
    let (_, recs) = ctl(&sim, "GET", "requests", None);
    let ops: Vec<&str> = recs
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["operation"].as_str())
        .collect();
    assert_eq!(ops, ["GetFolder", "GetFolder", "GetFolder"]);
    assert_eq!(recs[1]["fault"], json!("ServerBusy"));
    assert_eq!(recs[1]["status"], json!(500));
    assert_eq!(recs[0]["authenticated_as"], json!("carol@example.com"));
    let (_, only) = ctl(&sim, "GET", "requests?operation=GetDelegate", None);
    assert_eq!(only, json!([]));
    assert_eq!(ctl(&sim, "DELETE", "requests", None).1["cleared"], json!(3));
    assert!(sim.requests().is_empty());

    // Reset: back to the start, whatever was seeded, recorded or armed since.
    soap(&sim, U1, &get_folder("IdOnly", &[dist("inbox", None)]));
    ctl(
        &sim,
        "POST",
        "faults",
        Some(&json!({"fault": {"kind": "TruncatedXml"}})),
    );
    assert_eq!(
        ctl(&sim, "POST", "reset", None),
        (200, json!({"reset": true}))
    );
    let u1 = sim.mailbox(U1.0).expect("u1");
    assert!(u1.delegates.is_empty() && u1.inbox.is_empty(), "{u1:?}");
    assert!(sim.mailbox("carol@example.com").is_none());
    assert!(sim.requests().is_empty());
    assert_eq!(sim.pending_faults(), 0);

    // Wrong method, unknown resource.
    assert_eq!(ctl(&sim, "PUT", "reset", None).0, 405);
    assert_eq!(ctl(&sim, "GET", "reset", None).0, 405);
    assert_eq!(ctl(&sim, "GET", "nothing-here", None).0, 404);
}

#[test]
fn reset_restores_the_configured_seed() {
    let seed = Seed {
        items: vec![SeedItem {
            owner: U2.0.to_string(),
            kind: Some("CalendarItem".to_string()),
            folder: None,
            subject: Some("Standing meeting".to_string()),
            body: None,
            from: None,
            sender: None,
            to: vec![],
            cc: vec![],
            received: None,
            is_read: false,
            sensitivity: None,
            importance: None,
            categories: vec![],
            start: Some("2025-06-02T10:00:00Z".to_string()),
            end: Some("2025-06-02T11:00:00Z".to_string()),
            location: None,
            attendees: vec![U3.0.to_string()],
        }],
        ..Seed::default()
    };
    let sim = Simulator::start(SimConfig::seed().with_seed(seed));
    let before = sim.mailbox(U2.0).expect("u2");
    assert_eq!(before.calendar.len(), 1);
    assert!(before.calendar[0].is_meeting);
    let id = before.calendar[0].id.clone();
    let r = soap(&sim, U2, &cancel(&id, "SendOnly"));
    assert_eq!(r.codes(), ["NoError"]);
    assert!(sim.mailbox(U2.0).expect("u2").calendar.is_empty());
    sim.reset();
    assert_eq!(sim.mailbox(U2.0).expect("u2"), before);
    assert!(sim.mailbox(U3.0).expect("u3").inbox.is_empty());
}

// ------------------------------------------------------------------ GetFolder

fn dist(name: &str, mailbox: Option<&str>) -> String {
    match mailbox {
        Some(m) => format!(
            r#"<t:DistinguishedFolderId Id="{name}"><t:Mailbox><t:EmailAddress>{m}</t:EmailAddress></t:Mailbox></t:DistinguishedFolderId>"#
        ),
        None => format!(r#"<t:DistinguishedFolderId Id="{name}"/>"#),
    }
}

fn get_folder(shape: &str, ids: &[String]) -> String {
    format!(
        "<m:GetFolder><m:FolderShape><t:BaseShape>{shape}</t:BaseShape></m:FolderShape><m:FolderIds>{}</m:FolderIds></m:GetFolder>",
        ids.concat()
    )
}

const SEVEN: [&str; 7] = [
    "root",
    "msgfolderroot",
    "calendar",
    "inbox",
    "sentitems",
    "deleteditems",
    "drafts",
];

#[test]
fn get_folder_answers_the_distinguished_folders() {
    let sim = Simulator::start(SimConfig::seed());
    sim.seed(&Seed {
        items: vec![
            seed_message(U1.0, "unread one", U3.0, None),
            seed_message(U1.0, "unread two", U3.0, None),
        ],
        ..Seed::default()
    })
    .expect("seeded");
    let ids: Vec<String> = SEVEN.iter().map(|n| dist(n, None)).collect();
    let r = soap(&sim, U1, &get_folder("Default", &ids));
    assert_eq!(r.status, 200);
    assert_eq!(r.codes(), vec!["NoError"; 7]);
    assert_eq!(
        r.children_of(M, "Folders"),
        [
            "Folder",
            "Folder",
            "CalendarFolder",
            "Folder",
            "Folder",
            "Folder",
            "Folder"
        ]
    );
    assert_eq!(
        r.texts(T, "DisplayName"),
        [
            "Root",
            "Top of Information Store",
            "Calendar",
            "Inbox",
            "Sent Items",
            "Deleted Items",
            "Drafts"
        ]
    );
    // Default: TotalCount, ChildFolderCount, UnreadCount (none on the calendar folder).
    assert_eq!(
        r.texts(T, "TotalCount"),
        ["0", "0", "0", "2", "0", "0", "0"]
    );
    assert_eq!(r.texts(T, "UnreadCount"), ["0", "0", "2", "0", "0", "0"]);
    assert_eq!(
        r.texts(T, "ChildFolderCount")[..2],
        ["1".to_string(), "9".to_string()]
    );
    assert!(
        r.texts(T, "FolderClass").is_empty(),
        "not in the Default shape"
    );
    let folder_ids = r.attrs(T, "FolderId", "Id");
    assert_eq!(folder_ids.len(), 7);
    let mut unique = folder_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7, "one id per folder");

    // IdOnly writes the id alone; AllProperties the classes, parents and rights.
    let r = soap(&sim, U1, &get_folder("IdOnly", &[dist("calendar", None)]));
    assert_eq!(r.children_of(T, "CalendarFolder"), ["FolderId"]);
    let r = soap(
        &sim,
        U1,
        &get_folder(
            "AllProperties",
            &[dist("calendar", None), dist("msgfolderroot", None)],
        ),
    );
    assert_eq!(r.texts(T, "FolderClass"), ["IPF.Appointment", "IPF.Note"]);
    assert_eq!(
        r.texts(T, "DistinguishedFolderId"),
        ["calendar", "msgfolderroot"]
    );
    let parents = r.attrs(T, "ParentFolderId", "Id");
    assert_eq!(
        parents[0], folder_ids[1],
        "calendar's parent is msgfolderroot"
    );
    assert_eq!(parents[1], folder_ids[0], "msgfolderroot's parent is root");
    assert_eq!(r.texts(T, "Read"), ["true", "true"]);

    // The ids are stable and work wherever a folder is named.
    let by_id = format!(r#"<t:FolderId Id="{}"/>"#, folder_ids[3]);
    let r = soap(
        &sim,
        U1,
        &get_folder("Default", std::slice::from_ref(&by_id)),
    );
    assert_eq!(r.texts(T, "DisplayName"), ["Inbox"]);
    let again = soap(
        &sim,
        U1,
        &get_folder("IdOnly", &[dist("inbox", Some(U1.0))]),
    );
    assert_eq!(again.attrs(T, "FolderId", "Id"), [folder_ids[3].clone()]);
    let r = soap(&sim, U1, &find_item(&by_id, ""));
    assert_eq!(r.texts(T, "Subject"), ["unread two", "unread one"]);

    // Unknown folders.
    let r = soap(
        &sim,
        U1,
        &get_folder(
            "Default",
            &[
                dist("junkemail", None),
                r#"<t:FolderId Id="AAMkAGSimFbm9wZQ=="/>"#.to_string(),
            ],
        ),
    );
    assert_eq!(r.codes(), ["ErrorFolderNotFound", "ErrorFolderNotFound"]);
    assert_eq!(
        r.attrs(M, "GetFolderResponseMessage", "ResponseClass"),
        ["Error", "Error"]
    );
}

#[test]
fn get_folder_applies_the_delegate_permissions() {
    let sim = Simulator::start(SimConfig::seed());
    sim.set_delegate(
        U1.0,
        DelegateSnapshot {
            smtp: U2.0.to_string(),
            permissions: Permissions {
                calendar: PermissionLevel::Reviewer,
                inbox: PermissionLevel::None,
                ..Permissions::default()
            },
            receive_copies_of_meeting_messages: false,
            view_private_items: false,
        },
    );
    let ids: Vec<String> = SEVEN.iter().map(|n| dist(n, Some(U1.0))).collect();
    let r = soap(&sim, U2, &get_folder("AllProperties", &ids));
    assert_eq!(
        r.codes(),
        [
            "NoError",
            "NoError",
            "NoError",
            "ErrorAccessDenied",
            "ErrorAccessDenied",
            "ErrorAccessDenied",
            "ErrorAccessDenied"
        ]
    );
    // A Reviewer reads but does not create.
    assert_eq!(r.texts(T, "CreateContents"), ["false", "false", "false"]);
    assert_eq!(r.texts(T, "Read"), ["true", "true", "true"]);
    // Someone who is no delegate sees nothing of the mailbox.
    let r = soap(
        &sim,
        U3,
        &get_folder(
            "Default",
            &[dist("root", Some(U1.0)), dist("calendar", Some(U1.0))],
        ),
    );
    assert_eq!(r.codes(), ["ErrorAccessDenied", "ErrorAccessDenied"]);
    // Nor through a folder id.
    let own = soap(&sim, U1, &get_folder("IdOnly", &[dist("calendar", None)]));
    let id = format!(
        r#"<t:FolderId Id="{}"/>"#,
        own.attrs(T, "FolderId", "Id")[0]
    );
    assert_eq!(
        soap(&sim, U3, &get_folder("IdOnly", std::slice::from_ref(&id))).codes(),
        ["ErrorAccessDenied"]
    );
    assert_eq!(
        soap(&sim, U2, &get_folder("IdOnly", &[id])).codes(),
        ["NoError"]
    );
    // Editor on the calendar: CreateContents.
    sim.set_delegate(U1.0, editor_on_calendar(U2.0));
    let r = soap(
        &sim,
        U2,
        &get_folder("AllProperties", &[dist("calendar", Some(U1.0))]),
    );
    assert_eq!(r.texts(T, "CreateContents"), ["true"]);
    // Unknown mailbox.
    let r = soap(
        &sim,
        U1,
        &get_folder("Default", &[dist("inbox", Some("ghost@example.com"))]),
    );
    assert_eq!(r.codes(), ["ErrorNonExistentMailbox"]);
}

// ------------------------------------------------------------------ not implemented

#[test]
fn an_unimplemented_operation_is_not_a_version_problem() {
    let sim = Simulator::start(SimConfig::seed());
    let r = soap(
        &sim,
        U1,
        r#"<m:FindFolder Traversal="Shallow"><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:ParentFolderIds><t:DistinguishedFolderId Id="msgfolderroot"/></m:ParentFolderIds></m:FindFolder>"#,
    );
    // HTTP 200, the operation's own response, ErrorInvalidOperation, the server version.
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.codes(), ["ErrorInvalidOperation"]);
    assert_eq!(
        r.attrs(M, "FindFolderResponseMessage", "ResponseClass"),
        ["Error"]
    );
    assert!(r.texts(M, "MessageText")[0].contains("'FindFolder'"));
    assert_eq!(r.attrs(T, "ServerVersionInfo", "Version"), ["V2017_07_11"]);
    assert!(r.texts(E, "ResponseCode").is_empty(), "not a SOAP fault");
    let rec = sim.requests().pop().expect("recorded");
    assert_eq!(rec.response_code.as_deref(), Some("ErrorInvalidOperation"));
    // Version problems still look like version problems, and come first.
    let no_version = envelope("<m:ConvertId/>").replace(
        r#"<t:RequestServerVersion Version="Exchange2013_SP1"/>"#,
        "",
    );
    let mut resp = agent(None)
        .post(sim.url())
        .header("Authorization", &basic(U1))
        .header("Content-Type", "text/xml")
        .send(&no_version)
        .expect("answer");
    let body = resp.body_mut().read_to_string().expect("body");
    assert!(body.contains("ErrorInvalidServerVersion"), "{body}");
    // An operation that is not EWS at all is a schema error, as from Exchange.
    let r = soap(&sim, U1, "<m:FlyToTheMoon/>");
    assert_eq!(r.status, 500);
    assert_eq!(r.texts(E, "ResponseCode"), ["ErrorSchemaValidation"]);
    // FindItem parts the simulator does not serve are refused, not ignored.
    let r = soap(
        &sim,
        U1,
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:FractionalPageItemView Numerator="0" Denominator="1"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>"#,
    );
    assert_eq!(r.codes(), ["ErrorInvalidOperation"]);
}

// ------------------------------------------------------------------ FindItem restrictions

fn seed_message(owner: &str, subject: &str, from: &str, received: Option<&str>) -> SeedItem {
    SeedItem {
        owner: owner.to_string(),
        kind: None,
        folder: None,
        subject: Some(subject.to_string()),
        body: None,
        from: Some(from.to_string()),
        sender: None,
        to: vec![owner.to_string()],
        cc: vec![],
        received: received.map(str::to_string),
        is_read: false,
        sensitivity: None,
        importance: None,
        categories: vec![],
        start: None,
        end: None,
        location: None,
        attendees: vec![],
    }
}

fn find_item(folder: &str, extra: &str) -> String {
    format!(
        r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>{extra}<m:ParentFolderIds>{folder}</m:ParentFolderIds></m:FindItem>"#
    )
}

fn restricted(expr: &str) -> String {
    find_item(
        &dist("inbox", None),
        &format!("<m:Restriction>{expr}</m:Restriction>"),
    )
}

fn cmp(op: &str, field: &str, value: &str) -> String {
    format!(
        r#"<t:{op}><t:FieldURI FieldURI="{field}"/><t:FieldURIOrConstant><t:Constant Value="{value}"/></t:FieldURIOrConstant></t:{op}>"#
    )
}

fn subjects(sim: &Simulator, body: &str) -> Vec<String> {
    let r = soap(sim, U1, body);
    assert_eq!(r.codes(), ["NoError"], "{}", r.body);
    r.texts(T, "Subject")
}

#[test]
fn find_item_evaluates_restrictions() {
    let sim = Simulator::start(SimConfig::seed());
    sim.seed(&Seed {
        items: vec![
            seed_message(U1.0, "Quarterly report", U2.0, Some("2025-03-01T09:00:00Z")),
            seed_message(U1.0, "Lunch?", U3.0, Some("2025-03-02T09:00:00Z")),
            seed_message(U1.0, "Report draft", U3.0, Some("2025-03-03T09:00:00Z")),
        ],
        ..Seed::default()
    })
    .expect("seeded");
    let all = subjects(&sim, &find_item(&dist("inbox", None), ""));
    assert_eq!(all, ["Report draft", "Lunch?", "Quarterly report"]);

    // IsEqualTo on the subject ignores case and matches the whole subject.
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp("IsEqualTo", "item:Subject", "lunch?"))
        ),
        ["Lunch?"]
    );
    assert!(
        subjects(
            &sim,
            &restricted(&cmp("IsEqualTo", "item:Subject", "Lunch"))
        )
        .is_empty()
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp("IsNotEqualTo", "item:Subject", "Lunch?"))
        ),
        ["Report draft", "Quarterly report"]
    );
    // Contains: substring ignoring case, prefix, exact case.
    let contains = |mode: &str, comparison: &str, value: &str| {
        restricted(&format!(
            r#"<t:Contains ContainmentMode="{mode}" ContainmentComparison="{comparison}"><t:FieldURI FieldURI="item:Subject"/><t:Constant Value="{value}"/></t:Contains>"#
        ))
    };
    assert_eq!(
        subjects(&sim, &contains("Substring", "IgnoreCase", "REPORT")),
        ["Report draft", "Quarterly report"]
    );
    assert_eq!(
        subjects(&sim, &contains("Prefixed", "IgnoreCase", "report")),
        ["Report draft"]
    );
    assert_eq!(
        subjects(&sim, &contains("Substring", "Exact", "report")),
        ["Quarterly report"]
    );
    assert_eq!(
        subjects(&sim, &contains("PrefixOnWords", "IgnoreCase", "dra")),
        ["Report draft"]
    );
    // Dates: IsGreaterThan, IsLessThan, and their OrEqualTo forms; offsets are honoured.
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp(
                "IsGreaterThan",
                "item:DateTimeReceived",
                "2025-03-02T09:00:00Z"
            ))
        ),
        ["Report draft"]
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp(
                "IsGreaterThanOrEqualTo",
                "item:DateTimeReceived",
                "2025-03-02T11:00:00+02:00"
            ))
        ),
        ["Report draft", "Lunch?"]
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp(
                "IsLessThan",
                "item:DateTimeReceived",
                "2025-03-02T09:00:00Z"
            ))
        ),
        ["Quarterly report"]
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp(
                "IsLessThanOrEqualTo",
                "item:DateTimeSent",
                "2025-03-02T09:00:00"
            ))
        ),
        ["Lunch?", "Quarterly report"]
    );
    // Sender and From: by SMTP address or display name; ordered by address.
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp("IsEqualTo", "message:Sender", "USER2@example.com"))
        ),
        ["Quarterly report"]
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp("IsEqualTo", "message:From", "User3"))
        ),
        ["Report draft", "Lunch?"]
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp("IsGreaterThan", "message:Sender", "user2@example.com"))
        ),
        ["Report draft", "Lunch?"]
    );
    assert_eq!(
        subjects(
            &sim,
            &restricted(&cmp("IsLessThan", "message:Sender", "user3@example.com"))
        ),
        ["Quarterly report"]
    );
    // And, Or, Not, Exists.
    let and = format!(
        "<t:And>{}{}</t:And>",
        cmp("IsEqualTo", "message:Sender", U3.0),
        cmp(
            "IsGreaterThan",
            "item:DateTimeReceived",
            "2025-03-02T12:00:00Z"
        )
    );
    assert_eq!(subjects(&sim, &restricted(&and)), ["Report draft"]);
    let or = format!(
        "<t:Or>{}{}</t:Or>",
        cmp("IsEqualTo", "item:Subject", "Lunch?"),
        cmp("IsEqualTo", "message:Sender", U2.0)
    );
    assert_eq!(
        subjects(&sim, &restricted(&or)),
        ["Lunch?", "Quarterly report"]
    );
    let not = format!(
        "<t:Not>{}</t:Not>",
        cmp("IsEqualTo", "message:Sender", U3.0)
    );
    assert_eq!(subjects(&sim, &restricted(&not)), ["Quarterly report"]);
    let no_start = r#"<t:Exists><t:FieldURI FieldURI="calendar:Start"/></t:Exists>"#;
    assert!(subjects(&sim, &restricted(no_start)).is_empty());
    // A SortOrder is applied too.
    let sorted = find_item(
        &dist("inbox", None),
        r#"<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:Subject"/></t:FieldOrder></m:SortOrder>"#,
    );
    assert_eq!(
        subjects(&sim, &sorted),
        ["Lunch?", "Quarterly report", "Report draft"]
    );
    // With paging, the restriction applies before the page is cut.
    let paged = find_item(
        &dist("inbox", None),
        &format!(
            r#"<m:IndexedPageItemView MaxEntriesReturned="1" Offset="0" BasePoint="Beginning"/><m:Restriction>{}</m:Restriction>"#,
            cmp("IsEqualTo", "message:Sender", U3.0)
        ),
    );
    let r = soap(&sim, U1, &paged);
    assert_eq!(r.texts(T, "Subject"), ["Report draft"]);
    assert_eq!(r.attrs(M, "RootFolder", "TotalItemsInView"), ["2"]);
}

#[test]
fn find_item_restrictions_on_calendar_dates() {
    let sim = Simulator::start(SimConfig::seed());
    let meeting = |subject: &str, start: &str, end: &str| SeedItem {
        kind: Some("CalendarItem".to_string()),
        start: Some(start.to_string()),
        end: Some(end.to_string()),
        from: None,
        to: vec![],
        ..seed_message(U1.0, subject, U1.0, None)
    };
    sim.seed(&Seed {
        items: vec![
            meeting("Monday", "2025-06-02T10:00:00Z", "2025-06-02T11:00:00Z"),
            meeting("Tuesday", "2025-06-03T10:00:00Z", "2025-06-03T11:00:00Z"),
        ],
        ..Seed::default()
    })
    .expect("seeded");
    let calendar = dist("calendar", None);
    let on = |expr: String| find_item(&calendar, &format!("<m:Restriction>{expr}</m:Restriction>"));
    assert_eq!(
        subjects(
            &sim,
            &on(cmp(
                "IsGreaterThan",
                "calendar:Start",
                "2025-06-02T12:00:00Z"
            ))
        ),
        ["Tuesday"]
    );
    assert_eq!(
        subjects(
            &sim,
            &on(cmp("IsLessThan", "calendar:End", "2025-06-03T00:00:00Z"))
        ),
        ["Monday"]
    );
    // A CalendarView is served too (overlapping meetings, earliest first).
    let view = find_item(
        &calendar,
        r#"<m:CalendarView StartDate="2025-06-01T00:00:00Z" EndDate="2025-06-02T10:30:00Z"/>"#,
    );
    assert_eq!(subjects(&sim, &view), ["Monday"]);
}

#[test]
fn find_item_refuses_what_it_cannot_evaluate() {
    let sim = Simulator::start(SimConfig::seed());
    sim.seed(&Seed {
        items: vec![seed_message(U1.0, "anything", U2.0, None)],
        ..Seed::default()
    })
    .expect("seeded");
    let cases = [
        (
            r#"<t:Excludes><t:FieldURI FieldURI="item:Subject"/><t:Bitmask Value="1"/></t:Excludes>"#.to_string(),
            "ErrorUnsupportedQueryFilter",
        ),
        (cmp("IsEqualTo", "item:Size", "10"), "ErrorUnsupportedPathForQuery"),
        (
            r#"<t:IsEqualTo><t:ExtendedFieldURI PropertyTag="0x0037" PropertyType="String"/><t:FieldURIOrConstant><t:Constant Value="x"/></t:FieldURIOrConstant></t:IsEqualTo>"#.to_string(),
            "ErrorUnsupportedPathForQuery",
        ),
        (
            r#"<t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:FieldURI FieldURI="item:Subject"/></t:FieldURIOrConstant></t:IsEqualTo>"#.to_string(),
            "ErrorUnsupportedQueryFilter",
        ),
        (cmp("IsGreaterThan", "item:DateTimeReceived", "yesterday"), "ErrorInvalidValueForProperty"),
        (cmp("IsGreaterThan", "message:IsRead", "true"), "ErrorUnsupportedQueryFilter"),
        ("<t:Not/>".to_string(), "ErrorInvalidRestriction"),
    ];
    for (expr, code) in cases {
        let r = soap(&sim, U1, &restricted(&expr));
        assert_eq!(r.status, 200);
        assert_eq!(r.codes(), [code], "{expr}");
        assert!(
            r.texts(T, "Subject").is_empty(),
            "no items when refused: {expr}"
        );
        assert!(!r.texts(M, "MessageText")[0].is_empty());
    }
    let r = soap(&sim, U1, &restricted(""));
    assert_eq!(r.codes(), ["ErrorInvalidRestriction"]);
    let unsorted = find_item(
        &dist("inbox", None),
        r#"<m:SortOrder><t:FieldOrder Order="Ascending"><t:FieldURI FieldURI="item:Size"/></t:FieldOrder></m:SortOrder>"#,
    );
    assert_eq!(
        soap(&sim, U1, &unsorted).codes(),
        ["ErrorUnsupportedPathForSortGroup"]
    );
}

// ------------------------------------------------------------------ CancelCalendarItem

fn create_meeting(principal: &str, subject: &str, attendees: &[&str]) -> String {
    let list: String = attendees
        .iter()
        .map(|a| format!("<t:Attendee><t:Mailbox><t:EmailAddress>{a}</t:EmailAddress></t:Mailbox></t:Attendee>"))
        .collect();
    format!(
        r#"<m:CreateItem SendMeetingInvitations="SendToAllAndSaveCopy"><m:SavedItemFolderId>{}</m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>{subject}</t:Subject><t:Body BodyType="Text">Agenda</t:Body><t:Start>2025-06-02T10:00:00Z</t:Start><t:End>2025-06-02T11:00:00Z</t:End><t:RequiredAttendees>{list}</t:RequiredAttendees></t:CalendarItem></m:Items></m:CreateItem>"#,
        dist("calendar", Some(principal))
    )
}

fn cancel(id: &str, disposition: &str) -> String {
    format!(
        r#"<m:CreateItem MessageDisposition="{disposition}"><m:Items><t:CancelCalendarItem><t:ReferenceItemId Id="{id}"/><t:NewBodyContent BodyType="Text">Sorry, cancelled.</t:NewBodyContent></t:CancelCalendarItem></m:Items></m:CreateItem>"#
    )
}

fn meeting_id(sim: &Simulator, who: (&str, &str), principal: &str, subject: &str) -> String {
    let r = soap(sim, who, &create_meeting(principal, subject, &[U3.0, U4.0]));
    assert_eq!(r.codes(), ["NoError"], "{}", r.body);
    r.attrs(T, "ItemId", "Id").pop().expect("the meeting's id")
}

#[test]
fn cancel_calendar_item_cancels_the_meeting() {
    let sim = Simulator::start(SimConfig::seed());
    let id = meeting_id(&sim, U1, U1.0, "Offsite");
    assert_eq!(sim.mailbox(U3.0).expect("u3").inbox.len(), 1);
    let r = soap(&sim, U1, &cancel(&id, "SendAndSaveCopy"));
    assert_eq!(
        (r.status, r.codes()),
        (200, vec!["NoError".to_string()]),
        "{}",
        r.body
    );
    // Every attendee gets a cancellation with the new body.
    for who in [U3.0, U4.0] {
        let mb = sim.mailbox(who).expect("attendee");
        assert_eq!(mb.cancellations_received, 1);
        let c = mb
            .inbox
            .iter()
            .find(|i| i.item_class == "IPM.Schedule.Meeting.Canceled")
            .expect("a cancellation");
        assert_eq!(c.subject.as_deref(), Some("Canceled: Offsite"));
        assert_eq!(
            c.body.as_ref().map(|b| b.1.as_str()),
            Some("Sorry, cancelled.")
        );
        assert_eq!(c.from.as_ref().map(|a| a.email.as_str()), Some(U1.0));
    }
    // The organizer's item is cancelled and in Deleted Items (same id); a copy was sent.
    let u1 = sim.mailbox(U1.0).expect("u1");
    assert!(u1.calendar.is_empty());
    assert_eq!(u1.deleted_items.len(), 1);
    assert_eq!(u1.deleted_items[0].id, id);
    assert!(u1.deleted_items[0].is_cancelled);
    assert_eq!(u1.cancellations_sent, 2);
    assert!(
        u1.sent_items
            .iter()
            .any(|i| i.subject.as_deref() == Some("Canceled: Offsite"))
    );
    // Its attendees see it through GetItem as cancelled; cancelling again is refused.
    let get = format!(
        r#"<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id="{id}"/></m:ItemIds></m:GetItem>"#
    );
    assert_eq!(soap(&sim, U1, &get).texts(T, "IsCancelled"), ["true"]);
    assert_eq!(
        soap(&sim, U1, &cancel(&id, "SendOnly")).codes(),
        ["ErrorCalendarIsCancelledForRemove"]
    );
}

#[test]
fn cancel_calendar_item_follows_the_delegate_rules() {
    let sim = Simulator::start(SimConfig::seed());
    sim.set_delegate(U1.0, editor_on_calendar(U2.0));
    let id = meeting_id(&sim, U2, U1.0, "Board meeting");
    // An attendee, no delegate, cannot cancel the principal's meeting.
    assert_eq!(
        soap(&sim, U3, &cancel(&id, "SendOnly")).codes(),
        ["ErrorAccessDenied"]
    );
    // A Reviewer cannot either.
    let mut reviewer = editor_on_calendar(U2.0);
    reviewer.permissions.calendar = PermissionLevel::Reviewer;
    sim.set_delegate(U1.0, reviewer);
    assert_eq!(
        soap(&sim, U2, &cancel(&id, "SendOnly")).codes(),
        ["ErrorAccessDenied"]
    );
    assert_eq!(
        sim.mailbox(U1.0).expect("u1").calendar.len(),
        1,
        "nothing changed"
    );
    // The Editor can; the cancellation is sent by the delegate, from the principal.
    sim.set_delegate(U1.0, editor_on_calendar(U2.0));
    assert_eq!(
        soap(&sim, U2, &cancel(&id, "SendOnly")).codes(),
        ["NoError"]
    );
    let c = sim
        .mailbox(U4.0)
        .expect("u4")
        .inbox
        .into_iter()
        .find(|i| i.is_cancelled)
        .expect("a cancellation");
    assert_eq!(c.sender.map(|a| a.email), Some(U2.0.to_string()));
    assert_eq!(c.from.map(|a| a.email), Some(U1.0.to_string()));
    // SendOnly keeps no copy.
    assert!(
        sim.mailbox(U2.0)
            .expect("u2")
            .sent_items
            .iter()
            .all(|i| !i.is_cancelled)
    );
}

#[test]
fn cancel_calendar_item_checks_what_it_cancels() {
    let sim = Simulator::start(SimConfig::seed());
    let id = meeting_id(&sim, U1, U1.0, "Retro");
    // SaveOnly saves a draft cancellation and cancels nothing.
    let r = soap(&sim, U1, &cancel(&id, "SaveOnly"));
    assert_eq!(r.codes(), ["NoError"]);
    assert_eq!(r.children_of(M, "Items"), ["MeetingCancellation"]);
    let u1 = sim.mailbox(U1.0).expect("u1");
    assert_eq!(u1.drafts.len(), 1);
    assert_eq!(u1.calendar.len(), 1);
    assert_eq!(sim.mailbox(U3.0).expect("u3").cancellations_received, 0);
    // A message is not a meeting; an unknown id; no reference; no disposition.
    let message = sim.mailbox(U3.0).expect("u3").inbox[0].id.clone();
    assert_eq!(
        soap(&sim, U3, &cancel(&message, "SendOnly")).codes(),
        ["ErrorInvalidReferenceItem"]
    );
    assert_eq!(
        soap(&sim, U1, &cancel("AAMkAGSimbm9uZQ==", "SendOnly")).codes(),
        ["ErrorItemNotFound"]
    );
    let no_ref = r#"<m:CreateItem MessageDisposition="SendOnly"><m:Items><t:CancelCalendarItem/></m:Items></m:CreateItem>"#;
    assert_eq!(
        soap(&sim, U1, no_ref).codes(),
        ["ErrorMissingInformationReferenceItemId"]
    );
    let no_disposition = cancel(&id, "SendOnly").replace(r#" MessageDisposition="SendOnly""#, "");
    assert_eq!(
        soap(&sim, U1, &no_disposition).codes(),
        ["ErrorMessageDispositionRequired"]
    );
    // Elements out of schema order are a schema error.
    let disordered = format!(
        r#"<m:CreateItem MessageDisposition="SendOnly"><m:Items><t:CancelCalendarItem><t:NewBodyContent BodyType="Text">x</t:NewBodyContent><t:ReferenceItemId Id="{id}"/></t:CancelCalendarItem></m:Items></m:CreateItem>"#
    );
    let r = soap(&sim, U1, &disordered);
    assert_eq!(r.texts(E, "ResponseCode"), ["ErrorSchemaValidation"]);
    assert_eq!(
        sim.mailbox(U1.0).expect("u1").calendar.len(),
        1,
        "still not cancelled"
    );
}

// ------------------------------------------------------------------ meeting responses

fn respond(element: &str, id: &str, disposition: &str) -> String {
    format!(
        r#"<m:CreateItem MessageDisposition="{disposition}"><m:Items><t:{element}><t:Body BodyType="Text">See you.</t:Body><t:ReferenceItemId Id="{id}"/></t:{element}></m:Items></m:CreateItem>"#
    )
}

fn request_id(sim: &Simulator, who: &str) -> String {
    sim.mailbox(who)
        .expect("attendee")
        .inbox
        .iter()
        .find(|i| i.item_class == "IPM.Schedule.Meeting.Request")
        .expect("a meeting request")
        .id
        .clone()
}

#[test]
fn attendees_accept_tentatively_accept_and_decline() {
    let sim = Simulator::start(SimConfig::seed());
    let meeting = meeting_id(&sim, U1, U1.0, "Planning");
    // Accept: the meeting lands in the attendee's calendar; the organizer hears of it.
    let r = soap(
        &sim,
        U3,
        &respond("AcceptItem", &request_id(&sim, U3.0), "SendAndSaveCopy"),
    );
    assert_eq!(r.codes(), ["NoError"], "{}", r.body);
    let u3 = sim.mailbox(U3.0).expect("u3");
    assert_eq!(u3.calendar.len(), 1);
    assert_eq!(u3.calendar[0].my_response_type.as_deref(), Some("Accept"));
    assert_eq!(
        u3.calendar[0].organizer.as_ref().map(|o| o.email.as_str()),
        Some(U1.0)
    );
    assert!(u3.inbox.is_empty(), "the answered request left the inbox");
    assert_eq!(u3.deleted_items.len(), 1);
    assert_eq!(
        u3.sent_items[0].subject.as_deref(),
        Some("Accepted: Planning")
    );
    let u1 = sim.mailbox(U1.0).expect("u1");
    assert_eq!(u1.responses_received, 1);
    let answer = u1
        .inbox
        .iter()
        .find(|i| i.item_class == "IPM.Schedule.Meeting.Resp.Pos")
        .expect("an answer");
    assert_eq!(answer.subject.as_deref(), Some("Accepted: Planning"));
    assert_eq!(answer.from.as_ref().map(|a| a.email.as_str()), Some(U3.0));
    // GetItem shows the attendee's calendar item as accepted.
    let get = format!(
        r#"<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="calendar:MyResponseType"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="{}"/></m:ItemIds></m:GetItem>"#,
        u3.calendar[0].id
    );
    assert_eq!(soap(&sim, U3, &get).texts(T, "MyResponseType"), ["Accept"]);
    // The attendee cannot cancel the organizer's meeting through its own copy.
    assert_eq!(
        soap(&sim, U3, &cancel(&u3.calendar[0].id, "SendOnly")).codes(),
        ["ErrorCalendarIsNotOrganizer"]
    );
    // Tentative, then decline: the calendar follows; SendOnly keeps no copy.
    let r = soap(
        &sim,
        U4,
        &respond("TentativelyAcceptItem", &request_id(&sim, U4.0), "SendOnly"),
    );
    assert_eq!(r.codes(), ["NoError"]);
    let u4 = sim.mailbox(U4.0).expect("u4");
    assert_eq!(
        u4.calendar[0].my_response_type.as_deref(),
        Some("Tentative")
    );
    assert_eq!(
        u4.calendar[0].legacy_free_busy_status.as_deref(),
        Some("Tentative")
    );
    assert!(u4.sent_items.is_empty());
    let again = u4.deleted_items[0].id.clone();
    let r = soap(&sim, U4, &respond("DeclineItem", &again, "SendOnly"));
    assert_eq!(r.codes(), ["NoError"]);
    assert!(
        sim.mailbox(U4.0).expect("u4").calendar.is_empty(),
        "declined: not in the calendar"
    );
    assert_eq!(sim.mailbox(U1.0).expect("u1").responses_received, 3);
    // The organizer's cancellation marks the attendee's copy cancelled.
    assert_eq!(
        soap(&sim, U1, &cancel(&meeting, "SendOnly")).codes(),
        ["NoError"]
    );
    assert!(sim.mailbox(U3.0).expect("u3").calendar[0].is_cancelled);
}

#[test]
fn meeting_responses_check_the_request_and_the_rights() {
    let sim = Simulator::start(SimConfig::seed());
    let meeting = meeting_id(&sim, U1, U1.0, "Sync");
    let request = request_id(&sim, U3.0);
    // Someone else's request; the organizer's own meeting; an unknown id; no disposition.
    assert_eq!(
        soap(&sim, U4, &respond("AcceptItem", &request, "SendOnly")).codes(),
        ["ErrorAccessDenied"]
    );
    assert_eq!(
        soap(&sim, U1, &respond("AcceptItem", &meeting, "SendOnly")).codes(),
        ["ErrorCalendarIsOrganizerForAccept"]
    );
    assert_eq!(
        soap(&sim, U1, &respond("DeclineItem", &meeting, "SendOnly")).codes(),
        ["ErrorCalendarIsOrganizerForDecline"]
    );
    assert_eq!(
        soap(
            &sim,
            U3,
            &respond("AcceptItem", "AAMkAGSimbm9uZQ==", "SendOnly")
        )
        .codes(),
        ["ErrorItemNotFound"]
    );
    let no_disposition = respond("AcceptItem", &request, "SendOnly")
        .replace(r#" MessageDisposition="SendOnly""#, "");
    assert_eq!(
        soap(&sim, U3, &no_disposition).codes(),
        ["ErrorMessageDispositionRequired"]
    );
    // SaveOnly: a draft answer, nothing else.
    let r = soap(&sim, U3, &respond("DeclineItem", &request, "SaveOnly"));
    assert_eq!(r.codes(), ["NoError"]);
    assert_eq!(r.children_of(M, "Items"), ["MeetingResponse"]);
    let u3 = sim.mailbox(U3.0).expect("u3");
    assert_eq!(u3.drafts[0].subject.as_deref(), Some("Declined: Sync"));
    assert_eq!(u3.inbox.len(), 1, "the request stays");
    assert_eq!(sim.mailbox(U1.0).expect("u1").responses_received, 0);
    // A delegate with Editor on the attendee's calendar and inbox answers for it.
    sim.set_delegate(
        U3.0,
        DelegateSnapshot {
            smtp: U2.0.to_string(),
            permissions: Permissions {
                calendar: PermissionLevel::Editor,
                inbox: PermissionLevel::Editor,
                ..Permissions::default()
            },
            receive_copies_of_meeting_messages: false,
            view_private_items: false,
        },
    );
    assert_eq!(
        soap(&sim, U2, &respond("AcceptItem", &request, "SendOnly")).codes(),
        ["NoError"]
    );
    assert_eq!(sim.mailbox(U3.0).expect("u3").calendar.len(), 1);
    let answer = sim
        .mailbox(U1.0)
        .expect("u1")
        .inbox
        .into_iter()
        .find(|i| i.subject.as_deref() == Some("Accepted: Sync"))
        .expect("the answer");
    assert_eq!(answer.from.map(|a| a.email), Some(U3.0.to_string()));
    assert_eq!(answer.sender.map(|a| a.email), Some(U2.0.to_string()));
}

#[test]
fn sigterm_right_after_the_url_line_is_a_clean_stop() {
    for _ in 0..3 {
        let p = SimProcess::spawn(&[], Stdio::null());
        p.sigterm();
        let (status, rest, err) = p.wait(Duration::from_secs(10));
        assert!(status.success(), "{status:?}: {err}");
        assert_eq!(rest, "");
    }
}

// ------------------------------------------------------------------ schema validity

/// Every new kind of answer (GetFolder, the not-implemented message, CalendarView pages,
/// refused restrictions, cancellations and meeting responses) is valid against
/// Microsoft's schema, checked with `../shared/ews-schema/validate.sh` (which needs
/// xmllint: without it the test fails, it never passes on less).
#[test]
fn the_new_answers_are_valid_against_the_schema() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ews-schema/validate.sh");
    assert!(script.is_file(), "{} is missing", script.display());
    let xmllint = Command::new("xmllint").arg("--version").output();
    assert!(
        xmllint.is_ok_and(|o| o.status.success()),
        "xmllint is not installed (apt-get install -y libxml2-utils): the schema check cannot run"
    );
    let sim = Simulator::start(SimConfig::seed());
    sim.set_delegate(U1.0, editor_on_calendar(U2.0));
    let mut answers: Vec<(&str, Resp)> = Vec::new();
    let all: Vec<String> = SEVEN.iter().map(|n| dist(n, None)).collect();
    answers.push((
        "get-folder-all",
        soap(&sim, U1, &get_folder("AllProperties", &all)),
    ));
    answers.push((
        "get-folder-default",
        soap(&sim, U1, &get_folder("Default", &all)),
    ));
    let theirs: Vec<String> = SEVEN.iter().map(|n| dist(n, Some(U1.0))).collect();
    answers.push((
        "get-folder-denied",
        soap(&sim, U2, &get_folder("Default", &theirs)),
    ));
    answers.push((
        "not-implemented",
        soap(&sim, U1, r#"<m:ResolveNames ReturnFullContactData="true"><m:UnresolvedEntry>user</m:UnresolvedEntry></m:ResolveNames>"#),
    ));
    let meeting = meeting_id(&sim, U2, U1.0, "Valid");
    let view = find_item(
        &dist("calendar", Some(U1.0)),
        r#"<m:CalendarView MaxEntriesReturned="5" StartDate="2025-06-01T00:00:00Z" EndDate="2025-07-01T00:00:00Z"/>"#,
    );
    answers.push(("calendar-view", soap(&sim, U2, &view)));
    answers.push((
        "restriction-refused",
        soap(&sim, U1, &restricted(&cmp("IsEqualTo", "item:Size", "1"))),
    ));
    answers.push((
        "response-draft",
        soap(
            &sim,
            U3,
            &respond("TentativelyAcceptItem", &request_id(&sim, U3.0), "SaveOnly"),
        ),
    ));
    answers.push((
        "accept",
        soap(
            &sim,
            U3,
            &respond("AcceptItem", &request_id(&sim, U3.0), "SendAndSaveCopy"),
        ),
    ));
    answers.push((
        "cancel-draft",
        soap(&sim, U1, &cancel(&meeting, "SaveOnly")),
    ));
    answers.push((
        "cancel",
        soap(&sim, U1, &cancel(&meeting, "SendAndSaveCopy")),
    ));
    let everything = |folder: &str, who: &str| {
        format!(
            r#"<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ParentFolderIds>{}</m:ParentFolderIds></m:FindItem>"#,
            dist(folder, Some(who))
        )
    };
    answers.push((
        "organizer-inbox",
        soap(&sim, U1, &everything("inbox", U1.0)),
    ));
    answers.push((
        "attendee-calendar",
        soap(&sim, U3, &everything("calendar", U3.0)),
    ));
    answers.push(("attendee-inbox", soap(&sim, U3, &everything("inbox", U3.0))));
    let ids: String = sim
        .mailbox(U1.0)
        .expect("u1")
        .inbox
        .iter()
        .chain(&sim.mailbox(U1.0).expect("u1").deleted_items)
        .map(|i| format!(r#"<t:ItemId Id="{}"/>"#, i.id))
        .collect();
    answers.push((
        "get-item-all",
        soap(&sim, U1, &format!("<m:GetItem><m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>")),
    ));
    let dir = temp_path("valid");
    std::fs::create_dir_all(&dir).expect("a folder for the answers");
    let mut files = Vec::new();
    for (name, r) in &answers {
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        let path = dir.join(format!("{name}.xml"));
        std::fs::write(&path, &r.body).expect("write the answer");
        files.push(path);
    }
    let out = Command::new("bash")
        .arg(&script)
        .arg("-q")
        .args(&files)
        .output()
        .expect("validate.sh runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
