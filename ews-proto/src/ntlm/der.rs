//! A small DER reader and writer: just what SPNEGO tokens and a certificate's signature
//! algorithm need. Single-byte tags only, definite lengths of up to 4 bytes, no recursion:
//! callers walk the fixed structures they expect, so no input can nest deeply.

/// Why a DER element could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DerError {
    /// The input ends inside a header or before the announced content ends.
    Truncated,
    /// An indefinite length (BER, not DER).
    Indefinite,
    /// A multi-byte tag number.
    LongTag,
    /// A length of more than 4 bytes.
    LengthTooLong,
    /// Another tag than the one expected.
    Unexpected,
    /// Bytes after the last expected element.
    Trailing,
}

impl DerError {
    /// A short description, for errors that must not expose this crate-private type.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            DerError::Truncated => "truncated DER element",
            DerError::Indefinite => "indefinite DER length",
            DerError::LongTag => "multi-byte DER tag",
            DerError::LengthTooLong => "DER length of more than 4 bytes",
            DerError::Unexpected => "unexpected DER tag",
            DerError::Trailing => "bytes after the DER element",
        }
    }
}

/// Reads consecutive elements from a slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element: its tag, its content and the whole encoding (header included).
    pub(crate) fn any(&mut self) -> Result<(u8, &'a [u8], &'a [u8]), DerError> {
        let data = self.rest;
        let (&tag, after_tag) = data.split_first().ok_or(DerError::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::LongTag);
        }
        let (&first, mut after_len) = after_tag.split_first().ok_or(DerError::Truncated)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else if first == 0x80 {
            return Err(DerError::Indefinite);
        } else {
            let n = usize::from(first & 0x7f);
            if n > 4 {
                return Err(DerError::LengthTooLong);
            }
            if after_len.len() < n {
                return Err(DerError::Truncated);
            }
            let (bytes, rest) = after_len.split_at(n);
            after_len = rest;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        if after_len.len() < len {
            return Err(DerError::Truncated);
        }
        let header = data.len() - after_len.len();
        let (content, rest) = after_len.split_at(len);
        self.rest = rest;
        Ok((tag, content, &data[..header + len]))
    }

    /// The content of the next element, which must have `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<&'a [u8], DerError> {
        match self.peek_tag() {
            Some(t) if t == tag => self.any().map(|(_, content, _)| content),
            Some(_) => Err(DerError::Unexpected),
            None => Err(DerError::Truncated),
        }
    }

    /// The content of the next element if it has `tag`; `None` (reading nothing) otherwise.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails if anything is left.
    pub(crate) fn finish(self) -> Result<(), DerError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DerError::Trailing)
        }
    }
}

/// Appends the element `tag` with `content`.
pub(crate) fn write(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8); // < 0x80: fits
    } else {
        let bytes = (len as u32).to_be_bytes(); // tokens are far below 4 GiB (MAX_TOKEN_LEN)
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

/// The element `tag` with `content`.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    write(&mut out, tag, content);
    out
}

/// The dotted form of an OID's content bytes (`1.2.840.113549.1.1.11`), or `"?"` for bytes
/// that are not an OID.
pub(crate) fn oid_text(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        if value > (u64::MAX >> 7) {
            return "?".to_owned();
        }
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        } else if i + 1 == content.len() {
            return "?".to_owned();
        }
    }
    let Some(&first) = arcs.first() else {
        return "?".to_owned();
    };
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut text = format!("{a}.{b}");
    for arc in &arcs[1..] {
        text.push('.');
        text.push_str(&arc.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_short_and_long() {
        assert_eq!(tlv(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[0x04, 0x81, 200]);
        let longer = tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let mut r = Reader::new(&longer);
        let (tag, content, whole) = r.any().unwrap();
        assert_eq!((tag, content.len(), whole.len()), (0x04, 300, 304));
        r.finish().unwrap();
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(Reader::new(&[0x30]).any().unwrap_err(), DerError::Truncated);
        assert_eq!(
            Reader::new(&[0x30, 0x80]).any().unwrap_err(),
            DerError::Indefinite
        );
        assert_eq!(
            Reader::new(&[0x1f, 0x01]).any().unwrap_err(),
            DerError::LongTag
        );
        assert_eq!(
            Reader::new(&[0x30, 0x85, 0, 0, 0, 0, 1]).any().unwrap_err(),
            DerError::LengthTooLong
        );
        assert_eq!(
            Reader::new(&[0x30, 0x03, 0]).any().unwrap_err(),
            DerError::Truncated
        );
        assert_eq!(
            Reader::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff])
                .any()
                .unwrap_err(),
            DerError::Truncated
        );
        assert_eq!(
            Reader::new(&[0x04, 0x00]).expect(0x30).unwrap_err(),
            DerError::Unexpected
        );
    }

    #[test]
    fn oids() {
        assert_eq!(
            oid_text(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a]),
            "1.3.6.1.4.1.311.2.2.10"
        );
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]),
            "1.2.840.113549.1.1.11"
        );
        assert_eq!(oid_text(&[0x2b, 0x65, 0x70]), "1.3.101.112");
        assert_eq!(oid_text(&[]), "?");
        assert_eq!(oid_text(&[0x86]), "?");
        assert_eq!(oid_text(&[0xff; 12]), "?");
    }
}
