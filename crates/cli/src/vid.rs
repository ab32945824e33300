//! `tiaki vid`: the victim-identification database: series, media,
//! victims, offenders, and search by file or hash. Every change is
//! recorded in the database's history (by `tiaki_core::vid`) and in the
//! audit log (here, as for `tiaki users`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use serde_json::json;
use tiaki_core::blobs::BlobStore;
use tiaki_core::media::{FileRecord, HashOptions, walk};
use tiaki_core::store::{Store, Timestamp, VidStore};
use tiaki_core::types::audit::AuditAction as Audit;
use tiaki_core::types::vid::{OffenderStatus, Status, StatusStep, VictimStatus};
use tiaki_core::vid::{self, Subject, SubjectInput};

use crate::ctx::{self, Ctx, actor, audit};

#[derive(Debug, Args)]
pub struct VidArgs {
    #[command(subcommand)]
    command: VidCommand,
}

#[derive(Debug, Subcommand)]
enum VidCommand {
    /// Series: add, ls, show, merge.
    Series {
        #[command(subcommand)]
        command: SeriesCommand,
    },
    /// Media linked to a series by hash: add, ls.
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
    /// Victims (unidentified → identified → safeguarded): add, set, ls.
    Victim {
        #[command(subcommand)]
        command: SubjectCommand,
    },
    /// Offenders (unidentified → identified → arrested): add, set, ls.
    Offender {
        #[command(subcommand)]
        command: SubjectCommand,
    },
    /// Search image or video files (or hashes) against every series medium:
    /// one JSON line per query, `{"query", "matches": [{"series",
    /// "series_name", "media", "kind", "distance", "variant",
    /// "victim_status"}]}`; all 8 rotations and flips of an image are tried.
    Search {
        /// Files or directories (recursed into).
        paths: Vec<PathBuf>,
        /// A hash to search (PDQ, MD5, SHA-1 or SHA-256 hex; repeatable).
        #[arg(long = "hash")]
        hashes: Vec<String>,
        /// PDQ match distance.
        #[arg(long, default_value_t = tiaki_core::matching::DEFAULT_RADIUS)]
        radius: u32,
    },
}

/// The contributing agency: its country (ISO 3166-1 alpha-2).
#[derive(Debug, Args)]
struct Contributor {
    /// The contributing agency's country (ISO 3166-1 alpha-2).
    #[arg(long, env = "TIAKI_AGENCY")]
    agency: String,
}

#[derive(Debug, Subcommand)]
enum SeriesCommand {
    /// Create a series; prints its id.
    Add {
        name: String,
        #[command(flatten)]
        contributor: Contributor,
        /// Free-text notes.
        #[arg(long)]
        note: Option<String>,
        /// Print the series as JSON instead of its id.
        #[arg(long)]
        json: bool,
    },
    /// Every series (merged ones say where they went).
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// A series with its victims, offenders, media and history.
    Show {
        /// Id or name.
        series: String,
        #[arg(long)]
        json: bool,
    },
    /// Move every record of series FROM into series INTO; FROM stays,
    /// marked merged.
    Merge { from: String, into: String },
}

#[derive(Debug, Subcommand)]
enum MediaCommand {
    /// Link media to a series: files (hashed as `tiaki hash` does), hashes,
    /// or an intake's media item; prints one id a line.
    Add {
        /// Id or name.
        series: String,
        /// Image or video files, or directories (recursed into).
        paths: Vec<PathBuf>,
        /// A hash: `pdq:`, `md5:`, `sha1:`, `sha256:` say which; without
        /// a prefix 32 hex digits are MD5, 40 SHA-1, 64 PDQ (repeatable).
        #[arg(long = "hash")]
        hashes: Vec<String>,
        /// An intake (with --media): link one of its media items.
        #[arg(long, requires = "media")]
        intake: Option<i64>,
        /// The provider's media id within --intake.
        #[arg(long, requires = "intake")]
        media: Option<String>,
        /// Link files by their hashes only: do not keep them (encrypted)
        /// in the blob store.
        #[arg(long)]
        hash_only: bool,
        #[command(flatten)]
        contributor: Contributor,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The media of a series, or of all.
    Ls {
        series: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// Where, when and by whom a status was reached.
#[derive(Debug, Args)]
struct StepArgs {
    /// The status: victims unidentified, identified, safeguarded;
    /// offenders unidentified, identified, arrested.
    #[arg(long)]
    status: Option<String>,
    /// The country where it happened (ISO 3166-1 alpha-2).
    #[arg(long)]
    country: Option<String>,
    /// The agency that did it (its country, ISO 3166-1 alpha-2).
    #[arg(long)]
    by: Option<String>,
    /// The day it happened (YYYY-MM-DD; default today).
    #[arg(long)]
    date: Option<String>,
    /// Free-text notes (replace the current ones; the history keeps them).
    #[arg(long)]
    note: Option<String>,
}

#[derive(Debug, Subcommand)]
enum SubjectCommand {
    /// Record one with a series (unidentified unless --status); prints its id.
    Add {
        /// Id or name.
        series: String,
        #[command(flatten)]
        step: StepArgs,
        #[command(flatten)]
        contributor: Contributor,
        #[arg(long)]
        json: bool,
    },
    /// Move one on to its next status, and/or replace its notes.
    Set {
        id: i64,
        #[command(flatten)]
        step: StepArgs,
        #[arg(long)]
        json: bool,
    },
    /// Those of a series, or all.
    Ls {
        #[arg(long)]
        series: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl StepArgs {
    fn input<S: Status + std::str::FromStr<Err = tiaki_core::types::vid::BadStatus>>(
        &self,
    ) -> anyhow::Result<SubjectInput<S>> {
        let status = self
            .status
            .as_deref()
            .map(str::parse::<S>)
            .transpose()
            .context("--status")?;
        Ok(SubjectInput {
            status,
            step: StatusStep {
                country: self.country.clone(),
                agency: self.by.clone(),
                date: self.date.clone(),
            },
            notes: self.note.clone(),
        })
    }
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v)?;
    out.write_all(b"\n").context("cannot write output")?;
    Ok(())
}

pub fn run(ctx: &Ctx, args: VidArgs) -> anyhow::Result<ExitCode> {
    ctx::runtime()?.block_on(async {
        let store = ctx.store().await?;
        let now = ctx.now();
        match args.command {
            VidCommand::Series { command } => series(&store, &now, command).await?,
            VidCommand::Media { command } => media(&store, ctx.data(), &now, command).await?,
            VidCommand::Victim { command } => {
                let audit = (Audit::VidVictimAdded, Audit::VidVictimChanged);
                subjects::<VictimStatus>(&store, &now, command, audit).await?
            }
            VidCommand::Offender { command } => {
                let audit = (Audit::VidOffenderAdded, Audit::VidOffenderChanged);
                subjects::<OffenderStatus>(&store, &now, command, audit).await?
            }
            VidCommand::Search {
                paths,
                hashes,
                radius,
            } => search(&store, ctx.data(), paths, hashes, radius).await?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn series(store: &Store, now: &Timestamp, command: SeriesCommand) -> anyhow::Result<()> {
    let who = actor();
    match command {
        SeriesCommand::Add {
            name,
            contributor,
            note,
            json,
        } => {
            let note = note.unwrap_or_default();
            let s = vid::add_series(store, &name, &contributor.agency, &note, &who, now).await?;
            let detail = json!({"id": s.id, "agency": s.agency});
            audit(store, now, Audit::VidSeriesAdded, &s.name, detail).await?;
            if json {
                print_json(&s)?;
            } else {
                println!("{}", s.id);
            }
        }
        SeriesCommand::Ls { json } => {
            for s in store.series_list().await? {
                if json {
                    print_json(&s)?;
                } else {
                    let merged = s.merged_into.map(|i| format!("\tmerged into {i}"));
                    println!(
                        "{}\t{}\t{}\t{} media\t{} victims\t{} offenders{}",
                        s.id,
                        s.name,
                        s.agency,
                        s.media,
                        s.victims,
                        s.offenders,
                        merged.unwrap_or_default()
                    );
                }
            }
        }
        SeriesCommand::Show { series, json } => {
            let d = vid::series_detail(store, &series).await?;
            if json {
                print_json(&d)?;
            } else {
                let s = &d.series;
                println!("series {} {:?} (agency {})", s.id, s.name, s.agency);
                if let Some(into) = s.merged_into {
                    println!("merged into series {into}");
                }
                if !s.notes.is_empty() {
                    println!("notes: {}", s.notes);
                }
                for v in &d.victims {
                    println!("victim {}\t{}", v.id, v.status);
                }
                for o in &d.offenders {
                    println!("offender {}\t{}", o.id, o.status);
                }
                for m in &d.media {
                    println!("media {}\t{}\t{}", m.id, m.kind.name(), m.source);
                }
                for e in &d.history {
                    let change = match (&e.from, &e.to) {
                        (Some(f), Some(t)) => format!(" {f} → {t}"),
                        (None, Some(t)) => format!(" {t}"),
                        _ => String::new(),
                    };
                    println!(
                        "{}\t{} {}\t{}{}\tby {}",
                        e.at,
                        e.record,
                        e.record_id,
                        e.event.name(),
                        change,
                        e.actor
                    );
                }
            }
        }
        SeriesCommand::Merge { from, into } => {
            let s = vid::merge_series(store, &from, &into, &who, now).await?;
            let detail = json!({"from": from, "into": s.id});
            audit(store, now, Audit::VidSeriesMerged, &s.name, detail).await?;
            println!("series {from} merged into series {} ({})", s.id, s.name);
        }
    }
    Ok(())
}

/// Hashes files as `tiaki match` does (dihedral variants for a search);
/// a file that cannot be hashed is an error naming it.
fn hash_files(paths: &[PathBuf], dihedral: bool) -> Vec<FileRecord> {
    let opts = HashOptions {
        dihedral,
        video: crate::hash::parallel_video_options(1.0, 600),
        ..HashOptions::default()
    };
    walk(paths)
        .par_iter()
        .map(|w| crate::hash::hash_walked(w, &opts, crate::hash::DEFAULT_LUMA))
        .collect()
}

async fn media(
    store: &Store,
    data: &std::path::Path,
    now: &Timestamp,
    command: MediaCommand,
) -> anyhow::Result<()> {
    match command {
        MediaCommand::Add {
            series,
            paths,
            hashes,
            intake,
            media,
            hash_only,
            contributor,
            note,
            json,
        } => {
            let mut items = Vec::new();
            for r in hash_files(&paths, false) {
                items.push(vid::media_of_record(&r)?);
            }
            for h in &hashes {
                items.push(vid::media_of_hash(h)?);
            }
            if let (Some(intake), Some(media)) = (intake, &media) {
                items.push(vid::media_of_intake(store, intake, media).await?);
            }
            if items.is_empty() {
                anyhow::bail!("nothing to link: give files, --hash HEX, or --intake N --media ID");
            }
            let note = note.unwrap_or_default();
            if !hash_only && !paths.is_empty() {
                // An unknown series is said before anything is kept.
                vid::series(store, &series).await?;
                vid::keep_files(&BlobStore::open(data)?, &mut items)?;
            }
            let added = vid::add_media(
                store,
                &series,
                items,
                &contributor.agency,
                &note,
                &actor(),
                now,
            )
            .await?;
            let ids: Vec<i64> = added.iter().map(|m| m.id).collect();
            let target = format!("series/{}", added.first().map_or(0, |m| m.series));
            let detail = json!({"media": ids});
            audit(store, now, Audit::VidMediaAdded, &target, detail).await?;
            for m in &added {
                if json {
                    print_json(m)?;
                } else {
                    println!("{}", m.id);
                }
            }
        }
        MediaCommand::Ls { series, json } => {
            let filter = vid::series_filter(store, series.as_deref()).await?;
            for m in store.vid_media(filter).await? {
                if json {
                    print_json(&m)?;
                } else {
                    println!(
                        "{}\tseries {}\t{}\t{}\t{}",
                        m.id,
                        m.series,
                        m.kind.name(),
                        m.pdq.as_deref().or(m.sha256.as_deref()).unwrap_or("-"),
                        m.source
                    );
                }
            }
        }
    }
    Ok(())
}

/// `tiaki vid victim …` and `tiaki vid offender …`, by status type.
async fn subjects<K>(
    store: &Store,
    now: &Timestamp,
    command: SubjectCommand,
    (added, changed): (Audit, Audit),
) -> anyhow::Result<()>
where
    K: Subject + std::str::FromStr<Err = tiaki_core::types::vid::BadStatus>,
{
    let who = actor();
    let record = K::RECORD;
    match command {
        SubjectCommand::Add {
            series,
            step,
            contributor,
            json,
        } => {
            let input = step.input::<K>()?;
            let row =
                vid::add_subject(store, &series, &input, &contributor.agency, &who, now).await?;
            let (id, series, status, step, _) = K::summary(&row);
            let detail = json!({"series": series, "status": status.name(), "step": step});
            audit(store, now, added, &format!("{record}/{id}"), detail).await?;
            if json {
                print_json(&row)?;
            } else {
                println!("{id}");
            }
        }
        SubjectCommand::Set { id, step, json } => {
            let input = step.input::<K>()?;
            let row = vid::set_subject(store, id, &input, &who, now).await?;
            let (_, _, status, step, _) = K::summary(&row);
            let detail =
                json!({"status": status.name(), "step": step, "notes": input.notes.is_some()});
            audit(store, now, changed, &format!("{record}/{id}"), detail).await?;
            if json {
                print_json(&row)?;
            } else {
                println!("{record} {id} is {status}");
            }
        }
        SubjectCommand::Ls { series, json } => {
            let filter = vid::series_filter(store, series.as_deref()).await?;
            for row in K::list(store, filter).await? {
                if json {
                    print_json(&row)?;
                    continue;
                }
                let (id, series, status, step, notes) = K::summary(&row);
                let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
                println!(
                    "{id}\tseries {series}\t{status}\t{}\t{}\t{}\t{notes}",
                    opt(&step.country),
                    opt(&step.agency),
                    opt(&step.date)
                );
            }
        }
    }
    Ok(())
}

async fn search(
    store: &Store,
    data: &std::path::Path,
    paths: Vec<PathBuf>,
    hashes: Vec<String>,
    radius: u32,
) -> anyhow::Result<()> {
    if paths.is_empty() && hashes.is_empty() {
        anyhow::bail!("nothing to search: give files or --hash HEX");
    }
    let mut queries = Vec::new();
    for h in hashes {
        let probe = vid::probe_of_hash(&h)?;
        queries.push((h, probe));
    }
    for r in hash_files(&paths, true) {
        let probe = vid::probe_of_file(&r)?;
        queries.push((r.path, probe));
    }
    let path = vid::index_path(data, store).await?;
    let index = vid::VidIndex::open(store, &path)
        .await
        .with_context(|| format!("cannot open the index of series media {}", path.display()))?;
    for answer in vid::search(store, &index, &queries, radius).await? {
        print_json(&answer)?;
    }
    Ok(())
}
