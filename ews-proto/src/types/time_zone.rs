//! Windows time-zone ids and IANA names: [`TimeZoneId::from_iana`], [`TimeZoneId::iana`],
//! offsets through jiff, and [`NewCalendarItem::zoned`] (from
//! [`jiff::ZonedDateTime`], jiff 1's name for a zoned time).
//!
//! Exchange names zones as Windows does (`W. Europe Standard Time`); the rest of the world
//! uses IANA names (`Europe/Berlin`). The one published correspondence is CLDR's
//! `windowsZones.xml`, read here through the `localzone` crate (its `win_zones` table,
//! every territory: `Europe/Vienna` is `W. Europe Standard Time` too). CLDR spells some
//! places as tzdb did long ago (`Asia/Calcutta`, `Europe/Kiev`); [`LEGACY_NAMES`] pairs
//! each with today's name, both ways, so either spelling finds the Windows id and
//! [`TimeZoneId::iana`] answers with today's.

use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ZonedDateTime};

use crate::error::UsageError;
use crate::types::{NewCalendarItem, TimeZoneId};

/// CLDR's spelling of a place (a tzdb link today) and tzdb's current name for it. Drawn
/// from tzdb's `backward` links whose old name is one CLDR's table uses; links that merge
/// two places (`Europe/Bratislava` into `Europe/Prague`) are not renames and are left out.
const LEGACY_NAMES: &[(&str, &str)] = &[
    ("Africa/Asmera", "Africa/Asmara"),
    ("America/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("America/Catamarca", "America/Argentina/Catamarca"),
    ("America/Cordoba", "America/Argentina/Cordoba"),
    ("America/Godthab", "America/Nuuk"),
    ("America/Indianapolis", "America/Indiana/Indianapolis"),
    ("America/Jujuy", "America/Argentina/Jujuy"),
    ("America/Louisville", "America/Kentucky/Louisville"),
    ("America/Mendoza", "America/Argentina/Mendoza"),
    ("Asia/Calcutta", "Asia/Kolkata"),
    ("Asia/Katmandu", "Asia/Kathmandu"),
    ("Asia/Rangoon", "Asia/Yangon"),
    ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
    ("Atlantic/Faeroe", "Atlantic/Faroe"),
    ("Europe/Kiev", "Europe/Kyiv"),
    ("Pacific/Enderbury", "Pacific/Kanton"),
    ("Pacific/Ponape", "Pacific/Pohnpei"),
    ("Pacific/Truk", "Pacific/Chuuk"),
];

/// Names callers write for zones CLDR lists under another name (jiff calls its UTC zone
/// `UTC`), and CLDR's name.
const OTHER_SPELLINGS: &[(&str, &str)] = &[("UTC", "Etc/UTC"), ("GMT", "Etc/GMT")];

/// Today's tzdb name for a name of CLDR's table.
fn modern(cldr: &'static str) -> &'static str {
    LEGACY_NAMES
        .iter()
        .find(|(old, _)| *old == cldr)
        .map_or(cldr, |(_, new)| new)
}

/// CLDR's spelling of `name`, when CLDR spells that place or zone otherwise.
fn legacy(name: &str) -> Option<&'static str> {
    LEGACY_NAMES
        .iter()
        .map(|(old, new)| (new, old))
        .chain(OTHER_SPELLINGS.iter().map(|(other, cldr)| (other, cldr)))
        .find(|(other, _)| other.eq_ignore_ascii_case(name))
        .map(|(_, cldr)| *cldr)
}

const UNKNOWN_IANA: UsageError = UsageError::invalid(
    "time zone",
    "not an IANA name that CLDR's windowsZones maps to a Windows time-zone id",
);

const NO_IANA: UsageError = UsageError::invalid(
    "time zone id",
    "not a Windows time-zone id that CLDR's windowsZones maps to an IANA name",
);

const NOT_IN_TZDB: UsageError = UsageError::invalid(
    "time zone id",
    "its IANA zone is not in the time-zone database jiff reads",
);

impl TimeZoneId {
    /// The Windows time-zone id of the IANA zone `name` (`Europe/Berlin` →
    /// `W. Europe Standard Time`), from CLDR's `windowsZones`, any territory. Old and new
    /// spellings both work (`Asia/Calcutta` and `Asia/Kolkata`, `Europe/Kiev` and
    /// `Europe/Kyiv`), and so does another case (`europe/berlin`).
    ///
    /// ```
    /// use ews_proto::TimeZoneId;
    /// assert_eq!(TimeZoneId::from_iana("Europe/Berlin")?.as_str(), "W. Europe Standard Time");
    /// assert_eq!(TimeZoneId::from_iana("Europe/Vienna")?.as_str(), "W. Europe Standard Time");
    /// assert_eq!(TimeZoneId::from_iana("Asia/Kolkata")?.as_str(), "India Standard Time");
    /// assert_eq!(TimeZoneId::from_iana("Asia/Calcutta")?.as_str(), "India Standard Time");
    /// assert!(TimeZoneId::from_iana("Mars/Olympus_Mons").is_err());
    /// # Ok::<(), ews_proto::UsageError>(())
    /// ```
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when CLDR maps no Windows zone to `name`.
    pub fn from_iana(name: &str) -> Result<Self, UsageError> {
        let lookup = |n: &str| localzone::iana_to_win_zone(n).map(|(windows, _)| windows);
        let found = lookup(name)
            .or_else(|| legacy(name).and_then(lookup))
            .or_else(|| {
                // Another case: the database's own spelling of the name, if it has it.
                let tz = jiff::tz::db().get(name).ok()?;
                let canonical = tz.iana_name()?;
                (canonical != name)
                    .then(|| lookup(canonical).or_else(|| legacy(canonical).and_then(lookup)))
                    .flatten()
            });
        match found {
            Some(windows) => TimeZoneId::new(windows),
            None => Err(UNKNOWN_IANA),
        }
    }

    /// The Windows time-zone id of a jiff zone, by its IANA name.
    ///
    /// ```
    /// use ews_proto::TimeZoneId;
    /// let tokyo = ews_proto::jiff::tz::TimeZone::get("Asia/Tokyo")?;
    /// assert_eq!(TimeZoneId::from_jiff(&tokyo)?.as_str(), "Tokyo Standard Time");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] for a zone without an IANA name (a fixed offset, a
    /// POSIX rule) or one CLDR does not map.
    pub fn from_jiff(tz: &TimeZone) -> Result<Self, UsageError> {
        match tz.iana_name() {
            Some(name) => TimeZoneId::from_iana(name),
            None => Err(UsageError::invalid(
                "time zone",
                "a zone without an IANA name (a fixed offset or a POSIX rule) has no Windows id",
            )),
        }
    }

    /// The IANA name CLDR gives this Windows zone world-wide (`W. Europe Standard Time` →
    /// `Europe/Berlin`), in today's spelling (`India Standard Time` → `Asia/Kolkata`).
    /// `None` for an id CLDR does not know (a custom zone, a typo).
    ///
    /// ```
    /// use ews_proto::TimeZoneId;
    /// assert_eq!(TimeZoneId::new("W. Europe Standard Time")?.iana(), Some("Europe/Berlin"));
    /// assert_eq!(TimeZoneId::new("FLE Standard Time")?.iana(), Some("Europe/Kyiv"));
    /// assert_eq!(TimeZoneId::new("Custom Zone")?.iana(), None);
    /// # Ok::<(), ews_proto::UsageError>(())
    /// ```
    pub fn iana(&self) -> Option<&'static str> {
        localzone::win_zone_to_iana(self.as_str(), Some("001")).map(modern)
    }

    /// The zone as jiff knows it, for offsets and wall-clock arithmetic.
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when CLDR does not know the id, or jiff's time-zone
    /// database does not hold its IANA zone.
    pub fn to_jiff(&self) -> Result<TimeZone, UsageError> {
        let name = self.iana().ok_or(NO_IANA)?;
        jiff::tz::db().get(name).map_err(|_| NOT_IN_TZDB)
    }

    /// The zone's offset from UTC at `instant` (daylight saving time included), or `None`
    /// when the zone is unknown (see [`TimeZoneId::to_jiff`]).
    ///
    /// ```
    /// use ews_proto::TimeZoneId;
    /// let berlin = TimeZoneId::new("W. Europe Standard Time")?;
    /// let summer = berlin.offset_at("2025-07-01T12:00:00Z".parse()?).ok_or("known")?;
    /// let winter = berlin.offset_at("2025-01-01T12:00:00Z".parse()?).ok_or("known")?;
    /// assert_eq!((summer.seconds(), winter.seconds()), (7200, 3600));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offset_at(&self, instant: Timestamp) -> Option<Offset> {
        self.to_jiff().ok().map(|tz| tz.to_offset(instant))
    }
}

impl NewCalendarItem {
    /// An item titled `subject` from `start` to `end`, two zoned times: written as
    /// instants (UTC), with the meeting's time zone set to the Windows id of `start`'s
    /// zone (`StartTimeZone`/`EndTimeZone` from Exchange 2010 on, `MeetingTimeZone` for
    /// 2007 SP1), so that Exchange shows it, and expands a recurrence, in that zone.
    ///
    /// ```
    /// use ews_proto::NewCalendarItem;
    /// use ews_proto::jiff::ZonedDateTime;
    /// let start: ZonedDateTime = "2025-06-02T10:00[Europe/Berlin]".parse()?;
    /// let end: ZonedDateTime = "2025-06-02T11:00[Europe/Berlin]".parse()?;
    /// let planning = NewCalendarItem::zoned("Planning", &start, &end)?;
    /// # let _ = planning;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`UsageError::InvalidValue`] when `end` is before `start`, when the two are in
    /// different zones (one item has one zone here), or when the zone has no Windows id
    /// (see [`TimeZoneId::from_jiff`]).
    pub fn zoned(
        subject: impl Into<String>,
        start: &ZonedDateTime,
        end: &ZonedDateTime,
    ) -> Result<Self, UsageError> {
        let zone = TimeZoneId::from_jiff(start.time_zone())?;
        if TimeZoneId::from_jiff(end.time_zone())? != zone {
            return Err(UsageError::invalid(
                "calendar item",
                "Start and End are in different time zones",
            ));
        }
        Ok(NewCalendarItem::new(subject, start.timestamp(), end.timestamp())?.time_zone(zone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_legacy_name_is_in_cldr_and_every_new_name_in_tzdb() {
        let pairs = LEGACY_NAMES
            .iter()
            .copied()
            .chain(OTHER_SPELLINGS.iter().map(|&(other, cldr)| (cldr, other)));
        for (old, new) in pairs {
            assert!(
                localzone::iana_to_win_zone(old).is_some(),
                "{old} is not a name of CLDR's table"
            );
            assert!(jiff::tz::db().get(new).is_ok(), "{new} is not in tzdb");
        }
    }

    #[test]
    fn both_spellings_map_and_the_modern_one_comes_back() {
        for (iana, windows) in [
            ("Europe/Berlin", "W. Europe Standard Time"),
            ("Europe/Kyiv", "FLE Standard Time"),
            ("Europe/Kiev", "FLE Standard Time"),
            ("Asia/Kolkata", "India Standard Time"),
            ("Asia/Calcutta", "India Standard Time"),
            ("America/New_York", "Eastern Standard Time"),
            ("UTC", "UTC"),
            ("Etc/UTC", "UTC"),
            ("europe/berlin", "W. Europe Standard Time"),
        ] {
            assert_eq!(
                TimeZoneId::from_iana(iana).map(|t| t.as_str().to_owned()),
                Ok(windows.to_owned()),
                "{iana}"
            );
        }
        assert_eq!(
            TimeZoneId::new("India Standard Time").unwrap().iana(),
            Some("Asia/Kolkata")
        );
        assert_eq!(TimeZoneId::new("UTC").unwrap().iana(), Some("Etc/UTC"));
        assert!(TimeZoneId::from_iana("").is_err());
        assert!(TimeZoneId::from_iana("Nowhere/Special").is_err());
    }
}
