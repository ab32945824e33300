//! The intake side of the store: reports, accounts, media, events,
//! findings and matches, as plain rows. The pipeline (`tiaki-core`) makes
//! them; both backends store them with the same SQL (`sql/intake.rs`).

use tiaki_hash::pdq::PdqHash;
use tiaki_hash::vpdq::VpdqFeature;

use crate::{StoreError, Timestamp};

/// What an ingest asks the store to register.
#[derive(Debug, Clone)]
pub struct NewIntake {
    /// `provider-report` or `cybertip`.
    pub source_kind: String,
    pub provider: String,
    pub report_id: String,
    pub path: String,
    pub hash_only: bool,
    pub header: serde_json::Value,
}

/// Where an intake is in its pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IntakeState {
    Reading,
    Hashing,
    Complete,
}

impl IntakeState {
    pub fn name(self) -> &'static str {
        match self {
            IntakeState::Reading => "reading",
            IntakeState::Hashing => "hashing",
            IntakeState::Complete => "complete",
        }
    }

    fn parse(s: &str) -> Result<IntakeState, StoreError> {
        Ok(match s {
            "reading" => IntakeState::Reading,
            "hashing" => IntakeState::Hashing,
            "complete" => IntakeState::Complete,
            other => return Err(StoreError::Corrupt(format!("intake state {other:?}"))),
        })
    }
}

/// A stored intake.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntakeInfo {
    pub id: i64,
    pub source_kind: String,
    pub provider: String,
    pub report_id: String,
    pub path: String,
    pub started_at: String,
    pub completed_at: Option<String>,
    pub state: IntakeState,
    pub hash_only: bool,
    pub header: serde_json::Value,
}

/// What [`IntakeStore::begin_intake`] found.
#[derive(Debug, Clone)]
pub enum Begun {
    /// A report never seen before.
    New(IntakeInfo),
    /// The same report, interrupted before it completed: carry on.
    Resumed(IntakeInfo),
    /// The same report, already complete: nothing to do.
    Complete(IntakeInfo),
}

/// Hashes of a media item, provided or computed. Serialised as `tiaki
/// hash` prints them: digests and PDQ in lower-case hex, vPDQ as
/// `{"frame", "timestamp", "quality", "pdq"}` frames.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaHashes {
    #[serde(serialize_with = "hex_digest")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9a-f]{32}$"))]
    pub md5: Option<[u8; 16]>,
    #[serde(serialize_with = "hex_digest")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9a-f]{40}$"))]
    pub sha1: Option<[u8; 20]>,
    #[serde(serialize_with = "hex_digest")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9a-f]{64}$"))]
    pub sha256: Option<[u8; 32]>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, pattern = "^[0-9a-f]{64}$"))]
    pub pdq: Option<PdqHash>,
    pub pdq_quality: Option<u8>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub vpdq: Option<Vec<VpdqFeature>>,
}

fn hex_digest<const N: usize, S: serde::Serializer>(
    d: &Option<[u8; N]>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&tiaki_types::hex::encode(d)),
        None => s.serialize_none(),
    }
}

/// How a media item's hashes came to be.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashState {
    /// Hash-only reporting: the provider's hashes are the hashes.
    Provided,
    /// A file waits to be hashed.
    Pending,
    /// A worker is hashing it.
    Claimed,
    Hashed,
    /// The file could not be hashed (the error is kept).
    Failed,
}

impl HashState {
    pub const ALL: [HashState; 5] = [
        HashState::Provided,
        HashState::Pending,
        HashState::Claimed,
        HashState::Hashed,
        HashState::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            HashState::Provided => "provided",
            HashState::Pending => "pending",
            HashState::Claimed => "claimed",
            HashState::Hashed => "hashed",
            HashState::Failed => "failed",
        }
    }
}

/// Known or new.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Triage {
    Known,
    New,
}

impl Triage {
    pub fn name(self) -> &'static str {
        match self {
            Triage::Known => "known",
            Triage::New => "new",
        }
    }
}

pub use tiaki_types::hashes::MatchKind;

/// One match of a media item to a known entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchRow {
    pub entry_id: u64,
    pub list_id: i64,
    pub kind: MatchKind,
    pub distance: u32,
    pub variant: Option<String>,
}

/// An account line to store.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub provider_id: String,
    pub line: u64,
    pub username: Option<String>,
    pub declared_country: Option<String>,
    /// The whole account as read (identifiers, logins, unknown fields), as
    /// JSON text.
    pub data: String,
}

/// A media line to store.
#[derive(Debug, Clone)]
pub struct MediaRow {
    pub provider_id: String,
    pub line: u64,
    pub account: String,
    pub file: Option<String>,
    pub original_name: Option<String>,
    pub uploaded_at: Option<String>,
    pub upload_ip: Option<String>,
    pub viewed_by_provider: Option<bool>,
    pub hashes: MediaHashes,
    pub hash_state: HashState,
    pub triage: Option<Triage>,
    pub matches: Vec<MatchRow>,
    /// What the columns do not hold (sharing, group, unknown fields; the
    /// provider's hashes of a file to be hashed), as JSON text.
    pub data: String,
}

/// An event line to store.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub line: u64,
    pub kind: String,
    pub at: Option<String>,
    /// The event as read, as JSON text.
    pub data: String,
}

/// Something the intake could not take as it was.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingRow {
    pub file: String,
    /// 0 when the finding is not about one line.
    pub line: u64,
    /// The account or media id it is about, when known.
    pub subject: String,
    pub code: String,
    pub message: String,
}

/// A media item whose file waits to be hashed.
#[derive(Debug, Clone)]
pub struct PendingMedia {
    pub id: i64,
    pub intake_id: i64,
    pub provider_id: String,
    pub line: u64,
    pub file: String,
    /// The media line as read: the provider's hashes are compared with ours.
    pub data: serde_json::Value,
}

/// The outcome of hashing one pending media item.
#[derive(Debug, Clone)]
pub struct HashedMedia {
    pub id: i64,
    pub intake_id: i64,
    pub hashes: MediaHashes,
    pub kind: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub bytes: Option<u64>,
    /// `Hashed` or `Failed`.
    pub state: HashState,
    pub error: Option<String>,
    pub stored: bool,
    pub triage: Option<Triage>,
    pub matches: Vec<MatchRow>,
    pub findings: Vec<FindingRow>,
}

/// The hashes of a stored media item, for matching (triage, retroactive
/// matching) and near-duplicate clustering.
#[derive(Debug, Clone)]
pub struct MediaHashRow {
    pub id: i64,
    pub intake_id: i64,
    pub provider_id: String,
    pub account: String,
    pub hashes: MediaHashes,
    pub triage: Option<Triage>,
}

/// One stored media item: its metadata, never its file (`GET
/// /api/v1/media/{id}`; the matches are `tiaki_core::triage::media`'s).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaInfo {
    /// `media.id`: the id the triage queue lists members by.
    pub id: i64,
    pub intake_id: i64,
    pub report_id: String,
    pub provider: String,
    /// The provider's media id, unique within its report.
    pub provider_id: String,
    /// The line of the report's media file it came from.
    pub line: u64,
    /// The uploading account's provider id, as the media line gives it.
    pub account: String,
    /// That account, when the report has its line.
    pub uploader: Option<AccountRef>,
    /// The accounts it was shared with: the media line's `shared_with` and
    /// the recipients of the report's `share` events naming it (those the
    /// report has a line for), in account id order.
    pub shared_with: Vec<AccountRef>,
    /// The accounts that shared it (`from` of those `share` events), in
    /// account id order.
    pub shared_by: Vec<AccountRef>,
    pub original_name: Option<String>,
    /// RFC 3339, as the provider wrote it.
    pub uploaded_at: Option<String>,
    pub upload_ip: Option<String>,
    pub viewed_by_provider: Option<bool>,
    /// The hashes as stored: computed from the file, or the provider's for
    /// hash-only reporting.
    pub hashes: MediaHashes,
    /// `image`, `video` or `other`, once hashed.
    pub kind: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The file's size in bytes, once hashed.
    pub bytes: Option<u64>,
    pub hash_state: HashState,
    pub hash_error: Option<String>,
    /// Whether the file is kept (encrypted) in the blob store.
    pub stored: bool,
    /// `known` or `new` once matched; `None` before.
    pub triage: Option<Triage>,
    /// What the media line said beside its columns (`shared_with`,
    /// `group`, the provider's hashes of a hashed file, unknown fields).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: tiaki_types::model::MediaData<'static>,
}

pub use tiaki_types::persons::AccountRef;

/// Counts of one intake, or of the whole store.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntakeCounts {
    pub accounts: u64,
    pub media: u64,
    pub media_known: u64,
    pub media_new: u64,
    pub media_pending: u64,
    pub media_failed: u64,
    pub events: u64,
    pub findings: u64,
}

crate::surface::store_trait! {
    /// The storage interface of intakes. Every insert is idempotent on the
    /// natural keys (see `migrations/*/0002_intake.sql`), so a resumed ingest
    /// can replay what it already stored.
    pub trait IntakeStore {
        /// Registers the intake, or finds it again (same provider and report id).
        async fn begin_intake(&self, new: &NewIntake, now: &Timestamp) -> Result<Begun, StoreError>;
        async fn intakes(&self) -> Result<Vec<IntakeInfo>, StoreError>;
        async fn set_intake_state(
            &self,
            intake_id: i64,
            state: IntakeState,
            now: &Timestamp,
        ) -> Result<(), StoreError>;
        /// Stores accounts and findings in one transaction.
        async fn insert_accounts(
            &self,
            intake_id: i64,
            rows: &[AccountRow],
            findings: &[FindingRow],
        ) -> Result<(), StoreError>;
        /// Stores media (with their matches) and findings in one transaction.
        async fn insert_media(
            &self,
            intake_id: i64,
            rows: &[MediaRow],
            findings: &[FindingRow],
        ) -> Result<(), StoreError>;
        async fn insert_events(
            &self,
            intake_id: i64,
            rows: &[EventRow],
            findings: &[FindingRow],
        ) -> Result<(), StoreError>;
        /// Takes up to `limit` pending media (of one intake, or of any) for
        /// `worker`; claims older than `stale_before` are taken again (their
        /// worker died). PostgreSQL uses `FOR UPDATE SKIP LOCKED`, so any number
        /// of workers share the queue.
        async fn claim_pending(
            &self,
            intake_id: Option<i64>,
            worker: &str,
            now: &Timestamp,
            stale_before: &Timestamp,
            limit: u32,
        ) -> Result<Vec<PendingMedia>, StoreError>;
        /// Gives back every claim `worker` holds on the intake's media (it was
        /// killed; the same worker starts again).
        async fn release_claims(&self, intake_id: i64, worker: &str) -> Result<u64, StoreError>;
        /// Records hashing results, their matches and findings, in one transaction.
        async fn complete_hashing(
            &self,
            worker: &str,
            done: &[HashedMedia],
        ) -> Result<(), StoreError>;
        /// Media of an intake (or all) in id order, for matching and clustering.
        async fn media_hashes_page(
            &self,
            intake_id: Option<i64>,
            after: i64,
            limit: u32,
        ) -> Result<Vec<MediaHashRow>, StoreError>;
        /// Adds matches found later (a list imported after the intake) and marks
        /// those media known.
        async fn add_matches(&self, matches: &[(i64, MatchRow)]) -> Result<(), StoreError>;
        /// Counts of one intake or of all.
        async fn intake_counts(&self, intake_id: Option<i64>) -> Result<IntakeCounts, StoreError>;
        async fn findings(&self, intake_id: i64) -> Result<Vec<FindingRow>, StoreError>;
        /// One media item by `media.id`, with its uploader and the accounts
        /// it was shared with resolved in its report.
        async fn media(&self, id: i64) -> Result<Option<MediaInfo>, StoreError>;
        /// Matches of the given media, by media id.
        async fn matches_of(&self, media_ids: &[i64]) -> Result<Vec<(i64, MatchRow)>, StoreError>;
        /// Every stored intake row as canonical text lines without surrogate
        /// ids or times, sorted: two stores with the same content give the same
        /// dump (the kill -9 tests compare a resumed run with a clean one).
        async fn dump_intakes(&self) -> Result<Vec<String>, StoreError>;
        /// Records pipeline stages (`tiaki_core::pipeline::Stage` names) as
        /// finished for each of the intakes; a stage already recorded keeps
        /// its first time.
        async fn record_stages(
            &self,
            intake_ids: &[i64],
            stages: &[&str],
            now: &Timestamp,
        ) -> Result<(), StoreError>;
        /// The finished stages of the given intakes, by intake id then stage.
        async fn intake_stages(&self, intake_ids: &[i64]) -> Result<Vec<StageRow>, StoreError>;
    }
}

/// One finished pipeline stage of one intake (`intake_stages`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StageRow {
    pub intake_id: i64,
    pub stage: String,
    pub completed_at: String,
}

pub(crate) fn parse_state(s: &str) -> Result<IntakeState, StoreError> {
    IntakeState::parse(s)
}
