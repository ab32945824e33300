//! Test helpers: the seeded generator (tiaki-testkit), and the linear-scan
//! oracle every index result is compared with.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use tiaki_hash::pdq::{Dihedral, PdqHash};
use tiaki_index::{EntryId, Match};

pub use tiaki_testkit::{PdqRng, Rng};

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
