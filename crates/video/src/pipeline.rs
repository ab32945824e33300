//! The hashing half shared by every decoder: selected RGB frames go to a
//! small pool of worker threads, each with its own [`PdqHasher`], and come
//! back as features sorted by frame number (as the reference's `finish()`).
//!
//! The queue is bounded so a fast decoder cannot pile up frames in memory,
//! and frame buffers go back to the producer for reuse: a 1080p frame is
//! 6 MB, and allocating one per frame costs more than copying into it.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, channel, sync_channel};
use std::sync::{Arc, Mutex};

use tiaki_hash::pdq::PdqHasher;
use tiaki_hash::vpdq::VpdqFeature;

use crate::VideoError;

struct Job {
    frame: u64,
    timestamp: f64,
    rgb: Vec<u8>,
}

/// The producer's side of the pipeline.
pub(crate) struct FrameQueue {
    jobs: Option<SyncSender<Job>>,
    free: Receiver<Vec<u8>>,
    frame_len: usize,
}

impl FrameQueue {
    /// A buffer of exactly one frame's length, reused when one is free.
    pub(crate) fn buffer(&self) -> Vec<u8> {
        match self.free.try_recv() {
            Ok(mut b) => {
                b.resize(self.frame_len, 0);
                b
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => vec![0; self.frame_len],
        }
    }

    /// Queues one selected frame for hashing. Blocks while every worker is
    /// busy and the queue is full.
    pub(crate) fn submit(
        &mut self,
        frame: u64,
        timestamp: f64,
        rgb: Vec<u8>,
    ) -> Result<(), VideoError> {
        let jobs = self
            .jobs
            .as_ref()
            .ok_or(VideoError::Internal("hashing queue closed"))?;
        jobs.send(Job {
            frame,
            timestamp,
            rgb,
        })
        .map_err(|_| VideoError::Internal("hashing workers stopped"))?;
        Ok(())
    }
}

/// Number of hashing threads: one per core. The decoder runs in its own
/// process (or, for animations, on the calling thread), so on a small machine
/// the two share the cores; PDQ is the heavier part in every-frame mode.
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `produce`, which decodes and submits frames, while `workers` threads
/// hash them. Returns what `produce` returned and the features in frame order.
pub(crate) fn run<T>(
    width: usize,
    height: usize,
    workers: usize,
    produce: impl FnOnce(&mut FrameQueue) -> Result<T, VideoError>,
) -> Result<(T, Vec<VpdqFeature>), VideoError> {
    let workers = workers.max(1);
    let frame_len = width * height * 3;
    let (job_tx, job_rx) = sync_channel::<Job>(workers * 2);
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (free_tx, free_rx) = channel::<Vec<u8>>();
    let (out_tx, out_rx) = channel::<Result<VpdqFeature, VideoError>>();

    let produced = std::thread::scope(|s| {
        for _ in 0..workers {
            let job_rx = Arc::clone(&job_rx);
            let free_tx = free_tx.clone();
            let out_tx = out_tx.clone();
            s.spawn(move || {
                let mut hasher = PdqHasher::new();
                loop {
                    // Holding the lock only while receiving: one idle worker
                    // waits on the channel, the others wait on the lock.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok(job) = job else { break };
                    let result = hasher
                        .hash_rgb(&job.rgb, width, height)
                        .map(|out| VpdqFeature {
                            frame: job.frame,
                            timestamp: job.timestamp,
                            quality: out.quality,
                            hash: out.hash,
                        })
                        .map_err(|e| VideoError::Hash(e.to_string()));
                    // The producer may already have stopped: nothing to do then.
                    let _ = free_tx.send(job.rgb);
                    if out_tx.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        let mut queue = FrameQueue {
            jobs: Some(job_tx),
            free: free_rx,
            frame_len,
        };
        let produced = produce(&mut queue);
        // Closing the job channel lets the workers finish and the scope end.
        queue.jobs = None;
        produced
    });
    drop(out_tx);
    let produced = produced?;
    let mut features = Vec::new();
    for r in out_rx {
        features.push(r?);
    }
    features.sort_by_key(|f| f.frame);
    Ok((produced, features))
}
