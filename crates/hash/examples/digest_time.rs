//! Times MD5, SHA-1, SHA-256 alone (RustCrypto) and Tiaki's fused one-pass
//! MD5+SHA-1+SHA-256 on 64 MiB, one thread: `digest_time`. Prints MB/s.
//! Used by bench/digests.sh.

use std::time::Instant;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

fn rate<F: FnMut()>(bytes: usize, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    bytes as f64 / best / 1e6
}

fn main() {
    let data: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let n = data.len();
    let md5 = rate(n, || {
        std::hint::black_box(Md5::digest(&data));
    });
    let sha1 = rate(n, || {
        std::hint::black_box(Sha1::digest(&data));
    });
    let sha256 = rate(n, || {
        std::hint::black_box(Sha256::digest(&data));
    });
    let all = rate(n, || {
        std::hint::black_box(tiaki_hash::digest::digests(&data));
    });
    println!(
        "{{\"md5_mb_s\": {md5:.0}, \"sha1_mb_s\": {sha1:.0}, \"sha256_mb_s\": {sha256:.0}, \"all_three_one_pass_mb_s\": {all:.0}}}"
    );
}
