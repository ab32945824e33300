//! The one integration-test binary of tiaki-index (one link, as
//! ripgrep, Meilisearch and Kanidm do): a module per area.
//!
//! The PDQ and digest indexes: the public API, the linear-scan oracle, and Meta's reference data.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod common;
mod oracle;
mod reference;
