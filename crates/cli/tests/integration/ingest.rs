//! `tiaki ingest`, `tiaki triage`, `tiaki worker` (issue 5), each test run
//! against both backends: SQLite in the data directory and PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tiaki_testkit::{picture, picture_png};
use tiaki_types::hex;

use crate::common::{TestStore, Tiaki, fresh_postgres, ndjson, stores};

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(b))
}

fn md5_hex(b: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(&md5::Md5::digest(b))
}

/// A provider-report/1 bundle written line by line, as a test wants it.
struct Bundle {
    dir: PathBuf,
    report_id: String,
    accounts: Vec<String>,
    media: Vec<String>,
    events: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

impl Bundle {
    fn new(dir: &Path, report_id: &str) -> Bundle {
        Bundle {
            dir: dir.to_path_buf(),
            report_id: report_id.into(),
            accounts: Vec::new(),
            media: Vec::new(),
            events: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Writes it; with `checksums`, the manifest lists the NDJSON files' SHA-256.
    fn write(&self, checksums: bool) -> &Path {
        std::fs::create_dir_all(self.dir.join("files")).unwrap();
        let join = |v: &[String]| v.iter().map(|l| format!("{l}\n")).collect::<String>();
        let (a, m) = (join(&self.accounts), join(&self.media));
        std::fs::write(self.dir.join("accounts.ndjson"), &a).unwrap();
        std::fs::write(self.dir.join("media.ndjson"), &m).unwrap();
        if !self.events.is_empty() {
            std::fs::write(self.dir.join("events.ndjson"), join(&self.events)).unwrap();
        }
        for (name, bytes) in &self.files {
            std::fs::write(self.dir.join(name), bytes).unwrap();
        }
        let mut manifest = serde_json::json!({
            "format": "provider-report/1",
            "report_id": self.report_id,
            "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
            "created_at": "2019-10-14T03:00:00Z",
            "incident_type": "distribution",
            "custom_field": {"kept": true}
        });
        if checksums {
            manifest["files_sha256"] = serde_json::json!({
                "accounts.ndjson": sha256_hex(a.as_bytes()),
                "media.ndjson": sha256_hex(m.as_bytes()),
            });
        }
        std::fs::write(self.dir.join("manifest.json"), manifest.to_string()).unwrap();
        &self.dir
    }
}

fn account(id: &str) -> String {
    serde_json::json!({"id": id, "username": format!("user_{id}"), "emails": [format!("{id}@example.test")],
        "logins": [{"ip": "203.0.113.9", "at": "2019-10-02T11:00:00Z"}], "declared_country": "NZ"})
    .to_string()
}

/// The PDQ hash `tiaki hash` computes for a file.
fn pdq_of(path: &Path) -> String {
    let out = crate::common::run(&["hash", path.to_str().unwrap()]);
    ndjson(&out.stdout)[0]["pdq"].as_str().unwrap().to_string()
}

fn counts(s: &TestStore) -> serde_json::Value {
    let ls = ndjson(s.ok(&["intakes", "ls", "--json"]).as_bytes());
    assert_eq!(ls.len(), 1, "[{}] one intake: {ls:?}", s.name());
    ls[0]["counts"].clone()
}

fn findings(s: &TestStore) -> Vec<serde_json::Value> {
    ndjson(s.ok(&["intakes", "findings", "1"]).as_bytes())
}

#[test]
fn bundle_end_to_end_on_both_backends() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Bundle::new(&tmp.path().join("bundle"), "ACME-2019-10-0001");
    let pics: Vec<Vec<u8>> = (0..5).map(|i| picture(i * 13 + 1)).collect();
    for (i, p) in pics.iter().enumerate() {
        b.files.push((format!("files/{i}.png"), p.clone()));
    }
    for i in 1..=45 {
        b.accounts.push(account(&format!("u{i}")));
    }
    // Line 46: the same id again; line 47: not JSON.
    b.accounts.push(account("u1"));
    b.accounts.push("{not json".into());
    let known_md5 = "0123456789abcdef0123456789abcdef";
    let same_new_sha = "ab".repeat(32);
    let same_new_pdq = "f0".repeat(32);
    b.media.push(serde_json::json!({"id": "f0", "file": "files/0.png", "account": "u1",
        "hashes": {"md5": "ffffffffffffffffffffffffffffffff"}, "viewed_by_provider": false}).to_string());
    for i in 1..5 {
        b.media.push(serde_json::json!({"id": format!("f{i}"), "file": format!("files/{i}.png"),
            "account": "u2", "viewed_by_provider": true}).to_string());
    }
    b.media.push(serde_json::json!({"id": "h1", "account": "u3", "hashes": {"md5": known_md5}}).to_string());
    // The same new picture from 40 accounts: one item with 40 occurrences.
    for i in 0..40 {
        b.media.push(serde_json::json!({"id": format!("s{i}"), "account": format!("u{}", i + 4),
            "hashes": {"sha256": same_new_sha, "pdq": same_new_pdq}}).to_string());
    }
    let first_bad = b.media.len() + 1;
    for bad in [
        "{\"account\": \"u1\", \"hashes\": {\"md5\": \"0123456789abcdef0123456789abcdef\"}}".to_string(),
        serde_json::json!({"id": "x1", "account": "nobody", "hashes": {"md5": known_md5}}).to_string(),
        serde_json::json!({"id": "x2", "account": "u1", "file": "../outside.png"}).to_string(),
        serde_json::json!({"id": "x3", "account": "u1", "file": "files/missing.png"}).to_string(),
        serde_json::json!({"id": "x4", "account": "u1", "hashes": {"md5": "xyz"}}).to_string(),
        serde_json::json!({"id": "f1", "account": "u1", "hashes": {"md5": known_md5}}).to_string(),
    ] {
        b.media.push(bad);
    }
    b.events.push(serde_json::json!({"type": "share", "from": "u1", "to": ["u2"], "media": "f0",
        "at": "2019-10-03T09:13:00Z"}).to_string());
    std::fs::write(tmp.path().join("outside.png"), &pics[0]).unwrap();
    let bundle = b.write(true).to_path_buf();
    let pdq1 = pdq_of(&bundle.join("files/1.png"));
    let pdq3 = pdq_of(&bundle.join("files/3.png"));
    std::fs::write(tmp.path().join("md5.csv"), format!("md5\n{known_md5}\n")).unwrap();
    std::fs::write(tmp.path().join("pdq1.txt"), format!("{pdq1}\n")).unwrap();
    std::fs::write(tmp.path().join("pdq3.txt"), format!("{pdq3}\n")).unwrap();

    for s in stores("end_to_end") {
        let name = s.name();
        s.ok(&["lists", "import", "--name", "md5s", tmp.path().join("md5.csv").to_str().unwrap()]);
        s.ok(&["lists", "import", "--name", "pdqs", tmp.path().join("pdq1.txt").to_str().unwrap()]);
        let out = s.run(&["ingest", bundle.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "[{name}] ingest: {stderr}");
        let c = counts(&s);
        assert_eq!(c["accounts"], 45, "[{name}] {c}");
        assert_eq!(c["media"], 46, "[{name}] {c}");
        assert_eq!(c["media_known"], 2, "[{name}] f1 by PDQ, h1 by MD5: {c}");
        assert_eq!(c["media_new"], 44, "[{name}] {c}");
        assert_eq!(c["events"], 1, "[{name}] {c}");
        let f = findings(&s);
        let at = |file: &str, line: usize| {
            f.iter()
                .find(|x| x["file"] == file && x["line"] == line as u64)
                .unwrap_or_else(|| panic!("[{name}] no finding for {file} line {line}: {f:?}"))
        };
        assert!(at("accounts.ndjson", 46)["message"].as_str().unwrap().contains("u1"));
        at("accounts.ndjson", 47);
        for line in first_bad..first_bad + 6 {
            at("media.ndjson", line);
        }
        assert!(at("media.ndjson", first_bad + 2)["message"].as_str().unwrap().contains(".."));
        let mismatch = f.iter().find(|x| x["code"] == "md5_mismatch").expect("md5 disagreement recorded");
        assert_eq!(mismatch["subject"], "f0");
        assert!(mismatch["message"].as_str().unwrap().contains(&md5_hex(&pics[0])));
        assert!(stderr.contains("media.ndjson line"), "[{name}] findings shown: {stderr}");

        // Blobs are kept encrypted, and the standard age tool opens them.
        let blob = s.data().join("blobs").join(&sha256_hex(&pics[0])[..2]).join(format!("{}.age", sha256_hex(&pics[0])));
        assert!(blob.is_file(), "[{name}] blob {blob:?}");
        let age = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(s.data().join("blob-identity.txt"))
            .arg(&blob)
            .output()
            .expect("the age CLI (scripts/setup.sh installs it)");
        assert!(age.status.success(), "age -d: {}", String::from_utf8_lossy(&age.stderr));
        assert_eq!(age.stdout, pics[0]);

        // Triage: new material first; the picture of 40 accounts is one item.
        let clusters = ndjson(s.ok(&["triage", "--json"]).as_bytes());
        assert_eq!(clusters[0]["state"], "new", "[{name}] {:?}", clusters[0]);
        assert_eq!(clusters[0]["media"], 40);
        assert_eq!(clusters[0]["accounts"], 40);
        assert!(clusters.iter().any(|c| c["state"] == "known"));
        let first_known = clusters.iter().position(|c| c["state"] != "new").unwrap();
        assert!(clusters[first_known..].iter().all(|c| c["state"] != "new"), "new first");

        // The same report again: a no-op that says so.
        let before = s.ok(&["intakes", "dump"]);
        let again = s.ok(&["ingest", bundle.to_str().unwrap()]);
        assert!(again.contains("already ingested"), "[{name}] {again}");
        assert_eq!(s.ok(&["intakes", "dump"]), before, "[{name}] re-ingest changed nothing");

        // A list imported later matches the earlier intake, without re-hashing.
        let imported = s.ok(&["lists", "import", "--name", "later", tmp.path().join("pdq3.txt").to_str().unwrap()]);
        assert!(imported.contains("matched earlier intakes"), "[{name}] {imported}");
        assert_eq!(counts(&s)["media_known"], 3, "[{name}] f3 is known now");
    }
}

#[test]
fn rejected_bundles_store_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Bundle::new(&tmp.path().join("b"), "R-1");
    b.accounts.push(account("u1"));
    b.media.push(serde_json::json!({"id": "m1", "account": "u1", "hashes": {"md5": "0123456789abcdef0123456789abcdef"}}).to_string());
    let dir = b.write(true).to_path_buf();
    // Tamper after the manifest was written: the checksum no longer matches.
    std::fs::write(dir.join("media.ndjson"), "{\"id\": \"m2\", \"account\": \"u1\", \"hashes\": {\"md5\": \"0123456789abcdef0123456789abcdee\"}}\n").unwrap();
    let no_manifest = tmp.path().join("no-manifest");
    std::fs::create_dir_all(&no_manifest).unwrap();
    std::fs::write(no_manifest.join("accounts.ndjson"), "").unwrap();
    std::fs::write(no_manifest.join("media.ndjson"), "").unwrap();
    let bad_format = tmp.path().join("bad-format");
    std::fs::create_dir_all(&bad_format).unwrap();
    std::fs::write(bad_format.join("accounts.ndjson"), "").unwrap();
    std::fs::write(bad_format.join("media.ndjson"), "").unwrap();
    std::fs::write(bad_format.join("manifest.json"), r#"{"format": "provider-report/9", "report_id": "x", "provider": {"name": "p"}}"#).unwrap();
    for s in stores("rejected") {
        for (path, says) in [(&dir, "media.ndjson"), (&no_manifest, "manifest"), (&bad_format, "provider-report/9")] {
            let out = s.run(&["ingest", path.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "[{}] {path:?} must be rejected", s.name());
            assert!(err.contains("rejected") && err.contains(says), "[{}] {err}", s.name());
        }
        assert_eq!(s.ok(&["intakes", "dump"]), "", "[{}] nothing stored", s.name());
    }
}

/// A larger hash-only bundle with some files, for the kill -9 test.
fn big_bundle(dir: &Path) -> PathBuf {
    let mut b = Bundle::new(dir, "BIG-1");
    for i in 0..3000 {
        b.accounts.push(account(&format!("a{i}")));
    }
    for i in 0..30 {
        b.files.push((format!("files/{i}.png"), picture(i * 7 + 3)));
        b.media.push(serde_json::json!({"id": format!("file{i}"), "file": format!("files/{i}.png"),
            "account": format!("a{i}")}).to_string());
    }
    for i in 0..40_000u32 {
        let content = i % 5000;
        b.media.push(serde_json::json!({"id": format!("m{i}"), "account": format!("a{}", i % 3000),
            "hashes": {"md5": format!("{content:032x}"), "pdq": format!("{:016x}", u64::from(content).wrapping_mul(0x9E37_79B9_7F4A_7C15)).repeat(4)},
            "viewed_by_provider": i % 2 == 0}).to_string());
        if i % 997 == 0 {
            b.media.push("{broken".into());
        }
    }
    b.write(true).to_path_buf()
}

#[test]
fn killed_ingest_resumes_to_the_clean_state() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = big_bundle(&tmp.path().join("big"));
    let clean = stores("kill_clean");
    let killed = stores("kill_killed");
    for (a, b) in clean.iter().zip(&killed) {
        let started = std::time::Instant::now();
        a.ok(&["ingest", "--hash-only", bundle.to_str().unwrap()]);
        // The kill points are fractions of the clean run's own time, so they
        // land inside a run on a fast machine and on a loaded one alike
        // (fixed sleeps let a quick resumed run finish before the third kill).
        let clean_ms = started.elapsed().as_millis() as u64;
        let blobs = a.data().join("blobs");
        assert!(
            !blobs.exists() || std::fs::read_dir(&blobs).unwrap().next().is_none(),
            "[{}] --hash-only keeps no media",
            a.name()
        );
        let want = a.ok(&["intakes", "dump"]);
        assert!(want.lines().count() > 40_000);
        // Kill at several points: early (reading), later (hashing), and
        // again on the resumed run.
        let mut killed_running = 0;
        for ms in [3u64, 10, 20, 35, 50].map(|pct| (clean_ms * pct / 100).max(20)) {
            let mut child = b
                .cmd()
                .args(["ingest", "--hash-only", bundle.to_str().unwrap()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(ms));
            if child.try_wait().unwrap().is_none() {
                killed_running += 1;
            }
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        assert!(killed_running >= 3, "[{}] only {killed_running} kills hit a running ingest", b.name());
        let last = b.ok(&["ingest", "--hash-only", bundle.to_str().unwrap()]);
        assert!(last.contains("report"), "{last}");
        let got = b.ok(&["intakes", "dump"]);
        if got != want {
            let (w, g): (std::collections::BTreeSet<_>, std::collections::BTreeSet<_>) =
                (want.lines().collect(), got.lines().collect());
            let missing: Vec<_> = w.difference(&g).take(5).collect();
            let extra: Vec<_> = g.difference(&w).take(5).collect();
            panic!("[{}] resumed state differs: missing {missing:?}, extra {extra:?}", b.name());
        }
    }
}

#[test]
fn two_workers_share_the_postgres_queue() {
    let Some(pg) = fresh_postgres("workers") else { return };
    let url = pg.url().to_owned();
    let tmp = tempfile::tempdir().unwrap();
    let mut b = Bundle::new(&tmp.path().join("w"), "W-1");
    b.accounts.push(account("u1"));
    // Pictures large enough that hashing them takes both workers a while.
    for i in 0..60 {
        b.files.push((format!("files/{i}.png"), picture_png(i * 5 + 2, 1600, 1200)));
        b.media.push(serde_json::json!({"id": format!("m{i}"), "file": format!("files/{i}.png"), "account": "u1"}).to_string());
    }
    let bundle = b.write(true).to_path_buf();
    let s = TestStore::postgres(pg);
    // Create the schema first, so the workers find their queue.
    s.ok(&["intakes", "ls"]);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let d = tempfile::tempdir().unwrap();
            let child = crate::common::tiaki()
                .arg("--data")
                .arg(d.path())
                .args(["--database", &url, "worker", "--idle-exit", "6", "--claim", "1", "--hash-only", "--threads", "1"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (d, child)
        })
        .collect();
    let out = s.ok(&["ingest", "--queue", "--hash-only", bundle.to_str().unwrap()]);
    assert!(out.contains("60 media"), "{out}");
    let mut hashed_by = Vec::new();
    for (_d, child) in workers {
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "worker: {err}");
        hashed_by.push(err);
    }
    let psql = std::process::Command::new("psql")
        .arg(&url)
        .args(["-qtAc", "SELECT hash_state || ' ' || COUNT(DISTINCT worker) || ' ' || COUNT(*) FROM media GROUP BY hash_state"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&psql.stdout).trim().to_string();
    assert_eq!(table, "hashed 2 60", "both workers hashed, all 60 done; workers said {hashed_by:?}");
    assert_eq!(counts(&s)["media_new"], 60);
}

#[test]
fn cybertip_folder_ingests_as_one_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("tips");
    std::fs::create_dir_all(&folder).unwrap();
    let samples = crate::common::repo().join("crates/intake/tests/data/cybertip");
    // The all-sections report under its report id, with the separate
    // fileDetails document that belongs to it (matched by reportId).
    std::fs::copy(samples.join("report.all-sections.example.xml"), folder.join("123456.xml")).unwrap();
    std::fs::copy(samples.join("fileDetails.all-fields.example.xml"), folder.join("123456-file1.xml")).unwrap();
    std::fs::copy(samples.join("report.doc-example.xml"), folder.join("report.doc-example.xml")).unwrap();
    std::fs::write(folder.join("zz-broken.xml"), "<report><reportedPerson>").unwrap();
    for s in stores("cybertip") {
        let name = s.name();
        let out = s.run(&["ingest", folder.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{name}] one bad report: {stdout} {stderr}");
        assert!(stderr.contains("zz-broken.xml"), "[{name}] the bad file is named: {stderr}");
        assert_eq!(stdout.matches("ingested report").count(), 2, "[{name}] {stdout}");
        let ls = ndjson(s.ok(&["intakes", "ls", "--json"]).as_bytes());
        assert_eq!(ls.len(), 2, "[{name}] {ls:?}");
        for i in &ls {
            assert_eq!(i["intake"]["source_kind"], "cybertip");
        }
        // The all-sections sample has a reported user (→ an account); the
        // documentation example has none.
        let full = ls.iter().find(|i| i["intake"]["report_id"] != "report.doc-example").unwrap();
        assert!(full["counts"]["accounts"].as_u64().unwrap() >= 1, "[{name}] reported person → account: {full}");
        assert!(ls.iter().map(|i| i["counts"]["media"].as_u64().unwrap()).sum::<u64>() >= 1);
        let again = s.run(&["ingest", folder.to_str().unwrap()]);
        assert_eq!(String::from_utf8_lossy(&again.stdout).matches("already ingested").count(), 2, "[{name}]");
    }
}
