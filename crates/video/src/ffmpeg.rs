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
use std::time::Instant;

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

/// An ffmpeg log line without its `[demuxer @ 0x55…] ` prefix: the
/// pointer changes on every run and means nothing to a reader.
fn clean(line: &str) -> String {
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

/// First non-empty stderr line, for error messages.
fn first_line(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
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
/// (`-filter_script:v pipe:0`), so ffmpeg can start, load its libraries and
/// open the input while ffprobe is still working out the graph's numbers.
pub fn ffmpeg_args(path: &Path, decode_threads: u32) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = [
        "-hide_banner",
        // No interaction on stdin: it carries the filter script instead.
        "-nostdin",
        "-v",
        "error",
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

/// Decodes and hashes `path` with ffmpeg. The caller has checked the file.
pub(crate) fn hash_file(path: &Path, opts: &VideoOptions) -> Result<VideoHash, VideoError> {
    let deadline = Instant::now() + opts.timeout;
    // Both programs start at once: process start-up and input probing are a
    // large part of the time on short clips. ffmpeg waits for its filter
    // graph on stdin; if the probe fails, dropping `child` kills it.
    let mut child = Child::spawn_with(
        &opts.ffmpeg,
        "ffmpeg",
        ffmpeg_args(path, opts.decode_threads),
        deadline,
        true,
    )?;
    let info = probe(path, opts, deadline)?;
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
