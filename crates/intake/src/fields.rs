//! Taking typed, validated fields out of a parsed JSON object.
//!
//! Every reader parses a line into a `serde_json` map, removes the fields it
//! knows (checking each), and keeps what is left as `extra`. Errors are plain
//! strings that name the field (`logins[0].at: ...`), because they end up in
//! a line error that already names file and line.

use std::net::IpAddr;

use serde_json::{Map, Value};
use tiaki_types::fields::{Spellings, parse_bool};

pub(crate) type Obj = Map<String, Value>;

/// JSON type name for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Splits an object into the values of `keys` (in that order) and the rest.
/// Moving out by iteration is much cheaper than removing key by key from
/// the B-tree map, and this runs for every line.
pub(crate) fn split<const N: usize>(obj: Obj, keys: &[&str; N]) -> ([Option<Value>; N], Obj) {
    let mut vals: [Option<Value>; N] = std::array::from_fn(|_| None);
    let mut extra = Obj::new();
    for (k, v) in obj {
        match keys.iter().position(|x| *x == k) {
            Some(i) => {
                if let Some(slot) = vals.get_mut(i) {
                    *slot = Some(v);
                }
            }
            None => {
                extra.insert(k, v);
            }
        }
    }
    (vals, extra)
}

/// An optional string; `null` counts as absent.
pub(crate) fn str_v(v: Option<Value>, at: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{at}: expected a string, found {}", kind(&other))),
    }
}

/// An identifier: a non-empty string, or an integer (some providers number
/// their users), which is kept as its decimal text.
pub(crate) fn id_value(v: Value, what: &str) -> Result<String, String> {
    match v {
        Value::String(s) if s.trim().is_empty() => Err(format!("{what}: is empty")),
        Value::String(s) => Ok(s),
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        other => Err(format!("{what}: expected a string, found {}", kind(&other))),
    }
}

/// A required identifier.
pub(crate) fn req_id_v(v: Option<Value>, at: &str) -> Result<String, String> {
    match v {
        None | Some(Value::Null) => Err(format!("{at}: missing (required)")),
        Some(v) => id_value(v, at),
    }
}

/// An optional identifier.
pub(crate) fn id_v(v: Option<Value>, at: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => id_value(v, at).map(Some),
    }
}

/// A list of strings (or identifiers). A lone string is taken as a list of
/// one, since that is an obvious slip with one meaning.
pub(crate) fn list_v(v: Option<Value>, at: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| id_value(v, &format!("{at}[{i}]")))
            .collect(),
        Some(v @ (Value::String(_) | Value::Number(_))) => Ok(vec![id_value(v, at)?]),
        Some(other) => Err(format!(
            "{at}: expected an array of strings, found {}",
            kind(&other)
        )),
    }
}

/// An optional boolean; the strings `"true"`/`"false"` are accepted because
/// exports routinely quote them.
pub(crate) fn bool_v(v: Option<Value>, at: &str) -> Result<Option<bool>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) => parse_bool(&s, Spellings::XsBoolean)
            .map(Some)
            .ok_or_else(|| format!("{at}: expected true or false, found {s:?}")),
        Some(other) => Err(format!("{at}: expected a boolean, found {}", kind(&other))),
    }
}

/// An optional RFC 3339 timestamp, kept as written.
pub(crate) fn time_v(v: Option<Value>, at: &str) -> Result<Option<String>, String> {
    let v = str_v(v, at)?;
    if let Some(s) = &v {
        check_time(s).map_err(|e| format!("{at}: {e}"))?;
    }
    Ok(v)
}

/// Checks an RFC 3339 timestamp (`2019-10-03T09:12:00Z`, with offset or
/// fraction).
pub(crate) fn check_time(s: &str) -> Result<(), String> {
    tiaki_types::time::unix_seconds(s)
        .map(|_| ())
        .map_err(|e| format!("not an RFC 3339 timestamp ({e}): {s:?}"))
}

/// An optional IP address, kept as written. A string that is not an IPv4
/// or IPv6 address does not reject the line: an address is evidence, and a
/// bad one is a finding on its account (issue 6), so it is kept as written
/// and noted; attribution later ignores it with a finding of its own. A
/// value that is not a string at all is still a malformed line.
pub(crate) fn ip_v(
    v: Option<Value>,
    at: &str,
    notes: &mut Vec<String>,
) -> Result<Option<String>, String> {
    let v = str_v(v, at)?;
    if let Some(s) = &v
        && let Err(e) = check_ip(s)
    {
        notes.push(format!("{at}: {e} (kept as written, not used as evidence)"));
    }
    Ok(v)
}

pub(crate) fn check_ip(s: &str) -> Result<(), String> {
    s.parse::<IpAddr>()
        .map(|_| ())
        .map_err(|_| format!("not an IPv4 or IPv6 address: {s:?}"))
}

/// An optional ISO 3166-1 alpha-2 code: two ASCII letters, returned upper
/// case (`nz` is plainly `NZ`).
pub(crate) fn country_v(v: Option<Value>, at: &str) -> Result<Option<String>, String> {
    match str_v(v, at)? {
        None => Ok(None),
        Some(s) => country(&s).map(Some).map_err(|e| format!("{at}: {e}")),
    }
}

pub(crate) fn country(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(t.to_ascii_uppercase())
    } else {
        Err(format!("not an ISO 3166-1 alpha-2 country code: {s:?}"))
    }
}

/// A hex digest of `len` digits, returned lower case. Upper-case input is
/// accepted (VICS and NCMEC exports use it) and normalised in place, so the
/// common all-lower-case case costs one pass and no allocation.
pub(crate) fn hex_digest(mut s: String, len: usize, what: &str) -> Result<String, String> {
    if s.len() != len {
        return Err(format!(
            "not a {what} hash: expected {len} hex digits, found {} characters",
            s.chars().count()
        ));
    }
    let mut upper = false;
    for (pos, &b) in s.as_bytes().iter().enumerate() {
        match b {
            b'0'..=b'9' | b'a'..=b'f' => {}
            b'A'..=b'F' => upper = true,
            _ => {
                let c = s.get(pos..).and_then(|t| t.chars().next()).unwrap_or('?');
                return Err(format!(
                    "not a {what} hash: {c:?} at position {pos} is not a hex digit"
                ));
            }
        }
    }
    if upper {
        s.make_ascii_lowercase();
    }
    Ok(s)
}

/// One vPDQ frame `"hex,quality,timestamp"`, checked with the matcher's own
/// parser so that whatever is accepted here can be matched later.
pub(crate) fn vpdq_entry(s: &str) -> Result<String, String> {
    tiaki_hash::vpdq::format::parse_signal_entry(s, 0)?;
    Ok(s.trim().to_ascii_lowercase())
}

/// Any JSON value must be an object here.
pub(crate) fn object(v: Value, what: &str) -> Result<Obj, String> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "{what}: expected an object, found {}",
            kind(&other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert!(check_time("2019-10-03T09:12:00Z").is_ok());
        assert!(check_time("2019-10-03T09:12:00.123+13:00").is_ok());
        assert!(check_time("2019-10-03 09:12:00").is_err());
        assert!(check_time("2019-13-03T09:12:00Z").is_err());
        assert!(check_time("").is_err());
    }

    #[test]
    fn digests() {
        let h = |s: &str| hex_digest(s.to_owned(), 6, "x");
        assert_eq!(h("ABCDEF").unwrap(), "abcdef");
        assert!(h("abcdeg").unwrap_err().contains("position 5"));
        assert!(h("abc").is_err());
        assert!(h("ééé").is_err());
        assert!(h("abcdé").unwrap_err().contains("'é' at position 4"));
    }

    #[test]
    fn countries_and_ips() {
        assert_eq!(country("nz").unwrap(), "NZ");
        assert!(country("NZL").is_err());
        assert!(check_ip("2001:db8::1").is_ok());
        assert!(check_ip("203.0.113.300").is_err());
    }

    #[test]
    fn vpdq() {
        let h = "f".repeat(64);
        assert!(vpdq_entry(&format!("{h},100,0.000")).is_ok());
        assert!(vpdq_entry(&format!("{h},100")).is_err());
        assert!(vpdq_entry("zz,1,0").is_err());
    }
}
