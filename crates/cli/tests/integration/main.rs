//! The one integration-test binary (one link, as Meilisearch and Kanidm do):
//! each module drives the real `tiaki` binary.

mod common;
mod hash;
mod peer_pdqhash;
