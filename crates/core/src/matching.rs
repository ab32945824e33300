//! From a media item's hashes to its matches against the known lists, and
//! to known/new.

use std::collections::{HashMap, HashSet};

use tiaki_hash::pdq::{PdqHash, QUALITY_THRESHOLD};
use tiaki_index::Digest;
use tiaki_store::intake::{MatchRow, MediaHashes, Triage};
use tiaki_store::{Hit, Known, ListStore, Matcher, Probe, StoreError, dihedral_of_hash};

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
    Probe {
        digests,
        pdq,
        vpdq,
        all_variants,
    }
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
    if matches.is_empty() {
        Triage::New
    } else {
        Triage::Known
    }
}

/// Distinct hash sets cached before the cache is emptied.
const CACHE_LIMIT: usize = 1 << 20;

/// Lookups remembered by the exact hashes looked up: a report's millions of
/// media lines hold far fewer distinct contents (the same file under many
/// accounts), and the same hashes always give the same matches while the
/// lists do not change (one ingest holds one `Matcher`).
#[derive(Debug, Default)]
pub struct MatchCache {
    map: HashMap<Vec<u8>, Vec<MatchRow>>,
}

impl MatchCache {
    fn key(h: &MediaHashes) -> Vec<u8> {
        let mut k = Vec::with_capacity(104);
        let mut opt = |tag: u8, b: Option<&[u8]>| {
            k.push(tag);
            if let Some(b) = b {
                k.push(1);
                k.extend_from_slice(b);
            } else {
                k.push(0);
            }
        };
        opt(1, h.md5.as_ref().map(|d| d.as_slice()));
        opt(2, h.sha1.as_ref().map(|d| d.as_slice()));
        opt(3, h.sha256.as_ref().map(|d| d.as_slice()));
        let pdq = h.pdq.map(|p| p.to_bytes());
        opt(4, pdq.as_ref().map(|d| d.as_slice()));
        k.push(h.pdq_quality.unwrap_or(255));
        for f in h.vpdq.iter().flatten() {
            k.push(f.quality);
            k.extend_from_slice(&f.hash.to_bytes());
        }
        k
    }

    /// The matches of each hash set, looking up only those not seen before.
    pub async fn lookup<S: ListStore>(
        &mut self,
        known: &Known<S>,
        matcher: &Matcher,
        hashes: &[&MediaHashes],
        all_variants: bool,
    ) -> Result<Vec<Vec<MatchRow>>, StoreError> {
        if self.map.len() > CACHE_LIMIT {
            self.map.clear();
        }
        let keys: Vec<Vec<u8>> = hashes.iter().map(|h| Self::key(h)).collect();
        let mut missing: Vec<usize> = Vec::new();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        for (i, k) in keys.iter().enumerate() {
            if !self.map.contains_key(k) && seen.insert(k.as_slice()) {
                missing.push(i);
            }
        }
        let probes: Vec<Probe> = missing
            .iter()
            .map(|&i| probe_of(hashes[i], all_variants))
            .collect();
        let hits = known.find_many(matcher, &probes).await?;
        for (&i, hits) in missing.iter().zip(hits) {
            self.map.insert(keys[i].clone(), match_rows(&hits));
        }
        Ok(keys
            .iter()
            .map(|k| self.map.get(k).cloned().unwrap_or_default())
            .collect())
    }
}
