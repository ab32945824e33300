//! Full disk (issue 17): the data directory, the package output folder and
//! a PostgreSQL tablespace each on a small tmpfs that fills during the run.
//! The command stops with an error naming the path (or the store) and what
//! filled it, exit status 2; after the tmpfs is made larger, the same command
//! completes, and the result is the clean run's.
//!
//! Mounting needs root (as CI runs); elsewhere the test says loudly that it
//! did not run, and under `CI` it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{TestStore, Tiaki, fresh_postgres};
use crate::crash::{out_dump, referral_store, store_dump};
use crate::referrals::{CREATED_AT, PASSPHRASE};

/// A tmpfs mounted at a fresh directory for the test's life.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (after saying why) where mounting is not allowed outside CI.
    fn mount(kib: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir.path())
            .output();
        match st {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = format!("cannot mount a tmpfs ({other:?})");
                assert!(
                    std::env::var_os("CI").is_none(),
                    "{why}: the full-disk tests need root in CI"
                );
                eprintln!("SKIPPED: full-disk test not run: {why}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, kib: u64) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(st.success(), "remount {}", self.path().display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// A bundle of 60 files of 100 KB (benign random bytes) and 5,000
/// hash-only lines.
fn bundle(dir: &Path) -> PathBuf {
    let b = dir.join("bundle");
    std::fs::create_dir_all(b.join("files")).unwrap();
    let mut rng = tiaki_types::rng::Rng::new(5);
    let (mut accounts, mut media) = (String::new(), String::new());
    for i in 0..200 {
        accounts.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": format!("a{i}"), "emails": [format!("a{}@example.co.nz", i % 150)]})
        ));
    }
    for i in 0..60 {
        let bytes: Vec<u8> = (0..100_000).map(|_| rng.next_u64() as u8).collect();
        std::fs::write(b.join(format!("files/{i}.bin")), bytes).unwrap();
        media.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": format!("f{i}"), "file": format!("files/{i}.bin"), "account": format!("a{}", i % 200)})
        ));
    }
    for i in 0..5000 {
        media.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": format!("h{i}"), "account": format!("a{}", i % 200), "hashes": {"md5": format!("{:032x}", i % 1500)}})
        ));
    }
    std::fs::write(b.join("accounts.ndjson"), accounts).unwrap();
    std::fs::write(b.join("media.ndjson"), media).unwrap();
    let manifest = serde_json::json!({"format": "provider-report/1", "report_id": "FULL-1",
        "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
        "created_at": "2021-01-01T00:00:00Z", "incident_type": "distribution"});
    std::fs::write(b.join("manifest.json"), manifest.to_string()).unwrap();
    b
}

/// Runs `tiaki ARGS` expecting failure; its stderr.
fn fails(s: &TestStore, args: &[&str]) -> String {
    let o = s
        .cmd()
        .env("TIAKI_ISSUER_PASSPHRASE", PASSPHRASE)
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "[{}] {args:?}: {err}", s.name());
    err
}

#[test]
fn ingest_on_a_full_disk_stops_clearly_and_completes_after_space_is_freed() {
    let Some(fs) = Tmpfs::mount(3 * 1024) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let b = bundle(tmp.path());
    let args = ["ingest", b.to_str().unwrap()];
    let clean = TestStore::sqlite();
    clean.ok(&args);
    let want = store_dump(&clean, None);

    let full = TestStore::sqlite_in(fs.path());
    let err = fails(&full, &args);
    let mount = fs.path().display().to_string();
    assert!(
        err.contains(&mount)
            && (err.contains("No space left on device") || err.contains("no space left")),
        "the error names the full path and why: {err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    fs.resize(64 * 1024);
    full.ok(&args);
    crate::crash::assert_same("ingest after the disk was full", &want, &store_dump(&full, None));
    let findings = full.ok(&["intakes", "findings", "1"]);
    assert_eq!(findings, "", "a full disk is not the files' fault");
}

#[test]
fn package_build_on_a_full_disk_stops_clearly_and_completes_after_space_is_freed() {
    let Some(fs) = Tmpfs::mount(64) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let base = TestStore::sqlite();
    let (keys, issuer_pub) = referral_store(&base, tmp.path());
    let build = |out: &Path| {
        [
            "referrals",
            "build",
            "--out",
            out.to_str().unwrap(),
            "--created-at",
            CREATED_AT,
            "--include-media",
        ]
        .map(str::to_owned)
    };
    let clean = crate::crash::copy_store(&base);
    let clean_out = tmp.path().join("out-clean");
    let a = build(&clean_out);
    crate::referrals::ok(&clean, &a.each_ref().map(String::as_str));
    let want_store = store_dump(&clean, Some(&clean_out));
    let want_out = out_dump(&clean_out, &issuer_pub, &keys);

    let full = crate::crash::copy_store(&base);
    let out = fs.path().join("out");
    let a = build(&out);
    let a = a.each_ref().map(String::as_str);
    let err = fails(&full, &a);
    assert!(
        err.contains(&out.display().to_string()) && err.contains("No space left on device"),
        "the error names the package being written and why: {err}"
    );
    fs.resize(64 * 1024);
    crate::referrals::ok(&full, &a);
    crate::crash::assert_same(
        "packages after the disk was full",
        &want_out,
        &out_dump(&out, &issuer_pub, &keys),
    );
    crate::crash::assert_same(
        "ledger after the disk was full",
        &want_store,
        &store_dump(&full, Some(&out)).replace(&out.display().to_string(), "<out>"),
    );
}

/// `psql ADMIN_URL -c SQL` as the test role (a superuser, as setup.sh makes it).
fn psql(url: &str, sql: &str) {
    let o = Command::new("psql")
        .args([url, "-qtAc", sql])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn postgres_on_a_full_tablespace_stops_clearly_and_completes_after_space_is_freed() {
    let (Some(admin), Some(pg)) = (
        tiaki_testkit::postgres(),
        fresh_postgres("full_tablespace"),
    ) else {
        return;
    };
    let Some(fs) = Tmpfs::mount(1024) else {
        return;
    };
    // PostgreSQL's own user must own a tablespace's directory.
    let st = Command::new("chown")
        .args(["postgres:postgres"])
        .arg(fs.path())
        .status()
        .unwrap();
    assert!(st.success());
    let db = pg.url().rsplit('/').next().unwrap().to_owned();
    let space = format!("{db}_ts");
    psql(
        &admin,
        &format!("CREATE TABLESPACE {space} LOCATION '{}'", fs.path().display()),
    );
    // The migrations create every table in the small tablespace.
    psql(
        &admin,
        &format!("ALTER DATABASE {db} SET default_tablespace = {space}"),
    );
    struct DropSpace(String, String);
    impl Drop for DropSpace {
        fn drop(&mut self) {
            let _ = Command::new("psql")
                .args([&self.0, "-qtAc", &format!("DROP TABLESPACE IF EXISTS {}", self.1)])
                .status();
        }
    }
    let _space = DropSpace(admin.clone(), space.clone());

    let tmp = tempfile::tempdir().unwrap();
    let b = bundle(tmp.path());
    let args = ["ingest", "--hash-only", b.to_str().unwrap()];
    let clean = TestStore::postgres(fresh_postgres("full_tablespace_clean").unwrap());
    clean.ok(&args);
    let want = store_dump(&clean, None);

    let full = TestStore::postgres(pg);
    let err = fails(&full, &args);
    assert!(
        err.contains(&format!("no space left for the store PostgreSQL database {db}")),
        "the error names the store and why: {err}"
    );
    fs.resize(256 * 1024);
    full.ok(&args);
    crate::crash::assert_same("ingest after the tablespace was full", &want, &store_dump(&full, None));
    // The database goes first (its Drop), then the tablespace, then the mount.
    drop(full);
}

#[test]
fn an_unreachable_postgres_is_a_clear_error_at_once() {
    let data = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let o = crate::common::tiaki()
        .arg("--data")
        .arg(data.path())
        .args(["--database", "postgres://tiaki:tiaki@127.0.0.1:1/nowhere", "stats"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot reach the store PostgreSQL database nowhere on 127.0.0.1:1")
            && err.contains("Connection refused"),
        "{err}"
    );
    // Not the pool's minute of retries (a loose bound: this is no timing test).
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
