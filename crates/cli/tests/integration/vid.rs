//! `tiaki vid` on both backends: every status transition with its history
//! event and audit row, impossible transitions refused with nothing
//! changed, and search: a resized, a re-encoded (JPEG) and a 90°-rotated
//! copy of a series image find the series, an unrelated image finds
//! nothing, and a re-encoded copy of a series video finds it through vPDQ.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{TestStore, Tiaki, ndjson, stores};

/// Benign reference photos (testdata/pdq, Meta's ThreatExchange data).
const BRIDGE: &str = "testdata/pdq/pdq/data/reg-test-input/dih/bridge-1-original.jpg";
const UNRELATED: &str = "testdata/pdq/pdq/data/reg-test-input/labelme-subset/q0122.jpg";

fn reference(path: &str) -> PathBuf {
    crate::common::repo().join(path)
}

fn json_lines(s: &TestStore, args: &[&str]) -> Vec<Value> {
    ndjson(s.ok(args).as_bytes())
}

/// Runs a command that must fail; returns its stderr.
fn refused(s: &TestStore, args: &[&str]) -> String {
    let o = s.run(args);
    assert_eq!(
        o.status.code(),
        Some(2),
        "[{}] tiaki {args:?} should fail\nstdout: {}",
        s.name(),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn statuses_move_forward_with_history_and_audit() {
    for s in stores("cli_vid_statuses") {
        assert_eq!(
            s.ok(&["vid", "series", "add", "Sunrise", "--agency", "nz"])
                .trim(),
            "1"
        );
        let err = refused(&s, &["vid", "series", "add", "Sunrise", "--agency", "NZ"]);
        assert!(
            err.contains("a series named \"Sunrise\" already exists"),
            "{err}"
        );
        let err = refused(&s, &["vid", "series", "add", "Dusk", "--agency", "QQ"]);
        assert!(
            err.contains("--agency \"QQ\" is not an ISO 3166-1 alpha-2"),
            "{err}"
        );
        let victim = s.ok(&[
            "vid",
            "victim",
            "add",
            "Sunrise",
            "--agency",
            "NZ",
            "--country",
            "AU",
        ]);
        assert_eq!(victim.trim(), "1");
        let offender = s.ok(&["vid", "offender", "add", "1", "--agency", "NZ"]);
        assert_eq!(offender.trim(), "1");

        // Impossible: safeguarding an unidentified victim. Refused, and
        // neither the victim nor the history changes.
        let before = json_lines(&s, &["vid", "series", "show", "Sunrise", "--json"]);
        let err = refused(
            &s,
            &[
                "vid",
                "victim",
                "set",
                "1",
                "--status",
                "safeguarded",
                "--country",
                "AU",
                "--by",
                "GB",
            ],
        );
        assert!(
            err.contains("victim 1 is unidentified and cannot become safeguarded before it is identified; nothing was changed"),
            "{err}"
        );
        let err = refused(&s, &["vid", "victim", "set", "1", "--status", "found"]);
        assert!(err.contains("\"found\" is not a victim status"), "{err}");
        let err = refused(&s, &["vid", "victim", "set", "1", "--status", "identified"]);
        assert!(err.contains("needs --country"), "{err}");
        let err = refused(&s, &["vid", "victim", "set", "9", "--note", "x"]);
        assert!(err.contains("no victim with id 9"), "{err}");
        assert_eq!(
            json_lines(&s, &["vid", "series", "show", "Sunrise", "--json"]),
            before
        );

        // Every step forward, each with its country, agency and date.
        for (status, date) in [("identified", "2026-12-01"), ("safeguarded", "2026-12-02")] {
            let v = json_lines(
                &s,
                &[
                    "vid",
                    "victim",
                    "set",
                    "1",
                    "--status",
                    status,
                    "--country",
                    "AU",
                    "--by",
                    "gb",
                    "--date",
                    date,
                    "--json",
                ],
            );
            assert_eq!(v[0]["status"], status);
            assert_eq!(v[0]["step"]["agency"], "GB");
            assert_eq!(v[0]["step"]["date"], date);
        }
        // Backwards: refused.
        let err = refused(
            &s,
            &[
                "vid",
                "victim",
                "set",
                "1",
                "--status",
                "identified",
                "--country",
                "AU",
                "--by",
                "GB",
            ],
        );
        assert!(err.contains("cannot go back to identified"), "{err}");
        for status in ["identified", "arrested"] {
            s.ok(&[
                "vid",
                "offender",
                "set",
                "1",
                "--status",
                status,
                "--country",
                "US",
                "--by",
                "US",
            ]);
        }
        let err = refused(
            &s,
            &[
                "vid",
                "offender",
                "set",
                "1",
                "--status",
                "arrested",
                "--country",
                "US",
                "--by",
                "US",
            ],
        );
        assert!(
            err.contains("offender 1 is already arrested; nothing was changed"),
            "{err}"
        );

        let show = &json_lines(&s, &["vid", "series", "show", "Sunrise", "--json"])[0];
        let steps: Vec<(String, String, String)> = show["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    format!("{} {}", e["record"].as_str().unwrap(), e["record_id"]),
                    e["event"].as_str().unwrap().to_owned(),
                    format!("{} -> {}", e["from"], e["to"]),
                )
            })
            .collect();
        let want = [
            ("series 1", "created", "null -> null"),
            ("victim 1", "created", "null -> \"unidentified\""),
            ("offender 1", "created", "null -> \"unidentified\""),
            ("victim 1", "status", "\"unidentified\" -> \"identified\""),
            ("victim 1", "status", "\"identified\" -> \"safeguarded\""),
            ("offender 1", "status", "\"unidentified\" -> \"identified\""),
            ("offender 1", "status", "\"identified\" -> \"arrested\""),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(steps, want, "[{}]", s.name());
        assert!(
            show["history"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor"].as_str().unwrap().starts_with("cli:"))
        );

        let stats = &json_lines(&s, &["stats", "--json"])[0];
        assert_eq!(stats["series"], 1);
        assert_eq!(stats["victims_identified"], 1);
        assert_eq!(stats["victims_safeguarded"], 1);
        assert_eq!(stats["victims_unidentified"], 0);
        assert_eq!(stats["offenders_identified"], 1);

        let actions: Vec<String> = json_lines(&s, &["audit", "ls", "--json"])
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            actions,
            [
                "vid.series_added",
                "vid.victim_added",
                "vid.offender_added",
                "vid.victim_changed",
                "vid.victim_changed",
                "vid.offender_changed",
                "vid.offender_changed",
            ]
        );
        s.ok(&["audit", "verify"]);
    }
}

/// Writes the variants of a series image a search must still find.
fn image_variants(dir: &Path) -> Vec<PathBuf> {
    let img = image::open(reference(BRIDGE)).unwrap();
    let resized = dir.join("resized.png");
    img.resize(
        img.width() / 2,
        img.height() / 2,
        image::imageops::FilterType::Triangle,
    )
    .save(&resized)
    .unwrap();
    let jpeg = dir.join("reencoded.jpg");
    let mut out = std::fs::File::create(&jpeg).unwrap();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 60)
        .encode_image(&img.to_rgb8())
        .unwrap();
    let rotated = dir.join("rotated.png");
    img.rotate90().save(&rotated).unwrap();
    let all = dir.join("all-three.jpg");
    let mut out = std::fs::File::create(&all).unwrap();
    let small = img.resize(
        img.width() * 2 / 3,
        img.height() * 2 / 3,
        image::imageops::FilterType::Triangle,
    );
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 70)
        .encode_image(&small.rotate90().to_rgb8())
        .unwrap();
    vec![resized, jpeg, rotated, all]
}

#[test]
fn search_finds_variants_of_a_series_image_and_not_an_unrelated_one() {
    let dir = tempfile::tempdir().unwrap();
    let variants = image_variants(dir.path());
    for s in stores("cli_vid_search") {
        s.ok(&["vid", "series", "add", "Bridge", "--agency", "NZ"]);
        s.ok(&["vid", "series", "add", "Other", "--agency", "AU"]);
        s.ok(&["vid", "victim", "add", "Bridge", "--agency", "NZ"]);
        let bridge = reference(BRIDGE);
        let added = s.ok(&[
            "vid",
            "media",
            "add",
            "Bridge",
            bridge.to_str().unwrap(),
            "--agency",
            "NZ",
        ]);
        assert_eq!(added.trim(), "1");
        let mut args = vec!["vid", "search"];
        args.extend(variants.iter().map(|p| p.to_str().unwrap()));
        let unrelated = reference(UNRELATED);
        args.push(unrelated.to_str().unwrap());
        let answers = json_lines(&s, &args);
        assert_eq!(answers.len(), variants.len() + 1);
        for a in &answers[..variants.len()] {
            let m = a["matches"].as_array().unwrap();
            assert_eq!(m.len(), 1, "[{}] {a}", s.name());
            assert_eq!(m[0]["series"], 1);
            assert_eq!(m[0]["series_name"], "Bridge");
            assert_eq!(m[0]["media"], 1);
            assert_eq!(m[0]["kind"], "pdq");
            assert_eq!(m[0]["victim_status"], "unidentified");
            assert!(m[0]["distance"].as_u64().unwrap() <= 31, "{a}");
        }
        // The rotated copy (90° clockwise) matched through a dihedral
        // variant of the query, not as it is.
        assert_eq!(answers[2]["matches"][0]["variant"], "rot90");
        assert_eq!(answers[0]["matches"][0]["variant"], "orig");
        assert!(
            answers[2]["query"]
                .as_str()
                .unwrap()
                .ends_with("rotated.png")
        );
        assert_eq!(answers[variants.len()]["matches"], serde_json::json!([]));

        // By hash: the series medium's own PDQ, and an MD5 linked by hash.
        let media = &json_lines(&s, &["vid", "media", "ls", "Bridge", "--json"])[0];
        let pdq = media["pdq"].as_str().unwrap().to_owned();
        // The file is kept, encrypted, named by its SHA-256.
        assert_eq!(media["stored"], true);
        let sha = media["sha256"].as_str().unwrap();
        let blob = s
            .data()
            .join("blobs")
            .join(&sha[..2])
            .join(format!("{sha}.age"));
        assert!(blob.is_file(), "{}", blob.display());
        assert_ne!(
            std::fs::read(&blob).unwrap(),
            std::fs::read(&bridge).unwrap()
        );
        let found = &json_lines(&s, &["vid", "search", "--hash", &pdq])[0];
        assert_eq!(found["query"], pdq.as_str());
        assert_eq!(found["matches"][0]["distance"], 0);
        let md5 = "0123456789abcdef0123456789abcdef";
        s.ok(&[
            "vid", "media", "add", "Other", "--hash", md5, "--agency", "AU",
        ]);
        let found = &json_lines(&s, &["vid", "search", "--hash", md5])[0];
        assert_eq!(found["matches"][0]["series_name"], "Other");
        let by_hash = &json_lines(&s, &["vid", "media", "ls", "Other", "--json"])[0];
        assert_eq!(by_hash["stored"], false);
        assert_eq!(found["matches"][0]["kind"], "exact");
        assert_eq!(found["matches"][0]["victim_status"], Value::Null);

        // The index is kept beside the store and caught up with media
        // added since (the MD5 above); a damaged one is rebuilt.
        let idx: Vec<PathBuf> = std::fs::read_dir(s.data())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with("vid") && name.ends_with(".idx")
            })
            .collect();
        assert_eq!(idx.len(), 1, "[{}] {idx:?}", s.name());
        std::fs::write(&idx[0], b"not an index").unwrap();
        let found = &json_lines(&s, &["vid", "search", "--hash", &pdq])[0];
        assert_eq!(found["matches"][0]["media"], 1);

        // A file that cannot be hashed is named; nothing is linked.
        let bad = dir.path().join("broken.jpg");
        std::fs::write(&bad, b"\xff\xd8\xff not a jpeg").unwrap();
        let err = refused(
            &s,
            &[
                "vid",
                "media",
                "add",
                "Bridge",
                bad.to_str().unwrap(),
                "--agency",
                "NZ",
            ],
        );
        assert!(err.contains("broken.jpg: cannot hash"), "{err}");
        let err = refused(
            &s,
            &[
                "vid", "media", "add", "Nope", "--hash", md5, "--agency", "NZ",
            ],
        );
        assert!(err.contains("no series \"Nope\""), "{err}");
        assert_eq!(json_lines(&s, &["vid", "media", "ls", "--json"]).len(), 2);

        // Merging moves the media: the search now names the surviving series.
        s.ok(&["vid", "series", "merge", "Other", "Bridge"]);
        let found = &json_lines(&s, &["vid", "search", "--hash", md5])[0];
        assert_eq!(found["matches"][0]["series_name"], "Bridge");
        let stats = &json_lines(&s, &["stats", "--json"])[0];
        assert_eq!(
            (stats["series"].as_u64(), stats["vid_media"].as_u64()),
            (Some(1), Some(2))
        );
    }
}

/// A one-account report whose media are hashes only (provider-report/1).
fn hash_only_bundle(dir: &Path, pdq: &str) -> PathBuf {
    let b = dir.join("bundle");
    std::fs::create_dir_all(&b).unwrap();
    let account = serde_json::json!({"id": "u1", "username": "user_u1", "declared_country": "NZ"});
    std::fs::write(b.join("accounts.ndjson"), format!("{account}\n")).unwrap();
    let media = serde_json::json!({"id": "m1", "account": "u1", "hashes": {"pdq": pdq}});
    std::fs::write(b.join("media.ndjson"), format!("{media}\n")).unwrap();
    let manifest = serde_json::json!({"format": "provider-report/1", "report_id": "VID-1",
        "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
        "created_at": "2026-10-14T03:00:00Z", "incident_type": "distribution"});
    std::fs::write(b.join("manifest.json"), manifest.to_string()).unwrap();
    b
}

#[test]
fn an_intake_media_item_links_to_a_series_by_its_stored_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    let bundle = hash_only_bundle(dir.path(), pdq);
    for s in stores("cli_vid_intake") {
        s.ok(&["ingest", bundle.to_str().unwrap()]);
        s.ok(&["vid", "series", "add", "Harbour", "--agency", "NZ"]);
        let m = &json_lines(
            &s,
            &[
                "vid", "media", "add", "Harbour", "--intake", "1", "--media", "m1", "--agency",
                "NZ", "--json",
            ],
        )[0];
        assert_eq!(
            (m["pdq"].as_str(), m["source"].as_str()),
            (Some(pdq), Some("intake:1/m1"))
        );
        assert_eq!(m["kind"], "image");
        let err = refused(
            &s,
            &[
                "vid", "media", "add", "Harbour", "--intake", "1", "--media", "m9", "--agency",
                "NZ",
            ],
        );
        assert!(err.contains("intake 1 has no media item \"m9\""), "{err}");
        let found = &json_lines(&s, &["vid", "search", "--hash", pdq])[0];
        assert_eq!(found["matches"][0]["series_name"], "Harbour");
    }
}

fn video(name: &str) -> PathBuf {
    crate::common::repo()
        .join("crates/video/tests/data/tmk/sample-videos")
        .join(name)
}

#[test]
fn search_finds_a_reencoded_series_video_through_vpdq() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(video("chair-20-sd-bar.mp4"))
        .args([
            "-vf",
            "scale=240:-2",
            "-c:v",
            "libx264",
            "-crf",
            "32",
            "-an",
        ])
        .arg(&copy)
        .status()
        .unwrap();
    assert!(ok.success(), "ffmpeg failed");
    for s in stores("cli_vid_video") {
        s.ok(&["vid", "series", "add", "Chair", "--agency", "NZ"]);
        let original = video("chair-20-sd-bar.mp4");
        let m = &json_lines(
            &s,
            &[
                "vid",
                "media",
                "add",
                "Chair",
                original.to_str().unwrap(),
                "--agency",
                "NZ",
                "--json",
            ],
        )[0];
        assert_eq!(m["kind"], "video");
        assert!(m["vpdq_frames"].as_u64().unwrap() > 10, "{m}");
        let other = video("pattern-sd-grey-bar.mp4");
        let answers = json_lines(
            &s,
            &[
                "vid",
                "search",
                copy.to_str().unwrap(),
                other.to_str().unwrap(),
            ],
        );
        let hit = &answers[0]["matches"][0];
        assert_eq!(hit["series_name"], "Chair", "[{}] {}", s.name(), answers[0]);
        assert_eq!(hit["kind"], "vpdq");
        assert_eq!(
            answers[1]["matches"],
            serde_json::json!([]),
            "{}",
            answers[1]
        );
    }
}
