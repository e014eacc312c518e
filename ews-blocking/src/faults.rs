//! Fault injection for this crate's own tests and for applications that test how they
//! cope with a flaky network (feature `fault-injection`; not for production use).

use std::io;

use ureq::unversioned::transport::{Buffers, NextTimeout, Transport};

/// A connection whose first read after a request was sent fails with `kind`, as an
/// established socket does when its route dies (`HostUnreachable`, ...). It waits for the
/// server's answer to begin first, so the server has received and processed the request:
/// the outcome the client sees is unknown, the server's is not.
#[derive(Debug)]
pub(crate) struct FlakyRead {
    inner: Box<dyn Transport>,
    kind: io::ErrorKind,
    sent: bool,
}

impl FlakyRead {
    pub(crate) fn wrap(inner: Box<dyn Transport>, kind: io::ErrorKind) -> Box<dyn Transport> {
        Box::new(FlakyRead {
            inner,
            kind,
            sent: false,
        })
    }
}

impl Transport for FlakyRead {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.sent = true;
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let arrived = self.inner.await_input(timeout)?;
        if self.sent {
            return Err(ureq::Error::Io(io::Error::new(
                self.kind,
                "injected fault: the read after the request failed",
            )));
        }
        Ok(arrived)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}
