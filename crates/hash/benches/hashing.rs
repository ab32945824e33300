//! PDQ from decoded pixels and the three digests. The peer comparison (Meta's
//! C++ through the `pdqhash` PyPI package) is `bench/pdq_peer.py`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tiaki_hash::pdq::{PdqHasher, reference_pdq_from_rgb};

fn photo_like(w: usize, h: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * 3);
    let mut x: u32 = 12345;
    for y in 0..h {
        for c in 0..w {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            let n = (x >> 27) as f32;
            let a = ((c as f32 / 37.0).sin() * (y as f32 / 23.0).cos() * 100.0 + 128.0 + n) as u8;
            v.extend_from_slice(&[a, a / 2 + 60, 255 - a]);
        }
    }
    v
}

fn pdq(c: &mut Criterion) {
    let (w, h) = (1600, 1004);
    let img = photo_like(w, h);
    let mut g = c.benchmark_group("pdq_1600x1004");
    g.sample_size(30);
    let mut hasher = PdqHasher::new();
    g.bench_function("fast", |b| {
        b.iter(|| hasher.hash_rgb(black_box(&img), w, h))
    });
    g.bench_function("dihedral", |b| {
        b.iter(|| hasher.dihedral_rgb(black_box(&img), w, h))
    });
    g.bench_function("reference_order", |b| {
        b.iter(|| reference_pdq_from_rgb(black_box(&img), w, h))
    });
    g.finish();
}

fn digests(c: &mut Criterion) {
    let data: Vec<u8> = (0..16 << 20)
        .map(|i: u32| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let mut g = c.benchmark_group("digests");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.bench_function("md5+sha1+sha256", |b| {
        b.iter(|| tiaki_hash::digest::digests(black_box(&data)))
    });
    g.finish();
}

criterion_group!(benches, pdq, digests);
criterion_main!(benches);
