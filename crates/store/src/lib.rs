//! Tiaki's store: known hash lists and their entries, intakes, persons and
//! the referral ledger, in SQLite or PostgreSQL.
//!
//! * The storage traits ([`ListStore`], [`IntakeStore`], [`LinkStore`],
//!   [`ReferralStore`], [`AuditStore`]) are declared once each with `surface::store_trait!`,
//!   which also makes [`Store`] (whichever backend the command line chose)
//!   forward them. [`SqliteStore`] is the embedded backend (`DIR/tiaki.db`),
//!   [`PgStore`] the PostgreSQL one; both run the same SQL (`sql/*.rs`).
//! * The match index beside the lists (`known.idx`), list import and export
//!   and matching are `tiaki_core::known` and `tiaki_core::matching`; the
//!   store keeps the tables and the guarantees they rest on.
//!
//! **Why sqlx (0.9, `sqlite` + `postgres` + `runtime-tokio` + `migrate`):**
//! one async API for both databases, and migrations embedded in the binary
//! (`macros` is enabled only for `migrate!`; no compile-time checked queries,
//! so building needs no database).
//!
//! # Invariants
//!
//! * **Entry ids are stable.** An entry keeps its `entries.id`; the index in
//!   `tiaki-core` files entries under it.
//! * **Generations.** `meta.index_generation` is incremented in the same
//!   transaction as every change to `entries`, so an index can tell whether
//!   it reflects the entries.
//! * **Imports are atomic.** [`ListStore::import_list`] inserts a whole list
//!   in one transaction, committing only on [`Feed::End`]; a document-level
//!   failure rolls the whole list back.
//! * **Enabled/disabled** is a list flag: changing it touches neither the
//!   entries nor the generation.

use tiaki_formats::{ImportError, ImportSummary, ListEntry};
use tiaki_index::EntryId;
use tokio::sync::mpsc;

pub mod banks;
pub mod audit;
mod bulk_conns;
mod error;
pub mod intake;
mod json_page;
pub mod persons;
mod postgres;
pub mod referrals;
mod sqlite;
mod store;
mod surface;
pub mod threads;
pub mod users;
pub mod vid;

pub use banks::BankStore;
pub use audit::AuditStore;
pub use error::StoreError;
pub use intake::{IntakeStore, MatchKind};
pub use persons::LinkStore;
pub use postgres::PgStore;
pub use referrals::ReferralStore;
pub use sqlite::SqliteStore;
pub use store::Store;
pub use threads::ThreadStore;
pub use users::UserStore;
pub use vid::VidStore;
pub use tiaki_types::time::Timestamp;

/// A known list as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// SHA-256 (hex) of the file it was imported from, when known.
    pub file_sha256: Option<String>,
    pub extra: serde_json::Value,
}

/// What `lists import` is asked to create.
#[derive(Debug, Clone, Default)]
pub struct NewList {
    pub name: String,
    pub source: Option<String>,
    pub negative: bool,
    pub distance: Option<u32>,
    /// SHA-256 (hex) of the file, so that running the same import again
    /// after a crash is known for what it is.
    pub file_sha256: Option<String>,
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

surface::store_trait! {
    /// The storage interface of known lists. A backend keeps the schema of
    /// `migrations/sqlite/` and the invariants of the crate docs.
    pub trait ListStore {
        /// Every list, by name.
        async fn lists(&self) -> Result<Vec<ListInfo>, StoreError>;
        async fn list(&self, name: &str) -> Result<ListInfo, StoreError>;
        async fn set_enabled(&self, name: &str, enabled: bool) -> Result<ListInfo, StoreError>;
        /// The current index generation.
        async fn generation(&self) -> Result<u64, StoreError>;
        /// Creates list `new` and fills it from `feed` in one transaction,
        /// committing (and bumping the generation) on [`Feed::End`] only.
        /// `on_batch(first_id, batch)` is called for each batch just before it
        /// is inserted: its entries get the consecutive ids `first_id..` (an
        /// error after it rolls the whole import back).
        async fn import_list(
            &self,
            new: &NewList,
            now: &Timestamp,
            feed: &mut mpsc::Receiver<Feed>,
            on_batch: &mut (dyn FnMut(EntryId, &[ListEntry]) + Send),
        ) -> Result<Imported, StoreError>;
        /// Up to `limit` entries with id > `after` in id order, of one list or all.
        async fn entries_page(
            &self,
            list_id: Option<i64>,
            after: EntryId,
            limit: u32,
        ) -> Result<Vec<StoredEntry>, StoreError>;
        /// The entries with these ids (missing ids are left out).
        async fn entries_by_ids(&self, ids: &[EntryId]) -> Result<Vec<StoredEntry>, StoreError>;
        async fn entry_ids_of_list(&self, list_id: i64) -> Result<Vec<EntryId>, StoreError>;
        /// The ids of the entries deleted after generation `generation`
        /// (the removal log of migration 0012; see [`banks`]).
        async fn removed_since(&self, generation: u64) -> Result<Vec<EntryId>, StoreError>;
    }
}
