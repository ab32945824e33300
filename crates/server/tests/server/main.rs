//! The one integration-test binary of tiaki-server (one link, as ripgrep,
//! Meilisearch and Kanidm do): a module per area. Every test boots the real
//! server on loopback over a real store (SQLite and PostgreSQL) and talks
//! HTTP to it with a small client of its own.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod api;
mod audit;
mod common;
mod hma;
mod records;
mod schemathesis;
mod session;
mod threads;
mod vid;
