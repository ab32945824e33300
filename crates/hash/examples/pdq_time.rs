//! Times PDQ on raw RGB pixels: `pdq_time FILE.rgb WIDTH HEIGHT ITERATIONS [f32|f64]`.
//! Prints the hash (to check it against the peer's) and the best and median
//! milliseconds per hash. Used by bench/pdq.sh.

use std::time::Instant;

use tiaki_hash::pdq::{LumaArithmetic, PdqHasher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    let (Some(file), Some(w), Some(h), Some(n)) = (a.get(1), a.get(2), a.get(3), a.get(4)) else {
        return Err("usage: pdq_time FILE.rgb WIDTH HEIGHT ITERATIONS [f32|f64]".into());
    };
    let (w, h, n): (usize, usize, usize) = (w.parse()?, h.parse()?, n.parse()?);
    let luma = if a.get(5).is_some_and(|m| m == "f32") {
        LumaArithmetic::F32
    } else {
        LumaArithmetic::F64
    };
    let rgb = std::fs::read(file)?;
    let mut hasher = PdqHasher::with_luma(luma);
    let first = hasher.hash_rgb(&rgb, w, h)?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let o = hasher.hash_rgb(&rgb, w, h)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(o);
    }
    times.sort_by(f64::total_cmp);
    let best = times.first().copied().unwrap_or(0.0);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    println!(
        "{{\"pdq\": \"{}\", \"quality\": {}, \"best_ms\": {best:.4}, \"median_ms\": {median:.4}}}",
        first.hash, first.quality
    );
    Ok(())
}
