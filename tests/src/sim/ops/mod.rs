//! The operations: header handling (version, impersonation) and dispatch.

mod create;
mod delegate;
mod delete;
mod folder;
mod read;
pub(crate) mod recurrence;
mod restriction;
mod update;

use roxmltree::{Document, Node};

use super::soap::{self, FaultInfo, Headers, ImpersonationId, TYPES_NS, W, WNs};
use super::state::{Address, State};
use super::{BodyPrefixes, ServerStyle, Shared, lock};

/// What the operation layer produced for one request.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The identity used (impersonated account, else the caller) once resolved.
    pub(crate) acting_as: Option<String>,
    /// The parsed SOAP headers.
    pub(crate) headers: Headers,
    /// The response envelope, or a SOAP fault.
    pub(crate) result: Result<String, FaultInfo>,
}

/// Per-request context.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// The account whose identity is used (after impersonation).
    pub(crate) me: String,
    /// The request's TimeZoneContext (a Windows id): how times without an offset read.
    pub(crate) time_zone: Option<String>,
    style: ServerStyle,
    prefixes: BodyPrefixes,
}

impl Ctx {
    /// Writes a response envelope.
    pub(crate) fn envelope(&self, body: impl FnOnce(&mut W)) -> String {
        soap::envelope(self.style, &self.prefixes, body)
    }
}

/// The distinguished folders that hold items (the others the simulator knows, `root` and
/// `msgfolderroot`, only hold folders).
pub(crate) const ITEM_FOLDERS: &[&str] = &[
    "calendar",
    "contacts",
    "deleteditems",
    "drafts",
    "inbox",
    "journal",
    "notes",
    "sentitems",
    "tasks",
];

/// The response code for an operation the simulator does not implement: see
/// [`not_implemented`].
pub(crate) const NOT_IMPLEMENTED: &str = "ErrorInvalidOperation";

/// Common MessageText values.
pub(crate) const ACCESS_DENIED: &str = "Access is denied. Check credentials and try again.";
pub(crate) const NO_MAILBOX: &str = "The SMTP address has no mailbox associated with it.";
pub(crate) const ITEM_NOT_FOUND: &str = "The specified object was not found in the store.";

/// Parses the request, applies the headers and runs the operation.
pub(crate) fn answer(shared: &Shared, doc: &Document<'_>, caller: &str) -> Answer {
    let parsed = match soap::parse(doc) {
        Ok(p) => p,
        Err(f) => {
            return Answer {
                acting_as: None,
                headers: Headers::default(),
                result: Err(f),
            };
        }
    };
    let headers = parsed.headers.clone();
    let fail = |headers: Headers, f: FaultInfo| Answer {
        acting_as: None,
        headers,
        result: Err(f),
    };
    if headers.version.is_none() && shared.config.require_server_version {
        return fail(
            headers,
            FaultInfo::new(
                "ErrorInvalidServerVersion",
                "The request must carry a RequestServerVersion header with a valid Version.",
            ),
        );
    }
    let mut st = lock(&shared.state);
    st.deliver_due();
    let me = match impersonate(&st, caller, headers.impersonation.as_ref()) {
        Ok(me) => me,
        Err(f) => return fail(headers, f),
    };
    let ctx = Ctx {
        me: me.clone(),
        time_zone: headers.time_zone.clone(),
        style: shared.config.style,
        prefixes: shared.config.prefixes.clone(),
    };
    let op = parsed.op;
    if !parsed.served {
        return Answer {
            acting_as: Some(me),
            headers,
            result: Ok(not_implemented(&ctx, op.tag_name().name())),
        };
    }
    let xml = match op.tag_name().name() {
        "AddDelegate" => delegate::add(&mut st, &ctx, op),
        "GetDelegate" => delegate::get(&st, &ctx, op),
        "UpdateDelegate" => delegate::update(&mut st, &ctx, op),
        "RemoveDelegate" => delegate::remove(&mut st, &ctx, op),
        "CreateItem" => create::create_item(&mut st, &ctx, op),
        "GetItem" => read::get_item(&st, &ctx, op),
        "FindItem" => read::find_item(&st, &ctx, op),
        "DeleteItem" => delete::delete_item(&mut st, &ctx, op),
        "UpdateItem" => update::update_item(&mut st, &ctx, op),
        "GetFolder" => folder::get_folder(&st, &ctx, op),
        other => not_implemented(&ctx, other),
    };
    Answer {
        acting_as: Some(me),
        headers,
        result: Ok(xml),
    }
}

/// The answer to a real EWS operation the simulator does not implement: HTTP 200 with the
/// operation's own response element (`m:{Op}Response > m:ResponseMessages >
/// m:{Op}ResponseMessage ResponseClass="Error"`), ResponseCode `ErrorInvalidOperation`
/// and a MessageText that names the operation, in an envelope that carries
/// ServerVersionInfo like every answer.
///
/// Why this code and shape: `ErrorInvalidOperation` is the documented general code for a
/// request that is valid but cannot be carried out by this server (Exchange uses it, for
/// instance, for a distinguished folder or a traversal a store does not support), and a
/// response message, not a SOAP fault, is how Exchange reports a per-request failure of a
/// request it understood. `ErrorInvalidRequest` (the old answer) and SOAP faults with
/// `ErrorInvalidServerVersion`, `ErrorIncorrectSchemaVersion` or
/// `ErrorInvalidSchemaVersionForMailboxVersion` are what Exchange sends when the version
/// or the envelope is wrong, and clients act on them as such: exchangelib retries those
/// four with every older RequestServerVersion and ends with a version error. An operation
/// that is not in the schema at all still gets `ErrorSchemaValidation`, as from Exchange.
pub(crate) fn not_implemented(ctx: &Ctx, operation: &str) -> String {
    let text = format!(
        "The simulator does not implement the EWS operation '{operation}'. The request was \
         understood and nothing was changed; this is not a version problem."
    );
    ctx.envelope(|w| {
        w.root(&format!("{operation}Response"), &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        let message = format!("{operation}ResponseMessage");
        w.open(WNs::M, &message, &[("ResponseClass", "Error")]);
        w.response_fields(NOT_IMPLEMENTED, Some(&text));
        w.close(WNs::M, &message);
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, &format!("{operation}Response"));
    })
}

/// Resolves ExchangeImpersonation: returns the SMTP address to act as.
fn impersonate(
    st: &State,
    caller: &str,
    id: Option<&ImpersonationId>,
) -> Result<String, FaultInfo> {
    let Some(id) = id else {
        return Ok(caller.to_string());
    };
    let allowed = st.user(caller).is_some_and(|u| u.can_impersonate);
    if !allowed {
        return Err(FaultInfo::new(
            "ErrorImpersonateUserDenied",
            "The account does not have permission to impersonate the requested user.",
        ));
    }
    let target = match id {
        ImpersonationId::PrimarySmtpAddress(s) | ImpersonationId::SmtpAddress(s) => st
            .user(s)
            .ok_or_else(|| FaultInfo::new("ErrorNonExistentMailbox", NO_MAILBOX))?,
        ImpersonationId::Sid(sid) => st.user_by_sid(sid).ok_or_else(|| {
            FaultInfo::new(
                "ErrorImpersonationFailed",
                "Impersonation failed: the SID does not map to an account.",
            )
        })?,
        ImpersonationId::PrincipalName(upn) => st.user(upn).ok_or_else(|| {
            FaultInfo::new(
                "ErrorImpersonationFailed",
                "Impersonation failed: the principal name does not map to an account.",
            )
        })?,
    };
    Ok(target.user.smtp.clone())
}

/// Reads an EmailAddressType element.
pub(crate) fn read_address(node: Node<'_, '_>) -> Address {
    Address {
        name: soap::t_text(node, "Name").filter(|n| !n.is_empty()),
        email: soap::t_text(node, "EmailAddress").unwrap_or_default(),
    }
}

/// Writes an EmailAddressType element (Name, EmailAddress, RoutingType, MailboxType).
pub(crate) fn write_address(w: &mut W, st: &State, name: &str, a: &Address) {
    w.open(WNs::T, name, &[]);
    let known = st.user(&a.email);
    let display = a
        .name
        .clone()
        .or_else(|| known.map(|u| u.user.display_name.clone()));
    if let Some(n) = display {
        w.leaf(WNs::T, "Name", &n);
    }
    if !a.email.is_empty() {
        w.leaf(WNs::T, "EmailAddress", &a.email);
        w.leaf(WNs::T, "RoutingType", "SMTP");
    }
    w.leaf(
        WNs::T,
        "MailboxType",
        if known.is_some() { "Mailbox" } else { "OneOff" },
    );
    w.close(WNs::T, name);
}

/// The mailbox named by `m:Mailbox` / `t:Mailbox` children (EmailAddress), if any.
pub(crate) fn mailbox_email(node: Node<'_, '_>) -> Option<String> {
    soap::t_text(node, "EmailAddress").filter(|s| !s.is_empty())
}

/// MessageText of ErrorFolderNotFound.
pub(crate) const FOLDER_NOT_FOUND: &str = "The specified folder could not be found in the store.";

/// Resolves a `t:DistinguishedFolderId` or a `t:FolderId` (as GetFolder hands them out)
/// to (owner, distinguished folder name).
pub(crate) fn resolve_folder(
    st: &State,
    ctx: &Ctx,
    folder: Node<'_, '_>,
) -> Result<(String, String), (&'static str, String)> {
    if folder.tag_name().name() == "FolderId" {
        let id = folder.attribute("Id").unwrap_or("");
        if !id_well_formed(id) {
            return Err(("ErrorInvalidIdMalformed", "Id is malformed.".into()));
        }
        let (owner, name) = folder::parse_folder_id(id)
            .ok_or(("ErrorFolderNotFound", FOLDER_NOT_FOUND.to_string()))?;
        return match st.user(&owner) {
            Some(u) => Ok((u.user.smtp.clone(), name)),
            None => Err(("ErrorFolderNotFound", FOLDER_NOT_FOUND.to_string())),
        };
    }
    if folder.tag_name().name() != "DistinguishedFolderId" {
        return Err(("ErrorFolderNotFound", FOLDER_NOT_FOUND.into()));
    }
    let name = folder.attribute("Id").unwrap_or("").to_string();
    let owner = match soap::child(folder, TYPES_NS, "Mailbox") {
        Some(mb) => match mailbox_email(mb) {
            Some(e) => e,
            None => {
                return Err((
                    "ErrorMissingEmailAddress",
                    "The EmailAddress of the Mailbox is missing.".into(),
                ));
            }
        },
        None => ctx.me.clone(),
    };
    match st.user(&owner) {
        Some(u) => Ok((u.user.smtp.clone(), name)),
        None => Err(("ErrorNonExistentMailbox", NO_MAILBOX.into())),
    }
}

/// Reads an xs:dateTime of a request: as sent when it has an offset (or no
/// TimeZoneContext applies), else the wall-clock time in the request's time zone,
/// written in UTC.
pub(crate) fn request_time(ctx: &Ctx, value: &str) -> String {
    let v = value.trim();
    let has_offset = v.ends_with('Z')
        || v.get(19..)
            .is_some_and(|rest| rest.contains('+') || rest.contains('-'));
    let Some(tz) = ctx.time_zone.as_deref().filter(|_| !has_offset) else {
        return v.to_string();
    };
    let zone = recurrence::zone(Some(tz));
    v.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned_datetime(zone).ok())
        .map(|z| z.timestamp().strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| v.to_string())
}

/// Whether a string could be an EWS id (base64 alphabet, not empty).
pub(crate) fn id_well_formed(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
}
