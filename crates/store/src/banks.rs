//! HMA-compatible banks (issue 19, part 3): the store's half. A bank is a
//! known list and a bank content is an entry (`entries.id` is HMA's
//! `bank_content_id`); what HMA keeps beside them — a bank's
//! `matching_enabled_ratio`, a content's `disable_until_ts` — and the log
//! of removed entries came with migration 0012. The semantics (names,
//! ratios, the index kept in step) are `tiaki_core::banks`'; the SQL is
//! `sql/banks.rs`, shared by both backends.
//!
//! Every insert or delete of an entry here bumps `meta.index_generation` in
//! its own transaction, and a delete logs the entry's id with that
//! generation in `entry_removals`. New ids are above every id ever given
//! (the removed ones included), so an index that reflects generation `G` and
//! holds ids up to `M` catches up exactly by dropping
//! [`ListStore::removed_since`](crate::ListStore::removed_since)`(G)` and adding the entries above `M`.

use tiaki_formats::ListEntry;
use tiaki_index::EntryId;

use crate::{StoreError, Timestamp};

/// A list seen as an HMA bank.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BankInfo {
    pub id: i64,
    pub name: String,
    /// The list's flag (`lists enable`/`disable`, HMA's `enabled`).
    pub enabled: bool,
    /// The stored ratio, 0.0..=1.0 (kept while the list is disabled, so
    /// enabling it again restores it).
    pub enabled_ratio: f64,
    /// A negative list (known false positives): never reported.
    pub negative: bool,
}

impl BankInfo {
    /// HMA's `matching_enabled_ratio`: the stored ratio, 0.0 while disabled.
    pub fn matching_enabled_ratio(&self) -> f64 {
        if self.enabled {
            self.enabled_ratio
        } else {
            0.0
        }
    }
}

/// A change to a bank; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BankChange {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub enabled_ratio: Option<f64>,
}

/// An entry with what HMA keeps about it as a bank content.
#[derive(Debug, Clone, PartialEq)]
pub struct BankContent {
    pub id: EntryId,
    pub list_id: i64,
    /// HMA's `disable_until_ts` as stored; `None` is never set (enabled).
    pub disable_until_ts: Option<i64>,
    pub entry: ListEntry,
}

/// A change to a content; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentChange {
    pub disable_until_ts: Option<i64>,
    /// `Some(None)` clears the note.
    pub note: Option<Option<String>>,
}

/// What a delete removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    /// Entries deleted.
    pub entries: u64,
    /// The store's index generation after the commit.
    pub generation: u64,
}

crate::surface::store_trait! {
    /// The storage interface of HMA banks and contents (see the module docs
    /// for the generation and removal-log guarantees).
    pub trait BankStore {
        /// Every list as a bank, by name (no entry counts: read per lookup).
        async fn banks(&self) -> Result<Vec<BankInfo>, StoreError>;
        async fn bank(&self, name: &str) -> Result<Option<BankInfo>, StoreError>;
        /// Creates an empty list; [`StoreError::ListExists`] if the name is taken.
        async fn create_bank(
            &self,
            name: &str,
            enabled: bool,
            enabled_ratio: f64,
            now: &Timestamp,
        ) -> Result<BankInfo, StoreError>;
        /// `None`: no bank `name`. A rename to a taken name is
        /// [`StoreError::ListExists`].
        async fn update_bank(&self, name: &str, change: &BankChange) -> Result<Option<BankInfo>, StoreError>;
        /// Deletes the list and its entries (logged as removed) in one
        /// transaction; `None`: no bank `name`.
        async fn delete_bank(&self, name: &str) -> Result<Option<Removed>, StoreError>;
        /// Inserts one entry into list `list_id` under a new id, bumping the
        /// generation in the same transaction: (id, generation).
        async fn add_entry(&self, list_id: i64, entry: &ListEntry) -> Result<(EntryId, u64), StoreError>;
        async fn content(&self, id: EntryId) -> Result<Option<BankContent>, StoreError>;
        /// The contents with these ids (missing ids are left out).
        async fn contents_by_ids(&self, ids: &[EntryId]) -> Result<Vec<BankContent>, StoreError>;
        /// Changes a content's `disable_until_ts` or note (no hash changes,
        /// so the generation stays); `None`: no such content.
        async fn update_content(&self, id: EntryId, change: &ContentChange) -> Result<Option<BankContent>, StoreError>;
        /// Deletes one entry (logged as removed); `None`: no such entry.
        async fn delete_content(&self, id: EntryId) -> Result<Option<Removed>, StoreError>;
    }
}
