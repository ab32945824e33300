//! Exact lookup of MD5, SHA-1 and SHA-256 digests.
//!
//! Each algorithm has its own table of fixed-size keys, so a 16-byte MD5 costs
//! 16 bytes, not a 32-byte slot. A table is an LSM with two levels:
//!
//! - **main**: parallel arrays of keys and ids sorted by `(key, id)`, with a
//!   radix directory on the first 16 bits of the key. Digests are uniformly
//!   distributed, so a lookup is one directory read and a binary search over
//!   ~n/65536 keys.
//! - **delta**: a hash map taking inserts; it is merged into main (a linear
//!   merge of two sorted runs) when it reaches 1/8 of main, so inserting n
//!   entries one by one costs O(n) amortised copies.
//!
//! Many entries may share a digest (the same file in several lists): a lookup
//! returns every id.

use crate::EntryId;
pub use tiaki_types::hashes::{Digest, DigestKind};
use crate::error::IndexError;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// Below this many entries in the delta it is never merged (merging a few
/// entries into a large main is all copying).
const DELTA_MIN: usize = 4096;

/// The table for one digest length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DigestTable<const N: usize> {
    /// Sorted by `(key, id)`.
    pub(crate) keys: Vec<[u8; N]>,
    pub(crate) ids: Vec<EntryId>,
    /// `dir[p]..dir[p+1]` = entries whose key starts with the 16-bit prefix
    /// `p`; 65537 offsets, or empty when `keys` is.
    dir: Vec<u32>,
    /// The first id inserted under each key…
    delta: HashMap<[u8; N], EntryId>,
    /// …and any further ones, in insertion order (rare: the same file in
    /// several lists). Split so that the common insert allocates nothing
    /// per key.
    delta_more: HashMap<[u8; N], Vec<EntryId>>,
    delta_len: usize,
}

fn prefix16(key: &[u8]) -> usize {
    match key {
        [a, b, ..] => usize::from(*a) << 8 | usize::from(*b),
        _ => 0,
    }
}

impl<const N: usize> DigestTable<N> {
    pub(crate) fn from_sorted(keys: Vec<[u8; N]>, ids: Vec<EntryId>) -> Result<Self, IndexError> {
        if keys.len() != ids.len() || keys.len() > u32::MAX as usize {
            return Err(IndexError::Corrupt("digest table lengths"));
        }
        if !keys
            .iter()
            .zip(&ids)
            .zip(keys.iter().zip(&ids).skip(1))
            .all(|(a, b)| a <= b)
        {
            return Err(IndexError::Corrupt("digest table not sorted"));
        }
        let mut t = DigestTable {
            keys,
            ids,
            ..DigestTable::default()
        };
        t.build_dir();
        Ok(t)
    }

    fn build_dir(&mut self) {
        self.dir.clear();
        if self.keys.is_empty() {
            return;
        }
        self.dir.resize(65537, 0);
        for k in &self.keys {
            if let Some(c) = self.dir.get_mut(prefix16(k) + 1) {
                *c += 1;
            }
        }
        let mut acc = 0;
        for c in &mut self.dir {
            acc += *c;
            *c = acc;
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len() + self.delta_len
    }

    pub(crate) fn insert(&mut self, key: [u8; N], id: EntryId) {
        match self.delta.entry(key) {
            Entry::Vacant(v) => {
                v.insert(id);
            }
            Entry::Occupied(_) => self.delta_more.entry(key).or_default().push(id),
        }
        self.delta_len += 1;
        if self.delta_len >= DELTA_MIN.max(self.keys.len() / 8) {
            self.merge_delta();
        }
    }

    /// The delta's entries sorted by `(key, id)`.
    fn sorted_delta(&self) -> Vec<([u8; N], EntryId)> {
        let mut d: Vec<([u8; N], EntryId)> = Vec::with_capacity(self.delta_len);
        d.extend(self.delta.iter().map(|(k, &id)| (*k, id)));
        d.extend(
            self.delta_more
                .iter()
                .flat_map(|(k, ids)| ids.iter().map(move |&id| (*k, id))),
        );
        d.sort_unstable();
        d
    }

    /// Main and delta merged, in `(key, id)` order.
    pub(crate) fn merged(&self) -> (Vec<[u8; N]>, Vec<EntryId>) {
        let delta = self.sorted_delta();
        let n = self.keys.len() + delta.len();
        let (mut keys, mut ids) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut main = self
            .keys
            .iter()
            .copied()
            .zip(self.ids.iter().copied())
            .peekable();
        let mut new = delta.into_iter().peekable();
        loop {
            let next = match (main.peek(), new.peek()) {
                (Some(a), Some(b)) => {
                    if a <= b {
                        main.next()
                    } else {
                        new.next()
                    }
                }
                (Some(_), None) => main.next(),
                (None, Some(_)) => new.next(),
                (None, None) => break,
            };
            if let Some((k, id)) = next {
                keys.push(k);
                ids.push(id);
            }
        }
        (keys, ids)
    }

    pub(crate) fn merge_delta(&mut self) {
        if self.delta_len == 0 {
            return;
        }
        let (keys, ids) = self.merged();
        self.keys = keys;
        self.ids = ids;
        self.delta.clear();
        self.delta_more.clear();
        self.delta_len = 0;
        self.build_dir();
    }

    /// Appends every id stored under `key` to `out` (sorted within main,
    /// then the delta's in insertion order).
    pub(crate) fn get_into(&self, key: &[u8; N], out: &mut Vec<EntryId>) {
        let p = prefix16(key);
        if let (Some(&a), Some(&b)) = (self.dir.get(p), self.dir.get(p + 1))
            && let (Some(keys), Some(ids)) = (
                self.keys.get(a as usize..b as usize),
                self.ids.get(a as usize..b as usize),
            )
        {
            let start = keys.partition_point(|k| k < key);
            for (k, id) in keys.iter().zip(ids).skip(start) {
                if k != key {
                    break;
                }
                out.push(*id);
            }
        }
        if let Some(&id) = self.delta.get(key) {
            out.push(id);
            if let Some(more) = self.delta_more.get(key) {
                out.extend_from_slice(more);
            }
        }
    }

    pub(crate) fn remove(&mut self, ids: &HashSet<EntryId>) -> usize {
        let before = self.len();
        let (mut keys, mut kept) = (
            Vec::with_capacity(self.keys.len()),
            Vec::with_capacity(self.ids.len()),
        );
        for (k, id) in self.keys.iter().zip(&self.ids) {
            if !ids.contains(id) {
                keys.push(*k);
                kept.push(*id);
            }
        }
        if keys.len() != self.keys.len() {
            self.keys = keys;
            self.ids = kept;
            self.build_dir();
        }
        let firsts = std::mem::take(&mut self.delta);
        let mut more = std::mem::take(&mut self.delta_more);
        self.delta_len = 0;
        for (k, first) in firsts {
            let rest = more.remove(&k).unwrap_or_default();
            for id in std::iter::once(first).chain(rest) {
                if !ids.contains(&id) {
                    match self.delta.entry(k) {
                        Entry::Vacant(v) => {
                            v.insert(id);
                        }
                        Entry::Occupied(_) => self.delta_more.entry(k).or_default().push(id),
                    }
                    self.delta_len += 1;
                }
            }
        }
        before - self.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.capacity() * N
            + self.ids.capacity() * 8
            + self.dir.capacity() * 4
            + self.delta.capacity() * (N + 8 + 1)
            + self.delta_more.capacity() * (N + size_of::<Vec<EntryId>>() + 1)
            + self.delta_more.values().map(Vec::capacity).sum::<usize>() * 8
    }
}

/// Exact index of MD5, SHA-1 and SHA-256 digests to entry ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DigestIndex {
    pub(crate) md5: DigestTable<16>,
    pub(crate) sha1: DigestTable<20>,
    pub(crate) sha256: DigestTable<32>,
}

impl DigestIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of (digest, id) entries.
    pub fn len(&self) -> usize {
        self.md5.len() + self.sha1.len() + self.sha256.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of entries of one kind.
    pub fn len_of(&self, kind: DigestKind) -> usize {
        match kind {
            DigestKind::Md5 => self.md5.len(),
            DigestKind::Sha1 => self.sha1.len(),
            DigestKind::Sha256 => self.sha256.len(),
        }
    }

    pub fn insert(&mut self, digest: &Digest, id: EntryId) {
        match digest {
            Digest::Md5(k) => self.md5.insert(*k, id),
            Digest::Sha1(k) => self.sha1.insert(*k, id),
            Digest::Sha256(k) => self.sha256.insert(*k, id),
        }
    }

    pub fn extend<I: IntoIterator<Item = (Digest, EntryId)>>(&mut self, entries: I) {
        for (d, id) in entries {
            self.insert(&d, id);
        }
    }

    /// Every id stored under `digest` (empty if none).
    pub fn get(&self, digest: &Digest) -> Vec<EntryId> {
        let mut out = Vec::new();
        self.get_into(digest, &mut out);
        out
    }

    /// Appends every id stored under `digest` to `out`.
    pub fn get_into(&self, digest: &Digest, out: &mut Vec<EntryId>) {
        match digest {
            Digest::Md5(k) => self.md5.get_into(k, out),
            Digest::Sha1(k) => self.sha1.get_into(k, out),
            Digest::Sha256(k) => self.sha256.get_into(k, out),
        }
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        // Lookups are a few cache misses; no separate existence path needed.
        !self.get(digest).is_empty()
    }

    /// One id list per digest.
    pub fn get_batch(&self, digests: &[Digest]) -> Vec<Vec<EntryId>> {
        digests.iter().map(|d| self.get(d)).collect()
    }

    /// Removes every entry with this id; returns how many.
    pub fn remove(&mut self, id: EntryId) -> usize {
        self.remove_ids([id])
    }

    /// Removes every entry whose id is in `ids`; returns how many. Cost:
    /// one pass over all entries.
    pub fn remove_ids<I: IntoIterator<Item = EntryId>>(&mut self, ids: I) -> usize {
        let set: HashSet<EntryId> = ids.into_iter().collect();
        if set.is_empty() {
            return 0;
        }
        self.md5.remove(&set) + self.sha1.remove(&set) + self.sha256.remove(&set)
    }

    /// Merges pending inserts into the sorted arrays (done automatically as
    /// they accumulate; useful before measuring memory).
    pub fn compact(&mut self) {
        self.md5.merge_delta();
        self.sha1.merge_delta();
        self.sha256.merge_delta();
    }

    pub fn heap_bytes(&self) -> usize {
        self.md5.heap_bytes() + self.sha1.heap_bytes() + self.sha256.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parsing() {
        let md5 = Digest::from_hex("D41D8CD98F00B204E9800998ECF8427E").unwrap();
        assert_eq!(md5.kind(), DigestKind::Md5);
        assert_eq!(md5.to_hex(), "d41d8cd98f00b204e9800998ecf8427e");
        assert!(Digest::from_hex("abc").is_err());
        assert!(
            Digest::from_hex_kind(DigestKind::Sha1, "d41d8cd98f00b204e9800998ecf8427e").is_err()
        );
        assert!(Digest::from_hex(&"zz".repeat(16)).is_err());
        let sha = Digest::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(sha, Digest::Sha256([0xab; 32]));
    }

    #[test]
    fn shared_digests_merge_and_remove() {
        let mut idx = DigestIndex::new();
        let key = |i: u32| {
            let mut k = [0u8; 16];
            k[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
            Digest::Md5(k)
        };
        for i in 0..20_000u32 {
            idx.insert(&key(i % 7000), u64::from(i));
        }
        assert_eq!(idx.len(), 20_000);
        let mut got = idx.get(&key(5));
        got.sort_unstable();
        assert_eq!(got, vec![5, 7005, 14005]);
        assert_eq!(idx.remove(7005), 1);
        let mut got = idx.get(&key(5));
        got.sort_unstable();
        assert_eq!(got, vec![5, 14005]);
        idx.compact();
        assert_eq!(idx.get(&key(5)).len(), 2);
        assert!(!idx.contains(&Digest::Md5([0xff; 16])));
        assert!(!idx.contains(&Digest::Sha1([0; 20])));
    }
}
