//! What the core refuses to send: each case is a typed `UsageError`, and nothing is
//! written to the caller's buffer.

use bytes::BytesMut;
use ews_proto::*;

fn ctx(version: ExchangeVersion) -> RequestContext {
    RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")
        .expect("endpoint")
        .with_version(version)
}

fn addr(s: &str) -> EmailAddress {
    s.parse().expect("address")
}

fn assert_refused<O: Operation>(op: &O, ctx: &RequestContext, expected: &UsageError) {
    assert_eq!(op.encode(ctx).as_ref().map(|_| ()), Err(expected));
    let mut buf = BytesMut::from(&b"keep"[..]);
    assert_eq!(op.encode_into(ctx, &mut buf).as_ref(), Err(expected));
    assert_eq!(&buf[..], b"keep");
}

#[test]
fn no_forward_needs_exchange_2010_sp1() {
    let op =
        UpdateDelegate::deliver_only(addr("user1@example.com"), DeliverMeetingRequests::NoForward);
    for v in [
        ExchangeVersion::Exchange2007,
        ExchangeVersion::Exchange2007_SP1,
        ExchangeVersion::Exchange2009,
        ExchangeVersion::Exchange2010,
    ] {
        assert_refused(
            &op,
            &ctx(v),
            &UsageError::RequiresVersion {
                feature: "DeliverMeetingRequests NoForward",
                required: ExchangeVersion::Exchange2010_SP1,
                requested: v,
            },
        );
    }
    for v in ExchangeVersion::ALL
        .iter()
        .filter(|v| **v >= ExchangeVersion::Exchange2010_SP1)
    {
        assert!(op.encode(&ctx(*v)).is_ok(), "{v}");
    }
}

#[test]
fn forbidden_characters_name_the_field() {
    let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
    let item = NewCalendarItem::new("ok", start, start)
        .expect("start is not after end")
        .location("Room\u{7}1");
    let op = CreateItem::on_behalf_of(addr("user1@example.com"), item);
    assert_refused(
        &op,
        &ctx(ExchangeVersion::default()),
        &UsageError::InvalidCharacter {
            field: "Location",
            codepoint: 7,
        },
    );

    let user = UserId::smtp(addr("user2@example.com")).with_display_name("Bad\u{FFFF}");
    let op = AddDelegate::new(addr("user1@example.com"), DelegateUser::new(user));
    assert_refused(
        &op,
        &ctx(ExchangeVersion::default()),
        &UsageError::InvalidCharacter {
            field: "DisplayName",
            codepoint: 0xFFFF,
        },
    );
}

#[test]
fn end_before_start_cannot_be_built() {
    let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("ts");
    let end: jiff::Timestamp = "2025-06-02T09:00:00Z".parse().expect("ts");
    assert_eq!(
        NewCalendarItem::new("x", start, end).unwrap_err(),
        UsageError::InvalidValue {
            kind: "calendar item",
            reason: "End is before Start",
        }
    );
    // Equal is an item without duration: allowed.
    assert!(NewCalendarItem::new("x", start, start).is_ok());
}

#[test]
fn an_empty_folder_id_cannot_be_built() {
    assert_eq!(
        FolderId::new("", None).unwrap_err(),
        UsageError::InvalidValue {
            kind: "folder id",
            reason: "must not be empty",
        }
    );
}

#[test]
fn validated_types_refuse_bad_input() {
    assert!("not an address".parse::<EmailAddress>().is_err());
    assert!("S-1-x".parse::<Sid>().is_err());
    assert!("English (United States)".parse::<MailboxCulture>().is_err());
    assert!("Exchange2019".parse::<ExchangeVersion>().is_err());
    assert!(TimeZoneId::new(" ").is_err());
    assert!(ItemId::new("", None).is_err());
    assert!(RequestContext::new("mail.example.com/EWS").is_err());
}
