//! RFC 3339 timestamps to Unix seconds, for the tar entries' mtime.
//!
//! A small parser instead of a date crate: only this one conversion is
//! needed, and the input is a string the caller already formats.

/// Seconds since 1970-01-01T00:00:00Z of an RFC 3339 time
/// (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, `t`/`z` accepted; not the
/// space separator, because the time goes into a space-separated signed comment), or
/// `None` when it is not one. Fractions are dropped; leap second 60 is
/// accepted and counted as the next second's start.
pub fn unix_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let at = |i: usize| b.get(i).copied();
    if at(4) != Some(b'-') || at(7) != Some(b'-') || !matches!(at(10), Some(b'T' | b't')) {
        return None;
    }
    if at(13) != Some(b':') || at(16) != Some(b':') {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    if at(i) == Some(b'.') {
        i += 1;
        let start = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match at(i) {
        Some(b'Z' | b'z') if b.len() == i + 1 => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && at(i + 3) == Some(b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2021-03-01T00:00:00Z"), Some(1_614_556_800));
        assert_eq!(unix_seconds("2000-02-29T12:34:56.789Z"), Some(951_827_696));
        assert_eq!(
            unix_seconds("2021-03-01T13:00:00+13:00"),
            Some(1_614_556_800)
        );
        assert_eq!(
            unix_seconds("2021-02-28T11:00:00-13:00"),
            Some(1_614_556_800)
        );
        assert_eq!(unix_seconds("1969-12-31T23:59:59Z"), Some(-1));
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
            proptest::prop_assert_eq!(unix_seconds(&text), Some(want));
        }
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "2021-03-01",
            "2021-03-01T00:00:00",
            "2021-02-29T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-03-01T24:00:00Z",
            "2021-03-01T00:00:00.Z",
            "2021-03-01T00:00:00Zx",
            "2021-03-01 00:00:00Z",
            "2021-03-01T00:00:00+1300",
            "２０21-03-01T00:00:00Z",
        ] {
            assert_eq!(unix_seconds(s), None, "{s}");
        }
    }
}
