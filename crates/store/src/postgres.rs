//! The PostgreSQL backend, for a multi-user deployment and `tiaki worker`.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};

use crate::bulk_conns::BulkConns;

/// The store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    bulk: BulkConns<Postgres>,
}

type Backend = PgStore;
type Db = Postgres;
type DbRow = PgRow;
type DbConn = sqlx::PgConnection;

mod copy;

impl PgStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        // One plain connection first, with a deadline: the pool would retry
        // a refused connection until its acquire timeout and then report
        // only that it timed out.
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        let store = format!(
            "PostgreSQL database {} on {}:{}",
            options.get_database().unwrap_or("(default)"),
            options.get_host(),
            options.get_port()
        );
        let unreachable = |detail: String| StoreError::Unreachable {
            store: store.clone(),
            detail,
        };
        match tokio::time::timeout(
            Duration::from_secs(15),
            <sqlx::PgConnection as sqlx::Connection>::connect_with(&options),
        )
        .await
        {
            Err(_) => return Err(unreachable("no answer within 15 s".into())),
            Ok(Err(e @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_)))) => {
                return Err(unreachable(e.to_string()));
            }
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(c)) => {
                let _ = sqlx::Connection::close(c).await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            pool,
            bulk: BulkConns::new(),
        })
    }

    /// `postgres`.
    pub fn backend_name(&self) -> &'static str {
        "postgres"
    }

    /// `database DB on HOST:PORT` (the URL's password is never shown).
    pub fn describe(&self) -> String {
        let o = self.pool.connect_options();
        format!(
            "PostgreSQL database {} on {}:{}",
            o.get_database().unwrap_or("(default)"),
            o.get_host(),
            o.get_port()
        )
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

/// What prepares the connection of an intake's bulk writes
/// (`crate::bulk_conns`; it is closed after the intake, never pooled): its
/// commits do not wait for the WAL flush. A server crash can then lose the
/// last few batches (never corrupt anything), and a rerun of the resumable
/// ingest stores them again; the referral ledger and everything else keep
/// synchronous commits.
const BULK_SESSION: &str = "SET synchronous_commit TO OFF";

/// Inserts media rows (skipping those already stored: same intake and
/// provider id), and returns, for each inserted row that carries matches,
/// its index in `rows` and its new id.
///
/// The rows go in by binary `COPY` (see `copy`), under a savepoint: a
/// batch that is new, as all are in a first run, costs the server half of
/// an `INSERT`. `COPY` cannot skip rows, so a batch holding a row already
/// stored (an ingest resumed after kill -9, a repeated provider id) fails on
/// the unique key, is rolled back to the savepoint, and goes in again
/// through `insert_media_skipping`.
async fn insert_media_rows(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[MediaRow],
) -> Result<Vec<(usize, i64)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let payload = media_copy(intake_id, rows)?;
    let statement = format!("COPY media ({MEDIA_COLUMNS}) FROM STDIN (FORMAT binary)");
    if copy_new(conn, &statement, payload).await? {
        ids_of_matched(conn, intake_id, rows).await
    } else {
        insert_media_skipping(conn, intake_id, rows).await
    }
}

/// Inserts event rows, skipping those already stored (same intake and
/// line): by `COPY`, as `insert_media_rows` does.
async fn insert_event_rows(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[EventRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut c = copy::BinaryCopy::new(5, rows.len() * 128);
    for e in rows {
        c.row();
        c.int8(intake_id);
        c.int8(i64_of(e.line));
        c.text(&e.kind);
        c.opt_text(e.at.as_deref());
        c.text(&e.data);
    }
    let statement = "COPY events (intake_id, line, kind, at, data) FROM STDIN (FORMAT binary)";
    if !copy_new(conn, statement, c.finish()?).await? {
        insert_events_skipping(conn, intake_id, rows).await?;
    }
    Ok(())
}

/// Copies `payload` in with `statement` (`COPY … FROM STDIN`) under a
/// savepoint. `Ok(false)`: a row met a unique key (a replayed batch: an
/// ingest resumed after kill -9); nothing was copied, and the caller
/// inserts the batch skipping what is stored.
async fn copy_new(
    conn: &mut DbConn,
    statement: &str,
    payload: Vec<u8>,
) -> Result<bool, StoreError> {
    sqlx::query("SAVEPOINT bulk_copy")
        .execute(&mut *conn)
        .await?;
    let copied = async {
        let mut copy = conn.copy_in_raw(statement).await?;
        copy.send(payload).await?;
        copy.finish().await
    }
    .await;
    match copied {
        Ok(_) => {
            sqlx::query("RELEASE SAVEPOINT bulk_copy")
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            sqlx::query("ROLLBACK TO SAVEPOINT bulk_copy")
                .execute(&mut *conn)
                .await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// The columns `copy_media` and `insert_media_skipping` write, in order.
const MEDIA_COLUMNS: &str = "intake_id, provider_id, line, account, file, original_name, \
     uploaded_at, upload_ip, viewed_by_provider, md5, sha1, sha256, pdq, pdq_quality, \
     vpdq, hash_state, triage, data";

/// The `COPY` payload of media rows, in `MEDIA_COLUMNS` order.
fn media_copy(intake_id: i64, rows: &[MediaRow]) -> Result<Vec<u8>, StoreError> {
    let mut c = copy::BinaryCopy::new(18, rows.len() * 256);
    for m in rows {
        let h = &m.hashes;
        c.row();
        c.int8(intake_id);
        c.text(&m.provider_id);
        c.int8(i64_of(m.line));
        c.text(&m.account);
        c.opt_text(m.file.as_deref());
        c.opt_text(m.original_name.as_deref());
        c.opt_text(m.uploaded_at.as_deref());
        c.opt_text(m.upload_ip.as_deref());
        c.opt_bool(m.viewed_by_provider);
        c.opt_bytea(h.md5.as_ref().map(|d| &d[..]));
        c.opt_bytea(h.sha1.as_ref().map(|d| &d[..]));
        c.opt_bytea(h.sha256.as_ref().map(|d| &d[..]));
        c.opt_bytea(h.pdq.map(|p| p.to_bytes()).as_ref().map(|d| &d[..]));
        c.opt_int8(h.pdq_quality.map(i64::from));
        c.opt_text(vpdq_json(&h.vpdq).as_deref());
        c.text(m.hash_state.name());
        c.opt_text(m.triage.map(Triage::name));
        c.text(&m.data);
    }
    c.finish()
}

/// The ids of the rows that carry matches, just copied in.
async fn ids_of_matched(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[MediaRow],
) -> Result<Vec<(usize, i64)>, StoreError> {
    let index_of: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.matches.is_empty())
        .map(|(i, m)| (m.provider_id.as_str(), i))
        .collect();
    if index_of.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = index_of.keys().copied().collect();
    let found = sqlx::query(
        "SELECT id, provider_id FROM media WHERE intake_id = $1 AND provider_id = ANY($2::text[])",
    )
    .bind(intake_id)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(found.len());
    for r in found {
        let provider_id: &str = r.try_get("provider_id")?;
        if let Some(&i) = index_of.get(provider_id) {
            out.push((i, r.try_get("id")?));
        }
    }
    Ok(out)
}

/// `INSERT … ON CONFLICT DO NOTHING` of the rows, as one statement over
/// column arrays (`UNNEST`): a multi-row `VALUES` list would cost the
/// server an expression per value at every execution (7,200 for 400 rows).
/// Returns what `insert_media_rows` does.
async fn insert_media_skipping(
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
    let q = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO media ({MEDIA_COLUMNS}) \
         SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::text[], $9::boolean[], $10::bytea[], $11::bytea[], $12::bytea[], \
         $13::bytea[], $14::bigint[], $15::text[], $16::text[], $17::text[], $18::text[]) \
         ON CONFLICT (intake_id, provider_id) DO NOTHING \
         RETURNING id, line"
    )))
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
    .bind(col(rows, |m| m.data.as_str()));
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

/// Bulk reads as plain rows: the server sends stored values as they are,
/// while its JSON functions look each value's type up again at every call
/// (twice the server time of a triage read).
const JSON_PAGES: bool = false;

/// JSON functions: an array of values, and the array of a group's rows
/// (`uploaded_media` aggregates a page of media with them).
const JSON_ARRAY: &str = "json_build_array";
const JSON_GROUP_ARRAY: &str = "json_agg";
/// A TEXT column holding JSON, embedded as JSON (not as a string) in an
/// aggregate; `{}` (nothing beside the columns) as null.
const JSON_OF_DATA: &str = "CASE WHEN m.data = '{}' THEN NULL ELSE m.data::json END";

include!("sql/lists.rs");
include!("sql/banks.rs");
include!("sql/intake.rs");
include!("sql/persons.rs");
include!("sql/referrals.rs");
include!("sql/users.rs");

/// The advisory lock key of audit appends ("tiakiaud" in ASCII).
const AUDIT_LOCK: i64 = 0x7469_616b_6961_7564;

/// The transaction of an audit append: a transaction-scoped advisory lock,
/// taken before the head is read, makes appends from every process on this
/// database one at a time (released at commit or rollback). Readers are not
/// blocked.
async fn begin_audit(pool: &PgPool) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// A transaction that reads, then writes what it read decides: plain on
/// PostgreSQL (a status change re-checks the status it read in its UPDATE).
async fn begin_write(pool: &PgPool) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    Ok(pool.begin().await?)
}

include!("sql/audit.rs");
include!("sql/threads.rs");
include!("sql/vid.rs");
