//! FindItem's `m:Restriction` and `m:SortOrder`: parsed into an expression, evaluated on
//! each item, never ignored.
//!
//! Served search expressions (types namespace): `And`, `Or`, `Not`, `IsEqualTo`,
//! `IsNotEqualTo`, `IsGreaterThan`, `IsGreaterThanOrEqualTo`, `IsLessThan`,
//! `IsLessThanOrEqualTo` (a `t:FieldURI` against a `t:Constant`), `Contains` (with
//! `ContainmentMode` FullString, Prefixed, Substring, PrefixOnWords or ExactPhrase, and
//! `ContainmentComparison` Exact for a case-sensitive match, anything else ignoring case)
//! and `Exists`.
//!
//! Served properties: `item:Subject`, `item:ItemClass`, `item:Importance`,
//! `item:Sensitivity`, `item:Categories`, `item:DateTimeReceived`, `item:DateTimeSent`,
//! `item:DateTimeCreated`, `calendar:Start`, `calendar:End`, `calendar:Location`,
//! `calendar:Organizer`, `message:Sender`, `message:From`, `message:IsRead`. Text compares
//! ignoring case (as Exchange's store does); dates compare as instants (a constant or a
//! stored value without an offset is UTC); an address matches a constant equal to its
//! SMTP address or its display name and orders by SMTP address; a multi-valued property
//! matches when one of its values does. An item that lacks the property matches no
//! comparison.
//!
//! Anything else is refused for the whole request, never skipped: another expression
//! (`Excludes`, ...) or two properties compared with each other with
//! ErrorUnsupportedQueryFilter, another property (or an indexed or extended one) with
//! ErrorUnsupportedPathForQuery (ErrorUnsupportedPathForSortGroup in a SortOrder), a
//! constant that does not fit the property with ErrorInvalidValueForProperty, and a
//! malformed expression with ErrorInvalidRestriction.

use std::cmp::Ordering;

use roxmltree::Node;

use crate::sim::soap::TYPES_NS;
use crate::sim::state::{Address, ItemKind, ItemSnapshot};

/// A refusal: response code and MessageText.
pub(crate) type Refusal = (&'static str, String);

/// A property a restriction or a sort order can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Subject,
    ItemClass,
    Importance,
    Sensitivity,
    Categories,
    DateTimeReceived,
    DateTimeSent,
    DateTimeCreated,
    Start,
    End,
    Location,
    Organizer,
    Sender,
    From,
    IsRead,
}

/// How a property's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Date,
    Bool,
}

impl Field {
    fn from_uri(uri: &str) -> Option<Field> {
        Some(match uri {
            "item:Subject" => Field::Subject,
            "item:ItemClass" => Field::ItemClass,
            "item:Importance" => Field::Importance,
            "item:Sensitivity" => Field::Sensitivity,
            "item:Categories" => Field::Categories,
            "item:DateTimeReceived" => Field::DateTimeReceived,
            "item:DateTimeSent" => Field::DateTimeSent,
            "item:DateTimeCreated" => Field::DateTimeCreated,
            "calendar:Start" => Field::Start,
            "calendar:End" => Field::End,
            "calendar:Location" => Field::Location,
            "calendar:Organizer" => Field::Organizer,
            "message:Sender" => Field::Sender,
            "message:From" => Field::From,
            "message:IsRead" => Field::IsRead,
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        match self {
            Field::DateTimeReceived
            | Field::DateTimeSent
            | Field::DateTimeCreated
            | Field::Start
            | Field::End => Kind::Date,
            Field::IsRead => Kind::Bool,
            _ => Kind::Text,
        }
    }
}

/// A property's values on one item.
#[derive(Debug)]
enum Got {
    /// The item lacks the property.
    Missing,
    /// Text values (several for categories).
    Text(Vec<String>),
    /// An address: SMTP address and display name.
    Address(String, Option<String>),
    Date(jiff::Timestamp),
    Bool(bool),
}

fn address(a: &Address) -> Got {
    Got::Address(a.email.clone(), a.name.clone())
}

fn text(v: Option<&String>) -> Got {
    v.map_or(Got::Missing, |s| Got::Text(vec![s.clone()]))
}

fn date(v: Option<&str>) -> Got {
    v.and_then(parse_datetime).map_or(Got::Missing, Got::Date)
}

fn value(item: &ItemSnapshot, field: Field) -> Got {
    let message = item.kind != ItemKind::CalendarItem;
    match field {
        Field::Subject => text(item.subject.as_ref()),
        Field::ItemClass => text(Some(&item.item_class)),
        Field::Importance => text(item.importance.as_ref()),
        Field::Sensitivity => text(item.sensitivity.as_ref()),
        Field::Categories if item.categories.is_empty() => Got::Missing,
        Field::Categories => Got::Text(item.categories.clone()),
        // As the item writer: messages carry DateTimeReceived and DateTimeSent.
        Field::DateTimeReceived | Field::DateTimeSent if !message => Got::Missing,
        Field::DateTimeReceived | Field::DateTimeSent | Field::DateTimeCreated => {
            date(Some(&item.created))
        }
        Field::Start => date(item.start.as_deref()),
        Field::End => date(item.end.as_deref()),
        Field::Location => text(item.location.as_ref()),
        Field::Organizer => item.organizer.as_ref().map_or(Got::Missing, address),
        Field::Sender => item.sender.as_ref().map_or(Got::Missing, address),
        Field::From => item.from.as_ref().map_or(Got::Missing, address),
        Field::IsRead if message => Got::Bool(item.is_read),
        Field::IsRead => Got::Missing,
    }
}

/// Parses an xs:dateTime into an instant (no offset: UTC).
pub(crate) fn parse_datetime(s: &str) -> Option<jiff::Timestamp> {
    let s = s.trim();
    if !s.contains('T') {
        return None;
    }
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let civil: jiff::civil::DateTime = s.parse().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()
}

/// A constant, converted for its property.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Constant {
    Text(String),
    Date(jiff::Timestamp),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    FullString,
    Prefixed,
    Substring,
    PrefixOnWords,
}

/// A parsed restriction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Field, Op, Constant),
    Contains {
        field: Field,
        value: String,
        mode: Mode,
        exact_case: bool,
    },
    Exists(Field),
}

fn invalid(text: impl Into<String>) -> Refusal {
    ("ErrorInvalidRestriction", text.into())
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    node.children().filter(|c| c.is_element()).collect()
}

fn is_types(node: Node<'_, '_>) -> bool {
    node.tag_name().namespace() == Some(TYPES_NS)
}

/// Reads a property path (`t:FieldURI`; an indexed or extended path is refused).
fn path(node: Node<'_, '_>, unsupported: &'static str) -> Result<Field, Refusal> {
    let name = node.tag_name().name();
    if !is_types(node) || !matches!(name, "FieldURI" | "IndexedFieldURI" | "ExtendedFieldURI") {
        return Err(invalid(format!(
            "Expected a property path (t:FieldURI), found '{name}'."
        )));
    }
    if name != "FieldURI" {
        return Err((
            unsupported,
            format!("The simulator cannot use a t:{name} here; only t:FieldURI is supported."),
        ));
    }
    let uri = node.attribute("FieldURI").unwrap_or("");
    Field::from_uri(uri).ok_or_else(|| {
        (
            unsupported,
            format!("The property '{uri}' cannot be used here by the simulator."),
        )
    })
}

fn constant(field: Field, raw: &str) -> Result<Constant, Refusal> {
    let bad = || {
        (
            "ErrorInvalidValueForProperty",
            format!("The value '{raw}' is not valid for the property {field:?}."),
        )
    };
    Ok(match field.kind() {
        Kind::Text => Constant::Text(raw.to_string()),
        Kind::Date => Constant::Date(parse_datetime(raw).ok_or_else(bad)?),
        Kind::Bool => Constant::Bool(match raw.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => return Err(bad()),
        }),
    })
}

/// Parses the single search expression inside `m:Restriction`.
pub(crate) fn parse_restriction(restriction: Node<'_, '_>) -> Result<Expr, Refusal> {
    match elements(restriction).as_slice() {
        [one] => parse_expr(*one),
        [] => Err(invalid("The Restriction holds no search expression.")),
        _ => Err(invalid(
            "The Restriction must hold exactly one search expression.",
        )),
    }
}

fn parse_expr(node: Node<'_, '_>) -> Result<Expr, Refusal> {
    let name = node.tag_name().name();
    if !is_types(node) {
        return Err(invalid(format!(
            "'{name}' is not a search expression of the types namespace."
        )));
    }
    let kids = elements(node);
    let op = match name {
        "And" | "Or" => {
            if kids.is_empty() {
                return Err(invalid(format!("t:{name} needs at least one operand.")));
            }
            let list = kids
                .iter()
                .map(|k| parse_expr(*k))
                .collect::<Result<_, _>>()?;
            return Ok(if name == "And" {
                Expr::And(list)
            } else {
                Expr::Or(list)
            });
        }
        "Not" => {
            return match kids.as_slice() {
                [one] => Ok(Expr::Not(Box::new(parse_expr(*one)?))),
                _ => Err(invalid("t:Not needs exactly one operand.")),
            };
        }
        "Exists" => {
            return match kids.as_slice() {
                [p] => Ok(Expr::Exists(path(*p, "ErrorUnsupportedPathForQuery")?)),
                _ => Err(invalid("t:Exists needs exactly one property path.")),
            };
        }
        "Contains" => return parse_contains(node, &kids),
        "IsEqualTo" => Op::Eq,
        "IsNotEqualTo" => Op::Ne,
        "IsGreaterThan" => Op::Gt,
        "IsGreaterThanOrEqualTo" => Op::Ge,
        "IsLessThan" => Op::Lt,
        "IsLessThanOrEqualTo" => Op::Le,
        other => {
            return Err((
                "ErrorUnsupportedQueryFilter",
                format!(
                    "The simulator does not evaluate the search expression t:{other}; it serves \
                     And, Or, Not, IsEqualTo, IsNotEqualTo, IsGreaterThan(OrEqualTo), \
                     IsLessThan(OrEqualTo), Contains and Exists."
                ),
            ));
        }
    };
    let [p, rhs] = kids.as_slice() else {
        return Err(invalid(format!(
            "t:{name} needs a property path and a t:FieldURIOrConstant."
        )));
    };
    let field = path(*p, "ErrorUnsupportedPathForQuery")?;
    if !is_types(*rhs) || rhs.tag_name().name() != "FieldURIOrConstant" {
        return Err(invalid(format!(
            "t:{name} needs a t:FieldURIOrConstant after the property path."
        )));
    }
    let inner = elements(*rhs);
    let [c] = inner.as_slice() else {
        return Err(invalid("t:FieldURIOrConstant needs exactly one child."));
    };
    if !is_types(*c) || c.tag_name().name() != "Constant" {
        return Err((
            "ErrorUnsupportedQueryFilter",
            "The simulator compares a property with a t:Constant only, not with another \
             property."
                .to_string(),
        ));
    }
    let Some(raw) = c.attribute("Value") else {
        return Err(invalid("t:Constant needs a Value attribute."));
    };
    if field.kind() == Kind::Bool && !matches!(op, Op::Eq | Op::Ne) {
        return Err((
            "ErrorUnsupportedQueryFilter",
            format!("The property {field:?} is a boolean: only IsEqualTo and IsNotEqualTo apply."),
        ));
    }
    Ok(Expr::Compare(field, op, constant(field, raw)?))
}

fn parse_contains(node: Node<'_, '_>, kids: &[Node<'_, '_>]) -> Result<Expr, Refusal> {
    let [p, c] = kids else {
        return Err(invalid(
            "t:Contains needs a property path and a t:Constant.",
        ));
    };
    let field = path(*p, "ErrorUnsupportedPathForQuery")?;
    if field.kind() != Kind::Text {
        return Err((
            "ErrorUnsupportedQueryFilter",
            format!("t:Contains applies to text properties; {field:?} is not one."),
        ));
    }
    if !is_types(*c) || c.tag_name().name() != "Constant" {
        return Err(invalid(
            "t:Contains needs a t:Constant after the property path.",
        ));
    }
    let Some(value) = c.attribute("Value") else {
        return Err(invalid("t:Constant needs a Value attribute."));
    };
    let mode = match node.attribute("ContainmentMode").unwrap_or("Substring") {
        "FullString" => Mode::FullString,
        "Prefixed" => Mode::Prefixed,
        "Substring" | "ExactPhrase" => Mode::Substring,
        "PrefixOnWords" => Mode::PrefixOnWords,
        other => return Err(invalid(format!("Unknown ContainmentMode '{other}'."))),
    };
    let exact_case = node.attribute("ContainmentComparison") == Some("Exact");
    Ok(Expr::Contains {
        field,
        value: value.to_string(),
        mode,
        exact_case,
    })
}

fn cmp_text(a: &str, b: &str) -> Ordering {
    a.to_lowercase().cmp(&b.to_lowercase())
}

fn holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
    }
}

fn contains(hay: &str, needle: &str, mode: Mode, exact_case: bool) -> bool {
    let (hay, needle) = if exact_case {
        (hay.to_string(), needle.to_string())
    } else {
        (hay.to_lowercase(), needle.to_lowercase())
    };
    match mode {
        Mode::FullString => hay == needle,
        Mode::Prefixed => hay.starts_with(&needle),
        Mode::Substring => hay.contains(&needle),
        Mode::PrefixOnWords => hay
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| !w.is_empty() && w.starts_with(&needle)),
    }
}

/// Whether `item` satisfies `expr`.
pub(crate) fn matches(expr: &Expr, item: &ItemSnapshot) -> bool {
    match expr {
        Expr::And(list) => list.iter().all(|e| matches(e, item)),
        Expr::Or(list) => list.iter().any(|e| matches(e, item)),
        Expr::Not(e) => !matches(e, item),
        Expr::Exists(f) => !matches!(value(item, *f), Got::Missing),
        Expr::Contains {
            field,
            value: needle,
            mode,
            exact_case,
        } => match value(item, *field) {
            Got::Text(values) => values
                .iter()
                .any(|v| contains(v, needle, *mode, *exact_case)),
            Got::Address(email, name) => {
                contains(&email, needle, *mode, *exact_case)
                    || name.is_some_and(|n| contains(&n, needle, *mode, *exact_case))
            }
            _ => false,
        },
        Expr::Compare(field, op, c) => match (value(item, *field), c) {
            (Got::Text(values), Constant::Text(t)) => {
                if *op == Op::Ne {
                    values.iter().all(|v| cmp_text(v, t) != Ordering::Equal)
                } else {
                    values.iter().any(|v| holds(*op, cmp_text(v, t)))
                }
            }
            (Got::Address(email, name), Constant::Text(t)) => {
                let same = cmp_text(&email, t) == Ordering::Equal
                    || name.is_some_and(|n| cmp_text(&n, t) == Ordering::Equal);
                match op {
                    Op::Eq => same,
                    Op::Ne => !same,
                    // Addresses order by SMTP address.
                    _ => holds(*op, cmp_text(&email, t)),
                }
            }
            (Got::Date(d), Constant::Date(t)) => holds(*op, d.cmp(t)),
            (Got::Bool(b), Constant::Bool(t)) => holds(*op, b.cmp(t)),
            _ => false,
        },
    }
}

/// One key of a sort order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SortKey {
    field: Field,
    descending: bool,
}

/// Parses `m:SortOrder` (`t:FieldOrder Order=... > t:FieldURI`).
pub(crate) fn parse_sort_order(node: Node<'_, '_>) -> Result<Vec<SortKey>, Refusal> {
    let mut keys = Vec::new();
    for fo in elements(node) {
        if !is_types(fo) || fo.tag_name().name() != "FieldOrder" {
            return Err(invalid(format!(
                "A SortOrder holds t:FieldOrder elements, not '{}'.",
                fo.tag_name().name()
            )));
        }
        let paths = elements(fo);
        let [p] = paths.as_slice() else {
            return Err(invalid("t:FieldOrder needs exactly one property path."));
        };
        let field = path(*p, "ErrorUnsupportedPathForSortGroup")?;
        let descending = match fo.attribute("Order").unwrap_or("Ascending") {
            "Ascending" => false,
            "Descending" => true,
            other => return Err(invalid(format!("Unknown sort Order '{other}'."))),
        };
        keys.push(SortKey { field, descending });
    }
    Ok(keys)
}

fn key_cmp(a: &Got, b: &Got) -> Ordering {
    let rank = |g: &Got| match g {
        Got::Missing => 0,
        _ => 1,
    };
    match (a, b) {
        (Got::Text(x), Got::Text(y)) => cmp_text(
            x.first().map_or("", String::as_str),
            y.first().map_or("", String::as_str),
        ),
        (Got::Address(x, _), Got::Address(y, _)) => cmp_text(x, y),
        (Got::Date(x), Got::Date(y)) => x.cmp(y),
        (Got::Bool(x), Got::Bool(y)) => x.cmp(y),
        // Items without the property sort first in ascending order.
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Sorts `items` by `keys` (stable: ties keep their order).
pub(crate) fn sort(items: &mut [&ItemSnapshot], keys: &[SortKey]) {
    items.sort_by(|a, b| {
        for k in keys {
            let ord = key_cmp(&value(a, k.field), &value(b, k.field));
            let ord = if k.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

/// The start and end of a calendar item, if both parse.
pub(crate) fn span(item: &ItemSnapshot) -> Option<(jiff::Timestamp, jiff::Timestamp)> {
    let start = parse_datetime(item.start.as_deref()?)?;
    let end = parse_datetime(item.end.as_deref()?)?;
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "http://schemas.microsoft.com/exchange/services/2006/types";

    fn parse(xml: &str) -> Result<Expr, Refusal> {
        let doc = roxmltree::Document::parse(xml).expect("test XML");
        parse_restriction(doc.root_element())
    }

    fn item(subject: &str, created: &str) -> ItemSnapshot {
        let mut i = ItemSnapshot::new(ItemKind::Message, "a@x", "inbox", "a@x");
        i.subject = Some(subject.to_string());
        i.created = created.to_string();
        i.sender = Some(Address {
            name: Some("Ann Example".to_string()),
            email: "ann@example.com".to_string(),
        });
        i
    }

    #[test]
    fn comparisons_on_subject_dates_and_sender() {
        let r = parse(&format!(
            "<R xmlns:t='{T}'><t:And><t:Contains ContainmentMode='Substring' ContainmentComparison='IgnoreCase'><t:FieldURI FieldURI='item:Subject'/><t:Constant Value='REPORT'/></t:Contains><t:IsGreaterThan><t:FieldURI FieldURI='item:DateTimeReceived'/><t:FieldURIOrConstant><t:Constant Value='2025-01-01T00:00:01Z'/></t:FieldURIOrConstant></t:IsGreaterThan><t:IsEqualTo><t:FieldURI FieldURI='message:Sender'/><t:FieldURIOrConstant><t:Constant Value='ann@EXAMPLE.com'/></t:FieldURIOrConstant></t:IsEqualTo></t:And></R>"
        ))
        .expect("served");
        assert!(matches(&r, &item("Weekly report", "2025-01-01T00:00:02Z")));
        assert!(!matches(&r, &item("Weekly report", "2025-01-01T00:00:01Z")));
        assert!(!matches(&r, &item("Weekly notes", "2025-01-01T00:00:02Z")));
    }

    #[test]
    fn unsupported_parts_are_refused_not_skipped() {
        let excludes = parse(&format!(
            "<R xmlns:t='{T}'><t:Excludes><t:FieldURI FieldURI='item:Subject'/><t:Bitmask Value='1'/></t:Excludes></R>"
        ));
        assert_eq!(
            excludes.err().map(|e| e.0),
            Some("ErrorUnsupportedQueryFilter")
        );
        let path = parse(&format!(
            "<R xmlns:t='{T}'><t:Exists><t:FieldURI FieldURI='item:Size'/></t:Exists></R>"
        ));
        assert_eq!(
            path.err().map(|e| e.0),
            Some("ErrorUnsupportedPathForQuery")
        );
        let bad_date = parse(&format!(
            "<R xmlns:t='{T}'><t:IsLessThan><t:FieldURI FieldURI='calendar:Start'/><t:FieldURIOrConstant><t:Constant Value='soon'/></t:FieldURIOrConstant></t:IsLessThan></R>"
        ));
        assert_eq!(
            bad_date.err().map(|e| e.0),
            Some("ErrorInvalidValueForProperty")
        );
        let empty = parse(&format!("<R xmlns:t='{T}'/>"));
        assert_eq!(empty.err().map(|e| e.0), Some("ErrorInvalidRestriction"));
    }

    #[test]
    fn dates_without_offset_are_utc() {
        assert_eq!(
            parse_datetime("2025-06-02T10:00:00"),
            parse_datetime("2025-06-02T12:00:00+02:00")
        );
        assert!(parse_datetime("2025-06-02").is_none());
    }
}
