//! The types every Tiaki crate shares (Meilisearch's `meilisearch-types`,
//! Kanidm's `proto`): what one stage hands the next and what the store keeps
//! as JSON is written and read through these types only, so a renamed field
//! fails to compile instead of silently emptying a later stage.
//!
//! Also the few small helpers that must exist exactly once in the workspace
//! (rust-analyzer's `stdx`): hex encoding, the seeded generator of tests and
//! generated scenarios, the capped line reader and boolean field parsing.
//!
//! This crate does no I/O beyond reading a `BufRead` it is handed, and never
//! reads the clock.

#![forbid(unsafe_code)]

pub mod access;
pub mod attribution;
pub mod audit;
pub mod chunks;
pub mod codes;
pub mod country;
pub mod fields;
pub mod hashes;
pub mod hex;
pub mod lines;
pub mod model;
pub mod persons;
pub mod rng;
pub mod time;
pub mod vid;
