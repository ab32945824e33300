//! Persons as the store answers for them and the CLI and the service show
//! them: accounts linked into persons, each with its attribution and
//! evidence, and the links that explain it (`tiaki persons ls/show`).

use serde::{Deserialize, Serialize};

/// Which account, of which report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRef {
    pub account_id: i64,
    pub intake_id: i64,
    pub report_id: String,
    pub provider: String,
    pub provider_id: String,
    pub username: Option<String>,
}

/// A stored attribution (of an account or a person), its JSON read back
/// through the types `tiaki-attrib` wrote it with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAttribution {
    pub country: Option<String>,
    pub confidence: f64,
    pub runner_up: Option<String>,
    pub runner_up_share: Option<f64>,
    pub shares: Vec<crate::attribution::CountryShare>,
    pub evidence: Vec<crate::attribution::Evidence>,
    pub computed_at: String,
}

/// A stored person, with its members in account id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonInfo {
    pub id: i64,
    pub label: String,
    pub accounts: u64,
    pub attribution: StoredAttribution,
    pub members: Vec<MemberInfo>,
}

/// A member account and its own attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    #[serde(flatten)]
    pub account: AccountRef,
    pub attribution: StoredAttribution,
    pub findings: Vec<crate::attribution::Finding>,
}

/// A stored link with both accounts named.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkInfo {
    pub id: i64,
    pub kind: String,
    pub evidence: String,
    pub weight: f64,
    pub pair_weight: f64,
    pub a: AccountRef,
    pub b: AccountRef,
    /// Label of the other account's person, when it is not this person
    /// (a link too weak to join).
    pub other_person: Option<String>,
}

/// A person with everything that explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonDetail {
    #[serde(flatten)]
    pub person: PersonInfo,
    /// Every link with at least one end in this person, in id order.
    pub links: Vec<LinkInfo>,
}

/// An account with the person it is linked into and its attribution, as
/// the account routes of `tiaki serve` list it: a person's [`MemberInfo`]
/// seen from the account's side, so the person may be absent, and so may
/// the attribution before the first `tiaki attribute`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountInfo {
    #[serde(flatten)]
    pub account: AccountRef,
    /// The label of the person it is linked into.
    pub person: Option<String>,
    pub attribution: Option<StoredAttribution>,
    /// Values of the account that could not be used (malformed e-mails,
    /// phones, IPs).
    pub findings: Vec<crate::attribution::Finding>,
}

/// One account with everything that explains its person and country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountDetail {
    #[serde(flatten)]
    pub info: AccountInfo,
    /// The account line as the provider gave it (identifiers, logins,
    /// fields the model does not know), read back through the intake's
    /// model.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: crate::model::Account,
    /// Every link with this account at one end, in id order; `other_person`
    /// names the other end's person when it is not this account's.
    pub links: Vec<LinkInfo>,
}

/// Counts of the stored result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCounts {
    pub accounts: u64,
    pub persons: u64,
    pub links: u64,
    /// Distinct countries attributed to accounts.
    pub countries: u64,
    pub accounts_without_country: u64,
    /// Accounts with at least one finding.
    pub accounts_with_findings: u64,
}
