//! The XML reader: a namespace-aware pull reader over a borrowed `&str`.
//!
//! * Elements are matched by namespace URI and local name; prefixes never matter.
//! * A DOCTYPE is refused, so no entity can be declared; references to anything but the
//!   five predefined entities and character references are errors. Nothing is expanded.
//! * Nesting depth and item counts are bounded by [`Limits`]; body size is checked by the
//!   caller before a reader is made.
//! * Text is borrowed from the input unless it holds references or CR characters.

use std::borrow::Cow;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::error::{Limit, ServerError};
use crate::xml::write::is_xml_char;

/// Bounds on what a decoder accepts. The defaults suit every EWS answer seen in practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest body, in bytes, that is parsed at all. Default: 64 MiB.
    pub max_body_bytes: usize,
    /// Deepest element nesting. Default: 64 (EWS answers nest about 12 deep).
    pub max_depth: usize,
    /// Most items (delegates, items, attendees, recipients, ...) in one answer, counted
    /// together. Default: 1,000,000.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 << 20,
            max_depth: 64,
            max_items: 1_000_000,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_body_bytes`].
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }
    /// Sets [`Limits::max_depth`].
    pub fn max_depth(mut self, n: usize) -> Self {
        self.max_depth = n;
        self
    }
    /// Sets [`Limits::max_items`].
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = n;
        self
    }
}

/// The namespace of an element, by URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum XmlNs {
    /// SOAP 1.1 (`http://schemas.xmlsoap.org/soap/envelope/`) or 1.2 envelope.
    Soap,
    /// `http://schemas.microsoft.com/exchange/services/2006/messages`.
    Messages,
    /// `http://schemas.microsoft.com/exchange/services/2006/types`.
    Types,
    /// `http://schemas.microsoft.com/exchange/services/2006/errors` (fault details).
    Errors,
    /// No namespace.
    None,
    /// Any other namespace.
    Other,
}

impl XmlNs {
    fn of(uri: &str) -> Self {
        match uri {
            crate::soap::NS_SOAP | crate::soap::NS_SOAP12 => XmlNs::Soap,
            crate::soap::NS_MESSAGES => XmlNs::Messages,
            crate::soap::NS_TYPES => XmlNs::Types,
            crate::soap::NS_ERRORS => XmlNs::Errors,
            _ => XmlNs::Other,
        }
    }
}

/// An element start, as read.
#[derive(Debug, Clone)]
pub struct Element<'a> {
    ns: XmlNs,
    start: BytesStart<'a>,
    empty: bool,
    depth: usize,
    offset: u64,
}

impl<'a> Element<'a> {
    /// The element's namespace.
    pub fn ns(&self) -> XmlNs {
        self.ns
    }

    /// The element's local name (without prefix).
    pub fn local_name(&self) -> &str {
        let raw: &str = self.start.name().0;
        raw.rsplit_once(':').map_or(raw, |(_, local)| local)
    }

    /// Is this `{ns}local`?
    pub fn is(&self, ns: XmlNs, local: &str) -> bool {
        self.ns == ns && self.local_name() == local
    }

    /// The value of the unprefixed attribute `name`, with references resolved.
    pub fn attr(&self, name: &str) -> Result<Option<Cow<'_, str>>, ServerError> {
        for attr in self.start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| ServerError::malformed(e.to_string(), self.offset))?;
            if attr.key.as_ref() == name {
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|e| ServerError::malformed(e.to_string(), self.offset))?;
                if let Some(c) = forbidden_char(&value) {
                    return Err(ServerError::malformed(
                        format!("attribute {name} holds U+{:04X}", u32::from(c)),
                        self.offset,
                    ));
                }
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// Byte offset of the element in the body, for error messages.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// A `Malformed` error at this element.
    pub fn malformed(&self, reason: impl Into<String>) -> ServerError {
        ServerError::malformed(reason, self.offset)
    }
}

/// Reads the SOAP body of an answer. Handed to [`crate::Operation::read_body`].
///
/// The typical pattern is [`BodyReader::children`] over an element with a closure that
/// matches each child by [`Element::is`] and reads it with [`BodyReader::text`] or
/// another `children` call. Children the closure does not consume are skipped, so unknown
/// elements never derail decoding (forward compatibility).
#[derive(Debug)]
pub struct BodyReader<'a> {
    inner: NsReader<&'a [u8]>,
    depth: usize,
    items: usize,
    limits: Limits,
}

impl<'a> BodyReader<'a> {
    pub(crate) fn new(input: &'a str, limits: Limits) -> Self {
        let mut inner = NsReader::from_str(input);
        let config = inner.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Self {
            inner,
            depth: 0,
            items: 0,
            limits,
        }
    }

    fn offset(&self) -> u64 {
        self.inner.buffer_position()
    }

    fn syntax(&self, e: impl std::fmt::Display) -> ServerError {
        ServerError::malformed(e.to_string(), self.inner.error_position())
    }

    /// Reads up to the next element start at the current level. `None` at the end of the
    /// current element (its end tag is consumed) or of the document.
    pub(crate) fn next_element(&mut self) -> Result<Option<Element<'a>>, ServerError> {
        loop {
            let offset = self.offset();
            let read = self.inner.read_resolved_event().map(|(ns, event)| {
                let ns = match ns {
                    ResolveResult::Bound(ns) => Ok(XmlNs::of(ns.0)),
                    ResolveResult::Unbound => Ok(XmlNs::None),
                    ResolveResult::Unknown(p) => Err(p),
                };
                (ns, event)
            });
            let (ns, event) = read.map_err(|e| self.syntax(e))?;
            let ns = ns.map_err(|p| {
                ServerError::malformed(format!("undeclared namespace prefix {p:?}"), offset)
            })?;
            match event {
                Event::Start(start) => {
                    self.depth += 1;
                    if self.depth > self.limits.max_depth {
                        return Err(ServerError::LimitExceeded {
                            limit: Limit::Depth,
                            max: self.limits.max_depth,
                        });
                    }
                    return Ok(Some(Element {
                        ns,
                        start,
                        empty: false,
                        depth: self.depth,
                        offset,
                    }));
                }
                Event::Empty(start) => {
                    return Ok(Some(Element {
                        ns,
                        start,
                        empty: true,
                        depth: self.depth + 1,
                        offset,
                    }));
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                Event::DocType(_) => {
                    return Err(ServerError::malformed(
                        "a DOCTYPE is not allowed in a SOAP message",
                        offset,
                    ));
                }
                Event::Eof => {
                    if self.depth == 0 {
                        return Ok(None);
                    }
                    return Err(ServerError::malformed("unexpected end of document", offset));
                }
                Event::GeneralRef(r) => {
                    // Text between elements: must still be a known reference.
                    resolve_ref(&r, offset)?;
                }
                Event::Text(_)
                | Event::CData(_)
                | Event::Comment(_)
                | Event::Decl(_)
                | Event::PI(_) => {}
            }
        }
    }

    /// Calls `f` for each child element of `parent`, in document order. Children `f` leaves
    /// unread are skipped. Returns once `parent`'s end tag is consumed.
    pub fn children<E>(
        &mut self,
        parent: &Element<'a>,
        mut f: impl FnMut(&mut Self, Element<'a>) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<ServerError>,
    {
        if parent.empty {
            return Ok(());
        }
        while let Some(child) = self.next_element()? {
            let child_depth = child.depth;
            let child_empty = child.empty;
            f(self, child)?;
            if !child_empty {
                self.skip_to_depth(child_depth - 1)?;
            }
        }
        Ok(())
    }

    /// Skips the rest of `element` (no-op if it was already read to its end).
    pub fn skip(&mut self, element: &Element<'a>) -> Result<(), ServerError> {
        if element.empty {
            return Ok(());
        }
        self.skip_to_depth(element.depth - 1)
    }

    /// Reads events until the reader is back at `depth` (an end tag took it there).
    fn skip_to_depth(&mut self, depth: usize) -> Result<(), ServerError> {
        while self.depth > depth {
            self.next_element()?;
        }
        Ok(())
    }

    /// Reads the text content of `element` up to its end tag. References are resolved;
    /// child elements (not expected in a text-only element) are skipped.
    ///
    /// Text without references stays borrowed from the input. quick-xml reports every
    /// reference as its own event, so text with references (an HTML body has hundreds) is
    /// appended piece by piece into one `String`, resolved characters pushed in place.
    pub fn text(&mut self, element: &Element<'a>) -> Result<Cow<'a, str>, ServerError> {
        if element.empty {
            return Ok(Cow::Borrowed(""));
        }
        let mut acc: Cow<'a, str> = Cow::Borrowed("");
        loop {
            let offset = self.offset();
            let event = self.inner.read_event().map_err(|e| self.syntax(e))?;
            let piece: Cow<'a, str> = match event {
                Event::Text(t) => t.xml10_content(),
                Event::CData(c) => c.xml10_content(),
                Event::GeneralRef(r) => {
                    let c = resolve_ref(&r, offset)?;
                    acc.to_mut().push(c);
                    continue;
                }
                Event::End(_) => {
                    self.depth -= 1;
                    return Ok(acc);
                }
                Event::Start(_) => {
                    self.depth += 1;
                    if self.depth > self.limits.max_depth {
                        return Err(ServerError::LimitExceeded {
                            limit: Limit::Depth,
                            max: self.limits.max_depth,
                        });
                    }
                    let back = self.depth - 1;
                    self.skip_to_depth(back)?;
                    continue;
                }
                Event::Eof => {
                    return Err(ServerError::malformed("unexpected end of document", offset));
                }
                Event::DocType(_) => {
                    return Err(ServerError::malformed("a DOCTYPE is not allowed", offset));
                }
                Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => continue,
            };
            if let Some(c) = forbidden_char(&piece) {
                return Err(ServerError::malformed(
                    format!("text holds U+{:04X}", u32::from(c)),
                    offset,
                ));
            }
            if acc.is_empty() {
                acc = piece;
            } else {
                acc.to_mut().push_str(&piece);
            }
        }
    }

    /// Reads the text of `element` and parses it with `parse`, naming the element in the
    /// error.
    pub fn parse<T>(
        &mut self,
        element: &Element<'a>,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, ServerError> {
        let text = self.text(element)?;
        parse(text.trim()).ok_or_else(|| {
            element.malformed(format!(
                "{} holds {:?}, which is not a valid value",
                element.local_name(),
                truncate(&text, 64)
            ))
        })
    }

    /// Counts one decoded item against [`Limits::max_items`].
    pub fn count_item(&mut self) -> Result<(), ServerError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(ServerError::LimitExceeded {
                limit: Limit::Items,
                max: self.limits.max_items,
            });
        }
        Ok(())
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The first character of `s` that XML 1.0 forbids (see [`is_xml_char`]), found by a byte
/// scan: C0 controls other than tab, LF and CR are single bytes below 0x20, and U+FFFE and
/// U+FFFF are `EF BF BE` and `EF BF BF` (0xEF only ever starts a sequence in a `str`).
pub(crate) fn forbidden_char(s: &str) -> Option<char> {
    // Branch-free over the whole slice (the compiler vectorises it); the exact search runs
    // only when a suspect byte is there.
    let suspect = s
        .as_bytes()
        .iter()
        .fold(false, |acc, &b| acc | (b < 0x20) | (b == 0xEF));
    if !suspect {
        return None;
    }
    s.chars().find(|&c| !is_xml_char(c))
}

/// Resolves a predefined entity or a character reference. Anything else is an error: no
/// entity is ever expanded.
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>, offset: u64) -> Result<char, ServerError> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) if is_xml_char(c) => Ok(c),
            _ => Err(ServerError::malformed(
                "character reference to a character XML 1.0 forbids",
                offset,
            )),
        };
    }
    match &**r {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(ServerError::malformed(
            format!("reference to undeclared entity {:?}", truncate(other, 32)),
            offset,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root<'a>(r: &mut BodyReader<'a>) -> Element<'a> {
        r.next_element().unwrap().unwrap()
    }

    #[test]
    fn matches_by_namespace_not_prefix() {
        for doc in [
            r#"<a:X xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types"/>"#,
            r#"<X xmlns="http://schemas.microsoft.com/exchange/services/2006/types"/>"#,
            r#"<SOAP:X xmlns:SOAP="http://schemas.microsoft.com/exchange/services/2006/types"/>"#,
        ] {
            let mut r = BodyReader::new(doc, Limits::default());
            let e = root(&mut r);
            assert!(e.is(XmlNs::Types, "X"), "{doc}");
        }
        let mut r = BodyReader::new(
            r#"<t:X xmlns:t="https://schemas.microsoft.com/exchange/services/2006/types"/>"#,
            Limits::default(),
        );
        assert_eq!(root(&mut r).ns(), XmlNs::Other);
    }

    #[test]
    fn text_resolves_predefined_and_char_refs() {
        let mut r = BodyReader::new(
            "<a>x &amp; &lt;y&gt; &#x263A;&#65;<![CDATA[<z>]]></a>",
            Limits::default(),
        );
        let a = root(&mut r);
        assert_eq!(r.text(&a).unwrap(), "x & <y> ☺A<z>");
    }

    #[test]
    fn text_without_refs_is_borrowed() {
        let mut r = BodyReader::new("<a>plain text</a>", Limits::default());
        let a = root(&mut r);
        assert!(matches!(r.text(&a).unwrap(), Cow::Borrowed("plain text")));
    }

    #[test]
    fn unknown_entities_are_refused() {
        let mut r = BodyReader::new("<a>&lol;</a>", Limits::default());
        let a = root(&mut r);
        assert!(matches!(r.text(&a), Err(ServerError::Malformed { .. })));
    }

    #[test]
    fn doctype_is_refused() {
        let doc = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
        let mut r = BodyReader::new(doc, Limits::default());
        let err = r.next_element().unwrap_err();
        assert!(err.to_string().contains("DOCTYPE"), "{err}");
    }

    #[test]
    fn depth_is_bounded() {
        let doc = "<a>".repeat(100) + &"</a>".repeat(100);
        let mut r = BodyReader::new(&doc, Limits::default().max_depth(10));
        let mut result = Ok(());
        for _ in 0..20 {
            match r.next_element() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        assert!(matches!(
            result,
            Err(ServerError::LimitExceeded {
                limit: Limit::Depth,
                max: 10
            })
        ));
    }

    #[test]
    fn children_skips_what_the_closure_leaves() {
        let doc = "<r><a><deep><er/></deep></a><b>1</b><c/><b>2</b></r>";
        let mut r = BodyReader::new(doc, Limits::default());
        let top = root(&mut r);
        let mut seen = Vec::new();
        r.children(&top, |r, e| {
            if e.local_name() == "b" {
                seen.push(r.text(&e)?.into_owned());
            }
            Ok::<_, ServerError>(())
        })
        .unwrap();
        assert_eq!(seen, ["1", "2"]);
        assert!(r.next_element().unwrap().is_none());
    }

    #[test]
    fn attributes_are_unescaped() {
        let mut r = BodyReader::new(r#"<a Name="x&amp;y" Other='1'/>"#, Limits::default());
        let a = root(&mut r);
        assert_eq!(a.attr("Name").unwrap().as_deref(), Some("x&y"));
        assert_eq!(a.attr("Other").unwrap().as_deref(), Some("1"));
        assert_eq!(a.attr("Missing").unwrap(), None);
    }

    #[test]
    fn mismatched_end_tags_are_errors() {
        let mut r = BodyReader::new("<a><b></a></b>", Limits::default());
        let a = root(&mut r);
        let res = r.children(&a, |_, _| Ok::<_, ServerError>(()));
        assert!(res.is_err());
    }
}
