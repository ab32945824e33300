//! Tiaki's store: known hash lists and their entries, with the match index
//! beside them.
//!
//! * [`ListStore`] is the storage interface; [`SqliteStore`] the embedded
//!   backend (`DIR/tiaki.db`). The SQL is kept portable (`$1` placeholders,
//!   BLOB hashes, INTEGER ids, ISO-8601 text times, JSON as text; schema in
//!   `migrations/sqlite/`) so that a PostgreSQL backend (issue 5) implements
//!   the same trait over the same schema.
//! * [`Known`] joins a store and the [`KnownIndex`](tiaki_index::KnownIndex)
//!   saved as `DIR/known.idx`, and answers lookups.
//!
//! **Why sqlx (0.9, `sqlite` + `runtime-tokio` + `migrate`):** one async API
//! for SQLite now and PostgreSQL later, and migrations embedded in the binary
//! (`macros` is enabled only for `migrate!`; no compile-time checked queries,
//! so building needs no database).
//!
//! # Invariants
//!
//! * **Entry ids are index ids.** The index holds every stored entry under
//!   its `entries.id`: MD5/SHA-1/SHA-256 in the digest index; the PDQ hash
//!   and every vPDQ frame in the PDQ index, except hashes of quality < 50
//!   (an absent quality counts as 100: lists that carry none were filtered by
//!   their producer).
//! * **Generations.** `meta.index_generation` is incremented in the same
//!   transaction as every change to `entries`; `known.idx` starts with the
//!   generation it reflects. At open, a missing, unreadable or
//!   other-generation index is rebuilt from the entries, so a crash between
//!   commit and index save, or another process's import, never leaves a stale
//!   index in use.
//! * **Imports are atomic and incremental.** A list is read in a streaming
//!   way (batches of [`BATCH`] entries over a bounded channel from a reader
//!   thread), inserted in one transaction and added to the loaded index batch
//!   by batch; the index is saved only after the commit. A document-level
//!   failure rolls the whole list back; a bad record is reported and skipped.
//! * **Enabled/disabled** is a list flag read at query time: disabling
//!   touches neither the entries nor the index.
//! * **Negative lists.** Entries of a negative list are never reported as
//!   matches. A match to a positive entry `E` is suppressed when an enabled
//!   negative list holds an entry `N` with a digest equal to one of `E`'s, or
//!   with a PDQ hash within the negative list's distance (its `distance`, else
//!   31) of `E`'s PDQ hash. The rule compares known entries with each other,
//!   not with the query, so it marks `E` itself as a known false positive.
//! * **Radius.** A PDQ match to an entry of list `L` counts when its distance
//!   is at most the caller's explicit radius, else `L.distance`, else 31.

use std::future::Future;

use tiaki_formats::{ImportError, ImportSummary, ListEntry};
use tiaki_index::EntryId;
use tokio::sync::mpsc;

mod bulk_conns;
mod error;
pub mod intake;
mod json_page;
mod known;
pub mod persons;
mod postgres;
pub mod referrals;
mod sqlite;
mod store;

pub use error::StoreError;
pub use intake::IntakeStore;
pub use known::{
    Hit, ImportReport, IndexLoad, Known, MatchKind, MatchOptions, Matcher, Probe, Query,
    dihedral_of_hash, parse_query, usable_quality,
};
pub use persons::LinkStore;
pub use postgres::PgStore;
pub use referrals::ReferralStore;
pub use sqlite::SqliteStore;
pub use store::Store;
pub use tiaki_types::time::Timestamp;

/// Entries per batch between the reader thread and the database.
pub const BATCH: usize = 2000;

/// Default PDQ match distance.
pub const DEFAULT_RADIUS: u32 = tiaki_hash::pdq::MATCH_DISTANCE;

/// A known list as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ListInfo {
    pub id: i64,
    pub name: String,
    pub source: Option<String>,
    pub format: String,
    pub imported_at: String,
    pub category_scheme: Option<String>,
    pub enabled: bool,
    pub negative: bool,
    pub distance: Option<u32>,
    pub entries: u64,
    pub extra: serde_json::Value,
}

/// What `lists import` is asked to create.
#[derive(Debug, Clone, Default)]
pub struct NewList {
    pub name: String,
    pub source: Option<String>,
    pub negative: bool,
    pub distance: Option<u32>,
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub id: EntryId,
    pub list_id: i64,
    pub entry: ListEntry,
}

/// What the reader thread sends the store during an import.
#[derive(Debug)]
pub enum Feed {
    Entries(Vec<ListEntry>),
    /// The document could not be read to its end: roll back.
    Failed(ImportError),
    /// The end of the document: commit.
    End(Box<ImportSummary>),
}

/// A committed import.
#[derive(Debug)]
pub struct Imported {
    pub list_id: i64,
    pub entries: u64,
    /// The store's index generation after the commit.
    pub generation: u64,
    pub summary: Box<ImportSummary>,
}

/// The storage interface of known lists. A backend keeps the schema of
/// `migrations/sqlite/` and the invariants of the crate docs.
pub trait ListStore: Send + Sync {
    /// Every list, by name.
    fn lists(&self) -> impl Future<Output = Result<Vec<ListInfo>, StoreError>> + Send;
    fn list(&self, name: &str) -> impl Future<Output = Result<ListInfo, StoreError>> + Send;
    fn set_enabled(
        &self,
        name: &str,
        enabled: bool,
    ) -> impl Future<Output = Result<ListInfo, StoreError>> + Send;
    /// The current index generation.
    fn generation(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Creates list `new` and fills it from `feed` in one transaction,
    /// committing (and bumping the generation) on [`Feed::End`] only.
    /// `on_batch(first_id, batch)` is called for each batch just before it
    /// is inserted: its entries get the consecutive ids `first_id..` (an
    /// error after it rolls the whole import back).
    fn import_list(
        &self,
        new: &NewList,
        now: &Timestamp,
        feed: &mut mpsc::Receiver<Feed>,
        on_batch: &mut (dyn FnMut(EntryId, &[ListEntry]) + Send),
    ) -> impl Future<Output = Result<Imported, StoreError>> + Send;
    /// Up to `limit` entries with id > `after` in id order, of one list or all.
    fn entries_page(
        &self,
        list_id: Option<i64>,
        after: EntryId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredEntry>, StoreError>> + Send;
    /// The entries with these ids (missing ids are left out).
    fn entries_by_ids(
        &self,
        ids: &[EntryId],
    ) -> impl Future<Output = Result<Vec<StoredEntry>, StoreError>> + Send;
    fn entry_ids_of_list(
        &self,
        list_id: i64,
    ) -> impl Future<Output = Result<Vec<EntryId>, StoreError>> + Send;
}
