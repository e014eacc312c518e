//! The outer status of a delegate answer is never lost: an outer Error is the call's
//! error whatever per-user messages came with it; an outer Warning is readable. Answers
//! written by hand.

#![allow(clippy::unwrap_used)] // a test: a panic is the failure report

use bytes::Bytes;
use ews_proto::{
    AddDelegate, DelegateUser, GetDelegate, Operation, RemoveDelegate, ResponseClass, ResponseCode,
    ServerError, UserId,
};

fn answer(op: &str, class: &str, code: &str, inner: &str) -> http::Response<Bytes> {
    let body = format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:{op}Response ResponseClass="{class}"
    xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
    xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <m:MessageText>outer text</m:MessageText>
  <m:ResponseCode>{code}</m:ResponseCode>
  <m:ResponseMessages>
    <m:DelegateUserResponseMessageType ResponseClass="{inner}">
      <m:ResponseCode>NoError</m:ResponseCode>
    </m:DelegateUserResponseMessageType>
  </m:ResponseMessages>
</m:{op}Response></s:Body></s:Envelope>"#
    );
    http::Response::new(Bytes::from(body))
}

fn add() -> AddDelegate {
    AddDelegate::new(
        "user1@example.com".parse().unwrap(),
        DelegateUser::new(UserId::smtp("user2@example.com".parse().unwrap())),
    )
}

#[test]
fn an_outer_error_with_per_user_successes_is_an_error() {
    let e = add()
        .decode(&answer(
            "AddDelegate",
            "Error",
            "ErrorAccessDenied",
            "Success",
        ))
        .unwrap_err();
    match e {
        ServerError::Response(status) => {
            assert_eq!(status.code, ResponseCode::ErrorAccessDenied);
            assert_eq!(status.text.as_deref(), Some("outer text"));
        }
        other => panic!("expected the outer error, got {other:?}"),
    }
    let remove = RemoveDelegate::new(
        "user1@example.com".parse().unwrap(),
        UserId::smtp("user2@example.com".parse().unwrap()),
    );
    let e = remove.decode(&answer(
        "RemoveDelegate",
        "Error",
        "ErrorAccessDenied",
        "Success",
    ));
    assert!(matches!(e, Err(ServerError::Response(_))), "{e:?}");
    let get = GetDelegate::new("user1@example.com".parse().unwrap());
    let e = get.decode(&answer(
        "GetDelegate",
        "Error",
        "ErrorAccessDenied",
        "Success",
    ));
    assert!(matches!(e, Err(ServerError::Response(_))), "{e:?}");
}

#[test]
fn an_outer_warning_is_readable_with_the_messages() {
    let reply = add()
        .decode(&answer(
            "AddDelegate",
            "Warning",
            "ErrorBatchProcessingStopped",
            "Success",
        ))
        .unwrap();
    assert_eq!(reply.body.status.class, ResponseClass::Warning);
    assert_eq!(
        reply.body.status.code,
        ResponseCode::ErrorBatchProcessingStopped
    );
    assert_eq!(reply.body.len(), 1);
    assert!(!reply.body[0].is_error());

    let get = GetDelegate::new("user1@example.com".parse().unwrap());
    let reply = get
        .decode(&answer("GetDelegate", "Success", "NoError", "Success"))
        .unwrap();
    assert_eq!(reply.body.status.class, ResponseClass::Success);
}

#[test]
fn create_item_names_the_kind_of_each_created_item() {
    let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
<m:CreateItemResponse xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
    xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
  <m:ResponseMessages>
    <m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
      <m:Items><t:MeetingRequest><t:ItemId Id="AAA=" ChangeKey="CK1"/></t:MeetingRequest></m:Items>
    </m:CreateItemResponseMessage>
    <m:CreateItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>
      <m:Items><t:Contact><t:ItemId Id="BBB=" ChangeKey="CK2"/></t:Contact></m:Items>
    </m:CreateItemResponseMessage>
  </m:ResponseMessages>
</m:CreateItemResponse></s:Body></s:Envelope>"#;
    let start = "2025-06-02T10:00:00Z".parse().unwrap();
    let op = ews_proto::CreateItem::on_behalf_of(
        "user1@example.com".parse().unwrap(),
        ews_proto::NewCalendarItem::new("x", start, start).expect("start is not after end"),
    );
    let reply = op
        .decode(&http::Response::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let kinds: Vec<String> = reply
        .body
        .iter()
        .map(|m| m.value.as_ref().unwrap().kind.to_string())
        .collect();
    assert_eq!(kinds, ["MeetingRequest", "Contact"]);
    let first = reply.body[0].value.as_ref().unwrap();
    assert_eq!(first.kind, ews_proto::ItemKind::MeetingRequest);
    assert_eq!(first.id.change_key(), Some("CK1"));
    assert!(matches!(
        reply.body[1].value.as_ref().unwrap().kind,
        ews_proto::ItemKind::Other(_)
    ));
}
