//! The sync planner: golden plans (JSON under tests/snapshots/sync/, checked by hand) and the
//! convergence property against a model server.

mod sync_support;

use std::path::PathBuf;

use ews_proto::sync::{
    DelegateOp, DesiredDelegate, DesiredState, Lint, Observed, Plan, PlanError, RemovalReason,
    Scheduler, SchedulerConfig, StepKind, plan,
};
use ews_proto::{
    AddDelegate, DelegateFolder, DelegatePermissions, DelegateUser, DeliverMeetingRequests,
    EmailAddress, GetDelegate, Permission, RemoveDelegate, UpdateDelegate, UserId,
};
use proptest::prelude::*;
use sync_support::{Mailbox, Model, ModelDelegate, ModelOrphan};

const BOSS: &str = "boss@example.com";

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

/// What the model's GetDelegate shows of `principal`, with the desired users that do not
/// resolve found as the scheduler's probe finds them.
fn observe(model: &mut Model, desired: &DesiredState) -> Observed {
    let principal = desired.principal().clone();
    let reply = model.answer(&DelegateOp::Get(GetDelegate::new(principal.clone())));
    let mut observed = Observed::new(principal, &reply.body);
    for d in desired.delegates() {
        if !model
            .users
            .contains(&d.user().as_str().to_ascii_lowercase())
        {
            observed = observed.unresolvable(d.user());
        }
    }
    observed
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/sync")
        .join(format!("{name}.json"))
}

/// Compares the plan's JSON with the golden file (`BLESS=1` writes it), and checks that
/// the file reads back as the same plan.
fn golden(name: &str, plan: &Plan) {
    let json = serde_json::to_string_pretty(plan).expect("a plan serialises") + "\n";
    let path = golden_path(name);
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(&path, &json).expect("write golden");
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (BLESS=1 writes it)", path.display()));
    assert_eq!(json, want, "golden plan {name} differs");
    let back: Plan = serde_json::from_str(&want).expect("the golden plan reads back");
    assert_eq!(&back, plan, "{name} round-trips");
}

fn boss(mailbox: Mailbox) -> Model {
    Model::default()
        .user("a@example.com")
        .user("b@example.com")
        .user("c@example.com")
        .mailbox(BOSS, mailbox)
}

fn state() -> DesiredState {
    DesiredState::new(addr(BOSS))
}

fn editor_with_copies(user: &str) -> DesiredDelegate {
    DesiredDelegate::new(addr(user))
        .folder(DelegateFolder::Calendar, Permission::Editor)
        .receive_copies_of_meeting_messages(true)
}

fn case(name: &str, mut model: Model, desired: DesiredState) -> Plan {
    let observed = observe(&mut model, &desired);
    let p = plan(&desired, &observed);
    golden(name, &p);
    p
}

#[test]
fn custom_level_not_managed_is_kept() {
    // a: Calendar Editor, Inbox Custom, Tasks None. Desired manages Calendar and Tasks.
    let model = boss(Mailbox {
        delegates: vec![
            ModelDelegate::new("a@example.com")
                .level(0, "Editor")
                .level(2, "Custom")
                .receive(true),
        ],
        ..Mailbox::default()
    });
    let desired = state().delegate(
        editor_with_copies("a@example.com").folder(DelegateFolder::Tasks, Permission::Reviewer),
    );
    let p = case("custom_kept", model, desired);
    assert_eq!(p.steps().len(), 1);
    let update = &p.steps()[0];
    assert_eq!(update.kind(), StepKind::Update);
    let sent = update.delegates()[0].permission_set();
    assert_eq!(
        sent.level(DelegateFolder::Inbox),
        None,
        "Custom is never written"
    );
    // The operation is the crate's own, with delivery sent explicitly.
    let want = UpdateDelegate::new(
        addr(BOSS),
        DelegateUser::new(UserId::smtp(addr("a@example.com")))
            .permissions(
                DelegatePermissions::new()
                    .calendar(Permission::Editor)
                    .tasks(Permission::Reviewer),
            )
            .receive_copies_of_meeting_messages(true)
            .view_private_items(false),
    )
    .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    assert_eq!(p.operations(), [DelegateOp::Update(want)]);
}

fn orphans() -> Mailbox {
    Mailbox {
        delegates: vec![ModelDelegate::new("a@example.com")],
        orphans: vec![
            ModelOrphan {
                code: "ErrorDelegateNoUser",
                smtp: Some("gone@example.com".to_owned()),
            },
            ModelOrphan {
                code: "ErrorDelegateNoUser",
                smtp: None,
            },
        ],
        ..Mailbox::default()
    }
}

#[test]
fn an_orphan_stays_without_prune() {
    let p = case(
        "orphan_prune_off",
        boss(orphans()),
        state().delegate(DesiredDelegate::new(addr("a@example.com"))),
    );
    assert!(p.steps().is_empty() && p.errors().is_empty());
    assert_eq!(p.lints().len(), 2);
    assert!(
        p.lints()
            .iter()
            .all(|l| matches!(l, Lint::OrphanKept { .. }))
    );
}

#[test]
fn an_orphan_goes_under_prune() {
    let p = case(
        "orphan_prune_on",
        boss(orphans()),
        state()
            .delegate(DesiredDelegate::new(addr("a@example.com")))
            .prune(true),
    );
    assert_eq!(p.steps().len(), 1);
    let remove = &p.steps()[0];
    assert_eq!(remove.kind(), StepKind::Remove);
    assert_eq!(remove.removals().len(), 1);
    assert_eq!(
        remove.removals()[0].user().primary_smtp_address(),
        Some("gone@example.com")
    );
    assert!(matches!(
        remove.removals()[0].reason(),
        RemovalReason::Orphan(_)
    ));
    // The one without an id cannot be removed: a lint.
    assert!(matches!(p.lints(), [Lint::OrphanWithoutId { .. }]));
    assert_eq!(
        p.operations(),
        [DelegateOp::Remove(RemoveDelegate::new(
            addr(BOSS),
            UserId::smtp(addr("gone@example.com"))
        ))]
    );
}

#[test]
fn a_delivery_change_alone_is_a_delivery_only_update() {
    let model = boss(Mailbox {
        delegates: vec![ModelDelegate::new("a@example.com")],
        ..Mailbox::default()
    });
    let desired = state()
        .delegate(DesiredDelegate::new(addr("a@example.com")))
        .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndSendInformationToMe);
    let p = case("deliver_only", model, desired);
    assert_eq!(
        p.operations(),
        [DelegateOp::Update(UpdateDelegate::deliver_only(
            addr(BOSS),
            DeliverMeetingRequests::DelegatesAndSendInformationToMe
        ))]
    );
}

#[test]
fn a_swap_adds_before_it_removes() {
    let model = boss(Mailbox {
        delegates: vec![ModelDelegate::new("a@example.com").level(0, "Editor")],
        ..Mailbox::default()
    });
    let desired = state()
        .delegate(
            DesiredDelegate::new(addr("b@example.com"))
                .folder(DelegateFolder::Calendar, Permission::Editor),
        )
        .prune(true);
    let p = case("swap", model, desired);
    let kinds: Vec<_> = p.steps().iter().map(|s| s.kind()).collect();
    assert_eq!(kinds, [StepKind::Add, StepKind::Remove]);
    let add = AddDelegate::new(
        addr(BOSS),
        DelegateUser::new(UserId::smtp(addr("b@example.com")))
            .permissions(DelegatePermissions::new().calendar(Permission::Editor))
            .receive_copies_of_meeting_messages(false)
            .view_private_items(false),
    )
    .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    assert_eq!(p.operations()[0], DelegateOp::Add(add));
}

#[test]
fn an_unresolvable_delegate_is_an_error_never_a_removal() {
    // ghost@ does not resolve; a@ would be pruned; nothing is planned at all.
    let model = boss(Mailbox {
        delegates: vec![ModelDelegate::new("a@example.com")],
        ..Mailbox::default()
    });
    let desired = state()
        .delegate(DesiredDelegate::new(addr("ghost@example.com")))
        .prune(true);
    let p = case("unresolvable", model, desired);
    assert!(p.steps().is_empty());
    assert_eq!(
        p.errors(),
        [PlanError::Unresolvable {
            user: addr("ghost@example.com")
        }]
    );
}

#[test]
fn a_desired_delegate_reported_as_no_user_is_unresolvable() {
    let model = boss(Mailbox {
        orphans: vec![ModelOrphan {
            code: "ErrorDelegateNoUser",
            smtp: Some("a@example.com".to_owned()),
        }],
        ..Mailbox::default()
    });
    let desired = state()
        .delegate(DesiredDelegate::new(addr("a@example.com")))
        .prune(true);
    let p = case("orphan_desired", model, desired);
    assert!(p.steps().is_empty());
    assert!(matches!(p.errors(), [PlanError::Unresolvable { .. }]));
}

#[test]
fn a_fingerprint_once_taken_follows_a_later_unresolvable_user() {
    let mut model = boss(Mailbox::default());
    let desired = state().delegate(DesiredDelegate::new(addr("a@example.com")));
    let observed = observe(&mut model, &desired);
    let before = observed.fingerprint();
    // Taken twice: the same.
    assert_eq!(observed.fingerprint(), before);
    let marked = observed.clone().unresolvable(&addr("ghost@example.com"));
    assert_ne!(
        marked.fingerprint(),
        before,
        "a remembered fingerprint was kept"
    );
    // Equality ignores whether a fingerprint was taken.
    let fresh = observe(&mut model, &desired);
    assert_eq!(fresh, observed);
    assert_eq!(fresh.fingerprint(), before);
}

#[test]
fn a_misconfigured_desired_delegate_is_an_error() {
    let model = boss(Mailbox {
        orphans: vec![ModelOrphan {
            code: "ErrorDelegateMissingConfiguration",
            smtp: Some("a@example.com".to_owned()),
        }],
        ..Mailbox::default()
    });
    let p = case(
        "misconfigured",
        model,
        state().delegate(DesiredDelegate::new(addr("a@example.com"))),
    );
    assert!(matches!(p.errors(), [PlanError::Misconfigured { .. }]));
}

#[test]
fn unmanaged_delivery_sends_the_observed_value() {
    let model = boss(Mailbox {
        deliver: Some("DelegatesAndSendInformationToMe".to_owned()),
        ..Mailbox::default()
    });
    let p = case(
        "unmanaged_delivery",
        model,
        state().delegate(editor_with_copies("a@example.com")),
    );
    assert_eq!(
        p.steps()[0].deliver_meeting_requests(),
        Some(&DeliverMeetingRequests::DelegatesAndSendInformationToMe)
    );
}

#[test]
fn unmanaged_delivery_not_reported_is_an_error() {
    let model = boss(Mailbox {
        deliver: None,
        ..Mailbox::default()
    });
    let p = case(
        "delivery_unknown",
        model,
        state().delegate(DesiredDelegate::new(addr("a@example.com"))),
    );
    assert_eq!(p.errors(), [PlanError::DeliveryUnknown]);
}

#[test]
fn copies_without_calendar_editor_is_a_lint() {
    let p = case(
        "lint_copies_without_editor",
        boss(Mailbox::default()),
        state().delegate(
            DesiredDelegate::new(addr("a@example.com"))
                .folder(DelegateFolder::Calendar, Permission::Author)
                .receive_copies_of_meeting_messages(true),
        ),
    );
    assert_eq!(p.steps().len(), 1, "a lint is not an error");
    assert!(matches!(
        p.lints(),
        [Lint::CopiesWithoutCalendarEditor { .. }]
    ));
}

#[test]
fn delegates_only_with_nobody_receiving_copies_is_a_lint() {
    let p = case(
        "lint_delegates_only",
        boss(Mailbox::default()),
        state()
            .delegate(
                DesiredDelegate::new(addr("a@example.com"))
                    .folder(DelegateFolder::Calendar, Permission::Editor),
            )
            .deliver_meeting_requests(DeliverMeetingRequests::DelegatesOnly),
    );
    assert_eq!(p.lints(), [Lint::DelegatesOnlyWithoutCopies]);
}

#[test]
fn no_change_is_an_empty_plan() {
    let model = boss(Mailbox {
        delegates: vec![
            ModelDelegate::new("a@example.com")
                .level(0, "Editor")
                .level(2, "Custom")
                .receive(true),
            // Not named, prune off: left alone.
            ModelDelegate::new("c@example.com").level(1, "Author"),
        ],
        ..Mailbox::default()
    });
    let p = case(
        "no_change",
        model,
        state()
            .delegate(editor_with_copies("a@example.com"))
            .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe),
    );
    assert!(p.is_converged());
    assert!(p.operations().is_empty());
}

#[test]
fn flags_only() {
    let model = boss(Mailbox {
        delegates: vec![ModelDelegate::new("a@example.com").level(0, "Editor")],
        ..Mailbox::default()
    });
    let p = case(
        "flags_only",
        model,
        state().delegate(
            DesiredDelegate::new(addr("a@example.com"))
                .folder(DelegateFolder::Calendar, Permission::Editor)
                .view_private_items(true),
        ),
    );
    assert_eq!(p.steps().len(), 1);
    assert!(p.steps()[0].delegates()[0].private_items());
}

#[test]
fn update_add_remove_in_that_order() {
    let model = boss(Mailbox {
        delegates: vec![
            ModelDelegate::new("c@example.com"),
            ModelDelegate::new("a@example.com").level(0, "Reviewer"),
        ],
        ..Mailbox::default()
    });
    let desired = state()
        .delegate(DesiredDelegate::new(addr("B@example.com")))
        .delegate(
            DesiredDelegate::new(addr("a@example.com"))
                .folder(DelegateFolder::Calendar, Permission::Author),
        )
        .prune(true);
    let p = case("update_add_remove", model, desired);
    let kinds: Vec<_> = p.steps().iter().map(|s| s.kind()).collect();
    assert_eq!(kinds, [StepKind::Update, StepKind::Add, StepKind::Remove]);
}

#[test]
fn a_saved_plan_refuses_a_changed_principal() {
    let mut model = boss(Mailbox::default());
    let desired = state().delegate(DesiredDelegate::new(addr("a@example.com")));
    let before = observe(&mut model, &desired);
    let saved = plan(&desired, &before);
    assert!(saved.check_current(&before).is_ok());
    model
        .mailbox_mut(BOSS)
        .delegates
        .push(ModelDelegate::new("c@example.com"));
    let after = observe(&mut model, &desired);
    let stale = saved.check_current(&after).expect_err("changed since");
    assert_eq!(stale.planned, *saved.fingerprint());
    // Message order does not change the fingerprint.
    model.mailbox_mut(BOSS).delegates.reverse();
    assert_eq!(
        observe(&mut model, &desired).fingerprint(),
        after.fingerprint()
    );
}

#[test]
fn a_desired_state_reads_back_and_refuses_what_cannot_be() {
    let desired = state()
        .delegate(editor_with_copies("a@example.com"))
        .deliver_meeting_requests(DeliverMeetingRequests::DelegatesOnly)
        .prune(true);
    let json = serde_json::to_string(&desired).expect("serialises");
    assert_eq!(
        json,
        r#"{"principal":"boss@example.com","delegates":[{"user":"a@example.com","permissions":{"calendar":"Editor"},"receive_copies_of_meeting_messages":true,"view_private_items":false}],"deliver_meeting_requests":"DelegatesOnly","prune":true}"#
    );
    let back: DesiredState = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, desired);
    // Unmanaged and prune off by default.
    let minimal: DesiredState =
        serde_json::from_str(r#"{"principal":"boss@example.com"}"#).expect("minimal");
    assert_eq!(minimal, state());
    for bad in [
        r#"{"principal":"boss"}"#,
        r#"{"principal":"boss@example.com","delegates":[{"user":"a@example.com","permissions":{"calendar":"Custom"}}]}"#,
        r#"{"principal":"boss@example.com","delegates":[{"user":"a@example.com"},{"user":"A@example.com"}]}"#,
        r#"{"principal":"boss@example.com","deliver_meeting_requests":"Elsewhere"}"#,
        r#"{"principal":"boss@example.com","prune":true,"extra":1}"#,
    ] {
        assert!(serde_json::from_str::<DesiredState>(bad).is_err(), "{bad}");
    }
    // A plan file cannot say what no plan says.
    let good = std::fs::read_to_string(golden_path("swap")).expect("golden");
    let swapped = good
        .replace("\"op\": \"Add\"", "\"op\": \"Tmp\"")
        .replace("\"op\": \"Remove\"", "\"op\": \"Add\"");
    assert!(serde_json::from_str::<Plan>(&swapped).is_err());
    let empty_add = r#"{"principal":"boss@example.com","fingerprint":"0000000000000000000000000000000000000000000000000000000000000000","steps":[{"op":"Add","delegates":[],"deliver_meeting_requests":"DelegatesAndMe"}]}"#;
    assert!(serde_json::from_str::<Plan>(empty_add).is_err());
}

// The property: a model mailbox, a desired state; apply the plan, re-plan: empty.

const POOL: [&str; 5] = [
    "a@example.com",
    "b@example.com",
    "c@example.com",
    "d@example.com",
    "ghost@example.com", // never resolves
];
const LEVELS: [&str; 5] = ["None", "Reviewer", "Author", "Editor", "Custom"];
const DELIVERY: [&str; 3] = [
    "DelegatesOnly",
    "DelegatesAndMe",
    "DelegatesAndSendInformationToMe",
];

fn model_delegate() -> impl Strategy<Value = (usize, [usize; 6], bool, bool)> {
    (
        0..4usize,
        proptest::array::uniform6(0..5usize),
        any::<bool>(),
        any::<bool>(),
    )
}

fn mailbox() -> impl Strategy<Value = Mailbox> {
    (
        proptest::collection::vec(model_delegate(), 0..4),
        proptest::collection::vec((any::<bool>(), proptest::option::of(5..7usize)), 0..3),
        0..3usize,
    )
        .prop_map(|(delegates, orphans, deliver)| {
            let mut seen = std::collections::BTreeSet::new();
            Mailbox {
                delegates: delegates
                    .into_iter()
                    .filter(|(u, ..)| seen.insert(*u))
                    .map(|(u, levels, receive, private)| ModelDelegate {
                        smtp: POOL[u].to_owned(),
                        levels: levels.map(|l| LEVELS[l].to_owned()),
                        receive,
                        private,
                    })
                    .collect(),
                orphans: orphans
                    .into_iter()
                    .map(|(no_user, id)| ModelOrphan {
                        code: if no_user {
                            "ErrorDelegateNoUser"
                        } else {
                            "ErrorDelegateMissingConfiguration"
                        },
                        smtp: id.map(|i| format!("orphan{i}@example.com")),
                    })
                    .collect(),
                deliver: Some(DELIVERY[deliver].to_owned()),
            }
        })
}

fn desired_state() -> impl Strategy<Value = DesiredState> {
    (
        proptest::collection::vec(
            (
                0..5usize,
                proptest::array::uniform6(proptest::option::of(0..4usize)),
                any::<bool>(),
                any::<bool>(),
            ),
            0..4,
        ),
        proptest::option::of(0..3usize),
        any::<bool>(),
    )
        .prop_map(|(delegates, deliver, prune)| {
            let levels = [
                Permission::None,
                Permission::Reviewer,
                Permission::Author,
                Permission::Editor,
            ];
            let mut s = DesiredState::new(addr(BOSS)).prune(prune);
            for (u, folders, receive, private) in delegates {
                let mut d = DesiredDelegate::new(addr(POOL[u]))
                    .receive_copies_of_meeting_messages(receive)
                    .view_private_items(private);
                for (folder, level) in DelegateFolder::ALL.into_iter().zip(folders) {
                    if let Some(l) = level {
                        d = d.folder(folder, levels[l]);
                    }
                }
                s = s.delegate(d);
            }
            if let Some(i) = deliver {
                s = s.deliver_meeting_requests(match i {
                    0 => DeliverMeetingRequests::DelegatesOnly,
                    1 => DeliverMeetingRequests::DelegatesAndMe,
                    _ => DeliverMeetingRequests::DelegatesAndSendInformationToMe,
                });
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn applying_a_plan_converges_and_a_second_apply_writes_nothing(
        mailbox in mailbox(),
        desired in desired_state(),
    ) {
        let mut model = Model::default();
        for u in &POOL[..4] {
            model = model.user(u);
        }
        let mut model = model.mailbox(BOSS, mailbox.clone());
        let observed = observe(&mut model, &desired);
        let first = plan(&desired, &observed);

        // Deterministic: the same mailbox answering in another order plans the same.
        let mut reversed = model.clone();
        reversed.mailbox_mut(BOSS).delegates.reverse();
        reversed.mailbox_mut(BOSS).orphans.reverse();
        prop_assert_eq!(&plan(&desired, &observe(&mut reversed, &desired)), &first);

        // Steps run Update, Add, Remove, each at most once.
        let kinds: Vec<_> = first.steps().iter().map(|s| s.kind()).collect();
        prop_assert!(kinds.windows(2).all(|w| w[0] < w[1]), "{:?}", kinds);

        let ghost = desired.delegates().any(|d| d.user().as_str() == POOL[4]);
        let misconfigured_desired = mailbox.orphans.iter().any(|o| {
            o.smtp.as_deref().is_some_and(|s| desired.delegates().any(|d| d.user().as_str() == s))
        });
        if ghost || misconfigured_desired {
            // An error, and no step: nothing removed for it.
            prop_assert!(!first.errors().is_empty());
            prop_assert!(first.steps().is_empty());
            return Ok(());
        }
        prop_assert!(first.errors().is_empty(), "{:?}", first.errors());
        if !desired.prunes() {
            prop_assert!(first.steps().iter().all(|s| s.kind() != StepKind::Remove));
        }

        let before = model.mailbox_mut(BOSS).clone();
        for op in first.operations() {
            let reply = model.answer(&op);
            prop_assert!(reply.body.iter().all(|m| !m.is_error()), "{:?}: {:?}", op, reply.body);
        }
        prop_assert_eq!(model.writes_without_deliver, 0);
        let after = model.mailbox_mut(BOSS).clone();

        // A Custom level on a folder the state does not manage survives.
        for d in &before.delegates {
            let Some(want) = desired.delegates().find(|w| w.user().as_str() == d.smtp) else {
                continue;
            };
            let now = after.delegate(&d.smtp).expect("a desired delegate stays");
            for (i, folder) in DelegateFolder::ALL.into_iter().enumerate() {
                if d.levels[i] == "Custom" && want.permission_set().level(folder).is_none() {
                    prop_assert_eq!(&now.levels[i], "Custom");
                }
            }
        }

        let second = plan(&desired, &observe(&mut model, &desired));
        prop_assert!(second.is_converged(), "{:?}", second);

        // The scheduler over the converged model sends no write.
        let writes_before = model.writes;
        let report = run(&mut model, desired.clone());
        prop_assert!(report.all_converged(), "{:?}", report);
        prop_assert_eq!(report.writes, 0);
        prop_assert_eq!(model.writes, writes_before);
    }
}

/// Runs a scheduler over `model`, answering one request at a time.
fn run(model: &mut Model, desired: DesiredState) -> ews_proto::sync::Report {
    let mut s = Scheduler::new([desired], SchedulerConfig::default());
    let now = std::time::Instant::now();
    let mut out = Vec::new();
    loop {
        match s.poll(now) {
            Some(ews_proto::sync::Action::Send { op, token, .. }) => out.push((token, op)),
            Some(ews_proto::sync::Action::Done(report)) => return report,
            _ => {
                let (token, op) = out.remove(0);
                let reply = model.answer(&op);
                s.handle(token, Ok(reply), now);
            }
        }
    }
}
