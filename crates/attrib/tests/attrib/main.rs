//! The one integration-test binary of tiaki-attrib (one link, as
//! ripgrep, Meilisearch and Kanidm do): a module per area.
//!
//! Linking and attribution on generated scenarios with known truth, and `.mmdb` sources built with a real writer.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mmdb;
mod scenario;
mod support;
