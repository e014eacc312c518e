//! [`NtlmCredentials`]: a Windows account name, split the way Windows clients split it, and
//! its password.

use crate::client::Secret;

/// The user name, domain and password NTLM authenticates with.
///
/// The name is read like Windows reads it:
///
/// | written | user sent | domain sent |
/// | --- | --- | --- |
/// | `DOMAIN\user` | `user` | `DOMAIN` |
/// | `user@example.com` (a UPN) | `user@example.com` | empty (the domain controller finds the account by UPN) |
/// | `user`, with `domain` given | `user` | `domain` |
/// | `user` | `user` | empty (the server's domain) |
///
/// The case is kept as written: NTLMv2 upper-cases the user name and keeps the domain as is
/// (MS-NLMP 3.3.2), so `DOMAIN` is sent the way it was given.
///
/// `Debug` shows the user and domain, never the password, and no error carries it.
///
/// ```
/// use ews_proto::ntlm::NtlmCredentials;
/// let c = NtlmCredentials::new(r"CONTOSO\alice", None, "pw")?;
/// assert_eq!((c.user(), c.domain()), ("alice", "CONTOSO"));
/// let c = NtlmCredentials::new("alice@contoso.com", None, "pw")?;
/// assert_eq!((c.user(), c.domain()), ("alice@contoso.com", ""));
/// let c = NtlmCredentials::new("alice", Some("CONTOSO"), "pw")?;
/// assert_eq!((c.user(), c.domain()), ("alice", "CONTOSO"));
/// assert!(!format!("{c:?}").contains("pw\""));
/// # Ok::<(), ews_proto::ntlm::UserNameError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct NtlmCredentials {
    user: String,
    domain: String,
    password: Secret<String>,
}

impl NtlmCredentials {
    /// Reads `name` (`DOMAIN\user`, `user@domain` or `user`) with an optional separate
    /// `domain` for the bare form.
    ///
    /// # Errors
    /// [`UserNameError::Empty`] for an empty user part; [`UserNameError::DomainTwice`] when
    /// `domain` is given with a name that already names one (`DOMAIN\user` or a UPN);
    /// [`UserNameError::ControlCharacter`] for a control character in the name or domain.
    pub fn new(
        name: &str,
        domain: Option<&str>,
        password: impl Into<Secret<String>>,
    ) -> Result<Self, UserNameError> {
        let given = domain.filter(|d| !d.is_empty());
        let (user, domain) = if let Some((dom, user)) = name.split_once('\\') {
            if given.is_some() {
                return Err(UserNameError::DomainTwice);
            }
            (user, dom)
        } else if name.contains('@') {
            if given.is_some() {
                return Err(UserNameError::DomainTwice);
            }
            (name, "")
        } else {
            (name, given.unwrap_or(""))
        };
        if user.is_empty() {
            return Err(UserNameError::Empty);
        }
        if user.chars().chain(domain.chars()).any(char::is_control) {
            return Err(UserNameError::ControlCharacter);
        }
        Ok(Self {
            user: user.to_owned(),
            domain: domain.to_owned(),
            password: password.into(),
        })
    }

    /// The user name sent (after splitting off a `DOMAIN\`).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The domain sent (may be empty).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub(crate) fn password(&self) -> &Secret<String> {
        &self.password
    }
}

impl std::fmt::Debug for NtlmCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NtlmCredentials")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("password", &self.password)
            .finish()
    }
}

/// A user name [`NtlmCredentials::new`] cannot use. Carries no part of the name or password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserNameError {
    /// The user part is empty (`""`, `DOMAIN\`).
    #[error("the NTLM user name is empty")]
    Empty,
    /// A domain was given separately for a name that already has one.
    #[error("a domain was given twice (in the user name and separately)")]
    DomainTwice,
    /// The name or domain holds a control character.
    #[error("the NTLM user name or domain holds a control character")]
    ControlCharacter,
}
