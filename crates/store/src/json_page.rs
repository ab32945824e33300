//! Pieces of the bulk reads that take a page of rows as one JSON text
//! (the database aggregates the rows; serde_json parses them into borrowed
//! tuples): a row costs far more through the driver than its text costs to
//! parse. Shared by both backends' `sql/` code.

use tiaki_hash::pdq::hex_digit;

use crate::StoreError;

/// A boolean as either backend's JSON writes it: `true`/`false` from
/// PostgreSQL, 0/1 from SQLite. (Hand-written: an untagged enum would build
/// and drop an error for every SQLite 0/1.)
pub(crate) struct SqlBool(bool);

impl<'de> serde::Deserialize<'de> for SqlBool {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SqlBool;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean or 0/1")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<SqlBool, E> {
                Ok(SqlBool(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SqlBool, E> {
                Ok(SqlBool(v != 0))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SqlBool, E> {
                Ok(SqlBool(v != 0))
            }
        }
        d.deserialize_any(V)
    }
}

impl SqlBool {
    pub(crate) fn get(&self) -> bool {
        self.0
    }
}

/// A blob column as the backend's hex text (SQLite `HEX()`, upper case,
/// empty for NULL; PostgreSQL `encode(…, 'hex')`, lower case, null for
/// NULL) back to its bytes.
pub(crate) fn hex_bytes<const N: usize>(
    hex: Option<&str>,
    what: &str,
) -> Result<Option<[u8; N]>, StoreError> {
    let Some(hex) = hex.filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    let bad = || StoreError::Corrupt(format!("media {what}: {hex:?} is not {N} bytes of hex"));
    if hex.len() != 2 * N {
        return Err(bad());
    }
    // Two digits at a time through the shared table: millions of digests
    // per read.
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let [hi, lo] = pair else { return Err(bad()) };
        match (hex_digit(*hi), hex_digit(*lo)) {
            (Some(h), Some(l)) => *o = (h << 4) | l,
            _ => return Err(bad()),
        }
    }
    Ok(Some(out))
}

/// Parses one aggregated page: `None` (no rows; the aggregate of nothing is
/// NULL) is an empty page.
pub(crate) fn parse_page<'a, T: serde::Deserialize<'a>>(
    text: Option<&'a str>,
    what: &str,
) -> Result<Vec<T>, StoreError> {
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(t).map_err(|e| StoreError::Corrupt(format!("{what}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_bytes_reads_either_case_and_absence() {
        assert_eq!(
            hex_bytes::<2>(Some("0aFf"), "x").unwrap(),
            Some([0x0a, 0xff])
        );
        assert_eq!(hex_bytes::<2>(Some(""), "x").unwrap(), None);
        assert_eq!(hex_bytes::<2>(None, "x").unwrap(), None);
        assert!(hex_bytes::<2>(Some("0aF"), "x").is_err());
        assert!(hex_bytes::<2>(Some("0aFg"), "x").is_err());
    }

    #[test]
    fn sql_bool_reads_both_backends() {
        let v: Vec<SqlBool> = serde_json::from_str("[true, 0, 1, false]").unwrap();
        let got: Vec<bool> = v.iter().map(SqlBool::get).collect();
        assert_eq!(got, [true, false, true, false]);
    }
}
