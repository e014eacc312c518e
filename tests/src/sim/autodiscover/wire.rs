//! The Autodiscover XML: reading the two requests (element by element, as Microsoft's
//! documented examples have them) and writing the answers.
//!
//! The request element lists checked here come from Microsoft's pages "GetUserSettings
//! operation (SOAP)" (the request example: `Envelope/Header/{RequestedServerVersion,
//! wsa:Action, wsa:To}`, `Body/GetUserSettingsRequestMessage/Request/{Users/User/Mailbox,
//! RequestedSettings/Setting+}`) and "POX Autodiscover request for Exchange"
//! (`Autodiscover/Request/{EMailAddress, AcceptableResponseSchema}`). The answers follow
//! the documented `GetUserSettings` response example and the POX Outlook response
//! (`responseschema/2006a`), with the `http://` namespaces real servers use.

use roxmltree::{Document, Node};

use super::{AdAnswer, AdConfig, AdLevel, AdUser, Deployment};

const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const NS_AD: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const NS_WSA: &str = "http://www.w3.org/2005/08/addressing";
const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const NS_POX_REQUEST: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
const NS_POX_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
const NS_POX_OUTLOOK: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const ACTION: &str =
    "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";
/// The `RequestedServerVersion` values the Autodiscover schema allows.
const VERSIONS: [&str; 5] = [
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2013",
    "Exchange2013_SP1",
];

/// A `GetUserSettings` request, as read.
#[derive(Debug, Clone)]
pub(super) struct SoapRequest {
    pub(super) mailbox: String,
    pub(super) settings: Vec<String>,
    pub(super) version: Option<String>,
    pub(super) to: Option<String>,
    pub(super) action: Option<String>,
}

fn is(n: &Node<'_, '_>, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local
}

fn name(n: &Node<'_, '_>) -> String {
    format!(
        "{{{}}}{}",
        n.tag_name().namespace().unwrap_or(""),
        n.tag_name().name()
    )
}

/// The element children of `n`; text other than white space is an error.
fn children<'a, 'i>(n: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>, String> {
    let mut out = Vec::new();
    for c in n.children() {
        if c.is_element() {
            out.push(c);
        } else if c.is_text() && !c.text().unwrap_or("").trim().is_empty() {
            return Err(format!("text inside {}", name(&n)));
        }
    }
    Ok(out)
}

/// The one element child of `n`, which must be `ns:local`.
fn only<'a, 'i>(n: Node<'a, 'i>, ns: &str, local: &str) -> Result<Node<'a, 'i>, String> {
    match children(n)?.as_slice() {
        [c] if is(c, ns, local) => Ok(*c),
        other => Err(format!(
            "{} must hold exactly one {local}, holds {:?}",
            name(&n),
            other.iter().map(name).collect::<Vec<_>>()
        )),
    }
}

/// The text of a leaf element.
fn leaf(n: Node<'_, '_>) -> Result<String, String> {
    if n.children().any(|c| c.is_element()) {
        return Err(format!("{} must hold only text", name(&n)));
    }
    Ok(n.text().unwrap_or("").trim().to_owned())
}

/// Reads and checks a `GetUserSettings` request.
pub(super) fn read_soap(text: &str) -> Result<SoapRequest, String> {
    let doc = Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
    let env = doc.root_element();
    if !is(&env, NS_SOAP, "Envelope") {
        return Err(format!("the root is {}, not a SOAP Envelope", name(&env)));
    }
    let parts = children(env)?;
    let (header, body) = match parts.as_slice() {
        [h, b] if is(h, NS_SOAP, "Header") && is(b, NS_SOAP, "Body") => (Some(*h), *b),
        [b] if is(b, NS_SOAP, "Body") => (None, *b),
        other => {
            return Err(format!(
                "the Envelope must hold Header and Body, holds {:?}",
                other.iter().map(name).collect::<Vec<_>>()
            ));
        }
    };
    let (mut version, mut action, mut to) = (None, None, None);
    if let Some(h) = header {
        for c in children(h)? {
            let slot = if is(&c, NS_AD, "RequestedServerVersion") {
                &mut version
            } else if is(&c, NS_WSA, "Action") {
                &mut action
            } else if is(&c, NS_WSA, "To") {
                &mut to
            } else {
                return Err(format!("unexpected header {}", name(&c)));
            };
            if slot.replace(leaf(c)?).is_some() {
                return Err(format!("{} twice", name(&c)));
            }
        }
    }
    if let Some(v) = &version {
        if !VERSIONS.contains(&v.as_str()) {
            return Err(format!(
                "RequestedServerVersion {v:?} is not a schema value"
            ));
        }
    }
    if let Some(a) = &action {
        if a != ACTION {
            return Err(format!("wsa:Action {a:?} is not GetUserSettings"));
        }
    }
    let message = only(body, NS_AD, "GetUserSettingsRequestMessage")?;
    let request = only(message, NS_AD, "Request")?;
    let (users, requested) = match children(request)?.as_slice() {
        [u, s] if is(u, NS_AD, "Users") && is(s, NS_AD, "RequestedSettings") => (*u, *s),
        other => {
            return Err(format!(
                "Request must hold Users then RequestedSettings, holds {:?}",
                other.iter().map(name).collect::<Vec<_>>()
            ));
        }
    };
    let mut mailboxes = Vec::new();
    for user in children(users)? {
        if !is(&user, NS_AD, "User") {
            return Err(format!("unexpected {} in Users", name(&user)));
        }
        let mailbox = leaf(only(user, NS_AD, "Mailbox")?)?;
        if mailbox.is_empty() {
            return Err("an empty Mailbox".into());
        }
        mailboxes.push(mailbox);
    }
    let mut settings = Vec::new();
    for s in children(requested)? {
        if !is(&s, NS_AD, "Setting") {
            return Err(format!("unexpected {} in RequestedSettings", name(&s)));
        }
        settings.push(leaf(s)?);
    }
    if settings.is_empty() {
        return Err("RequestedSettings holds no Setting".into());
    }
    let mailbox = mailboxes
        .into_iter()
        .next()
        .ok_or_else(|| String::from("Users holds no User"))?;
    Ok(SoapRequest {
        mailbox,
        settings,
        version,
        to,
        action,
    })
}

/// Reads and checks a POX request; the mailbox.
pub(super) fn read_pox(text: &str) -> Result<String, String> {
    let doc = Document::parse(text).map_err(|e| format!("not XML: {e}"))?;
    let root = doc.root_element();
    if !is(&root, NS_POX_REQUEST, "Autodiscover") {
        return Err(format!(
            "the root is {}, not a POX Autodiscover",
            name(&root)
        ));
    }
    let request = only(root, NS_POX_REQUEST, "Request")?;
    let (mut email, mut schema) = (None, None);
    for c in children(request)? {
        let slot = if is(&c, NS_POX_REQUEST, "EMailAddress") {
            &mut email
        } else if is(&c, NS_POX_REQUEST, "AcceptableResponseSchema") {
            &mut schema
        } else {
            return Err(format!("unexpected {} in Request", name(&c)));
        };
        if slot.replace(leaf(c)?).is_some() {
            return Err(format!("{} twice", name(&c)));
        }
    }
    if schema.as_deref() != Some(NS_POX_OUTLOOK) {
        return Err(format!("AcceptableResponseSchema {schema:?}"));
    }
    match email {
        Some(e) if !e.is_empty() => Ok(e),
        _ => Err("no EMailAddress".into()),
    }
}

/// XML text escaping.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn user<'a>(c: &'a AdConfig, mailbox: &str) -> Option<&'a AdUser> {
    c.users
        .iter()
        .find(|u| u.smtp.eq_ignore_ascii_case(mailbox))
}

fn soap_envelope(response: &str) -> String {
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="utf-8"?>"#,
            r#"<s:Envelope xmlns:s="{soap}" xmlns:a="{wsa}"><s:Header>"#,
            r#"<a:Action s:mustUnderstand="1">{action}Response</a:Action>"#,
            r#"<h:ServerVersionInfo xmlns:h="{ad}" xmlns:i="{xsi}"><h:MajorVersion>15</h:MajorVersion>"#,
            "<h:MinorVersion>1</h:MinorVersion><h:MajorBuildNumber>2507</h:MajorBuildNumber>",
            "<h:MinorBuildNumber>6</h:MinorBuildNumber><h:Version>Exchange2015</h:Version>",
            "</h:ServerVersionInfo></s:Header><s:Body>",
            r#"<GetUserSettingsResponseMessage xmlns="{ad}"><Response xmlns:i="{xsi}">{response}</Response>"#,
            "</GetUserSettingsResponseMessage></s:Body></s:Envelope>"
        ),
        soap = NS_SOAP,
        wsa = NS_WSA,
        action = ACTION,
        ad = NS_AD,
        xsi = NS_XSI,
        response = response,
    )
}

fn user_response(code: &str, message: &str, target: Option<&str>, inner: &str) -> String {
    let target = match target {
        Some(t) => format!("<RedirectTarget>{}</RedirectTarget>", esc(t)),
        None => r#"<RedirectTarget i:nil="true"/>"#.to_owned(),
    };
    format!(
        "<ErrorCode>NoError</ErrorCode><ErrorMessage/><UserResponses><UserResponse>\
         <ErrorCode>{code}</ErrorCode><ErrorMessage>{}</ErrorMessage>{target}{inner}\
         </UserResponse></UserResponses>",
        esc(message)
    )
}

/// The value of one requested setting, or the error code when there is none.
fn setting_value(d: &Deployment, u: &AdUser, setting: &str) -> Result<String, &'static str> {
    let (major, minor, build, revision) = d.cas_version;
    let local = u.smtp.split('@').next().unwrap_or("user");
    let some = |v: &Option<String>| v.clone().ok_or("SettingIsNotAvailable");
    Ok(match setting {
        "UserDisplayName" => u.display_name.clone(),
        "AutoDiscoverSMTPAddress" => u.smtp.clone(),
        "InternalEwsUrl" => some(&d.internal_ews_url)?,
        "ExternalEwsUrl" => some(&d.external_ews_url)?,
        "CasVersion" => format!("{major:02}.{minor:02}.{build:04}.{revision:03}"),
        "EwsSupportedSchemas" if !d.ews_supported_schemas.is_empty() => {
            d.ews_supported_schemas.clone()
        }
        "EwsSupportedSchemas" => return Err("SettingIsNotAvailable"),
        "UserDN" => format!(
            "/o=First Organization/ou=Exchange Administrative Group \
             (FYDIBOHF23SPDLT)/cn=Recipients/cn={local}"
        ),
        "UserDeploymentId" => "9a5c6d6e-1d7f-4f5c-8f0e-1c2b3a4d5e6f".to_owned(),
        "InternalMailboxServer" => "mbx01.contoso.com".to_owned(),
        "MailboxDN" => "/o=First Organization/ou=Exchange Administrative Group \
             (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=MBX01/cn=Microsoft Private MDB"
            .to_owned(),
        "ActiveDirectoryServer" => "dc01.contoso.com".to_owned(),
        _ => return Err("InvalidSetting"),
    })
}

/// The answer to a `GetUserSettings` request.
pub(super) fn soap_answer(c: &AdConfig, answer: &AdAnswer, r: &SoapRequest) -> String {
    let inner = match answer {
        AdAnswer::Error(AdLevel::Response, code) => format!(
            "<ErrorCode>{}</ErrorCode><ErrorMessage>{} (simulated).</ErrorMessage>\
             <UserResponses/>",
            esc(code),
            esc(code)
        ),
        AdAnswer::Error(AdLevel::User, code) => user_response(
            code,
            &format!("{code} (simulated)."),
            None,
            "<UserSettingErrors/><UserSettings/>",
        ),
        AdAnswer::RedirectAddress(to) => user_response(
            "RedirectAddress",
            "Redirection address.",
            Some(to),
            "<UserSettingErrors/><UserSettings/>",
        ),
        AdAnswer::RedirectUrl(to) => user_response(
            "RedirectUrl",
            "Redirection URL.",
            Some(to),
            "<UserSettingErrors/><UserSettings/>",
        ),
        AdAnswer::Settings(d) => match user(c, &r.mailbox) {
            None => user_response(
                "InvalidUser",
                &format!("Invalid user: '{}'", r.mailbox),
                None,
                "<UserSettingErrors/><UserSettings/>",
            ),
            Some(u) => {
                let (mut errors, mut values) = (String::new(), String::new());
                for s in &r.settings {
                    match setting_value(d, u, s) {
                        Ok(v) => values.push_str(&format!(
                            r#"<UserSetting i:type="StringSetting"><Name>{}</Name><Value>{}</Value></UserSetting>"#,
                            esc(s),
                            esc(&v)
                        )),
                        Err(code) => errors.push_str(&format!(
                            "<UserSettingError><ErrorCode>{code}</ErrorCode><ErrorMessage>\
                             User setting '{}' is not available.</ErrorMessage>\
                             <SettingName>{}</SettingName></UserSettingError>",
                            esc(s),
                            esc(s)
                        )),
                    }
                }
                user_response(
                    "NoError",
                    "No error.",
                    None,
                    &format!(
                        "<UserSettingErrors>{errors}</UserSettingErrors>\
                         <UserSettings>{values}</UserSettings>"
                    ),
                )
            }
        },
        AdAnswer::Status(_) => String::new(),
    };
    soap_envelope(&inner)
}

/// A SOAP fault for a request that is not the documented one.
pub(super) fn soap_fault(why: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{NS_SOAP}"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>The request is not a GetUserSettings request: {}</faultstring></s:Fault></s:Body></s:Envelope>"#,
        esc(why)
    )
}

/// A POX error at the response level.
pub(super) fn pox_error(code: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{NS_POX_RESPONSE}"><Response><Error Time="12:00:00.0000000" Id="1"><ErrorCode>{}</ErrorCode><Message>{}</Message><DebugData/></Error></Response></Autodiscover>"#,
        esc(code),
        esc(message)
    )
}

/// The POX `ServerVersion`: `0111` in the top bits, then the major version (6 bits), the
/// minor (6 bits), a set bit and the build (15 bits), in hex (`738180DA` is 14.1.218).
fn pox_version((major, minor, build, _): (u32, u32, u32, u32)) -> String {
    format!(
        "{:08X}",
        (0x7 << 28) | ((major & 0x3F) << 22) | ((minor & 0x3F) << 16) | 0x8000 | (build & 0x7FFF)
    )
}

fn pox_outlook(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{NS_POX_RESPONSE}"><Response xmlns="{NS_POX_OUTLOOK}">{inner}</Response></Autodiscover>"#
    )
}

/// The answer to a POX request for `mailbox`.
pub(super) fn pox_answer(c: &AdConfig, answer: &AdAnswer, mailbox: &str) -> String {
    match answer {
        AdAnswer::Error(AdLevel::Response, code) => pox_error(code, "Simulated error."),
        AdAnswer::Error(AdLevel::User, code) => pox_outlook(&format!(
            "<Account><AccountType>email</AccountType><Error><ErrorCode>{}</ErrorCode>\
             <Message>Simulated error.</Message></Error></Account>",
            esc(code)
        )),
        AdAnswer::RedirectAddress(to) => pox_outlook(&format!(
            "<Account><AccountType>email</AccountType><Action>redirectAddr</Action>\
             <RedirectAddr>{}</RedirectAddr></Account>",
            esc(to)
        )),
        AdAnswer::RedirectUrl(to) => pox_outlook(&format!(
            "<Account><AccountType>email</AccountType><Action>redirectUrl</Action>\
             <RedirectUrl>{}</RedirectUrl></Account>",
            esc(to)
        )),
        AdAnswer::Settings(d) => match user(c, mailbox) {
            None => pox_error("500", "The email address can't be found."),
            Some(u) => {
                let mut protocols = String::new();
                if let Some(url) = &d.internal_ews_url {
                    protocols.push_str(&format!(
                        "<Protocol><Type>EXCH</Type><Server>mbx01.contoso.com</Server>\
                         <ServerVersion>{}</ServerVersion><EwsUrl>{}</EwsUrl></Protocol>",
                        pox_version(d.cas_version),
                        esc(url)
                    ));
                }
                if let Some(url) = &d.external_ews_url {
                    protocols.push_str(&format!(
                        "<Protocol><Type>EXPR</Type><Server>mail.contoso.com</Server>\
                         <EwsUrl>{}</EwsUrl></Protocol>",
                        esc(url)
                    ));
                }
                pox_outlook(&format!(
                    "<User><DisplayName>{}</DisplayName><AutoDiscoverSMTPAddress>{}\
                     </AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType>\
                     <Action>settings</Action>{protocols}</Account>",
                    esc(&u.display_name),
                    esc(&u.smtp)
                ))
            }
        },
        AdAnswer::Status(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pox_version_encodes_as_microsoft_documents() {
        assert_eq!(pox_version((14, 1, 218, 0)), "738180DA");
    }

    #[test]
    fn requests_that_are_not_the_documented_shape_are_refused() {
        let good = format!(
            r#"<e:Envelope xmlns:e="{NS_SOAP}" xmlns:q="{NS_AD}"><e:Body><q:GetUserSettingsRequestMessage><q:Request><q:Users><q:User><q:Mailbox>kim@contoso.com</q:Mailbox></q:User></q:Users><q:RequestedSettings><q:Setting>CasVersion</q:Setting></q:RequestedSettings></q:Request></q:GetUserSettingsRequestMessage></e:Body></e:Envelope>"#
        );
        let r = read_soap(&good).unwrap();
        assert_eq!(
            (r.mailbox.as_str(), r.settings.len()),
            ("kim@contoso.com", 1)
        );
        for bad in [
            good.replace(
                NS_AD,
                "https://schemas.microsoft.com/exchange/2010/Autodiscover",
            ),
            good.replace("<q:Users>", "<q:Extra/><q:Users>"),
            good.replace("<q:Setting>CasVersion</q:Setting>", ""),
        ] {
            assert!(read_soap(&bad).is_err(), "{bad}");
        }
        let pox = format!(
            r#"<Autodiscover xmlns="{NS_POX_REQUEST}"><Request><EMailAddress>kim@contoso.com</EMailAddress><AcceptableResponseSchema>{NS_POX_OUTLOOK}</AcceptableResponseSchema></Request></Autodiscover>"#
        );
        assert_eq!(read_pox(&pox).unwrap(), "kim@contoso.com");
        assert!(read_pox(&pox.replace("2006a", "2006")).is_err());
    }
}
