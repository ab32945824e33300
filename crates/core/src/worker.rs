//! `tiaki worker`: takes hashing jobs (pending media files of any intake)
//! from the store's queue, hashes, matches and records them. On PostgreSQL
//! any number of workers on any machines share the queue (`FOR UPDATE SKIP
//! LOCKED`); a worker that dies leaves claims that expire after the lease.

use std::time::Duration;

use tiaki_store::ListStore;
use tiaki_store::intake::IntakeStore;

use crate::blobs::BlobStore;
use crate::error::CoreError;
use crate::context::Clock;
use crate::ingest::{IngestOptions, hash_claimed, hostname};
use crate::known::Known;
use crate::matching::MatchOptions;

/// `worker@HOST:PID`.
pub fn worker_name() -> String {
    format!("worker@{}:{}", hostname(), std::process::id())
}

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub ingest: IngestOptions,
    /// Wait between polls of an empty queue.
    pub poll: Duration,
    /// Stop after the queue has been empty this long (`None`: never).
    pub idle_exit: Option<Duration>,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct WorkerReport {
    pub hashed: u64,
    pub batches: u64,
}

/// Runs until the queue has been idle for `idle_exit` (or forever). The
/// index is brought up to date whenever the store's lists change.
pub async fn run<S: ListStore + IntakeStore>(
    known: &mut Known<S>,
    blobs: Option<&BlobStore>,
    opts: &WorkerOptions,
    clock: &dyn Clock,
) -> Result<WorkerReport, CoreError> {
    let mut report = WorkerReport::default();
    let mut idle = Duration::ZERO;
    loop {
        known.refresh().await?;
        let matcher = known.matcher(&MatchOptions::default()).await?;
        let n = hash_claimed(known, &matcher, None, &opts.ingest, blobs, clock).await?;
        if n > 0 {
            report.hashed += n as u64;
            report.batches += 1;
            idle = Duration::ZERO;
            continue;
        }
        if opts.idle_exit.is_some_and(|limit| idle >= limit) {
            return Ok(report);
        }
        tokio::time::sleep(opts.poll).await;
        idle += opts.poll;
    }
}
