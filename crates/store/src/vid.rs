//! The victim-identification database (`migrations/*/0014_vid.sql`):
//! series, victims, offenders, the media linked to a series by hash, and the
//! append-only history of every change (`vid_events`). The store keeps the
//! rows and checks the status transition table
//! ([`tiaki_types::vid::transition`]) inside the transaction that changes a
//! status, so a refused change writes nothing; hashing files, searching and
//! validating input are `tiaki_core::vid`'s. Both backends share the SQL
//! (`sql/vid.rs`).
//!
//! Every change writes its row and its history event in one transaction:
//! the event says who (`actor`) and when (`now`), and the row is only ever
//! the latest state.

use tiaki_types::vid::{
    Offender, OffenderStatus, Series, StatusStep, Victim, VictimStatus, VidEvent, VidMedia,
    VidMediaKind, VidRecord,
};

use crate::intake::{MediaHashRow, MediaHashes};
use crate::{StoreError, Timestamp};

/// A series to create.
#[derive(Debug, Clone)]
pub struct NewSeries {
    pub name: String,
    /// The contributing agency's country (ISO alpha-2).
    pub agency: String,
    pub notes: String,
}

/// A victim or an offender to record (`S`: its status type).
#[derive(Debug, Clone)]
pub struct NewSubject<S> {
    pub series_id: i64,
    pub status: S,
    pub step: StatusStep,
    /// The contributing agency's country (ISO alpha-2).
    pub agency: String,
    pub notes: String,
}

/// What to change about a victim or an offender (unset: as it is).
#[derive(Debug, Clone)]
pub struct SubjectChange<S> {
    /// The next status and where, when and by whom it was reached.
    pub status: Option<(S, StatusStep)>,
    /// New notes (the old ones stay in the history).
    pub notes: Option<String>,
}

/// A medium to link to a series.
#[derive(Debug, Clone)]
pub struct NewVidMedia {
    pub series_id: i64,
    pub kind: VidMediaKind,
    pub hashes: MediaHashes,
    /// The file is in the blob store (under `hashes.sha256`).
    pub stored: bool,
    /// `file:NAME`, `hash` or `intake:N/ID`.
    pub source: String,
    /// The contributing agency's country (ISO alpha-2).
    pub agency: String,
    pub notes: String,
}

/// A series medium's hashes, for the search index.
#[derive(Debug, Clone, PartialEq)]
pub struct VidMediaHashes {
    pub id: i64,
    pub series_id: i64,
    pub hashes: MediaHashes,
}

/// The database's figures (`tiaki stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VidCounts {
    /// Series not merged into another.
    pub series: u64,
    pub media: u64,
    pub victims_unidentified: u64,
    /// Identified or safeguarded.
    pub victims_identified: u64,
    pub victims_safeguarded: u64,
    /// Identified or arrested.
    pub offenders_identified: u64,
}

crate::surface::store_trait! {
    /// The storage interface of the victim-identification database.
    pub trait VidStore {
        /// Creates a series (and its `created` event); a taken name is
        /// [`StoreError::SeriesExists`].
        async fn add_series(&self, new: &NewSeries, actor: &str, now: &Timestamp) -> Result<Series, StoreError>;
        /// Every series (merged ones too), by id.
        async fn series_list(&self) -> Result<Vec<Series>, StoreError>;
        async fn series_by_id(&self, id: i64) -> Result<Option<Series>, StoreError>;
        async fn series_by_name(&self, name: &str) -> Result<Option<Series>, StoreError>;
        /// Moves every victim, offender and medium of series `from` to
        /// `into` and marks `from` merged, with an event for each; returns
        /// `into`. Merging a series into itself, or from or into a merged
        /// series, is [`StoreError::SeriesMerged`].
        async fn merge_series(&self, from: i64, into: i64, actor: &str, now: &Timestamp) -> Result<Series, StoreError>;
        /// Records a victim (and its `created` event, with its first status).
        async fn add_victim(&self, new: &NewSubject<VictimStatus>, actor: &str, now: &Timestamp) -> Result<Victim, StoreError>;
        /// Changes a victim: a status only as the transition table allows
        /// ([`StoreError::Transition`], nothing written, otherwise).
        async fn set_victim(&self, id: i64, change: &SubjectChange<VictimStatus>, actor: &str, now: &Timestamp) -> Result<Victim, StoreError>;
        /// The victims of a series, or all, by id.
        async fn victims(&self, series_id: Option<i64>) -> Result<Vec<Victim>, StoreError>;
        async fn add_offender(&self, new: &NewSubject<OffenderStatus>, actor: &str, now: &Timestamp) -> Result<Offender, StoreError>;
        async fn set_offender(&self, id: i64, change: &SubjectChange<OffenderStatus>, actor: &str, now: &Timestamp) -> Result<Offender, StoreError>;
        async fn offenders(&self, series_id: Option<i64>) -> Result<Vec<Offender>, StoreError>;
        /// Links media to their series, all or none (one transaction).
        async fn add_vid_media(&self, new: &[NewVidMedia], actor: &str, now: &Timestamp) -> Result<Vec<VidMedia>, StoreError>;
        /// The media of a series, or all, by id.
        async fn vid_media(&self, series_id: Option<i64>) -> Result<Vec<VidMedia>, StoreError>;
        /// The media with these ids (missing ids are left out), by id.
        async fn vid_media_by_ids(&self, ids: &[i64]) -> Result<Vec<VidMedia>, StoreError>;
        /// The highest `vid_media.id` stored (0: none): an index holding a
        /// higher one was made from a store that went back.
        async fn vid_media_max_id(&self) -> Result<i64, StoreError>;
        /// Up to `limit` media's hashes with id > `after`, in id order.
        async fn vid_media_hashes_page(&self, after: i64, limit: u32) -> Result<Vec<VidMediaHashes>, StoreError>;
        /// The history of a series (its own events and its records'), or of
        /// one record, oldest first.
        async fn vid_events(&self, series_id: Option<i64>, record: Option<(VidRecord, i64)>) -> Result<Vec<VidEvent>, StoreError>;
        async fn vid_counts(&self) -> Result<VidCounts, StoreError>;
        /// One media item of an intake by its provider id, with its hashes.
        async fn intake_media_hashes(&self, intake_id: i64, provider_id: &str) -> Result<Option<MediaHashRow>, StoreError>;
    }
}
