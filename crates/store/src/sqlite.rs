//! The embedded SQLite backend: `DIR/tiaki.db`.

mod alloc;
mod bulk;

use std::path::Path;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::bulk_conns::BulkConns;

/// The store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    bulk: BulkConns<Sqlite>,
}

type Backend = SqliteStore;
type Db = Sqlite;
type DbRow = SqliteRow;
type DbConn = sqlx::SqliteConnection;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        alloc::install();
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a committed transaction survives a process
            // crash (kill -9); only an OS crash can lose the last commits,
            // never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Another `tiaki` writing at the same time waits instead of failing.
            .busy_timeout(Duration::from_secs(60))
            // 16 MiB of page cache per connection: bulk reads are sequential
            // and gain nothing from more, and each pooled connection keeps
            // its cache (4 × 64 MiB was a quarter of an ingest's peak).
            // An intake's writes raise their own connection's cache
            // (`BULK_SESSION`). Fewer, larger WAL checkpoints. (No mmap:
            // mapped pages would count against the memory an ingest may use.)
            .pragma("cache_size", "-16384")
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", "10000");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore {
            pool,
            bulk: BulkConns::new(),
        })
    }

    /// `sqlite`.
    pub fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    /// The database file.
    pub fn describe(&self) -> String {
        self.pool
            .connect_options()
            .get_filename()
            .display()
            .to_string()
    }
}

/// SQLite needs no explicit lock: the first write of a transaction takes
/// the database's single writer lock, so `MAX(id)` cannot move under it.
async fn lock_entries(_conn: &mut DbConn) -> Result<(), StoreError> {
    Ok(())
}

/// What prepares the connection of an intake's bulk writes
/// (`crate::bulk_conns`): a 64 MiB page cache keeps the unique-key lookups of
/// `ON CONFLICT` (random over millions of provider ids) off the read(2)
/// path. Commits need nothing: in WAL mode with `synchronous = NORMAL` they
/// already do not wait for the disk (see `SqliteStore::open`).
const BULK_SESSION: &str = "PRAGMA cache_size = -65536";

/// Inserts media rows (skipping those already stored: same intake and
/// provider id) through one prepared statement on SQLite's own handle
/// (`sqlite/bulk.rs`); returns, for each inserted row that carries matches,
/// its index in `rows` and its new id.
async fn insert_media_rows(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[MediaRow],
) -> Result<Vec<(usize, i64)>, StoreError> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: the connection is inside the caller's transaction, and the
    // lock keeps sqlx's worker off the handle until `handle` drops (after
    // this call; nothing is awaited meanwhile).
    unsafe { bulk::insert_media(db, intake_id, rows) }
}

/// Inserts event rows, skipping those already stored (same intake and
/// line): multi-row statements (an operation has far fewer events than
/// media).
async fn insert_event_rows(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[EventRow],
) -> Result<(), StoreError> {
    insert_events_skipping(conn, intake_id, rows).await
}

/// How `claim_pending` locks the rows it takes: nothing (SQLite has one writer at a time).
const CLAIM_LOCK: &str = "";

/// A blob column as hex text.
fn hex_sql(col: &str) -> String {
    format!("HEX({col})")
}

/// Bulk reads as one JSON text a page (`json_page`): sqlx hands SQLite's
/// rows over one at a time from its worker thread, which costs more than
/// the JSON.
const JSON_PAGES: bool = true;

/// JSON functions: an array of values, and the array of a group's rows
/// (`uploaded_media` aggregates a page of media with them).
const JSON_ARRAY: &str = "json_array";
const JSON_GROUP_ARRAY: &str = "json_group_array";
/// A TEXT column holding JSON, embedded as JSON (not as a string) in an
/// aggregate; `{}` (nothing beside the columns) as null.
const JSON_OF_DATA: &str = "CASE WHEN m.data = '{}' THEN NULL ELSE json(m.data) END";

include!("sql/lists.rs");
include!("sql/banks.rs");
include!("sql/intake.rs");
include!("sql/persons.rs");
include!("sql/referrals.rs");
include!("sql/users.rs");

/// The transaction of an audit append: `BEGIN IMMEDIATE` takes SQLite's
/// single writer lock before the head is read, so a second process's append
/// waits (busy timeout) instead of reading the same head. (A deferred
/// transaction would take it only at the INSERT, and fail there with
/// SQLITE_BUSY when another writer came between.)
async fn begin_audit(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    begin_write(pool).await
}

/// A transaction that reads, then writes what it read decides (the
/// victim-identification changes): `BEGIN IMMEDIATE` takes the writer lock
/// first. A deferred transaction would hold a read snapshot that SQLite
/// refuses to upgrade (SQLITE_BUSY at once, no busy wait) when another
/// connection wrote in between, or still holds the lock of a transaction
/// being rolled back.
async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

include!("sql/audit.rs");
include!("sql/threads.rs");
include!("sql/vid.rs");
