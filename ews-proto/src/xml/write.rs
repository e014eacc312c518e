//! The XML writer: appends to a caller's [`BytesMut`], escapes every value, refuses
//! characters that XML 1.0 forbids.
//!
//! Element and attribute *names* come from this crate's code (`&'static str`), so they are
//! trusted. Every text node and attribute value is user data and goes through [`escape_into`].

use bytes::{BufMut, BytesMut};

use crate::error::UsageError;

/// The namespaces a request is written in, with the prefixes this crate declares on the
/// envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ns {
    /// `soap:` — `http://schemas.xmlsoap.org/soap/envelope/`.
    Soap,
    /// `m:` — the EWS messages namespace.
    Messages,
    /// `t:` — the EWS types namespace.
    Types,
}

impl Ns {
    const fn prefix(self) -> &'static [u8] {
        match self {
            Ns::Soap => b"soap:",
            Ns::Messages => b"m:",
            Ns::Types => b"t:",
        }
    }
}

/// Writes the body of a request: elements in the EWS namespaces with escaped content.
///
/// Handed to [`crate::Operation::write_body`] by [`crate::Operation::encode`]; it appends to
/// the request buffer, so nothing is copied afterwards. Every method that takes user data
/// returns an error naming the element when the data holds a character XML 1.0 forbids;
/// the buffer content is then unspecified and the request must not be sent (`encode`
/// guarantees that by returning the error instead of a request).
#[derive(Debug)]
pub struct BodyWriter<'a> {
    buf: &'a mut BytesMut,
}

impl<'a> BodyWriter<'a> {
    pub(crate) fn new(buf: &'a mut BytesMut) -> Self {
        Self { buf }
    }

    /// Opens `<prefix:name>`; the caller adds attributes with [`Self::attr`] and must
    /// finish the tag with [`Self::open_end`] or [`Self::empty_end`].
    pub fn open_start(&mut self, ns: Ns, name: &'static str) {
        self.buf.put_u8(b'<');
        self.buf.put_slice(ns.prefix());
        self.buf.put_slice(name.as_bytes());
    }

    /// Writes ` name="value"` inside a start tag, escaping `value`.
    pub fn attr(&mut self, name: &'static str, value: &str) -> Result<(), UsageError> {
        self.buf.put_u8(b' ');
        self.buf.put_slice(name.as_bytes());
        self.buf.put_slice(b"=\"");
        escape_into(self.buf, value, true, name)?;
        self.buf.put_u8(b'"');
        Ok(())
    }

    /// Ends a start tag opened with [`Self::open_start`]: `>`.
    pub fn open_end(&mut self) {
        self.buf.put_u8(b'>');
    }

    /// Ends a start tag opened with [`Self::open_start`] as an empty element: `/>`.
    pub fn empty_end(&mut self) {
        self.buf.put_slice(b"/>");
    }

    /// Writes `<prefix:name>` with no attributes.
    pub fn open(&mut self, ns: Ns, name: &'static str) {
        self.open_start(ns, name);
        self.open_end();
    }

    /// Writes `</prefix:name>`.
    pub fn close(&mut self, ns: Ns, name: &'static str) {
        self.buf.put_slice(b"</");
        self.buf.put_slice(ns.prefix());
        self.buf.put_slice(name.as_bytes());
        self.buf.put_u8(b'>');
    }

    /// Writes `<prefix:name>text</prefix:name>`, escaping `text`.
    pub fn leaf(&mut self, ns: Ns, name: &'static str, text: &str) -> Result<(), UsageError> {
        self.open(ns, name);
        escape_into(self.buf, text, false, name)?;
        self.close(ns, name);
        Ok(())
    }

    /// Writes escaped text content inside the element opened last; `field` names it in
    /// errors.
    pub fn text(&mut self, value: &str, field: &'static str) -> Result<(), UsageError> {
        escape_into(self.buf, value, false, field)
    }

    /// Writes a leaf element whose value is one of this crate's fixed tokens (an enum
    /// value, a number, `true`/`false`): no escaping is needed.
    pub(crate) fn token(&mut self, ns: Ns, name: &'static str, token: &str) {
        debug_assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:+".contains(&b))
        );
        self.open(ns, name);
        self.buf.put_slice(token.as_bytes());
        self.close(ns, name);
    }

    /// Writes `<t:name>true</t:name>` or `false`.
    pub(crate) fn bool(&mut self, ns: Ns, name: &'static str, value: bool) {
        self.token(ns, name, if value { "true" } else { "false" });
    }

    /// Raw access for the envelope writer (fixed markup only).
    pub(crate) fn raw(&mut self, markup: &'static str) {
        self.buf.put_slice(markup.as_bytes());
    }
}

/// Is `c` allowed in an XML 1.0 document?
///
/// `Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`;
/// a Rust `char` is never a surrogate, so only the controls and U+FFFE/U+FFFF remain.
pub(crate) fn is_xml_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1F}' => false,
        '\u{FFFE}' | '\u{FFFF}' => false,
        _ => true,
    }
}

/// Appends `value` escaped for a text node (`attr == false`) or a double-quoted attribute
/// value. Escapes `&`, `<`, `>` always, `"` in attributes, `\r` always and `\t`/`\n` in
/// attributes as character references, so a parser reads back exactly `value` despite
/// end-of-line and attribute-value normalisation.
pub(crate) fn escape_into(
    buf: &mut BytesMut,
    value: &str,
    attr: bool,
    field: &'static str,
) -> Result<(), UsageError> {
    let bytes = value.as_bytes();
    let mut last = 0;
    for (i, c) in value.char_indices() {
        let replacement: &[u8] = match c {
            '&' => b"&amp;",
            '<' => b"&lt;",
            '>' => b"&gt;",
            '"' if attr => b"&quot;",
            '\r' => b"&#13;",
            '\n' if attr => b"&#10;",
            '\t' if attr => b"&#9;",
            c if !is_xml_char(c) => {
                return Err(UsageError::InvalidCharacter {
                    field,
                    codepoint: u32::from(c),
                });
            }
            _ => continue,
        };
        buf.put_slice(&bytes[last..i]);
        buf.put_slice(replacement);
        last = i + c.len_utf8();
    }
    buf.put_slice(&bytes[last..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str, attr: bool) -> Result<String, UsageError> {
        let mut b = BytesMut::new();
        escape_into(&mut b, s, attr, "Subject")?;
        Ok(String::from_utf8(b.to_vec()).expect("escaping keeps UTF-8"))
    }

    #[test]
    fn escapes_markup_in_text() {
        assert_eq!(esc("a<b>&\"c'", false).unwrap(), "a&lt;b&gt;&amp;\"c'");
    }

    #[test]
    fn escapes_quotes_and_whitespace_in_attributes() {
        assert_eq!(
            esc("a\"b\tc\nd\re", true).unwrap(),
            "a&quot;b&#9;c&#10;d&#13;e"
        );
    }

    #[test]
    fn keeps_tab_and_newline_in_text_but_not_cr() {
        assert_eq!(esc("a\tb\nc\rd", false).unwrap(), "a\tb\nc&#13;d");
    }

    #[test]
    fn refuses_forbidden_characters() {
        for bad in ["\u{0}", "x\u{1}", "\u{1B}[0m", "\u{FFFE}", "ok\u{FFFF}"] {
            let err = esc(bad, false).unwrap_err();
            assert!(
                matches!(
                    err,
                    UsageError::InvalidCharacter {
                        field: "Subject",
                        ..
                    }
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passes_non_ascii_through() {
        assert_eq!(esc("会議 🚀 é", false).unwrap(), "会議 🚀 é");
    }
}
