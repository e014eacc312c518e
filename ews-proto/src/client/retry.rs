//! The retry policy: a pure function from (attempts, elapsed time, error, repeatability) to
//! "retry after D" or "give up".

use std::time::Duration;

use crate::error::{Error, ServerError, TransportErrorKind};
use crate::ops::Repeat;
use crate::soap::ResponseCode;

/// When to try an operation again.
///
/// Rules, in order:
/// 1. Errors no repetition can cure (the caller's mistakes, malformed answers, refused
///    credentials, untrusted certificates) end the call.
/// 2. Answers in which the server proves it did **not** process the request — an
///    `ErrorServerBusy` fault or all-busy batch, HTTP 429/503, a failed connect — may be
///    repeated for every operation, after the server's `BackOffMilliseconds` (even 0) or
///    `Retry-After`, or else an exponential delay.
/// 3. Failures after which the request *may* have been processed — a broken connection,
///    a timeout, a 502/504, a transient server fault — are repeated only for operations
///    that are [`Repeat::Safe`]; never for one that sends invitations or cancellations
///    or creates items.
/// 4. At most [`RetryPolicy::max_attempts`] attempts, and never a wait that would take the
///    call past [`RetryPolicy::max_total_wait`]; a server asking for longer ends the call
///    with its error (which carries the requested back-off).
///
/// ```
/// use std::time::Duration;
/// use ews_proto::driver::Decision;
/// use ews_proto::ops::Repeat;
/// use ews_proto::{RetryPolicy, ServerError};
/// let policy = RetryPolicy::default();
/// let busy = ServerError::Throttled {
///     status: http::StatusCode::SERVICE_UNAVAILABLE,
///     retry_after: Some(Duration::from_secs(2)),
///     excerpt: Default::default(),
/// };
/// let d = policy.decide(1, Duration::ZERO, &busy.into(), Repeat::SendsMessages);
/// assert_eq!(d, Decision::RetryAfter(Duration::from_secs(2)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Most attempts in all, the first included. Default: 5.
    pub max_attempts: u32,
    /// Most time from the first attempt to the start of the last. Default: 120 s.
    pub max_total_wait: Duration,
    /// First delay when the server names none; doubled per attempt. Default: 500 ms.
    pub base_delay: Duration,
    /// Cap for the exponential delay (not for a server-requested one). Default: 30 s.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_total_wait: Duration::from_secs(120),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// What [`RetryPolicy::decide`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Send the same request again after this delay.
    RetryAfter(Duration),
    /// Return the error.
    GiveUp,
}

/// What an error says about the request that caused it.
enum Verdict {
    /// The server did not process it; it may ask for a delay.
    NotProcessed(Option<Duration>),
    /// It may have been processed; repeating is safe only for safe operations.
    MaybeProcessed(Option<Duration>),
    /// Repeating cannot help.
    Final,
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets [`RetryPolicy::max_attempts`].
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets [`RetryPolicy::max_total_wait`].
    pub fn max_total_wait(mut self, d: Duration) -> Self {
        self.max_total_wait = d;
        self
    }

    /// Sets [`RetryPolicy::base_delay`] and [`RetryPolicy::max_delay`].
    pub fn delays(mut self, base: Duration, max: Duration) -> Self {
        self.base_delay = base;
        self.max_delay = max;
        self
    }

    /// Decides after attempt number `attempts_made` (1 for the first) failed with `error`,
    /// `elapsed` after the first attempt started, for an operation that repeats as
    /// `repeat` says.
    pub fn decide(
        &self,
        attempts_made: u32,
        elapsed: Duration,
        error: &Error,
        repeat: Repeat,
    ) -> Decision {
        let requested = match verdict(error) {
            Verdict::Final => return Decision::GiveUp,
            Verdict::MaybeProcessed(_) if repeat != Repeat::Safe => return Decision::GiveUp,
            Verdict::NotProcessed(d) | Verdict::MaybeProcessed(d) => d,
        };
        if attempts_made >= self.max_attempts {
            return Decision::GiveUp;
        }
        let wait = requested.unwrap_or_else(|| self.exponential(attempts_made));
        match elapsed.checked_add(wait) {
            Some(total) if total <= self.max_total_wait => Decision::RetryAfter(wait),
            _ => Decision::GiveUp,
        }
    }

    fn exponential(&self, attempts_made: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempts_made.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// May the server have acted on the request that failed with `error`? (The errors after
/// which a [`Repeat::ReadsBack`] operation is read back rather than given up.)
pub(crate) fn outcome_unknown(error: &Error) -> bool {
    matches!(verdict(error), Verdict::MaybeProcessed(_))
}

fn verdict(error: &Error) -> Verdict {
    match error {
        Error::Usage(_)
        | Error::TokenProvider(_)
        | Error::Unconfirmed(_)
        | Error::Calendar(_)
        | Error::StaleKeyRetry(_)
        | Error::Auth(_) => Verdict::Final,
        Error::Transport(t) => match t.kind() {
            TransportErrorKind::Connect => Verdict::NotProcessed(None),
            TransportErrorKind::Io
            | TransportErrorKind::Timeout
            | TransportErrorKind::Truncated => Verdict::MaybeProcessed(None),
            _ => Verdict::Final,
        },
        Error::Server(s) => match s {
            ServerError::Throttled { retry_after, .. } => Verdict::NotProcessed(*retry_after),
            ServerError::Fault(f) => code_verdict(&f.code(), f.back_off()),
            ServerError::Response(r) => code_verdict(&r.code, r.message_xml.back_off()),
            ServerError::Status { status, .. } if matches!(status.as_u16(), 502 | 504) => {
                Verdict::MaybeProcessed(None)
            }
            _ => Verdict::Final,
        },
    }
}

fn code_verdict(code: &ResponseCode, back_off: Option<Duration>) -> Verdict {
    match code {
        ResponseCode::ErrorServerBusy => Verdict::NotProcessed(back_off),
        ResponseCode::ErrorInternalServerTransientError
        | ResponseCode::ErrorMailboxStoreUnavailable
        | ResponseCode::ErrorMailboxMoveInProgress
        | ResponseCode::ErrorTimeoutExpired => Verdict::MaybeProcessed(back_off),
        _ => Verdict::Final,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Excerpt, TransportError, UsageError};
    use crate::soap::{Fault, MessageXml, ResponseClass, ResponseStatus};

    const ALL: [Repeat; 3] = [Repeat::Safe, Repeat::CreatesItems, Repeat::SendsMessages];

    fn busy_fault(ms: Option<u64>) -> Error {
        let mut xml = String::from(
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode><faultstring>busy</faultstring>",
        );
        if let Some(ms) = ms {
            xml.push_str(&format!("<detail><t:MessageXml xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><t:Value Name=\"BackOffMilliseconds\">{ms}</t:Value></t:MessageXml></detail>"));
        }
        xml.push_str("</s:Fault></s:Body></s:Envelope>");
        let op = crate::GetDelegate::new("a@b".parse().unwrap());
        let resp = http::Response::builder()
            .status(500)
            .body(bytes::Bytes::from(xml))
            .unwrap();
        match crate::Operation::decode(&op, &resp) {
            Err(e @ ServerError::Fault(_)) => e.into(),
            other => panic!("{other:?}"),
        }
    }

    /// The decoded answer `body` with `status`, as the call would see it.
    fn decoded(status: u16, body: &str) -> Error {
        let op = crate::GetDelegate::new("a@b".parse().unwrap());
        let resp = http::Response::builder()
            .status(status)
            .header("content-type", "text/html")
            .body(bytes::Bytes::from(body.to_owned()))
            .unwrap();
        match crate::Operation::decode(&op, &resp) {
            Err(e) => e.into(),
            Ok(reply) => panic!("{reply:?}"),
        }
    }

    #[test]
    fn a_page_that_is_not_soap_is_judged_by_its_status_alone() {
        let page = "<html><body><h1>Service Unavailable</h1></body></html>";
        let p = RetryPolicy::default();
        let first = Duration::from_millis(500);
        // (status, for a safe operation, for one that sends messages)
        let table = [
            (500, Decision::GiveUp, Decision::GiveUp),
            (400, Decision::GiveUp, Decision::GiveUp),
            (502, Decision::RetryAfter(first), Decision::GiveUp),
            (504, Decision::RetryAfter(first), Decision::GiveUp),
            (
                503,
                Decision::RetryAfter(first),
                Decision::RetryAfter(first),
            ),
            (
                429,
                Decision::RetryAfter(first),
                Decision::RetryAfter(first),
            ),
        ];
        for (status, safe, sends) in table {
            let e = decoded(status, page);
            assert_eq!(p.decide(1, Duration::ZERO, &e, Repeat::Safe), safe, "{e}");
            assert_eq!(
                p.decide(1, Duration::ZERO, &e, Repeat::SendsMessages),
                sends,
                "{e}"
            );
        }
        // At 200 the page is a malformed answer: final.
        let e = decoded(200, page);
        assert!(
            matches!(e, Error::Server(ServerError::Malformed(_))),
            "{e:?}"
        );
        assert_eq!(
            p.decide(1, Duration::ZERO, &e, Repeat::Safe),
            Decision::GiveUp
        );
    }

    #[test]
    fn only_a_named_value_is_a_back_off() {
        // `BackOffMilliseconds` as a bare element is not the named value EWS sends: the
        // policy falls back to its own delay (2 s on the third attempt).
        let fault = |detail: &str| {
            decoded(
                500,
                &format!(
                    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>a:ErrorServerBusy</faultcode><faultstring>busy</faultstring><detail><t:MessageXml xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\">{detail}</t:MessageXml></detail></s:Fault></s:Body></s:Envelope>"
                ),
            )
        };
        let p = RetryPolicy::default();
        let e = fault("<t:BackOffMilliseconds>7000</t:BackOffMilliseconds>");
        assert_eq!(
            p.decide(3, Duration::ZERO, &e, Repeat::Safe),
            Decision::RetryAfter(Duration::from_secs(2))
        );
        let e = fault("<t:Value Name=\"BackOffMilliseconds\">7000</t:Value>");
        assert_eq!(
            p.decide(3, Duration::ZERO, &e, Repeat::Safe),
            Decision::RetryAfter(Duration::from_secs(7))
        );
    }

    fn transport(kind: TransportErrorKind) -> Error {
        TransportError::new(kind, std::io::Error::other("x")).into()
    }

    fn status(code: u16) -> Error {
        ServerError::Status {
            status: http::StatusCode::from_u16(code).unwrap(),
            excerpt: Excerpt::default(),
        }
        .into()
    }

    #[test]
    fn busy_fault_is_retried_for_every_operation_after_the_servers_back_off() {
        let p = RetryPolicy::default();
        for repeat in ALL {
            assert_eq!(
                p.decide(1, Duration::ZERO, &busy_fault(Some(1500)), repeat),
                Decision::RetryAfter(Duration::from_millis(1500))
            );
            assert_eq!(
                p.decide(1, Duration::ZERO, &busy_fault(Some(0)), repeat),
                Decision::RetryAfter(Duration::ZERO)
            );
            assert_eq!(
                p.decide(2, Duration::ZERO, &busy_fault(None), repeat),
                Decision::RetryAfter(Duration::from_secs(1))
            );
        }
    }

    #[test]
    fn all_busy_batch_is_retried_with_its_back_off() {
        let status = ResponseStatus {
            class: ResponseClass::Error,
            code: ResponseCode::ErrorServerBusy,
            text: None,
            descriptive_link_key: None,
            message_xml: MessageXml::default(),
        };
        let e: Error = ServerError::Response(Box::new(status)).into();
        assert_eq!(
            RetryPolicy::default().decide(1, Duration::ZERO, &e, Repeat::SendsMessages),
            Decision::RetryAfter(Duration::from_millis(500))
        );
    }

    #[test]
    fn maybe_processed_is_retried_only_when_safe() {
        let p = RetryPolicy::default();
        for e in [
            transport(TransportErrorKind::Io),
            transport(TransportErrorKind::Timeout),
            transport(TransportErrorKind::Truncated),
            status(502),
            status(504),
        ] {
            assert_eq!(
                p.decide(1, Duration::ZERO, &e, Repeat::Safe),
                Decision::RetryAfter(Duration::from_millis(500)),
                "{e}"
            );
            assert_eq!(
                p.decide(1, Duration::ZERO, &e, Repeat::SendsMessages),
                Decision::GiveUp,
                "{e}"
            );
            assert_eq!(
                p.decide(1, Duration::ZERO, &e, Repeat::CreatesItems),
                Decision::GiveUp,
                "{e}"
            );
        }
    }

    #[test]
    fn a_failed_connect_proves_nothing_was_sent() {
        let e = transport(TransportErrorKind::Connect);
        assert_eq!(
            RetryPolicy::default().decide(1, Duration::ZERO, &e, Repeat::SendsMessages),
            Decision::RetryAfter(Duration::from_millis(500))
        );
    }

    #[test]
    fn final_errors_are_not_retried() {
        let p = RetryPolicy::default();
        let finals: Vec<Error> = vec![
            UsageError::invalid("x", "y").into(),
            transport(TransportErrorKind::Tls),
            transport(TransportErrorKind::BodyTooLarge),
            status(500),
            status(404),
            ServerError::Forbidden {
                excerpt: Excerpt::default(),
            }
            .into(),
            ServerError::Unauthorized {
                challenges: vec![],
                excerpt: Excerpt::default(),
            }
            .into(),
            ServerError::malformed(crate::error::MalformedKind::Truncated, "bad", 0).into(),
            ServerError::Fault(Box::new(Fault {
                fault_code: "a:ErrorSchemaValidation".into(),
                ..Fault::default()
            }))
            .into(),
        ];
        for e in &finals {
            for repeat in ALL {
                assert_eq!(
                    p.decide(1, Duration::ZERO, e, repeat),
                    Decision::GiveUp,
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn attempts_and_total_wait_are_capped() {
        let p = RetryPolicy::default()
            .max_attempts(3)
            .max_total_wait(Duration::from_secs(10));
        let e = busy_fault(Some(1000));
        assert!(matches!(
            p.decide(2, Duration::ZERO, &e, Repeat::Safe),
            Decision::RetryAfter(_)
        ));
        assert_eq!(
            p.decide(3, Duration::ZERO, &e, Repeat::Safe),
            Decision::GiveUp
        );
        assert_eq!(
            p.decide(1, Duration::from_millis(9_500), &e, Repeat::Safe),
            Decision::GiveUp
        );
        let long = busy_fault(Some(297_749));
        assert_eq!(
            p.decide(1, Duration::ZERO, &long, Repeat::Safe),
            Decision::GiveUp
        );
        assert_eq!(
            RetryPolicy::never().decide(1, Duration::ZERO, &e, Repeat::Safe),
            Decision::GiveUp
        );
    }

    #[test]
    fn exponential_delay_is_capped_and_never_overflows() {
        let p = RetryPolicy::default()
            .max_attempts(u32::MAX)
            .max_total_wait(Duration::MAX);
        let e = transport(TransportErrorKind::Connect);
        let waits: Vec<_> = (1..=8)
            .map(|n| p.decide(n, Duration::ZERO, &e, Repeat::Safe))
            .collect();
        assert_eq!(waits[0], Decision::RetryAfter(Duration::from_millis(500)));
        assert_eq!(waits[3], Decision::RetryAfter(Duration::from_secs(4)));
        assert_eq!(waits[7], Decision::RetryAfter(Duration::from_secs(30)));
        assert_eq!(
            p.decide(200, Duration::ZERO, &e, Repeat::Safe),
            Decision::RetryAfter(Duration::from_secs(30))
        );
        assert_eq!(
            p.decide(2, Duration::MAX, &e, Repeat::Safe),
            Decision::GiveUp
        );
    }
}
