//! `manifest.json`: what the package is and the SHA-256 of every other file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The format tag written into every manifest.
pub const FORMAT: &str = "tiaki-referral/1";

/// The first entry of every package's tar archive.
///
/// The field names are fixed by interfaces.md; `format` is ours, so a
/// reader can tell future layouts apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub referral_id: String,
    pub country: String,
    pub agency: String,
    pub issuer: String,
    pub created_at: String,
    pub accounts: u64,
    pub persons: u64,
    pub media: u64,
    /// Path inside the archive → lowercase hex SHA-256, for every entry but
    /// the manifest itself. Sorted, which is also the archive order.
    pub files: BTreeMap<String, String>,
}
