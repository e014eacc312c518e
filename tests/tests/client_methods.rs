//! The clients' operation methods (written once in the core, for both faces) run the
//! delegate workflow against the simulator, which says what happened: a delegate read,
//! changed and written back keeps its `Custom` folder; a delivery-only change touches no
//! delegate; GetDelegate filters and leaves permissions out; GetItem in the principal's
//! mailbox carries `X-AnchorMailbox` and the extra properties.

use ews_proto::{
    Credentials, DelegateFolder, DelegatePermissions, DelegateResults, DelegateUser,
    DeliverMeetingRequests, EmailAddress, Error, FieldUri, GetDelegate, GetItem, Mailbox,
    NewCalendarItem, Permission, PermissionLevel as Level, Reply, ResponseCode, UserId,
};
use ews_tests::{DelegateSnapshot, PermissionLevel, Permissions, SimConfig, Simulator};

const U1: &str = "user1@example.com";
const U2: &str = "user2@example.com";
const U3: &str = "user3@example.com";

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

/// The calls of the story, made by a blocking or an async client of user1 (`principal`)
/// and user2 (`delegate`).
trait Face {
    fn add(&self, d: DelegateUser) -> Result<Reply<DelegateResults>, Error>;
    fn get(&self, q: GetDelegate) -> Result<Reply<DelegateResults>, Error>;
    fn update(&self, d: DelegateUser) -> Result<Reply<DelegateResults>, Error>;
    fn deliver(&self, d: DeliverMeetingRequests) -> Result<Reply<DelegateResults>, Error>;
    fn meeting_and_read_back(&self, m: NewCalendarItem) -> Result<usize, Error>;
}

struct Blocking {
    principal: ews_blocking::Client,
    delegate: ews_blocking::Client,
}

impl Face for Blocking {
    fn add(&self, d: DelegateUser) -> Result<Reply<DelegateResults>, Error> {
        self.principal.add_delegate(&addr(U1), d)
    }
    fn get(&self, q: GetDelegate) -> Result<Reply<DelegateResults>, Error> {
        self.principal.get_delegates(q)
    }
    fn update(&self, d: DelegateUser) -> Result<Reply<DelegateResults>, Error> {
        self.principal.update_delegate(&addr(U1), d)
    }
    fn deliver(&self, d: DeliverMeetingRequests) -> Result<Reply<DelegateResults>, Error> {
        self.principal.update_deliver_meeting_requests(&addr(U1), d)
    }
    fn meeting_and_read_back(&self, m: NewCalendarItem) -> Result<usize, Error> {
        let created = self.delegate.send_meeting_on_behalf(&addr(U1), m)?;
        let item = created.body[0]
            .as_result()
            .expect("created")
            .clone()
            .expect("an id");
        let got = self.delegate.get_item(
            GetItem::new(item.id)
                .in_mailbox(addr(U1))
                .property(FieldUri::RequiredAttendees),
        )?;
        Ok(got.body.iter().filter(|m| !m.is_error()).count())
    }
}

struct Async {
    rt: tokio::runtime::Runtime,
    principal: ews_async::Client,
    delegate: ews_async::Client,
}

impl Face for Async {
    fn add(&self, d: DelegateUser) -> Result<Reply<DelegateResults>, Error> {
        self.rt.block_on(self.principal.add_delegate(&addr(U1), d))
    }
    fn get(&self, q: GetDelegate) -> Result<Reply<DelegateResults>, Error> {
        self.rt.block_on(self.principal.get_delegates(q))
    }
    fn update(&self, d: DelegateUser) -> Result<Reply<DelegateResults>, Error> {
        self.rt
            .block_on(self.principal.update_delegate(&addr(U1), d))
    }
    fn deliver(&self, d: DeliverMeetingRequests) -> Result<Reply<DelegateResults>, Error> {
        self.rt
            .block_on(self.principal.update_deliver_meeting_requests(&addr(U1), d))
    }
    fn meeting_and_read_back(&self, m: NewCalendarItem) -> Result<usize, Error> {
        self.rt.block_on(async {
            let created = self.delegate.send_meeting_on_behalf(&addr(U1), m).await?;
            let item = created.body[0]
                .as_result()
                .expect("created")
                .clone()
                .expect("an id");
            let got = self
                .delegate
                .get_item(
                    GetItem::new(item.id)
                        .in_mailbox(addr(U1))
                        .property(FieldUri::RequiredAttendees),
                )
                .await?;
            Ok(got.body.iter().filter(|m| !m.is_error()).count())
        })
    }
}

fn blocking(sim: &Simulator) -> Blocking {
    let client = |who: &str, pw: &str| {
        ews_blocking::Client::builder(&sim.url())
            .credentials(Credentials::basic(who, pw))
            .build()
            .expect("client")
    };
    Blocking {
        principal: client(U1, "Passw0rd-1"),
        delegate: client(U2, "Passw0rd-2"),
    }
}

fn async_face(sim: &Simulator) -> Async {
    let client = |who: &str, pw: &str| {
        ews_async::Client::builder(&sim.url())
            .credentials(Credentials::basic(who, pw))
            .build()
            .expect("client")
    };
    Async {
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime"),
        principal: client(U1, "Passw0rd-1"),
        delegate: client(U2, "Passw0rd-2"),
    }
}

fn story(face: &dyn Face, sim: &Simulator) {
    let user2 = UserId::smtp(addr(U2));
    let wanted = DelegateUser::new(user2.clone())
        .permissions(DelegatePermissions::new().calendar(Permission::Editor))
        .receive_copies_of_meeting_messages(true);
    // user2 is a delegate already, with a Custom Inbox the simulator was seeded with.
    assert!(sim.set_delegate(
        U1,
        DelegateSnapshot {
            smtp: U2.to_owned(),
            permissions: Permissions {
                calendar: PermissionLevel::Author,
                inbox: PermissionLevel::Custom,
                ..Permissions::default()
            },
            receive_copies_of_meeting_messages: false,
            view_private_items: false,
        },
    ));

    let added = face.add(wanted).expect("AddDelegate");
    assert_eq!(
        *added.body[0].code(),
        ResponseCode::ErrorDelegateAlreadyExists
    );

    // The fallback: one read, one write.
    let read = face
        .get(GetDelegate::new(addr(U1)).user(user2.clone()))
        .expect("GetDelegate");
    let current = read.body.delegate(&user2).expect("user2 is reported");
    assert_eq!(
        current
            .permissions
            .as_ref()
            .and_then(|p| p.level(DelegateFolder::Inbox)),
        Some(&Level::Custom)
    );
    let changed = DelegateUser::from(current)
        .permissions_set(DelegateFolder::Calendar, Permission::Editor)
        .receive_copies_of_meeting_messages(true);
    face.update(changed).expect("UpdateDelegate").body[0]
        .as_result()
        .expect("updated");
    let d = sim.mailbox(U1).expect("mailbox").delegates[0].clone();
    assert_eq!(d.permissions.calendar, PermissionLevel::Editor);
    assert_eq!(
        d.permissions.inbox,
        PermissionLevel::Custom,
        "the Custom folder was written over"
    );
    assert!(d.receive_copies_of_meeting_messages);

    // Delivery only: the setting changes, and the request names no delegate.
    sim.clear_requests();
    face.deliver(DeliverMeetingRequests::DelegatesOnly)
        .expect("UpdateDelegate (delivery)");
    let mb = sim.mailbox(U1).expect("mailbox");
    assert_eq!(mb.deliver_meeting_requests, "DelegatesOnly");
    assert_eq!(
        mb.delegates[0], d,
        "a delivery-only change touched the delegate"
    );
    let sent = sim.requests_for("UpdateDelegate");
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].body.contains("DelegateUsers"), "{}", sent[0].body);

    // Without permissions: who, and where meeting requests go.
    let all = face
        .get(GetDelegate::new(addr(U1)).include_permissions(false))
        .expect("GetDelegate");
    assert_eq!(
        all.body.deliver_meeting_requests,
        Some(DeliverMeetingRequests::DelegatesOnly)
    );
    let only = all.body.delegate(&user2).expect("user2");
    assert!(only.permissions.is_none(), "{only:?}");

    // The delegate reads the principal's item with the mailbox named.
    sim.clear_requests();
    let start = "2025-06-02T15:00:00Z".parse().expect("ts");
    let meeting = NewCalendarItem::new("Workflow", start, start)
        .expect("item")
        .required_attendee(Mailbox::new(addr(U3)));
    assert_eq!(face.meeting_and_read_back(meeting).expect("meeting"), 1);
    let get = sim.requests_for("GetItem");
    assert_eq!(get.len(), 1);
    let anchor = get[0]
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-anchormailbox"))
        .map(|(_, v)| v.as_str());
    assert_eq!(anchor, Some(U1));
    assert!(
        get[0].body.contains("calendar:RequiredAttendees"),
        "{}",
        get[0].body
    );
}

#[test]
fn the_workflow_through_the_blocking_client() {
    let sim = Simulator::start(SimConfig::seed());
    story(&blocking(&sim), &sim);
}

#[test]
fn the_workflow_through_the_async_client() {
    let sim = Simulator::start(SimConfig::seed());
    story(&async_face(&sim), &sim);
}
