//! The crash suite (issue 17): each long-running command is killed with
//! SIGKILL at points chosen from its own `--progress json` lines, run again
//! to the end, and the store and the output folder are compared with a
//! clean run's as canonical text: identical. A further run changes nothing.
//!
//! Commands: `ingest --geoip` (SQLite and PostgreSQL), `referrals build`,
//! `outcomes import`, `lists import`. docs/reliability.md says what each
//! guarantees.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tiaki_attrib::scenario::{Scenario, ScenarioConfig, generate};
use tiaki_store::Timestamp;
use tiaki_testkit::picture;
use tiaki_types::hex;

use crate::common::{TestStore, Tiaki, fresh_postgres, ndjson, stores};
use crate::referrals::{CREATED_AT, PASSPHRASE, sha256_hex, tool};

/// Where to kill a run: in stage `stage`, once `done` reaches this fraction
/// of the stage's total, or (stages without a total) at its n-th line.
#[derive(Debug, Clone, Copy)]
enum At {
    Fraction(&'static str, f64),
    Line(&'static str, usize),
}

/// Runs `tiaki ARGS --progress json` and kills it (SIGKILL) at `at`. True
/// when the kill hit a running process (false: it ended first).
fn kill_at(s: &TestStore, args: &[&str], at: At) -> bool {
    let mut child = s
        .cmd()
        .env("TIAKI_ISSUER_PASSPHRASE", PASSPHRASE)
        .args(args)
        .args(["--progress", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines_in_stage = 0usize;
    let mut hit = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let Ok(p) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let stage = p["stage"].as_str().unwrap_or_default();
        let due = match at {
            At::Fraction(want, f) if stage == want => {
                let (done, total) = (p["done"].as_u64().unwrap(), p["total"].as_u64());
                total.is_some_and(|t| done as f64 >= f * t as f64)
            }
            At::Line(want, n) if stage == want => {
                lines_in_stage += 1;
                lines_in_stage >= n
            }
            _ => false,
        };
        if due {
            hit = child.kill().is_ok();
            break;
        }
    }
    let status = child.wait().unwrap();
    // A kill that raced the process's own exit did not hit it.
    hit && !status.success()
}

/// `tiaki ARGS` with the passphrase set; insists on success.
fn ok(s: &TestStore, args: &[&str]) -> String {
    crate::referrals::ok(s, args)
}

/// The store as canonical text: intakes (media, matches, triage, stages),
/// persons with their attribution, the figures, the lists and the ledger
/// with each referral's events; wall-clock times and the output folder's
/// own path taken out.
pub(crate) fn store_dump(s: &TestStore, out: Option<&Path>) -> String {
    let mut text = ok(s, &["intakes", "dump"]);
    let mut persons = ndjson(ok(s, &["persons", "ls", "--json"]).as_bytes());
    persons.iter_mut().for_each(without_times);
    for p in persons {
        text.push_str(&format!("person {p}\n"));
    }
    text.push_str(&format!("stats {}", ok(s, &["stats", "--json"])));
    for mut l in ndjson(ok(s, &["lists", "ls", "--json"]).as_bytes()) {
        without_times(&mut l);
        text.push_str(&format!("list {l}\n"));
    }
    for r in ndjson(ok(s, &["referrals", "ls", "--json"]).as_bytes()) {
        let id = r["id"].as_str().unwrap();
        let mut detail: serde_json::Value =
            serde_json::from_str(&ok(s, &["referrals", "show", id])).unwrap();
        without_times(&mut detail);
        // The build's own event is at the time of the build.
        for e in detail["events"].as_array_mut().into_iter().flatten() {
            if e["event"] == "built" {
                e.as_object_mut().unwrap().remove("at");
            }
        }
        let mut line = detail.to_string();
        if let Some(out) = out {
            line = line.replace(&out.display().to_string(), "<out>");
        }
        text.push_str(&format!("referral {line}\n"));
    }
    text
}

/// Removes the fields a rerun may legitimately change (times of the wall
/// clock).
fn without_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for k in ["computed_at", "updated_at", "imported_at", "recorded_at"] {
                m.remove(k);
            }
            m.values_mut().for_each(without_times);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(without_times),
        _ => {}
    }
}

/// The output folder as canonical text: every file's path, and for a
/// package the SHA-256 of its decrypted tar (age output differs run to
/// run) after checking its signature; other files by content.
pub(crate) fn out_dump(out: &Path, issuer_pub: &Path, keys: &BTreeMap<String, PathBuf>) -> String {
    let mut files = Vec::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut text = String::new();
    for p in files {
        let rel = p.strip_prefix(out).unwrap().display().to_string();
        let name = rel.as_str();
        let what = if name.ends_with(".tar.age") {
            let country = p.parent().unwrap().file_name().unwrap().to_str().unwrap();
            tool(
                "minisign",
                &["-Vqm", p.to_str().unwrap(), "-p", issuer_pub.to_str().unwrap()],
            );
            let dec = tool(
                "age",
                &["-d", "-i", keys[country].to_str().unwrap(), p.to_str().unwrap()],
            );
            format!("tar {}", sha256_hex(&dec.stdout))
        } else if name.ends_with(".minisig") {
            "signature (checked with its package)".to_owned()
        } else {
            sha256_hex(&std::fs::read(&p).unwrap())
        };
        text.push_str(&format!("{name} {what}\n"));
    }
    text
}

pub(crate) fn assert_same(what: &str, want: &str, got: &str) {
    if want != got {
        let w: std::collections::BTreeSet<&str> = want.lines().collect();
        let g: std::collections::BTreeSet<&str> = got.lines().collect();
        let missing: Vec<_> = w.difference(&g).take(5).collect();
        let extra: Vec<_> = g.difference(&w).take(5).collect();
        panic!("{what}: differs from the clean run: missing {missing:?}, extra {extra:?}");
    }
}

fn time(t: i64) -> String {
    Timestamp::from_unix(t).as_str().to_string()
}

/// The scenario as one bundle: its accounts with their logins, e-mails,
/// phones and devices; their uploads as hash-only lines (some sharing an
/// MD5 and a PDQ hash, so that matching and triage have clusters), and
/// some real files. Also the networks as a CIDR→country CSV.
fn write_scenario(s: &Scenario, dir: &Path) -> (PathBuf, PathBuf) {
    let bundle = dir.join("bundle");
    std::fs::create_dir_all(bundle.join("files")).unwrap();
    let (mut accounts, mut media) = (String::new(), String::new());
    let mut n = 0u64;
    for (i, a) in s.accounts.iter().enumerate() {
        accounts.push_str(&format!("{}\n", crate::persons::account_line(i, a)));
        for u in &a.uploads {
            let content = n % 4000;
            let pdq = format!("{:016x}", content.wrapping_mul(0x9E37_79B9_7F4A_7C15)).repeat(4);
            let mut m = serde_json::json!({"id": format!("m{n}"), "account": format!("acc{i}"),
                "hashes": {"sha256": hex::encode(&u.content_key.unwrap()),
                           "md5": format!("{content:032x}"), "pdq": pdq}});
            if let Some(ip) = &u.ip {
                m["upload_ip"] = ip.ip.clone().into();
                m["uploaded_at"] = ip.at.map(time).into();
            }
            media.push_str(&format!("{m}\n"));
            n += 1;
        }
        if i < 40 {
            let name = format!("files/{i}.png");
            std::fs::write(bundle.join(&name), picture(i as u32 * 7 + 3)).unwrap();
            media.push_str(&format!(
                "{}\n",
                serde_json::json!({"id": format!("f{i}"), "file": name, "account": format!("acc{i}")})
            ));
        }
    }
    std::fs::write(bundle.join("accounts.ndjson"), accounts).unwrap();
    std::fs::write(bundle.join("media.ndjson"), media).unwrap();
    let manifest = serde_json::json!({
        "format": "provider-report/1",
        "report_id": "CRASH-1",
        "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
        "created_at": time(s.now),
        "incident_type": "distribution",
    });
    std::fs::write(bundle.join("manifest.json"), manifest.to_string()).unwrap();
    let csv = dir.join("networks.csv");
    std::fs::write(&csv, s.cidr_csv()).unwrap();
    (bundle, csv)
}

fn scenario() -> Scenario {
    generate(&ScenarioConfig {
        accounts: 2500,
        logins: 15_000,
        seed: 17,
    })
}

/// The known list the list-import test imports: a PDQ line for some of
/// the bundle's contents (so that earlier media match it) and many more
/// that match nothing.
fn write_pdq_list(path: &Path) {
    let mut text = String::new();
    for content in 0..100_000u64 {
        let h = if content < 4000 && content % 7 == 0 {
            content.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        } else {
            content.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x5555_0000_AAAA_0000
        };
        text.push_str(&format!("{},100\n", format!("{h:016x}").repeat(4)));
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn killed_ingest_gives_the_clean_run_persons_countries_and_matches() {
    let tmp = tempfile::tempdir().unwrap();
    let (bundle, csv) = write_scenario(&scenario(), tmp.path());
    let args = [
        "ingest",
        bundle.to_str().unwrap(),
        "--geoip",
        csv.to_str().unwrap(),
    ];
    let points = [
        At::Line("reading", 1),
        At::Line("reading", 4),
        At::Fraction("hashing", 0.5),
        At::Line("linking", 1),
        At::Line("storing", 1),
    ];
    for clean in stores("crash_ingest_clean") {
        ok(&clean, &args);
        let want = store_dump(&clean, None);
        assert!(want.contains("\"countries_attributed\":"), "{want}");
        let mut hits = 0;
        for (k, at) in points.iter().enumerate() {
            let killed = match clean.name() {
                "postgres" => TestStore::postgres(
                    fresh_postgres(&format!("crash_ingest_{k}")).unwrap(),
                ),
                _ => TestStore::sqlite(),
            };
            hits += usize::from(kill_at(&killed, &args, *at));
            ok(&killed, &args);
            assert_same(
                &format!("[{}] ingest killed at {at:?}", killed.name()),
                &want,
                &store_dump(&killed, None),
            );
            let again = ok(&killed, &args);
            assert!(again.contains("already ingested"), "{again}");
            assert_same(
                &format!("[{}] a further run after {at:?}", killed.name()),
                &want,
                &store_dump(&killed, None),
            );
        }
        assert!(
            hits >= 4,
            "[{}] only {hits} of {} kills hit a running ingest",
            clean.name(),
            points.len()
        );
    }
}

/// A store with the scenario ingested, agencies for some of its countries
/// (the others go to no-recipient.json) and the issuer key: returns the
/// agency keys by country and the issuer's public key.
pub(crate) fn referral_store(s: &TestStore, dir: &Path) -> (BTreeMap<String, PathBuf>, PathBuf) {
    let (bundle, csv) = write_scenario(&scenario(), dir);
    ok(
        s,
        &[
            "ingest",
            bundle.to_str().unwrap(),
            "--geoip",
            csv.to_str().unwrap(),
        ],
    );
    let stats: serde_json::Value = serde_json::from_str(&ok(s, &["stats", "--json"])).unwrap();
    assert!(stats["countries_attributed"].as_u64().unwrap() > 8, "{stats}");
    let persons = ndjson(ok(s, &["persons", "ls", "--json"]).as_bytes());
    let mut countries: Vec<String> = persons
        .iter()
        .flat_map(|p| p["members"].as_array().unwrap())
        .filter_map(|m| m["attribution"]["country"].as_str().map(str::to_owned))
        .collect();
    countries.sort();
    countries.dedup();
    let mut keys = BTreeMap::new();
    let mut toml = String::new();
    for c in countries.iter().take(countries.len() - 2) {
        let key = dir.join(format!("{c}.key"));
        tool("age-keygen", &["-o", key.to_str().unwrap()]);
        let recipient = tool("age-keygen", &["-y", key.to_str().unwrap()]);
        let recipient = String::from_utf8(recipient.stdout).unwrap();
        toml.push_str(&format!(
            "[[agency]]\ncountry = \"{c}\"\nname = \"Agency {c}\"\nage_recipient = \"{}\"\ncontact = \"x@example.test\"\n\n",
            recipient.trim()
        ));
        keys.insert(c.clone(), key);
    }
    let agencies = dir.join("agencies.toml");
    std::fs::write(&agencies, toml).unwrap();
    ok(s, &["agencies", "import", agencies.to_str().unwrap()]);
    let issuer_pub = dir.join("issuer.pub");
    std::fs::write(&issuer_pub, ok(s, &["keys", "issuer"])).unwrap();
    (keys, issuer_pub)
}

/// A copy of a SQLite test store (its data directory).
pub(crate) fn copy_store(from: &TestStore) -> TestStore {
    let to = TestStore::sqlite();
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.data().display()))
        .arg(to.data())
        .status()
        .unwrap();
    assert!(st.success());
    to
}

#[test]
fn killed_referral_build_outcome_import_and_list_import_resume_to_the_clean_state() {
    let tmp = tempfile::tempdir().unwrap();
    let base = TestStore::sqlite();
    let (keys, issuer_pub) = referral_store(&base, tmp.path());

    // ---- referrals build ----
    let build = |out: &Path| -> Vec<String> {
        ["referrals", "build", "--out", out.to_str().unwrap(), "--created-at", CREATED_AT]
            .map(str::to_owned)
            .to_vec()
    };
    let clean = copy_store(&base);
    let clean_out = tmp.path().join("out-clean");
    let args = build(&clean_out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&clean, &args);
    let want_store = store_dump(&clean, Some(&clean_out));
    let want_out = out_dump(&clean_out, &issuer_pub, &keys);
    let packages = want_out.matches(".tar.age ").count();
    assert!(packages >= 6, "{want_out}");
    let mut hits = 0;
    let points = [
        At::Line("routing", 1),
        At::Fraction("building", 0.2),
        At::Fraction("building", 0.5),
        At::Fraction("building", 0.8),
    ];
    for (k, at) in points.iter().enumerate() {
        let killed = copy_store(&base);
        let out = tmp.path().join(format!("out-{k}"));
        let a = build(&out);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        hits += usize::from(kill_at(&killed, &a, *at));
        ok(&killed, &a);
        let what = format!("referrals build killed at {at:?}");
        assert_same(
            &what,
            &want_store,
            &store_dump(&killed, Some(&out)).replace(&out.display().to_string(), "<out>"),
        );
        assert_same(&what, &want_out, &out_dump(&out, &issuer_pub, &keys));
        ok(&killed, &a);
        assert_same(
            &format!("a further build after {at:?}"),
            &want_out,
            &out_dump(&out, &issuer_pub, &keys),
        );
    }
    assert!(hits >= 3, "only {hits} kills hit a running build");

    // ---- outcomes import ----
    let ledger = ndjson(ok(&clean, &["referrals", "ls", "--json"]).as_bytes());
    let ids: Vec<&str> = ledger.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut outcomes = String::new();
    for i in 0..12_000usize {
        let id = ids[i % ids.len()];
        let mut line = serde_json::json!({"referral_id": id, "at": time(1_614_556_800 + i as i64),
            "note": format!("case {i}")});
        match i % 4 {
            0 => line["event"] = "investigation_opened".into(),
            1 => {
                line["event"] = "arrest".into();
                line["count"] = 1.into();
            }
            2 => {
                line["event"] = "children_safeguarded".into();
                line["count"] = 2.into();
            }
            _ => line["event"] = "note".into(),
        }
        outcomes.push_str(&format!("{line}\n"));
    }
    let outcomes_file = tmp.path().join("outcomes.ndjson");
    std::fs::write(&outcomes_file, outcomes).unwrap();
    let import = ["outcomes", "import", outcomes_file.to_str().unwrap()];
    let clean_o = copy_store(&clean);
    ok(&clean_o, &import);
    let want = store_dump(&clean_o, Some(&clean_out));
    let mut hits = 0;
    for at in &[At::Fraction("checking", 0.5), At::Line("recording", 1)] {
        let killed = copy_store(&clean);
        hits += usize::from(kill_at(&killed, &import, *at));
        ok(&killed, &import);
        assert_same(
            &format!("outcomes import killed at {at:?}"),
            &want,
            &store_dump(&killed, Some(&clean_out)),
        );
        ok(&killed, &import);
        assert_same(
            &format!("a further outcomes import after {at:?}"),
            &want,
            &store_dump(&killed, Some(&clean_out)),
        );
    }
    assert!(hits >= 1, "no kill hit a running outcomes import");

    // ---- lists import (then matching of the earlier intake) ----
    let list = tmp.path().join("known.pdq");
    write_pdq_list(&list);
    let import = ["lists", "import", "--name", "known", list.to_str().unwrap()];
    let clean_l = copy_store(&base);
    ok(&clean_l, &import);
    let want = store_dump(&clean_l, None);
    assert!(want.contains("\"media_known\":"), "{want}");
    let probes: String = (0..4000u64)
        .step_by(7)
        .map(|c| format!("{}\n", format!("{:016x}", c.wrapping_mul(0x9E37_79B9_7F4A_7C15)).repeat(4)))
        .collect();
    let lookup = |s: &TestStore| {
        let mut child = s
            .cmd()
            .arg("lookup")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(probes.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        // Entry ids are the store's and differ between stores: keep the
        // rest of each answer.
        let mut v = ndjson(&out.stdout);
        for a in &mut v {
            for m in a["matches"].as_array_mut().into_iter().flatten() {
                m.as_object_mut().unwrap().remove("entry");
            }
        }
        serde_json::to_string(&v).unwrap()
    };
    let want_lookup = lookup(&clean_l);
    let mut hits = 0;
    let points = [
        At::Fraction("hashing", 0.5),
        At::Fraction("importing", 0.3),
        At::Fraction("importing", 1.0),
        At::Line("matching", 1),
    ];
    for at in &points {
        let killed = copy_store(&base);
        hits += usize::from(kill_at(&killed, &import, *at));
        let out = ok(&killed, &import);
        assert!(
            out.contains("imported list") || out.contains("already imported"),
            "{out}"
        );
        let what = format!("lists import killed at {at:?}");
        assert_same(&what, &want, &store_dump(&killed, None));
        assert_eq!(lookup(&killed), want_lookup, "{what}: index and store disagree");
        let again = ok(&killed, &import);
        assert!(again.contains("already imported"), "{again}");
        assert_same(
            &format!("a further lists import after {at:?}"),
            &want,
            &store_dump(&killed, None),
        );
    }
    assert!(hits >= 3, "only {hits} kills hit a running lists import");
}
