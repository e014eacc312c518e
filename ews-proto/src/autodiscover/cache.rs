//! [`Cache`]: discovery results per (domain, credentials), kept and dropped by the caller.

use crate::autodiscover::Discovered;
use crate::client::Credentials;
use crate::types::EmailAddress;

/// Discovery results per (domain of the address, credentials), so that a second client
/// for the same mailbox domain and identity skips discovery.
///
/// The caller owns it: keep it as long as the results should be reused, [`Cache::forget`]
/// a domain after its client fails (the endpoint may have moved), drop it to forget all.
/// Plain data, no clock and no lock: a face that shares one between threads wraps it in a
/// mutex. `Debug` shows user names but never passwords.
///
/// ```
/// use ews_proto::Credentials;
/// use ews_proto::autodiscover::Cache;
/// let mut cache = Cache::default();
/// let kim = "kim@contoso.com".parse()?;
/// assert!(cache.get(&kim, &Credentials::basic("kim@contoso.com", "pw")).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cache {
    entries: Vec<(String, Credentials, Discovered)>,
}

impl Cache {
    /// The result for `email`'s domain with these credentials, if kept.
    pub fn get(&self, email: &EmailAddress, credentials: &Credentials) -> Option<&Discovered> {
        let domain = domain(email);
        self.entries
            .iter()
            .find(|(d, c, _)| *d == domain && c == credentials)
            .map(|(_, _, found)| found)
    }

    /// Keeps `found` for `email`'s domain and these credentials (replacing an older one).
    pub fn insert(&mut self, email: &EmailAddress, credentials: &Credentials, found: Discovered) {
        let domain = domain(email);
        self.entries
            .retain(|(d, c, _)| !(*d == domain && c == credentials));
        self.entries.push((domain, credentials.clone(), found));
    }

    /// Forgets every result for `domain`.
    pub fn forget(&mut self, domain: &str) {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        self.entries.retain(|(d, _, _)| *d != domain);
    }

    /// How many results are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn domain(email: &EmailAddress) -> String {
    let s = email.as_str();
    s.rsplit_once('@')
        .map_or(s, |(_, d)| d)
        .trim_end_matches('.')
        .to_ascii_lowercase()
}
