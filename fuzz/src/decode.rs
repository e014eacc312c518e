//! Decoding checks shared by the fuzz targets and by the corpus replay test
//! (`ews-proto/tests/fuzz_corpus.rs` includes this file). Each function panics when an
//! invariant breaks; "returns an error" is always fine, a panic never is.

use std::fmt::Debug;

use bytes::Bytes;
use ews_proto::error::Limit;
use ews_proto::{Limits, Operation, ServerError, VersionName};

/// One operation of each kind, built the way a client builds them.
pub mod ops {
    use ews_proto::*;

    fn addr() -> EmailAddress {
        "user1@example.com".parse().expect("valid address")
    }
    fn user() -> UserId {
        UserId::smtp("user2@example.com".parse().expect("valid address"))
    }
    fn id() -> ItemId {
        ItemId::new("AAMkAD1=", None).expect("valid id")
    }
    /// An AddDelegate.
    pub fn add_delegate() -> AddDelegate {
        AddDelegate::new(addr(), DelegateUser::new(user()))
    }
    /// A GetDelegate.
    pub fn get_delegate() -> GetDelegate {
        GetDelegate::new(addr()).include_permissions(true)
    }
    /// An UpdateDelegate.
    pub fn update_delegate() -> UpdateDelegate {
        UpdateDelegate::new(addr(), DelegateUser::new(user()))
    }
    /// A RemoveDelegate.
    pub fn remove_delegate() -> RemoveDelegate {
        RemoveDelegate::new(addr(), user())
    }
    /// A CreateItem.
    pub fn create_item() -> CreateItem {
        let start: jiff::Timestamp = "2025-06-02T10:00:00Z".parse().expect("timestamp");
        CreateItem::on_behalf_of(
            addr(),
            NewCalendarItem::new("s", start, start).expect("start is not after end"),
        )
    }
    /// A GetItem.
    pub fn get_item() -> GetItem {
        GetItem::new(id())
    }
    /// A DeleteItem.
    pub fn delete_item() -> DeleteItem {
        DeleteItem::new(id(), DeleteType::HardDelete)
    }
    /// A FindItem.
    pub fn find_item() -> FindItem {
        FindItem::new(FolderId::of(DistinguishedFolder::Calendar, addr()))
    }
    /// An UpdateItem (one item, one change).
    pub fn update_item() -> UpdateItem {
        let id = ItemId::new("AAMkAD1=", Some("DwAAAB".into())).expect("valid id");
        UpdateItem::new(
            ItemChange::new(id, [CalendarChange::location("Room 2")]).expect("valid change"),
            SendMeetingInvitationsOrCancellations::SendToAllAndSaveCopy,
            ConflictResolution::AutoResolve,
        )
    }
    /// A CancelMeeting (a CreateItem of CancelCalendarItem).
    pub fn cancel_meeting() -> CancelMeeting {
        CancelMeeting::new(id()).note(Body::text("cancelled"))
    }
    /// A RespondToMeeting (a CreateItem of AcceptItem).
    pub fn respond_to_meeting() -> RespondToMeeting {
        RespondToMeeting::new(MeetingAnswer::Accept, id())
    }
}

/// An HTTP answer with `status` and `body`.
pub fn response(status: u16, body: Bytes) -> http::Response<Bytes> {
    let mut r = http::Response::new(body);
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    r
}

/// Renders a result the way a caller would log it (Debug, and Display of the error), so
/// that formatting code (excerpts, truncation) is exercised too.
fn render<T: Debug>(result: &Result<T, ServerError>) {
    let _ = format!("{result:?}");
    if let Err(e) = result {
        let _ = e.to_string();
        let _ = ews_proto::Error::from(e.clone()).back_off();
    }
}

/// Decodes `body` as a 200 answer to `op` with the default limits and with tight ones.
///
/// Invariants: no panic; whatever decodes under tight limits decodes identically under
/// the default ones (limits only ever take answers away); a body one byte over
/// `max_body_bytes` is refused as `BodySize` before it is parsed.
pub fn decode_body<O>(op: &O, data: &[u8])
where
    O: Operation,
    O::Output: Debug + PartialEq,
{
    let resp = response(200, Bytes::copy_from_slice(data));
    let full = op.decode(&resp);
    render(&full);

    let tight = Limits::default().max_depth(12).max_items(4);
    let small = op.decode_with(&resp, &tight);
    render(&small);
    if let Ok(small) = &small {
        assert_eq!(
            full.as_ref().ok(),
            Some(small),
            "tight limits accepted what the default ones refused"
        );
    }
    if let Err(ServerError::LimitExceeded { limit, max }) = &small {
        match limit {
            Limit::Depth => assert_eq!(*max, 12),
            Limit::Items => assert_eq!(*max, 4),
            Limit::BodySize => panic!("body size limit hit under {tight:?}"),
            _ => {}
        }
    }
    if !data.is_empty() {
        let limits = Limits::default().max_body_bytes(data.len() - 1);
        assert!(matches!(
            op.decode_with(&resp, &limits),
            Err(ServerError::LimitExceeded {
                limit: Limit::BodySize,
                ..
            })
        ));
    }
}

/// GetItem's answer: [`decode_body`], then every item read goes through
/// [`write_back`].
pub fn decode_get_item(data: &[u8]) {
    let op = ops::get_item();
    decode_body(&op, data);
    if let Ok(reply) = op.decode(&response(200, Bytes::copy_from_slice(data))) {
        for m in &reply.body {
            if let Some(item) = &m.value {
                write_back(item);
            }
        }
    }
}

/// FindItem's answer: [`decode_body`], then every item read goes through [`write_back`].
pub fn decode_find_item(data: &[u8]) {
    let op = ops::find_item();
    decode_body(&op, data);
    if let Ok(reply) = op.decode(&response(200, Bytes::copy_from_slice(data))) {
        for m in &reply.body {
            for item in m.value.iter().flat_map(|page| &page.items) {
                write_back(item);
            }
        }
    }
}

/// A series read back is one the builder could have made: it writes back (as an UpdateItem
/// of the item's recurrence) without a usage error, and its `t:Recurrence` holds the
/// pattern's and the range's element.
pub fn write_back(item: &ews_proto::Item) {
    use ews_proto::*;
    let recurrence = match item {
        Item::Calendar(c) => c.recurrence.as_ref(),
        Item::Message(m) => m.recurrence.as_ref(),
        _ => None,
    };
    let Some(series) = recurrence.and_then(ReportedRecurrence::to_recurrence) else {
        return;
    };
    let id = ItemId::new("AAMkAD1=", Some("DwAAAB".into())).expect("valid id");
    let op = UpdateItem::new(
        ItemChange::new(id, [CalendarChange::recurrence(series.clone())]).expect("one change"),
        SendMeetingInvitationsOrCancellations::SendToNone,
        ConflictResolution::NeverOverwrite,
    );
    let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").expect("endpoint");
    let request = op
        .encode(&ctx)
        .unwrap_or_else(|e| panic!("{series:?} read back but does not write: {e}"));
    let xml = String::from_utf8_lossy(request.body());
    let pattern = match series.pattern().kind() {
        PatternKind::Daily => "DailyRecurrence",
        PatternKind::Weekly => "WeeklyRecurrence",
        PatternKind::AbsoluteMonthly => "AbsoluteMonthlyRecurrence",
        PatternKind::RelativeMonthly => "RelativeMonthlyRecurrence",
        PatternKind::AbsoluteYearly => "AbsoluteYearlyRecurrence",
        _ => "RelativeYearlyRecurrence",
    };
    let range = if series.range().is_no_end() {
        "NoEndRecurrence"
    } else if series.range().end_date().is_some() {
        "EndDateRecurrence"
    } else {
        "NumberedRecurrence"
    };
    assert!(
        xml.contains(&format!("<t:Recurrence><t:{pattern}>")),
        "{series:?}: {xml}"
    );
    assert!(xml.contains(&format!("<t:{range}>")), "{series:?}: {xml}");
}

/// Runs every operation's decoder over a 200 answer holding `data`.
pub fn decode_all(data: &[u8]) {
    decode_body(&ops::add_delegate(), data);
    decode_body(&ops::get_delegate(), data);
    decode_body(&ops::update_delegate(), data);
    decode_body(&ops::remove_delegate(), data);
    decode_body(&ops::create_item(), data);
    decode_get_item(data);
    decode_body(&ops::delete_item(), data);
    decode_find_item(data);
    decode_body(&ops::update_item(), data);
    decode_body(&ops::cancel_meeting(), data);
    decode_body(&ops::respond_to_meeting(), data);
}

/// The envelope, fault and HTTP-status reader: `data` is `[status hi, status lo, flags,
/// op, body...]`. The status (100..=599), some headers and the operation come from the
/// first bytes.
///
/// Invariants: no panic; 401, 403, 429 and 503 are typed from the status alone; a
/// non-2xx status never decodes to `Ok`; `Retry-After` is read as seconds.
pub fn decode_envelope(data: &[u8]) {
    let (head, body) = data.split_at(data.len().min(4));
    let mut head = head.to_vec();
    head.resize(4, 0);
    let status = 100 + u16::from_be_bytes([head[0], head[1]]) % 500;
    let flags = head[2];
    let mut resp = response(status, Bytes::copy_from_slice(body));
    let retry: Option<u64> = if flags & 1 != 0 {
        let value = u64::from(flags >> 3);
        let text = if flags & 4 != 0 {
            format!(" {value} ")
        } else {
            value.to_string()
        };
        resp.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_str(&text).expect("digits"),
        );
        Some(value)
    } else {
        None
    };
    if flags & 2 != 0 {
        resp.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Negotiate"),
        );
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/xml; charset=utf-8"),
        );
    }
    fn check<O: Operation>(op: &O, resp: &http::Response<Bytes>, status: u16, retry: Option<u64>)
    where
        O::Output: Debug,
    {
        let result = op.decode(resp);
        render(&result);
        match status {
            401 => assert!(
                matches!(result, Err(ServerError::Unauthorized { .. })),
                "{result:?}"
            ),
            403 => assert!(
                matches!(result, Err(ServerError::Forbidden { .. })),
                "{result:?}"
            ),
            429 | 503 => match &result {
                Err(ServerError::Throttled { retry_after, .. }) => {
                    assert_eq!(*retry_after, retry.map(std::time::Duration::from_secs));
                }
                other => panic!("{status}: {other:?}"),
            },
            200..=299 => {}
            _ => assert!(result.is_err(), "status {status} decoded: {result:?}"),
        }
    }
    match head[3] % 8 {
        0 => check(&ops::add_delegate(), &resp, status, retry),
        1 => check(&ops::get_delegate(), &resp, status, retry),
        2 => check(&ops::update_delegate(), &resp, status, retry),
        3 => check(&ops::remove_delegate(), &resp, status, retry),
        4 => check(&ops::create_item(), &resp, status, retry),
        5 => check(&ops::get_item(), &resp, status, retry),
        6 => check(&ops::delete_item(), &resp, status, retry),
        _ => check(&ops::find_item(), &resp, status, retry),
    }
}

const HEADER_START: &str = concat!(
    r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/""#,
    r#" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types""#,
    r#" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header>"#,
);
const HEADER_END: &str = concat!(
    r#"</s:Header><s:Body><m:GetDelegateResponse ResponseClass="Success">"#,
    r#"<m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse></s:Body></s:Envelope>"#,
);

/// Escapes `s` for a double-quoted attribute so that a conforming parser reads back
/// exactly `s` (tab, newline and CR as character references survive normalisation).
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// The `ServerVersionInfo` header reader, two ways.
///
/// `data[0]` even: the rest (as lossy UTF-8) is spliced into `soap:Header` of an
/// otherwise valid GetDelegate answer; no panic, and on success the body still decodes.
///
/// `data[0]` odd: the rest is split on `0xFF` into up to five attribute values
/// (MajorVersion, MinorVersion, MajorBuildNumber, MinorBuildNumber, Version), written
/// escaped; the decoder must read back exactly those values (numbers parsed after
/// trimming, anything else malformed), or refuse values XML cannot carry.
pub fn decode_server_version(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let op = ops::get_delegate();
    if mode % 2 == 0 {
        let header = String::from_utf8_lossy(rest);
        let doc = format!("{HEADER_START}{header}{HEADER_END}");
        let result = op.decode(&response(200, Bytes::from(doc)));
        render(&result);
        return;
    }
    let names = [
        "MajorVersion",
        "MinorVersion",
        "MajorBuildNumber",
        "MinorBuildNumber",
        "Version",
    ];
    let values: Vec<String> = rest
        .split(|&b| b == 0xFF)
        .take(names.len())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let mut tag = String::from("<t:ServerVersionInfo");
    for (name, value) in names.iter().zip(&values) {
        tag.push_str(&format!(" {name}=\"{}\"", escape_attr(value)));
    }
    tag.push_str(if mode & 2 != 0 {
        "/>"
    } else {
        "></t:ServerVersionInfo>"
    });
    let doc = format!("{HEADER_START}{tag}{HEADER_END}");
    let result = op.decode(&response(200, Bytes::from(doc)));
    render(&result);
    if values.iter().any(|v| !v.chars().all(xml_char)) {
        assert!(
            matches!(result, Err(ServerError::Malformed { .. })),
            "{values:?}: {result:?}"
        );
        return;
    }
    let numbers_ok = values
        .iter()
        .take(4)
        .all(|v| v.trim().parse::<i32>().is_ok());
    if !numbers_ok {
        assert!(
            matches!(result, Err(ServerError::Malformed { .. })),
            "{values:?}: {result:?}"
        );
        return;
    }
    let reply = match result {
        Ok(reply) => reply,
        Err(e) => panic!("{values:?}: {e:?}"),
    };
    let sv = reply.server_version.expect("ServerVersionInfo was sent");
    let num = |i: usize| {
        values
            .get(i)
            .map(|v| v.trim().parse::<i32>().expect("checked"))
    };
    assert_eq!(sv.major_version, num(0));
    assert_eq!(sv.minor_version, num(1));
    assert_eq!(sv.major_build_number, num(2));
    assert_eq!(sv.minor_build_number, num(3));
    match (values.get(4), &sv.version) {
        (None, None) => {}
        (Some(v), Some(VersionName::Known(k))) => assert_eq!(k.as_str(), v),
        (Some(v), Some(VersionName::Other(u))) => {
            assert_eq!(u.as_str(), v);
            assert!(v.parse::<ews_proto::ExchangeVersion>().is_err());
        }
        (v, got) => panic!("Version {v:?} read as {got:?}"),
    }
}
