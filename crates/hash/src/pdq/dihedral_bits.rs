//! The dihedral variants of a PDQ hash computed on the hash's bits, for
//! when only the hash is known (a `tiaki lookup` query, a provider's hash in
//! a report): no pixels, no DCT.

use super::PdqHash;

/// The eight dihedral variants of a PDQ hash computed on its bits: each bit
/// is a DCT coefficient compared with the median, so a transform moves bits
/// exactly as [`Dihedral::apply`](super::Dihedral::apply) moves
/// coefficients, and a sign change inverts the bit. Transposition is exact;
/// variants with a sign change are exact when the median is 0 and close
/// otherwise (the image-level variants of `tiaki match` are exact always).
///
/// Computed on the 16 rows of 16 bits (row `i` is DCT row `i`): every
/// variant is the rows or their transpose with some bits inverted. An
/// ingest asks this for every distinct hash (hundreds of thousands); the
/// coefficient-level path through
/// [`Dihedral::apply`](super::Dihedral::apply) was 6 % of it. The tests
/// check both agree.
pub fn dihedral_of_hash(h: &PdqHash) -> [PdqHash; 8] {
    let rows: [u16; 16] = std::array::from_fn(|i| h.word(i));
    let cols = transpose16(&rows);
    // Row `i` of the DCT holds frequency `i + 1`: even rows and columns are
    // the odd frequencies, which change sign under a flip.
    const EVEN_COLS: u16 = 0x5555;
    let even_rows = |i: usize| if i.is_multiple_of(2) { u16::MAX } else { 0 };
    let checker = |i: usize| {
        if i.is_multiple_of(2) {
            !EVEN_COLS
        } else {
            EVEN_COLS
        }
    };
    let of = |f: &dyn Fn(usize) -> u16| {
        let mut out = [0u64; 4];
        for i in 0..16 {
            out[i / 4] |= u64::from(f(i)) << (16 * (i % 4));
        }
        PdqHash(out)
    };
    // Order and signs as `Dihedral::ALL` and `Dihedral::apply`.
    [
        of(&|i| rows[i]),
        of(&|i| cols[i] ^ even_rows(i)),
        of(&|i| rows[i] ^ checker(i)),
        of(&|i| cols[i] ^ EVEN_COLS),
        of(&|i| rows[i] ^ even_rows(i)),
        of(&|i| rows[i] ^ EVEN_COLS),
        of(&|i| cols[i]),
        of(&|i| cols[i] ^ checker(i)),
    ]
}

/// The transpose of a 16×16 bit matrix (bit `j` of row `i` becomes bit `i`
/// of row `j`), by the classic block swaps: 8×8, 4×4, 2×2, 1×1.
fn transpose16(rows: &[u16; 16]) -> [u16; 16] {
    let mut a = *rows;
    let mut width = 8;
    let mut mask: u16 = 0x00FF;
    while width > 0 {
        let mut k = 0;
        while k < 16 {
            for i in k..k + width {
                // Swap the high block of row i with the low block of row i + width.
                let t = ((a[i] >> width) ^ a[i + width]) & mask;
                a[i] ^= t << width;
                a[i + width] ^= t;
            }
            k += 2 * width;
        }
        width /= 2;
        mask ^= mask << width;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdq::Dihedral;

    fn h(i: u64) -> PdqHash {
        // Spread bits so distinct i are far apart.
        let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        PdqHash([x, x.rotate_left(17) ^ 0x5555, !x, x.rotate_left(40)])
    }

    /// The coefficient-level definition: bits to ±1, [`Dihedral::apply`],
    /// back to bits.
    fn dihedral_by_coefficients(h: &PdqHash) -> [PdqHash; 8] {
        let mut a = [[0f32; 16]; 16];
        for (i, row) in a.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if h.bit(16 * i + j) { 1.0 } else { -1.0 };
            }
        }
        Dihedral::ALL.map(|d| {
            let b = crate::pdq::core::transform_dct(d, &a);
            let mut out = PdqHash::default();
            for (i, row) in b.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    if *v > 0.0 {
                        out.set_bit(16 * i + j);
                    }
                }
            }
            out
        })
    }

    proptest::proptest! {
        #[test]
        fn dihedral_on_bits_equals_the_coefficient_definition(
            limbs in proptest::array::uniform4(proptest::num::u64::ANY)
        ) {
            let x = PdqHash(limbs);
            proptest::prop_assert_eq!(dihedral_of_hash(&x), dihedral_by_coefficients(&x));
        }
    }

    #[test]
    fn transpose_moves_single_bits() {
        for k in 0..256 {
            let mut x = PdqHash::default();
            x.set_bit(k);
            let rows: [u16; 16] = std::array::from_fn(|i| x.word(i));
            let t = transpose16(&rows);
            let (i, j) = (k / 16, k % 16);
            for (r, w) in t.iter().enumerate() {
                let want = if r == j { 1u16 << i } else { 0 };
                assert_eq!(*w, want, "bit {k}");
            }
        }
    }

    #[test]
    fn hash_level_dihedral_variants_compose() {
        for i in 0..20 {
            let x = h(i);
            let v = dihedral_of_hash(&x);
            assert_eq!(v[0], x, "orig");
            for d in [
                Dihedral::Rot180,
                Dihedral::FlipX,
                Dihedral::FlipY,
                Dihedral::FlipPlus1,
                Dihedral::FlipMinus1,
            ] {
                let k = Dihedral::ALL.iter().position(|&e| e == d).unwrap();
                assert_eq!(dihedral_of_hash(&v[k])[k], x, "{d} is an involution");
            }
            // rot90 then rot270 is the identity.
            assert_eq!(dihedral_of_hash(&v[1])[3], x);
        }
    }
}
