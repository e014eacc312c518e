//! SOAP faults and their EWS detail.

use std::fmt;
use std::time::Duration;

use crate::error::{Bounded, ServerError};
use crate::soap::{MessageXml, ResponseCode};
use crate::xml::{BodyReader, Element, XmlNs};

/// A SOAP fault, with the EWS detail when the server sent one.
///
/// Exchange answers schema violations, throttling (`ErrorServerBusy` with
/// `BackOffMilliseconds`) and some authorisation failures with a fault, usually with
/// HTTP 500.
///
/// The fields hold the server's text whole; Display and Debug show each piece of it
/// bounded and escaped (at most about 512 bytes, no raw control characters), so a fault
/// can be logged as it is.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fault {
    /// `faultcode` as sent, a qualified name such as `a:ErrorServerBusy` or `soap:Client`.
    pub fault_code: String,
    /// `faultstring`.
    pub fault_string: String,
    /// `detail/ResponseCode`.
    pub response_code: Option<ResponseCode>,
    /// `detail/Message`.
    pub message: Option<String>,
    /// The line of the request the server objected to (`detail/Line` or
    /// `MessageXml/LineNumber`).
    pub line_number: Option<u32>,
    /// The position in that line (`detail/Position` or `MessageXml/LinePosition`).
    pub line_position: Option<u32>,
    /// The schema rule violated (`detail/Violation` or `MessageXml/Violation`).
    pub violation: Option<String>,
    /// `detail/MessageXml`.
    pub message_xml: MessageXml,
}

impl Fault {
    /// The response code, from the detail or else from the local part of `faultcode`
    /// (`a:ErrorServerBusy` gives `ErrorServerBusy`).
    pub fn code(&self) -> ResponseCode {
        if let Some(code) = &self.response_code {
            return code.clone();
        }
        let local = self
            .fault_code
            .rsplit_once(':')
            .map_or(self.fault_code.as_str(), |(_, l)| l);
        ResponseCode::from_wire(local.trim())
    }

    /// `BackOffMilliseconds` from the detail's `MessageXml`, including 0.
    pub fn back_off(&self) -> Option<Duration> {
        self.message_xml.back_off()
    }

    pub(crate) fn read<'a>(r: &mut BodyReader<'a>, e: &Element<'a>) -> Result<Self, ServerError> {
        let mut f = Fault::default();
        r.children(e, |r, c| {
            match c.local_name() {
                "faultcode" => f.fault_code = r.text(&c)?.trim().to_owned(),
                "faultstring" => f.fault_string = r.text(&c)?.into_owned(),
                "detail" => read_detail(r, &c, &mut f)?,
                // SOAP 1.2 shapes, for EWS-compatible servers that use them.
                "Code" => {
                    r.children(&c, |r, v| {
                        if v.local_name() == "Value" {
                            f.fault_code = r.text(&v)?.trim().to_owned();
                        }
                        Ok::<_, ServerError>(())
                    })?;
                }
                "Reason" => {
                    r.children(&c, |r, t| {
                        if t.local_name() == "Text" && f.fault_string.is_empty() {
                            f.fault_string = r.text(&t)?.into_owned();
                        }
                        Ok::<_, ServerError>(())
                    })?;
                }
                "Detail" => read_detail(r, &c, &mut f)?,
                _ => {}
            }
            Ok::<_, ServerError>(())
        })?;
        // A schema fault names the place as elements of MessageXml, not as named values.
        let xml = &f.message_xml;
        let element = |name| xml.element(XmlNs::Types, name);
        let number = |s: Option<&str>| s.and_then(|v| v.parse().ok());
        if f.line_number.is_none() {
            f.line_number = number(element("LineNumber"));
        }
        if f.line_position.is_none() {
            f.line_position = number(element("LinePosition"));
        }
        if f.violation.is_none() {
            f.violation = element("Violation").map(str::to_owned);
        }
        Ok(f)
    }
}

fn read_detail<'a>(
    r: &mut BodyReader<'a>,
    e: &Element<'a>,
    f: &mut Fault,
) -> Result<(), ServerError> {
    r.children(e, |r, c| {
        let number = |s: &str| s.trim().parse().ok();
        match (c.ns(), c.local_name()) {
            (XmlNs::Types, "MessageXml") => f.message_xml = MessageXml::read(r, &c)?,
            (_, "ResponseCode") => {
                f.response_code = Some(ResponseCode::from_wire(r.text(&c)?.trim()))
            }
            (_, "Message") => f.message = Some(r.text(&c)?.into_owned()),
            (_, "Line" | "LineNumber") => f.line_number = number(&r.text(&c)?),
            (_, "Position" | "LinePosition") => f.line_position = number(&r.text(&c)?),
            (_, "Violation") => f.violation = Some(r.text(&c)?.into_owned()),
            _ => {}
        }
        Ok::<_, ServerError>(())
    })
}

/// `CODE: text (line L, position P) [violation]`, each piece of server text bounded and
/// escaped.
impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Bounded(self.code().as_str()))?;
        let text = self.message.as_deref().unwrap_or(&self.fault_string);
        if !text.is_empty() {
            write!(f, ": {}", Bounded(text))?;
        }
        if let (Some(line), Some(pos)) = (self.line_number, self.line_position) {
            write!(f, " (line {line}, position {pos})")?;
        }
        if let Some(v) = &self.violation {
            write!(f, " [{}]", Bounded(v))?;
        }
        Ok(())
    }
}

/// The derived form, with each string bounded (see [`Fault`]).
impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fault")
            .field("fault_code", &Bounded(&self.fault_code))
            .field("fault_string", &Bounded(&self.fault_string))
            .field("response_code", &self.response_code)
            .field("message", &self.message.as_deref().map(Bounded))
            .field("line_number", &self.line_number)
            .field("line_position", &self.line_position)
            .field("violation", &self.violation.as_deref().map(Bounded))
            .field("message_xml", &self.message_xml)
            .finish()
    }
}
