//! Storage layout of PDQ hashes: blocked structure-of-arrays ("planes").
//!
//! A linear scan spends its time loading hashes and counting bits, so the
//! layout is chosen for the scan. A hash is 8 *substrings* of 32 bits
//! (substring `t` = bits `32t .. 32t+32`, the low or high half of word
//! `t / 2`). Hashes are grouped in blocks of [`LANES`] = 16, and each block
//! is 8 cache lines, one per substring, each holding that substring for the
//! 16 hashes:
//!
//! - `lo` holds lines 0–3 of every block (words 0–1), `hi` lines 4–7
//!   (words 2–3);
//! - one AVX-512 load gives one substring of 16 hashes, and `vpopcntd` counts
//!   16 of them at once, with no shuffling to sum lanes;
//! - the scan's first stage reads only the first 3 or 4 lines of `lo` (96 or
//!   128 bits per hash): a partial distance never exceeds the full one, so a
//!   partial distance above the radius rejects exactly, and for random
//!   hashes at radius 31 it rejects all but ~4e-4 of pairs (96 bits);
//! - substring `t` of a block is line `t`, which is also what multi-index
//!   hashing keys its tables on;
//! - lines are 64-byte aligned ([`Line`]), so vector loads never split lines.
//!
//! Lanes past `len` in the last block are zero padding; every reader checks
//! positions against `len`, so padding can never be reported.

use crate::buf::Buf;
use bytemuck::{Pod, Zeroable};
use tiaki_hash::pdq::PdqHash;

/// Hashes per block (one AVX-512 register of u32 lanes).
pub(crate) const LANES: usize = 16;

/// Lines per block in each of `lo` and `hi`.
pub(crate) const LINES: usize = 4;

/// One cache line: one 32-bit substring of the 16 hashes of a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C, align(64))]
pub(crate) struct Line(pub(crate) [u32; LANES]);

/// A growable array of PDQ hashes in the blocked layout above.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Planes {
    /// Four lines per block: substrings 0, 1, 2, 3 (words 0 and 1).
    pub(crate) lo: Buf<Line>,
    /// Four lines per block: substrings 4, 5, 6, 7 (words 2 and 3).
    pub(crate) hi: Buf<Line>,
    pub(crate) len: usize,
}

/// The 8 substrings of a hash, in line order.
#[inline(always)]
pub(crate) fn substrings(h: &[u64; 4]) -> [u32; 8] {
    std::array::from_fn(|t| (h.get(t / 2).copied().unwrap_or(0) >> (32 * (t % 2))) as u32)
}

#[inline(always)]
fn join(lo: u32, hi: u32) -> u64 {
    u64::from(lo) | (u64::from(hi) << 32)
}

impl Planes {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let lines = LINES * n.div_ceil(LANES);
        Planes {
            lo: Vec::with_capacity(lines).into(),
            hi: Vec::with_capacity(lines).into(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    pub(crate) fn blocks(&self) -> usize {
        self.lo.len() / LINES
    }

    /// Appends a hash at position `len`.
    pub(crate) fn push(&mut self, h: &PdqHash) {
        let (block, lane) = (self.len / LANES, self.len % LANES);
        if lane == 0 {
            self.lo
                .to_mut()
                .extend_from_slice(&[Line::default(); LINES]);
            self.hi
                .to_mut()
                .extend_from_slice(&[Line::default(); LINES]);
        }
        let subs = substrings(&h.0);
        let (lo_subs, hi_subs) = subs.split_at(LINES);
        for (plane, subs) in [(&mut self.lo, lo_subs), (&mut self.hi, hi_subs)] {
            if let Some(lines) = plane.to_mut().get_mut(LINES * block..LINES * (block + 1)) {
                for (line, &s) in lines.iter_mut().zip(subs) {
                    if let Some(x) = line.0.get_mut(lane) {
                        *x = s;
                    }
                }
            }
        }
        self.len += 1;
    }

    /// Words `2·half` and `2·half + 1` of the hash at `pos`, from `lo`
    /// (half 0) or `hi` (half 1).
    #[inline(always)]
    fn words(&self, plane: &[Line], pos: usize) -> Option<[u64; 2]> {
        if pos >= self.len {
            return None;
        }
        let (block, lane) = (pos / LANES, pos % LANES);
        let lines = plane.get(LINES * block..LINES * (block + 1))?;
        let s = |i: usize| {
            lines
                .get(i)
                .and_then(|l| l.0.get(lane))
                .copied()
                .unwrap_or(0)
        };
        Some([join(s(0), s(1)), join(s(2), s(3))])
    }

    /// Words 0 and 1 of the hash at `pos`, or `None` past the end.
    #[inline]
    pub(crate) fn lo_words(&self, pos: usize) -> Option<[u64; 2]> {
        self.words(&self.lo, pos)
    }

    /// Words 2 and 3 of the hash at `pos`, or `None` past the end.
    #[inline]
    pub(crate) fn hi_words(&self, pos: usize) -> Option<[u64; 2]> {
        self.words(&self.hi, pos)
    }

    /// Prefetches the `lo` lines of the hash at `pos`.
    #[inline(always)]
    pub(crate) fn prefetch_lo(&self, pos: usize) {
        let b = pos / LANES;
        if let Some(lines) = self.lo.get(LINES * b..LINES * (b + 1)) {
            lines.iter().for_each(crate::mih::prefetch);
        }
    }

    /// The hash at `pos`, or `None` past the end.
    #[inline]
    pub(crate) fn get(&self, pos: usize) -> Option<PdqHash> {
        let [a, b] = self.lo_words(pos)?;
        let [c, d] = self.hi_words(pos)?;
        Some(PdqHash([a, b, c, d]))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = PdqHash> + '_ {
        (0..self.len).filter_map(|p| self.get(p))
    }

    /// Substring `t` (0..8) of every hash, in position order.
    pub(crate) fn substring(&self, t: usize) -> impl Iterator<Item = u32> + '_ {
        let plane = if t < LINES { &self.lo } else { &self.hi };
        plane
            .iter()
            .skip(t % LINES)
            .step_by(LINES)
            .flat_map(|line| line.0)
            .take(self.len)
    }

    /// Bytes held in memory or mapped (capacity, not just length).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.lo.bytes() + self.hi.bytes()
    }

    /// Number of lines each plane has for `len` hashes.
    pub(crate) fn lines_for(len: usize) -> Option<usize> {
        len.div_ceil(LANES).checked_mul(LINES)
    }

    /// Checks the structural invariant (4 lines per block in each plane,
    /// enough blocks for `len`); used after loading from a file.
    pub(crate) fn is_consistent(&self) -> bool {
        self.lo.len() == self.hi.len() && Some(self.lo.len()) == Planes::lines_for(self.len)
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.lo.shrink_to_fit();
        self.hi.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_round_trip_across_blocks() {
        let mut p = Planes::default();
        let hs: Vec<PdqHash> = (0..37u64)
            .map(|i| {
                PdqHash([
                    i,
                    i.rotate_left(17) ^ 5,
                    !i,
                    i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                ])
            })
            .collect();
        for h in &hs {
            p.push(h);
        }
        assert_eq!(p.len(), 37);
        assert_eq!(p.blocks(), 3);
        assert!(p.is_consistent());
        for (i, h) in hs.iter().enumerate() {
            assert_eq!(p.get(i), Some(*h));
        }
        assert_eq!(p.get(37), None);
        assert_eq!(p.iter().collect::<Vec<_>>(), hs);
        for t in 0..8 {
            let want: Vec<u32> = hs.iter().map(|h| substrings(&h.0)[t]).collect();
            assert_eq!(p.substring(t).collect::<Vec<_>>(), want, "substring {t}");
        }
        assert_eq!(
            substrings(&[1 | (2 << 32), 3, 4, 5 << 32]),
            [1, 2, 3, 0, 4, 0, 0, 5]
        );
    }
}
