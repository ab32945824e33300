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
    panic!(
        "set TIAKI_PEER_PYTHON to a Python with the peers installed (the README's test command does), or TIAKI_SKIP_PEERS=1"
    );
}

/// A store to run `tiaki` against: a data directory, and for PostgreSQL a
/// fresh database of its own.
pub struct TestStore {
    pub dir: tempfile::TempDir,
    /// `postgres://…` for the PostgreSQL backend; `None` for SQLite.
    pub database: Option<String>,
}

/// A passing test's PostgreSQL database is dropped with it (a failing one's
/// is kept to look at), so repeated runs do not fill the server.
impl Drop for TestStore {
    fn drop(&mut self) {
        let (Some(url), Ok(admin)) = (&self.database, std::env::var("TIAKI_TEST_POSTGRES")) else {
            return;
        };
        if std::thread::panicking() {
            return;
        }
        if let Some((_, name)) = url.rsplit_once('/') {
            let _ = Command::new("psql")
                .arg(&admin)
                .args([
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

impl TestStore {
    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    pub fn name(&self) -> &'static str {
        if self.database.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// `tiaki --data DIR [--database URL]`.
    pub fn cmd(&self) -> Command {
        let mut c = tiaki();
        c.arg("--data").arg(self.dir.path());
        if let Some(url) = &self.database {
            c.arg("--database").arg(url);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run tiaki")
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
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

/// The PostgreSQL server the tests use (TIAKI_TEST_POSTGRES, set by the
/// README's test command). Without it the PostgreSQL half of a test fails,
/// unless TIAKI_SKIP_POSTGRES=1 says to skip it (loudly).
fn postgres_admin_url() -> Option<String> {
    if let Ok(u) = std::env::var("TIAKI_TEST_POSTGRES") {
        return Some(u);
    }
    if std::env::var("TIAKI_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: PostgreSQL backend (TIAKI_SKIP_POSTGRES=1)");
        return None;
    }
    panic!(
        "set TIAKI_TEST_POSTGRES to a PostgreSQL URL (the README's test command does), or TIAKI_SKIP_POSTGRES=1"
    );
}

/// A fresh PostgreSQL database named after the test, made with `psql`.
pub fn fresh_postgres(test: &str) -> Option<String> {
    let admin = postgres_admin_url()?;
    let name = format!(
        "t_{}_{}",
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id()
    );
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        let o = Command::new("psql")
            .arg(&admin)
            .args(["-qc", &sql])
            .output()
            .expect("run psql");
        assert!(
            o.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    Some(format!("{base}/{name}"))
}

/// One store per backend: SQLite, and PostgreSQL when available. The same
/// test body runs against each.
pub fn stores(test: &str) -> Vec<TestStore> {
    let mut out = vec![TestStore {
        dir: tempfile::tempdir().unwrap(),
        database: None,
    }];
    if let Some(url) = fresh_postgres(test) {
        out.push(TestStore {
            dir: tempfile::tempdir().unwrap(),
            database: Some(url),
        });
    }
    out
}
