//! The PDQ index: an LSM of sealed segments plus an append-only delta.
//!
//! - New entries go to the **delta**, which is always scanned linearly.
//! - When the delta reaches [`PdqIndexConfig::delta_max`] it is **sealed**
//!   into a segment. Segments are kept in decreasing size; after a seal, the
//!   two smallest are merged while the smaller is at least 1/[`MERGE_FACTOR`]
//!   of the other, so there are O(log n) segments and each entry is copied
//!   O(log n) times over the life of the index (no rebuild from scratch).
//! - A sealed segment of at least [`PdqIndexConfig::mih_min_len`] hashes gets
//!   MIH tables; smaller ones are scanned. Bulk loads ([`PdqIndex::extend_bulk`])
//!   defer the tables to one [`PdqIndex::build_tables`] at the end.
//! - Each search call picks, per segment, the engine its cost model says is
//!   faster for that many needles ([`PdqIndexConfig::engine_by_cost`]): a
//!   single query on a segment with tables goes to MIH, a large batch may
//!   scan (one scan pass serves 8 needles).
//! - Removal marks entries in per-segment bitmaps; merges drop them.

use crate::error::IndexError;
use crate::mih;
use crate::scan::ScanKernel;
use crate::segment::{Engine, Segment};
use crate::{EntryId, IndexStats, SegmentStats};
use std::collections::HashSet;
use tiaki_hash::pdq::{Dihedral, PdqHash, QUALITY_THRESHOLD};

/// A sealed segment is merged into the next larger one while it is at least
/// 1/MERGE_FACTOR of that one's size.
const MERGE_FACTOR: usize = 4;

/// Tuning of a [`PdqIndex`]. The defaults come from the measurements in
/// `docs/bench-index.md` and depend on the scan kernel the CPU supports
/// ([`default_mih_min_len`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdqIndexConfig {
    /// Sealed segments with at least this many hashes get multi-index
    /// hashing tables; smaller ones are scanned. Tests set 0 (always MIH) or
    /// `usize::MAX` (never) to force an engine.
    pub mih_min_len: usize,
    /// MIH is used for a query radius `r` only while `r / 8` (the radius
    /// each of the 8 substrings is probed with) is at most this; above it
    /// the number of probes grows as C(D, r/8) and the scan is faster.
    pub mih_max_sub_radius: u32,
    /// The delta is sealed into a segment once it holds this many hashes.
    pub delta_max: usize,
    /// Scan kernel; `None` picks the fastest the CPU supports.
    pub kernel: Option<ScanKernel>,
    /// `true` (default): on a segment with MIH tables, each search call uses
    /// MIH or the scan, whichever the cost model (`segment.rs`, calibrated in
    /// `docs/bench-index.md`) says is faster for its number of needles.
    /// `false`: MIH whenever the segment has tables and the radius allows
    /// (tests and benchmarks that force an engine). Not saved in the file.
    pub engine_by_cost: bool,
}

impl Default for PdqIndexConfig {
    fn default() -> Self {
        PdqIndexConfig {
            mih_min_len: default_mih_min_len(ScanKernel::detect()),
            mih_max_sub_radius: 3,
            delta_max: 1 << 16,
            kernel: None,
            engine_by_cost: true,
        }
    }
}

/// Default MIH threshold with the AVX-512 scan kernel: 2^18 = 262,144
/// hashes.
///
/// A single query (one needle, or one query's 8 dihedral variants: one scan
/// pass either way) costs the scan ~1.5 ns per hash, MIH ~75 ns per probe
/// with ~4,600 probes at this size (radius 31): the two meet here, and above
/// it MIH wins for single queries by a factor that grows with the size (15×
/// at 10 million). Segments this large therefore get tables, at 32 bytes per
/// hash (the index is then ~2.2× the raw hashes instead of 1.1×; figures in
/// `docs/bench-index.md`); whether a batch uses them is decided per call.
pub const DEFAULT_MIH_MIN_LEN: usize = 1 << 18;

/// Default MIH threshold with a scalar scan kernel: 2^17 = 131,072 hashes.
/// Without AVX-512 the scan is ~8× slower per batched needle, so MIH pays
/// for its memory earlier.
pub const DEFAULT_MIH_MIN_LEN_SCALAR: usize = 1 << 17;

/// The default [`PdqIndexConfig::mih_min_len`] for a scan kernel.
pub fn default_mih_min_len(kernel: ScanKernel) -> usize {
    match kernel {
        ScanKernel::Avx512 => DEFAULT_MIH_MIN_LEN,
        ScanKernel::Popcnt | ScanKernel::Portable => DEFAULT_MIH_MIN_LEN_SCALAR,
    }
}

/// One PDQ hash to index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdqEntry {
    pub hash: PdqHash,
    pub quality: u8,
    pub id: EntryId,
}

/// What a bulk insert did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsertReport {
    pub inserted: usize,
    /// Ids of entries refused because their quality was below
    /// [`QUALITY_THRESHOLD`].
    pub low_quality: Vec<EntryId>,
}

/// One indexed entry within the query radius.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Match {
    pub id: EntryId,
    /// The smallest distance over the query's variants (and over the
    /// entry's hashes, if the id was inserted with several).
    pub distance: u32,
    /// The query variant that gave `distance` (the first in
    /// [`Dihedral::ALL`] order on ties; `Orig` for plain hash queries).
    pub variant: Dihedral,
}

/// The exact PDQ Hamming index. See the crate docs for the design.
#[derive(Clone, Debug)]
pub struct PdqIndex {
    config: PdqIndexConfig,
    kernel: ScanKernel,
    /// Sealed segments, largest first.
    segments: Vec<Segment>,
    delta: Segment,
}

impl Default for PdqIndex {
    fn default() -> Self {
        PdqIndex::new(PdqIndexConfig::default())
    }
}

impl PdqIndex {
    pub fn new(config: PdqIndexConfig) -> Self {
        let kernel = config.kernel.unwrap_or_else(ScanKernel::detect);
        PdqIndex {
            config,
            kernel,
            segments: Vec::new(),
            delta: Segment::default(),
        }
    }

    pub fn config(&self) -> &PdqIndexConfig {
        &self.config
    }

    /// Sets [`PdqIndexConfig::engine_by_cost`] (not saved with the index).
    pub fn set_engine_by_cost(&mut self, on: bool) {
        self.config.engine_by_cost = on;
    }

    /// The scan kernel in use.
    pub fn kernel(&self) -> ScanKernel {
        self.kernel
    }

    /// Number of live (not removed) entries.
    pub fn len(&self) -> usize {
        self.segments.iter().map(Segment::live).sum::<usize>() + self.delta.live()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds one entry. A hash with quality below [`QUALITY_THRESHOLD`] is
    /// refused with [`IndexError::LowQuality`] and the index is unchanged.
    pub fn insert(&mut self, hash: PdqHash, quality: u8, id: EntryId) -> Result<(), IndexError> {
        if quality < QUALITY_THRESHOLD {
            return Err(IndexError::LowQuality {
                id,
                quality,
                min: QUALITY_THRESHOLD,
            });
        }
        self.delta.push(&hash, id);
        if self.delta.len() >= self.config.delta_max {
            self.flush()?;
        }
        Ok(())
    }

    /// [`Self::extend`] for bulk loads: the segments sealed meanwhile get no
    /// MIH tables (each merge would rebuild them); call
    /// [`Self::build_tables`] once the load is done. Queries stay exact
    /// meanwhile (segments without tables are scanned).
    pub fn extend_bulk<I: IntoIterator<Item = PdqEntry>>(
        &mut self,
        entries: I,
    ) -> Result<InsertReport, IndexError> {
        self.extend_inner(entries, false)
    }

    /// Builds the MIH tables every sealed segment is due
    /// ([`PdqIndexConfig::mih_min_len`]) and lacks.
    pub fn build_tables(&mut self) -> Result<(), IndexError> {
        for s in &mut self.segments {
            s.seal(&self.config, true)?;
        }
        Ok(())
    }

    /// Adds many entries, skipping (and reporting) low-quality ones. The new
    /// entries are sealed as one segment at the end, so a bulk load builds
    /// its tables once.
    pub fn extend<I: IntoIterator<Item = PdqEntry>>(
        &mut self,
        entries: I,
    ) -> Result<InsertReport, IndexError> {
        self.extend_inner(entries, true)
    }

    fn extend_inner<I: IntoIterator<Item = PdqEntry>>(
        &mut self,
        entries: I,
        tables: bool,
    ) -> Result<InsertReport, IndexError> {
        let mut report = InsertReport::default();
        for e in entries {
            if e.quality < QUALITY_THRESHOLD {
                report.low_quality.push(e.id);
            } else {
                self.delta.push(&e.hash, e.id);
                report.inserted += 1;
            }
        }
        if self.delta.len() >= self.config.delta_max {
            self.seal_delta(tables)?;
        }
        Ok(report)
    }

    /// Seals the delta into a segment and merges segments as the size policy
    /// says. Called automatically; call it to make a bulk load's tables now.
    pub fn flush(&mut self) -> Result<(), IndexError> {
        self.seal_delta(true)
    }

    fn seal_delta(&mut self, tables: bool) -> Result<(), IndexError> {
        if self.delta.len() > 0 {
            let seg = std::mem::take(&mut self.delta);
            self.segments.push(seg);
        }
        while let [.., prev, last] = self.segments.as_slice() {
            let small = last.live();
            let merged = prev.live() + small;
            if small * MERGE_FACTOR < prev.live() || merged > mih::MAX_LEN {
                break;
            }
            let merged = Segment::merge(&[prev, last]);
            self.segments.truncate(self.segments.len() - 2);
            self.segments.push(merged);
        }
        self.segments.retain(|s| s.live() > 0);
        for s in &mut self.segments {
            s.seal(&self.config, tables)?;
        }
        Ok(())
    }

    /// Merges everything (delta included) into as few segments as possible,
    /// dropping removed entries, and builds MIH tables where due.
    pub fn compact(&mut self) -> Result<(), IndexError> {
        let mut parts: Vec<Segment> = std::mem::take(&mut self.segments);
        parts.push(std::mem::take(&mut self.delta));
        let mut out = Vec::new();
        let mut group: Vec<&Segment> = Vec::new();
        let mut size = 0;
        for s in &parts {
            if size + s.live() > mih::MAX_LEN && !group.is_empty() {
                out.push(Segment::merge(&group));
                group.clear();
                size = 0;
            }
            size += s.live();
            group.push(s);
        }
        if size > 0 {
            out.push(Segment::merge(&group));
        }
        drop(group);
        out.sort_by_key(|s| std::cmp::Reverse(s.live()));
        self.segments = out;
        for s in &mut self.segments {
            s.seal(&self.config, true)?;
        }
        Ok(())
    }

    /// Removes every entry with this id; returns how many were removed.
    pub fn remove(&mut self, id: EntryId) -> usize {
        self.remove_ids([id])
    }

    /// Removes every entry whose id is in `ids`; returns how many. Cost:
    /// one pass over the ids of the whole index.
    pub fn remove_ids<I: IntoIterator<Item = EntryId>>(&mut self, ids: I) -> usize {
        let set: HashSet<EntryId> = ids.into_iter().collect();
        if set.is_empty() {
            return 0;
        }
        self.segments
            .iter_mut()
            .chain(std::iter::once(&mut self.delta))
            .map(|s| s.remove(&set))
            .sum()
    }

    /// Low-level search: calls `hit(needle_index, entry_id, distance)` for
    /// every live entry within `radius` of each needle, in no particular
    /// order. An entry is reported at most once per needle.
    pub fn search(
        &self,
        needles: &[PdqHash],
        radius: u32,
        hit: &mut dyn FnMut(usize, EntryId, u32),
    ) {
        for s in self.segments.iter().chain(std::iter::once(&self.delta)) {
            s.search(needles, radius, &self.config, self.kernel, hit);
        }
    }

    /// Entries within `radius` of any of the 8 dihedral variants of a query
    /// (in [`Dihedral::ALL`] order), each with its best variant.
    pub fn query_dihedral(&self, variants: &[PdqHash; 8], radius: u32) -> Vec<Match> {
        self.query_dihedral_batch(std::slice::from_ref(variants), radius)
            .pop()
            .unwrap_or_default()
    }

    /// [`Self::query_dihedral`] for many queries in one pass over the index.
    pub fn query_dihedral_batch(&self, queries: &[[PdqHash; 8]], radius: u32) -> Vec<Vec<Match>> {
        let needles: Vec<PdqHash> = queries.iter().flatten().copied().collect();
        self.collect(&needles, radius, queries.len(), |i| {
            (i / 8, Dihedral::ALL.get(i % 8).copied())
        })
    }

    /// Entries within `radius` of any of the given `(variant, hash)` pairs.
    pub fn query_variants(&self, variants: &[(Dihedral, PdqHash)], radius: u32) -> Vec<Match> {
        let needles: Vec<PdqHash> = variants.iter().map(|v| v.1).collect();
        self.collect(&needles, radius, 1, |i| (0, variants.get(i).map(|v| v.0)))
            .pop()
            .unwrap_or_default()
    }

    /// Entries within `radius` of one hash (variant `Orig`).
    pub fn query(&self, hash: &PdqHash, radius: u32) -> Vec<Match> {
        self.query_batch(std::slice::from_ref(hash), radius)
            .pop()
            .unwrap_or_default()
    }

    /// One result list per needle, in one pass over the index. Identical
    /// needles are searched once, which is what makes vPDQ lookups cheap (a
    /// video's frame hashes repeat a lot): pass every frame hash of a video
    /// and aggregate the per-frame results by video id.
    pub fn query_batch(&self, needles: &[PdqHash], radius: u32) -> Vec<Vec<Match>> {
        let mut order: Vec<usize> = (0..needles.len()).collect();
        order.sort_unstable_by_key(|&i| needles.get(i).copied());
        order.dedup_by_key(|i| needles.get(*i).copied());
        let unique: Vec<PdqHash> = order
            .iter()
            .filter_map(|&i| needles.get(i).copied())
            .collect();
        let found = self.collect(&unique, radius, unique.len(), |i| (i, Some(Dihedral::Orig)));
        let mut out = vec![Vec::new(); needles.len()];
        for (i, n) in needles.iter().enumerate() {
            if let (Ok(u), Some(slot)) = (unique.binary_search(n), out.get_mut(i))
                && let Some(m) = found.get(u)
            {
                slot.clone_from(m);
            }
        }
        out
    }

    /// Runs the needles and folds hits into one list per query, keeping per
    /// id the smallest distance (first variant on ties), sorted by distance
    /// then id.
    fn collect(
        &self,
        needles: &[PdqHash],
        radius: u32,
        queries: usize,
        who: impl Fn(usize) -> (usize, Option<Dihedral>),
    ) -> Vec<Vec<Match>> {
        // (id, distance, needle index) per query; the needle index orders
        // variants exactly as the caller listed them.
        let mut hits: Vec<Vec<(EntryId, u32, usize)>> = vec![Vec::new(); queries];
        self.search(needles, radius, &mut |j, id, d| {
            if let Some(v) = hits.get_mut(who(j).0) {
                v.push((id, d, j));
            }
        });
        hits.into_iter()
            .map(|mut v| {
                v.sort_unstable();
                v.dedup_by_key(|h| h.0);
                let mut ms: Vec<Match> = v
                    .into_iter()
                    .map(|(id, distance, j)| Match {
                        id,
                        distance,
                        variant: who(j).1.unwrap_or(Dihedral::Orig),
                    })
                    .collect();
                ms.sort_unstable_by_key(|m| (m.distance, m.id));
                ms
            })
            .collect()
    }

    /// Every live entry as `(hash, id)`, in storage order.
    pub fn entries(&self) -> impl Iterator<Item = (PdqHash, EntryId)> + '_ {
        self.segments
            .iter()
            .chain(std::iter::once(&self.delta))
            .flat_map(Segment::entries)
    }

    /// Sizes and engines of the segments, and heap memory.
    pub fn stats(&self) -> IndexStats {
        let seg = |s: &Segment, delta: bool| SegmentStats {
            len: s.len(),
            live: s.live(),
            engine: s.engine(),
            delta,
            heap_bytes: s.heap_bytes(),
            mih_probes_r31: s
                .mih
                .as_ref()
                .map(|m| mih::probes_per_needle(m.prefix_bits, 3)),
        };
        let mut segments: Vec<SegmentStats> = self.segments.iter().map(|s| seg(s, false)).collect();
        segments.push(seg(&self.delta, true));
        IndexStats {
            live: self.len(),
            heap_bytes: segments.iter().map(|s| s.heap_bytes).sum(),
            kernel: self.kernel,
            segments,
        }
    }

    /// Which engine a single query (one needle) at `radius` uses on the
    /// largest segment.
    pub fn engine_for(&self, radius: u32) -> Engine {
        self.engine_for_batch(radius, 1)
    }

    /// Which engine a search call with `needles` needles at `radius` uses on
    /// the largest segment.
    pub fn engine_for_batch(&self, radius: u32, needles: usize) -> Engine {
        match self.segments.first() {
            Some(s) if s.mih_chosen(radius, needles, &self.config, self.kernel) => Engine::Mih,
            _ => Engine::Scan,
        }
    }

    // --- persistence hooks (see persist.rs) ---

    pub(crate) fn parts(&self) -> (&[Segment], &Segment) {
        (&self.segments, &self.delta)
    }

    pub(crate) fn from_parts(
        config: PdqIndexConfig,
        segments: Vec<Segment>,
        delta: Segment,
    ) -> Self {
        let mut idx = PdqIndex::new(config);
        idx.segments = segments;
        idx.delta = delta;
        idx
    }
}
