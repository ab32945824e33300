//! The parts of PDQ after the blur, shared by the reference-order oracle and
//! the fast path: decimation, quality, the 64→16 DCT, the Torben median, bit
//! extraction and the eight dihedral variants. All f32, in the reference's
//! order of operations (see spec/pdq-vpdq.md §1.4–1.9).

use std::sync::OnceLock;

use super::PdqHash;
pub use tiaki_types::hashes::Dihedral;

/// Smallest side the reference hashes (`MIN_HASHABLE_DIM`).
pub const MIN_HASHABLE_DIM: usize = 5;

/// Jarosz window size for a side of `old` pixels, reduced to 64.
#[inline]
pub fn jarosz_window(old: usize) -> usize {
    old.div_ceil(128)
}

/// The 16×64 DCT matrix, built exactly as the reference builds it: the scale
/// factor rounded to f32 first, the cosine argument and product in f64, then
/// rounded to f32.
pub fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static M: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    M.get_or_init(|| {
        let s = (2.0f64 / 64.0).sqrt() as f32;
        let mut d = [[0f32; 64]; 16];
        for (i, row) in d.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let arg =
                    (std::f64::consts::PI / 2.0 / 64.0) * (i as f64 + 1.0) * (2.0 * j as f64 + 1.0);
                *v = (f64::from(s) * arg.cos()) as f32;
            }
        }
        d
    })
}

/// Row/column indices the decimation samples: `((i + 0.5) * n) / 64` in f64,
/// truncated.
#[inline]
pub fn decimation_indices(n: usize) -> [usize; 64] {
    let mut out = [0usize; 64];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (((i as f64 + 0.5) * n as f64) / 64.0) as usize;
    }
    out
}

/// Image-domain quality metric on the 64×64 buffer (0..=100).
pub fn quality(a: &[[f32; 64]; 64]) -> u8 {
    let mut g: i64 = 0;
    for (upper, lower) in a.iter().zip(&a[1..]) {
        for (u, v) in upper.iter().zip(lower) {
            let d = (((u - v) * 100.0) / 255.0) as i32;
            g += i64::from(d.unsigned_abs());
        }
    }
    for row in a.iter() {
        for (u, v) in row.iter().zip(&row[1..]) {
            let d = (((u - v) * 100.0) / 255.0) as i32;
            g += i64::from(d.unsigned_abs());
        }
    }
    (g / 90).min(100) as u8
}

/// `B = D · A · Dᵀ`, f32 accumulators starting at zero, k ascending.
pub fn dct64_to_16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    // T = D·A. Accumulate across j in lanes (each lane keeps its own k order),
    // which is the same arithmetic as the reference's scalar loop.
    let mut t = [[0f32; 64]; 16];
    for i in 0..16 {
        let mut acc = [0f32; 64];
        for k in 0..64 {
            let dik = d[i][k];
            let ak = &a[k];
            for j in 0..64 {
                acc[j] += dik * ak[j];
            }
        }
        t[i] = acc;
    }
    let mut b = [[0f32; 16]; 16];
    for i in 0..16 {
        for j in 0..16 {
            let mut s = 0f32;
            for k in 0..64 {
                s += t[i][k] * d[j][k];
            }
            b[i][j] = s;
        }
    }
    b
}

/// Torben's median (Devillard's C version, as in the reference `torben.cpp`).
/// Returns the lower median for distinct values.
pub fn torben(m: &[f32]) -> f32 {
    let n = m.len();
    let Some(&first) = m.first() else {
        return 0.0;
    };
    let (mut min, mut max) = (first, first);
    for &v in &m[1..] {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    let half = n.div_ceil(2);
    // The loop halves the value range each time; 4096 rounds is far beyond
    // what finite f32 input needs, and keeps a NaN from ever hanging us.
    for _ in 0..4096 {
        let guess = (min + max) / 2.0;
        let (mut less, mut greater, mut equal) = (0usize, 0usize, 0usize);
        let (mut maxltguess, mut mingtguess) = (min, max);
        for &v in m {
            if v < guess {
                less += 1;
                if v > maxltguess {
                    maxltguess = v;
                }
            } else if v > guess {
                greater += 1;
                if v < mingtguess {
                    mingtguess = v;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                maxltguess
            } else if less + equal >= half {
                guess
            } else {
                mingtguess
            };
        } else if less > greater {
            max = maxltguess;
        } else {
            min = mingtguess;
        }
    }
    guess_fallback(m)
}

#[cold]
fn guess_fallback(m: &[f32]) -> f32 {
    let mut v: Vec<f32> = m.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get((v.len().saturating_sub(1)) / 2)
        .copied()
        .unwrap_or(0.0)
}

/// Bits from a 16×16 DCT: bit `16i+j` set iff `B[i][j] > median` (strict).
pub fn bits(b: &[[f32; 16]; 16]) -> PdqHash {
    let flat: &[f32] = b.as_flattened();
    let median = torben(flat);
    let mut h = PdqHash::ZERO;
    for (k, &v) in flat.iter().enumerate() {
        if v > median {
            h.set_bit(k);
        }
    }
    h
}

/// Transforms the 16×16 DCT of an image into the DCT of the transformed
/// image. Index `i` is frequency `i + 1`, so even indices are odd
/// frequencies and change sign under a flip.
pub fn transform_dct(d: Dihedral, a: &[[f32; 16]; 16]) -> [[f32; 16]; 16] {
    let mut b = [[0f32; 16]; 16];
    let odd = |x: usize| x & 1 == 1;
    for i in 0..16 {
        for j in 0..16 {
            let v = a[i][j];
            match d {
                Dihedral::Orig => b[i][j] = v,
                Dihedral::Rot90 => b[j][i] = if odd(j) { v } else { -v },
                Dihedral::Rot180 => b[i][j] = if odd(i + j) { -v } else { v },
                Dihedral::Rot270 => b[j][i] = if odd(i) { v } else { -v },
                Dihedral::FlipX => b[i][j] = if odd(i) { v } else { -v },
                Dihedral::FlipY => b[i][j] = if odd(j) { v } else { -v },
                Dihedral::FlipPlus1 => b[j][i] = v,
                Dihedral::FlipMinus1 => b[j][i] = if odd(i + j) { -v } else { v },
            }
        }
    }
    b
}

