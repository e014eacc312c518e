//! The request context: endpoint and the SOAP headers that go with every request.

use std::fmt;
use std::str::FromStr;

use http::Uri;

use crate::error::UsageError;
use crate::soap::ExchangeVersion;
use crate::types::{EmailAddress, Sid, TimeZoneId};
use crate::xml::{BodyWriter, Ns};

/// Where and how requests are sent: the endpoint URL plus the SOAP headers
/// (`RequestServerVersion`, `ExchangeImpersonation`, `MailboxCulture`, `TimeZoneContext`).
///
/// ```
/// use ews_proto::{ExchangeVersion, Impersonation, RequestContext};
/// let ctx = RequestContext::new("https://mail.example.com/EWS/Exchange.asmx")?
///     .with_version(ExchangeVersion::Exchange2010_SP2)
///     .with_impersonation(Impersonation::PrimarySmtpAddress("user1@example.com".parse()?))
///     .with_culture("en-US".parse()?);
/// assert_eq!(ctx.endpoint().host(), Some("mail.example.com"));
/// # Ok::<(), ews_proto::UsageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    endpoint: Uri,
    version: ExchangeVersion,
    impersonation: Option<Impersonation>,
    culture: Option<MailboxCulture>,
    time_zone: Option<TimeZoneId>,
}

impl RequestContext {
    /// A context for the EWS endpoint `url` (typically `https://HOST/EWS/Exchange.asmx`),
    /// requesting [`ExchangeVersion::default`], with no other header.
    pub fn new(url: &str) -> Result<Self, UsageError> {
        let endpoint: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| UsageError::InvalidEndpoint(e.to_string()))?;
        // User info would carry a password that is never used (credentials are set
        // apart) and would show wherever the endpoint is shown: refused, and not echoed.
        if endpoint
            .authority()
            .is_some_and(|a| a.as_str().contains('@'))
        {
            return Err(UsageError::InvalidEndpoint(
                "user info (user:password@) is not allowed in the URL; set credentials instead"
                    .to_owned(),
            ));
        }
        match endpoint.scheme_str() {
            Some("http" | "https") if endpoint.host().is_some() => {}
            _ if url.contains('@') => {
                return Err(UsageError::InvalidEndpoint(
                    "not an absolute http(s) URL".to_owned(),
                ));
            }
            _ => {
                return Err(UsageError::InvalidEndpoint(format!(
                    "{url:?} is not an absolute http(s) URL"
                )));
            }
        }
        Ok(Self {
            endpoint,
            version: ExchangeVersion::default(),
            impersonation: None,
            culture: None,
            time_zone: None,
        })
    }

    /// Sets `RequestServerVersion`.
    pub fn with_version(mut self, version: ExchangeVersion) -> Self {
        self.version = version;
        self
    }

    /// Acts as another user (`ExchangeImpersonation`); the caller's account needs the
    /// ApplicationImpersonation right.
    pub fn with_impersonation(mut self, who: Impersonation) -> Self {
        self.impersonation = Some(who);
        self
    }

    /// Stops impersonating.
    pub fn without_impersonation(mut self) -> Self {
        self.impersonation = None;
        self
    }

    /// Sets `MailboxCulture`.
    pub fn with_culture(mut self, culture: MailboxCulture) -> Self {
        self.culture = Some(culture);
        self
    }

    /// Sets `TimeZoneContext` (sent only with operations that accept it: `CreateItem`,
    /// `GetItem`, `FindItem`, ...).
    pub fn with_time_zone(mut self, tz: TimeZoneId) -> Self {
        self.time_zone = Some(tz);
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Uri {
        &self.endpoint
    }

    /// The requested server version.
    pub fn version(&self) -> ExchangeVersion {
        self.version
    }

    /// The impersonated user, if any.
    pub fn impersonation(&self) -> Option<&Impersonation> {
        self.impersonation.as_ref()
    }

    /// The mailbox culture, if any.
    pub fn culture(&self) -> Option<&MailboxCulture> {
        self.culture.as_ref()
    }

    /// The time zone, if any.
    pub fn time_zone(&self) -> Option<&TimeZoneId> {
        self.time_zone.as_ref()
    }

    /// Writes the `soap:Header` children in the WSDL's part order.
    pub(crate) fn write_headers(
        &self,
        w: &mut BodyWriter<'_>,
        with_time_zone: bool,
    ) -> Result<(), UsageError> {
        if let Some(who) = &self.impersonation {
            w.open(Ns::Types, "ExchangeImpersonation");
            w.open(Ns::Types, "ConnectingSID");
            let (element, value) = who.parts();
            w.leaf(Ns::Types, element, value)?;
            w.close(Ns::Types, "ConnectingSID");
            w.close(Ns::Types, "ExchangeImpersonation");
        }
        if let Some(c) = &self.culture {
            w.leaf(Ns::Types, "MailboxCulture", c.as_str())?;
        }
        w.open_start(Ns::Types, "RequestServerVersion");
        w.attr("Version", self.version.as_str())?;
        w.empty_end();
        if let (true, Some(tz)) = (with_time_zone, &self.time_zone) {
            w.open(Ns::Types, "TimeZoneContext");
            w.open_start(Ns::Types, "TimeZoneDefinition");
            w.attr("Id", tz.as_str())?;
            w.empty_end();
            w.close(Ns::Types, "TimeZoneContext");
        }
        Ok(())
    }
}

/// The user to act as (`ExchangeImpersonation/ConnectingSID`): exactly one identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Impersonation {
    /// By user principal name (`user@corp.example.com`).
    PrincipalName(PrincipalName),
    /// By security identifier.
    Sid(Sid),
    /// By primary SMTP address.
    PrimarySmtpAddress(EmailAddress),
    /// By any SMTP address of the user.
    SmtpAddress(EmailAddress),
}

impl Impersonation {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Impersonation::PrincipalName(p) => ("PrincipalName", p.as_str()),
            Impersonation::Sid(s) => ("SID", s.as_str()),
            Impersonation::PrimarySmtpAddress(a) => ("PrimarySmtpAddress", a.as_str()),
            Impersonation::SmtpAddress(a) => ("SmtpAddress", a.as_str()),
        }
    }

    /// The value for `X-AnchorMailbox`, which Exchange uses to route the request to the
    /// impersonated user's mailbox server. SIDs cannot be used there.
    pub(crate) fn anchor(&self) -> Option<&str> {
        match self {
            Impersonation::PrincipalName(p) => Some(p.as_str()),
            Impersonation::PrimarySmtpAddress(a) | Impersonation::SmtpAddress(a) => {
                Some(a.as_str())
            }
            Impersonation::Sid(_) => None,
        }
    }
}

/// A user principal name, non-empty and without white space.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrincipalName(Box<str>);

impl PrincipalName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PrincipalName {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, UsageError> {
        if s.is_empty() || s.len() > 1024 || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(UsageError::invalid(
                "principal name",
                "must be non-empty, without white space or control characters",
            ));
        }
        Ok(PrincipalName(s.into()))
    }
}

/// A `MailboxCulture`: a language tag such as `en-US` or `ja-JP` (`xs:language`), not a
/// display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxCulture(Box<str>);

impl MailboxCulture {
    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for MailboxCulture {
    type Err = UsageError;
    /// Accepts `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`, the `xs:language` pattern.
    fn from_str(s: &str) -> Result<Self, UsageError> {
        let mut parts = s.split('-');
        let first_ok = parts.next().is_some_and(|p| {
            (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic())
        });
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !(first_ok && rest_ok) {
            return Err(UsageError::invalid(
                "mailbox culture",
                "must be a language tag such as en-US",
            ));
        }
        Ok(MailboxCulture(s.into()))
    }
}

impl fmt::Display for MailboxCulture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cultures_follow_xs_language() {
        for ok in ["en", "en-US", "ja-JP", "zh-Hans-CN", "x-klingon1"] {
            assert!(ok.parse::<MailboxCulture>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "English (United States)",
            "en_US",
            "en-",
            "-US",
            "toolonglang",
            "1en",
        ] {
            assert!(bad.parse::<MailboxCulture>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn endpoints_must_be_absolute_http() {
        assert!(RequestContext::new("https://mail.example.com/EWS/Exchange.asmx").is_ok());
        assert!(RequestContext::new("http://127.0.0.1:8080/EWS/Exchange.asmx").is_ok());
        for bad in ["", "/EWS/Exchange.asmx", "ftp://x/y", "mail.example.com"] {
            assert!(RequestContext::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn user_info_in_the_endpoint_is_refused_without_echoing_it() {
        for bad in [
            "http://user:S3cret-pw@mail.example.com/EWS/Exchange.asmx",
            "https://user@mail.example.com/EWS/Exchange.asmx",
            "ftp://user:S3cret-pw@mail.example.com/x",
        ] {
            let e = RequestContext::new(bad).unwrap_err();
            assert!(matches!(e, UsageError::InvalidEndpoint(_)), "{bad}");
            assert!(!e.to_string().contains("S3cret"), "{e}");
            assert!(!format!("{e:?}").contains("S3cret"), "{e:?}");
        }
    }
}
