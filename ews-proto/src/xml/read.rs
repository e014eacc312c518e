//! The XML reader: a namespace-aware pull reader over a borrowed `&str`.
//!
//! * Elements are matched by namespace URI and local name; prefixes never matter.
//! * A DOCTYPE is refused, so no entity can be declared; references to anything but the
//!   five predefined entities and character references are errors. Nothing is expanded.
//! * Nesting depth and item counts are bounded by [`Limits`]; body size is checked by the
//!   caller before a reader is made.
//! * Text is borrowed from the input unless it holds references or CR characters.
//!
//! # Two fast paths next to quick-xml
//!
//! quick-xml parses the structure, but most of an EWS answer is leaf elements
//! (`<t:PrimarySmtpAddress>kim@contoso.com</t:PrimarySmtpAddress>`) and text, and quick-xml
//! reports every entity reference as an event of its own (an HTML body has hundreds) and
//! re-checks every text piece as UTF-8. The reader therefore takes two shortcuts over the
//! `&str` it was given, and hands anything else to quick-xml:
//!
//! * **leaf**: `<name>text</name>` with no attribute, no child, no comment or CDATA, whose
//!   end tag follows the text exactly, is read in one step: the name resolved against
//!   quick-xml's namespace scope, the text unescaped in one pass. quick-xml never sees it;
//!   its input slice is advanced past it (the element is balanced and declares nothing, so
//!   its state stays right) and positions are corrected by the bytes skipped.
//! * **text**: the content of an element whose start tag quick-xml just read (attributes
//!   allowed, e.g. `<t:Body BodyType="HTML">`), when an end tag follows it directly, is
//!   unescaped in one pass; quick-xml then reads and checks the end tag.
//!
//! The leaf shortcut is not taken while quick-xml owes a namespace scope pop that would
//! remove bindings (an element that declared `xmlns` just closed): until its next event the
//! scope quick-xml exposes still holds them. References and line ends follow the same rules
//! on both paths; a differential test in this module compares the two on generated documents,
//! their results and the kind of their errors.
//!
//! # Why quick-xml is pinned to one version
//!
//! Both shortcuts lean on how quick-xml works inside, beyond what its documentation
//! promises: that it reads a `&str` by advancing a slice with no buffer of its own, where
//! that slice stands after each kind of event, that a balanced element skipped behind its
//! back leaves its end-name check and positions right, when it pops a namespace scope,
//! and where it places its errors (which [`kind_of`] uses to tell a cut document from a
//! bad one). A patch release may change any of that without breaking its API, so the
//! workspace requires exactly `quick-xml = "=0.42.0"` rather than a caret range, and
//! `tests/quick_xml_contract.rs` states each assumption and checks it against the pinned
//! version. The other way, a reader of our own for the whole syntax, would trade that
//! one pin for a second XML parser to keep correct. Upgrading is deliberate: move the pin,
//! run the contract test and the differential test, and let [`kind_of`] (an exhaustive
//! match on quick-xml's errors) stop the build on an error it does not know.
//!
//! # Errors
//!
//! Every error of the syntax is a [`ServerError::Malformed`] whose
//! [`MalformedKind`] says what is wrong (cut, a DOCTYPE, a forbidden character, a bad
//! reference, a namespace, other syntax), at the byte offset where it was noticed.

use std::borrow::Cow;

use memchr::memchr;
use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};

use crate::error::{Limit, MalformedKind, ServerError};
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
    /// `http://schemas.microsoft.com/exchange/2010/Autodiscover` (SOAP Autodiscover).
    Autodiscover,
    /// `http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006` (the root
    /// of a POX Autodiscover answer, and its errors).
    AutodiscoverResponse,
    /// `http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a`
    /// (the settings of a POX Autodiscover answer).
    AutodiscoverOutlook,
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
            "http://schemas.microsoft.com/exchange/2010/Autodiscover" => XmlNs::Autodiscover,
            "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006" => {
                XmlNs::AutodiscoverResponse
            }
            "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a" => {
                XmlNs::AutodiscoverOutlook
            }
            _ => XmlNs::Other,
        }
    }
}

/// An element start, as read.
#[derive(Debug, Clone)]
pub struct Element<'a> {
    ns: XmlNs,
    start: BytesStart<'a>,
    /// Nothing of the element is left to read (an empty-element tag, or a leaf).
    empty: bool,
    /// Read whole by the leaf fast path; its text waits in [`BodyReader::leaf`].
    leaf: bool,
    /// Where the local name starts in the qualified name (after `prefix:`).
    local_at: usize,
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
        self.start.name().0.get(self.local_at..).unwrap_or_default()
    }

    /// Is this `{ns}local`?
    pub fn is(&self, ns: XmlNs, local: &str) -> bool {
        self.ns == ns && self.local_name() == local
    }

    /// The value of the unprefixed attribute `name`, with references resolved.
    pub fn attr(&self, name: &str) -> Result<Option<Cow<'_, str>>, ServerError> {
        let mut found = None;
        self.each_attr(|key, value| {
            if found.is_none() && key == name {
                found = Some(value);
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// Calls `f` with the name (as written, prefix included) and value (references
    /// resolved) of each attribute, in document order: one pass for an element whose
    /// several attributes are all wanted.
    pub(crate) fn each_attr<'s>(
        &'s self,
        mut f: impl FnMut(&str, Cow<'s, str>) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        for attr in self.start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| {
                ServerError::malformed(MalformedKind::NotWellFormed, e.to_string(), self.offset)
            })?;
            let key = attr.key.as_ref();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| {
                    ServerError::malformed(kind_of(&e, None), e.to_string(), self.offset)
                })?;
            if let Some(c) = forbidden_char(&value) {
                return Err(ServerError::malformed(
                    MalformedKind::ForbiddenCharacter,
                    format!("attribute {key} holds U+{:04X}", u32::from(c)),
                    self.offset,
                ));
            }
            f(key, value)?;
        }
        Ok(())
    }

    /// Byte offset of the element in the body, for error messages.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// A [`ServerError::Malformed`] of `kind` at this element. `detail` may quote the
    /// server; it is bounded and escaped (see [`crate::error::Malformed`]).
    pub fn malformed(&self, kind: MalformedKind, detail: impl Into<String>) -> ServerError {
        ServerError::malformed(kind, detail, self.offset)
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
    /// The whole input; quick-xml's slice is always a suffix of it.
    input: &'a str,
    /// Bytes the fast paths consumed: quick-xml's positions lag by this much.
    skipped: u64,
    /// For each element open in quick-xml: does its start tag declare a namespace.
    declares: Vec<bool>,
    /// quick-xml will pop, before its next event, a scope that holds bindings.
    stale_scope: bool,
    /// Offset of the element whose start tag was the last event read, if it was one.
    just_started: Option<u64>,
    /// quick-xml's last event was a tag, so its input starts right after a `>` where it
    /// expects character data: the only place the leaf path may begin. (After a text
    /// event quick-xml has already stepped into the next tag.)
    boundary: bool,
    /// The last leaf returned and its unescaped text, until [`BodyReader::text`] takes it.
    leaf: Option<(u64, Cow<'a, str>)>,
    /// The fast paths are on (only the differential test turns them off).
    fast: bool,
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
            input,
            skipped: 0,
            declares: Vec::new(),
            stale_scope: false,
            just_started: None,
            boundary: false,
            leaf: None,
            fast: true,
            depth: 0,
            items: 0,
            limits,
        }
    }

    /// Where the reader is: the byte offset in the input after the last thing read.
    pub(crate) fn offset(&self) -> u64 {
        self.inner.buffer_position() + self.skipped
    }

    /// The error for quick-xml's `e`, at its error position, with its kind (see
    /// [`kind_of`]).
    fn syntax(&self, e: &quick_xml::Error) -> ServerError {
        let at = self.inner.error_position() + self.skipped;
        let rest = usize::try_from(at)
            .ok()
            .and_then(|at| self.input.get(at..))
            .unwrap_or_default();
        ServerError::malformed(kind_of(e, Some(rest)), e.to_string(), at)
    }

    /// quick-xml's next event, unresolved.
    fn read_event(&mut self) -> Result<Event<'a>, ServerError> {
        self.inner.read_event().map_err(|e| self.failed(e))
    }

    /// A syntax error from quick-xml. Its state is not to be trusted after one, so the fast
    /// paths stay off should a caller read on.
    fn failed(&mut self, e: quick_xml::Error) -> ServerError {
        self.fast = false;
        self.syntax(&e)
    }

    /// Where quick-xml's input slice starts in `input`.
    fn position(&self) -> usize {
        self.input.len() - self.inner.get_ref().len()
    }

    /// Moves quick-xml's input past `n` bytes the fast paths consumed.
    fn advance(&mut self, n: usize) {
        let rest = self.inner.get_mut();
        *rest = rest.get(n..).unwrap_or_default();
        self.skipped += n as u64;
    }

    /// Keeps the namespace bookkeeping of the fast paths in step with quick-xml, which pops
    /// the scope of the last `End`/`Empty` only when it reads the next event.
    fn track(&mut self, event: &Event<'a>, offset: u64) {
        self.just_started = None;
        self.boundary = matches!(event, Event::Start(_) | Event::End(_) | Event::Empty(_));
        match event {
            Event::Start(start) => {
                self.declares.push(declares_namespace(start));
                self.stale_scope = false;
                self.just_started = Some(offset);
            }
            Event::Empty(start) => self.stale_scope = declares_namespace(start),
            Event::End(_) => self.stale_scope = self.declares.pop().unwrap_or(true),
            _ => self.stale_scope = false,
        }
    }

    /// The leaf fast path (see the module docs): `Some` when the next element is a leaf it
    /// read whole, `None` to let quick-xml read it.
    fn leaf(&mut self) -> Result<Option<Element<'a>>, ServerError> {
        if !self.fast || !self.boundary || self.stale_scope || self.depth == 0 {
            return Ok(None);
        }
        let pos = self.position();
        let Some(rest) = self.input.get(pos..) else {
            return Ok(None);
        };
        let bytes = rest.as_bytes();
        let open = bytes.iter().take_while(|&&b| is_space(b)).count();
        if bytes.get(open) != Some(&b'<') {
            return Ok(None);
        }
        let Some((name_len, local_at)) = simple_qname(&bytes[open + 1..]) else {
            return Ok(None);
        };
        let name_end = open + 1 + name_len;
        if bytes.get(name_end) != Some(&b'>') {
            return Ok(None);
        }
        let name = &rest[open + 1..name_end];
        let text_start = name_end + 1;
        let Some(text_len) = memchr(b'<', &bytes[text_start..]) else {
            return Ok(None);
        };
        let text_end = text_start + text_len;
        let close = &bytes[text_end..];
        let closes = close.len() > name.len() + 2
            && close[1] == b'/'
            && &close[2..2 + name.len()] == name.as_bytes()
            && close[2 + name.len()] == b'>';
        if !closes {
            return Ok(None);
        }
        let offset = (pos + open) as u64;
        // Checked in the order quick-xml's path checks them: the name, then the depth.
        let ns = match self.inner.resolver().resolve_element(QName(name)).0 {
            ResolveResult::Bound(ns) => XmlNs::of(ns.0),
            ResolveResult::Unbound => XmlNs::None,
            ResolveResult::Unknown(p) => return Err(undeclared(&p, offset)),
        };
        if self.depth + 1 > self.limits.max_depth {
            return Err(ServerError::LimitExceeded {
                limit: Limit::Depth,
                max: self.limits.max_depth,
            });
        }
        let text = unescape(&rest[text_start..text_end], (pos + text_start) as u64)?;
        self.advance(text_end + name.len() + 3);
        self.just_started = None;
        self.leaf = Some((offset, text));
        Ok(Some(Element {
            ns,
            start: BytesStart::new(name),
            local_at,
            empty: true,
            leaf: true,
            depth: self.depth + 1,
            offset,
        }))
    }

    /// The text fast path (see the module docs) for `element`, whose start tag must be the
    /// last thing read. `None` to let quick-xml read the content.
    fn text_direct(&mut self, element: &Element<'a>) -> Result<Option<Cow<'a, str>>, ServerError> {
        if !self.fast || self.just_started != Some(element.offset) {
            return Ok(None);
        }
        let pos = self.position();
        let Some(rest) = self.input.get(pos..) else {
            return Ok(None);
        };
        let Some(len) = memchr(b'<', rest.as_bytes()) else {
            return Ok(None);
        };
        if rest.as_bytes().get(len + 1) != Some(&b'/') {
            return Ok(None);
        }
        let text = unescape(&rest[..len], pos as u64)?;
        self.advance(len);
        let offset = self.offset();
        let event = self.read_event()?;
        self.track(&event, offset);
        match event {
            Event::End(_) => {
                self.depth -= 1;
                Ok(Some(text))
            }
            // `</` can only start an end tag; quick-xml reported an error otherwise.
            _ => Err(ServerError::malformed(
                MalformedKind::NotWellFormed,
                "expected an end tag",
                offset,
            )),
        }
    }

    /// Reads up to the next element start at the current level. `None` at the end of the
    /// current element (its end tag is consumed) or of the document.
    pub(crate) fn next_element(&mut self) -> Result<Option<Element<'a>>, ServerError> {
        if let Some(leaf) = self.leaf()? {
            return Ok(Some(leaf));
        }
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
            let (ns, event) = read.map_err(|e| self.failed(e))?;
            self.track(&event, offset);
            let ns = ns.map_err(|p| undeclared(&p, offset))?;
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
                        local_at: local_at(&start),
                        start,
                        empty: false,
                        leaf: false,
                        depth: self.depth,
                        offset,
                    }));
                }
                Event::Empty(start) => {
                    return Ok(Some(Element {
                        ns,
                        local_at: local_at(&start),
                        start,
                        empty: true,
                        leaf: false,
                        depth: self.depth + 1,
                        offset,
                    }));
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                Event::DocType(_) => return Err(doctype(offset)),
                Event::Eof => {
                    if self.depth == 0 {
                        return Ok(None);
                    }
                    return Err(truncated(offset));
                }
                Event::GeneralRef(r) => {
                    // Text between elements: must still be a known reference.
                    resolve_entity(&r, offset)?;
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
    /// Text without references or CR stays borrowed from the input. Usually one of the fast
    /// paths (module docs) read it; otherwise quick-xml's pieces (it reports every
    /// reference as its own event) are appended into one `String`.
    pub fn text(&mut self, element: &Element<'a>) -> Result<Cow<'a, str>, ServerError> {
        if element.leaf {
            let text = match self.leaf.take() {
                Some((offset, text)) if offset == element.offset => text,
                // Already taken: the element was read to its end.
                other => {
                    self.leaf = other;
                    Cow::Borrowed("")
                }
            };
            return allowed_text(text, element.offset);
        }
        if element.empty {
            return Ok(Cow::Borrowed(""));
        }
        if let Some(text) = self.text_direct(element)? {
            return allowed_text(text, element.offset);
        }
        let mut acc: Cow<'a, str> = Cow::Borrowed("");
        loop {
            let offset = self.offset();
            let event = self.read_event()?;
            self.track(&event, offset);
            let piece: Cow<'a, str> = match event {
                Event::Text(t) => t.xml10_content(),
                Event::CData(c) => c.xml10_content(),
                Event::GeneralRef(r) => {
                    let c = resolve_entity(&r, offset)?;
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
                Event::Eof => return Err(truncated(offset)),
                Event::DocType(_) => return Err(doctype(offset)),
                Event::Empty(_) | Event::Comment(_) | Event::Decl(_) | Event::PI(_) => continue,
            };
            let piece = allowed_text(piece, offset)?;
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
            element.malformed(
                MalformedKind::BadValue,
                format!(
                    "{} holds {:?}, which is not a valid value",
                    element.local_name(),
                    truncate(&text, 64)
                ),
            )
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
/// scan: C0 controls are single bytes below 0x20, and U+FFFE and U+FFFF are `EF BF BE` and
/// `EF BF BF` (0xEF only ever starts a sequence in a `str`).
fn forbidden_char(s: &str) -> Option<char> {
    // Branch-free over the whole slice (the compiler vectorises it); the exact search runs
    // only when a suspect byte is there. Tab, LF and CR count as suspects here: excluding
    // them costs more per byte than the rare exact search saves.
    let suspect = s
        .as_bytes()
        .iter()
        .fold(false, |acc, &b| acc | (b < 0x20) | (b == 0xEF));
    if !suspect {
        return None;
    }
    s.chars().find(|&c| !is_xml_char(c))
}

/// `text` as read, or the error for a character XML 1.0 forbids in it.
fn allowed_text<'t>(text: Cow<'t, str>, offset: u64) -> Result<Cow<'t, str>, ServerError> {
    match forbidden_char(&text) {
        Some(c) => Err(ServerError::malformed(
            MalformedKind::ForbiddenCharacter,
            format!("text holds U+{:04X}", u32::from(c)),
            offset,
        )),
        None => Ok(text),
    }
}

/// The document ended inside an element.
fn truncated(offset: u64) -> ServerError {
    ServerError::malformed(
        MalformedKind::Truncated,
        "unexpected end of document",
        offset,
    )
}

/// A DOCTYPE, wherever it appears.
fn doctype(offset: u64) -> ServerError {
    ServerError::malformed(
        MalformedKind::DoctypeRefused,
        "a DOCTYPE is not allowed in a SOAP message",
        offset,
    )
}

/// A name whose prefix no declaration in scope binds.
fn undeclared(prefix: &str, offset: u64) -> ServerError {
    ServerError::malformed(
        MalformedKind::Namespace,
        format!("undeclared namespace prefix {:?}", truncate(prefix, 64)),
        offset,
    )
}

/// The kind of quick-xml's error `e`. `rest` is the input from where quick-xml places the
/// error (`None` for an error inside a complete tag, such as a bad reference in an
/// attribute value): whether the input ends there tells a cut document from a bad one.
///
/// Matched exhaustively: quick-xml is pinned to one version (see the module docs), and an
/// error a new version adds must be given its kind here before it builds.
fn kind_of(e: &quick_xml::Error, rest: Option<&str>) -> MalformedKind {
    use quick_xml::Error as E;
    use quick_xml::errors::{IllFormedError as Ill, SyntaxError as Syn};
    use quick_xml::escape::{EscapeError as Esc, ParseCharRefError as CharRef};
    match e {
        // `<!` with too little after it to say what it opens: cut if what is there starts
        // one of the three it can open.
        E::Syntax(Syn::InvalidBangMarkup) => match rest {
            Some(rest) if is_cut_bang(rest) => MalformedKind::Truncated,
            _ => MalformedKind::NotWellFormed,
        },
        // A DOCTYPE is refused whole or cut.
        E::Syntax(Syn::UnclosedDoctype) | E::IllFormed(Ill::MissingDoctypeName) => {
            MalformedKind::DoctypeRefused
        }
        // Each of these is "the input ended before ...".
        E::Syntax(
            Syn::UnclosedPI
            | Syn::UnclosedXmlDecl
            | Syn::UnclosedComment
            | Syn::UnclosedCData
            | Syn::UnclosedTag
            | Syn::UnclosedSingleQuotedAttributeValue
            | Syn::UnclosedDoubleQuotedAttributeValue,
        )
        | E::IllFormed(Ill::MissingEndTag(_)) => MalformedKind::Truncated,
        // `&` without `;`: quick-xml says so also when markup follows (`&amp</a>`).
        E::IllFormed(Ill::UnclosedReference) => match rest {
            Some(rest) if memchr(b'<', rest.as_bytes()).is_none() => MalformedKind::Truncated,
            _ => MalformedKind::BadReference,
        },
        E::IllFormed(
            Ill::MissingDeclVersion(_)
            | Ill::UnknownVersion
            | Ill::UnmatchedEndTag(_)
            | Ill::MismatchedEndTag { .. }
            | Ill::DoubleHyphenInComment,
        )
        | E::InvalidAttr(_)
        // No I/O under a slice.
        | E::Io(_) => MalformedKind::NotWellFormed,
        E::Escape(Esc::InvalidCharRef(CharRef::IllegalCharacter(_))) => {
            MalformedKind::ForbiddenCharacter
        }
        E::Escape(
            Esc::UnrecognizedEntity(..)
            | Esc::UnterminatedEntity(_)
            | Esc::InvalidCharRef(
                CharRef::UnexpectedSign | CharRef::InvalidNumber(_) | CharRef::InvalidCodepoint(_),
            )
            | Esc::TooManyNestedEntities,
        ) => MalformedKind::BadReference,
        E::Namespace(_) => MalformedKind::Namespace,
        // The input is a `str`; only a declared encoding could disagree.
        E::Encoding(_) => MalformedKind::NotXml,
    }
}

/// Is `rest`, which starts with `<!`, a cut start of a comment, CDATA section or DOCTYPE?
fn is_cut_bang(rest: &str) -> bool {
    let rest = rest.as_bytes();
    [&b"<!--"[..], b"<![CDATA[", b"<!DOCTYPE"]
        .iter()
        .any(|open| rest.len() < open.len() && open[..rest.len()].eq_ignore_ascii_case(rest))
}

/// Resolves the reference `&name;`: a predefined entity or a character reference to a
/// character XML 1.0 allows. Anything else is an error: no entity is ever expanded.
fn resolve_entity(name: &str, offset: u64) -> Result<char, ServerError> {
    match name {
        "amp" => return Ok('&'),
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "quot" => return Ok('"'),
        "apos" => return Ok('\''),
        _ => {}
    }
    let Some(number) = name.strip_prefix('#') else {
        return Err(ServerError::malformed(
            MalformedKind::BadReference,
            format!("reference to undeclared entity {:?}", truncate(name, 32)),
            offset,
        ));
    };
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    // `from_str_radix` would accept a sign; XML allows digits only.
    let code = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(digits, radix).ok()
    } else {
        None
    };
    match code.and_then(char::from_u32) {
        Some(c) if is_xml_char(c) => Ok(c),
        Some(c) => Err(ServerError::malformed(
            MalformedKind::ForbiddenCharacter,
            format!(
                "character reference {:?} to U+{:04X}, which XML 1.0 forbids",
                truncate(name, 32),
                u32::from(c)
            ),
            offset,
        )),
        None => Err(ServerError::malformed(
            MalformedKind::BadReference,
            format!(
                "character reference {:?} names no character",
                truncate(name, 32)
            ),
            offset,
        )),
    }
}

/// Text as XML 1.0 reads it: references resolved, `\r\n` and lone `\r` read as `\n`.
/// Borrowed when there is neither. `offset` is where `raw` starts, for errors.
///
/// A bad reference after a forbidden character is reported as the character, as
/// quick-xml's path (which checks each piece of text before the reference after it)
/// reports it.
fn unescape(raw: &str, offset: u64) -> Result<Cow<'_, str>, ServerError> {
    let bytes = raw.as_bytes();
    let fail = |e: ServerError, at: usize| {
        let before = raw.get(..at).unwrap_or_default();
        match allowed_text(Cow::Borrowed(before), offset) {
            Err(forbidden) => forbidden,
            Ok(_) => e,
        }
    };
    let Some(mut next) = find_amp_or_cr(bytes) else {
        return Ok(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    let mut done = 0;
    loop {
        out.push_str(&raw[done..next]);
        if bytes[next] == b'\r' {
            out.push('\n');
            done = next + 1;
            if bytes.get(done) == Some(&b'\n') {
                done += 1;
            }
        } else {
            // No bound on the name: character references may carry any number of leading
            // zeros. Still linear: a name that is not a reference is an error that ends
            // the read, so no byte is searched twice.
            let at = offset + next as u64;
            let Some(len) = memchr(b';', &bytes[next + 1..]) else {
                let e = ServerError::malformed(
                    MalformedKind::BadReference,
                    "a reference without its ';'",
                    at,
                );
                return Err(fail(e, next));
            };
            let c =
                resolve_entity(&raw[next + 1..next + 1 + len], at).map_err(|e| fail(e, next))?;
            out.push(c);
            done = next + 2 + len;
        }
        match find_amp_or_cr(&bytes[done..]) {
            Some(k) => next = done + k,
            None => {
                out.push_str(&raw[done..]);
                return Ok(Cow::Owned(out));
            }
        }
    }
}

/// The first `&` or CR in `bytes`. References in an HTML body are a few bytes apart, where
/// `memchr2`'s vector set-up costs more than it saves: this reads eight bytes per step
/// (SWAR: a byte of `x ^ pattern` is zero exactly where `x` holds the pattern byte).
fn find_amp_or_cr(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const AMP: u64 = u64::from_ne_bytes([b'&'; 8]);
    const CR: u64 = u64::from_ne_bytes([b'\r'; 8]);
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let hits = zero_bytes(x ^ AMP) | zero_bytes(x ^ CR);
        if hits != 0 {
            // Only bytes above a true hit can be false hits; the lowest is exact.
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'&' || b == b'\r')
        .map(|i| at + i)
}

/// Does this start tag declare a namespace? (A false "yes", an attribute value holding
/// `xmlns`, only turns the leaf fast path off for one step.)
fn declares_namespace(start: &BytesStart<'_>) -> bool {
    memchr::memmem::find(start.attributes_raw().as_bytes(), b"xmlns").is_some()
}

/// XML white space.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The name the leaf fast path reads at the start of `bytes`: `local` or `prefix:local`,
/// each part an ASCII NCName. Returns its length and where the local part starts; `None`
/// (let quick-xml read it) for anything else, such as non-ASCII names.
fn simple_qname(bytes: &[u8]) -> Option<(usize, usize)> {
    let starts_part = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    if !starts_part(bytes.first()) {
        return None;
    }
    let mut local_at = 0;
    let mut len = 1;
    while let Some(&b) = bytes.get(len) {
        if b == b':' && local_at == 0 {
            if !starts_part(bytes.get(len + 1)) {
                return None;
            }
            local_at = len + 1;
            len += 2;
        } else if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') {
            len += 1;
        } else {
            return Some((len, local_at));
        }
    }
    Some((len, local_at))
}

/// Where the local part of `start`'s name begins (after the last `:`).
fn local_at(start: &BytesStart<'_>) -> usize {
    let name = start.name().0;
    memchr::memrchr(b':', name.as_bytes()).map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
    fn character_references_may_have_any_number_of_leading_zeros() {
        let doc = "<r><a>&#x0000000000000000000000000000000000000041;</a></r>";
        let mut r = BodyReader::new(doc, Limits::default());
        let top = root(&mut r);
        let mut seen = Vec::new();
        r.children(&top, |r, e| {
            seen.push(r.text(&e)?.into_owned());
            Ok::<_, ServerError>(())
        })
        .unwrap();
        assert_eq!(seen, ["A"]);
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

    #[test]
    fn finds_the_first_ampersand_or_cr_at_every_position() {
        for len in 0..40 {
            for at in 0..=len {
                for hit in [b'&', b'\r'] {
                    let mut bytes = vec![b'a'; len];
                    // Bytes that differ from the patterns by one bit, to catch carries.
                    bytes.iter_mut().step_by(3).for_each(|b| *b = b'\'');
                    bytes.iter_mut().skip(1).step_by(5).for_each(|b| *b = 0x0C);
                    let want = (at < len).then(|| {
                        bytes[at] = hit;
                        at
                    });
                    if let Some(after) = bytes.get_mut(at + 1) {
                        *after = b'&';
                    }
                    assert_eq!(
                        find_amp_or_cr(&bytes),
                        want.or((at + 1 < len).then_some(at + 1)),
                        "{bytes:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn fast_paths_keep_positions_and_scopes() {
        // A leaf after an element that declared (and so pops) a binding: `p` is the outer
        // binding again, not the inner one.
        let doc = concat!(
            r#"<r xmlns:p="http://schemas.microsoft.com/exchange/services/2006/types">"#,
            r#"<a xmlns:p="urn:other"><p:x>1</p:x></a><p:b>2</p:b>"#,
            r#"<c xmlns:p="urn:other"/><p:d>3</p:d></r>"#
        );
        let mut r = BodyReader::new(doc, Limits::default());
        let top = root(&mut r);
        let mut seen = Vec::new();
        r.children(&top, |r, e| {
            if e.local_name() != "a" && e.local_name() != "c" {
                seen.push((e.ns(), r.text(&e)?.into_owned()));
            }
            Ok::<_, ServerError>(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                (XmlNs::Types, "2".to_owned()),
                (XmlNs::Types, "3".to_owned())
            ]
        );
        // An error after a leaf points into the input where it is.
        let doc = "<r><a>x</a><b>&bogus;</b></r>";
        let mut r = BodyReader::new(doc, Limits::default());
        let top = root(&mut r);
        let err = r.children(&top, |r, e| r.text(&e).map(drop)).unwrap_err();
        let ServerError::Malformed(m) = err else {
            panic!("{err:?}")
        };
        assert_eq!(m.offset(), doc.find("&bogus").unwrap() as u64);
        assert_eq!(m.kind(), MalformedKind::BadReference);
    }

    #[test]
    fn reading_on_after_an_error_never_desynchronises_quick_xml() {
        // `text` fails on the NUL after quick-xml has read the text up to `<b>`; a caller
        // that reads on must not have `<b>t</b>` taken by the leaf path behind quick-xml's
        // back (found by fuzzing: quick-xml then parsed character data as markup).
        let doc = "<r><a>x\u{0}<b>t</b>y</a><c>z</c></r>";
        for fast in [true, false] {
            let mut r = BodyReader::new(doc, Limits::default());
            r.fast = fast;
            root(&mut r);
            let a = r.next_element().unwrap().unwrap();
            assert!(r.text(&a).is_err());
            let mut names = Vec::new();
            while let Ok(Some(e)) = r.next_element() {
                names.push(e.local_name().to_owned());
            }
            assert_eq!(names, ["b"], "fast: {fast}");
        }
    }

    /// One node of a generated document (see `differential`).
    #[derive(Debug, Clone)]
    enum Node {
        /// `<prefix:L.. xmlns..>text</..>` (a leaf, maybe with attributes or CDATA).
        Leaf {
            prefix: usize,
            declare: Option<(usize, usize)>,
            attr: bool,
            text: String,
        },
        /// `<prefix:C.. xmlns..>children</..>`, maybe with a wrong end tag.
        Parent {
            prefix: usize,
            declare: Option<(usize, usize)>,
            children: Vec<Node>,
            wrong_end: bool,
        },
        /// `<prefix:E/>`.
        Empty { prefix: usize },
    }

    const PREFIXES: [&str; 4] = ["", "t", "m", "q"];
    const URIS: [&str; 3] = [
        "http://schemas.microsoft.com/exchange/services/2006/types",
        "http://schemas.microsoft.com/exchange/services/2006/messages",
        "urn:other",
    ];

    fn qname(prefix: usize, local: &str) -> String {
        match PREFIXES[prefix] {
            "" => local.to_owned(),
            p => format!("{p}:{local}"),
        }
    }

    fn declaration(declare: Option<(usize, usize)>) -> String {
        match declare {
            None => String::new(),
            Some((p, u)) => match PREFIXES[p] {
                "" => format!(r#" xmlns="{}""#, URIS[u]),
                p => format!(r#" xmlns:{p}="{}""#, URIS[u]),
            },
        }
    }

    fn render(node: &Node, out: &mut String) {
        match node {
            Node::Leaf {
                prefix,
                declare,
                attr,
                text,
            } => {
                let name = qname(*prefix, "L");
                let extra = if *attr { r#" A="1""# } else { "" };
                out.push_str(&format!(
                    "<{name}{}{extra}>{text}</{name}>",
                    declaration(*declare)
                ));
            }
            Node::Parent {
                prefix,
                declare,
                children,
                wrong_end,
            } => {
                let name = qname(*prefix, "C");
                out.push_str(&format!("<{name}{}>", declaration(*declare)));
                for child in children {
                    out.push_str("\n ");
                    render(child, out);
                }
                let end = if *wrong_end {
                    qname(*prefix, "W")
                } else {
                    name
                };
                out.push_str(&format!("</{end}>"));
            }
            Node::Empty { prefix } => out.push_str(&format!("<{}/>", qname(*prefix, "E"))),
        }
    }

    fn node() -> impl Strategy<Value = Node> {
        let text = proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just(" "),
                Just("é"),
                Just("&amp;"),
                Just("&lt;"),
                Just("&#65;"),
                Just("&#x263A;"),
                Just("&#x0000000000000000000000000000000000000041;"),
                Just("\r"),
                Just("\r\n"),
                Just("\n"),
                Just("&bogus;"),
                Just("&"),
                Just("&#0;"),
                Just("\u{1}"),
                Just("<![CDATA[x<y]]>"),
                Just("<!--c-->"),
            ],
            0..8,
        )
        .prop_map(|parts| parts.concat());
        let declare = proptest::option::weighted(0.3, (0usize..4, 0usize..3));
        let leaf = (
            0usize..4,
            declare.clone(),
            proptest::bool::weighted(0.2),
            text,
        )
            .prop_map(|(prefix, declare, attr, text)| Node::Leaf {
                prefix,
                declare,
                attr,
                text,
            });
        let empty = (0usize..4).prop_map(|prefix| Node::Empty { prefix });
        prop_oneof![4 => leaf, 1 => empty].prop_recursive(4, 40, 6, move |inner| {
            (
                0usize..4,
                declare.clone(),
                proptest::collection::vec(inner, 0..6),
                proptest::bool::weighted(0.05),
            )
                .prop_map(|(prefix, declare, children, wrong_end)| Node::Parent {
                    prefix,
                    declare,
                    children,
                    wrong_end,
                })
        })
    }

    /// Walks a document generically: text of `L` elements, children of all others.
    fn walk(doc: &str, fast: bool) -> Result<Vec<(XmlNs, String, usize, String)>, ServerError> {
        fn visit<'a>(
            r: &mut BodyReader<'a>,
            e: Element<'a>,
            seen: &mut Vec<(XmlNs, String, usize, String)>,
        ) -> Result<(), ServerError> {
            let text = if e.local_name() == "L" {
                r.text(&e)?.into_owned()
            } else {
                String::new()
            };
            seen.push((e.ns(), e.local_name().to_owned(), e.depth, text));
            if e.local_name() != "L" {
                r.children(&e, |r, child| visit(r, child, seen))?;
            }
            Ok(())
        }
        let mut r = BodyReader::new(doc, Limits::default().max_depth(5));
        r.fast = fast;
        let mut seen = Vec::new();
        while let Some(e) = r.next_element()? {
            visit(&mut r, e, &mut seen)?;
            r.skip_to_depth(0)?;
        }
        Ok(seen)
    }

    /// What the differential test compares of two errors: the variant, and a malformed
    /// answer's kind or an exceeded limit.
    fn class(e: &ServerError) -> String {
        match e {
            ServerError::Malformed(m) => format!("Malformed({:?})", m.kind()),
            ServerError::LimitExceeded { limit, .. } => format!("LimitExceeded({limit:?})"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn both_paths_report_the_same_kind_where_two_errors_meet() {
        // Each document holds two errors, one the fast path would see first were it not
        // ordered as quick-xml's path is. (`walk` reads under a depth limit of 5.)
        let cases = [
            // A forbidden character, then a bad reference, in one text.
            (
                "<r><L>\u{1}&bogus;</L></r>",
                "Malformed(ForbiddenCharacter)",
            ),
            ("<r><L>\u{1}&amp</L></r>", "Malformed(ForbiddenCharacter)"),
            ("<r><L>a&bogus;\u{1}</L></r>", "Malformed(BadReference)"),
            // An undeclared prefix on a leaf too deep.
            (
                "<r><C><C><C><C><q:L>x</q:L></C></C></C></C></r>",
                "Malformed(Namespace)",
            ),
            (
                "<r><C><C><C><C><L>x</L></C></C></C></C></r>",
                "LimitExceeded(Depth)",
            ),
        ];
        for (doc, expected) in cases {
            for fast in [true, false] {
                let got = walk(doc, fast).map(drop).map_err(|e| class(&e));
                assert_eq!(got, Err(expected.to_owned()), "{doc} (fast: {fast})");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

        /// The fast paths read exactly what quick-xml reads, and refuse what it refuses.
        #[test]
        fn differential(top in node(), declare in proptest::option::of((0usize..4, 0usize..3))) {
            let mut doc = format!(r#"<Root xmlns:t="{}" xmlns:m="{}"{}>"#, URIS[0], URIS[1], declaration(declare));
            render(&top, &mut doc);
            doc.push_str("</Root>");
            let fast = walk(&doc, true);
            let slow = walk(&doc, false);
            match (&fast, &slow) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", doc),
                // The same kind of error (where it is noticed may differ by a few bytes).
                (Err(a), Err(b)) => prop_assert_eq!(
                    class(a), class(b), "{}\nfast: {:?}\nslow: {:?}", doc, a, b
                ),
                _ => prop_assert!(false, "{doc}\nfast: {fast:?}\nslow: {slow:?}"),
            }
        }
    }
}
