//! Test helpers: a deterministic RNG, hash generators and the linear-scan
//! oracle every index result is compared with.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use tiaki_hash::pdq::{Dihedral, PdqHash};
use tiaki_index::{EntryId, Match};

/// splitmix64: small, deterministic, good enough for test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn hash(&mut self) -> PdqHash {
        PdqHash([self.next(), self.next(), self.next(), self.next()])
    }

    /// `h` with exactly `k` distinct bits flipped.
    pub fn flip(&mut self, h: &PdqHash, k: usize) -> PdqHash {
        let mut bits: Vec<usize> = (0..256).collect();
        let mut out = *h;
        for i in 0..k.min(256) {
            let j = i + self.below(256 - i);
            bits.swap(i, j);
            out.0[bits[i] / 64] ^= 1 << (bits[i] % 64);
        }
        out
    }
}

/// The oracle: for each query (a list of variant hashes), every id whose
/// best distance over its entries and the variants is ≤ radius, with the
/// first variant reaching it, sorted by (distance, id).
pub fn oracle(
    entries: &[(PdqHash, EntryId)],
    query: &[(Dihedral, PdqHash)],
    radius: u32,
) -> Vec<Match> {
    let mut best: BTreeMap<EntryId, (u32, usize)> = BTreeMap::new();
    for (h, id) in entries {
        for (vi, (_, q)) in query.iter().enumerate() {
            let d = h.distance(q);
            if d > radius {
                continue;
            }
            let e = best.entry(*id).or_insert((d, vi));
            if (d, vi) < *e {
                *e = (d, vi);
            }
        }
    }
    let mut out: Vec<Match> = best
        .into_iter()
        .map(|(id, (distance, vi))| Match {
            id,
            distance,
            variant: query[vi].0,
        })
        .collect();
    out.sort_unstable_by_key(|m| (m.distance, m.id));
    out
}

/// Parses a file of PDQ hashes: one per line, the hash is the first
/// whitespace- or comma-separated field; blank lines and `#` comments skipped.
pub fn parse_hash_lines(text: &str) -> Vec<PdqHash> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let field = l
                .split(|c: char| c.is_whitespace() || c == ',')
                .next()
                .unwrap();
            PdqHash::from_hex(field).unwrap_or_else(|e| panic!("bad hash line {l:?}: {e}"))
        })
        .collect()
}
