//! The calendar operations against outside ground: the WSDL says which operations bind
//! `TimeZoneContext` (read from `../shared/ews-schema/services.wsdl`, not from the code),
//! the answers' calendar error codes are typed from hand-written answers, and a meeting
//! answer never carries the `ReceivedBy`/`ReceivedRepresenting` children that Microsoft's
//! pages show and the schema forbids.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use std::path::Path;

use bytes::Bytes;
use ews_proto::ops::DecodeAnswer;
use ews_proto::{
    Body, CalendarChange, CancelMeeting, ConflictResolution, CreateItem, DeleteItem, DeleteType,
    DistinguishedFolder, FindItem, FolderId, GetDelegate, GetItem, ItemChange, ItemId,
    MeetingAnswer, NewCalendarItem, Operation, RequestContext, RespondToMeeting, ResponseCode,
    SendMeetingInvitationsOrCancellations, TimeZoneId, UpdateItem,
};

fn wsdl() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ews-schema/services.wsdl");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Does the WSDL bind the `TimeZoneContext` header to `operation`'s input?
fn binds_time_zone(wsdl: &str, operation: &str) -> bool {
    wsdl.contains(&format!(
        r#"<soap:header message="tns:{operation}SoapIn" part="TimeZoneContext""#
    ))
}

fn sent_time_zone<O: Operation>(op: &O) -> bool {
    let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")
        .unwrap()
        .with_time_zone(TimeZoneId::new("W. Europe Standard Time").unwrap());
    let body = op.encode(&ctx).unwrap().into_body();
    String::from_utf8(body.to_vec())
        .unwrap()
        .contains("<t:TimeZoneContext>")
}

fn id() -> ItemId {
    ItemId::new("AAMkADk=", Some("DwAAABYA".into())).unwrap()
}

#[test]
fn time_zone_context_goes_exactly_where_the_wsdl_binds_it() {
    let wsdl = wsdl();
    let principal = "user1@example.com".parse().unwrap();
    let start = "2025-06-02T10:00:00Z".parse().unwrap();
    let update = UpdateItem::new(
        ItemChange::new(id(), [CalendarChange::location("Room 2")]).unwrap(),
        SendMeetingInvitationsOrCancellations::SendToNone,
        ConflictResolution::NeverOverwrite,
    );
    let cases: [(&str, bool); 8] = [
        (
            "CreateItem",
            sent_time_zone(&CreateItem::on_behalf_of(
                principal,
                NewCalendarItem::new("s", start, start).unwrap(),
            )),
        ),
        ("GetItem", sent_time_zone(&GetItem::new(id()))),
        (
            "FindItem",
            sent_time_zone(&FindItem::new(FolderId::own(DistinguishedFolder::Calendar))),
        ),
        ("UpdateItem", sent_time_zone(&update)),
        // CancelCalendarItem and the meeting answers are CreateItem on the wire.
        ("CreateItem", sent_time_zone(&CancelMeeting::new(id()))),
        (
            "CreateItem",
            sent_time_zone(&RespondToMeeting::new(MeetingAnswer::Decline, id())),
        ),
        (
            "DeleteItem",
            sent_time_zone(&DeleteItem::new(id(), DeleteType::HardDelete)),
        ),
        (
            "GetDelegate",
            sent_time_zone(&GetDelegate::new("user1@example.com".parse().unwrap())),
        ),
    ];
    for (operation, sent) in cases {
        assert_eq!(sent, binds_time_zone(&wsdl, operation), "{operation}");
    }
    assert!(!binds_time_zone(&wsdl, "DeleteItem"));
}

#[test]
fn meeting_answers_never_name_who_received_them() {
    let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").unwrap();
    for answer in [
        MeetingAnswer::Accept,
        MeetingAnswer::Tentative,
        MeetingAnswer::Decline,
    ] {
        for op in [
            RespondToMeeting::new(answer, id()),
            RespondToMeeting::new(answer, id())
                .body(Body::text("for user1"))
                .without_response()
                .in_mailbox("user2@example.com".parse().unwrap()),
        ] {
            let xml = String::from_utf8(op.encode(&ctx).unwrap().into_body().to_vec()).unwrap();
            assert!(!xml.contains("ReceivedBy"), "{xml}");
            assert!(!xml.contains("ReceivedRepresenting"), "{xml}");
        }
    }
}

fn create_answer(code: &str) -> http::Response<Bytes> {
    http::Response::new(Bytes::from(format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:CreateItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseMessages><m:CreateItemResponseMessage ResponseClass="Error"><m:MessageText>refused</m:MessageText><m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/></m:CreateItemResponseMessage></m:ResponseMessages></m:CreateItemResponse></s:Body></s:Envelope>"#
    )))
}

#[test]
fn calendar_refusals_are_typed() {
    for (wire, code) in [
        (
            "ErrorCalendarIsNotOrganizer",
            ResponseCode::ErrorCalendarIsNotOrganizer,
        ),
        (
            "ErrorCalendarIsCancelledForRemove",
            ResponseCode::ErrorCalendarIsCancelledForRemove,
        ),
    ] {
        let reply = CancelMeeting::decode_answer(&create_answer(wire)).unwrap();
        let status = reply.body[0].as_result().unwrap_err();
        assert_eq!(status.code, code);
        assert_eq!(status.code.as_str(), wire);
    }
    for (wire, code) in [
        (
            "ErrorCalendarIsDelegatedForAccept",
            ResponseCode::ErrorCalendarIsDelegatedForAccept,
        ),
        (
            "ErrorCalendarIsDelegatedForDecline",
            ResponseCode::ErrorCalendarIsDelegatedForDecline,
        ),
        (
            "ErrorCalendarIsDelegatedForTentative",
            ResponseCode::ErrorCalendarIsDelegatedForTentative,
        ),
        (
            "ErrorCalendarIsDelegatedForRemove",
            ResponseCode::ErrorCalendarIsDelegatedForRemove,
        ),
        (
            "ErrorCalendarMeetingRequestIsOutOfDate",
            ResponseCode::ErrorCalendarMeetingRequestIsOutOfDate,
        ),
        (
            "ErrorIrresolvableConflict",
            ResponseCode::ErrorIrresolvableConflict,
        ),
    ] {
        let reply = RespondToMeeting::decode_answer(&create_answer(wire)).unwrap();
        let status = reply.body[0].as_result().unwrap_err();
        assert_eq!(status.code, code);
        assert_eq!(status.code.as_str(), wire);
    }
}
