//! Our XML layer over quick-xml. Nothing outside this module sees a quick-xml type.

mod read;
mod write;

pub use read::{BodyReader, Element, Limits, XmlNs};
pub use write::{BodyWriter, Ns};
