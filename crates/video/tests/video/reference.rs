//! Hashes every staged sample video and checks it against Meta's expected
//! output with the upstream pass rule; reports how many frames are
//! bit-exact.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::*;
use tiaki_hash::vpdq::format::{read_reference_text, write_reference_text};

#[test]
fn every_frame_meets_the_upstream_rule() {
    require_ffmpeg();
    let mut report = String::from(
        "vPDQ every frame vs vpdq/sample-hashes (upstream rule: < 31 bits where both q >= 50)\n",
    );
    for name in VIDEOS {
        let ours = ours(name, 0.0);
        let theirs = reference(name);
        let a = check_upstream_rule(name, &ours, &theirs);
        // Timestamps as the reference prints them: (float)frame / (float)fps.
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(
                format!("{:.3}", o.timestamp),
                format!("{:.3}", t.timestamp),
                "{name} frame {}",
                o.frame
            );
        }
        report.push_str(&format!(
            "  {name:32} {:4} frames, {:4} bit-exact, max distance {:2} (q>=50), {:2} (all), max quality diff {}\n",
            a.frames, a.exact, a.max_distance_q50, a.max_distance_all, a.max_quality_diff
        ));
    }
    note(&report);
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("vpdq-reference-report.txt");
    let _ = std::fs::write(out, &report);
}

#[test]
fn one_hash_a_second_meets_the_upstream_rule_on_chair_20() {
    let ours = ours("chair-20-sd-bar", 1.0);
    let text =
        std::fs::read_to_string(data().join("expected/chair-20-sd-bar.seconds_per_hash_1.txt"))
            .unwrap();
    let theirs = read_reference_text(&text).unwrap();
    assert_eq!(ours.len(), 21);
    let a = check_upstream_rule("chair-20-sd-bar@1s", &ours, &theirs);
    assert_eq!(
        ours.iter().map(|f| f.frame).collect::<Vec<_>>(),
        (0..21).map(|k| k * 30).collect::<Vec<_>>()
    );
    // Timestamps are whole seconds and print as the reference does.
    let printed = write_reference_text(&ours);
    for (line, k) in printed.lines().zip(0..) {
        assert!(line.ends_with(&format!(",{k}.000")), "{line}");
    }
    note(&format!(
        "chair-20-sd-bar at 1 s: {}/21 bit-exact, max distance {}",
        a.exact, a.max_distance_all
    ));
}

#[test]
fn sampling_selects_by_frame_count() {
    // Frame-count selection: the 1-second list is exactly every 30th line of
    // the every-frame list, bit for bit (same decoder, same conversion).
    let every = ours("pattern-hd-no-bar", 0.0);
    let one = ours("pattern-hd-no-bar", 1.0);
    let thinned: Vec<_> = every
        .iter()
        .filter(|f| f.frame % 30 == 0)
        .copied()
        .collect();
    assert_eq!(one, thinned);
    let half = ours("pattern-hd-no-bar", 0.5);
    assert_eq!(
        half.iter().map(|f| f.frame).collect::<Vec<_>>(),
        (0..14).map(|k| k * 15).collect::<Vec<_>>()
    );
    let thinned: Vec<_> = every
        .iter()
        .filter(|f| f.frame % 15 == 0)
        .copied()
        .collect();
    assert_eq!(half, thinned);
}
