//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `tiaki` binary built for this test run.
pub fn tiaki() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tiaki"))
}

/// Runs `tiaki` with arguments and returns its output.
pub fn run(args: &[&str]) -> Output {
    tiaki().args(args).output().expect("run tiaki")
}

/// Repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Parses NDJSON output.
pub fn ndjson(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The Python interpreter with the PyPI peers (pdqhash, vpdq, faiss-cpu,
/// Pillow), set by the README's test command. Tests that compare against a
/// peer fail without it, unless TIAKI_SKIP_PEERS=1 says to skip them (and
/// they then say so loudly).
pub fn peer_python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TIAKI_PEER_PYTHON") {
        return Some(PathBuf::from(p));
    }
    if std::env::var("TIAKI_SKIP_PEERS").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: peer comparison (TIAKI_SKIP_PEERS=1)");
        return None;
    }
    panic!("set TIAKI_PEER_PYTHON to a Python with the peers installed (the README's test command does), or TIAKI_SKIP_PEERS=1");
}
