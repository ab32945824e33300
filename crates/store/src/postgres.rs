//! The PostgreSQL backend, for a multi-user deployment and `tiaki worker`.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};

/// The store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

type Backend = PgStore;
type Db = Postgres;
type DbRow = PgRow;
type DbConn = sqlx::PgConnection;

impl PgStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// `postgres`.
    pub fn backend_name(&self) -> &'static str {
        "postgres"
    }
}

/// Entry ids are assigned as `MAX(id) + 1..` inside the import's
/// transaction; PostgreSQL needs a table lock to keep two concurrent imports
/// from choosing the same ids (readers are not blocked).
async fn lock_entries(conn: &mut DbConn) -> Result<(), StoreError> {
    sqlx::query("LOCK TABLE entries IN EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What prepares a transaction of an intake's bulk writes
/// (`bulk_transaction`): its commit does not wait for the WAL flush. A
/// server crash can then lose the last few batches (never corrupt
/// anything), and a rerun of the resumable ingest stores them again; the
/// referral ledger and everything else keep synchronous commits.
const BULK_TRANSACTION: &str = "SET LOCAL synchronous_commit TO OFF";

/// Inserts media rows (skipping those already stored: same intake and
/// provider id) as one statement over column arrays (`UNNEST`), and returns,
/// for each inserted row that carries matches, its index in `rows` and its
/// new id. A multi-row `VALUES` list costs the server an expression per
/// value at every execution (7,200 for 400 rows) — most of its time in a
/// 2,000,000-line intake; arrays are one parameter per column.
async fn insert_media_rows(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[MediaRow],
) -> Result<Vec<(usize, i64)>, StoreError> {
    fn col<'a, T>(rows: &'a [MediaRow], f: impl Fn(&'a MediaRow) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    // Lines are unique within an intake: they say which row got which id.
    // Only rows with matches need theirs (most of an operation's are new).
    let index_of: HashMap<i64, usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.matches.is_empty())
        .map(|(i, m)| (i64_of(m.line), i))
        .collect();
    let wanted: Vec<i64> = index_of.keys().copied().collect();
    let q = sqlx::query(
        "WITH ins AS (INSERT INTO media (intake_id, provider_id, line, account, file, original_name, \
         uploaded_at, upload_ip, viewed_by_provider, md5, sha1, sha256, pdq, pdq_quality, \
         vpdq, hash_state, triage, data) \
         SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::boolean[], $10::bytea[], $11::bytea[], $12::bytea[], \
         $13::bytea[], $14::bigint[], $15::text[], $16::text[], $17::text[], $18::text[]) \
         ON CONFLICT (intake_id, provider_id) DO NOTHING \
         RETURNING id, line) \
         SELECT id, line FROM ins WHERE line = ANY($19::bigint[])",
    )
    .bind(intake_id)
    .bind(col(rows, |m| m.provider_id.as_str()))
    .bind(col(rows, |m| i64_of(m.line)))
    .bind(col(rows, |m| m.account.as_str()))
    .bind(col(rows, |m| m.file.as_deref()))
    .bind(col(rows, |m| m.original_name.as_deref()))
    .bind(col(rows, |m| m.uploaded_at.as_deref()))
    .bind(col(rows, |m| m.upload_ip.as_deref()))
    .bind(col(rows, |m| m.viewed_by_provider))
    .bind(col(rows, |m| m.hashes.md5.map(|d| d.to_vec())))
    .bind(col(rows, |m| m.hashes.sha1.map(|d| d.to_vec())))
    .bind(col(rows, |m| m.hashes.sha256.map(|d| d.to_vec())))
    .bind(col(rows, |m| m.hashes.pdq.map(|p| p.to_bytes().to_vec())))
    .bind(col(rows, |m| m.hashes.pdq_quality.map(i64::from)))
    .bind(col(rows, |m| vpdq_json(&m.hashes.vpdq)))
    .bind(col(rows, |m| m.hash_state.name()))
    .bind(col(rows, |m| m.triage.map(Triage::name)))
    .bind(col(rows, |m| m.data.as_str()))
    .bind(wanted);
    let mut out = Vec::new();
    for r in q.fetch_all(&mut *conn).await? {
        let line: i64 = r.try_get("line")?;
        if let Some(&i) = index_of.get(&line) {
            out.push((i, r.try_get("id")?));
        }
    }
    Ok(out)
}

/// How `claim_pending` locks the rows it takes: skipping rows another worker holds.
const CLAIM_LOCK: &str = " FOR UPDATE SKIP LOCKED";

/// A blob column as hex text.
fn hex_sql(col: &str) -> String {
    format!("ENCODE({col}, 'hex')")
}

/// JSON functions: an array of values, and the array of a group's rows
/// (`uploaded_media` aggregates a page of media with them).
const JSON_ARRAY: &str = "json_build_array";
const JSON_GROUP_ARRAY: &str = "json_agg";

include!("sql/lists.rs");
include!("sql/intake.rs");
include!("sql/persons.rs");
include!("sql/referrals.rs");
