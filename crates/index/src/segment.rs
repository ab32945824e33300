//! A segment: hashes, their entry ids, a deletion bitmap and, for large
//! sealed segments, multi-index hashing tables.
//!
//! Segments are append-only while they are the delta and immutable once
//! sealed, except for the deletion bitmap. Deleting never rewrites hashes or
//! MIH tables: deleted positions are skipped when results are reported, and
//! dropped physically when segments are merged.

use crate::error::IndexError;
use crate::mih::{Mih, MihScratch};
use crate::planes::Planes;
use crate::scan::{self, ScanKernel};
use crate::{EntryId, PdqIndexConfig};
use std::collections::HashSet;
use tiaki_hash::pdq::PdqHash;

/// Which engine answers queries on a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Linear scan (always available, used for every radius).
    Scan,
    /// Multi-index hashing for radii up to `8 × (mih_max_sub_radius + 1) − 1`,
    /// linear scan above.
    Mih,
}

/// Entry ids, stored as `u32` while every id fits (typical store row ids),
/// which saves 4 bytes per hash: 40 MB at 10 million.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ids {
    Narrow(Vec<u32>),
    Wide(Vec<EntryId>),
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Narrow(Vec::new())
    }
}

impl Ids {
    fn with_capacity(n: usize) -> Self {
        Ids::Narrow(Vec::with_capacity(n))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Ids::Narrow(v) => v.len(),
            Ids::Wide(v) => v.len(),
        }
    }

    fn push(&mut self, id: EntryId) {
        match self {
            Ids::Narrow(v) => match u32::try_from(id) {
                Ok(x) => v.push(x),
                Err(_) => {
                    let mut wide: Vec<EntryId> = Vec::with_capacity(v.capacity().max(v.len() + 1));
                    wide.extend(v.iter().map(|&x| EntryId::from(x)));
                    wide.push(id);
                    *self = Ids::Wide(wide);
                }
            },
            Ids::Wide(v) => v.push(id),
        }
    }

    #[inline]
    pub(crate) fn get(&self, pos: usize) -> Option<EntryId> {
        match self {
            Ids::Narrow(v) => v.get(pos).map(|&x| EntryId::from(x)),
            Ids::Wide(v) => v.get(pos).copied(),
        }
    }

    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = EntryId> + '_> {
        match self {
            Ids::Narrow(v) => Box::new(v.iter().map(|&x| EntryId::from(x))),
            Ids::Wide(v) => Box::new(v.iter().copied()),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            Ids::Narrow(v) => v.shrink_to_fit(),
            Ids::Wide(v) => v.shrink_to_fit(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Ids::Narrow(v) => v.capacity() * 4,
            Ids::Wide(v) => v.capacity() * 8,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) planes: Planes,
    /// `ids[pos]` is the entry id of the hash at `pos`.
    pub(crate) ids: Ids,
    /// Bit `pos` set = deleted. Empty until the first deletion.
    pub(crate) deleted: Vec<u64>,
    pub(crate) deleted_count: usize,
    pub(crate) mih: Option<Mih>,
}

impl Segment {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Segment {
            planes: Planes::with_capacity(n),
            ids: Ids::with_capacity(n),
            ..Segment::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.planes.len()
    }

    pub(crate) fn live(&self) -> usize {
        self.len() - self.deleted_count
    }

    pub(crate) fn engine(&self) -> Engine {
        if self.mih.is_some() {
            Engine::Mih
        } else {
            Engine::Scan
        }
    }

    pub(crate) fn push(&mut self, h: &PdqHash, id: EntryId) {
        self.planes.push(h);
        self.ids.push(id);
        // Deletion bitmap, if any, grows lazily in `is_deleted`/`remove`.
    }

    #[inline]
    pub(crate) fn is_deleted(&self, pos: usize) -> bool {
        self.deleted
            .get(pos / 64)
            .is_some_and(|w| (w >> (pos % 64)) & 1 == 1)
    }

    /// Marks every live entry whose id is in `ids` as deleted; returns how many.
    pub(crate) fn remove(&mut self, ids: &HashSet<EntryId>) -> usize {
        let mut removed = 0;
        for (pos, id) in self.ids.iter().enumerate() {
            if !ids.contains(&id)
                || self
                    .deleted
                    .get(pos / 64)
                    .is_some_and(|w| (w >> (pos % 64)) & 1 == 1)
            {
                continue;
            }
            if self.deleted.len() < self.ids.len().div_ceil(64) {
                self.deleted.resize(self.ids.len().div_ceil(64), 0);
            }
            if let Some(w) = self.deleted.get_mut(pos / 64) {
                *w |= 1 << (pos % 64);
                removed += 1;
            }
        }
        self.deleted_count += removed;
        removed
    }

    /// Whether queries at `radius` go through MIH on this segment.
    pub(crate) fn uses_mih(&self, radius: u32, config: &PdqIndexConfig) -> bool {
        self.mih.is_some() && radius / 8 <= config.mih_max_sub_radius
    }

    /// Calls `hit(needle_index, entry_id, distance)` for every live entry
    /// within `radius` of a needle.
    pub(crate) fn search(
        &self,
        needles: &[PdqHash],
        radius: u32,
        config: &PdqIndexConfig,
        kernel: ScanKernel,
        hit: &mut dyn FnMut(usize, EntryId, u32),
    ) {
        if self.live() == 0 {
            return;
        }
        let mut report = |j: usize, pos: usize, d: u32| {
            if !self.is_deleted(pos)
                && let Some(id) = self.ids.get(pos)
            {
                hit(j, id, d);
            }
        };
        match &self.mih {
            Some(mih) if self.uses_mih(radius, config) => {
                let mut scratch = MihScratch::default();
                for (j, n) in needles.iter().enumerate() {
                    mih.query(&self.planes, n, radius, &mut scratch, &mut |pos, d| {
                        report(j, pos, d)
                    });
                }
            }
            _ => scan::scan(&self.planes, needles, radius, kernel, &mut report),
        }
    }

    /// Builds MIH tables if the segment is large enough and has none.
    pub(crate) fn seal(&mut self, config: &PdqIndexConfig) -> Result<(), IndexError> {
        self.planes.shrink_to_fit();
        self.ids.shrink_to_fit();
        if self.mih.is_none() && self.len() >= config.mih_min_len {
            self.mih = Some(Mih::build(&self.planes)?);
        }
        Ok(())
    }

    /// Concatenates the live entries of `parts` into one new segment (not
    /// yet sealed).
    pub(crate) fn merge(parts: &[&Segment]) -> Segment {
        let total = parts.iter().map(|s| s.live()).sum();
        let mut out = Segment::with_capacity(total);
        for s in parts {
            for (pos, (h, id)) in s.planes.iter().zip(s.ids.iter()).enumerate() {
                if !s.is_deleted(pos) {
                    out.push(&h, id);
                }
            }
        }
        out
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.planes.heap_bytes()
            + self.ids.heap_bytes()
            + self.deleted.capacity() * 8
            + self.mih.as_ref().map_or(0, Mih::heap_bytes)
    }

    /// Live entries as `(hash, id)`.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (PdqHash, EntryId)> + '_ {
        self.planes
            .iter()
            .zip(self.ids.iter())
            .enumerate()
            .filter(|(pos, _)| !self.is_deleted(*pos))
            .map(|(_, (h, id))| (h, id))
    }
}
