//! Exchange versions: what a request asks for ([`ExchangeVersion`]) and what a server says
//! it is ([`ServerVersionInfo`]).

use std::fmt;
use std::str::FromStr;

use crate::error::{Bounded, MalformedKind, ServerError, UsageError};
use crate::types::Unrecognized;
use crate::xml::Element;

macro_rules! versions {
    ($($v:ident),* $(,)?) => {
        /// A `RequestServerVersion` value: every `ExchangeVersionType` of the schema, oldest
        /// first, so versions compare with `<`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        #[allow(non_camel_case_types)]
        pub enum ExchangeVersion {
            $(#[doc = concat!("`", stringify!($v), "`")] $v,)*
        }

        impl ExchangeVersion {
            /// Every version, oldest first.
            pub const ALL: &'static [ExchangeVersion] = &[$(ExchangeVersion::$v),*];

            /// The value as written in `RequestServerVersion/@Version`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ExchangeVersion::$v => stringify!($v),)* }
            }
        }

        impl FromStr for ExchangeVersion {
            type Err = UsageError;
            fn from_str(s: &str) -> Result<Self, UsageError> {
                match s {
                    $(stringify!($v) => Ok(ExchangeVersion::$v),)*
                    _ => Err(UsageError::invalid("Exchange version", "not an ExchangeVersionType value")),
                }
            }
        }
    };
}

versions! {
    Exchange2007, Exchange2007_SP1, Exchange2009, Exchange2010, Exchange2010_SP1,
    Exchange2010_SP2, Exchange2012, Exchange2013, Exchange2013_SP1, Exchange2015,
    Exchange2016, V2015_10_05, V2016_01_06, V2016_04_13, V2016_07_13, V2016_10_10,
    V2017_01_07, V2017_04_14, V2017_07_11,
}

impl Default for ExchangeVersion {
    /// `Exchange2013_SP1`: understood by Exchange 2013, 2016, 2019 and SE.
    fn default() -> Self {
        ExchangeVersion::Exchange2013_SP1
    }
}

impl fmt::Display for ExchangeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `ServerVersionInfo` header of an answer. Every part is optional on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerVersionInfo {
    /// `MajorVersion` (14 for Exchange 2010, 15 for 2013 and later).
    pub major_version: Option<i32>,
    /// `MinorVersion`.
    pub minor_version: Option<i32>,
    /// `MajorBuildNumber`.
    pub major_build_number: Option<i32>,
    /// `MinorBuildNumber`.
    pub minor_build_number: Option<i32>,
    /// `Version`: a free string on the wire.
    pub version: Option<VersionName>,
}

/// The `Version` attribute of `ServerVersionInfo`.
///
/// Debug shows an unknown name bounded and escaped (at most about 512 bytes).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionName {
    /// A value this crate can send back in `RequestServerVersion`.
    Known(ExchangeVersion),
    /// Anything else (`V2_47`, `Exchange2019`, ...), as sent.
    Other(Unrecognized),
}

/// The derived form, an unknown name bounded.
impl fmt::Debug for VersionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionName::Known(k) => f.debug_tuple("Known").field(k).finish(),
            VersionName::Other(o) => f.debug_tuple("Other").field(&Bounded(o.as_str())).finish(),
        }
    }
}

/// `15.1.2507.6 (V2017_07_11)`; `?` for a part the server left out, no parentheses without
/// a `Version`. An unknown `Version` is shown bounded and escaped (it is server text).
impl fmt::Display for ServerVersionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            self.major_version,
            self.minor_version,
            self.major_build_number,
            self.minor_build_number,
        ];
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match part {
                Some(n) => write!(f, "{n}")?,
                None => f.write_str("?")?,
            }
        }
        match &self.version {
            Some(VersionName::Known(k)) => write!(f, " ({k})"),
            Some(VersionName::Other(o)) => write!(f, " ({})", Bounded(o.as_str())),
            None => Ok(()),
        }
    }
}

impl ServerVersionInfo {
    pub(crate) fn read(e: &Element<'_>) -> Result<Self, ServerError> {
        let mut info = Self::default();
        e.each_attr(|name, value| {
            let number = |slot: &mut Option<i32>| match value.trim().parse() {
                Ok(n) => {
                    *slot = Some(n);
                    Ok(())
                }
                Err(_) => Err(e.malformed(
                    MalformedKind::BadValue,
                    format!("ServerVersionInfo/@{name} is not a number"),
                )),
            };
            match name {
                "MajorVersion" => number(&mut info.major_version),
                "MinorVersion" => number(&mut info.minor_version),
                "MajorBuildNumber" => number(&mut info.major_build_number),
                "MinorBuildNumber" => number(&mut info.minor_build_number),
                "Version" => {
                    info.version = Some(match value.parse() {
                        Ok(known) => VersionName::Known(known),
                        Err(_) => VersionName::Other(Unrecognized::new(&value)),
                    });
                    Ok(())
                }
                _ => Ok(()),
            }
        })?;
        Ok(info)
    }

    /// The newest [`ExchangeVersion`] this server is known to accept, if the answer says.
    pub fn request_version(&self) -> Option<ExchangeVersion> {
        match &self.version {
            Some(VersionName::Known(v)) => Some(*v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_version_displays_like_exchange_writes_it() {
        let mut v = ServerVersionInfo {
            major_version: Some(15),
            minor_version: Some(1),
            major_build_number: Some(2507),
            minor_build_number: Some(6),
            version: Some(VersionName::Known(ExchangeVersion::V2017_07_11)),
        };
        assert_eq!(v.to_string(), "15.1.2507.6 (V2017_07_11)");
        v.minor_build_number = None;
        v.version = Some(VersionName::Other(Unrecognized::new("V2_47")));
        assert_eq!(v.to_string(), "15.1.2507.? (V2_47)");
        assert_eq!(ServerVersionInfo::default().to_string(), "?.?.?.?");
    }

    #[test]
    fn versions_round_trip_and_order() {
        for v in ExchangeVersion::ALL {
            assert_eq!(v.as_str().parse::<ExchangeVersion>().unwrap(), *v);
        }
        assert!(ExchangeVersion::Exchange2010 < ExchangeVersion::Exchange2010_SP1);
        assert!(ExchangeVersion::Exchange2016 < ExchangeVersion::V2017_07_11);
        assert!("Exchange2019".parse::<ExchangeVersion>().is_err());
    }

    #[test]
    fn schema_lists_exactly_these_versions() {
        let xsd = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/ews-schema/types.xsd"
        ))
        .expect("../shared/ews-schema/types.xsd beside the repository");
        let start = xsd
            .find("name=\"ExchangeVersionType\"")
            .expect("type present");
        let end = start + xsd[start..].find("</xs:simpleType>").expect("closed");
        let listed: Vec<&str> = xsd[start..end]
            .split("value=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        let ours: Vec<&str> = ExchangeVersion::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(listed, ours);
    }
}
