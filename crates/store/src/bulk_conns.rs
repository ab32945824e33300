//! The connections an intake's bulk writes go through: one per intake
//! being written, held from its first batch until the intake leaves the
//! reading state (`set_intake_state`).
//!
//! Why hold one: the backend prepares it once for bulk writing
//! (`BULK_SESSION`: SQLite's 64 MiB page cache for the unique-key lookups
//! of `ON CONFLICT`; PostgreSQL's commits without waiting for the WAL
//! flush), and nothing else ever uses it. Through the pool, every pooled
//! connection would sooner or later carry a bulk batch and keep its
//! setting: four 64 MiB caches, a fifth of an operation's intake peak,
//! reused later by readers that do not need them. When the intake is read,
//! the connection is closed (not returned to the pool), so its cache and
//! settings go with it; a batch that fails closes it too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::pool::PoolConnection;

/// Bulk connections by intake id (see the module).
pub(crate) struct BulkConns<DB: sqlx::Database>(Arc<Mutex<HashMap<i64, PoolConnection<DB>>>>);

impl<DB: sqlx::Database> BulkConns<DB> {
    pub(crate) fn new() -> BulkConns<DB> {
        BulkConns(Arc::new(Mutex::new(HashMap::new())))
    }

    /// Takes the intake's connection out (`None`: none yet). A batch uses
    /// it, then `put`s it back; no lock is held meanwhile.
    pub(crate) fn take(&self, intake_id: i64) -> Option<PoolConnection<DB>> {
        self.0.lock().ok().and_then(|mut m| m.remove(&intake_id))
    }

    /// Keeps the connection for the intake's next batch.
    pub(crate) fn put(&self, intake_id: i64, conn: PoolConnection<DB>) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(intake_id, conn);
        }
        // A poisoned lock (a panic elsewhere): the connection drops and
        // goes back to the pool; the next batch prepares a new one.
    }
}

impl<DB: sqlx::Database> Clone for BulkConns<DB> {
    fn clone(&self) -> Self {
        BulkConns(Arc::clone(&self.0))
    }
}

impl<DB: sqlx::Database> std::fmt::Debug for BulkConns<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("BulkConns").field("held", &n).finish()
    }
}
