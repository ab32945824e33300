//! Property tests: the index returns exactly what a linear scan returns, on
//! random and planted data, at radius 0, 31 and 63, with the scan or MIH
//! engine forced (or mixed by segment size), after incremental inserts, after
//! removals, after a save/load round trip and after compaction.

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{PdqRng, Rng, oracle};
use proptest::prelude::*;
use tiaki_hash::pdq::{Dihedral, PdqHash};
use tiaki_index::{Engine, EntryId, KnownIndex, PdqEntry, PdqIndex, PdqIndexConfig, ScanKernel};

const RADII: [u32; 3] = [0, 31, 63];

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Every sealed segment scanned.
    Scan,
    /// Every sealed segment gets MIH, used up to radius 63.
    Mih,
    /// Segments of ≥ 64 hashes get MIH; radius 63 falls back to the scan.
    Mixed,
}

fn config(mode: Mode, delta_max: usize, kernel: ScanKernel) -> PdqIndexConfig {
    let (mih_min_len, mih_max_sub_radius) = match mode {
        Mode::Scan => (usize::MAX, 3),
        Mode::Mih => (0, 7),
        Mode::Mixed => (64, 3),
    };
    PdqIndexConfig {
        mih_min_len,
        mih_max_sub_radius,
        delta_max,
        kernel: Some(kernel),
        // Force the engine the mode names; the cost model is tested apart.
        engine_by_cost: false,
    }
}

/// Entries with clusters: some are near-duplicates of earlier ones, at
/// distances that straddle the radii under test. A few ids repeat, a few
/// do not fit in 32 bits.
fn make_entries(rng: &mut Rng, n: usize) -> Vec<PdqEntry> {
    let mut out: Vec<PdqEntry> = Vec::with_capacity(n);
    for i in 0..n {
        let hash = if i > 0 && rng.below(3) == 0 {
            let base = out[rng.below(out.len())].hash;
            let k = [0, 1, 5, 30, 31, 32, 40, 62, 63, 64][rng.below(10)];
            rng.flip(&base, k)
        } else {
            rng.hash()
        };
        // Mostly distinct ids; some shared; some beyond u32 (wide id storage).
        let id = match rng.below(20) {
            0 | 1 => rng.below(n.max(1)) as EntryId,
            2 => u64::MAX - i as EntryId,
            _ => 10_000 + i as EntryId,
        };
        // One in ten is below the quality threshold and must never be found.
        let quality = if rng.below(10) == 0 {
            rng.below(50) as u8
        } else {
            50 + rng.below(51) as u8
        };
        out.push(PdqEntry { hash, quality, id });
    }
    out
}

/// Query variant lists: hashes planted at exact distances 0, 31, 32 and 63
/// from stored entries, and random ones, 8 per query like the dihedrals.
fn make_queries(rng: &mut Rng, entries: &[PdqEntry], count: usize) -> Vec<[PdqHash; 8]> {
    (0..count)
        .map(|_| {
            std::array::from_fn(|_| {
                if entries.is_empty() || rng.below(4) == 0 {
                    rng.hash()
                } else {
                    let e = &entries[rng.below(entries.len())];
                    let k = [0, 31, 32, 63][rng.below(4)];
                    rng.flip(&e.hash, k)
                }
            })
        })
        .collect()
}

fn live(model: &[PdqEntry], removed: &[EntryId]) -> Vec<(PdqHash, EntryId)> {
    model
        .iter()
        .filter(|e| e.quality >= 50 && !removed.contains(&e.id))
        .map(|e| (e.hash, e.id))
        .collect()
}

/// Checks every query API against the oracle at every radius.
fn check(idx: &PdqIndex, live: &[(PdqHash, EntryId)], queries: &[[PdqHash; 8]], stage: &str) {
    assert_eq!(idx.len(), live.len(), "{stage}: len");
    for radius in RADII {
        let got = idx.query_dihedral_batch(queries, radius);
        for (q, g) in queries.iter().zip(&got) {
            let variants: Vec<(Dihedral, PdqHash)> =
                Dihedral::ALL.into_iter().zip(q.iter().copied()).collect();
            let want = oracle(live, &variants, radius);
            assert_eq!(g, &want, "{stage}: dihedral query, radius {radius}");
            assert_eq!(
                &idx.query_dihedral(q, radius),
                g,
                "{stage}: single dihedral query"
            );
            // The (variant, hash) form with a subset of variants, in another order.
            let sub: Vec<(Dihedral, PdqHash)> = variants.iter().rev().step_by(3).copied().collect();
            assert_eq!(
                idx.query_variants(&sub, radius),
                oracle(live, &sub, radius),
                "{stage}: variants"
            );
        }
        // Plain needles (the vPDQ frame path), including duplicates.
        let mut needles: Vec<PdqHash> = queries.iter().map(|q| q[0]).collect();
        needles.extend(queries.iter().take(2).map(|q| q[0]));
        let got = idx.query_batch(&needles, radius);
        for (n, g) in needles.iter().zip(&got) {
            assert_eq!(
                g,
                &oracle(live, &[(Dihedral::Orig, *n)], radius),
                "{stage}: batch, radius {radius}"
            );
        }
    }
}

fn scenario(seed: u64, n: usize, mode: Mode, delta_max: usize, kernel_pick: usize) {
    let mut rng = Rng::new(seed);
    let kernels = ScanKernel::available();
    let kernel = kernels[kernel_pick % kernels.len()];
    let cfg = config(mode, delta_max, kernel);
    let entries = make_entries(&mut rng, n);
    let queries = make_queries(&mut rng, &entries, 6);
    let mut removed: Vec<EntryId> = Vec::new();

    // Bulk half, then the rest one at a time (seals the delta every
    // `delta_max` inserts and merges segments).
    let mut idx = PdqIndex::new(cfg.clone());
    let (bulk, single) = entries.split_at(n / 2);
    // A bulk load defers the MIH tables: exact before and after they are built.
    let report = idx.extend_bulk(bulk.iter().copied()).unwrap();
    assert_eq!(
        report.low_quality.len(),
        bulk.iter().filter(|e| e.quality < 50).count()
    );
    check(
        &idx,
        &live(bulk, &removed),
        &queries,
        "after bulk insert, no tables",
    );
    idx.flush().unwrap();
    check(&idx, &live(bulk, &removed), &queries, "after bulk insert");
    for e in single {
        let r = idx.insert(e.hash, e.quality, e.id);
        assert_eq!(r.is_ok(), e.quality >= 50);
    }
    check(
        &idx,
        &live(&entries, &removed),
        &queries,
        "after incremental inserts",
    );

    let stats = idx.stats();
    let sealed: Vec<_> = stats.segments.iter().filter(|s| !s.delta).collect();
    match mode {
        Mode::Scan => assert!(sealed.iter().all(|s| s.engine == Engine::Scan)),
        Mode::Mih => assert!(sealed.iter().all(|s| s.engine == Engine::Mih)),
        Mode::Mixed => assert!(
            sealed
                .iter()
                .all(|s| (s.engine == Engine::Mih) == (s.len >= 64))
        ),
    }

    // Remove a few ids (some present, one absent).
    for _ in 0..3 {
        if let Some(e) = entries.get(rng.below(n.max(1))) {
            removed.push(e.id);
        }
    }
    removed.push(9_999); // never used as an id
    let want_removed = live(&entries, &[]).len() - live(&entries, &removed).len();
    assert_eq!(idx.remove_ids(removed.iter().copied()), want_removed);
    assert_eq!(
        idx.remove_ids(removed.iter().copied()),
        0,
        "second removal is a no-op"
    );
    check(&idx, &live(&entries, &removed), &queries, "after removals");

    // Save/load round trip, then keep inserting into the loaded index.
    let mut known = KnownIndex {
        pdq: idx,
        ..KnownIndex::default()
    };
    let mut bytes = Vec::new();
    known.save(&mut bytes).unwrap();
    let mut loaded = KnownIndex::load(bytes.as_slice()).unwrap();
    // The engine policy is not saved: force the mode's engine again.
    loaded.pdq.set_engine_by_cost(false);
    // Same segments (capacity, hence heap_bytes, may differ).
    let shape = |i: &PdqIndex| -> Vec<_> {
        i.stats()
            .segments
            .iter()
            .map(|s| (s.len, s.live, s.engine, s.delta, s.mih_probes_r31))
            .collect()
    };
    assert_eq!(shape(&loaded.pdq), shape(&known.pdq));
    check(
        &loaded.pdq,
        &live(&entries, &removed),
        &queries,
        "after save/load",
    );

    let more = make_entries(&mut rng, n / 3);
    for e in &more {
        let _ = loaded.pdq.insert(e.hash, e.quality, e.id);
    }
    let all: Vec<PdqEntry> = entries.iter().chain(&more).copied().collect();
    // Re-inserted ids are live again: removal only affected earlier entries.
    let live_now: Vec<(PdqHash, EntryId)> = entries
        .iter()
        .filter(|e| e.quality >= 50 && !removed.contains(&e.id))
        .chain(more.iter().filter(|e| e.quality >= 50))
        .map(|e| (e.hash, e.id))
        .collect();
    check(
        &loaded.pdq,
        &live_now,
        &queries,
        "after inserts into the loaded index",
    );

    loaded.pdq.compact().unwrap();
    check(&loaded.pdq, &live_now, &queries, "after compaction");
    known.pdq = loaded.pdq;
    drop(all);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn scan_engine_equals_oracle(seed in any::<u64>(), n in 0usize..500, delta_max in 1usize..200, k in 0usize..3) {
        scenario(seed, n, Mode::Scan, delta_max, k);
    }

    #[test]
    fn mih_engine_equals_oracle(seed in any::<u64>(), n in 0usize..500, delta_max in 1usize..200, k in 0usize..3) {
        scenario(seed, n, Mode::Mih, delta_max, k);
    }

    #[test]
    fn mixed_engines_equal_oracle(seed in any::<u64>(), n in 0usize..500, delta_max in 1usize..200, k in 0usize..3) {
        scenario(seed, n, Mode::Mixed, delta_max, k);
    }
}

/// One larger case per engine, where MIH directories have more prefix bits
/// and buckets are realistic, at the default radius.
#[test]
fn larger_random_set_both_engines() {
    let mut rng = Rng::new(99);
    let entries: Vec<PdqEntry> = (0..20_000)
        .map(|i| PdqEntry {
            hash: rng.hash(),
            quality: 100,
            id: i,
        })
        .collect();
    let queries = make_queries(&mut rng, &entries, 16);
    let all: Vec<(PdqHash, EntryId)> = entries.iter().map(|e| (e.hash, e.id)).collect();
    let dir = tempfile::tempdir().unwrap();
    for mode in [Mode::Scan, Mode::Mih, Mode::Mixed] {
        let mut idx = PdqIndex::new(config(mode, 1 << 16, ScanKernel::detect()));
        idx.extend(entries.iter().copied()).unwrap();
        idx.flush().unwrap();
        // The cost model's choice for single queries and batches: exact too.
        let mut by_cost = idx.clone();
        by_cost.set_engine_by_cost(true);
        // Opened from a file (memory-mapped, the sealed segments in place).
        let path = dir.path().join(format!("{mode:?}.idx"));
        KnownIndex {
            pdq: idx.clone(),
            ..KnownIndex::default()
        }
        .save_path(&path)
        .unwrap();
        let mut mapped = KnownIndex::load_path(&path).unwrap().pdq;
        mapped.set_engine_by_cost(false);
        for (what, i) in [("mapped", &mapped), ("by cost", &by_cost)] {
            for radius in [0, 31, 32] {
                for q in queries.iter().take(4) {
                    let v: Vec<(Dihedral, PdqHash)> =
                        Dihedral::ALL.into_iter().zip(q.iter().copied()).collect();
                    assert_eq!(
                        i.query_dihedral(q, radius),
                        oracle(&all, &v, radius),
                        "{what} {mode:?} radius {radius}"
                    );
                    assert_eq!(
                        i.query(&q[0], radius),
                        oracle(&all, &v[..1], radius),
                        "{what} {mode:?} radius {radius}, single"
                    );
                }
            }
        }
        if matches!(mode, Mode::Mixed) {
            continue;
        }
        assert_eq!(
            idx.engine_for(31),
            if matches!(mode, Mode::Mih) {
                Engine::Mih
            } else {
                Engine::Scan
            }
        );
        for radius in [0, 31] {
            let got = idx.query_dihedral_batch(&queries, radius);
            for (q, g) in queries.iter().zip(&got) {
                let v: Vec<(Dihedral, PdqHash)> =
                    Dihedral::ALL.into_iter().zip(q.iter().copied()).collect();
                assert_eq!(g, &oracle(&all, &v, radius), "{mode:?} radius {radius}");
            }
        }
    }
}
