//! `tiaki`: the command line. Argument parsing and glue only; the work is
//! done by the library crates.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod hash;
mod lists;
mod lookup;
mod matching;
mod vpdq;

#[derive(Debug, Parser)]
#[command(name = "tiaki", version, about = "Hash, match, link, attribute and refer: Tiaki's command line")]
struct Cli {
    /// Data directory (SQLite store, blobs, issuer key). Defaults to
    /// $TIAKI_DATA, else ./tiaki-data.
    #[arg(long, global = true, env = "TIAKI_DATA", default_value = "tiaki-data")]
    data: PathBuf,

    #[command(subcommand)]
    command: Command,
}

/// When to draw a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Progress {
    /// Only when stdout and stderr are both terminals.
    #[default]
    Auto,
    Always,
    Never,
}

impl Progress {
    pub fn enabled(self) -> bool {
        match self {
            Progress::Auto => std::io::stdout().is_terminal() && std::io::stderr().is_terminal(),
            Progress::Always => true,
            Progress::Never => false,
        }
    }
}

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hash(args) => hash::run(args),
        Command::Lists(args) => lists::run(&cli.data, args),
        Command::Lookup(args) => lookup::run(&cli.data, args),
        Command::Match(args) => matching::run(&cli.data, args),
        Command::Vpdq(args) => vpdq::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // One readable sentence on stderr, the cause chain after it.
            eprintln!("tiaki: {e:#}");
            ExitCode::from(2)
        }
    }
}
