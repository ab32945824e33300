//! Resource limits for decoding untrusted input.

/// Limits applied to every file. The defaults keep one decode of the largest
/// accepted image under about 450 MB (RGB8 pixels plus PDQ's f32 buffer), so
/// a decompression bomb is refused from its header, never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read into memory for image decoding, in bytes.
    pub max_image_file_bytes: u64,
    /// Largest image accepted, in pixels (width × height).
    pub max_pixels: u64,
    /// Largest single side accepted, in pixels.
    pub max_side: u32,
    /// Cap on what the decoder may allocate, in bytes.
    pub max_decoder_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_image_file_bytes: 256 << 20,
            max_pixels: 50_000_000,
            max_side: 65_535,
            max_decoder_alloc: 384 << 20,
        }
    }
}
