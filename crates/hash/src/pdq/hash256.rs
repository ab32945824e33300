//! The 256-bit PDQ hash value: storage, text form, Hamming distance.

use std::fmt;

use tiaki_types::hex;

/// A 256-bit PDQ hash.
///
/// Bit `k` (0..256) is bit `k % 64` of `limbs[k / 64]`. This is the reference's
/// bit numbering (`Hash256::setBit`): bit `16*i + j` is DCT coefficient
/// `(i, j)`, and the reference hex form is the big-endian hex of the integer
/// `Σ bit_k · 2^k`, so `limbs[3]` is printed first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u64; 4]);

/// Why a string is not a PDQ hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("a PDQ hash is 64 hex digits, got {0} characters")]
    Length(usize),
    #[error("a PDQ hash is hex, found {0:?} at position {1}")]
    Digit(char, usize),
}

impl PdqHash {
    pub const ZERO: PdqHash = PdqHash([0; 4]);

    /// Sets bit `k` (0..256).
    #[inline]
    pub fn set_bit(&mut self, k: usize) {
        if let Some(limb) = self.0.get_mut(k >> 6) {
            *limb |= 1u64 << (k & 63);
        }
    }

    /// Reads bit `k` (0..256); out-of-range bits read as unset.
    #[inline]
    pub fn bit(&self, k: usize) -> bool {
        self.0.get(k >> 6).is_some_and(|l| (l >> (k & 63)) & 1 == 1)
    }

    /// The reference's 16-bit word `i` (DCT row `i`).
    #[inline]
    pub fn word(&self, i: usize) -> u16 {
        self.0
            .get(i / 4)
            .map_or(0, |l| (l >> (16 * (i % 4))) as u16)
    }

    /// Hamming distance: the number of differing bits.
    #[inline]
    pub fn distance(&self, other: &PdqHash) -> u32 {
        (self.0[0] ^ other.0[0]).count_ones()
            + (self.0[1] ^ other.0[1]).count_ones()
            + (self.0[2] ^ other.0[2]).count_ones()
            + (self.0[3] ^ other.0[3]).count_ones()
    }

    /// Number of set bits (a reference hash normally has 128).
    pub fn count_ones(&self) -> u32 {
        self.0.iter().map(|l| l.count_ones()).sum()
    }

    /// The reference text form: 64 lowercase hex digits, word 15 first.
    pub fn to_hex(&self) -> String {
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            self.0[3], self.0[2], self.0[1], self.0[0]
        )
    }

    /// Parses 64 hex digits (either case), as the reference's `%04hx` reader
    /// does. Surrounding whitespace is not accepted: callers trim.
    pub fn from_hex(s: &str) -> Result<PdqHash, HexError> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(HexError::Length(s.chars().count()));
        }
        // Sixteen digits a limb through a table: this runs for every PDQ of
        // every imported list entry.
        let mut limbs = [0u64; 4];
        for (i, (digits, limb)) in b.chunks_exact(16).zip(limbs.iter_mut().rev()).enumerate() {
            let mut acc = 0u64;
            let mut bad = 0u8;
            for &c in digits {
                let v = hex::digit_value(c);
                bad |= v;
                acc = (acc << 4) | u64::from(v & 0x0F);
            }
            if bad & hex::NOT_A_DIGIT != 0 {
                let pos = i * 16
                    + digits
                        .iter()
                        .position(|&c| hex::digit(c).is_none())
                        .unwrap_or(0);
                let ch = s.get(pos..).and_then(|t| t.chars().next()).unwrap_or('?');
                return Err(HexError::Digit(ch, pos));
            }
            *limb = acc;
        }
        Ok(PdqHash(limbs))
    }

    /// The 32 bytes of `bytes.fromhex(hex)`: byte 0 holds bits 255..248.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
            chunk.copy_from_slice(&self.0[3 - i].to_be_bytes());
        }
        out
    }

    /// Inverse of [`PdqHash::to_bytes`].
    pub fn from_bytes(b: &[u8; 32]) -> PdqHash {
        let mut limbs = [0u64; 4];
        for (i, chunk) in b.chunks_exact(8).enumerate() {
            let mut a = [0u8; 8];
            a.copy_from_slice(chunk);
            limbs[3 - i] = u64::from_be_bytes(a);
        }
        PdqHash(limbs)
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({})", self.to_hex())
    }
}

impl std::str::FromStr for PdqHash {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PdqHash::from_hex(s)
    }
}

impl serde::Serialize for PdqHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for PdqHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PdqHash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_word_order_is_reference() {
        // Bit 0 is the lowest bit of word 0, which is printed last.
        let mut h = PdqHash::ZERO;
        h.set_bit(0);
        assert!(h.to_hex().ends_with("0001"));
        let mut h = PdqHash::ZERO;
        h.set_bit(255);
        assert!(h.to_hex().starts_with("8000"));
        assert_eq!(h.word(15), 0x8000);
    }

    #[test]
    fn hex_round_trip_and_errors() {
        let s = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let h = PdqHash::from_hex(s).unwrap();
        assert_eq!(h.to_hex(), s);
        assert_eq!(PdqHash::from_hex(&s.to_uppercase()).unwrap(), h);
        assert_eq!(PdqHash::from_bytes(&h.to_bytes()), h);
        assert_eq!(h.to_bytes()[0], 0xf8);
        assert_eq!(PdqHash::from_hex("abc"), Err(HexError::Length(3)));
        let bad = format!("{}g", &s[..63]);
        assert_eq!(PdqHash::from_hex(&bad), Err(HexError::Digit('g', 63)));
    }
}
