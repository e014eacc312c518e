//! The ceiling: raw quick-xml event scans of a whole document, building nothing.
//!
//! [`ns_scan`] is the fair baseline for a namespace-correct decoder: the same reader type
//! and configuration as `ews-proto`'s (`NsReader::from_str`, end names checked, empty
//! elements not expanded, text not trimmed) resolving the namespace of every element
//! start, end and empty element. [`plain_scan`] (no namespaces) is shown for scale.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Reader};

/// What a scan saw, so the work cannot be optimised away and can be checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanCount {
    /// Element starts (including empty elements).
    pub elements: usize,
    /// Elements whose namespace resolved to a bound URI.
    pub bound: usize,
    /// Text, CDATA and reference events.
    pub texts: usize,
}

/// Scans `xml` with a namespace-resolving `NsReader`. Panics on malformed input (the
/// corpus is well-formed).
pub fn ns_scan(xml: &str) -> ScanCount {
    let mut reader = NsReader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);
    let mut count = ScanCount::default();
    loop {
        let (ns, event) = match reader.read_resolved_event() {
            Ok(pair) => pair,
            Err(e) => panic!("corpus is not well-formed: {e}"),
        };
        match event {
            Event::Start(_) | Event::Empty(_) => {
                count.elements += 1;
                if matches!(ns, ResolveResult::Bound(_)) {
                    count.bound += 1;
                }
            }
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => count.texts += 1,
            Event::Eof => return count,
            _ => {}
        }
    }
}

/// Scans `xml` with a plain `Reader` (no namespace resolution).
pub fn plain_scan(xml: &str) -> ScanCount {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);
    let mut count = ScanCount::default();
    loop {
        match reader.read_event() {
            Ok(Event::Start(_) | Event::Empty(_)) => count.elements += 1,
            Ok(Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) => count.texts += 1,
            Ok(Event::Eof) => return count,
            Ok(_) => {}
            Err(e) => panic!("corpus is not well-formed: {e}"),
        }
    }
}
