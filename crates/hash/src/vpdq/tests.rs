use proptest::prelude::*;

use super::format::*;
use super::*;

#[path = "py_format_vectors.rs"]
mod py_format_vectors;

fn h(hex: &str) -> PdqHash {
    PdqHash::from_hex(hex).unwrap()
}

const H0: &str = "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54";
const H1: &str = "4ce949b11f1035e2f2eb0a5e76f68716870e70f97bd91d1049a3dbe1d164b454";

#[test]
fn python_general_format_matches_cpython() {
    for &(x, want) in py_format_vectors::PY_FORMAT_G3 {
        assert_eq!(python_format_general(x, 3), want, "format({x:?}, '.3')");
    }
    assert_eq!(python_format_general(-0.0, 3), "-0.0");
    assert_eq!(python_format_general(-18.767, 3), "-18.8");
    assert_eq!(python_format_general(f64::NAN, 3), "nan");
    assert_eq!(python_format_general(f64::INFINITY, 3), "inf");
}

#[test]
fn sampling_and_timestamps_follow_the_reference() {
    assert_eq!(frame_mod(1.0, 30.0), 30);
    assert_eq!(frame_mod(1.0, 30000.0 / 1001.0), 29);
    assert_eq!(frame_mod(0.0, 30.0), 1);
    assert_eq!(frame_mod(1.0, 0.5), 1);
    assert_eq!(frame_mod(-1.0, 30.0), 1);
    assert_eq!(frame_mod(f64::NAN, 30.0), 1);
    assert_eq!(frame_mod(2.5, 24.0), 60);
    assert!(is_selected(0, 30) && is_selected(60, 30) && !is_selected(31, 30));
    assert!(is_selected(7, 0));
    // (float)1 / (float)30, widened: not the f64 1/30.
    assert_eq!(frame_timestamp(1, 30.0), f64::from(1f32 / 30f32));
    assert_ne!(frame_timestamp(1, 30.0), 1.0 / 30.0);
    assert_eq!(frame_timestamp(30, 30.0), 1.0);
}

#[test]
fn reference_text_round_trips_byte_for_byte() {
    let text = format!("0,100,{H0},0.000\n1,100,{H1},0.033\n30,49,{H0},1.000\n");
    let f = read_reference_text(&text).unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(
        f[1],
        VpdqFeature {
            frame: 1,
            quality: 100,
            hash: h(H1),
            timestamp: 0.033
        }
    );
    assert_eq!(f[2].quality, 49);
    assert_eq!(write_reference_text(&f), text);
    // Reference timestamps are f32 divisions; %.3f of them.
    let g = VpdqFeature {
        frame: 2,
        quality: 7,
        hash: h(H0),
        timestamp: frame_timestamp(2, 30.0),
    };
    assert_eq!(write_reference_text(&[g]), format!("2,7,{H0},0.067\n"));
    // CRLF, blank lines, extra fields and surrounding spaces are tolerated.
    let crlf = format!("0,100,{H0},0.000,extra\r\n\r\n 1 , 99 , {H1} , 0.033 \r\n");
    assert_eq!(read_reference_text(&crlf).unwrap().len(), 2);
}

#[test]
fn reference_text_errors_are_specific() {
    assert_eq!(read_reference_text(""), Err(VpdqFormatError::Empty));
    assert_eq!(read_reference_text("\n\n"), Err(VpdqFormatError::Empty));
    let e = read_reference_text(&format!("0,100,{H0},0.000\n1,100,{H0}\n")).unwrap_err();
    assert!(matches!(e, VpdqFormatError::Line { line: 2, .. }), "{e}");
    for bad in [
        format!("-1,100,{H0},0.0"),
        format!("0,101,{H0},0.0"),
        format!("0,100,{},0.0", &H0[1..]),
        format!("0,100,{H0},-1.0"),
        format!("0,100,{H0},nan"),
        format!("x,100,{H0},0.0"),
    ] {
        assert!(read_reference_text(&bad).is_err(), "{bad}");
    }
}

#[test]
fn signal_form_is_byte_identical_to_pytx() {
    let f = [
        VpdqFeature {
            frame: 0,
            quality: 100,
            hash: h(H0),
            timestamp: 0.0,
        },
        VpdqFeature {
            frame: 563,
            quality: 88,
            hash: h(H1),
            timestamp: frame_timestamp(563, 30.0),
        },
        VpdqFeature {
            frame: 3702,
            quality: 12,
            hash: h(H1),
            timestamp: frame_timestamp(3702, 30.0),
        },
    ];
    // json.dumps(["…,100,0.0", "…,88,18.8", "…,12,1.23e+02"])
    let want = format!("[\"{H0},100,0.0\", \"{H1},88,18.8\", \"{H1},12,1.23e+02\"]");
    assert_eq!(write_signal(&f), want);
    let back = read_signal(&want).unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back[1].frame, 1, "signal entries are numbered by position");
    assert_eq!(back[1].timestamp, 18.8);
    assert_eq!(back[2].timestamp, 123.0);
    assert_eq!(write_signal(&back), want);
    assert_eq!(write_signal(&[]), "[]");
    assert_eq!(read_signal("").unwrap(), vec![]);
    assert_eq!(read_signal("[]").unwrap(), vec![]);
    // Compact JSON (no spaces) reads too.
    assert_eq!(read_signal(&want.replace(", ", ",")).unwrap(), back);
}

#[test]
fn signal_errors_are_specific() {
    for bad in [
        "{".to_string(),
        "[1, 2]".to_string(),
        format!("[\"{H0},100\"]"),
        format!("[\"{H0},100,0.0,5\"]"),
        format!("[\"{H0},-1,0.0\"]"),
        format!("[\"{H0},100,-0.5\"]"),
        format!("[\"{}zz,100,0.0\"]", &H0[2..]),
    ] {
        let e = read_signal(&bad);
        assert!(e.is_err(), "{bad} gave {e:?}");
    }
    let e = read_signal(&format!("[\"{H0},100,0.0\", \"x,1,1\"]")).unwrap_err();
    assert!(
        matches!(&e, VpdqFormatError::Entry { entry, .. } if entry == "1"),
        "{e}"
    );
}

#[test]
fn legacy_object_form_reads_words_and_hex() {
    // The first entry of py-tx's legacy `tests/test_hash.txt`: the Cython
    // `Hash256` struct, word 0 first.
    let words = "[64596, 32820, 28068, 11427, 34520, 65353, 6205, 28646, 57607, 4082, 27039, 14395, 53857, 52056, 9913, 58409]";
    let text = format!(
        "{{\"30\": {{\"quality\": 90, \"hash\": \"{H1}\", \"timestamp\": 1.0004}}, \
          \"0\": {{\"quality\": 100, \"hash\": {{\"w\": {words}}}, \"timestamp\": 0.0}}}}"
    );
    let f = read_legacy(&text).unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(
        f[0],
        VpdqFeature {
            frame: 0,
            quality: 100,
            hash: h(H0),
            timestamp: 0.0
        }
    );
    assert_eq!(
        f[1],
        VpdqFeature {
            frame: 30,
            quality: 90,
            hash: h(H1),
            timestamp: 1.0
        }
    );
    let (g, fmt) = read_any(&text).unwrap();
    assert_eq!((g, fmt), (f, VpdqFormat::Legacy));
    assert!(
        read_legacy("{\"0\": {\"quality\": 100, \"hash\": {\"w\": [1, 2]}, \"timestamp\": 0}}")
            .is_err()
    );
    assert!(
        read_legacy("{\"a\": {\"quality\": 100, \"hash\": \"00\", \"timestamp\": 0}}").is_err()
    );
}

#[test]
fn read_any_detects_the_form() {
    let text = format!("0,100,{H0},0.000\n");
    assert_eq!(read_any(&text).unwrap().1, VpdqFormat::ReferenceText);
    assert_eq!(
        read_any(&format!("\u{feff}  [\"{H0},100,0.0\"]"))
            .unwrap()
            .1,
        VpdqFormat::Signal
    );
    assert!(read_any("").is_err());
}

#[test]
fn feature_json_is_the_cli_shape() {
    let f = VpdqFeature {
        frame: 1,
        quality: 100,
        hash: h(H0),
        timestamp: frame_timestamp(1, 30.0),
    };
    let json = serde_json::to_string(&f).unwrap();
    assert_eq!(
        json,
        format!("{{\"frame\":1,\"timestamp\":0.033,\"quality\":100,\"pdq\":\"{H0}\"}}")
    );
}

fn compare_one(a: PdqHash, b: PdqHash) -> Vec<FrameMatch> {
    let f = |hash| {
        [VpdqFeature {
            frame: 0,
            quality: 100,
            hash,
            timestamp: 0.0,
        }]
    };
    compare(&f(a), &f(b), &MatchThresholds::default()).query_matches
}

#[test]
fn comparison_explains_and_uses_pytx_rules() {
    let base = h(H0);
    let mut near = base;
    for k in 0..31 {
        near.0[k / 64] ^= 1 << (k % 64);
    }
    let mut one_more = near;
    one_more.0[3] ^= 1;
    assert_eq!(base.distance(&near), 31);
    assert_eq!(base.distance(&one_more), 32);
    assert!(
        compare_one(base, one_more).is_empty(),
        "32 bits is not a match"
    );
    let far = PdqHash(base.0.map(|l| !l));
    let feat = |frame, quality, hash| VpdqFeature {
        frame,
        quality,
        hash,
        timestamp: frame as f64,
    };
    let q = [
        feat(0, 100, base),
        feat(1, 100, base),
        feat(2, 40, h(H1)),
        feat(3, 100, far),
    ];
    let c = [feat(10, 100, near), feat(11, 100, h(H1))];
    let r = compare(&q, &c, &MatchThresholds::default());
    // Query after dedupe + quality: {base, far}; base matches near at 31 (≤).
    assert_eq!(r.query_frames, 2);
    assert_eq!(r.compared_frames, 2);
    assert_eq!(r.query_match_percent, 50.0);
    assert_eq!(r.compared_match_percent, 50.0);
    assert!(!r.is_match);
    assert_eq!(
        r.query_matches,
        vec![FrameMatch {
            frame: 0,
            timestamp: 0.0,
            other_frame: 10,
            other_timestamp: 10.0,
            distance: 31
        }]
    );
    assert_eq!(r.compared_matches[0].other_frame, 0);
    let loose = MatchThresholds {
        query_match_percent: 50.0,
        ..MatchThresholds::default()
    };
    assert!(compare(&q, &c, &loose).is_match);
    let strict = MatchThresholds {
        distance: 30,
        ..MatchThresholds::default()
    };
    assert_eq!(compare(&q, &c, &strict).query_match_percent, 0.0);
    // Nothing usable: 0%, no match, no panic (py-tx divides by zero here).
    let low = [feat(0, 10, base)];
    let r = compare(
        &low,
        &low,
        &MatchThresholds {
            query_match_percent: 0.0,
            ..MatchThresholds::default()
        },
    );
    assert_eq!(
        (r.query_match_percent, r.compared_match_percent, r.is_match),
        (0.0, 0.0, false)
    );
    assert!(r.summary().contains("no match"));
}

#[test]
fn dedupe_runs_before_the_quality_filter() {
    // py-tx: quality_filter(dedupe(x)). The first copy has low quality, so
    // the hash disappears entirely even though a later copy is good.
    let a = h(H0);
    let x = [
        VpdqFeature {
            frame: 0,
            quality: 10,
            hash: a,
            timestamp: 0.0,
        },
        VpdqFeature {
            frame: 1,
            quality: 100,
            hash: a,
            timestamp: 0.1,
        },
    ];
    assert!(filter_for_matching(&x, 50).is_empty());
}

// ---------------------------------------------------------------------------
// Property tests

fn arb_hash() -> impl Strategy<Value = PdqHash> {
    any::<[u64; 4]>().prop_map(PdqHash)
}

/// Hashes from a small pool with a few flipped bits, so that matches, near
/// misses and exact duplicates all occur.
fn arb_clustered(pool: Vec<PdqHash>) -> impl Strategy<Value = Vec<VpdqFeature>> {
    let n = pool.len();
    prop::collection::vec(
        (
            0..n,
            prop::collection::vec(0usize..256, 0..40),
            0u8..=100,
            0u32..100_000,
        ),
        0..24,
    )
    .prop_map(move |items| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (k, flips, quality, ms))| {
                let mut hash = pool[k];
                for b in flips {
                    hash.0[b / 64] ^= 1 << (b % 64);
                }
                VpdqFeature {
                    frame: i as u64,
                    quality,
                    hash,
                    timestamp: f64::from(ms) / 1000.0,
                }
            })
            .collect()
    })
}

fn arb_pair() -> impl Strategy<Value = (Vec<VpdqFeature>, Vec<VpdqFeature>)> {
    prop::collection::vec(arb_hash(), 1..4)
        .prop_flat_map(|pool| (arb_clustered(pool.clone()), arb_clustered(pool)))
}

/// Literal port of py-tx's `match_VPDQ_hash_brute`, on hex strings, as the
/// oracle. Returns None where py-tx would divide by zero.
fn oracle(q: &[VpdqFeature], c: &[VpdqFeature], quality: u8, distance: u32) -> Option<(f64, f64)> {
    fn dedupe(x: &[VpdqFeature]) -> Vec<(String, u8)> {
        let mut seen = std::collections::HashSet::new();
        let mut ret = vec![];
        for f in x {
            let hex = f.hash.to_hex();
            if !seen.contains(&hex) {
                seen.insert(hex.clone());
                ret.push((hex, f.quality));
            }
        }
        ret
    }
    fn simple_distance(a: &str, b: &str) -> u32 {
        let (a, b) = (
            u128::from_str_radix(&a[..32], 16).unwrap(),
            u128::from_str_radix(&b[..32], 16).unwrap(),
        );
        (a ^ b).count_ones()
    }
    fn dist(a: &str, b: &str) -> u32 {
        simple_distance(&a[..32], &b[..32]) + simple_distance(&a[32..], &b[32..])
    }
    let fq: Vec<_> = dedupe(q).into_iter().filter(|f| f.1 >= quality).collect();
    let fc: Vec<_> = dedupe(c).into_iter().filter(|f| f.1 >= quality).collect();
    let count = |a: &[(String, u8)], b: &[(String, u8)]| {
        a.iter()
            .filter(|x| b.iter().any(|y| dist(&x.0, &y.0) <= distance))
            .count()
    };
    if fq.is_empty() || fc.is_empty() {
        return None;
    }
    Some((
        count(&fq, &fc) as f64 * 100.0 / fq.len() as f64,
        count(&fc, &fq) as f64 * 100.0 / fc.len() as f64,
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reference_text_round_trip(f in prop::collection::vec((any::<u32>(), 0u8..=100, arb_hash(), 0u32..10_000_000), 1..20)) {
        let feats: Vec<VpdqFeature> = f.into_iter().map(|(frame, quality, hash, ms)| VpdqFeature {
            frame: u64::from(frame), quality, hash, timestamp: f64::from(ms) / 1000.0,
        }).collect();
        let text = write_reference_text(&feats);
        let back = read_reference_text(&text).unwrap();
        prop_assert_eq!(&back, &feats);
        prop_assert_eq!(write_reference_text(&back), text);
    }

    #[test]
    fn reference_text_is_idempotent_for_any_timestamp(frame in any::<u64>(), fps in 1u32..240, q in 0u8..=100, hash in arb_hash()) {
        let f = VpdqFeature { frame, quality: q, hash, timestamp: frame_timestamp(frame % 1_000_000, f64::from(fps)) };
        let text = write_reference_text(&[f]);
        let back = read_reference_text(&text).unwrap();
        prop_assert_eq!(back[0].frame, frame);
        prop_assert!((back[0].timestamp - f.timestamp).abs() <= 0.0005 + 1e-9);
        prop_assert_eq!(write_reference_text(&back), text);
    }

    #[test]
    fn signal_round_trip_is_idempotent(f in prop::collection::vec((0u8..=100, arb_hash(), 0u32..1_000_000, 1u32..120), 0..20)) {
        let feats: Vec<VpdqFeature> = f.iter().enumerate().map(|(i, &(quality, hash, frame, fps))| VpdqFeature {
            frame: i as u64, quality, hash, timestamp: frame_timestamp(u64::from(frame), f64::from(fps)),
        }).collect();
        let text = write_signal(&feats);
        let back = read_signal(&text).unwrap();
        prop_assert_eq!(back.len(), feats.len());
        for (a, b) in back.iter().zip(&feats) {
            prop_assert_eq!((a.frame, a.quality, a.hash), (b.frame, b.quality, b.hash));
            // Three significant digits: relative error ≤ 0.5e-2.
            prop_assert!((a.timestamp - b.timestamp).abs() <= b.timestamp * 0.005 + 1e-12);
        }
        // py-tx's own test: vpdq_to_json(json_to_vpdq(h)) == h.
        prop_assert_eq!(write_signal(&back), text);
    }

    #[test]
    fn python_format_reparses_within_three_digits(x in 0f64..1e7) {
        let s = python_format_general(x, 3);
        let y: f64 = s.parse().unwrap();
        prop_assert!((x - y).abs() <= x * 0.005 + 1e-300, "{} -> {}", x, s);
        prop_assert_eq!(python_format_general(y, 3), s);
    }

    #[test]
    fn comparison_equals_the_pytx_oracle((q, c) in arb_pair(), quality in 0u8..=100, distance in 0u32..64) {
        let t = MatchThresholds { quality, distance, ..MatchThresholds::default() };
        let r = compare(&q, &c, &t);
        match oracle(&q, &c, quality, distance) {
            Some((qp, cp)) => {
                prop_assert_eq!(r.query_match_percent, qp);
                prop_assert_eq!(r.compared_match_percent, cp);
                prop_assert_eq!(r.is_match, qp >= 80.0);
            }
            None => {
                prop_assert_eq!(r.query_match_percent, 0.0);
                prop_assert_eq!(r.compared_match_percent, 0.0);
                prop_assert!(!r.is_match);
            }
        }
        // Every explained match is within the threshold and really is the
        // nearest partner.
        for m in &r.query_matches {
            prop_assert!(m.distance <= distance);
            let qf = q.iter().find(|f| f.frame == m.frame).unwrap();
            let nearest = filter_for_matching(&c, quality).iter().map(|f| f.hash.distance(&qf.hash)).min().unwrap();
            prop_assert_eq!(m.distance, nearest);
        }
    }

    #[test]
    fn comparison_is_symmetric((q, c) in arb_pair()) {
        let t = MatchThresholds::default();
        let ab = compare(&q, &c, &t);
        let ba = compare(&c, &q, &t);
        prop_assert_eq!(ab.query_match_percent, ba.compared_match_percent);
        prop_assert_eq!(ab.compared_match_percent, ba.query_match_percent);
        prop_assert_eq!(ab.query_matches.len(), ba.compared_matches.len());
        let self_cmp = compare(&q, &q, &t);
        if self_cmp.query_frames > 0 {
            prop_assert_eq!(self_cmp.query_match_percent, 100.0);
            prop_assert!(self_cmp.is_match);
            prop_assert!(self_cmp.query_matches.iter().all(|m| m.distance == 0 && m.frame == m.other_frame));
        }
    }
}
