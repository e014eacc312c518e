//! Shared helpers for the simulator's own tests: a plain HTTP client (ureq) and a raw
//! TCP client, SOAP envelope builders and XML assertions.
#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ews_tests::Simulator;

pub const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
pub const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
pub const E: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
pub const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Texts of all elements with that namespace and local name, in document order.
    pub fn texts(&self, ns: &str, local: &str) -> Vec<String> {
        texts(&self.body, ns, local)
    }

    /// All m:ResponseCode texts (outer first).
    pub fn codes(&self) -> Vec<String> {
        self.texts(M, "ResponseCode")
    }

    /// The e:ResponseCode of a SOAP fault.
    pub fn fault_code(&self) -> Option<String> {
        self.texts(E, "ResponseCode").into_iter().next()
    }

    /// ResponseClass attributes of all elements that carry one.
    pub fn classes(&self) -> Vec<String> {
        let doc = roxmltree::Document::parse(&self.body).expect("response is XML");
        doc.descendants()
            .filter_map(|n| n.attribute("ResponseClass").map(str::to_string))
            .collect()
    }

    pub fn attr(&self, ns: &str, local: &str, attr: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(&self.body).expect("response is XML");
        doc.descendants()
            .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local)
            .filter_map(|n| n.attribute(attr).map(str::to_string))
            .collect()
    }
}

pub fn texts(xml: &str, ns: &str, local: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("response is XML");
    doc.descendants()
        .filter(|n| n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local)
        .map(|n| n.children().filter_map(|c| c.text()).collect::<String>())
        .collect()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// POSTs `body` with an Authorization header value.
pub fn post_auth(sim: &Simulator, auth: Option<&str>, body: &str) -> Resp {
    let mut req = agent()
        .post(sim.url())
        .header("Content-Type", "text/xml; charset=utf-8");
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    let mut resp = req.send(body).expect("HTTP exchange");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

/// Bearer token of a seed user: `user1@example.com` -> `token-user1`.
pub fn token(user: &str) -> String {
    format!("token-{}", user.split('@').next().unwrap_or(user))
}

/// POSTs as a seed user with its bearer token.
pub fn post_as(sim: &Simulator, user: &str, body: &str) -> Resp {
    post_auth(sim, Some(&format!("Bearer {}", token(user))), body)
}

/// A SOAP envelope (prefix `soap`, m/t declared) with RequestServerVersion plus extra headers.
pub fn envelope(extra_headers: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="{SOAP}" xmlns:m="{M}" xmlns:t="{T}">
  <soap:Header>
    <t:RequestServerVersion Version="Exchange2013_SP1"/>{extra_headers}
  </soap:Header>
  <soap:Body>
{body}
  </soap:Body>
</soap:Envelope>"#
    )
}

/// Impersonation header XML.
pub fn impersonate(kind: &str, value: &str) -> String {
    format!(
        "<t:ExchangeImpersonation><t:ConnectingSID><t:{kind}>{value}</t:{kind}></t:ConnectingSID></t:ExchangeImpersonation>"
    )
}

/// Sends one operation body as a seed user.
pub fn call(sim: &Simulator, user: &str, body: &str) -> Resp {
    post_as(sim, user, &envelope("", body))
}

// ------------------------------------------------------------ request builders

pub fn delegate_user(smtp: &str, perms: &[(&str, &str)], extra: &str) -> String {
    let perms = if perms.is_empty() {
        String::new()
    } else {
        let inner: String = perms
            .iter()
            .map(|(f, l)| format!("<t:{f}FolderPermissionLevel>{l}</t:{f}FolderPermissionLevel>"))
            .collect();
        format!("<t:DelegatePermissions>{inner}</t:DelegatePermissions>")
    };
    format!(
        "<t:DelegateUser><t:UserId><t:PrimarySmtpAddress>{smtp}</t:PrimarySmtpAddress></t:UserId>{perms}{extra}</t:DelegateUser>"
    )
}

pub fn add_delegate(mailbox: &str, users: &[String], deliver: Option<&str>) -> String {
    let deliver = deliver
        .map(|d| format!("<m:DeliverMeetingRequests>{d}</m:DeliverMeetingRequests>"))
        .unwrap_or_default();
    format!(
        "<m:AddDelegate><m:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></m:Mailbox><m:DelegateUsers>{}</m:DelegateUsers>{deliver}</m:AddDelegate>",
        users.concat()
    )
}

pub fn update_delegate(mailbox: &str, users: &[String], deliver: Option<&str>) -> String {
    let deliver = deliver
        .map(|d| format!("<m:DeliverMeetingRequests>{d}</m:DeliverMeetingRequests>"))
        .unwrap_or_default();
    let users = if users.is_empty() {
        String::new()
    } else {
        format!("<m:DelegateUsers>{}</m:DelegateUsers>", users.concat())
    };
    format!(
        "<m:UpdateDelegate><m:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></m:Mailbox>{users}{deliver}</m:UpdateDelegate>"
    )
}

pub fn get_delegate(mailbox: &str, include_permissions: bool, users: &[&str]) -> String {
    let ids = if users.is_empty() {
        String::new()
    } else {
        let inner: String = users
            .iter()
            .map(|u| {
                format!("<t:UserId><t:PrimarySmtpAddress>{u}</t:PrimarySmtpAddress></t:UserId>")
            })
            .collect();
        format!("<m:UserIds>{inner}</m:UserIds>")
    };
    format!(
        "<m:GetDelegate IncludePermissions=\"{include_permissions}\"><m:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></m:Mailbox>{ids}</m:GetDelegate>"
    )
}

pub fn remove_delegate(mailbox: &str, users: &[&str]) -> String {
    let inner: String = users
        .iter()
        .map(|u| format!("<t:UserId><t:PrimarySmtpAddress>{u}</t:PrimarySmtpAddress></t:UserId>"))
        .collect();
    format!(
        "<m:RemoveDelegate><m:Mailbox><t:EmailAddress>{mailbox}</t:EmailAddress></m:Mailbox><m:UserIds>{inner}</m:UserIds></m:RemoveDelegate>"
    )
}

/// The seed AddDelegate: `delegate` gets Calendar Author, Contacts Reviewer on `principal`.
pub fn seed_add(principal: &str, delegate: &str) -> String {
    add_delegate(
        principal,
        &[delegate_user(
            delegate,
            &[("Calendar", "Author"), ("Contacts", "Reviewer")],
            "<t:ReceiveCopiesOfMeetingMessages>false</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>false</t:ViewPrivateItems>",
        )],
        Some("DelegatesAndMe"),
    )
}

pub fn attendees(kind: &str, who: &[&str]) -> String {
    if who.is_empty() {
        return String::new();
    }
    let inner: String = who
        .iter()
        .map(|a| format!("<t:Attendee><t:Mailbox><t:EmailAddress>{a}</t:EmailAddress></t:Mailbox></t:Attendee>"))
        .collect();
    format!("<t:{kind}>{inner}</t:{kind}>")
}

/// A CreateItem of one meeting into `principal`'s calendar (None: own calendar).
pub fn create_meeting(
    principal: Option<&str>,
    invitations: &str,
    subject: &str,
    required: &[&str],
    optional: &[&str],
) -> String {
    let mailbox = principal
        .map(|p| format!("<t:Mailbox><t:EmailAddress>{p}</t:EmailAddress></t:Mailbox>"))
        .unwrap_or_default();
    format!(
        r#"<m:CreateItem MessageDisposition="SendAndSaveCopy" SendMeetingInvitations="{invitations}">
  <m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar">{mailbox}</t:DistinguishedFolderId></m:SavedItemFolderId>
  <m:Items>
    <t:CalendarItem>
      <t:Subject>{subject}</t:Subject>
      <t:Body BodyType="Text">Agenda for {subject}.</t:Body>
      <t:Start>2025-06-02T15:00:00Z</t:Start>
      <t:End>2025-06-02T16:00:00Z</t:End>
      <t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus>
      <t:Location>Room 1</t:Location>
      {}{}
    </t:CalendarItem>
  </m:Items>
</m:CreateItem>"#,
        attendees("RequiredAttendees", required),
        attendees("OptionalAttendees", optional)
    )
}

pub fn get_item(shape: &str, ids: &[&str]) -> String {
    let inner: String = ids
        .iter()
        .map(|i| format!("<t:ItemId Id=\"{i}\"/>"))
        .collect();
    format!(
        "<m:GetItem><m:ItemShape><t:BaseShape>{shape}</t:BaseShape></m:ItemShape><m:ItemIds>{inner}</m:ItemIds></m:GetItem>"
    )
}

pub fn find_item(folder: &str, mailbox: Option<&str>, shape: &str, paging: &str) -> String {
    let mailbox = mailbox
        .map(|p| format!("<t:Mailbox><t:EmailAddress>{p}</t:EmailAddress></t:Mailbox>"))
        .unwrap_or_default();
    format!(
        "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>{shape}</t:BaseShape></m:ItemShape>{paging}<m:ParentFolderIds><t:DistinguishedFolderId Id=\"{folder}\">{mailbox}</t:DistinguishedFolderId></m:ParentFolderIds></m:FindItem>"
    )
}

pub fn delete_item(ids: &[&str], cancellations: Option<&str>, delete_type: &str) -> String {
    let inner: String = ids
        .iter()
        .map(|i| format!("<t:ItemId Id=\"{i}\"/>"))
        .collect();
    let c = cancellations
        .map(|c| format!(" SendMeetingCancellations=\"{c}\""))
        .unwrap_or_default();
    format!(
        "<m:DeleteItem DeleteType=\"{delete_type}\"{c}><m:ItemIds>{inner}</m:ItemIds></m:DeleteItem>"
    )
}

// ------------------------------------------------------------ raw TCP client

/// Sends raw bytes and reads until EOF (or timeout); returns what came back.
pub fn raw_exchange(sim: &Simulator, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tcp = TcpStream::connect(sim.addr())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    tcp.write_all(request)?;
    let mut out = Vec::new();
    match tcp.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(out),
        Err(e) => Err(e),
    }
}

/// A complete POST request as bytes (Connection: close).
pub fn raw_post(sim: &Simulator, user: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        sim.addr(),
        token(user),
        body.len(),
        body
    )
    .into_bytes()
}

/// A raw HTTP answer: status, headers (lower-case names), body bytes.
pub type RawAnswer = (u16, Vec<(String, String)>, Vec<u8>);

/// Splits a raw HTTP/1.1 answer into (status, headers, body).
pub fn split_http(raw: &[u8]) -> Option<RawAnswer> {
    let text_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..text_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers, raw[text_end + 4..].to_vec()))
}

// ------------------------------------------------------------ shared reference data

/// The workspace root: the parent of this crate's manifest folder.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

/// The shared ground truth, `../shared` beside the workspace root. Panics with what is
/// missing: these tests check against it, so its absence is a failure, never a skip.
pub fn shared_dir() -> PathBuf {
    let dir = workspace_root().join("../shared");
    assert!(
        dir.join("ews-schema").is_dir(),
        "the shared reference folder is missing: expected {}/ews-schema \
         (`../shared` beside the workspace root, holding Microsoft's EWS schema, \
         examples and validate.sh)",
        dir.display()
    );
    dir
}

/// The shared schema kit, `../shared/ews-schema`.
pub fn schema_dir() -> PathBuf {
    shared_dir().join("ews-schema")
}

/// What `validate.sh` needs besides itself: xmllint (the XSD engine) and python3.
/// Panics with the install hint when one is missing: a schema check that cannot run
/// must fail, not pass.
pub fn validator() -> PathBuf {
    let script = schema_dir().join("validate.sh");
    assert!(script.is_file(), "{} is missing", script.display());
    let runs = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        runs("xmllint"),
        "xmllint is not installed, so the XSD validation cannot run; install it with \
         `apt-get install -y libxml2-utils` (it provides xmllint) and run the tests again"
    );
    assert!(
        runs("python3"),
        "python3 is not installed, so ../shared/ews-schema/validate.sh cannot run; \
         install it with `apt-get install -y python3`"
    );
    script
}

/// Runs `validate.sh ARGS FILES...`; returns whether it succeeded and its whole output.
pub fn run_validator(args: &[&str], files: &[PathBuf]) -> (bool, String) {
    assert!(!files.is_empty(), "nothing to validate");
    let out = Command::new("bash")
        .arg(validator())
        .args(args)
        .args(files)
        .output()
        .expect("run validate.sh");
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), report)
}

/// Every file below `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files_below(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
