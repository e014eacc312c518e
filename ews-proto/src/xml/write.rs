//! The XML writer: appends to a caller's [`BytesMut`], escapes every value, refuses
//! characters that XML 1.0 forbids.
//!
//! Element and attribute *names* come from this crate's code (`&'static str`), so they are
//! trusted. Every text node and attribute value is user data and goes through [`escape_into`],
//! except an item body with markup, which [`BodyWriter::text_block`] may write as CDATA
//! (after the same checks for characters XML forbids).

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

    /// Writes a markup-heavy text (an HTML body) as a CDATA section when that reads back
    /// the same: CRs (a parser would read a raw one as LF) are written between sections as
    /// `&#13;`; a control character, a U+FFFE/U+FFFF suspect or a `]]>` sends the value to
    /// [`BodyWriter::text`] instead, as does a value with nothing to escape. An HTML body
    /// has an escape every dozen bytes; a CDATA section is a copy after a vectorised check.
    pub(crate) fn text_block(
        &mut self,
        value: &str,
        field: &'static str,
    ) -> Result<(), UsageError> {
        let bytes = value.as_bytes();
        let (careful, markup) = bytes.iter().fold((false, false), |(careful, markup), &b| {
            let control = b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r';
            (
                careful | control | (b == 0xEF),
                markup | (b == b'<') | (b == b'&'),
            )
        });
        if careful || !markup || memchr::memmem::find(bytes, b"]]>").is_some() {
            return self.text(value, field);
        }
        self.buf.reserve(bytes.len() + 12);
        self.buf.put_slice(b"<![CDATA[");
        let mut done = 0;
        for cr in memchr::memchr_iter(b'\r', bytes) {
            self.buf.put_slice(&bytes[done..cr]);
            self.buf.put_slice(b"]]>&#13;<![CDATA[");
            done = cr + 1;
        }
        self.buf.put_slice(&bytes[done..]);
        self.buf.put_slice(b"]]>");
        Ok(())
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

/// What a byte needs when written: 0 nothing, 1..=7 the replacement at that index of
/// [`REPLACEMENTS`], [`REFUSE`] an error (a C0 control), [`CHECK`] a look at the character
/// it starts (0xEF starts U+FFFE and U+FFFF, which XML 1.0 forbids).
const fn escape_table(attr: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = REFUSE;
        i += 1;
    }
    t[b'&' as usize] = 1;
    t[b'<' as usize] = 2;
    t[b'>' as usize] = 3;
    t[b'\r' as usize] = 5;
    if attr {
        t[b'"' as usize] = 4;
        t[b'\n' as usize] = 6;
        t[b'\t' as usize] = 7;
    } else {
        t[b'\n' as usize] = 0;
        t[b'\t' as usize] = 0;
    }
    t[0xEF] = CHECK;
    t
}

const REFUSE: u8 = 8;
const CHECK: u8 = 9;
static ESCAPE_TEXT: [u8; 256] = escape_table(false);
static ESCAPE_ATTR: [u8; 256] = escape_table(true);

/// The replacements, padded to 8 bytes so that each is appended with one fixed-size copy
/// (then the padding is cut off), and their lengths.
static REPLACEMENTS: [([u8; 8], usize); 8] = [
    (*b"        ", 0),
    (*b"&amp;   ", 5),
    (*b"&lt;    ", 4),
    (*b"&gt;    ", 4),
    (*b"&quot;  ", 6),
    (*b"&#13;   ", 5),
    (*b"&#10;   ", 5),
    (*b"&#9;    ", 4),
];

/// Appends `value` escaped for a text node (`attr == false`) or a double-quoted attribute
/// value. Escapes `&`, `<`, `>` always, `"` in attributes, `\r` always and `\t`/`\n` in
/// attributes as character references, so a parser reads back exactly `value` despite
/// end-of-line and attribute-value normalisation.
///
/// A byte scan with a lookup table: everything to escape or refuse is ASCII, except U+FFFE
/// and U+FFFF. Short runs and the replacements are gathered in a stack buffer with
/// fixed-size copies (16 and 8 bytes, then the length advanced by what counts), which is
/// much cheaper than two variable-length appends per escaped character; long runs are
/// appended directly.
pub(crate) fn escape_into(
    buf: &mut BytesMut,
    value: &str,
    attr: bool,
    field: &'static str,
) -> Result<(), UsageError> {
    let table = if attr { &ESCAPE_ATTR } else { &ESCAPE_TEXT };
    let bytes = value.as_bytes();
    buf.reserve(bytes.len());
    let needs = |b: u8| table[usize::from(b)];
    let mut tmp = [0u8; 256];
    let mut n = 0;
    let mut last = 0;
    let mut i = 0;
    loop {
        // Skip what needs nothing, four bytes per step while there are four.
        while let Some(&[a, b, c, d]) = bytes.get(i..i + 4) {
            if needs(a) | needs(b) | needs(c) | needs(d) != 0 {
                break;
            }
            i += 4;
        }
        while i < bytes.len() && needs(bytes[i]) == 0 {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else { break };
        let class = needs(b);
        if class == REFUSE {
            return Err(UsageError::InvalidCharacter {
                field,
                codepoint: u32::from(b),
            });
        }
        if class == CHECK {
            // 0xEF only ever starts a character in a `str`, so `i` is a boundary.
            if let Some(c) = value[i..].chars().next().filter(|&c| !is_xml_char(c)) {
                return Err(UsageError::InvalidCharacter {
                    field,
                    codepoint: u32::from(c),
                });
            }
            i += 1;
            continue;
        }
        if tmp.len() - n < 24 {
            buf.extend_from_slice(&tmp[..n]);
            n = 0;
        }
        let run = i - last;
        let chunk: Option<&[u8; 16]> = bytes.get(last..last + 16).and_then(|s| s.try_into().ok());
        match chunk {
            Some(chunk) if run <= 16 => {
                tmp[n..n + 16].copy_from_slice(chunk);
                n += run;
            }
            _ => {
                buf.extend_from_slice(&tmp[..n]);
                n = 0;
                buf.extend_from_slice(&bytes[last..i]);
            }
        }
        let (padded, len) = &REPLACEMENTS[usize::from(class)];
        tmp[n..n + 8].copy_from_slice(padded);
        n += len;
        i += 1;
        last = i;
    }
    buf.extend_from_slice(&tmp[..n]);
    buf.extend_from_slice(&bytes[last..]);
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
    fn long_mixed_text_matches_a_char_by_char_escape() {
        // Runs longer and shorter than the 16-byte fast copy, more output than the 256-byte
        // stack buffer, and escapes at both ends.
        let unit = "<a href=\"x\">déjà vu &amp; €100 \u{FFFD}</a>\r\n\t0123456789abcdefghijklmnop>";
        let value = unit.repeat(40);
        for attr in [false, true] {
            let mut expected = String::new();
            for c in value.chars() {
                match c {
                    '&' => expected.push_str("&amp;"),
                    '<' => expected.push_str("&lt;"),
                    '>' => expected.push_str("&gt;"),
                    '"' if attr => expected.push_str("&quot;"),
                    '\r' => expected.push_str("&#13;"),
                    '\n' if attr => expected.push_str("&#10;"),
                    '\t' if attr => expected.push_str("&#9;"),
                    c => expected.push(c),
                }
            }
            assert_eq!(esc(&value, attr).unwrap(), expected);
        }
    }

    fn block(s: &str) -> Result<String, UsageError> {
        let mut b = BytesMut::new();
        BodyWriter::new(&mut b).text_block(s, "Body")?;
        Ok(String::from_utf8(b.to_vec()).expect("UTF-8"))
    }

    #[test]
    fn markup_heavy_text_goes_in_cdata_only_when_that_reads_back_the_same() {
        assert_eq!(
            block("<p>a &amp; b</p>\n\t").unwrap(),
            "<![CDATA[<p>a &amp; b</p>\n\t]]>"
        );
        // Nothing to escape: plain text.
        assert_eq!(block("plain > text").unwrap(), "plain &gt; text");
        // A CR between sections (Windows line ends in an HTML body).
        assert_eq!(
            block("\r<p>\r\n</p>\r").unwrap(),
            "<![CDATA[]]>&#13;<![CDATA[<p>]]>&#13;<![CDATA[\n</p>]]>&#13;<![CDATA[]]>"
        );
        // `]]>` and U+FFFE suspects take the escaping path.
        assert_eq!(block("<b>]]></b>").unwrap(), "&lt;b&gt;]]&gt;&lt;/b&gt;");
        assert_eq!(
            block("<b>\u{FFFD}</b>").unwrap(),
            "&lt;b&gt;\u{FFFD}&lt;/b&gt;"
        );
        assert!(block("<b>\u{FFFE}</b>").is_err());
        assert!(block("<b>\u{1}</b>").is_err());
    }

    #[test]
    fn passes_non_ascii_through() {
        assert_eq!(esc("会議 🚀 é", false).unwrap(), "会議 🚀 é");
    }
}
