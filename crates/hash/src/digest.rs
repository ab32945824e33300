//! MD5, SHA-1 and SHA-256 computed together in one pass over the bytes.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The three digests of a byte stream, as lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digests {
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Incremental MD5 + SHA-1 + SHA-256. Feed it chunks with
/// [`MultiDigest::update`]; each chunk goes through all three while it is
/// still in cache.
#[derive(Clone, Default)]
pub struct MultiDigest {
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
    bytes: u64,
}

impl std::fmt::Debug for MultiDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiDigest").field("bytes", &self.bytes).finish()
    }
}

/// Chunk size for feeding: small enough to stay in L1/L2 between the three
/// passes.
const CHUNK: usize = 16 * 1024;

impl MultiDigest {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        for c in data.chunks(CHUNK) {
            self.md5.update(c);
            self.sha1.update(c);
            self.sha256.update(c);
        }
        self.bytes += data.len() as u64;
    }

    pub fn finish(self) -> Digests {
        Digests {
            md5: hex(&self.md5.finalize()),
            sha1: hex(&self.sha1.finalize()),
            sha256: hex(&self.sha256.finalize()),
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

/// Lowercase hex of bytes.
pub fn hex(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(HEX[usize::from(x >> 4)]));
        s.push(char::from(HEX[usize::from(x & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let d = digests(b"abc");
        assert_eq!(d.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(d.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let e = digests(b"");
        assert_eq!(e.md5, "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(e.bytes, 0);
    }

    #[test]
    fn chunked_equals_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 253) as u8).collect();
        let mut m = MultiDigest::new();
        for c in data.chunks(777) {
            m.update(c);
        }
        assert_eq!(m.finish(), digests(&data));
    }
}
