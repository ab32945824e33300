//! Tiaki's hashing algorithms: PDQ (bit-exact with Meta's C++ reference), the
//! PDQ dihedral variants, and MD5/SHA-1/SHA-256 in one pass.
//!
//! This crate is pure: it takes bytes and pixel buffers and returns hashes. It
//! opens no files and starts no processes, so everything here can be
//! property-tested and benchmarked on its own. Decoding lives in `tiaki-media`.
//!
//! ```
//! use tiaki_hash::pdq::{PdqHash, pdq_from_rgb};
//! let (w, h) = (32, 24);
//! let rgb: Vec<u8> = (0..w * h * 3).map(|i| (i * 7 % 251) as u8).collect();
//! let out = pdq_from_rgb(&rgb, w, h).unwrap();
//! let hex = out.hash.to_hex();
//! assert_eq!(PdqHash::from_hex(&hex).unwrap(), out.hash);
//! ```

pub mod digest;
pub mod pdq;
pub mod vpdq;

pub use digest::{Digests, MultiDigest};
pub use pdq::{Dihedral, LumaArithmetic, PdqError, PdqHash, PdqHasher, PdqOutput};
