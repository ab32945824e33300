//! What goes into one package: plain data the caller gathers from its store.
//!
//! Nothing here reads a clock or a database. `created_at` is passed in, so
//! rebuilding a package from the same records gives the same archive.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tiaki_formats::model::{Category, Md5, Sha1, Sha256};
use tiaki_hash::pdq::PdqHash;

use crate::agency::is_country_code;

/// Everything one country's package says.
#[derive(Debug, Clone, Default)]
pub struct PackageContent {
    /// Also the file name: `referral-<ID>.tar.age`. 1–64 characters of
    /// `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
    pub referral_id: String,
    /// The receiving country, ISO 3166-1 alpha-2.
    pub country: String,
    /// The receiving agency's name.
    pub agency_name: String,
    /// Who issues the referral (the operating team's name).
    pub issuer: String,
    /// RFC 3339 time of the referral, e.g. `2021-03-01T00:00:00Z`. Injected,
    /// never read from the clock; also the tar entries' mtime.
    pub created_at: String,
    /// Accounts in the order they are written.
    pub accounts: Vec<PackageAccount>,
    /// Media the accounts uploaded or shared, in the order they are written.
    pub media: Vec<PackageMedia>,
    /// Extra figures the summary shows verbatim under "Figures" (e.g. the
    /// reports the accounts came from, the operation name).
    pub figures: Vec<Figure>,
}

/// One attributed account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageAccount {
    /// The provider report the account came from.
    pub report_id: String,
    /// The provider's own account id (unique within `report_id`).
    pub id: String,
    pub username: Option<String>,
    /// Emails, phones, device ids, profile URLs… as the provider gave them.
    pub identifiers: Vec<Identifier>,
    /// The person the account was linked to, if any.
    pub person: Option<String>,
    /// The country the account was attributed to (normally the package's).
    pub country: String,
    /// Attribution confidence, 0 to 1.
    pub confidence: f64,
    /// The evidence behind the attribution.
    pub evidence: Vec<Evidence>,
}

/// One identifier of an account (`tiaki_types::model::Identifier`: the
/// account model says which identifiers it has).
pub use tiaki_types::model::Identifier;

/// One piece of attribution evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `ip_geolocation`, `phone_number`, `email_domain`, `declared_country`, …
    pub kind: String,
    /// The observed value (an IP address, a phone number, a domain).
    pub value: String,
    /// The country this piece points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Its weight in the attribution, where the model has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Free text: the database that answered, the time of the login, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How a media item relates to known material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaStatus {
    /// Matched an entry of a known hash list.
    Known,
    /// Flagged as new material: no list match, and triage marked it for
    /// review (victim identification).
    New,
    /// Neither matched nor flagged.
    #[default]
    Unmatched,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::Known => "known",
            MediaStatus::New => "new",
            MediaStatus::Unmatched => "unmatched",
        }
    }
}

/// One match of a media item against a hash list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaMatch {
    /// The list's name.
    pub list: String,
    /// The entry's id inside the list.
    pub entry: String,
    /// Which hash matched: `md5`, `sha1`, `sha256`, `pdq`, `vpdq`.
    pub kind: String,
    /// Hamming distance for perceptual matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<u32>,
}

/// One media item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackageMedia {
    /// The provider's media id.
    pub id: Option<String>,
    pub md5: Option<Md5>,
    pub sha1: Option<Sha1>,
    /// Required when `file` is given: it names the file inside the package.
    pub sha256: Option<Sha256>,
    pub pdq: Option<PdqHash>,
    pub pdq_quality: Option<u8>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Category with its scheme, where a list or reviewer gave one.
    pub category: Option<Category>,
    pub status: MediaStatus,
    /// Known series (victim-identification series) the media belongs to.
    pub series: Option<String>,
    pub matches: Vec<MediaMatch>,
    /// The provider's own flag, carried unchanged; `None` = not stated.
    pub viewed_by_provider: Option<bool>,
    /// NCMEC's flag from a CyberTipline report, carried unchanged.
    pub viewed_by_ncmec: Option<bool>,
    /// The provider's Tech Coalition class (`A1` … `B2`), as it wrote it.
    pub industry_classification: Option<String>,
    /// The provider's ids of the accounts it says the media was shared with.
    pub shared_with: Vec<String>,
    /// Indices into [`PackageContent::accounts`] of the accounts that
    /// uploaded or shared it.
    pub accounts: Vec<usize>,
    /// The file name the provider gave.
    pub original_name: Option<String>,
    /// The media file, copied in with `include_media`.
    pub file: Option<PathBuf>,
}

/// A labelled figure for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub label: String,
    pub value: String,
}

/// Why the content cannot be packaged. Indices are 0-based positions in
/// [`PackageContent::accounts`] / [`PackageContent::media`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContentError {
    #[error(
        "referral_id {0:?} must be 1-64 characters of A-Z a-z 0-9 . _ - and not start with . or -"
    )]
    ReferralId(String),
    #[error("{field} {value:?} is not a two-letter upper-case country code")]
    Country { field: String, value: String },
    #[error("created_at {0:?} is not an RFC 3339 time (e.g. 2021-03-01T00:00:00Z)")]
    CreatedAt(String),
    #[error("{field} must be one line of text, got {value:?}")]
    NotOneLine { field: &'static str, value: String },
    #[error("account {index}: confidence {value} is not between 0 and 1")]
    Confidence { index: usize, value: f64 },
    #[error("account {index}: report {report_id:?} account {id:?} is already account {first}")]
    DuplicateAccount {
        index: usize,
        first: usize,
        report_id: String,
        id: String,
    },
    #[error("account {index}: {field} is empty")]
    EmptyAccountField { index: usize, field: &'static str },
    #[error("media {index}: account index {account} is out of range ({len} accounts)")]
    AccountIndex {
        index: usize,
        account: usize,
        len: usize,
    },
    #[error("media {index}: has a file but no sha256 to name it by")]
    FileWithoutSha256 { index: usize },
}

/// Whether `s` is usable as a referral id (it becomes a file name).
pub fn is_valid_referral_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && !s.starts_with(['.', '-'])
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl PackageContent {
    /// Checks everything that would otherwise make a broken or misleading
    /// package. Called by the builder; callers may call it earlier.
    pub fn validate(&self) -> Result<(), ContentError> {
        if !is_valid_referral_id(&self.referral_id) {
            return Err(ContentError::ReferralId(self.referral_id.clone()));
        }
        if !is_country_code(&self.country) {
            return Err(ContentError::Country {
                field: "country".into(),
                value: self.country.clone(),
            });
        }
        if tiaki_types::time::unix_seconds(&self.created_at).is_err() {
            return Err(ContentError::CreatedAt(self.created_at.clone()));
        }
        // These end up in the signature's trusted comment or in headers.
        for (field, value) in [("agency_name", &self.agency_name), ("issuer", &self.issuer)] {
            if value.contains(['\n', '\r']) {
                return Err(ContentError::NotOneLine {
                    field,
                    value: value.clone(),
                });
            }
        }
        let mut seen: std::collections::HashMap<(&str, &str), usize> =
            std::collections::HashMap::with_capacity(self.accounts.len());
        for (index, a) in self.accounts.iter().enumerate() {
            if a.report_id.is_empty() {
                return Err(ContentError::EmptyAccountField {
                    index,
                    field: "report_id",
                });
            }
            if a.id.is_empty() {
                return Err(ContentError::EmptyAccountField { index, field: "id" });
            }
            if !is_country_code(&a.country) {
                return Err(ContentError::Country {
                    field: format!("account {index}: country"),
                    value: a.country.clone(),
                });
            }
            if !(0.0..=1.0).contains(&a.confidence) {
                return Err(ContentError::Confidence {
                    index,
                    value: a.confidence,
                });
            }
            if let Some(&first) = seen.get(&(a.report_id.as_str(), a.id.as_str())) {
                return Err(ContentError::DuplicateAccount {
                    index,
                    first,
                    report_id: a.report_id.clone(),
                    id: a.id.clone(),
                });
            }
            seen.insert((a.report_id.as_str(), a.id.as_str()), index);
        }
        for (index, m) in self.media.iter().enumerate() {
            if let Some(&account) = m.accounts.iter().find(|&&i| i >= self.accounts.len()) {
                return Err(ContentError::AccountIndex {
                    index,
                    account,
                    len: self.accounts.len(),
                });
            }
            if m.file.is_some() && m.sha256.is_none() {
                return Err(ContentError::FileWithoutSha256 { index });
            }
        }
        Ok(())
    }

    /// Distinct linked persons, in first-seen order.
    pub fn persons(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.accounts
            .iter()
            .filter_map(|a| a.person.as_deref())
            .filter(|p| seen.insert(*p))
            .collect()
    }
}
