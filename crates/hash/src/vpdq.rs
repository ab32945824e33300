//! vPDQ: per-frame PDQ features of a video, their text forms, and comparison.
//!
//! This module is the pure half of vPDQ: it never decodes video. Frames come
//! from `tiaki-video`, which turns a file into RGB frames and calls PDQ on
//! the ones that [`frame_mod`] selects.
//!
//! * [`VpdqFeature`]: one hashed frame, as Meta's `vpdqFeature`.
//! * [`format`](mod@format): the reference text form (`frame,quality,hex,timestamp`),
//!   python-threatexchange's signal form (a JSON array of
//!   `"hex,quality,timestamp"`), and the legacy JSON object form.
//! * [`compare`](mod@compare): python-threatexchange's brute-force matcher (dedupe,
//!   quality ≥ 50, distance ≤ 31, two percentages), with an explanation of
//!   which frames matched.
//!
//! ```
//! use tiaki_hash::vpdq::{self, VpdqFeature, MatchThresholds};
//! use tiaki_hash::pdq::PdqHash;
//! let h = PdqHash::from_hex(&"f0".repeat(32)).unwrap();
//! let a = vec![VpdqFeature { frame: 0, quality: 100, hash: h, timestamp: 0.0 }];
//! let text = vpdq::format::write_signal(&a);
//! assert_eq!(text, format!("[\"{},100,0.0\"]", h.to_hex()));
//! let b = vpdq::format::read_signal(&text).unwrap();
//! let c = vpdq::compare(&a, &b, &MatchThresholds::default());
//! assert!(c.is_match && c.query_match_percent == 100.0);
//! ```

pub mod compare;
pub mod format;

#[cfg(test)]
mod tests;

pub use self::compare::{
    FrameMatch, MatchThresholds, VpdqComparison, compare, filter_for_matching,
};
pub use self::format::{VpdqFormat, VpdqFormatError, read_any};

use crate::pdq::PdqHash;

/// One hashed video frame (`facebook::vpdq::hashing::vpdqFeature`).
///
/// Field order is the order of the `tiaki hash` JSON object
/// (`{"frame", "timestamp", "quality", "pdq"}`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VpdqFeature {
    /// 0-based count of decoded frames (not a PTS). Lists read from the
    /// signal form, which carries no frame number, number their entries
    /// 0, 1, 2, … instead.
    pub frame: u64,
    /// Seconds: `(float)frame / (float)fps`, as the reference computes it.
    /// Written to JSON rounded to milliseconds, as the reference text is.
    #[serde(serialize_with = "ser_millis")]
    pub timestamp: f64,
    /// PDQ quality, 0..=100.
    pub quality: u8,
    #[serde(rename = "pdq")]
    pub hash: PdqHash,
}

fn ser_millis<S: serde::Serializer>(t: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Round through the decimal text so 1/30 s is 0.033, not 0.033333335.
    let rounded = format!("{t:.3}").parse::<f64>().unwrap_or(*t);
    s.serialize_f64(rounded)
}

/// Frames between two hashed frames: `(int)(secondsPerHash * fps)`, with 0
/// raised to 1 (so `seconds_per_hash = 0` hashes every frame).
///
/// The cast truncates toward zero as C++ does; negative and NaN inputs give 1.
pub fn frame_mod(seconds_per_hash: f64, fps: f64) -> u64 {
    let m = seconds_per_hash * fps;
    // `as` saturates and maps NaN to 0, which the max() turns into 1.
    (m as u64).max(1)
}

/// Whether frame `frame` (0-based decoded-frame count) is hashed.
pub fn is_selected(frame: u64, frame_mod: u64) -> bool {
    frame.is_multiple_of(frame_mod.max(1))
}

/// A frame's timestamp as the reference computes it: both operands are
/// `float`, so this is an f32 division, widened for storage.
pub fn frame_timestamp(frame: u64, fps: f64) -> f64 {
    f64::from(frame as f32 / fps as f32)
}
