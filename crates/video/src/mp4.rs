//! The average frame rate of an MP4/MOV file's first video track, computed
//! the way libavformat's mov demuxer computes `avg_frame_rate`, read from the
//! file's boxes in process.
//!
//! Why: the reference samples by `avg_frame_rate` as an exact rational, and
//! the ffmpeg program only prints it rounded to two decimals. Reading it here
//! spares a second program (`ffprobe`) per file, whose start-up alone (loading
//! some 200 shared libraries) costs about as much CPU as decoding a short
//! clip. Anything this reader does not fully understand — fragmented files,
//! duplicated boxes, values libavformat would clamp or approximate — gives
//! `None`, and the caller asks ffprobe instead; the caller also checks the
//! result against what ffmpeg prints.
//!
//! libavformat 5.1 (`mov.c`): `mov_read_stts` adds each `stts` entry's
//! `count × duration` to `duration_for_fps` and the counts to
//! `nb_frames_for_fps`; `mov_read_header` then sets `avg_frame_rate` to
//! `av_reduce(time_scale × nb_frames_for_fps, duration_for_fps, INT_MAX)`.
//! `avformat_find_stream_info` keeps a non-zero `avg_frame_rate`.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// What the first video track says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp4Rate {
    /// `tkhd` track ID: libavformat's stream id, printed by ffmpeg as
    /// `Stream #0:0[0x1]`, used to check that both chose the same track.
    pub track_id: u32,
    /// `avg_frame_rate` in lowest terms.
    pub num: i64,
    pub den: i64,
}

impl Mp4Rate {
    pub fn fps(&self) -> f64 {
        // As the reference: `(double)num / (double)den`.
        self.num as f64 / self.den as f64
    }
}

/// `stts` tables larger than this are left to ffprobe.
const MAX_STTS_ENTRIES: u64 = 1 << 26;

struct Reader {
    r: BufReader<File>,
    len: u64,
}

#[derive(Clone, Copy)]
struct BoxHead {
    kind: [u8; 4],
    /// Offset of the payload and its end (exclusive).
    start: u64,
    end: u64,
}

impl Reader {
    fn u32(&mut self) -> Option<u32> {
        let mut b = [0u8; 4];
        self.r.read_exact(&mut b).ok()?;
        Some(u32::from_be_bytes(b))
    }

    fn u64(&mut self) -> Option<u64> {
        let mut b = [0u8; 8];
        self.r.read_exact(&mut b).ok()?;
        Some(u64::from_be_bytes(b))
    }

    fn seek(&mut self, at: u64) -> Option<()> {
        self.r.seek(SeekFrom::Start(at)).ok().map(|_| ())
    }

    /// The box starting at `at`, inside a parent ending at `parent_end`.
    fn head(&mut self, at: u64, parent_end: u64) -> Option<BoxHead> {
        if parent_end.saturating_sub(at) < 8 {
            return None;
        }
        self.seek(at)?;
        let size = self.u32()?;
        let mut kind = [0u8; 4];
        self.r.read_exact(&mut kind).ok()?;
        let (start, end) = match size {
            // To the end of the enclosing box (top level: of the file).
            0 => (at + 8, parent_end),
            1 => {
                let large = self.u64()?;
                (at + 16, at.checked_add(large)?)
            }
            n => (at + 8, at + u64::from(n)),
        };
        (start <= end && end <= parent_end).then_some(BoxHead { kind, start, end })
    }

    /// The children of the box spanning `[start, end)`, in order.
    fn children(&mut self, start: u64, end: u64) -> Option<Vec<BoxHead>> {
        let mut out = Vec::new();
        let mut at = start;
        while end.saturating_sub(at) >= 8 {
            let h = self.head(at, end)?;
            // `end ≥ start ≥ at + 8`: always moves on.
            at = h.end;
            out.push(h);
            if out.len() > 100_000 {
                return None;
            }
        }
        Some(out)
    }
}

fn find(boxes: &[BoxHead], kind: &[u8; 4]) -> Vec<BoxHead> {
    boxes.iter().copied().filter(|b| &b.kind == kind).collect()
}

/// Exactly one child of that kind, or None.
fn one(boxes: &[BoxHead], kind: &[u8; 4]) -> Option<BoxHead> {
    match find(boxes, kind).as_slice() {
        [b] => Some(*b),
        _ => None,
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Reads the first video track's average frame rate, or None when the file
/// is not an MP4/MOV this reader can vouch for.
pub fn average_frame_rate(path: &Path) -> Option<Mp4Rate> {
    // A FIFO or device would block (even on opening) or never end: those
    // are left to ffmpeg and ffprobe, which run under the deadline.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut rd = Reader {
        r: BufReader::with_capacity(16 * 1024, file),
        len: meta.len(),
    };
    let len = rd.len;
    let top = rd.children(0, len)?;
    // An MP4 starts with `ftyp` (or, in old QuickTime files, another known
    // top-level box); anything else is not ours to read.
    let first = top.first()?;
    if !matches!(
        &first.kind,
        b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip"
    ) {
        return None;
    }
    // Fragments add to the frame count as the demuxer reads them.
    if top.iter().any(|b| &b.kind == b"moof" || &b.kind == b"mfra") {
        return None;
    }
    // libavformat reads the first `moov` and skips later ones.
    let moov = *find(&top, b"moov").first()?;
    let moov_children = rd.children(moov.start, moov.end)?;
    // Cover art (`covr` in `udta`) becomes a video stream too; the caller
    // checks that ffmpeg's first video stream has this track's ID.
    if moov_children
        .iter()
        .any(|b| &b.kind == b"mvex" || &b.kind == b"cmov")
    {
        return None;
    }
    for trak in find(&moov_children, b"trak") {
        let tk = rd.children(trak.start, trak.end)?;
        let mdia = one(&tk, b"mdia")?;
        let md = rd.children(mdia.start, mdia.end)?;
        let hdlr = one(&md, b"hdlr")?;
        rd.seek(hdlr.start + 8)?;
        let mut handler = [0u8; 4];
        rd.r.read_exact(&mut handler).ok()?;
        if &handler != b"vide" {
            continue;
        }
        return video_track(&mut rd, &tk, &md);
    }
    None
}

fn video_track(rd: &mut Reader, tk: &[BoxHead], md: &[BoxHead]) -> Option<Mp4Rate> {
    // tkhd: version, flags, times, then the track ID.
    let tkhd = one(tk, b"tkhd")?;
    rd.seek(tkhd.start)?;
    let version = rd.u32()? >> 24;
    let track_id = match version {
        0 => {
            rd.u64()?;
            rd.u32()?
        }
        1 => {
            rd.u64()?;
            rd.u64()?;
            rd.u32()?
        }
        _ => return None,
    };
    // mdhd: the media time scale.
    let mdhd = one(md, b"mdhd")?;
    rd.seek(mdhd.start)?;
    let version = rd.u32()? >> 24;
    match version {
        0 => {
            rd.u64()?;
        }
        1 => {
            rd.u64()?;
            rd.u64()?;
        }
        _ => return None,
    }
    let time_scale = rd.u32()?;
    // libavformat replaces a time scale that is 0 or negative as an int.
    if time_scale == 0 || time_scale > i32::MAX as u32 {
        return None;
    }
    let minf = one(md, b"minf")?;
    let mi = rd.children(minf.start, minf.end)?;
    let stbl = one(&mi, b"stbl")?;
    let st = rd.children(stbl.start, stbl.end)?;
    // A second `stts` would be added on top of the first by libavformat.
    let stts = one(&st, b"stts")?;
    rd.seek(stts.start)?;
    let _version_flags = rd.u32()?;
    let entries = u64::from(rd.u32()?);
    if entries > MAX_STTS_ENTRIES || stts.start + 8 + entries * 8 > stts.end {
        return None;
    }
    let mut duration: i128 = 0;
    let mut frames: u64 = 0;
    for _ in 0..entries {
        let count = rd.u32()?;
        let sample_duration = rd.u32()?;
        // Stored as an int by libavformat: larger values turn negative and
        // take other code paths.
        if sample_duration > i32::MAX as u32 {
            return None;
        }
        duration += i128::from(sample_duration) * i128::from(count);
        frames += u64::from(count);
    }
    if duration <= 0 || frames == 0 || frames > i32::MAX as u64 || duration > i64::MAX as i128 {
        return None;
    }
    let num = u128::from(time_scale) * u128::from(frames);
    let den = duration as u128;
    let g = gcd(num, den);
    let (num, den) = (num / g, den / g);
    // av_reduce approximates beyond INT_MAX: leave that to ffprobe.
    if num > i32::MAX as u128 || den > i32::MAX as u128 {
        return None;
    }
    Some(Mp4Rate {
        track_id,
        num: num as i64,
        den: den as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduces_like_av_reduce() {
        assert_eq!(gcd(15360 * 206, 512 * 206), 512 * 206);
        assert_eq!(gcd(7, 0), 7);
    }

    #[test]
    fn non_files_and_garbage_are_none() {
        assert_eq!(average_frame_rate(Path::new("/nonexistent")), None);
        let dir = std::env::temp_dir().join(format!("tiaki-mp4-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join("x.mp4");
        // A box that claims more than the file holds.
        let _ = std::fs::write(&p, b"\x00\x00\x10\x00ftypisom\x00\x00");
        assert_eq!(average_frame_rate(&p), None);
        let _ = std::fs::write(&p, b"");
        assert_eq!(average_frame_rate(&p), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
