//! Exact linear scan: every stored hash against a batch of needles.
//!
//! This is the engine for small segments and the delta, the fallback for
//! radii multi-index hashing does not cover, and the ground truth everything
//! else is tested against.
//!
//! Two ideas make it fast (see `docs/bench-index.md` for numbers):
//!
//! 1. **Needle batching.** The database is walked in chunks that fit in L2
//!    ([`CHUNK_HASHES`]); each chunk is compared with every needle, up to 8
//!    needles per pass with the needle bits held in registers. Memory
//!    traffic per needle drops by the batch size, so the scan becomes
//!    compute-bound.
//! 2. **Two-stage distance.** Stage 1 computes the distance on the first 96
//!    or 128 bits only (3 or 4 of the 8 substring lines, see `planes`).
//!    Because a partial distance never exceeds the full distance,
//!    `partial > radius` rejects exactly; for random data at radius 31 the
//!    96-bit stage passes ~4e-4 of pairs. Survivors get the full 256-bit
//!    distance in stage 2. The wider the radius, the wider stage 1 must be
//!    to stay selective, up to all 256 bits above [`PARTIAL_MAX_RADIUS`].
//!
//! Kernels: AVX-512 VPOPCNTDQ (16 hashes per instruction, runtime-detected),
//! scalar `popcnt` (runtime-detected), and portable Rust. They return
//! identical results; unit tests check them against each other.

use crate::planes::{LANES, LINES, Line, Planes, substrings};
use tiaki_hash::pdq::PdqHash;

/// Hashes per cache chunk: 16 Ki hashes = 256 KiB of `lo`, which stays in
/// L2 while every needle group passes over it.
const CHUNK_HASHES: usize = 16 * 1024;

/// Needles compared per pass (they live in registers).
const GROUP: usize = 8;

/// Largest radius for which the 96-bit first stage is used: at 32 a random
/// pair passes it with probability ~7e-4.
const P96_MAX_RADIUS: u32 = 32;

/// Largest radius for which a 128-bit first stage is used. At 48 a random
/// pair passes it with probability ~0.2%; at 56 it is ~6% and the full
/// 256-bit kernel is cheaper.
const PARTIAL_MAX_RADIUS: u32 = 48;

/// Which implementation of the inner loop to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScanKernel {
    /// Plain Rust `count_ones`, compiled for the baseline target.
    Portable,
    /// Scalar code compiled with the `popcnt` instruction enabled.
    Popcnt,
    /// AVX-512F + VPOPCNTDQ: one instruction counts the bits of 16 substrings.
    Avx512,
}

impl ScanKernel {
    /// The fastest kernel this CPU supports.
    pub fn detect() -> ScanKernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vpopcntdq")
            {
                return ScanKernel::Avx512;
            }
            if std::is_x86_feature_detected!("popcnt") {
                return ScanKernel::Popcnt;
            }
        }
        ScanKernel::Portable
    }

    /// Every kernel this CPU can run (for tests and benchmarks).
    pub fn available() -> Vec<ScanKernel> {
        let mut v = vec![ScanKernel::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("popcnt") {
                v.push(ScanKernel::Popcnt);
            }
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vpopcntdq")
            {
                v.push(ScanKernel::Avx512);
            }
        }
        v
    }

    pub fn name(self) -> &'static str {
        match self {
            ScanKernel::Portable => "portable",
            ScanKernel::Popcnt => "popcnt",
            ScanKernel::Avx512 => "avx512-vpopcntdq",
        }
    }
}

/// A stage-1 survivor: needle index within the group, position in the segment.
#[derive(Clone, Copy, Debug)]
struct Cand {
    needle: u32,
    pos: usize,
}

/// A group of needles, padded to [`GROUP`] by repeating the first needle
/// (hits of padding needles are dropped).
#[derive(Clone, Copy)]
struct Group {
    words: [[u64; 4]; GROUP],
    subs: [[u32; 8]; GROUP],
    real: usize,
}

impl Group {
    fn new(needles: &[PdqHash]) -> Option<Group> {
        let first = needles.first()?;
        let mut words = [first.0; GROUP];
        for (w, n) in words.iter_mut().zip(needles) {
            *w = n.0;
        }
        Some(Group {
            words,
            subs: words.map(|w| substrings(&w)),
            real: needles.len().min(GROUP),
        })
    }
}

/// Calls `hit(needle_index, position, distance)` for every needle and every
/// stored hash within `radius` of it, in no particular order.
pub(crate) fn scan(
    planes: &Planes,
    needles: &[PdqHash],
    radius: u32,
    kernel: ScanKernel,
    hit: &mut dyn FnMut(usize, usize, u32),
) {
    if planes.len() == 0 || needles.is_empty() {
        return;
    }
    let groups: Vec<Group> = needles.chunks(GROUP).filter_map(Group::new).collect();
    let mut cands = Vec::new();
    let chunk_lines = CHUNK_HASHES / LANES * LINES;
    for (c, (lo, hi)) in planes
        .lo
        .chunks(chunk_lines)
        .zip(planes.hi.chunks(chunk_lines))
        .enumerate()
    {
        let base = c * CHUNK_HASHES;
        for (g, group) in groups.iter().enumerate() {
            cands.clear();
            // A partial group runs a narrower kernel: with one needle, the
            // 8-wide kernel would do 8× the work for the same answer.
            match group.real {
                1 => run_kernel::<1>(kernel, lo, hi, base, group, radius, &mut cands),
                2 => run_kernel::<2>(kernel, lo, hi, base, group, radius, &mut cands),
                3 | 4 => run_kernel::<4>(kernel, lo, hi, base, group, radius, &mut cands),
                _ => run_kernel::<GROUP>(kernel, lo, hi, base, group, radius, &mut cands),
            }
            // Stage 2: exact 256-bit distance for the (rare) survivors.
            for cand in &cands {
                let j = cand.needle as usize;
                if j >= group.real {
                    continue;
                }
                let (Some(h), Some(n)) = (planes.get(cand.pos), group.words.get(j)) else {
                    continue;
                };
                let d = h.distance(&PdqHash(*n));
                if d <= radius {
                    hit(g * GROUP + j, cand.pos, d);
                }
            }
        }
    }
}

/// Runs the kernel for the first `G` needles of `group`, with the widest
/// first stage the radius needs.
fn run_kernel<const G: usize>(
    kernel: ScanKernel,
    lo: &[Line],
    hi: &[Line],
    base: usize,
    group: &Group,
    radius: u32,
    out: &mut Vec<Cand>,
) {
    let full = radius > PARTIAL_MAX_RADIUS;
    match kernel {
        #[cfg(target_arch = "x86_64")]
        ScanKernel::Avx512 if ScanKernel::detect() == ScanKernel::Avx512 => {
            // The three calls below: the CPU supports avx512f and
            // avx512vpopcntdq (`detect`, just above), which is all the
            // target_feature function requires.
            if radius <= P96_MAX_RADIUS {
                // SAFETY: avx512f and avx512vpopcntdq checked above.
                unsafe { avx512::scan::<G, 3>(lo, hi, base, group, radius, out) }
            } else if !full {
                // SAFETY: avx512f and avx512vpopcntdq checked above.
                unsafe { avx512::scan::<G, 4>(lo, hi, base, group, radius, out) }
            } else {
                // SAFETY: avx512f and avx512vpopcntdq checked above.
                unsafe { avx512::scan::<G, 8>(lo, hi, base, group, radius, out) }
            }
        }
        #[cfg(target_arch = "x86_64")]
        ScanKernel::Popcnt | ScanKernel::Avx512 if std::is_x86_feature_detected!("popcnt") => {
            // SAFETY: the CPU supports popcnt (checked just above).
            unsafe { scan_scalar_popcnt::<G>(lo, hi, base, group, radius, full, out) }
        }
        _ => scan_scalar::<G>(lo, hi, base, group, radius, full, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn scan_scalar_popcnt<const G: usize>(
    lo: &[Line],
    hi: &[Line],
    base: usize,
    group: &Group,
    radius: u32,
    full: bool,
    out: &mut Vec<Cand>,
) {
    scan_scalar::<G>(lo, hi, base, group, radius, full, out);
}

/// The scalar kernel; `#[inline(always)]` so that the `popcnt` wrapper above
/// compiles it with the instruction enabled. Scalar popcount works on 64
/// bits, so stage 1 rejoins the 32-bit lines into words 0 and 1 (128 bits).
#[inline(always)]
fn scan_scalar<const G: usize>(
    lo: &[Line],
    hi: &[Line],
    base: usize,
    group: &Group,
    radius: u32,
    full: bool,
    out: &mut Vec<Cand>,
) {
    // A fixed-size array, so the needle loops below have a constant trip
    // count and unroll.
    let Some(n) = group.words.first_chunk::<G>() else {
        return;
    };
    let join =
        |a: &Line, b: &Line, lane: usize| u64::from(a.0[lane]) | (u64::from(b.0[lane]) << 32);
    for (b, (l, h)) in lo
        .chunks_exact(LINES)
        .zip(hi.chunks_exact(LINES))
        .enumerate()
    {
        let ([l0, l1, l2, l3], [h0, h1, h2, h3]) = (l, h) else {
            continue;
        };
        for lane in 0..LANES {
            let (a0, a1) = (join(l0, l1, lane), join(l2, l3, lane));
            let mut mask = 0u32;
            if full {
                let (a2, a3) = (join(h0, h1, lane), join(h2, h3, lane));
                for (j, nj) in n.iter().enumerate() {
                    let d = (a0 ^ nj[0]).count_ones()
                        + (a1 ^ nj[1]).count_ones()
                        + (a2 ^ nj[2]).count_ones()
                        + (a3 ^ nj[3]).count_ones();
                    mask |= u32::from(d <= radius) << j;
                }
            } else {
                for (j, nj) in n.iter().enumerate() {
                    let d = (a0 ^ nj[0]).count_ones() + (a1 ^ nj[1]).count_ones();
                    mask |= u32::from(d <= radius) << j;
                }
            }
            while mask != 0 {
                let j = mask.trailing_zeros();
                mask &= mask - 1;
                out.push(Cand {
                    needle: j,
                    pos: base + b * LANES + lane,
                });
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Cand, GROUP, Group};
    use crate::planes::{LANES, LINES, Line};
    use std::arch::x86_64::*;

    #[inline(always)]
    fn load(line: &Line) -> __m512i {
        // SAFETY: `Line` is 64 bytes with 64-byte alignment, exactly one
        // aligned __m512i; the reference guarantees it is readable. The
        // caller (a function with avx512f enabled) inlines this.
        unsafe { _mm512_load_si512(std::ptr::from_ref(line).cast::<__m512i>()) }
    }

    /// 16 hashes × `G` needles per iteration, over the first `K` substring
    /// lines (3 = 96 bits, 4 = 128 bits, 8 = all), with a 16-bit match mask
    /// per needle. The masks are OR-ed so the common case (no survivor)
    /// costs one branch per block.
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    pub(super) fn scan<const G: usize, const K: usize>(
        lo: &[Line],
        hi: &[Line],
        base: usize,
        group: &Group,
        radius: u32,
        out: &mut Vec<Cand>,
    ) {
        let r = _mm512_set1_epi32(radius.min(256) as i32);
        // Needle substring k of needle j, broadcast to all 16 lanes.
        let nb: [[__m512i; G]; K] = std::array::from_fn(|k| {
            std::array::from_fn(|j| {
                _mm512_set1_epi32(
                    group
                        .subs
                        .get(j)
                        .and_then(|s| s.get(k))
                        .copied()
                        .unwrap_or(0) as i32,
                )
            })
        });
        let mut masks = [0u16; GROUP];
        for (b, (l, h)) in lo
            .chunks_exact(LINES)
            .zip(hi.chunks_exact(LINES))
            .enumerate()
        {
            let (Ok(l), Ok(h)) = (<&[Line; LINES]>::try_from(l), <&[Line; LINES]>::try_from(h))
            else {
                continue;
            };
            // Lines past K are never loaded: a 96-bit stage reads 3 of 8.
            let w: [__m512i; K] =
                std::array::from_fn(|k| load(if k < LINES { &l[k] } else { &h[k - LINES] }));
            let mut any = 0u16;
            for j in 0..G {
                let mut d = _mm512_popcnt_epi32(_mm512_xor_si512(w[0], nb[0][j]));
                for k in 1..K {
                    d = _mm512_add_epi32(d, _mm512_popcnt_epi32(_mm512_xor_si512(w[k], nb[k][j])));
                }
                let m = _mm512_cmple_epu32_mask(d, r);
                masks[j] = m;
                any |= m;
            }
            if any != 0 {
                emit(masks.get(..G).unwrap_or(&masks), base + b * LANES, out);
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn emit(masks: &[u16], first: usize, out: &mut Vec<Cand>) {
        for (j, &m) in masks.iter().enumerate() {
            let mut m = u32::from(m);
            while m != 0 {
                let lane = m.trailing_zeros() as usize;
                m &= m - 1;
                out.push(Cand {
                    needle: j as u32,
                    pos: first + lane,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiaki_types::rng::Rng;

    fn flip(h: PdqHash, k: usize, rng: &mut Rng) -> PdqHash {
        let mut out = h;
        let mut done = 0;
        while done < k {
            let bit = rng.below(256);
            if out.bit(bit) == h.bit(bit) {
                out.0[bit / 64] ^= 1 << (bit % 64);
                done += 1;
            }
        }
        out
    }

    #[test]
    fn kernels_agree_with_naive_scan() {
        let mut rng = Rng::new(7);
        let db: Vec<PdqHash> = (0..5000)
            .map(|_| PdqHash([0; 4].map(|_| rng.next_u64())))
            .collect();
        let mut planes = Planes::default();
        db.iter().for_each(|h| planes.push(h));
        // Needles planted at chosen distances from stored hashes, plus random ones.
        let mut needles = Vec::new();
        for (i, k) in [0usize, 1, 31, 32, 33, 48, 49, 63, 64, 100]
            .iter()
            .enumerate()
        {
            needles.push(flip(db[i * 97], *k, &mut rng));
        }
        needles.extend((0..4).map(|_| PdqHash([0; 4].map(|_| rng.next_u64()))));
        // 1, 2, 3 and 13 needles exercise every group width (1, 2, 4, 8).
        for (radius, count) in [0, 31, 32, 33, 48, 49, 63, 128, 256]
            .into_iter()
            .flat_map(|r| [1, 2, 3, 13].map(|c| (r, c)))
        {
            let needles = &needles[needles.len() - count..];
            let mut want: Vec<(usize, usize, u32)> = Vec::new();
            for (j, n) in needles.iter().enumerate() {
                for (p, h) in db.iter().enumerate() {
                    let d = n.distance(h);
                    if d <= radius {
                        want.push((j, p, d));
                    }
                }
            }
            want.sort_unstable();
            for kernel in ScanKernel::available() {
                let mut got = Vec::new();
                scan(&planes, needles, radius, kernel, &mut |j, p, d| {
                    got.push((j, p, d))
                });
                got.sort_unstable();
                assert_eq!(
                    got, want,
                    "kernel {kernel:?} radius {radius} needles {count}"
                );
            }
        }
    }
}
