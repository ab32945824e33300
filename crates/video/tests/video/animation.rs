//! Animated GIF, APNG and WebP: decoded in process, sampled and hashed like
//! video. The animations are generated here (textured blocks that change
//! from frame to frame).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crate::common::*;
use image::codecs::gif::GifEncoder;
use image::{Delay, Frame, RgbaImage};
use tiaki_hash::pdq::PdqHasher;
use tiaki_video::{
    AnimationFormat, VideoOptions, VideoSource, hash_animation, hash_video_file, is_animated,
};

const W: u32 = 96;
const H: u32 = 64;

/// Frame `k`: 8×8 blocks whose colours come from a 6×6×6 cube (216
/// colours, so a GIF palette holds them exactly), different in every frame.
fn frame(k: u32) -> RgbaImage {
    RgbaImage::from_fn(W, H, |x, y| {
        let mut v = (x / 8).wrapping_mul(73_856_093)
            ^ (y / 8).wrapping_mul(19_349_663)
            ^ k.wrapping_mul(83_492_791);
        v ^= v >> 13;
        v = v.wrapping_mul(0x5bd1_e995);
        v ^= v >> 15;
        let c = |s: u32| (((v >> s) % 6) * 51) as u8;
        image::Rgba([c(0), c(8), c(16), 255])
    })
}

fn rgb(img: &RgbaImage) -> Vec<u8> {
    img.as_raw()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

fn gif(delays_ms: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut out);
        for (k, &d) in delays_ms.iter().enumerate() {
            let f = Frame::from_parts(frame(k as u32), 0, 0, Delay::from_numer_denom_ms(d, 1));
            enc.encode_frame(f).unwrap();
        }
    }
    out
}

fn apng(delays_ms: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, W, H);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_animated(delays_ms.len() as u32, 0).unwrap();
        let mut w = enc.write_header().unwrap();
        for (k, &d) in delays_ms.iter().enumerate() {
            w.set_frame_delay(d, 1000).unwrap();
            w.write_image_data(frame(k as u32).as_raw()).unwrap();
        }
        w.finish().unwrap();
    }
    out
}

/// An animated WebP assembled from lossless still frames (the `image` crate
/// has no animation encoder): VP8X + ANIM + one ANMF chunk per frame.
fn webp(delays_ms: &[u32]) -> Vec<u8> {
    let u24 = |v: u32| [v as u8, (v >> 8) as u8, (v >> 16) as u8];
    let mut chunks = Vec::new();
    let mut vp8x = vec![0x02 | 0x10, 0, 0, 0];
    vp8x.extend(u24(W - 1));
    vp8x.extend(u24(H - 1));
    chunks.push((*b"VP8X", vp8x));
    chunks.push((*b"ANIM", vec![0, 0, 0, 0, 0, 0]));
    for (k, &d) in delays_ms.iter().enumerate() {
        let mut still = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut still)
            .encode(
                frame(k as u32).as_raw(),
                W,
                H,
                image::ExtendedColorType::Rgba8,
            )
            .unwrap();
        assert_eq!(&still[12..16], b"VP8L");
        let mut anmf = Vec::new();
        anmf.extend(u24(0));
        anmf.extend(u24(0));
        anmf.extend(u24(W - 1));
        anmf.extend(u24(H - 1));
        anmf.extend(u24(d));
        anmf.push(0x02); // do not blend, do not dispose
        anmf.extend_from_slice(&still[12..]);
        chunks.push((*b"ANMF", anmf));
    }
    let mut body = b"WEBP".to_vec();
    for (kind, data) in chunks {
        body.extend_from_slice(&kind);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn expected_hashes(frames: impl Iterator<Item = u32>) -> Vec<(u64, tiaki_hash::pdq::PdqHash)> {
    let mut h = PdqHasher::new();
    frames
        .map(|k| {
            (
                u64::from(k),
                h.hash_rgb(&rgb(&frame(k)), W as usize, H as usize)
                    .unwrap()
                    .hash,
            )
        })
        .collect()
}

fn got(v: &tiaki_video::VideoHash) -> Vec<(u64, tiaki_hash::pdq::PdqHash)> {
    v.features.iter().map(|f| (f.frame, f.hash)).collect()
}

#[test]
fn all_three_formats_hash_every_frame_exactly() {
    let every = VideoOptions::every(0.0);
    for (fmt, bytes) in [
        (AnimationFormat::Gif, gif(&[100; 12])),
        (AnimationFormat::Apng, apng(&[100; 12])),
        (AnimationFormat::Webp, webp(&[100; 12])),
    ] {
        assert!(is_animated(&bytes), "{fmt:?}");
        let v = hash_animation(&bytes, None, &every).unwrap();
        assert_eq!(v.source, VideoSource::Animation(fmt));
        assert_eq!(
            (v.width, v.height, v.fps, v.frame_mod, v.frames_decoded),
            (W, H, 10.0, 1, Some(12)),
            "{fmt:?}"
        );
        // Lossless (and a palette that holds every colour): the hashes are
        // those of the frames as drawn.
        assert_eq!(got(&v), expected_hashes(0..12), "{fmt:?}");
        assert!(v.features.iter().all(|f| f.quality == 100), "{fmt:?}");
        let ts: Vec<f64> = v.features.iter().map(|f| f.timestamp).collect();
        assert_eq!(
            ts,
            (0..12)
                .map(|k| f64::from(k) * 0.1)
                .map(|t| (t * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn sampling_is_by_frame_count_at_the_average_rate() {
    // 25 frames at 100 ms: 10 fps, so one hash a second is every 10th frame.
    for bytes in [gif(&[100; 25]), apng(&[100; 25]), webp(&[100; 25])] {
        let v = hash_animation(&bytes, None, &VideoOptions::default()).unwrap();
        assert_eq!(v.frame_mod, 10);
        assert_eq!(got(&v), expected_hashes([0, 10, 20].into_iter()));
        assert_eq!(
            v.features.iter().map(|f| f.timestamp).collect::<Vec<_>>(),
            vec![0.0, 1.0, 2.0]
        );
    }
}

#[test]
fn timestamps_follow_the_delays() {
    // GIF delays under 20 ms count as 100 ms (ffmpeg and browsers do this).
    let v = hash_animation(
        &gif(&[100, 0, 250, 10, 500]),
        None,
        &VideoOptions::every(0.0),
    )
    .unwrap();
    let ts: Vec<f64> = v.features.iter().map(|f| f.timestamp).collect();
    assert_eq!(ts, vec![0.0, 0.1, 0.2, 0.45, 0.55]);
    assert_eq!(v.fps, 5.0 / 1.05);
    // APNG and WebP delays are taken as they are.
    let v = hash_animation(&apng(&[40, 0, 60]), None, &VideoOptions::every(0.0)).unwrap();
    assert_eq!(
        v.features.iter().map(|f| f.timestamp).collect::<Vec<_>>(),
        vec![0.0, 0.04, 0.04]
    );
    let v = hash_animation(&webp(&[0, 0, 0]), None, &VideoOptions::every(0.0)).unwrap();
    assert_eq!(v.fps, 10.0, "all-zero delays fall back to 10 fps");
}

#[test]
fn files_are_decoded_in_process_without_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let no_ffmpeg = VideoOptions {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ffprobe: "/nonexistent/ffprobe".into(),
        ..VideoOptions::every(0.0)
    };
    for (name, bytes) in [
        ("a.gif", gif(&[100; 4])),
        ("a.png", apng(&[100; 4])),
        ("a.webp", webp(&[100; 4])),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let v = hash_video_file(&p, &no_ffmpeg).unwrap();
        assert_eq!(got(&v), expected_hashes(0..4), "{name}");
    }
    // A still PNG is not an animation: it goes to ffmpeg (missing here).
    let p = dir.path().join("still.png");
    frame(0).save(&p).unwrap();
    assert!(!is_animated(&std::fs::read(&p).unwrap()));
    assert!(matches!(
        hash_video_file(&p, &no_ffmpeg),
        Err(tiaki_video::VideoError::FfmpegNotFound { .. })
    ));
    // One-frame GIFs are not "animated", but still hash in process.
    let one = gif(&[100]);
    assert!(!is_animated(&one));
    assert_eq!(
        hash_animation(&one, None, &VideoOptions::default())
            .unwrap()
            .features
            .len(),
        1
    );
}

#[test]
fn in_process_frames_equal_ffmpegs() {
    require_ffmpeg();
    let dir = tempfile::tempdir().unwrap();
    // ffmpeg 5.1 decodes GIF and APNG (not animated WebP).
    for (name, bytes) in [("x.gif", gif(&[100; 6])), ("x.apng", apng(&[100; 6]))] {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        let ours = hash_animation(&bytes, None, &VideoOptions::every(0.0)).unwrap();
        let theirs =
            tiaki_video::hash_with_ffmpeg(Path::new(&p), &VideoOptions::every(0.0)).unwrap();
        assert_eq!(got(&ours), got(&theirs), "{name}");
    }
}

#[test]
fn damaged_animations_are_errors() {
    let g = gif(&[100; 6]);
    let cut = &g[..g.len() / 2];
    match hash_animation(cut, None, &VideoOptions::default()) {
        Ok(v) => assert!(v.features.len() < 6),
        Err(e) => assert!(!e.to_string().contains('\n')),
    }
    assert!(matches!(
        hash_animation(b"", None, &VideoOptions::default()),
        Err(tiaki_video::VideoError::Empty)
    ));
    assert!(matches!(
        hash_animation(b"not an image", None, &VideoOptions::default()),
        Err(tiaki_video::VideoError::NotAnimation)
    ));
    let mut bad = webp(&[100; 3]);
    let n = bad.len();
    bad[n - 40..].fill(0xff);
    assert!(hash_animation(&bad, None, &VideoOptions::default()).is_err());
    // A byte budget smaller than the frames is refused.
    let small = VideoOptions {
        max_output_bytes: u64::from(W * H * 4) * 2,
        ..VideoOptions::every(0.0)
    };
    assert!(matches!(
        hash_animation(&apng(&[100; 5]), None, &small),
        Err(tiaki_video::VideoError::TooLarge { .. })
    ));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// The container scan never panics on damaged input.
    #[test]
    fn scan_survives_garbage(cut in 0usize..4000, flip in 0usize..4000, byte in proptest::prelude::any::<u8>()) {
        for mut b in [gif(&[100; 3]), apng(&[100; 3]), webp(&[100; 3])] {
            if !b.is_empty() {
                let i = flip % b.len();
                b[i] = byte;
            }
            b.truncate(cut.min(b.len()));
            let _ = tiaki_video::animation::scan(&b);
            let _ = hash_animation(&b, None, &VideoOptions::default());
        }
    }
}
