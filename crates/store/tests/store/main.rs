//! The one integration-test binary of tiaki-store (one link, as
//! ripgrep, Meilisearch and Kanidm do): a module per area.
//!
//! The store on both backends: bulk writes and aggregated pages.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod bulk;
mod common;
mod pages;
mod threads;
mod vid;
mod views;
