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

pub use tiaki_testkit::{TestStore, fresh_postgres, peer_python, stores};

/// Running `tiaki` against a test store.
pub trait Tiaki {
    /// `tiaki --data DIR [--database URL]`.
    fn cmd(&self) -> Command;
    /// Runs with arguments and returns the output.
    fn run(&self, args: &[&str]) -> Output;
    /// Runs and insists on success; returns stdout.
    fn ok(&self, args: &[&str]) -> String;
}

impl Tiaki for TestStore {
    fn cmd(&self) -> Command {
        let mut c = tiaki();
        c.args(self.args());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run tiaki")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "[{}] tiaki {args:?}: exit {:?}\nstdout: {}\nstderr: {}",
            self.name(),
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}
