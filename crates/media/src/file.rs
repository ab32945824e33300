//! One file in, one record out: digests, kind, PDQ, EXIF, vPDQ, and an error
//! that says what went wrong while keeping everything that could be computed.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use tiaki_hash::digest::{Digests, MultiDigest, digests};
use tiaki_hash::pdq::{LumaArithmetic, PdqHash, PdqHasher};
use tiaki_hash::vpdq::VpdqFeature;
use tiaki_video::VideoOptions;

use crate::exif::{ExifInfo, read_exif};
use crate::image::{DecodeError, Pixels, decode_image};
use crate::limits::Limits;
use crate::sniff::{Kind, extension_claims_media, sniff};

/// What to compute for each file.
#[derive(Debug, Clone, Default)]
pub struct HashOptions {
    pub limits: Limits,
    /// Also compute the eight dihedral PDQ variants of images.
    pub dihedral: bool,
    /// vPDQ of videos (ffmpeg subprocess) and animated GIF/PNG/WebP
    /// (in-process): sampling, timeout, output cap.
    pub video: VideoOptions,
}

/// One line of `tiaki hash` output (spec/interfaces.md). Fields that could
/// not be computed are absent; `error` says why.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FileRecord {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq: Option<PdqHash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq_quality: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dihedral: Option<Vec<PdqHash>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exif: Option<ExifInfo>,
    /// vPDQ frames of a video or an animated image:
    /// `{"frame", "timestamp", "quality", "pdq"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpdq: Option<Vec<VpdqFeature>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileRecord {
    /// A record for a path that could not be read at all.
    pub fn failed(path: String, error: String) -> Self {
        FileRecord {
            path,
            error: Some(error),
            ..Default::default()
        }
    }

    fn set_digests(&mut self, d: Digests) {
        self.bytes = Some(d.bytes);
        self.md5 = Some(d.md5);
        self.sha1 = Some(d.sha1);
        self.sha256 = Some(d.sha256);
    }
}

/// Head bytes read to recognise a format (MPEG-TS needs three packets).
const HEAD: usize = 188 * 3;

/// Reads up to `n` bytes, fewer only at end of file.
fn read_head(f: &mut File, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    f.by_ref().take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Streams the rest of a file through the digests after `head`.
fn digest_stream(f: &mut File, head: &[u8]) -> std::io::Result<Digests> {
    let mut d = MultiDigest::new();
    d.update(head);
    tiaki_types::chunks::for_each_chunk(f, 1 << 20, |c| {
        d.update(c);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(d.finish())
}

/// Hashes one file with `hasher` (whose [`tiaki_hash::LumaArithmetic`]
/// decides the image luma). Never fails: problems become the record's `error`, and
/// every field that could be computed before the problem is kept.
pub fn hash_file(
    path: &Path,
    shown: String,
    opts: &HashOptions,
    hasher: &mut PdqHasher,
) -> FileRecord {
    let mut rec = FileRecord {
        path: shown,
        ..Default::default()
    };
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            rec.error = Some(format!("cannot open: {e}"));
            return rec;
        }
    };
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let head = match read_head(&mut f, HEAD) {
        Ok(h) => h,
        Err(e) => {
            rec.error = Some(format!("cannot read: {e}"));
            return rec;
        }
    };
    let format = sniff(&head);
    let kind = format.map_or(Kind::Other, |f| f.kind());
    rec.kind = Some(kind);
    rec.format = format.map(|f| f.name());

    if kind == Kind::Image && size <= opts.limits.max_image_file_bytes {
        let mut bytes = head;
        if let Err(e) = f.read_to_end(&mut bytes) {
            rec.error = Some(format!("cannot read: {e}"));
            return rec;
        }
        rec.set_digests(digests(&bytes));
        hash_image_bytes(&bytes, opts, hasher, &mut rec);
        return rec;
    }

    match digest_stream(&mut f, &head) {
        Ok(d) => rec.set_digests(d),
        Err(e) => {
            rec.error = Some(format!("cannot read: {e}"));
            return rec;
        }
    }
    rec.error = match kind {
        Kind::Image => Some(
            DecodeError::FileTooLarge {
                bytes: size,
                max: opts.limits.max_image_file_bytes,
            }
            .to_string(),
        ),
        Kind::Video => match tiaki_video::hash_video_file(path, &opts.video) {
            Ok(v) => {
                rec.width = Some(v.width);
                rec.height = Some(v.height);
                rec.vpdq = Some(v.features);
                None
            }
            Err(e) => Some(e.to_string()),
        },
        Kind::Other if rec.bytes == Some(0) => Some(DecodeError::Empty.to_string()),
        Kind::Other if extension_claims_media(&rec.path) => {
            Some("not an image or video: the content is not a recognised media format".to_string())
        }
        Kind::Other => None,
    };
    rec
}

/// Decodes and hashes an image already in memory into `rec`.
pub fn hash_image_bytes(
    bytes: &[u8],
    opts: &HashOptions,
    hasher: &mut PdqHasher,
    rec: &mut FileRecord,
) {
    rec.exif = read_exif(bytes);
    let decoded = match decode_image(bytes, &opts.limits) {
        Ok(d) => d,
        Err(e) => {
            rec.error = Some(e.to_string());
            return;
        }
    };
    rec.width = Some(decoded.width);
    rec.height = Some(decoded.height);
    let (w, h) = (decoded.width as usize, decoded.height as usize);
    let hashed = match &decoded.pixels {
        Pixels::Rgb8(px) => hasher.hash_rgb(px, w, h).and_then(|o| {
            let d = if opts.dihedral {
                Some(hasher.dihedral_rgb(px, w, h)?)
            } else {
                None
            };
            Ok((o, d))
        }),
        Pixels::Luma8(px) => hasher.hash_luma8(px, w, h).and_then(|o| {
            let d = if opts.dihedral {
                Some(hasher.dihedral_luma8(px, w, h)?)
            } else {
                None
            };
            Ok((o, d))
        }),
    };
    match hashed {
        Ok((o, d)) => {
            rec.pdq = Some(o.hash);
            rec.pdq_quality = Some(o.quality);
            rec.dihedral = d.map(|d| d.hashes.to_vec());
        }
        Err(e) => {
            rec.error = Some(e.to_string());
            return;
        }
    }
    // An animated GIF, PNG or WebP also gets the vPDQ of its frames; its
    // `pdq` is the first frame's.
    if tiaki_video::is_animated(bytes) {
        match tiaki_video::hash_animation(bytes, None, &opts.video) {
            Ok(v) => rec.vpdq = Some(v.features),
            Err(e) => rec.error = Some(format!("animation: {e}")),
        }
    }
}

/// The luma arithmetic Tiaki uses unless told otherwise (`tiaki hash`,
/// `tiaki match`, ingest), so that lists made with one match files hashed
/// by another: pdqhash-python's f64, as HMA and ThreatExchange made theirs.
pub const DEFAULT_LUMA: LumaArithmetic = LumaArithmetic::F64;

thread_local! {
    static HASHER: std::cell::RefCell<Option<(LumaArithmetic, PdqHasher)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's reusable PDQ hasher for `luma` (its buffers
/// are sized once per thread, not once per file).
pub fn with_thread_hasher<R>(luma: LumaArithmetic, f: impl FnOnce(&mut PdqHasher) -> R) -> R {
    HASHER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(l, _)| *l != luma) {
            *slot = Some((luma, PdqHasher::with_luma(luma)));
        }
        match slot.as_mut() {
            Some((_, hasher)) => f(hasher),
            None => f(&mut PdqHasher::with_luma(luma)),
        }
    })
}
