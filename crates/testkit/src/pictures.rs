//! Benign generated pictures: gradients and a pattern that differ per seed,
//! far apart in PDQ distance for different seeds.

use std::io::Cursor;

/// The picture of `seed` at `w` × `h` pixels.
pub fn picture_sized(seed: u32, w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let v = (x * (seed % 7 + 1) + y * (seed % 5 + 2) + (x ^ y) * (seed % 3)) % 256;
        let w = ((x / (4 + seed % 9)) + (y / (3 + seed % 11)) * seed) % 2 * 200;
        image::Rgb([v as u8, w as u8, ((v + w) / 2) as u8])
    })
}

/// A picture as PNG bytes.
pub fn picture_png(seed: u32, w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    picture_sized(seed, w, h)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode PNG");
    out
}

/// The 96 × 80 picture of `seed` as PNG bytes.
pub fn picture(seed: u32) -> Vec<u8> {
    picture_png(seed, 96, 80)
}
