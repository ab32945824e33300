//! Video decoding through the `ffmpeg` and `ffprobe` programs, set up to give
//! the frames that Meta's vPDQ (`vpdq/cpp/hashing/filehasher.cpp`) hashes.
//!
//! What the reference does, and how the command line reproduces it:
//!
//! * First video stream (`-select_streams v:0`, `-map 0:v:0`); size and frame
//!   rate from the stream parameters (`avg_frame_rate`, else `r_frame_rate`).
//! * Every decoded frame counts, and frame *n* is hashed when
//!   `n % frameMod == 0`. The ffmpeg CLI must therefore neither drop nor
//!   duplicate frames (`-fps_mode passthrough`), must not restart the count
//!   when frame parameters change mid-stream (`-reinit_filter 0`, which also
//!   keeps one output size), and the `select` filter's `n` is that count.
//!   Selecting inside ffmpeg means unselected frames are never converted or
//!   piped, which is where most of the time would go at one hash a second.
//! * `sws_scale` to RGB24 at the stream's width × height with `SWS_AREA` and
//!   swscale's default colour details: the BT.601 matrix, and full range only
//!   for the pixel formats swscale's `handle_jpeg` marks (`yuvj*`, grey). The
//!   ffmpeg CLI would otherwise take the matrix and range from the frame's
//!   tags (BT.709 for most HD video), so both are fixed on the `scale` filter.
//! * No rotation (`-noautorotate`): the reference hashes frames as stored.

use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use tiaki_hash::vpdq::{frame_mod, frame_timestamp};

use crate::pipeline::{self, FrameQueue};
use crate::process::{Child, read_full};
use crate::{VideoError, VideoHash, VideoOptions, VideoSource};

/// What `ffprobe` says about the first video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamInfo {
    pub width: u32,
    pub height: u32,
    /// `avg_frame_rate`, or `r_frame_rate` when that is 0 or unknown.
    pub fps: f64,
    pub pix_fmt: String,
    pub codec: String,
}

#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
}

#[derive(serde::Deserialize)]
struct ProbeStream {
    #[serde(default)]
    codec_name: Option<String>,
    #[serde(default)]
    width: Option<u32>,
    #[serde(default)]
    height: Option<u32>,
    #[serde(default)]
    pix_fmt: Option<String>,
    #[serde(default)]
    avg_frame_rate: Option<String>,
    #[serde(default)]
    r_frame_rate: Option<String>,
}

/// Parses ffprobe's `num/den`; `0/0` and garbage are None.
fn parse_rate(s: Option<&str>) -> Option<f64> {
    let (n, d) = s?.split_once('/')?;
    let (n, d) = (n.trim().parse::<i64>().ok()?, d.trim().parse::<i64>().ok()?);
    if n == 0 || d == 0 {
        return None;
    }
    let fps = n as f64 / d as f64;
    (fps.is_finite() && fps > 0.0).then_some(fps)
}

/// The log levels ffmpeg's `-v level+…` tags lines with.
const LEVELS: [&str; 9] = [
    "quiet", "panic", "fatal", "error", "warning", "info", "verbose", "debug", "trace",
];

/// Splits the `[level] ` tag out of a line logged with `-v level+…`: it
/// follows the optional `[context @ 0x…] ` prefixes. Returns the level (if
/// any) and the line without it.
pub(crate) fn split_level(line: &str) -> (Option<&'static str>, String) {
    let mut rest = line;
    let mut prefix = String::new();
    // At most two context prefixes (parent and context) come first.
    for _ in 0..3 {
        let Some(inner) = rest.strip_prefix('[') else {
            break;
        };
        let Some((tag, after)) = inner.split_once("] ") else {
            break;
        };
        if let Some(level) = LEVELS.iter().find(|l| **l == tag) {
            return (Some(level), format!("{prefix}{after}"));
        }
        prefix.push_str(&rest[..tag.len() + 3]);
        rest = after;
    }
    (None, line.to_string())
}

/// An ffmpeg log line without its level tag and its `[demuxer @ 0x55…] `
/// prefix: the pointer changes on every run and means nothing to a reader.
fn clean(line: &str) -> String {
    let (_, line) = split_level(line.trim());
    let line = line.trim();
    let line = match line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
    {
        Some((tag, rest)) if tag.contains(" @ 0x") => match tag.split_once(" @ ") {
            Some((name, _)) => format!("{name}: {}", rest.trim()),
            None => rest.trim().to_string(),
        },
        _ => line.to_string(),
    };
    line.chars().take(300).collect()
}

/// The first error line of a child's stderr (else its first line), for
/// error messages.
fn first_line(stderr: &str) -> String {
    let lines = || stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| matches!(split_level(l).0, Some("error" | "fatal" | "panic")))
        .or_else(|| lines().next())
        .map_or_else(|| "no message".to_string(), clean)
}

/// `file:PATH`, so that a file name such as `http:x` or `-y` is always read
/// as a local path and never as a protocol or an option.
fn file_url(path: &Path) -> std::ffi::OsString {
    let mut s = std::ffi::OsString::from("file:");
    s.push(path.as_os_str());
    s
}

/// Runs ffprobe on `path` and describes its first video stream.
pub fn probe(
    path: &Path,
    opts: &VideoOptions,
    deadline: Instant,
) -> Result<StreamInfo, VideoError> {
    let mut child = Child::spawn(
        &opts.ffprobe,
        "ffprobe",
        [
            "-v".as_ref(),
            "error".as_ref(),
            "-select_streams".as_ref(),
            "v:0".as_ref(),
            "-show_entries".as_ref(),
            "stream=codec_name,width,height,pix_fmt,avg_frame_rate,r_frame_rate".as_ref(),
            "-of".as_ref(),
            "json".as_ref(),
            "-protocol_whitelist".as_ref(),
            "file".as_ref(),
            "-i".as_ref(),
            file_url(path).as_os_str(),
        ],
        deadline,
    )?;
    // ffprobe's answer is a few hundred bytes; 1 MiB bounds a broken one.
    let mut out = vec![0u8; 1 << 20];
    let n = read_full(child.stdout()?, &mut out)?;
    out.truncate(n);
    let done = child.finish()?;
    if done.timed_out {
        return Err(VideoError::Timeout(opts.timeout));
    }
    if !done.status.success() {
        return Err(VideoError::Corrupt(first_line(&done.stderr)));
    }
    let probe: Probe = serde_json::from_slice(&out)
        .map_err(|e| VideoError::Corrupt(format!("unreadable ffprobe output: {e}")))?;
    let s = probe
        .streams
        .into_iter()
        .next()
        .ok_or(VideoError::NoVideoStream)?;
    let (width, height) = match (s.width, s.height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
        _ => {
            return Err(VideoError::Corrupt(
                "the video stream has no frame size".into(),
            ));
        }
    };
    let fps = parse_rate(s.avg_frame_rate.as_deref())
        .or_else(|| parse_rate(s.r_frame_rate.as_deref()))
        .ok_or(VideoError::NoFrameRate)?;
    Ok(StreamInfo {
        width,
        height,
        fps,
        pix_fmt: s.pix_fmt.unwrap_or_default(),
        codec: s.codec_name.unwrap_or_default(),
    })
}

/// swscale's `handle_jpeg`: the source formats it treats as full range.
fn full_range_source(pix_fmt: &str) -> bool {
    pix_fmt.starts_with("yuvj") || pix_fmt.starts_with("gray") || pix_fmt.starts_with("ya")
}

/// The `-vf` graph: optional frame-count selection, then the reference's
/// conversion.
pub fn filter_graph(info: &StreamInfo, frame_mod: u64) -> String {
    let select = if frame_mod > 1 {
        format!("select=not(mod(n\\,{frame_mod})),")
    } else {
        String::new()
    };
    let range = if full_range_source(&info.pix_fmt) {
        "pc"
    } else {
        "tv"
    };
    format!(
        "{select}scale={}:{}:flags=area:in_color_matrix=bt601:out_color_matrix=bt601:in_range={range},format=rgb24",
        info.width, info.height
    )
}

/// The ffmpeg arguments that write the selected frames of `path` as raw
/// RGB24. The filter graph ([`filter_graph`]) is read from stdin
/// (`-filter_script:v pipe:0`): ffmpeg opens the input, describes it on
/// stderr and then waits for the graph, whose numbers come from that
/// description (or from ffprobe).
pub fn ffmpeg_args(path: &Path, decode_threads: u32) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = [
        "-hide_banner",
        // No interaction on stdin: it carries the filter script instead.
        "-nostdin",
        "-nostats",
        // `info` for the input's description (read before the filter graph
        // is written); `level` tags each line so that the description is
        // told apart from warnings and errors.
        "-v",
        "level+info",
        // Input options: no rotation, one filter graph for the whole stream.
        "-noautorotate",
        "-reinit_filter",
        "0",
        // Local files only: no network, no `concat:`/`subfile:` tricks in a
        // file name or in a playlist inside the file.
        "-protocol_whitelist",
        "file",
        "-i",
    ]
    .iter()
    .map(Into::into)
    .collect();
    if decode_threads > 0 {
        // An input (decoder) option: it must come before `-i`.
        let i = a.len() - 1;
        a.insert(i, "-threads".into());
        a.insert(i + 1, decode_threads.to_string().into());
    }
    a.push(file_url(path));
    for s in [
        "-map",
        "0:v:0",
        "-fps_mode",
        "passthrough",
        "-filter_script:v",
        "pipe:0",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
    ] {
        a.push(s.into());
    }
    a
}

/// ffmpeg's description of the input's first video stream (the
/// `Stream #0:N…: Video: …` line of its `info` log).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Described {
    /// The demuxer's stream id, `[0x…]` (the MP4 track ID).
    pub id: Option<u32>,
    pub width: u32,
    pub height: u32,
    pub pix_fmt: String,
    pub codec: String,
    /// `avg_frame_rate` as ffmpeg prints it (`30`, `29.97`), if it does.
    pub fps_text: Option<String>,
    pub attached_pic: bool,
}

/// Splits at top-level `, ` (not inside parentheses or brackets).
fn split_fields(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    let b = s.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b',' if depth == 0 && b.get(i + 1) == Some(&b' ') => {
                out.push(&s[start..i]);
                start = i + 2;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Parses `  Stream #0:0[0x1](eng): Video: h264 (Main) (avc1 / …),
/// yuv420p(progressive), 480x720 [SAR 1:1 DAR 2:3], 1109 kb/s, 30 fps, …`
/// (libavformat's `av_dump_format`, libavcodec's `avcodec_string`).
pub(crate) fn parse_stream_line(line: &str) -> Option<Described> {
    let rest = line.strip_prefix("  Stream #0:")?;
    let (head, body) = rest.split_once(": Video: ")?;
    let id = match head.split_once("[0x") {
        Some((_, after)) => Some(u32::from_str_radix(after.split_once(']')?.0, 16).ok()?),
        None => None,
    };
    let fields = split_fields(body);
    let codec = fields.first()?.split(' ').next()?.to_string();
    let size_at = fields.iter().position(|f| {
        let word = f.split(' ').next().unwrap_or("");
        word.split_once('x').is_some_and(|(w, h)| {
            !w.is_empty()
                && !h.is_empty()
                && w.bytes().all(|c| c.is_ascii_digit())
                && h.bytes().all(|c| c.is_ascii_digit())
        })
    })?;
    // The pixel format sits between the codec and the size; without it
    // (an unknown format) the line is not enough.
    if size_at != 2 {
        return None;
    }
    let (w, h) = fields[2].split(' ').next()?.split_once('x')?;
    let pix_fmt = fields[1].split('(').next()?.trim().to_string();
    if pix_fmt.is_empty() || pix_fmt.contains(' ') {
        return None;
    }
    let fps_text = fields
        .iter()
        .find_map(|f| f.strip_suffix(" fps"))
        .map(str::to_string);
    Some(Described {
        id,
        width: w.parse().ok()?,
        height: h.parse().ok()?,
        pix_fmt,
        codec,
        fps_text,
        attached_pic: body.contains("(attached pic)"),
    })
}

/// libavformat's `print_fps`: how ffmpeg prints a frame rate.
pub(crate) fn print_fps(d: f64) -> String {
    // `lrintf(d * 100)`: the product goes through a float, rounded to even.
    let v = ((d * 100.0) as f32).round_ties_even() as i64;
    if v == 0 {
        format!("{d:.4}")
    } else if v % 100 != 0 {
        format!("{d:.2}")
    } else if v % (100 * 1000) != 0 {
        format!("{d:.0}")
    } else {
        format!("{:.0}k", d / 1000.0)
    }
}

/// What ffmpeg said before it started waiting for its filter graph.
enum Description {
    Video(Described),
    /// It described the input, but not in a form this parser vouches for.
    Unclear,
    /// It ended (or the deadline passed) without describing a video stream.
    Ended,
}

/// Reads ffmpeg's `info` lines until the first video stream's description.
fn wait_for_description(lines: &Receiver<String>, deadline: Instant) -> Description {
    let mut saw_input = false;
    loop {
        // The watchdog kills ffmpeg at the deadline, which ends the lines;
        // the grace only guards against a stuck pipe.
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(2);
        let Ok(line) = lines.recv_timeout(wait) else {
            return Description::Ended;
        };
        let Some(text) = line.strip_prefix("[info] ") else {
            continue;
        };
        if text.starts_with("Input #0, ") {
            saw_input = true;
        } else if saw_input && text.starts_with("  Stream #0:") && text.contains(": Video: ") {
            return parse_stream_line(text).map_or(Description::Unclear, Description::Video);
        } else if text.starts_with("Input #") || text.starts_with("Output #") {
            return Description::Unclear;
        }
    }
}

/// Decoder threads for ffmpeg: the caller's choice, or (0) one thread when
/// the machine's cores are already busy — frame threads then only add
/// overhead, and the reference decodes on one thread too — and up to one per
/// idle core otherwise.
///
/// Busy cores are the tasks runnable at this instant besides the caller
/// (`/proc/loadavg`'s fourth field, `running/total`). Not the 1-minute load
/// average: it also counts tasks in uninterruptible sleep, and on a shared
/// VM it stays above 1 with every CPU idle, which made this one thread
/// always.
pub fn decode_threads(opts: &VideoOptions) -> u32 {
    if opts.decode_threads > 0 {
        return opts.decode_threads;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let running = std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| {
        let (now, _) = s.split_whitespace().nth(3)?.split_once('/')?;
        now.parse::<usize>().ok()
    });
    match running {
        // Idle cores, plus the one this decode runs on.
        Some(r) => {
            let idle = cores.saturating_sub(r.saturating_sub(1));
            u32::try_from((1 + idle).clamp(1, cores)).unwrap_or(1)
        }
        None => 1,
    }
}

/// True when ffmpeg's log shows `path` on one line (no control characters
/// in the name), so that no part of the name can pass for a log line.
fn loggable_name(path: &Path) -> bool {
    !path
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .any(|b| *b < 0x20 || *b == 0x7f)
}

/// Decodes and hashes `path` with ffmpeg. The caller has checked the file.
///
/// One program per file where possible: for MP4/MOV, the exact frame rate
/// comes from the file's boxes ([`crate::mp4`]) and the size and pixel
/// format from ffmpeg's own description of the input, which it prints before
/// reading its filter graph; both must agree (same track, same printed rate).
/// Otherwise ffprobe describes the stream, as the reference's libavformat
/// calls would.
pub(crate) fn hash_file(path: &Path, opts: &VideoOptions) -> Result<VideoHash, VideoError> {
    let deadline = Instant::now() + opts.timeout;
    let (tx, lines) = channel();
    // ffmpeg waits for its filter graph on stdin; on any early return,
    // dropping `child` kills it.
    let mut child = Child::spawn_with(
        &opts.ffmpeg,
        "ffmpeg",
        ffmpeg_args(path, decode_threads(opts)),
        deadline,
        true,
        Some(tx),
    )?;
    let rate = if loggable_name(path) {
        crate::mp4::average_frame_rate(path)
    } else {
        None
    };
    let described = match rate {
        Some(rate) => match wait_for_description(&lines, deadline) {
            Description::Video(d)
                if d.id == Some(rate.track_id)
                    && !d.attached_pic
                    && d.fps_text.as_deref() == Some(print_fps(rate.fps()).as_str()) =>
            {
                Some(StreamInfo {
                    width: d.width,
                    height: d.height,
                    fps: rate.fps(),
                    pix_fmt: d.pix_fmt,
                    codec: d.codec,
                })
            }
            Description::Ended if child.timed_out() => {
                return Err(VideoError::Timeout(opts.timeout));
            }
            _ => None,
        },
        None => None,
    };
    // Nobody reads the description from here on.
    drop(lines);
    let info = match described {
        Some(info) => info,
        // ffprobe's answer, or its error (corrupt input, no video stream).
        None => probe(path, opts, deadline)?,
    };
    crate::check_dimensions(u64::from(info.width), u64::from(info.height), opts)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let fmod = frame_mod(opts.seconds_per_hash, info.fps);
    let frame_len = (w * h * 3) as u64;
    child.write_stdin_and_close(filter_graph(&info, fmod).as_bytes());
    let read = pipeline::run(w, h, opts.workers(), |queue: &mut FrameQueue| {
        let mut out_bytes = 0u64;
        let mut k = 0u64;
        let mut partial = false;
        loop {
            if out_bytes + frame_len > opts.max_output_bytes {
                // Stop only if ffmpeg actually has another frame for us.
                let mut probe_byte = [0u8; 1];
                if read_full(child.stdout()?, &mut probe_byte)? == 0 {
                    break;
                }
                child.kill();
                return Err(VideoError::TooLarge {
                    limit: opts.max_output_bytes,
                });
            }
            let mut buf = queue.buffer();
            let n = read_full(child.stdout()?, &mut buf)?;
            if n == 0 {
                break;
            }
            if n < buf.len() {
                // Only a killed or crashed ffmpeg stops mid-frame; its exit
                // status says which.
                partial = true;
                break;
            }
            out_bytes += frame_len;
            // ffmpeg passes on frames n = 0, m, 2m, …, so the k-th frame read
            // is decoded frame k·m.
            let frame = k * fmod;
            queue.submit(frame, frame_timestamp(frame, info.fps), buf)?;
            k += 1;
        }
        Ok((k, partial))
    });
    // Whatever happened while reading, ffmpeg is reaped before returning.
    let done = child.finish();
    let ((read_frames, partial), features) = read?;
    let done = done?;
    if done.timed_out {
        return Err(VideoError::Timeout(opts.timeout));
    }
    if !done.status.success() {
        return Err(VideoError::Corrupt(first_line(&done.stderr)));
    }
    if partial {
        return Err(VideoError::Corrupt(
            "ffmpeg stopped in the middle of a frame".into(),
        ));
    }
    if read_frames == 0 {
        let why = if done.stderr.trim().is_empty() {
            "no frame could be decoded".to_string()
        } else {
            first_line(&done.stderr)
        };
        return Err(VideoError::Corrupt(why));
    }
    let warnings = done
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .map(clean)
        .collect();
    Ok(VideoHash {
        features,
        width: info.width,
        height: info.height,
        fps: info.fps,
        frame_mod: fmod,
        frames_decoded: (fmod == 1).then_some(read_frames),
        source: VideoSource::Ffmpeg,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_prefixes_lose_their_pointers() {
        assert_eq!(
            clean("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55f73f3efa40] moov atom not found"),
            "mov,mp4,m4a,3gp,3g2,mj2: moov atom not found"
        );
        assert_eq!(
            clean("  Error while decoding stream #0:0: x "),
            "Error while decoding stream #0:0: x"
        );
        assert_eq!(first_line("\n\n[h264 @ 0x1] bad\nnext"), "h264: bad");
        assert_eq!(first_line(""), "no message");
    }

    #[test]
    fn stream_descriptions() {
        let d = parse_stream_line("  Stream #0:0[0x1](eng): Video: h264 (Main) (avc1 / 0x31637661), yuv420p(progressive), 480x720 [SAR 1:1 DAR 2:3], 1109 kb/s, 30 fps, 30 tbr, 15360 tbn (default)").unwrap();
        assert_eq!(
            d,
            Described {
                id: Some(1),
                width: 480,
                height: 720,
                pix_fmt: "yuv420p".into(),
                codec: "h264".into(),
                fps_text: Some("30".into()),
                attached_pic: false,
            }
        );
        let d = parse_stream_line("  Stream #0:2[0x3]: Video: hevc (Main 10) (hvc1 / 0x31637668), yuvj420p10le(pc, bt709, progressive) (10 bpc), 1920x1080, 29.97 fps, 29.97 tbr, 90k tbn").unwrap();
        assert_eq!(
            (d.id, d.pix_fmt.as_str(), d.width, d.fps_text.as_deref()),
            (Some(3), "yuvj420p10le", 1920, Some("29.97"))
        );
        // No pixel format, not a video line, cover art.
        assert!(parse_stream_line("  Stream #0:0: Video: h264, 480x720, 30 fps").is_none());
        assert!(parse_stream_line("  Stream #0:1: Audio: aac (LC), 48000 Hz").is_none());
        assert!(
            parse_stream_line(
                "  Stream #0:1: Video: mjpeg, yuvj420p(pc), 600x600, 90k tbn (attached pic)"
            )
            .unwrap()
            .attached_pic
        );
    }

    #[test]
    fn frame_rates_print_as_ffmpeg_prints_them() {
        assert_eq!(print_fps(30.0), "30");
        assert_eq!(print_fps(30000.0 / 1001.0), "29.97");
        assert_eq!(print_fps(24000.0 / 1001.0), "23.98");
        assert_eq!(print_fps(29.999), "30");
        assert_eq!(print_fps(120000.0), "120k");
        assert_eq!(print_fps(0.001), "0.0010");
    }

    #[test]
    fn level_tags() {
        assert_eq!(
            split_level("[info] Input #0, x"),
            (Some("info"), "Input #0, x".into())
        );
        assert_eq!(
            split_level("[h264 @ 0x1] [error] bad"),
            (Some("error"), "[h264 @ 0x1] bad".into())
        );
        assert_eq!(split_level("plain"), (None, "plain".into()));
        assert_eq!(
            first_line("[info] x\n[warning] w\n[mov @ 0x2] [error] e\n"),
            "mov: e"
        );
        assert!(loggable_name(Path::new("a b.mp4")) && !loggable_name(Path::new("a\nb.mp4")));
    }

    #[test]
    fn rates_and_filters() {
        assert_eq!(parse_rate(Some("30000/1001")), Some(30000.0 / 1001.0));
        assert_eq!(parse_rate(Some("0/0")), None);
        assert_eq!(parse_rate(Some("25")), None);
        assert_eq!(parse_rate(None), None);
        let info = StreamInfo {
            width: 480,
            height: 720,
            fps: 30.0,
            pix_fmt: "yuv420p".into(),
            codec: "h264".into(),
        };
        assert_eq!(
            filter_graph(&info, 30),
            "select=not(mod(n\\,30)),scale=480:720:flags=area:in_color_matrix=bt601:out_color_matrix=bt601:in_range=tv,format=rgb24"
        );
        let j = StreamInfo {
            pix_fmt: "yuvj420p".into(),
            ..info
        };
        assert!(
            filter_graph(&j, 1).starts_with("scale=")
                && filter_graph(&j, 1).contains("in_range=pc")
        );
        let args = ffmpeg_args(Path::new("-y.mp4"), 0);
        assert!(args.iter().any(|a| a == "file:-y.mp4"));
        assert!(!args.iter().any(|a| a == "-threads"));
        let args = ffmpeg_args(Path::new("x.mp4"), 1);
        let i = args.iter().position(|a| a == "-threads").unwrap();
        assert_eq!(
            (args[i + 1].to_str(), args[i + 2].to_str()),
            (Some("1"), Some("-i"))
        );
    }
}
