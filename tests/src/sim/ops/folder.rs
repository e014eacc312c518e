//! GetFolder: the distinguished folders of each mailbox.
//!
//! Each mailbox has `root` > `msgfolderroot` > the item folders (`calendar`, `contacts`,
//! `deleteditems`, `drafts`, `inbox`, `journal`, `notes`, `sentitems`, `tasks`). Any other
//! distinguished name gets ErrorFolderNotFound, as from a store that lacks the folder.
//!
//! Folder ids are opaque to clients and stable: the same folder of the same mailbox has
//! the same `t:FolderId` in every run, and FindItem, CreateItem (SavedItemFolderId) and
//! GetFolder take it wherever they take a `t:DistinguishedFolderId`.
//!
//! Who may read a folder's properties: the owner (or an account impersonating the owner)
//! every folder; a delegate `root` and `msgfolderroot` (the hierarchy above the folders it
//! was granted, as Exchange makes it visible to delegates) and each delegate folder
//! (calendar, tasks, inbox, contacts, notes, journal) on which it holds at least
//! Reviewer; nobody else anything (ErrorAccessDenied), the same rule FindItem and GetItem
//! apply to items.
//!
//! Response shape: `m:GetFolderResponse > m:ResponseMessages > m:GetFolderResponseMessage`
//! per id in request order; success carries `m:Folders` with one `t:Folder` (or
//! `t:CalendarFolder`, `t:ContactsFolder`, `t:TasksFolder`); an error carries MessageText,
//! ResponseCode and DescriptiveLinkKey and an empty `m:Folders`. Shapes: IdOnly writes
//! FolderId; Default adds DisplayName, TotalCount, ChildFolderCount and UnreadCount;
//! AllProperties everything below; `t:AdditionalProperties` adds single fields
//! (`folder:ParentFolderId`, `folder:FolderClass`, `folder:EffectiveRights`,
//! `folder:DistinguishedFolderId`, ...).

use roxmltree::Node;

use super::{ACCESS_DENIED, Ctx, FOLDER_NOT_FOUND, ITEM_FOLDERS, resolve_folder};
use crate::sim::soap::{self, MESSAGES_NS, TYPES_NS, W, WNs};
use crate::sim::state::{State, b64, unb64};

/// Prefix of the simulator's folder ids.
const FOLDER_ID_PREFIX: &str = "AAMkAGSimF";

/// The folder id of `owner`'s distinguished folder `name`.
pub(crate) fn folder_id(owner: &str, name: &str) -> String {
    format!(
        "{FOLDER_ID_PREFIX}{}",
        b64(format!("folder:{}:{name}", owner.to_ascii_lowercase()).as_bytes())
    )
}

/// The (owner, distinguished name) a folder id stands for, if it is one of ours.
pub(crate) fn parse_folder_id(id: &str) -> Option<(String, String)> {
    let raw = unb64(id.strip_prefix(FOLDER_ID_PREFIX)?)?;
    let text = String::from_utf8(raw).ok()?;
    let rest = text.strip_prefix("folder:")?;
    let (owner, name) = rest.rsplit_once(':')?;
    known(name).then(|| (owner.to_string(), name.to_string()))
}

/// Whether the simulator has this distinguished folder in every mailbox.
fn known(name: &str) -> bool {
    name == "root" || name == "msgfolderroot" || ITEM_FOLDERS.contains(&name)
}

/// Element name, FolderClass and display name of a distinguished folder.
fn describe(name: &str) -> (&'static str, Option<&'static str>, &'static str) {
    match name {
        "root" => ("Folder", None, "Root"),
        "msgfolderroot" => ("Folder", Some("IPF.Note"), "Top of Information Store"),
        "calendar" => ("CalendarFolder", Some("IPF.Appointment"), "Calendar"),
        "contacts" => ("ContactsFolder", Some("IPF.Contact"), "Contacts"),
        "deleteditems" => ("Folder", Some("IPF.Note"), "Deleted Items"),
        "drafts" => ("Folder", Some("IPF.Note"), "Drafts"),
        "inbox" => ("Folder", Some("IPF.Note"), "Inbox"),
        "journal" => ("Folder", Some("IPF.Journal"), "Journal"),
        "notes" => ("Folder", Some("IPF.StickyNote"), "Notes"),
        "sentitems" => ("Folder", Some("IPF.Note"), "Sent Items"),
        "tasks" => ("TasksFolder", Some("IPF.Task"), "Tasks"),
        _ => ("Folder", None, ""),
    }
}

fn parent(name: &str) -> Option<&'static str> {
    match name {
        "root" => None,
        "msgfolderroot" => Some("root"),
        _ => Some("msgfolderroot"),
    }
}

fn child_count(name: &str) -> usize {
    match name {
        "root" => 1,
        "msgfolderroot" => ITEM_FOLDERS.len(),
        _ => 0,
    }
}

/// The permission rank `who` has on `owner`'s folder `name` (3 for the owner).
fn rank(st: &State, who: &str, owner: &str, name: &str) -> u8 {
    if who.eq_ignore_ascii_case(owner) {
        return 3;
    }
    let Some(d) = st.delegate(owner, who) else {
        return 0;
    };
    match d.permissions.for_folder(name) {
        Some(level) => level.rank(),
        // The hierarchy above the delegate folders is visible to every delegate.
        None if name == "root" || name == "msgfolderroot" => 1,
        None => 0,
    }
}

/// Which fields to write.
struct FolderShape {
    all: bool,
    default: bool,
    extra: Vec<String>,
}

impl FolderShape {
    fn parse(node: Option<Node<'_, '_>>) -> FolderShape {
        let base = node
            .and_then(|n| soap::t_text(n, "BaseShape"))
            .unwrap_or_else(|| "Default".to_string());
        let extra = node
            .and_then(|n| soap::child(n, TYPES_NS, "AdditionalProperties"))
            .map(|p| {
                soap::children(p, TYPES_NS, "FieldURI")
                    .filter_map(|f| f.attribute("FieldURI"))
                    .map(|u| u.rsplit(':').next().unwrap_or(u).to_string())
                    .collect()
            })
            .unwrap_or_default();
        FolderShape {
            all: base == "AllProperties",
            default: base == "Default",
            extra,
        }
    }

    fn want(&self, field: &str) -> bool {
        const DEFAULT: &[&str] = &[
            "DisplayName",
            "TotalCount",
            "ChildFolderCount",
            "UnreadCount",
        ];
        self.all
            || (self.default && DEFAULT.contains(&field))
            || self.extra.iter().any(|e| e == field)
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// One folder, ready to write.
struct Found {
    owner: String,
    name: String,
    rank: u8,
}

fn write_folder(w: &mut W, st: &State, shape: &FolderShape, f: &Found) {
    let (element, class, display) = describe(&f.name);
    w.open(WNs::T, element, &[]);
    let id = folder_id(&f.owner, &f.name);
    let ck = format!("AQAAABYAAA{}", b64(format!("fck:{}", f.name).as_bytes()));
    w.empty(WNs::T, "FolderId", &[("Id", &id), ("ChangeKey", &ck)]);
    if let Some(p) = parent(&f.name) {
        if shape.want("ParentFolderId") {
            let pid = folder_id(&f.owner, p);
            let pck = format!("AQAAABYAAA{}", b64(format!("fck:{p}").as_bytes()));
            w.empty(
                WNs::T,
                "ParentFolderId",
                &[("Id", &pid), ("ChangeKey", &pck)],
            );
        }
    }
    if let Some(c) = class {
        if shape.want("FolderClass") {
            w.leaf(WNs::T, "FolderClass", c);
        }
    }
    if shape.want("DisplayName") {
        w.leaf(WNs::T, "DisplayName", display);
    }
    let items: Vec<_> = st
        .mailbox(&f.owner)
        .map(|m| m.items.iter().filter(|i| i.folder == f.name).collect())
        .unwrap_or_default();
    if shape.want("TotalCount") {
        w.leaf(WNs::T, "TotalCount", &items.len().to_string());
    }
    if shape.want("ChildFolderCount") {
        w.leaf(
            WNs::T,
            "ChildFolderCount",
            &child_count(&f.name).to_string(),
        );
    }
    if shape.want("EffectiveRights") {
        let owner = f.rank >= 3 && parent(&f.name).is_some();
        w.open(WNs::T, "EffectiveRights", &[]);
        w.leaf(WNs::T, "CreateAssociated", bool_str(owner));
        w.leaf(WNs::T, "CreateContents", bool_str(f.rank >= 2));
        w.leaf(WNs::T, "CreateHierarchy", bool_str(owner));
        w.leaf(WNs::T, "Delete", bool_str(f.rank >= 3));
        w.leaf(WNs::T, "Modify", bool_str(f.rank >= 3));
        w.leaf(WNs::T, "Read", bool_str(f.rank >= 1));
        w.close(WNs::T, "EffectiveRights");
    }
    if shape.want("DistinguishedFolderId") {
        w.leaf(WNs::T, "DistinguishedFolderId", &f.name);
    }
    // UnreadCount belongs to FolderType (and its other subtypes), not to CalendarFolderType.
    if element != "CalendarFolder" && shape.want("UnreadCount") {
        let unread = items.iter().filter(|i| !i.is_read).count();
        w.leaf(WNs::T, "UnreadCount", &unread.to_string());
    }
    w.close(WNs::T, element);
}

/// GetFolder.
pub(crate) fn get_folder(st: &State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    let shape = FolderShape::parse(soap::child(op, MESSAGES_NS, "FolderShape"));
    let ids: Vec<Node<'_, '_>> = soap::child(op, MESSAGES_NS, "FolderIds")
        .map(|i| i.children().filter(|c| c.is_element()).collect())
        .unwrap_or_default();
    let results: Vec<Result<Found, (&'static str, String)>> = ids
        .iter()
        .map(|id| {
            let (owner, name) = resolve_folder(st, ctx, *id)?;
            if !known(&name) {
                return Err(("ErrorFolderNotFound", FOLDER_NOT_FOUND.to_string()));
            }
            let rank = rank(st, &ctx.me, &owner, &name);
            if rank == 0 {
                return Err(("ErrorAccessDenied", ACCESS_DENIED.to_string()));
            }
            Ok(Found { owner, name, rank })
        })
        .collect();
    ctx.envelope(|w| {
        w.root("GetFolderResponse", &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        for r in &results {
            match r {
                Ok(found) => {
                    w.open(
                        WNs::M,
                        "GetFolderResponseMessage",
                        &[("ResponseClass", "Success")],
                    );
                    w.response_fields("NoError", None);
                    w.open(WNs::M, "Folders", &[]);
                    write_folder(w, st, &shape, found);
                    w.close(WNs::M, "Folders");
                }
                Err((code, text)) => {
                    w.open(
                        WNs::M,
                        "GetFolderResponseMessage",
                        &[("ResponseClass", "Error")],
                    );
                    w.response_fields(code, Some(text));
                    w.empty(WNs::M, "Folders", &[]);
                }
            }
            w.close(WNs::M, "GetFolderResponseMessage");
        }
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, "GetFolderResponse");
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_ids_round_trip_and_reject_others() {
        let id = folder_id("User1@Example.com", "calendar");
        assert_eq!(
            parse_folder_id(&id),
            Some(("user1@example.com".to_string(), "calendar".to_string()))
        );
        assert_ne!(id, folder_id("user2@example.com", "calendar"));
        assert_eq!(parse_folder_id("AAMkAGSimFbm90IGEgZm9sZGVy"), None);
        assert_eq!(parse_folder_id(&folder_id("a@b", "junkemail")), None);
        assert_eq!(parse_folder_id("AAMkAGSimaXRlbToxMA=="), None);
    }
}
