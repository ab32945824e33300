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
