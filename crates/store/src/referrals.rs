//! The referral side of the store: receiving agencies, the referral ledger
//! (referrals, the accounts each carried, their events) and the figures
//! `tiaki stats` reports. Both backends share the SQL (`sql/referrals.rs`).

use crate::intake::{MatchRow, MediaHashes, Triage};
use crate::{StoreError, Timestamp};

/// An agency as an import gives it (already checked by `tiaki-referral`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewAgency {
    pub country: String,
    pub name: String,
    pub age_recipient: String,
    pub contact: String,
}

/// A stored agency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgencyRow {
    pub country: String,
    pub name: String,
    pub age_recipient: String,
    pub contact: String,
    pub updated_at: String,
}

/// What an import did to one country's agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgencyChange {
    Added,
    Changed,
    Unchanged,
}

/// A country that accounts are attributed to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CountryAccounts {
    pub country: String,
    pub accounts: u64,
    /// Of those, the accounts no referral has carried yet.
    pub unreferred: u64,
}

/// An attributed account with what a package says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributedAccount {
    pub account_id: i64,
    pub intake_id: i64,
    pub report_id: String,
    pub provider_id: String,
    pub username: Option<String>,
    /// The account line as the provider gave it (identifiers live here).
    pub data: serde_json::Value,
    /// The label of the person the account was linked to.
    pub person: Option<String>,
    pub country: String,
    pub confidence: f64,
    /// `account_attribution.evidence` as stored (a JSON array).
    pub evidence: serde_json::Value,
}

/// An account a build would refer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferableAccount {
    pub country: String,
    /// `accounts.id`.
    pub account_id: i64,
    /// Its natural key, which media name their uploader by.
    pub intake_id: i64,
    pub provider_id: String,
}

pub use crate::persons::Uploaders;

/// Media of a range of media ids (see [`ReferralStore::uploaded_media`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaPage {
    /// By media id.
    pub media: Vec<AccountMedia>,
    /// (media id, match) of those media, by media id, entry id, kind.
    pub matches: Vec<(i64, MatchRow)>,
}

/// A media item of an attributed account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountMedia {
    pub id: i64,
    /// `accounts.id` of the uploader.
    pub account_id: i64,
    pub provider_id: String,
    pub original_name: Option<String>,
    pub viewed_by_provider: Option<bool>,
    /// Without the vPDQ features (a package does not carry them).
    pub hashes: MediaHashes,
    pub triage: Option<Triage>,
    pub bytes: Option<u64>,
    /// Whether its file is kept in the blob store.
    pub stored: bool,
    /// What the media line said beside its columns (`shared_with`,
    /// `industry_classification`, `viewed_by_ncmec`, …); `None` when
    /// nothing (most lines: boxed, so that costs 8 bytes a media item).
    pub data: Option<Box<tiaki_types::model::MediaData<'static>>>,
}

/// Where a referral is. States only move forward, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReferralState {
    Built,
    Sent,
    Acknowledged,
    Investigating,
    Closed,
}

impl ReferralState {
    pub const ALL: [ReferralState; 5] = [
        ReferralState::Built,
        ReferralState::Sent,
        ReferralState::Acknowledged,
        ReferralState::Investigating,
        ReferralState::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReferralState::Built => "built",
            ReferralState::Sent => "sent",
            ReferralState::Acknowledged => "acknowledged",
            ReferralState::Investigating => "investigating",
            ReferralState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<ReferralState> {
        ReferralState::ALL.into_iter().find(|st| st.name() == s)
    }
}

/// One referral in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralRow {
    pub id: String,
    pub country: String,
    /// The agency's name.
    pub agency: String,
    pub state: ReferralState,
    pub accounts: u64,
    pub persons: u64,
    pub media: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Path of the `.tar.age` file as written.
    pub package: String,
    /// SHA-256 of the plaintext tar (equal for equal content).
    pub tar_sha256: String,
}

/// One ledger event: ours (`built`, `rebuilt`, `sent`, …) or an outcome an
/// agency reported (`investigation_opened`, `arrest`, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralEvent {
    pub referral_id: String,
    pub at: String,
    pub event: String,
    /// 0 when not given.
    pub count: u64,
    /// Empty when not given.
    pub note: String,
}

/// A stored event, with when it entered the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredReferralEvent {
    #[serde(flatten)]
    pub event: ReferralEvent,
    pub imported_at: String,
}

/// An event to add, and the state it moves its referral to (forward only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferralEvent {
    pub event: ReferralEvent,
    pub moves_to: Option<ReferralState>,
}

/// What adding events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventsAdded {
    pub added: u64,
    /// Events already in the ledger (same referral, time, event, count, note).
    pub duplicates: u64,
}

/// The ledger's figures for `tiaki stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LedgerCounts {
    pub persons: u64,
    pub countries_attributed: u64,
    pub referrals: u64,
    pub countries_referred: u64,
    pub accounts_referred: u64,
    /// `investigation_opened` events.
    pub investigations: u64,
    /// Sum of `arrest` counts.
    pub arrests: u64,
    /// Sum of `children_safeguarded` counts.
    pub children_safeguarded: u64,
}

crate::surface::store_trait! {
    /// The storage interface of agencies and the referral ledger.
    pub trait ReferralStore {
        /// Upserts agencies by country in one transaction; every added or
        /// changed version is also appended to `agency_history`.
        async fn import_agencies(
            &self,
            agencies: &[NewAgency],
            now: &Timestamp,
        ) -> Result<Vec<AgencyChange>, StoreError>;
        /// Every agency, by country.
        async fn agencies(&self) -> Result<Vec<AgencyRow>, StoreError>;
        /// Countries with attributed accounts, by country.
        async fn attributed_countries(&self) -> Result<Vec<CountryAccounts>, StoreError>;
        /// The accounts a build would refer, ordered by country then id;
        /// without `include_referred`, only those no referral has carried yet.
        /// One small set-based query: a build then asks
        /// [`ReferralStore::attributed_accounts`] for one country's accounts at
        /// a time, and reads every media item once with
        /// [`ReferralStore::uploaded_media`].
        async fn referable_accounts(
            &self,
            include_referred: bool,
        ) -> Result<Vec<ReferableAccount>, StoreError>;
        /// What a package says about these attributed accounts (`accounts.id`),
        /// ordered by report id, provider id, id (a stable order: packages are
        /// deterministic). Accounts without an attribution are left out.
        async fn attributed_accounts(
            &self,
            account_ids: &[i64],
        ) -> Result<Vec<AttributedAccount>, StoreError>;
        /// The lowest and highest media id (`None` without media): where
        /// [`ReferralStore::uploaded_media`] pages start and end.
        async fn media_id_range(&self) -> Result<Option<(i64, i64)>, StoreError>;
        /// The media with ids in `after + 1 ..= upto` that one of `uploaders`
        /// uploaded (`account_id` set to the uploader's `accounts.id`), by id,
        /// and their hash-list matches. Reading the media table in id ranges
        /// reads it sequentially: a build gathers every package's media in one
        /// pass rather than one lookup per media item.
        async fn uploaded_media(
            &self,
            after: i64,
            upto: i64,
            uploaders: &Uploaders,
        ) -> Result<MediaPage, StoreError>;
        /// Records a built package in one transaction: the referral (a rebuild
        /// of the same id updates its package, keeping its state), the accounts
        /// it carried, and the event `built` or `rebuilt` at `now`.
        async fn record_referral(
            &self,
            referral: &ReferralRow,
            account_ids: &[i64],
            now: &Timestamp,
        ) -> Result<(), StoreError>;
        /// Referrals, of one country or all, by id.
        async fn referrals(&self, country: Option<&str>) -> Result<Vec<ReferralRow>, StoreError>;
        async fn referral(&self, id: &str) -> Result<Option<ReferralRow>, StoreError>;
        /// A referral's events in time order.
        async fn referral_events(&self, id: &str) -> Result<Vec<StoredReferralEvent>, StoreError>;
        /// Adds events in one transaction, skipping those already there, and
        /// moves referrals forward (never back). An unknown referral id fails
        /// the whole call ([`StoreError::NoSuchReferral`]) and adds nothing.
        async fn add_referral_events(
            &self,
            events: &[NewReferralEvent],
            now: &Timestamp,
        ) -> Result<EventsAdded, StoreError>;
        async fn ledger_counts(&self) -> Result<LedgerCounts, StoreError>;
    }
}
