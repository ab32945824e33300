//! Tiaki's pipeline, one module per stage in the pipeline's order:
//! [`ingest`] (intake → hashing → matching), [`triage`] (new material
//! first, near-duplicate clusters), [`attribute`] (accounts linked into
//! persons, a country for each), [`worker`] (hashing jobs taken from a
//! PostgreSQL queue), [`rematch`] (a list imported later matched against
//! earlier intakes), [`refer`] (agencies, issuer keys, per-country packages
//! and the referral ledger), [`stats`] (the operation's figures), [`audit`]
//! (the hash-chained audit log and its signed checkpoints), [`threads`] (the
//! referral threads of `tiaki serve`). Helpers: [`blobs`] (encrypted content-addressed media),
//! [`hashing`] (one file, compared with the provider's hashes), [`known`]
//! (the store joined with its match index; list import and export),
//! [`matching`] (probes, lookups, hits, the match cache), [`banks`] (HMA's
//! banks and matcher on the known lists).
//!
//! The library never reads the clock (a [`Clock`] is passed in) and never
//! prints: progress goes through [`Progress`]. The binaries reach every
//! crate below through this one ([`Context`], the re-exports below).

#![forbid(unsafe_code)]

pub mod access;
pub mod attribute;
pub mod banks;
pub mod audit;
pub mod blobs;
pub mod context;
mod error;
pub mod hashing;
pub mod ingest;
pub mod known;
pub mod lists;
pub mod matching;
mod pages;
pub mod pipeline;
pub mod refer;
pub mod rematch;
pub mod stats;
pub mod threads;
pub mod triage;
pub mod users;
pub mod vid;
pub mod worker;

// The crates below the facade, for the binaries: a binary depends on
// `tiaki-core` alone (ripgrep's `grep` crate re-exports its parts the same
// way), so the command line and the service see one version of each type.
pub use tiaki_attrib as attrib;
pub use tiaki_formats as formats;
pub use tiaki_hash as hash;
pub use tiaki_index as index;
pub use tiaki_intake as intake;
pub use tiaki_media as media;
pub use tiaki_referral as referral;
pub use tiaki_store as store;
pub use tiaki_types as types;
pub use tiaki_video as video;

pub use context::{Clock, Context, FixedClock, NoProgress, Progress, SystemClock};
pub use error::{Code, CoreError, ErrorCode, code_of};
pub use ingest::{IngestOptions, IngestReport, Outcome, ingest, ingest_bundle};
