//! The hash values every stage exchanges: PDQ hashes and their dihedral
//! variants, cryptographic digests, how a known entry was matched, and the
//! probe and hit of a lookup. Values only: computing them (`tiaki-hash`)
//! and indexing them (`tiaki-index`) sit above this crate.

use std::fmt;

use crate::hex;

/// A caller-chosen entry identifier (a store's row id, say).
pub type EntryId = u64;

// ---- PDQ ----------------------------------------------------------------



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

/// The eight dihedral transforms of an image, named as the reference names
/// them (`pdqhashing.h`). Rotations are counter-clockwise.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dihedral {
    Orig,
    Rot90,
    Rot180,
    Rot270,
    FlipX,
    FlipY,
    FlipPlus1,
    FlipMinus1,
}

impl Dihedral {
    /// All eight, in the reference's output order.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Orig,
        Dihedral::Rot90,
        Dihedral::Rot180,
        Dihedral::Rot270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// The name used in Tiaki's JSON output (`tiaki hash --dihedral`).
    pub fn name(self) -> &'static str {
        match self {
            Dihedral::Orig => "orig",
            Dihedral::Rot90 => "rot90",
            Dihedral::Rot180 => "rot180",
            Dihedral::Rot270 => "rot270",
            Dihedral::FlipX => "flipx",
            Dihedral::FlipY => "flipy",
            Dihedral::FlipPlus1 => "flipplus1",
            Dihedral::FlipMinus1 => "flipminus1",
        }
    }
}

impl std::fmt::Display for Dihedral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dihedral {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dihedral::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown dihedral variant {s:?}"))
    }
}

// ---- Digests ------------------------------------------------------------

/// A digest string or byte slice of the wrong length or with non-hex
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} digest: {reason}")]
pub struct DigestError {
    pub kind: &'static str,
    pub reason: String,
}

impl crate::codes::ErrorCode for DigestError {
    fn error_code(&self) -> crate::codes::Code {
        crate::codes::Code::InvalidArgument
    }
}

/// The digest algorithms (MD5, SHA-1, SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestKind {
    Md5,
    Sha1,
    Sha256,
}

impl DigestKind {
    pub const ALL: [DigestKind; 3] = [DigestKind::Md5, DigestKind::Sha1, DigestKind::Sha256];

    /// Length of the digest in bytes.
    pub fn byte_len(self) -> usize {
        match self {
            DigestKind::Md5 => 16,
            DigestKind::Sha1 => 20,
            DigestKind::Sha256 => 32,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestKind::Md5 => "md5",
            DigestKind::Sha1 => "sha1",
            DigestKind::Sha256 => "sha256",
        }
    }

    /// The kind whose hex form has `hex_len` digits, if any.
    pub fn from_hex_len(hex_len: usize) -> Option<DigestKind> {
        DigestKind::ALL
            .into_iter()
            .find(|k| k.byte_len() * 2 == hex_len)
    }
}

/// A cryptographic digest value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Digest {
    Md5([u8; 16]),
    Sha1([u8; 20]),
    Sha256([u8; 32]),
}

impl Digest {
    pub fn kind(&self) -> DigestKind {
        match self {
            Digest::Md5(_) => DigestKind::Md5,
            Digest::Sha1(_) => DigestKind::Sha1,
            Digest::Sha256(_) => DigestKind::Sha256,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Digest::Md5(b) => b,
            Digest::Sha1(b) => b,
            Digest::Sha256(b) => b,
        }
    }

    /// A digest of the given kind from its raw bytes.
    pub fn from_bytes(kind: DigestKind, bytes: &[u8]) -> Result<Digest, DigestError> {
        let bad = || DigestError {
            kind: kind.name(),
            reason: format!("expected {} bytes, got {}", kind.byte_len(), bytes.len()),
        };
        Ok(match kind {
            DigestKind::Md5 => Digest::Md5(bytes.try_into().map_err(|_| bad())?),
            DigestKind::Sha1 => Digest::Sha1(bytes.try_into().map_err(|_| bad())?),
            DigestKind::Sha256 => Digest::Sha256(bytes.try_into().map_err(|_| bad())?),
        })
    }

    /// Parses hex (either case); the kind follows from the length (32, 40
    /// or 64 digits).
    pub fn from_hex(s: &str) -> Result<Digest, DigestError> {
        let kind = DigestKind::from_hex_len(s.len()).ok_or_else(|| DigestError {
            kind: "md5/sha1/sha256",
            reason: format!("{} hex digits is none of 32, 40 or 64", s.len()),
        })?;
        Digest::from_hex_kind(kind, s)
    }

    /// Parses hex of a known kind.
    pub fn from_hex_kind(kind: DigestKind, s: &str) -> Result<Digest, DigestError> {
        let bad = |reason: String| DigestError {
            kind: kind.name(),
            reason,
        };
        if s.len() != kind.byte_len() * 2 {
            return Err(bad(format!(
                "expected {} hex digits, got {}",
                kind.byte_len() * 2,
                s.len()
            )));
        }
        let bytes = hex::decode_vec(s).map_err(|e| match e {
            hex::HexError::Digit { at, .. } => bad(format!("non-hex character at position {at}")),
            hex::HexError::Length { .. } => bad("odd length".into()),
        })?;
        Digest::from_bytes(kind, &bytes)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

// ---- Matches ------------------------------------------------------------

/// How an entry was matched.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    Exact,
    Pdq,
    Vpdq,
}

// ---- Lookups ------------------------------------------------------------

/// What to look up.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub digests: Vec<Digest>,
    /// The eight dihedral variants of a PDQ hash, in [`Dihedral::ALL`] order.
    pub pdq: Option<[PdqHash; 8]>,
    /// vPDQ frames (quality ≥ 50 only; the caller filters).
    pub vpdq: Vec<PdqHash>,
    /// Search all eight variants of `pdq` (else only the first, `orig`).
    pub all_variants: bool,
}

/// One match, as `tiaki lookup` and `tiaki match` print it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    pub list: String,
    pub entry: EntryId,
    pub kind: MatchKind,
    pub distance: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub variant: Option<&'static str>,
    #[serde(skip)]
    pub list_id: i64,
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
