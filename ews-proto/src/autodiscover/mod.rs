//! Autodiscover: from an email address to the EWS URL, the server version and the
//! mailbox's names, as a pure state machine ([`Discovery`]) with a trace of every step.
//!
//! ```text
//! Discovery::new(email).urls(..).redirect_policy(..)     the candidates, in order:
//!   poll ──► Send      ──► handle(outcome)                 1. the caller's URLs
//!        ──► ResolveSrv──► srv_resolved(records)           2. https://{domain}/autodiscover/autodiscover.svc (.xml)
//!        ──► Confirm   ──► confirm(bool)                   3. https://autodiscover.{domain}/... alike
//!        ──► FetchToken──► token_fetched(..)               4. GET http://autodiscover.{domain}/autodiscover/autodiscover.xml
//!        ──► Sleep     ──► poll again                         (redirect to https only, no credentials)
//!        ──► Done(Ok(Discovered) | Err(DiscoveryError))    5. DNS SRV _autodiscover._tcp.{domain}
//! ```
//!
//! Both protocols are spoken: SOAP `GetUserSettings` (Exchange 2010 and later) and, where
//! a host has no SOAP endpoint, POX `autodiscover.xml` (Exchange 2007 and later). Answers
//! are read by namespace URI and local name, whatever the prefixes; the namespaces are the
//! `http://` ones ([`NS_AUTODISCOVER`], [`NS_POX_RESPONSE`], [`NS_POX_OUTLOOK`]; the
//! `https://schemas...` spelling in Microsoft's pages is a documentation error).
//!
//! What the drivers build on it: `ews_blocking::Autodiscover` and
//! `ews_async::Autodiscover`, each a loop with one `match` on [`Step`] of a [`Run`]; their
//! settings are an [`AutodiscoverConfig`] (written once, here). The result is a
//! [`Discovered`] (internal and external EWS URLs, [`Discovered::version`], display name,
//! primary SMTP address) from which they build a client ([`ClientTarget`]), and which a
//! [`Cache`] ([`SharedCache`]) keeps.
//!
//! A failed discovery is a [`DiscoveryError`] whose `Display` is a headline and the
//! [`Trace`] as a table:
//!
//! ```text
//! Autodiscover failed: no candidate returned the user's settings; the steps:
//! #  step         target                                                     result          ErrorCode  decision
//! 1  SOAP (auth)  https://contoso.com/autodiscover/autodiscover.svc          connect failed             next candidate
//! 2  SOAP (auth)  https://autodiscover.contoso.com/autodiscover/autodiscover.svc  HTTP 401              next candidate
//! ...
//! ```

mod answer;
mod cache;
mod config;
mod machine;
mod request;
mod trace;

pub use answer::{
    Answer, ErrorCode, ErrorLevel, SettingError, UserSettings, decode_pox, decode_soap,
};
pub use cache::Cache;
pub use config::{AutodiscoverConfig, AutodiscoverParts, ClientTarget, NoSrv, Run, SharedCache};
pub use machine::{
    Discovered, Discovery, MAX_HOPS, Redirect, RedirectPolicy, SrvRecord, Step, UrlChoice,
};
pub use request::{GET_USER_SETTINGS_ACTION, UserSettingName, pox_request, soap_request};
pub use trace::{Action, DiscoveryError, Failure, Outcome, Reason, StepKind, Trace, TraceRecord};

/// The SOAP Autodiscover namespace.
pub const NS_AUTODISCOVER: &str = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
/// The namespace of a POX answer's root (and of its errors).
pub const NS_POX_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// The namespace of a POX answer's Outlook settings.
pub const NS_POX_OUTLOOK: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The namespace of a POX request.
pub const NS_POX_REQUEST: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
