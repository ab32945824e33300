use super::*;
use proptest::prelude::*;

fn noise(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; w * h * 3];
    tiaki_types::rng::Rng::new(seed).fill(&mut v);
    v
}

fn smooth(w: usize, h: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * 3);
    let s = (seed % 97) as f64 / 7.0 + 1.0;
    for y in 0..h {
        for x in 0..w {
            let a = ((x as f64 / s).sin() * (y as f64 / (s * 1.3)).cos() * 120.0 + 128.0) as u8;
            v.extend_from_slice(&[a, a.wrapping_add((x % 7) as u8), 255 - a]);
        }
    }
    v
}

#[test]
fn small_images_hash_to_zero() {
    let mut h = PdqHasher::new();
    for (w, hh) in [(4, 100), (100, 4), (1, 1), (0, 0)] {
        let out = h.hash_rgb(&vec![7u8; w * hh * 3], w, hh).unwrap();
        assert_eq!(
            out,
            PdqOutput {
                hash: PdqHash::ZERO,
                quality: 0
            }
        );
    }
}

#[test]
fn buffer_size_is_checked() {
    let mut h = PdqHasher::new();
    assert!(matches!(
        h.hash_rgb(&[0u8; 10], 5, 5),
        Err(PdqError::BufferSize { .. })
    ));
    assert!(matches!(
        h.hash_rgb(&[], usize::MAX, 3),
        Err(PdqError::TooLarge { .. })
    ));
}

#[test]
fn fast_equals_reference_on_edge_sizes() {
    let mut h = PdqHasher::new();
    for &(w, hh) in &[
        (5, 5),
        (64, 64),
        (63, 65),
        (128, 128),
        (129, 7),
        (7, 129),
        (1600, 9),
        (300, 1000),
        (257, 255),
        (64, 200),
    ] {
        for seed in 0..2u64 {
            let img = if seed == 0 {
                noise(w, hh, 1)
            } else {
                smooth(w, hh, 3)
            };
            let fast = h.hash_rgb(&img, w, hh).unwrap();
            let slow = reference_pdq_from_rgb(&img, w, hh);
            assert_eq!(fast, slow, "{w}x{hh} seed {seed}");
            assert_eq!(
                PdqHasher::portable(LumaArithmetic::F32)
                    .hash_rgb(&img, w, hh)
                    .unwrap(),
                slow,
                "portable {w}x{hh}"
            );
            let fd = h.dihedral_rgb(&img, w, hh).unwrap();
            assert_eq!(
                fd,
                reference_dihedral_from_rgb(&img, w, hh),
                "dihedral {w}x{hh}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn fast_equals_reference(w in 1usize..400, h in 1usize..400, seed in any::<u64>(), kind in 0u8..2) {
        let img = if kind == 0 { noise(w, h, seed) } else { smooth(w, h, seed) };
        let fast = PdqHasher::new().hash_rgb(&img, w, h).unwrap();
        prop_assert_eq!(fast, reference_pdq_from_rgb(&img, w, h));
        let portable = PdqHasher::portable(LumaArithmetic::F32).hash_rgb(&img, w, h).unwrap();
        prop_assert_eq!(portable, fast);
        let fast64 = PdqHasher::with_luma(LumaArithmetic::F64).hash_rgb(&img, w, h).unwrap();
        prop_assert_eq!(fast64, reference_pdq_from_luma(reference::luma_from_rgb_f64(&img, w, h), w, h));
    }

    #[test]
    fn hex_round_trips(l in any::<[u64; 4]>()) {
        let h = PdqHash(l);
        prop_assert_eq!(PdqHash::from_hex(&h.to_hex()).unwrap(), h);
        prop_assert_eq!(PdqHash::from_bytes(&h.to_bytes()), h);
    }

    #[test]
    fn distance_is_a_metric(a in any::<[u64; 4]>(), b in any::<[u64; 4]>(), c in any::<[u64; 4]>()) {
        let (a, b, c) = (PdqHash(a), PdqHash(b), PdqHash(c));
        prop_assert_eq!(a.distance(&b), b.distance(&a));
        prop_assert_eq!(a.distance(&a), 0);
        prop_assert!(a.distance(&c) <= a.distance(&b) + b.distance(&c));
    }
}

#[test]
fn dihedral_variants_are_involutions_where_expected() {
    // Transforming twice by a flip gives the original DCT back.
    let img = smooth(120, 90, 5);
    let luma = reference::luma_from_rgb(&img, 120, 90);
    let (b, _) = reference::dct16_from_luma(&luma, 120, 90).unwrap();
    for d in [
        Dihedral::Rot180,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ] {
        assert_eq!(crate::pdq::core::transform_dct(d, &crate::pdq::core::transform_dct(d, &b)), b, "{d}");
    }
    let r = crate::pdq::core::transform_dct(Dihedral::Rot90, &crate::pdq::core::transform_dct(Dihedral::Rot270, &b));
    assert_eq!(r, b);
}

#[test]
fn torben_is_lower_median() {
    let v: Vec<f32> = (0..256).map(|i| ((i * 37) % 256) as f32).collect();
    assert_eq!(core::torben(&v), 127.0);
}

#[test]
fn f64_luma_shortcut_is_exact() {
    for r in 0..=255u8 {
        for g in 0..=255u8 {
            for b in 0..=255u8 {
                let f64_way =
                    (f64::from(r) * 0.299 + f64::from(g) * 0.587 + f64::from(b) * 0.114) as f32;
                assert_eq!(
                    fast::luma_f64_exact(r, g, b).to_bits(),
                    f64_way.to_bits(),
                    "{r} {g} {b}"
                );
            }
        }
    }
}
