//! Lenient field parsing shared by the readers.
//!
//! Real exports put booleans and sizes in strings, write `yes`/`t`/`1` for
//! true, and leave columns empty (spec/formats.md §1.3, §1.5, §3.3). Hash
//! fields are the exception: a malformed hash rejects the record, because a
//! wrong hash in a known-media list is worse than a missing one.

use serde_json::Value;
use tiaki_hash::pdq::PdqHash;
use tiaki_types::fields::{Spellings::Lenient, parse_bool};

use crate::error::RecordReason;
use crate::model::HexDigest;

/// What a JSON value says as a flag: `Ok(None)` for null/empty, `Err` when it
/// is something else entirely (the caller keeps it verbatim).
pub(crate) fn json_bool(v: &Value) -> Result<Option<bool>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(()),
        },
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_bool(s, Lenient).map(Some).ok_or(()),
        _ => Err(()),
    }
}

/// A non-negative integer from a number or a string of digits.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    s.trim().parse::<u64>().ok()
}

pub(crate) fn json_u64(v: &Value) -> Result<Option<u64>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_u64().map(Some).ok_or(()),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_u64(s).map(Some).ok_or(()),
        _ => Err(()),
    }
}

/// A free-text value; empty strings are "not stated".
pub(crate) fn json_text(v: &Value) -> Result<Option<String>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(()),
    }
}

/// A category code from a number or a string (`8`, `"1"`, `"A1"`).
pub(crate) fn json_code(v: &Value) -> Result<Option<String>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string())),
        _ => Err(()),
    }
}

/// An optional digest: empty means absent, anything else must be valid hex
/// of the right length.
pub(crate) fn digest<const N: usize>(
    field: &str,
    s: &str,
) -> Result<Option<HexDigest<N>>, RecordReason> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    HexDigest::<N>::from_hex(t)
        .map(Some)
        .map_err(|error| RecordReason::BadDigest {
            field: field.to_string(),
            error,
        })
}

/// A digest from a JSON value (string, or null for absent).
pub(crate) fn json_digest<const N: usize>(
    field: &str,
    v: &Value,
) -> Result<Option<HexDigest<N>>, RecordReason> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => digest(field, s),
        other => Err(RecordReason::BadValue {
            field: field.to_string(),
            reason: format!("expected a hex string, found {}", json_kind(other)),
        }),
    }
}

/// An optional PDQ hash: empty means absent.
pub(crate) fn pdq(field: &str, s: &str) -> Result<Option<PdqHash>, RecordReason> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    PdqHash::from_hex(t)
        .map(Some)
        .map_err(|e| RecordReason::BadPdq {
            field: field.to_string(),
            reason: e.to_string(),
        })
}

/// A PDQ quality, 0..=100.
pub(crate) fn quality(field: &str, s: &str) -> Result<u8, RecordReason> {
    match s.trim().parse::<u8>() {
        Ok(q) if q <= 100 => Ok(q),
        _ => Err(RecordReason::BadValue {
            field: field.to_string(),
            reason: format!("quality must be an integer 0..=100, got {:?}", clip(s)),
        }),
    }
}

/// A name for a JSON value's type, for messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// At most 40 characters of `s`, for error messages about huge garbage.
pub(crate) fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_bools() {
        for t in ["true", "TRUE", " yes ", "Y", "t", "1"] {
            assert_eq!(parse_bool(t, Lenient), Some(true), "{t}");
        }
        for f in ["false", "No", "n", "F", "0"] {
            assert_eq!(parse_bool(f, Lenient), Some(false), "{f}");
        }
        assert_eq!(parse_bool("", Lenient), None);
        assert_eq!(parse_bool("maybe", Lenient), None);
        assert_eq!(json_bool(&Value::from("true")), Ok(Some(true)));
        assert_eq!(json_bool(&Value::from(false)), Ok(Some(false)));
        assert_eq!(json_bool(&Value::from("maybe")), Err(()));
    }

    #[test]
    fn sizes_as_strings() {
        assert_eq!(json_u64(&Value::from("38733828")), Ok(Some(38_733_828)));
        assert_eq!(json_u64(&Value::from(2835)), Ok(Some(2835)));
        assert_eq!(json_u64(&Value::from(-1)), Err(()));
    }

    #[test]
    fn quality_range() {
        assert_eq!(quality("q", "100"), Ok(100));
        assert!(quality("q", "101").is_err());
        assert!(quality("q", "-1").is_err());
    }
}
