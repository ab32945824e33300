//! The production PDQ pipeline: the same f32 operations in the same order as
//! the reference (so the same bits), arranged for the memory hierarchy.
//!
//! Where the speed comes from, without changing a single rounding:
//! * Every box filter runs as a running sum over many independent lanes at
//!   once (several rows, or every column), so the loops vectorise across
//!   lanes while each lane keeps the reference's sequential order.
//! * Row passes work on blocks of [`LANES`] rows copied transposed into a
//!   small cache-resident buffer; column passes walk whole rows.
//! * Only the 64×64 decimated samples of the second Jarosz round are ever
//!   read, so that round divides only where a sample is taken, and its column
//!   pass runs on just the 64 sampled columns.
//! * The first column pass streams straight into the second row pass, block by
//!   block, so its output is never written to a full-size buffer.
//! * On x86-64 with AVX2 the whole pipeline is compiled a second time with
//!   256-bit vectors and chosen at run time. AVX2 adds no fused multiply-add
//!   and Rust never contracts `a*b+c`, so both builds give identical bits.

use super::core::{decimation_indices, jarosz_window};

/// Rows processed together by the row passes.
pub const LANES: usize = 8;

/// Where the luma comes from. Each variant computes luma exactly as the
/// reference's front end does for that kind of input.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Packed RGB, 3 bytes a pixel, luma in f32 (the C++ reference).
    Rgb8(&'a [u8]),
    /// Packed RGB, luma in f64 then rounded to f32 (pdqhash-python, and so
    /// python-threatexchange and HMA).
    Rgb8F64(&'a [u8]),
    /// One grey byte a pixel (`luma = (float)v`).
    Luma8(&'a [u8]),
    /// Precomputed f32 luma.
    LumaF32(&'a [f32]),
}

impl Source<'_> {
    #[inline(always)]
    pub(super) fn fill_row(&self, r: usize, width: usize, out: &mut [f32]) {
        match *self {
            Source::Rgb8(rgb) => {
                let row = &rgb[r * width * 3..(r + 1) * width * 3];
                for (o, p) in out.iter_mut().zip(row.chunks_exact(3)) {
                    *o = f32::from(p[0]) * 0.299f32
                        + f32::from(p[1]) * 0.587f32
                        + f32::from(p[2]) * 0.114f32;
                }
            }
            Source::Rgb8F64(rgb) => {
                let row = &rgb[r * width * 3..(r + 1) * width * 3];
                for (o, p) in out.iter_mut().zip(row.chunks_exact(3)) {
                    *o = (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32;
                }
            }
            Source::Luma8(g) => {
                for (o, &v) in out.iter_mut().zip(&g[r * width..(r + 1) * width]) {
                    *o = f32::from(v);
                }
            }
            Source::LumaF32(f) => out.copy_from_slice(&f[r * width..(r + 1) * width]),
        }
    }
}

/// Reusable working memory, so hashing many images allocates once.
#[derive(Default)]
pub struct Scratch {
    /// Full-size output of the first row pass, row-major.
    tmp: Vec<f32>,
    /// `width × LANES` transposed block.
    blk: Vec<f32>,
    /// `LANES × width` rows from the first column pass.
    rows: Vec<f32>,
    /// One luma row.
    line: Vec<f32>,
    /// Running sums, one per lane.
    sum: Vec<f32>,
    sum2: Vec<f32>,
    /// `height × 64`: second-round row-pass output at the sampled columns.
    sel: Vec<f32>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").field("capacity", &self.tmp.capacity()).finish()
    }
}

#[inline(always)]
fn add(s: &mut [f32], r: &[f32]) {
    for (a, b) in s.iter_mut().zip(r) {
        *a += *b;
    }
}

#[inline(always)]
fn sub(s: &mut [f32], r: &[f32]) {
    for (a, b) in s.iter_mut().zip(r) {
        *a -= *b;
    }
}

/// `box1DFloat` over `lanes` independent sequences at once. `inp` holds step
/// `t` of every lane at `inp[t*lanes .. (t+1)*lanes]`. `emit(o, sums, count)`
/// is called for every output position `o` in order; the mean is
/// `sums / count`, computed by the caller only where it is needed.
#[inline(always)]
fn running_box<E: FnMut(usize, &[f32], f32)>(
    inp: &[f32],
    n: usize,
    lanes: usize,
    w: usize,
    sum: &mut [f32],
    mut emit: E,
) {
    let half = (w + 2) / 2;
    let sum = &mut sum[..lanes];
    sum.fill(0.0);
    let row = |t: usize| &inp[t * lanes..(t + 1) * lanes];
    let (mut li, mut ri, mut oi, mut cur) = (0usize, 0usize, 0usize, 0usize);
    for _ in 0..half - 1 {
        add(sum, row(ri));
        cur += 1;
        ri += 1;
    }
    for _ in 0..w - half + 1 {
        add(sum, row(ri));
        cur += 1;
        ri += 1;
        emit(oi, sum, cur as f32);
        oi += 1;
    }
    for _ in 0..n - w {
        add(sum, row(ri));
        sub(sum, row(li));
        ri += 1;
        li += 1;
        emit(oi, sum, cur as f32);
        oi += 1;
    }
    for _ in 0..half - 1 {
        sub(sum, row(li));
        cur -= 1;
        li += 1;
        emit(oi, sum, cur as f32);
        oi += 1;
    }
}

#[inline(always)]
fn divide_into(out: &mut [f32], s: &[f32], cur: f32) {
    for (o, v) in out.iter_mut().zip(s) {
        *o = *v / cur;
    }
}

/// Blur twice and decimate to 64×64, returning the decimated buffer.
#[inline(always)]
fn blur_decimate_body(src: Source<'_>, width: usize, height: usize, sc: &mut Scratch) -> [[f32; 64]; 64] {
    let (w, h) = (width, height);
    let wr = jarosz_window(w);
    let wc = jarosz_window(h);
    let inj = decimation_indices(w);
    let ini = decimation_indices(h);

    sc.tmp.resize(w * h, 0.0);
    sc.blk.resize(w * LANES, 0.0);
    sc.rows.resize(w * LANES, 0.0);
    sc.line.resize(w, 0.0);
    sc.sum.resize(w.max(64).max(LANES), 0.0);
    sc.sum2.resize(LANES, 0.0);
    sc.sel.resize(h * 64, 0.0);
    let Scratch { tmp, blk, rows, line, sum, sum2, sel } = sc;

    // Round 1, rows: luma of LANES rows, transposed into `blk`, blurred along
    // the row, scattered back row-major into `tmp`.
    for r0 in (0..h).step_by(LANES) {
        let valid = LANES.min(h - r0);
        for l in 0..LANES {
            if l < valid {
                src.fill_row(r0 + l, w, line);
            } else {
                line.fill(0.0);
            }
            for (t, &v) in line.iter().enumerate() {
                blk[t * LANES + l] = v;
            }
        }
        running_box(blk, w, LANES, wr, sum2, |o, s, cur| {
            let mut q = [0f32; LANES];
            divide_into(&mut q, s, cur);
            for (l, &v) in q.iter().enumerate().take(valid) {
                tmp[(r0 + l) * w + o] = v;
            }
        });
    }

    // Round 1, columns, streamed LANES rows at a time into round 2's row pass,
    // which keeps only the 64 sampled columns.
    let mut sum_rows = std::mem::take(sum2);
    running_box(tmp, h, w, wc, sum, |o, s, cur| {
        let slot = o % LANES;
        divide_into(&mut rows[slot * w..(slot + 1) * w], s, cur);
        if slot == LANES - 1 || o == h - 1 {
            let r0 = o - slot;
            let valid = slot + 1;
            for l in 0..LANES {
                if l < valid {
                    for t in 0..w {
                        blk[t * LANES + l] = rows[l * w + t];
                    }
                } else {
                    for t in 0..w {
                        blk[t * LANES + l] = 0.0;
                    }
                }
            }
            let mut k = 0usize;
            running_box(blk, w, LANES, wr, &mut sum_rows, |o2, s2, cur2| {
                while k < 64 && inj[k] == o2 {
                    let mut q = [0f32; LANES];
                    divide_into(&mut q, s2, cur2);
                    for (l, &v) in q.iter().enumerate().take(valid) {
                        sel[(r0 + l) * 64 + k] = v;
                    }
                    k += 1;
                }
            });
        }
    });
    *sum2 = sum_rows;

    // Round 2, columns: only the 64 sampled columns, divided only at the 64
    // sampled rows.
    let mut out = [[0f32; 64]; 64];
    let mut i = 0usize;
    running_box(sel, h, 64, wc, sum, |o, s, cur| {
        while i < 64 && ini[i] == o {
            divide_into(&mut out[i], s, cur);
            i += 1;
        }
    });
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn blur_decimate_avx2(src: Source<'_>, width: usize, height: usize, sc: &mut Scratch) -> [[f32; 64]; 64] {
    blur_decimate_body(src, width, height, sc)
}

fn blur_decimate_generic(src: Source<'_>, width: usize, height: usize, sc: &mut Scratch) -> [[f32; 64]; 64] {
    blur_decimate_body(src, width, height, sc)
}

/// The Jarosz blur and decimation, dispatched to the widest vectors the CPU
/// has. The caller guarantees `width, height >= 5` and a source of the right
/// size.
pub fn blur_decimate(src: Source<'_>, width: usize, height: usize, sc: &mut Scratch) -> [[f32; 64]; 64] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { blur_decimate_avx2(src, width, height, sc) };
        }
    }
    blur_decimate_generic(src, width, height, sc)
}
