//! Hex encoding and decoding, the one copy in the workspace.
//!
//! Decoding goes through a 256-entry table: it runs for every digest and PDQ
//! hash of every imported list entry and every stored media row, so a
//! branch per digit class is measurable.

use std::fmt;

const LOWER: &[u8; 16] = b"0123456789abcdef";
const UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// The mark in [`digit_value`]'s answer for a byte that is not a hex digit.
pub const NOT_A_DIGIT: u8 = 0x80;

/// Hex digit values; [`NOT_A_DIGIT`] marks a non-digit.
const TABLE: [u8; 256] = {
    let mut t = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The value of one hex digit (either case), by table lookup.
#[inline]
pub fn digit(c: u8) -> Option<u8> {
    let v = digit_value(c);
    (v & NOT_A_DIGIT == 0).then_some(v)
}

/// The table entry for `c`: its value (0..16), or [`NOT_A_DIGIT`]. For
/// branch-free loops that OR the entries together and test the mark once
/// (PDQ hashes, sixteen digits a limb).
#[inline]
pub fn digit_value(c: u8) -> u8 {
    TABLE[usize::from(c)]
}

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push(&mut s, bytes, false);
    s
}

/// Upper-case hex of `bytes` (the VICS convention for MD5 and SHA-1).
pub fn encode_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push(&mut s, bytes, true);
    s
}

/// Appends the hex of `bytes` to `s`, in upper case if `upper`.
pub fn push(s: &mut String, bytes: &[u8], upper: bool) {
    let digits = if upper { UPPER } else { LOWER };
    s.reserve(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 15)]));
    }
}

/// Why a string is not the hex of the expected number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexError {
    /// `expected` digits were wanted; the text has `got` bytes.
    Length { expected: usize, got: usize },
    /// The byte at offset `at` (0-based, in bytes) is not a hex digit.
    Digit { at: usize, byte: u8 },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HexError::Length { expected, got } => {
                write!(f, "expected {expected} hex digits, got {got}")
            }
            HexError::Digit { at, .. } => write!(f, "non-hex character at position {at}"),
        }
    }
}

impl std::error::Error for HexError {}

/// Decodes `text` (hex of either case, exactly `2 * out.len()` digits, no
/// surrounding space: callers trim) into `out`.
pub fn decode_into(text: &[u8], out: &mut [u8]) -> Result<(), HexError> {
    if text.len() != 2 * out.len() {
        return Err(HexError::Length {
            expected: 2 * out.len(),
            got: text.len(),
        });
    }
    for (i, (o, pair)) in out.iter_mut().zip(text.chunks_exact(2)).enumerate() {
        let [hi, lo] = pair else {
            // chunks_exact(2) yields pairs only; the length was checked.
            return Err(HexError::Length {
                expected: 2 * out.len(),
                got: text.len(),
            });
        };
        let (h, l) = (digit_value(*hi), digit_value(*lo));
        if (h | l) & NOT_A_DIGIT != 0 {
            let at = if h & NOT_A_DIGIT != 0 {
                2 * i
            } else {
                2 * i + 1
            };
            let byte = if h & NOT_A_DIGIT != 0 { *hi } else { *lo };
            return Err(HexError::Digit { at, byte });
        }
        *o = (h << 4) | l;
    }
    Ok(())
}

/// Decodes exactly `N` bytes of hex (either case); see [`decode_into`].
pub fn decode<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let mut out = [0u8; N];
    decode_into(text.as_bytes(), &mut out)?;
    Ok(out)
}

/// Decodes hex of any even length into a vector.
pub fn decode_vec(text: &str) -> Result<Vec<u8>, HexError> {
    let b = text.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(HexError::Length {
            expected: b.len() + 1,
            got: b.len(),
        });
    }
    let mut out = vec![0u8; b.len() / 2];
    decode_into(b, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(encode(&[0x00, 0xab, 0x10, 0xff]), "00ab10ff");
        assert_eq!(encode_upper(&[0x00, 0xab, 0x10, 0xff]), "00AB10FF");
        assert_eq!(encode(&[]), "");
        assert_eq!(decode::<4>("AB01ff10"), Ok([0xab, 0x01, 0xff, 0x10]));
        assert_eq!(
            decode::<4>("AB01FF1"),
            Err(HexError::Length {
                expected: 8,
                got: 7
            })
        );
        assert_eq!(
            decode::<4>("AB01FF1G"),
            Err(HexError::Digit { at: 7, byte: b'G' })
        );
        assert_eq!(
            decode::<2>("x0zz"),
            Err(HexError::Digit { at: 0, byte: b'x' })
        );
        assert_eq!(decode_vec("0a0B"), Ok(vec![10, 11]));
        assert!(decode_vec("abc").is_err());
    }

    #[test]
    fn digit_table_matches_to_digit() {
        for c in 0..=255u8 {
            let want = char::from(c).to_digit(16).map(|d| d as u8);
            assert_eq!(digit(c), want, "{c}");
        }
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let lower = encode(&bytes);
            let upper = encode_upper(&bytes);
            prop_assert_eq!(&lower, &bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
            prop_assert_eq!(&upper, &lower.to_ascii_uppercase());
            prop_assert_eq!(decode_vec(&lower), Ok(bytes.clone()));
            prop_assert_eq!(decode_vec(&upper), Ok(bytes));
        }

        #[test]
        fn rejects_what_is_not_hex(s in "[0-9a-zA-Z]{0,12}") {
            let want: Option<Vec<u8>> = (s.len() % 2 == 0)
                .then(|| (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()).collect())
                .flatten();
            prop_assert_eq!(decode_vec(&s).ok(), want);
        }
    }
}
