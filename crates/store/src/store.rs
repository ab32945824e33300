//! [`Store`]: whichever backend the command line chose, behind the store
//! traits. The traits' forwarding `impl`s for it are generated beside each
//! trait (`surface::store_trait!`).

use std::path::Path;

use crate::{PgStore, SqliteStore, StoreError};

/// The store of a data directory: SQLite in `DIR/tiaki.db` by default, or
/// PostgreSQL.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// `database`: `None` (or `sqlite`) for `dir/tiaki.db`, else a
    /// `postgres://` (or `postgresql://`) URL.
    pub async fn open(dir: &Path, database: Option<&str>) -> Result<Store, StoreError> {
        match database {
            None | Some("sqlite") => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                Ok(Store::Sqlite(
                    SqliteStore::open(&dir.join("tiaki.db")).await?,
                ))
            }
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Store::Postgres(PgStore::connect(url).await?))
            }
            Some(other) => Err(StoreError::BadDatabase(other.to_string())),
        }
    }

    /// The random id the store was created with.
    pub async fn store_id(&self) -> Result<String, StoreError> {
        match self {
            Store::Sqlite(s) => s.meta("store_id").await,
            Store::Postgres(s) => s.meta("store_id").await,
        }
    }

    /// The store as an error message names it: the SQLite file, or the
    /// PostgreSQL database and host (never the password).
    pub fn describe(&self) -> String {
        match self {
            Store::Sqlite(s) => s.describe(),
            Store::Postgres(s) => s.describe(),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(s) => s.backend_name(),
            Store::Postgres(s) => s.backend_name(),
        }
    }
}
