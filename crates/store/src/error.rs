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
    #[error("{0:?} is not a usable list name: 1 to 200 characters, no control characters")]
    BadListName(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("a user named {0:?} already exists")]
    UserExists(String),
    #[error("no referral with id {0:?}")]
    NoSuchReferral(String),
    #[error("no series {0:?}")]
    NoSuchSeries(String),
    #[error("a series named {0:?} already exists")]
    SeriesExists(String),
    /// A merged series takes no new records and is merged no further; a
    /// series is not merged into itself (`into: None`).
    #[error("{}", match into {
        Some(into) => format!("series {name:?} was merged into series {into}: use that one"),
        None => format!("series {name:?} cannot be merged into itself"),
    })]
    SeriesMerged { name: String, into: Option<i64> },
    #[error("no {record} with id {id}")]
    NoSuchVidRecord {
        record: tiaki_types::vid::VidRecord,
        id: i64,
    },
    #[error(transparent)]
    Transition(#[from] tiaki_types::vid::TransitionError),
    /// Another change came between reading a record and changing it.
    #[error("{record} {id} was changed by someone else meanwhile; nothing was changed: read it again")]
    Changed {
        record: tiaki_types::vid::VidRecord,
        id: i64,
    },
    #[error("not a hash: {0}")]
    BadQuery(String),
    /// The store's disk (or PostgreSQL's) has no space left; the write in
    /// progress was rolled back.
    #[error(
        "no space left for the store {store} ({detail}): the interrupted write was rolled back; free space and run the same command again"
    )]
    Full { store: String, detail: String },
    /// The database server could not be reached at all.
    #[error("cannot reach the store {store}: {detail}")]
    Unreachable { store: String, detail: String },
}

impl StoreError {
    /// A full disk becomes [`StoreError::Full`] naming `store`; any other
    /// error is returned as it is.
    pub fn in_store(self, store: &crate::Store) -> StoreError {
        let full = match &self {
            StoreError::Db(sqlx::Error::Database(d)) => {
                matches!(d.code().as_deref(), Some("13" | "53100"))
            }
            StoreError::Db(sqlx::Error::Io(e)) => e.kind() == std::io::ErrorKind::StorageFull,
            StoreError::Sqlite(m) => m.contains("database or disk is full"),
            _ => false,
        };
        if !full {
            return self;
        }
        let detail = match &self {
            StoreError::Db(sqlx::Error::Database(d)) => d.message().to_owned(),
            StoreError::Db(e) => e.to_string(),
            other => other.to_string(),
        };
        StoreError::Full {
            store: store.describe(),
            detail,
        }
    }
}

impl tiaki_types::codes::ErrorCode for StoreError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        use tiaki_types::codes::Code;
        match self {
            StoreError::Db(e) => db_code(e),
            StoreError::Sqlite(_) => Code::StoreUnavailable,
            StoreError::Migrate(_) | StoreError::Index(_) | StoreError::Corrupt(_) => {
                Code::StoreCorrupt
            }
            StoreError::Io { source, .. } | StoreError::Export(source) => source.error_code(),
            StoreError::NoSuchList(_)
            | StoreError::NoSuchReferral(_)
            | StoreError::NoSuchUser(_)
            | StoreError::NoSuchSeries(_)
            | StoreError::NoSuchVidRecord { .. } => Code::NotFound,
            StoreError::ListExists(_)
            | StoreError::UserExists(_)
            | StoreError::SeriesExists(_)
            | StoreError::SeriesMerged { .. }
            | StoreError::Transition(_)
            | StoreError::Changed { .. } => Code::Conflict,
            StoreError::Import(_) => Code::InvalidInput,
            StoreError::ImportAborted => Code::Internal,
            StoreError::BadDatabase(_) | StoreError::BadQuery(_) | StoreError::BadListName(_) => {
                Code::InvalidArgument
            }
            StoreError::Full { .. } | StoreError::Unreachable { .. } => Code::StoreUnavailable,
        }
    }
}

/// A database error's code: the server out of reach or out of space is the
/// operator's to fix (503); a value that does not decode is damaged data.
fn db_code(e: &sqlx::Error) -> tiaki_types::codes::Code {
    use tiaki_types::codes::Code;
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Configuration(_) => Code::StoreUnavailable,
        sqlx::Error::RowNotFound => Code::NotFound,
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. } => Code::StoreCorrupt,
        sqlx::Error::Database(d) => match d.code().as_deref() {
            // PostgreSQL class 53 (insufficient resources: disk full, out of
            // memory, too many connections), 57P (shutdown); SQLite FULL (13),
            // IOERR (10), CANTOPEN (14), READONLY (8), BUSY (5).
            Some(c) if c.starts_with("53") || c.starts_with("57P") => Code::StoreUnavailable,
            Some("13" | "10" | "14" | "8" | "5") => Code::StoreUnavailable,
            // PostgreSQL class 22 (data exception): a value the caller sent
            // that the database cannot hold (a NUL byte in text, a number out
            // of range): the request's fault, never a server error.
            Some(c) if c.starts_with("22") => Code::InvalidArgument,
            _ => Code::Internal,
        },
        _ => Code::Internal,
    }
}
