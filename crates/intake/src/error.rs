//! Errors: a bundle rejected whole ([`BundleError`]) versus one line skipped
//! ([`LineError`]) while the rest is read.

use std::io;
use std::path::PathBuf;

use serde::Serialize;

/// Why a whole bundle was rejected before any record was produced.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: not a bundle: {reason}")]
    NotABundle { path: PathBuf, reason: String },
    #[error("{archive}: unreadable archive: {message}")]
    Archive { archive: PathBuf, message: String },
    #[error("{archive}: refused entry {entry:?}: {reason}")]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("{archive}: {what} (raise the limit if the bundle is genuine)")]
    LimitExceeded { archive: PathBuf, what: String },
    #[error("{path}: staging directory must be empty or absent")]
    StagingNotEmpty { path: PathBuf },
    #[error("{path}: no manifest.json at the bundle root")]
    NoManifest { path: PathBuf },
    #[error("{path}: invalid manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("{path}: required file {name} is missing")]
    MissingFile { path: PathBuf, name: &'static str },
    #[error("manifest files_sha256[{file:?}]: {reason}")]
    ChecksumFile { file: String, reason: String },
    #[error("{file}: SHA-256 is {actual}, manifest files_sha256 says {expected}")]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
}

impl BundleError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        BundleError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Whether reading can go on after a line error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineErrorKind {
    /// The line broke a rule; it is skipped and reading goes on.
    Invalid,
    /// The file could not be read further (I/O failure): the iterator ends
    /// after this error, so the bundle was *not* read to its end.
    Io,
}

/// One line that was not turned into a record, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct LineError {
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    pub kind: LineErrorKind,
    pub message: String,
}
