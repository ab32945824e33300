//! vPDQ hashing of videos, compatible with Meta's reference (`vpdq/`), so that
//! video hash lists can be exchanged with ThreatExchange-style tools.
//!
//! * Video files go through the `ffmpeg` program (a subprocess, never linked),
//!   set up to hand over exactly the frames the reference hashes: see
//!   [`ffmpeg`]. Each file has a wall-clock deadline (the child is killed when
//!   it passes) and a limit on decoded bytes.
//! * Animated GIF, APNG and animated WebP are decoded in process
//!   ([`animation`]), with no ffmpeg, through the same sampler and hasher.
//! * The pure parts (features, serialisations, comparison) live in
//!   [`tiaki_hash::vpdq`].
//!
//! ```no_run
//! use tiaki_video::{hash_video_file, VideoOptions};
//! let v = hash_video_file("clip.mp4".as_ref(), &VideoOptions::default())?;
//! println!("{}", tiaki_hash::vpdq::format::write_signal(&v.features));
//! # Ok::<(), tiaki_video::VideoError>(())
//! ```

#![forbid(unsafe_code)]

pub mod animation;
pub mod ffmpeg;
pub mod mp4;
mod pipeline;
mod process;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use animation::{AnimationFormat, hash_animation, is_animated, sniff_animation};
pub use ffmpeg::StreamInfo;
pub use tiaki_hash::vpdq::VpdqFeature;

/// Settings for hashing one file.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// Seconds between hashed frames; the sampler hashes every
    /// `(int)(seconds_per_hash × fps)`-th decoded frame. 1.0 is the reference
    /// library's and python-threatexchange's default; 0 hashes every frame
    /// (the reference CLI's default).
    pub seconds_per_hash: f64,
    /// Wall-clock limit for the whole file (probe, decode, hash).
    pub timeout: Duration,
    /// Limit on decoded pixel bytes taken from the decoder (RGB from ffmpeg,
    /// RGBA for animations): the defence against small files that decode to
    /// endless frames.
    pub max_output_bytes: u64,
    /// Largest frame, in pixels, that is accepted.
    pub max_frame_pixels: u64,
    /// The `ffmpeg` program: a name looked up on PATH, or a path.
    pub ffmpeg: PathBuf,
    /// The `ffprobe` program: asked for the stream's parameters when the
    /// file is not an MP4/MOV whose frame rate is read in process.
    pub ffprobe: PathBuf,
    /// Hashing threads; 0 means one per core.
    pub threads: usize,
    /// Decoder threads ffmpeg may use (`-threads`). 0 chooses per file
    /// ([`ffmpeg::decode_threads`]): one while the machine's cores are busy
    /// (frame threads then cost CPU for nothing, and the reference decodes
    /// on one thread too), up to one per idle core otherwise.
    pub decode_threads: u32,
}

impl Default for VideoOptions {
    fn default() -> Self {
        VideoOptions {
            seconds_per_hash: 1.0,
            timeout: Duration::from_secs(600),
            // 64 GiB: a 2-hour 1080p film at one hash a second pipes about
            // 45 GB; every-frame mode on long video needs a higher limit.
            max_output_bytes: 64 << 30,
            // 8K UHD.
            max_frame_pixels: 7680 * 4320,
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            threads: 0,
            decode_threads: 0,
        }
    }
}

impl VideoOptions {
    /// One hash every `seconds` (0 = every frame).
    pub fn every(seconds: f64) -> Self {
        VideoOptions {
            seconds_per_hash: seconds,
            ..VideoOptions::default()
        }
    }

    fn workers(&self) -> usize {
        if self.threads == 0 {
            pipeline::default_workers()
        } else {
            self.threads
        }
    }
}

/// What produced the frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoSource {
    Ffmpeg,
    Animation(AnimationFormat),
}

/// The vPDQ hash of a file.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VideoHash {
    /// One feature per hashed frame, sorted by frame number.
    pub features: Vec<VpdqFeature>,
    pub width: u32,
    pub height: u32,
    /// Frames per second used for sampling and timestamps.
    pub fps: f64,
    /// Every `frame_mod`-th decoded frame was hashed.
    pub frame_mod: u64,
    /// Decoded frames, when known: when every frame was read (frame_mod 1,
    /// and animations). With frame_mod > 1 ffmpeg drops the others itself.
    pub frames_decoded: Option<u64>,
    pub source: VideoSource,
    /// ffmpeg's complaints about a file it still decoded (damaged packets).
    pub warnings: Vec<String>,
}

/// Why a file could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{program} is not installed or cannot run ({}: {reason}); install ffmpeg (Debian: apt-get install ffmpeg)", path.display())]
    FfmpegNotFound {
        program: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("empty file")]
    Empty,
    #[error("no video stream in the file")]
    NoVideoStream,
    #[error("cannot decode the video: {0}")]
    Corrupt(String),
    #[error("the video stream has no usable frame rate")]
    NoFrameRate,
    #[error("frame size {width}×{height} is unusable: {reason}")]
    BadDimensions {
        width: u64,
        height: u64,
        reason: &'static str,
    },
    #[error("decoding did not finish within {0:?}; the decoder was stopped")]
    Timeout(Duration),
    #[error("the decoded video exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not an animated GIF, APNG or WebP")]
    NotAnimation,
    #[error("hashing a frame failed: {0}")]
    Hash(String),
    #[error("not a usable vPDQ hash list: {0}")]
    HashList(#[from] tiaki_hash::vpdq::VpdqFormatError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl tiaki_types::codes::ErrorCode for VideoError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        use tiaki_types::codes::Code;
        match self {
            // The decoder is an external program: missing or stopped.
            VideoError::FfmpegNotFound { .. } | VideoError::Timeout(_) => Code::Subprocess,
            VideoError::TooLarge { .. } => Code::PayloadTooLarge,
            VideoError::Empty
            | VideoError::NoVideoStream
            | VideoError::Corrupt(_)
            | VideoError::NoFrameRate
            | VideoError::BadDimensions { .. }
            | VideoError::NotAnimation
            | VideoError::HashList(_) => Code::InvalidInput,
            VideoError::Io(e) => e.error_code(),
            VideoError::Hash(_) | VideoError::Internal(_) => Code::Internal,
        }
    }
}

impl VideoError {
    /// A short stable name for the kind of error, for logs and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            VideoError::FfmpegNotFound { .. } => "ffmpeg_not_found",
            VideoError::Empty => "empty",
            VideoError::NoVideoStream => "no_video_stream",
            VideoError::Corrupt(_) => "corrupt",
            VideoError::NoFrameRate => "no_frame_rate",
            VideoError::BadDimensions { .. } => "bad_dimensions",
            VideoError::Timeout(_) => "timeout",
            VideoError::TooLarge { .. } => "too_large",
            VideoError::NotAnimation => "not_animation",
            VideoError::Hash(_) => "hash",
            VideoError::HashList(_) => "hash_list",
            VideoError::Io(_) => "io",
            VideoError::Internal(_) => "internal",
        }
    }
}

pub(crate) fn check_dimensions(
    width: u64,
    height: u64,
    opts: &VideoOptions,
) -> Result<(), VideoError> {
    let min = tiaki_hash::pdq::MIN_HASHABLE_DIM as u64;
    if width < min || height < min {
        // The reference throws here too ("smaller than the minimum hashable
        // dimension") rather than emitting zero hashes.
        return Err(VideoError::BadDimensions {
            width,
            height,
            reason: "PDQ needs at least 5 pixels a side",
        });
    }
    if width.saturating_mul(height)
        > opts
            .max_frame_pixels
            .min(tiaki_hash::pdq::MAX_PIXELS as u64)
    {
        return Err(VideoError::BadDimensions {
            width,
            height,
            reason: "larger than the frame size limit",
        });
    }
    Ok(())
}

/// Hashes a video file (anything ffmpeg reads; animated GIF, APNG and WebP
/// are decoded in process instead).
pub fn hash_video_file(path: &Path, opts: &VideoOptions) -> Result<VideoHash, VideoError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(VideoError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a directory",
        )));
    }
    if meta.is_file() && meta.len() == 0 {
        return Err(VideoError::Empty);
    }
    if meta.is_file() && meta.len() <= ANIMATION_MAX_BYTES {
        let mut head = [0u8; 12];
        let n =
            std::fs::File::open(path).and_then(|mut f| process::read_full(&mut f, &mut head))?;
        if looks_like_animation_container(&head[..n]) {
            let bytes = std::fs::read(path)?;
            // GIFs of any frame count, APNGs and animated WebPs stay in
            // process; still PNG and WebP files go on to ffmpeg.
            if let Some(info) = animation::scan(&bytes) {
                return hash_animation(&bytes, Some(info.format), opts);
            }
        }
    }
    ffmpeg::hash_file(path, opts)
}

/// Hashes a file with ffmpeg even when it is an animated image (for
/// cross-checking the in-process decoders, or for formats ffmpeg reads
/// better).
pub fn hash_with_ffmpeg(path: &Path, opts: &VideoOptions) -> Result<VideoHash, VideoError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() && meta.len() == 0 {
        return Err(VideoError::Empty);
    }
    ffmpeg::hash_file(path, opts)
}

/// Animated images larger than this go to ffmpeg rather than into memory.
const ANIMATION_MAX_BYTES: u64 = 256 << 20;

fn looks_like_animation_container(head: &[u8]) -> bool {
    head.starts_with(b"GIF8")
        || head.starts_with(b"\x89PNG")
        || (head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP")
}

/// Where [`load_features`] got its features from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeaturesFrom {
    /// The file was a video or animation and was hashed.
    Hashed,
    /// The file was a saved hash list in this serialisation.
    HashList(tiaki_hash::vpdq::VpdqFormat),
}

/// Hash lists larger than this are not read as text.
const HASH_LIST_MAX_BYTES: u64 = 64 << 20;

/// The vPDQ features of `path`, whether it is a video (hashed with `opts`)
/// or a saved hash list in any of the three serialisations (reference text,
/// py-tx signal JSON, legacy JSON object). A file is taken as a hash list
/// when it is UTF-8 text starting with `[`, `{` or a digit; such a file
/// that does not parse is an error rather than a video.
pub fn load_features(
    path: &Path,
    opts: &VideoOptions,
) -> Result<(Vec<VpdqFeature>, FeaturesFrom), VideoError> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() && meta.len() > 0 && meta.len() <= HASH_LIST_MAX_BYTES {
        let mut head = [0u8; 64];
        let n =
            std::fs::File::open(path).and_then(|mut f| process::read_full(&mut f, &mut head))?;
        if looks_like_hash_list(&head[..n]) {
            let bytes = std::fs::read(path)?;
            if let Ok(text) = std::str::from_utf8(&bytes) {
                let (features, format) = tiaki_hash::vpdq::read_any(text)?;
                return Ok((features, FeaturesFrom::HashList(format)));
            }
        }
    }
    Ok((hash_video_file(path, opts)?.features, FeaturesFrom::Hashed))
}

fn looks_like_hash_list(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
    // Every container ffmpeg reads starts with a binary magic number, none
    // of them with `[`, `{` or an ASCII digit followed by text.
    match first {
        Some(b'[' | b'{') => true,
        Some(b'0'..=b'9') => head
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()),
        _ => false,
    }
}

/// True when ffmpeg and ffprobe can be started with these options.
pub fn ffmpeg_available(opts: &VideoOptions) -> Result<(), VideoError> {
    for (program, which) in [(&opts.ffmpeg, "ffmpeg"), (&opts.ffprobe, "ffprobe")] {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut child = process::Child::spawn(program, which, ["-version"], deadline)?;
        // Read the banner out: closing the pipe early would kill the child
        // with SIGPIPE and look like a failure.
        std::io::copy(child.stdout()?, &mut std::io::sink())?;
        let done = child.finish()?;
        if !done.status.success() {
            return Err(VideoError::FfmpegNotFound {
                program: which,
                path: program.clone(),
                reason: format!("`-version` exited with {}", done.status),
            });
        }
    }
    Ok(())
}
