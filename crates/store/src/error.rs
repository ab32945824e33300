//! The store's errors: one readable sentence each.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// From the SQLite bulk path, which talks to SQLite directly.
    #[error("database error: {0}")]
    Sqlite(String),
    #[error("cannot prepare the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("index error: {0}")]
    Index(#[from] tiaki_index::IndexError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no list named {0:?}")]
    NoSuchList(String),
    #[error("a list named {0:?} already exists")]
    ListExists(String),
    #[error("cannot read the list: {0}")]
    Import(#[from] tiaki_formats::ImportError),
    #[error("the list reader stopped before the end of its input; nothing was imported")]
    ImportAborted,
    #[error("cannot write the export: {0}")]
    Export(std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(
        "unknown database {0:?}: give a postgres:// URL, or nothing for SQLite in the data directory"
    )]
    BadDatabase(String),
    #[error("no referral with id {0:?}")]
    NoSuchReferral(String),
    #[error("not a hash: {0}")]
    BadQuery(String),
}
