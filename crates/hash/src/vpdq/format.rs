//! The three vPDQ serialisations.
//!
//! 1. Reference text (`vpdqio.cpp`, `vpdq/sample-hashes`): one line a frame,
//!    `frame,quality,hex,timestamp` with the timestamp as `%.3f`.
//! 2. python-threatexchange signal (`vpdq_util.vpdq_to_json`): a JSON array of
//!    `"hex,quality,timestamp"` strings, the timestamp formatted with Python's
//!    `{t:.3}` (three significant digits). No frame number.
//! 3. Legacy py-tx object (`OLD_json_to_vpdq`, read only): a JSON object keyed
//!    by frame number, each value `{"quality", "hash", "timestamp"}`, where
//!    `hash` is the hex string or the Cython struct `{"w": [16 words]}`.

use std::fmt::Write as _;

use super::VpdqFeature;
use crate::pdq::PdqHash;

/// Which serialisation a text was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VpdqFormat {
    ReferenceText,
    Signal,
    Legacy,
}

/// Why a text is not a vPDQ hash list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VpdqFormatError {
    /// Reference text: `line` is 1-based.
    #[error("vPDQ text line {line}: {reason}")]
    Line { line: usize, reason: String },
    /// Signal or legacy JSON: `entry` is the array index or object key.
    #[error("vPDQ entry {entry}: {reason}")]
    Entry { entry: String, reason: String },
    #[error("vPDQ JSON: {0}")]
    Json(String),
    /// The reference loader rejects a file with no lines.
    #[error("empty vPDQ hash list")]
    Empty,
}

// ---------------------------------------------------------------------------
// Reference text

/// Writes the reference text form, one `\n`-terminated line a feature,
/// exactly as `outputVPDQFeatureToFile` does.
pub fn write_reference_text(features: &[VpdqFeature]) -> String {
    let mut out = String::with_capacity(features.len() * 80);
    for f in features {
        // `{:.3}` rounds the exact binary value half-to-even like glibc's
        // `%.3f` (0.0625 → "0.062").
        let _ = writeln!(
            out,
            "{},{},{},{:.3}",
            f.frame,
            f.quality,
            f.hash.to_hex(),
            f.timestamp
        );
    }
    out
}

/// Reads the reference text form (`loadHashesFromFileOrDie`): fields split on
/// ',', at least 4, extra fields ignored. Blank lines and `\r` are tolerated;
/// a text with no feature at all is [`VpdqFormatError::Empty`], as upstream.
pub fn read_reference_text(text: &str) -> Result<Vec<VpdqFeature>, VpdqFormatError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| VpdqFormatError::Line {
            line: i + 1,
            reason,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [frame, quality, hex, ts, ..] = fields.as_slice() else {
            return Err(bad(format!(
                "expected frame,quality,hash,timestamp, got {} fields",
                fields.len()
            )));
        };
        let frame = frame
            .parse::<u64>()
            .map_err(|e| bad(format!("frame number {frame:?}: {e}")))?;
        let quality = parse_quality(quality).map_err(bad)?;
        let hash = PdqHash::from_hex(hex).map_err(|e| bad(e.to_string()))?;
        let timestamp = parse_timestamp(ts).map_err(bad)?;
        out.push(VpdqFeature {
            frame,
            quality,
            hash,
            timestamp,
        });
    }
    if out.is_empty() {
        return Err(VpdqFormatError::Empty);
    }
    Ok(out)
}

fn parse_quality(s: &str) -> Result<u8, String> {
    match s.parse::<i64>() {
        Ok(q @ 0..=100) => Ok(q as u8),
        Ok(q) => Err(format!("quality {q} is outside 0..=100")),
        Err(e) => Err(format!("quality {s:?}: {e}")),
    }
}

fn parse_timestamp(s: &str) -> Result<f64, String> {
    let t = s
        .parse::<f64>()
        .map_err(|e| format!("timestamp {s:?}: {e}"))?;
    // py-tx rejects negative timestamps; NaN and infinities cannot come from
    // a decoder either, and would poison any arithmetic downstream.
    if !t.is_finite() || t < 0.0 {
        return Err(format!(
            "timestamp {s:?} is not a finite, non-negative number"
        ));
    }
    Ok(t)
}

// ---------------------------------------------------------------------------
// python-threatexchange signal form

/// One feature as py-tx's `VpdqCompactFeature.__str__`: `hex,quality,{t:.3}`.
pub fn signal_entry(f: &VpdqFeature) -> String {
    format!(
        "{},{},{}",
        f.hash.to_hex(),
        f.quality,
        python_format_general(f.timestamp, 3)
    )
}

/// Writes py-tx's signal string: `json.dumps([...])`, so entries are
/// separated by `", "` and the result is byte-identical to `vpdq_to_json`.
pub fn write_signal(features: &[VpdqFeature]) -> String {
    let mut out = String::with_capacity(2 + features.len() * 80);
    out.push('[');
    for (i, f) in features.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        // Entries hold only hex digits, digits, ',', '.', 'e', '+', '-':
        // nothing that JSON would escape.
        out.push('"');
        out.push_str(&signal_entry(f));
        out.push('"');
    }
    out.push(']');
    out
}

/// Parses one `"hex,quality,timestamp"` entry (`VpdqCompactFeature.from_str`);
/// `frame` is supplied by the caller because the form has none.
pub fn parse_signal_entry(entry: &str, frame: u64) -> Result<VpdqFeature, String> {
    let parts: Vec<&str> = entry.split(',').collect();
    let [hex, quality, ts] = parts.as_slice() else {
        return Err(format!(
            "expected \"hex,quality,timestamp\", got {} fields",
            parts.len()
        ));
    };
    let hash = PdqHash::from_hex(hex.trim()).map_err(|e| e.to_string())?;
    let quality = parse_quality(quality.trim())?;
    let timestamp = parse_timestamp(ts.trim())?;
    Ok(VpdqFeature {
        frame,
        quality,
        hash,
        timestamp,
    })
}

/// Reads py-tx's signal string (`json_to_vpdq`). An empty or blank string is
/// an empty list, as `json.loads(json_str or "[]")`. Frame numbers are the
/// entries' positions, 0-based.
pub fn read_signal(text: &str) -> Result<Vec<VpdqFeature>, VpdqFormatError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let entries: Vec<String> =
        serde_json::from_str(text).map_err(|e| VpdqFormatError::Json(e.to_string()))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            parse_signal_entry(s, i as u64).map_err(|reason| VpdqFormatError::Entry {
                entry: i.to_string(),
                reason,
            })
        })
        .collect()
}

/// Reads a list of signal entries already taken out of a JSON document (for
/// example the `vpdq` array of a provider report).
pub fn read_signal_entries<S: AsRef<str>>(
    entries: &[S],
) -> Result<Vec<VpdqFeature>, VpdqFormatError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            parse_signal_entry(s.as_ref(), i as u64).map_err(|reason| VpdqFormatError::Entry {
                entry: i.to_string(),
                reason,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Legacy object form

/// Reads the legacy py-tx JSON object `{"<frame>": {"quality", "hash",
/// "timestamp"}, …}`. `hash` may be a hex string or `{"w": [16 words]}` (the
/// Cython `Hash256` struct, word 15 printed first). Timestamps are rounded to
/// 3 decimals as `OLD_json_to_vpdq` does. The result is sorted by frame.
pub fn read_legacy(text: &str) -> Result<Vec<VpdqFeature>, VpdqFormatError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let obj: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| VpdqFormatError::Json(e.to_string()))?;
    let mut out = Vec::with_capacity(obj.len());
    for (key, value) in &obj {
        let bad = |reason: String| VpdqFormatError::Entry {
            entry: key.clone(),
            reason,
        };
        let frame = key
            .trim()
            .parse::<u64>()
            .map_err(|e| bad(format!("frame number: {e}")))?;
        let quality = match value.get("quality").and_then(serde_json::Value::as_i64) {
            Some(q @ 0..=100) => q as u8,
            _ => return Err(bad("quality is not an integer in 0..=100".into())),
        };
        let hash = match value.get("hash") {
            Some(serde_json::Value::String(s)) => {
                PdqHash::from_hex(s.trim()).map_err(|e| bad(e.to_string()))?
            }
            Some(serde_json::Value::Object(o)) => hash_from_words(o.get("w")).map_err(bad)?,
            _ => return Err(bad("hash is neither a hex string nor {\"w\": [...]}".into())),
        };
        let timestamp = match value.get("timestamp").and_then(serde_json::Value::as_f64) {
            Some(t) if t.is_finite() && t >= 0.0 => round3(t),
            _ => return Err(bad("timestamp is not a finite, non-negative number".into())),
        };
        out.push(VpdqFeature {
            frame,
            quality,
            hash,
            timestamp,
        });
    }
    out.sort_by_key(|f| f.frame);
    Ok(out)
}

fn hash_from_words(w: Option<&serde_json::Value>) -> Result<PdqHash, String> {
    let words = w
        .and_then(serde_json::Value::as_array)
        .ok_or("hash.w is not an array")?;
    if words.len() != 16 {
        return Err(format!("hash.w has {} words, not 16", words.len()));
    }
    let mut hash = PdqHash::ZERO;
    for (i, v) in words.iter().enumerate() {
        let word = v
            .as_u64()
            .and_then(|x| u16::try_from(x).ok())
            .ok_or_else(|| format!("hash.w[{i}] is not a 16-bit word"))?;
        // Word i holds bits 16i..16i+16 (`Hash256::w`).
        hash.0[i / 4] |= u64::from(word) << (16 * (i % 4));
    }
    Ok(hash)
}

/// Python's `round(t, 3)`: correctly rounded, ties to even.
fn round3(t: f64) -> f64 {
    format!("{t:.3}").parse().unwrap_or(t)
}

// ---------------------------------------------------------------------------
// Detection

/// Reads any of the three forms: `[` starts a signal, `{` a legacy object,
/// anything else is reference text.
pub fn read_any(text: &str) -> Result<(Vec<VpdqFeature>, VpdqFormat), VpdqFormatError> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    match t.as_bytes().first() {
        Some(b'[') => Ok((read_signal(t)?, VpdqFormat::Signal)),
        Some(b'{') => Ok((read_legacy(t)?, VpdqFormat::Legacy)),
        _ => Ok((read_reference_text(t)?, VpdqFormat::ReferenceText)),
    }
}

// ---------------------------------------------------------------------------
// Python's float formatting

/// `format(x, f".{precision}")`: Python's general format with the "no type"
/// rules — `precision` significant digits, trailing zeros dropped, at least
/// one digit after the point in fixed notation, and scientific notation when
/// the decimal exponent is below -4 or at least `precision - 1`.
///
/// Examples with precision 3: 18.767 → "18.8", 123.4 → "1.23e+02",
/// 0.0 → "0.0", 1/30 → "0.0333", 1e-5 → "1e-05".
pub fn python_format_general(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let p = precision.max(1);
    // Rust's `{:.N e}` is correctly rounded (ties to even on the exact binary
    // value), as is Python's dtoa in mode 2, so the digits agree.
    let sci = format!("{:.*e}", p - 1, x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let p = p as i32;
    if exp < -4 || exp >= p - 1 {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{dot}e{esign}{:02}", exp.unsigned_abs())
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        let (int_part, frac) = if digits.len() > int_len {
            (digits[..int_len].to_string(), digits[int_len..].to_string())
        } else {
            (format!("{digits:0<int_len$}"), String::new())
        };
        let frac = if frac.is_empty() {
            "0".to_string()
        } else {
            frac
        };
        format!("{sign}{int_part}.{frac}")
    } else {
        let zeros = "0".repeat((-exp - 1) as usize);
        format!("{sign}0.{zeros}{digits}")
    }
}
