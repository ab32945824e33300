//! `tiaki lists`, `tiaki lookup` and `tiaki match` against a real data
//! directory (issue 4).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Output, Stdio};

use tiaki_formats::{ImportOptions, ListEntry, import_all};
use tiaki_hash::pdq::PdqHash;

use crate::common::{ndjson, repo, tiaki};

fn at(data: &Path, args: &[&str]) -> Output {
    tiaki().arg("--data").arg(data).args(args).output().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}, stderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
}

fn lookup(data: &Path, args: &[&str], input: &str) -> Vec<serde_json::Value> {
    ndjson(lookup_raw(data, args, input).as_bytes())
}

/// `tiaki lookup ARGS` with stdin and stdout piped.
fn lookup_child(data: &Path, args: &[&str]) -> std::process::Child {
    tiaki()
        .arg("--data")
        .arg(data)
        .arg("lookup")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn lookup_raw(data: &Path, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = lookup_child(data, args);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn entries_of(v: &serde_json::Value) -> BTreeSet<(u64, u64)> {
    v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["entry"].as_u64().unwrap(),
                m["distance"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The oracle: a linear scan over every entry (ids 1.. in file order) and
/// every dihedral variant of the query, as `(entry, best distance)`.
fn linear_scan(hay: &[PdqHash], query: &PdqHash, radius: u32) -> BTreeSet<(u64, u64)> {
    let variants = tiaki_hash::pdq::dihedral_of_hash(query);
    hay.iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let d = variants.iter().map(|v| v.distance(h)).min().unwrap();
            (d <= radius).then_some((i as u64 + 1, u64::from(d)))
        })
        .collect()
}

fn hay_path() -> std::path::PathBuf {
    repo().join("crates/index/tests/data/haystack.txt")
}

fn hay() -> Vec<PdqHash> {
    std::fs::read_to_string(hay_path())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| PdqHash::from_hex(l.trim()).unwrap())
        .collect()
}

/// What a comparison keeps of an entry: every hash and the category.
fn key(e: &ListEntry) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        e.md5,
        e.sha1,
        e.sha256,
        e.pdq.map(|p| p.hash),
        e.category.as_ref().map(|c| (c.scheme, c.raw_code.clone()))
    )
}

#[test]
fn vics_samples_import_and_round_trip() {
    let data = tempfile::tempdir().unwrap();
    let dir = repo().join("crates/formats/tests/data/vics");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    assert_eq!(
        files.len(),
        4,
        "both NIST samples and both synthetic 2.0 files"
    );
    for (i, f) in files.iter().enumerate() {
        let name = format!("list{i}");
        let o = at(
            data.path(),
            &["lists", "import", "--name", &name, f.to_str().unwrap()],
        );
        ok(&o);
        let original = import_all(
            std::fs::read(f).unwrap().as_slice(),
            &ImportOptions::default(),
        )
        .unwrap();
        assert!(!original.entries.is_empty());
        let o = at(data.path(), &["lists", "export", &name]);
        ok(&o);
        let back = import_all(o.stdout.as_slice(), &ImportOptions::default()).unwrap();
        assert!(back.errors.is_empty(), "{:?}", back.errors);
        let a: Vec<String> = original.entries.iter().map(key).collect();
        let b: Vec<String> = back.entries.iter().map(key).collect();
        assert_eq!(a, b, "{} survives VICS → store → VICS", f.display());
    }
    let o = at(data.path(), &["lists", "ls", "--json"]);
    ok(&o);
    let lists = ndjson(&o.stdout);
    assert_eq!(lists.len(), 4);
    assert!(
        lists
            .iter()
            .all(|l| l["format"] == "vics" && l["enabled"] == true)
    );
}

#[test]
fn haystack_lookup_equals_linear_scan() {
    let data = tempfile::tempdir().unwrap();
    ok(&at(
        data.path(),
        &[
            "lists",
            "import",
            "--name",
            "hay",
            hay_path().to_str().unwrap(),
        ],
    ));
    let hay = hay();
    let needles_text =
        std::fs::read_to_string(repo().join("crates/index/tests/data/needles.txt")).unwrap();
    let needles: Vec<PdqHash> = needles_text
        .lines()
        .map(|l| PdqHash::from_hex(l.trim()).unwrap())
        .collect();
    for radius in [0u32, 4, 31] {
        let got = lookup(
            data.path(),
            &["--radius", &radius.to_string()],
            &needles_text,
        );
        assert_eq!(got.len(), needles.len());
        for (n, g) in needles.iter().zip(&got) {
            assert_eq!(g["query"], n.to_hex());
            assert_eq!(
                entries_of(g),
                linear_scan(&hay, n, radius),
                "radius {radius} needle {n}"
            );
        }
    }
}

#[test]
fn lookup_lines_digests_and_errors() {
    let data = tempfile::tempdir().unwrap();
    let f = repo().join("crates/formats/tests/data/vics/nist-nsrl-caid-mpg.vics1.2.json");
    ok(&at(
        data.path(),
        &["lists", "import", "--name", "nist", f.to_str().unwrap()],
    ));
    let list = import_all(
        std::fs::read(&f).unwrap().as_slice(),
        &ImportOptions::default(),
    )
    .unwrap();
    let md5 = list.entries[0].md5.unwrap().to_hex();
    let sha1 = list.entries[0].sha1.unwrap().to_hex().to_uppercase();
    let raw = lookup_raw(
        data.path(),
        &[],
        &format!("{md5}\nnot-a-hash\n{sha1}\nabcd\n"),
    );
    // Field order is part of the interface.
    let want_first = format!(
        "{{\"query\":\"{md5}\",\"matches\":[{{\"list\":\"nist\",\"entry\":1,\"kind\":\"exact\",\"distance\":0,\"variant\":null}}]}}"
    );
    assert_eq!(raw.lines().next().unwrap(), want_first);
    let got = ndjson(raw.as_bytes());
    assert_eq!(got.len(), 4);
    assert_eq!(got[0]["matches"][0]["kind"], "exact");
    assert_eq!(got[0]["matches"][0]["distance"], 0);
    assert_eq!(got[0]["matches"][0]["list"], "nist");
    assert!(got[0]["matches"][0]["variant"].is_null());
    assert!(got[1]["error"].is_string());
    assert_eq!(got[2]["matches"][0]["entry"], got[0]["matches"][0]["entry"]);
    assert!(got[3]["error"].as_str().unwrap().contains("hex digits"));

    // Hostile stdin: a 2 MB line is skipped (memory stays bounded) and
    // bytes that are not UTF-8 are one bad query, not the end of the run.
    let mut input = format!("{md5}\n{}\n", "f".repeat(2 << 20)).into_bytes();
    input.extend_from_slice(b"\xff\xfe\n");
    input.extend_from_slice(format!("{sha1}\n").as_bytes());
    let mut child = lookup_child(data.path(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        stdin.write_all(&input).unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let got = ndjson(&out.stdout);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0]["matches"][0]["kind"], "exact");
    assert_eq!(
        got[1]["error"],
        format!("line 2 is longer than the cap of 4096 bytes ({} bytes)", 2 << 20)
    );
    assert!(got[2]["error"].as_str().unwrap().contains("not hexadecimal"), "{got:?}");
    assert_eq!(got[3]["matches"][0]["entry"], got[0]["matches"][0]["entry"]);
}

#[test]
fn disable_enable_and_negative_lists() {
    let data = tempfile::tempdir().unwrap();
    ok(&at(
        data.path(),
        &[
            "lists",
            "import",
            "--name",
            "hay",
            hay_path().to_str().unwrap(),
        ],
    ));
    let hay = hay();
    let q = format!("{}\n", hay[0].to_hex());
    let base = entries_of(&lookup(data.path(), &[], &q)[0]);
    assert!(base.contains(&(1, 0)));

    ok(&at(data.path(), &["lists", "disable", "hay"]));
    assert!(entries_of(&lookup(data.path(), &[], &q)[0]).is_empty());
    ok(&at(data.path(), &["lists", "enable", "hay"]));
    assert_eq!(entries_of(&lookup(data.path(), &[], &q)[0]), base);

    // A negative list holding hay[0] at distance 0 suppresses exactly the
    // positive entries with that hash.
    let fp = data.path().join("fp.txt");
    std::fs::write(&fp, format!("{}\n", hay[0].to_hex())).unwrap();
    ok(&at(
        data.path(),
        &[
            "lists",
            "import",
            "--name",
            "fp",
            "--negative",
            "--distance",
            "0",
            fp.to_str().unwrap(),
        ],
    ));
    let with_neg = entries_of(&lookup(data.path(), &[], &q)[0]);
    let want: BTreeSet<(u64, u64)> = base
        .iter()
        .copied()
        .filter(|&(id, _)| hay[usize::try_from(id).unwrap() - 1] != hay[0])
        .collect();
    assert_eq!(with_neg, want);
    assert!(!with_neg.contains(&(1, 0)));
    ok(&at(data.path(), &["lists", "disable", "fp"]));
    assert_eq!(entries_of(&lookup(data.path(), &[], &q)[0]), base);

    assert!(
        !at(data.path(), &["lists", "disable", "nope"])
            .status
            .success()
    );
    assert!(
        !at(data.path(), &["lookup", "--list", "nope"])
            .status
            .success()
    );
}

#[test]
fn malformed_line_is_reported_and_the_rest_imports() {
    let data = tempfile::tempdir().unwrap();
    let hay = hay();
    let f = data.path().join("list.txt");
    std::fs::write(
        &f,
        format!("{}\nnot a hash\n{}\n", hay[0].to_hex(), hay[1].to_hex()),
    )
    .unwrap();
    let o = at(
        data.path(),
        &["lists", "import", "--name", "l", f.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "some records were skipped");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 entries, 1 rejected"));
    let got = lookup(
        data.path(),
        &["--radius", "0"],
        &format!("{}\n", hay[1].to_hex()),
    );
    assert_eq!(entries_of(&got[0]), BTreeSet::from([(2, 0)]));
}

#[test]
fn index_persisted_incremental_and_rebuilt_when_stale() {
    let data = tempfile::tempdir().unwrap();
    let hay = hay();
    let a = data.path().join("a.txt");
    let b = data.path().join("b.txt");
    std::fs::write(&a, format!("{}\n", hay[0].to_hex())).unwrap();
    std::fs::write(&b, format!("{}\n", hay[1].to_hex())).unwrap();
    let idx = data.path().join("known.idx");
    let generation = || u64::from_le_bytes(std::fs::read(&idx).unwrap()[8..16].try_into().unwrap());
    ok(&at(
        data.path(),
        &["lists", "import", "--name", "a", a.to_str().unwrap()],
    ));
    assert_eq!(generation(), 1);
    ok(&at(
        data.path(),
        &["lists", "import", "--name", "b", b.to_str().unwrap()],
    ));
    assert_eq!(generation(), 2);
    let q = format!("{}\n{}\n", hay[0].to_hex(), hay[1].to_hex());
    let want = lookup(data.path(), &["--radius", "0"], &q);
    assert_eq!(entries_of(&want[0]), BTreeSet::from([(1, 0)]));
    assert_eq!(entries_of(&want[1]), BTreeSet::from([(2, 0)]));
    // Same name twice is refused and changes nothing.
    assert!(
        !at(
            data.path(),
            &["lists", "import", "--name", "a", b.to_str().unwrap()]
        )
        .status
        .success()
    );
    assert_eq!(generation(), 2);
    // A missing or damaged index is rebuilt from the store.
    std::fs::remove_file(&idx).unwrap();
    assert_eq!(lookup(data.path(), &["--radius", "0"], &q), want);
    std::fs::write(&idx, b"garbage").unwrap();
    assert_eq!(lookup(data.path(), &["--radius", "0"], &q), want);
    assert_eq!(generation(), 2);
}

#[test]
fn match_files_against_a_pdq_list() {
    let data = tempfile::tempdir().unwrap();
    let dir = repo().join("testdata/pdq/pdq/data/bridge-mods");
    let orig = dir.join("aaa-orig.jpg");
    let o = tiaki().arg("hash").arg(&orig).output().unwrap();
    ok(&o);
    let rec = &ndjson(&o.stdout)[0];
    let list = data.path().join("bridge.pdq");
    std::fs::write(
        &list,
        format!("{},{}\n", rec["pdq"].as_str().unwrap(), rec["pdq_quality"]),
    )
    .unwrap();
    ok(&at(
        data.path(),
        &[
            "lists",
            "import",
            "--name",
            "bridge",
            list.to_str().unwrap(),
        ],
    ));
    let o = at(data.path(), &["match", dir.to_str().unwrap()]);
    ok(&o);
    let lines = ndjson(&o.stdout);
    assert_eq!(lines.len(), std::fs::read_dir(&dir).unwrap().count());
    let first = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with("aaa-orig.jpg"))
        .unwrap();
    assert_eq!(first["sha256"], rec["sha256"]);
    let m = &first["matches"][0];
    assert_eq!(
        (
            m["list"].as_str(),
            m["kind"].as_str(),
            m["distance"].as_u64()
        ),
        (Some("bridge"), Some("pdq"), Some(0))
    );
    assert_eq!(m["variant"], "orig");
    assert!(
        lines
            .iter()
            .filter(|l| !l["matches"].as_array().unwrap().is_empty())
            .count()
            > 1,
        "modified copies match too"
    );
}

/// Random sets (with duplicate entries) and queries planted at distances 0,
/// 31, 32 and 63 (and duplicated, and a bad line among them), piped into
/// `tiaki lookup` in one go so they reach the index as batches: every
/// answer equals the linear scan's over all entries and the query's eight
/// dihedral variants, in input order.
#[test]
fn lookup_random_sets_equal_linear_scan() {
    use tiaki_testkit::{PdqRng, Rng};
    for seed in [1u64, 2, 3] {
        let mut rng = Rng::new(seed);
        let n = [0usize, 700, 3000][seed as usize % 3];
        let mut hay: Vec<PdqHash> = Vec::with_capacity(n);
        for i in 0..n {
            let h = match rng.below(10) {
                0 if i > 0 => hay[rng.below(i)], // an exact duplicate
                1 if i > 0 => {
                    let (at, k) = (rng.below(i), [1, 31, 32][rng.below(3)]);
                    rng.flip(&hay[at], k)
                }
                _ => rng.hash(),
            };
            hay.push(h);
        }
        let data = tempfile::tempdir().unwrap();
        if n > 0 {
            let list = data.path().join("hay.txt");
            let text: String = hay.iter().map(|h| format!("{}\n", h.to_hex())).collect();
            std::fs::write(&list, text).unwrap();
            ok(&at(
                data.path(),
                &["lists", "import", "--name", "hay", list.to_str().unwrap()],
            ));
        }
        let mut queries: Vec<PdqHash> = (0..60)
            .map(|_| {
                if n == 0 || rng.below(5) == 0 {
                    rng.hash()
                } else {
                    let (at, k) = (rng.below(n), [0, 31, 32, 63][rng.below(4)]);
                    rng.flip(&hay[at], k)
                }
            })
            .collect();
        queries.extend_from_slice(&queries.clone()[..5]);
        let mut input: String = queries
            .iter()
            .map(|q| format!("{}\n", q.to_hex()))
            .collect();
        input.insert_str(input.len() / 2 / 65 * 65, "zz\n");
        for radius in [0u32, 31, 32] {
            let got = lookup(data.path(), &["--radius", &radius.to_string()], &input);
            assert_eq!(got.len(), queries.len() + 1, "seed {seed}");
            let mut answers = got.iter().filter(|g| g["query"] != "zz");
            assert!(got.iter().any(|g| g["error"].is_string()));
            for q in &queries {
                let g = answers.next().unwrap();
                assert_eq!(g["query"], q.to_hex());
                assert_eq!(
                    entries_of(g),
                    linear_scan(&hay, q, radius),
                    "seed {seed} radius {radius} query {q}"
                );
            }
        }
    }
}

/// A line typed on a terminal is answered before the next one is written
/// (`tiaki lookup` does not wait for more input or for the end).
#[test]
fn lookup_answers_each_line_at_once() {
    use std::io::{BufRead, Write};
    let data = tempfile::tempdir().unwrap();
    let hay = hay();
    ok(&at(
        data.path(),
        &[
            "lists",
            "import",
            "--name",
            "hay",
            hay_path().to_str().unwrap(),
        ],
    ));
    let mut child = lookup_child(data.path(), &[]);
    let mut stdin = child.stdin.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    for (i, h) in hay.iter().take(5).enumerate() {
        writeln!(stdin, "{}", h.to_hex()).unwrap();
        stdin.flush().unwrap();
        let answer = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no answer to line {i} before the next was written"));
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(v["query"], h.to_hex());
        assert!(entries_of(&v).contains(&(i as u64 + 1, 0)));
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
}
