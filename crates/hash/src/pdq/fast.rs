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
//! * Nothing full-size is ever written: the first row pass feeds a ring of
//!   `window + LANES` rows that the first column pass consumes as rows arrive,
//!   and that column pass streams into the second row pass block by block.
//!   For a 1600-pixel-wide photo the working set is about 150 KB, in L2.
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
                for (o, p) in out
                    .iter_mut()
                    .zip(rgb[r * width * 3..(r + 1) * width * 3].chunks_exact(3))
                {
                    *o = luma_px::<false>(p[0], p[1], p[2]);
                }
            }
            Source::Rgb8F64(rgb) => {
                for (o, p) in out
                    .iter_mut()
                    .zip(rgb[r * width * 3..(r + 1) * width * 3].chunks_exact(3))
                {
                    *o = luma_f64_exact(p[0], p[1], p[2]);
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

/// pdqhash-python's luma, `(R·0.299 + G·0.587 + B·0.114)` in f64 rounded
/// to f32, computed without f64: it always equals the correctly rounded f32
/// of `(299R + 587G + 114B) / 1000`, which one exact integer sum and one f32
/// division give. Why it is equal: the f64 sum is within ~1e-13 of the exact
/// `L/1000`, while `L/1000` is never closer than ~6e-14·(value) to an f32
/// rounding midpoint (a midpoint would need `1000 | L·2^k`); the test
/// `f64_luma_shortcut_is_exact` checks all 2^24 colours.
#[inline(always)]
pub(super) fn luma_f64_exact(r: u8, g: u8, b: u8) -> f32 {
    let l = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    // One f64 multiply (error ~2e-16 relative) cannot move the result across
    // an f32 midpoint either (those are ≥ 3e-11 relative away), and it is
    // several times cheaper than a division.
    (f64::from(l) * (1.0 / 1000.0)) as f32
}

/// RGB → luma of one pixel. `F64` selects pdqhash-python's arithmetic (f64,
/// one rounding to f32) over the C++ reference's f32.
#[inline(always)]
fn luma_px<const F64: bool>(r: u8, g: u8, b: u8) -> f32 {
    if F64 {
        (f64::from(r) * 0.299 + f64::from(g) * 0.587 + f64::from(b) * 0.114) as f32
    } else {
        f32::from(r) * 0.299f32 + f32::from(g) * 0.587f32 + f32::from(b) * 0.114f32
    }
}

/// Reusable working memory, so hashing many images allocates once.
#[derive(Default)]
pub struct Scratch {
    /// Ring of round-1 row-pass output rows, row-major.
    ring: Vec<f32>,
    /// `width` steps of [`LANES`] lanes: a transposed block of rows.
    blk: Vec<[f32; LANES]>,
    /// Row-pass output in the same transposed layout.
    oblk: Vec<[f32; LANES]>,
    /// `LANES × width` rows from the first column pass.
    rows: Vec<f32>,
    /// [`LANES`] luma rows.
    line: Vec<f32>,
    /// Running sums of the column passes, one per column.
    sum: Vec<f32>,
    /// `height × 64`: second-round row-pass output at the sampled columns.
    sel: Vec<f32>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("ring", &self.ring.capacity())
            .finish()
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

/// Receives the running sums of [`running_box`] at each output position.
/// A trait rather than a closure so that it is inlined into the
/// AVX2-compiled caller (closures do not inherit `target_feature`).
trait Emit {
    /// Output position `o`: the mean of each lane is `sums[lane] / count`.
    fn emit(&mut self, o: usize, sums: &[f32], count: f32);
}

/// `box1DFloat` over `lanes` independent sequences at once. `inp` holds step
/// `t` of every lane at `inp[t*lanes .. (t+1)*lanes]`. The emitter sees every
/// output position in order and divides only where it needs a value.
///
/// The four phases are the reference's: `half-1` adds with no output, then
/// `w-half+1` adds each followed by an output, `n-w` add-then-subtract steps,
/// and `half-1` subtracts. Written with slice iterators so the hot loops
/// carry no bounds checks.
#[inline(always)]
fn running_box<E: Emit>(inp: &[f32], n: usize, lanes: usize, w: usize, sum: &mut [f32], e: &mut E) {
    let half = (w + 2) / 2;
    let sum = &mut sum[..lanes];
    sum.fill(0.0);
    let inp = &inp[..n * lanes];
    let mut cur = 0usize;
    let mut oi = 0usize;
    for r in inp[..(half - 1) * lanes].chunks_exact(lanes) {
        add(sum, r);
        cur += 1;
    }
    for r in inp[(half - 1) * lanes..w * lanes].chunks_exact(lanes) {
        add(sum, r);
        cur += 1;
        e.emit(oi, sum, cur as f32);
        oi += 1;
    }
    let c = cur as f32;
    for (r, l) in inp[w * lanes..]
        .chunks_exact(lanes)
        .zip(inp.chunks_exact(lanes))
    {
        add(sum, r);
        sub(sum, l);
        e.emit(oi, sum, c);
        oi += 1;
    }
    for l in inp[(n - w) * lanes..(n - w + half - 1) * lanes].chunks_exact(lanes) {
        sub(sum, l);
        cur -= 1;
        e.emit(oi, sum, cur as f32);
        oi += 1;
    }
}

/// [`running_box`] for exactly [`LANES`] lanes held in arrays, so that every
/// step is one vector add/sub.
#[inline(always)]
fn running_box8<E: Emit>(inp: &[[f32; LANES]], w: usize, e: &mut E) {
    #[inline(always)]
    fn add8(s: &mut [f32; LANES], r: &[f32; LANES]) {
        for l in 0..LANES {
            s[l] += r[l];
        }
    }
    #[inline(always)]
    fn sub8(s: &mut [f32; LANES], r: &[f32; LANES]) {
        for l in 0..LANES {
            s[l] -= r[l];
        }
    }
    let n = inp.len();
    let half = (w + 2) / 2;
    let mut sum = [0f32; LANES];
    let mut cur = 0usize;
    let mut oi = 0usize;
    for r in &inp[..half - 1] {
        add8(&mut sum, r);
        cur += 1;
    }
    for r in &inp[half - 1..w] {
        add8(&mut sum, r);
        cur += 1;
        e.emit(oi, &sum, cur as f32);
        oi += 1;
    }
    let c = cur as f32;
    for (r, l) in inp[w..].iter().zip(inp) {
        add8(&mut sum, r);
        sub8(&mut sum, l);
        e.emit(oi, &sum, c);
        oi += 1;
    }
    for l in &inp[n - w..n - w + half - 1] {
        sub8(&mut sum, l);
        cur -= 1;
        e.emit(oi, &sum, cur as f32);
        oi += 1;
    }
}

#[inline(always)]
fn divide8(s: &[f32]) -> Option<&[f32; LANES]> {
    s.try_into().ok()
}

#[inline(always)]
fn divide_into(out: &mut [f32], s: &[f32], cur: f32) {
    for (o, v) in out.iter_mut().zip(s) {
        *o = *v / cur;
    }
}

/// Round 1 rows: the means of a block of [`LANES`] rows, one lane array per
/// output position (transposed back to rows afterwards).
struct RowsToBlock<'a> {
    out: &'a mut [[f32; LANES]],
}

impl Emit for RowsToBlock<'_> {
    #[inline(always)]
    fn emit(&mut self, o: usize, s: &[f32], cur: f32) {
        let (Some(s), Some(q)) = (divide8(s), self.out.get_mut(o)) else {
            return;
        };
        for l in 0..LANES {
            q[l] = s[l] / cur;
        }
    }
}

/// Round 2 rows: only the running sums at the 64 sampled columns are
/// divided, all lanes at once, into `stage[k]`.
struct RowsToSampled<'a> {
    stage: &'a mut [[f32; LANES]; 64],
    inj: &'a [usize; 64],
    k: usize,
    /// `inj[k]`, or `usize::MAX` once all 64 are taken: one compare a step.
    next: usize,
}

impl Emit for RowsToSampled<'_> {
    #[inline(always)]
    fn emit(&mut self, o: usize, s: &[f32], cur: f32) {
        if o != self.next {
            return;
        }
        let Some(s) = divide8(s) else { return };
        let mut q = [0f32; LANES];
        for l in 0..LANES {
            q[l] = s[l] / cur;
        }
        // Narrow images sample one column several times.
        while self.k < 64 && self.inj[self.k] == o {
            self.stage[self.k] = q;
            self.k += 1;
        }
        self.next = if self.k < 64 {
            self.inj[self.k]
        } else {
            usize::MAX
        };
    }
}

/// Round 1 columns, streamed [`LANES`] rows at a time into round 2's row
/// pass, so the round-1 output never needs a full-size buffer.
struct ColsIntoRows<'a, T> {
    rows: &'a mut [f32],
    blk: &'a mut [[f32; LANES]],
    sel: &'a mut [f32],
    inj: &'a [usize; 64],
    w: usize,
    h: usize,
    wr: usize,
    transpose: std::marker::PhantomData<T>,
}

impl<T: Transpose> Emit for ColsIntoRows<'_, T> {
    #[inline(always)]
    fn emit(&mut self, o: usize, s: &[f32], cur: f32) {
        let w = self.w;
        let slot = o % LANES;
        divide_into(&mut self.rows[slot * w..(slot + 1) * w], s, cur);
        if slot == LANES - 1 || o == self.h - 1 {
            let valid = slot + 1;
            // Lanes past `valid` hold stale rows: independent lanes whose
            // results are never stored.
            rows_to_lanes::<T>(self.rows, w, self.blk);
            let mut stage = [[0f32; LANES]; 64];
            let mut e = RowsToSampled {
                stage: &mut stage,
                inj: self.inj,
                k: 0,
                next: self.inj[0],
            };
            running_box8(self.blk, self.wr, &mut e);
            let r0 = o - slot;
            for (k, q) in stage.iter().enumerate() {
                for (l, &v) in q.iter().enumerate().take(valid) {
                    self.sel[(r0 + l) * 64 + k] = v;
                }
            }
        }
    }
}

/// Round 2 columns: the 64 sampled columns, divided at the 64 sampled rows.
struct ColsToOut<'a> {
    out: &'a mut [[f32; 64]; 64],
    ini: &'a [usize; 64],
    i: usize,
}

impl Emit for ColsToOut<'_> {
    #[inline(always)]
    fn emit(&mut self, o: usize, s: &[f32], cur: f32) {
        while self.i < 64 && self.ini[self.i] == o {
            divide_into(&mut self.out[self.i], s, cur);
            self.i += 1;
        }
    }
}

/// 8×8 transposes between rows and lane blocks. Pure data movement, so any
/// implementation gives the same bits; the AVX one is a handful of shuffles
/// instead of 64 moves, and reads and writes its rows in place.
trait Transpose {
    /// Eight row pieces → one block: `dst[j][i] = src[i][j]`.
    fn gather(src: [&[f32; LANES]; LANES], dst: &mut [[f32; LANES]; LANES]);
    /// One block → eight row pieces: `dst[j][i] = src[i][j]`.
    fn scatter(src: &[[f32; LANES]; LANES], dst: [&mut [f32; LANES]; LANES]);
}

struct ScalarTranspose;

impl Transpose for ScalarTranspose {
    #[inline(always)]
    fn gather(src: [&[f32; LANES]; LANES], dst: &mut [[f32; LANES]; LANES]) {
        for (i, row) in src.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                dst[j][i] = v;
            }
        }
    }
    #[inline(always)]
    fn scatter(src: &[[f32; LANES]; LANES], dst: [&mut [f32; LANES]; LANES]) {
        for (j, d) in dst.into_iter().enumerate() {
            for (i, v) in d.iter_mut().enumerate() {
                *v = src[i][j];
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct AvxTranspose;

#[cfg(target_arch = "x86_64")]
impl Transpose for AvxTranspose {
    #[inline(always)]
    fn gather(src: [&[f32; LANES]; LANES], dst: &mut [[f32; LANES]; LANES]) {
        // SAFETY: `AvxTranspose` is private to this module and only used by
        // `blur_decimate_avx2`, which runs only after the CPU was found to
        // support AVX2 (and so AVX), the one requirement of `gather_avx`.
        unsafe { gather_avx(src, dst) }
    }
    #[inline(always)]
    fn scatter(src: &[[f32; LANES]; LANES], dst: [&mut [f32; LANES]; LANES]) {
        // SAFETY: as for `gather`: AVX is there, the one requirement of
        // `scatter_avx`.
        unsafe { scatter_avx(src, dst) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
fn transpose_regs(r: [std::arch::x86_64::__m256; 8]) -> [std::arch::x86_64::__m256; 8] {
    use std::arch::x86_64::*;
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
fn gather_avx(src: [&[f32; LANES]; LANES], dst: &mut [[f32; LANES]; LANES]) {
    use std::arch::x86_64::*;
    // SAFETY: every pointer is to a whole [f32; 8] (32 bytes, exactly one
    // __m256) borrowed for the call; loadu/storeu have no alignment
    // requirement; AVX is enabled on this function.
    unsafe {
        let out = transpose_regs(src.map(|r| _mm256_loadu_ps(r.as_ptr())));
        for (d, v) in dst.iter_mut().zip(out) {
            _mm256_storeu_ps(d.as_mut_ptr(), v);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[inline]
fn scatter_avx(src: &[[f32; LANES]; LANES], dst: [&mut [f32; LANES]; LANES]) {
    use std::arch::x86_64::*;
    // SAFETY: as in `gather_avx`: whole borrowed [f32; 8]s, unaligned
    // loads and stores, AVX enabled here.
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(src[i].as_ptr()));
        let out = transpose_regs(r);
        for (d, v) in dst.into_iter().zip(out) {
            _mm256_storeu_ps(d.as_mut_ptr(), v);
        }
    }
}

/// [`LANES`] rows of `w` (row-major, `rows[l*w + t]`) → `blk[t][l]`.
#[inline(always)]
fn rows_to_lanes<T: Transpose>(rows: &[f32], w: usize, blk: &mut [[f32; LANES]]) {
    let full = w / LANES * LANES;
    let pieces: [&[[f32; LANES]]; LANES] =
        std::array::from_fn(|l| rows[l * w..l * w + full].as_chunks::<LANES>().0);
    let (blocks, _) = blk[..full].as_chunks_mut::<LANES>();
    for (b, dst) in blocks.iter_mut().enumerate() {
        T::gather(pieces.map(|p| &p[b]), dst);
    }
    for t in full..w {
        for l in 0..LANES {
            blk[t][l] = rows[l * w + t];
        }
    }
}

/// Row `r` of a ring of `ring_rows` rows of width `w`.
#[inline(always)]
fn ring_row(ring: &[f32], w: usize, ring_rows: usize, r: usize) -> &[f32] {
    let s = (r % ring_rows) * w;
    &ring[s..s + w]
}

/// `blk[t][l]` → rows `r0..r0+LANES` of the ring (width `w`). All eight
/// lanes are written: in the last, partial block the extra lanes land in ring
/// slots of rows older than any the column pass still needs (the ring holds
/// `window + LANES` rows), so they are harmless.
#[inline(always)]
fn lanes_to_ring<T: Transpose>(
    blk: &[[f32; LANES]],
    w: usize,
    ring: &mut [f32],
    ring_rows: usize,
    r0: usize,
) {
    let full = w / LANES * LANES;
    let slots: [usize; LANES] = std::array::from_fn(|l| (r0 + l) % ring_rows);
    let mut rows: [&mut [f32]; LANES] = Default::default();
    for (slot, row) in ring.chunks_exact_mut(w).enumerate() {
        if let Some(l) = slots.iter().position(|&s| s == slot) {
            rows[l] = row;
        }
    }
    let mut pieces = rows
        .each_mut()
        .map(|r| r[..full].as_chunks_mut::<LANES>().0);
    let (blocks, _) = blk[..full].as_chunks::<LANES>();
    for (b, src) in blocks.iter().enumerate() {
        T::scatter(src, pieces.each_mut().map(|p| &mut p[b]));
    }
    for t in full..w {
        for (l, row) in rows.iter_mut().enumerate() {
            row[t] = blk[t][l];
        }
    }
}

/// Blur twice and decimate to 64×64, returning the decimated buffer.
#[inline(always)]
fn blur_decimate_body<T: Transpose>(
    src: Source<'_>,
    width: usize,
    height: usize,
    sc: &mut Scratch,
) -> [[f32; 64]; 64] {
    let (w, h) = (width, height);
    let wr = jarosz_window(w);
    let wc = jarosz_window(h);
    let inj = decimation_indices(w);
    let ini = decimation_indices(h);

    // Round-1 row output lives in a ring: the column pass needs row `ri` and
    // row `ri - wc` at once, and rows arrive LANES at a time.
    let ring_rows = wc + LANES;
    sc.ring.resize(w * ring_rows, 0.0);
    sc.blk.resize(w, [0.0; LANES]);
    sc.oblk.resize(w, [0.0; LANES]);
    sc.rows.resize(w * LANES, 0.0);
    sc.line.resize(w * LANES, 0.0);
    sc.sum.resize(w.max(64).max(LANES), 0.0);
    sc.sel.resize(h * 64, 0.0);
    let Scratch {
        ring,
        blk,
        oblk,
        rows,
        line,
        sum,
        sel,
    } = sc;
    let colsum = &mut sum[..w];
    colsum.fill(0.0);
    let mut cols = ColsIntoRows::<T> {
        rows,
        blk: &mut blk[..w],
        sel,
        inj: &inj,
        w,
        h,
        wr,
        transpose: std::marker::PhantomData,
    };
    let half_c = (wc + 2) / 2;

    for r0 in (0..h).step_by(LANES) {
        let valid = LANES.min(h - r0);
        // Round 1, rows: luma of LANES rows, transposed, blurred along the
        // row, transposed back into the ring.
        for l in 0..LANES {
            let row = &mut line[l * w..(l + 1) * w];
            if l < valid {
                src.fill_row(r0 + l, w, row)
            } else {
                row.fill(0.0)
            }
        }
        rows_to_lanes::<T>(line, w, cols.blk);
        running_box8(&cols.blk[..w], wr, &mut RowsToBlock { out: oblk });
        lanes_to_ring::<T>(oblk, w, ring, ring_rows, r0);

        // Round 1, columns, one arriving row at a time: the reference's
        // phases 1-3 of `box1DFloat` (add row ri; from ri = wc on, subtract
        // row ri - wc; from ri = half-1 on, output row ri - (half-1)).
        for ri in r0..r0 + valid {
            add(colsum, ring_row(ring, w, ring_rows, ri));
            if ri >= wc {
                sub(colsum, ring_row(ring, w, ring_rows, ri - wc));
            }
            if ri + 1 >= half_c {
                cols.emit(ri + 1 - half_c, colsum, (ri + 1).min(wc) as f32);
            }
        }
    }
    // Phase 4: the trailing subtractions.
    let mut cur = wc;
    for j in 0..half_c - 1 {
        sub(colsum, ring_row(ring, w, ring_rows, h - wc + j));
        cur -= 1;
        cols.emit(h + 1 - half_c + j, colsum, cur as f32);
    }
    let sel = cols.sel;

    // Round 2 columns: only the 64 sampled columns, divided only at the 64
    // sampled rows.
    let mut out = [[0f32; 64]; 64];
    let mut e = ColsToOut {
        out: &mut out,
        ini: &ini,
        i: 0,
    };
    running_box(sel, h, 64, wc, sum, &mut e);
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn blur_decimate_avx2(
    src: Source<'_>,
    width: usize,
    height: usize,
    sc: &mut Scratch,
) -> [[f32; 64]; 64] {
    blur_decimate_body::<AvxTranspose>(src, width, height, sc)
}

fn blur_decimate_generic(
    src: Source<'_>,
    width: usize,
    height: usize,
    sc: &mut Scratch,
) -> [[f32; 64]; 64] {
    blur_decimate_body::<ScalarTranspose>(src, width, height, sc)
}

/// The Jarosz blur and decimation, dispatched to the widest vectors the CPU
/// has. The caller guarantees `width, height >= 5` and a source of the right
/// size.
pub fn blur_decimate(
    src: Source<'_>,
    width: usize,
    height: usize,
    sc: &mut Scratch,
    portable: bool,
) -> [[f32; 64]; 64] {
    #[cfg(target_arch = "x86_64")]
    {
        if !portable && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { blur_decimate_avx2(src, width, height, sc) };
        }
    }
    blur_decimate_generic(src, width, height, sc)
}
