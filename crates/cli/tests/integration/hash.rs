//! `tiaki hash` end to end: output shape, EXIF, and every kind of bad input
//! giving its own error line while the rest is still hashed.

use std::io::Write;
use std::path::Path;

use crate::common::{ndjson, repo, run, tiaki};

fn bridge() -> std::path::PathBuf {
    repo().join("testdata/pdq/pdq/data/bridge-mods/aaa-orig.jpg")
}

/// The dihedral variants here are those of the original photo's DCT (close
/// to, not equal to, the hashes of the rotated files; the peer test checks
/// them against pdqhash's `compute_dihedral`).
#[test]
fn hashes_an_image_with_every_field() {
    let out = run(&["hash", "--dihedral", bridge().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v = ndjson(&out.stdout).remove(0);
    v["path"] = "aaa-orig.jpg".into();
    insta::assert_json_snapshot!(v, @r#"
    {
      "bytes": 361182,
      "dihedral": [
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        "30a10efd71c83f429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af",
        "adad5a64b5a102e55b62a08856dacd5ae63b847fc337b4b766b319361bc93188",
        "a5f0b457a49995e8c1065c275aaa54d8b61ba49df8fcfc0383c32f8b0bfc4f05",
        "f8f80f31e0f457b00637f5d5028f980fb36ed12a9622e1e233e64c634e9c64dd",
        "0dad2599b1a1bd1a5362576752da32a5e63b7380c2374b4866b346c91bc9ce77",
        "f0a5e102f1ccc0bd945308720fff038de34ef1e8ada9a956d2967ade5ea91a50",
        "a5f04ba8a4996a17c906a3d85aaaa927b61b5b42f8fc03fc87c3d0740bfcb0fa"
      ],
      "exif": {
        "software": "Google"
      },
      "format": "jpeg",
      "height": 1004,
      "kind": "image",
      "md5": "d35c785545392755e7e4164457657269",
      "path": "aaa-orig.jpg",
      "pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
      "pdq_quality": 100,
      "sha1": "ea45d7166b30f98aac6af52f952193ce3083cb4c",
      "sha256": "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298",
      "width": 1600
    }
    "#);
}

/// A JPEG with the EXIF fields investigators use, written with
/// kamadak-exif's writer and spliced in as an APP1 segment.
fn jpeg_with_exif(path: &Path) {
    use exif::{Field, In, Rational, Tag, Value};
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let dms = |d: u32, m: u32, s100: u32| {
        Value::Rational(vec![
            Rational { num: d, denom: 1 },
            Rational { num: m, denom: 1 },
            Rational {
                num: s100,
                denom: 100,
            },
        ])
    };
    let fields = [
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: ascii("ExampleCam"),
        },
        Field {
            tag: Tag::Model,
            ifd_num: In::PRIMARY,
            value: ascii("EC-100"),
        },
        Field {
            tag: Tag::Software,
            ifd_num: In::PRIMARY,
            value: ascii("Firmware 1.2"),
        },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: ascii("2019:10:03 09:12:00"),
        },
        Field {
            tag: Tag::BodySerialNumber,
            ifd_num: In::PRIMARY,
            value: ascii("SN123456"),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii("S"),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: dms(36, 50, 2400),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii("E"),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: dms(174, 45, 3600),
        },
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();

    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    std::fs::write(path, out).unwrap();
}

#[test]
fn reads_exif_fields() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("camera.jpg");
    jpeg_with_exif(&p);
    let out = run(&["hash", p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = &ndjson(&out.stdout)[0];
    insta::assert_json_snapshot!(v["exif"], @r#"
    {
      "datetime_original": "2019:10:03 09:12:00",
      "gps": {
        "lat": -36.84,
        "lon": 174.76
      },
      "make": "ExampleCam",
      "model": "EC-100",
      "serial": "SN123456",
      "software": "Firmware 1.2"
    }
    "#);
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
}

/// A PNG whose header promises 100,000 × 100,000 RGB pixels (30 GB), with a
/// tiny stored-deflate IDAT: a decoder that trusts the header allocates it.
fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[
            0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01,
        ],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// Peak resident memory of the children this test process has waited for, in
/// bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: `rusage` is plain integers (and `timeval`s of integers), for
    // which all-zero bytes are a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we pass and nothing else.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    ru.ru_maxrss as u64 * 1024
}

#[test]
fn bad_inputs_each_get_an_error_line_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bomb.png"), png_bomb()).unwrap();
    let jpeg = std::fs::read(bridge()).unwrap();
    std::fs::write(d.join("truncated.jpg"), &jpeg[..jpeg.len() / 2]).unwrap();
    std::fs::write(d.join("empty.jpg"), b"").unwrap();
    std::fs::write(d.join("notes.jpg"), b"this is a text file, not a picture\n").unwrap();
    std::fs::write(d.join("good.jpg"), &jpeg).unwrap();
    let mut f = std::fs::File::create(d.join("plain.txt")).unwrap();
    f.write_all(b"hello\n").unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("does-not-exist", d.join("dangling.jpg")).unwrap();

    let out = tiaki()
        .args(["hash", d.to_str().unwrap()])
        .output()
        .unwrap();
    let peak = children_peak_rss();
    assert_eq!(out.status.code(), Some(1), "exit 1: some files had errors");
    let lines = ndjson(&out.stdout);
    let by_name = |name: &str| {
        lines
            .iter()
            .find(|v| v["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {lines:#?}"))
    };
    let error = |name: &str| {
        by_name(name)["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no error"))
            .to_string()
    };

    assert!(
        error("bomb.png").contains("decompression bomb"),
        "{}",
        error("bomb.png")
    );
    assert!(
        by_name("bomb.png")["sha256"].is_string(),
        "digests kept for a refused image"
    );
    assert!(
        error("truncated.jpg").contains("truncated"),
        "{}",
        error("truncated.jpg")
    );
    assert!(by_name("truncated.jpg")["md5"].is_string());
    assert_eq!(error("empty.jpg"), "file is empty");
    assert_eq!(
        by_name("empty.jpg")["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(
        error("notes.jpg").contains("not an image"),
        "{}",
        error("notes.jpg")
    );
    assert!(error("loop").contains("loop"), "{}", error("loop"));
    assert!(
        error("dangling.jpg").contains("dangling"),
        "{}",
        error("dangling.jpg")
    );
    assert_eq!(
        by_name("good.jpg")["pdq"],
        "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    );
    assert!(by_name("plain.txt").get("error").is_none());
    assert_eq!(by_name("plain.txt")["kind"], "other");
    // Every file under the folder has exactly one line.
    assert_eq!(lines.len(), 8, "{lines:#?}");
    assert!(peak < 512 << 20, "peak memory {} MB", peak >> 20);
}

#[test]
fn missing_path_is_an_error_line() {
    let out = run(&["hash", "/nonexistent/file.jpg"]);
    assert_eq!(out.status.code(), Some(1));
    let v = &ndjson(&out.stdout)[0];
    assert!(v["error"].as_str().unwrap().contains("no such file"));
}

#[test]
fn output_order_is_stable_and_parallel_equals_serial() {
    let dir = repo().join("testdata/pdq/pdq/data/bridge-mods");
    let a = run(&["hash", "--threads", "1", dir.to_str().unwrap()]);
    let b = run(&["hash", "--threads", "4", dir.to_str().unwrap()]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(ndjson(&a.stdout).len(), 12);
}

/// The same pixels saved as PNG, BMP, TIFF, lossless WebP and GIF (few
/// colours, so the palette is exact; also a second frame, which is not
/// hashed) give the same PDQ: every decoder path converts to the same RGB.
#[test]
fn every_still_format_decodes_to_the_same_pixels() {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, ImageFormat, Rgba, RgbaImage};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Eight colours in bands and blocks: textured enough for quality 100.
    let palette = [
        [20u8, 30, 40],
        [200, 40, 60],
        [30, 180, 90],
        [240, 240, 20],
        [10, 90, 220],
        [250, 250, 250],
        [120, 60, 10],
        [0, 0, 0],
    ];
    let img = image::RgbImage::from_fn(160, 120, |x, y| {
        image::Rgb(palette[((x / 9 + (y / 7) * 3) % 8) as usize])
    });
    img.save_with_format(d.join("a.png"), ImageFormat::Png)
        .unwrap();
    img.save_with_format(d.join("a.bmp"), ImageFormat::Bmp)
        .unwrap();
    img.save_with_format(d.join("a.tiff"), ImageFormat::Tiff)
        .unwrap();
    img.save_with_format(d.join("a.webp"), ImageFormat::WebP)
        .unwrap();
    let rgba = |i: &image::RgbImage| {
        RgbaImage::from_fn(i.width(), i.height(), |x, y| {
            let p = i.get_pixel(x, y);
            Rgba([p[0], p[1], p[2], 255])
        })
    };
    let other = image::RgbImage::from_fn(160, 120, |x, _| image::Rgb(palette[(x % 8) as usize]));
    let mut gif = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut gif, 1);
        enc.set_repeat(Repeat::Infinite).unwrap();
        enc.encode_frame(Frame::from_parts(
            rgba(&img),
            0,
            0,
            Delay::from_numer_denom_ms(500, 1),
        ))
        .unwrap();
        enc.encode_frame(Frame::from_parts(
            rgba(&other),
            0,
            0,
            Delay::from_numer_denom_ms(500, 1),
        ))
        .unwrap();
    }
    std::fs::write(d.join("a.gif"), gif).unwrap();

    let out = run(&["hash", d.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = ndjson(&out.stdout);
    assert_eq!(lines.len(), 5);
    let png = lines.iter().find(|v| v["format"] == "png").unwrap()["pdq"].clone();
    assert!(png.is_string());
    for v in &lines {
        assert_eq!(v["pdq"], png, "{}: {}", v["format"], v);
        assert_eq!(v["pdq_quality"], 100, "{v}");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(160), Some(120))
        );
    }
    let formats: Vec<&str> = lines
        .iter()
        .map(|v| v["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["bmp", "gif", "png", "tiff", "webp"]);
}
