//! The `ResponseMessageType` frame every EWS answer shares: class, code, text, link key and
//! `MessageXml`, and the per-item batch built from it.

use std::fmt;
use std::time::Duration;

use crate::error::{Bounded, MalformedKind, ServerError};
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

/// The `MessageXml` of an answer or fault: machine-readable details, as two lists that
/// are never mixed.
///
/// * [`MessageXml::values`]: the named values, `<t:Value Name="BackOffMilliseconds">5000</t:Value>`
///   (a `Value` element of the EWS types namespace with a `Name` attribute), as
///   `("BackOffMilliseconds", "5000")`. [`MessageXml::value`] looks one up by name.
/// * [`MessageXml::elements`]: every other child element, such as
///   `<t:LineNumber>2</t:LineNumber>` of a schema fault, by namespace and local name, with
///   its text. [`MessageXml::element`] looks one up. An element with children keeps only
///   its own text.
///
/// So a named value `LineNumber` and an element `t:LineNumber` are told apart. Texts are
/// trimmed. Each child counts against [`Limits::max_items`](crate::Limits::max_items);
/// Debug shows each name and text bounded (at most about 512 bytes, escaped).
///
/// ```
/// use bytes::Bytes;
/// use ews_proto::wire::XmlNs;
/// use ews_proto::{GetDelegate, Operation, ServerError};
///
/// let body = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>
///   <s:Fault><faultcode>a:ErrorServerBusy</faultcode><faultstring>busy</faultstring>
///     <detail><t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
///       <t:Value Name="BackOffMilliseconds">5000</t:Value>
///       <t:Policy>EWSMaxConcurrency</t:Policy>
///     </t:MessageXml></detail></s:Fault></s:Body></s:Envelope>"#;
/// let answer = http::Response::builder().status(500).body(Bytes::from(body))?;
/// let op = GetDelegate::new("kim@contoso.com".parse()?);
/// let Err(ServerError::Fault(fault)) = op.decode(&answer) else { panic!() };
/// let xml = &fault.message_xml;
/// assert_eq!(xml.value("BackOffMilliseconds"), Some("5000"));
/// assert_eq!(xml.element(XmlNs::Types, "Policy"), Some("EWSMaxConcurrency"));
/// assert_eq!(xml.value("Policy"), None);
/// assert_eq!(xml.element(XmlNs::Types, "Value"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MessageXml {
    values: Vec<(String, String)>,
    elements: Vec<MessageXmlElement>,
}

/// A child element of a [`MessageXml`] that is not a named value: its namespace, local
/// name and (trimmed) text.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageXmlElement {
    ns: XmlNs,
    local_name: String,
    text: String,
}

impl MessageXmlElement {
    /// The element's namespace.
    pub fn ns(&self) -> XmlNs {
        self.ns
    }

    /// The element's local name (without prefix).
    pub fn local_name(&self) -> &str {
        &self.local_name
    }

    /// The element's text, trimmed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Is this `{ns}local`?
    pub fn is(&self, ns: XmlNs, local_name: &str) -> bool {
        self.ns == ns && self.local_name == local_name
    }
}

impl MessageXml {
    /// The first named value called `name` (`<t:Value Name="name">`).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The named values as `(name, value)`, in document order.
    pub fn values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The text of the first other element `{ns}local_name` (`<t:LineNumber>`).
    pub fn element(&self, ns: XmlNs, local_name: &str) -> Option<&str> {
        self.elements
            .iter()
            .find(|e| e.is(ns, local_name))
            .map(MessageXmlElement::text)
    }

    /// The other elements, in document order.
    pub fn elements(&self) -> impl Iterator<Item = &MessageXmlElement> {
        self.elements.iter()
    }

    /// Is it empty (no value and no element)?
    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.elements.is_empty()
    }

    /// The named value `BackOffMilliseconds` (sent with `ErrorServerBusy`), including 0.
    pub fn back_off(&self) -> Option<Duration> {
        self.value("BackOffMilliseconds")?
            .parse::<u64>()
            .ok()
            .map(Duration::from_millis)
    }

    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut xml = MessageXml::default();
        r.children(e, |r, c| {
            r.count_item()?;
            let name = match c.is(XmlNs::Types, "Value") {
                true => c.attr("Name")?.map(|n| n.into_owned()),
                false => None,
            };
            let text = r.text(&c)?.trim().to_owned();
            match name {
                Some(name) => xml.values.push((name, text)),
                None => xml.elements.push(MessageXmlElement {
                    ns: c.ns(),
                    local_name: c.local_name().to_owned(),
                    text,
                }),
            }
            Ok::<_, ServerError>(())
        })?;
        Ok(xml)
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
                e.malformed(
                    MalformedKind::BadValue,
                    format!(
                        "unknown ResponseClass {:?}",
                        c.chars().take(32).collect::<String>()
                    ),
                )
            })?,
            None => {
                return Err(e.malformed(
                    MalformedKind::MissingAttribute,
                    format!("{} without ResponseClass", e.local_name()),
                ));
            }
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

/// The derived form, with names and texts bounded.
impl fmt::Debug for MessageXml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Values<'e>(&'e [(String, String)]);
        impl fmt::Debug for Values<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|(n, v)| (Bounded(n), Bounded(v))))
                    .finish()
            }
        }
        f.debug_struct("MessageXml")
            .field("values", &Values(&self.values))
            .field("elements", &self.elements)
            .finish()
    }
}

/// The derived form, with the name and text bounded.
impl fmt::Debug for MessageXmlElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageXmlElement")
            .field("ns", &self.ns)
            .field("local_name", &Bounded(&self.local_name))
            .field("text", &Bounded(&self.text))
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

    /// `Ok(&value)` for Success and Warning, `Err(&status)` for Error: reads a message in
    /// place, without taking it out of its batch.
    pub fn as_result(&self) -> Result<&T, &ResponseStatus> {
        if self.status.is_error() {
            Err(&self.status)
        } else {
            Ok(&self.value)
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
