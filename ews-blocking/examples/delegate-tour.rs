//! The delegate tour with the blocking client: the story of the EWS reference pages (add a
//! delegate, fall back to GetDelegate + UpdateDelegate, send a meeting on behalf of the
//! principal, see From/Sender at the attendee, cancel it, remove the delegate), told once
//! in `ews_tests::tour` and run here by `ews_blocking::Client`.
//!
//! ```sh
//! cargo run -p ews-blocking --example delegate-tour             # embedded simulator
//! cargo run -p ews-blocking --example delegate-tour -- --trace  # ... with the SOAP
//! ```
//!
//! With `EWS_URL` (and the accounts' variables, see `ews_tests::tour`) it runs against
//! that server instead; with `EWS_EMAIL` instead of `EWS_URL`, against the server
//! `ews_blocking::Autodiscover` finds.

use std::process::ExitCode;

use ews_blocking::proto::autodiscover::{Discovered, DiscoveryError};
use ews_blocking::proto::{Credentials, Error, Operation, Reply};
use ews_blocking::{Autodiscover, Client};
use ews_tests::tour::{self, Account, Failure, Tour, TourClient};

/// The blocking client, as the tour drives it.
pub(crate) struct Blocking(Client);

impl TourClient for Blocking {
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.0.send(op)
    }
}

pub(crate) fn connect(tour: &Tour, account: &Account) -> Result<Blocking, Failure> {
    let builder = Client::builder(&tour.endpoint).credentials(account.credentials());
    let builder = match tour.version {
        Some(version) => builder.version(version),
        None => builder,
    };
    let builder = match &tour.ca_pem {
        Some(pem) => builder.add_root_certificate_pem(pem)?,
        None => builder,
    };
    Ok(Blocking(builder.build()?))
}

/// The endpoint of `email`'s mailbox, by the blocking face's Autodiscover.
#[allow(dead_code)] // the tour test includes this file for `connect`
fn discover(
    email: &str,
    credentials: Credentials,
    ca_pem: Option<&[u8]>,
) -> Result<Discovered, DiscoveryError> {
    let discovery = Autodiscover::new(email, credentials);
    match ca_pem {
        Some(pem) => discovery.add_root_certificate_pem(pem),
        None => discovery,
    }
    .discover()
}

#[allow(dead_code)] // the tour test includes this file for `connect`
fn main() -> ExitCode {
    tour::main("ews-blocking", &discover, connect)
}
