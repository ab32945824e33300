//! `tiaki hash`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rayon::prelude::*;
use tiaki_core::hash::pdq::LumaArithmetic;
use tiaki_core::media::{FileRecord, HashOptions, Limits, Walked, hash_file, walk, with_thread_hasher};

use crate::Progress;

#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// Files or directories (recursed into, following symbolic links).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Also print the eight dihedral PDQ variants of each image.
    #[arg(long)]
    dihedral: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Progress bar on stderr.
    #[arg(long, value_enum, default_value_t)]
    progress: Progress,
    /// Luma arithmetic for images: `f64` rounds numpy-style like pdqhash-python
    /// (python-threatexchange, HMA); `f32` is the C++ library's. They agree on
    /// photos and can differ by a few bits on flat synthetic images.
    #[arg(long, value_enum, default_value_t = Luma::F64)]
    luma: Luma,
    /// Seconds between hashed video frames (vPDQ); 0 hashes every frame.
    #[arg(long, default_value_t = 1.0)]
    every: f64,
    /// Wall-clock limit for one video, in seconds (the ffmpeg child is killed).
    #[arg(long, default_value_t = 600)]
    video_timeout: u64,
    /// Largest image accepted, in pixels.
    #[arg(long, default_value_t = Limits::default().max_pixels)]
    max_pixels: u64,
    /// Largest image file read, in bytes.
    #[arg(long, default_value_t = Limits::default().max_image_file_bytes)]
    max_image_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Luma {
    F32,
    F64,
}

/// Files hashed in parallel per batch; output stays in walk order.
const BATCH: usize = 64;

pub(crate) use tiaki_core::media::DEFAULT_LUMA;

/// Hashes one walked path on this thread's reusable hasher.
pub(crate) fn hash_walked(w: &Walked, opts: &HashOptions, luma: LumaArithmetic) -> FileRecord {
    match w {
        Walked::File(p) => {
            with_thread_hasher(luma, |h| hash_file(p, p.display().to_string(), opts, h))
        }
        Walked::Problem(p, msg) => FileRecord::failed(p.display().to_string(), msg.clone()),
    }
}

/// Video options for hashing many files in parallel: each video decodes and
/// hashes on one thread, since the cores are already busy with other files.
pub(crate) fn parallel_video_options(
    seconds_per_hash: f64,
    timeout_secs: u64,
) -> tiaki_core::video::VideoOptions {
    tiaki_core::video::VideoOptions {
        seconds_per_hash,
        timeout: std::time::Duration::from_secs(timeout_secs),
        threads: 1,
        decode_threads: 1,
        ..tiaki_core::video::VideoOptions::default()
    }
}

pub fn run(args: HashArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        max_pixels: args.max_pixels,
        max_image_file_bytes: args.max_image_bytes,
        ..Limits::default()
    };
    let video = parallel_video_options(args.every, args.video_timeout);
    anyhow::ensure!(
        args.every >= 0.0 && args.every.is_finite(),
        "--every must be a number of seconds, 0 or more"
    );
    let opts = HashOptions {
        limits,
        dihedral: args.dihedral,
        video,
    };
    let luma = match args.luma {
        Luma::F32 => LumaArithmetic::F32,
        Luma::F64 => LumaArithmetic::F64,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;

    let entries = walk(&args.paths);
    let bar = if args.progress.bar() {
        let b = indicatif::ProgressBar::new(entries.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files {per_sec} {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };

    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut errors = 0usize;
    for batch in entries.chunks(BATCH) {
        let records: Vec<FileRecord> = pool.install(|| {
            batch
                .par_iter()
                .map(|w| hash_walked(w, &opts, luma))
                .collect()
        });
        for r in &records {
            errors += usize::from(r.error.is_some());
            serde_json::to_writer(&mut out, r).context("cannot write output")?;
            out.write_all(b"\n").context("cannot write output")?;
        }
        bar.inc(batch.len() as u64);
    }
    out.flush().context("cannot write output")?;
    bar.finish_and_clear();
    // Exit 1 when some files had errors, as sha256sum and friends do: the
    // output is complete, but a script should know to look.
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
