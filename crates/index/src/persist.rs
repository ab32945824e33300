//! The index file format (version 3; 3 sizes the MIH directories of segments up to 2^21 hashes for 2^5-entry buckets, 2 for 2^3).
//!
//! All integers are little-endian. Arrays are written as their raw in-memory
//! bytes, each starting at a multiple of 64 bytes from the start of the index
//! (zero padding before it), so that an opened file is used in place: the
//! file is memory-mapped ([`map_file`]) and the sealed segments' planes, ids
//! and MIH tables are views into it ([`Buf`]), with no copy and no rebuild.
//!
//! ```text
//! header   "TIAKIIDX" | version u32 = 3 | flags u32 = 0
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
//!   every array above is preceded by zero bytes up to a multiple of 64
//! trailer  "END!" | CRC-32 (IEEE) of every byte before it, u32
//! ```
//!
//! Opening checks the magic, the version and the checksum, then every
//! structural invariant the query code relies on (lengths, directory
//! monotonicity, positions in range), so a damaged file is an error, never
//! a wrong answer or a panic. An array that is misaligned in memory (a file
//! read into an unaligned buffer, a header of another length in front) or a
//! big-endian machine gets a copy instead of a view: alignment is a matter
//! of speed, never of correctness.

use crate::buf::{Buf, Bytes};
use crate::digest::{DigestIndex, DigestTable};
use crate::error::IndexError;
use crate::mih::{Mih, MihTable, SUBSTRINGS};
use crate::pdq::{PdqIndex, PdqIndexConfig};
use crate::planes::{Line, Planes};
use crate::segment::{Ids, Segment};
use bytemuck::Pod;
use std::io::{Read, Write};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"TIAKIIDX";
pub(crate) const VERSION: u32 = 3;
const TAG_DIGESTS: &[u8; 4] = b"DGS1";
const TAG_PDQ: &[u8; 4] = b"PDQ1";
const TAG_END: &[u8; 4] = b"END!";

/// Arrays start at multiples of this many bytes from the start of the index.
const ALIGN: usize = 64;

/// A `Write` that checksums what passes through it and counts the bytes.
struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
    pos: u64,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(buf.get(..n).unwrap_or(buf));
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> CrcWriter<W> {
    /// Zero bytes up to the next multiple of [`ALIGN`].
    fn pad(&mut self) -> std::io::Result<()> {
        let rem = (self.pos % ALIGN as u64) as usize;
        if rem != 0 {
            self.write_all(&[0u8; ALIGN][..ALIGN - rem])?;
        }
        Ok(())
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

fn put_slice<T: LeWords, W: Write>(w: &mut CrcWriter<W>, v: &[T]) -> std::io::Result<()> {
    w.pad()?;
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

/// Writes the digest and PDQ indexes as one file.
pub(crate) fn save(w: impl Write, digests: &DigestIndex, pdq: &PdqIndex) -> Result<(), IndexError> {
    let mut w = CrcWriter {
        inner: w,
        crc: crc32fast::Hasher::new(),
        pos: 0,
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

fn put_table<const N: usize, W: Write>(
    w: &mut CrcWriter<W>,
    t: &DigestTable<N>,
) -> Result<(), IndexError>
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

fn put_segment<W: Write>(w: &mut CrcWriter<W>, s: &Segment) -> Result<(), IndexError> {
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

/// Maps an index file read-only, its pages read in at once.
pub(crate) fn map_file(file: &std::fs::File) -> Result<Bytes, IndexError> {
    // SAFETY: the mapping is read-only and lives as long as the views into
    // it (each holds the `Arc<Bytes>`). Mapping a file is sound only while no
    // one truncates or rewrites it in place (that would change or unmap
    // memory behind `&[u8]`): Tiaki never does either to an index file, it
    // writes a new file and renames it over the old one
    // (`KnownIndex::save_path`, core's `write_index`), which leaves the
    // mapped inode untouched. A file changed by hand meanwhile is outside
    // that contract, as for any mapped file.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(file)? };
    Ok(Bytes::Mapped(map))
}

/// Reads everything from `r` into one 64-byte aligned buffer.
pub(crate) fn read_all(mut r: impl Read) -> Result<Bytes, IndexError> {
    let mut v: Vec<Line> = Vec::new();
    let mut len = 0usize;
    loop {
        if len == v.len() * ALIGN {
            let more = (v.len()).clamp(1 << 10, 1 << 20);
            v.try_reserve_exact(more)
                .map_err(|_| IndexError::Corrupt("index too large for memory"))?;
            v.resize(v.len() + more, Line::default());
        }
        let buf: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
        let Some(free) = buf.get_mut(len..) else {
            break;
        };
        match r.read(free) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    v.truncate(len.div_ceil(ALIGN));
    v.shrink_to_fit();
    Ok(Bytes::Heap(v, len))
}

fn eof() -> IndexError {
    IndexError::Io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof))
}

/// A cursor over the bytes of an index that starts at byte `base`.
struct Src {
    bytes: Arc<Bytes>,
    base: usize,
    pos: usize,
}

impl Src {
    fn take(&mut self, n: usize) -> Result<&[u8], IndexError> {
        let end = self.pos.checked_add(n).ok_or_else(eof)?;
        let b = self.bytes.as_slice().get(self.pos..end).ok_or_else(eof)?;
        self.pos = end;
        Ok(b)
    }

    fn tag(&mut self) -> Result<[u8; 4], IndexError> {
        let mut t = [0u8; 4];
        t.copy_from_slice(self.take(4)?);
        Ok(t)
    }

    fn u32(&mut self) -> Result<u32, IndexError> {
        Ok(u32::from_le_bytes(self.tag()?))
    }

    fn u64(&mut self) -> Result<u64, IndexError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(b))
    }

    fn len(&mut self) -> Result<usize, IndexError> {
        usize::try_from(self.u64()?)
            .map_err(|_| IndexError::Corrupt("length does not fit in memory"))
    }

    /// `len` elements after the padding: a view into the bytes where it can
    /// be one, else a copy.
    fn array<T: LeWords>(&mut self, len: usize) -> Result<Buf<T>, IndexError> {
        let rem = (self.pos - self.base) % ALIGN;
        if rem != 0 {
            self.take(ALIGN - rem)?;
        }
        let start = self.pos;
        let n = len.checked_mul(size_of::<T>()).ok_or_else(eof)?;
        self.take(n)?;
        let raw = self
            .bytes
            .as_slice()
            .get(start..start + n)
            .ok_or_else(eof)?;
        if cfg!(target_endian = "little")
            && let Some(b) = Buf::shared(&self.bytes, start, len)
        {
            return Ok(b);
        }
        let mut v: Vec<T> = Vec::new();
        v.try_reserve_exact(len)
            .map_err(|_| IndexError::Corrupt("array too large for memory"))?;
        v.resize(len, T::zeroed());
        let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut v);
        if dst.len() != raw.len() {
            return Err(IndexError::Corrupt("array length"));
        }
        dst.copy_from_slice(raw);
        T::swap_le(&mut v);
        Ok(v.into())
    }
}

/// Reads an index written by [`save`] from `bytes`, starting at byte `base`.
pub(crate) fn load(bytes: Bytes, base: usize) -> Result<(DigestIndex, PdqIndex), IndexError> {
    let mut r = Src {
        bytes: Arc::new(bytes),
        base,
        pos: base,
    };
    if r.take(MAGIC.len())? != MAGIC {
        return Err(IndexError::BadMagic);
    }
    let version = r.u32()?;
    if version != VERSION {
        return Err(IndexError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    let _flags = r.u32()?;

    let mut digests = DigestIndex::default();
    let mut pdq = PdqIndex::default();
    loop {
        match &r.tag()? {
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
    let covered = r.bytes.as_slice().get(base..r.pos).ok_or_else(eof)?;
    let computed = crc32fast::hash(covered);
    let stored = r.u32()?;
    if stored != computed {
        return Err(IndexError::Checksum { stored, computed });
    }
    Ok((digests, pdq))
}

fn get_table<const N: usize>(r: &mut Src) -> Result<DigestTable<N>, IndexError>
where
    [u8; N]: Pod,
{
    let n = r.len()?;
    let keys = r.array::<[u8; N]>(n)?.into_vec();
    let ids = r.array::<u64>(n)?.into_vec();
    DigestTable::from_sorted(keys, ids)
}

fn get_pdq(r: &mut Src) -> Result<PdqIndex, IndexError> {
    let config = PdqIndexConfig {
        mih_min_len: r.len()?,
        mih_max_sub_radius: r.u32()?,
        delta_max: r.len()?,
        kernel: None,
        engine_by_cost: true,
    };
    let count = r.u32()?;
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

fn get_segment(r: &mut Src) -> Result<Segment, IndexError> {
    let len = r.len()?;
    let flags = r.u32()?;
    let lines = Planes::lines_for(len).ok_or(IndexError::Corrupt("segment length"))?;
    let lo = r.array::<Line>(lines)?;
    let hi = r.array::<Line>(lines)?;
    let planes = Planes { lo, hi, len };
    if flags & !3 != 0 {
        return Err(IndexError::Corrupt("unknown segment flags"));
    }
    let ids = if flags & 2 == 2 {
        Ids::Wide(r.array::<u64>(len)?)
    } else {
        Ids::Narrow(r.array::<u32>(len)?)
    };
    let words = r.len()?;
    if words != 0 && words != len.div_ceil(64) {
        return Err(IndexError::Corrupt("deletion bitmap length"));
    }
    let deleted = r.array::<u64>(words)?.into_vec();
    // Recount rather than trust a stored count; bits past `len` must be clear.
    let deleted_count = deleted.iter().map(|w| w.count_ones() as usize).sum();
    if len % 64 != 0 && deleted.last().is_some_and(|w| w >> (len % 64) != 0) {
        return Err(IndexError::Corrupt("deletion bit past the end"));
    }
    let mih = if flags & 1 == 1 {
        let prefix_bits = r.u32()?;
        let suffix_bits = r.u32()?;
        let pos_bits = r.u32()?;
        // Checked before sizing any array by them.
        if (prefix_bits, suffix_bits, pos_bits) != crate::mih::params(len) {
            return Err(IndexError::Corrupt("MIH parameters"));
        }
        let mut tables = Vec::with_capacity(SUBSTRINGS);
        for _ in 0..SUBSTRINGS {
            let dir = r.array::<u32>((1usize << prefix_bits) + 1)?;
            let entries = r.array::<u32>(len)?;
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
