//! Server text in errors is bounded and escaped: a hostile or broken server cannot flood a
//! log or forge a line in it through a fault string, a `MessageText`, a response code, an
//! element name, a header or a version name. Every answer here is decoded as a client
//! would decode it (`Operation::decode` of a `GetDelegate`), and the stored values are
//! checked to stay whole.

use bytes::Bytes;
use ews_proto::*;

/// What any error message may take, whatever the server sent.
const MAX_SHOWN: usize = 4096;

/// A forged log line, with the CR LF that would start it (a raw `\r\n` and a `&#13;` that
/// survives XML end-of-line handling), repeated to a bit over 1 MiB.
fn forged_text() -> String {
    let line = "line\r\n2026-12-01T00:00:00Z ERROR forged line&#13;\nERROR forged line\n";
    line.repeat((1 << 20) / line.len() + 1)
}

/// `forged_text` as decoded: XML end-of-line handling makes the raw CR LF a LF, and
/// `&#13;` is a carriage return.
fn forged_decoded() -> String {
    forged_text().replace("\r\n", "\n").replace("&#13;", "\r")
}

fn op() -> GetDelegate {
    GetDelegate::new("a@b.example".parse().expect("valid address"))
}

fn answer(status: u16, content_type: &str, body: impl Into<Bytes>) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .expect("valid response")
}

fn decode_err(response: &http::Response<Bytes>) -> ServerError {
    match op().decode(response) {
        Ok(reply) => panic!("decoded: {reply:?}"),
        Err(e) => e,
    }
}

/// The checks every error message must pass: short, no raw line breaks or other control
/// characters, the cut noted with the full length of what was cut.
#[track_caller]
fn assert_bounded(shown: &str, full_len: usize) {
    assert!(
        shown.len() <= MAX_SHOWN,
        "{} bytes: {}…",
        shown.len(),
        shown.chars().take(200).collect::<String>()
    );
    assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
    assert!(
        !shown
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
        "{shown}"
    );
    let note = format!("… ({full_len} bytes in all)");
    assert!(shown.contains(&note), "no {note:?} in {shown}");
}

const SOAP_START: &str = r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>"#;
const SOAP_END: &str = "</s:Body></s:Envelope>";

#[test]
fn a_huge_fault_string_is_bounded_in_the_error_and_whole_in_the_fault() {
    let body = format!(
        r#"{SOAP_START}<s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">a:ErrorInternalServerError</faultcode><faultstring xml:lang="en-US">{}</faultstring></s:Fault>{SOAP_END}"#,
        forged_text()
    );
    let err = decode_err(&answer(500, "text/xml; charset=utf-8", body));
    let shown = err.to_string();
    let full = forged_decoded();
    assert_bounded(&shown, full.len());
    assert!(
        shown.starts_with("SOAP fault: ErrorInternalServerError: line\\n2026-12-01T00:00:00Z ERROR forged line\\r\\nERROR forged line\\nline"),
        "{shown}"
    );
    assert!(
        format!("{err:?}").len() <= MAX_SHOWN,
        "Debug is bounded too"
    );
    let ServerError::Fault(fault) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(fault.fault_string, full, "the stored faultstring is whole");
    assert_eq!(fault.code(), ResponseCode::ErrorInternalServerError);
}

#[test]
fn every_piece_of_a_fault_is_bounded() {
    let code = format!("a:ErrorForged&#10;ERROR forged{}", "C".repeat(100_000));
    let body = format!(
        r#"{SOAP_START}<s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">{code}</faultcode><faultstring>{text}</faultstring><detail><e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">{text}</e:Message><t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><t:LineNumber>1</t:LineNumber><t:LinePosition>2</t:LinePosition><t:Violation>{text}</t:Violation></t:MessageXml></detail></s:Fault>{SOAP_END}"#,
        text = forged_text()
    );
    let err = decode_err(&answer(500, "text/xml; charset=utf-8", body));
    let shown = err.to_string();
    let full = forged_decoded();
    assert_bounded(&shown, full.len());
    // MessageXml values are trimmed.
    assert_bounded(&shown, full.trim().len());
    // The code, the message and the violation: three notes.
    assert_eq!(shown.matches(" bytes in all)").count(), 3, "{shown}");
    assert!(shown.contains("ErrorForged\\nERROR forgedCCC"), "{shown}");
    assert!(shown.contains(" (line 1, position 2) ["), "{shown}");
    assert!(
        format!("{err:?}").len() <= 2 * MAX_SHOWN,
        "Debug is bounded too"
    );
    let ServerError::Fault(fault) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(fault.message.as_deref(), Some(full.as_str()));
    assert_eq!(fault.violation.as_deref(), Some(full.trim()));
}

#[test]
fn a_huge_message_text_and_code_of_a_top_level_error_are_bounded() {
    let code = format!("ErrorForged\nERROR forged{}", "C".repeat(100_000));
    let body = format!(
        r#"{SOAP_START}<m:GetDelegateResponse ResponseClass="Error" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:MessageText>{}</m:MessageText><m:ResponseCode>{code}</m:ResponseCode></m:GetDelegateResponse>{SOAP_END}"#,
        forged_text()
    );
    let err = decode_err(&answer(200, "text/xml; charset=utf-8", body));
    let shown = err.to_string();
    let full = forged_decoded();
    assert_bounded(&shown, full.len());
    assert_bounded(&shown, code.len());
    assert!(
        shown.starts_with("the server refused the request: ErrorForged\\nERROR forgedCCC"),
        "{shown}"
    );
    assert!(
        format!("{err:?}").len() <= 2 * MAX_SHOWN,
        "Debug is bounded too"
    );
    let ServerError::Response(status) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(status.text.as_deref(), Some(full.as_str()));
    assert_eq!(status.code.as_str(), code);
}

#[test]
fn a_huge_element_name_in_a_malformed_answer_is_bounded() {
    let name = "N".repeat(10 << 20);
    // An unexpected root element.
    let err = decode_err(&answer(
        200,
        "text/xml; charset=utf-8",
        format!("<{name}/>"),
    ));
    let reason = format!("expected a SOAP Envelope, found {name}");
    assert_bounded(&err.to_string(), reason.len());
    assert!(
        err.to_string().starts_with(
            "malformed answer at byte 0 (not SOAP): expected a SOAP Envelope, found NNN"
        ),
        "{err}"
    );
    assert!(
        format!("{err:?}").len() <= MAX_SHOWN,
        "Debug is bounded too"
    );
    // An unexpected body element.
    let err = decode_err(&answer(
        200,
        "text/xml; charset=utf-8",
        format!(
            r#"{SOAP_START}<m:{name} xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"/>{SOAP_END}"#
        ),
    ));
    let reason = format!("expected m:GetDelegateResponse, found {name}");
    assert_bounded(&err.to_string(), reason.len());
}

#[test]
fn a_huge_challenge_of_a_401_is_bounded() {
    // A header value cannot hold CR or LF; it can hold a tab and, as bytes, U+2028.
    let challenge = format!("Basic realm=\"{}\"", "r\t\u{2028}".repeat(200_000));
    let response = http::Response::builder()
        .status(401)
        .header("www-authenticate", "Negotiate")
        .header("www-authenticate", challenge.as_bytes())
        .body(Bytes::from_static(b"401 - Unauthorized"))
        .expect("valid response");
    let err = decode_err(&response);
    let shown = err.to_string();
    assert_bounded(&shown, "Negotiate, ".len() + challenge.len());
    assert!(!shown.contains('\t'), "{shown}");
    assert!(
        shown
            .starts_with("HTTP 401 Unauthorized (offered: Negotiate, Basic realm=\"r\\t\\u{2028}r"),
        "{shown}"
    );
    let ServerError::Unauthorized { challenges, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(challenges[1], challenge, "the stored challenge is whole");
}

#[test]
fn a_huge_content_type_of_a_non_xml_answer_is_bounded() {
    let content_type = format!("text/html;\tx={}", "\u{2028}y".repeat(100_000));
    let err = decode_err(&answer(
        200,
        &content_type,
        format!("Hello\r\nERROR forged\r\n{}", "z".repeat(100_000)),
    ));
    let shown = err.to_string();
    assert_bounded(&shown, content_type.len());
    // The body excerpt, too, is escaped and says how long the body was.
    assert_bounded(&shown, 100_000 + 21);
    assert!(
        shown.contains("): Hello\\r\\nERROR forged\\r\\nzzz"),
        "{shown}"
    );
    let ServerError::Malformed(m) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(m.kind(), ews_proto::error::MalformedKind::NotXml);
    // The header's share is cut at 128 bytes, so that the excerpt still fits.
    assert!(m.detail().contains("x=\\u{2028}y"), "{m}");
}

#[test]
fn a_huge_version_name_is_bounded() {
    let version = format!("V2_47&#10;ERROR forged{}", "V".repeat(1 << 20));
    let body = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><t:ServerVersionInfo xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" Version="{version}"/></s:Header><s:Body><m:GetDelegateResponse ResponseClass="Success" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse>{SOAP_END}"#
    );
    let reply = op()
        .decode(&answer(200, "text/xml; charset=utf-8", body))
        .expect("a valid answer");
    let info = reply.server_version.expect("the header was sent");
    let shown = info.to_string();
    let full = version.replace("&#10;", "\n");
    assert_bounded(&shown, full.len());
    assert!(
        shown.starts_with("15.1.2507.6 (V2_47\\nERROR forgedVVV"),
        "{shown}"
    );
    assert!(
        format!("{info:?}").len() <= MAX_SHOWN,
        "Debug is bounded too"
    );
    let Some(VersionName::Other(name)) = &info.version else {
        panic!("{info:?}")
    };
    assert_eq!(name.as_str(), full, "the stored name is whole");
}
