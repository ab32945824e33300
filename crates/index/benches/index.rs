//! Micro-benchmarks of the index on random data (single thread).
//!
//! The 10-million-hash comparison with FAISS is `bench/index/run.sh`; this
//! file times the pieces at a size that builds in seconds. Set
//! `TIAKI_BENCH_N` to change the number of stored hashes (default 1,000,000).

// Test code: panicking on a broken expectation is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tiaki_hash::pdq::PdqHash;
use tiaki_index::{Digest, DigestIndex, PdqEntry, PdqIndex, PdqIndexConfig, ScanKernel};
use tiaki_testkit::{PdqRng, Rng};

/// A stored hash with `k` random bits flipped (a planted near-duplicate).
fn near(rng: &mut Rng, stored: &[PdqHash], k: usize) -> PdqHash {
    let base = stored[rng.below(stored.len())];
    rng.flip(&base, k)
}

fn n() -> usize {
    std::env::var("TIAKI_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn build(hashes: &[PdqHash], config: PdqIndexConfig) -> PdqIndex {
    let mut idx = PdqIndex::new(config);
    let entries = hashes.iter().enumerate().map(|(i, &hash)| PdqEntry {
        hash,
        quality: 100,
        id: i as u64,
    });
    idx.extend(entries).unwrap();
    idx.flush().unwrap();
    idx
}

fn pdq_queries(c: &mut Criterion) {
    let n = n();
    let mut rng = Rng::new(1);
    let hashes: Vec<PdqHash> = (0..n).map(|_| rng.hash()).collect();
    let needles: Vec<PdqHash> = (0..64).map(|i| near(&mut rng, &hashes, i % 32)).collect();
    let dihedral: [PdqHash; 8] = std::array::from_fn(|i| needles[i]);

    let mut g = c.benchmark_group(format!("pdq_r31_n{n}"));
    g.sample_size(10);
    for kernel in ScanKernel::available() {
        let idx = build(
            &hashes,
            PdqIndexConfig {
                mih_min_len: usize::MAX,
                kernel: Some(kernel),
                ..Default::default()
            },
        );
        g.throughput(Throughput::Elements(64));
        g.bench_function(format!("scan_{}_batch64", kernel.name()), |b| {
            b.iter(|| idx.query_batch(black_box(&needles), 31))
        });
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("scan_{}_dihedral8", kernel.name()), |b| {
            b.iter(|| idx.query_dihedral(black_box(&dihedral), 31))
        });
        g.bench_function(format!("scan_{}_single", kernel.name()), |b| {
            b.iter(|| idx.query(black_box(&needles[5]), 31))
        });
    }
    let idx = build(
        &hashes,
        PdqIndexConfig {
            mih_min_len: 0,
            // MIH for every batch: this group measures the engine itself.
            engine_by_cost: false,
            ..Default::default()
        },
    );
    g.throughput(Throughput::Elements(64));
    g.bench_function("mih_batch64", |b| {
        b.iter(|| idx.query_batch(black_box(&needles), 31))
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("mih_dihedral8", |b| {
        b.iter(|| idx.query_dihedral(black_box(&dihedral), 31))
    });
    g.bench_function("mih_single", |b| {
        b.iter(|| idx.query(black_box(&needles[5]), 31))
    });
    g.finish();

    let mut g = c.benchmark_group(format!("pdq_build_n{n}"));
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("scan_segment", |b| {
        b.iter(|| {
            build(
                black_box(&hashes),
                PdqIndexConfig {
                    mih_min_len: usize::MAX,
                    ..Default::default()
                },
            )
        })
    });
    g.bench_function("mih_segment", |b| {
        b.iter(|| {
            build(
                black_box(&hashes),
                PdqIndexConfig {
                    mih_min_len: 0,
                    ..Default::default()
                },
            )
        })
    });
    // Incremental: one insert into a full index (delta append; the
    // occasional seal/merge is amortised over the batch).
    let base = build(&hashes, PdqIndexConfig::default());
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("insert_10k_incremental", |b| {
        b.iter_batched(
            || base.clone(),
            |mut idx| {
                for (i, h) in needles.iter().cycle().take(10_000).enumerate() {
                    idx.insert(*h, 100, i as u64).unwrap();
                }
                idx
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn digests(c: &mut Criterion) {
    let n = n();
    let mut rng = Rng::new(2);
    let keys: Vec<Digest> = (0..n)
        .map(|_| {
            let mut b = [0u8; 32];
            for c in b.chunks_exact_mut(8) {
                c.copy_from_slice(&rng.next_u64().to_le_bytes());
            }
            Digest::Sha256(b)
        })
        .collect();
    let mut idx = DigestIndex::new();
    idx.extend(keys.iter().enumerate().map(|(i, d)| (*d, i as u64)));
    idx.compact();
    let probes: Vec<Digest> = keys.iter().step_by(n / 1000 + 1).copied().collect();
    let mut g = c.benchmark_group(format!("digest_n{n}"));
    g.throughput(Throughput::Elements(probes.len() as u64));
    g.bench_function("sha256_lookup", |b| {
        b.iter(|| {
            probes
                .iter()
                .map(|d| idx.get(black_box(d)).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, pdq_queries, digests);
criterion_main!(benches);
