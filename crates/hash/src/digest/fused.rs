//! MD5, SHA-1 and SHA-256 of the same blocks in one instruction stream.
//!
//! MD5 is a single dependency chain (each step needs the previous one), so
//! on its own it leaves most of the core idle; SHA-1 and SHA-256 run on the
//! SHA extensions' own units. Computed one after the other the three cost
//! the sum of their times; interleaved step by step in one basic block, the
//! SHA rounds fill MD5's latency and the three cost little more than MD5
//! alone. Only whole 64-byte blocks come here; padding and the final blocks
//! go through the ordinary per-algorithm code (`super`).

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;
use std::sync::OnceLock;

/// MD5's sine-derived constants, `floor(|sin(i + 1)| · 2^32)`.
pub(super) fn md5_k() -> &'static [u32; 64] {
    static K: OnceLock<[u32; 64]> = OnceLock::new();
    K.get_or_init(|| {
        std::array::from_fn(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
    })
}

const MD5_S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// One MD5 step `i` (0..64) on state `s = [a, b, c, d]`.
#[inline(always)]
pub(super) fn md5_step(s: &mut [u32; 4], i: usize, m: &[u32; 16], k: &[u32; 64]) {
    let [a, b, c, d] = *s;
    let (f, g) = match i / 16 {
        // `d ^ (b & (c ^ d))` is `(b & c) | (!b & d)` in three operations.
        0 => (d ^ (b & (c ^ d)), i),
        1 => ((b & d).wrapping_add(c & !d), (5 * i + 1) % 16),
        2 => (b ^ c ^ d, (3 * i + 5) % 16),
        _ => (c ^ (b | !d), (7 * i) % 16),
    };
    let rot = MD5_S[(i / 16) * 4 + i % 4];
    // `a + k + m` does not wait for the previous step; only `+ f` does.
    let t = a
        .wrapping_add(k[i].wrapping_add(m[g]))
        .wrapping_add(f)
        .rotate_left(rot);
    *s = [d, b.wrapping_add(t), b, c];
}

/// A whole MD5 block, for the tails.
pub(super) fn md5_block(state: &mut [u32; 4], block: &[u8; 64]) {
    let k = md5_k();
    let m: [u32; 16] = std::array::from_fn(|i| {
        u32::from_le_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    });
    let mut s = *state;
    for i in 0..64 {
        md5_step(&mut s, i, &m, k);
    }
    for (x, y) in state.iter_mut().zip(s) {
        *x = x.wrapping_add(y);
    }
}

const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// Whether this CPU has what [`compress_blocks`] needs.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse4.1")
        && is_x86_feature_detected!("ssse3")
}

/// Compresses whole blocks into all three states.
///
/// # Safety
/// The CPU must support SHA, SSE4.1 and SSSE3 ([`available`]).
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
// The schedule macros share one shape for every quad; in the last quads some
// schedule updates are dead by construction.
#[allow(unused_assignments)]
pub(super) unsafe fn compress_blocks(
    md5: &mut [u32; 4],
    sha1: &mut [u32; 5],
    sha256: &mut [u32; 8],
    blocks: &[[u8; 64]],
) {
    let k = md5_k();
    // SAFETY: (the whole body) the SHA, SSE4.1 and SSSE3 instructions are
    // there: this function's contract. Every memory access is an unaligned
    // 16-byte `loadu`/`storeu` inside an array: `sha1[0..4]`, `sha256[0..4]`
    // and `sha256[4..8]`, bytes `16*Q..16*Q+16` (Q < 4) of a 64-byte block,
    // `SHA256_K[4*Q..4*Q+4]` (Q < 16).
    unsafe {
        let mask1 = _mm_set_epi64x(0x0001_0203_0405_0607, 0x0809_0a0b_0c0d_0e0f);
        let mask256 = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);

        // SHA-1 state: ABCD reversed in one register, E in the top lane.
        let mut abcd = _mm_shuffle_epi32::<0x1B>(_mm_loadu_si128(sha1.as_ptr().cast()));
        let mut e = _mm_set_epi32(sha1[4] as i32, 0, 0, 0);
        // SHA-256 state as the extensions want it: ABEF and CDGH.
        let t = _mm_shuffle_epi32::<0xB1>(_mm_loadu_si128(sha256.as_ptr().cast()));
        let s1 = _mm_shuffle_epi32::<0x1B>(_mm_loadu_si128(sha256.as_ptr().add(4).cast()));
        let mut st0 = _mm_alignr_epi8::<8>(t, s1);
        let mut st1 = _mm_blend_epi16::<0xF0>(s1, t);
        let mut m5 = *md5;

        for block in blocks {
            let p = block.as_ptr();
            let mw: [u32; 16] = std::array::from_fn(|i| {
                u32::from_le_bytes([
                    block[4 * i],
                    block[4 * i + 1],
                    block[4 * i + 2],
                    block[4 * i + 3],
                ])
            });
            let (abcd_save, e_save) = (abcd, e);
            let (st0_save, st1_save) = (st0, st1);
            let m5_save = m5;
            let mut w1 = [_mm_setzero_si128(); 4];
            let mut w2 = [_mm_setzero_si128(); 4];

            // Four MD5 steps (4q..4q+3), with constant step numbers so that
            // every branch in `md5_step` folds away.
            macro_rules! md5_4 {
                ($q:literal) => {
                    md5_step(&mut m5, 4 * $q, &mw, k);
                    md5_step(&mut m5, 4 * $q + 1, &mw, k);
                    md5_step(&mut m5, 4 * $q + 2, &mw, k);
                    md5_step(&mut m5, 4 * $q + 3, &mw, k);
                };
            }
            // SHA-256 rounds 4q..4q+3 and the message schedule they carry.
            macro_rules! sha256_quad {
                ($q:literal) => {{
                    const Q: usize = $q;
                    if Q < 4 {
                        w2[Q % 4] =
                            _mm_shuffle_epi8(_mm_loadu_si128(p.add(16 * Q).cast()), mask256);
                    }
                    let kq = _mm_loadu_si128(SHA256_K.as_ptr().add(4 * Q).cast());
                    let msg = _mm_add_epi32(w2[Q % 4], kq);
                    st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
                    if Q >= 3 && Q < 15 {
                        let tmp = _mm_alignr_epi8::<4>(w2[Q % 4], w2[(Q + 3) % 4]);
                        w2[(Q + 1) % 4] = _mm_add_epi32(w2[(Q + 1) % 4], tmp);
                        w2[(Q + 1) % 4] = _mm_sha256msg2_epu32(w2[(Q + 1) % 4], w2[Q % 4]);
                    }
                    st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32::<0x0E>(msg));
                    if Q >= 1 && Q < 13 {
                        w2[(Q + 3) % 4] = _mm_sha256msg1_epu32(w2[(Q + 3) % 4], w2[Q % 4]);
                    }
                }};
            }
            // SHA-1 rounds 4i..4i+3 (function i/5) and their schedule.
            macro_rules! sha1_quad {
                ($i:literal, $f:literal) => {{
                    const I: usize = $i;
                    if I < 4 {
                        w1[I % 4] = _mm_shuffle_epi8(_mm_loadu_si128(p.add(16 * I).cast()), mask1);
                    }
                    let e_in = if I == 0 {
                        _mm_add_epi32(e, w1[0])
                    } else {
                        _mm_sha1nexte_epu32(e, w1[I % 4])
                    };
                    e = abcd;
                    if I >= 3 && I < 19 {
                        w1[(I + 1) % 4] = _mm_sha1msg2_epu32(w1[(I + 1) % 4], w1[I % 4]);
                    }
                    abcd = _mm_sha1rnds4_epu32::<$f>(abcd, e_in);
                    if I >= 1 && I < 17 {
                        w1[(I + 3) % 4] = _mm_sha1msg1_epu32(w1[(I + 3) % 4], w1[I % 4]);
                    }
                    if I >= 2 && I < 18 {
                        w1[(I + 2) % 4] = _mm_xor_si128(w1[(I + 2) % 4], w1[I % 4]);
                    }
                }};
            }
            // The interleaving: 16 MD5 quads, 16 SHA-256 quads, 20 SHA-1
            // quads, spread evenly.
            md5_4!(0);
            sha256_quad!(0);
            sha1_quad!(0, 0);
            md5_4!(1);
            sha256_quad!(1);
            sha1_quad!(1, 0);
            md5_4!(2);
            sha256_quad!(2);
            sha1_quad!(2, 0);
            md5_4!(3);
            sha256_quad!(3);
            sha1_quad!(3, 0);
            sha1_quad!(4, 0);
            md5_4!(4);
            sha256_quad!(4);
            sha1_quad!(5, 1);
            md5_4!(5);
            sha256_quad!(5);
            sha1_quad!(6, 1);
            md5_4!(6);
            sha256_quad!(6);
            sha1_quad!(7, 1);
            md5_4!(7);
            sha256_quad!(7);
            sha1_quad!(8, 1);
            sha1_quad!(9, 1);
            md5_4!(8);
            sha256_quad!(8);
            sha1_quad!(10, 2);
            md5_4!(9);
            sha256_quad!(9);
            sha1_quad!(11, 2);
            md5_4!(10);
            sha256_quad!(10);
            sha1_quad!(12, 2);
            md5_4!(11);
            sha256_quad!(11);
            sha1_quad!(13, 2);
            sha1_quad!(14, 2);
            md5_4!(12);
            sha256_quad!(12);
            sha1_quad!(15, 3);
            md5_4!(13);
            sha256_quad!(13);
            sha1_quad!(16, 3);
            md5_4!(14);
            sha256_quad!(14);
            sha1_quad!(17, 3);
            md5_4!(15);
            sha256_quad!(15);
            sha1_quad!(18, 3);
            sha1_quad!(19, 3);
            e = _mm_sha1nexte_epu32(e, e_save);
            abcd = _mm_add_epi32(abcd, abcd_save);
            st0 = _mm_add_epi32(st0, st0_save);
            st1 = _mm_add_epi32(st1, st1_save);
            for (x, y) in m5.iter_mut().zip(m5_save) {
                *x = x.wrapping_add(y);
            }
        }

        *md5 = m5;
        _mm_storeu_si128(sha1.as_mut_ptr().cast(), _mm_shuffle_epi32::<0x1B>(abcd));
        sha1[4] = _mm_extract_epi32::<3>(e) as u32;
        let t = _mm_shuffle_epi32::<0x1B>(st0);
        let s1 = _mm_shuffle_epi32::<0xB1>(st1);
        _mm_storeu_si128(sha256.as_mut_ptr().cast(), _mm_blend_epi16::<0xF0>(t, s1));
        _mm_storeu_si128(
            sha256.as_mut_ptr().add(4).cast(),
            _mm_alignr_epi8::<8>(s1, t),
        );
    }
}
