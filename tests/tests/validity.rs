//! Every kind of response the simulator writes is valid against Microsoft's schema,
//! checked with the shared validator (`../shared/ews-schema/validate.sh`). Without
//! xmllint the test fails with the install hint; it never passes on less.

mod common;

use common::*;
use ews_tests::{BodyPrefixes, Fault, ServerStyle, SimConfig, Simulator};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";

/// Runs one scenario touching every operation, success and error shapes; returns the
/// response bodies.
fn scenario(sim: &Simulator) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut keep = |name: &str, r: Resp| out.push((name.to_string(), r.body));
    keep("add-ok", call(sim, U1, &seed_add(U1, U2)));
    keep("add-exists", call(sim, U1, &seed_add(U1, U2)));
    keep("add-denied", call(sim, U3, &seed_add(U1, U2)));
    keep(
        "get-delegate-perms",
        call(sim, U1, &get_delegate(U1, true, &[U2, U3])),
    );
    keep(
        "get-delegate-none",
        call(sim, U3, &get_delegate(U3, true, &[])),
    );
    keep(
        "get-delegate-noperms",
        call(sim, U1, &get_delegate(U1, false, &[])),
    );
    keep(
        "update",
        call(
            sim,
            U1,
            &update_delegate(
                U1,
                &[
                    delegate_user(U2, &[("Calendar", "Editor")], ""),
                    delegate_user(U3, &[], ""),
                ],
                Some("DelegatesOnly"),
            ),
        ),
    );
    keep(
        "update-only-dmr",
        call(sim, U1, &update_delegate(U1, &[], Some("DelegatesAndMe"))),
    );
    let created = call(
        sim,
        U2,
        &create_meeting(
            Some(U1),
            "SendToAllAndSaveCopy",
            "Valid &amp; &lt;escaped&gt;",
            &[U3],
            &["ext@elsewhere.test"],
        ),
    );
    let id = created.attr(T, "ItemId", "Id")[0].clone();
    keep("create-ok", created);
    keep(
        "create-denied",
        call(
            sim,
            U3,
            &create_meeting(Some(U1), "SendToNone", "x", &[], &[]),
        ),
    );
    keep(
        "get-item-all",
        call(sim, U1, &get_item("AllProperties", &[&id, "AAMkAGSimNope"])),
    );
    keep(
        "get-item-default",
        call(sim, U1, &get_item("Default", &[&id])),
    );
    keep(
        "get-item-idonly",
        call(sim, U1, &get_item("IdOnly", &[&id])),
    );
    let inbox = call(sim, U3, &find_item("inbox", None, "AllProperties", ""));
    let req_id = inbox.attr(T, "ItemId", "Id")[0].clone();
    keep("find-inbox", inbox);
    keep(
        "get-meeting-request",
        call(sim, U3, &get_item("AllProperties", &[&req_id])),
    );
    keep(
        "find-paged",
        call(
            sim,
            U1,
            &find_item(
                "calendar",
                None,
                "Default",
                "<m:IndexedPageItemView MaxEntriesReturned=\"1\" Offset=\"0\" BasePoint=\"Beginning\"/>",
            ),
        ),
    );
    keep(
        "find-denied",
        call(sim, U3, &find_item("calendar", Some(U1), "Default", "")),
    );
    keep(
        "delete",
        call(
            sim,
            U1,
            &delete_item(
                &[&id, "AAMkAGSimNope"],
                Some("SendToAllAndSaveCopy"),
                "MoveToDeletedItems",
            ),
        ),
    );
    let inbox = call(sim, U3, &find_item("inbox", None, "IdOnly", ""));
    let cancel_id = inbox.attr(T, "ItemId", "Id")[0].clone();
    keep(
        "get-cancellation",
        call(sim, U3, &get_item("AllProperties", &[&cancel_id])),
    );
    keep("remove", call(sim, U1, &remove_delegate(U1, &[U2, U3])));
    keep(
        "message",
        call(
            sim,
            U1,
            "<m:CreateItem MessageDisposition=\"SaveOnly\"><m:Items><t:Message><t:Subject>draft</t:Subject></t:Message></m:Items></m:CreateItem>",
        ),
    );
    keep("fault-schema", call(sim, U1, "<m:GetDelegate/>"));
    sim.inject(None, Fault::ServerBusy { back_off_ms: 5000 }, 1);
    keep("fault-busy", call(sim, U1, &get_delegate(U1, true, &[])));
    keep(
        "fault-impersonation",
        post_as(
            sim,
            U2,
            &envelope(
                &impersonate("SID", "S-1-5-21-1"),
                &get_delegate(U1, true, &[]),
            ),
        ),
    );
    out
}

#[test]
fn responses_are_schema_valid() {
    let configs = [
        ("2013", SimConfig::seed()),
        (
            "2010",
            SimConfig::seed().with_style(ServerStyle::Exchange2010),
        ),
        (
            "default-ns",
            SimConfig::seed().with_prefixes(BodyPrefixes::DefaultNamespace),
        ),
        (
            "custom",
            SimConfig::seed().with_prefixes(BodyPrefixes::Custom {
                messages: "mm".into(),
                types: "tt".into(),
            }),
        ),
    ];
    let mut files = Vec::new();
    let dir = std::env::temp_dir().join(format!("ews-sim-validity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (label, config) in configs {
        let sim = Simulator::start(config);
        for (name, body) in scenario(&sim) {
            assert!(
                roxmltree::Document::parse(&body).is_ok(),
                "{label}/{name}: {body}"
            );
            let path = dir.join(format!("{label}-{name}.xml"));
            std::fs::write(&path, body).expect("write sample");
            files.push(path);
        }
    }
    let (ok, report) = run_validator(&["-q"], &files);
    assert!(
        ok,
        "simulator answers invalid against the EWS schema:\n{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
