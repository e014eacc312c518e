//! The delegate tour with the async client: the same story as `ews-blocking`'s
//! `delegate-tour` (told once in `ews_tests::tour`), run here by `ews_async::Client` on a
//! tokio runtime.
//!
//! ```sh
//! cargo run -p ews-async --example async-delegate-tour             # embedded simulator
//! cargo run -p ews-async --example async-delegate-tour -- --trace  # ... with the SOAP
//! ```
//!
//! With `EWS_URL` (and the accounts' variables, see `ews_tests::tour`) it runs against
//! that server instead; with `EWS_EMAIL` instead of `EWS_URL`, against the server
//! `ews_async::Autodiscover` finds.

use std::process::ExitCode;
use std::sync::Arc;

use ews_async::proto::{Credentials, Error, Operation, Reply};
use ews_async::{Autodiscover, Client};
use ews_tests::tour::{self, Account, Failure, Tour, TourClient};

/// The async client and the runtime its calls run on, as the tour drives it.
pub(crate) struct Async(Client, Arc<tokio::runtime::Runtime>);

impl TourClient for Async {
    fn send<O>(&self, op: &O) -> Result<Reply<O::Output>, Error>
    where
        O: Operation + Sync,
        O::Output: Send,
    {
        self.1.block_on(self.0.send(op))
    }
}

/// A client for `account`, whose calls run on `runtime`.
pub(crate) fn connect(
    runtime: &Arc<tokio::runtime::Runtime>,
    tour: &Tour,
    account: &Account,
) -> Result<Async, Failure> {
    let builder = Client::builder(&tour.endpoint).credentials(account.credentials());
    let builder = match tour.version {
        Some(version) => builder.version(version),
        None => builder,
    };
    let builder = match &tour.ca_pem {
        Some(pem) => builder.add_root_certificate_pem(pem)?,
        None => builder,
    };
    let _guard = runtime.enter();
    Ok(Async(builder.build()?, Arc::clone(runtime)))
}

#[allow(dead_code)] // the tour test includes this file for `connect`
fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Arc::new(rt),
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("no tokio runtime: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    // The endpoint of an address's mailbox, by the async face's Autodiscover.
    let discover = |email: &str, credentials: Credentials, ca_pem: Option<&[u8]>| {
        let discovery = Autodiscover::new(email, credentials);
        let mut discovery = match ca_pem {
            Some(pem) => discovery.add_root_certificate_pem(pem),
            None => discovery,
        };
        runtime.block_on(discovery.discover())
    };
    tour::main("ews-async", &discover, |tour: &Tour, account: &Account| {
        connect(&runtime, tour, account)
    })
}
