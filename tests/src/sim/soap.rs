//! SOAP 1.1 envelope parsing (by namespace URI and local name, never by prefix) and the
//! response, fault and XML writers.

use roxmltree::{Document, Node};

use super::schema::{self, Violation};
use super::{BodyPrefixes, ServerStyle};

/// SOAP 1.1 envelope namespace.
pub(crate) const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// EWS messages namespace.
pub(crate) const MESSAGES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/messages";
/// EWS types namespace.
pub(crate) const TYPES_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/types";
/// EWS errors namespace (fault details).
pub(crate) const ERRORS_NS: &str = "http://schemas.microsoft.com/exchange/services/2006/errors";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// Real EWS operations (the operations of services.wsdl) the simulator does not implement.
/// They are answered with a not-implemented response message (`ops::not_implemented`),
/// not with a schema error, so that a client sees the difference.
const UNSERVED_OPERATIONS: &[&str] = &[
    "AddDistributionGroupToImList",
    "AddImContactToGroup",
    "AddImGroup",
    "AddNewImContactToGroup",
    "AddNewTelUriContactToGroup",
    "AddTag",
    "ApplyConversationAction",
    "ArchiveItem",
    "ConvertId",
    "CopyFolder",
    "CopyItem",
    "CreateAttachment",
    "CreateFolder",
    "CreateFolderPath",
    "CreateManagedFolder",
    "CreateMeetingInstance",
    "CreateMeetingSpace",
    "CreateUserConfiguration",
    "DeleteAttachment",
    "DeleteFolder",
    "DeleteMeetingInstance",
    "DeleteMeetingSpace",
    "DeleteSearchSuggestion",
    "DeleteUserConfiguration",
    "DisableApp",
    "DisconnectPhoneCall",
    "EmptyFolder",
    "EndSearchSession",
    "ExecuteSearch",
    "ExpandDL",
    "ExportItems",
    "FindAvailableMeetingTimes",
    "FindConversation",
    "FindFolder",
    "FindMeetingSpaceByJoinUrl",
    "FindMeetingTimeCandidates",
    "FindMessageTrackingReport",
    "FindPeople",
    "FindTags",
    "GetAppManifests",
    "GetAppMarketplaceUrl",
    "GetAttachment",
    "GetClientAccessToken",
    "GetConversationItems",
    "GetDiscoverySearchConfiguration",
    "GetEvents",
    "GetHoldOnMailboxes",
    "GetImItemList",
    "GetImItems",
    "GetInboxRules",
    "GetLastPrivateCatalogUpdate",
    "GetMailTips",
    "GetMeetingInstance",
    "GetMeetingSpace",
    "GetMessageTrackingReport",
    "GetNonIndexableItemDetails",
    "GetNonIndexableItemStatistics",
    "GetPasswordExpirationDate",
    "GetPersona",
    "GetPhoneCallInformation",
    "GetPrivateCatalogAddIns",
    "GetRoomLists",
    "GetRooms",
    "GetSearchSuggestions",
    "GetSearchableMailboxes",
    "GetServerTimeZones",
    "GetServiceConfiguration",
    "GetSharingFolder",
    "GetSharingMetadata",
    "GetSpecificUserConfiguration",
    "GetStreamingEvents",
    "GetUserAvailability",
    "GetUserConfiguration",
    "GetUserOofSettings",
    "GetUserPhoto",
    "GetUserRetentionPolicyTags",
    "HideTag",
    "InstallApp",
    "MarkAllItemsAsRead",
    "MarkAsJunk",
    "MoveFolder",
    "MoveItem",
    "PlayOnPhone",
    "RefreshSharingFolder",
    "RemoveContactFromImList",
    "RemoveDistributionGroupFromImList",
    "RemoveImContactFromGroup",
    "RemoveImGroup",
    "ReportMessage",
    "ResolveNames",
    "SearchMailboxes",
    "SendItem",
    "SetHoldOnMailboxes",
    "SetImGroup",
    "SetImListMigrationCompleted",
    "SetTeamMailbox",
    "SetUserOofSettings",
    "SetUserPhoto",
    "StartSearchSession",
    "Subscribe",
    "SyncFolderHierarchy",
    "SyncFolderItems",
    "UninstallApp",
    "UnpinTeamMailbox",
    "Unsubscribe",
    "UpdateFolder",
    "UpdateInboxRules",
    "UpdateItemInRecoverableItems",
    "UpdateMeetingInstance",
    "UpdateMeetingSpace",
    "UpdateUserConfiguration",
    "UploadItems",
];

/// Everything needed to write a SOAP fault.
#[derive(Debug, Clone)]
pub(crate) struct FaultInfo {
    /// ResponseCode, e.g. `ErrorSchemaValidation`.
    pub(crate) code: &'static str,
    /// faultstring and e:Message text.
    pub(crate) message: String,
    /// Schema violation details (LineNumber, LinePosition, Violation).
    pub(crate) violation: Option<(u32, u32, String)>,
    /// BackOffMilliseconds for ErrorServerBusy.
    pub(crate) back_off_ms: Option<u64>,
}

impl FaultInfo {
    /// A fault without MessageXml.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        FaultInfo {
            code,
            message: message.into(),
            violation: None,
            back_off_ms: None,
        }
    }

    /// An ErrorSchemaValidation fault for a violation found in `doc`.
    pub(crate) fn schema(doc: &Document<'_>, v: Violation) -> Self {
        let pos = doc.text_pos_at(v.pos);
        Self::schema_at(pos.row, pos.col, v.text)
    }

    /// An ErrorSchemaValidation fault at a given line and column.
    pub(crate) fn schema_at(line: u32, col: u32, text: String) -> Self {
        FaultInfo {
            code: "ErrorSchemaValidation",
            message: format!("The request failed schema validation: {text}"),
            violation: Some((line, col, text)),
            back_off_ms: None,
        }
    }
}

/// Identity named by ExchangeImpersonation/ConnectingSID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImpersonationId {
    /// PrincipalName (UPN).
    PrincipalName(String),
    /// SID.
    Sid(String),
    /// PrimarySmtpAddress.
    PrimarySmtpAddress(String),
    /// SmtpAddress.
    SmtpAddress(String),
}

/// Parsed SOAP headers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Headers {
    /// RequestServerVersion/@Version.
    pub(crate) version: Option<String>,
    /// ExchangeImpersonation target.
    pub(crate) impersonation: Option<ImpersonationId>,
    /// MailboxCulture.
    pub(crate) culture: Option<String>,
    /// TimeZoneContext/TimeZoneDefinition/@Id.
    pub(crate) time_zone: Option<String>,
}

/// A parsed and schema-checked request.
#[derive(Debug)]
pub(crate) struct Parsed<'a, 'i> {
    /// The operation element (the single child of soap:Body).
    pub(crate) op: Node<'a, 'i>,
    /// The SOAP headers.
    pub(crate) headers: Headers,
    /// False for a real EWS operation the simulator does not implement (not validated).
    pub(crate) served: bool,
}

fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ns) && node.tag_name().name() == name
}

/// The first child element with that namespace and local name.
pub(crate) fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(*c, ns, name))
}

/// All child elements with that namespace and local name.
pub(crate) fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> + use<'a, 'i> {
    node.children().filter(move |c| is(*c, ns, name))
}

/// Text of a types-namespace child element, trimmed.
pub(crate) fn t_text(node: Node<'_, '_>, name: &str) -> Option<String> {
    child(node, TYPES_NS, name).map(text_of)
}

/// Text content of an element (all text children concatenated).
pub(crate) fn text_of(node: Node<'_, '_>) -> String {
    node.children()
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_string()
}

fn element_name(node: Node<'_, '_>) -> String {
    format!(
        "'{}' in namespace '{}'",
        node.tag_name().name(),
        node.tag_name().namespace().unwrap_or("")
    )
}

/// Locates, checks and parses the envelope. Errors are SOAP faults.
pub(crate) fn parse<'a, 'i>(doc: &'a Document<'i>) -> Result<Parsed<'a, 'i>, FaultInfo> {
    let root = doc.root_element();
    if !is(root, SOAP_NS, "Envelope") {
        return Err(FaultInfo::schema(
            doc,
            Violation {
                pos: root.range().start,
                text: format!(
                    "The root element {} is not a SOAP 1.1 Envelope.",
                    element_name(root)
                ),
            },
        ));
    }
    let mut header = None;
    let mut body = None;
    for c in root.children() {
        if c.is_text() && c.text().is_some_and(|t| !t.trim().is_empty()) {
            return Err(FaultInfo::schema(
                doc,
                Violation {
                    pos: root.range().start,
                    text: "The Envelope element cannot contain text.".into(),
                },
            ));
        }
        if !c.is_element() {
            continue;
        }
        if is(c, SOAP_NS, "Header") && header.is_none() && body.is_none() {
            header = Some(c);
        } else if is(c, SOAP_NS, "Body") && body.is_none() {
            body = Some(c);
        } else {
            return Err(FaultInfo::schema(
                doc,
                Violation {
                    pos: c.range().start,
                    text: format!(
                        "The element 'Envelope' in namespace '{SOAP_NS}' has invalid child element {}.",
                        element_name(c)
                    ),
                },
            ));
        }
    }
    let Some(body) = body else {
        return Err(FaultInfo::schema(
            doc,
            Violation {
                pos: root.range().start,
                text: format!(
                    "The element 'Envelope' in namespace '{SOAP_NS}' has incomplete content. List of possible elements expected: 'Body'."
                ),
            },
        ));
    };

    let mut headers = Headers::default();
    if let Some(header) = header {
        for h in header.children().filter(|c| c.is_element()) {
            let def = (h.tag_name().namespace() == Some(TYPES_NS))
                .then(|| schema::header_type(h.tag_name().name()))
                .flatten();
            let Some(def) = def else {
                return Err(FaultInfo::schema(
                    doc,
                    Violation {
                        pos: h.range().start,
                        text: format!(
                            "The element 'Header' in namespace '{SOAP_NS}' has invalid child element {}.",
                            element_name(h)
                        ),
                    },
                ));
            };
            schema::validate(h, def).map_err(|v| FaultInfo::schema(doc, v))?;
            match h.tag_name().name() {
                "RequestServerVersion" => {
                    headers.version = h.attribute("Version").map(str::to_string);
                }
                "ExchangeImpersonation" => {
                    let sid = child(h, TYPES_NS, "ConnectingSID");
                    let id = sid
                        .and_then(|s| s.children().find(|c| c.is_element()))
                        .map(|c| {
                            let v = text_of(c);
                            match c.tag_name().name() {
                                "PrincipalName" => ImpersonationId::PrincipalName(v),
                                "SID" => ImpersonationId::Sid(v),
                                "PrimarySmtpAddress" => ImpersonationId::PrimarySmtpAddress(v),
                                _ => ImpersonationId::SmtpAddress(v),
                            }
                        });
                    headers.impersonation = id;
                }
                "MailboxCulture" => headers.culture = Some(text_of(h)),
                "TimeZoneContext" => {
                    headers.time_zone = child(h, TYPES_NS, "TimeZoneDefinition")
                        .and_then(|d| d.attribute("Id").or(d.attribute("Name")))
                        .map(str::to_string);
                }
                _ => {}
            }
        }
    }

    let mut ops = body.children().filter(|c| c.is_element());
    let Some(op) = ops.next() else {
        return Err(FaultInfo::schema(
            doc,
            Violation {
                pos: body.range().start,
                text: format!(
                    "The element 'Body' in namespace '{SOAP_NS}' has incomplete content: it must hold one EWS operation element."
                ),
            },
        ));
    };
    if let Some(extra) = ops.next() {
        return Err(FaultInfo::schema(
            doc,
            Violation {
                pos: extra.range().start,
                text: format!(
                    "The element 'Body' in namespace '{SOAP_NS}' has invalid child element {}: only one operation element is allowed.",
                    element_name(extra)
                ),
            },
        ));
    }
    let def = (op.tag_name().namespace() == Some(MESSAGES_NS))
        .then(|| schema::operation_type(op.tag_name().name()))
        .flatten();
    let Some(def) = def else {
        if op.tag_name().namespace() == Some(MESSAGES_NS)
            && UNSERVED_OPERATIONS.contains(&op.tag_name().name())
        {
            return Ok(Parsed {
                op,
                headers,
                served: false,
            });
        }
        return Err(FaultInfo::schema(
            doc,
            Violation {
                pos: op.range().start,
                text: format!(
                    "The element 'Body' in namespace '{SOAP_NS}' has invalid child element {}.",
                    element_name(op)
                ),
            },
        ));
    };
    schema::validate(op, def).map_err(|v| FaultInfo::schema(doc, v))?;
    Ok(Parsed {
        op,
        headers,
        served: true,
    })
}

// ---------------------------------------------------------------- writing

/// Escapes text or attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Namespace of a written element.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WNs {
    /// messages
    M,
    /// types
    T,
}

/// A tiny XML writer that knows the prefixes chosen for the response body.
#[derive(Debug)]
pub(crate) struct W {
    out: String,
    m: String,
    t: String,
}

impl W {
    fn new(prefixes: &BodyPrefixes) -> Self {
        let (m, t) = match prefixes {
            BodyPrefixes::Standard => ("m".to_string(), "t".to_string()),
            BodyPrefixes::DefaultNamespace => (String::new(), "t".to_string()),
            BodyPrefixes::Custom { messages, types } => (messages.clone(), types.clone()),
        };
        W {
            out: String::new(),
            m,
            t,
        }
    }

    fn q(&self, ns: WNs, name: &str) -> String {
        let p = match ns {
            WNs::M => &self.m,
            WNs::T => &self.t,
        };
        if p.is_empty() {
            name.to_string()
        } else {
            format!("{p}:{name}")
        }
    }

    fn start_tag(&mut self, ns: WNs, name: &str, attrs: &[(&str, &str)], decl: bool) {
        let q = self.q(ns, name);
        self.out.push('<');
        self.out.push_str(&q);
        for (k, v) in attrs {
            self.out.push_str(&format!(" {k}=\"{}\"", esc(v)));
        }
        if decl {
            let m = if self.m.is_empty() {
                format!(" xmlns=\"{MESSAGES_NS}\"")
            } else {
                format!(" xmlns:{}=\"{MESSAGES_NS}\"", self.m)
            };
            let t = if self.t.is_empty() {
                format!(" xmlns=\"{TYPES_NS}\"")
            } else {
                format!(" xmlns:{}=\"{TYPES_NS}\"", self.t)
            };
            self.out.push_str(&m);
            self.out.push_str(&t);
        }
    }

    /// Opens the response root element, declaring the namespaces.
    pub(crate) fn root(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(WNs::M, name, attrs, true);
        self.out.push('>');
    }

    /// Opens an element.
    pub(crate) fn open(&mut self, ns: WNs, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(ns, name, attrs, false);
        self.out.push('>');
    }

    /// Closes an element.
    pub(crate) fn close(&mut self, ns: WNs, name: &str) {
        let q = self.q(ns, name);
        self.out.push_str(&format!("</{q}>"));
    }

    /// An empty element.
    pub(crate) fn empty(&mut self, ns: WNs, name: &str, attrs: &[(&str, &str)]) {
        self.start_tag(ns, name, attrs, false);
        self.out.push_str("/>");
    }

    /// An element with text.
    pub(crate) fn leaf(&mut self, ns: WNs, name: &str, text: &str) {
        self.leaf_attrs(ns, name, &[], text);
    }

    /// An element with attributes and text.
    pub(crate) fn leaf_attrs(&mut self, ns: WNs, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.start_tag(ns, name, attrs, false);
        self.out.push('>');
        self.out.push_str(&esc(text));
        self.close(ns, name);
    }

    /// ResponseMessageType fields: MessageText?, ResponseCode, DescriptiveLinkKey?.
    pub(crate) fn response_fields(&mut self, code: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(WNs::M, "MessageText", text);
        }
        self.leaf(WNs::M, "ResponseCode", code);
        if text.is_some() {
            self.leaf(WNs::M, "DescriptiveLinkKey", "0");
        }
    }
}

/// Writes a full response envelope in the configured style.
pub(crate) fn envelope(
    style: ServerStyle,
    prefixes: &BodyPrefixes,
    body: impl FnOnce(&mut W),
) -> String {
    let mut w = W::new(prefixes);
    body(&mut w);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    match style {
        ServerStyle::Exchange2010 => {
            out.push_str(&format!(
                "<soap:Envelope xmlns:soap=\"{SOAP_NS}\" xmlns:xsi=\"{XSI_NS}\" xmlns:xsd=\"{XSD_NS}\"><soap:Header><t:ServerVersionInfo MajorVersion=\"14\" MinorVersion=\"2\" MajorBuildNumber=\"247\" MinorBuildNumber=\"5\" Version=\"Exchange2010_SP2\" xmlns:t=\"{TYPES_NS}\"/></soap:Header><soap:Body>"
            ));
            out.push_str(&w.out);
            out.push_str("</soap:Body></soap:Envelope>");
        }
        ServerStyle::Exchange2013 => {
            out.push_str(&format!(
                "<s:Envelope xmlns:s=\"{SOAP_NS}\"><s:Header><h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"2\" MajorBuildNumber=\"1544\" MinorBuildNumber=\"4\" Version=\"V2017_07_11\" xmlns:h=\"{TYPES_NS}\" xmlns=\"{TYPES_NS}\" xmlns:xsd=\"{XSD_NS}\" xmlns:xsi=\"{XSI_NS}\"/></s:Header><s:Body xmlns:xsi=\"{XSI_NS}\" xmlns:xsd=\"{XSD_NS}\">"
            ));
            out.push_str(&w.out);
            out.push_str("</s:Body></s:Envelope>");
        }
    }
    out
}

/// Writes a SOAP fault envelope (HTTP 500) the way Exchange does.
pub(crate) fn fault(style: ServerStyle, f: &FaultInfo) -> String {
    let s = match style {
        ServerStyle::Exchange2010 => "soap",
        ServerStyle::Exchange2013 => "s",
    };
    let mut xml = String::new();
    if let Some((line, col, violation)) = &f.violation {
        xml.push_str(&format!(
            "<t:MessageXml xmlns:t=\"{TYPES_NS}\"><t:LineNumber>{line}</t:LineNumber><t:LinePosition>{col}</t:LinePosition><t:Violation>{}</t:Violation></t:MessageXml>",
            esc(violation)
        ));
    } else if let Some(ms) = f.back_off_ms {
        xml.push_str(&format!(
            "<t:MessageXml xmlns:t=\"{TYPES_NS}\"><t:Value Name=\"BackOffMilliseconds\">{ms}</t:Value></t:MessageXml>"
        ));
    }
    let short = if f.code == "ErrorSchemaValidation" {
        "The request failed schema validation."
    } else {
        f.message.as_str()
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><{s}:Envelope xmlns:{s}=\"{SOAP_NS}\"><{s}:Body><{s}:Fault><faultcode xmlns:a=\"{TYPES_NS}\">a:{code}</faultcode><faultstring xml:lang=\"en-US\">{fs}</faultstring><detail><e:ResponseCode xmlns:e=\"{ERRORS_NS}\">{code}</e:ResponseCode><e:Message xmlns:e=\"{ERRORS_NS}\">{msg}</e:Message>{xml}</detail></{s}:Fault></{s}:Body></{s}:Envelope>",
        code = f.code,
        fs = esc(&f.message),
        msg = esc(short),
    )
}
