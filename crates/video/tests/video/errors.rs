//! Bad inputs give a one-line error and nothing hangs.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;
use tiaki_video::{VideoError, VideoOptions, hash_video_file};

fn quick() -> VideoOptions {
    VideoOptions {
        timeout: Duration::from_secs(60),
        ..VideoOptions::default()
    }
}

fn err(path: &Path, opts: &VideoOptions) -> VideoError {
    let t0 = Instant::now();
    let e = hash_video_file(path, opts).expect_err("expected an error");
    let line = e.to_string();
    assert!(
        !line.contains('\n') && !line.is_empty(),
        "not one line: {line:?}"
    );
    assert!(
        t0.elapsed() < opts.timeout + Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    note(&format!(
        "{}: {} ({})",
        path.file_name().unwrap_or_default().to_string_lossy(),
        line,
        e.kind()
    ));
    e
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.mp4");
    std::fs::write(&p, b"").unwrap();
    assert!(matches!(err(&p, &quick()), VideoError::Empty));
}

#[test]
fn missing_file_is_an_io_error() {
    let e = err(Path::new("/nonexistent/clip.mp4"), &quick());
    assert!(matches!(e, VideoError::Io(_)), "{e}");
}

#[test]
fn random_bytes_are_corrupt() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("noise.mp4");
    let mut noise = vec![0u8; 200_000];
    tiaki_testkit::Rng::new(0x2545_f491).fill(&mut noise);
    std::fs::write(&p, noise).unwrap();
    assert!(matches!(err(&p, &quick()), VideoError::Corrupt(_)));
}

#[test]
fn truncated_video() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(video("chair-20-sd-bar")).unwrap();
    // Cut inside the index (the sample MP4s keep it at the front): corrupt.
    let p = dir.path().join("cut-index.mp4");
    std::fs::write(&p, &bytes[..2_000]).unwrap();
    assert!(matches!(err(&p, &quick()), VideoError::Corrupt(_)));
    // Cut in the media data: what decodes is hashed, as the reference does,
    // and ffmpeg's complaints are kept as warnings.
    let p = dir.path().join("cut-data.mp4");
    std::fs::write(&p, &bytes[..300_000]).unwrap();
    let v = hash_video_file(&p, &quick()).unwrap();
    let full = ours("chair-20-sd-bar", 1.0);
    assert!(!v.features.is_empty() && v.features.len() < full.len());
    assert_eq!(v.features[..], full[..v.features.len()]);
    assert!(
        v.warnings.iter().any(|w| w.contains("partial file")),
        "{:?}",
        v.warnings
    );
}

#[test]
fn damaged_packets_still_hash_or_fail_cleanly() {
    require_ffmpeg();
    // Zeroed bytes in the middle of the media data: the decoder conceals
    // what it can, as the reference's decoder does. Either outcome is fine;
    // what matters is that it ends and says something useful.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("damaged.mp4");
    let mut bytes = std::fs::read(video("pattern-sd-grey-bar")).unwrap();
    bytes[300_000..360_000].fill(0);
    std::fs::write(&p, &bytes).unwrap();
    match hash_video_file(&p, &quick()) {
        Ok(v) => {
            assert!(!v.features.is_empty());
            note(&format!(
                "damaged.mp4: {} hashes, warnings: {:?}",
                v.features.len(),
                v.warnings.first()
            ));
        }
        Err(e) => assert!(matches!(e, VideoError::Corrupt(_)), "{e}"),
    }
}

/// A 1-second 8 kHz mono 16-bit WAV: a file with no video stream.
fn wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..8000)
        .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&16000u32.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

#[test]
fn audio_only_file_has_no_video_stream() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tone.wav");
    std::fs::write(&p, wav()).unwrap();
    assert!(matches!(err(&p, &quick()), VideoError::NoVideoStream));
}

#[test]
fn ffmpeg_not_installed_is_named() {
    let opts = VideoOptions {
        ffprobe: "/nonexistent/bin/ffprobe".into(),
        ffmpeg: "/nonexistent/bin/ffmpeg".into(),
        ..quick()
    };
    let e = err(&video("test-padded-dimensions"), &opts);
    assert!(matches!(e, VideoError::FfmpegNotFound { .. }), "{e}");
    assert!(e.to_string().contains("not installed"), "{e}");
    assert!(tiaki_video::ffmpeg_available(&opts).is_err());
}

#[test]
fn output_limit_stops_ffmpeg() {
    require_ffmpeg();
    // Two 1080×1080 RGB frames fit; the third does not.
    let opts = VideoOptions {
        seconds_per_hash: 0.0,
        max_output_bytes: 2 * 1080 * 1080 * 3 + 10,
        ..quick()
    };
    let e = err(&video("test-padded-dimensions"), &opts);
    assert!(matches!(e, VideoError::TooLarge { .. }), "{e}");
    // The same limit is fine when only one frame a second is piped.
    let opts = VideoOptions {
        max_output_bytes: 5 * 1080 * 1080 * 3,
        ..quick()
    };
    assert_eq!(
        hash_video_file(&video("test-padded-dimensions"), &opts)
            .unwrap()
            .features
            .len(),
        5
    );
}

#[test]
fn frame_size_limits() {
    require_ffmpeg();
    let opts = VideoOptions {
        max_frame_pixels: 640 * 480,
        ..quick()
    };
    let e = err(&video("test-padded-dimensions"), &opts);
    assert!(matches!(e, VideoError::BadDimensions { .. }), "{e}");
    // A 4×4 video: PDQ needs 5 pixels a side, and the reference refuses too.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiny.mkv");
    let ok = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=4x4:rate=10:duration=1",
        ])
        .args(["-c:v", "ffv1"])
        .arg(&p)
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(matches!(
        err(&p, &quick()),
        VideoError::BadDimensions { .. }
    ));
}
