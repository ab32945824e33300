//! Multi-index hashing (Norouzi, Punjani & Fleet, TPAMI 2014) over 8 × 32-bit
//! substrings, with radix directories into sorted arrays.
//!
//! **Why it is exact.** Split the 256-bit hash into 8 substrings of 32 bits.
//! If `distance(h, needle) ≤ r` then some substring differs in at most
//! `s = ⌊r / 8⌋` bits (otherwise the total would be ≥ 8(s+1) > r). So probing
//! each substring's table for every stored key within `s` of the needle's
//! substring finds every match; each candidate is then verified with the full
//! distance.
//!
//! **Table layout.** For substring `t`, the entries are sorted by the top `D`
//! bits of the substring (the *prefix*, a counting sort). `dir[p]..dir[p+1]`
//! is the slice of entries with prefix `p`. Each entry is one `u32`: the
//! position of the hash in the segment in the low `pos_bits`, and the next
//! `suffix_bits` bits of the substring above it. A probe enumerates every
//! prefix within `k ≤ s` flips of the needle's prefix (Gosper's hack), and
//! keeps an entry only if its stored suffix is within `s − k` of the needle's:
//! that is exactly "the top `D + suffix_bits` bits of the substring are within
//! `s`", a necessary condition for the substring being within `s`. So the
//! filter never loses a match; it only lets some non-matches through to the
//! verification.
//!
//! **No duplicates without a set.** A hash may pass the filter of several
//! tables. It is reported only from the first table whose filter it passes
//! (checked on the verified hash, which is already loaded), so each stored
//! hash is reported at most once per needle.
//!
//! **Memory.** 4 bytes per hash per table (8 tables: 32 B per hash, as much as
//! the hashes themselves) plus `8 × 2^D × 4` bytes of directories. That is
//! why small and medium segments are scanned instead (see
//! [`crate::PdqIndexConfig::mih_min_len`]).

use crate::buf::Buf;
use crate::error::IndexError;
use crate::planes::Planes;
use tiaki_hash::pdq::PdqHash;

/// Number of substrings (and tables).
pub(crate) const SUBSTRINGS: usize = 8;

/// The largest segment MIH can index: positions must fit next to the suffix
/// in a `u32`, with at least one bit to spare for the suffix.
pub(crate) const MAX_LEN: usize = 1 << 31;

/// Largest directory: 2^24 buckets × 4 B = 64 MiB per table.
const MAX_PREFIX_BITS: u32 = 24;

/// Smallest directory (tiny segments in tests).
const MIN_PREFIX_BITS: u32 = 4;

/// The directory is sized for about 2^slack entries per bucket: fewer,
/// fuller buckets mean fewer random probes; each extra entry is a sequential
/// 4-byte read through the bucket filter (16 a cycle or so with AVX-512).
/// Measured (docs/bench-index.md, "Bucket size"): while the tables are small
/// enough to stay in the caches (up to 2^21 hashes: 64 MiB of tables), the
/// sequential reads are cheap and 2^5-entry buckets answer a single needle
/// 1.5× faster than 2^3; above, every extra entry is a read from memory and
/// 2^3 stays best.
const PREFIX_SLACK: u32 = 3;
const PREFIX_SLACK_CACHED: u32 = 5;
const CACHED_MAX_LOG2: u32 = 21;

/// One substring's table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MihTable {
    /// `2^D + 1` offsets into `entries`, non-decreasing, last = segment length.
    pub(crate) dir: Buf<u32>,
    /// `suffix << pos_bits | position`, grouped by prefix.
    pub(crate) entries: Buf<u32>,
}

/// The 8 tables of one sealed segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mih {
    pub(crate) prefix_bits: u32,
    pub(crate) suffix_bits: u32,
    pub(crate) pos_bits: u32,
    pub(crate) tables: Vec<MihTable>,
}

/// Substring `t` (0..8) of a hash: bits `32t .. 32t+32`.
#[inline(always)]
fn key(h: &[u64; 4], t: usize) -> u32 {
    let w = h.get(t / 2).copied().unwrap_or(0);
    (w >> (32 * (t % 2))) as u32
}

fn ceil_log2(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        usize::BITS - (n - 1).leading_zeros()
    }
}

/// Table parameters for a segment of `n` hashes: `(prefix_bits, suffix_bits, pos_bits)`.
pub(crate) fn params(n: usize) -> (u32, u32, u32) {
    let pos_bits = ceil_log2(n).max(1);
    let slack = if ceil_log2(n) <= CACHED_MAX_LOG2 {
        PREFIX_SLACK_CACHED
    } else {
        PREFIX_SLACK
    };
    let prefix_bits = ceil_log2(n)
        .saturating_sub(slack)
        .clamp(MIN_PREFIX_BITS, MAX_PREFIX_BITS);
    let suffix_bits = (32 - pos_bits).min(32 - prefix_bits);
    (prefix_bits, suffix_bits, pos_bits)
}

impl Mih {
    /// Builds the tables for every hash in `planes` (deleted ones included:
    /// deletion is checked at report time, so tables never need rewriting).
    pub(crate) fn build(planes: &Planes) -> Result<Mih, IndexError> {
        let n = planes.len();
        if n > MAX_LEN {
            return Err(IndexError::SegmentTooLarge {
                len: n,
                max: MAX_LEN,
            });
        }
        let (prefix_bits, suffix_bits, pos_bits) = params(n);
        let mut mih = Mih {
            prefix_bits,
            suffix_bits,
            pos_bits,
            tables: Vec::with_capacity(SUBSTRINGS),
        };
        let buckets = 1usize << prefix_bits;
        for t in 0..SUBSTRINGS {
            let keys = || planes.substring(t);
            let mut dir = vec![0u32; buckets + 1];
            for k in keys() {
                if let Some(c) = dir.get_mut(mih.prefix(k) + 1) {
                    *c += 1;
                }
            }
            let mut acc = 0u32;
            for c in dir.iter_mut() {
                acc += *c;
                *c = acc;
            }
            // Counting-sort scatter; `cursor[p]` is the next free slot of bucket p.
            let mut cursor: Vec<u32> = dir.get(..buckets).map(<[u32]>::to_vec).unwrap_or_default();
            let mut entries = vec![0u32; n];
            for (pos, k) in keys().enumerate() {
                let Some(c) = cursor.get_mut(mih.prefix(k)) else {
                    continue;
                };
                if let Some(slot) = entries.get_mut(*c as usize) {
                    *slot = (mih.suffix(k) << pos_bits) | pos as u32;
                }
                *c += 1;
            }
            mih.tables.push(MihTable {
                dir: dir.into(),
                entries: entries.into(),
            });
        }
        Ok(mih)
    }

    #[inline(always)]
    fn prefix(&self, k: u32) -> usize {
        (k >> (32 - self.prefix_bits)) as usize
    }

    #[inline(always)]
    fn suffix(&self, k: u32) -> u32 {
        if self.suffix_bits == 0 {
            return 0;
        }
        (k >> (32 - self.prefix_bits - self.suffix_bits)) & ((1u32 << self.suffix_bits) - 1)
    }

    /// Distance between two substrings restricted to the bits the filter
    /// sees (prefix and stored suffix).
    #[inline(always)]
    fn filtered_distance(&self, a: u32, b: u32) -> u32 {
        ((a ^ b) >> (32 - self.prefix_bits - self.suffix_bits)).count_ones()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.dir.bytes() + t.entries.bytes())
            .sum()
    }

    /// Checks the invariants the query relies on (after loading a file):
    /// parameters as [`params`] gives them, 8 tables, each directory
    /// non-decreasing from 0 to `n`, each position `< n`.
    pub(crate) fn is_consistent(&self, n: usize) -> bool {
        if (self.prefix_bits, self.suffix_bits, self.pos_bits) != params(n)
            || self.tables.len() != SUBSTRINGS
        {
            return false;
        }
        let pos_mask = pos_mask(self.pos_bits);
        self.tables.iter().all(|t| {
            t.dir.len() == (1usize << self.prefix_bits) + 1
                && t.dir.first() == Some(&0)
                && t.dir.last().map(|&x| x as usize) == Some(n)
                && t.dir.windows(2).all(|w| w.first() <= w.get(1))
                && t.entries.len() == n
                && t.entries.iter().all(|&e| ((e & pos_mask) as usize) < n)
        })
    }

    /// Calls `hit(position, distance)` once for every hash in `planes`
    /// within `radius` of `needle`. Requires `radius / 8` small enough for
    /// the enumeration to be affordable; the caller decides (see
    /// [`crate::PdqIndexConfig::mih_max_sub_radius`]).
    ///
    /// Probes are random accesses into tables far larger than the caches, so
    /// they are processed in batches of [`PROBE_BATCH`] in three passes
    /// (directory, bucket, candidate), each prefetching what the next needs:
    /// the memory system then serves many misses at once instead of one
    /// after another.
    pub(crate) fn query(
        &self,
        planes: &Planes,
        needle: &PdqHash,
        radius: u32,
        scratch: &mut MihScratch,
        hit: &mut dyn FnMut(usize, u32),
    ) {
        let s = radius / SUBSTRINGS as u32;
        let n = needle.0;
        let mut q = Query {
            mih: self,
            planes,
            n,
            s,
            radius,
            scratch,
            hit,
        };
        q.scratch.probes.clear();
        for (t, table) in self.tables.iter().enumerate() {
            let k0 = key(&n, t);
            let qp = self.prefix(k0);
            for k in 0..=s.min(self.prefix_bits) {
                for_each_mask(self.prefix_bits, k, |m| {
                    let p = qp ^ m;
                    if let Some(d) = table.dir.get(p) {
                        prefetch(d);
                    }
                    q.scratch.probes.push(Probe {
                        table: t as u32,
                        prefix: p as u32,
                        budget: s - k,
                    });
                    if q.scratch.probes.len() >= PROBE_BATCH {
                        q.flush();
                    }
                });
            }
        }
        q.flush();
    }

    #[inline(always)]
    fn verify(
        &self,
        planes: &Planes,
        n: &[u64; 4],
        t: usize,
        s: u32,
        pos: usize,
        radius: u32,
    ) -> Option<u32> {
        // Low half first: most filter survivors are rejected on one cache line pair.
        let [a, b] = planes.lo_words(pos)?;
        let d01 = (a ^ n[0]).count_ones() + (b ^ n[1]).count_ones();
        if d01 > radius {
            return None;
        }
        let [c, d] = planes.hi_words(pos)?;
        let dist = d01 + (c ^ n[2]).count_ones() + (d ^ n[3]).count_ones();
        if dist > radius {
            return None;
        }
        let h = [a, b, c, d];
        // Reported from the first table whose filter it passes (see module docs).
        if (0..t).any(|t2| self.filtered_distance(key(&h, t2), key(n, t2)) <= s) {
            return None;
        }
        Some(dist)
    }
}

/// Probes handled per batch: enough outstanding prefetches to keep the
/// memory system busy, small enough that they are still in L1/L2 when used.
const PROBE_BATCH: usize = 512;

#[derive(Clone, Copy, Debug)]
struct Probe {
    table: u32,
    prefix: u32,
    budget: u32,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    table: u32,
    start: u32,
    end: u32,
    budget: u32,
}

/// Reusable buffers for [`Mih::query`] (one per search call, not per needle).
#[derive(Debug, Default)]
pub(crate) struct MihScratch {
    probes: Vec<Probe>,
    buckets: Vec<Bucket>,
    /// (table, position) of entries that passed the substring filter.
    cands: Vec<(u32, u32)>,
}

/// One needle's query state.
struct Query<'a, 'h> {
    mih: &'a Mih,
    planes: &'a Planes,
    n: [u64; 4],
    s: u32,
    radius: u32,
    scratch: &'a mut MihScratch,
    hit: &'a mut (dyn FnMut(usize, u32) + 'h),
}

impl Query<'_, '_> {
    /// Resolves the pending probes: directory → bucket ranges → filtered
    /// candidates → verified hits.
    fn flush(&mut self) {
        let mih = self.mih;
        let sc = &mut *self.scratch;
        sc.buckets.clear();
        for p in &sc.probes {
            let Some(table) = mih.tables.get(p.table as usize) else {
                continue;
            };
            let i = p.prefix as usize;
            if let (Some(&start), Some(&end)) = (table.dir.get(i), table.dir.get(i + 1))
                && start < end
            {
                if let Some(e) = table.entries.get(start as usize) {
                    prefetch(e);
                }
                sc.buckets.push(Bucket {
                    table: p.table,
                    start,
                    end,
                    budget: p.budget,
                });
            }
        }
        sc.probes.clear();

        sc.cands.clear();
        let simd = filter::simd_available();
        for b in &sc.buckets {
            let Some(table) = mih.tables.get(b.table as usize) else {
                continue;
            };
            let qs = mih.suffix(key(&self.n, b.table as usize));
            let Some(entries) = table.entries.get(b.start as usize..b.end as usize) else {
                continue;
            };
            let from = sc.cands.len();
            let f = filter::Filter {
                pos_bits: mih.pos_bits,
                suffix: qs,
                budget: b.budget,
                table: b.table,
            };
            f.run(entries, simd, &mut sc.cands);
            for &(_, pos) in sc.cands.get(from..).unwrap_or_default() {
                self.planes.prefetch_lo(pos as usize);
            }
        }

        for &(t, pos) in &sc.cands {
            if let Some(d) = mih.verify(
                self.planes,
                &self.n,
                t as usize,
                self.s,
                pos as usize,
                self.radius,
            ) {
                (self.hit)(pos as usize, d);
            }
        }
    }
}

/// The bucket filter: the entries whose stored suffix is within the budget
/// of the needle's. Portable, and AVX-512 (16 entries per instruction) where
/// the CPU has it: with it, fuller buckets (fewer random probes) pay.
mod filter {
    /// One bucket's filter.
    pub(super) struct Filter {
        pub(super) pos_bits: u32,
        pub(super) suffix: u32,
        pub(super) budget: u32,
        pub(super) table: u32,
    }

    /// Whether [`Filter::run`] may take the AVX-512 path (std caches the
    /// detection: one atomic load).
    #[inline]
    pub(super) fn simd_available() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512vpopcntdq")
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    impl Filter {
        /// Appends `(table, position)` of each passing entry to `out`, in
        /// entry order. `simd` must come from [`simd_available`].
        #[inline]
        pub(super) fn run(&self, entries: &[u32], simd: bool, out: &mut Vec<(u32, u32)>) {
            #[cfg(target_arch = "x86_64")]
            if simd {
                // SAFETY: `simd` is `simd_available()`: the CPU has avx512f
                // and avx512vpopcntdq, all `run_avx512` enables.
                unsafe { self.run_avx512(entries, out) };
                return;
            }
            let _ = simd;
            self.run_portable(entries, out);
        }

        pub(super) fn run_portable(&self, entries: &[u32], out: &mut Vec<(u32, u32)>) {
            let mask = super::pos_mask(self.pos_bits);
            for &e in entries {
                if ((e >> self.pos_bits) ^ self.suffix).count_ones() <= self.budget {
                    out.push((self.table, e & mask));
                }
            }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512vpopcntdq")]
        fn run_avx512(&self, entries: &[u32], out: &mut Vec<(u32, u32)>) {
            use std::arch::x86_64::*;
            let mask = super::pos_mask(self.pos_bits);
            let q = _mm512_set1_epi32(self.suffix as i32);
            let b = _mm512_set1_epi32(self.budget as i32);
            let shift = _mm_cvtsi32_si128(self.pos_bits as i32);
            let mut emit = |chunk: &[u32], mut m: u16| {
                while m != 0 {
                    let i = m.trailing_zeros() as usize;
                    if let Some(&e) = chunk.get(i) {
                        out.push((self.table, e & mask));
                    }
                    m &= m - 1;
                }
            };
            let mut chunks = entries.chunks_exact(16);
            for c in &mut chunks {
                // SAFETY: `c` is 16 readable u32s (64 bytes); the load is
                // unaligned.
                let v = unsafe { _mm512_loadu_si512(c.as_ptr().cast::<__m512i>()) };
                let d = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_srl_epi32(v, shift), q));
                let m = _mm512_cmple_epu32_mask(d, b);
                if m != 0 {
                    emit(c, m);
                }
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                // Fewer than 16 left: a masked load reads only those.
                let k: u16 = ((1u32 << rest.len()) - 1) as u16;
                // SAFETY: the mask limits the load to the `rest.len()`
                // readable u32s of `rest`; masked-off lanes are not touched.
                let v = unsafe { _mm512_maskz_loadu_epi32(k, rest.as_ptr().cast::<i32>()) };
                let d = _mm512_popcnt_epi32(_mm512_xor_si512(_mm512_srl_epi32(v, shift), q));
                emit(rest, _mm512_mask_cmple_epu32_mask(k, d, b));
            }
        }
    }
}

/// Hints the CPU to load the cache line holding `r`.
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is only a hint: it never faults, even for an
        // invalid address, and `r` is a valid reference anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(r).cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

fn pos_mask(pos_bits: u32) -> u32 {
    if pos_bits >= 32 {
        u32::MAX
    } else {
        (1u32 << pos_bits) - 1
    }
}

/// Calls `f` with every `bits`-bit mask that has exactly `k` bits set
/// (Gosper's hack: next larger integer with the same popcount).
#[inline(always)]
fn for_each_mask(bits: u32, k: u32, mut f: impl FnMut(usize)) {
    if k > bits {
        return;
    }
    if k == 0 {
        f(0);
        return;
    }
    let limit = 1u64 << bits;
    let mut m: u64 = (1u64 << k) - 1;
    while m < limit {
        f(m as usize);
        let c = m & m.wrapping_neg();
        let r = m + c;
        m = (((r ^ m) >> 2) / c) | r;
    }
}

/// Number of probes (directory buckets visited) per needle, for the cost
/// model and the docs: `8 × Σ_{k ≤ s} C(D, k)`.
pub(crate) fn probes_per_needle(prefix_bits: u32, s: u32) -> u64 {
    let mut total = 0u64;
    let mut c = 1u64;
    for k in 0..=s.min(prefix_bits) {
        if k > 0 {
            c = c * u64::from(prefix_bits - k + 1) / u64::from(k);
        }
        total += c;
    }
    total * SUBSTRINGS as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gosper_enumerates_all_masks() {
        for bits in 1..=10u32 {
            for k in 0..=bits + 1 {
                let mut seen = Vec::new();
                for_each_mask(bits, k, |m| seen.push(m));
                let want: Vec<usize> = (0..1usize << bits)
                    .filter(|m| m.count_ones() == k)
                    .collect();
                assert_eq!(seen, want, "bits {bits} k {k}");
            }
        }
    }

    #[test]
    fn params_fit_in_u32() {
        for n in [0usize, 1, 2, 3, 100, 1 << 20, 10_000_000, 1 << 31] {
            let (d, s, p) = params(n);
            assert!(d + s <= 32 && s + p <= 32, "n {n}");
            assert!(n <= 1 || (n - 1) >> p == 0);
        }
        assert_eq!(probes_per_needle(20, 3), 8 * (1 + 20 + 190 + 1140));
    }

    proptest::proptest! {
        /// The AVX-512 bucket filter keeps exactly the entries the portable
        /// one keeps, in the same order, for every length (the masked tail
        /// included) and every position width.
        #[test]
        fn simd_filter_is_the_portable_filter(
            entries in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..70),
            pos_bits in 1u32..=31,
            suffix in proptest::prelude::any::<u32>(),
            budget in 0u32..=4,
        ) {
            let suffix = suffix >> pos_bits;
            let f = filter::Filter { pos_bits, suffix, budget, table: 5 };
            let mut want = Vec::new();
            f.run_portable(&entries, &mut want);
            let mut got = Vec::new();
            f.run(&entries, filter::simd_available(), &mut got);
            proptest::prop_assert_eq!(got, want);
        }
    }
}
