//! The two requests: SOAP `GetUserSettings` (Exchange 2010 and later) and the POX
//! `autodiscover.xml` request (Exchange 2007 and later).

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Uri};

use crate::error::UsageError;
use crate::soap::ExchangeVersion;
use crate::types::EmailAddress;
use crate::xml::BodyWriter;

/// The `SOAPAction` (and `wsa:Action`) of `GetUserSettings`.
pub const GET_USER_SETTINGS_ACTION: &str =
    "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings";

/// A setting `GetUserSettings` can ask for (`RequestedSettings/Setting`).
///
/// The names are the schema's; [`UserSettingName::DEFAULT`] is what discovery asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserSettingName {
    /// `UserDisplayName`: the mailbox owner's display name.
    UserDisplayName,
    /// `UserDN`: the user's legacy distinguished name.
    UserDN,
    /// `UserDeploymentId`.
    UserDeploymentId,
    /// `InternalMailboxServer`.
    InternalMailboxServer,
    /// `MailboxDN`.
    MailboxDN,
    /// `ActiveDirectoryServer`.
    ActiveDirectoryServer,
    /// `CasVersion`: the Client Access server's version (`15.1.2507.6`).
    CasVersion,
    /// `EwsSupportedSchemas`: the `RequestServerVersion` values the server accepts.
    EwsSupportedSchemas,
    /// `InternalEwsUrl`: the EWS URL inside the organisation's network.
    InternalEwsUrl,
    /// `ExternalEwsUrl`: the EWS URL from the Internet.
    ExternalEwsUrl,
    /// `AutoDiscoverSMTPAddress`: the mailbox's primary SMTP address.
    AutoDiscoverSmtpAddress,
}

impl UserSettingName {
    /// What discovery asks for: the display name, the primary SMTP address, both EWS URLs
    /// and the two version settings.
    pub const DEFAULT: &'static [UserSettingName] = &[
        UserSettingName::UserDisplayName,
        UserSettingName::AutoDiscoverSmtpAddress,
        UserSettingName::InternalEwsUrl,
        UserSettingName::ExternalEwsUrl,
        UserSettingName::CasVersion,
        UserSettingName::EwsSupportedSchemas,
    ];

    /// The name as written in `Setting` and read back in `UserSetting/Name`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UserSettingName::UserDisplayName => "UserDisplayName",
            UserSettingName::UserDN => "UserDN",
            UserSettingName::UserDeploymentId => "UserDeploymentId",
            UserSettingName::InternalMailboxServer => "InternalMailboxServer",
            UserSettingName::MailboxDN => "MailboxDN",
            UserSettingName::ActiveDirectoryServer => "ActiveDirectoryServer",
            UserSettingName::CasVersion => "CasVersion",
            UserSettingName::EwsSupportedSchemas => "EwsSupportedSchemas",
            UserSettingName::InternalEwsUrl => "InternalEwsUrl",
            UserSettingName::ExternalEwsUrl => "ExternalEwsUrl",
            UserSettingName::AutoDiscoverSmtpAddress => "AutoDiscoverSMTPAddress",
        }
    }
}

/// The SOAP `GetUserSettings` request for `mailbox` to the Autodiscover service at `url`
/// (it is also the `wsa:To` header), asking for `settings`, with
/// `RequestedServerVersion` `version`.
///
/// Namespaces are the `http://` ones (Microsoft's pages print some as `https://`, a
/// documentation error no server accepts). Headers: `Content-Type: text/xml;
/// charset=utf-8` and the `SOAPAction`; no `Authorization` (the state machine adds it).
///
/// ```
/// use ews_proto::ExchangeVersion;
/// use ews_proto::autodiscover::{UserSettingName, soap_request};
/// let request = soap_request(
///     &"https://autodiscover.contoso.com/autodiscover/autodiscover.svc".parse()?,
///     &"kim@contoso.com".parse()?,
///     ExchangeVersion::Exchange2010,
///     UserSettingName::DEFAULT,
/// )?;
/// assert_eq!(request.method(), http::Method::POST);
/// let body = std::str::from_utf8(request.body())?;
/// assert!(body.contains("<a:Mailbox>kim@contoso.com</a:Mailbox>"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`UsageError::InvalidCharacter`] when the URL or the address holds a character XML
/// cannot carry (a parsed [`Uri`] and [`EmailAddress`] never do).
pub fn soap_request(
    url: &Uri,
    mailbox: &EmailAddress,
    version: ExchangeVersion,
    settings: &[UserSettingName],
) -> Result<http::Request<Bytes>, UsageError> {
    let mut buf = BytesMut::with_capacity(1536);
    let mut w = BodyWriter::new(&mut buf);
    w.raw(concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<soap:Envelope xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover""#,
        r#" xmlns:wsa="http://www.w3.org/2005/08/addressing""#,
        r#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#,
        r#" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">"#,
        "<soap:Header><a:RequestedServerVersion>"
    ));
    w.raw(version.as_str());
    w.raw("</a:RequestedServerVersion><wsa:Action>");
    w.raw(GET_USER_SETTINGS_ACTION);
    w.raw("</wsa:Action><wsa:To>");
    w.text(&url.to_string(), "wsa:To")?;
    w.raw(concat!(
        "</wsa:To></soap:Header><soap:Body>",
        r#"<a:GetUserSettingsRequestMessage xmlns:a="http://schemas.microsoft.com/exchange/2010/Autodiscover">"#,
        "<a:Request><a:Users><a:User><a:Mailbox>"
    ));
    w.text(mailbox.as_str(), "Mailbox")?;
    w.raw("</a:Mailbox></a:User></a:Users><a:RequestedSettings>");
    for setting in settings {
        w.raw("<a:Setting>");
        w.raw(setting.as_str());
        w.raw("</a:Setting>");
    }
    w.raw("</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></soap:Body></soap:Envelope>");
    let mut request = post(url, buf.freeze());
    request.headers_mut().insert(
        SOAP_ACTION,
        HeaderValue::from_static(
            "\"http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/GetUserSettings\"",
        ),
    );
    Ok(request)
}

/// The POX request for `mailbox` to `url` (an `autodiscover.xml`), asking for the
/// Outlook response schema (`.../outlook/responseschema/2006a`).
///
/// ```
/// use ews_proto::autodiscover::pox_request;
/// let request = pox_request(
///     &"https://contoso.com/autodiscover/autodiscover.xml".parse()?,
///     &"kim@contoso.com".parse()?,
/// )?;
/// assert!(std::str::from_utf8(request.body())?.contains("<EMailAddress>kim@contoso.com</EMailAddress>"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// As [`soap_request`].
pub fn pox_request(url: &Uri, mailbox: &EmailAddress) -> Result<http::Request<Bytes>, UsageError> {
    let mut buf = BytesMut::with_capacity(512);
    let mut w = BodyWriter::new(&mut buf);
    w.raw(concat!(
        r#"<?xml version="1.0" encoding="utf-8"?>"#,
        r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">"#,
        "<Request><EMailAddress>"
    ));
    w.text(mailbox.as_str(), "EMailAddress")?;
    w.raw(concat!(
        "</EMailAddress><AcceptableResponseSchema>",
        "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a",
        "</AcceptableResponseSchema></Request></Autodiscover>"
    ));
    Ok(post(url, buf.freeze()))
}

/// The unauthenticated `GET` of the http redirect probe: no body, no credentials.
pub(crate) fn probe_request(url: &Uri) -> http::Request<Bytes> {
    let mut request = http::Request::new(Bytes::new());
    *request.uri_mut() = url.clone();
    request
}

const SOAP_ACTION: HeaderName = HeaderName::from_static("soapaction");

fn post(url: &Uri, body: Bytes) -> http::Request<Bytes> {
    let mut request = http::Request::new(body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = url.clone();
    let headers = request.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    headers.insert(ACCEPT, HeaderValue::from_static("text/xml"));
    request
}
