//! `tiaki agencies`, `referrals`, `outcomes`, `stats`, `keys` (issue 7),
//! each test run against both backends. Packages are checked with the
//! standard tools a receiving country uses: `minisign`, `age`, `tar`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tiaki_testkit::picture;
use tiaki_types::hex;

use crate::common::{TestStore, Tiaki, ndjson, stores};

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";
pub(crate) const CREATED_AT: &str = "2021-03-01T00:00:00Z";

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(b))
}

/// `tiaki` with the issuer passphrase in its environment and stdin closed.
fn cmd(s: &TestStore, args: &[&str]) -> Output {
    s.cmd()
        .env("TIAKI_ISSUER_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null())
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn ok(s: &TestStore, args: &[&str]) -> String {
    let o = cmd(s, args);
    assert!(
        o.status.success(),
        "[{}] tiaki {args:?}: {:?}\nstdout: {}\nstderr: {}",
        s.name(),
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

pub(crate) fn tool(program: &str, args: &[&str]) -> Output {
    let o = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// One generated account: its evidence, and the country real linking and
/// attribution must give it (the scenario's truth; `None`: no country).
struct Account {
    id: &'static str,
    declared: Option<&'static str>,
    phone: Option<&'static str>,
    email_domain: &'static str,
    /// A login IP; the CIDR→country CSV below places 45.10/16 in NZ,
    /// 45.11/16 in AU and 45.12/16 in FJ, and nothing else.
    ip: &'static str,
    country: Option<&'static str>,
}

/// The scenario. Evidence weights (docs/attribution.md): phone 2, login IP
/// 1, declared 1, e-mail ccTLD 0.5.
fn scenario() -> Vec<Account> {
    let a = |id, declared, phone, email_domain, ip, country| Account {
        id,
        declared,
        phone,
        email_domain,
        ip,
        country,
    };
    vec![
        // nz-1 and nz-2 share a phone: one person.
        a(
            "nz-1",
            Some("NZ"),
            Some("+64 21 123 4501"),
            "example.co.nz",
            "45.10.0.1",
            Some("NZ"),
        ),
        a(
            "nz-2",
            None,
            Some("+64 21 123 4501"),
            "example.test",
            "45.10.0.2",
            Some("NZ"),
        ),
        a(
            "nz-3",
            Some("NZ"),
            None,
            "example.test",
            "45.10.0.3",
            Some("NZ"),
        ),
        a(
            "au-1",
            Some("AU"),
            Some("+61 412 345 601"),
            "example.test",
            "45.11.0.1",
            Some("AU"),
        ),
        a(
            "au-2",
            None,
            None,
            "example.com.au",
            "45.11.0.2",
            Some("AU"),
        ),
        // Declares NZ, but its phone and IP say AU (3 votes to 1): real
        // attribution refers it to AU, a declared-country shortcut would not.
        a(
            "au-3",
            Some("NZ"),
            Some("+61 412 345 603"),
            "example.test",
            "45.11.0.3",
            Some("AU"),
        ),
        a(
            "fj-1",
            Some("FJ"),
            Some("+679 701 2345"),
            "example.test",
            "45.12.0.1",
            Some("FJ"),
        ),
        // An IP no source places, an e-mail without a country: no country.
        a("xx-1", None, None, "example.test", "45.99.0.1", None),
    ]
}

const NETWORKS_CSV: &str = "network,country\n45.10.0.0/16,NZ\n45.11.0.0/16,AU\n45.12.0.0/16,FJ\n";

/// A provider-report/1 bundle: every account uploads one picture file and
/// one hash-only item.
fn write_bundle(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("files")).unwrap();
    let mut accounts = String::new();
    let mut media = String::new();
    for (i, acc) in scenario().into_iter().enumerate() {
        let id = acc.id;
        let mut a = serde_json::json!({"id": id, "username": format!("user_{id}"),
            "emails": [format!("{id}@{}", acc.email_domain)],
            "logins": [{"ip": acc.ip, "at": "2021-01-10T11:00:00Z"}]});
        if let Some(p) = acc.phone {
            a["phones"] = serde_json::json!([p]);
        }
        if let Some(c) = acc.declared {
            a["declared_country"] = c.into();
        }
        accounts.push_str(&format!("{a}\n"));
        let name = format!("files/{id}.png");
        std::fs::write(dir.join(&name), picture(i as u32 * 7 + 3)).unwrap();
        media.push_str(&format!(
            "{}\n",
            serde_json::json!({"id": format!("m-{id}"), "file": name, "account": id,
                "original_name": format!("IMG_{i}.png"), "viewed_by_provider": i % 2 == 0})
        ));
        let mut hashed = serde_json::json!({"id": format!("h-{id}"), "account": id,
            "hashes": {"md5": format!("{:032x}", i + 1), "sha256": format!("{:064x}", i + 1)}});
        if i % 2 == 1 {
            // What the provider says beside the hashes, carried unchanged
            // into the package's media.vics.json.
            hashed["industry_classification"] = "A2".into();
            hashed["viewed_by_ncmec"] = false.into();
            hashed["shared_with"] = serde_json::json!(["u-elsewhere", id]);
        }
        media.push_str(&format!("{hashed}\n"));
    }
    std::fs::write(dir.join("accounts.ndjson"), accounts).unwrap();
    std::fs::write(dir.join("media.ndjson"), media).unwrap();
    let manifest = serde_json::json!({"format": "provider-report/1", "report_id": "ACME-2021-0001",
        "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
        "created_at": "2021-02-01T00:00:00Z", "incident_type": "distribution"});
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    dir.to_path_buf()
}

/// Each account's country and person as the store's attribution says
/// (`tiaki persons ls --json`): provider id → (country, person label).
fn attributed(s: &TestStore) -> BTreeMap<String, (Option<String>, String)> {
    let mut out = BTreeMap::new();
    for p in ndjson(ok(s, &["persons", "ls", "--json"]).as_bytes()) {
        for m in p["members"].as_array().unwrap() {
            out.insert(
                m["provider_id"].as_str().unwrap().to_string(),
                (
                    m["attribution"]["country"].as_str().map(str::to_string),
                    p["label"].as_str().unwrap().to_string(),
                ),
            );
        }
    }
    out
}

/// An agency key made with `age-keygen`; returns (identity file, recipient).
pub(crate) fn agency_key(dir: &Path, country: &str) -> (PathBuf, String) {
    let path = dir.join(format!("{country}.key"));
    tool("age-keygen", &["-o", path.to_str().unwrap()]);
    let o = tool("age-keygen", &["-y", path.to_str().unwrap()]);
    (
        path,
        String::from_utf8(o.stdout).unwrap().trim().to_string(),
    )
}

/// The one package of a country in an output directory.
pub(crate) fn package_of(out: &Path, country: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(out.join(country))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(".tar.age"))
        .collect();
    assert_eq!(found.len(), 1, "{country}: {found:?}");
    found.pop().unwrap()
}

/// Opens a package with the standard tools; checks every manifest hash;
/// returns (sha256 of the decrypted tar, manifest, accounts lines, dir).
pub(crate) fn open_with_tools(
    package: &Path,
    issuer_pub: &Path,
    identity: &Path,
    work: &Path,
) -> (String, serde_json::Value, Vec<serde_json::Value>, PathBuf) {
    let pkg = package.to_str().unwrap();
    let v = tool(
        "minisign",
        &["-Vm", pkg, "-p", issuer_pub.to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("tiaki-referral"),
        "{v:?}"
    );
    std::fs::create_dir_all(work).unwrap();
    let tar = work.join("referral.tar");
    tool(
        "age",
        &[
            "-d",
            "-i",
            identity.to_str().unwrap(),
            "-o",
            tar.to_str().unwrap(),
            pkg,
        ],
    );
    let tar_sha = sha256_hex(&std::fs::read(&tar).unwrap());
    let dir = work.join("x");
    std::fs::create_dir_all(&dir).unwrap();
    tool(
        "tar",
        &["-xf", tar.to_str().unwrap(), "-C", dir.to_str().unwrap()],
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    for (path, sha) in manifest["files"].as_object().unwrap() {
        assert_eq!(
            &sha256_hex(&std::fs::read(dir.join(path)).unwrap()),
            sha.as_str().unwrap(),
            "{path}"
        );
    }
    let accounts = ndjson(&std::fs::read(dir.join("accounts.ndjson")).unwrap());
    (tar_sha, manifest, accounts, dir)
}

#[test]
fn referrals_end_to_end_on_both_backends() {
    for s in stores("referrals_end_to_end") {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let bundle = write_bundle(&t.join("bundle"));
        // One hash-only item of nz-1 is known, with a category and series.
        let list = t.join("known.csv");
        std::fs::write(&list, format!("md5,category,series\n{:032x},1,S-1\n", 1)).unwrap();
        ok(
            &s,
            &[
                "lists",
                "import",
                "--name",
                "known",
                "--category-scheme",
                "US",
                list.to_str().unwrap(),
            ],
        );
        let networks = t.join("networks.csv");
        std::fs::write(&networks, NETWORKS_CSV).unwrap();
        // The ingest links and attributes at its end; `tiaki attribute`
        // recomputes the same from the store.
        ok(
            &s,
            &[
                "ingest",
                "--geoip",
                networks.to_str().unwrap(),
                bundle.to_str().unwrap(),
            ],
        );
        let after_ingest = attributed(&s);
        ok(&s, &["attribute", "--geoip", networks.to_str().unwrap()]);
        let truth = attributed(&s);
        assert_eq!(after_ingest, truth, "[{}]", s.name());
        // The real attribution gives the scenario's countries and persons.
        for acc in scenario() {
            assert_eq!(
                truth[acc.id].0.as_deref(),
                acc.country,
                "[{}] {}",
                s.name(),
                acc.id
            );
        }
        assert_eq!(
            truth["nz-1"].1,
            truth["nz-2"].1,
            "[{}] a shared phone links",
            s.name()
        );
        let persons: BTreeSet<&String> = truth.values().map(|(_, p)| p).collect();
        assert_eq!(persons.len(), 7, "[{}] {truth:?}", s.name());

        let (nz_key, nz_recipient) = agency_key(t, "NZ");
        let (au_key, au_recipient) = agency_key(t, "AU");
        let agencies = t.join("agencies.toml");
        std::fs::write(
            &agencies,
            format!(
                "[[agency]]\ncountry = \"NZ\"\nname = \"Digital Child Exploitation Team\"\nage_recipient = \"{nz_recipient}\"\ncontact = \"dcet@example.govt.nz\"\n\n\
                 [[agency]]\ncountry = \"AU\"\nname = \"Example Centre\"\nage_recipient = \"{au_recipient}\"\ncontact = \"centre@example.gov.au\"\n"
            ),
        )
        .unwrap();
        assert_eq!(
            ok(&s, &["agencies", "import", agencies.to_str().unwrap()]),
            "NZ\tadded\nAU\tadded\n"
        );
        // Importing again changes nothing.
        assert_eq!(
            ok(&s, &["agencies", "import", agencies.to_str().unwrap()]),
            "NZ\tunchanged\nAU\tunchanged\n"
        );
        assert_eq!(
            ndjson(ok(&s, &["agencies", "ls", "--json"]).as_bytes()).len(),
            2
        );

        // keys issuer makes the pair on first use and prints the .pub file.
        let public = ok(&s, &["keys", "issuer"]);
        let issuer_pub = s.data().join("issuer.pub");
        assert_eq!(public, std::fs::read_to_string(&issuer_pub).unwrap());
        assert!(public.starts_with("untrusted comment: minisign public key"));

        let out1 = t.join("out1");
        let report: serde_json::Value = serde_json::from_str(&ok(
            &s,
            &[
                "referrals",
                "build",
                "--out",
                out1.to_str().unwrap(),
                "--created-at",
                CREATED_AT,
                "--include-media",
                "--media-countries",
                "NZ",
                "--json",
            ],
        ))
        .unwrap();
        let built = report["built"].as_array().unwrap();
        assert_eq!(built.len(), 2, "[{}] {report}", s.name());
        // FJ has accounts and no agency: reported, never dropped silently.
        let no_recipient: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out1.join("no-recipient.json")).unwrap())
                .unwrap();
        assert_eq!(
            no_recipient,
            serde_json::json!({"countries": [{"country": "FJ", "accounts": 1, "unreferred": 1}]})
        );

        let mut first_tar = BTreeMap::new();
        let mut ids = BTreeMap::new();
        let mut carried = 0;
        for (country, key) in [("NZ", &nz_key), ("AU", &au_key)] {
            let pkg = package_of(&out1, country);
            let (tar_sha, manifest, accounts, dir) =
                open_with_tools(&pkg, &issuer_pub, key, &t.join(format!("open1-{country}")));
            // Exactly the accounts attributed to the country: by the
            // scenario's truth and by the store.
            let want: BTreeSet<String> = scenario()
                .into_iter()
                .filter(|a| a.country == Some(country))
                .map(|a| a.id.to_string())
                .collect();
            let stored: BTreeSet<String> = truth
                .iter()
                .filter(|(_, (c, _))| c.as_deref() == Some(country))
                .map(|(id, _)| id.clone())
                .collect();
            assert_eq!(stored, want, "[{}] {country}", s.name());
            let got: BTreeSet<String> = accounts
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "[{}] {country}", s.name());
            for a in &accounts {
                let id = a["id"].as_str().unwrap();
                assert_eq!(a["report_id"], "ACME-2021-0001");
                assert_eq!(a["country"], country);
                assert_eq!(a["person"].as_str().unwrap(), truth[id].1, "{id}");
                let confidence = a["confidence"].as_f64().unwrap();
                assert!(confidence > 0.0 && confidence <= 1.0, "{a}");
                // The attribution's own evidence, with what points to the
                // country among it.
                let evidence = a["evidence"].as_array().unwrap();
                assert!(evidence.iter().any(|e| e["country"] == country), "{a}");
                assert!(
                    evidence
                        .iter()
                        .any(|e| e["kind"] == "login_ip" && e["country"] == country),
                    "{a}"
                );
                assert!(
                    a["identifiers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["kind"] == "email")
                );
            }
            if country == "AU" {
                let au3 = accounts.iter().find(|a| a["id"] == "au-3").unwrap();
                let kinds: BTreeSet<(&str, &str)> = au3["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| (e["kind"].as_str().unwrap(), e["country"].as_str().unwrap()))
                    .collect();
                assert!(
                    kinds.contains(&("declared", "NZ")) && kinds.contains(&("phone", "AU")),
                    "{au3}"
                );
            }
            let persons: BTreeSet<&str> = accounts
                .iter()
                .map(|a| a["person"].as_str().unwrap())
                .collect();
            assert_eq!(manifest["persons"], persons.len());
            assert_eq!(manifest["country"], country);
            assert_eq!(manifest["accounts"], want.len());
            assert_eq!(manifest["media"], 2 * want.len());
            // Media files only for NZ (--media-countries NZ).
            let files = manifest["files"].as_object().unwrap();
            let media_files = files.keys().filter(|k| k.starts_with("media/")).count();
            assert_eq!(
                media_files,
                if country == "NZ" { want.len() } else { 0 },
                "{country}"
            );
            assert!(dir.join("summary.html").is_file());
            let vics = std::fs::read_to_string(dir.join("media.vics.json")).unwrap();
            let doc: serde_json::Value = serde_json::from_str(&vics).unwrap();
            for m in doc["value"].as_array().unwrap() {
                if m.get("IndustryClassification").is_some() {
                    carried += 1;
                    assert_eq!(m["IndustryClassification"], "A2", "{vics}");
                    assert_eq!(m["ViewedByNCMEC"], false, "{vics}");
                    assert_eq!(m["SharedWith"][0], "u-elsewhere", "{vics}");
                } else {
                    assert!(m.get("SharedWith").is_none(), "{vics}");
                    assert!(m.get("ViewedByNCMEC").is_none(), "{vics}");
                }
            }
            if country == "NZ" {
                let doc: serde_json::Value = serde_json::from_str(&vics).unwrap();
                let known: Vec<&serde_json::Value> = doc["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["MatchStatus"] == "known")
                    .collect();
                assert_eq!(known.len(), 1, "{vics}");
                assert_eq!(known[0]["Series"], "S-1", "{vics}");
                assert_eq!(known[0]["Matches"][0]["list"], "known", "{vics}");
                assert_eq!(known[0]["Matches"][0]["kind"], "md5", "{vics}");
                assert_eq!(known[0]["Category"], 1, "{vics}");
            }
            first_tar.insert(country, tar_sha);
            ids.insert(
                country,
                manifest["referral_id"].as_str().unwrap().to_string(),
            );
        }
        let want_carried = scenario()
            .into_iter()
            .enumerate()
            .filter(|(i, a)| i % 2 == 1 && matches!(a.country, Some("NZ" | "AU")))
            .count();
        assert!(want_carried > 0);
        assert_eq!(carried, want_carried);

        // Without --again, referred accounts are not referred again.
        let out2 = t.join("out2");
        let again: serde_json::Value = serde_json::from_str(&ok(
            &s,
            &[
                "referrals",
                "build",
                "--out",
                out2.to_str().unwrap(),
                "--created-at",
                CREATED_AT,
                "--json",
            ],
        ))
        .unwrap();
        assert!(again["built"].as_array().unwrap().is_empty(), "{again}");
        assert_eq!(again["skipped"].as_array().unwrap().len(), 2, "{again}");

        // --again with the same records and time: the same referrals, the
        // same decrypted archives.
        let out3 = t.join("out3");
        ok(
            &s,
            &[
                "referrals",
                "build",
                "--out",
                out3.to_str().unwrap(),
                "--created-at",
                CREATED_AT,
                "--include-media",
                "--media-countries",
                "NZ",
                "--again",
            ],
        );
        for (country, key) in [("NZ", &nz_key), ("AU", &au_key)] {
            let pkg = package_of(&out3, country);
            let (tar_sha, manifest, _, _) =
                open_with_tools(&pkg, &issuer_pub, key, &t.join(format!("open3-{country}")));
            assert_eq!(tar_sha, first_tar[country], "[{}] {country}", s.name());
            assert_eq!(manifest["referral_id"].as_str().unwrap(), ids[country]);
        }

        // The ledger: two referrals, built; then NZ sent.
        let ls = ndjson(ok(&s, &["referrals", "ls", "--json"]).as_bytes());
        assert_eq!(ls.len(), 2);
        assert!(ls.iter().all(|r| r["state"] == "built"), "{ls:?}");
        ok(&s, &["referrals", "mark", &ids["NZ"], "--state", "sent"]);
        let back = cmd(&s, &["referrals", "mark", &ids["NZ"], "--state", "built"]);
        assert!(!back.status.success());
        assert!(String::from_utf8_lossy(&back.stderr).contains("cannot go back"));

        // Outcomes: sums, idempotent re-import.
        let events = [
            (
                &ids["NZ"],
                "2021-04-01T00:00:00Z",
                "investigation_opened",
                None,
                None,
            ),
            (&ids["NZ"], "2021-05-01T00:00:00Z", "arrest", Some(2), None),
            (
                &ids["NZ"],
                "2021-05-02T00:00:00Z",
                "children_safeguarded",
                Some(3),
                None,
            ),
            (&ids["NZ"], "2021-06-01T00:00:00Z", "arrest", Some(1), None),
            (
                &ids["AU"],
                "2021-04-02T00:00:00Z",
                "investigation_opened",
                None,
                None,
            ),
            (
                &ids["AU"],
                "2021-04-03T00:00:00Z",
                "children_safeguarded",
                Some(4),
                None,
            ),
            (
                &ids["AU"],
                "2021-07-01T00:00:00Z",
                "closed",
                None,
                Some("no action possible"),
            ),
        ];
        let mut text = String::new();
        let (mut inv, mut arrests, mut children) = (0, 0, 0);
        for (id, at, event, count, note) in events {
            let mut v = serde_json::json!({"referral_id": id, "at": at, "event": event});
            if let Some(c) = count {
                v["count"] = c.into();
            }
            if let Some(n) = note {
                v["note"] = n.into();
            }
            text.push_str(&format!("{v}\n"));
            match event {
                "investigation_opened" => inv += 1,
                "arrest" => arrests += count.unwrap(),
                "children_safeguarded" => children += count.unwrap(),
                _ => {}
            }
        }
        let outcomes = t.join("outcomes.ndjson");
        std::fs::write(&outcomes, &text).unwrap();
        let first: serde_json::Value =
            serde_json::from_str(&ok(&s, &["outcomes", "import", outcomes.to_str().unwrap()]))
                .unwrap();
        assert_eq!(
            first,
            serde_json::json!({"events": 7, "added": 7, "duplicates": 0})
        );
        let second: serde_json::Value =
            serde_json::from_str(&ok(&s, &["outcomes", "import", outcomes.to_str().unwrap()]))
                .unwrap();
        assert_eq!(
            second,
            serde_json::json!({"events": 7, "added": 0, "duplicates": 7})
        );

        let stats: serde_json::Value = serde_json::from_str(&ok(&s, &["stats", "--json"])).unwrap();
        let expect = serde_json::json!({
            "accounts": 8, "media": 16, "media_known": 1, "media_new": 15,
            "persons": 7, "countries_attributed": 3, "referrals": 2, "countries_referred": 2,
            "accounts_referred": 6, "investigations": inv, "arrests": arrests,
            "children_safeguarded": children, "countries_engaged": 2, "series": 0, "vid_media": 0, "victims_identified": 0,
            "victims_unidentified": 0, "victims_safeguarded": 0, "offenders_identified": 0, "alerts": 0});
        assert_eq!(stats, expect, "[{}]", s.name());
        let by_id: BTreeMap<String, String> =
            ndjson(ok(&s, &["referrals", "ls", "--json"]).as_bytes())
                .into_iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_string(),
                        r["state"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
        assert_eq!(by_id[&ids["NZ"]], "investigating");
        assert_eq!(by_id[&ids["AU"]], "closed");

        // An outcome for an unknown referral: refused, naming line and id;
        // nothing of the file imported.
        let bad = t.join("bad.ndjson");
        std::fs::write(
            &bad,
            format!(
                "{{\"referral_id\":\"{}\",\"at\":\"2021-08-01T00:00:00Z\",\"event\":\"arrest\",\"count\":5}}\n\
                 {{\"referral_id\":\"R-ZZ-0000\",\"at\":\"2021-08-01T00:00:00Z\",\"event\":\"arrest\",\"count\":1}}\n",
                ids["NZ"]
            ),
        )
        .unwrap();
        let o = cmd(&s, &["outcomes", "import", bad.to_str().unwrap()]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("line 2") && err.contains("R-ZZ-0000"), "{err}");
        let after: serde_json::Value = serde_json::from_str(&ok(&s, &["stats", "--json"])).unwrap();
        assert_eq!(after, expect);
        // A bad count names its line too.
        std::fs::write(&bad, format!("\n{{\"referral_id\":\"{}\",\"at\":\"2021-08-01T00:00:00Z\",\"event\":\"arrest\",\"count\":\"two\"}}\n", ids["NZ"])).unwrap();
        let o = cmd(&s, &["outcomes", "import", bad.to_str().unwrap()]);
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("line 2"),
            "{o:?}"
        );

        // verify: valid → 0; one flipped byte → failure.
        let pkg = package_of(&out3, "AU");
        ok(&s, &["referrals", "verify", pkg.to_str().unwrap()]);
        let opened = t.join("opened-au");
        let o: serde_json::Value = serde_json::from_str(&ok(
            &s,
            &[
                "referrals",
                "open",
                pkg.to_str().unwrap(),
                "--identity",
                au_key.to_str().unwrap(),
                "--out",
                opened.to_str().unwrap(),
            ],
        ))
        .unwrap();
        assert_eq!(o["referral_id"].as_str().unwrap(), ids["AU"]);
        assert!(opened.join("accounts.ndjson").is_file());
        let mut bytes = std::fs::read(&pkg).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        std::fs::write(&pkg, bytes).unwrap();
        let o = cmd(&s, &["referrals", "verify", pkg.to_str().unwrap()]);
        assert!(
            !o.status.success(),
            "[{}] a flipped byte verified",
            s.name()
        );
        assert!(!String::from_utf8_lossy(&o.stderr).is_empty());
    }
}

#[test]
fn issuer_key_needs_a_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let o = crate::common::tiaki()
        .arg("--data")
        .arg(dir.path())
        .args(["keys", "issuer"])
        .env_remove("TIAKI_ISSUER_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("TIAKI_ISSUER_PASSPHRASE"), "{err}");
    assert!(!dir.path().join("issuer.key").exists());
}

#[test]
fn agencies_file_errors_name_the_line() {
    let s = TestStore::sqlite();
    let f = s.data().join("agencies.toml");
    std::fs::write(
        &f,
        "[[agency]]\ncountry = \"nz\"\nname = \"X\"\nage_recipient = \"age1x\"\ncontact = \"c\"\n",
    )
    .unwrap();
    let o = s.run(&["agencies", "import", f.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2") && err.contains("country"), "{err}");
}
