//! `tiaki hash` against the PyPI `pdqhash` package (Meta's C++ reference
//! behind Python bindings) on a few hundred generated images of varied
//! content and size: the hash, the quality and the eight dihedral variants
//! must be identical on every one.

use std::collections::BTreeMap;
use std::path::Path;

use image::{ImageBuffer, Luma, Rgb, Rgba};

use tiaki_testkit::Rng;

use crate::common::{ndjson, peer_python, repo, run};

/// One random byte (the high half of a draw).
fn byte(rng: &mut Rng) -> u8 {
    (rng.next_u64() >> 32) as u8
}

/// Image sizes that stress the edges: under 5 px, 1×N strips, extreme
/// aspect ratios, exactly 64×64, window-size boundaries (128/129, 255/256).
const SIZES: &[(u32, u32)] = &[
    (1, 1),
    (2, 3),
    (4, 4),
    (4, 100),
    (100, 4),
    (5, 5),
    (6, 5),
    (1, 300),
    (300, 1),
    (1, 2000),
    (5, 2000),
    (2000, 5),
    (7, 640),
    (640, 7),
    (63, 63),
    (64, 64),
    (65, 65),
    (64, 65),
    (127, 129),
    (128, 128),
    (129, 129),
    (255, 256),
    (256, 255),
    (257, 300),
    (333, 222),
    (500, 375),
    (640, 480),
    (1000, 12),
    (12, 1000),
    (1023, 769),
    (1600, 1004),
    (2048, 64),
];

fn content(kind: u64, w: u32, h: u32, rng: &mut Rng) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    let (c1, c2) = (
        [byte(rng), byte(rng), byte(rng)],
        [byte(rng), byte(rng), byte(rng)],
    );
    let f1 = 1.0 + rng.below_u64(40) as f32;
    let f2 = 1.0 + rng.below_u64(40) as f32;
    ImageBuffer::from_fn(w, h, |x, y| match kind {
        // Flat colour.
        0 => Rgb(c1),
        // Noise.
        1 => Rgb([byte(rng), byte(rng), byte(rng)]),
        // Gradients.
        2 => Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            c1[2],
        ]),
        // Waves.
        3 => {
            let v = ((x as f32 / f1).sin() * (y as f32 / f2).cos() * 110.0 + 128.0) as u8;
            Rgb([v, v.wrapping_add(c1[1]), 255 - v])
        }
        // Checkers and stripes.
        4 => {
            if ((x / f1 as u32) + (y / f2 as u32)).is_multiple_of(2) {
                Rgb(c1)
            } else {
                Rgb(c2)
            }
        }
        // Shapes on noise.
        _ => {
            let (cx, cy) = (w as f32 * 0.4, h as f32 * 0.6);
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if d < (w.min(h) as f32) / 3.0 {
                Rgb(c1)
            } else {
                Rgb([byte(rng) / 4, byte(rng) / 4 + c2[1] / 2, c2[2]])
            }
        }
    })
}

/// Writes the generated images; some as grey, grey+alpha or RGBA PNGs.
fn generate(dir: &Path) -> usize {
    // The shared seeded generator, so the images are the same on every run
    // and every machine.
    let mut rng = Rng::new(0x7469616b69);
    let mut n = 0;
    for round in 0..2u64 {
        for &(w, h) in SIZES {
            for kind in 0..6u64 {
                let rgb = content(kind, w, h, &mut rng);
                let path = dir.join(format!("img-{round}-{w}x{h}-{kind}.png"));
                match (round * 6 + kind) % 5 {
                    0 => ImageBuffer::<Luma<u8>, _>::from_fn(w, h, |x, y| {
                        Luma([rgb.get_pixel(x, y)[1]])
                    })
                    .save(&path),
                    1 => ImageBuffer::<Rgba<u8>, _>::from_fn(w, h, |x, y| {
                        let p = rgb.get_pixel(x, y);
                        Rgba([p[0], p[1], p[2], (x % 256) as u8])
                    })
                    .save(&path),
                    _ => rgb.save(&path),
                }
                .expect("write PNG");
                n += 1;
            }
        }
    }
    n
}

#[test]
fn identical_to_pdqhash_on_generated_images() {
    let Some(python) = peer_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let n = generate(dir.path());
    assert!(n >= 300, "{n} images");

    let ours = run(&["hash", "--dihedral", dir.path().to_str().unwrap()]);
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let ours: BTreeMap<String, serde_json::Value> = ndjson(&ours.stdout)
        .into_iter()
        .map(|v| (v["path"].as_str().unwrap().to_string(), v))
        .collect();

    let peer = std::process::Command::new(python)
        .arg(repo().join("bench/peers/pdq_hash.py"))
        .arg("--dihedral")
        .arg(dir.path())
        .output()
        .expect("run the pdqhash peer");
    assert!(
        peer.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&peer.stderr)
    );
    let theirs = ndjson(&peer.stdout);
    assert_eq!(theirs.len(), n);

    let mut differ = Vec::new();
    for v in theirs {
        let path = v["path"].as_str().unwrap();
        let o = ours
            .get(path)
            .unwrap_or_else(|| panic!("we did not hash {path}"));
        if o["pdq"] != v["pdq"] || o["pdq_quality"] != v["pdq_quality"] {
            differ.push(format!(
                "{path}: ours {} q{}, pdqhash {} q{}",
                o["pdq"], o["pdq_quality"], v["pdq"], v["pdq_quality"]
            ));
        }
        // Images under 5 px have no dihedral variants in either.
        if o["dihedral"] != v["dihedral"] {
            differ.push(format!(
                "{path}: dihedral variants differ: ours {}, pdqhash {}",
                o["dihedral"], v["dihedral"]
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {n} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
    eprintln!("{n} generated images: identical hash, quality and dihedral variants to pdqhash");
}
