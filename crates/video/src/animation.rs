//! Animated GIF, APNG and animated WebP, decoded in process with the `image`
//! crate and hashed through the same sampler and pipeline as video.
//!
//! Frame rate: these formats have per-frame delays, not a frame rate. As the
//! reference takes ffmpeg's average frame rate, fps here is
//! `frames / total duration`, from a scan of the container's delay fields
//! (no pixel decoding), so frame-count sampling can start before decoding.
//! A feature's timestamp is the frame's start time, the sum of the delays of
//! the frames before it.
//!
//! Delays: GIF delays under 20 ms become 100 ms, as ffmpeg's GIF demuxer
//! (`min_delay` 2, `default_delay` 10 centiseconds) and browsers do. An
//! animation whose delays are all zero is taken to run at 10 fps.
//!
//! Pixels: the decoder composites each frame onto the canvas; alpha is
//! dropped (the colour channels are hashed as they are), as for still images.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use image::codecs::gif::GifDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, Frames, ImageDecoder, Limits};
use tiaki_hash::vpdq::frame_mod;

use crate::pipeline::{self, FrameQueue};
use crate::{VideoError, VideoHash, VideoOptions, VideoSource};

/// An animated image format decoded in process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnimationFormat {
    Gif,
    Apng,
    Webp,
}

/// The container-level facts of an animation, read without decoding pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct AnimationInfo {
    pub format: AnimationFormat,
    pub width: u32,
    pub height: u32,
    /// Each frame's display time in milliseconds, after the GIF minimum rule.
    pub delays_ms: Vec<f64>,
}

impl AnimationInfo {
    /// `frames / seconds`, or 10 fps when the delays add up to nothing.
    pub fn fps(&self) -> f64 {
        let total: f64 = self.delays_ms.iter().sum();
        if total > 0.0 && !self.delays_ms.is_empty() {
            self.delays_ms.len() as f64 * 1000.0 / total
        } else {
            10.0
        }
    }
}

/// Frames that a GIF shows for less than this are shown for [`GIF_DEFAULT_MS`].
const GIF_MIN_MS: f64 = 20.0;
const GIF_DEFAULT_MS: f64 = 100.0;

fn gif_delay(ms: f64) -> f64 {
    if ms < GIF_MIN_MS { GIF_DEFAULT_MS } else { ms }
}

/// Which animated format `bytes` are, if they are an animation of more than
/// one frame. Reads only container structure.
pub fn sniff_animation(bytes: &[u8]) -> Option<AnimationFormat> {
    scan(bytes)
        .filter(|i| i.delays_ms.len() > 1)
        .map(|i| i.format)
}

/// True for an animated GIF, APNG or WebP with more than one frame.
pub fn is_animated(bytes: &[u8]) -> bool {
    sniff_animation(bytes).is_some()
}

/// Reads the format, canvas size and frame delays from the container.
pub fn scan(bytes: &[u8]) -> Option<AnimationInfo> {
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        scan_gif(bytes)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        scan_apng(bytes)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        scan_webp(bytes)
    } else {
        None
    }
}

/// A bounds-checked reader over a byte slice.
struct Bytes<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16le(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32be(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u32le(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    /// Skips GIF data sub-blocks up to the zero-length terminator.
    fn skip_sub_blocks(&mut self) -> Option<()> {
        loop {
            let n = self.u8()?;
            if n == 0 {
                return Some(());
            }
            self.take(usize::from(n))?;
        }
    }
}

fn scan_gif(bytes: &[u8]) -> Option<AnimationInfo> {
    let mut r = Bytes { b: bytes, pos: 6 };
    let width = u32::from(r.u16le()?);
    let height = u32::from(r.u16le()?);
    let packed = r.u8()?;
    r.take(2)?;
    if packed & 0x80 != 0 {
        r.take(3 << ((packed & 7) + 1))?;
    }
    let mut delays = Vec::new();
    let mut pending_ms = 0.0;
    // A truncated or damaged stream ends the scan; what was read stands.
    while let Some(block) = r.u8() {
        match block {
            0x21 => {
                let Some(label) = r.u8() else { break };
                if label == 0xF9 {
                    let Some(size) = r.u8() else { break };
                    let Some(gce) = r.take(usize::from(size)) else {
                        break;
                    };
                    if gce.len() >= 3 {
                        pending_ms = f64::from(u16::from_le_bytes([gce[1], gce[2]])) * 10.0;
                    }
                }
                if r.skip_sub_blocks().is_none() {
                    break;
                }
            }
            0x2C => {
                let Some(desc) = r.take(9) else { break };
                let p = desc[8];
                if p & 0x80 != 0 && r.take(3 << ((p & 7) + 1)).is_none() {
                    break;
                }
                if r.u8().is_none() || r.skip_sub_blocks().is_none() {
                    break;
                }
                delays.push(gif_delay(pending_ms));
                pending_ms = 0.0;
            }
            _ => break, // 0x3B trailer, or garbage
        }
    }
    Some(AnimationInfo {
        format: AnimationFormat::Gif,
        width,
        height,
        delays_ms: delays,
    })
}

fn scan_apng(bytes: &[u8]) -> Option<AnimationInfo> {
    let mut r = Bytes { b: bytes, pos: 8 };
    let (mut width, mut height) = (0, 0);
    let mut delays = Vec::new();
    let mut animated = false;
    while let Some(len) = r.u32be() {
        let Some(kind) = r.take(4) else { break };
        let Some(data) = r.take(len as usize) else {
            break;
        };
        if r.take(4).is_none() {
            break;
        }
        match kind {
            b"IHDR" if data.len() >= 8 => {
                width = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                height = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
            }
            b"acTL" => animated = true,
            b"fcTL" if data.len() >= 24 => {
                let num = f64::from(u16::from_be_bytes([data[20], data[21]]));
                // The APNG specification: a zero denominator means 100.
                let den = match u16::from_be_bytes([data[22], data[23]]) {
                    0 => 100.0,
                    d => f64::from(d),
                };
                delays.push(num * 1000.0 / den);
            }
            b"IEND" => break,
            _ => {}
        }
    }
    animated.then_some(AnimationInfo {
        format: AnimationFormat::Apng,
        width,
        height,
        delays_ms: delays,
    })
}

fn scan_webp(bytes: &[u8]) -> Option<AnimationInfo> {
    let mut r = Bytes { b: bytes, pos: 12 };
    let (mut width, mut height) = (0, 0);
    let mut delays = Vec::new();
    let mut animated = false;
    while let Some(kind) = r.take(4) {
        let Some(len) = r.u32le() else { break };
        let Some(data) = r.take(len as usize) else {
            break;
        };
        if len % 2 == 1 {
            // RIFF chunks are padded to an even length.
            let _ = r.take(1);
        }
        let u24 = |s: &[u8]| u32::from(s[0]) | (u32::from(s[1]) << 8) | (u32::from(s[2]) << 16);
        match kind {
            b"VP8X" if data.len() >= 10 => {
                animated = data[0] & 0x02 != 0;
                width = u24(&data[4..7]) + 1;
                height = u24(&data[7..10]) + 1;
            }
            b"ANMF" if data.len() >= 16 => delays.push(f64::from(u24(&data[12..15]))),
            _ => {}
        }
    }
    animated.then_some(AnimationInfo {
        format: AnimationFormat::Webp,
        width,
        height,
        delays_ms: delays,
    })
}

fn limits(opts: &VideoOptions) -> Limits {
    let mut l = Limits::default();
    let side = u32::try_from(opts.max_frame_pixels.min(u64::from(u32::MAX))).unwrap_or(u32::MAX);
    l.max_image_width = Some(side);
    l.max_image_height = Some(side);
    // A decoder holds a canvas and a frame or two: a few RGBA frames of the
    // largest accepted size, and never more than the output budget.
    l.max_alloc = Some(
        opts.max_frame_pixels
            .saturating_mul(16)
            .min(opts.max_output_bytes)
            .max(1 << 20),
    );
    l
}

fn decode_err(e: image::ImageError) -> VideoError {
    match e {
        image::ImageError::Limits(l) => {
            VideoError::Corrupt(format!("animation exceeds a limit: {l}"))
        }
        other => VideoError::Corrupt(other.to_string()),
    }
}

fn frames<'a>(
    bytes: &'a [u8],
    format: AnimationFormat,
    opts: &VideoOptions,
) -> Result<((u32, u32), Frames<'a>), VideoError> {
    let cur = Cursor::new(bytes);
    Ok(match format {
        AnimationFormat::Gif => {
            let mut d = GifDecoder::new(cur).map_err(decode_err)?;
            d.set_limits(limits(opts)).map_err(decode_err)?;
            (d.dimensions(), d.into_frames())
        }
        AnimationFormat::Apng => {
            let d = PngDecoder::with_limits(cur, limits(opts)).map_err(decode_err)?;
            let dims = d.dimensions();
            (dims, d.apng().map_err(decode_err)?.into_frames())
        }
        AnimationFormat::Webp => {
            let mut d = WebPDecoder::new(cur).map_err(decode_err)?;
            d.set_limits(limits(opts)).map_err(decode_err)?;
            (d.dimensions(), d.into_frames())
        }
    })
}

/// Hashes an animation held in memory. `format` None means "detect".
pub fn hash_animation(
    bytes: &[u8],
    format: Option<AnimationFormat>,
    opts: &VideoOptions,
) -> Result<VideoHash, VideoError> {
    if bytes.is_empty() {
        return Err(VideoError::Empty);
    }
    let info = scan(bytes).ok_or(VideoError::NotAnimation)?;
    let format = format.unwrap_or(info.format);
    if format != info.format {
        return Err(VideoError::NotAnimation);
    }
    // The decoders are third-party code fed untrusted bytes: a panic in one
    // becomes an error for this file, not a crash of the caller.
    catch_unwind(AssertUnwindSafe(|| {
        hash_animation_inner(bytes, &info, opts)
    }))
    .unwrap_or_else(|_| {
        Err(VideoError::Corrupt(format!(
            "the {format:?} decoder failed on this file"
        )))
    })
}

fn hash_animation_inner(
    bytes: &[u8],
    info: &AnimationInfo,
    opts: &VideoOptions,
) -> Result<VideoHash, VideoError> {
    let deadline = Instant::now() + opts.timeout;
    // The container's own canvas size is checked before any decoder
    // allocates for it.
    crate::check_dimensions(u64::from(info.width), u64::from(info.height), opts)?;
    let ((w, h), frames) = frames(bytes, info.format, opts)?;
    crate::check_dimensions(u64::from(w), u64::from(h), opts)?;
    let fps = info.fps();
    let fmod = frame_mod(opts.seconds_per_hash, fps);
    let is_gif = info.format == AnimationFormat::Gif;
    let rgba_len = u64::from(w) * u64::from(h) * 4;

    let (decoded, features) = pipeline::run(
        w as usize,
        h as usize,
        opts.workers(),
        |queue: &mut FrameQueue| {
            let mut n = 0u64;
            let mut start_ms = 0.0f64;
            let mut out_bytes = 0u64;
            for frame in frames {
                if Instant::now() > deadline {
                    return Err(VideoError::Timeout(opts.timeout));
                }
                out_bytes += rgba_len;
                if out_bytes > opts.max_output_bytes {
                    return Err(VideoError::TooLarge {
                        limit: opts.max_output_bytes,
                    });
                }
                let frame = frame.map_err(decode_err)?;
                let (num, den) = frame.delay().numer_denom_ms();
                let raw_ms = if den == 0 {
                    0.0
                } else {
                    f64::from(num) / f64::from(den)
                };
                let delay_ms = if is_gif { gif_delay(raw_ms) } else { raw_ms };
                if n.is_multiple_of(fmod) {
                    let rgba = frame.into_buffer();
                    if rgba.dimensions() != (w, h) {
                        return Err(VideoError::Corrupt(
                            "a frame does not match the canvas size".into(),
                        ));
                    }
                    let mut rgb = queue.buffer();
                    for (dst, src) in rgb.chunks_exact_mut(3).zip(rgba.as_raw().chunks_exact(4)) {
                        dst.copy_from_slice(&src[..3]);
                    }
                    queue.submit(n, start_ms / 1000.0, rgb)?;
                }
                start_ms += delay_ms;
                n += 1;
            }
            Ok(n)
        },
    )?;
    if decoded == 0 {
        return Err(VideoError::Corrupt("the animation has no frame".into()));
    }
    Ok(VideoHash {
        features,
        width: w,
        height: h,
        fps,
        frame_mod: fmod,
        frames_decoded: Some(decoded),
        source: VideoSource::Animation(info.format),
        warnings: Vec::new(),
    })
}
