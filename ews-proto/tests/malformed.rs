//! Answers that cannot be read, each written here by hand, and the kind of
//! `ServerError::Malformed` each one is; the one rule for bodies that are not a SOAP answer
//! at every HTTP status; and `MessageXml`, which keeps named values and other elements
//! apart.
//!
//! Every expected kind, offset, excerpt and value below is read off the hand-written bytes
//! (an offset is where a marker sits in the input), never off the decoder's own output.

use std::time::Duration;

use bytes::Bytes;
use ews_proto::error::{Excerpt, Limit, MalformedKind, MessageXml};
use ews_proto::wire::XmlNs;
use ews_proto::{GetDelegate, Limits, Operation, ServerError};

const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const MESSAGES: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
const TYPES: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

fn op() -> GetDelegate {
    GetDelegate::new("kim@contoso.com".parse().expect("valid address"))
}

fn answer(status: u16, body: impl Into<Bytes>) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/xml; charset=utf-8")
        .body(body.into())
        .expect("valid response")
}

/// `inner` inside the envelope and body.
fn envelope(inner: &str) -> String {
    format!(r#"<s:Envelope xmlns:s="{SOAP}"><s:Body>{inner}</s:Body></s:Envelope>"#)
}

/// A GetDelegate answer with `inner` after its top-level response code.
fn get_delegate(class: &str, inner: &str) -> String {
    envelope(&format!(
        r#"<m:GetDelegateResponse ResponseClass="{class}" xmlns:m="{MESSAGES}" xmlns:t="{TYPES}"><m:ResponseCode>NoError</m:ResponseCode>{inner}</m:GetDelegateResponse>"#
    ))
}

/// One delegate whose `DelegateUser` holds `inner`.
fn one_delegate(inner: &str) -> String {
    get_delegate(
        "Success",
        &format!(
            r#"<m:ResponseMessages><m:DelegateUserResponseMessageType ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:DelegateUser>{inner}</m:DelegateUser></m:DelegateUserResponseMessageType></m:ResponseMessages>"#
        ),
    )
}

const USER: &str =
    "<t:UserId><t:PrimarySmtpAddress>lee@contoso.com</t:PrimarySmtpAddress></t:UserId>";

/// The `Malformed` a 200 answer with `body` decodes to.
fn malformed(body: impl Into<Bytes>) -> ews_proto::error::Malformed {
    let body = body.into();
    match op().decode(&answer(200, body.clone())) {
        Err(ServerError::Malformed(m)) => m,
        other => panic!("{}: {other:?}", String::from_utf8_lossy(&body)),
    }
}

/// `body` is malformed of `kind`, noticed at byte `at`.
fn assert_kind_at(body: &str, kind: MalformedKind, at: usize) {
    let m = malformed(body.to_owned());
    assert_eq!((m.kind(), m.offset()), (kind, at as u64), "{body}\n{m}");
}

/// `body` is malformed of `kind`, noticed between bytes `from` and `to` (the fast and the
/// general path of the reader may notice a bad character at its element or at itself).
fn assert_kind_within(body: &str, kind: MalformedKind, from: usize, to: usize) {
    let m = malformed(body.to_owned());
    assert_eq!(m.kind(), kind, "{body}\n{m}");
    assert!(
        (from as u64..=to as u64).contains(&m.offset()),
        "{body}\n{m}: not in {from}..={to}"
    );
}

/// Where `marker` starts in `body`.
fn at(body: &str, marker: &str) -> usize {
    body.find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {body}"))
}

#[test]
fn the_answer_these_tests_break_is_valid() {
    // Guard: the templates themselves decode, so each failure below is the one change.
    let reply = op()
        .decode(&answer(200, one_delegate(USER)))
        .expect("a valid answer");
    let _ = reply;
    op().decode(&answer(200, get_delegate("Success", "")))
        .expect("a valid answer");
}

#[test]
fn truncated() {
    let full = one_delegate(USER);
    // Cut after a start tag, inside text, inside a tag, an attribute value, an end tag.
    for marker in [
        "<m:ResponseMessages>",
        "lee@con",
        "<t:UserI",
        "ResponseClass=\"Succ",
    ] {
        let cut = &full[..at(&full, marker) + marker.len()];
        let m = malformed(cut.to_owned());
        assert_eq!(m.kind(), MalformedKind::Truncated, "{cut}\n{m}");
    }
    // Where: at the end for an open element, at the `<` of a cut tag.
    let cut = &full[..at(&full, "<m:ResponseMessages>") + "<m:ResponseMessages>".len()];
    assert_kind_at(cut, MalformedKind::Truncated, cut.len());
    let cut = &full[..at(&full, "<t:UserId>") + "<t:User".len()];
    assert_kind_at(cut, MalformedKind::Truncated, at(&full, "<t:UserId>"));
    // A reference, a comment, a CDATA section, a `<!` cut short.
    let head = &full[..at(&full, "lee@")];
    for tail in ["&am", "<!-- a comment", "<![CDATA[x", "<!", "<!-", "<![CD"] {
        let cut = format!("{head}{tail}");
        let m = malformed(cut.clone());
        assert_eq!(m.kind(), MalformedKind::Truncated, "{cut}\n{m}");
    }
    // No element at all: just the declaration.
    let decl = r#"<?xml version="1.0" encoding="utf-8"?>"#;
    assert_kind_at(decl, MalformedKind::Truncated, decl.len());
}

#[test]
fn every_cut_of_a_valid_answer_is_truncated() {
    let full = format!(
        "<?xml version=\"1.0\"?>\n{}\n",
        one_delegate(&format!(
            "{USER}<!-- x --><t:ReceiveCopiesOfMeetingMessages>true</t:ReceiveCopiesOfMeetingMessages><t:ViewPrivateItems><![CDATA[false]]></t:ViewPrivateItems>"
        ))
    )
    .replace("lee@contoso.com", "lee&#64;contoso&amp;co.com");
    op().decode(&answer(200, full.clone()))
        .expect("whole, it is valid");
    let last = full.trim_end().len();
    for cut in 1..last {
        let m = malformed(full[..cut].to_owned());
        assert_eq!(
            m.kind(),
            MalformedKind::Truncated,
            "cut at {cut}: {}\n{m}",
            &full[..cut]
        );
    }
}

#[test]
fn not_xml() {
    let cases: [(&[u8], &str); 6] = [
        (
            b"<!DOCTYPE html><html><body>Sign in</body></html>",
            "an HTML page",
        ),
        (b"  <HTML><body>Sign in</body></HTML>", "an HTML page"),
        (b"Service temporarily down", "does not start with markup"),
        (b"{\"error\": \"nope\"}", "does not start with markup"),
        (b" \r\n ", "is empty"),
        (b"<s:Envelope>\xff\xfe</s:Envelope>", "not UTF-8"),
    ];
    for (body, why) in cases {
        let m = malformed(Bytes::from_static(body));
        assert_eq!((m.kind(), m.offset()), (MalformedKind::NotXml, 0), "{m}");
        assert!(m.detail().contains(why), "{m}");
        assert!(
            m.detail()
                .contains("Content-Type \"text/xml; charset=utf-8\""),
            "{m}"
        );
    }
    // The detail quotes the start of the body, escaped.
    let m = malformed(Bytes::from_static(b"<html>\r\n<h1>Sign in</h1>"));
    assert!(
        m.detail().ends_with("): <html>\\r\\n<h1>Sign in</h1>"),
        "{m}"
    );
    // Without a Content-Type, the detail says so.
    let bare = http::Response::builder()
        .status(200)
        .body(Bytes::from_static(b"plain"))
        .expect("valid response");
    let Err(ServerError::Malformed(m)) = op().decode(&bare) else {
        panic!()
    };
    assert_eq!(
        m.to_string(),
        "malformed answer at byte 0 (not XML): the body does not start with markup (Content-Type none): plain"
    );
}

#[test]
fn doctype_refused() {
    let decl = r#"<?xml version="1.0"?>"#;
    let body = format!(
        r#"{decl}<!DOCTYPE s:Envelope [<!ENTITY x "y">]>{}"#,
        get_delegate("Success", "")
    );
    assert_kind_at(&body, MalformedKind::DoctypeRefused, decl.len());
    // Cut, or without a name: refused all the same.
    assert_kind_within(
        &format!("{decl}<!DOCTYPE s:Envelope [<!ENTITY x"),
        MalformedKind::DoctypeRefused,
        decl.len(),
        usize::MAX,
    );
    assert_kind_within(
        &format!("{decl}<!DOCTYPE>{}", get_delegate("Success", "")),
        MalformedKind::DoctypeRefused,
        decl.len(),
        usize::MAX,
    );
    // Inside the envelope too.
    let body = get_delegate("Success", "<!DOCTYPE x>");
    assert_kind_at(&body, MalformedKind::DoctypeRefused, at(&body, "<!DOCTYPE"));
}

#[test]
fn forbidden_character() {
    let name = |text: &str| {
        one_delegate(&format!(
            "<t:UserId><t:DisplayName>{text}</t:DisplayName></t:UserId>"
        ))
    };
    // Raw, as a reference, in a leaf and in text beside a child, in an attribute.
    for text in [
        "bell\u{7}",
        "bell&#7;",
        "bell&#x0;",
        "x\u{FFFE}",
        "&#xFFFF;",
    ] {
        let body = name(text);
        let from = at(&body, "<t:DisplayName>");
        let to = from + "<t:DisplayName>".len() + text.len();
        assert_kind_within(&body, MalformedKind::ForbiddenCharacter, from, to);
    }
    let body = name("a<!-- c -->\u{1}");
    let from = at(&body, "<t:DisplayName>");
    assert_kind_within(&body, MalformedKind::ForbiddenCharacter, from, body.len());
    for value in ["Succ&#1;ess", "Succ&#0;ess", "Succ\u{1}ess"] {
        let body = get_delegate(value, "");
        let element = at(&body, "<m:GetDelegateResponse");
        assert_kind_at(&body, MalformedKind::ForbiddenCharacter, element);
    }
}

#[test]
fn bad_reference() {
    for reference in [
        "&nbsp;",
        "&#xZZ;",
        "&#x110000;",
        "&#xD800;",
        "&#-1;",
        "& ;",
        "&amp",
    ] {
        let body = one_delegate(&format!(
            "<t:UserId><t:DisplayName>Kim {reference}</t:DisplayName></t:UserId>"
        ));
        assert_kind_at(&body, MalformedKind::BadReference, at(&body, reference));
    }
    // The same in a text that quick-xml reads (a comment beside it).
    let body =
        one_delegate("<t:UserId><t:DisplayName><!-- c -->Kim &nbsp;</t:DisplayName></t:UserId>");
    assert_kind_at(&body, MalformedKind::BadReference, at(&body, "&nbsp;"));
    // In an attribute.
    let body = get_delegate("&bogus;", "");
    assert_kind_at(
        &body,
        MalformedKind::BadReference,
        at(&body, "<m:GetDelegateResponse"),
    );
}

#[test]
fn namespace() {
    // An undeclared prefix on an element quick-xml reads, and on a leaf.
    let body = envelope(r#"<q:GetDelegateResponse ResponseClass="Success"/>"#);
    assert_kind_at(&body, MalformedKind::Namespace, at(&body, "<q:"));
    let body = one_delegate("<t:UserId><z:DisplayName>Kim</z:DisplayName></t:UserId>");
    assert_kind_at(&body, MalformedKind::Namespace, at(&body, "<z:"));
    // A binding Namespaces in XML forbids.
    let body = envelope(r#"<m:X xmlns:xmlns="urn:x"/>"#);
    assert_kind_within(&body, MalformedKind::Namespace, 0, body.len());
}

#[test]
fn not_well_formed() {
    // A wrong end tag.
    let body = get_delegate("Success", "<m:MessageText>x</m:ResponseCode>");
    assert_kind_within(
        &body,
        MalformedKind::NotWellFormed,
        at(&body, "<m:MessageText>"),
        body.len(),
    );
    // A second root element.
    let first = get_delegate("Success", "");
    let body = format!("{first}<s:Envelope xmlns:s=\"{SOAP}\"/>");
    assert_kind_at(&body, MalformedKind::NotWellFormed, first.len());
    // An attribute without quotes, in a start tag that is read.
    let body = envelope(&format!(
        r#"<m:GetDelegateResponse xmlns:m="{MESSAGES}" ResponseClass=Success/>"#
    ));
    assert_kind_within(&body, MalformedKind::NotWellFormed, 0, body.len());
    // `<!` that opens nothing XML knows.
    let body = get_delegate("Success", "<!ELEMENT x>");
    assert_kind_within(&body, MalformedKind::NotWellFormed, 0, body.len());
}

#[test]
fn not_soap() {
    for root in [
        "<Envelope><Body/></Envelope>".to_owned(),
        r#"<s:Envelope xmlns:s="https://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>"#.to_owned(),
        format!(r#"<s:Body xmlns:s="{SOAP}"/>"#),
        "<error><code>42</code></error>".to_owned(),
    ] {
        assert_kind_at(&root, MalformedKind::NotSoap, 0);
    }
    // XHTML behind an XML declaration gets past the HTML sniffing: it is XML, not SOAP.
    let body = r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>"#;
    assert_kind_at(body, MalformedKind::NotSoap, at(body, "<html"));
}

#[test]
fn unexpected_element() {
    // The answer of another operation, and this one's in the wrong namespace.
    let other = envelope(&format!(
        r#"<m:AddDelegateResponse ResponseClass="Success" xmlns:m="{MESSAGES}"/>"#
    ));
    let wrong_ns = envelope(
        r#"<m:GetDelegateResponse ResponseClass="Success" xmlns:m="https://schemas.microsoft.com/exchange/services/2006/messages"/>"#,
    );
    for body in [other, wrong_ns] {
        assert_kind_at(&body, MalformedKind::UnexpectedElement, at(&body, "<m:"));
    }
}

#[test]
fn missing_element() {
    for body in [
        format!(r#"<s:Envelope xmlns:s="{SOAP}"><s:Header/></s:Envelope>"#),
        format!(r#"<s:Envelope xmlns:s="{SOAP}"><s:Body/></s:Envelope>"#),
        format!(r#"<s:Envelope xmlns:s="{SOAP}"/>"#),
    ] {
        assert_kind_at(&body, MalformedKind::MissingElement, 0);
    }
    // A delegate without its UserId.
    let body = one_delegate("<t:ViewPrivateItems>true</t:ViewPrivateItems>");
    assert_kind_at(
        &body,
        MalformedKind::MissingElement,
        at(&body, "<m:DelegateUser>"),
    );
}

#[test]
fn missing_attribute() {
    let body = envelope(&format!(
        r#"<m:GetDelegateResponse xmlns:m="{MESSAGES}"><m:ResponseCode>NoError</m:ResponseCode></m:GetDelegateResponse>"#
    ));
    assert_kind_at(&body, MalformedKind::MissingAttribute, at(&body, "<m:Get"));
}

#[test]
fn bad_value() {
    let body = get_delegate("Maybe", "");
    assert_kind_at(&body, MalformedKind::BadValue, at(&body, "<m:Get"));
    let body = one_delegate(&format!(
        "{USER}<t:ViewPrivateItems>perhaps</t:ViewPrivateItems>"
    ));
    assert_kind_at(
        &body,
        MalformedKind::BadValue,
        at(&body, "<t:ViewPrivateItems>"),
    );
    let m = malformed(body);
    assert!(m.detail().contains("\"perhaps\""), "{m}");
    let body = get_delegate(
        "Success",
        "<m:DescriptiveLinkKey>seven</m:DescriptiveLinkKey>",
    );
    assert_kind_at(
        &body,
        MalformedKind::BadValue,
        at(&body, "<m:DescriptiveLinkKey>"),
    );
}

#[test]
fn kinds_have_distinct_names_in_messages() {
    let all = [
        (MalformedKind::NotXml, "not XML"),
        (MalformedKind::Truncated, "truncated"),
        (MalformedKind::DoctypeRefused, "DOCTYPE refused"),
        (MalformedKind::ForbiddenCharacter, "forbidden character"),
        (MalformedKind::BadReference, "bad reference"),
        (MalformedKind::Namespace, "namespace error"),
        (MalformedKind::NotWellFormed, "not well-formed"),
        (MalformedKind::NotSoap, "not SOAP"),
        (MalformedKind::UnexpectedElement, "unexpected element"),
        (MalformedKind::MissingElement, "missing element"),
        (MalformedKind::MissingAttribute, "missing attribute"),
        (MalformedKind::BadValue, "invalid value"),
    ];
    for (kind, name) in all {
        assert_eq!(kind.to_string(), name);
    }
    // Server text in the detail is bounded and escaped; the kind stays.
    let name = format!("Evil{}", "N".repeat(100_000));
    let body = envelope(&format!("<m:{name} xmlns:m=\"{MESSAGES}\"/>"));
    let m = malformed(body);
    assert_eq!(m.kind(), MalformedKind::UnexpectedElement);
    assert!(
        m.detail().len() < 600 && m.detail().ends_with(" bytes in all)"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------
// The rule for bodies that are not a SOAP answer.

/// Bodies that carry no SOAP fault, from an HTML page to a whole valid answer.
fn not_a_fault() -> Vec<(&'static str, String)> {
    vec![
        (
            "html",
            "<html><body><h1>Proxy error</h1></body></html>".to_owned(),
        ),
        (
            "doctype html",
            "<!DOCTYPE html><html><body>Sign in</body></html>".to_owned(),
        ),
        ("text", "Bad request".to_owned()),
        ("empty", String::new()),
        ("xml, not soap", "<error><code>42</code></error>".to_owned()),
        (
            "cut envelope",
            format!(r#"<s:Envelope xmlns:s="{SOAP}"><s:Body>"#),
        ),
        ("valid answer", get_delegate("Success", "")),
    ]
}

fn fault() -> String {
    envelope(
        "<s:Fault><faultcode>a:ErrorSchemaValidation</faultcode><faultstring>bad request</faultstring></s:Fault>",
    )
}

#[test]
fn outside_2xx_a_body_that_is_not_a_fault_is_the_status_at_every_status() {
    for status in [400, 404, 500, 502, 504] {
        for (what, body) in not_a_fault() {
            match op().decode(&answer(status, body.clone())) {
                Err(e @ ServerError::Status { .. }) => {
                    let ServerError::Status { status: s, excerpt } = &e else {
                        unreachable!()
                    };
                    assert_eq!(s.as_u16(), status, "{what}");
                    assert_eq!(excerpt, &Excerpt::of(body.as_bytes()), "{what}");
                    assert_eq!(e.http_status().map(|s| s.as_u16()), Some(status));
                }
                other => panic!("{status} {what}: {other:?}"),
            }
        }
        // The excerpt is the start of the body, as sent.
        let Err(ServerError::Status { excerpt, .. }) =
            op().decode(&answer(status, "<html><body>Proxy error</body></html>"))
        else {
            panic!()
        };
        assert_eq!(excerpt.as_str(), "<html><body>Proxy error</body></html>");
        // A fault is a fault at any status.
        assert!(
            matches!(
                op().decode(&answer(status, fault())),
                Err(ServerError::Fault(_))
            ),
            "{status}"
        );
    }
}

#[test]
fn a_body_over_the_size_limit_outside_2xx_is_the_status() {
    let limits = Limits::default().max_body_bytes(16);
    let page = "<html><body>Internal error, with a long explanation</body></html>";
    match op().decode_with(&answer(500, page), &limits) {
        Err(ServerError::Status { status, .. }) => assert_eq!(status, 500),
        other => panic!("{other:?}"),
    }
    match op().decode_with(&answer(200, page), &limits) {
        Err(ServerError::LimitExceeded {
            limit: Limit::BodySize,
            max: 16,
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn throttling_and_auth_statuses_are_decided_by_the_status_alone() {
    for (what, body) in not_a_fault().into_iter().chain([("fault", fault())]) {
        for status in [429, 503] {
            match op().decode(&answer(status, body.clone())) {
                Err(e @ ServerError::Throttled { .. }) => {
                    assert_eq!(e.http_status().map(|s| s.as_u16()), Some(status))
                }
                other => panic!("{status} {what}: {other:?}"),
            }
        }
        assert!(
            matches!(
                op().decode(&answer(401, body.clone())),
                Err(ServerError::Unauthorized { .. })
            ),
            "{what}"
        );
        assert!(
            matches!(
                op().decode(&answer(403, body.clone())),
                Err(ServerError::Forbidden { .. })
            ),
            "{what}"
        );
    }
}

#[test]
fn at_2xx_a_body_that_is_not_the_answer_is_malformed() {
    let expected = [
        ("html", Some(MalformedKind::NotXml)),
        ("doctype html", Some(MalformedKind::NotXml)),
        ("text", Some(MalformedKind::NotXml)),
        ("empty", Some(MalformedKind::NotXml)),
        ("xml, not soap", Some(MalformedKind::NotSoap)),
        ("cut envelope", Some(MalformedKind::Truncated)),
        ("valid answer", None),
    ];
    for status in [200, 202] {
        for ((what, body), (named, kind)) in not_a_fault().into_iter().zip(expected) {
            assert_eq!(what, named);
            let result = op().decode(&answer(status, body));
            match (result, kind) {
                (Ok(_), None) => {}
                (Err(e @ ServerError::Malformed(_)), Some(kind)) => {
                    let ServerError::Malformed(m) = &e else {
                        unreachable!()
                    };
                    assert_eq!(m.kind(), kind, "{status} {what}");
                    assert_eq!(e.http_status(), None);
                }
                (other, _) => panic!("{status} {what}: {other:?}"),
            }
        }
        assert!(matches!(
            op().decode(&answer(status, fault())),
            Err(ServerError::Fault(_))
        ));
    }
}

// ---------------------------------------------------------------------------------------
// MessageXml.

fn fault_with_message_xml(inner: &str) -> String {
    envelope(&format!(
        r#"<s:Fault><faultcode xmlns:a="{TYPES}">a:ErrorServerBusy</faultcode><faultstring>busy</faultstring><detail><t:MessageXml xmlns:t="{TYPES}">{inner}</t:MessageXml></detail></s:Fault>"#
    ))
}

fn message_xml_of_fault(inner: &str) -> MessageXml {
    match op().decode(&answer(500, fault_with_message_xml(inner))) {
        Err(ServerError::Fault(f)) => f.message_xml,
        other => panic!("{other:?}"),
    }
}

#[test]
fn message_xml_keeps_named_values_apart_from_elements() {
    let xml = message_xml_of_fault(concat!(
        r#"<t:Value Name="LineNumber">7</t:Value>"#,
        "<t:LineNumber>3</t:LineNumber>",
        r#"<t:Value Name="BackOffMilliseconds"> 1500 </t:Value>"#,
        r#"<x:Policy xmlns:x="urn:example">MaxConcurrency</x:Policy>"#,
        "<t:Value>no name</t:Value>",
        r#"<x:Value Name="Elsewhere" xmlns:x="urn:example">9</x:Value>"#,
        r#"<Plain>p</Plain>"#,
        "<t:Nested>own<t:Child>inner</t:Child> text</t:Nested>",
    ));
    assert_eq!(
        xml.values().collect::<Vec<_>>(),
        [("LineNumber", "7"), ("BackOffMilliseconds", "1500")]
    );
    let elements: Vec<_> = xml
        .elements()
        .map(|e| (e.ns(), e.local_name(), e.text()))
        .collect();
    assert_eq!(
        elements,
        [
            (XmlNs::Types, "LineNumber", "3"),
            (XmlNs::Other, "Policy", "MaxConcurrency"),
            (XmlNs::Types, "Value", "no name"),
            (XmlNs::Other, "Value", "9"),
            (XmlNs::None, "Plain", "p"),
            (XmlNs::Types, "Nested", "own text"),
        ]
    );
    // Lookups by name find only their own kind.
    assert_eq!(xml.value("LineNumber"), Some("7"));
    assert_eq!(xml.element(XmlNs::Types, "LineNumber"), Some("3"));
    assert_eq!(xml.value("Policy"), None);
    assert_eq!(xml.element(XmlNs::Types, "Policy"), None);
    assert_eq!(xml.element(XmlNs::Other, "Policy"), Some("MaxConcurrency"));
    assert_eq!(xml.value("Elsewhere"), None);
    assert_eq!(xml.element(XmlNs::Types, "BackOffMilliseconds"), None);
    assert_eq!(xml.back_off(), Some(Duration::from_millis(1500)));
    assert!(!xml.is_empty());
}

#[test]
fn a_fault_reads_its_place_from_elements_not_from_named_values() {
    let body = fault_with_message_xml(concat!(
        r#"<t:Value Name="LineNumber">70</t:Value><t:Value Name="Violation">named</t:Value>"#,
        "<t:LineNumber>2</t:LineNumber><t:LinePosition>630</t:LinePosition>",
        "<t:Violation>The element has an invalid child.</t:Violation>",
    ));
    let Err(ServerError::Fault(f)) = op().decode(&answer(500, body)) else {
        panic!()
    };
    assert_eq!(f.line_number, Some(2));
    assert_eq!(f.line_position, Some(630));
    assert_eq!(
        f.violation.as_deref(),
        Some("The element has an invalid child.")
    );
    // Named values alone give no place.
    let body = fault_with_message_xml(r#"<t:Value Name="LineNumber">70</t:Value>"#);
    let Err(ServerError::Fault(f)) = op().decode(&answer(500, body)) else {
        panic!()
    };
    assert_eq!(f.line_number, None);
}

#[test]
fn only_a_named_value_is_a_back_off() {
    let xml = message_xml_of_fault("<t:BackOffMilliseconds>9000</t:BackOffMilliseconds>");
    assert_eq!(xml.back_off(), None);
    assert_eq!(
        xml.element(XmlNs::Types, "BackOffMilliseconds"),
        Some("9000")
    );
    let xml = message_xml_of_fault(r#"<t:Value Name="BackOffMilliseconds">0</t:Value>"#);
    assert_eq!(xml.back_off(), Some(Duration::ZERO));
    // The same on an operation-level error answer.
    let body = envelope(&format!(
        r#"<m:GetDelegateResponse ResponseClass="Error" xmlns:m="{MESSAGES}" xmlns:t="{TYPES}"><m:MessageText>busy</m:MessageText><m:ResponseCode>ErrorServerBusy</m:ResponseCode><m:MessageXml><t:Value Name="BackOffMilliseconds">250</t:Value><t:Hint>later</t:Hint></m:MessageXml></m:GetDelegateResponse>"#
    ));
    let err = op()
        .decode(&answer(200, body))
        .expect_err("an error answer");
    let ServerError::Response(status) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(status.message_xml.value("BackOffMilliseconds"), Some("250"));
    assert_eq!(
        status.message_xml.element(XmlNs::Types, "Hint"),
        Some("later")
    );
    assert_eq!(err.back_off(), Some(Duration::from_millis(250)));
}

#[test]
fn message_xml_is_bounded() {
    // Each child counts against the item limit.
    let many = r#"<t:Value Name="A">1</t:Value><t:B>2</t:B>"#.repeat(10);
    let limits = Limits::default().max_items(15);
    let body = fault_with_message_xml(&many);
    match op().decode_with(&answer(500, body.clone()), &limits) {
        // Outside 2xx a fault that cannot be read is the status.
        Err(ServerError::Status { status, .. }) => assert_eq!(status, 500),
        other => panic!("{other:?}"),
    }
    match op().decode_with(&answer(200, body), &limits) {
        Err(ServerError::LimitExceeded {
            limit: Limit::Items,
            max: 15,
        }) => {}
        other => panic!("{other:?}"),
    }
    // Debug shows names and texts bounded and escaped.
    let huge = format!("x\ny{}", "z".repeat(100_000));
    let xml = message_xml_of_fault(&format!(
        r#"<t:Value Name="N">{huge}</t:Value><t:E>{huge}</t:E>"#
    ));
    let shown = format!("{xml:?}");
    assert!(shown.len() < 1500, "{}", shown.len());
    assert_eq!(shown.matches(" bytes in all)").count(), 2, "{shown}");
    assert!(!shown.contains('\n'));
    assert_eq!(xml.value("N"), Some(huge.as_str()), "stored whole");
}
