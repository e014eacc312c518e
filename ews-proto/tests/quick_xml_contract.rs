//! What the reader (`src/xml/read.rs`) relies on of quick-xml, stated and checked.
//!
//! The reader's fast paths read leaves and text straight from the input, behind
//! quick-xml's back: they advance quick-xml's input slice and resolve names with its
//! namespace resolver. That is sound only while quick-xml behaves exactly as below, which
//! its documentation does not all promise, so the workspace pins quick-xml to one version
//! (`quick-xml = "=0.42.0"` in the workspace `Cargo.toml`). To move to another version:
//! change the pin, run this file (`cargo test -p ews-proto --test quick_xml_contract`) and
//! the reader's differential test (`cargo test -p ews-proto --lib differential`), and
//! read the reader's error mapping (`kind_of`), which matches quick-xml's errors
//! exhaustively and so stops building when a version adds one.
//!
//! The readers here are configured as `BodyReader::new` configures its own.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{QName, ResolveResult};

fn reader(doc: &str) -> NsReader<&[u8]> {
    let mut r = NsReader::from_str(doc);
    let config = r.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text(false);
    r
}

/// How far into `doc` quick-xml's input slice starts.
fn consumed(doc: &str, r: &NsReader<&[u8]>) -> usize {
    doc.len() - r.get_ref().len()
}

/// An event, shortly: its kind and the text quick-xml gives it.
fn show(e: &Event<'_>) -> String {
    match e {
        Event::Start(s) => format!("Start {}", s.name().0),
        Event::End(e) => format!("End {}", e.name().0),
        Event::Empty(s) => format!("Empty {}", s.name().0),
        Event::Text(t) => format!("Text {}", t.xml10_content()),
        Event::GeneralRef(r) => format!("Ref {}", &**r),
        Event::CData(c) => format!("CData {}", c.xml10_content()),
        Event::Comment(_) => "Comment".to_owned(),
        Event::Decl(_) => "Decl".to_owned(),
        Event::PI(_) => "PI".to_owned(),
        Event::DocType(_) => "DocType".to_owned(),
        Event::Eof => "Eof".to_owned(),
    }
}

/// 1. quick-xml reads a `&str` by advancing a slice of it, with no buffer of its own:
///    `get_ref()` is the unread rest of the input, and `buffer_position()` is how much of
///    it quick-xml consumed. After a tag (start, end, empty) the rest begins right after
///    its `>`: the one place where the leaf fast path may take over, because quick-xml
///    then expects character data. After text, the rest begins at the `<` that ended
///    it and quick-xml is inside markup, so the fast path must not start there.
#[test]
fn the_input_is_a_slice_advanced_event_by_event() {
    let doc = "<?xml version=\"1.0\"?><r a=\"1\"><e/>t<!--c--><![CDATA[d]]>&amp;<x>1</x></r>";
    let mut r = reader(doc);
    let mut seen = Vec::new();
    loop {
        let event = r.read_event().expect("well-formed");
        let eof = matches!(event, Event::Eof);
        let at = consumed(doc, &r);
        assert_eq!(at as u64, r.buffer_position(), "{}", show(&event));
        seen.push((show(&event), doc[at..].chars().take(4).collect::<String>()));
        if eof {
            break;
        }
    }
    let expected = [
        ("Decl", "<r a"),
        ("Start r", "<e/>"),
        ("Empty e", "t<!-"),
        ("Text t", "<!--"),
        ("Comment", "<![C"),
        ("CData d", "&amp"),
        ("Ref amp", "<x>1"),
        ("Start x", "1</x"),
        ("Text 1", "</x>"),
        ("End x", "</r>"),
        ("End r", ""),
        ("Eof", ""),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(e, rest)| (e.to_string(), rest.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

/// 2. After a tag, the rest may be replaced by a shorter suffix of the same input that
///    skips a balanced leaf (`<a>1</a>`): quick-xml reads on from there, its end-name check
///    still pairs the elements it saw (the skipped one never entered its stack), and its
///    positions do not count the skipped bytes (the reader adds them).
#[test]
fn a_balanced_leaf_can_be_skipped_after_a_tag() {
    let doc = "<r><a>1</a><b/></r>";
    let mut r = reader(doc);
    assert_eq!(show(&r.read_event().expect("start")), "Start r");
    let skip = "<a>1</a>".len();
    let rest = r.get_ref();
    *r.get_mut() = &rest[skip..];
    assert_eq!(show(&r.read_event().expect("empty")), "Empty b");
    assert_eq!(r.buffer_position(), ("<r><b/>".len()) as u64);
    assert_eq!(show(&r.read_event().expect("end")), "End r");
    assert_eq!(show(&r.read_event().expect("eof")), "Eof");
    // The check still catches a wrong end tag after the skip.
    let doc = "<r><a>1</a></x>";
    let mut r = reader(doc);
    r.read_event().expect("r");
    let rest = r.get_ref();
    *r.get_mut() = &rest[skip..];
    assert!(matches!(
        r.read_event(),
        Err(quick_xml::Error::IllFormed(
            quick_xml::errors::IllFormedError::MismatchedEndTag { .. }
        ))
    ));
}

/// 3. Right after a start tag, the rest may be advanced past the element's text to its
///    `</`: quick-xml then reads the end tag, and no empty text event before it, and
///    checks its name against the start tag; an error's position does not count the
///    skipped bytes either.
#[test]
fn the_text_of_a_started_element_can_be_skipped_to_its_end_tag() {
    let doc = "<r><a>text</a></r>";
    let mut r = reader(doc);
    r.read_event().expect("r");
    assert_eq!(show(&r.read_event().expect("a")), "Start a");
    let rest = r.get_ref();
    *r.get_mut() = &rest["text".len()..];
    assert_eq!(show(&r.read_event().expect("end")), "End a");
    assert_eq!(r.buffer_position(), "<r><a></a>".len() as u64);

    let doc = "<r><a>text</b></r>";
    let mut r = reader(doc);
    r.read_event().expect("r");
    r.read_event().expect("a");
    let rest = r.get_ref();
    *r.get_mut() = &rest["text".len()..];
    match r.read_event() {
        Err(quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MismatchedEndTag {
            expected,
            found,
        })) => assert_eq!((expected.as_str(), found.as_str()), ("a", "b")),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.error_position(), "<r><a>".len() as u64);
}

/// 4. The resolver answers for the scope of the last event: a prefix a start tag declares
///    is bound from that event on; an unprefixed name is unbound without a default
///    namespace and in it with one; an undeclared prefix is `Unknown` with its name.
#[test]
fn the_resolver_answers_for_the_current_scope() {
    let doc = r#"<r xmlns:t="urn:t"><d xmlns="urn:d"></d></r>"#;
    let mut r = reader(doc);
    r.read_event().expect("r");
    let resolve =
        |r: &NsReader<&[u8]>, name: &str| match r.resolver().resolve_element(QName(name)).0 {
            ResolveResult::Bound(ns) => format!("Bound {}", ns.0),
            ResolveResult::Unbound => "Unbound".to_owned(),
            ResolveResult::Unknown(p) => format!("Unknown {p}"),
        };
    assert_eq!(resolve(&r, "t:x"), "Bound urn:t");
    assert_eq!(resolve(&r, "x"), "Unbound");
    assert_eq!(resolve(&r, "q:x"), "Unknown q");
    r.read_event().expect("d");
    assert_eq!(resolve(&r, "x"), "Bound urn:d");
    assert_eq!(resolve(&r, "t:x"), "Bound urn:t");
}

/// 5. The scope of an element that declared a namespace is popped when quick-xml reads
///    the event *after* its end tag (or after its empty-element tag), not at it: until
///    then the resolver still holds its bindings. The leaf fast path therefore waits one
///    event after such an element.
#[test]
fn a_scope_is_popped_one_event_late() {
    let doc =
        r#"<r xmlns:p="urn:outer"><a xmlns:p="urn:inner"></a><e xmlns:p="urn:e"/><z/><y/></r>"#;
    let mut r = reader(doc);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let event = show(&r.read_event().expect("well-formed"));
        let ns = match r.resolver().resolve_element(QName("p:x")).0 {
            ResolveResult::Bound(ns) => ns.0.to_owned(),
            other => format!("{other:?}"),
        };
        seen.push(format!("{event}: {ns}"));
    }
    assert_eq!(
        seen,
        [
            "Start r: urn:outer",
            "Start a: urn:inner",
            "End a: urn:inner",
            "Empty e: urn:e",
            "Empty z: urn:outer",
        ]
    );
}

/// 6. What the general path (which the differential test holds the fast paths to) reads
///    of text: every reference `&name;` is an event of its own with the name between `&`
///    and `;`; text is cut at each reference and kept whole, white space included;
///    `xml10_content` reads `\r\n` and a lone `\r` as `\n`; CDATA is given as written.
#[test]
fn text_and_references_are_separate_events() {
    let doc = "<a> x &amp;y\r\nz\rw&#x41;&bogus; <![CDATA[&amp;\r\n]]></a>";
    let mut r = reader(doc);
    r.read_event().expect("a");
    let mut seen = Vec::new();
    loop {
        match r.read_event().expect("well-formed") {
            Event::End(_) => break,
            e => seen.push(show(&e)),
        }
    }
    assert_eq!(
        seen,
        [
            "Text  x ",
            "Ref amp",
            "Text y\nz\nw",
            "Ref #x41",
            "Ref bogus",
            "Text  ",
            "CData &amp;\n",
        ]
    );
}

/// 7. Which errors the reader tells a cut document from a bad one by, and where they are
///    placed: a tag the input ends in, at its `<`; `<!` markup is told by the character
///    after `!` (`-` a comment, `[` CDATA, `D` a DOCTYPE, each with its own error when
///    cut), and both a bare `<!` at the end and `<!` before any other character are
///    `InvalidBangMarkup` at the `<` (the reader looks at what follows); a reference
///    without `;` is `UnclosedReference` at its `&`, whether the input ends or markup
///    follows.
#[test]
fn errors_are_placed_at_the_markup_they_concern() {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    type Expected = fn(&quick_xml::Error) -> bool;
    let cases: [(&str, &str, Expected); 7] = [
        ("<r><x a=\"1", "<x", |e| {
            matches!(
                e,
                quick_xml::Error::Syntax(SyntaxError::UnclosedDoubleQuotedAttributeValue)
            )
        }),
        ("<r><t:User", "<t:", |e| {
            matches!(e, quick_xml::Error::Syntax(SyntaxError::UnclosedTag))
        }),
        ("<r><!", "<!", |e| {
            matches!(e, quick_xml::Error::Syntax(SyntaxError::InvalidBangMarkup))
        }),
        ("<r><!-", "<!", |e| {
            matches!(e, quick_xml::Error::Syntax(SyntaxError::UnclosedComment))
        }),
        ("<r><![CD", "<![", |e| {
            matches!(e, quick_xml::Error::Syntax(SyntaxError::UnclosedCData))
        }),
        ("<r><!ELEMENT x></r>", "<!E", |e| {
            matches!(e, quick_xml::Error::Syntax(SyntaxError::InvalidBangMarkup))
        }),
        ("<r>&amp</r>", "&amp", |e| {
            matches!(
                e,
                quick_xml::Error::IllFormed(IllFormedError::UnclosedReference)
            )
        }),
    ];
    for (doc, marker, expected) in cases {
        let mut r = reader(doc);
        let err = loop {
            match r.read_event() {
                Ok(Event::Eof) => panic!("{doc}: no error"),
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert!(expected(&err), "{doc}: {err:?}");
        assert_eq!(
            r.error_position(),
            doc.find(marker).expect("marker") as u64,
            "{doc}"
        );
    }
    // At the end of the input too.
    let doc = "<r>&amp";
    let mut r = reader(doc);
    r.read_event().expect("r");
    assert!(matches!(
        r.read_event(),
        Err(quick_xml::Error::IllFormed(
            IllFormedError::UnclosedReference
        ))
    ));
    assert_eq!(r.error_position(), 3);
}

/// 8. What the reader reads of a start tag: the qualified name as written; the raw text
///    after the name (scanned for `xmlns` to know whether the tag declares a namespace);
///    attribute values normalized for XML 1.0 with the predefined entities and character
///    references resolved and any other entity refused.
#[test]
fn start_tags_give_their_name_and_attributes_as_written() {
    let doc = r#"<t:a xmlns:t="urn:t" N="x&amp;y&#65;" B="&nbsp;"/>"#;
    let mut r = reader(doc);
    let Event::Empty(start) = r.read_event().expect("empty") else {
        panic!()
    };
    assert_eq!(start.name().0, "t:a");
    assert_eq!(
        start.attributes_raw(),
        r#" xmlns:t="urn:t" N="x&amp;y&#65;" B="&nbsp;""#
    );
    let mut values = Vec::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.expect("a valid attribute");
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0);
        values.push((
            attr.key.as_ref().to_owned(),
            value.map(|v| v.into_owned()).ok(),
        ));
    }
    assert_eq!(
        values,
        [
            ("xmlns:t".to_owned(), Some("urn:t".to_owned())),
            ("N".to_owned(), Some("x&yA".to_owned())),
            ("B".to_owned(), None),
        ]
    );
}

/// 9. The pin itself: the workspace requires exactly the version this file was checked
///    against, and the lock file resolves it.
#[test]
fn quick_xml_is_pinned_to_the_version_checked_here() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let manifest = std::fs::read_to_string(format!("{root}/Cargo.toml")).expect("Cargo.toml");
    let requirement = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("quick-xml"))
        .expect("a quick-xml line in the workspace Cargo.toml");
    assert_eq!(requirement.trim(), r#"quick-xml = "=0.42.0""#);
    let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).expect("Cargo.lock");
    assert!(
        lock.contains("name = \"quick-xml\"\nversion = \"0.42.0\"\n"),
        "Cargo.lock does not resolve quick-xml 0.42.0"
    );
}
