//! The neutral list-entry model every reader produces and every writer takes.
//!
//! One [`ListEntry`] is one known media item as a hash list describes it: its
//! hashes, its category under the list's scheme, its series and flags, and every
//! field we did not understand, kept verbatim in [`ListEntry::extra`] so that no
//! information is lost between import and export.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tiaki_hash::pdq::PdqHash;
use tiaki_hash::vpdq::VpdqFeature;
use tiaki_types::hex;

use crate::category::{CategoryClass, CategoryScheme};

/// A fixed-length binary digest (MD5, SHA-1, SHA-256) kept as raw bytes.
///
/// Raw bytes rather than strings: 16–32 bytes inline, no allocation per entry,
/// and case differences between sources (VICS writes upper-case MD5, most
/// other tools lower-case) disappear at parse time. Text form: lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HexDigest<const N: usize>(pub [u8; N]);

/// MD5 digest (16 bytes).
pub type Md5 = HexDigest<16>;
/// SHA-1 digest (20 bytes).
pub type Sha1 = HexDigest<20>;
/// SHA-256 digest (32 bytes).
pub type Sha256 = HexDigest<32>;

/// Why a string is not a digest of the expected length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("expected {expected} hex digits, got {got} characters")]
    Length { expected: usize, got: usize },
    #[error("not a hex digit: {0:?}")]
    Digit(char),
}

impl<const N: usize> HexDigest<N> {
    /// Parses `2 * N` hex digits of either case. Callers trim first.
    pub fn from_hex(s: &str) -> Result<Self, DigestError> {
        let mut out = [0u8; N];
        hex::decode_into(s.as_bytes(), &mut out).map_err(|e| match e {
            hex::HexError::Length { expected, .. } => DigestError::Length {
                expected,
                got: s.chars().count(),
            },
            hex::HexError::Digit { byte, .. } => DigestError::Digit(char::from(byte)),
        })?;
        Ok(HexDigest(out))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Upper-case hex, the VICS convention for `MD5`/`SHA1`.
    pub fn to_hex_upper(&self) -> String {
        hex::encode_upper(&self.0)
    }
}

impl<const N: usize> fmt::Display for HexDigest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> fmt::Debug for HexDigest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexDigest({})", self.to_hex())
    }
}

impl<const N: usize> FromStr for HexDigest<N> {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl<const N: usize> Serialize for HexDigest<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de, const N: usize> Deserialize<'de> for HexDigest<N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(s.trim()).map_err(serde::de::Error::custom)
    }
}

/// A category as the source list gave it.
///
/// Category numbers mean different things under different profiles (VICS US 1
/// is not VICS legacy-DHS 1), so the code is never interpreted without its
/// scheme. `raw_code` is kept exactly as imported so an export without a
/// mapping writes back what came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub scheme: CategoryScheme,
    pub raw_code: String,
    /// The scheme-independent meaning, where the scheme's table defines one.
    pub mapped: Option<CategoryClass>,
}

impl Category {
    /// A category with `mapped` looked up in the built-in scheme table.
    pub fn new(scheme: CategoryScheme, raw_code: impl Into<String>) -> Self {
        let raw_code = raw_code.into();
        let mapped = scheme.class_of(&raw_code);
        Category {
            scheme,
            raw_code,
            mapped,
        }
    }
}

/// A PDQ hash with the quality the producer reported, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PdqEntry {
    pub hash: PdqHash,
    /// 0..=100; absent when the list carried only the hash.
    pub quality: Option<u8>,
}

/// One known media item of a hash list.
///
/// Boolean flags are `Option`: in every source format an absent flag means
/// "not stated", which is not the same as `false`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListEntry {
    pub md5: Option<Md5>,
    pub sha1: Option<Sha1>,
    pub sha256: Option<Sha256>,
    pub pdq: Option<PdqEntry>,
    /// vPDQ frames of a video, in file order.
    pub vpdq: Option<Vec<VpdqFeature>>,
    /// PhotoDNA exactly as received (base64 of 144 bytes, or 288 hex digits).
    /// Kept, never computed: the algorithm is licensed separately.
    pub photodna: Option<String>,
    pub category: Option<Category>,
    pub series: Option<String>,
    pub victim_identified: Option<bool>,
    pub offender_identified: Option<bool>,
    pub distributed: Option<bool>,
    /// INTERPOL Baseline membership (ICSE CSV `Baseline`).
    pub baseline: Option<bool>,
    /// How many times the item was submitted (ICSE `Number of submissions`).
    pub submissions: Option<u64>,
    /// Size in bytes of the media file (VICS `MediaSize`).
    pub size: Option<u64>,
    /// Free-text note (VICS `Comments`, CSV `note`).
    pub note: Option<String>,
    /// The entry's identifier inside its source (VICS `MediaID`, ICSE
    /// `Image ID`, NCMEC entry `id`). Only unique within that source.
    pub source_id: Option<String>,
    /// The case a `#Cases` VICS document nested this media under
    /// (`CaseID`, else `CaseNumber`, when it came before the `Media` array).
    pub case_id: Option<String>,
    /// A deletion notice (NCMEC `deletedImage`/`deletedVideo`): the source
    /// withdrew entry `source_id`. Only yielded when asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Every field the reader did not map, verbatim, under its original name.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ListEntry {
    /// Whether the entry carries at least one hash that can be matched.
    pub fn has_hash(&self) -> bool {
        self.md5.is_some()
            || self.sha1.is_some()
            || self.sha256.is_some()
            || self.pdq.is_some()
            || self.vpdq.as_ref().is_some_and(|v| !v.is_empty())
            || self.photodna.is_some()
    }
}

/// The concrete file formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Project VIC VICS JSON, 1.x (`odata.metadata`) or 2.0 (`@odata.context`).
    Vics,
    /// INTERPOL ICSE hash-list export: semicolon CSV with the fixed header.
    IcseCsv,
    /// Any CSV (or semicolon/tab separated) file with a header naming columns.
    Csv,
    /// One PDQ hex a line, optionally `hex,quality[,…]`.
    PdqLines,
    /// vPDQ reference text, `frame,quality,hex,timestamp` a line, one video.
    VpdqText,
    /// vPDQ JSON: python-threatexchange signal arrays or the legacy object.
    VpdqJson,
    /// NCMEC Hash Sharing API v2 `/v2/entries` response XML.
    NcmecXml,
}

impl Format {
    /// All formats, for help texts.
    pub const ALL: [Format; 7] = [
        Format::Vics,
        Format::IcseCsv,
        Format::Csv,
        Format::PdqLines,
        Format::VpdqText,
        Format::VpdqJson,
        Format::NcmecXml,
    ];

    /// The short name accepted by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Vics => "vics",
            Format::IcseCsv => "icse",
            Format::Csv => "csv",
            Format::PdqLines => "pdq",
            Format::VpdqText => "vpdq",
            Format::VpdqJson => "vpdq-json",
            Format::NcmecXml => "ncmec",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a `--format` value is not a format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown list format {0:?} (expected one of vics, icse, csv, pdq, vpdq, vpdq-json, ncmec)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match norm.as_str() {
            "vics" | "vics-json" | "projectvic" | "project-vic" => Format::Vics,
            "icse" | "icse-csv" => Format::IcseCsv,
            "csv" => Format::Csv,
            "pdq" | "pdq-lines" | "pdq-text" => Format::PdqLines,
            "vpdq" | "vpdq-text" => Format::VpdqText,
            "vpdq-json" | "vpdq-signal" => Format::VpdqJson,
            "ncmec" | "ncmec-xml" | "hashsharing" | "ncmec-hashsharing" => Format::NcmecXml,
            _ => return Err(UnknownFormat(s.to_string())),
        })
    }
}

/// List-level provenance: what the document said about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListMeta {
    /// The name the caller gave the list (`tiaki lists import --name`).
    pub name: Option<String>,
    /// Where the list came from: the file name the caller passed, if any.
    pub source: Option<String>,
    pub format: Format,
    /// Format version where the document states one (VICS `1.2`, `2.0`).
    pub format_version: Option<String>,
    /// VICS document shape: `Media` (flat hash set) or `Cases`.
    pub document_kind: Option<String>,
    /// VICS 2.0 profile segment as written (`US`, `UK`, `Default`, `CUSTOM`).
    pub profile: Option<String>,
    /// The scheme the list's category codes were read under.
    pub category_scheme: Option<CategoryScheme>,
    /// VICS `#Cases`: each case's own fields (everything but `Media`).
    pub cases: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Document-level fields not mapped above (VICS `odata.metadata` URL,
    /// NCMEC `paging.next`, counts, `maxTimestamp`, …).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ListMeta {
    /// Empty provenance for `format`.
    pub fn new(format: Format) -> Self {
        ListMeta {
            name: None,
            source: None,
            format,
            format_version: None,
            document_kind: None,
            profile: None,
            category_scheme: None,
            cases: Vec::new(),
            extra: serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_hex_round_trip_and_case() {
        let d = Md5::from_hex("0CEF8332881A74AC9AE0E6F4C4323569").unwrap();
        assert_eq!(d.to_hex(), "0cef8332881a74ac9ae0e6f4c4323569");
        assert_eq!(d.to_hex_upper(), "0CEF8332881A74AC9AE0E6F4C4323569");
        assert!(Md5::from_hex("0cef").is_err());
        assert!(Sha1::from_hex(&"g".repeat(40)).is_err());
        // Multi-byte characters must not be mistaken for a valid length.
        assert!(Md5::from_hex(&"é".repeat(16)).is_err());
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert!("nope".parse::<Format>().is_err());
    }
}
