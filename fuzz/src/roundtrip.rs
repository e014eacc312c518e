//! The encode round trip: arbitrary operations and contexts are encoded, and a generic XML
//! parser (roxmltree) must read back every value the caller put in, or `encode` must have
//! refused the request because a value holds a character XML 1.0 forbids (or for one of
//! the documented local refusals). Shared by the `encode_roundtrip` fuzz target and the
//! corpus replay test (`ews-proto/tests/fuzz_corpus.rs` includes this file).

use arbitrary::{Arbitrary, Unstructured};
use ews_proto::*;
use jiff::{SignedDuration, Timestamp};

const NS_SOAP_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const NS_M: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const NS_T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

/// A request context, as arbitrary parts.
#[derive(Arbitrary, Debug)]
pub struct Ctx {
    version: u8,
    impersonation: Option<Imp>,
    culture: Option<String>,
    time_zone: Option<String>,
}

/// `ExchangeImpersonation`.
#[derive(Arbitrary, Debug)]
pub enum Imp {
    /// By UPN.
    PrincipalName(String),
    /// By SID.
    Sid(String),
    /// By primary SMTP address.
    PrimarySmtpAddress(String),
    /// By SMTP address.
    SmtpAddress(String),
}

/// A `UserId`.
#[derive(Arbitrary, Debug)]
pub struct User {
    kind: u8,
    value: String,
    extra_sid: Option<String>,
    display: Option<String>,
}

/// A `DelegateUser`.
#[derive(Arbitrary, Debug)]
pub struct Delegate {
    user: User,
    permissions: [Option<u8>; 6],
    copies: Option<bool>,
    private: Option<bool>,
}

/// An attendee mailbox.
#[derive(Arbitrary, Debug)]
pub struct Attendee {
    address: String,
    name: Option<String>,
}

/// A `NewCalendarItem`.
#[derive(Arbitrary, Debug)]
pub struct Item {
    subject: String,
    body: Option<(bool, String)>,
    categories: Vec<String>,
    location: Option<String>,
    sensitivity: Option<u8>,
    importance: Option<u8>,
    free_busy: Option<u8>,
    reminder: Option<Option<u32>>,
    all_day: Option<bool>,
    start: (i64, i32),
    duration: i64,
    required: Vec<Attendee>,
    optional: Vec<Attendee>,
    resources: Vec<Attendee>,
    time_zone: Option<String>,
}

/// An item id.
#[derive(Arbitrary, Debug)]
pub struct Id {
    id: String,
    change_key: Option<String>,
}

/// A folder id.
#[derive(Arbitrary, Debug)]
pub enum Folder {
    /// By id.
    Id(Id),
    /// Well-known, optionally of another mailbox.
    Distinguished(u8, Option<String>),
}

/// One of the eight operations.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// AddDelegate.
    AddDelegate(String, Delegate, Vec<Delegate>, Option<u8>),
    /// GetDelegate.
    GetDelegate(String, bool, Vec<User>),
    /// UpdateDelegate.
    UpdateDelegate(String, Vec<Delegate>, Option<u8>),
    /// RemoveDelegate.
    RemoveDelegate(String, User, Vec<User>),
    /// CreateItem, on behalf of a principal or in a folder.
    CreateItem {
        /// `Some(principal)`: `on_behalf_of`.
        on_behalf: Option<String>,
        /// The folder for `CreateItem::new`.
        folder: Option<Folder>,
        /// The items.
        first: Item,
        /// More items.
        more: Vec<Item>,
        /// MessageDisposition.
        disposition: Option<u8>,
        /// SendMeetingInvitations.
        invitations: u8,
    },
    /// GetItem.
    GetItem(Id, Vec<Id>, u8, Option<String>),
    /// DeleteItem.
    DeleteItem {
        /// The ids.
        first: Id,
        /// More ids.
        more: Vec<Id>,
        /// DeleteType.
        delete_type: u8,
        /// SendMeetingCancellations.
        cancellations: Option<u8>,
        /// AffectedTaskOccurrences.
        occurrences: Option<u8>,
        /// Anchor mailbox.
        mailbox: Option<String>,
    },
    /// FindItem.
    FindItem(Folder, Option<u32>, Option<u8>),
}

/// The whole input of one round trip.
#[derive(Arbitrary, Debug)]
pub struct Input {
    ctx: Ctx,
    op: Op,
}

/// What the encoded request must hold.
#[derive(Default, Debug)]
struct Expect {
    /// `(local name, text)` of the text-bearing elements in the header, in order.
    header: Vec<(&'static str, String)>,
    /// The same for the body.
    body: Vec<(&'static str, String)>,
    /// `(element, attribute, value)` of the checked attributes, in document order.
    attrs: Vec<(&'static str, &'static str, String)>,
    /// `(start, end)` of each calendar item.
    times: Vec<(Timestamp, Timestamp)>,
    anchor: Option<String>,
    /// The impersonated user's anchor, which wins over the operation's.
    imp_anchor: Option<String>,
    forbidden: bool,
    no_forward_too_old: bool,
}

/// Elements whose text the check compares (every element a caller's text can reach, plus
/// the enumerations and flags).
const BODY_TEXT: &[&str] = &[
    "EmailAddress",
    "SID",
    "PrimarySmtpAddress",
    "DisplayName",
    "DistinguishedUser",
    "ReceiveCopiesOfMeetingMessages",
    "ViewPrivateItems",
    "DeliverMeetingRequests",
    "Subject",
    "Sensitivity",
    "Body",
    "String",
    "Importance",
    "ReminderIsSet",
    "ReminderMinutesBeforeStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "Name",
    "RoutingType",
];
const HEADER_TEXT: &[&str] = &[
    "PrincipalName",
    "SID",
    "PrimarySmtpAddress",
    "SmtpAddress",
    "MailboxCulture",
];
const ATTR_ELEMENTS: &[&str] = &[
    "RequestServerVersion",
    "TimeZoneDefinition",
    "ItemId",
    "FolderId",
    "DistinguishedFolderId",
    "Body",
    "StartTimeZone",
    "EndTimeZone",
    "MeetingTimeZone",
];

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn fallback_addr() -> EmailAddress {
    "fallback@example.com".parse().expect("valid address")
}

fn pick<T: Clone>(all: &[T], i: u8) -> T {
    all[usize::from(i) % all.len()].clone()
}

const FOLDERS: &[DistinguishedFolder] = &[
    DistinguishedFolder::Calendar,
    DistinguishedFolder::Contacts,
    DistinguishedFolder::DeletedItems,
    DistinguishedFolder::Drafts,
    DistinguishedFolder::Inbox,
    DistinguishedFolder::Journal,
    DistinguishedFolder::Notes,
    DistinguishedFolder::Outbox,
    DistinguishedFolder::SentItems,
    DistinguishedFolder::Tasks,
    DistinguishedFolder::MsgFolderRoot,
    DistinguishedFolder::Root,
    DistinguishedFolder::JunkEmail,
];
const PERMISSIONS: &[Permission] = &[
    Permission::None,
    Permission::Reviewer,
    Permission::Author,
    Permission::Editor,
];

impl Expect {
    /// Records a user string that goes on the wire.
    fn text(&mut self, local: &'static str, s: &str) {
        self.forbidden |= !s.chars().all(xml_char);
        self.body.push((local, s.to_owned()));
    }
    fn header_text(&mut self, local: &'static str, s: &str) {
        self.forbidden |= !s.chars().all(xml_char);
        self.header.push((local, s.to_owned()));
    }
    fn attr(&mut self, element: &'static str, name: &'static str, s: &str) {
        self.forbidden |= !s.chars().all(xml_char);
        self.attrs.push((element, name, s.to_owned()));
    }

    fn address(&mut self, s: &str) -> EmailAddress {
        s.parse().unwrap_or_else(|_| fallback_addr())
    }

    /// The principal's `m:Mailbox/t:EmailAddress`.
    fn principal(&mut self, s: &str) -> EmailAddress {
        let a = self.address(s);
        self.text("EmailAddress", a.as_str());
        self.anchor = Some(a.as_str().to_owned());
        a
    }

    fn user(&mut self, u: &User) -> UserId {
        let mut id = match u.kind % 4 {
            0 => {
                let a = self.address(&u.value);
                UserId::smtp(a)
            }
            1 => match u.value.parse::<Sid>() {
                Ok(sid) => UserId::sid(sid),
                Err(_) => UserId::smtp(fallback_addr()),
            },
            2 => UserId::distinguished(DistinguishedUser::Default),
            _ => UserId::distinguished(DistinguishedUser::Anonymous),
        };
        if let Some(Ok(sid)) = u.extra_sid.as_deref().map(str::parse::<Sid>) {
            id = id.with_sid(sid);
        }
        if let Some(d) = &u.display {
            id = id.with_display_name(d.clone());
        }
        // Schema order: SID, PrimarySmtpAddress, DisplayName, DistinguishedUser.
        if let Some(s) = id.sid_str() {
            self.text("SID", s);
        }
        if let Some(s) = id.primary_smtp_address() {
            self.text("PrimarySmtpAddress", s);
        }
        if let Some(s) = id.display_name() {
            self.text("DisplayName", s);
        }
        if let Some(s) = id.distinguished_user() {
            self.text("DistinguishedUser", s);
        }
        id
    }

    fn delegate(&mut self, d: &Delegate) -> DelegateUser {
        let mut user = DelegateUser::new(self.user(&d.user));
        let mut p = DelegatePermissions::new();
        for (folder, level) in DelegateFolder::ALL.into_iter().zip(d.permissions) {
            if let Some(level) = level {
                p = p.set(folder, pick(PERMISSIONS, level));
            }
        }
        user = user.permissions(p);
        if let Some(v) = d.copies {
            user = user.receive_copies_of_meeting_messages(v);
            self.body
                .push(("ReceiveCopiesOfMeetingMessages", v.to_string()));
        }
        if let Some(v) = d.private {
            user = user.view_private_items(v);
            self.body.push(("ViewPrivateItems", v.to_string()));
        }
        user
    }

    fn deliver(
        &mut self,
        d: Option<u8>,
        version: ExchangeVersion,
    ) -> Option<DeliverMeetingRequests> {
        let d = match d? % 4 {
            0 => DeliverMeetingRequests::DelegatesOnly,
            1 => DeliverMeetingRequests::DelegatesAndMe,
            2 => DeliverMeetingRequests::DelegatesAndSendInformationToMe,
            _ => DeliverMeetingRequests::NoForward,
        };
        if d == DeliverMeetingRequests::NoForward && version < ExchangeVersion::Exchange2010_SP1 {
            self.no_forward_too_old = true;
        }
        self.body
            .push(("DeliverMeetingRequests", d.as_str().to_owned()));
        Some(d)
    }

    fn item_id(&mut self, id: &Id) -> ItemId {
        let made = ItemId::new(id.id.clone(), id.change_key.clone())
            .unwrap_or_else(|_| ItemId::new("fallback", None).expect("non-empty"));
        self.attr("ItemId", "Id", made.id());
        if let Some(ck) = made.change_key() {
            self.attr("ItemId", "ChangeKey", ck);
        }
        made
    }

    fn folder(&mut self, f: &Folder) -> FolderId {
        match f {
            Folder::Id(Id { id, change_key }) => {
                // An empty id cannot be built (checked here); the case goes on with
                // another id.
                let id = if id.is_empty() {
                    assert!(
                        matches!(
                            FolderId::new("", None),
                            Err(UsageError::InvalidValue { .. })
                        ),
                        "an empty folder id was built"
                    );
                    "AQ=="
                } else {
                    id.as_str()
                };
                self.attr("FolderId", "Id", id);
                if let Some(ck) = change_key {
                    self.attr("FolderId", "ChangeKey", ck);
                }
                FolderId::new(id, change_key.clone()).expect("a non-empty id builds")
            }
            Folder::Distinguished(which, mailbox) => {
                let folder = pick(FOLDERS, *which);
                self.attr("DistinguishedFolderId", "Id", folder.as_str());
                match mailbox {
                    None => FolderId::own(folder),
                    Some(m) => {
                        let a = self.address(m);
                        self.text("EmailAddress", a.as_str());
                        FolderId::of(folder, a)
                    }
                }
            }
        }
    }

    fn mailboxes(&mut self, list: &[Attendee]) -> Vec<Mailbox> {
        list.iter()
            .map(|a| {
                let address = self.address(&a.address);
                let mut m = Mailbox::new(address.clone());
                if let Some(n) = &a.name {
                    self.text("Name", n);
                    m = m.with_name(n.clone());
                }
                self.text("EmailAddress", address.as_str());
                m
            })
            .collect()
    }

    fn item(&mut self, it: &Item, version: ExchangeVersion) -> NewCalendarItem {
        let secs = it.start.0 % 253_402_207_200;
        let start =
            Timestamp::new(secs, it.start.1 % 1_000_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let end = start
            .checked_add(SignedDuration::from_secs(it.duration % 1_000_000_000))
            .unwrap_or(start);
        // End before Start cannot be built (checked here); the case goes on with an item
        // of no duration.
        let end = if end < start {
            assert!(
                matches!(
                    NewCalendarItem::new(it.subject.clone(), start, end),
                    Err(UsageError::InvalidValue { .. })
                ),
                "an item ending before its start was built"
            );
            start
        } else {
            end
        };
        self.times.push((start, end));
        let mut item =
            NewCalendarItem::new(it.subject.clone(), start, end).expect("start is not after end");
        self.text("Subject", &it.subject);
        if let Some(i) = it.sensitivity {
            let s = pick(
                &[
                    Sensitivity::Normal,
                    Sensitivity::Personal,
                    Sensitivity::Private,
                    Sensitivity::Confidential,
                ],
                i,
            );
            self.text("Sensitivity", s.as_str());
            item = item.sensitivity(s);
        }
        if let Some((html, content)) = &it.body {
            let body = if *html {
                Body::html(content.clone())
            } else {
                Body::text(content.clone())
            };
            self.attr("Body", "BodyType", if *html { "HTML" } else { "Text" });
            self.text("Body", content);
            item = item.body(body);
        }
        for c in &it.categories {
            self.text("String", c);
            item = item.category(c.clone());
        }
        if let Some(i) = it.importance {
            let v = pick(&[Importance::Low, Importance::Normal, Importance::High], i);
            self.text("Importance", v.as_str());
            item = item.importance(v);
        }
        match it.reminder {
            None => {}
            Some(None) => {
                self.text("ReminderIsSet", "false");
                item = item.no_reminder();
            }
            Some(Some(m)) => {
                self.text("ReminderIsSet", "true");
                self.text("ReminderMinutesBeforeStart", &m.to_string());
                item = item.reminder(m);
            }
        }
        if let Some(v) = it.all_day {
            self.text("IsAllDayEvent", &v.to_string());
            item = item.all_day(v);
        }
        if let Some(i) = it.free_busy {
            let v = pick(
                &[
                    LegacyFreeBusyStatus::Free,
                    LegacyFreeBusyStatus::Tentative,
                    LegacyFreeBusyStatus::Busy,
                    LegacyFreeBusyStatus::Oof,
                    LegacyFreeBusyStatus::WorkingElsewhere,
                    LegacyFreeBusyStatus::NoData,
                ],
                i,
            );
            self.text("LegacyFreeBusyStatus", v.as_str());
            item = item.free_busy(v);
        }
        if let Some(l) = &it.location {
            self.text("Location", l);
            item = item.location(l.clone());
        }
        for m in self.mailboxes(&it.required) {
            item = item.required_attendee(m);
        }
        for m in self.mailboxes(&it.optional) {
            item = item.optional_attendee(m);
        }
        for m in self.mailboxes(&it.resources) {
            item = item.resource(m);
        }
        if let Some(Ok(tz)) = it.time_zone.as_deref().map(TimeZoneId::new) {
            if version < ExchangeVersion::Exchange2010 {
                self.attr("MeetingTimeZone", "TimeZoneName", tz.as_str());
            } else {
                self.attr("StartTimeZone", "Id", tz.as_str());
                self.attr("EndTimeZone", "Id", tz.as_str());
            }
            item = item.time_zone(tz);
        }
        item
    }
}

/// Builds the context, recording the header values it puts on the wire (the time zone
/// only for operations that send `TimeZoneContext`).
fn context(c: &Ctx, e: &mut Expect, with_time_zone: bool) -> RequestContext {
    let version = pick(ExchangeVersion::ALL, c.version);
    let mut ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")
        .expect("valid endpoint")
        .with_version(version);
    let mut imp_anchor = None;
    if let Some(imp) = &c.impersonation {
        let made = match imp {
            Imp::PrincipalName(s) => s.parse().ok().map(Impersonation::PrincipalName),
            Imp::Sid(s) => s.parse().ok().map(Impersonation::Sid),
            Imp::PrimarySmtpAddress(s) => s.parse().ok().map(Impersonation::PrimarySmtpAddress),
            Imp::SmtpAddress(s) => s.parse().ok().map(Impersonation::SmtpAddress),
        };
        if let Some(made) = made {
            match &made {
                Impersonation::PrincipalName(p) => {
                    e.header_text("PrincipalName", p.as_str());
                    imp_anchor = Some(p.as_str().to_owned());
                }
                Impersonation::Sid(s) => e.header_text("SID", s.as_str()),
                Impersonation::PrimarySmtpAddress(a) => {
                    e.header_text("PrimarySmtpAddress", a.as_str());
                    imp_anchor = Some(a.as_str().to_owned());
                }
                Impersonation::SmtpAddress(a) => {
                    e.header_text("SmtpAddress", a.as_str());
                    imp_anchor = Some(a.as_str().to_owned());
                }
                _ => {}
            }
            ctx = ctx.with_impersonation(made);
        }
    }
    if let Some(Ok(culture)) = c.culture.as_deref().map(str::parse::<MailboxCulture>) {
        e.header_text("MailboxCulture", culture.as_str());
        ctx = ctx.with_culture(culture);
    }
    e.attr("RequestServerVersion", "Version", version.as_str());
    if let Some(Ok(tz)) = c.time_zone.as_deref().map(TimeZoneId::new) {
        if with_time_zone {
            e.attr("TimeZoneDefinition", "Id", tz.as_str());
        }
        ctx = ctx.with_time_zone(tz);
    }
    e.imp_anchor = imp_anchor;
    ctx
}

/// Builds the operation from `input`, encodes it and checks the request. Panics on any
/// difference.
pub fn check(input: &Input) {
    let mut e = Expect::default();
    let time_zone_op = matches!(
        input.op,
        Op::CreateItem { .. } | Op::GetItem(..) | Op::FindItem(..)
    );
    let ctx = context(&input.ctx, &mut e, time_zone_op);
    let version = ctx.version();
    let result = match &input.op {
        Op::AddDelegate(principal, first, more, deliver) => {
            let p = e.principal(principal);
            let mut op = AddDelegate::new(p, e.delegate(first));
            for d in more {
                op = op.delegate(e.delegate(d));
            }
            if let Some(d) = e.deliver(*deliver, version) {
                op = op.deliver_meeting_requests(d);
            }
            op.encode(&ctx)
        }
        Op::GetDelegate(principal, include, users) => {
            let p = e.principal(principal);
            let mut op = GetDelegate::new(p).include_permissions(*include);
            for u in users {
                op = op.user(e.user(u));
            }
            op.encode(&ctx)
        }
        Op::UpdateDelegate(principal, delegates, deliver) => {
            let p = e.principal(principal);
            let op = match delegates.split_first() {
                None => {
                    let d = e
                        .deliver(Some(deliver.unwrap_or(0)), version)
                        .expect("some");
                    UpdateDelegate::deliver_only(p, d)
                }
                Some((first, more)) => {
                    let mut op = UpdateDelegate::new(p, e.delegate(first));
                    for d in more {
                        op = op.delegate(e.delegate(d));
                    }
                    if let Some(d) = e.deliver(*deliver, version) {
                        op = op.deliver_meeting_requests(d);
                    }
                    op
                }
            };
            op.encode(&ctx)
        }
        Op::RemoveDelegate(principal, first, more) => {
            let p = e.principal(principal);
            let mut op = RemoveDelegate::new(p, e.user(first));
            for u in more {
                op = op.user(e.user(u));
            }
            op.encode(&ctx)
        }
        Op::CreateItem {
            on_behalf,
            folder,
            first,
            more,
            disposition,
            invitations,
        } => {
            let mut op = match on_behalf {
                Some(principal) => {
                    let a = e.address(principal);
                    e.attr(
                        "DistinguishedFolderId",
                        "Id",
                        DistinguishedFolder::Calendar.as_str(),
                    );
                    e.text("EmailAddress", a.as_str());
                    e.anchor = Some(a.as_str().to_owned());
                    CreateItem::on_behalf_of(a, e.item(first, version))
                }
                None => {
                    let folder = folder.as_ref().map(|f| e.folder(f));
                    e.anchor = folder
                        .as_ref()
                        .and_then(FolderId::mailbox)
                        .map(|a| a.as_str().to_owned());
                    let inv = pick(
                        &[
                            SendMeetingInvitations::SendToNone,
                            SendMeetingInvitations::SendOnlyToAll,
                            SendMeetingInvitations::SendToAllAndSaveCopy,
                        ],
                        *invitations,
                    );
                    CreateItem::new(folder, e.item(first, version), inv)
                }
            };
            for it in more {
                op = op.item(e.item(it, version));
            }
            if let Some(d) = disposition {
                op = op.disposition(pick(
                    &[
                        MessageDisposition::SaveOnly,
                        MessageDisposition::SendOnly,
                        MessageDisposition::SendAndSaveCopy,
                    ],
                    *d,
                ));
            }
            op.encode(&ctx)
        }
        Op::GetItem(first, more, shape, mailbox) => {
            let mut op = GetItem::new(e.item_id(first)).shape(pick(
                &[
                    BaseShape::IdOnly,
                    BaseShape::Default,
                    BaseShape::AllProperties,
                ],
                *shape,
            ));
            for id in more {
                op = op.id(e.item_id(id));
            }
            if let Some(m) = mailbox {
                let a = e.address(m);
                e.anchor = Some(a.as_str().to_owned());
                op = op.in_mailbox(a);
            }
            op.encode(&ctx)
        }
        Op::DeleteItem {
            first,
            more,
            delete_type,
            cancellations,
            occurrences,
            mailbox,
        } => {
            let dt = pick(
                &[
                    DeleteType::HardDelete,
                    DeleteType::SoftDelete,
                    DeleteType::MoveToDeletedItems,
                ],
                *delete_type,
            );
            let mut op = DeleteItem::new(e.item_id(first), dt);
            for id in more {
                op = op.id(e.item_id(id));
            }
            if let Some(c) = cancellations {
                op = op.cancellations(pick(
                    &[
                        SendMeetingCancellations::SendToNone,
                        SendMeetingCancellations::SendOnlyToAll,
                        SendMeetingCancellations::SendToAllAndSaveCopy,
                    ],
                    *c,
                ));
            }
            if let Some(o) = occurrences {
                op = op.task_occurrences(pick(
                    &[
                        AffectedTaskOccurrences::AllOccurrences,
                        AffectedTaskOccurrences::SpecifiedOccurrenceOnly,
                    ],
                    *o,
                ));
            }
            if let Some(m) = mailbox {
                let a = e.address(m);
                e.anchor = Some(a.as_str().to_owned());
                op = op.in_mailbox(a);
            }
            op.encode(&ctx)
        }
        Op::FindItem(folder, page_size, shape) => {
            let f = e.folder(folder);
            e.anchor = f.mailbox().map(|a| a.as_str().to_owned());
            let mut op = FindItem::new(f);
            if let Some(n) = page_size {
                op = op.page_size(*n);
            }
            if let Some(s) = shape {
                op = op.shape(pick(
                    &[
                        BaseShape::IdOnly,
                        BaseShape::Default,
                        BaseShape::AllProperties,
                    ],
                    *s,
                ));
            }
            op.encode(&ctx)
        }
    };
    verify(&e, result);
}

fn verify(e: &Expect, result: Result<http::Request<bytes::Bytes>, UsageError>) {
    let request = match result {
        Err(UsageError::InvalidCharacter { .. }) => {
            assert!(e.forbidden, "refused without a forbidden character: {e:?}");
            return;
        }
        Err(UsageError::RequiresVersion { .. }) => {
            assert!(e.no_forward_too_old, "{e:?}");
            return;
        }
        Err(other) => panic!("unexpected error {other:?} for {e:?}"),
        Ok(request) => request,
    };
    assert!(
        !(e.forbidden || e.no_forward_too_old),
        "encoded although it should have been refused: {e:?}"
    );
    let xml = std::str::from_utf8(request.body()).expect("requests are UTF-8");
    let doc = roxmltree::Document::parse(xml).expect("requests are well-formed XML");

    // Every element is in one of the three namespaces the envelope declares.
    for n in doc.descendants().filter(roxmltree::Node::is_element) {
        let ns = n.tag_name().namespace();
        assert!(
            matches!(ns, Some(NS_SOAP_ENV | NS_M | NS_T)),
            "element {:?} in {ns:?}",
            n.tag_name().name()
        );
    }
    let root = doc.root_element();
    let soap = |local: &str| {
        root.children()
            .find(|n| n.tag_name().namespace() == Some(NS_SOAP_ENV) && n.tag_name().name() == local)
            .unwrap_or_else(|| panic!("soap:{local}"))
    };
    let header = soap("Header");
    let body = soap("Body");

    let collect = |scope: roxmltree::Node<'_, '_>, names: &[&str]| -> Vec<(String, String)> {
        scope
            .descendants()
            .filter(|n| {
                n.is_element()
                    && matches!(n.tag_name().namespace(), Some(NS_M | NS_T))
                    && names.contains(&n.tag_name().name())
            })
            .map(|n| {
                let text: String = n.children().filter_map(|c| c.text()).collect();
                (n.tag_name().name().to_owned(), text)
            })
            .collect()
    };
    let owned = |v: &[(&'static str, String)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, s)| ((*k).to_owned(), s.clone()))
            .collect()
    };
    assert_eq!(
        collect(header, HEADER_TEXT),
        owned(&e.header),
        "header texts"
    );
    assert_eq!(collect(body, BODY_TEXT), owned(&e.body), "body texts");

    let attrs: Vec<(String, String, String)> = doc
        .descendants()
        .filter(|n| {
            n.is_element()
                && n.tag_name().namespace() == Some(NS_T)
                && ATTR_ELEMENTS.contains(&n.tag_name().name())
        })
        .flat_map(|n| {
            n.attributes()
                .map(|a| {
                    (
                        n.tag_name().name().to_owned(),
                        a.name().to_owned(),
                        a.value().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: Vec<(String, String, String)> = e
        .attrs
        .iter()
        .map(|(el, a, v)| ((*el).to_owned(), (*a).to_owned(), v.clone()))
        .collect();
    assert_eq!(attrs, expected, "attributes");

    let times: Vec<Timestamp> = collect(body, &["Start", "End"])
        .into_iter()
        .map(|(_, t)| t.parse::<Timestamp>().expect("xs:dateTime"))
        .collect();
    let expected: Vec<Timestamp> = e.times.iter().flat_map(|(s, t)| [*s, *t]).collect();
    assert_eq!(times, expected, "Start/End");

    let anchor = e.imp_anchor.clone().or_else(|| e.anchor.clone());
    let got = request
        .headers()
        .get("X-AnchorMailbox")
        .map(|v| String::from_utf8(v.as_bytes().to_vec()).expect("UTF-8 header"));
    assert_eq!(got, anchor, "X-AnchorMailbox");
}

/// Runs [`check`] on the input `data` encodes; inputs too short to build one are skipped.
pub fn run(data: &[u8]) {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        check(&input);
    }
}
