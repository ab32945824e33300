//! `tiaki`: the command line. Argument parsing and glue only; the work is
//! done by the library crates.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: an ingest or an attribution makes
/// millions of small rows on one thread and frees them on another (the
/// reader thread builds rows, the store's thread consumes them), and there
/// glibc's allocator spent a quarter of the CPU time in the profile
/// (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod audit;
mod ctx;
mod hash;
mod ingest;
mod lists;
mod lookup;
mod matching;
mod persons;
mod progress;
mod referrals;
mod serve;
mod triage;
mod users;
mod vid;
mod vpdq;

#[derive(Debug, Parser)]
#[command(
    name = "tiaki",
    version,
    about = "Hash, match, link, attribute and refer: Tiaki's command line"
)]
struct Cli {
    /// Data directory (SQLite store, blobs, issuer key). Defaults to
    /// $TIAKI_DATA, else ./tiaki-data.
    #[arg(long, global = true, env = "TIAKI_DATA", default_value = "tiaki-data")]
    data: PathBuf,

    /// The store: a postgres:// URL for a shared PostgreSQL database;
    /// default: SQLite in the data directory.
    #[arg(long, global = true, env = "TIAKI_DATABASE")]
    database: Option<String>,

    #[command(subcommand)]
    command: Command,
}

pub use progress::Progress;

#[derive(Debug, Subcommand)]
enum Command {
    /// Hash files (directories recursively): MD5, SHA-1, SHA-256, PDQ, vPDQ,
    /// EXIF. One JSON object a line on stdout. Needs no data directory.
    Hash(hash::HashArgs),
    /// Known hash lists: import, export, ls, enable, disable.
    Lists(lists::ListsArgs),
    /// Look up hashes read from stdin (one a line) in the enabled lists.
    Lookup(lookup::LookupArgs),
    /// Hash files and look them up in the enabled lists. NDJSON per file.
    Match(matching::MatchArgs),
    /// vPDQ video hashes: `compare A B`.
    Vpdq(vpdq::VpdqArgs),
    /// Ingest a provider report bundle (directory, .zip, .tar, .tar.gz,
    /// .tar.zst) or CyberTipline report XML (file or folder): store, hash,
    /// match, triage. Resumable; idempotent.
    Ingest(ingest::IngestArgs),
    /// Intakes: `ls`, `findings ID`.
    Intakes(ingest::IntakesArgs),
    /// New material first: every media item in near-duplicate clusters
    /// across accounts and reports.
    Triage(triage::TriageArgs),
    /// Take hashing jobs from the store's queue (PostgreSQL: any number of
    /// workers on any machines).
    Worker(ingest::WorkerArgs),
    /// Link every account of every intake into persons and attribute
    /// accounts and persons to countries (recomputes; ingest does it too).
    Attribute(persons::AttributeArgs),
    /// Persons: `ls`, `show ID|LABEL` (each link explained).
    Persons(persons::PersonsArgs),
    /// Receiving agencies: `import FILE` (TOML), `ls`.
    Agencies(referrals::AgenciesArgs),
    /// Referral packages and their ledger: build, ls, show, mark, verify, open.
    Referrals(referrals::ReferralsArgs),
    /// Outcome events agencies report: `import FILE` (NDJSON).
    Outcomes(referrals::OutcomesArgs),
    /// The operation's figures.
    Stats(referrals::StatsArgs),
    /// Keys: `issuer` prints the issuer's minisign public key.
    Keys(referrals::KeysArgs),
    /// Run the HTTP API (`/api/v1`, HMA-compatible matcher) on the store.
    Serve(serve::ServeArgs),
    /// Users of the service: add, ls, disable, enable, role, token, revoke.
    Users(users::UsersArgs),
    /// The audit log: `verify` (exit 0 only when intact), `ls`, `checkpoint`.
    Audit(audit::AuditArgs),
    /// The victim-identification database: series, media, victims,
    /// offenders, search by image, video or hash.
    Vid(vid::VidArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = ctx::Ctx::new(
        cli.data,
        cli.database,
        std::sync::Arc::new(tiaki_core::SystemClock),
    );
    let result = match cli.command {
        Command::Hash(args) => hash::run(args),
        Command::Lists(args) => lists::run(&ctx, args),
        Command::Lookup(args) => lookup::run(&ctx, args),
        Command::Match(args) => matching::run(&ctx, args),
        Command::Vpdq(args) => vpdq::run(args),
        Command::Ingest(args) => ingest::run(&ctx, args),
        Command::Intakes(args) => ingest::intakes(&ctx, args),
        Command::Triage(args) => triage::run(&ctx, args),
        Command::Worker(args) => ingest::worker(&ctx, args),
        Command::Attribute(args) => persons::run_attribute(&ctx, args),
        Command::Persons(args) => persons::run_persons(&ctx, args),
        Command::Agencies(args) => referrals::agencies(&ctx, args),
        Command::Referrals(args) => referrals::run(&ctx, args),
        Command::Outcomes(args) => referrals::outcomes(&ctx, args),
        Command::Stats(args) => referrals::stats(&ctx, args),
        Command::Keys(args) => referrals::keys(&ctx, args),
        Command::Serve(args) => serve::run(&ctx, args),
        Command::Users(args) => users::run(&ctx, args),
        Command::Audit(args) => audit::run(&ctx, args),
        Command::Vid(args) => vid::run(&ctx, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One readable sentence on stderr, the cause chain after it;
            // the exit status is the error code's (one table for the CLI
            // and the service: tiaki_core::types::codes).
            eprintln!("tiaki: {}", message(&e));
            ExitCode::from(tiaki_core::code_of(e.chain()).exit_status())
        }
    }
}

/// The error and its causes as one line, `a: b: c`, leaving out a cause
/// whose text the line already ends with (many errors print their source
/// in their own message, and would otherwise show it twice).
fn message(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}
