//! AddDelegate, GetDelegate, UpdateDelegate and RemoveDelegate.
//!
//! Response shape: `m:XxxDelegateResponse ResponseClass="Success"` with `m:ResponseCode
//! NoError`, then `m:ResponseMessages` holding one `m:DelegateUserResponseMessageType` per
//! user in request order (omitted when there is none, as the schema needs at least one).
//! A request-level failure (unknown mailbox, caller not the owner) is
//! `ResponseClass="Error"` on the outer element with MessageText, ResponseCode and
//! DescriptiveLinkKey and no ResponseMessages.

use roxmltree::Node;

use super::{ACCESS_DENIED, Ctx, NO_MAILBOX, mailbox_email};
use crate::sim::schema::DELIVER_MEETING_REQUESTS;
use crate::sim::soap::{self, MESSAGES_NS, TYPES_NS, W, WNs};
use crate::sim::state::{DelegateSnapshot, PermissionLevel, Permissions, State};

const NOT_DELEGATE: &str = "The user is not a delegate for the mailbox.";
const ALREADY: &str = "The user is already a delegate for the mailbox.";
const NO_USER: &str = "The delegate does not map to a user in the Active Directory.";
const OWNER: &str = "The mailbox owner cannot be added as a delegate of the mailbox.";

/// The outcome for one user.
enum PerUser {
    Ok(Option<DelegateSnapshot>),
    Err(&'static str, &'static str),
}

/// Checks m:Mailbox: it must exist and the acting account must own it.
fn owner_of(st: &State, ctx: &Ctx, op: Node<'_, '_>) -> Result<String, (&'static str, String)> {
    let email = soap::child(op, MESSAGES_NS, "Mailbox")
        .and_then(mailbox_email)
        .ok_or((
            "ErrorMissingEmailAddress",
            "The Mailbox element must carry an EmailAddress.".to_string(),
        ))?;
    let user = st
        .user(&email)
        .ok_or(("ErrorNonExistentMailbox", NO_MAILBOX.to_string()))?;
    if !user.user.smtp.eq_ignore_ascii_case(&ctx.me) {
        return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
    }
    Ok(user.user.smtp.clone())
}

/// Resolves a t:UserId (SID first, then PrimarySmtpAddress) to an SMTP address.
fn resolve_user(st: &State, user_id: Node<'_, '_>) -> Option<String> {
    if let Some(sid) = soap::t_text(user_id, "SID").filter(|s| !s.is_empty()) {
        return st.user_by_sid(&sid).map(|u| u.user.smtp.clone());
    }
    let smtp = soap::t_text(user_id, "PrimarySmtpAddress")?;
    st.user(&smtp).map(|u| u.user.smtp.clone())
}

fn parse_bool(s: &str) -> bool {
    matches!(s.trim(), "true" | "1")
}

/// Applies the permission levels present in `t:DelegatePermissions`.
fn apply_permissions(p: &mut Permissions, node: Node<'_, '_>) {
    for c in node.children().filter(|c| c.is_element()) {
        let Some(level) = PermissionLevel::parse(&soap::text_of(c)) else {
            continue;
        };
        match c.tag_name().name() {
            "CalendarFolderPermissionLevel" => p.calendar = level,
            "TasksFolderPermissionLevel" => p.tasks = level,
            "InboxFolderPermissionLevel" => p.inbox = level,
            "ContactsFolderPermissionLevel" => p.contacts = level,
            "NotesFolderPermissionLevel" => p.notes = level,
            "JournalFolderPermissionLevel" => p.journal = level,
            _ => {}
        }
    }
}

/// Applies the fields present in a t:DelegateUser to `d` (absent fields keep their value).
fn apply_delegate_user(d: &mut DelegateSnapshot, du: Node<'_, '_>) {
    if let Some(p) = soap::child(du, TYPES_NS, "DelegatePermissions") {
        apply_permissions(&mut d.permissions, p);
    }
    if let Some(v) = soap::t_text(du, "ReceiveCopiesOfMeetingMessages") {
        d.receive_copies_of_meeting_messages = parse_bool(&v);
    }
    if let Some(v) = soap::t_text(du, "ViewPrivateItems") {
        d.view_private_items = parse_bool(&v);
    }
}

fn deliver_setting(op: Node<'_, '_>) -> Option<String> {
    soap::child(op, MESSAGES_NS, "DeliverMeetingRequests")
        .map(soap::text_of)
        .filter(|v| DELIVER_MEETING_REQUESTS.contains(&v.as_str()))
}

fn write_delegate_user(w: &mut W, st: &State, d: &DelegateSnapshot, permissions: bool) {
    w.open(WNs::M, "DelegateUser", &[]);
    w.open(WNs::T, "UserId", &[]);
    if let Some(u) = st.user(&d.smtp) {
        w.leaf(WNs::T, "SID", &u.user.sid);
        w.leaf(WNs::T, "PrimarySmtpAddress", &u.user.smtp);
        w.leaf(WNs::T, "DisplayName", &u.user.display_name);
    } else {
        w.leaf(WNs::T, "PrimarySmtpAddress", &d.smtp);
    }
    w.close(WNs::T, "UserId");
    if permissions {
        let p = &d.permissions;
        w.open(WNs::T, "DelegatePermissions", &[]);
        w.leaf(WNs::T, "CalendarFolderPermissionLevel", p.calendar.as_str());
        w.leaf(WNs::T, "TasksFolderPermissionLevel", p.tasks.as_str());
        w.leaf(WNs::T, "InboxFolderPermissionLevel", p.inbox.as_str());
        w.leaf(WNs::T, "ContactsFolderPermissionLevel", p.contacts.as_str());
        w.leaf(WNs::T, "NotesFolderPermissionLevel", p.notes.as_str());
        w.leaf(WNs::T, "JournalFolderPermissionLevel", p.journal.as_str());
        w.close(WNs::T, "DelegatePermissions");
    }
    w.leaf(
        WNs::T,
        "ReceiveCopiesOfMeetingMessages",
        bool_str(d.receive_copies_of_meeting_messages),
    );
    w.leaf(WNs::T, "ViewPrivateItems", bool_str(d.view_private_items));
    w.close(WNs::M, "DelegateUser");
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Writes a whole delegate response.
fn write_response(
    ctx: &Ctx,
    st: &State,
    name: &str,
    results: &[PerUser],
    permissions: bool,
    deliver: Option<&str>,
) -> String {
    ctx.envelope(|w| {
        w.root(name, &[("ResponseClass", "Success")]);
        w.response_fields("NoError", None);
        if !results.is_empty() {
            w.open(WNs::M, "ResponseMessages", &[]);
            for r in results {
                match r {
                    PerUser::Ok(d) => {
                        w.open(
                            WNs::M,
                            "DelegateUserResponseMessageType",
                            &[("ResponseClass", "Success")],
                        );
                        w.response_fields("NoError", None);
                        if let Some(d) = d {
                            write_delegate_user(w, st, d, permissions);
                        }
                    }
                    PerUser::Err(code, text) => {
                        w.open(
                            WNs::M,
                            "DelegateUserResponseMessageType",
                            &[("ResponseClass", "Error")],
                        );
                        w.response_fields(code, Some(text));
                    }
                }
                w.close(WNs::M, "DelegateUserResponseMessageType");
            }
            w.close(WNs::M, "ResponseMessages");
        }
        if let Some(deliver) = deliver {
            w.leaf(WNs::M, "DeliverMeetingRequests", deliver);
        }
        w.close(WNs::M, name);
    })
}

/// A request-level error: outer ResponseClass="Error", no ResponseMessages.
fn top_error(ctx: &Ctx, name: &str, code: &str, text: &str) -> String {
    ctx.envelope(|w| {
        w.root(name, &[("ResponseClass", "Error")]);
        w.response_fields(code, Some(text));
        w.close(WNs::M, name);
    })
}

/// AddDelegate.
pub(crate) fn add(st: &mut State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    const NAME: &str = "AddDelegateResponse";
    let owner = match owner_of(st, ctx, op) {
        Ok(o) => o,
        Err((code, text)) => return top_error(ctx, NAME, code, &text),
    };
    let mut results = Vec::new();
    let users = soap::child(op, MESSAGES_NS, "DelegateUsers");
    for du in users
        .into_iter()
        .flat_map(|u| soap::children(u, TYPES_NS, "DelegateUser"))
    {
        let resolved = soap::child(du, TYPES_NS, "UserId").and_then(|id| resolve_user(st, id));
        let Some(smtp) = resolved else {
            results.push(PerUser::Err("ErrorDelegateNoUser", NO_USER));
            continue;
        };
        if smtp.eq_ignore_ascii_case(&owner) {
            results.push(PerUser::Err("ErrorDelegateCannotAddOwner", OWNER));
            continue;
        }
        if st.delegate(&owner, &smtp).is_some() {
            results.push(PerUser::Err("ErrorDelegateAlreadyExists", ALREADY));
            continue;
        }
        let mut d = DelegateSnapshot {
            smtp,
            permissions: Permissions::default(),
            receive_copies_of_meeting_messages: false,
            view_private_items: false,
        };
        apply_delegate_user(&mut d, du);
        if let Some(mb) = st.mailbox_mut(&owner) {
            mb.delegates.push(d.clone());
        }
        results.push(PerUser::Ok(Some(d)));
    }
    if let (Some(v), Some(mb)) = (deliver_setting(op), st.mailbox_mut(&owner)) {
        mb.deliver_meeting_requests = v;
    }
    write_response(ctx, st, NAME, &results, false, None)
}

/// GetDelegate.
pub(crate) fn get(st: &State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    const NAME: &str = "GetDelegateResponse";
    let owner = match owner_of(st, ctx, op) {
        Ok(o) => o,
        Err((code, text)) => return top_error(ctx, NAME, code, &text),
    };
    let permissions = op.attribute("IncludePermissions").is_some_and(parse_bool);
    let Some(mb) = st.mailbox(&owner) else {
        return top_error(ctx, NAME, "ErrorNonExistentMailbox", NO_MAILBOX);
    };
    let results: Vec<PerUser> = match soap::child(op, MESSAGES_NS, "UserIds") {
        None => mb
            .delegates
            .iter()
            .map(|d| PerUser::Ok(Some(d.clone())))
            .collect(),
        Some(ids) => soap::children(ids, TYPES_NS, "UserId")
            .map(|id| match resolve_user(st, id) {
                None => PerUser::Err("ErrorDelegateNoUser", NO_USER),
                Some(smtp) => match st.delegate(&owner, &smtp) {
                    Some(d) => PerUser::Ok(Some(d.clone())),
                    None => PerUser::Err("ErrorNotDelegate", NOT_DELEGATE),
                },
            })
            .collect(),
    };
    write_response(
        ctx,
        st,
        NAME,
        &results,
        permissions,
        Some(&mb.deliver_meeting_requests),
    )
}

/// UpdateDelegate.
pub(crate) fn update(st: &mut State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    const NAME: &str = "UpdateDelegateResponse";
    let owner = match owner_of(st, ctx, op) {
        Ok(o) => o,
        Err((code, text)) => return top_error(ctx, NAME, code, &text),
    };
    let mut results = Vec::new();
    let users = soap::child(op, MESSAGES_NS, "DelegateUsers");
    for du in users
        .into_iter()
        .flat_map(|u| soap::children(u, TYPES_NS, "DelegateUser"))
    {
        let resolved = soap::child(du, TYPES_NS, "UserId").and_then(|id| resolve_user(st, id));
        let Some(smtp) = resolved else {
            results.push(PerUser::Err("ErrorDelegateNoUser", NO_USER));
            continue;
        };
        let Some(mb) = st.mailbox_mut(&owner) else {
            results.push(PerUser::Err("ErrorNonExistentMailbox", NO_MAILBOX));
            continue;
        };
        match mb
            .delegates
            .iter_mut()
            .find(|d| d.smtp.eq_ignore_ascii_case(&smtp))
        {
            Some(d) => {
                apply_delegate_user(d, du);
                results.push(PerUser::Ok(Some(d.clone())));
            }
            None => results.push(PerUser::Err("ErrorNotDelegate", NOT_DELEGATE)),
        }
    }
    if let (Some(v), Some(mb)) = (deliver_setting(op), st.mailbox_mut(&owner)) {
        mb.deliver_meeting_requests = v;
    }
    write_response(ctx, st, NAME, &results, false, None)
}

/// RemoveDelegate.
pub(crate) fn remove(st: &mut State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    const NAME: &str = "RemoveDelegateResponse";
    let owner = match owner_of(st, ctx, op) {
        Ok(o) => o,
        Err((code, text)) => return top_error(ctx, NAME, code, &text),
    };
    let mut results = Vec::new();
    let ids = soap::child(op, MESSAGES_NS, "UserIds");
    for id in ids
        .into_iter()
        .flat_map(|u| soap::children(u, TYPES_NS, "UserId"))
    {
        let Some(smtp) = resolve_user(st, id) else {
            results.push(PerUser::Err("ErrorDelegateNoUser", NO_USER));
            continue;
        };
        let Some(mb) = st.mailbox_mut(&owner) else {
            results.push(PerUser::Err("ErrorNonExistentMailbox", NO_MAILBOX));
            continue;
        };
        match mb
            .delegates
            .iter()
            .position(|d| d.smtp.eq_ignore_ascii_case(&smtp))
        {
            Some(pos) => {
                mb.delegates.remove(pos);
                results.push(PerUser::Ok(None));
            }
            None => results.push(PerUser::Err("ErrorNotDelegate", NOT_DELEGATE)),
        }
    }
    write_response(ctx, st, NAME, &results, false, None)
}
