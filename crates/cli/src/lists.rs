//! `tiaki lists import|export|ls|enable|disable`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tiaki_core::formats::{CategoryScheme, Format, ImportOptions};
use tiaki_core::lists::{ListImport, import_list_file};
use tiaki_core::store::NewList;

use crate::Progress;
use crate::ctx::{Ctx, runtime};

#[derive(Debug, clap::Args)]
pub struct ListsArgs {
    #[command(subcommand)]
    command: ListsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ListsCommand {
    /// Import a hash list (VICS 1.x/2.0, ICSE/CSV, PDQ lines, vPDQ, NCMEC XML).
    Import {
        /// Name of the new list (unique).
        #[arg(long)]
        name: String,
        /// The list file.
        file: PathBuf,
        /// Format, instead of detecting it (vics, icse, csv, pdq, vpdq, vpdq-json, ncmec).
        #[arg(long)]
        format: Option<Format>,
        /// Where the list came from (default: the file name).
        #[arg(long)]
        source: Option<String>,
        /// A list of known false positives: its entries suppress matches.
        #[arg(long)]
        negative: bool,
        /// PDQ match distance for this list (default 31).
        #[arg(long)]
        distance: Option<u32>,
        /// Category scheme of the file's codes, when the file does not say.
        #[arg(long)]
        category_scheme: Option<CategoryScheme>,
        #[arg(long, value_enum, default_value_t)]
        progress: Progress,
    },
    /// Write a list as a VICS 2.0 #Media document to stdout.
    Export {
        name: String,
        /// Map categories into this scheme/profile (US, UK, uk-legal, industry, …).
        #[arg(long)]
        profile: Option<CategoryScheme>,
    },
    /// Show the lists.
    Ls {
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Stop a list's entries from matching (nothing is deleted).
    Disable { name: String },
    /// Let a disabled list's entries match again.
    Enable { name: String },
}

pub fn run(ctx: &Ctx, args: ListsArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(run_async(ctx, args))
}

async fn run_async(ctx: &Ctx, args: ListsArgs) -> anyhow::Result<ExitCode> {
    let mut known = crate::ctx::open(ctx).await?;
    match args.command {
        ListsCommand::Import {
            name,
            file,
            format,
            source,
            negative,
            distance,
            category_scheme,
            progress,
        } => {
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
            let opts = ImportOptions {
                format,
                file_name: file_name.clone(),
                list_name: Some(name.clone()),
                category_scheme,
                include_deleted: false,
            };
            let new = NewList {
                name: name.clone(),
                source: source.or(file_name),
                negative,
                distance,
                file_sha256: None,
            };
            let bar = std::sync::Arc::new(progress.reporter());
            let done = import_list_file(
                &mut known,
                &file,
                opts,
                new,
                ctx.now(),
                bar.clone(),
                |e| eprintln!("tiaki: skipped {e}"),
            )
            .await
            .with_context(|| format!("cannot import {}", file.display()))?;
            bar.finish();
            let (again, rejected) = match done {
                ListImport::Imported { report, rematch } => {
                    println!(
                        "imported list {:?} ({}): {} entries, {} rejected, {} low-quality PDQ hashes not indexed",
                        report.list, report.format, report.entries, report.rejected, report.low_quality
                    );
                    (rematch, report.rejected)
                }
                ListImport::AlreadyImported { list, rematch } => {
                    println!(
                        "already imported: list {:?} ({} entries) from this same file; nothing was imported",
                        list.name, list.entries
                    );
                    (rematch, 0)
                }
            };
            // Retroactive matching: media of earlier intakes were looked up
            // in the list from their stored hashes.
            if again.new_matches > 0 {
                println!(
                    "matched earlier intakes: {} media, {} new matches, {} media now known",
                    again.media, again.new_matches, again.became_known
                );
            }
            Ok(if rejected > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        ListsCommand::Export { name, profile } => {
            let stdout = std::io::stdout();
            let out = BufWriter::new(stdout.lock());
            let summary = known
                .export(&name, profile, out)
                .await
                .with_context(|| format!("cannot export {name:?}"))?;
            if summary.unmapped > 0 {
                eprintln!(
                    "tiaki: {} entries had no category in the asked profile and were written without one",
                    summary.unmapped
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ListsCommand::Ls { json } => {
            let lists = known.lists().await?;
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            for l in &lists {
                if json {
                    serde_json::to_writer(&mut out, l)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{}\t{} entries\t{}{}{}\t{}\t{}",
                        l.name,
                        l.entries,
                        if l.enabled { "enabled" } else { "disabled" },
                        if l.negative { ", negative" } else { "" },
                        l.distance
                            .map(|d| format!(", distance {d}"))
                            .unwrap_or_default(),
                        l.format,
                        l.imported_at
                    )?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        ListsCommand::Disable { name } => {
            known.set_enabled(&name, false).await?;
            Ok(ExitCode::SUCCESS)
        }
        ListsCommand::Enable { name } => {
            known.set_enabled(&name, true).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
