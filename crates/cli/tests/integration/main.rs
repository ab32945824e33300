//! The one integration-test binary (one link, as Meilisearch and Kanidm do):
//! each module drives the real `tiaki` binary.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod common;
mod crash;
mod full_disk;
mod golden;
mod hash;
mod ingest;
mod lists;
mod peer_pdqhash;
mod persons;
mod referrals;
mod serve;
mod tidy;
mod vid;
mod video;
