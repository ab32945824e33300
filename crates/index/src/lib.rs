//! Exact in-memory indexes of known media hashes.
//!
//! Two indexes, saved together in one file ([`KnownIndex`]):
//!
//! - [`DigestIndex`]: MD5 / SHA-1 / SHA-256 digest → every entry id stored
//!   under it (sorted fixed-size keys with a radix directory, plus a small
//!   hash-map delta for inserts).
//! - [`PdqIndex`]: every entry whose PDQ hash is within Hamming distance `d`
//!   of a query, with the distance and which of the query's dihedral variants
//!   matched best.
//!
//! # The PDQ index
//!
//! **Invariant: results are exact.** For any radius, a query returns exactly
//! the live entries a linear scan over all inserted (and not removed) hashes
//! would return, with the same distances: never an approximation. Property
//! tests (`tests/index/oracle.rs`) check this against a naive scan on random and
//! planted data, at radii 0, 31 and 63, with either engine forced, after
//! incremental inserts, removals and a save/load round trip.
//!
//! **Layout.** The index is a small LSM: an append-only *delta* and sealed
//! *segments* of decreasing size (see [`pdq`](PdqIndex) for the merge policy),
//! so inserts never rebuild the index from scratch. Each segment stores its
//! hashes in a blocked structure-of-arrays layout (`planes`) and its caller
//! supplied ids in a parallel array (`u32` while every id fits).
//!
//! **Two engines, chosen per segment and per search call** ([`PdqIndexConfig`]):
//!
//! - *Linear scan* (`scan`): up to 8 needles per pass over L2-sized chunks, a
//!   96/128-bit first stage that rejects random pairs exactly, and a runtime
//!   dispatched AVX-512 VPOPCNTDQ kernel (scalar `popcnt` otherwise). Used for
//!   the delta, for segments below [`PdqIndexConfig::mih_min_len`], for
//!   radii above what MIH is configured for, and for batches large enough
//!   that one pass per 8 needles is cheaper than MIH per needle.
//! - *Multi-index hashing* (`mih`): 8 × 32-bit substrings, each in a table
//!   sorted by a radix prefix with the next bits of the substring packed next
//!   to the position; exact by the pigeonhole principle.
//!
//! Segments of at least [`DEFAULT_MIH_MIN_LEN`] = 2^18 hashes (2^17 with a
//! scalar kernel) get MIH tables (32 more bytes per hash), and each search
//! call uses MIH or the scan on such a segment by a cost model over its
//! number of needles ([`PdqIndexConfig::engine_by_cost`]): a single query
//! goes to MIH (at 10 million hashes ~0.75 ms per needle against ~15 ms for
//! a scan), a large batch on a few million hashes scans. Measurements:
//! `docs/bench-index.md`.
//!
//! **Quality.** Hashes with quality below
//! [`QUALITY_THRESHOLD`](tiaki_hash::pdq::QUALITY_THRESHOLD) (50) never enter
//! the index: [`PdqIndex::insert`] refuses them and [`PdqIndex::extend`]
//! reports their ids.
//!
//! **Removal.** [`PdqIndex::remove_ids`] marks entries deleted in per-segment
//! bitmaps (MIH tables are never rewritten for a deletion); merges drop them.
//!
//! **Ids.** Entries carry a caller-chosen [`EntryId`]. Several entries may
//! share an id (say, the frames of one video); query results report each id
//! once, at its smallest distance.
//!
//! **Threads.** Queries take `&self` and the index is `Send + Sync`, so one
//! index (behind an `Arc`) serves any number of threads; each call runs on
//! the calling thread only.
//!
//! # Persistence
//!
//! [`KnownIndex::save`] / [`KnownIndex::load`] write and read a versioned
//! binary file with a magic, a CRC-32 and the arrays in their in-memory form
//! (MIH tables included), 64-byte aligned. [`KnownIndex::load_path`] maps the
//! file and uses the sealed segments in place (`persist` has the format), so
//! opening is the checksum plus validation, without a copy.
//!
//! ```
//! use tiaki_index::{PdqIndex, PdqEntry};
//! use tiaki_hash::pdq::{PdqHash, MATCH_DISTANCE};
//!
//! let mut index = PdqIndex::default();
//! let known = PdqHash([0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0x0f0f_0f0f_0f0f_0f0f, 0xf0f0_f0f0_f0f0_f0f0]);
//! index.insert(known, 100, 7).unwrap();
//! assert!(index.insert(known, 10, 8).is_err()); // low quality: refused
//!
//! let mut near = known;
//! near.0[0] ^= 0b1011; // 3 bits away
//! let found = index.query(&near, MATCH_DISTANCE);
//! assert_eq!((found[0].id, found[0].distance), (7, 3));
//! ```

mod buf;
mod digest;
mod error;
mod mih;
mod pdq;
mod persist;
mod planes;
mod scan;
mod segment;

pub use digest::{Digest, DigestIndex, DigestKind};
pub use error::IndexError;
pub use pdq::{
    DEFAULT_MIH_MIN_LEN, DEFAULT_MIH_MIN_LEN_SCALAR, InsertReport, Match, PdqEntry, PdqIndex,
    PdqIndexConfig, default_mih_min_len,
};
pub use scan::ScanKernel;
pub use segment::Engine;

use std::io::{Read, Write};
use std::path::Path;

// Queries take `&self`: one index can serve many threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<KnownIndex>();
};

pub use tiaki_types::hashes::EntryId;

/// Version of the index file format this build writes and reads.
pub const FILE_FORMAT_VERSION: u32 = persist::VERSION;

/// Size and engine of one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentStats {
    /// Hashes stored, removed ones included.
    pub len: usize,
    /// Hashes not removed.
    pub live: usize,
    pub engine: Engine,
    /// Whether this is the append-only delta.
    pub delta: bool,
    /// Bytes of its arrays, in memory or mapped from the file it was opened from.
    pub heap_bytes: usize,
    /// For MIH segments: directory buckets probed per needle at radius 31.
    pub mih_probes_r31: Option<u64>,
}

/// What [`PdqIndex::stats`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexStats {
    pub live: usize,
    pub heap_bytes: usize,
    pub kernel: ScanKernel,
    pub segments: Vec<SegmentStats>,
}

/// The digest index and the PDQ index, saved and loaded as one file.
#[derive(Clone, Debug, Default)]
pub struct KnownIndex {
    pub digests: DigestIndex,
    pub pdq: PdqIndex,
}

impl KnownIndex {
    pub fn new(pdq_config: PdqIndexConfig) -> Self {
        KnownIndex {
            digests: DigestIndex::new(),
            pdq: PdqIndex::new(pdq_config),
        }
    }

    /// Writes the index to `w` (buffer it: many small writes precede the
    /// bulk arrays).
    pub fn save(&self, w: impl Write) -> Result<(), IndexError> {
        persist::save(w, &self.digests, &self.pdq)
    }

    /// Reads an index written by [`KnownIndex::save`] (into one buffer; the
    /// sealed segments' arrays are used in place, not copied again).
    pub fn load(r: impl Read) -> Result<Self, IndexError> {
        let (digests, pdq) = persist::load(persist::read_all(r)?, 0)?;
        Ok(KnownIndex { digests, pdq })
    }

    /// Saves to `path` atomically: writes `path` + `.tmp`, syncs it, then
    /// renames it over `path`, so a crash never leaves a half-written index.
    pub fn save_path(&self, path: impl AsRef<Path>) -> Result<(), IndexError> {
        let path = path.as_ref();
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp_name);
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        self.save(&mut w)?;
        let file = w
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Opens the index saved at `path`: the file is memory-mapped and the
    /// sealed segments are used in place, so opening costs the checksum and
    /// the structural validation, not a copy (10 million hashes with MIH
    /// tables: see `docs/bench-index.md`).
    pub fn load_path(path: impl AsRef<Path>) -> Result<Self, IndexError> {
        Self::load_path_after_header(path, &mut [])
    }

    /// [`KnownIndex::load_path`] for a file with `header.len()` bytes of the
    /// caller's in front of the index (copied into `header`). Keep the header
    /// a multiple of 64 bytes long so the arrays are aligned in the mapping.
    pub fn load_path_after_header(
        path: impl AsRef<Path>,
        header: &mut [u8],
    ) -> Result<Self, IndexError> {
        let file = std::fs::File::open(path)?;
        let bytes = persist::map_file(&file)?;
        let head = bytes.as_slice().get(..header.len()).ok_or_else(|| {
            IndexError::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof))
        })?;
        header.copy_from_slice(head);
        let (digests, pdq) = persist::load(bytes, header.len())?;
        Ok(KnownIndex { digests, pdq })
    }
}
