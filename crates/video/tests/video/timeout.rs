//! Hanging decoders are killed at the deadline. The stand-in scripts are
//! written by a `sh` child, never through a file descriptor of this process:
//! other tests of the binary fork ffmpeg meanwhile, and a child that
//! inherited a descriptor open for writing would make exec of the script
//! fail with "text file busy".

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::*;
use tiaki_video::{VideoError, VideoOptions, hash_video_file};

/// A stand-in for ffmpeg/ffprobe that records its pid and hangs.
fn hanging_program(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let pidfile = dir.join(format!("{name}.pid"));
    let script = dir.join(name);
    let body = format!(
        "#!/bin/sh\necho $$ > '{}'\nexec sleep 60\n",
        pidfile.display()
    );
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
            "sh",
        ])
        .arg(&body)
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "writing {}", script.display());
    (script, pidfile)
}

fn assert_gone(pidfile: &Path) {
    let pid = std::fs::read_to_string(pidfile).unwrap();
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
    // Reaped (no /proc entry) — or, if the pid was reused already, not our sleep.
    assert!(
        !status.contains("Name:\tsleep"),
        "process {} still running",
        pid.trim()
    );
}

fn timed(path: &Path, opts: &VideoOptions) -> (VideoError, Duration) {
    let t0 = Instant::now();
    let e = hash_video_file(path, opts).expect_err("expected a timeout");
    let took = t0.elapsed();
    note(&format!("{}: {e} after {took:?}", path.display()));
    assert!(!e.to_string().contains('\n'));
    (e, took)
}

#[test]
fn hanging_decoders_are_killed() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let (slow_ffmpeg, ffmpeg_pid) = hanging_program(dir.path(), "ffmpeg");
    let (slow_ffprobe, ffprobe_pid) = hanging_program(dir.path(), "ffprobe");
    let timeout = Duration::from_secs(2);

    // ffmpeg hangs after a successful probe.
    let opts = VideoOptions {
        timeout,
        ffmpeg: slow_ffmpeg,
        ..VideoOptions::default()
    };
    let (e, took) = timed(&video("test-padded-dimensions"), &opts);
    assert!(matches!(e, VideoError::Timeout(_)), "{e}");
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(5),
        "{took:?}"
    );
    assert_gone(&ffmpeg_pid);

    // ffprobe hangs. It is asked only about files whose frame rate is not
    // read in process: here, the same stream in Matroska.
    let mkv = dir.path().join("copy.mkv");
    let src = video("test-padded-dimensions");
    ffmpeg_make(&["-i", src.to_str().unwrap(), "-c", "copy"], &mkv);
    let opts = VideoOptions {
        timeout,
        ffprobe: slow_ffprobe,
        ..VideoOptions::default()
    };
    let (e, took) = timed(&mkv, &opts);
    assert!(matches!(e, VideoError::Timeout(_)), "{e}");
    assert!(took < timeout + Duration::from_secs(5), "{took:?}");
    assert_gone(&ffprobe_pid);

    // The real ffprobe blocks on a FIFO that nobody writes: a decode that
    // never gets data.
    let fifo = dir.path().join("stuck.mp4");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let opts = VideoOptions {
        timeout,
        ..VideoOptions::default()
    };
    let (e, took) = timed(&fifo, &opts);
    assert!(matches!(e, VideoError::Timeout(_)), "{e}");
    assert!(took < timeout + Duration::from_secs(5), "{took:?}");
}
