//! Shared helpers for the integration tests: where the reference data is,
//! and a cache so each video is hashed once per test binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tiaki_hash::vpdq::VpdqFeature;
use tiaki_hash::vpdq::format::read_reference_text;
use tiaki_video::{VideoOptions, hash_video_file};

/// The ten staged sample videos (`tests/data/tmk/sample-videos`).
pub const VIDEOS: [&str; 10] = [
    "chair-20-sd-bar",
    "chair-22-sd-grey-bar",
    "chair-orig-22-sd-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "pattern-longer-no-bar",
    "pattern-sd-grey-bar",
    "pattern-sd-with-large-logo-bar",
    "pattern-sd-with-small-logo-bar",
    "test-padded-dimensions",
];

pub fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn video(name: &str) -> PathBuf {
    data().join("tmk/sample-videos").join(format!("{name}.mp4"))
}

/// The upstream every-frame hashes of `name`.
pub fn reference(name: &str) -> Vec<VpdqFeature> {
    let path = data()
        .join("vpdq/sample-hashes")
        .join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    read_reference_text(&text).unwrap()
}

/// The reference hashes thinned to one a second, as the reference sampler
/// would have produced them at 30 fps.
pub fn reference_1s(name: &str) -> Vec<VpdqFeature> {
    reference(name)
        .into_iter()
        .filter(|f| f.frame % 30 == 0)
        .collect()
}

/// Fails the test with a clear message when ffmpeg is missing.
pub fn require_ffmpeg() {
    if let Err(e) = tiaki_video::ffmpeg_available(&VideoOptions::default()) {
        panic!("these tests need ffmpeg and ffprobe (Debian: apt-get install ffmpeg): {e}");
    }
}

/// Our hashes of a staged video at `seconds_per_hash`, computed once.
pub fn ours(name: &str, seconds_per_hash: f64) -> Vec<VpdqFeature> {
    type Cache = Mutex<HashMap<(String, u64), Vec<VpdqFeature>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (name.to_string(), seconds_per_hash.to_bits());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(v) = cache.lock().unwrap().get(&key) {
        return v.clone();
    }
    require_ffmpeg();
    let v = hash_video_file(&video(name), &VideoOptions::every(seconds_per_hash))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .features;
    cache.lock().unwrap().insert(key, v.clone());
    v
}

/// Bit-exact count, worst distance over frames where both qualities are
/// ≥ 50, worst distance overall, worst quality difference.
pub struct Agreement {
    pub frames: usize,
    pub exact: usize,
    pub max_distance_q50: u32,
    pub max_distance_all: u32,
    pub max_quality_diff: u8,
}

/// The upstream pass rule (`match-hashes-byline`): same frame count, same
/// frame numbers, and < 31 bits wherever both qualities are ≥ 50.
pub fn check_upstream_rule(name: &str, ours: &[VpdqFeature], theirs: &[VpdqFeature]) -> Agreement {
    assert_eq!(ours.len(), theirs.len(), "{name}: frame count");
    let mut a = Agreement {
        frames: ours.len(),
        exact: 0,
        max_distance_q50: 0,
        max_distance_all: 0,
        max_quality_diff: 0,
    };
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o.frame, t.frame, "{name}: frame numbers");
        let d = o.hash.distance(&t.hash);
        a.exact += usize::from(d == 0);
        a.max_distance_all = a.max_distance_all.max(d);
        a.max_quality_diff = a.max_quality_diff.max(o.quality.abs_diff(t.quality));
        if o.quality >= 50 && t.quality >= 50 {
            assert!(
                d < 31,
                "{name}: frame {} is {d} bits from the reference",
                o.frame
            );
            a.max_distance_q50 = a.max_distance_q50.max(d);
        }
    }
    a
}

/// Writes past libtest's output capture, so a note shows in a normal run.
pub fn note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

/// Runs `ffmpeg -v error -nostdin -y ARGS… OUT` to make a test input.
pub fn ffmpeg_make(args: &[&str], out: &std::path::Path) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y"])
        .args(args)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg {args:?} failed");
}
