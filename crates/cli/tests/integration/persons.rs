//! `tiaki ingest --geoip`, `tiaki attribute`, `tiaki persons` (issue 6), on
//! both backends: a generated scenario with known truth
//! (`tiaki_attrib::scenario`) written as two provider-report/1 bundles, a
//! test `.mmdb` built with the real `mmdb-writer` and cross-checked with
//! Debian's `mmdblookup`, and the CIDR CSV of the same networks.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tiaki_attrib::scenario::{Profile, Scenario, ScenarioConfig, generate};
use tiaki_attrib::{Country, GeoDb};
use tiaki_store::Timestamp;

use tiaki_types::hex;

use crate::common::{TestStore, Tiaki, ndjson, peer_python, stores};

fn time(t: i64) -> String {
    Timestamp::from_unix(t).as_str().to_string()
}

/// Account `i` of the scenario as an accounts.ndjson line `acc{i}`.
pub(crate) fn account_line(i: usize, a: &tiaki_attrib::AccountInput) -> serde_json::Value {
    let mut acc = serde_json::json!({
        "id": format!("acc{i}"),
        "emails": a.emails,
        "phones": a.phones,
        "devices": a.device_ids,
        "logins": a.logins.iter().map(|l| serde_json::json!({
            "ip": l.ip, "at": l.at.map(time), "possible_proxy": l.possible_proxy,
        })).collect::<Vec<_>>(),
    });
    // The intake model takes alpha-2 codes; the scenario writes names too.
    if let Some(c) = a.declared_country.as_deref().and_then(Country::parse) {
        acc["declared_country"] = c.alpha2().into();
    }
    if let Some(c) = &a.estimated_location {
        acc["estimated_location"] = serde_json::json!({"country_code": c});
    }
    acc
}

/// Writes account `i` of the scenario into bundle `i % 2`: persons whose
/// accounts are split across the two reports are found only by linking
/// across intakes.
pub(crate) fn write_bundles(s: &Scenario, dir: &Path) -> [PathBuf; 2] {
    let mut accounts = [String::new(), String::new()];
    let mut media = [String::new(), String::new()];
    let mut n = 0;
    for (i, a) in s.accounts.iter().enumerate() {
        let acc = account_line(i, a);
        accounts[i % 2].push_str(&format!("{acc}\n"));
        for u in &a.uploads {
            let mut m = serde_json::json!({"id": format!("m{n}"), "account": format!("acc{i}"),
                "hashes": {"sha256": hex::encode(&u.content_key.unwrap())}});
            if let Some(ip) = &u.ip {
                m["upload_ip"] = ip.ip.clone().into();
                m["uploaded_at"] = ip.at.map(time).into();
            }
            media[i % 2].push_str(&format!("{m}\n"));
            n += 1;
        }
    }
    [0, 1].map(|k| {
        let d = dir.join(format!("bundle{k}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("accounts.ndjson"), &accounts[k]).unwrap();
        std::fs::write(d.join("media.ndjson"), &media[k]).unwrap();
        let manifest = serde_json::json!({
            "format": "provider-report/1",
            "report_id": format!("LINK-{k}"),
            "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
            "created_at": time(s.now),
            "incident_type": "distribution",
        });
        std::fs::write(d.join("manifest.json"), manifest.to_string()).unwrap();
        d
    })
}

/// The scenario's networks as a GeoIP2-Country `.mmdb` (real writer) and a
/// CIDR CSV.
fn write_geo(python: &Path, s: &Scenario, dir: &Path) -> (PathBuf, PathBuf) {
    let list: Vec<_> = s
        .networks
        .iter()
        .map(|(net, c)| {
            serde_json::json!({"network": net.to_string(), "country": c.alpha2(), "name": c.name(), "layout": "country"})
        })
        .collect();
    let json = dir.join("networks.json");
    std::fs::write(&json, serde_json::to_vec(&list).unwrap()).unwrap();
    let script = crate::common::repo().join("crates/attrib/tests/data/write_mmdb.py");
    let st = Command::new(python)
        .arg(&script)
        .arg(&json)
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success(), "write_mmdb.py failed");
    let csv = dir.join("networks.csv");
    std::fs::write(&csv, s.cidr_csv()).unwrap();
    (dir.join("geoip2-country.mmdb"), csv)
}

/// `mmdblookup --file F --ip IP country iso_code`.
fn mmdblookup(file: &Path, ip: &str) -> Option<String> {
    let bin = Path::new("/usr/bin/mmdblookup");
    assert!(
        bin.exists(),
        "mmdblookup not found: apt-get install -y mmdb-bin"
    );
    let out = Command::new(bin)
        .arg("--file")
        .arg(file)
        .args(["--ip", ip, "country", "iso_code"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find('"')?;
    let end = text[start + 1..].find('"')? + start + 1;
    Some(text[start + 1..end].to_string())
}

/// Removes every `computed_at` (the only field a rerun may change).
fn without_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("computed_at");
            m.values_mut().for_each(without_times);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(without_times),
        _ => {}
    }
}

fn persons(s: &TestStore) -> Vec<serde_json::Value> {
    let mut v = ndjson(s.ok(&["persons", "ls", "--json"]).as_bytes());
    v.iter_mut().for_each(without_times);
    v
}

fn index_of(provider_id: &str) -> usize {
    provider_id.strip_prefix("acc").unwrap().parse().unwrap()
}

/// Checks the stored result against the scenario's truth.
fn check_truth(st: &TestStore, sc: &Scenario, persons: &[serde_json::Value]) {
    let who = st.name();
    // Persons linked by strong identifiers are recovered exactly.
    let got: BTreeSet<Vec<usize>> = persons
        .iter()
        .map(|p| {
            let mut m: Vec<usize> = p["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| index_of(m["provider_id"].as_str().unwrap()))
                .collect();
            m.sort_unstable();
            m
        })
        .collect();
    let want: BTreeSet<Vec<usize>> = sc
        .persons
        .iter()
        .map(|p| p.iter().map(|&i| i as usize).collect())
        .collect();
    assert_eq!(got.len(), want.len(), "[{who}] number of persons");
    assert!(got == want, "[{who}] persons differ from the truth");

    let mut by_account: HashMap<usize, &serde_json::Value> = HashMap::new();
    for p in persons {
        for m in p["members"].as_array().unwrap() {
            by_account.insert(index_of(m["provider_id"].as_str().unwrap()), m);
        }
    }
    assert_eq!(
        by_account.len(),
        sc.accounts.len(),
        "[{who}] every account attributed"
    );
    let (mut right, mut consistent) = (0, 0);
    let (mut conf_consistent, mut conf_conflicting, mut conflicting) = (0.0, 0.0, 0);
    let mut conflicting_with_runner_up = 0;
    for (i, t) in sc.truth.iter().enumerate() {
        let a = &by_account[&i]["attribution"];
        let c = a["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c), "[{who}] confidence {c}");
        if t.profile == Profile::Conflicting {
            conflicting += 1;
            conf_conflicting += c;
            conflicting_with_runner_up += usize::from(a["runner_up"].is_string());
        } else {
            consistent += 1;
            conf_consistent += c;
            right += usize::from(a["country"].as_str() == Some(t.country.alpha2()));
        }
        if t.malformed {
            // The scenario's unusable values (see tiaki_attrib::scenario).
            let bad = ["not-an-email", "+12", "999.1.2.3", "10.0.0.1"];
            let f = by_account[&i]["findings"].as_array().unwrap();
            assert!(
                f.iter()
                    .any(|x| bad.contains(&x["value"].as_str().unwrap_or(""))),
                "[{who}] acc{i}: the malformed value is no finding: {f:?}"
            );
        }
    }
    let rate = right as f64 / consistent as f64;
    assert!(
        rate >= 0.99,
        "[{who}] {right}/{consistent} consistent accounts right"
    );
    let (mean_ok, mean_conflict) = (
        conf_consistent / consistent as f64,
        conf_conflicting / conflicting as f64,
    );
    assert!(
        mean_conflict < mean_ok - 0.1,
        "[{who}] conflicting accounts must be visibly less certain: {mean_conflict:.3} vs {mean_ok:.3}"
    );
    assert!(
        conflicting_with_runner_up * 10 >= conflicting * 9,
        "[{who}] conflicting accounts show a runner-up: {conflicting_with_runner_up}/{conflicting}"
    );
    eprintln!(
        "[{who}] {right}/{consistent} consistent accounts right; mean confidence {mean_ok:.3} consistent, {mean_conflict:.3} conflicting"
    );
}

#[test]
fn linking_and_attribution_recover_the_scenario_on_both_backends() {
    let Some(python) = peer_python() else { return };
    let sc = generate(&ScenarioConfig {
        accounts: 3000,
        logins: 18_000,
        seed: 6,
    });
    let tmp = tempfile::tempdir().unwrap();
    let bundles = write_bundles(&sc, tmp.path());
    let (mmdb, csv) = write_geo(&python, &sc, tmp.path());

    // The .mmdb answers as Debian's mmdblookup does, and as the CSV of the same networks.
    let geo_mmdb = GeoDb::open(&[&mmdb]).unwrap();
    let geo_csv = GeoDb::open(&[&csv]).unwrap();
    for a in sc.accounts.iter().step_by(37) {
        for l in a.logins.iter().take(2) {
            let Ok(ip) = l.ip.parse::<IpAddr>() else {
                continue;
            };
            let ours = geo_mmdb
                .lookup(ip)
                .answers
                .first()
                .map(|x| x.country.alpha2().to_string());
            assert_eq!(ours, mmdblookup(&mmdb, &l.ip), "{ip}");
            let csv_answer = geo_csv
                .lookup(ip)
                .answers
                .first()
                .map(|x| x.country.alpha2().to_string());
            assert_eq!(ours, csv_answer, "{ip}");
        }
    }

    let mmdb_arg = mmdb.to_str().unwrap();
    for st in stores("persons_scenario") {
        for b in &bundles {
            let out = st.ok(&["ingest", b.to_str().unwrap(), "--geoip", mmdb_arg, "--json"]);
            let r: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
            assert!(
                r["attribution"]["persons"].as_u64().unwrap() > 0,
                "[{}] {r}",
                st.name()
            );
        }
        let first = persons(&st);
        check_truth(&st, &sc, &first);

        // An address that is not one keeps its account in (nothing is
        // lost): the intake notes it on the account's line, and attribution
        // (above) makes it a finding on the account.
        let bad_ip = sc
            .accounts
            .iter()
            .position(|a| a.logins.iter().any(|l| l.ip == "999.1.2.3"))
            .expect("the scenario has a malformed address");
        let intake = bad_ip % 2 + 1;
        let findings = ndjson(
            st.ok(&["intakes", "findings", &intake.to_string()])
                .as_bytes(),
        );
        let noted = findings
            .iter()
            .find(|f| f["subject"] == format!("acc{bad_ip}"))
            .unwrap_or_else(|| panic!("[{}] no intake finding for acc{bad_ip}", st.name()));
        assert_eq!(noted["code"], "invalid_value", "{noted}");
        assert_eq!(noted["file"], "accounts.ndjson", "{noted}");
        assert!(
            noted["message"].as_str().unwrap().contains("999.1.2.3"),
            "{noted}"
        );

        // A recompute on the same data gives the same result.
        let out = st.ok(&["attribute", "--geoip", mmdb_arg, "--json"]);
        let counts: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(counts["accounts"], 3000, "[{}] {counts}", st.name());
        assert_eq!(
            counts["persons"].as_u64().unwrap() as usize,
            sc.persons.len()
        );
        assert!(counts["accounts_with_findings"].as_u64().unwrap() > 0);
        let again = persons(&st);
        if first != again {
            let d = first.iter().zip(&again).find(|(a, b)| a != b).unwrap();
            panic!(
                "[{}] a rerun changed the result:\n{}\n{}",
                st.name(),
                d.0,
                d.1
            );
        }

        // A person with accounts in both reports, explained link by link.
        let split = first
            .iter()
            .find(|p| {
                let reports: BTreeSet<&str> = p["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["report_id"].as_str().unwrap())
                    .collect();
                reports.len() == 2
            })
            .expect("a person across both reports");
        let label = split["label"].as_str().unwrap();
        let detail: serde_json::Value =
            serde_json::from_str(st.ok(&["persons", "show", label, "--json"]).trim()).unwrap();
        let links = detail["links"].as_array().unwrap();
        assert!(!links.is_empty(), "[{}] {detail}", st.name());
        assert!(
            links.iter().any(|l| {
                ["email", "phone", "device"].contains(&l["kind"].as_str().unwrap())
                    && l["a"]["report_id"] != l["b"]["report_id"]
                    && l["weight"].as_f64().unwrap() > 0.0
                    && !l["evidence"].as_str().unwrap().is_empty()
            }),
            "[{}] no strong cross-report link: {links:?}",
            st.name()
        );
        let text = st.ok(&["persons", "show", label]);
        for want in [
            "links:",
            "LINK-0",
            "LINK-1",
            "weight",
            "country:",
            "evidence:",
        ] {
            assert!(
                text.contains(want),
                "[{}] {want:?} not in\n{text}",
                st.name()
            );
        }
        let id = split["id"].as_i64().unwrap().to_string();
        assert_eq!(
            st.ok(&["persons", "show", &id, "--json"]).trim(),
            st.ok(&["persons", "show", label, "--json"]).trim()
        );
        let missing = st.run(&["persons", "show", "P-0"]);
        assert_eq!(missing.status.code(), Some(2));

        // Filter by country.
        let country = split["attribution"]["country"].as_str().unwrap();
        let some = ndjson(
            st.ok(&["persons", "ls", "--country", country, "--json"])
                .as_bytes(),
        );
        assert!(!some.is_empty() && some.len() < first.len());
        assert!(some.iter().all(|p| p["attribution"]["country"] == country));

        // The CSV of the same networks gives the same countries.
        st.ok(&["attribute", "--geoip", csv.to_str().unwrap()]);
        check_truth(&st, &sc, &persons(&st));

        // A missing geolocation file fails the command and keeps the stored result.
        let bad = st.run(&["attribute", "--geoip", "/nonexistent/geo.mmdb"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent/geo.mmdb"));
        assert_eq!(persons(&st).len(), first.len());
    }
}
