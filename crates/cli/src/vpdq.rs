//! `tiaki vpdq compare A B`: two videos (or saved vPDQ hash lists) compared
//! as python-threatexchange compares them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tiaki_core::hash::vpdq::{MatchThresholds, compare};
use tiaki_core::video::VideoOptions;

#[derive(Debug, clap::Args)]
pub struct VpdqArgs {
    #[command(subcommand)]
    command: VpdqCommand,
}

#[derive(Debug, clap::Subcommand)]
enum VpdqCommand {
    /// Compare A (the query) with B: a video, an animated image, or a saved
    /// vPDQ list (reference text, py-tx signal JSON, legacy object form).
    /// Exit 0 on a match, 1 on no match, 2 on error.
    Compare(CompareArgs),
}

#[derive(Debug, clap::Args)]
struct CompareArgs {
    query: PathBuf,
    compared: PathBuf,
    /// Seconds between hashed frames when a side is a video; 0 = every frame.
    #[arg(long, default_value_t = 1.0)]
    every: f64,
    /// Frames below this quality are ignored.
    #[arg(long, default_value_t = MatchThresholds::default().quality)]
    quality: u8,
    /// Frames match at this Hamming distance or less.
    #[arg(long, default_value_t = MatchThresholds::default().distance)]
    distance: u32,
    /// Smallest percentage of the query's frames that must match.
    #[arg(long, default_value_t = MatchThresholds::default().query_match_percent)]
    query_pct: f64,
    /// Smallest percentage of the compared video's frames that must match.
    #[arg(long, default_value_t = MatchThresholds::default().compared_match_percent)]
    compared_pct: f64,
    /// Also list each matched query frame with its nearest partner.
    #[arg(long)]
    explain: bool,
    /// Print the whole comparison as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: VpdqArgs) -> anyhow::Result<ExitCode> {
    let VpdqCommand::Compare(a) = args.command;
    anyhow::ensure!(
        a.every >= 0.0 && a.every.is_finite(),
        "--every must be a number of seconds, 0 or more"
    );
    let opts = VideoOptions {
        seconds_per_hash: a.every,
        ..VideoOptions::default()
    };
    let (q, _) = tiaki_core::video::load_features(&a.query, &opts)
        .with_context(|| format!("{}", a.query.display()))?;
    let (c, _) = tiaki_core::video::load_features(&a.compared, &opts)
        .with_context(|| format!("{}", a.compared.display()))?;
    let t = MatchThresholds {
        quality: a.quality,
        distance: a.distance,
        query_match_percent: a.query_pct,
        compared_match_percent: a.compared_pct,
    };
    let r = compare(&q, &c, &t);
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&r).context("cannot write output")?
        );
    } else {
        println!(
            "query:    {:.2}% ({}/{} frames)",
            r.query_match_percent,
            r.query_matches.len(),
            r.query_frames
        );
        println!(
            "compared: {:.2}% ({}/{} frames)",
            r.compared_match_percent,
            r.compared_matches.len(),
            r.compared_frames
        );
        println!(
            "decision: {} (query ≥ {}%, compared ≥ {}%, quality ≥ {}, distance ≤ {})",
            if r.is_match { "match" } else { "no match" },
            t.query_match_percent,
            t.compared_match_percent,
            t.quality,
            t.distance
        );
        if a.explain {
            for m in &r.query_matches {
                println!(
                    "  frame {} ({:.3} s) ~ frame {} ({:.3} s): {} bits",
                    m.frame, m.timestamp, m.other_frame, m.other_timestamp, m.distance
                );
            }
        }
    }
    Ok(if r.is_match {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
