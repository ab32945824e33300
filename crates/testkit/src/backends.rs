//! Both store backends as one fixture: a SQLite data directory and a fresh
//! PostgreSQL database per test.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The PostgreSQL server the tests use: the admin URL in
/// `TIAKI_TEST_POSTGRES` (scripts/test.sh sets it), checked once per test
/// process with `psql`.
///
/// The rule, so that a missing server is never a quiet pass:
/// * in CI (`CI` set, as every CI service sets it) PostgreSQL is required:
///   an unset variable or an unreachable server fails the test;
/// * elsewhere it fails the same way, unless `TIAKI_SKIP_POSTGRES=1`, and
///   then the PostgreSQL half is skipped with a loud line on stderr
///   (`None`).
pub fn postgres() -> Option<String> {
    static ADMIN: OnceLock<Result<String, String>> = OnceLock::new();
    let admin = ADMIN.get_or_init(|| {
        let url = std::env::var("TIAKI_TEST_POSTGRES")
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| "TIAKI_TEST_POSTGRES is not set".to_string())?;
        reachable(&url)?;
        Ok(url)
    });
    let why = match admin {
        Ok(url) => return Some(url.clone()),
        Err(why) => why,
    };
    if in_ci() {
        panic!(
            "PostgreSQL is required in CI (CI is set): {why}; set TIAKI_TEST_POSTGRES to a reachable server"
        );
    }
    if std::env::var("TIAKI_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!(
            "\n*** SKIPPED: the PostgreSQL half of this test ({why}; TIAKI_SKIP_POSTGRES=1) ***\n"
        );
        return None;
    }
    panic!(
        "{why}: set TIAKI_TEST_POSTGRES to a reachable PostgreSQL admin URL (scripts/test.sh does), \
         or TIAKI_SKIP_POSTGRES=1 to skip the PostgreSQL half (loudly)"
    );
}

/// Whether this runs in CI: `CI` set to anything but empty, `0` or `false`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

fn reachable(url: &str) -> Result<(), String> {
    let o = Command::new("psql")
        .arg(url)
        .args(["-qtAc", "SELECT 1"])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "the PostgreSQL server in TIAKI_TEST_POSTGRES is not reachable: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

fn psql(admin: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .arg(admin)
        .args(["-qc", sql])
        .output()
        .expect("run psql")
}

/// A PostgreSQL database made for one test. A passing test's database is
/// dropped with it (a failing one's is kept to look at), so repeated runs
/// do not fill the server.
#[derive(Debug)]
pub struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    /// `postgres://…/<database>`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A fresh PostgreSQL database named after the test (`None` only when
/// [`postgres`] allows skipping).
pub fn fresh_postgres(test: &str) -> Option<PgDatabase> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let admin = postgres()?;
    // Unquoted identifiers are folded to lower case and cut at 63 bytes;
    // the URL must name the database as created.
    let stem: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    let name = format!(
        "t_{stem}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        let o = psql(&admin, &sql);
        assert!(
            o.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    Some(PgDatabase { admin, name, url })
}

/// A store to run against: a data directory, and for PostgreSQL a fresh
/// database of its own.
#[derive(Debug)]
pub struct TestStore {
    pub dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

impl TestStore {
    /// SQLite in a fresh data directory.
    pub fn sqlite() -> TestStore {
        TestStore {
            dir: tempfile::tempdir().expect("temporary directory"),
            pg: None,
        }
    }

    /// SQLite in a fresh data directory inside `parent` (a small tmpfs, say).
    pub fn sqlite_in(parent: &Path) -> TestStore {
        TestStore {
            dir: tempfile::tempdir_in(parent).expect("temporary directory"),
            pg: None,
        }
    }

    /// PostgreSQL in `pg`, with a fresh data directory for the blobs.
    pub fn postgres(pg: PgDatabase) -> TestStore {
        TestStore {
            dir: tempfile::tempdir().expect("temporary directory"),
            pg: Some(pg),
        }
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        self.dir.path()
    }

    /// `postgres://…` for the PostgreSQL backend; `None` for SQLite.
    pub fn database(&self) -> Option<&str> {
        self.pg.as_ref().map(PgDatabase::url)
    }

    /// `sqlite` or `postgres`, for assertion messages.
    pub fn name(&self) -> &'static str {
        if self.pg.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// `--data DIR [--database URL]`, the arguments that point `tiaki` here.
    pub fn args(&self) -> Vec<OsString> {
        let mut a = vec![OsString::from("--data"), self.dir.path().into()];
        if let Some(url) = self.database() {
            a.push("--database".into());
            a.push(url.into());
        }
        a
    }
}

/// One store per backend, SQLite then PostgreSQL: the same test body runs
/// against each. PostgreSQL is left out only where [`postgres`] allows it,
/// and then loudly.
pub fn stores(test: &str) -> Vec<TestStore> {
    let mut out = vec![TestStore::sqlite()];
    if let Some(pg) = fresh_postgres(test) {
        out.push(TestStore::postgres(pg));
    }
    out
}
