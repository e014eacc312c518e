//! The answers: SOAP `GetUserSettingsResponseMessage` and the POX `Autodiscover`
//! response, read by namespace URI and local name (any prefix), into one [`Answer`].

use std::fmt;

use crate::error::{Bounded, Limit, MalformedKind, ServerError};
use crate::soap::{ExchangeVersion, Fault};
use crate::types::Unrecognized;
use crate::xml::{BodyReader, Element, Limits, XmlNs};

/// What an Autodiscover server answered, from either protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// The user's settings (they may still lack some, see
    /// [`UserSettings::setting_errors`]).
    Settings(Box<UserSettings>),
    /// `RedirectAddress` (SOAP) or `redirectAddr` (POX): start again with this address.
    RedirectAddress(String),
    /// `RedirectUrl` (SOAP) or `redirectUrl` (POX): ask this Autodiscover URL instead.
    RedirectUrl(String),
    /// An `ErrorCode` other than `NoError` at the response or the user level.
    Error {
        /// Where it was read.
        level: ErrorLevel,
        /// The code.
        code: ErrorCode,
        /// `ErrorMessage` / `Message`, bounded and escaped.
        message: String,
    },
}

/// The three levels at which a `GetUserSettings` answer carries an `ErrorCode` (POX has
/// the first two: `Response/Error` and `Account/Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorLevel {
    /// `Response/ErrorCode`: the request as a whole.
    Response,
    /// `UserResponse/ErrorCode`: the one user asked about.
    User,
    /// `UserSettingError/ErrorCode`: one setting.
    Setting,
}

impl fmt::Display for ErrorLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorLevel::Response => "response",
            ErrorLevel::User => "user",
            ErrorLevel::Setting => "setting",
        })
    }
}

/// An Autodiscover `ErrorCode`. POX answers carry numbers (`500`, `600`, ...), kept as
/// [`ErrorCode::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `NoError`.
    NoError,
    /// `RedirectAddress`: ask again with another address.
    RedirectAddress,
    /// `RedirectUrl`: ask another Autodiscover URL.
    RedirectUrl,
    /// `InvalidUser`.
    InvalidUser,
    /// `InvalidRequest`.
    InvalidRequest,
    /// `InvalidSetting`.
    InvalidSetting,
    /// `SettingIsNotAvailable` (an internal-only deployment has no `ExternalEwsUrl`).
    SettingIsNotAvailable,
    /// `ServerBusy`: retried through the [`RetryPolicy`](crate::RetryPolicy).
    ServerBusy,
    /// `InvalidDomain`.
    InvalidDomain,
    /// `NotFederated`.
    NotFederated,
    /// `InternalServerError`.
    InternalServerError,
    /// Anything else, as sent.
    Other(Unrecognized),
}

impl ErrorCode {
    /// The code for `text` as sent.
    pub fn from_wire(text: &str) -> Self {
        match text.trim() {
            "NoError" => ErrorCode::NoError,
            "RedirectAddress" => ErrorCode::RedirectAddress,
            "RedirectUrl" => ErrorCode::RedirectUrl,
            "InvalidUser" => ErrorCode::InvalidUser,
            "InvalidRequest" => ErrorCode::InvalidRequest,
            "InvalidSetting" => ErrorCode::InvalidSetting,
            "SettingIsNotAvailable" => ErrorCode::SettingIsNotAvailable,
            "ServerBusy" => ErrorCode::ServerBusy,
            "InvalidDomain" => ErrorCode::InvalidDomain,
            "NotFederated" => ErrorCode::NotFederated,
            "InternalServerError" => ErrorCode::InternalServerError,
            other => ErrorCode::Other(Unrecognized::new(other)),
        }
    }

    /// The code as sent.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::NoError => "NoError",
            ErrorCode::RedirectAddress => "RedirectAddress",
            ErrorCode::RedirectUrl => "RedirectUrl",
            ErrorCode::InvalidUser => "InvalidUser",
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::InvalidSetting => "InvalidSetting",
            ErrorCode::SettingIsNotAvailable => "SettingIsNotAvailable",
            ErrorCode::ServerBusy => "ServerBusy",
            ErrorCode::InvalidDomain => "InvalidDomain",
            ErrorCode::NotFederated => "NotFederated",
            ErrorCode::InternalServerError => "InternalServerError",
            ErrorCode::Other(o) => o.as_str(),
        }
    }
}

/// Bounded and escaped: a code is server text.
impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Bounded(self.as_str()))
    }
}

/// One setting the server could not return (`UserSettingError`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettingError {
    /// `SettingName`, bounded and escaped.
    pub setting: String,
    /// `ErrorCode`.
    pub code: ErrorCode,
    /// `ErrorMessage`, bounded and escaped.
    pub message: String,
}

/// The settings an answer held. Every field is optional on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserSettings {
    /// `InternalEwsUrl` (POX: the `EXCH` protocol's `EwsUrl`).
    pub internal_ews_url: Option<String>,
    /// `ExternalEwsUrl` (POX: the `EXPR` protocol's `EwsUrl`).
    pub external_ews_url: Option<String>,
    /// `UserDisplayName` (POX: `User/DisplayName`).
    pub display_name: Option<String>,
    /// `AutoDiscoverSMTPAddress` (POX: `User/AutoDiscoverSMTPAddress`).
    pub smtp_address: Option<String>,
    /// `CasVersion` (`15.1.2507.6`), or the POX `ServerVersion` decoded the same way.
    pub server_version: Option<(u32, u32, u32)>,
    /// `EwsSupportedSchemas`, the values this crate knows.
    pub ews_supported_schemas: Vec<ExchangeVersion>,
    /// The settings the server could not return.
    pub setting_errors: Vec<SettingError>,
}

impl UserSettings {
    /// The `RequestServerVersion` to send to this server: the newest of
    /// `EwsSupportedSchemas`, else the one its version implies (8.0 `Exchange2007`, 8.1+
    /// `Exchange2007_SP1`, 14.0 `Exchange2010`, 14.1 `Exchange2010_SP1`, 14.2+
    /// `Exchange2010_SP2`, 15.0 `Exchange2013` (from build 847 `Exchange2013_SP1`),
    /// 15.1 and later `Exchange2016`); `None` when neither is known.
    pub fn request_version(&self) -> Option<ExchangeVersion> {
        if let Some(newest) = self.ews_supported_schemas.iter().max() {
            return Some(*newest);
        }
        let (major, minor, build) = self.server_version?;
        Some(match (major, minor) {
            (8, 0) => ExchangeVersion::Exchange2007,
            (8, _) => ExchangeVersion::Exchange2007_SP1,
            (14, 0) => ExchangeVersion::Exchange2010,
            (14, 1) => ExchangeVersion::Exchange2010_SP1,
            (14, _) => ExchangeVersion::Exchange2010_SP2,
            (15, 0) if build >= 847 => ExchangeVersion::Exchange2013_SP1,
            (15, 0) => ExchangeVersion::Exchange2013,
            (m, _) if m >= 15 => ExchangeVersion::Exchange2016,
            _ => return None,
        })
    }
}

/// `a.b.c[.d]` as (major, minor, build).
fn dotted_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next()??;
    let build = parts.next().flatten().unwrap_or(0);
    Some((major, minor, build))
}

/// The POX `ServerVersion`: 32 bits in hex, the major version in bits 22..28, the minor
/// in bits 16..22, the build in bits 0..15 (`738180DA` is 14.1.218).
fn pox_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = u32::from_str_radix(text.trim(), 16).ok()?;
    Some(((v >> 22) & 0x3F, (v >> 16) & 0x3F, v & 0x7FFF))
}

/// Reads a SOAP `GetUserSettings` answer body (a 2xx answer's).
///
/// ```
/// use ews_proto::Limits;
/// use ews_proto::autodiscover::{Answer, decode_soap};
/// let body = br#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <GetUserSettingsResponseMessage xmlns="http://schemas.microsoft.com/exchange/2010/Autodiscover">
///     <Response><ErrorCode>NoError</ErrorCode><UserResponses><UserResponse>
///       <ErrorCode>NoError</ErrorCode><UserSettings>
///         <UserSetting><Name>ExternalEwsUrl</Name><Value>https://mail.contoso.com/EWS/Exchange.asmx</Value></UserSetting>
///       </UserSettings></UserResponse></UserResponses></Response>
///   </GetUserSettingsResponseMessage></s:Body></s:Envelope>"#;
/// let Answer::Settings(s) = decode_soap(body, &Limits::default())? else { panic!() };
/// assert_eq!(s.external_ews_url.as_deref(), Some("https://mail.contoso.com/EWS/Exchange.asmx"));
/// # Ok::<(), ews_proto::ServerError>(())
/// ```
///
/// # Errors
/// [`ServerError::Malformed`] for a body that is not this answer, [`ServerError::Fault`]
/// for a SOAP fault, [`ServerError::LimitExceeded`] past `limits`.
pub fn decode_soap(body: &[u8], limits: &Limits) -> Result<Answer, ServerError> {
    let text = xml_text(body, limits)?;
    let mut r = BodyReader::new(text, *limits);
    let envelope = root(&mut r)?;
    if !envelope.is(XmlNs::Soap, "Envelope") {
        return Err(envelope.malformed(
            MalformedKind::NotSoap,
            format!("expected a SOAP Envelope, found {}", envelope.local_name()),
        ));
    }
    let mut found: Option<Result<Answer, ServerError>> = None;
    r.children(&envelope, |r, part| {
        if !part.is(XmlNs::Soap, "Body") || found.is_some() {
            return Ok(());
        }
        r.children(&part, |r, e| {
            if found.is_some() {
                return Ok(());
            }
            if e.is(XmlNs::Soap, "Fault") {
                found = Some(Err(ServerError::Fault(Box::new(Fault::read(r, &e)?))));
            } else if e.is(XmlNs::Autodiscover, "GetUserSettingsResponseMessage") {
                found = Some(Ok(read_message(r, &e)?));
            } else {
                return Err(e.malformed(
                    MalformedKind::UnexpectedElement,
                    format!(
                        "expected GetUserSettingsResponseMessage, found {}",
                        e.local_name()
                    ),
                ));
            }
            Ok(())
        })
    })?;
    end_of_document(&mut r)?;
    found.unwrap_or_else(|| {
        Err(envelope.malformed(
            MalformedKind::MissingElement,
            "the SOAP Body holds no GetUserSettingsResponseMessage",
        ))
    })
}

fn read_message<'a>(r: &mut BodyReader<'a>, message: &Element<'a>) -> Result<Answer, ServerError> {
    let mut answer = None;
    r.children(message, |r, e| {
        if e.is(XmlNs::Autodiscover, "Response") && answer.is_none() {
            answer = Some(read_response(r, &e)?);
        }
        Ok::<_, ServerError>(())
    })?;
    answer.ok_or_else(|| {
        message.malformed(
            MalformedKind::MissingElement,
            "GetUserSettingsResponseMessage holds no Response",
        )
    })
}

/// `Response`: its own `ErrorCode` first, then the first `UserResponse`.
fn read_response<'a>(
    r: &mut BodyReader<'a>,
    response: &Element<'a>,
) -> Result<Answer, ServerError> {
    let mut code = ErrorCode::NoError;
    let mut message = String::new();
    let mut user = None;
    r.children(response, |r, e| {
        if e.ns() != XmlNs::Autodiscover {
            return Ok(());
        }
        match e.local_name() {
            "ErrorCode" => code = ErrorCode::from_wire(&r.text(&e)?),
            "ErrorMessage" => message = bounded(&r.text(&e)?),
            "UserResponses" => r.children(&e, |r, u| {
                if u.is(XmlNs::Autodiscover, "UserResponse") {
                    r.count_item()?;
                    if user.is_none() {
                        user = Some(read_user(r, &u)?);
                    }
                }
                Ok::<_, ServerError>(())
            })?,
            _ => {}
        }
        Ok::<_, ServerError>(())
    })?;
    if code != ErrorCode::NoError {
        return Ok(Answer::Error {
            level: ErrorLevel::Response,
            code,
            message,
        });
    }
    user.ok_or_else(|| {
        response.malformed(
            MalformedKind::MissingElement,
            "a NoError Response holds no UserResponse",
        )
    })
}

fn read_user<'a>(r: &mut BodyReader<'a>, user: &Element<'a>) -> Result<Answer, ServerError> {
    let mut code = ErrorCode::NoError;
    let mut message = String::new();
    let mut target = None;
    let mut settings = UserSettings::default();
    r.children(user, |r, e| {
        if e.ns() != XmlNs::Autodiscover {
            return Ok(());
        }
        match e.local_name() {
            "ErrorCode" => code = ErrorCode::from_wire(&r.text(&e)?),
            "ErrorMessage" => message = bounded(&r.text(&e)?),
            "RedirectTarget" => {
                let text = r.text(&e)?;
                let text = text.trim();
                if !text.is_empty() {
                    target = Some(text.to_owned());
                }
            }
            "UserSettingErrors" => r.children(&e, |r, s| {
                if s.is(XmlNs::Autodiscover, "UserSettingError") {
                    r.count_item()?;
                    settings.setting_errors.push(read_setting_error(r, &s)?);
                }
                Ok::<_, ServerError>(())
            })?,
            "UserSettings" => r.children(&e, |r, s| {
                if s.is(XmlNs::Autodiscover, "UserSetting") {
                    r.count_item()?;
                    read_setting(r, &s, &mut settings)?;
                }
                Ok::<_, ServerError>(())
            })?,
            _ => {}
        }
        Ok::<_, ServerError>(())
    })?;
    let redirect = |kind: &str| {
        target.clone().ok_or_else(|| {
            user.malformed(
                MalformedKind::MissingElement,
                format!("{kind} without a RedirectTarget"),
            )
        })
    };
    Ok(match code {
        ErrorCode::NoError => Answer::Settings(Box::new(settings)),
        ErrorCode::RedirectAddress => Answer::RedirectAddress(redirect("RedirectAddress")?),
        ErrorCode::RedirectUrl => Answer::RedirectUrl(redirect("RedirectUrl")?),
        code => Answer::Error {
            level: ErrorLevel::User,
            code,
            message,
        },
    })
}

fn read_setting_error<'a>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
) -> Result<SettingError, ServerError> {
    let mut error = SettingError {
        setting: String::new(),
        code: ErrorCode::NoError,
        message: String::new(),
    };
    r.children(e, |r, c| {
        if c.ns() != XmlNs::Autodiscover {
            return Ok(());
        }
        match c.local_name() {
            "ErrorCode" => error.code = ErrorCode::from_wire(&r.text(&c)?),
            "ErrorMessage" => error.message = bounded(&r.text(&c)?),
            "SettingName" => error.setting = bounded(r.text(&c)?.trim()),
            _ => {}
        }
        Ok::<_, ServerError>(())
    })?;
    Ok(error)
}

/// One `UserSetting`: a `Name` and, for a `StringSetting`, a `Value` (the URL and
/// protocol collections have none and are skipped).
fn read_setting<'a>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
    settings: &mut UserSettings,
) -> Result<(), ServerError> {
    let mut name = None;
    let mut value = None;
    r.children(e, |r, c| {
        if c.is(XmlNs::Autodiscover, "Name") {
            name = Some(r.text(&c)?.trim().to_owned());
        } else if c.is(XmlNs::Autodiscover, "Value") {
            value = Some(r.text(&c)?.trim().to_owned());
        }
        Ok::<_, ServerError>(())
    })?;
    let (Some(name), Some(value)) = (name, value) else {
        return Ok(());
    };
    match name.as_str() {
        "InternalEwsUrl" => settings.internal_ews_url = non_empty(value),
        "ExternalEwsUrl" => settings.external_ews_url = non_empty(value),
        "UserDisplayName" => settings.display_name = non_empty(value),
        "AutoDiscoverSMTPAddress" => settings.smtp_address = non_empty(value),
        "CasVersion" => settings.server_version = dotted_version(&value),
        "EwsSupportedSchemas" => {
            settings.ews_supported_schemas = value
                .split(',')
                .filter_map(|v| v.trim().parse().ok())
                .collect();
        }
        _ => {}
    }
    Ok(())
}

/// Reads a POX `autodiscover.xml` answer body (a 2xx answer's).
///
/// ```
/// use ews_proto::Limits;
/// use ews_proto::autodiscover::{Answer, decode_pox};
/// let body = br#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
///   <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
///     <Account><AccountType>email</AccountType><Action>redirectAddr</Action>
///       <RedirectAddr>kim@fabrikam.com</RedirectAddr></Account>
///   </Response></Autodiscover>"#;
/// assert_eq!(decode_pox(body, &Limits::default())?, Answer::RedirectAddress("kim@fabrikam.com".into()));
/// # Ok::<(), ews_proto::ServerError>(())
/// ```
///
/// # Errors
/// As [`decode_soap`] (a POX answer has no fault).
pub fn decode_pox(body: &[u8], limits: &Limits) -> Result<Answer, ServerError> {
    let text = xml_text(body, limits)?;
    let mut r = BodyReader::new(text, *limits);
    let autodiscover = root(&mut r)?;
    if !autodiscover.is(XmlNs::AutodiscoverResponse, "Autodiscover") {
        return Err(autodiscover.malformed(
            MalformedKind::UnexpectedElement,
            format!(
                "expected a POX Autodiscover element, found {}",
                autodiscover.local_name()
            ),
        ));
    }
    let mut answer = None;
    r.children(&autodiscover, |r, e| {
        if answer.is_none() && is_pox(&e, "Response") {
            answer = Some(read_pox_response(r, &e)?);
        }
        Ok::<_, ServerError>(())
    })?;
    end_of_document(&mut r)?;
    answer.ok_or_else(|| {
        autodiscover.malformed(
            MalformedKind::MissingElement,
            "Autodiscover holds no Response",
        )
    })
}

/// An element of either POX response namespace (errors come in the outer one).
fn is_pox(e: &Element<'_>, local: &str) -> bool {
    e.is(XmlNs::AutodiscoverOutlook, local) || e.is(XmlNs::AutodiscoverResponse, local)
}

#[derive(Default)]
struct PoxAccount {
    action: Option<String>,
    redirect_addr: Option<String>,
    redirect_url: Option<String>,
    error: Option<(ErrorCode, String)>,
}

fn read_pox_response<'a>(
    r: &mut BodyReader<'a>,
    response: &Element<'a>,
) -> Result<Answer, ServerError> {
    let mut settings = UserSettings::default();
    let mut account = None;
    let mut error = None;
    r.children(response, |r, e| {
        if is_pox(&e, "Error") {
            error = Some(read_pox_error(r, &e)?);
        } else if e.is(XmlNs::AutodiscoverOutlook, "User") {
            r.children(&e, |r, u| {
                if u.is(XmlNs::AutodiscoverOutlook, "DisplayName") {
                    settings.display_name = non_empty(r.text(&u)?.trim().to_owned());
                } else if u.is(XmlNs::AutodiscoverOutlook, "AutoDiscoverSMTPAddress") {
                    settings.smtp_address = non_empty(r.text(&u)?.trim().to_owned());
                }
                Ok::<_, ServerError>(())
            })?;
        } else if e.is(XmlNs::AutodiscoverOutlook, "Account") && account.is_none() {
            account = Some(read_pox_account(r, &e, &mut settings)?);
        }
        Ok::<_, ServerError>(())
    })?;
    if let Some((code, message)) = error {
        return Ok(Answer::Error {
            level: ErrorLevel::Response,
            code,
            message,
        });
    }
    let account = account.ok_or_else(|| {
        response.malformed(MalformedKind::MissingElement, "Response holds no Account")
    })?;
    if let Some((code, message)) = account.error {
        return Ok(Answer::Error {
            level: ErrorLevel::User,
            code,
            message,
        });
    }
    let missing = |what: &str| {
        response.malformed(
            MalformedKind::MissingElement,
            format!("Action {what} without its target"),
        )
    };
    Ok(match account.action.as_deref() {
        Some("redirectAddr") => Answer::RedirectAddress(
            account
                .redirect_addr
                .ok_or_else(|| missing("redirectAddr"))?,
        ),
        Some("redirectUrl") => {
            Answer::RedirectUrl(account.redirect_url.ok_or_else(|| missing("redirectUrl"))?)
        }
        _ => Answer::Settings(Box::new(settings)),
    })
}

fn read_pox_account<'a>(
    r: &mut BodyReader<'a>,
    account: &Element<'a>,
    settings: &mut UserSettings,
) -> Result<PoxAccount, ServerError> {
    let mut out = PoxAccount::default();
    r.children(account, |r, e| {
        if is_pox(&e, "Error") {
            out.error = Some(read_pox_error(r, &e)?);
            return Ok(());
        }
        if e.ns() != XmlNs::AutodiscoverOutlook {
            return Ok(());
        }
        match e.local_name() {
            "Action" => out.action = Some(r.text(&e)?.trim().to_owned()),
            "RedirectAddr" => out.redirect_addr = non_empty(r.text(&e)?.trim().to_owned()),
            "RedirectUrl" => out.redirect_url = non_empty(r.text(&e)?.trim().to_owned()),
            "Protocol" => {
                r.count_item()?;
                read_pox_protocol(r, &e, settings)?;
            }
            _ => {}
        }
        Ok::<_, ServerError>(())
    })?;
    Ok(out)
}

/// One `Protocol`: `EXCH` holds the internal EWS URL, `EXPR` the external one.
fn read_pox_protocol<'a>(
    r: &mut BodyReader<'a>,
    protocol: &Element<'a>,
    settings: &mut UserSettings,
) -> Result<(), ServerError> {
    let mut kind = None;
    let mut ews = None;
    let mut version = None;
    r.children(protocol, |r, e| {
        if e.ns() != XmlNs::AutodiscoverOutlook {
            return Ok(());
        }
        match e.local_name() {
            "Type" => kind = Some(r.text(&e)?.trim().to_owned()),
            "EwsUrl" => ews = non_empty(r.text(&e)?.trim().to_owned()),
            "ServerVersion" => version = pox_version(&r.text(&e)?),
            _ => {}
        }
        Ok::<_, ServerError>(())
    })?;
    match kind.as_deref() {
        Some("EXCH") => {
            settings.internal_ews_url = settings.internal_ews_url.take().or(ews);
            settings.server_version = settings.server_version.or(version);
        }
        Some("EXPR") => settings.external_ews_url = settings.external_ews_url.take().or(ews),
        _ => {}
    }
    Ok(())
}

fn read_pox_error<'a>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
) -> Result<(ErrorCode, String), ServerError> {
    let mut code = ErrorCode::Other(Unrecognized::new(""));
    let mut message = String::new();
    r.children(e, |r, c| {
        if is_pox(&c, "ErrorCode") {
            code = ErrorCode::from_wire(&r.text(&c)?);
        } else if is_pox(&c, "Message") {
            message = bounded(&r.text(&c)?);
        }
        Ok::<_, ServerError>(())
    })?;
    Ok((code, message))
}

/// The body as text: within the size limit, UTF-8 (a byte-order mark dropped), starting
/// with markup.
fn xml_text<'a>(body: &'a [u8], limits: &Limits) -> Result<&'a str, ServerError> {
    if body.len() > limits.max_body_bytes {
        return Err(ServerError::LimitExceeded {
            limit: Limit::BodySize,
            max: limits.max_body_bytes,
        });
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body)
        .map_err(|_| ServerError::malformed(MalformedKind::NotXml, "the body is not UTF-8", 0))?;
    if !text.trim_start().starts_with('<') {
        return Err(ServerError::malformed(
            MalformedKind::NotXml,
            "the body does not start with markup",
            0,
        ));
    }
    Ok(text)
}

fn root<'a>(r: &mut BodyReader<'a>) -> Result<Element<'a>, ServerError> {
    r.next_element()?.ok_or_else(|| {
        ServerError::malformed(
            MalformedKind::Truncated,
            "the document ends before its first element",
            r.offset(),
        )
    })
}

/// Nothing but comments, processing instructions and white space after the root.
fn end_of_document(r: &mut BodyReader<'_>) -> Result<(), ServerError> {
    match r.next_element()? {
        Some(e) => Err(e.malformed(
            MalformedKind::NotWellFormed,
            format!("a second root element, {}", e.local_name()),
        )),
        None => Ok(()),
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Server text for a message: bounded and escaped.
fn bounded(s: &str) -> String {
    Bounded(s.trim()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pox_server_version_is_decoded_from_its_bits() {
        assert_eq!(pox_version("738180DA"), Some((14, 1, 218)));
        assert_eq!(pox_version("zz"), None);
        assert_eq!(dotted_version("15.01.2507.006"), Some((15, 1, 2507)));
        assert_eq!(dotted_version("15"), None);
    }

    #[test]
    fn versions_map_to_the_request_server_version_to_send() {
        let with = |v| UserSettings {
            server_version: Some(v),
            ..UserSettings::default()
        };
        let table = [
            ((8, 0, 685), Some(ExchangeVersion::Exchange2007)),
            ((8, 3, 83), Some(ExchangeVersion::Exchange2007_SP1)),
            ((14, 0, 639), Some(ExchangeVersion::Exchange2010)),
            ((14, 1, 218), Some(ExchangeVersion::Exchange2010_SP1)),
            ((14, 3, 123), Some(ExchangeVersion::Exchange2010_SP2)),
            ((15, 0, 620), Some(ExchangeVersion::Exchange2013)),
            ((15, 0, 847), Some(ExchangeVersion::Exchange2013_SP1)),
            ((15, 1, 2507), Some(ExchangeVersion::Exchange2016)),
            ((15, 20, 1), Some(ExchangeVersion::Exchange2016)),
            ((6, 5, 1), None),
        ];
        for (v, want) in table {
            assert_eq!(with(v).request_version(), want, "{v:?}");
        }
        let schemas = UserSettings {
            server_version: Some((15, 1, 1)),
            ews_supported_schemas: vec![
                ExchangeVersion::Exchange2007,
                ExchangeVersion::Exchange2013_SP1,
                ExchangeVersion::Exchange2010,
            ],
            ..UserSettings::default()
        };
        assert_eq!(
            schemas.request_version(),
            Some(ExchangeVersion::Exchange2013_SP1)
        );
    }

    #[test]
    fn the_reader_knows_the_autodiscover_namespaces_by_uri() {
        for (uri, ns) in [
            (super::super::NS_AUTODISCOVER, XmlNs::Autodiscover),
            (super::super::NS_POX_RESPONSE, XmlNs::AutodiscoverResponse),
            (super::super::NS_POX_OUTLOOK, XmlNs::AutodiscoverOutlook),
        ] {
            let doc = format!(r#"<q:X xmlns:q="{uri}"/>"#);
            let mut r = BodyReader::new(&doc, Limits::default());
            assert_eq!(root(&mut r).unwrap().ns(), ns, "{uri}");
            let https = doc.replace("http://", "https://");
            let mut r = BodyReader::new(&https, Limits::default());
            assert_eq!(root(&mut r).unwrap().ns(), XmlNs::Other, "{https}");
        }
    }
}
