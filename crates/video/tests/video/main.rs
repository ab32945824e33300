//! The one integration-test binary of tiaki-video (one link, as
//! ripgrep, Meilisearch and Kanidm do): a module per area.
//!
//! Video hashing: the staged sample videos against the upstream hashes, the peers, animations, colour, probing, errors and timeouts.

// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod animation;
mod colour;
mod common;
mod compare;
mod errors;
mod peer;
mod probe;
mod reference;
mod timeout;
