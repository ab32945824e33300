//! PDQ, bit-exact with Meta's C++ reference (`pdqhashing.cpp`), at full
//! resolution, with the eight dihedral variants.
//!
//! [`PdqHasher`] is the production entry point: it keeps its working memory
//! between images. [`reference`] is a literal port used as the test oracle.

mod core;
mod dihedral_bits;
mod fast;
mod hash256;
pub mod reference;

pub use self::core::{Dihedral, MIN_HASHABLE_DIM};
pub use self::dihedral_bits::dihedral_of_hash;
pub use self::hash256::{HexError, PdqHash};
/// The shared hex digit table (`tiaki_types::hex::digit`), re-exported for
/// the readers that already name it here.
pub use tiaki_types::hex::digit as hex_digit;

use self::fast::{Scratch, Source};

/// Quality below which a PDQ hash is not used for matching (reference README,
/// python-threatexchange `QUALITY_THRESHOLD`).
pub const QUALITY_THRESHOLD: u8 = 50;

/// Distance at or under which two PDQ hashes match by default.
pub const MATCH_DISTANCE: u32 = 31;

/// Largest pixel count the hasher accepts in one image (2^31 / 4 floats
/// per buffer keeps every index in range on any platform).
pub const MAX_PIXELS: usize = 1 << 29;

/// A hash and its quality (0..=100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PdqOutput {
    pub hash: PdqHash,
    pub quality: u8,
}

/// The eight dihedral hashes, in [`Dihedral::ALL`] order, and their shared
/// quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdqDihedralOutput {
    pub hashes: [PdqHash; 8],
    pub quality: u8,
}

impl PdqDihedralOutput {
    pub fn get(&self, d: Dihedral) -> PdqHash {
        self.hashes[d as usize]
    }
}

/// Why a pixel buffer cannot be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdqError {
    #[error("pixel buffer holds {got} values, {width}×{height} needs {expected}")]
    BufferSize {
        width: usize,
        height: usize,
        expected: usize,
        got: usize,
    },
    #[error("image of {width}×{height} pixels is larger than the {max} pixels PDQ accepts")]
    TooLarge {
        width: usize,
        height: usize,
        max: usize,
    },
}

/// How RGB becomes luma. Everything after the luma is f32 in both modes.
///
/// The C++ reference (`fillFloatLumaFromRGB`, also inside vPDQ) computes
/// `R·0.299f + G·0.587f + B·0.114f` in f32. pdqhash-python, which
/// python-threatexchange and HMA use to make the PDQ hashes the field
/// exchanges, computes the same sum in f64 with numpy and rounds it to f32
/// once. On photos the two agree bit for bit; on flat or synthetic images,
/// where many DCT coefficients sit near the median, the 1-ulp luma
/// differences can flip bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LumaArithmetic {
    /// f32 throughout, as the C++ library and vPDQ.
    #[default]
    F32,
    /// f64 luma rounded to f32, as pdqhash-python / python-threatexchange / HMA.
    F64,
}

/// A PDQ hasher that reuses its working memory across images. Not shared
/// between threads: make one per thread.
#[derive(Debug, Default)]
pub struct PdqHasher {
    scratch: Scratch,
    luma: LumaArithmetic,
    portable: bool,
}

fn check(len: usize, per_pixel: usize, width: usize, height: usize) -> Result<(), PdqError> {
    let pixels = width
        .checked_mul(height)
        .filter(|&p| p <= MAX_PIXELS)
        .ok_or(PdqError::TooLarge {
            width,
            height,
            max: MAX_PIXELS,
        })?;
    let expected = pixels * per_pixel;
    if len != expected {
        return Err(PdqError::BufferSize {
            width,
            height,
            expected,
            got: len,
        });
    }
    Ok(())
}

impl PdqHasher {
    pub fn new() -> Self {
        Self::default()
    }

    /// A hasher that computes RGB luma as `luma` says.
    pub fn with_luma(luma: LumaArithmetic) -> Self {
        PdqHasher {
            luma,
            ..Self::default()
        }
    }

    /// A hasher that never uses the CPU-specific (AVX2) build of the blur:
    /// for tests and benchmarks of the portable path, which must give the
    /// same bits.
    pub fn portable(luma: LumaArithmetic) -> Self {
        PdqHasher {
            luma,
            portable: true,
            ..Self::default()
        }
    }

    fn rgb<'a>(&self, rgb: &'a [u8]) -> Source<'a> {
        match self.luma {
            LumaArithmetic::F32 => Source::Rgb8(rgb),
            LumaArithmetic::F64 => Source::Rgb8F64(rgb),
        }
    }

    /// Decimated 64×64 buffer. `shortcut` mirrors `pdqFloat256FromFloatLuma`,
    /// which copies a 64×64 input instead of blurring it; the dihedral entry
    /// point of the reference has no such shortcut.
    fn decimated(
        &mut self,
        src: Source<'_>,
        width: usize,
        height: usize,
        shortcut: bool,
    ) -> [[f32; 64]; 64] {
        if shortcut && width == 64 && height == 64 {
            let mut a = [[0f32; 64]; 64];
            for (r, row) in a.iter_mut().enumerate() {
                src.fill_row(r, 64, row);
            }
            return a;
        }
        fast::blur_decimate(src, width, height, &mut self.scratch, self.portable)
    }

    fn dct(
        &mut self,
        src: Source<'_>,
        width: usize,
        height: usize,
        shortcut: bool,
    ) -> Option<([[f32; 16]; 16], u8)> {
        if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
            return None;
        }
        let a = self.decimated(src, width, height, shortcut);
        let q = core::quality(&a);
        Some((core::dct64_to_16(&a), q))
    }

    fn hash_source(&mut self, src: Source<'_>, width: usize, height: usize) -> PdqOutput {
        match self.dct(src, width, height, true) {
            Some((b, quality)) => PdqOutput {
                hash: core::bits(&b),
                quality,
            },
            None => PdqOutput {
                hash: PdqHash::ZERO,
                quality: 0,
            },
        }
    }

    fn dihedral_source(
        &mut self,
        src: Source<'_>,
        width: usize,
        height: usize,
    ) -> PdqDihedralOutput {
        match self.dct(src, width, height, false) {
            Some((b, quality)) => PdqDihedralOutput {
                hashes: Dihedral::ALL.map(|d| core::bits(&core::transform_dct(d, &b))),
                quality,
            },
            None => PdqDihedralOutput {
                hashes: [PdqHash::ZERO; 8],
                quality: 0,
            },
        }
    }

    /// PDQ of packed RGB8 pixels (row-major, 3 bytes a pixel). Images with a
    /// side under 5 pixels hash to zero with quality 0, as in the reference.
    pub fn hash_rgb(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqOutput, PdqError> {
        check(rgb.len(), 3, width, height)?;
        Ok(self.hash_source(self.rgb(rgb), width, height))
    }

    /// PDQ of 8-bit grey pixels (`luma = value`).
    pub fn hash_luma8(
        &mut self,
        grey: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqOutput, PdqError> {
        check(grey.len(), 1, width, height)?;
        Ok(self.hash_source(Source::Luma8(grey), width, height))
    }

    /// PDQ of a float luma buffer (`pdqHash256FromFloatLuma`).
    pub fn hash_float_luma(
        &mut self,
        luma: &[f32],
        width: usize,
        height: usize,
    ) -> Result<PdqOutput, PdqError> {
        check(luma.len(), 1, width, height)?;
        Ok(self.hash_source(Source::LumaF32(luma), width, height))
    }

    /// The eight dihedral hashes of packed RGB8 pixels
    /// (`pdqDihedralHash256esFromFloatLuma`).
    pub fn dihedral_rgb(
        &mut self,
        rgb: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqDihedralOutput, PdqError> {
        check(rgb.len(), 3, width, height)?;
        Ok(self.dihedral_source(self.rgb(rgb), width, height))
    }

    /// The eight dihedral hashes of 8-bit grey pixels.
    pub fn dihedral_luma8(
        &mut self,
        grey: &[u8],
        width: usize,
        height: usize,
    ) -> Result<PdqDihedralOutput, PdqError> {
        check(grey.len(), 1, width, height)?;
        Ok(self.dihedral_source(Source::Luma8(grey), width, height))
    }
}

/// PDQ of packed RGB8 pixels with a throwaway hasher. Prefer [`PdqHasher`]
/// when hashing many images.
pub fn pdq_from_rgb(rgb: &[u8], width: usize, height: usize) -> Result<PdqOutput, PdqError> {
    PdqHasher::new().hash_rgb(rgb, width, height)
}

/// The reference-order oracle for one RGB image: slow, obviously faithful.
pub fn reference_pdq_from_rgb(rgb: &[u8], width: usize, height: usize) -> PdqOutput {
    reference_pdq_from_luma(reference::luma_from_rgb(rgb, width, height), width, height)
}

/// The reference-order oracle on a float luma image.
pub fn reference_pdq_from_luma(luma: Vec<f32>, width: usize, height: usize) -> PdqOutput {
    if width == 64 && height == 64 {
        let mut a = [[0f32; 64]; 64];
        for (r, row) in a.iter_mut().enumerate() {
            row.copy_from_slice(&luma[r * 64..(r + 1) * 64]);
        }
        let q = core::quality(&a);
        return PdqOutput {
            hash: core::bits(&core::dct64_to_16(&a)),
            quality: q,
        };
    }
    match reference::dct16_from_luma(&luma, width, height) {
        Some((b, quality)) => PdqOutput {
            hash: core::bits(&b),
            quality,
        },
        None => PdqOutput {
            hash: PdqHash::ZERO,
            quality: 0,
        },
    }
}

/// Dihedral hashes through the reference-order oracle.
pub fn reference_dihedral_from_rgb(rgb: &[u8], width: usize, height: usize) -> PdqDihedralOutput {
    let luma = reference::luma_from_rgb(rgb, width, height);
    match reference::dct16_from_luma(&luma, width, height) {
        Some((b, quality)) => PdqDihedralOutput {
            hashes: Dihedral::ALL.map(|d| core::bits(&core::transform_dct(d, &b))),
            quality,
        },
        None => PdqDihedralOutput {
            hashes: [PdqHash::ZERO; 8],
            quality: 0,
        },
    }
}

#[cfg(test)]
mod tests;
