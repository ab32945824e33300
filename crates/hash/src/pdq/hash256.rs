//! The 256-bit PDQ hash value lives in `tiaki-types` (every stage
//! exchanges it); this module keeps its old path.

pub use tiaki_types::hashes::{HexError, PdqHash};
