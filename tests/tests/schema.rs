//! Schema checks: the shared example envelopes, the invalid examples, namespaces and
//! prefixes, fault format, and garbage input (the simulator must answer, never panic).

mod common;

use common::*;
use ews_tests::{BodyPrefixes, SimConfig, Simulator};

/// Who sends each valid example request (the example's mailbox owner or impersonator).
fn sender_for(file: &str) -> &'static str {
    match file {
        "AddDelegate.request.xml" => "user2@example.com",
        "UpdateDelegate.request.xml" => "user1@example.com",
        "CreateItem.request-all-headers.xml" => "admin@example.com",
        _ => "user2@example.com",
    }
}

#[test]
fn valid_example_requests_are_accepted() {
    let dir = schema_dir();
    let sim = Simulator::start(SimConfig::seed());
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("examples"))
        .expect("examples dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(".request") && n.ends_with(".xml"))
        })
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let body = std::fs::read_to_string(&path).expect("read example");
        let r = post_as(&sim, sender_for(&name), &body);
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert!(r.fault_code().is_none(), "{name}: {}", r.body);
        assert!(!r.codes().is_empty(), "{name}");
        seen += 1;
    }
    assert!(seen >= 4, "expected the example requests, found {seen}");
    // The UpdateDelegate example names users that are not delegates yet.
    let upd = sim.requests_for("UpdateDelegate");
    assert_eq!(upd[0].response_code.as_deref(), Some("NoError"));
}

#[test]
fn invalid_examples_are_rejected_with_schema_validation() {
    let dir = schema_dir();
    let sim = Simulator::start(SimConfig::seed());
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("examples/invalid"))
        .expect("invalid dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 10);
    for path in entries {
        let name = path.display().to_string();
        let body = std::fs::read_to_string(&path).expect("read example");
        // admin may impersonate, so only the schema can reject these.
        let r = post_as(&sim, "admin@example.com", &body);
        assert_eq!(r.status, 500, "{name}: {}", r.body);
        assert_eq!(
            r.fault_code().as_deref(),
            Some("ErrorSchemaValidation"),
            "{name}: {}",
            r.body
        );
        assert_eq!(r.texts(T, "LineNumber").len(), 1, "{name}");
        assert_eq!(r.texts(T, "Violation").len(), 1, "{name}");
    }
    // Nothing was changed by any of them.
    for mb in sim.mailboxes() {
        assert!(
            mb.delegates.is_empty() && mb.calendar.is_empty(),
            "{}",
            mb.smtp
        );
    }
}

#[test]
fn fault_format_mirrors_exchange() {
    let sim = Simulator::start(SimConfig::seed());
    let body = envelope(
        "",
        "<m:AddDelegate>\n<m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></m:Mailbox>\n<m:DeliverMeetingRequests>DelegatesAndMe</m:DeliverMeetingRequests>\n    <m:DelegateUsers/></m:AddDelegate>",
    );
    let r = call_raw(&sim, &body);
    assert_eq!(r.status, 500);
    assert!(r.header_all("content-type")[0].starts_with("text/xml"));
    let doc = roxmltree::Document::parse(&r.body).expect("xml");
    let fault = doc
        .descendants()
        .find(|n| n.tag_name().namespace() == Some(SOAP) && n.tag_name().name() == "Fault")
        .expect("soap fault");
    let faultcode = fault
        .children()
        .find(|c| c.tag_name().name() == "faultcode")
        .expect("faultcode");
    assert_eq!(faultcode.text(), Some("a:ErrorSchemaValidation"));
    assert_eq!(faultcode.lookup_namespace_uri(Some("a")), Some(T));
    assert!(
        fault
            .children()
            .any(|c| c.tag_name().name() == "faultstring")
    );
    assert_eq!(r.texts(E, "ResponseCode"), ["ErrorSchemaValidation"]);
    assert_eq!(r.texts(E, "Message").len(), 1);
    // The DeliverMeetingRequests element is on line 9 of the envelope, column 1.
    assert_eq!(r.texts(T, "LineNumber"), ["9"]);
    assert_eq!(r.texts(T, "LinePosition"), ["1"]);
    let violation = &r.texts(T, "Violation")[0];
    assert!(violation.contains("DeliverMeetingRequests"), "{violation}");
}

fn call_raw(sim: &Simulator, body: &str) -> Resp {
    post_as(sim, "user1@example.com", body)
}

#[test]
fn prefixes_do_not_matter_namespaces_do() {
    let sim = Simulator::start(SimConfig::seed());
    let styles = [
        // Default namespaces everywhere.
        format!(
            r#"<Envelope xmlns="{SOAP}"><Header><RequestServerVersion xmlns="{T}" Version="Exchange2010_SP2"/></Header><Body><GetDelegate xmlns="{M}" IncludePermissions="false"><Mailbox><EmailAddress xmlns="{T}">user1@example.com</EmailAddress></Mailbox></GetDelegate></Body></Envelope>"#
        ),
        // Unusual prefixes.
        format!(
            r#"<SOAP:Envelope xmlns:SOAP="{SOAP}" xmlns:ews="{M}" xmlns:typ="{T}"><SOAP:Header><typ:RequestServerVersion Version="V2017_07_11"/></SOAP:Header><SOAP:Body><ews:GetDelegate IncludePermissions="1"><ews:Mailbox><typ:EmailAddress>user1@example.com</typ:EmailAddress></ews:Mailbox></ews:GetDelegate></SOAP:Body></SOAP:Envelope>"#
        ),
        // s: prefix, redeclared inline.
        format!(
            r#"<s:Envelope xmlns:s="{SOAP}"><s:Header><h:RequestServerVersion xmlns:h="{T}" Version="Exchange2007_SP1"/></s:Header><s:Body><x:GetDelegate xmlns:x="{M}" IncludePermissions="true"><x:Mailbox><x:EmailAddress xmlns:x="{T}">user1@example.com</x:EmailAddress></x:Mailbox></x:GetDelegate></s:Body></s:Envelope>"#
        ),
    ];
    for body in &styles {
        let r = call_raw(&sim, body);
        assert_eq!(r.status, 200, "{body}\n{}", r.body);
        assert_eq!(r.codes(), ["NoError"]);
    }
    // The right local names in a wrong namespace are rejected.
    let wrong = styles[1].replace(
        T,
        "https://schemas.microsoft.com/exchange/services/2006/types",
    );
    assert_eq!(
        call_raw(&sim, &wrong).fault_code().as_deref(),
        Some("ErrorSchemaValidation")
    );
    let soap12 = styles[0].replace(SOAP, "http://www.w3.org/2003/05/soap-envelope");
    assert_eq!(
        call_raw(&sim, &soap12).fault_code().as_deref(),
        Some("ErrorSchemaValidation")
    );
}

#[test]
fn response_prefix_variants_parse_the_same() {
    for prefixes in [
        BodyPrefixes::Standard,
        BodyPrefixes::DefaultNamespace,
        BodyPrefixes::Custom {
            messages: "ews".into(),
            types: "typ".into(),
        },
    ] {
        let sim = Simulator::start(SimConfig::seed().with_prefixes(prefixes.clone()));
        let r = call(
            &sim,
            "user1@example.com",
            &seed_add("user1@example.com", "user2@example.com"),
        );
        assert_eq!(
            r.codes(),
            ["NoError", "NoError"],
            "{prefixes:?}: {}",
            r.body
        );
        assert_eq!(r.texts(T, "PrimarySmtpAddress"), ["user2@example.com"]);
    }
}

#[test]
fn header_rules() {
    let sim = Simulator::start(SimConfig::seed());
    let get = get_delegate("user1@example.com", false, &[]);
    // Missing RequestServerVersion.
    let no_version = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}" xmlns:m="{M}" xmlns:t="{T}"><soap:Body>{get}</soap:Body></soap:Envelope>"#
    );
    let r = call_raw(&sim, &no_version);
    assert_eq!(r.status, 500);
    assert_eq!(r.fault_code().as_deref(), Some("ErrorInvalidServerVersion"));
    // Unknown version value.
    let r = call_raw(
        &sim,
        &envelope("", &get).replace("Exchange2013_SP1", "Exchange2019"),
    );
    assert_eq!(r.fault_code().as_deref(), Some("ErrorSchemaValidation"));
    // An unknown header element.
    let r = call_raw(&sim, &envelope("<t:Bogus/>", &get));
    assert_eq!(r.fault_code().as_deref(), Some("ErrorSchemaValidation"));
    // TimeZoneContext without its definition.
    let r = call_raw(&sim, &envelope("<t:TimeZoneContext/>", &get));
    assert_eq!(r.fault_code().as_deref(), Some("ErrorSchemaValidation"));
    // Empty body; unknown operation; unserved operation.
    let r = call_raw(&sim, &envelope("", ""));
    assert_eq!(r.fault_code().as_deref(), Some("ErrorSchemaValidation"));
    let r = call_raw(&sim, &envelope("", "<m:FlyToTheMoon/>"));
    assert_eq!(r.fault_code().as_deref(), Some("ErrorSchemaValidation"));
    // A real operation the simulator does not implement: a response message, not a fault.
    let r = call_raw(&sim, &envelope("", "<m:MoveItem/>"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.fault_code(), None, "{}", r.body);
    assert_eq!(r.codes(), ["ErrorInvalidOperation"], "{}", r.body);
}

#[test]
fn impersonation_rules() {
    let sim = Simulator::start(SimConfig::seed());
    let get = get_delegate("user1@example.com", false, &[]);
    let cases = [
        (
            "user2@example.com",
            impersonate("PrimarySmtpAddress", "user1@example.com"),
            "ErrorImpersonateUserDenied",
        ),
        (
            "admin@example.com",
            impersonate("PrimarySmtpAddress", "ghost@example.com"),
            "ErrorNonExistentMailbox",
        ),
        (
            "admin@example.com",
            impersonate("SID", "S-1-5-21-0-0-0-9999"),
            "ErrorImpersonationFailed",
        ),
        (
            "admin@example.com",
            impersonate("PrincipalName", "ghost@example.com"),
            "ErrorImpersonationFailed",
        ),
    ];
    for (caller, header, code) in cases {
        let r = post_as(&sim, caller, &envelope(&header, &get));
        assert_eq!(r.status, 500, "{header}");
        assert_eq!(r.fault_code().as_deref(), Some(code), "{header}");
    }
    // Each of the four identifiers works.
    for header in [
        impersonate("PrimarySmtpAddress", "user1@example.com"),
        impersonate("SmtpAddress", "USER1@example.com"),
        impersonate("SID", "S-1-5-21-1111111111-2222222222-333333333-1116"),
        impersonate("PrincipalName", "user1@example.com"),
    ] {
        let r = post_as(&sim, "admin@example.com", &envelope(&header, &get));
        assert_eq!(r.codes(), ["NoError"], "{header}: {}", r.body);
    }
    // Two identifiers at once is a schema error.
    let two = "<t:ExchangeImpersonation><t:ConnectingSID><t:SID>x</t:SID><t:SmtpAddress>user1@example.com</t:SmtpAddress></t:ConnectingSID></t:ExchangeImpersonation>";
    let r = post_as(&sim, "admin@example.com", &envelope(two, &get));
    assert_eq!(r.fault_code().as_deref(), Some("ErrorSchemaValidation"));
    // The right can be revoked at run time.
    sim.set_impersonation_right("admin@example.com", false);
    let r = post_as(
        &sim,
        "admin@example.com",
        &envelope(
            &impersonate("SID", "S-1-5-21-1111111111-2222222222-333333333-1116"),
            &get,
        ),
    );
    assert_eq!(
        r.fault_code().as_deref(),
        Some("ErrorImpersonateUserDenied")
    );
}

#[test]
fn schema_order_inside_items_and_values() {
    let sim = Simulator::start(SimConfig::seed());
    let bad = [
        // Unknown element inside CalendarItem.
        "<m:CreateItem><m:Items><t:CalendarItem><t:Subject>x</t:Subject><t:Colour>red</t:Colour></t:CalendarItem></m:Items></m:CreateItem>",
        // End before Start.
        "<m:CreateItem><m:Items><t:CalendarItem><t:End>2025-06-02T16:00:00Z</t:End><t:Start>2025-06-02T15:00:00Z</t:Start></t:CalendarItem></m:Items></m:CreateItem>",
        // Bad enumeration value.
        "<m:CreateItem><m:Items><t:CalendarItem><t:LegacyFreeBusyStatus>Busyish</t:LegacyFreeBusyStatus></t:CalendarItem></m:Items></m:CreateItem>",
        // Bad attribute value.
        "<m:CreateItem SendMeetingInvitations=\"ToEveryone\"><m:Items><t:CalendarItem/></m:Items></m:CreateItem>",
        // Body without BodyType.
        "<m:CreateItem><m:Items><t:CalendarItem><t:Body>x</t:Body></t:CalendarItem></m:Items></m:CreateItem>",
        // Not a date.
        "<m:CreateItem><m:Items><t:CalendarItem><t:Start>tomorrow</t:Start></t:CalendarItem></m:Items></m:CreateItem>",
        // Attendee Mailbox fields out of order.
        "<m:CreateItem><m:Items><t:CalendarItem><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>a@b</t:EmailAddress><t:Name>A</t:Name></t:Mailbox></t:Attendee></t:RequiredAttendees></t:CalendarItem></m:Items></m:CreateItem>",
        // Empty RequiredAttendees (needs 1..n Attendee).
        "<m:CreateItem><m:Items><t:CalendarItem><t:RequiredAttendees/></t:CalendarItem></m:Items></m:CreateItem>",
        // GetDelegate without IncludePermissions.
        "<m:GetDelegate><m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></m:Mailbox></m:GetDelegate>",
        // UserId children out of order.
        "<m:RemoveDelegate><m:Mailbox><t:EmailAddress>user1@example.com</t:EmailAddress></m:Mailbox><m:UserIds><t:UserId><t:DisplayName>x</t:DisplayName><t:SID>y</t:SID></t:UserId></m:UserIds></m:RemoveDelegate>",
        // FindItem: ParentFolderIds before ItemShape; missing Traversal.
        "<m:FindItem Traversal=\"Shallow\"><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape></m:FindItem>",
        "<m:FindItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>",
        // Unknown folder name; DeleteItem without DeleteType.
        "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id=\"Calendar\"/></m:ParentFolderIds></m:FindItem>",
        "<m:DeleteItem><m:ItemIds><t:ItemId Id=\"x\"/></m:ItemIds></m:DeleteItem>",
        // Text where elements belong; an element in the wrong namespace.
        "<m:GetItem>text<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id=\"x\"/></m:ItemIds></m:GetItem>",
        "<m:GetItem><m:ItemShape><m:BaseShape>IdOnly</m:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id=\"x\"/></m:ItemIds></m:GetItem>",
    ];
    for body in bad {
        let r = call_raw(&sim, &envelope("", body));
        assert_eq!(r.status, 500, "{body}: {}", r.body);
        assert_eq!(
            r.fault_code().as_deref(),
            Some("ErrorSchemaValidation"),
            "{body}"
        );
    }
}

#[test]
fn garbage_never_panics() {
    let sim = Simulator::start(SimConfig::seed());
    let inputs: Vec<String> = vec![
        String::new(),
        "not xml at all".into(),
        "<".into(),
        "<?xml version=\"1.0\"?><a/>".into(),
        format!("<soap:Envelope xmlns:soap=\"{SOAP}\"/>"),
        format!("<soap:Envelope xmlns:soap=\"{SOAP}\"><soap:Body/><soap:Body/></soap:Envelope>"),
        format!("<soap:Envelope xmlns:soap=\"{SOAP}\"><soap:Body/><soap:Header/></soap:Envelope>"),
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>".into(),
        envelope(
            "",
            "<m:AddDelegate><m:Mailbox/><m:DelegateUsers><t:DelegateUser><t:UserId/></t:DelegateUser></m:DelegateUsers></m:AddDelegate>",
        ),
        envelope(
            "",
            "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds><t:ItemId Id=\"\"/></m:ItemIds></m:GetItem>",
        ),
        envelope(
            "",
            "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"-5\" Offset=\"99999999999999999999\" BasePoint=\"End\"/><m:ParentFolderIds><t:FolderId Id=\"x\"/></m:ParentFolderIds></m:FindItem>",
        ),
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\u{0}".into(),
        "<a>".repeat(2000),
    ];
    for body in &inputs {
        let r = call_raw(&sim, body);
        assert!(
            r.status == 200 || r.status == 500,
            "{body:.80}: {}",
            r.status
        );
    }
    // Invalid UTF-8 through a raw socket.
    let mut raw = raw_post(&sim, "user1@example.com", "");
    let bad_body: &[u8] = b"<a>\xff\xfe</a>";
    raw = String::from_utf8_lossy(&raw)
        .replace(
            "Content-Length: 0",
            &format!("Content-Length: {}", bad_body.len()),
        )
        .into_bytes();
    raw.extend_from_slice(bad_body);
    let answer = raw_exchange(&sim, &raw).expect("answer");
    let (status, _, _) = split_http(&answer).expect("http");
    assert_eq!(status, 500);
    // The server still works afterwards.
    let r = call(
        &sim,
        "user1@example.com",
        &get_delegate("user1@example.com", true, &[]),
    );
    assert_eq!(r.codes(), ["NoError"]);
}

#[test]
fn unmodelled_elements_keep_their_attributes() {
    let sim = Simulator::start(SimConfig::seed());
    let body = r#"<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>tz</t:Subject><t:Start>2025-06-02T10:00:00</t:Start><t:End>2025-06-02T11:00:00</t:End><t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/></t:CalendarItem></m:Items></m:CreateItem>"#;
    let r = call(&sim, "user1@example.com", body);
    assert_eq!(r.codes(), ["NoError"], "{}", r.body);
}
