//! The delegate tour, written once: the story of the EWS reference pages, which the
//! examples of both faces (`ews-blocking`'s `delegate-tour`, `ews-async`'s
//! `async-delegate-tour`) run through [`TourClient`].
//!
//! 1. user1 (the principal) adds user2 as delegate: Calendar Author, Contacts Reviewer,
//!    meeting requests to DelegatesAndMe;
//! 2. adding user2 again reports `ErrorDelegateAlreadyExists`, so the tour falls back to
//!    GetDelegate + UpdateDelegate, as the EWS reference advises (the delegate as read,
//!    changed, written back), then changes only where meeting requests go and reads that
//!    back without permissions;
//! 3. user2 creates and sends a meeting on behalf of user1 to user3, with a subject
//!    unique to the run;
//! 4. user3 waits for the invitation (FindItem, polled until a deadline: servers deliver
//!    mail asynchronously) and opens it (GetItem): From user1, Sender user2;
//! 5. user2 moves the meeting an hour later (UpdateItem with the current change key,
//!    read again and retried if it went stale, `SendToAllAndSaveCopy`), and user3 gets
//!    the update (a meeting request with the new subject and time): From user1, Sender
//!    user2;
//! 6. user1 sends its meeting requests to the delegate only (`DelegatesOnly`); user3
//!    invites user1; the request reaches user2 for user1 (`ReceivedRepresenting`), user2
//!    accepts it on user1's behalf, user3 gets the acceptance (From user1, Sender user2),
//!    and user3's meeting shows user1's attendance as accepted;
//! 7. user2 cancels the first meeting on user1's behalf (DeleteItem with cancellations);
//! 8. user1 removes user2, and user2's next meeting on user1's behalf is refused
//!    (`ErrorAccessDenied`).
//!
//! The tour uses the core's types (it drives clients); the simulator next to it does not
//! (`tests/tests/independence.rs` holds it to that).
//!
//! # Against a real server
//!
//! With `EWS_URL` set, the tour runs against that endpoint instead of the embedded
//! simulator. Without `EWS_URL` but with `EWS_EMAIL`, the face's `Autodiscover` finds the
//! endpoint first (SOAP `GetUserSettings`, then POX, in Microsoft's candidate order; no
//! DNS SRV), signing in with HTTP Basic as `EWS_EMAIL` / `EWS_PASSWORD` (or, without
//! `EWS_PASSWORD`, as the principal); the three accounts then use the discovered EWS URL
//! and `RequestServerVersion`, and a failed discovery prints its table of steps. The
//! accounts authenticate with HTTP Basic (use TLS), or with NTLM /
//! Negotiate when `EWS_AUTH=ntlm` (an on-premises Exchange, whose EWS virtual directory
//! allows Windows authentication only by default; Extended Protection is handled). Each
//! address is also the Basic user name, and the NTLM one: as a UPN, or as
//! `EWS_DOMAIN\local-part` when `EWS_DOMAIN` is set:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `EWS_URL` | the endpoint, `https://mail.example.com/EWS/Exchange.asmx` |
//! | `EWS_EMAIL`, `EWS_PASSWORD` | without `EWS_URL`: the address to discover the endpoint for, and its password (default: the principal signs in) |
//! | `EWS_PRINCIPAL`, `EWS_PRINCIPAL_PASSWORD` | the principal (user1) |
//! | `EWS_DELEGATE`, `EWS_DELEGATE_PASSWORD` | the delegate (user2) |
//! | `EWS_ATTENDEE`, `EWS_ATTENDEE_PASSWORD` | the attendee (user3) |
//! | `EWS_CA_PEM` | optional: a PEM file with the CA of an internal server certificate (for discovery too) |
//! | `EWS_AUTH` | optional: `basic` (the default) or `ntlm` |
//! | `EWS_DOMAIN` | optional, with `EWS_AUTH=ntlm`: the NetBIOS domain (`CONTOSO`) |
//!
//! The tour changes the principal's delegates (it ends with the delegate removed) and
//! sends a real invitation and its cancellation to the attendee.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tour: printing is its job

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ews_proto::jiff::Timestamp;
use ews_proto::{
    AddDelegate, AttendeeResponse, Body, CalendarChange, ConflictResolution, CreateItem,
    Credentials, DelegateFolder, DelegatePermissions, DelegateUser, DeleteItem, DeleteType,
    DeliverMeetingRequests, DistinguishedFolder, EmailAddress, Error, FieldUri, FindItem, FolderId,
    GetDelegate, GetItem, Item, ItemChange, ItemId, ItemKind, LegacyFreeBusyStatus, Mailbox,
    MeetingAnswer, MessageDisposition, NewCalendarItem, Operation, Permission, RemoveDelegate,
    Reply, RespondToMeeting, ResponseCode, ResponseMessage, RetryStep, SendMeetingCancellations,
    SendMeetingInvitations, SendMeetingInvitationsOrCancellations, StaleKeyRetry, UpdateDelegate,
    UpdateItem, UserId, VersionName,
};

use ews_proto::ExchangeVersion;
use ews_proto::autodiscover::{Discovered, DiscoveryError, UrlChoice};

use crate::{SimConfig, Simulator};

/// What the tour fails with.
pub type Failure = Box<dyn std::error::Error>;

/// A client of either face, as the tour drives it: one operation at a time, to its end.
pub trait TourClient {
    /// Runs `op` (retries, token refresh and all).
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send;
}

/// How the tour's accounts sign in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignIn {
    /// HTTP Basic, the address as the user name.
    #[default]
    Basic,
    /// NTLM / Negotiate: the address as a UPN, or `domain\local-part`.
    Ntlm {
        /// The NetBIOS domain, if the UPN is not the address.
        domain: Option<String>,
    },
}

/// One account of the story.
#[derive(Debug, Clone)]
pub struct Account {
    /// The address, also the Basic user name.
    pub address: EmailAddress,
    /// The password.
    pub password: String,
    /// How it signs in.
    pub sign_in: SignIn,
}

impl Account {
    /// The account's credentials (Basic, or NTLM with `EWS_AUTH=ntlm`).
    pub fn credentials(&self) -> Credentials {
        let address = self.address.as_str();
        match &self.sign_in {
            SignIn::Basic => Credentials::basic(address, self.password.as_str()),
            SignIn::Ntlm { domain: None } => Credentials::ntlm(address, self.password.as_str()),
            SignIn::Ntlm {
                domain: Some(domain),
            } => {
                let local = address.split('@').next().unwrap_or(address);
                Credentials::ntlm(format!("{domain}\\{local}"), self.password.as_str())
            }
        }
    }
}

/// A face's Autodiscover, as [`Tour::from_env`] runs it: the settings of the mailbox at
/// the address, found with the credentials (Basic or none), trusting the extra CA (PEM)
/// if any.
pub type Discover<'a> =
    &'a dyn Fn(&str, Credentials, Option<&[u8]>) -> Result<Discovered, DiscoveryError>;

/// Where the tour runs and how long it waits for mail.
#[derive(Debug)]
pub struct Tour {
    /// The EWS endpoint.
    pub endpoint: String,
    /// The `RequestServerVersion` the clients send (None: the face's default); the
    /// discovered one after Autodiscover.
    pub version: Option<ExchangeVersion>,
    /// An extra CA to trust (an internal server certificate).
    pub ca_pem: Option<Vec<u8>>,
    /// user1.
    pub principal: Account,
    /// user2.
    pub delegate: Account,
    /// user3.
    pub attendee: Account,
    /// Most time the invitation may take to arrive.
    pub invitation_wait: Duration,
    /// Time between two looks at the attendee's inbox.
    pub poll_every: Duration,
    /// The embedded simulator (None against a real server).
    pub simulator: Option<Simulator>,
}

impl Tour {
    /// Against `EWS_URL` when set; else, with `EWS_EMAIL`, against the endpoint `discover`
    /// (the face's `Autodiscover`) finds; else against an embedded simulator.
    ///
    /// # Errors
    /// A missing or unreadable variable; a failed discovery (its table of steps).
    pub fn from_env(discover: Discover<'_>) -> Result<Tour, Failure> {
        Tour::from_vars(&|name| std::env::var(name).ok(), discover)
    }

    /// As [`Tour::from_env`], with the variables `lookup` gives.
    ///
    /// # Errors
    /// As [`Tour::from_env`].
    pub fn from_vars(
        lookup: &dyn Fn(&str) -> Option<String>,
        discover: Discover<'_>,
    ) -> Result<Tour, Failure> {
        let var = |name: &str| lookup(name).ok_or_else(|| format!("{name} is not set"));
        let sign_in = match lookup("EWS_AUTH").as_deref() {
            None | Some("basic") | Some("") => SignIn::Basic,
            Some("ntlm") => SignIn::Ntlm {
                domain: lookup("EWS_DOMAIN").filter(|d| !d.is_empty()),
            },
            Some(other) => return Err(format!("EWS_AUTH={other}: expected basic or ntlm").into()),
        };
        let account = |who: &str| -> Result<Account, Failure> {
            Ok(Account {
                address: var(who)?.parse()?,
                password: var(&format!("{who}_PASSWORD"))?,
                sign_in: sign_in.clone(),
            })
        };
        let ca_pem = match lookup("EWS_CA_PEM") {
            Some(path) => Some(std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?),
            None => None,
        };
        let (endpoint, version) = match (lookup("EWS_URL"), lookup("EWS_EMAIL")) {
            (Some(endpoint), _) => (endpoint, None),
            (None, Some(email)) => {
                // Autodiscover signs in with Basic (or none): the given password, else
                // the principal's name and password.
                let (user, password) = match lookup("EWS_PASSWORD") {
                    Some(password) => (email.clone(), password),
                    None => {
                        let principal = account("EWS_PRINCIPAL")?;
                        (principal.address.as_str().to_owned(), principal.password)
                    }
                };
                println!("Autodiscover for {email} (signing in as {user})");
                let found = discover(
                    &email,
                    Credentials::basic(user, password),
                    ca_pem.as_deref(),
                )
                .map_err(|e| format!("no endpoint for {email}: {e}"))?;
                let endpoint = found
                    .ews_url(UrlChoice::External)
                    .unwrap_or_default()
                    .to_owned();
                println!(
                    "   -> EWS at {endpoint}, RequestServerVersion {:?}, from {}",
                    found.version(),
                    found.autodiscover_url
                );
                (endpoint, Some(found.version()))
            }
            (None, None) => return Tour::simulated(SimConfig::seed()),
        };
        println!("EWS server at {endpoint}");
        Ok(Tour {
            endpoint,
            version,
            ca_pem,
            principal: account("EWS_PRINCIPAL")?,
            delegate: account("EWS_DELEGATE")?,
            attendee: account("EWS_ATTENDEE")?,
            invitation_wait: Duration::from_secs(120),
            poll_every: Duration::from_secs(2),
            simulator: None,
        })
    }

    /// Against a simulator started with `config` (the seed accounts).
    ///
    /// # Errors
    /// None in practice (the seed addresses parse).
    pub fn simulated(config: SimConfig) -> Result<Tour, Failure> {
        let sim = Simulator::start(config.clone());
        println!(
            "embedded EWS simulator at {} (set EWS_URL to use a server)",
            sim.url()
        );
        let seed = |n: u32| -> Result<Account, Failure> {
            Ok(Account {
                address: format!("user{n}@example.com").parse()?,
                password: format!("Passw0rd-{n}"),
                // A simulator with Windows authentication signs in with NTLM.
                sign_in: match config.windows {
                    Some(_) => SignIn::Ntlm { domain: None },
                    None => SignIn::Basic,
                },
            })
        };
        Ok(Tour {
            endpoint: sim.url(),
            version: None,
            ca_pem: sim.ca_pem().map(|pem| pem.as_bytes().to_vec()),
            principal: seed(1)?,
            delegate: seed(2)?,
            attendee: seed(3)?,
            invitation_wait: Duration::from_secs(10),
            poll_every: Duration::from_millis(200),
            simulator: Some(sim),
        })
    }

    /// Runs the story with clients made by `connect` (one per account).
    ///
    /// # Errors
    /// The first step that did not behave as the reference describes.
    pub fn run<C: TourClient>(
        &self,
        connect: impl Fn(&Tour, &Account) -> Result<C, Failure>,
    ) -> Result<(), Failure> {
        let principal = connect(self, &self.principal)?;
        let delegate = connect(self, &self.delegate)?;
        let attendee = connect(self, &self.attendee)?;
        let (user1, user2, user3) = (
            &self.principal.address,
            &self.delegate.address,
            &self.attendee.address,
        );
        add_and_update(&principal, user1, user2)?;

        // A subject of this run only: an invitation left by an earlier run never counts.
        let subject = format!("Delegate appointment {}", run_id());
        println!("\n3. {user2} sends {subject:?} on behalf of {user1} to {user3}");
        let meeting = NewCalendarItem::new(
            subject.as_str(),
            "2025-06-02T15:00:00Z".parse()?,
            "2025-06-02T16:00:00Z".parse()?,
        )?
        .body(Body::text("This is the text of the delegate appointment."))
        .free_busy(LegacyFreeBusyStatus::Busy)
        .required_attendee(Mailbox::new(user3.clone()));
        let created = first(
            delegate
                .send(&CreateItem::on_behalf_of(user1.clone(), meeting.clone()))?
                .body,
        )?;
        println!("   -> {}", created.status);
        let saved = created
            .into_result()?
            .ok_or("the server returned no item id")?;
        println!("   saved in {user1}'s calendar as a {}", saved.kind);
        let meeting_id = saved.id;

        println!("\n4. {user3} waits for the invitation (FindItem) and opens it (GetItem)");
        let id = self.wait_for(&attendee, ItemKind::MeetingRequest, &subject)?;
        let item = first(attendee.send(&GetItem::new(id))?.body)?
            .into_result()?
            .ok_or("GetItem returned no item")?;
        let Item::Message(message) = item else {
            return Err("the invitation is not a message".into());
        };
        let (from, sender) = (address_of(&message.from), address_of(&message.sender));
        println!("   -> From {from} / Sender {sender}");
        if !from.eq_ignore_ascii_case(user1.as_str())
            || !sender.eq_ignore_ascii_case(user2.as_str())
        {
            return Err(format!("expected From {user1} / Sender {user2}").into());
        }
        println!("   (Outlook shows: \"{user2} on behalf of {user1}\")");

        let meeting_id = self.move_the_meeting(&delegate, &attendee, meeting_id, &subject)?;

        self.answer_for_the_principal(&principal, &delegate, &attendee)?;

        cancel_and_remove(&principal, &delegate, user1, user2, meeting_id, meeting)
    }

    /// Step 5: the delegate moves the meeting and the attendee gets the update. Returns
    /// the meeting's id with its new change key.
    fn move_the_meeting(
        &self,
        delegate: &impl TourClient,
        attendee: &impl TourClient,
        meeting_id: ItemId,
        subject: &str,
    ) -> Result<ItemId, Failure> {
        let (user1, user2, user3) = (
            &self.principal.address,
            &self.delegate.address,
            &self.attendee.address,
        );
        let moved_subject = format!("{subject} (moved)");
        let (start, end): (Timestamp, Timestamp) = (
            "2025-06-02T16:00:00Z".parse()?,
            "2025-06-02T17:00:00Z".parse()?,
        );
        println!("\n5. {user2} moves the meeting to {start} on behalf of {user1}");
        let update = UpdateItem::new(
            ItemChange::new(
                meeting_id,
                [
                    CalendarChange::subject(moved_subject.as_str()),
                    CalendarChange::start(start),
                    CalendarChange::end(end),
                ],
            )?,
            SendMeetingInvitationsOrCancellations::SendToAllAndSaveCopy,
            ConflictResolution::AutoResolve,
        )
        .in_mailbox(user1.clone());
        // The change key CreateItem answered may have moved on (the server writes the
        // item, too): a stale key is read again and the move sent again, once.
        let mut retry = StaleKeyRetry::new(update, 1);
        let answers = loop {
            match retry.poll() {
                RetryStep::Update(op) => {
                    let reply = delegate.send(&op)?;
                    retry.updated(reply.body);
                }
                RetryStep::Refetch(op) => {
                    println!("   the change key was stale: {user2} reads the meeting again");
                    let reply = delegate.send(&op)?;
                    retry.refetched(reply.body);
                }
                RetryStep::Done(answers) => break answers?,
            }
        };
        let moved = first(answers)?;
        println!("   UpdateItem -> {}", moved.status);
        let moved = moved.into_result()?;
        let moved_id = moved.id.ok_or("the server returned no item id")?;

        println!("   {user3} waits for the update");
        let id = self.wait_for(attendee, ItemKind::MeetingRequest, &moved_subject)?;
        let item = first(attendee.send(&GetItem::new(id))?.body)?
            .into_result()?
            .ok_or("GetItem returned no item")?;
        let Item::Message(update) = item else {
            return Err("the update is not a message".into());
        };
        let (from, sender) = (address_of(&update.from), address_of(&update.sender));
        println!(
            "   -> {} at {:?}: From {from} / Sender {sender}",
            update.subject.as_deref().unwrap_or("?"),
            update.start
        );
        if update.start != Some(start) {
            return Err(format!("expected the update to start at {start}").into());
        }
        if !from.eq_ignore_ascii_case(user1.as_str())
            || !sender.eq_ignore_ascii_case(user2.as_str())
        {
            return Err(format!("expected the update From {user1} / Sender {user2}").into());
        }
        Ok(moved_id)
    }

    /// Step 6: with `DelegatesOnly`, a request to the principal reaches the delegate, who
    /// accepts it on the principal's behalf; the organizer sees the principal's answer.
    fn answer_for_the_principal(
        &self,
        principal: &impl TourClient,
        delegate: &impl TourClient,
        attendee: &impl TourClient,
    ) -> Result<(), Failure> {
        let (user1, user2, user3) = (
            &self.principal.address,
            &self.delegate.address,
            &self.attendee.address,
        );
        println!(
            "\n6. {user1}'s meeting requests go to the delegate only; {user3} invites {user1}"
        );
        let only =
            UpdateDelegate::deliver_only(user1.clone(), DeliverMeetingRequests::DelegatesOnly);
        println!(
            "   UpdateDelegate -> {}",
            principal.send(&only)?.body.status
        );
        let subject = format!("Review {}", run_id());
        let invitation = NewCalendarItem::new(
            subject.as_str(),
            "2025-06-03T09:00:00Z".parse()?,
            "2025-06-03T09:30:00Z".parse()?,
        )?
        .required_attendee(Mailbox::new(user1.clone()));
        let sent = attendee.send(
            &CreateItem::new(
                None,
                invitation,
                SendMeetingInvitations::SendToAllAndSaveCopy,
            )
            .disposition(MessageDisposition::SendAndSaveCopy),
        )?;
        let sent = first(sent.body)?;
        println!("   {user3} sends {subject:?} -> {}", sent.status);
        let organizers_copy = sent
            .into_result()?
            .ok_or("the server returned no item id")?
            .id;

        let request = self.wait_for(delegate, ItemKind::MeetingRequest, &subject)?;
        let got = first(
            delegate
                .send(&GetItem::new(request.clone()).in_mailbox(user2.clone()))?
                .body,
        )?
        .into_result()?
        .ok_or("GetItem returned no item")?;
        let Item::Message(m) = got else {
            return Err("the forwarded request is not a message".into());
        };
        let representing = address_of(&m.received_representing);
        println!("   {user2} has it, received representing {representing}");
        if !representing.eq_ignore_ascii_case(user1.as_str()) {
            return Err(format!("expected a request received representing {user1}").into());
        }
        let accept =
            RespondToMeeting::new(MeetingAnswer::Accept, request).in_mailbox(user2.clone());
        println!(
            "   {user2} accepts for {user1} -> {}",
            first(delegate.send(&accept)?.body)?.status
        );

        let response = self.wait_for(attendee, ItemKind::MeetingResponse, &subject)?;
        let got = first(attendee.send(&GetItem::new(response))?.body)?
            .into_result()?
            .ok_or("GetItem returned no item")?;
        let Item::Message(m) = got else {
            return Err("the acceptance is not a message".into());
        };
        let (from, sender) = (address_of(&m.from), address_of(&m.sender));
        println!("   {user3} gets the acceptance: From {from} / Sender {sender}");
        if !from.eq_ignore_ascii_case(user1.as_str())
            || !sender.eq_ignore_ascii_case(user2.as_str())
        {
            return Err(format!("expected the acceptance From {user1} / Sender {user2}").into());
        }
        self.wait_for_acceptance(attendee, organizers_copy)
    }

    /// The organizer's meeting records the principal's acceptance (a server records it
    /// when the response is processed: polled until [`Tour::invitation_wait`] has passed).
    fn wait_for_acceptance(
        &self,
        organizer: &impl TourClient,
        meeting: ItemId,
    ) -> Result<(), Failure> {
        let user1 = &self.principal.address;
        let deadline = Instant::now() + self.invitation_wait;
        loop {
            // The id only: the item's change key moves on when the answer is recorded.
            let id = ItemId::new(meeting.id(), None)?;
            let got = first(
                organizer
                    .send(&GetItem::new(id).property(FieldUri::RequiredAttendees))?
                    .body,
            )?
            .into_result()?
            .ok_or("GetItem returned no item")?;
            let Item::Calendar(c) = got else {
                return Err("the organizer's meeting is not a calendar item".into());
            };
            let answer = c
                .required_attendees
                .iter()
                .find(|a| {
                    a.mailbox
                        .address()
                        .is_some_and(|m| m.eq_ignore_ascii_case(user1.as_str()))
                })
                .and_then(|a| a.response.clone());
            if answer == Some(AttendeeResponse::Accept) {
                println!("   the organizer's meeting shows {user1}: Accept");
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the organizer's meeting did not show {user1}'s acceptance within {:?} (it shows {answer:?})",
                    self.invitation_wait
                )
                .into());
            }
            std::thread::sleep(self.poll_every);
        }
    }

    /// Polls `who`'s inbox for an item of `kind` whose subject contains `subject` (a
    /// meeting response's is `Accepted: ...`) until [`Tour::invitation_wait`] has passed.
    fn wait_for(
        &self,
        who: &impl TourClient,
        kind: ItemKind,
        subject: &str,
    ) -> Result<ItemId, Failure> {
        let deadline = Instant::now() + self.invitation_wait;
        loop {
            let mut page_op = Some(FindItem::new(FolderId::own(DistinguishedFolder::Inbox)));
            while let Some(op) = page_op.take() {
                let page = first(who.send(&op)?.body)?
                    .into_result()?
                    .ok_or("FindItem returned no page")?;
                let found = page
                    .items
                    .iter()
                    .find(|i| i.kind() == kind && i.subject().is_some_and(|s| s.contains(subject)));
                if let Some(found) = found {
                    return Ok(found.item_id().ok_or("an item without id")?.clone());
                }
                page_op = op.next_page(&page);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the {kind} {subject:?} did not arrive within {:?}",
                    self.invitation_wait
                )
                .into());
            }
            std::thread::sleep(self.poll_every);
        }
    }
}

/// The address of an optional mailbox, or `?`.
fn address_of(m: &Option<Mailbox>) -> String {
    m.as_ref()
        .and_then(Mailbox::address)
        .unwrap_or("?")
        .to_owned()
}

/// Steps 1 and 2: add, add again, then the reference's GetDelegate + UpdateDelegate.
fn add_and_update(
    principal: &impl TourClient,
    user1: &EmailAddress,
    user2: &EmailAddress,
) -> Result<(), Failure> {
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
    let add = AddDelegate::new(user1.clone(), delegate_user)
        .deliver_meeting_requests(DeliverMeetingRequests::DelegatesAndMe);
    let reply = principal.send(&add)?;
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
    let status = first(principal.send(&add)?.body)?.status;
    println!("   -> {status}");
    if status.code != ResponseCode::ErrorDelegateAlreadyExists {
        return Err(format!(
            "expected ErrorDelegateAlreadyExists, got {}",
            status.code.as_str()
        )
        .into());
    }
    println!("   already a delegate: GetDelegate, then UpdateDelegate (the reference's advice)");
    let user2_id = UserId::smtp(user2.clone());
    let got = principal.send(&GetDelegate::new(user1.clone()).user(user2_id.clone()))?;
    let current = got
        .body
        .delegate(&user2_id)
        .ok_or("GetDelegate did not report the delegate")?;
    let level = |folder| {
        current
            .permissions
            .as_ref()
            .and_then(|p| p.level(folder).map(ToString::to_string))
            .unwrap_or_else(|| "None".to_owned())
    };
    println!(
        "   current: {} Calendar={} Contacts={}",
        current.user_id.primary_smtp_address().unwrap_or("?"),
        level(DelegateFolder::Calendar),
        level(DelegateFolder::Contacts)
    );
    // The delegate as read, changed where the tour wants it: folders the server reports
    // `Custom` stay as they are.
    let wanted = DelegateUser::from(current)
        .permissions_set(DelegateFolder::Calendar, Permission::Editor)
        .permissions_set(DelegateFolder::Contacts, Permission::Reviewer)
        .receive_copies_of_meeting_messages(true);
    let updated = first(
        principal
            .send(&UpdateDelegate::new(user1.clone(), wanted))?
            .body,
    )?;
    println!("   UpdateDelegate -> {}", updated.status);
    updated.into_result()?;

    println!(
        "   meeting requests to the delegates, information to {user1} (UpdateDelegate, delivery only)"
    );
    let deliver = DeliverMeetingRequests::DelegatesAndSendInformationToMe;
    let changed = principal.send(&UpdateDelegate::deliver_only(
        user1.clone(),
        deliver.clone(),
    ))?;
    println!("   -> {}", changed.body.status);
    let now = principal.send(&GetDelegate::new(user1.clone()).include_permissions(false))?;
    match &now.body.deliver_meeting_requests {
        Some(d) if *d == deliver => println!("   GetDelegate: DeliverMeetingRequests={d}"),
        other => {
            return Err(format!("expected DeliverMeetingRequests {deliver}, got {other:?}").into());
        }
    }
    Ok(())
}

/// Steps 7 and 8: the delegate cancels; the principal removes the delegate, whose next
/// meeting is refused.
fn cancel_and_remove(
    principal: &impl TourClient,
    delegate: &impl TourClient,
    user1: &EmailAddress,
    user2: &EmailAddress,
    meeting_id: ItemId,
    meeting: NewCalendarItem,
) -> Result<(), Failure> {
    println!("\n7. {user2} cancels the meeting on behalf of {user1}");
    let cancel = DeleteItem::new(meeting_id, DeleteType::MoveToDeletedItems)
        .cancellations(SendMeetingCancellations::SendToAllAndSaveCopy)
        .in_mailbox(user1.clone());
    let deleted = first(delegate.send(&cancel)?.body)?;
    println!("   DeleteItem -> {}", deleted.status);
    deleted.into_result()?;

    println!("\n8. {user1} removes {user2}; the next meeting on {user1}'s behalf is refused");
    let remove = RemoveDelegate::new(user1.clone(), UserId::smtp(user2.clone()));
    let removed = first(principal.send(&remove)?.body)?;
    println!("   RemoveDelegate -> {}", removed.status);
    removed.into_result()?;
    let again = CreateItem::on_behalf_of(user1.clone(), meeting);
    let refused = first(delegate.send(&again)?.body)?;
    println!("   second meeting -> {}", refused.status);
    if refused.status.code != ResponseCode::ErrorAccessDenied {
        return Err("the second meeting was not refused".into());
    }
    println!();
    Ok(())
}

/// The first answer of a batch, or an error if the server sent none.
fn first<T>(
    messages: impl IntoIterator<Item = ResponseMessage<T>>,
) -> Result<ResponseMessage<T>, Failure> {
    messages
        .into_iter()
        .next()
        .ok_or_else(|| "the server sent no response message".into())
}

/// Tells this run from earlier ones: the time and the process.
fn run_id() -> String {
    let now = jiff::Timestamp::now();
    format!("{}-{}", now.as_millisecond(), std::process::id())
}

/// The whole `main` of a tour example: `--trace` shows the SOAP; `discover` is the face's
/// Autodiscover (see [`Tour::from_env`]); exit status 0 means every step behaved as the
/// reference describes.
pub fn main<C: TourClient>(
    driver: &str,
    discover: Discover<'_>,
    connect: impl Fn(&Tour, &Account) -> Result<C, Failure>,
) -> ExitCode {
    if std::env::args().any(|a| a == "--trace") {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .without_time()
            .with_target(false)
            .with_ansi(false)
            .with_writer(std::io::stdout)
            .init();
    }
    println!("the delegate tour, driven by {driver}");
    match Tour::from_env(discover).and_then(|tour| tour.run(connect)) {
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
