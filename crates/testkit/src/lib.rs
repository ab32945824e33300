//! What Tiaki's tests share (Kanidm's `testkit`, rust-analyzer's
//! `test-utils`). A dev-dependency only: nothing here is built into a
//! binary.
//!
//! * [`stores`]: both backends as one fixture. Every store test runs its
//!   body on a SQLite data directory and on a fresh PostgreSQL database;
//!   PostgreSQL is required (see [`postgres`] for the rule), so a missing
//!   server is never a quiet pass.
//! * [`Rng`]: the one seeded generator (`tiaki_types::rng`), with
//!   [`PdqRng`] for random and near-duplicate PDQ hashes.
//! * [`picture`]: benign generated PNG pictures, distinct per seed.
//! * [`peer_python`]: the Python with the PyPI peers (`TIAKI_PEER_PYTHON`).
//! * [`bounded`]: a hostile-input test's body under a 512 MB memory cap and
//!   a deadline, in a child process.
//!
//! Test support fails loudly: a panic here is a test failure with its
//! reason, which is the point.

#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod backends;
mod bounded;
mod peers;
mod pictures;

pub use backends::{PgDatabase, TestStore, fresh_postgres, postgres, stores};
pub use bounded::{
    HOSTILE_MEMORY_BYTES, Measured, billion_laughs, bounded, peak_rss_bytes, sparse_file,
};
pub use peers::peer_python;
pub use pictures::{picture, picture_png, picture_sized};
pub use tiaki_types::rng::{Rng, mix};

use tiaki_hash::pdq::PdqHash;

/// Random PDQ hashes from the seeded generator.
pub trait PdqRng {
    /// A uniformly random 256-bit hash.
    fn hash(&mut self) -> PdqHash;
    /// `h` with exactly `k` distinct bits flipped (a planted near-duplicate
    /// at distance `k`; `k` over 256 flips all).
    fn flip(&mut self, h: &PdqHash, k: usize) -> PdqHash;
}

impl PdqRng for Rng {
    fn hash(&mut self) -> PdqHash {
        PdqHash([
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
        ])
    }

    fn flip(&mut self, h: &PdqHash, k: usize) -> PdqHash {
        // A partial Fisher-Yates shuffle of the 256 bit positions: the first
        // k are distinct.
        let mut bits: Vec<usize> = (0..256).collect();
        let mut out = *h;
        for i in 0..k.min(256) {
            let j = i + self.below(256 - i);
            bits.swap(i, j);
            out.0[bits[i] / 64] ^= 1 << (bits[i] % 64);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_is_at_the_distance_asked() {
        let mut rng = Rng::new(9);
        for k in [0, 1, 31, 32, 200, 256, 300] {
            let h = rng.hash();
            assert_eq!(h.distance(&rng.flip(&h, k)), k.min(256) as u32);
        }
    }
}
