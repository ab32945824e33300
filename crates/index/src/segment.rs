//! A segment: hashes, their entry ids, a deletion bitmap and, for large
//! sealed segments, multi-index hashing tables.
//!
//! Segments are append-only while they are the delta and immutable once
//! sealed, except for the deletion bitmap. Deleting never rewrites hashes or
//! MIH tables: deleted positions are skipped when results are reported, and
//! dropped physically when segments are merged.

use crate::buf::Buf;
use crate::error::IndexError;
use crate::mih::{Mih, MihScratch};
use crate::planes::Planes;
use crate::scan::{self, ScanKernel};
use crate::{EntryId, PdqIndexConfig};
use std::collections::HashSet;
use tiaki_hash::pdq::PdqHash;

/// AVX-512 scan: ns per stored hash for one pass (up to 8 needles).
const SCAN_NS_PER_HASH_PASS: f64 = 1.5;
/// Scalar `popcnt` scan: ns per stored hash and needle.
const SCAN_NS_PER_HASH_SCALAR: f64 = 2.25;
/// MIH: ns per directory probe (a random access, prefetched in batches).
const MIH_NS_PER_PROBE: f64 = 75.0;
/// MIH: ns per stored hash and needle (bucket scanning grows with the size).
const MIH_NS_PER_HASH: f64 = 0.02;

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
    Narrow(Buf<u32>),
    Wide(Buf<EntryId>),
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Narrow(Buf::default())
    }
}

impl Ids {
    fn with_capacity(n: usize) -> Self {
        Ids::Narrow(Vec::with_capacity(n).into())
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
                Ok(x) => v.to_mut().push(x),
                Err(_) => {
                    let mut wide: Vec<EntryId> = Vec::with_capacity(v.len() + 1);
                    wide.extend(v.iter().map(|&x| EntryId::from(x)));
                    wide.push(id);
                    *self = Ids::Wide(wide.into());
                }
            },
            Ids::Wide(v) => v.to_mut().push(id),
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
            Ids::Narrow(v) => v.bytes(),
            Ids::Wide(v) => v.bytes(),
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
            Some(mih) if self.mih_chosen(radius, needles.len(), config, kernel) => {
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

    /// Whether a search call with `needles` needles at `radius` goes
    /// through MIH on this segment: it has tables, the radius allows, and
    /// (with [`PdqIndexConfig::engine_by_cost`]) the cost model says MIH is
    /// faster for that many needles.
    ///
    /// The model, in ns of one core (calibration: `docs/bench-index.md`,
    /// "Scan versus multi-index hashing"): the AVX-512 scan serves up to 8
    /// needles per pass at [`SCAN_NS_PER_HASH_PASS`] per stored hash and
    /// pass; the scalar kernels cost [`SCAN_NS_PER_HASH_SCALAR`] per hash and
    /// needle; MIH costs [`MIH_NS_PER_PROBE`] per directory probe plus
    /// [`MIH_NS_PER_HASH`] per stored hash (fuller buckets), per needle.
    pub(crate) fn mih_chosen(
        &self,
        radius: u32,
        needles: usize,
        config: &PdqIndexConfig,
        kernel: ScanKernel,
    ) -> bool {
        let Some(mih) = &self.mih else {
            return false;
        };
        if !self.uses_mih(radius, config) {
            return false;
        }
        if !config.engine_by_cost {
            return true;
        }
        let n = self.len() as f64;
        let scan = match kernel {
            ScanKernel::Avx512 => needles.div_ceil(8) as f64 * n * SCAN_NS_PER_HASH_PASS,
            ScanKernel::Popcnt | ScanKernel::Portable => {
                needles as f64 * n * SCAN_NS_PER_HASH_SCALAR
            }
        };
        let probes = crate::mih::probes_per_needle(mih.prefix_bits, radius / 8) as f64;
        let per_needle = probes * MIH_NS_PER_PROBE + n * MIH_NS_PER_HASH;
        needles as f64 * per_needle < scan
    }

    /// Builds MIH tables if `tables`, the segment is large enough and has
    /// none.
    pub(crate) fn seal(&mut self, config: &PdqIndexConfig, tables: bool) -> Result<(), IndexError> {
        self.planes.shrink_to_fit();
        self.ids.shrink_to_fit();
        if tables && self.mih.is_none() && self.len() >= config.mih_min_len {
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
