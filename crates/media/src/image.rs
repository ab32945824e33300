//! Still-image decoding with limits and explicit colour conversion.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::limits::Limits;

/// Decoded pixels, in the form the PDQ front end of the reference would see
/// them: RGB for colour images, the grey value for grey images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pixels {
    /// Packed RGB, 3 bytes a pixel, alpha dropped.
    Rgb8(Vec<u8>),
    /// One grey byte a pixel, alpha dropped.
    Luma8(Vec<u8>),
}

/// A decoded still image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub pixels: Pixels,
    /// The decoder's colour type before conversion, e.g. `Rgba8`, `L16`.
    pub source_color: String,
}

/// Why an image could not be decoded. Each message names what was wrong so a
/// person can act on it without reading code.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("file is empty")]
    Empty,
    #[error("file of {bytes} bytes is larger than the {max}-byte image limit")]
    FileTooLarge { bytes: u64, max: u64 },
    #[error(
        "image of {width}×{height} pixels exceeds the limit of {max_pixels} pixels (possible decompression bomb)"
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("image format not recognised")]
    UnknownFormat,
    #[error("image data is truncated: {0}")]
    Truncated(String),
    #[error("cannot decode image: {0}")]
    Decode(String),
    #[error(
        "decoder needed more memory than the {max}-byte limit allows (possible decompression bomb)"
    )]
    MemoryLimit { max: u64 },
}

impl tiaki_types::codes::ErrorCode for DecodeError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        use tiaki_types::codes::Code;
        match self {
            // Limits the caller set: the file is refused as too large.
            DecodeError::FileTooLarge { .. }
            | DecodeError::TooManyPixels { .. }
            | DecodeError::MemoryLimit { .. } => Code::PayloadTooLarge,
            DecodeError::Empty
            | DecodeError::UnknownFormat
            | DecodeError::Truncated(_)
            | DecodeError::Decode(_) => Code::InvalidInput,
        }
    }
}

fn map_image_error(e: image::ImageError, limits: &Limits) -> DecodeError {
    match e {
        image::ImageError::Limits(_) => DecodeError::MemoryLimit {
            max: limits.max_decoder_alloc,
        },
        image::ImageError::Unsupported(u) => match u.kind() {
            image::error::UnsupportedErrorKind::Format(_) => DecodeError::UnknownFormat,
            _ => DecodeError::Decode(u.to_string()),
        },
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated(io.to_string())
        }
        other => {
            let s = other.to_string();
            if s.contains("EOF")
                || s.contains("eof")
                || s.contains("truncat")
                || s.contains("No more bytes")
            {
                DecodeError::Truncated(s)
            } else {
                DecodeError::Decode(s)
            }
        }
    }
}

/// A JPEG's entropy-coded data ends with an EOI marker. Some decoders fill
/// a truncated scan with grey and report success; hashing that would give a
/// hash of an image that does not exist, so a JPEG without EOI is refused.
fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    // Trailing padding after EOI is common (cameras, editors); look near the
    // end rather than at the last two bytes only.
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    !tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Decodes an image from memory under `limits`. GIF and other multi-frame
/// formats give their first frame.
pub fn decode_image(bytes: &[u8], limits: &Limits) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() as u64 > limits.max_image_file_bytes {
        return Err(DecodeError::FileTooLarge {
            bytes: bytes.len() as u64,
            max: limits.max_image_file_bytes,
        });
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Decode(e.to_string()))?;
    let Some(format) = reader.format() else {
        return Err(DecodeError::UnknownFormat);
    };
    if format == image::ImageFormat::Jpeg && jpeg_is_truncated(bytes) {
        return Err(DecodeError::Truncated(
            "JPEG has no end-of-image marker".into(),
        ));
    }
    // Read the header with no allocation limit beyond the side lengths, so
    // that an oversized image is reported as what it is (too many pixels)
    // rather than as a failed allocation; then decode under the full limits.
    reader.no_limits();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, limits))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width > limits.max_side || height > limits.max_side {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    let mut il = image::Limits::default();
    il.max_image_width = Some(limits.max_side);
    il.max_image_height = Some(limits.max_side);
    il.max_alloc = Some(limits.max_decoder_alloc);
    decoder
        .set_limits(il)
        .map_err(|e| map_image_error(e, limits))?;
    let source_color = format!("{:?}", decoder.color_type());
    let img = DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, limits))?;
    Ok(Decoded {
        width,
        height,
        pixels: to_pixels(img),
        source_color,
    })
}

/// 16-bit to 8-bit with rounding: a rescale, not a clip (Pillow clips
/// `I;16` to 255, which is wrong for real 16-bit data).
#[inline]
fn u16_to_u8(v: u16) -> u8 {
    ((u32::from(v) * 255 + 32767) / 65535) as u8
}

#[inline]
fn f32_to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

fn to_pixels(img: DynamicImage) -> Pixels {
    match img {
        DynamicImage::ImageLuma8(b) => Pixels::Luma8(b.into_raw()),
        DynamicImage::ImageLumaA8(b) => {
            Pixels::Luma8(b.into_raw().chunks_exact(2).map(|p| p[0]).collect())
        }
        DynamicImage::ImageLuma16(b) => {
            Pixels::Luma8(b.into_raw().into_iter().map(u16_to_u8).collect())
        }
        DynamicImage::ImageLumaA16(b) => Pixels::Luma8(
            b.into_raw()
                .chunks_exact(2)
                .map(|p| u16_to_u8(p[0]))
                .collect(),
        ),
        DynamicImage::ImageRgb8(b) => Pixels::Rgb8(b.into_raw()),
        DynamicImage::ImageRgba8(b) => Pixels::Rgb8(
            b.into_raw()
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect(),
        ),
        DynamicImage::ImageRgb16(b) => {
            Pixels::Rgb8(b.into_raw().into_iter().map(u16_to_u8).collect())
        }
        DynamicImage::ImageRgba16(b) => Pixels::Rgb8(
            b.into_raw()
                .chunks_exact(4)
                .flat_map(|p| [u16_to_u8(p[0]), u16_to_u8(p[1]), u16_to_u8(p[2])])
                .collect(),
        ),
        DynamicImage::ImageRgb32F(b) => {
            Pixels::Rgb8(b.into_raw().into_iter().map(f32_to_u8).collect())
        }
        DynamicImage::ImageRgba32F(b) => Pixels::Rgb8(
            b.into_raw()
                .chunks_exact(4)
                .flat_map(|p| [f32_to_u8(p[0]), f32_to_u8(p[1]), f32_to_u8(p[2])])
                .collect(),
        ),
        // Future colour types: let the crate convert, dropping alpha.
        other => Pixels::Rgb8(other.into_rgb8().into_raw()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_rescales() {
        assert_eq!(u16_to_u8(0), 0);
        assert_eq!(u16_to_u8(65535), 255);
        assert_eq!(u16_to_u8(257 * 100), 100);
    }

    #[test]
    fn empty_and_garbage() {
        let l = Limits::default();
        assert!(matches!(decode_image(&[], &l), Err(DecodeError::Empty)));
        assert!(matches!(
            decode_image(b"just some text", &l),
            Err(DecodeError::UnknownFormat)
        ));
    }
}
