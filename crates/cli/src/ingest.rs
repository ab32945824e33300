//! `tiaki ingest`, `tiaki intakes`, `tiaki worker`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tiaki_core::blobs::BlobStore;
use tiaki_core::ingest::{IngestOptions, Outcome, ingest, local_worker_name};
use tiaki_core::worker::{WorkerOptions, worker_name};
use tiaki_core::media::{HashOptions, Limits};
use tiaki_core::store::intake::IntakeStore;

use crate::Progress;
use crate::ctx::{Ctx, runtime};
use crate::hash::parallel_video_options;

/// Findings printed after an ingest; the rest are in `tiaki intakes findings`.
const SHOWN_FINDINGS: usize = 50;

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// A provider report bundle (a directory, or a .zip, .tar, .tar.gz or
    /// .tar.zst of one), or CyberTipline report XML (a file, or a folder of
    /// them: one batch, each report an intake).
    bundle: PathBuf,
    /// Keep no media: files are hashed, never stored.
    #[arg(long)]
    hash_only: bool,
    /// Leave the files to `tiaki worker` processes (PostgreSQL) and wait
    /// for them, instead of hashing here.
    #[arg(long)]
    queue: bool,
    /// Search only the original orientation of PDQ hashes (default: all
    /// eight rotations and flips).
    #[arg(long)]
    no_dihedral: bool,
    /// Hashing threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds between hashed video frames (vPDQ).
    #[arg(long, default_value_t = 1.0)]
    every: f64,
    /// Wall-clock limit for one video, in seconds.
    #[arg(long, default_value_t = 600)]
    video_timeout: u64,
    /// A geolocation source for the linking and attribution that end the
    /// ingest: a .mmdb or a CIDR→country CSV. Repeatable.
    #[arg(long, value_name = "FILE")]
    geoip: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[arg(long, value_enum, default_value_t)]
    progress: Progress,
}

#[derive(Debug, clap::Args)]
pub struct IntakesArgs {
    #[command(subcommand)]
    command: IntakesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum IntakesCommand {
    /// Every intake with its counts.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Everything an intake could not take as it was (bad lines, hash
    /// disagreements, unreadable files), one JSON object a line.
    Findings { id: i64 },
    /// Every stored intake row as canonical text without surrogate ids or
    /// times, sorted (two stores with the same content print the same).
    #[command(hide = true)]
    Dump,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Stop after the queue has been empty this many seconds (default: run
    /// until killed).
    #[arg(long)]
    idle_exit: Option<f64>,
    /// Seconds after which another worker's claim counts as abandoned.
    #[arg(long, default_value_t = 600)]
    lease: u64,
    /// Keep no media (files are hashed, never stored).
    #[arg(long)]
    hash_only: bool,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long, default_value_t = 600)]
    video_timeout: u64,
    /// Files claimed at a time.
    #[arg(long, default_value_t = 16)]
    claim: u32,
}

fn pool(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        // Ignore "already initialised": only the first call can size it.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: IngestArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.every >= 0.0 && args.every.is_finite(), "--every must be a number of seconds, 0 or more");
    pool(args.threads)?;
    let opts = IngestOptions {
        hash_only: args.hash_only,
        hash: HashOptions {
            limits: Limits::default(),
            dihedral: false,
            video: parallel_video_options(args.every, args.video_timeout),
        },
        all_variants: !args.no_dihedral,
        local_hashing: !args.queue,
        worker: local_worker_name(),
        geoip: args.geoip,
        ..IngestOptions::default()
    };
    let bar = args.progress.reporter();
    runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let results = ingest(&known, ctx.data(), &args.bundle, &opts, ctx.clock(), &bar)
            .await
            .with_context(|| format!("cannot ingest {}", args.bundle.display()))?;
        bar.finish();
        let mut failed = 0;
        for result in results {
            match result {
                Ok(report) => {
                    print_report(&known, &report, args.json).await?;
                    if let (Some(a), false) = (&report.attribution, args.json) {
                        crate::persons::print_report(a);
                    }
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("tiaki: {e}");
                }
            }
        }
        Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
    })
}

async fn print_report(
    known: &tiaki_core::known::Known<tiaki_core::store::Store>,
    report: &tiaki_core::IngestReport,
    json: bool,
) -> anyhow::Result<()> {
    let findings = known.store().findings(report.intake_id).await?;
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        let c = &report.counts;
        match report.outcome {
            Outcome::AlreadyIngested if report.attribution.is_some() => println!(
                "already ingested: report {:?} of {:?} (intake {}); its linking and attribution had not finished and ran now",
                report.report_id, report.provider, report.intake_id
            ),
            Outcome::AlreadyIngested => println!(
                "already ingested: report {:?} of {:?} (intake {}); nothing was done",
                report.report_id, report.provider, report.intake_id
            ),
            o => println!(
                "{} report {:?} of {:?} as intake {}: {} accounts, {} media ({} known, {} new, {} unreadable), {} events, {} findings",
                if o == Outcome::Resumed { "finished interrupted ingest of" } else { "ingested" },
                report.report_id,
                report.provider,
                report.intake_id,
                c.accounts,
                c.media,
                c.media_known,
                c.media_new,
                c.media_failed,
                c.events,
                c.findings
            ),
        }
    }
    if report.outcome != Outcome::AlreadyIngested {
        for f in findings.iter().take(SHOWN_FINDINGS) {
            let at = if f.line > 0 { format!("{} line {}", f.file, f.line) } else { f.file.clone() };
            eprintln!("tiaki: {at}: {} ({})", f.message, f.code);
        }
        if findings.len() > SHOWN_FINDINGS {
            eprintln!(
                "tiaki: … and {} more findings: tiaki intakes findings {}",
                findings.len() - SHOWN_FINDINGS,
                report.intake_id
            );
        }
    }
    Ok(())
}

pub fn intakes(ctx: &Ctx, args: IntakesArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let known = crate::ctx::open(ctx).await?;
        let store = known.store();
        match args.command {
            IntakesCommand::Ls { json } => {
                for summary in tiaki_core::pipeline::intake_summaries(store).await? {
                    if json {
                        println!("{}", serde_json::to_string(&summary)?);
                        continue;
                    }
                    let (i, c) = (&summary.intake, &summary.counts);
                    let missing: Vec<&str> =
                        summary.missing_stages.iter().map(|s| s.name()).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{} accounts\t{} media\t{} known\t{} new\t{} findings{}",
                        i.id, i.state.name(), i.provider, i.report_id, c.accounts, c.media,
                        c.media_known, c.media_new, c.findings,
                        if missing.is_empty() {
                            String::new()
                        } else {
                            format!("\tstages not finished: {}", missing.join(", "))
                        }
                    );
                }
            }
            IntakesCommand::Dump => {
                for line in store.dump_intakes().await? {
                    println!("{line}");
                }
            }
            IntakesCommand::Findings { id } => {
                for f in store.findings(id).await? {
                    println!("{}", serde_json::to_string(&f)?);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn worker(ctx: &Ctx, args: WorkerArgs) -> anyhow::Result<ExitCode> {
    pool(args.threads)?;
    let opts = WorkerOptions {
        ingest: IngestOptions {
            hash_only: args.hash_only,
            hash: HashOptions {
                limits: Limits::default(),
                dihedral: false,
                video: parallel_video_options(1.0, args.video_timeout),
            },
            worker: worker_name(),
            lease: Duration::from_secs(args.lease),
            claim: args.claim,
            ..IngestOptions::default()
        },
        poll: Duration::from_millis(500),
        idle_exit: args.idle_exit.map(Duration::from_secs_f64),
    };
    runtime()?.block_on(async {
        let mut known = crate::ctx::open(ctx).await?;
        let blobs = if args.hash_only { None } else { Some(BlobStore::open(ctx.data())?) };
        let report = tiaki_core::worker::run(&mut known, blobs.as_ref(), &opts, ctx.clock()).await?;
        eprintln!(
            "tiaki: worker {} hashed {} files in {} batches",
            opts.ingest.worker, report.hashed, report.batches
        );
        Ok(ExitCode::SUCCESS)
    })
}
