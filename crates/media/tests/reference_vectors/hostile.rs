//! Hostile images (issue 17, docs/reliability.md "Hostile input"): headers
//! claiming billions of pixels, a 1 GiB file, truncated data, EXIF whose
//! directory points at itself. Each gets its documented answer (a
//! [`DecodeError`] message, or no EXIF) within 512 MB of memory and a
//! deadline (`tiaki_testkit::bounded`). The images are made here from a
//! small generated picture, their headers then edited.

use std::io::{Cursor, Write};
use std::time::Duration;

use tiaki_hash::pdq::PdqHasher;
use tiaki_media::{DecodeError, HashOptions, Limits, decode_image, exif::read_exif, hash_file};
use tiaki_testkit::{bounded, sparse_file};

// A guard against hangs, not a measure: generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(300);

fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 16, y as u8 * 16, 90]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose IHDR says `w`×`h` (CRC fixed), pixel data as for 16×16.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = encoded(image::ImageFormat::Png);
    // Signature (8), IHDR length (4), "IHDR" (4), width, height.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A JPEG whose frame header (SOF0) says `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut jpg = encoded(image::ImageFormat::Jpeg);
    let sof = jpg.windows(2).position(|p| p == [0xFF, 0xC0]).unwrap();
    jpg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpg
}

/// A GIF whose screen and first image say `w`×`h`.
fn gif_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut gif = encoded(image::ImageFormat::Gif);
    gif[6..8].copy_from_slice(&w.to_le_bytes());
    gif[8..10].copy_from_slice(&h.to_le_bytes());
    let desc = gif.iter().position(|&b| b == 0x2C).unwrap();
    gif[desc + 5..desc + 7].copy_from_slice(&w.to_le_bytes());
    gif[desc + 7..desc + 9].copy_from_slice(&h.to_le_bytes());
    gif
}

fn decode_err(bytes: &[u8]) -> String {
    match decode_image(bytes, &Limits::default()) {
        Ok(d) => panic!("decoded {}×{}", d.width, d.height),
        Err(e) => e.to_string(),
    }
}

#[test]
fn headers_claiming_billions_of_pixels_are_refused_before_allocating() {
    let m = bounded(
        "hostile::headers_claiming_billions_of_pixels_are_refused_before_allocating",
        DEADLINE,
        || {
            assert_eq!(
                decode_err(&png_claiming(100_000, 100_000)),
                "image of 100000×100000 pixels exceeds the limit of 50000000 pixels (possible decompression bomb)"
            );
            assert_eq!(
                decode_err(&jpeg_claiming(65_000, 65_000)),
                "image of 65000×65000 pixels exceeds the limit of 50000000 pixels (possible decompression bomb)"
            );
            assert_eq!(
                decode_err(&gif_claiming(65_000, 65_000)),
                "image of 65000×65000 pixels exceeds the limit of 50000000 pixels (possible decompression bomb)"
            );
            // Within the pixel limit but with no data behind the header.
            assert_eq!(
                decode_err(&png_claiming(7_000, 7_000)),
                "cannot decode image: Format error decoding Png: IDAT or fDAT chunk does not have enough data for image."
            );
        },
    );
    eprintln!("pixel bombs: peak {} MiB", m.peak_rss_bytes >> 20);
}

#[test]
fn a_one_gib_image_file_is_hashed_as_bytes_not_decoded() {
    bounded(
        "hostile::a_one_gib_image_file_is_hashed_as_bytes_not_decoded",
        DEADLINE,
        || {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("big.png");
            let png = encoded(image::ImageFormat::Png);
            sparse_file(&path, 1 << 30, b"end");
            // A real PNG header in front of the hole, so it sniffs as an image.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .unwrap()
                .write_all(&png)
                .unwrap();
            let rec = hash_file(
                &path,
                "big.png".into(),
                &HashOptions::default(),
                &mut PdqHasher::new(),
            );
            assert_eq!(
                rec.error.as_deref(),
                Some("file of 1073741827 bytes is larger than the 268435456-byte image limit")
            );
            assert!(rec.md5.is_some(), "the digests are still computed");
        },
    );
}

#[test]
fn truncated_and_empty_images() {
    let png = encoded(image::ImageFormat::Png);
    assert_eq!(
        decode_err(&png[..png.len() / 2]),
        "image data is truncated: unexpected end of file"
    );
    let jpg = encoded(image::ImageFormat::Jpeg);
    assert_eq!(
        decode_err(&jpg[..jpg.len() / 2]),
        "image data is truncated: JPEG has no end-of-image marker"
    );
    assert_eq!(decode_err(b""), DecodeError::Empty.to_string());
    assert_eq!(
        decode_err(b"\x89PNG\r\n\x1a\n"),
        "image data is truncated: unexpected end of file"
    );
}

/// A TIFF (EXIF's own layout) whose first directory claims 65,535 entries
/// and whose next-directory offset points back at itself.
fn looping_exif() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&u16::MAX.to_le_bytes());
    for _ in 0..4 {
        // Make (0x010F), ASCII, a count of 2^32-1 bytes at offset 8.
        t.extend_from_slice(&0x010Fu16.to_le_bytes());
        t.extend_from_slice(&2u16.to_le_bytes());
        t.extend_from_slice(&u32::MAX.to_le_bytes());
        t.extend_from_slice(&8u32.to_le_bytes());
    }
    t.extend_from_slice(&8u32.to_le_bytes());
    t
}

#[test]
fn exif_that_loops_or_claims_4_gib_values_is_no_exif() {
    bounded(
        "hostile::exif_that_loops_or_claims_4_gib_values_is_no_exif",
        DEADLINE,
        || {
            let tiff = looping_exif();
            assert_eq!(read_exif(&tiff), None);
            // The same inside a JPEG's APP1 segment.
            let jpg = encoded(image::ImageFormat::Jpeg);
            let mut with_exif = jpg[..2].to_vec();
            with_exif.extend_from_slice(&[0xFF, 0xE1]);
            with_exif.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
            with_exif.extend_from_slice(b"Exif\0\0");
            with_exif.extend_from_slice(&tiff);
            with_exif.extend_from_slice(&jpg[2..]);
            assert_eq!(read_exif(&with_exif), None);
            // The picture itself still decodes: EXIF is evidence, not a reason to fail.
            assert!(decode_image(&with_exif, &Limits::default()).is_ok());
        },
    );
}
