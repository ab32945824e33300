//! Against Meta's `vpdq` package from PyPI (the C++ reference through
//! Cython) and python-threatexchange's matcher, on the same files.
//!
//! Needs `TIAKI_PEER_PYTHON` naming a Python with `vpdq` installed
//! (`pip install vpdq threatexchange`; threatexchange is optional, the
//! helper carries a copy of its matcher); without it the test fails, unless
//! `TIAKI_SKIP_PEERS=1` skips it loudly (`tiaki_testkit::peer_python`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::common::*;
use tiaki_hash::vpdq::format::read_reference_text;
use tiaki_hash::vpdq::{MatchThresholds, compare};
use tiaki_testkit::peer_python;

fn helper() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/video/vpdq_peer.py")
}

/// The package's hashes of a staged video at 1 s, as text files in a
/// directory shared by both tests (each video is hashed by the peer once).
fn peer_hashes(python: &PathBuf, name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let path = dir.path().join(format!("{name}.txt"));
    let _held = LOCK.lock().unwrap();
    if !path.exists() {
        let text = run(
            python,
            &["hash", "--every", "1", video(name).to_str().unwrap()],
        );
        std::fs::write(&path, text).unwrap();
    }
    path
}

fn run(python: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg(helper())
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hashes_agree_with_the_vpdq_package() {
    let Some(py) = peer_python() else { return };
    require_ffmpeg();
    let mut report = String::from("vPDQ at 1 s vs the PyPI vpdq package:\n");
    for name in VIDEOS {
        let text = std::fs::read_to_string(peer_hashes(&py, name)).unwrap();
        let theirs = read_reference_text(&text).unwrap();
        let ours = ours(name, 1.0);
        let a = check_upstream_rule(name, &ours, &theirs);
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(
                format!("{:.3}", o.timestamp),
                format!("{:.3}", t.timestamp),
                "{name}"
            );
        }
        report.push_str(&format!(
            "  {name:32} {:3} frames, {:3} bit-exact, max distance {}\n",
            a.frames, a.exact, a.max_distance_all
        ));
    }
    note(&report);
}

#[test]
fn decisions_and_percentages_agree_with_python_threatexchange() {
    let Some(py) = peer_python() else { return };
    require_ffmpeg();
    let pairs = [
        ("chair-20-sd-bar", "chair-orig-22-sd-bar"),
        ("chair-orig-22-sd-bar", "chair-20-sd-bar"),
        ("chair-22-sd-grey-bar", "chair-orig-22-sd-bar"),
        ("pattern-hd-no-bar", "chair-orig-22-sd-bar"),
        ("pattern-sd-with-small-logo-bar", "pattern-sd-grey-bar"),
        // The large-logo pairs: no match for the package and py-tx either
        // (docs/video.md, "Large logos").
        (
            "pattern-sd-with-large-logo-bar",
            "pattern-sd-with-small-logo-bar",
        ),
        ("pattern-sd-with-large-logo-bar", "pattern-sd-grey-bar"),
        ("pattern-sd-grey-bar", "pattern-sd-with-large-logo-bar"),
        ("pattern-sd-grey-bar", "pattern-hd-no-bar"),
        ("pattern-longer-no-bar", "pattern-hd-no-bar"),
        ("doorknob-hd-no-bar", "doorknob-hd-no-bar"),
    ];
    let mut report =
        String::from("comparisons at 1 s, ours vs python-threatexchange on vpdq-package hashes:\n");
    let mut identical = 0;
    for (a, b) in pairs {
        let (ha, hb) = (peer_hashes(&py, a), peer_hashes(&py, b));
        let out = run(
            &py,
            &["compare", ha.to_str().unwrap(), hb.to_str().unwrap()],
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let (tq, tc) = (
            v["query_match_percent"].as_f64().unwrap(),
            v["compared_match_percent"].as_f64().unwrap(),
        );
        let r = compare(&ours(a, 1.0), &ours(b, 1.0), &MatchThresholds::default());
        assert_eq!(
            r.is_match,
            v["is_match"].as_bool().unwrap(),
            "{a} vs {b}: ours {} theirs {out}",
            r.summary()
        );
        // The same decoder build gives the same hashes and so the same
        // numbers; another build may move a frame across the threshold.
        assert!(
            (r.query_match_percent - tq).abs() <= 10.0
                && (r.compared_match_percent - tc).abs() <= 10.0,
            "{a} vs {b}"
        );
        identical += usize::from(r.query_match_percent == tq && r.compared_match_percent == tc);
        report.push_str(&format!(
            "  {a} vs {b}: ours {:.2}%/{:.2}% {}, peer ({}) {tq:.2}%/{tc:.2}% {}\n",
            r.query_match_percent,
            r.compared_match_percent,
            r.is_match,
            v["matcher"].as_str().unwrap_or("?"),
            v["is_match"]
        ));
    }
    report.push_str(&format!(
        "  {identical}/{} pairs with identical percentages\n",
        pairs.len()
    ));
    note(&report);
}

#[test]
fn other_codecs_pixel_formats_and_ranges_agree_with_the_vpdq_package() {
    let Some(py) = peer_python() else { return };
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let src = video("test-padded-dimensions");
    let src = src.to_str().unwrap();
    // (file, encoder arguments): full range tagged on a non-`j` format
    // (VP9), full range through `yuvj` (HEVC, MJPEG), grey, 10-bit 4:4:4.
    let cases: [(&str, &[&str]); 5] = [
        (
            "vp9-full.webm",
            &[
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
                "-pix_fmt",
                "yuv420p",
                "-color_range",
                "pc",
                "-colorspace",
                "bt709",
            ],
        ),
        (
            "hevc-full.mp4",
            &[
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-color_range",
                "pc",
                "-x265-params",
                "log-level=error:range=full",
            ],
        ),
        ("mjpeg.avi", &["-c:v", "mjpeg", "-q:v", "5"]),
        ("gray.mkv", &["-vf", "format=gray", "-c:v", "ffv1"]),
        (
            "x264-444p10.mp4",
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv444p10le",
            ],
        ),
    ];
    let mut report = String::from("generated inputs, every frame, vs the vpdq package:\n");
    for (name, enc) in cases {
        let out = dir.path().join(name);
        let mut args = vec!["-i", src, "-t", "2"];
        args.extend_from_slice(enc);
        ffmpeg_make(&args, &out);
        let text = run(&py, &["hash", "--every", "0", out.to_str().unwrap()]);
        let theirs = read_reference_text(&text).unwrap();
        let ours = tiaki_video::hash_video_file(&out, &tiaki_video::VideoOptions::every(0.0))
            .unwrap()
            .features;
        let a = check_upstream_rule(name, &ours, &theirs);
        report.push_str(&format!(
            "  {name:18} {:3} frames, {:3} bit-exact, max distance {}\n",
            a.frames, a.exact, a.max_distance_all
        ));
    }
    note(&report);
}
