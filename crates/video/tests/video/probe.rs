//! Stream parameters without ffprobe: for MP4/MOV the exact average frame
//! rate is read from the file's boxes and the size and pixel format from
//! ffmpeg's own description of the input. These tests check the in-process
//! rate against ffprobe's `avg_frame_rate` on staged and generated files, and
//! that MP4s really are hashed without ffprobe.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::common::*;
use tiaki_video::{VideoError, VideoOptions, hash_video_file, mp4};

/// ffprobe's `avg_frame_rate` of the first video stream, as `num/den`.
fn ffprobe_rate(path: &Path) -> String {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=avg_frame_rate", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn in_process_rate(path: &Path) -> Option<String> {
    mp4::average_frame_rate(path).map(|r| format!("{}/{}", r.num, r.den))
}

fn no_ffprobe() -> VideoOptions {
    VideoOptions {
        ffprobe: "/nonexistent/ffprobe".into(),
        ..VideoOptions::default()
    }
}

#[test]
fn staged_videos_are_hashed_without_ffprobe() {
    require_ffmpeg();
    for name in VIDEOS {
        let p = video(name);
        assert_eq!(in_process_rate(&p).as_deref(), Some("30/1"), "{name}");
        assert_eq!(ffprobe_rate(&p), "30/1", "{name}");
        let v = hash_video_file(&p, &no_ffprobe()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.features, ours(name, 1.0), "{name}");
    }
}

#[test]
fn generated_rates_equal_ffprobes() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let src = |rate: &str| format!("testsrc2=size=96x64:duration=3:rate={rate}");
    let (ntsc, pal, film, thirty) = (src("30000/1001"), src("25"), src("24"), src("30"));
    let x264 = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    // (file, ffmpeg arguments before the encoder's)
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("ntsc.mp4", vec!["-f", "lavfi", "-i", &ntsc]),
        (
            "pal-faststart.mp4",
            vec!["-f", "lavfi", "-i", &pal, "-movflags", "+faststart"],
        ),
        (
            "odd-timescale.mov",
            vec!["-f", "lavfi", "-i", &film, "-video_track_timescale", "1001"],
        ),
        (
            // Variable frame rate: every third frame dropped, timestamps kept.
            "vfr.mp4",
            vec![
                "-f",
                "lavfi",
                "-i",
                &thirty,
                "-vf",
                "select=not(eq(mod(n\\,3)\\,2))",
                "-fps_mode",
                "vfr",
            ],
        ),
    ];
    let mut report = String::from("in-process avg_frame_rate vs ffprobe:\n");
    for (name, args) in &cases {
        let out = dir.path().join(name);
        let mut all: Vec<&str> = args.clone();
        all.extend_from_slice(&x264);
        ffmpeg_make(&all, &out);
        let theirs = ffprobe_rate(&out);
        let mine = in_process_rate(&out);
        report.push_str(&format!("  {name:20} {mine:?} ffprobe {theirs}\n"));
        if let Some(mine) = mine {
            assert_eq!(mine, theirs, "{name}");
        }
        // Either way the hashes are those of the ffprobe route.
        let with = hash_video_file(&out, &VideoOptions::every(0.5)).unwrap();
        let fps: Vec<&str> = theirs.split('/').collect();
        let fps = fps[0].parse::<f64>().unwrap() / fps[1].parse::<f64>().unwrap();
        assert_eq!(with.fps, fps, "{name}");
    }
    note(&report);
}

#[test]
fn other_containers_still_ask_ffprobe() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let mkv = dir.path().join("copy.mkv");
    let src = video("test-padded-dimensions");
    ffmpeg_make(&["-i", src.to_str().unwrap(), "-c", "copy"], &mkv);
    assert_eq!(in_process_rate(&mkv), None);
    let e = hash_video_file(&mkv, &no_ffprobe()).unwrap_err();
    assert!(
        matches!(
            e,
            VideoError::FfmpegNotFound {
                program: "ffprobe",
                ..
            }
        ),
        "{e}"
    );
    let v = hash_video_file(&mkv, &VideoOptions::default()).unwrap();
    assert_eq!(v.features, ours("test-padded-dimensions", 1.0));
}
