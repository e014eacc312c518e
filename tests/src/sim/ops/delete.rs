//! DeleteItem, with meeting cancellations.
//!
//! Response shape: `m:DeleteItemResponse > m:ResponseMessages > m:DeleteItemResponseMessage
//! ResponseClass=...` per id; errors carry MessageText, ResponseCode, DescriptiveLinkKey.

use roxmltree::Node;

use super::create::{deliver_meeting_message, save_sent_copy};
use super::{ACCESS_DENIED, Ctx, ITEM_NOT_FOUND, id_well_formed};
use crate::sim::soap::{self, MESSAGES_NS, WNs};
use crate::sim::state::{ItemKind, State};

type ItemError = (&'static str, &'static str);

/// DeleteItem.
pub(crate) fn delete_item(st: &mut State, ctx: &Ctx, op: Node<'_, '_>) -> String {
    let delete_type = op.attribute("DeleteType").unwrap_or("HardDelete");
    let cancellations = op.attribute("SendMeetingCancellations");
    let ids: Vec<Node<'_, '_>> = soap::child(op, MESSAGES_NS, "ItemIds")
        .map(|i| i.children().filter(|c| c.is_element()).collect())
        .unwrap_or_default();
    let results: Vec<Result<(), ItemError>> = ids
        .iter()
        .map(|id| delete_one(st, ctx, *id, delete_type, cancellations))
        .collect();
    ctx.envelope(|w| {
        w.root("DeleteItemResponse", &[]);
        w.open(WNs::M, "ResponseMessages", &[]);
        for r in &results {
            match r {
                Ok(()) => {
                    w.open(
                        WNs::M,
                        "DeleteItemResponseMessage",
                        &[("ResponseClass", "Success")],
                    );
                    w.response_fields("NoError", None);
                }
                Err((code, text)) => {
                    w.open(
                        WNs::M,
                        "DeleteItemResponseMessage",
                        &[("ResponseClass", "Error")],
                    );
                    w.response_fields(code, Some(text));
                }
            }
            w.close(WNs::M, "DeleteItemResponseMessage");
        }
        w.close(WNs::M, "ResponseMessages");
        w.close(WNs::M, "DeleteItemResponse");
    })
}

fn delete_one(
    st: &mut State,
    ctx: &Ctx,
    id: Node<'_, '_>,
    delete_type: &str,
    cancellations: Option<&str>,
) -> Result<(), ItemError> {
    let resolved = super::recurrence::resolve(st, id)?;
    if let (Some(master), Some(index)) = (resolved.occurrence_of.clone(), resolved.instance_index) {
        return delete_occurrence(st, ctx, &resolved, &master, index, cancellations);
    }
    let value = resolved.id.as_str();
    if !id_well_formed(value) {
        return Err(("ErrorInvalidIdMalformed", "Id is malformed."));
    }
    let item = st
        .find_item(value)
        .cloned()
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND))?;
    let own = item.created_by.eq_ignore_ascii_case(&ctx.me);
    let allowed = st.folder_access(&ctx.me, &item.owner, &item.folder, 3)
        || (own && st.folder_access(&ctx.me, &item.owner, &item.folder, 2));
    if !allowed {
        return Err(("ErrorAccessDenied", ACCESS_DENIED));
    }
    if item.kind == ItemKind::CalendarItem {
        let Some(mode) = cancellations else {
            return Err((
                "ErrorSendMeetingCancellationsRequired",
                "SendMeetingCancellations attribute is required for Calendar items.",
            ));
        };
        let organizer_is_owner = item
            .organizer
            .as_ref()
            .is_some_and(|o| o.email.eq_ignore_ascii_case(&item.owner));
        if item.is_meeting && organizer_is_owner && !item.is_cancelled && mode != "SendToNone" {
            let delivered =
                deliver_meeting_message(st, &item, &ctx.me, ItemKind::MeetingCancellation);
            if let Some(mb) = st.mailbox_mut(&item.owner) {
                mb.cancellations_sent += delivered;
            }
            if mode == "SendToAllAndSaveCopy" {
                save_sent_copy(st, &item, &ctx.me, ItemKind::MeetingCancellation);
            }
        }
    }
    let removed = st.remove_item(value);
    if delete_type == "MoveToDeletedItems" && item.folder != "deleteditems" {
        if let Some(mut moved) = removed {
            moved.folder = "deleteditems".to_string();
            let (_, ck) = st.new_ids();
            moved.change_key = ck;
            if let Some(mb) = st.mailbox_mut(&moved.owner) {
                mb.items.push(moved);
            }
        }
    }
    Ok(())
}

/// Deletes one occurrence of a series: the series records it as deleted (it keeps its
/// instance index), and for a meeting the attendees are told of that occurrence as the
/// cancellation mode says.
fn delete_occurrence(
    st: &mut State,
    ctx: &Ctx,
    occurrence: &crate::sim::state::ItemSnapshot,
    master: &str,
    index: u32,
    cancellations: Option<&str>,
) -> Result<(), ItemError> {
    let series = st
        .find_item(master)
        .cloned()
        .ok_or(("ErrorItemNotFound", ITEM_NOT_FOUND))?;
    let own = series.created_by.eq_ignore_ascii_case(&ctx.me);
    let allowed = st.folder_access(&ctx.me, &series.owner, &series.folder, 3)
        || (own && st.folder_access(&ctx.me, &series.owner, &series.folder, 2));
    if !allowed {
        return Err(("ErrorAccessDenied", ACCESS_DENIED));
    }
    let Some(mode) = cancellations else {
        return Err((
            "ErrorSendMeetingCancellationsRequired",
            "SendMeetingCancellations attribute is required for Calendar items.",
        ));
    };
    let organizer_is_owner = series
        .organizer
        .as_ref()
        .is_some_and(|o| o.email.eq_ignore_ascii_case(&series.owner));
    if series.is_meeting && organizer_is_owner && mode != "SendToNone" {
        let delivered =
            deliver_meeting_message(st, occurrence, &ctx.me, ItemKind::MeetingCancellation);
        if let Some(mb) = st.mailbox_mut(&series.owner) {
            mb.cancellations_sent += delivered;
        }
        if mode == "SendToAllAndSaveCopy" {
            save_sent_copy(st, occurrence, &ctx.me, ItemKind::MeetingCancellation);
        }
    }
    if let Some(s) = st.find_item_mut(master) {
        s.deleted_occurrences.insert(index);
        s.modified_occurrences.remove(&index);
    }
    st.touch(master, &["calendar:DeletedOccurrences"]);
    Ok(())
}
