//! The normalised intake model that provider bundles and CyberTipline reports
//! both map to.
//!
//! Field names are those of spec/provider-report.md wherever the spec names
//! the field, so a record serialises back to (nearly) the line it came from.
//! Everything a reader does not understand is kept in `extra`, never dropped.
//! Timestamps are checked to be RFC 3339 but kept as the provider wrote them.

use serde::Serialize;

pub use tiaki_types::model::{
    Account, EstimatedLocation, Event, Login, Media, ProvidedHashes, ReportHeader, SourceKind,
};

/// One record read from a bundle file, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record<T> {
    /// `accounts.ndjson`, `media.ndjson` or `events.ndjson`.
    pub file: &'static str,
    /// 1-based line number.
    pub line: u64,
    pub value: T,
    /// Problems of this line that did not stop it from going in (an IP
    /// address that is not one is kept as written): each becomes a finding
    /// naming the file and line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
