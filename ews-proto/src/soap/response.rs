//! The `ResponseMessageType` frame every EWS answer shares: class, code, text, link key and
//! `MessageXml`, and the per-item batch built from it.

use std::fmt;
use std::time::Duration;

use crate::error::{Bounded, ServerError};
use crate::soap::ResponseCode;
use crate::xml::{BodyReader, Element, XmlNs};

/// `ResponseClass`: how an operation or one item of a batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResponseClass {
    /// It worked.
    Success,
    /// It worked, with a caveat (see the code and text).
    Warning,
    /// It failed.
    Error,
}

impl ResponseClass {
    fn from_wire(s: &str) -> Option<Self> {
        match s {
            "Success" => Some(ResponseClass::Success),
            "Warning" => Some(ResponseClass::Warning),
            "Error" => Some(ResponseClass::Error),
            _ => None,
        }
    }
}

/// The `MessageXml` of an answer or fault, flattened to name/value pairs.
///
/// `<t:Value Name="BackOffMilliseconds">5000</t:Value>` becomes
/// `("BackOffMilliseconds", "5000")`; any other leaf element `<t:LineNumber>2</t:LineNumber>`
/// becomes `("LineNumber", "2")`.
///
/// Debug shows each name and value bounded (at most about 512 bytes, escaped).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MessageXml {
    entries: Vec<(String, String)>,
}

impl MessageXml {
    /// The first value named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All pairs, in document order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Is it empty?
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `BackOffMilliseconds` (sent with `ErrorServerBusy`), including 0.
    pub fn back_off(&self) -> Option<Duration> {
        self.get("BackOffMilliseconds")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_millis)
    }

    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut entries = Vec::new();
        r.children(e, |r, c| {
            r.count_item()?;
            let name = match c.attr("Name")? {
                Some(n) if c.local_name() == "Value" => n.into_owned(),
                _ => c.local_name().to_owned(),
            };
            let value = r.text(&c)?.trim().to_owned();
            entries.push((name, value));
            Ok::<_, ServerError>(())
        })?;
        Ok(MessageXml { entries })
    }
}

/// The status part of an answer: class, code, text, link key and `MessageXml`.
///
/// The fields hold the server's text whole; Display and Debug show it bounded and escaped
/// (at most about 512 bytes per piece, no raw control characters).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseStatus {
    /// Success, Warning or Error.
    pub class: ResponseClass,
    /// `ResponseCode`; `NoError` when the server left it out.
    pub code: ResponseCode,
    /// `MessageText`: the server's explanation.
    pub text: Option<String>,
    /// `DescriptiveLinkKey`.
    pub descriptive_link_key: Option<i64>,
    /// `MessageXml`: machine-readable details such as `BackOffMilliseconds`.
    pub message_xml: MessageXml,
}

impl Default for ResponseStatus {
    /// `Success` / `NoError`, nothing else.
    fn default() -> Self {
        ResponseStatus {
            class: ResponseClass::Success,
            code: ResponseCode::NoError,
            text: None,
            descriptive_link_key: None,
            message_xml: MessageXml::default(),
        }
    }
}

impl ResponseStatus {
    /// Is the class `Error`?
    pub fn is_error(&self) -> bool {
        self.class == ResponseClass::Error
    }

    /// Reads the `ResponseMessageType` frame of `e`, handing every other child to `rest`.
    pub(crate) fn read<'a>(
        r: &mut BodyReader<'a>,
        e: &Element<'a>,
        mut rest: impl FnMut(&mut BodyReader<'a>, Element<'a>) -> Result<(), ServerError>,
    ) -> Result<Self, ServerError> {
        let class = match e.attr("ResponseClass")? {
            Some(c) => ResponseClass::from_wire(c.trim()).ok_or_else(|| {
                e.malformed(format!(
                    "unknown ResponseClass {:?}",
                    c.chars().take(32).collect::<String>()
                ))
            })?,
            None => return Err(e.malformed(format!("{} without ResponseClass", e.local_name()))),
        };
        let mut status = ResponseStatus {
            class,
            code: ResponseCode::NoError,
            text: None,
            descriptive_link_key: None,
            message_xml: MessageXml::default(),
        };
        r.children(e, |r, c| {
            if c.ns() == XmlNs::Messages {
                match c.local_name() {
                    "MessageText" => {
                        status.text = Some(r.text(&c)?.into_owned());
                        return Ok(());
                    }
                    "ResponseCode" => {
                        status.code = ResponseCode::from_wire(r.text(&c)?.trim());
                        return Ok(());
                    }
                    "DescriptiveLinkKey" => {
                        status.descriptive_link_key = Some(r.parse(&c, |s| s.parse().ok())?);
                        return Ok(());
                    }
                    "MessageXml" => {
                        status.message_xml = MessageXml::read(r, &c)?;
                        return Ok(());
                    }
                    _ => {}
                }
            }
            rest(r, c)
        })?;
        Ok(status)
    }
}

/// The derived form, with names and values bounded.
impl fmt::Debug for MessageXml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entries<'e>(&'e [(String, String)]);
        impl fmt::Debug for Entries<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|(n, v)| (Bounded(n), Bounded(v))))
                    .finish()
            }
        }
        f.debug_struct("MessageXml")
            .field("entries", &Entries(&self.entries))
            .finish()
    }
}

/// `CODE: MessageText`, both bounded and escaped.
impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Bounded(self.code.as_str()))?;
        if let Some(text) = &self.text {
            write!(f, ": {}", Bounded(text))?;
        }
        Ok(())
    }
}

/// The derived form, with the text bounded.
impl fmt::Debug for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseStatus")
            .field("class", &self.class)
            .field("code", &self.code)
            .field("text", &self.text.as_deref().map(Bounded))
            .field("descriptive_link_key", &self.descriptive_link_key)
            .field("message_xml", &self.message_xml)
            .finish()
    }
}

impl std::error::Error for ResponseStatus {}

/// One item's answer in a batch: its status, and the value the operation returns for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMessage<T> {
    /// How this item went.
    pub status: ResponseStatus,
    /// What the server returned for it (typically `None` on error).
    pub value: T,
}

impl<T> ResponseMessage<T> {
    /// `Ok(value)` for Success and Warning, `Err(status)` for Error.
    pub fn into_result(self) -> Result<T, ResponseStatus> {
        if self.status.is_error() {
            Err(self.status)
        } else {
            Ok(self.value)
        }
    }

    /// Is the class `Error`?
    pub fn is_error(&self) -> bool {
        self.status.is_error()
    }

    /// The response code.
    pub fn code(&self) -> &ResponseCode {
        &self.status.code
    }
}

/// Turns a decoded batch into the operation's result: a batch in which every item is
/// `ErrorServerBusy` was not processed at all, so it becomes one
/// [`ServerError::Response`] that the retry policy can act on; anything else is returned
/// item by item.
pub(crate) fn finish_batch<T>(
    items: Vec<ResponseMessage<T>>,
) -> Result<Vec<ResponseMessage<T>>, ServerError> {
    let all_busy = !items.is_empty()
        && items
            .iter()
            .all(|m| m.is_error() && m.status.code == ResponseCode::ErrorServerBusy);
    if all_busy {
        // Invariant: `items` is non-empty (checked above).
        let first = items.into_iter().next().map(|m| m.status);
        if let Some(status) = first {
            return Err(ServerError::Response(Box::new(status)));
        }
        return Ok(Vec::new());
    }
    Ok(items)
}
