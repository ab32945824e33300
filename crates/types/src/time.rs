//! Time: one RFC 3339 parser and one stored timestamp type for the whole
//! workspace.
//!
//! Provider data keeps its times as written (an offset or a fraction is the
//! provider's evidence), checked by [`unix_seconds`]; what Tiaki itself
//! records is a [`Timestamp`], always `YYYY-MM-DDTHH:MM:SSZ` in UTC, made from
//! seconds the caller supplies. Library code never reads the clock: the
//! binaries' context hands "now" down (the `disallowed-methods` lint keeps it
//! so).
//!
//! Our own parser rather than a date crate's: it is the one conversion the
//! workspace needs, attribution runs it on every login of every account (a
//! million in an operation's intake), and a hand-written scanner over the
//! fixed RFC 3339 grammar is several times faster than a generic
//! format-description parser while being checked against a day-counting
//! oracle below.

use std::fmt;

/// Seconds since 1970-01-01T00:00:00Z.
pub type UnixTime = i64;

/// Why a text is not an RFC 3339 date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("not of the form YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)")]
    Shape,
    #[error("the month is not 01 to 12")]
    Month,
    #[error("that month has no such day")]
    Day,
    #[error("the time of day is out of range")]
    TimeOfDay,
    #[error("the UTC offset is out of range")]
    Offset,
}

/// Seconds since the Unix epoch of an RFC 3339 date-time
/// (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `t`/`z` accepted; not the space
/// separator RFC 3339 allows as a note, because ISO 8601 does not and our
/// signed package comments are space-separated). Fractions are dropped; a
/// leap second 60 counts as the next second's start.
pub fn unix_seconds(s: &str) -> Result<UnixTime, TimeError> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return Err(TimeError::Shape);
    }
    let num = |from: usize, len: usize| -> Result<i64, TimeError> {
        let part = b.get(from..from + len).ok_or(TimeError::Shape)?;
        part.iter().try_fold(0i64, |acc, &c| {
            if c.is_ascii_digit() {
                Ok(acc * 10 + i64::from(c - b'0'))
            } else {
                Err(TimeError::Shape)
            }
        })
    };
    let at = |i: usize| b.get(i).copied();
    if at(4) != Some(b'-')
        || at(7) != Some(b'-')
        || !matches!(at(10), Some(b'T' | b't'))
        || at(13) != Some(b':')
        || at(16) != Some(b':')
    {
        return Err(TimeError::Shape);
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) {
        return Err(TimeError::Month);
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(TimeError::Day);
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(TimeError::TimeOfDay);
    }
    let mut i = 19;
    if at(i) == Some(b'.') {
        i += 1;
        let start = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return Err(TimeError::Shape);
        }
    }
    let offset = match at(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && at(i + 3) == Some(b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return Err(TimeError::Offset);
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return Err(TimeError::Shape),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Whether `s` is an RFC 3339 date-time ([`unix_seconds`] accepts it).
pub fn is_rfc3339(s: &str) -> bool {
    unix_seconds(s).is_ok()
}

/// A UTC instant as the RFC 3339 text Tiaki stores and prints
/// (`2026-11-29T01:02:03Z`): whole seconds, always `Z`, so text order is
/// time order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Timestamp(String);

impl Timestamp {
    /// From seconds since the Unix epoch.
    pub fn from_unix(secs: UnixTime) -> Timestamp {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        Timestamp(format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        ))
    }

    /// Any RFC 3339 date-time, normalised to UTC whole seconds.
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        unix_seconds(s).map(Timestamp::from_unix)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Seconds since the Unix epoch (the inverse of [`from_unix`](Self::from_unix)).
    pub fn unix(&self) -> UnixTime {
        // A Timestamp is only ever made by `from_unix`, so it always parses;
        // 0 is the unreachable fallback that keeps this infallible.
        unix_seconds(&self.0).unwrap_or(0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    /// Read back through the one parser: stored text that is not a time is
    /// an error, not a silently wrong value.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(|e| serde::de::Error::custom(format!("{s:?}: {e}")))
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// H. Hinnant's `civil_from_days`: the proleptic Gregorian date of a day
/// count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(unix_seconds("2021-03-01T00:00:00Z"), Ok(1_614_556_800));
        assert_eq!(unix_seconds("2000-02-29T12:34:56.789Z"), Ok(951_827_696));
        assert_eq!(unix_seconds("2021-03-01T13:00:00+13:00"), Ok(1_614_556_800));
        assert_eq!(unix_seconds("2021-02-28T11:00:00-13:00"), Ok(1_614_556_800));
        assert_eq!(unix_seconds("1969-12-31T23:59:59Z"), Ok(-1));
        assert_eq!(unix_seconds("2019-10-03t09:12:00z"), Ok(1_570_093_920));
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(Timestamp::from_unix(0).as_str(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(951_782_400).as_str(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            Timestamp::from_unix(1_795_914_123).as_str(),
            "2026-11-29T01:02:03Z"
        );
        assert_eq!(Timestamp::from_unix(-1).as_str(), "1969-12-31T23:59:59Z");
        for t in [0, 951_782_400, 1_795_914_123, -1, 4_102_444_800] {
            assert_eq!(Timestamp::from_unix(t).unix(), t);
        }
        assert_eq!(
            Timestamp::parse("2021-03-01T13:00:00.5+13:00").map(|t| t.0),
            Ok("2021-03-01T00:00:00Z".to_string())
        );
    }

    #[test]
    fn stored_text_goes_through_the_parser() {
        let t: Timestamp = serde_json::from_str("\"2021-03-01T00:00:00Z\"").unwrap();
        assert_eq!(t.unix(), 1_614_556_800);
        assert!(serde_json::from_str::<Timestamp>("\"2021-02-31T00:00:00Z\"").is_err());
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2021-03-01T00:00:00Z\""
        );
    }

    /// Oracle: count days one by one from 1970.
    fn naive_days(y: i64, m: i64, d: i64) -> i64 {
        let mut days = 0;
        for year in 1970..y {
            days += if is_leap(year) { 366 } else { 365 };
        }
        for month in 1..m {
            days += days_in_month(y, month);
        }
        days + d - 1
    }

    proptest::proptest! {
        #[test]
        fn matches_naive_count(
            y in 1970i64..2200, m in 1i64..=12, d in 1i64..=31,
            h in 0i64..24, mi in 0i64..60, s in 0i64..60, oh in 0i64..14, om in 0i64..60, neg: bool,
        ) {
            let d = d.min(days_in_month(y, m));
            let sign = if neg { '-' } else { '+' };
            let text = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{sign}{oh:02}:{om:02}");
            let offset = (oh * 3600 + om * 60) * if neg { -1 } else { 1 };
            let want = naive_days(y, m, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
            proptest::prop_assert_eq!(unix_seconds(&text), Ok(want));
        }

        #[test]
        fn round_trips(t in -62_135_596_800i64..253_402_300_799) {
            let ts = Timestamp::from_unix(t);
            proptest::prop_assert_eq!(ts.unix(), t);
            proptest::prop_assert_eq!(Timestamp::parse(ts.as_str()), Ok(ts));
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = unix_seconds(&s);
        }
    }

    #[test]
    fn rejects() {
        for (s, why) in [
            ("", TimeError::Shape),
            ("2021-03-01", TimeError::Shape),
            ("2021-03-01T00:00:00", TimeError::Shape),
            ("2021-02-29T00:00:00Z", TimeError::Day),
            ("2021-02-31T00:00:00Z", TimeError::Day),
            ("2021-13-01T00:00:00Z", TimeError::Month),
            ("2021-03-01T24:00:00Z", TimeError::TimeOfDay),
            ("2021-03-01T00:00:00.Z", TimeError::Shape),
            ("2021-03-01T00:00:00Zx", TimeError::Shape),
            ("2021-03-01 00:00:00Z", TimeError::Shape),
            ("2021-03-01T00:00:00+1300", TimeError::Shape),
            ("2021-03-01T00:00:00+24:00", TimeError::Offset),
            ("２０21-03-01T00:00:00Z", TimeError::Shape),
        ] {
            assert_eq!(unix_seconds(s), Err(why), "{s}");
        }
    }
}
