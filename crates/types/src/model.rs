//! The report model that provider bundles and CyberTipline reports both map
//! to (`tiaki-intake` reads them), that the store keeps as JSON, and that
//! attribution, the referral build and the service read back: one type per
//! thing, from the bundle line to the package.
//!
//! Field names are those of spec/provider-report.md wherever the spec names
//! the field, so a record serialises back to (nearly) the line it came from.
//! Everything a reader does not understand is kept in `extra`, never dropped.
//! Timestamps are checked to be RFC 3339 ([`crate::time::unix_seconds`]) but
//! kept as the provider wrote them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A provider-report/1 bundle (spec/provider-report.md).
    ProviderReport,
    /// An NCMEC CyberTipline `<report>` XML document (spec/formats.md §2).
    CyberTip,
}

/// One report's header: who reported, under which id, about what.
///
/// `(provider_name, report_id)` identifies the report for idempotent ingest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportHeader {
    pub source_kind: SourceKind,
    pub provider_name: String,
    /// ISO 3166-1 alpha-2, as the provider declared it.
    pub provider_country: Option<String>,
    pub report_id: String,
    /// RFC 3339.
    pub created_at: Option<String>,
    pub incident_type: Option<String>,
    pub description: Option<String>,
    /// Unknown manifest fields (provider bundles), or the CyberTipline
    /// sections that have no place in the model (converted to JSON).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One account (user) of the provider's service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// The provider's own identifier, unique within the report.
    pub id: String,
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// RFC 3339.
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub declared_country: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<Login>,
    pub profile_url: Option<String>,
    pub estimated_location: Option<EstimatedLocation>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One IP address seen for an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Login {
    /// IPv4 or IPv6, as written (validated).
    pub ip: String,
    /// RFC 3339.
    pub at: Option<String>,
    pub possible_proxy: Option<bool>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// Where the provider estimates the account is (CyberTipline
/// `estimatedLocation`; provider bundles may send `estimated_location`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EstimatedLocation {
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub verified: Option<bool>,
    /// When the estimate was made, as written.
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One media item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub id: String,
    /// Path relative to the bundle (or to the CyberTipline folder); checked
    /// to exist inside it. Resolve with `resolve_file`.
    pub file: Option<String>,
    /// The uploading account's id.
    pub account: String,
    /// RFC 3339.
    pub uploaded_at: Option<String>,
    pub upload_ip: Option<String>,
    pub original_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<String>,
    pub group: Option<String>,
    /// Hashes the provider supplied (validated, lower-case hex).
    #[serde(default, skip_serializing_if = "ProvidedHashes::is_empty")]
    pub hashes: ProvidedHashes,
    /// Whether the provider viewed the file: carried into referrals as is.
    pub viewed_by_provider: Option<bool>,
    pub viewed_by_ncmec: Option<bool>,
    /// Tech Coalition class (`A1`, `A2`, `B1`, `B2`), as written.
    pub industry_classification: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// Provider-supplied hashes of one media item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvidedHashes {
    /// 32 lower-case hex digits.
    pub md5: Option<String>,
    /// 40 lower-case hex digits.
    pub sha1: Option<String>,
    /// 64 lower-case hex digits.
    pub sha256: Option<String>,
    /// PDQ: 64 lower-case hex digits.
    pub pdq: Option<String>,
    /// vPDQ frames, each `"hex,quality,timestamp"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vpdq: Vec<String>,
    /// Other hash kinds (e.g. `photodna`), kept unvalidated.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl ProvidedHashes {
    /// No hash of any kind.
    pub fn is_empty(&self) -> bool {
        self.md5.is_none()
            && self.sha1.is_none()
            && self.sha256.is_none()
            && self.pdq.is_none()
            && self.vpdq.is_empty()
            && self.extra.is_empty()
    }
}

/// One event (events.ndjson): `share`, `login`, `group_join`, or any other
/// type the provider sends (kept, with its fields in `extra`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The spec's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339.
    pub at: Option<String>,
    /// Acting account (`login`, `group_join`).
    pub account: Option<String>,
    /// Sharing account (`share`).
    pub from: Option<String>,
    /// Receiving accounts (`share`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    pub media: Option<String>,
    pub ip: Option<String>,
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// One identifier of an account, as a referral package lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// `email`, `phone`, `device`, `ip`, `profile_url`, `display_name`, …
    pub kind: String,
    pub value: String,
}

impl Account {
    /// The identifiers the account carries, in a fixed order: e-mails,
    /// phones, devices, display name, profile URL, login IPs; each (kind,
    /// value) once, empty values left out.
    pub fn identifiers(&self) -> Vec<Identifier> {
        let mut out: Vec<Identifier> = Vec::new();
        let mut push = |kind: &str, value: &str| {
            if !value.is_empty() && !out.iter().any(|i| i.kind == kind && i.value == value) {
                out.push(Identifier {
                    kind: kind.to_owned(),
                    value: value.to_owned(),
                });
            }
        };
        for (list, kind) in [
            (&self.emails, "email"),
            (&self.phones, "phone"),
            (&self.devices, "device"),
        ] {
            list.iter().for_each(|v| push(kind, v));
        }
        for (value, kind) in [
            (&self.display_name, "display_name"),
            (&self.profile_url, "profile_url"),
        ] {
            if let Some(v) = value {
                push(kind, v);
            }
        }
        for l in &self.logins {
            push("ip", &l.ip);
        }
        out
    }
}

/// What a stored media row keeps as JSON beside its columns
/// (`media.data`): everything the columns do not hold, and the provider's
/// hashes when a file is to be hashed (ours go in the columns; theirs are
/// kept for the comparison and never overwritten). Borrowed when written
/// (the intake writes two million of them), owned when read back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaData<'a> {
    #[serde(default, skip_serializing_if = "is_empty_list")]
    pub shared_with: std::borrow::Cow<'a, [String]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<std::borrow::Cow<'a, ProvidedHashes>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewed_by_ncmec: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_classification: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "is_empty_map")]
    pub extra: std::borrow::Cow<'a, Map<String, Value>>,
}

// serde's `skip_serializing_if` hands over the field itself, a `&Cow`.
#[allow(clippy::ptr_arg)]
fn is_empty_list(v: &std::borrow::Cow<'_, [String]>) -> bool {
    v.is_empty()
}

#[allow(clippy::ptr_arg)]
fn is_empty_map(v: &std::borrow::Cow<'_, Map<String, Value>>) -> bool {
    v.is_empty()
}

impl<'a> MediaData<'a> {
    /// The part of a media line the columns do not hold; `keep_hashes` when
    /// the file is still to be hashed.
    pub fn of(m: &'a Media, keep_hashes: bool) -> MediaData<'a> {
        use std::borrow::Cow;
        MediaData {
            shared_with: Cow::Borrowed(&m.shared_with),
            group: m.group.as_deref().map(Cow::Borrowed),
            hashes: (keep_hashes && !m.hashes.is_empty()).then_some(Cow::Borrowed(&m.hashes)),
            viewed_by_ncmec: m.viewed_by_ncmec,
            industry_classification: m.industry_classification.as_deref().map(Cow::Borrowed),
            extra: Cow::Borrowed(&m.extra),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_fixed_order() {
        let data: Account = serde_json::from_value(serde_json::json!({"id": "a1",
            "emails": ["a@x"], "phones": ["+64 1"], "profile_url": "u",
            "logins": [{"ip": "203.0.113.9"}, {"ip": "203.0.113.9"}]}))
        .unwrap();
        let kinds: Vec<String> = data.identifiers().into_iter().map(|i| i.kind).collect();
        assert_eq!(kinds, ["email", "phone", "profile_url", "ip"]);
    }

    #[test]
    fn media_data_round_trips_and_skips_what_is_empty() {
        let m = Media {
            id: "f-1".into(),
            account: "u-1".into(),
            group: Some("g".into()),
            industry_classification: Some("B2".into()),
            hashes: ProvidedHashes {
                md5: Some("0".repeat(32)),
                ..ProvidedHashes::default()
            },
            ..Media::default()
        };
        let text = serde_json::to_string(&MediaData::of(&m, false)).unwrap();
        assert_eq!(text, r#"{"group":"g","industry_classification":"B2"}"#);
        let with = serde_json::to_string(&MediaData::of(&m, true)).unwrap();
        let back: MediaData<'static> = serde_json::from_str(&with).unwrap();
        assert_eq!(back, MediaData::of(&m, true));
        assert_eq!(back.hashes.unwrap().md5, m.hashes.md5);
    }
}
