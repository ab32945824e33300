//! The one integration-test binary of tiaki-formats (one link, as
//! ripgrep, Meilisearch and Kanidm do): a module per area.
//!
//! Hash-list formats: reading real and synthetic exports, round trips, and hostile input.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hostile;
mod other_formats;
mod robustness;
mod roundtrip;
mod vics;
