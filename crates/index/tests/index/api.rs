//! Behaviour of the public API: quality gate, dihedral variant reporting,
//! shared ids, digest lookups, and the file format's error handling.

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{PdqRng, Rng};
use tiaki_hash::pdq::{Dihedral, PdqHash};
use tiaki_index::{
    Digest, DigestIndex, DigestKind, IndexError, KnownIndex, PdqEntry, PdqIndex, PdqIndexConfig,
};

#[test]
fn default_threshold_follows_the_kernel() {
    let kernel = tiaki_index::ScanKernel::detect();
    assert_eq!(
        PdqIndexConfig::default().mih_min_len,
        tiaki_index::default_mih_min_len(kernel)
    );
    assert_eq!(PdqIndex::default().kernel(), kernel);
}

#[test]
fn low_quality_hashes_never_enter() {
    let mut rng = Rng::new(1);
    let h = rng.hash();
    let mut idx = PdqIndex::default();
    match idx.insert(h, 49, 1) {
        Err(IndexError::LowQuality {
            id: 1,
            quality: 49,
            min: 50,
        }) => {}
        other => panic!("expected LowQuality, got {other:?}"),
    }
    idx.insert(h, 50, 2).unwrap();
    let report = idx
        .extend([
            PdqEntry {
                hash: h,
                quality: 0,
                id: 3,
            },
            PdqEntry {
                hash: h,
                quality: 100,
                id: 4,
            },
            PdqEntry {
                hash: h,
                quality: 12,
                id: 5,
            },
        ])
        .unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(report.low_quality, vec![3, 5]);
    let ids: Vec<u64> = idx.query(&h, 0).iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![2, 4]);
}

#[test]
fn best_variant_and_shared_ids() {
    let mut rng = Rng::new(2);
    let stored = rng.hash();
    let other = rng.hash();
    let mut idx = PdqIndex::new(PdqIndexConfig {
        delta_max: 2,
        ..PdqIndexConfig::default()
    });
    idx.insert(stored, 100, 10).unwrap();
    // The same id with a second hash (a second frame, say): reported once.
    idx.insert(rng.flip(&stored, 20), 100, 10).unwrap();
    idx.insert(other, 100, 11).unwrap();

    // Variant 3 (rot270) is 5 bits away, variant 6 (flipplus1) 2 bits away.
    let mut variants: [PdqHash; 8] = std::array::from_fn(|_| rng.hash());
    variants[3] = rng.flip(&stored, 5);
    variants[6] = rng.flip(&stored, 2);
    let found = idx.query_dihedral(&variants, 31);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].id, found[0].distance, found[0].variant),
        (10, 2, Dihedral::FlipPlus1)
    );

    // Ties go to the first variant in Dihedral::ALL order.
    variants[1] = variants[6];
    assert_eq!(
        idx.query_dihedral(&variants, 31)[0].variant,
        Dihedral::Rot90
    );

    // Sorted by distance, then id.
    let mut two = variants;
    two[0] = rng.flip(&other, 1);
    let found = idx.query_dihedral(&two, 31);
    assert_eq!(
        found.iter().map(|m| (m.id, m.distance)).collect::<Vec<_>>(),
        vec![(11, 1), (10, 2)]
    );

    assert_eq!(idx.remove(10), 2);
    assert_eq!(idx.len(), 1);
    assert!(idx.query_dihedral(&variants, 31).is_empty());
}

#[test]
fn digests_exact_lookup_and_round_trip() {
    let mut known = KnownIndex::default();
    let md5 = Digest::from_hex("d41d8cd98f00b204e9800998ecf8427e").unwrap();
    let sha1 = Digest::from_hex("da39a3ee5e6b4b0d3255bfef95601890afd80709").unwrap();
    let sha256 =
        Digest::from_hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            .unwrap();
    known.digests.insert(&md5, 1);
    known.digests.insert(&md5, 2);
    known.digests.insert(&sha1, 3);
    known.digests.insert(&sha256, 4);
    let mut rng = Rng::new(3);
    for i in 0..10_000 {
        let mut b = [0u8; 32];
        b.iter_mut().for_each(|x| *x = rng.next_u64() as u8);
        known.digests.insert(&Digest::Sha256(b), 100 + i);
    }
    assert_eq!(known.digests.get(&md5), vec![1, 2]);
    assert_eq!(known.digests.len_of(DigestKind::Sha256), 10_001);
    // Same bytes as another kind do not match.
    assert!(
        known
            .digests
            .get(&Digest::from_bytes(DigestKind::Md5, &[0; 16]).unwrap())
            .is_empty()
    );

    let mut bytes = Vec::new();
    known.save(&mut bytes).unwrap();
    let loaded = KnownIndex::load(bytes.as_slice()).unwrap();
    assert_eq!(loaded.digests.get(&md5), vec![1, 2]);
    assert_eq!(loaded.digests.get(&sha1), vec![3]);
    assert_eq!(loaded.digests.get(&sha256), vec![4]);
    assert_eq!(loaded.digests.len(), known.digests.len());
    let batch = loaded.digests.get_batch(&[md5, sha1, Digest::Md5([7; 16])]);
    assert_eq!(batch, vec![vec![1, 2], vec![3], vec![]]);
}

fn sample_file() -> Vec<u8> {
    let mut rng = Rng::new(4);
    let mut known = KnownIndex::new(PdqIndexConfig {
        mih_min_len: 10,
        delta_max: 50,
        ..PdqIndexConfig::default()
    });
    for i in 0..120 {
        known.pdq.insert(rng.hash(), 90, i).unwrap();
    }
    known.digests.insert(&Digest::Md5([1; 16]), 9);
    let mut bytes = Vec::new();
    known.save(&mut bytes).unwrap();
    bytes
}

#[test]
fn damaged_files_are_errors() {
    let good = sample_file();
    assert!(KnownIndex::load(good.as_slice()).is_ok());

    // Any single flipped byte is caught (magic, version, structure or CRC).
    let mut rng = Rng::new(5);
    for _ in 0..200 {
        let mut bad = good.clone();
        let at = rng.below(bad.len());
        bad[at] ^= 1 << rng.below(8);
        assert!(
            KnownIndex::load(bad.as_slice()).is_err(),
            "flip at {at} not detected"
        );
    }
    // Truncation anywhere is an I/O error (unexpected EOF), not a panic.
    for cut in [0, 4, 12, 17, good.len() / 2, good.len() - 1] {
        assert!(
            matches!(KnownIndex::load(&good[..cut]), Err(IndexError::Io(_))),
            "cut at {cut}"
        );
    }
    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(matches!(
        KnownIndex::load(bad.as_slice()),
        Err(IndexError::BadMagic)
    ));
    let mut bad = good.clone();
    bad[8] = 9;
    assert!(matches!(
        KnownIndex::load(bad.as_slice()),
        Err(IndexError::UnsupportedVersion { found: 9, .. })
    ));
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] ^= 0x80;
    assert!(matches!(
        KnownIndex::load(bad.as_slice()),
        Err(IndexError::Checksum { .. })
    ));
}

#[test]
fn save_path_and_load_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known.tki");
    let mut known = KnownIndex::default();
    let mut rng = Rng::new(6);
    let h = rng.hash();
    known.pdq.insert(h, 100, 77).unwrap();
    known.save_path(&path).unwrap();
    assert!(!dir.path().join("known.tki.tmp").exists());
    let loaded = KnownIndex::load_path(&path).unwrap();
    assert_eq!(loaded.pdq.query(&h, 0)[0].id, 77);
    assert!(KnownIndex::load_path(dir.path().join("missing")).is_err());
}

/// Opening a file maps it: damage is still an error (never a panic), and a
/// header in front (as core's `known.idx` has) is handed back.
#[test]
fn mapped_files_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let good = sample_file();
    // Each file written once: a mapped file is never rewritten in place
    // (Tiaki renames a new file over it; see `persist::map_file`).
    let path = dir.path().join("x.idx");
    let mut with_header = vec![7u8; 64];
    with_header.extend_from_slice(&good);
    std::fs::write(&path, &with_header).unwrap();
    let mut head = [0u8; 64];
    let loaded = KnownIndex::load_path_after_header(&path, &mut head).unwrap();
    assert_eq!(head, [7u8; 64]);
    assert_eq!(
        loaded.pdq.len(),
        KnownIndex::load(good.as_slice()).unwrap().pdq.len()
    );
    // A header of another length: arrays misaligned in the mapping are copied.
    let mut odd = vec![1u8; 5];
    odd.extend_from_slice(&good);
    let odd_path = dir.path().join("odd.idx");
    std::fs::write(&odd_path, &odd).unwrap();
    let mut head = [0u8; 5];
    let l2 = KnownIndex::load_path_after_header(&odd_path, &mut head).unwrap();
    assert_eq!(
        l2.pdq.entries().collect::<Vec<_>>(),
        loaded.pdq.entries().collect::<Vec<_>>()
    );

    let mut rng = Rng::new(8);
    for i in 0..100 {
        let mut bad = good.clone();
        let at = rng.below(bad.len());
        bad[at] ^= 1 << rng.below(8);
        let p = dir.path().join(format!("flip{i}.idx"));
        std::fs::write(&p, &bad).unwrap();
        assert!(KnownIndex::load_path(&p).is_err(), "flip at {at}");
    }
    for cut in [0, 4, 12, good.len() / 2, good.len() - 1] {
        let p = dir.path().join(format!("cut{cut}.idx"));
        std::fs::write(&p, &good[..cut]).unwrap();
        assert!(KnownIndex::load_path(&p).is_err(), "cut at {cut}");
    }
}

mod digest_oracle {
    use super::*;
    use proptest::prelude::*;
    // Named, so it wins over the prelude's `Rng` trait.
    use crate::common::Rng;
    use std::collections::BTreeMap;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        /// The digest index against a map: inserts (many sharing a digest,
        /// enough to force delta merges), removals, save/load.
        #[test]
        fn digest_index_equals_map(seed in any::<u64>(), n in 0usize..12_000, distinct in 1usize..5_000) {
            let mut rng = Rng::new(seed);
            let mut idx = DigestIndex::new();
            let mut model: BTreeMap<Digest, Vec<u64>> = BTreeMap::new();
            let pool: Vec<Digest> = (0..distinct)
                .map(|i| {
                    let mut b = [0u8; 32];
                    b.iter_mut().for_each(|x| *x = rng.next_u64() as u8);
                    match i % 3 {
                        0 => Digest::from_bytes(DigestKind::Md5, &b[..16]).unwrap(),
                        1 => Digest::from_bytes(DigestKind::Sha1, &b[..20]).unwrap(),
                        _ => Digest::Sha256(b),
                    }
                })
                .collect();
            for id in 0..n as u64 {
                let d = pool[rng.below(pool.len())];
                idx.insert(&d, id);
                model.entry(d).or_default().push(id);
            }
            let removed: Vec<u64> = (0..20).map(|_| rng.below(n.max(1)) as u64).collect();
            let count: usize = model.values().map(|v| v.iter().filter(|id| removed.contains(id)).count()).sum();
            prop_assert_eq!(idx.remove_ids(removed.iter().copied()), count);
            model.values_mut().for_each(|v| v.retain(|id| !removed.contains(id)));

            let mut bytes = Vec::new();
            KnownIndex { digests: idx.clone(), ..KnownIndex::default() }.save(&mut bytes).unwrap();
            let loaded = KnownIndex::load(bytes.as_slice()).unwrap().digests;
            let empty = Vec::new();
            for index in [&idx, &loaded] {
                prop_assert_eq!(index.len(), model.values().map(Vec::len).sum::<usize>());
                for d in &pool {
                    let mut got = index.get(d);
                    got.sort_unstable();
                    prop_assert_eq!(&got, model.get(d).unwrap_or(&empty));
                }
            }
        }
    }
}
