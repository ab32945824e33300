//! Errors: per-record problems (reported, skipped, import goes on) and
//! document-level failures (import stops, counts so far are kept).

use std::fmt;
use std::io;

use crate::model::{DigestError, Format};


/// Where in the input a record or failure was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Position {
    /// Line formats (CSV, PDQ lines, vPDQ text): 1-based line number.
    Line { line: u64 },
    /// XML and JSON syntax: 1-based line, 1-based column (bytes for XML,
    /// characters as serde_json counts them for JSON).
    LineColumn { line: u64, column: u64 },
    /// A JSON record: its 0-based index among the document's records, the
    /// byte offset where its value starts, and its JSON path
    /// (`$.value[3]`, `$.value[0].Media[7].MD5`).
    Record {
        index: u64,
        byte_offset: u64,
        path: String,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line { line } => write!(f, "line {line}"),
            Position::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Position::Record {
                index,
                byte_offset,
                path,
            } => {
                write!(f, "record {index} ({path}, byte {byte_offset})")
            }
        }
    }
}

/// Why one record was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RecordReason {
    #[error("{field}: {error}")]
    BadDigest {
        field: String,
        #[serde(serialize_with = "ser_display")]
        error: DigestError,
    },
    #[error("{field}: not a PDQ hash: {reason}")]
    BadPdq { field: String, reason: String },
    #[error("{field}: {reason}")]
    BadValue { field: String, reason: String },
    #[error("no usable hash (MD5, SHA-1, SHA-256, PDQ, vPDQ or PhotoDNA)")]
    NoHash,
    #[error("expected an object, found {0}")]
    NotAnObject(&'static str),
    #[error("expected at least {expected} fields, found {found}")]
    TooFewFields { expected: usize, found: usize },
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
}

fn ser_display<T: fmt::Display, S: serde::Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A record that was skipped, and where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{position}: {reason}")]
pub struct RecordError {
    pub position: Position,
    pub reason: RecordReason,
}

/// Why a whole document could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("read error: {0}")]
    Io(#[from] io::Error),
    #[error("malformed {format} document at {position}: {reason}")]
    Malformed {
        format: Format,
        position: Position,
        reason: String,
    },
    #[error("not a {format} document: {reason}")]
    NotThisFormat { format: Format, reason: String },
    #[error("unrecognised list format: {0}")]
    Unrecognised(String),
    #[error("empty {0} document")]
    Empty(Format),
}

/// A document-level failure, with what had been read before it.
///
/// The entries counted here were already handed to the caller's sink: a
/// store may keep them (a truncated download still yields its first part) or
/// roll back.
#[derive(Debug, thiserror::Error)]
#[error("{error} ({entries} entries read, {rejected} records rejected before)")]
pub struct ImportError {
    #[source]
    pub error: DocumentError,
    pub entries: u64,
    pub rejected: u64,
}

impl ImportError {
    pub(crate) fn before_any(error: DocumentError) -> Self {
        ImportError {
            error,
            entries: 0,
            rejected: 0,
        }
    }
}

impl tiaki_types::codes::ErrorCode for DocumentError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        use tiaki_types::codes::Code;
        match self {
            DocumentError::Io(e) => tiaki_types::codes::ErrorCode::error_code(e),
            DocumentError::Malformed { .. }
            | DocumentError::NotThisFormat { .. }
            | DocumentError::Unrecognised(_)
            | DocumentError::Empty(_) => Code::InvalidInput,
        }
    }
}

impl tiaki_types::codes::ErrorCode for ImportError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        tiaki_types::codes::ErrorCode::error_code(&self.error)
    }
}
