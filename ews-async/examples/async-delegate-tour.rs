//! The delegate tour: the story of the EWS reference pages, with the async client (tokio).
//!
//! 1. user1 (the principal) adds user2 as delegate: Calendar Author, Contacts Reviewer,
//!    meeting requests to DelegatesAndMe;
//! 2. adding user2 again reports `ErrorDelegateAlreadyExists`, so the tour falls back to
//!    GetDelegate + UpdateDelegate, as the EWS reference advises;
//! 3. user2 creates and sends a meeting on behalf of user1 to user3;
//! 4. user3 finds the invitation (FindItem + GetItem): From user1, Sender user2;
//! 5. user2 cancels the meeting on user1's behalf (DeleteItem with cancellations);
//! 6. user1 removes user2, and user2's next meeting on user1's behalf is refused
//!    (`ErrorAccessDenied`).
//!
//! ```sh
//! cargo run -p ews-async --example async-delegate-tour             # embedded simulator
//! cargo run -p ews-async --example async-delegate-tour -- --trace  # ... with the SOAP
//! ```
//!
//! The same story as `ews-blocking`'s tour, step for step, with `.await` where the
//! blocking client returns; three clients (one per account) share nothing but the
//! endpoint.
//!
//! # Against a real server
//!
//! With `EWS_URL` set, the tour runs against that endpoint instead of the embedded
//! simulator. The accounts authenticate with HTTP Basic (use TLS); each address is also
//! the Basic user name:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `EWS_URL` | the endpoint, `https://mail.example.com/EWS/Exchange.asmx` |
//! | `EWS_PRINCIPAL`, `EWS_PRINCIPAL_PASSWORD` | the principal (user1) |
//! | `EWS_DELEGATE`, `EWS_DELEGATE_PASSWORD` | the delegate (user2) |
//! | `EWS_ATTENDEE`, `EWS_ATTENDEE_PASSWORD` | the attendee (user3) |
//! | `EWS_CA_PEM` | optional: a PEM file with the CA of an internal server certificate |
//!
//! The tour changes the principal's delegates (it ends with the delegate removed) and
//! sends a real invitation and its cancellation to the attendee. Exit status 0 means
//! every step behaved as the reference describes.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tour: printing is its job

use std::process::ExitCode;
use std::time::Duration;

use ews_async::Client;
use ews_async::proto::*;
use ews_tests::{SimConfig, Simulator};

type Failure = Box<dyn std::error::Error>;

/// One account of the story.
struct Account {
    address: EmailAddress,
    password: String,
}

/// Where the tour runs.
struct Setup {
    endpoint: String,
    ca_pem: Option<Vec<u8>>,
    principal: Account,
    delegate: Account,
    attendee: Account,
    /// Keeps the embedded simulator running (None against a real server).
    _simulator: Option<Simulator>,
}

impl Setup {
    fn from_env() -> Result<Setup, Failure> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let account = |who: &str| -> Result<Account, Failure> {
            Ok(Account {
                address: var(who)?.parse()?,
                password: var(&format!("{who}_PASSWORD"))?,
            })
        };
        match std::env::var("EWS_URL") {
            Ok(endpoint) => {
                println!("EWS server at {endpoint}");
                let ca_pem = match std::env::var("EWS_CA_PEM") {
                    Ok(path) => Some(std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?),
                    Err(_) => None,
                };
                Ok(Setup {
                    endpoint,
                    ca_pem,
                    principal: account("EWS_PRINCIPAL")?,
                    delegate: account("EWS_DELEGATE")?,
                    attendee: account("EWS_ATTENDEE")?,
                    _simulator: None,
                })
            }
            Err(_) => {
                let sim = Simulator::start(SimConfig::seed());
                println!(
                    "embedded EWS simulator at {} (set EWS_URL to use a server)",
                    sim.url()
                );
                let seed = |n: u32| -> Result<Account, Failure> {
                    Ok(Account {
                        address: format!("user{n}@example.com").parse()?,
                        password: format!("Passw0rd-{n}"),
                    })
                };
                Ok(Setup {
                    endpoint: sim.url(),
                    ca_pem: None,
                    principal: seed(1)?,
                    delegate: seed(2)?,
                    attendee: seed(3)?,
                    _simulator: Some(sim),
                })
            }
        }
    }

    /// A client acting as `account`.
    fn client(&self, account: &Account) -> Result<Client, Failure> {
        let mut builder = Client::builder(&self.endpoint)
            .credentials(Credentials::basic(
                account.address.as_str(),
                account.password.as_str(),
            ))
            .version(ExchangeVersion::Exchange2013_SP1)
            .timeout(Duration::from_secs(60));
        if let Some(pem) = &self.ca_pem {
            builder = builder.add_root_certificate_pem(pem)?;
        }
        Ok(builder.build()?)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--trace") {
        use tracing_subscriber::prelude::*;
        // This client's spans, events and SOAP bodies (target `ews::soap`); not hyper's
        // connection-pool chatter.
        let ours = tracing_subscriber::filter::Targets::new()
            .with_target("ews", tracing::Level::TRACE)
            .with_target("ews_async", tracing::Level::TRACE);
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .without_time()
                    .with_target(false)
                    .with_ansi(false)
                    .with_writer(std::io::stdout)
                    .with_filter(ours),
            )
            .init();
    }
    match tour().await {
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

/// The first answer of a batch, or an error if the server sent none.
fn first<T>(messages: Vec<ResponseMessage<T>>) -> Result<ResponseMessage<T>, Failure> {
    messages
        .into_iter()
        .next()
        .ok_or_else(|| "the server sent no response message".into())
}

async fn tour() -> Result<(), Failure> {
    println!("delegate tour with ews-async (tokio, hyper)");
    let setup = Setup::from_env()?;
    let principal = setup.client(&setup.principal)?;
    let delegate = setup.client(&setup.delegate)?;
    let attendee = setup.client(&setup.attendee)?;
    let (user1, user2, user3) = (
        &setup.principal.address,
        &setup.delegate.address,
        &setup.attendee.address,
    );

    println!(
        "\n1. {user1} adds {user2} as delegate (Calendar Author, Contacts Reviewer, DelegatesAndMe)"
    );
    let delegate_user = DelegateUser::new(UserId::smtp(user2.clone()))
        .permissions(
            DelegatePermissions::new()
                .calendar(Permission::Author)
                .contacts(Permission::Reviewer),
        )
        .receive_copies_of_meeting_messages(false)
        .view_private_items(false);
    let add = AddDelegate::new(user1.clone(), delegate_user.clone())
        .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    let reply = principal.send(&add).await?;
    if let Some(v) = &reply.server_version {
        let version = match &v.version {
            Some(VersionName::Known(known)) => known.to_string(),
            Some(VersionName::Other(other)) => other.to_string(),
            _ => String::new(),
        };
        println!(
            "   server {}.{} {version}",
            v.major_version.unwrap_or_default(),
            v.minor_version.unwrap_or_default()
        );
    }
    println!("   -> {}", first(reply.body)?.status);

    println!("\n2. {user1} adds {user2} again");
    let status = first(principal.send(&add).await?.body)?.status;
    println!("   -> {status}");
    if status.code != ResponseCode::ErrorDelegateAlreadyExists {
        return Err(format!(
            "expected ErrorDelegateAlreadyExists, got {}",
            status.code.as_str()
        )
        .into());
    }
    println!("   already a delegate: GetDelegate, then UpdateDelegate (the reference's advice)");
    let got = principal
        .send(&GetDelegate::new(user1.clone()).user(UserId::smtp(user2.clone())))
        .await?;
    for m in got.body.delegates {
        let d = m.into_result()?.ok_or("GetDelegate returned no delegate")?;
        let level = |folder| {
            d.permissions
                .as_ref()
                .and_then(|p| p.level(folder).map(ToString::to_string))
                .unwrap_or_else(|| "None".to_owned())
        };
        println!(
            "   current: {} Calendar={} Contacts={}",
            d.user_id.primary_smtp_address().unwrap_or("?"),
            level(DelegateFolder::Calendar),
            level(DelegateFolder::Contacts)
        );
    }
    let update = UpdateDelegate::new(user1.clone(), delegate_user)
        .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    let updated = first(principal.send(&update).await?.body)?;
    println!("   UpdateDelegate -> {}", updated.status);
    updated.into_result()?;

    println!("\n3. {user2} sends a meeting on behalf of {user1} to {user3}");
    let meeting = NewCalendarItem::new(
        "Delegate appointment",
        "2025-06-02T15:00:00Z".parse()?,
        "2025-06-02T16:00:00Z".parse()?,
    )
    .body(Body::text("This is the text of the delegate appointment."))
    .free_busy(LegacyFreeBusyStatus::Busy)
    .required_attendee(Mailbox::new(user3.clone()));
    let created = first(
        delegate
            .send_meeting_on_behalf(user1, meeting.clone())
            .await?
            .body,
    )?;
    println!("   -> {}", created.status);
    let meeting_id = created
        .into_result()?
        .ok_or("the server returned no item id")?;
    println!("   saved in {user1}'s calendar as {}", meeting_id.id());

    println!("\n4. {user3} opens the invitation (FindItem + GetItem)");
    let page = first(
        attendee
            .find_items(FolderId::own(DistinguishedFolder::Inbox))
            .await?
            .body,
    )?
    .into_result()?
    .ok_or("FindItem returned no page")?;
    let invitation = page
        .items
        .iter()
        .rev()
        .find(|i| i.subject() == Some("Delegate appointment"))
        .ok_or_else(|| format!("no invitation in {user3}'s inbox"))?;
    let id = invitation.item_id().ok_or("invitation without id")?.clone();
    let item = first(attendee.get_item(id).await?.body)?
        .into_result()?
        .ok_or("GetItem returned no item")?;
    let Item::Message(message) = item else {
        return Err("the invitation is not a message".into());
    };
    let who = |m: &Option<Mailbox>| {
        m.as_ref()
            .and_then(Mailbox::address)
            .unwrap_or("?")
            .to_owned()
    };
    let (from, sender) = (who(&message.from), who(&message.sender));
    println!(
        "   -> {:?}: From {from} / Sender {sender}",
        message.subject.as_deref().unwrap_or_default()
    );
    if !from.eq_ignore_ascii_case(user1.as_str()) || !sender.eq_ignore_ascii_case(user2.as_str()) {
        return Err(format!("expected From {user1} / Sender {user2}").into());
    }
    println!("   (Outlook shows: \"{user2} on behalf of {user1}\")");

    println!("\n5. {user2} cancels the meeting on behalf of {user1}");
    let deleted = first(
        delegate
            .delete_item(meeting_id, SendMeetingCancellations::SendToAllAndSaveCopy)
            .await?
            .body,
    )?;
    println!("   DeleteItem -> {}", deleted.status);
    deleted.into_result()?;

    println!("\n6. {user1} removes {user2}; the next meeting on {user1}'s behalf is refused");
    let removed = first(
        principal
            .remove_delegate(user1, UserId::smtp(user2.clone()))
            .await?
            .body,
    )?;
    println!("   RemoveDelegate -> {}", removed.status);
    removed.into_result()?;
    let refused = first(delegate.send_meeting_on_behalf(user1, meeting).await?.body)?;
    println!("   second meeting -> {}", refused.status);
    if refused.status.code != ResponseCode::ErrorAccessDenied {
        return Err("the second meeting was not refused".into());
    }
    println!();
    Ok(())
}
