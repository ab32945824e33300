//! MD5, SHA-1 and SHA-256 computed together in one pass over the bytes.
//!
//! On x86-64 CPUs with the SHA extensions the three run interleaved in one
//! instruction stream (`fused.rs`), which costs little more than MD5 alone;
//! elsewhere each block goes through the three RustCrypto compression
//! functions in turn. Both paths are checked against RustCrypto's own
//! digests on random inputs.

#[cfg(target_arch = "x86_64")]
mod fused;

use tiaki_types::hex;

/// The three digests of a byte stream, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digests {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub bytes: u64,
}

const MD5_IV: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Incremental MD5 + SHA-1 + SHA-256. Feed it chunks with
/// [`MultiDigest::update`]; each 64-byte block goes through all three at once.
#[derive(Clone)]
pub struct MultiDigest {
    md5: [u32; 4],
    sha1: [u32; 5],
    sha256: [u32; 8],
    buf: [u8; 64],
    buf_len: usize,
    bytes: u64,
    fused: bool,
}

impl Default for MultiDigest {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for MultiDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiDigest")
            .field("bytes", &self.bytes)
            .field("fused", &self.fused)
            .finish()
    }
}

#[cfg(target_arch = "x86_64")]
fn fused_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(fused::available)
}

#[cfg(not(target_arch = "x86_64"))]
fn fused_available() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
use fused::md5_block;

/// MD5 of one block where the fused code is not compiled (non-x86-64).
#[cfg(not(target_arch = "x86_64"))]
fn md5_block(state: &mut [u32; 4], block: &[u8; 64]) {
    md5::block_api::compress(state, std::slice::from_ref(block));
}

impl MultiDigest {
    pub fn new() -> Self {
        Self::with_fused(fused_available())
    }

    /// `fused = false` forces the portable path (tests compare the two).
    pub fn with_fused(fused: bool) -> Self {
        MultiDigest {
            md5: MD5_IV,
            sha1: SHA1_IV,
            sha256: SHA256_IV,
            buf: [0; 64],
            buf_len: 0,
            bytes: 0,
            fused: fused && fused_available(),
        }
    }

    fn blocks(&mut self, blocks: &[[u8; 64]]) {
        if blocks.is_empty() {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.fused {
            // SAFETY: `fused` is only true when `fused::available()` said
            // the CPU has the SHA extensions, SSE4.1 and SSSE3.
            unsafe {
                fused::compress_blocks(&mut self.md5, &mut self.sha1, &mut self.sha256, blocks)
            };
            return;
        }
        for b in blocks {
            md5_block(&mut self.md5, b);
        }
        sha1::block_api::compress(&mut self.sha1, blocks);
        sha2::block_api::compress256(&mut self.sha256, blocks);
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.bytes += data.len() as u64;
        if self.buf_len > 0 {
            let take = (64 - self.buf_len).min(data.len());
            self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
            self.buf_len += take;
            data = &data[take..];
            if self.buf_len < 64 {
                return;
            }
            let b = self.buf;
            self.blocks(&[b]);
            self.buf_len = 0;
        }
        let (whole, rest) = data.as_chunks::<64>();
        self.blocks(whole);
        self.buf[..rest.len()].copy_from_slice(rest);
        self.buf_len = rest.len();
    }

    pub fn finish(mut self) -> Digests {
        let bits = self.bytes.wrapping_mul(8);
        // Padding: 0x80, zeros to 56 mod 64, then the bit length (little-
        // endian for MD5, big-endian for the SHAs): one or two blocks.
        let mut tail = [0u8; 128];
        tail[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        tail[self.buf_len] = 0x80;
        let n = if self.buf_len < 56 { 64 } else { 128 };
        let (md5_tail, sha_tail) = {
            let mut m = tail;
            m[n - 8..n].copy_from_slice(&bits.to_le_bytes());
            let mut s = tail;
            s[n - 8..n].copy_from_slice(&bits.to_be_bytes());
            (m, s)
        };
        let (mb, _) = md5_tail[..n].as_chunks::<64>();
        let (sb, _) = sha_tail[..n].as_chunks::<64>();
        for b in mb {
            md5_block(&mut self.md5, b);
        }
        sha1::block_api::compress(&mut self.sha1, sb);
        sha2::block_api::compress256(&mut self.sha256, sb);
        let md5: Vec<u8> = self.md5.iter().flat_map(|w| w.to_le_bytes()).collect();
        let sha1: Vec<u8> = self.sha1.iter().flat_map(|w| w.to_be_bytes()).collect();
        let sha256: Vec<u8> = self.sha256.iter().flat_map(|w| w.to_be_bytes()).collect();
        Digests {
            md5: hex::encode(&md5),
            sha1: hex::encode(&sha1),
            sha256: hex::encode(&sha256),
            bytes: self.bytes,
        }
    }
}

/// All three digests of a byte slice.
pub fn digests(data: &[u8]) -> Digests {
    let mut d = MultiDigest::new();
    d.update(data);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::Digest;

    fn rustcrypto(data: &[u8]) -> Digests {
        Digests {
            md5: hex::encode(&md5::Md5::digest(data)),
            sha1: hex::encode(&sha1::Sha1::digest(data)),
            sha256: hex::encode(&sha2::Sha256::digest(data)),
            bytes: data.len() as u64,
        }
    }

    #[test]
    fn known_vectors() {
        for fused in [true, false] {
            let mut m = MultiDigest::with_fused(fused);
            m.update(b"abc");
            let d = m.finish();
            assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
            assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
            assert_eq!(
                d.sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            );
            let e = MultiDigest::with_fused(fused).finish();
            assert_eq!(e.md5, "d41d8cd98f00b204e9800998ecf8427e");
            assert_eq!(e.bytes, 0);
        }
    }

    #[test]
    fn every_length_around_block_edges() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 253) as u8).collect();
        for len in (0..200).chain([511, 512, 513, 999, 1000]) {
            for fused in [true, false] {
                let mut m = MultiDigest::with_fused(fused);
                m.update(&data[..len]);
                assert_eq!(
                    m.finish(),
                    rustcrypto(&data[..len]),
                    "len {len} fused {fused}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn equals_rustcrypto(data in proptest::collection::vec(any::<u8>(), 0..5000), cuts in proptest::collection::vec(0usize..5000, 0..6)) {
            for fused in [true, false] {
                let mut m = MultiDigest::with_fused(fused);
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
                cuts.sort();
                let mut at = 0;
                for c in cuts {
                    m.update(&data[at..c]);
                    at = c;
                }
                m.update(&data[at..]);
                prop_assert_eq!(m.finish(), rustcrypto(&data));
            }
        }
    }
}
