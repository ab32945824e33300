//! Compact memory of the ids seen so far in a report.
//!
//! A report can have millions of media ids; keeping each as a `String` costs
//! ~100 MB at 2 million. Each id is kept as a 128-bit keyed hash instead
//! (two foldhash "quality" hashes with random per-set seeds: collisions are
//! astronomically unlikely and cannot be crafted in advance, since the seeds
//! are unknown to the provider; foldhash is several times faster than
//! SipHash or SHA-256 on short ids, and this runs twice per media line),
//! with the line where it was first seen and whether that line was accepted
//! packed into one `u64`: 24 bytes an id.
//!
//! Results do not depend on the random keys (only on set membership), so
//! reading stays deterministic.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use foldhash::quality::RandomState;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// 128 bits of keyed hash of an id (two `u64`, not a `u128`, whose 16-byte
/// alignment would pad every map entry to 32 bytes).
pub(crate) type Key = [u64; 2];

/// The keys are already uniformly distributed, so hashing them again (as
/// SipHash would) is wasted work: the last `u64` written is the hash.
#[derive(Default)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

/// Where an id was first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) line: u64,
    pub(crate) accepted: bool,
}

impl Seen {
    fn pack(self) -> u64 {
        (self.line << 1) | u64::from(self.accepted)
    }
    fn unpack(v: u64) -> Seen {
        Seen {
            line: v >> 1,
            accepted: v & 1 == 1,
        }
    }
}

#[derive(Default)]
pub(crate) struct IdSet {
    map: HashMap<Key, u64, BuildHasherDefault<PassThrough>>,
    k1: RandomState,
    k2: RandomState,
}

impl IdSet {
    fn key(&self, id: &str) -> Key {
        [self.k1.hash_one(id), self.k2.hash_one(id)]
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    pub(crate) fn get(&self, id: &str) -> Option<Seen> {
        self.map.get(&self.key(id)).copied().map(Seen::unpack)
    }

    /// Records `id` first seen at `line`; returns the earlier sighting if the
    /// id was already seen (and leaves that one in place).
    pub(crate) fn claim(&mut self, id: &str, line: u64, accepted: bool) -> Option<Seen> {
        let key = self.key(id);
        match self.map.entry(key) {
            Entry::Occupied(e) => Some(Seen::unpack(*e.get())),
            Entry::Vacant(v) => {
                v.insert(Seen { line, accepted }.pack());
                None
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims() {
        let mut s = IdSet::default();
        assert_eq!(s.claim("a", 1, true), None);
        assert_eq!(s.claim("b", 2, false), None);
        assert_eq!(
            s.claim("a", 3, true),
            Some(Seen {
                line: 1,
                accepted: true
            })
        );
        assert_eq!(s.get("b").map(|x| x.accepted), Some(false));
        assert_eq!(s.get("c"), None);
        assert_eq!(s.len(), 2);
        // The two halves of the key come from differently seeded hashers.
        assert_ne!(s.k1.hash_one("x"), s.k2.hash_one("x"));
    }
}
