//! The delegate tour: the story of the EWS reference pages, against the embedded simulator.
//!
//! user1 (principal) adds user2 as delegate (Calendar Author, Contacts Reviewer,
//! DelegatesAndMe); adding again reports ErrorDelegateAlreadyExists, so the tour falls back
//! to GetDelegate + UpdateDelegate as the EWS reference advises; user2 creates and sends a
//! meeting on behalf of user1 to user3; user3 sees From user1 / Sender user2; the delegate
//! is removed and a second meeting is refused.
//!
//! Every request is built and every answer decoded by `ews-proto`; a minimal HTTP client
//! moves the bytes. `--trace` prints the SOAP of each exchange.
//!
//! Run: `cargo run -p ews-tests --example delegate-tour`

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tour: printing is its job

use std::process::ExitCode;

use bytes::Bytes;
use ews_proto::*;
use ews_tests::mini::{MiniClient, basic};
use ews_tests::{SimConfig, Simulator};

type Failure = Box<dyn std::error::Error>;

struct Tour {
    client: MiniClient,
    ctx: RequestContext,
    trace: bool,
}

impl Tour {
    /// Encodes `op`, sends it as `auth`, decodes the answer.
    fn run<O: Operation>(&self, op: &O, auth: &str) -> Result<Reply<O::Output>, Failure> {
        let request = op.encode(&self.ctx)?;
        if self.trace {
            println!(
                "    >>> {} {}",
                O::NAME,
                String::from_utf8_lossy(request.body())
            );
        }
        let response: http::Response<Bytes> = self.client.send(request, auth)?;
        if self.trace {
            println!(
                "    <<< {} {}",
                response.status(),
                String::from_utf8_lossy(response.body())
            );
        }
        Ok(op.decode(&response)?)
    }
}

fn addr(s: &str) -> Result<EmailAddress, UsageError> {
    s.parse()
}

fn main() -> ExitCode {
    match tour() {
        Ok(()) => {
            println!("tour complete");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tour failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn tour() -> Result<(), Failure> {
    let trace = std::env::args().any(|a| a == "--trace");
    let sim = Simulator::start(SimConfig::seed());
    println!("embedded EWS simulator at {}", sim.url());
    let t = Tour {
        client: MiniClient::new(),
        ctx: RequestContext::new(&sim.url())?.version(ExchangeVersion::Exchange2013_SP1),
        trace,
    };
    let (user1, user2, user3) = (
        addr("user1@example.com")?,
        addr("user2@example.com")?,
        addr("user3@example.com")?,
    );
    let as_user1 = basic("user1@example.com", "Passw0rd-1");
    let as_user2 = basic("user2@example.com", "Passw0rd-2");
    let as_user3 = basic("user3@example.com", "Passw0rd-3");

    println!(
        "1. user1 adds user2 as delegate (Calendar Author, Contacts Reviewer, DelegatesAndMe)"
    );
    let delegate = DelegateUser::new(UserId::smtp(user2.clone()))
        .permissions(
            DelegatePermissions::new()
                .calendar(Permission::Author)
                .contacts(Permission::Reviewer),
        )
        .receive_copies_of_meeting_messages(false)
        .view_private_items(false);
    let add = AddDelegate::new(user1.clone(), delegate.clone())
        .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    let reply = t.run(&add, &as_user1)?;
    if let Some(v) = &reply.server_version {
        println!(
            "   server: {:?}.{:?} ({:?})",
            v.major_version, v.minor_version, v.version
        );
    }
    println!("   -> {}", reply.body[0].status);

    println!("2. adding user2 again");
    let reply = t.run(&add, &as_user1)?;
    let status = &reply.body[0].status;
    println!("   -> {status}");
    if status.code == ResponseCode::ErrorDelegateAlreadyExists {
        println!("   already a delegate: falling back to GetDelegate + UpdateDelegate");
        let got = t.run(
            &GetDelegate::new(user1.clone()).user(UserId::smtp(user2.clone())),
            &as_user1,
        )?;
        for m in &got.body.delegates {
            if let Some(d) = &m.value {
                let cal = d
                    .permissions
                    .as_ref()
                    .and_then(|p| p.level(DelegateFolder::Calendar).cloned());
                println!(
                    "   current: {:?} calendar={:?}",
                    d.user_id.primary_smtp_address(),
                    cal.map(|l| l.to_string())
                );
            }
        }
        let update = UpdateDelegate::new(user1.clone(), delegate)
            .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
        let updated = t.run(&update, &as_user1)?;
        println!("   update -> {}", updated.body[0].status);
    }

    println!("3. user2 sends a meeting on behalf of user1 to user3");
    let meeting = NewCalendarItem::new(
        "Delegate appointment",
        "2025-06-02T15:00:00Z".parse()?,
        "2025-06-02T16:00:00Z".parse()?,
    )
    .body(Body::text("This is the text of the delegate appointment."))
    .free_busy(LegacyFreeBusyStatus::Busy)
    .required_attendee(Mailbox::new(user3.clone()));
    let created = t.run(
        &CreateItem::on_behalf_of(user1.clone(), meeting.clone()),
        &as_user2,
    )?;
    let id = created.body[0]
        .clone()
        .into_result()?
        .ok_or("the server returned no item id")?;
    println!("   -> created {}", id.id());

    println!("4. user3 looks at the invitation");
    let inbox = t.run(
        &FindItem::new(FolderId::own(DistinguishedFolder::Inbox)),
        &as_user3,
    )?;
    let page = inbox.body[0]
        .clone()
        .into_result()?
        .ok_or("no inbox page")?;
    let invitation = page
        .items
        .iter()
        .find(|i| i.subject() == Some("Delegate appointment"))
        .ok_or("no invitation in user3's inbox")?;
    let got = t.run(
        &GetItem::new(invitation.item_id().ok_or("invitation without id")?.clone()),
        &as_user3,
    )?;
    if let Some(Item::Message(m)) = got.body[0].clone().into_result()? {
        let who = |m: &Option<Mailbox>| {
            m.as_ref()
                .and_then(Mailbox::address)
                .unwrap_or("?")
                .to_owned()
        };
        println!(
            "   -> {:?}: From {} / Sender {}",
            m.subject.unwrap_or_default(),
            who(&m.from),
            who(&m.sender)
        );
    }

    println!("5. user1 removes user2; a second meeting is refused");
    let removed = t.run(
        &RemoveDelegate::new(user1.clone(), UserId::smtp(user2)),
        &as_user1,
    )?;
    println!("   remove -> {}", removed.body[0].status);
    let refused = t.run(&CreateItem::on_behalf_of(user1, meeting), &as_user2)?;
    println!("   second meeting -> {}", refused.body[0].status);
    if refused.body[0].status.code != ResponseCode::ErrorAccessDenied {
        return Err("the second meeting was not refused".into());
    }
    Ok(())
}
