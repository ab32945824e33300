//! Comparison of two vPDQ hash lists, as python-threatexchange does it
//! (`vpdq_brute_matcher.match_VPDQ_hash_brute` and `VPDQSignal.compare_hash`).
//!
//! Each list is deduplicated on the exact hash (the first occurrence wins),
//! then frames with quality below the threshold are dropped — in that order,
//! as py-tx does. A frame of one list "matches" when some frame of the other
//! is within the distance threshold (inclusive). The query percentage is the
//! share of query frames that match, the compared percentage the share of
//! compared frames that match. The decision is
//! `query% >= query threshold && compared% >= compared threshold`, with py-tx's
//! defaults of 80 and 0 (the reverse of the vPDQ README's example).
//!
//! Deviation, on purpose: py-tx divides by zero when a filtered list is
//! empty; here that percentage is 0 (as Meta's C++ `matchTwoHashBrute` does),
//! so two lists with no usable frame never match.

use std::collections::HashSet;

use super::VpdqFeature;
use crate::pdq::{MATCH_DISTANCE, QUALITY_THRESHOLD};

/// py-tx `VPDQ_QUERY_MATCH_THRESHOLD_PERCENT`.
pub const DEFAULT_QUERY_MATCH_PERCENT: f64 = 80.0;
/// py-tx `VPDQ_INDEX_MATCH_THRESHOLD_PERCENT`.
pub const DEFAULT_COMPARED_MATCH_PERCENT: f64 = 0.0;

/// Thresholds of a comparison. The defaults are python-threatexchange's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatchThresholds {
    /// Frames with a lower quality are ignored (py-tx `VPDQ_QUALITY_THRESHOLD`).
    pub quality: u8,
    /// Two frames match at this Hamming distance or less (`VPDQ_DISTANCE_THRESHOLD`).
    pub distance: u32,
    /// Smallest query-match percentage for a match.
    pub query_match_percent: f64,
    /// Smallest compared-match percentage for a match.
    pub compared_match_percent: f64,
}

impl Default for MatchThresholds {
    fn default() -> Self {
        MatchThresholds {
            quality: QUALITY_THRESHOLD,
            distance: MATCH_DISTANCE,
            query_match_percent: DEFAULT_QUERY_MATCH_PERCENT,
            compared_match_percent: DEFAULT_COMPARED_MATCH_PERCENT,
        }
    }
}

/// One frame that matched, and the nearest frame of the other list (the
/// earliest such frame when several are equally near).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FrameMatch {
    pub frame: u64,
    pub timestamp: f64,
    pub other_frame: u64,
    pub other_timestamp: f64,
    pub distance: u32,
}

/// The result of [`compare`], with its explanation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VpdqComparison {
    /// Percentage of the query's usable frames that match (0 when none is usable).
    pub query_match_percent: f64,
    /// Percentage of the compared list's usable frames that match.
    pub compared_match_percent: f64,
    pub is_match: bool,
    pub thresholds: MatchThresholds,
    /// Usable frames (unique hashes at or above the quality threshold).
    pub query_frames: usize,
    pub compared_frames: usize,
    /// Each query frame that matched, in query order.
    pub query_matches: Vec<FrameMatch>,
    /// Each compared frame that matched, in compared order.
    pub compared_matches: Vec<FrameMatch>,
}

impl VpdqComparison {
    /// One line for people: both percentages, frame counts and the decision.
    pub fn summary(&self) -> String {
        format!(
            "query {:.2}% ({}/{} frames), compared {:.2}% ({}/{} frames): {}",
            self.query_match_percent,
            self.query_matches.len(),
            self.query_frames,
            self.compared_match_percent,
            self.compared_matches.len(),
            self.compared_frames,
            if self.is_match { "match" } else { "no match" }
        )
    }
}

/// The frames of `features` that take part in matching: first occurrence of
/// each exact hash, then quality ≥ `quality` (py-tx's `quality_filter(dedupe(…))`).
pub fn filter_for_matching(features: &[VpdqFeature], quality: u8) -> Vec<&VpdqFeature> {
    let mut seen = HashSet::with_capacity(features.len());
    features
        .iter()
        .filter(|f| seen.insert(f.hash))
        .filter(|f| f.quality >= quality)
        .collect()
}

/// Percentage as Python computes `count * 100 / total`: one IEEE division of
/// two exact integers.
fn percent(count: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    (count as f64 * 100.0) / total as f64
}

/// Compares a query list with another list. See the module documentation.
pub fn compare(
    query: &[VpdqFeature],
    compared: &[VpdqFeature],
    t: &MatchThresholds,
) -> VpdqComparison {
    let q = filter_for_matching(query, t.quality);
    let c = filter_for_matching(compared, t.quality);

    // Nearest partner of every frame on each side, from one pass over all
    // pairs (the brute force py-tx does twice). Strict `<` keeps the earliest
    // of equally near partners.
    let mut best_q: Vec<Option<(u32, usize)>> = vec![None; q.len()];
    let mut best_c: Vec<Option<(u32, usize)>> = vec![None; c.len()];
    for (i, a) in q.iter().enumerate() {
        for (j, b) in c.iter().enumerate() {
            let d = a.hash.distance(&b.hash);
            if d > t.distance {
                continue;
            }
            if best_q[i].is_none_or(|(bd, _)| d < bd) {
                best_q[i] = Some((d, j));
            }
            if best_c[j].is_none_or(|(bd, _)| d < bd) {
                best_c[j] = Some((d, i));
            }
        }
    }
    let explain = |mine: &[&VpdqFeature],
                   other: &[&VpdqFeature],
                   best: &[Option<(u32, usize)>]|
     -> Vec<FrameMatch> {
        mine.iter()
            .zip(best)
            .filter_map(|(f, b)| {
                let (distance, k) = (*b)?;
                let o = other.get(k)?;
                Some(FrameMatch {
                    frame: f.frame,
                    timestamp: f.timestamp,
                    other_frame: o.frame,
                    other_timestamp: o.timestamp,
                    distance,
                })
            })
            .collect()
    };
    let query_matches = explain(&q, &c, &best_q);
    let compared_matches = explain(&c, &q, &best_c);
    let query_match_percent = percent(query_matches.len(), q.len());
    let compared_match_percent = percent(compared_matches.len(), c.len());
    VpdqComparison {
        query_match_percent,
        compared_match_percent,
        // A side with no usable frame never matches, even at 0% thresholds.
        is_match: !q.is_empty()
            && !c.is_empty()
            && query_match_percent >= t.query_match_percent
            && compared_match_percent >= t.compared_match_percent,
        thresholds: *t,
        query_frames: q.len(),
        compared_frames: c.len(),
        query_matches,
        compared_matches,
    }
}
