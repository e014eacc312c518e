//! Who: e-mail addresses, SIDs, mailboxes and user ids.

use std::fmt;
use std::str::FromStr;

use crate::error::{ServerError, UsageError};
use crate::xml::{BodyReader, BodyWriter, Element, Ns, XmlNs};

/// An SMTP address such as `user1@example.com`.
///
/// Validated on construction: one `@` with a non-empty local part and domain, no white
/// space or control characters, at most 320 bytes. Not a full RFC 5321 parser; the server
/// has the last word.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(Box<str>);

impl EmailAddress {
    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EmailAddress {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, UsageError> {
        const KIND: &str = "e-mail address";
        if s.is_empty() || s.len() > 320 {
            return Err(UsageError::invalid(KIND, "must be 1 to 320 bytes long"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UsageError::invalid(
                KIND,
                "must not contain white space or control characters",
            ));
        }
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or(UsageError::invalid(KIND, "must contain '@'"))?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(UsageError::invalid(KIND, "needs a local part and a domain"));
        }
        if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
            return Err(UsageError::invalid(KIND, "must contain exactly one '@'"));
        }
        Ok(EmailAddress(s.into()))
    }
}

impl TryFrom<&str> for EmailAddress {
    type Error = UsageError;
    fn try_from(s: &str) -> Result<Self, UsageError> {
        s.parse()
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = UsageError;
    fn try_from(s: String) -> Result<Self, UsageError> {
        s.parse()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// A Windows security identifier in string form, such as
/// `S-1-5-21-1111111111-2222222222-333333333-1116`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sid(Box<str>);

impl Sid {
    /// The SID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Sid {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, UsageError> {
        let rest = s
            .strip_prefix("S-1-")
            .ok_or(UsageError::invalid("SID", "must start with \"S-1-\""))?;
        let ok = s.len() <= 184
            && rest
                .split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(UsageError::invalid(
                "SID",
                "must be S-1- followed by dash-separated numbers",
            ));
        }
        Ok(Sid(s.into()))
    }
}

impl TryFrom<&str> for Sid {
    type Error = UsageError;
    fn try_from(s: &str) -> Result<Self, UsageError> {
        s.parse()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// The routing type of a mailbox (`SMTP`, `EX`, ...).
pub(crate) const SMTP: &str = "SMTP";

/// A mailbox (`EmailAddressType`): an address with an optional display name.
///
/// Built for requests with [`Mailbox::new`] from a validated [`EmailAddress`]. Mailboxes
/// read from answers keep what the server sent, which may be a legacy Exchange address
/// (`RoutingType` `EX`) rather than SMTP; [`Mailbox::smtp_address`] tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    name: Option<String>,
    address: Option<String>,
    routing_type: Option<String>,
    mailbox_type: Option<String>,
}

impl Mailbox {
    /// A mailbox for `address`, without a display name.
    pub fn new(address: EmailAddress) -> Self {
        Self {
            name: None,
            address: Some(address.as_str().to_owned()),
            routing_type: None,
            mailbox_type: None,
        }
    }

    /// Sets the display name sent with the address.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The display name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The address as the server sent it (an SMTP address or, with routing type `EX`, a
    /// legacy distinguished name).
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    /// The routing type (`SMTP`, `EX`, ...), if sent.
    pub fn routing_type(&self) -> Option<&str> {
        self.routing_type.as_deref()
    }

    /// The mailbox type (`Mailbox`, `PublicDL`, `Contact`, ...), if sent.
    pub fn mailbox_type(&self) -> Option<&str> {
        self.mailbox_type.as_deref()
    }

    /// The address as a validated SMTP address, when it is one.
    pub fn smtp_address(&self) -> Option<EmailAddress> {
        match self.routing_type.as_deref() {
            None | Some(SMTP) => self.address.as_deref()?.parse().ok(),
            Some(_) => None,
        }
    }

    /// Writes the `EmailAddressType` children (Name, EmailAddress) inside `ns:element`.
    pub(crate) fn write(
        &self,
        w: &mut BodyWriter<'_>,
        ns: Ns,
        element: &'static str,
    ) -> Result<(), UsageError> {
        w.open(ns, element);
        if let Some(name) = &self.name {
            w.leaf(Ns::Types, "Name", name)?;
        }
        if let Some(address) = &self.address {
            w.leaf(Ns::Types, "EmailAddress", address)?;
        }
        if let Some(rt) = &self.routing_type {
            w.leaf(Ns::Types, "RoutingType", rt)?;
        }
        w.close(ns, element);
        Ok(())
    }

    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut m = Mailbox {
            name: None,
            address: None,
            routing_type: None,
            mailbox_type: None,
        };
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            let slot = match c.local_name() {
                "Name" => &mut m.name,
                "EmailAddress" => &mut m.address,
                "RoutingType" => &mut m.routing_type,
                "MailboxType" => &mut m.mailbox_type,
                _ => return Ok(()),
            };
            *slot = Some(r.text(&c)?.into_owned());
            Ok::<_, ServerError>(())
        })?;
        Ok(m)
    }
}

impl From<EmailAddress> for Mailbox {
    fn from(address: EmailAddress) -> Self {
        Mailbox::new(address)
    }
}

/// A `DistinguishedUser` value of a [`UserId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DistinguishedUser {
    /// `Default`: the default permissions of the folder.
    Default,
    /// `Anonymous`: anonymous users.
    Anonymous,
}

impl DistinguishedUser {
    fn as_str(self) -> &'static str {
        match self {
            DistinguishedUser::Default => "Default",
            DistinguishedUser::Anonymous => "Anonymous",
        }
    }
}

/// Identifies a user (`UserIdType`): by SMTP address, SID, or as a distinguished user, with
/// an optional display name.
///
/// Requests need at least one identifier, which the constructors guarantee. Ids read from
/// answers carry whatever the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId {
    sid: Option<String>,
    primary_smtp_address: Option<String>,
    display_name: Option<String>,
    distinguished_user: Option<String>,
}

impl UserId {
    /// The user with this primary SMTP address.
    pub fn smtp(address: EmailAddress) -> Self {
        Self {
            sid: None,
            primary_smtp_address: Some(address.as_str().to_owned()),
            display_name: None,
            distinguished_user: None,
        }
    }

    /// The user with this SID.
    pub fn sid(sid: Sid) -> Self {
        Self {
            sid: Some(sid.as_str().to_owned()),
            primary_smtp_address: None,
            display_name: None,
            distinguished_user: None,
        }
    }

    /// A distinguished user (`Default` or `Anonymous`).
    pub fn distinguished(user: DistinguishedUser) -> Self {
        Self {
            sid: None,
            primary_smtp_address: None,
            display_name: None,
            distinguished_user: Some(user.as_str().to_owned()),
        }
    }

    /// Adds the SID next to the existing identifier.
    pub fn with_sid(mut self, sid: Sid) -> Self {
        self.sid = Some(sid.as_str().to_owned());
        self
    }

    /// Adds a display name (informational: servers identify the user by the other fields).
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// The SID, if present.
    pub fn sid_str(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The primary SMTP address, if present.
    pub fn primary_smtp_address(&self) -> Option<&str> {
        self.primary_smtp_address.as_deref()
    }

    /// The display name, if present.
    pub fn display_name(&self) -> Option<&str> {
        self.display_name.as_deref()
    }

    /// The distinguished user (`Default`, `Anonymous`), if present.
    pub fn distinguished_user(&self) -> Option<&str> {
        self.distinguished_user.as_deref()
    }

    /// Does `other` name the same user? Compares SMTP addresses case-insensitively, then
    /// SIDs.
    pub fn same_user(&self, other: &UserId) -> bool {
        if let (Some(a), Some(b)) = (&self.primary_smtp_address, &other.primary_smtp_address) {
            return a.eq_ignore_ascii_case(b);
        }
        match (&self.sid, &other.sid) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        }
    }

    /// Writes `<t:UserId>` in schema order: SID, PrimarySmtpAddress, DisplayName,
    /// DistinguishedUser.
    pub(crate) fn write(&self, w: &mut BodyWriter<'_>, ns: Ns) -> Result<(), UsageError> {
        w.open(ns, "UserId");
        if let Some(v) = &self.sid {
            w.leaf(Ns::Types, "SID", v)?;
        }
        if let Some(v) = &self.primary_smtp_address {
            w.leaf(Ns::Types, "PrimarySmtpAddress", v)?;
        }
        if let Some(v) = &self.display_name {
            w.leaf(Ns::Types, "DisplayName", v)?;
        }
        if let Some(v) = &self.distinguished_user {
            w.leaf(Ns::Types, "DistinguishedUser", v)?;
        }
        w.close(ns, "UserId");
        Ok(())
    }

    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut id = UserId {
            sid: None,
            primary_smtp_address: None,
            display_name: None,
            distinguished_user: None,
        };
        r.children(e, |r, c| {
            if c.ns() != XmlNs::Types {
                return Ok(());
            }
            let slot = match c.local_name() {
                "SID" => &mut id.sid,
                "PrimarySmtpAddress" => &mut id.primary_smtp_address,
                "DisplayName" => &mut id.display_name,
                "DistinguishedUser" => &mut id.distinguished_user,
                _ => return Ok(()),
            };
            *slot = Some(r.text(&c)?.trim().to_owned());
            Ok::<_, ServerError>(())
        })?;
        Ok(id)
    }
}

impl From<EmailAddress> for UserId {
    fn from(address: EmailAddress) -> Self {
        UserId::smtp(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_validated() {
        for ok in [
            "user1@example.com",
            "a@b",
            "first.last+tag@sub.example.org",
            "\"a@b\"@c",
        ] {
            assert!(ok.parse::<EmailAddress>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "user",
            "@example.com",
            "user@",
            "a b@c",
            "a@b@c",
            "a\n@b",
        ] {
            assert!(bad.parse::<EmailAddress>().is_err(), "{bad:?}");
        }
        assert!("x".repeat(400).parse::<EmailAddress>().is_err());
    }

    #[test]
    fn sids_are_validated() {
        assert!(
            "S-1-5-21-1111111111-2222222222-333333333-1116"
                .parse::<Sid>()
                .is_ok()
        );
        for bad in ["", "S-1-", "S-2-5", "S-1-5-x", "S-1-5--1", "s-1-5"] {
            assert!(bad.parse::<Sid>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn same_user_compares_addresses_case_insensitively() {
        let a = UserId::smtp("User1@Example.com".parse().unwrap());
        let b = UserId::smtp("user1@example.com".parse().unwrap());
        assert!(a.same_user(&b));
        let s = UserId::sid("S-1-5-21-1".parse().unwrap());
        assert!(!a.same_user(&s));
    }
}
