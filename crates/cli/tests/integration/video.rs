//! `tiaki hash` on videos and animations, and `tiaki vpdq compare`.

use std::path::PathBuf;

use crate::common::{ndjson, repo, run};

fn video(name: &str) -> PathBuf {
    repo()
        .join("crates/video/tests/data/tmk/sample-videos")
        .join(name)
}

#[test]
fn hash_emits_vpdq_for_a_video_and_keeps_digests_on_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(video("chair-20-sd-bar.mp4"), d.join("a.mp4")).unwrap();
    let bytes = std::fs::read(video("chair-20-sd-bar.mp4")).unwrap();
    // The container header is intact but the media data is cut away.
    std::fs::write(d.join("broken.mp4"), &bytes[..4096]).unwrap();
    let out = run(&["hash", d.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = ndjson(&out.stdout);
    let a = lines
        .iter()
        .find(|v| v["path"].as_str().unwrap().ends_with("a.mp4"))
        .unwrap();
    assert_eq!(a["kind"], "video");
    assert_eq!(
        (a["width"].as_u64(), a["height"].as_u64()),
        (Some(480), Some(720))
    );
    let frames = a["vpdq"].as_array().unwrap();
    // One hash a second at 30 fps: frames 0, 30, 60, … (614 frames → 21).
    assert_eq!(frames.len(), 21);
    assert_eq!(frames[1]["frame"], 30);
    assert_eq!(frames[1]["timestamp"], 1.0);
    assert_eq!(frames[0]["pdq"].as_str().unwrap().len(), 64);
    let broken = lines
        .iter()
        .find(|v| v["path"].as_str().unwrap().ends_with("broken.mp4"))
        .unwrap();
    assert!(broken["error"].is_string(), "{broken}");
    assert!(broken["sha256"].is_string(), "digests kept: {broken}");
}

#[test]
fn hash_emits_vpdq_for_an_animated_gif() {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, Rgba, RgbaImage};
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("anim.gif");
    let mut gif = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut gif, 10);
        enc.set_repeat(Repeat::Infinite).unwrap();
        for k in 0..6u32 {
            let img = RgbaImage::from_fn(64, 48, |x, y| {
                if ((x + 4 * k) / 8 + y / 8) % 2 == 0 {
                    Rgba([250, 250, 250, 255])
                } else {
                    Rgba([10, 10, 10, 255])
                }
            });
            enc.encode_frame(Frame::from_parts(
                img,
                0,
                0,
                Delay::from_numer_denom_ms(500, 1),
            ))
            .unwrap();
        }
    }
    std::fs::write(&p, gif).unwrap();
    let out = run(&["hash", "--every", "0", p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = &ndjson(&out.stdout)[0];
    assert_eq!(v["kind"], "image");
    assert!(v["pdq"].is_string());
    assert_eq!(v["vpdq"].as_array().unwrap().len(), 6, "{v}");
}

#[test]
fn vpdq_compare_decides_like_python_threatexchange() {
    let chair20 = video("chair-20-sd-bar.mp4");
    let chair22 = video("chair-orig-22-sd-bar.mp4");
    let pattern = video("pattern-sd-grey-bar.mp4");
    let m = run(&[
        "vpdq",
        "compare",
        chair20.to_str().unwrap(),
        chair22.to_str().unwrap(),
    ]);
    assert_eq!(
        m.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&m.stderr)
    );
    let text = String::from_utf8_lossy(&m.stdout).to_string();
    assert!(text.contains("decision: match"), "{text}");
    let n = run(&[
        "vpdq",
        "compare",
        "--json",
        pattern.to_str().unwrap(),
        chair20.to_str().unwrap(),
    ]);
    assert_eq!(n.status.code(), Some(1));
    let v = &ndjson(&n.stdout)[0];
    assert_eq!(v["is_match"], false);
    assert_eq!(v["query_match_percent"], 0.0);
}
