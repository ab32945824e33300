//! The reference converts with swscale's defaults whatever the stream's
//! tags say: BT.601, limited range unless the pixel format is `yuvj*`/grey,
//! and no rotation. The ffmpeg command line would otherwise follow the tags,
//! so these tests re-tag a sample without touching its pictures and expect
//! the very same hashes.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use tiaki_video::{VideoOptions, hash_video_file};

#[test]
fn colour_tags_and_rotation_do_not_change_the_hashes() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    let src = video("pattern-sd-grey-bar");
    let src_s = src.to_str().unwrap();
    let every = VideoOptions::every(0.0);
    let orig = ours("pattern-sd-grey-bar", 0.0);
    // BT.709 matrix, primaries and transfer in the H.264 VUI.
    let bt709 = dir.path().join("bt709.mp4");
    ffmpeg_make(
        &[
            "-i",
            src_s,
            "-c",
            "copy",
            "-bsf:v",
            "h264_metadata=matrix_coefficients=1:colour_primaries=1:transfer_characteristics=1",
        ],
        &bt709,
    );
    assert_eq!(
        hash_video_file(&bt709, &every).unwrap().features,
        orig,
        "BT.709 tags"
    );
    // A 90° display matrix.
    let rot = dir.path().join("rot.mp4");
    ffmpeg_make(
        &["-i", src_s, "-c", "copy", "-metadata:s:v:0", "rotate=90"],
        &rot,
    );
    let v = hash_video_file(&rot, &every).unwrap();
    assert_eq!((v.width, v.height), (480, 720));
    assert_eq!(v.features, orig, "rotation");
    // The full-range flag makes the decoder output yuvj420p, which swscale
    // (and so the reference) does treat as full range: different pixels.
    let full = dir.path().join("full.mp4");
    ffmpeg_make(
        &[
            "-i",
            src_s,
            "-c",
            "copy",
            "-bsf:v",
            "h264_metadata=video_full_range_flag=1",
        ],
        &full,
    );
    let f = hash_video_file(&full, &every).unwrap().features;
    assert_eq!(f.len(), orig.len());
    assert_ne!(f, orig, "full range is honoured for yuvj formats");
}
