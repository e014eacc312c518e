//! A small model of mailboxes' delegates, shared by the sync tests: it takes the crate's
//! real operations (encoded to XML, read back with roxmltree, independent of the crate's
//! reader), changes its state as Exchange would, and answers with XML the crate decodes.
#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use ews_proto::sync::DelegateOp;
use ews_proto::{DelegateResults, Reply, RequestContext, ServerError};

const FOLDERS: [&str; 6] = [
    "CalendarFolderPermissionLevel",
    "TasksFolderPermissionLevel",
    "InboxFolderPermissionLevel",
    "ContactsFolderPermissionLevel",
    "NotesFolderPermissionLevel",
    "JournalFolderPermissionLevel",
];
const M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

/// One delegate in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDelegate {
    pub smtp: String,
    /// Per folder in schema order: "None", "Reviewer", "Author", "Editor", "Custom".
    pub levels: [String; 6],
    pub receive: bool,
    pub private: bool,
}

impl ModelDelegate {
    pub fn new(smtp: &str) -> Self {
        Self {
            smtp: smtp.to_owned(),
            levels: std::array::from_fn(|_| "None".to_owned()),
            receive: false,
            private: false,
        }
    }

    pub fn level(mut self, folder: usize, level: &str) -> Self {
        self.levels[folder] = level.to_owned();
        self
    }

    pub fn receive(mut self, yes: bool) -> Self {
        self.receive = yes;
        self
    }

    pub fn private(mut self, yes: bool) -> Self {
        self.private = yes;
        self
    }
}

/// An orphan entry: its code and the address the server names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOrphan {
    pub code: &'static str,
    pub smtp: Option<String>,
}

/// One principal's mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub delegates: Vec<ModelDelegate>,
    pub orphans: Vec<ModelOrphan>,
    /// `None`: the server leaves `DeliverMeetingRequests` out of its answers.
    pub deliver: Option<String>,
}

impl Default for Mailbox {
    fn default() -> Self {
        Self {
            delegates: Vec::new(),
            orphans: Vec::new(),
            deliver: Some("DelegatesAndMe".to_owned()),
        }
    }
}

impl Mailbox {
    pub fn delegate(&self, smtp: &str) -> Option<&ModelDelegate> {
        self.delegates
            .iter()
            .find(|d| d.smtp.eq_ignore_ascii_case(smtp))
    }
}

/// Mailboxes by lower-case principal, and the users the directory resolves.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub mailboxes: BTreeMap<String, Mailbox>,
    pub users: BTreeSet<String>,
    /// Writes received (Add, Update, Remove).
    pub writes: usize,
    /// Add or Update requests that left `DeliverMeetingRequests` out.
    pub writes_without_deliver: usize,
}

/// What a request was, as the model read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    pub principal: String,
}

impl Model {
    pub fn user(mut self, smtp: &str) -> Self {
        self.users.insert(smtp.to_ascii_lowercase());
        self
    }

    pub fn mailbox(mut self, principal: &str, mailbox: Mailbox) -> Self {
        self.users.insert(principal.to_ascii_lowercase());
        self.mailboxes
            .insert(principal.to_ascii_lowercase(), mailbox);
        self
    }

    pub fn mailbox_mut(&mut self, principal: &str) -> &mut Mailbox {
        self.mailboxes
            .entry(principal.to_ascii_lowercase())
            .or_default()
    }

    /// Reads `op`'s request as a server would: its name and principal.
    pub fn seen(op: &DelegateOp) -> Seen {
        let xml = request_xml(op);
        let doc = roxmltree::Document::parse(&xml).expect("the crate writes XML");
        let body = operation_node(&doc);
        Seen {
            name: body.tag_name().name().to_owned(),
            principal: principal_of(body),
        }
    }

    /// Runs `op` against the model and returns the decoded answer.
    pub fn answer(&mut self, op: &DelegateOp) -> Reply<DelegateResults> {
        let xml = self.answer_xml(op);
        decode(op, 200, &xml, &[]).expect("the model answers what the crate decodes")
    }

    /// The XML answer to `op`, after applying it.
    pub fn answer_xml(&mut self, op: &DelegateOp) -> String {
        let xml = request_xml(op);
        let doc = roxmltree::Document::parse(&xml).expect("the crate writes XML");
        let body = operation_node(&doc);
        let name = body.tag_name().name().to_owned();
        let principal = principal_of(body).to_ascii_lowercase();
        let users = self.users.clone();
        let resolves = |smtp: &str| users.contains(&smtp.to_ascii_lowercase());
        let mut messages = Vec::new();
        let mut deliver_out = None;
        let writes = name != "GetDelegate";
        if writes {
            self.writes += 1;
        }
        let deliver_in = child(body, M, "DeliverMeetingRequests").map(text);
        if matches!(name.as_str(), "AddDelegate" | "UpdateDelegate") && deliver_in.is_none() {
            self.writes_without_deliver += 1;
        }
        let mailbox = self.mailboxes.entry(principal.clone()).or_default();
        match name.as_str() {
            "GetDelegate" => match child(body, M, "UserIds") {
                Some(ids) => {
                    for id in elements(ids, T, "UserId") {
                        let smtp = smtp_of(id);
                        messages.push(if !resolves(&smtp) {
                            error("ErrorDelegateNoUser", None)
                        } else if let Some(d) = mailbox.delegate(&smtp) {
                            ok(Some(d))
                        } else {
                            error("ErrorNotDelegate", None)
                        });
                    }
                    deliver_out = mailbox.deliver.clone();
                }
                None => {
                    for d in &mailbox.delegates {
                        messages.push(ok(Some(d)));
                    }
                    for o in &mailbox.orphans {
                        messages.push(orphan(o));
                    }
                    deliver_out = mailbox.deliver.clone();
                }
            },
            "AddDelegate" => {
                for du in delegate_users(body) {
                    let smtp = smtp_of(child(du, T, "UserId").expect("UserId"));
                    if !resolves(&smtp) {
                        messages.push(error("ErrorDelegateNoUser", None));
                    } else if smtp.eq_ignore_ascii_case(&principal) {
                        messages.push(error("ErrorDelegateCannotAddOwner", None));
                    } else if mailbox.delegate(&smtp).is_some() {
                        messages.push(error("ErrorDelegateAlreadyExists", None));
                    } else {
                        let mut d = ModelDelegate::new(&smtp);
                        apply(&mut d, du);
                        messages.push(ok(Some(&d)));
                        mailbox.delegates.push(d);
                    }
                }
                if let Some(v) = &deliver_in {
                    mailbox.deliver = Some(v.clone());
                }
            }
            "UpdateDelegate" => {
                for du in delegate_users(body) {
                    let smtp = smtp_of(child(du, T, "UserId").expect("UserId"));
                    match mailbox
                        .delegates
                        .iter_mut()
                        .find(|d| d.smtp.eq_ignore_ascii_case(&smtp))
                    {
                        Some(d) => {
                            apply(d, du);
                            messages.push(ok(Some(d)));
                        }
                        None => messages.push(error("ErrorNotDelegate", None)),
                    }
                }
                if let Some(v) = &deliver_in {
                    mailbox.deliver = Some(v.clone());
                }
            }
            "RemoveDelegate" => {
                let ids = child(body, M, "UserIds").expect("UserIds");
                for id in elements(ids, T, "UserId") {
                    let smtp = smtp_of(id);
                    let before = mailbox.delegates.len() + mailbox.orphans.len();
                    mailbox
                        .delegates
                        .retain(|d| !d.smtp.eq_ignore_ascii_case(&smtp));
                    mailbox.orphans.retain(|o| {
                        !o.smtp
                            .as_deref()
                            .is_some_and(|s| s.eq_ignore_ascii_case(&smtp))
                    });
                    let after = mailbox.delegates.len() + mailbox.orphans.len();
                    messages.push(if after < before {
                        ok(None)
                    } else {
                        error("ErrorNotDelegate", None)
                    });
                }
            }
            other => panic!("not a delegate operation: {other}"),
        }
        response(&name, &messages, deliver_out.as_deref())
    }
}

/// Decodes `xml` as the answer to `op`, at `status` with `headers`.
pub fn decode(
    op: &DelegateOp,
    status: u16,
    xml: &str,
    headers: &[(&str, &str)],
) -> Result<Reply<DelegateResults>, ServerError> {
    let mut b = http::Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    op.decode(&b.body(Bytes::from(xml.to_owned())).expect("a response"))
}

/// A whole-request error answer (`ResponseClass="Error"` at the top) for `op`.
pub fn top_error_xml(op: &DelegateOp, code: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:{name}Response ResponseClass="Error" xmlns:m="{M}" xmlns:t="{T}"><m:MessageText>refused</m:MessageText><m:ResponseCode>{code}</m:ResponseCode></m:{name}Response></s:Body></s:Envelope>"#,
        name = op.name()
    )
}

/// An `ErrorServerBusy` fault with `BackOffMilliseconds`.
pub fn busy_fault_xml(back_off_ms: u64) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="{T}">a:ErrorServerBusy</faultcode><faultstring>The server cannot service this request right now. Try again later.</faultstring><detail><e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">ErrorServerBusy</e:ResponseCode><t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value></t:MessageXml></detail></s:Fault></s:Body></s:Envelope>"#
    )
}

fn request_xml(op: &DelegateOp) -> String {
    let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").expect("ctx");
    let request = op.encode(&ctx).expect("the plan's operations encode");
    String::from_utf8(request.body().to_vec()).expect("UTF-8")
}

fn operation_node<'a, 'i>(doc: &'a roxmltree::Document<'i>) -> roxmltree::Node<'a, 'i> {
    let envelope = doc.root_element();
    let body = envelope
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "Body")
        .expect("Body");
    body.children()
        .find(|c| c.is_element())
        .expect("an operation element")
}

fn principal_of(body: roxmltree::Node<'_, '_>) -> String {
    child(body, M, "Mailbox")
        .and_then(|m| child(m, T, "EmailAddress"))
        .map(text)
        .expect("the principal")
}

fn child<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    elements(n, ns, name).into_iter().next()
}

fn elements<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    ns: &str,
    name: &str,
) -> Vec<roxmltree::Node<'a, 'i>> {
    n.children()
        .filter(|c| {
            c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns)
        })
        .collect()
}

fn text(n: roxmltree::Node<'_, '_>) -> String {
    n.text().unwrap_or("").trim().to_owned()
}

fn smtp_of(user_id: roxmltree::Node<'_, '_>) -> String {
    child(user_id, T, "PrimarySmtpAddress")
        .map(text)
        .unwrap_or_default()
}

fn delegate_users<'a, 'i>(body: roxmltree::Node<'a, 'i>) -> Vec<roxmltree::Node<'a, 'i>> {
    child(body, M, "DelegateUsers")
        .map(|u| elements(u, T, "DelegateUser"))
        .unwrap_or_default()
}

fn apply(d: &mut ModelDelegate, du: roxmltree::Node<'_, '_>) {
    if let Some(p) = child(du, T, "DelegatePermissions") {
        for (i, folder) in FOLDERS.iter().enumerate() {
            if let Some(level) = child(p, T, folder) {
                d.levels[i] = text(level);
            }
        }
    }
    if let Some(v) = child(du, T, "ReceiveCopiesOfMeetingMessages") {
        d.receive = text(v) == "true";
    }
    if let Some(v) = child(du, T, "ViewPrivateItems") {
        d.private = text(v) == "true";
    }
}

fn delegate_xml(d: &ModelDelegate) -> String {
    let mut s = format!(
        "<m:DelegateUser><t:UserId><t:PrimarySmtpAddress>{}</t:PrimarySmtpAddress></t:UserId><t:DelegatePermissions>",
        d.smtp
    );
    for (i, folder) in FOLDERS.iter().enumerate() {
        s.push_str(&format!("<t:{folder}>{}</t:{folder}>", d.levels[i]));
    }
    s.push_str(&format!(
        "</t:DelegatePermissions><t:ReceiveCopiesOfMeetingMessages>{}</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems>{}</t:ViewPrivateItems></m:DelegateUser>",
        d.receive, d.private
    ));
    s
}

fn ok(d: Option<&ModelDelegate>) -> String {
    format!(
        r#"<m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>{}</m:DelegateUserResponseMessageType>"#,
        d.map(delegate_xml).unwrap_or_default()
    )
}

fn error(code: &str, smtp: Option<&str>) -> String {
    let user = smtp
        .map(|s| {
            format!("<m:DelegateUser><t:UserId><t:PrimarySmtpAddress>{s}</t:PrimarySmtpAddress></t:UserId></m:DelegateUser>")
        })
        .unwrap_or_default();
    format!(
        r#"<m:DelegateUserResponseMessageType ResponseClass="Error"><m:MessageText>{code}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode>{user}</m:DelegateUserResponseMessageType>"#
    )
}

fn orphan(o: &ModelOrphan) -> String {
    if o.code == "ErrorDelegateMissingConfiguration" {
        // A warning that still carries the delegate, as Exchange sends it.
        let user = o
            .smtp
            .as_deref()
            .map(|s| format!("<m:DelegateUser><t:UserId><t:PrimarySmtpAddress>{s}</t:PrimarySmtpAddress></t:UserId></m:DelegateUser>"))
            .unwrap_or_default();
        return format!(
            r#"<m:DelegateUserResponseMessageType ResponseClass="Warning"><m:MessageText>misconfigured</m:MessageText><m:ResponseCode>ErrorDelegateMissingConfiguration</m:ResponseCode>{user}</m:DelegateUserResponseMessageType>"#
        );
    }
    error(o.code, o.smtp.as_deref())
}

fn response(name: &str, messages: &[String], deliver: Option<&str>) -> String {
    let mut s = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:{name}Response ResponseClass="Success" xmlns:m="{M}" xmlns:t="{T}"><m:ResponseCode>NoError</m:ResponseCode>"#
    );
    if !messages.is_empty() {
        s.push_str("<m:ResponseMessages>");
        for m in messages {
            s.push_str(m);
        }
        s.push_str("</m:ResponseMessages>");
    }
    if let Some(d) = deliver {
        s.push_str(&format!(
            "<m:DeliverMeetingRequests>{d}</m:DeliverMeetingRequests>"
        ));
    }
    s.push_str(&format!("</m:{name}Response></s:Body></s:Envelope>"));
    s
}
