//! Comparison decisions on the sample videos, with python-threatexchange's
//! rules and defaults (dedupe, quality >= 50, distance <= 31, query >= 80 %),
//! at one hash a second as `VPDQSignal.hash_from_file` hashes.
//!
//! What vPDQ does and does not survive, measured here (and identically by
//! Meta's `vpdq` package, see peer.rs):
//! * a re-cut (chair-20 vs chair-orig-22), grey and sepia filters, a small
//!   logo, rescaling and recompression: match;
//! * a large logo over the frame, and letterbox bars added or removed
//!   (`-sd-bar` vs `-hd-no-bar`): no match. PDQ hashes the whole frame, so
//!   these change too many bits. This is a property of the algorithm, not of
//!   this implementation: the reference's own hashes behave the same.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use tiaki_hash::vpdq::{MatchThresholds, VpdqComparison, compare};

fn cmp(a: &[tiaki_hash::vpdq::VpdqFeature], b: &[tiaki_hash::vpdq::VpdqFeature]) -> VpdqComparison {
    compare(a, b, &MatchThresholds::default())
}

#[test]
fn chair_20_matches_chair_orig_22() {
    let r = cmp(
        &ours("chair-20-sd-bar", 1.0),
        &ours("chair-orig-22-sd-bar", 1.0),
    );
    assert!(r.is_match, "{}", r.summary());
    assert_eq!(r.query_match_percent, 100.0);
    // chair-orig-22 is a second longer: one of its 23 frames has no partner.
    assert_eq!((r.compared_frames, r.compared_matches.len()), (23, 22));
    // The explanation names frames and distances.
    assert!(r.query_matches.iter().all(|m| m.distance <= 31));
    assert_eq!(r.query_matches[0].frame, 0);
}

#[test]
fn pattern_does_not_match_chair() {
    for p in [
        "pattern-hd-no-bar",
        "pattern-longer-no-bar",
        "pattern-sd-grey-bar",
        "pattern-sd-with-small-logo-bar",
    ] {
        for c in [
            "chair-20-sd-bar",
            "chair-orig-22-sd-bar",
            "chair-22-sd-grey-bar",
        ] {
            let r = cmp(&ours(p, 1.0), &ours(c, 1.0));
            assert!(!r.is_match, "{p} vs {c}: {}", r.summary());
            assert_eq!(r.query_match_percent, 0.0, "{p} vs {c}");
        }
    }
    assert!(
        !cmp(
            &ours("doorknob-hd-no-bar", 1.0),
            &ours("pattern-hd-no-bar", 1.0)
        )
        .is_match
    );
}

#[test]
fn grey_sepia_and_small_logo_variants_match_their_originals() {
    let orig = ours("chair-orig-22-sd-bar", 1.0);
    let r = cmp(&ours("chair-22-sd-grey-bar", 1.0), &orig);
    assert!(
        r.is_match && r.query_match_percent == 100.0,
        "grey: {}",
        r.summary()
    );
    // Variants whose videos are not staged: the reference's own hashes of
    // them, thinned to one a second, against our hashes of the original.
    for v in [
        "chair-22-with-small-logo-bar",
        "chair-22-sd-sepia-bar",
        "chair-22-sd-grey-bar",
    ] {
        let r = cmp(&reference_1s(v), &orig);
        assert!(r.is_match, "{v}: {}", r.summary());
        assert_eq!(r.query_match_percent, 100.0, "{v}");
    }
    let r = cmp(
        &ours("pattern-sd-with-small-logo-bar", 1.0),
        &ours("pattern-sd-grey-bar", 1.0),
    );
    assert!(
        r.is_match && r.query_match_percent == 100.0,
        "pattern small logo vs grey: {}",
        r.summary()
    );
}

#[test]
fn rescaled_and_recompressed_copy_matches() {
    require_ffmpeg();
    // A variant this test makes: test-padded-dimensions, 1080² → 720², at
    // a much lower bit rate.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small.mp4");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-i"])
        .arg(video("test-padded-dimensions"))
        .args([
            "-vf",
            "scale=720:720",
            "-c:v",
            "libx264",
            "-crf",
            "35",
            "-preset",
            "veryfast",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert!(ok.success());
    let copy = tiaki_video::hash_video_file(&out, &tiaki_video::VideoOptions::default()).unwrap();
    let r = cmp(&copy.features, &ours("test-padded-dimensions", 1.0));
    assert!(
        r.is_match && r.query_match_percent == 100.0,
        "{}",
        r.summary()
    );
}

#[test]
fn large_logo_and_letterbox_changes_do_not_match() {
    // Documented limits of vPDQ (see the module comment and docs/video.md,
    // "Large logos"): the large-logo clips are 44–74 bits from their
    // originals at one hash a second, far beyond 31.
    for other in ["pattern-sd-with-small-logo-bar", "pattern-sd-grey-bar"] {
        let r = cmp(
            &ours("pattern-sd-with-large-logo-bar", 1.0),
            &ours(other, 1.0),
        );
        assert!(!r.is_match, "{}", r.summary());
        assert_eq!(
            (r.query_match_percent, r.compared_match_percent),
            (0.0, 0.0)
        );
        // Every frame does not change the decision (py-tx's rules: ≤ 1 %).
        let r = cmp(
            &ours("pattern-sd-with-large-logo-bar", 0.0),
            &ours(other, 0.0),
        );
        assert!(
            !r.is_match && r.query_match_percent < 2.0,
            "{}",
            r.summary()
        );
    }
    let r = cmp(
        &reference_1s("chair-22-with-large-logo-bar"),
        &ours("chair-orig-22-sd-bar", 1.0),
    );
    assert!(!r.is_match, "{}", r.summary());
    let r = cmp(
        &ours("pattern-sd-grey-bar", 1.0),
        &ours("pattern-hd-no-bar", 1.0),
    );
    assert!(!r.is_match, "{}", r.summary());
    let r = cmp(
        &reference_1s("chair-orig-22-hd-no-bar"),
        &ours("chair-orig-22-sd-bar", 1.0),
    );
    assert!(!r.is_match, "{}", r.summary());
}

#[test]
fn thresholds_are_configurable() {
    let a = ours("pattern-hd-no-bar", 1.0);
    let b = ours("pattern-longer-no-bar", 1.0);
    // At one hash a second the longer cut shares 3 of 7 sampled frames.
    let r = cmp(&a, &b);
    assert!(!r.is_match);
    let loose = MatchThresholds {
        query_match_percent: 40.0,
        ..MatchThresholds::default()
    };
    assert!(compare(&a, &b, &loose).is_match);
    let strict = MatchThresholds {
        distance: 0,
        ..MatchThresholds::default()
    };
    assert_eq!(compare(&a, &a, &strict).query_match_percent, 100.0);
}

#[test]
fn hash_lists_and_videos_load_alike() {
    use tiaki_hash::vpdq::VpdqFormat;
    use tiaki_hash::vpdq::format::{write_reference_text, write_signal};
    use tiaki_video::{FeaturesFrom, VideoOptions, load_features};
    let dir = tempfile::tempdir().unwrap();
    let feats = ours("chair-20-sd-bar", 1.0);
    let text = dir.path().join("a.txt");
    std::fs::write(&text, write_reference_text(&feats)).unwrap();
    let signal = dir.path().join("a.json");
    std::fs::write(&signal, write_signal(&feats)).unwrap();
    let opts = VideoOptions::default();
    let (t, from) = load_features(&text, &opts).unwrap();
    assert_eq!(from, FeaturesFrom::HashList(VpdqFormat::ReferenceText));
    let (s, from) = load_features(&signal, &opts).unwrap();
    assert_eq!(from, FeaturesFrom::HashList(VpdqFormat::Signal));
    let (v, from) = load_features(&video("chair-orig-22-sd-bar"), &opts).unwrap();
    assert_eq!(from, FeaturesFrom::Hashed);
    let direct = cmp(&feats, &v);
    for loaded in [t, s] {
        let r = cmp(&loaded, &v);
        assert_eq!(
            (r.query_match_percent, r.compared_match_percent, r.is_match),
            (
                direct.query_match_percent,
                direct.compared_match_percent,
                direct.is_match
            )
        );
    }
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[\"nope\"]").unwrap();
    assert!(matches!(
        load_features(&bad, &opts),
        Err(tiaki_video::VideoError::HashList(_))
    ));
}
