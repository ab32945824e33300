//! What linking and attribution say about an account or a person: its
//! country with a confidence, the runner-up, every piece of evidence, and the
//! findings of values that could not be used. Computed by `tiaki-attrib`,
//! stored as JSON with the account, read back by the referral build, the CLI
//! and the service through these same types (so a renamed field fails to
//! compile instead of silently emptying a package).

use serde::{Deserialize, Serialize};

use crate::country::Country;
use crate::time::UnixTime;

/// A value that could not be used, and why. Recorded on the account, never an error.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Where the value came from, e.g. `emails[1]` or `logins[3].ip` (the first place, when
    /// `count` > 1).
    pub field: String,
    /// The value as given.
    pub value: String,
    /// Why it was not used.
    pub reason: String,
    /// How many times this value was unusable for this reason: 2,000 uploads from one
    /// documentation address are one finding, not 2,000 (absent in JSON when 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Finding {
    pub fn new(field: impl Into<String>, value: &str, reason: impl Into<String>) -> Self {
        Finding {
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
            count: 1,
        }
    }

    /// Adds a finding to `list`, or counts it on the earlier one with the same value and
    /// reason. `field` is only built when the finding is new.
    pub fn record(
        list: &mut Vec<Finding>,
        field: impl FnOnce() -> String,
        value: &str,
        reason: &str,
    ) {
        match list
            .iter_mut()
            .find(|f| f.value == value && f.reason == reason)
        {
            Some(f) => f.count = f.count.saturating_add(1),
            None => list.push(Finding::new(field(), value, reason)),
        }
    }

    /// Like [`Finding::record`], but one finding per reason among the fields starting with
    /// `group`, whatever the value: for problems that repeat across many values of one kind
    /// (2,000 uploads each from a different documentation address), where each further value
    /// says nothing new. `field` and `value` keep the first; `count` says how many.
    pub fn record_grouped(
        list: &mut Vec<Finding>,
        group: &str,
        field: impl FnOnce() -> String,
        value: &str,
        reason: &str,
    ) {
        match list
            .iter_mut()
            .find(|f| f.reason == reason && f.field.starts_with(group))
        {
            Some(f) => f.count = f.count.saturating_add(1),
            None => {
                let field = field();
                debug_assert!(field.starts_with(group), "{field} not in {group}");
                list.push(Finding::new(field, value, reason));
            }
        }
    }
}

/// What a piece of evidence is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A login IP, located by a geolocation source.
    LoginIp,
    /// The IP an upload came from, located by a geolocation source.
    UploadIp,
    /// The region of a phone number (libphonenumber).
    Phone,
    /// The ccTLD of an e-mail domain (public suffix list).
    Email,
    /// The country the account holder declared.
    Declared,
    /// CyberTipline `estimatedLocation`.
    EstimatedLocation,
}

/// Evidence as shown: items with the same kind, value, country and source grouped.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub value: String,
    /// `None` when the value could not be placed (an IP no source knows).
    pub country: Option<Country>,
    /// Sum of the items' decayed weights: the votes this evidence gave `country`.
    pub weight: f64,
    /// How many items were grouped (e.g. logins from the same IP).
    pub count: u32,
    pub first_at: Option<UnixTime>,
    pub last_at: Option<UnixTime>,
    pub source: String,
    /// At least one item was flagged as a possible proxy.
    pub proxy: bool,
}

/// A country's part of the votes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CountryShare {
    pub country: Country,
    pub weight: f64,
    /// `weight` ÷ all votes, in [0, 1].
    pub share: f64,
}

/// The attributed country of an account or person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The country with the most votes; `None` when there is no evidence.
    pub country: Option<Country>,
    /// `share × (1 − exp(−total/K))`, in [0, 1].
    pub confidence: f64,
    /// The second country, when there is one.
    pub runner_up: Option<CountryShare>,
    /// Every country with votes, most first.
    pub shares: Vec<CountryShare>,
    /// All votes, after decay.
    pub total_weight: f64,
    pub evidence: Vec<Evidence>,
    pub findings: Vec<Finding>,
}

impl EvidenceKind {
    /// The serde name (`login_ip`), the form stored, printed and packaged.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::LoginIp => "login_ip",
            EvidenceKind::UploadIp => "upload_ip",
            EvidenceKind::Phone => "phone",
            EvidenceKind::Email => "email",
            EvidenceKind::Declared => "declared",
            EvidenceKind::EstimatedLocation => "estimated_location",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_the_serde_names() {
        for k in [
            EvidenceKind::LoginIp,
            EvidenceKind::UploadIp,
            EvidenceKind::Phone,
            EvidenceKind::Email,
            EvidenceKind::Declared,
            EvidenceKind::EstimatedLocation,
        ] {
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::from(k.as_str())
            );
        }
    }
}
