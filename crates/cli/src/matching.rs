//! `tiaki match PATH…`: hash files (as `tiaki hash`) and look them up.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use rayon::prelude::*;
use tiaki_core::matching::{Hit, MatchOptions, probe_of_record};
use tiaki_core::media::{FileRecord, HashOptions, walk};

/// One output line, in this field order.
#[derive(serde::Serialize)]
struct FileMatches<'a> {
    path: &'a str,
    sha256: Option<&'a str>,
    matches: Vec<Hit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// Files or directories (recursed into).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// PDQ match distance for every list (default: each list's own, else 31).
    #[arg(long)]
    radius: Option<u32>,
    /// Only these lists (repeatable; default: every enabled list).
    #[arg(long = "list")]
    lists: Vec<String>,
}

const BATCH: usize = 64;

pub fn run(ctx: &crate::ctx::Ctx, args: MatchArgs) -> anyhow::Result<ExitCode> {
    let opts = HashOptions {
        dihedral: true,
        video: crate::hash::parallel_video_options(1.0, 600),
        ..HashOptions::default()
    };
    crate::ctx::runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let matcher = known
            .matcher(&MatchOptions {
                radius: args.radius,
                lists: args.lists,
            })
            .await?;
        let entries = walk(&args.paths);
        let stdout = std::io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        let mut errors = 0usize;
        for batch in entries.chunks(BATCH) {
            let records: Vec<FileRecord> = batch
                .par_iter()
                .map(|w| crate::hash::hash_walked(w, &opts, crate::hash::DEFAULT_LUMA))
                .collect();
            let probes: Vec<_> = records.iter().map(probe_of_record).collect();
            let found = known.find_many(&matcher, &probes).await?;
            for (r, matches) in records.iter().zip(found) {
                errors += usize::from(r.error.is_some());
                let v = FileMatches {
                    path: &r.path,
                    sha256: r.sha256.as_deref(),
                    matches,
                    error: r.error.as_deref(),
                };
                serde_json::to_writer(&mut out, &v).context("cannot write output")?;
                out.write_all(b"\n").context("cannot write output")?;
            }
        }
        out.flush().context("cannot write output")?;
        Ok(if errors > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}
