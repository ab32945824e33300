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

/// Media rows per multi-row INSERT: 18 columns × 400 rows.
const MEDIA_ROWS: usize = 400;

/// Inserts media rows (skipping those already stored: same intake and
/// provider id) as multi-row statements; returns, for each inserted row that
/// carries matches, its index in `rows` and its new id.
async fn insert_media_rows(
    conn: &mut DbConn,
    intake_id: i64,
    rows: &[MediaRow],
) -> Result<Vec<(usize, i64)>, StoreError> {
    let mut out = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (c, chunk) in rows.chunks(MEDIA_ROWS).enumerate() {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO media (intake_id, provider_id, line, account, file, original_name, \
             uploaded_at, upload_ip, viewed_by_provider, md5, sha1, sha256, pdq, pdq_quality, \
             vpdq, hash_state, triage, data) ",
        );
        qb.push_values(chunk, |mut b, m| {
            let h = &m.hashes;
            b.push_bind(intake_id)
                .push_bind(m.provider_id.as_str())
                .push_bind(i64_of(m.line))
                .push_bind(m.account.as_str())
                .push_bind(m.file.as_deref())
                .push_bind(m.original_name.as_deref())
                .push_bind(m.uploaded_at.as_deref())
                .push_bind(m.upload_ip.as_deref())
                .push_bind(m.viewed_by_provider)
                .push_bind(h.md5.as_ref().map(|d| d.as_slice()))
                .push_bind(h.sha1.as_ref().map(|d| d.as_slice()))
                .push_bind(h.sha256.as_ref().map(|d| d.as_slice()))
                .push_bind(h.pdq.map(|p| p.to_bytes().to_vec()))
                .push_bind(h.pdq_quality.map(i64::from))
                .push_bind(vpdq_json(&h.vpdq))
                .push_bind(m.hash_state.name())
                .push_bind(m.triage.map(Triage::name))
                .push_bind(m.data.as_str());
        });
        qb.push(" ON CONFLICT (intake_id, provider_id) DO NOTHING");
        // The new ids are only needed to attach matches: most chunks of an
        // operation (new material) have none, and skip the returned rows.
        if chunk.iter().all(|m| m.matches.is_empty()) {
            qb.build().execute(&mut *conn).await?;
            continue;
        }
        qb.push(" RETURNING id, provider_id");
        let inserted = qb.build().fetch_all(&mut *conn).await?;
        index_of.clear();
        for (i, m) in chunk.iter().enumerate() {
            index_of.insert(&m.provider_id, c * MEDIA_ROWS + i);
        }
        for r in &inserted {
            let pid: String = r.try_get("provider_id")?;
            if let Some(&i) = index_of.get(pid.as_str()) {
                out.push((i, r.try_get("id")?));
            }
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
