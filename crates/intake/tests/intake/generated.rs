//! The generator: deterministic, and its bad lines are exactly the errors.

use std::collections::BTreeSet;
use std::fs;

use tiaki_intake::generate::{GenOptions, generate};

use crate::common::open_dir;

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: u64| {
        let out = tmp.path().join(name);
        generate(&GenOptions {
            accounts: 50,
            media: 400,
            files: 6,
            seed,
            bad_lines: true,
            out: out.clone(),
            ..GenOptions::default()
        })
        .unwrap();
        let mut all = Vec::new();
        for f in [
            "manifest.json",
            "accounts.ndjson",
            "media.ndjson",
            "events.ndjson",
            "files/c0.png",
            "files/c1.jpg",
        ] {
            all.push(fs::read(out.join(f)).unwrap());
        }
        all
    };
    assert_eq!(run("a", 7), run("b", 7));
    assert_ne!(run("c", 7)[2], run("d", 8)[2]);
}

#[test]
fn generated_bad_lines_are_exactly_the_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = generate(&GenOptions {
        accounts: 200,
        media: 3000,
        files: 20,
        seed: 3,
        bad_lines: true,
        out: tmp.path().to_path_buf(),
        ..GenOptions::default()
    })
    .unwrap();
    let all = open_dir(tmp.path());
    let expected: BTreeSet<(String, u64)> = summary
        .bad_lines
        .iter()
        .map(|b| (b.file.to_owned(), b.line))
        .collect();
    let got: BTreeSet<(String, u64)> = all
        .errors
        .iter()
        .map(|e| (e.file.clone(), e.line))
        .collect();
    assert_eq!(got, expected, "{:#?}", all.errors);
    assert_eq!(all.accounts.len() as u64, summary.accounts);
    assert_eq!(all.media.len() as u64, summary.media);
    assert_eq!(all.events.len() as u64, summary.events);
    assert_eq!(
        all.media.iter().filter(|m| m.value.file.is_some()).count(),
        20
    );
    // Content repeats across accounts, with consistent hashes per item.
    let mut by_md5 = std::collections::HashMap::new();
    for m in &all.media {
        let h = &m.value.hashes;
        let prev = by_md5.insert(h.md5.clone(), (h.sha256.clone(), h.pdq.clone()));
        if let Some(p) = prev {
            assert_eq!(p, (h.sha256.clone(), h.pdq.clone()));
        }
    }
    assert!(by_md5.len() <= 300);
    // File media carry the real hashes of their files.
    let m = all.media.iter().find(|m| m.value.file.is_some()).unwrap();
    let bytes = fs::read(tmp.path().join(m.value.file.as_ref().unwrap())).unwrap();
    assert_eq!(
        m.value.hashes.sha256.as_deref(),
        Some(crate::common::sha256_hex(&bytes).as_str())
    );
    assert!(image_decodes(&bytes));
}

fn image_decodes(bytes: &[u8]) -> bool {
    image::load_from_memory(bytes).is_ok()
}
