//! The C++ reference's MIH regression lists (`haystack.txt`, `needles.txt`
//! from facebook/ThreatExchange, see tests/data/SOURCE.md): the index must
//! give the same matches as a linear scan, with either engine.

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{oracle, parse_hash_lines};
use tiaki_hash::pdq::{Dihedral, PdqHash};
use tiaki_index::{Engine, EntryId, PdqEntry, PdqIndex, PdqIndexConfig};

fn load() -> (Vec<PdqHash>, Vec<PdqHash>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let hay = parse_hash_lines(&std::fs::read_to_string(format!("{dir}/haystack.txt")).unwrap());
    let needles = parse_hash_lines(&std::fs::read_to_string(format!("{dir}/needles.txt")).unwrap());
    (hay, needles)
}

fn build(hay: &[PdqHash], mih: bool) -> PdqIndex {
    let config = PdqIndexConfig {
        mih_min_len: if mih { 0 } else { usize::MAX },
        mih_max_sub_radius: 7,
        engine_by_cost: false,
        ..PdqIndexConfig::default()
    };
    let mut idx = PdqIndex::new(config);
    let entries = hay.iter().enumerate().map(|(i, &hash)| PdqEntry {
        hash,
        quality: 100,
        id: i as EntryId,
    });
    idx.extend(entries).unwrap();
    idx.flush().unwrap();
    assert_eq!(
        idx.engine_for(31),
        if mih { Engine::Mih } else { Engine::Scan }
    );
    idx
}

#[test]
fn files_are_what_the_tests_assume() {
    let (hay, needles) = load();
    assert_eq!(hay.len(), 1350);
    assert_eq!(needles.len(), 100);
    // What the files imply: every needle is a slightly modified haystack
    // entry. 50 occur verbatim, 1 is 2 bits away and 49 are 4 bits away.
    let nearest: Vec<u32> = needles
        .iter()
        .map(|n| hay.iter().map(|h| h.distance(n)).min().unwrap())
        .collect();
    assert_eq!(nearest.iter().filter(|&&d| d == 0).count(), 50);
    assert_eq!(nearest.iter().filter(|&&d| d == 2).count(), 1);
    assert_eq!(nearest.iter().filter(|&&d| d == 4).count(), 49);
}

#[test]
fn index_equals_linear_scan_on_reference_lists() {
    let (hay, needles) = load();
    let entries: Vec<(PdqHash, EntryId)> = hay
        .iter()
        .enumerate()
        .map(|(i, &h)| (h, i as EntryId))
        .collect();
    for mih in [false, true] {
        let idx = build(&hay, mih);
        // 4: the files' own nearest distance; 31/32: PDQ's match threshold
        // and the C++ tool's default; 63: the C++ MIH limit; 64 and 128:
        // beyond MIH, served by the scan fallback.
        for radius in [0, 4, 31, 32, 63, 64, 128] {
            let got = idx.query_batch(&needles, radius);
            let mut total = 0;
            for (n, g) in needles.iter().zip(&got) {
                let want = oracle(&entries, &[(Dihedral::Orig, *n)], radius);
                assert_eq!(g, &want, "mih={mih} radius={radius} needle={n}");
                total += g.len();
            }
            if radius >= 4 {
                assert!(
                    got.iter().all(|g| !g.is_empty()),
                    "every needle has a match within 4"
                );
            }
            assert!(total >= needles.len() || radius < 4);
        }
    }
}
