//! Fault injection: what can go wrong, for which operation, how many times.

use std::time::Duration;

/// A fault the simulator injects instead of (or on top of) a normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// HTTP 500 SOAP fault `ErrorServerBusy` with
    /// `<t:Value Name="BackOffMilliseconds">N</t:Value>`. The request is not processed.
    ServerBusy {
        /// BackOffMilliseconds value.
        back_off_ms: u64,
    },
    /// HTTP 503 with `Retry-After`. The request is not processed.
    ServiceUnavailable {
        /// Retry-After in seconds.
        retry_after_secs: u64,
    },
    /// HTTP 429 with `Retry-After`. The request is not processed.
    TooManyRequests {
        /// Retry-After in seconds.
        retry_after_secs: u64,
    },
    /// The connection is closed without an answer and before the request is processed.
    /// For a fault aimed at any operation the request body is not even read.
    CloseBeforeRequest,
    /// The request is processed (state changes!) and the connection is then closed
    /// without an answer: the dangerous case for non-idempotent operations.
    CloseAfterProcessing,
    /// NTLM / Negotiate: the CHALLENGE goes out with `Connection: close` and the connection
    /// is closed after it, so the AUTHENTICATE cannot follow on it (a server or load
    /// balancer closing between the legs). Arm it for any operation (`None`).
    CloseAfterChallenge,
    /// Wait this long before answering (the request is processed after the delay).
    Delay(Duration),
    /// The request is processed; the answer announces a Content-Length larger than the
    /// bytes sent, then the connection is closed.
    TruncatedContentLength,
    /// The request is processed; the answer is a well-framed HTTP 200 whose XML is cut in
    /// the middle.
    TruncatedXml,
    /// HTTP 200 with an HTML error page (text/html) instead of SOAP. Not processed.
    HtmlErrorPage,
    /// The request is processed; the answer is valid SOAP padded (with an XML comment
    /// after the envelope) to at least this many bytes.
    OversizedBody {
        /// Minimum body size in bytes.
        bytes: usize,
    },
    /// HTTP 500 with a valid SOAP 1.1 fault, built like [`Fault::ServerBusy`]'s:
    /// `faultcode` `a:ErrorInternalServerError` (prefix `a` bound to the types namespace,
    /// as Exchange writes it), `detail/e:ResponseCode` `ErrorInternalServerError` in the
    /// errors namespace. Its `faultstring`, and the `detail/e:Message` that repeats it, hold
    /// at least `bytes` bytes of text (as decoded) made of
    /// `line <&> "x"\r\n2026-12-01T00:00:00Z ERROR forged\n` repeated: raw line breaks
    /// and forged log lines, XML-escaped (`&lt;`, `&amp;`, ...; every CR written `&#xD;`
    /// so that it survives XML end-of-line handling). The body is about twice `bytes`.
    /// The request is read and authenticated but not processed; it is recorded with
    /// status 500 and response code `ErrorInternalServerError`.
    HugeFaultString {
        /// Minimum length of the faultstring in bytes.
        bytes: usize,
    },
    /// The request is never read and never answered: the connection is held open, idle,
    /// for `hold`, then closed. Other connections are served meanwhile, and the simulator
    /// stops without waiting for the hold to end.
    ///
    /// Aimed at any operation (`None`), it takes the next connection or request, whichever
    /// comes first:
    /// * a new connection (after the TLS handshake, with TLS) is never read at all, not
    ///   even the request line; it is recorded with empty method, path and headers;
    /// * a request on a kept-alive connection has had its head read by the HTTP layer
    ///   before the simulator sees it; its body is never read. It is recorded with its
    ///   method, path and headers.
    ///
    /// Either way the record has no body and no operation, status 0 (no answer) and this
    /// fault's name, and it is added when the hold starts, not when it ends. Aimed at one
    /// operation, the body has to be read to know the operation: that request is then
    /// held unanswered (and not processed) the same way, recorded with its body and
    /// operation.
    ///
    /// A client sees a connection that accepts but never answers; a body larger than the
    /// socket buffers also blocks its sending.
    NeverRead {
        /// How long the connection is held before it is closed.
        hold: Duration,
    },
}

impl Fault {
    /// Short name recorded on the request that triggered it.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::ServerBusy { .. } => "ServerBusy",
            Fault::ServiceUnavailable { .. } => "ServiceUnavailable",
            Fault::TooManyRequests { .. } => "TooManyRequests",
            Fault::CloseBeforeRequest => "CloseBeforeRequest",
            Fault::CloseAfterProcessing => "CloseAfterProcessing",
            Fault::CloseAfterChallenge => "CloseAfterChallenge",
            Fault::Delay(_) => "Delay",
            Fault::TruncatedContentLength => "TruncatedContentLength",
            Fault::TruncatedXml => "TruncatedXml",
            Fault::HtmlErrorPage => "HtmlErrorPage",
            Fault::OversizedBody { .. } => "OversizedBody",
            Fault::HugeFaultString { .. } => "HugeFaultString",
            Fault::NeverRead { .. } => "NeverRead",
        }
    }

    /// The text of [`Fault::HugeFaultString`]'s faultstring: at least `bytes` bytes, whole
    /// lines of it, unescaped.
    pub(crate) fn forged_text(bytes: usize) -> String {
        const LINE: &str = "line <&> \"x\"\r\n2026-12-01T00:00:00Z ERROR forged\n";
        LINE.repeat(bytes.div_ceil(LINE.len()).max(1))
    }
}

/// One armed fault.
#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    /// Operation local name (`CreateItem`), or None for any request.
    pub(crate) operation: Option<String>,
    pub(crate) fault: Fault,
    pub(crate) remaining: u32,
}

/// The armed faults, consumed in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    pub(crate) fn add(&mut self, operation: Option<&str>, fault: Fault, times: u32) {
        if times > 0 {
            self.rules.push(FaultRule {
                operation: operation.map(str::to_string),
                fault,
                remaining: times,
            });
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// Takes one use of the first rule matching `operation` (None = operation not known
    /// yet: only rules for any operation match) and accepted by `filter`.
    pub(crate) fn take(
        &mut self,
        operation: Option<&str>,
        filter: impl Fn(&Fault) -> bool,
    ) -> Option<Fault> {
        let pos = self.rules.iter().position(|r| {
            let op_ok = match (&r.operation, operation) {
                (None, _) => true,
                (Some(want), Some(op)) => want == op,
                (Some(_), None) => false,
            };
            op_ok && filter(&r.fault)
        })?;
        let rule = &mut self.rules[pos];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            self.rules.remove(pos);
        }
        Some(fault)
    }

    pub(crate) fn pending(&self) -> usize {
        self.rules.iter().map(|r| r.remaining as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_consumed() {
        let mut f = Faults::default();
        f.add(Some("CreateItem"), Fault::HtmlErrorPage, 2);
        f.add(None, Fault::CloseBeforeRequest, 1);
        assert_eq!(f.pending(), 3);
        assert_eq!(
            f.take(Some("GetItem"), |_| true),
            Some(Fault::CloseBeforeRequest)
        );
        assert_eq!(f.take(Some("GetItem"), |_| true), None);
        assert_eq!(f.take(None, |_| true), None);
        assert_eq!(
            f.take(Some("CreateItem"), |_| true),
            Some(Fault::HtmlErrorPage)
        );
        assert_eq!(f.take(Some("CreateItem"), |_| false), None);
        assert_eq!(
            f.take(Some("CreateItem"), |_| true),
            Some(Fault::HtmlErrorPage)
        );
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn forged_text_is_long_enough_and_forges_lines() {
        for bytes in [0, 1, 45, 46, 1 << 20] {
            let text = Fault::forged_text(bytes);
            assert!(text.len() >= bytes, "{bytes}");
            assert!(text.len() < bytes + 64, "{bytes}");
            assert!(text.contains("\r\n2026-12-01T00:00:00Z ERROR forged\n"));
        }
        assert_eq!(
            Fault::NeverRead {
                hold: Duration::ZERO
            }
            .name(),
            "NeverRead"
        );
        assert_eq!(
            Fault::HugeFaultString { bytes: 1 }.name(),
            "HugeFaultString"
        );
    }
}
