//! What both drivers trace: one span per operation with its fields, the SOAP bodies at
//! trace level, and never the `Authorization` header or a password.
//!
//! This binary holds exactly one test and installs a *global* subscriber. `tracing` caches
//! each callsite's interest process-wide; with a scoped (`set_default`) subscriber, a test
//! running in parallel on another thread could register the drivers' callsites first and
//! cache "not interested", so the spans would silently lose fields. Alone in its process the
//! test cannot race.

use std::sync::{Arc, Mutex};

use ews_proto::{Credentials, EmailAddress, ExchangeVersion};
use ews_tests::{SimConfig, Simulator};

/// A `MakeWriter` that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, and forget it.
    fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().expect("a writer panicked"));
        String::from_utf8(bytes).expect("the fmt layer writes UTF-8")
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("a writer panicked")
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

const PASSWORD: &str = "Passw0rd-1";

fn assert_trace(driver: &str, text: &str, request_id: &str) {
    for wanted in [
        "operation=\"GetDelegate\"",
        "mailbox=\"user1@example.com\"",
        "attempt=1",
        "status=200",
        &format!("request_id=\"{request_id}\""),
        "server_version=15.",
        "<m:GetDelegate ",
        "GetDelegateResponse",
    ] {
        assert!(
            text.contains(wanted),
            "{driver}: {wanted} missing in\n{text}"
        );
    }
    assert!(!text.contains("Basic "), "{driver}: {text}");
    assert!(!text.contains(PASSWORD), "{driver}: {text}");
    assert!(
        !text.to_ascii_lowercase().contains("authorization"),
        "{driver}: {text}"
    );
}

#[test]
fn both_drivers_trace_span_fields_and_soap_but_never_the_authorization() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .init();
    let sim = Simulator::start(SimConfig::seed());
    let user1: EmailAddress = "user1@example.com".parse().unwrap();
    let credentials = Credentials::basic("user1@example.com", PASSWORD);

    let blocking = ews_blocking::Client::builder(&sim.url())
        .credentials(credentials.clone())
        .version(ExchangeVersion::Exchange2013_SP1)
        .build()
        .unwrap();
    blocking.get_delegates(&user1).unwrap();
    let id = sim.requests().last().unwrap().request_id.clone();
    assert_trace("ews-blocking", &captured.take(), &id);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let nonblocking = ews_async::Client::builder(&sim.url())
        .credentials(credentials)
        .version(ExchangeVersion::Exchange2013_SP1)
        .build()
        .unwrap();
    runtime.block_on(nonblocking.get_delegates(&user1)).unwrap();
    let id2 = sim.requests().last().unwrap().request_id.clone();
    assert_ne!(id, id2, "the simulator numbers its request ids");
    assert_trace("ews-async", &captured.take(), &id2);

    // A 1 MiB faultstring full of forged log lines: every log line either driver writes
    // is one of its own (each starts with a timestamp and a level the fmt layer wrote).
    sim.inject(
        Some("GetDelegate"),
        ews_tests::Fault::HugeFaultString { bytes: 1 << 20 },
        2,
    );
    blocking.get_delegates(&user1).unwrap_err();
    runtime
        .block_on(nonblocking.get_delegates(&user1))
        .unwrap_err();
    let text = captured.take();
    assert!(text.contains("forged"), "the SOAP trace shows the fault");
    for line in text.lines() {
        assert!(
            !line.starts_with("2026-12-01T00:00:00Z ERROR forged"),
            "a forged log line: {line:.200}"
        );
    }
    let non_trace = text
        .lines()
        .filter(|l| !l.contains("ews::soap"))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(non_trace < 8 * 1024, "a debug line of {non_trace} bytes");
}
