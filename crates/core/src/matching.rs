//! From a media item's hashes to its matches against the known lists, and
//! to known/new.

use tiaki_hash::pdq::{PdqHash, QUALITY_THRESHOLD};
use tiaki_index::Digest;
use tiaki_store::intake::{MatchRow, MediaHashes, Triage};
use tiaki_store::{Hit, Probe, dihedral_of_hash};

/// What to look up for a media item. Provided hashes without a quality
/// count as usable (their producer filtered); computed ones below 50 are
/// not searched. The dihedral variants come from the hash bits, which for
/// PDQ equal the pixel variants up to a few bits.
pub fn probe_of(h: &MediaHashes, all_variants: bool) -> Probe {
    let digests = [
        h.md5.map(Digest::Md5),
        h.sha1.map(Digest::Sha1),
        h.sha256.map(Digest::Sha256),
    ]
    .into_iter()
    .flatten()
    .collect();
    let pdq = h
        .pdq
        .filter(|_| h.pdq_quality.is_none_or(|q| q >= QUALITY_THRESHOLD))
        .map(|p| dihedral_of_hash(&p));
    let vpdq: Vec<PdqHash> = h
        .vpdq
        .iter()
        .flatten()
        .filter(|f| f.quality >= QUALITY_THRESHOLD)
        .map(|f| f.hash)
        .collect();
    Probe { digests, pdq, vpdq, all_variants }
}

/// Whether a probe has anything to search.
pub fn searchable(p: &Probe) -> bool {
    !p.digests.is_empty() || p.pdq.is_some() || !p.vpdq.is_empty()
}

/// The store's rows for a lookup's hits.
pub fn match_rows(hits: &[Hit]) -> Vec<MatchRow> {
    hits.iter()
        .map(|h| MatchRow {
            entry_id: h.entry,
            list_id: h.list_id,
            kind: h.kind,
            distance: h.distance,
            variant: h.variant.map(str::to_string),
        })
        .collect()
}

/// Known when anything matched.
pub fn triage_of(matches: &[MatchRow]) -> Triage {
    if matches.is_empty() { Triage::New } else { Triage::Known }
}
