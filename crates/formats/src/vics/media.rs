//! One VICS media object → [`ListEntry`]: the field table and the builder
//! that fields stream into.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};
use tiaki_hash::pdq::PdqHash;
use tiaki_hash::vpdq::VpdqFeature;

use crate::category::CategoryScheme;
use crate::error::RecordReason;
use crate::fields::{self, json_bool, json_code, json_digest, json_kind, json_text, json_u64};
use crate::model::{Category, ListEntry, PdqEntry};

/// The media fields this reader maps. Names follow VICS; the last group are
/// the extension fields [`crate::export`] writes for what VICS has no slot for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum F {
    Md5,
    Sha1,
    Sha256,
    PhotoDna,
    Category,
    Size,
    MediaId,
    Series,
    Comments,
    Victim,
    Offender,
    Distributed,
    AltHashes,
    Pdq,
    PdqQuality,
    Vpdq,
    CategoryCode,
    CategoryScheme,
    Baseline,
    Submissions,
    SourceEntryId,
    SourceCaseId,
}

pub(crate) const FIELDS: &[(&str, F)] = &[
    ("MD5", F::Md5),
    ("SHA1", F::Sha1),
    ("Category", F::Category),
    ("MediaSize", F::Size),
    ("MediaID", F::MediaId),
    ("PhotoDNA", F::PhotoDna),
    ("Series", F::Series),
    ("Comments", F::Comments),
    ("VictimIdentified", F::Victim),
    ("OffenderIdentified", F::Offender),
    ("IsDistributed", F::Distributed),
    ("AlternativeHashes", F::AltHashes),
    ("SHA256", F::Sha256),
    ("PDQ", F::Pdq),
    ("PDQQuality", F::PdqQuality),
    ("VPDQ", F::Vpdq),
    ("CategoryCode", F::CategoryCode),
    ("CategoryScheme", F::CategoryScheme),
    ("Baseline", F::Baseline),
    ("Submissions", F::Submissions),
    ("SourceEntryID", F::SourceEntryId),
    ("SourceCaseID", F::SourceCaseId),
];

pub(crate) fn field_of(key: &str) -> Option<(&'static str, F)> {
    // Exact match first (the common case), then any case: some writers vary.
    FIELDS
        .iter()
        .find(|(n, _)| *n == key)
        .or_else(|| FIELDS.iter().find(|(n, _)| n.eq_ignore_ascii_case(key)))
        .copied()
}

pub(crate) type FieldError = (Option<String>, RecordReason);

/// Maps one VICS media object. Known fields whose value cannot be understood
/// (a `MediaSize` of "n/a") stay in `extra` verbatim; malformed hashes reject
/// the record.
/// Accumulates one media object's fields as they stream past, so no
/// intermediate map of the whole object is built.
///
/// Known fields are parsed at once; unknown ones (and known ones whose value
/// cannot be understood, like a `MediaSize` of "n/a") go to `extra`
/// verbatim. The first malformed hash is remembered and rejects the record
/// at [`MediaBuilder::finish`].
#[derive(Debug, Default)]
pub(crate) struct MediaBuilder {
    e: ListEntry,
    code: Option<String>,
    code_ext: Option<String>,
    scheme: Option<CategoryScheme>,
    media_id: Option<String>,
    pdq: Option<PdqHash>,
    pdq_quality: Option<u8>,
    alt: Option<Value>,
    error: Option<FieldError>,
    saw_md5: bool,
}

impl MediaBuilder {
    fn fail(&mut self, key: &str, reason: RecordReason) {
        if self.error.is_none() {
            self.error = Some((Some(key.to_string()), reason));
        }
    }

    fn quality(&mut self, key: &str, s: &str) {
        match fields::quality(key, s) {
            Ok(q) => self.pdq_quality = Some(q),
            Err(r) => self.fail(key, r),
        }
    }

    /// An unknown field: kept verbatim.
    pub(crate) fn other(&mut self, key: String, v: Value) {
        self.e.extra.insert(key, v);
    }

    /// A field, known or not.
    #[cfg(test)]
    pub(crate) fn field(&mut self, key: String, v: Value) {
        match field_of(&key) {
            Some((_, f)) => self.known(f, Cow::Owned(key), v),
            None => self.other(key, v),
        }
    }

    /// A field [`field_of`] recognised as `f`; `key` as written in the input.
    pub(crate) fn known(&mut self, f: F, key: Cow<'static, str>, v: Value) {
        if matches!(f, F::Md5) {
            self.saw_md5 = true;
        }
        // Each arm either takes the value or gives it back to keep verbatim.
        let keep: Option<Value> = match f {
            F::Md5 => {
                match json_digest(&key, &v) {
                    Ok(h) => self.e.md5 = h,
                    Err(r) => self.fail(&key, r),
                }
                None
            }
            F::Sha1 => {
                match json_digest(&key, &v) {
                    Ok(h) => self.e.sha1 = h,
                    Err(r) => self.fail(&key, r),
                }
                None
            }
            F::Sha256 => {
                match json_digest(&key, &v) {
                    Ok(h) => self.e.sha256 = h,
                    Err(r) => self.fail(&key, r),
                }
                None
            }
            F::Pdq => {
                match &v {
                    Value::Null => self.pdq = None,
                    Value::String(s) => match fields::pdq(&key, s) {
                        Ok(h) => self.pdq = h,
                        Err(r) => self.fail(&key, r),
                    },
                    other => {
                        let r = RecordReason::BadPdq {
                            field: key.to_string(),
                            reason: format!("found {}", json_kind(other)),
                        };
                        self.fail(&key, r);
                    }
                }
                None
            }
            F::PdqQuality => match &v {
                Value::Null => None,
                Value::Number(n) => {
                    self.quality(&key, &n.to_string());
                    None
                }
                Value::String(s) => {
                    self.quality(&key, s);
                    None
                }
                _ => Some(v),
            },
            F::Vpdq => {
                match json_vpdq(&key, &v) {
                    Ok(f) => self.e.vpdq = f,
                    Err(r) => self.fail(&key, r),
                }
                None
            }
            F::PhotoDna => match json_text(&v) {
                Ok(t) => {
                    self.e.photodna = t.map(|s| s.trim().to_string());
                    None
                }
                Err(()) => Some(v),
            },
            F::Category => match json_code(&v) {
                Ok(c) => {
                    self.code = c;
                    None
                }
                // RECON writes a source label object here; keep it.
                Err(()) => Some(v),
            },
            F::CategoryCode => match json_code(&v) {
                Ok(c) => {
                    self.code_ext = c;
                    None
                }
                Err(()) => Some(v),
            },
            F::CategoryScheme => match v.as_str().and_then(|s| s.parse::<CategoryScheme>().ok()) {
                Some(s) => {
                    self.scheme = Some(s);
                    None
                }
                None => Some(v),
            },
            F::Size => take(json_u64(&v), &mut self.e.size, v),
            F::Submissions => take(json_u64(&v), &mut self.e.submissions, v),
            F::Victim => take(json_bool(&v), &mut self.e.victim_identified, v),
            F::Offender => take(json_bool(&v), &mut self.e.offender_identified, v),
            F::Distributed => take(json_bool(&v), &mut self.e.distributed, v),
            F::Baseline => take(json_bool(&v), &mut self.e.baseline, v),
            F::Series => match &v {
                Value::String(_) | Value::Null => take(json_text(&v), &mut self.e.series, v),
                // Some writers put an object or list here: keep it whole.
                _ => Some(v),
            },
            F::Comments => match &v {
                Value::String(_) | Value::Null => take(json_text(&v), &mut self.e.note, v),
                _ => Some(v),
            },
            F::MediaId => {
                if self.media_id.is_none() {
                    self.media_id = json_text(&v).ok().flatten();
                }
                None
            }
            F::SourceEntryId => match json_text(&v) {
                Ok(t) => {
                    // Our own exports renumber MediaID; this is the original.
                    if t.is_some() {
                        self.e.source_id = t;
                    }
                    None
                }
                Err(()) => Some(v),
            },
            F::SourceCaseId => match json_text(&v) {
                Ok(t) => {
                    if self.e.case_id.is_none() {
                        self.e.case_id = t;
                    }
                    None
                }
                Err(()) => Some(v),
            },
            F::AltHashes => {
                // Mined for hashes after the loop, and kept: it may hold
                // kinds we do not model (EDK).
                self.alt = Some(v.clone());
                Some(v)
            }
        };
        if let Some(v) = keep {
            self.e.extra.insert(key.into_owned(), v);
        }
    }

    /// The object's fields that are not media fields (for a case object).
    pub(crate) fn into_extra(self) -> Map<String, Value> {
        self.e.extra
    }

    /// Whether this looks like a case rather than media: a `CaseID` and no `MD5`.
    pub(crate) fn looks_like_case(&self) -> bool {
        self.e.extra.contains_key("CaseID") && !self.saw_md5
    }

    /// The entry, or why the record is rejected.
    pub(crate) fn finish(
        self,
        doc_scheme: CategoryScheme,
        case_id: Option<String>,
    ) -> Result<ListEntry, FieldError> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let mut e = self.e;
        let mut pdq = self.pdq;
        if e.case_id.is_none() {
            e.case_id = case_id;
        }
        if e.source_id.is_none() {
            e.source_id = self.media_id;
        }
        if let Some(Value::Array(items)) = self.alt {
            fill_from_alternative_hashes(&mut e, &mut pdq, &items);
        }
        if let Some(hash) = pdq {
            e.pdq = Some(PdqEntry {
                hash,
                quality: self.pdq_quality,
            });
        } else if let Some(q) = self.pdq_quality {
            e.extra.insert("PDQQuality".into(), Value::from(q));
        }
        if let Some(c) = self.code.or(self.code_ext) {
            e.category = Some(Category::new(self.scheme.unwrap_or(doc_scheme), c));
        }
        if !e.has_hash() {
            return Err((None, RecordReason::NoHash));
        }
        Ok(e)
    }
}

/// Maps one whole VICS media object (see [`MediaBuilder`]).
#[cfg(test)]
pub(crate) fn media_to_entry(
    obj: Map<String, Value>,
    doc_scheme: CategoryScheme,
    case_id: Option<String>,
) -> Result<ListEntry, FieldError> {
    let mut b = MediaBuilder::default();
    for (key, v) in obj {
        b.field(key, v);
    }
    b.finish(doc_scheme, case_id)
}

/// Stores a leniently parsed value, or hands the original back to keep.
fn take<T>(parsed: Result<Option<T>, ()>, slot: &mut Option<T>, original: Value) -> Option<Value> {
    match parsed {
        Ok(v) => {
            *slot = v;
            None
        }
        Err(()) => Some(original),
    }
}

/// VICS 1.x kept extra hashes as `AlternativeHashes: [{HashName, HashValue}]`.
/// Only fills what the top-level fields left empty; unparsable values are
/// ignored here because the array itself is kept verbatim.
fn fill_from_alternative_hashes(e: &mut ListEntry, pdq: &mut Option<PdqHash>, items: &[Value]) {
    for item in items {
        let (Some(name), Some(value)) = (
            item.get("HashName").and_then(Value::as_str),
            item.get("HashValue").and_then(Value::as_str),
        ) else {
            continue;
        };
        let name: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_uppercase();
        match name.as_str() {
            "MD5" if e.md5.is_none() => e.md5 = fields::digest("HashValue", value).ok().flatten(),
            "SHA1" if e.sha1.is_none() => {
                e.sha1 = fields::digest("HashValue", value).ok().flatten()
            }
            "SHA256" if e.sha256.is_none() => {
                e.sha256 = fields::digest("HashValue", value).ok().flatten()
            }
            "PDQ" if pdq.is_none() => *pdq = fields::pdq("HashValue", value).ok().flatten(),
            "PHOTODNA" if e.photodna.is_none() && !value.trim().is_empty() => {
                e.photodna = Some(value.trim().to_string());
            }
            _ => {}
        }
    }
}

/// `VPDQ`: py-tx signal strings `"hex,quality,timestamp"`, or objects as
/// `tiaki hash` prints them (`{"frame","timestamp","quality","pdq"}`).
fn json_vpdq(key: &str, v: &Value) -> Result<Option<Vec<VpdqFeature>>, RecordReason> {
    let bad = |i: usize, reason: String| RecordReason::BadValue {
        field: format!("{key}[{i}]"),
        reason,
    };
    let items = match v {
        Value::Null => return Ok(None),
        Value::Array(a) => a,
        other => {
            return Err(RecordReason::BadValue {
                field: key.to_string(),
                reason: format!("expected an array of frames, found {}", json_kind(other)),
            });
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = match item {
            Value::String(s) => {
                tiaki_hash::vpdq::format::parse_signal_entry(s, i as u64).map_err(|r| bad(i, r))?
            }
            Value::Object(_) => {
                VpdqFeature::deserialize(item).map_err(|r| bad(i, r.to_string()))?
            }
            other => {
                return Err(bad(
                    i,
                    format!("expected a frame, found {}", json_kind(other)),
                ));
            }
        };
        if f.quality > 100 {
            return Err(bad(i, format!("quality {} is over 100", f.quality)));
        }
        out.push(f);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_media_fields() {
        let obj: Map<String, Value> = serde_json::from_str(
            r#"{"MD5":"0CEF8332881A74AC9AE0E6F4C4323569","MediaSize":"n/a","VictimIdentified":"true",
                "Category":{"label":"x"},"odata.id":"Media(\"x\")","Series":""}"#,
        )
        .unwrap();
        let e = media_to_entry(obj, CategoryScheme::VicsUs, None).unwrap();
        assert_eq!(e.md5.unwrap().to_hex(), "0cef8332881a74ac9ae0e6f4c4323569");
        assert_eq!(e.size, None);
        assert_eq!(e.extra["MediaSize"], "n/a");
        assert_eq!(e.victim_identified, Some(true));
        assert!(e.category.is_none());
        assert!(e.extra.contains_key("Category"));
        assert!(e.extra.contains_key("odata.id"));
        assert_eq!(e.series, None);
    }

    #[test]
    fn bad_hash_rejects_with_field() {
        let obj: Map<String, Value> = serde_json::from_str(r#"{"MD5":"xyz"}"#).unwrap();
        let (field, reason) = media_to_entry(obj, CategoryScheme::VicsUs, None).unwrap_err();
        assert_eq!(field.as_deref(), Some("MD5"));
        assert!(matches!(reason, RecordReason::BadDigest { .. }));
        let obj: Map<String, Value> = serde_json::from_str(r#"{"MediaID":1}"#).unwrap();
        assert_eq!(
            media_to_entry(obj, CategoryScheme::VicsUs, None)
                .unwrap_err()
                .1,
            RecordReason::NoHash
        );
    }

    #[test]
    fn alternative_hashes_fill_gaps() {
        let obj: Map<String, Value> = serde_json::from_str(&format!(
            r#"{{"MD5":"{}","AlternativeHashes":[{{"HashName":"SHA256","HashValue":"{}"}},{{"HashName":"EDK","HashValue":"zz"}}]}}"#,
            "a".repeat(32),
            "b".repeat(64)
        ))
        .unwrap();
        let e = media_to_entry(obj, CategoryScheme::Vics1, None).unwrap();
        assert_eq!(e.sha256.unwrap().to_hex(), "b".repeat(64));
        assert!(e.extra.contains_key("AlternativeHashes"));
    }
}
