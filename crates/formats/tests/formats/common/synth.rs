//! Synthetic VICS documents, generated lazily so that a test or benchmark can
//! stream hundreds of MB without holding them. Placeholder hashes only: each
//! entry's hashes are derived from its index, so a reader can check them.

use std::io::{self, Read};

/// SplitMix64 as a hash of the entry index: cheap, deterministic, good
/// enough to look like hashes.
pub use tiaki_types::rng::mix;

/// The upper-case MD5 hex of entry `i`.
pub fn md5_of(i: u64) -> String {
    format!("{:016X}{:016X}", mix(i), mix(i ^ 0xA5A5))
}

/// The upper-case SHA-1 hex of entry `i`.
pub fn sha1_of(i: u64) -> String {
    format!(
        "{:016X}{:016X}{:08X}",
        mix(i ^ 1),
        mix(i ^ 2),
        mix(i ^ 3) as u32
    )
}

/// One media object shaped like a real 2.0 hash-set row (≈ 450 bytes).
pub fn media_json(i: u64) -> String {
    let md5 = md5_of(i);
    format!(
        concat!(
            "{{\"MediaID\":{id},\"Category\":{cat},\"MD5\":\"{md5}\",\"SHA1\":\"{sha1}\",",
            "\"MediaSize\":\"{size}\",\"DateUpdated\":\"2023-06-07T02:31:49.8300Z\",",
            "\"IsPrecategorized\":\"true\",\"VictimIdentified\":\"{v}\",\"OffenderIdentified\":\"false\",",
            "\"IsDistributed\":\"true\",\"Series\":\"SERIES-{series}\",",
            "\"MediaFiles\":[{{\"MD5\":\"{md5}\",\"FileName\":\"file{id}.jpg\",\"FilePath\":\"Partition 1\\\\Users\\\\x\\\\\"}}]}}"
        ),
        id = i + 1,
        cat = i % 5,
        md5 = md5,
        sha1 = sha1_of(i),
        size = 1000 + mix(i) % 5_000_000,
        v = if i.is_multiple_of(3) { "true" } else { "false" },
        series = i % 97,
    )
}

/// A `Read` producing a VICS 2.0 US `#Media` document with `n` entries.
pub struct SyntheticVics {
    n: u64,
    next: u64,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl SyntheticVics {
    pub fn new(n: u64) -> Self {
        let head = b"\xEF\xBB\xBF{\"@odata.context\":\"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media\",\"value\":[\n".to_vec();
        SyntheticVics {
            n,
            next: 0,
            buf: head,
            pos: 0,
            done: false,
        }
    }
}

impl Read for SyntheticVics {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            // Refill with a batch of entries.
            for _ in 0..64 {
                if self.next == self.n {
                    self.buf.extend_from_slice(b"\n]}\n");
                    self.done = true;
                    break;
                }
                if self.next > 0 {
                    self.buf.extend_from_slice(b",\n");
                }
                self.buf.extend_from_slice(media_json(self.next).as_bytes());
                self.next += 1;
            }
        }
        let n = (self.buf.len() - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
