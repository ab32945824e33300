//! The linking and attribution side of the store: what the pipeline reads
//! (every account with its data, every upload) and what it writes (persons,
//! account attributions, links), as plain rows. Both backends store them
//! with the same SQL (`sql/persons.rs`); the schema is
//! `migrations/*/0003_persons.sql`.
//!
//! The three tables are derived: [`LinkStore::replace_links`] replaces their
//! whole content in one transaction, so readers see the previous result or
//! the new one, never a mix.

use rustc_hash::FxHashMap;

use crate::{StoreError, Timestamp};

/// One stored account, as the linker reads it.
#[derive(Debug, Clone)]
pub struct AccountSource {
    /// `accounts.id`.
    pub id: i64,
    pub intake_id: i64,
    pub provider_id: String,
    pub declared_country: Option<String>,
    /// `accounts.data`: the intake model's account as JSON text (emails,
    /// phones, devices, logins, estimated_location, …), parsed by the caller.
    pub data: String,
}

/// The uploaders whose media a reader wants (the referral build, the
/// attribution): (intake id, provider account id) → `accounts.id`. Media of
/// anyone else are skipped while a page is parsed, before anything is
/// allocated for them. Resolving here, not by a join in SQL, keeps the
/// media read sequential: the join's index lookup per media row was most
/// of the attribution's store time on PostgreSQL (12 µs a row, 2,000,000
/// rows).
#[derive(Debug, Clone, Default)]
pub struct Uploaders(FxHashMap<i64, FxHashMap<String, i64>>);

impl Uploaders {
    pub fn insert(&mut self, intake_id: i64, provider_id: String, account_id: i64) {
        self.0
            .entry(intake_id)
            .or_default()
            .insert(provider_id, account_id);
    }

    /// The `accounts.id` of an uploader, if wanted.
    pub fn get(&self, intake_id: i64, provider_id: &str) -> Option<i64> {
        self.0.get(&intake_id)?.get(provider_id).copied()
    }
}

/// One media item's upload facts, resolved to its account.
#[derive(Debug, Clone)]
pub struct UploadSource {
    /// `media.id`.
    pub media_id: i64,
    /// `accounts.id` of the uploader (same intake, `media.account`).
    pub account_id: i64,
    pub upload_ip: Option<String>,
    /// RFC 3339, as written.
    pub uploaded_at: Option<String>,
    pub sha256: Option<[u8; 32]>,
}

/// A page of [`LinkStore::upload_sources_page`].
#[derive(Debug, Clone, Default)]
pub struct UploadPage {
    pub uploads: Vec<UploadSource>,
    /// The last media id the page looked at (`None`: nothing left).
    pub last: Option<i64>,
}

/// A person to store. JSON columns are serialised by the caller.
#[derive(Debug, Clone)]
pub struct PersonRow {
    /// Assigned by the caller, 1.. in a fixed order.
    pub id: i64,
    pub label: String,
    pub country: Option<String>,
    pub confidence: f64,
    pub runner_up: Option<String>,
    pub runner_up_share: Option<f64>,
    /// JSON array of evidence.
    pub evidence: String,
    /// JSON array of country shares.
    pub shares: String,
    pub accounts: u64,
}

/// One account's attribution to store.
#[derive(Debug, Clone)]
pub struct AttributionRow {
    pub account_id: i64,
    pub person_id: Option<i64>,
    pub country: Option<String>,
    pub confidence: f64,
    pub runner_up: Option<String>,
    pub runner_up_share: Option<f64>,
    /// JSON array of evidence.
    pub evidence: String,
    /// JSON array of country shares.
    pub shares: String,
    /// JSON array of findings (values that could not be used).
    pub findings: String,
}

/// One link between two accounts to store.
#[derive(Debug, Clone)]
pub struct LinkRow {
    /// Assigned by the caller, 1.. in a fixed order.
    pub id: i64,
    /// `accounts.id`, `a < b`.
    pub a: i64,
    pub b: i64,
    /// `email`, `phone`, `device`, `ip_time`, `shared_upload`.
    pub kind: String,
    pub evidence: String,
    pub weight: f64,
    pub pair_weight: f64,
}

/// Everything one recompute produced.
#[derive(Debug, Clone, Default)]
pub struct LinkResult {
    pub persons: Vec<PersonRow>,
    pub attributions: Vec<AttributionRow>,
    pub links: Vec<LinkRow>,
}

/// What the store answers about persons is shared with the CLI and the
/// service: the types live in `tiaki-types`.
pub use tiaki_types::persons::{
    AccountDetail, AccountInfo, AccountRef, LinkCounts, LinkInfo, MemberInfo, PersonDetail,
    PersonInfo, StoredAttribution,
};

/// Which accounts [`LinkStore::accounts`] lists (all given filters apply).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Only the accounts of this intake.
    pub intake: Option<i64>,
    /// Only the members of this person (id `17` or label `P-17`).
    pub person: Option<String>,
    /// Only the accounts attributed to this country (ISO alpha-2).
    pub country: Option<String>,
}

/// A page of accounts.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountPage {
    /// How many accounts the filter selects, over all pages.
    pub total: u64,
    /// This page, in account id order.
    pub accounts: Vec<AccountInfo>,
}

crate::surface::store_trait! {
    /// The storage interface of linking and attribution.
    pub trait LinkStore {
        /// Up to `limit` accounts of every intake with id > `after`, in id order.
        async fn account_sources_page(
            &self,
            after: i64,
            limit: u32,
        ) -> Result<Vec<AccountSource>, StoreError>;
        /// The next up to `limit` media with id > `after` that carry an upload
        /// IP or a SHA-256, in id order, resolved to their account through
        /// `uploaders` (media of anyone else, e.g. whose account line is
        /// missing, are left out; the page's `last` still moves past them).
        async fn upload_sources_page(
            &self,
            after: i64,
            limit: u32,
            uploaders: &Uploaders,
        ) -> Result<UploadPage, StoreError>;
        /// Replaces persons, attributions and links with `result`, in one
        /// transaction.
        async fn replace_links(
            &self,
            result: &LinkResult,
            now: &Timestamp,
        ) -> Result<(), StoreError>;
        /// Every person (of one country, or all) with members, by id.
        async fn persons(&self, country: Option<&str>) -> Result<Vec<PersonInfo>, StoreError>;
        /// One person by id (`17`) or label (`P-17`), with its links.
        async fn person(&self, key: &str) -> Result<Option<PersonDetail>, StoreError>;
        async fn link_counts(&self) -> Result<LinkCounts, StoreError>;
        /// The accounts `filter` selects, in id order: `limit` of them after
        /// skipping `offset`, with the count of all.
        async fn accounts(
            &self,
            filter: &AccountFilter,
            offset: u64,
            limit: u32,
        ) -> Result<AccountPage, StoreError>;
        /// One account by `accounts.id`, with its data and every link it is
        /// an end of.
        async fn account(&self, id: i64) -> Result<Option<AccountDetail>, StoreError>;
    }
}
