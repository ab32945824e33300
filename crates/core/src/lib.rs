//! Tiaki's pipeline, one module per stage in the pipeline's order:
//! [`ingest`] (intake → hashing → matching), [`triage`] (new material
//! first, near-duplicate clusters), [`attribute`] (accounts linked into
//! persons, a country for each), [`worker`] (hashing jobs taken from a
//! PostgreSQL queue), [`rematch`] (a list imported later matched against
//! earlier intakes), [`refer`] (agencies, issuer keys, per-country packages
//! and the referral ledger), [`stats`] (the operation's figures). Helpers: [`blobs`] (encrypted content-addressed media),
//! [`hashing`] (one file, compared with the provider's hashes), [`known`]
//! (the store joined with its match index; list import and export),
//! [`matching`] (probes, lookups, hits, the match cache).
//!
//! The library never reads the clock (a [`ingest::Clock`] is passed in)
//! and never prints: progress goes through [`ingest::Progress`].

#![forbid(unsafe_code)]

pub mod attribute;
pub mod blobs;
pub mod context;
mod error;
pub mod hashing;
pub mod ingest;
pub mod known;
pub mod matching;
mod pages;
pub mod pipeline;
pub mod refer;
pub mod rematch;
pub mod stats;
pub mod triage;
pub mod worker;

pub use context::{Clock, Context, FixedClock, SystemClock};
pub use error::{Code, CoreError, ErrorCode, code_of};
pub use ingest::{
    IngestOptions, IngestReport, NoProgress, Outcome, Progress, ingest, ingest_bundle,
};
