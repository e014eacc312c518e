//! The sync journal: records as JSON lines, torn lines, the resume decisions, and a
//! journaled run resumed against the model server (never a write sent twice).

mod sync_support;

use std::time::Instant;

use ews_proto::sync::{
    Action, DesiredDelegate, DesiredState, Journal, JournalError, PrincipalJournal, Record,
    ResumeDecision, Scheduler, SchedulerConfig, SyncRun, desired_digest, resume,
};
use ews_proto::{DelegateFolder, EmailAddress, Permission};
use sync_support::{Mailbox, Model, ModelDelegate};

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

const Z: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn header(desired: &str) -> String {
    format!(r#"{{"record":"run","format":1,"desired":"{desired}","principals":3}}"#)
}

fn journal(lines: &[String]) -> Journal {
    let mut text = lines.join("\n");
    text.push('\n');
    Journal::decode(&text).expect("a journal")
}

#[test]
fn records_round_trip_as_json_lines() {
    let records = [
        Record::Started {
            principal: addr("Boss@example.com"),
            seq: 3,
            op: "AddDelegate".into(),
        },
        Record::Verified {
            principal: addr("boss@example.com"),
        },
    ];
    for r in &records {
        let line = r.to_line();
        assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
        assert_eq!(&Record::from_line(&line).expect("parses"), r);
    }
    assert_eq!(
        records[0].to_line(),
        "{\"record\":\"started\",\"principal\":\"Boss@example.com\",\"seq\":3,\"op\":\"AddDelegate\"}\n"
    );
    let finished = Record::from_line(
        r#"{"record":"finished","principal":"a@example.com","seq":1,"codes":["NoError","ErrorDelegateAlreadyExists"]}"#,
    )
    .expect("parses");
    assert!(matches!(&finished, Record::Finished { codes, error: None, .. } if codes.len() == 2));
    // Unknown fields, a bad digest, a bad address: refused.
    for bad in [
        r#"{"record":"verified","principal":"a@example.com","extra":1}"#,
        r#"{"record":"run","format":1,"desired":"xyz","principals":1}"#,
        r#"{"record":"verified","principal":"not an address"}"#,
        r#"{"record":"nonsense"}"#,
    ] {
        assert!(Record::from_line(bad).is_err(), "{bad}");
    }
}

#[test]
fn torn_lines_are_left_out_only_at_the_end_of_a_run() {
    let h = header(Z);
    let v = r#"{"record":"verified","principal":"a@example.com"}"#;
    // The last line, without its line end: torn.
    let j = Journal::decode(&format!("{h}\n{v}\n{{\"record\":\"sta")).expect("torn tail");
    assert_eq!((j.records.len(), j.torn, j.open_line), (2, 1, true));
    // The same cut, followed by the header of a resumed run: torn too.
    let j = Journal::decode(&format!("{h}\n{{\"record\":\"sta\n{h}\n{v}\n")).expect("resumed");
    assert_eq!((j.records.len(), j.torn, j.open_line), (3, 1, false));
    // Anywhere else: an error naming the line.
    let e = Journal::decode(&format!("{h}\n{{\"record\":\"sta\n{v}\n")).expect_err("mid-file");
    assert!(matches!(e, JournalError::Line { line: 2, .. }), "{e:?}");
    // A complete last line without its line end is a record.
    let j = Journal::decode(&format!("{h}\n{v}")).expect("no line end");
    assert_eq!((j.records.len(), j.torn, j.open_line), (2, 0, true));
    assert_eq!(Journal::decode("").expect("empty"), Journal::default());
}

#[test]
fn resume_skips_verified_and_rereads_the_rest() {
    let lines = [
        header(Z),
        r#"{"record":"planned","principal":"a@example.com","fingerprint":"1111111111111111111111111111111111111111111111111111111111111111","plan":"2222222222222222222222222222222222222222222222222222222222222222","steps":1}"#.into(),
        r#"{"record":"started","principal":"a@example.com","seq":0,"op":"AddDelegate"}"#.into(),
        r#"{"record":"finished","principal":"a@example.com","seq":0,"codes":["NoError"]}"#.into(),
        r#"{"record":"verified","principal":"A@example.com"}"#.into(),
        r#"{"record":"started","principal":"b@example.com","seq":1,"op":"UpdateDelegate"}"#.into(),
        r#"{"record":"started","principal":"c@example.com","seq":2,"op":"RemoveDelegate"}"#.into(),
        r#"{"record":"finished","principal":"c@example.com","seq":2,"codes":["NoError"]}"#.into(),
    ];
    let state = resume(&journal(&lines).records).expect("resumes");
    assert_eq!(state.runs(), 1);
    assert_eq!(state.decision(&addr("a@example.com")), ResumeDecision::Skip);
    for p in ["b@example.com", "c@example.com", "never@example.com"] {
        assert_eq!(state.decision(&addr(p)), ResumeDecision::Reread, "{p}");
    }
    assert_eq!(
        state.principal(&addr("b@example.com")),
        Some(&PrincipalJournal::InDoubt {
            op: "UpdateDelegate".into()
        })
    );
    assert_eq!(
        state.principal(&addr("c@example.com")),
        Some(&PrincipalJournal::Written)
    );
    let verified: Vec<&str> = state.verified().map(EmailAddress::as_str).collect();
    assert_eq!(verified, ["a@example.com"]);
    let doubt: Vec<(&str, &str)> = state.in_doubt().map(|(p, op)| (p.as_str(), op)).collect();
    assert_eq!(doubt, [("b@example.com", "UpdateDelegate")]);
}

#[test]
fn a_write_left_in_doubt_stays_in_doubt_until_verified() {
    let started = |p: &str, seq: u32| {
        format!(r#"{{"record":"started","principal":"{p}","seq":{seq},"op":"AddDelegate"}}"#)
    };
    let finished = |p: &str, seq: u32| {
        format!(r#"{{"record":"finished","principal":"{p}","seq":{seq},"codes":["NoError"]}}"#)
    };
    let lines = [
        header(Z),
        started("b@example.com", 0),
        // A new run: its seq 0 is not the first run's.
        header(Z),
        finished("b@example.com", 0),
    ];
    let state = resume(&journal(&lines).records).expect("resumes");
    assert_eq!(state.runs(), 2);
    assert!(matches!(
        state.principal(&addr("b@example.com")),
        Some(PrincipalJournal::InDoubt { .. })
    ));
    let mut verified = lines.to_vec();
    verified.push(r#"{"record":"verified","principal":"b@example.com"}"#.into());
    let state = resume(&journal(&verified).records).expect("resumes");
    assert_eq!(state.decision(&addr("b@example.com")), ResumeDecision::Skip);
    // A later write after verification makes it unverified again.
    verified.push(started("b@example.com", 1));
    let state = resume(&journal(&verified).records).expect("resumes");
    assert_eq!(
        state.decision(&addr("b@example.com")),
        ResumeDecision::Reread
    );
}

#[test]
fn resume_refuses_what_it_cannot_trust() {
    let v = r#"{"record":"verified","principal":"a@example.com"}"#.to_owned();
    assert_eq!(
        resume(&journal(std::slice::from_ref(&v)).records),
        Err(JournalError::NoHeader)
    );
    let other = "1".repeat(64);
    assert!(matches!(
        resume(&journal(&[header(Z), header(&other)]).records),
        Err(JournalError::OtherDesiredState { .. })
    ));
    let future = r#"{"record":"run","format":2,"desired":"0000000000000000000000000000000000000000000000000000000000000000","principals":1}"#;
    assert_eq!(
        resume(&journal(&[future.to_owned()]).records),
        Err(JournalError::Format { found: 2 })
    );
    // A journal of other desired states than the run's.
    let run = SyncRun::journaled(
        Scheduler::new(states(&["a@example.com"]), SchedulerConfig::default()),
        &journal(&[header(Z), v]),
    );
    assert!(matches!(run, Err(JournalError::OtherDesiredState { .. })));
}

#[test]
fn the_desired_digest_ignores_order_and_case_and_sees_every_setting() {
    let a = states(&["a@example.com", "b@example.com"]);
    let mut reversed = a.clone();
    reversed.reverse();
    assert_eq!(desired_digest(&a), desired_digest(&reversed));
    let upper = states(&["A@EXAMPLE.COM", "b@example.com"]);
    assert_eq!(desired_digest(&a), desired_digest(&upper));
    let mut changed = a.clone();
    changed[0] = changed[0].clone().prune(true);
    assert_ne!(desired_digest(&a), desired_digest(&changed));
    let mut flag = a.clone();
    flag[1] = DesiredState::new(addr("b@example.com")).delegate(
        DesiredDelegate::new(addr("pa@example.com"))
            .folder(DelegateFolder::Calendar, Permission::Editor)
            .receive_copies_of_meeting_messages(true),
    );
    assert_ne!(desired_digest(&a), desired_digest(&flag));
}

fn states(principals: &[&str]) -> Vec<DesiredState> {
    principals
        .iter()
        .map(|p| {
            DesiredState::new(addr(p)).delegate(
                DesiredDelegate::new(addr("pa@example.com"))
                    .folder(DelegateFolder::Calendar, Permission::Editor),
            )
        })
        .collect()
}

/// Runs `run` against `model`, one request at a time, appending its journal lines to
/// `text`; stops (dropping the action just polled) when `stop_after_writes` writes were
/// handed out. Returns the writes the model applied.
fn drive(
    model: &mut Model,
    mut run: SyncRun,
    text: &mut String,
    stop_after_writes: Option<usize>,
) -> (Vec<String>, bool) {
    let mut applied = Vec::new();
    let now = Instant::now();
    loop {
        let action = run.poll(now);
        text.extend(run.lines());
        match action {
            Some(Action::Send {
                principal,
                op,
                token,
                ..
            }) => {
                if op.is_write() {
                    if stop_after_writes == Some(applied.len()) {
                        return (applied, false);
                    }
                    applied.push(format!("{} {}", principal.as_str(), op.name()));
                }
                let reply = model.answer(&op);
                run.handle(token, Ok(reply), now);
                text.extend(run.lines());
            }
            Some(Action::Done(report)) => {
                assert!(report.all_converged(), "{report:#?}");
                return (applied, true);
            }
            other => panic!("the model answers at once: {other:?}"),
        }
    }
}

fn model() -> Model {
    let mut m = Model::default()
        .user("pa@example.com")
        .user("old@example.com");
    for p in ["a@example.com", "b@example.com", "c@example.com"] {
        m = m.user(p).mailbox(
            p,
            Mailbox {
                delegates: vec![ModelDelegate::new("old@example.com")],
                ..Mailbox::default()
            },
        );
    }
    m
}

#[test]
fn a_resumed_run_skips_the_verified_and_never_sends_a_write_twice() {
    let desired: Vec<DesiredState> = states(&["a@example.com", "b@example.com", "c@example.com"])
        .into_iter()
        .map(|s| s.prune(true))
        .collect();
    let config = SchedulerConfig::default().concurrency(1);
    let mut model = model();
    let mut text = String::new();
    // First run: stopped as its fourth write is handed out (a and b have an Add and a
    // Remove each); that write's "started" is journaled, the write never sent.
    let first = SyncRun::journaled(Scheduler::new(desired.clone(), config), &Journal::default())
        .expect("a new journal");
    let (applied, finished) = drive(&mut model, first, &mut text, Some(3));
    assert!(!finished);
    assert_eq!(applied.len(), 3);
    // And the process died after the third write was applied, before its outcome was
    // journaled: its "finished" line is lost.
    let lines: Vec<&str> = text.lines().collect();
    let last_finished = lines
        .iter()
        .rposition(|l| l.contains(r#""record":"finished""#))
        .expect("a finished write");
    let mut torn: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != last_finished)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let journal = Journal::decode(&torn).expect("decodes");
    let state = resume(&journal.records).expect("resumes");
    let doubt: Vec<(&str, &str)> = state.in_doubt().map(|(p, op)| (p.as_str(), op)).collect();
    assert_eq!(doubt, [("b@example.com", "RemoveDelegate")], "{torn}");
    assert_eq!(state.decision(&addr("a@example.com")), ResumeDecision::Skip);

    let second = SyncRun::journaled(Scheduler::new(desired.clone(), config), &journal)
        .expect("the same desired states");
    let (resent, finished) = drive(&mut model, second, &mut torn, None);
    assert!(finished);
    // a: skipped; b: re-read, its applied Add not sent again; c: all of it.
    let mut all = applied.clone();
    all.extend(resent.iter().cloned());
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(all.len(), unique.len(), "a write sent twice: {all:?}");
    assert!(!resent.iter().any(|w| w.starts_with("a@")), "{resent:?}");
    assert_eq!(all.len(), 6, "{all:?}");
    // The resumed journal verifies every principal.
    let end = resume(&Journal::decode(&torn).expect("decodes").records).expect("resumes");
    assert_eq!(end.verified().count(), 3);
    assert_eq!(end.runs(), 2);
}
