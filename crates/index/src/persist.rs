//! The index file format (version 1).
//!
//! All integers are little-endian. Arrays are written as their raw in-memory
//! bytes (on little-endian machines a bulk `write_all`/`read_exact`, no
//! per-element work), so loading is bounded by the disk or page cache, and
//! the MIH tables are stored rather than rebuilt.
//!
//! ```text
//! header   "TIAKIIDX" | version u32 = 1 | flags u32 = 0
//! sections, each starting with a 4-byte tag:
//!   "DGS1"  for md5, sha1, sha256:  n u64 | n keys (16/20/32 B) | n ids u64
//!   "PDQ1"  mih_min_len u64 | mih_max_sub_radius u32 | delta_max u64
//!           | sealed segment count u32 | segments… | the delta segment
//!   segment: len u64 | flags u32 (bit 0 = has MIH, bit 1 = 64-bit ids)
//!           | lo lines, hi lines (4·⌈len/16⌉ × 64 B each: per block of 16
//!             hashes, one line per 32-bit substring, u32 lanes)
//!           | len ids (u32, or u64 with flag bit 1)
//!           | bitmap word count u64 (0 or ⌈len/64⌉) | bitmap words u64
//!           | if MIH: prefix_bits u32 | suffix_bits u32 | pos_bits u32
//!           |         8 × (2^prefix_bits + 1 dir u32 | len entries u32)
//! trailer  "END!" | CRC-32 (IEEE) of every byte before it, u32
//! ```
//!
//! Loading checks the magic, the version and the checksum, then every
//! structural invariant the query code relies on (lengths, directory
//! monotonicity, positions in range), so a damaged file is an error, never
//! a wrong answer.

use crate::digest::{DigestIndex, DigestTable};
use crate::error::IndexError;
use crate::mih::{Mih, MihTable, SUBSTRINGS};
use crate::pdq::{PdqIndex, PdqIndexConfig};
use crate::planes::{Line, Planes};
use crate::segment::{Ids, Segment};
use bytemuck::Pod;
use std::io::{Read, Write};

const MAGIC: &[u8; 8] = b"TIAKIIDX";
pub(crate) const VERSION: u32 = 1;
const TAG_DIGESTS: &[u8; 4] = b"DGS1";
const TAG_PDQ: &[u8; 4] = b"PDQ1";
const TAG_END: &[u8; 4] = b"END!";

/// Arrays are read in pieces of at most this many bytes, so a corrupt
/// length fails at end of file instead of first touching a huge allocation.
const READ_CHUNK: usize = 64 << 20;

/// A `Write` that checksums what passes through it.
struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A `Read` that checksums what passes through it.
struct CrcReader<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for CrcReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }
}

/// Fixed-width integers (and arrays of them) stored little-endian.
trait LeWords: Pod {
    /// Converts between native and little-endian order, in place.
    fn swap_le(v: &mut [Self]);
}

impl LeWords for u32 {
    fn swap_le(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = x.to_le());
    }
}
impl LeWords for u64 {
    fn swap_le(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = x.to_le());
    }
}
impl LeWords for Line {
    fn swap_le(v: &mut [Self]) {
        u32::swap_le(bytemuck::cast_slice_mut(v));
    }
}
impl<const N: usize> LeWords for [u8; N] {
    fn swap_le(_: &mut [Self]) {}
}

fn put_slice<T: LeWords>(w: &mut impl Write, v: &[T]) -> std::io::Result<()> {
    if cfg!(target_endian = "little") {
        w.write_all(bytemuck::cast_slice(v))
    } else {
        for chunk in v.chunks(4096) {
            let mut c = chunk.to_vec();
            T::swap_le(&mut c);
            w.write_all(bytemuck::cast_slice(&c))?;
        }
        Ok(())
    }
}

fn put_u32(w: &mut impl Write, x: u32) -> std::io::Result<()> {
    w.write_all(&x.to_le_bytes())
}

fn put_u64(w: &mut impl Write, x: u64) -> std::io::Result<()> {
    w.write_all(&x.to_le_bytes())
}

fn get_u32(r: &mut impl Read) -> Result<u32, IndexError> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn get_u64(r: &mut impl Read) -> Result<u64, IndexError> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn get_len(r: &mut impl Read) -> Result<usize, IndexError> {
    usize::try_from(get_u64(r)?).map_err(|_| IndexError::Corrupt("length does not fit in memory"))
}

fn get_vec<T: LeWords>(r: &mut impl Read, len: usize) -> Result<Vec<T>, IndexError> {
    let mut v: Vec<T> = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| IndexError::Corrupt("array length too large"))?;
    let per_chunk = (READ_CHUNK / size_of::<T>().max(1)).max(1);
    while v.len() < len {
        let old = v.len();
        v.resize(old + per_chunk.min(len - old), T::zeroed());
        if let Some(tail) = v.get_mut(old..) {
            r.read_exact(bytemuck::cast_slice_mut(tail))?;
        }
    }
    T::swap_le(&mut v);
    Ok(v)
}

/// Writes the digest and PDQ indexes as one file.
pub(crate) fn save(w: impl Write, digests: &DigestIndex, pdq: &PdqIndex) -> Result<(), IndexError> {
    let mut w = CrcWriter {
        inner: w,
        crc: crc32fast::Hasher::new(),
    };
    w.write_all(MAGIC)?;
    put_u32(&mut w, VERSION)?;
    put_u32(&mut w, 0)?;

    w.write_all(TAG_DIGESTS)?;
    put_table(&mut w, &digests.md5)?;
    put_table(&mut w, &digests.sha1)?;
    put_table(&mut w, &digests.sha256)?;

    w.write_all(TAG_PDQ)?;
    let c = pdq.config();
    put_u64(&mut w, c.mih_min_len as u64)?;
    put_u32(&mut w, c.mih_max_sub_radius)?;
    put_u64(&mut w, c.delta_max as u64)?;
    let (segments, delta) = pdq.parts();
    put_u32(
        &mut w,
        u32::try_from(segments.len()).map_err(|_| IndexError::Corrupt("too many segments"))?,
    )?;
    for s in segments.iter().chain(std::iter::once(delta)) {
        put_segment(&mut w, s)?;
    }

    w.write_all(TAG_END)?;
    let crc = w.crc.clone().finalize();
    let mut inner = w.inner;
    put_u32(&mut inner, crc)?;
    inner.flush()?;
    Ok(())
}

fn put_table<const N: usize>(w: &mut impl Write, t: &DigestTable<N>) -> Result<(), IndexError>
where
    [u8; N]: Pod,
{
    // Pending inserts are merged on the fly so saving needs only `&self`.
    let (keys, ids) = t.merged();
    put_u64(w, keys.len() as u64)?;
    put_slice(w, &keys)?;
    put_slice(w, &ids)?;
    Ok(())
}

fn put_segment(w: &mut impl Write, s: &Segment) -> Result<(), IndexError> {
    put_u64(w, s.len() as u64)?;
    let wide = matches!(s.ids, Ids::Wide(_));
    put_u32(w, u32::from(s.mih.is_some()) | (u32::from(wide) << 1))?;
    put_slice(w, &s.planes.lo)?;
    put_slice(w, &s.planes.hi)?;
    match &s.ids {
        Ids::Narrow(v) => put_slice(w, v)?,
        Ids::Wide(v) => put_slice(w, v)?,
    }
    put_u64(w, s.deleted.len() as u64)?;
    put_slice(w, &s.deleted)?;
    if let Some(m) = &s.mih {
        put_u32(w, m.prefix_bits)?;
        put_u32(w, m.suffix_bits)?;
        put_u32(w, m.pos_bits)?;
        for t in &m.tables {
            put_slice(w, &t.dir)?;
            put_slice(w, &t.entries)?;
        }
    }
    Ok(())
}

/// Reads a file written by [`save`].
pub(crate) fn load(r: impl Read) -> Result<(DigestIndex, PdqIndex), IndexError> {
    let mut r = CrcReader {
        inner: r,
        crc: crc32fast::Hasher::new(),
    };
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(IndexError::BadMagic);
    }
    let version = get_u32(&mut r)?;
    if version != VERSION {
        return Err(IndexError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    let _flags = get_u32(&mut r)?;

    let mut digests = DigestIndex::default();
    let mut pdq = PdqIndex::default();
    loop {
        let mut tag = [0u8; 4];
        r.read_exact(&mut tag)?;
        match &tag {
            TAG_DIGESTS => {
                digests.md5 = get_table(&mut r)?;
                digests.sha1 = get_table(&mut r)?;
                digests.sha256 = get_table(&mut r)?;
            }
            TAG_PDQ => pdq = get_pdq(&mut r)?,
            TAG_END => break,
            _ => return Err(IndexError::Corrupt("unknown section tag")),
        }
    }
    let computed = r.crc.clone().finalize();
    let stored = get_u32(&mut r.inner)?;
    if stored != computed {
        return Err(IndexError::Checksum { stored, computed });
    }
    Ok((digests, pdq))
}

fn get_table<const N: usize>(r: &mut impl Read) -> Result<DigestTable<N>, IndexError>
where
    [u8; N]: Pod,
{
    let n = get_len(r)?;
    let keys = get_vec::<[u8; N]>(r, n)?;
    let ids = get_vec::<u64>(r, n)?;
    DigestTable::from_sorted(keys, ids)
}

fn get_pdq(r: &mut impl Read) -> Result<PdqIndex, IndexError> {
    let config = PdqIndexConfig {
        mih_min_len: get_len(r)?,
        mih_max_sub_radius: get_u32(r)?,
        delta_max: get_len(r)?,
        kernel: None,
    };
    let count = get_u32(r)?;
    let mut segments = Vec::new();
    for _ in 0..count {
        segments.push(get_segment(r)?);
    }
    let delta = get_segment(r)?;
    if delta.mih.is_some() {
        return Err(IndexError::Corrupt("delta segment with MIH tables"));
    }
    Ok(PdqIndex::from_parts(config, segments, delta))
}

fn get_segment(r: &mut impl Read) -> Result<Segment, IndexError> {
    let len = get_len(r)?;
    let flags = get_u32(r)?;
    let lines = Planes::lines_for(len).ok_or(IndexError::Corrupt("segment length"))?;
    let lo = get_vec::<Line>(r, lines)?;
    let hi = get_vec::<Line>(r, lines)?;
    let planes = Planes { lo, hi, len };
    if flags & !3 != 0 {
        return Err(IndexError::Corrupt("unknown segment flags"));
    }
    let ids = if flags & 2 == 2 {
        Ids::Wide(get_vec::<u64>(r, len)?)
    } else {
        Ids::Narrow(get_vec::<u32>(r, len)?)
    };
    let words = get_len(r)?;
    if words != 0 && words != len.div_ceil(64) {
        return Err(IndexError::Corrupt("deletion bitmap length"));
    }
    let deleted = get_vec::<u64>(r, words)?;
    // Recount rather than trust a stored count; bits past `len` must be clear.
    let deleted_count = deleted.iter().map(|w| w.count_ones() as usize).sum();
    if len % 64 != 0 && deleted.last().is_some_and(|w| w >> (len % 64) != 0) {
        return Err(IndexError::Corrupt("deletion bit past the end"));
    }
    let mih = if flags & 1 == 1 {
        let prefix_bits = get_u32(r)?;
        let suffix_bits = get_u32(r)?;
        let pos_bits = get_u32(r)?;
        // Checked before sizing any array by them.
        if (prefix_bits, suffix_bits, pos_bits) != crate::mih::params(len) {
            return Err(IndexError::Corrupt("MIH parameters"));
        }
        let mut tables = Vec::with_capacity(SUBSTRINGS);
        for _ in 0..SUBSTRINGS {
            let dir = get_vec::<u32>(r, (1usize << prefix_bits) + 1)?;
            let entries = get_vec::<u32>(r, len)?;
            tables.push(MihTable { dir, entries });
        }
        let m = Mih {
            prefix_bits,
            suffix_bits,
            pos_bits,
            tables,
        };
        if !m.is_consistent(len) {
            return Err(IndexError::Corrupt("MIH tables"));
        }
        Some(m)
    } else {
        None
    };
    if !planes.is_consistent() || ids.len() != len {
        return Err(IndexError::Corrupt("segment arrays"));
    }
    Ok(Segment {
        planes,
        ids,
        deleted,
        deleted_count,
        mih,
    })
}
