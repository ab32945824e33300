//! The audit log's tables (`migrations/*/0011_audit.sql`): rows appended
//! one at a time under the writer lock, read back filtered (`tiaki audit
//! ls`) or whole in pages (`tiaki audit verify`), and the signed
//! checkpoints of the chain's head. Both backends share the SQL
//! (`sql/audit.rs`).
//!
//! The store computes nothing cryptographic: [`AuditStore::append_audit`]
//! finds the head and hands the new row to the caller's `seal`, which
//! returns its hash (`tiaki_core::audit` owns the chain's encoding). What
//! the store guarantees is that appends are serialised, across processes
//! too: SQLite's transaction starts with `BEGIN IMMEDIATE` (the database's
//! single writer lock, taken before the head is read), PostgreSQL's takes
//! a transaction-scoped advisory lock first. So two appends never read the
//! same head, and the chain never forks (`UNIQUE (prev_hash)` would refuse
//! a fork anyway).

use crate::StoreError;
pub use tiaki_types::audit::{AuditCheckpoint, AuditEntry, AuditFilter};

/// The previous hash of the first row: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Computes a row's hash from the row (its `seq` and `prev_hash` filled in
/// by the store).
pub type Seal<'a> = &'a (dyn Fn(&AuditEntry) -> String + Send + Sync);

crate::surface::store_trait! {
    /// The audit log. Rows are only ever appended (the tables refuse
    /// UPDATE and DELETE; the chain detects whoever drops the triggers).
    pub trait AuditStore {
        /// Appends `entry` (its `seq`, `prev_hash` and `hash` are ignored):
        /// under the writer lock, reads the head, sets `seq` to the head's
        /// + 1 and `prev_hash` to the head's hash ([`GENESIS_HASH`] for the
        /// first row), sets `hash` to `seal(&entry)`, inserts, commits, and
        /// returns the row as stored.
        async fn append_audit(&self, entry: &AuditEntry, seal: Seal<'_>) -> Result<AuditEntry, StoreError>;
        /// Rows matching `filter`, by seq.
        async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
        /// Up to `limit` rows with seq > `after`, by seq (the whole chain,
        /// page by page, for verification).
        async fn audit_chain_page(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
        /// The seq of the row whose hash is `hash`, if any.
        async fn audit_seq_of_hash(&self, hash: &str) -> Result<Option<i64>, StoreError>;
        /// The head: the row with the largest seq, if any.
        async fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError>;
        /// Stores a checkpoint.
        async fn add_audit_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<(), StoreError>;
        /// Every checkpoint, in the order they were written.
        async fn audit_checkpoints(&self) -> Result<Vec<AuditCheckpoint>, StoreError>;
    }
}
