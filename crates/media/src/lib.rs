//! Decoding untrusted media files into what `tiaki-hash` hashes.
//!
//! Everything that turns bytes from outside into pixels lives here, behind
//! limits: a maximum file size, a maximum pixel count checked against the
//! header before any pixel buffer is allocated, and a cap on the decoder's
//! own allocations. Colour conversion to RGB8 is done deliberately (palette,
//! grey, grey+alpha, CMYK, 16-bit), alpha is dropped without compositing,
//! and EXIF orientation is never applied to the hashed pixels, because the
//! reference hashes the pixels as stored.

#![forbid(unsafe_code)]

pub mod exif;
pub mod file;
pub mod image;
pub mod limits;
pub mod sniff;
pub mod walk;

pub use exif::ExifInfo;
pub use file::{DEFAULT_LUMA, FileRecord, HashOptions, hash_file, with_thread_hasher};
pub use image::{DecodeError, Decoded, Pixels, decode_image};
pub use limits::Limits;
pub use sniff::{Kind, MediaFormat, sniff};
pub use walk::{Walked, walk};
