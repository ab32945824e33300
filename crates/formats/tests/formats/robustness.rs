//! No input makes a reader panic: random bytes, and the real samples with
//! bytes flipped, inserted, deleted or the file cut short, fed to every
//! reader (forced) and to detection. The summary's counts must also agree
//! with what the sink saw.

// Test code: helpers may panic on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::ControlFlow;

use proptest::prelude::*;
use tiaki_formats::{Format, ImportOptions, import};

const SAMPLES: &[&str] = &[
    "vics/nist-nsrl-caid-mpg.vics1.2.json",
    "vics/synthetic.vics2.0-default.hashset.json",
    "vics/synthetic.vics2.0-us.case-export.json",
    "ncmec/ncmec-hashsharing-v2.entries.example.xml",
    "vpdq/chair-20-sd-bar.seconds_per_hash_1.txt",
];

fn icse_sample() -> Vec<u8> {
    format!(
        "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\n{};{};;1;yes;no;t;S;2;y;Image;f\n",
        "ab".repeat(16),
        "cd".repeat(20)
    )
    .into_bytes()
}

fn pdq_sample() -> Vec<u8> {
    let text = String::from_utf8(crate::common::read("pdq/needles.txt")).unwrap_or_default();
    text.lines()
        .take(5)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

fn vpdq_json_sample() -> Vec<u8> {
    format!(
        "[\"{},100,0.0\", \"{},90,1.5\"]",
        "ab".repeat(32),
        "cd".repeat(32)
    )
    .into_bytes()
}

/// Runs `bytes` through detection and through every reader; checks that
/// nothing panics and the counts are consistent.
fn feed(bytes: &[u8]) {
    let mut formats: Vec<Option<Format>> = Format::ALL.iter().copied().map(Some).collect();
    formats.push(None);
    for format in formats {
        for include_deleted in [false, true] {
            let opts = ImportOptions {
                format,
                include_deleted,
                ..ImportOptions::default()
            };
            let (mut ok, mut bad) = (0u64, 0u64);
            let result = import(bytes, &opts, |item| {
                match item {
                    Ok(_) => ok += 1,
                    Err(e) => {
                        // Errors must render (positions, reasons) without panicking.
                        let _ = e.to_string();
                        bad += 1;
                    }
                }
                ControlFlow::Continue(())
            });
            match result {
                Ok(s) => {
                    let delivered_deleted = if include_deleted { s.deleted } else { 0 };
                    assert_eq!(
                        (s.entries + delivered_deleted, s.rejected),
                        (ok, bad),
                        "{format:?}"
                    );
                }
                Err(e) => {
                    let _ = e.to_string();
                    assert!(e.entries <= ok && e.rejected == bad, "{format:?}: {e}");
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let tokens = proptest::sample::select(vec![
        b"{".to_vec(),
        b"}".to_vec(),
        b"[".to_vec(),
        b"\"".to_vec(),
        b",".to_vec(),
        b"\n".to_vec(),
        b"<".to_vec(),
        b"</image>".to_vec(),
        b"&amp;".to_vec(),
        b"\xEF\xBB\xBF".to_vec(),
        b"\xFF\xFE".to_vec(),
        b"\"Media\":[".to_vec(),
        b"null".to_vec(),
        b"-1".to_vec(),
        b"1e999".to_vec(),
        b";".to_vec(),
        b"\0".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![tokens, proptest::collection::vec(any::<u8>(), 1..8)]
        )
            .prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut data: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = data.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if let Some(x) = data.get_mut(i % len) {
                    *x ^= b | 1;
                }
            }
            Mutation::Insert(i, t) => {
                let at = i % (data.len() + 1);
                data.splice(at..at, t.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(data.len());
                if at < end {
                    data.drain(at..end);
                }
            }
            Mutation::Truncate(i) => data.truncate(i % len),
        }
    }
    data
}

fn all_samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = SAMPLES.iter().map(|p| crate::common::read(p)).collect();
    v.push(icse_sample());
    v.push(pdq_sample());
    v.push(vpdq_json_sample());
    v
}

proptest! {
    // TIAKI_FUZZ_CASES=5000 for a longer run than CI's.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TIAKI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        feed(&bytes);
    }

    #[test]
    fn random_text_never_panics(text in "[ -~\n\r\t{}\\[\\]\"<>/&;,#0-9a-fA-F]{0,300}") {
        feed(text.as_bytes());
    }

    #[test]
    fn mutated_samples_never_panic(
        which in 0usize..8,
        muts in proptest::collection::vec(mutation(), 1..6),
    ) {
        let samples = all_samples();
        let base = samples.get(which % samples.len()).cloned().unwrap_or_default();
        feed(&apply(base, &muts));
    }
}

#[test]
fn unmodified_samples_feed_cleanly() {
    for s in all_samples() {
        feed(&s);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    // serde_json's recursion limit and the XML depth cap keep the stack safe.
    let json = format!(
        "{{\"value\":[{}{}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    feed(json.as_bytes());
    let xml = format!(
        "<queryResult><images><image>{}{}</image></images></queryResult>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    feed(xml.as_bytes());
}

#[test]
fn huge_line_is_bounded() {
    // 3 MB of one "line": reported as too long, not buffered whole.
    let mut data = vec![b'f'; 3 << 20];
    data.extend_from_slice(b"\n");
    data.extend_from_slice("ab".repeat(32).as_bytes());
    let opts = ImportOptions {
        format: Some(Format::PdqLines),
        ..ImportOptions::default()
    };
    let c = tiaki_formats::import_all(&data[..], &opts).unwrap();
    assert_eq!((c.entries.len(), c.errors.len()), (1, 1));
}
