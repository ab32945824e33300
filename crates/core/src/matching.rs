//! Matching: from hashes to the known entries they hit, and from a media
//! item's hashes to its matches and to known/new. One module for every
//! caller: `tiaki lookup` (a [`Query`] parsed from a line), `tiaki match`
//! ([`probe_of_record`], image-level dihedral variants), ingest, worker and
//! rematch ([`probe_of`] on stored hashes, the [`MatchCache`]).
//!
//! The rules a lookup follows:
//!
//! * **Enabled/disabled** is a list flag read at query time ([`Known::matcher`]):
//!   disabling touches neither the entries nor the index.
//! * **Negative lists.** Entries of a negative list are never reported as
//!   matches. A match to a positive entry `E` is suppressed when an enabled
//!   negative list holds an entry `N` with a digest equal to one of `E`'s, or
//!   with a PDQ hash within the negative list's distance (its `distance`, else
//!   31) of `E`'s PDQ hash. The rule compares known entries with each other,
//!   not with the query, so it marks `E` itself as a known false positive.
//! * **Radius.** A PDQ match to an entry of list `L` counts when its distance
//!   is at most the caller's explicit radius, else `L.distance`, else 31.

use std::collections::{HashMap, HashSet};

use tiaki_formats::ListEntry;
use tiaki_hash::pdq::{Dihedral, PdqHash, QUALITY_THRESHOLD, dihedral_of_hash};
use tiaki_hash::vpdq::VpdqFeature;
use tiaki_index::{Digest, EntryId, KnownIndex};
use tiaki_media::FileRecord;
use tiaki_store::intake::{MatchRow, MediaHashes, Triage};
use tiaki_store::{ListInfo, ListStore, StoreError};

use crate::known::Known;

/// How an entry was matched (stored with every match, hence the store's).
pub use tiaki_store::MatchKind;
pub use tiaki_types::hashes::{Hit, Probe};

/// Default PDQ match distance.
pub const DEFAULT_RADIUS: u32 = tiaki_hash::pdq::MATCH_DISTANCE;

impl<S: ListStore> Known<S> {
    /// Prepares matching: which lists count, at which radius.
    pub async fn matcher(&self, opts: &MatchOptions) -> Result<Matcher, StoreError> {
        let all = self.store().lists().await?;
        for n in &opts.lists {
            if !all.iter().any(|l| &l.name == n) {
                return Err(StoreError::NoSuchList(n.clone()));
            }
        }
        let radius_of = |l: &ListInfo| opts.radius.or(l.distance).unwrap_or(DEFAULT_RADIUS);
        let mut positive = HashMap::new();
        let mut negative_lists = HashMap::new();
        for l in all.iter().filter(|l| l.enabled) {
            if l.negative {
                negative_lists.insert(l.id, l.distance.unwrap_or(DEFAULT_RADIUS));
            } else if opts.lists.is_empty() || opts.lists.contains(&l.name) {
                positive.insert(l.id, (l.name.clone(), radius_of(l)));
            }
        }
        let mut negative_entries = HashMap::new();
        for &id in negative_lists.keys() {
            for e in self.store().entry_ids_of_list(id).await? {
                negative_entries.insert(e, id);
            }
        }
        let radius = positive.values().map(|(_, r)| *r).max().unwrap_or(0);
        let negative_radius = negative_lists.values().copied().max().unwrap_or(0);
        Ok(Matcher {
            positive,
            negative_lists,
            negative_entries,
            radius,
            negative_radius,
        })
    }

    /// Matches one probe: every entry of a counted list it hits, exact
    /// digests first, then by distance, list name and entry id.
    pub async fn find(&self, m: &Matcher, probe: &Probe) -> Result<Vec<Hit>, StoreError> {
        let mut all = self.find_many(m, std::slice::from_ref(probe)).await?;
        Ok(all.pop().unwrap_or_default())
    }

    /// [`find`](Self::find) for many probes, with the same results: the
    /// index is searched once for all of them (in parallel chunks, each one
    /// batched search call, which lets the index pick its engine for the
    /// batch), then the entries hit are read from the store once.
    pub async fn find_many(
        &self,
        m: &Matcher,
        probes: &[Probe],
    ) -> Result<Vec<Vec<Hit>>, StoreError> {
        use rayon::prelude::*;
        let chunk = probes
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        let candidates: Vec<HashMap<EntryId, Candidate>> = probes
            .par_chunks(chunk)
            .map(|c| self.candidates(m, c))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        let mut ids: Vec<EntryId> = candidates
            .iter()
            .flat_map(|c| c.keys().copied())
            .filter(|id| !m.negative_entries.contains_key(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let entries = self.store().entries_by_ids(&ids).await?;
        // Per entry hit: its list (name, radius, id), unless suppressed.
        let mut usable: HashMap<EntryId, (&str, u32, i64)> = HashMap::with_capacity(entries.len());
        for e in &entries {
            let Some((name, radius)) = m.positive.get(&e.list_id) else {
                continue;
            };
            if self.suppressed(m, &e.entry) {
                continue;
            }
            usable.insert(e.id, (name.as_str(), *radius, e.list_id));
        }
        Ok(candidates
            .into_iter()
            .map(|best| {
                let mut hits: Vec<Hit> = best
                    .into_iter()
                    .filter_map(|(id, (kind, distance, variant))| {
                        let &(name, radius, list_id) = usable.get(&id)?;
                        (kind == MatchKind::Exact || distance <= radius).then(|| Hit {
                            list: name.to_string(),
                            list_id,
                            entry: id,
                            kind,
                            distance,
                            variant: variant.map(|v| v.name()),
                        })
                    })
                    .collect();
                hits.sort_by(|a, b| {
                    (a.kind != MatchKind::Exact, a.distance, &a.list, a.entry).cmp(&(
                        b.kind != MatchKind::Exact,
                        b.distance,
                        &b.list,
                        b.entry,
                    ))
                });
                hits
            })
            .collect())
    }

    /// The index's answer for each probe: per entry, the best way it was
    /// hit. All the probes' PDQ needles go to the index in one call per kind
    /// (dihedral sets, single hashes, vPDQ frames).
    fn candidates(&self, m: &Matcher, probes: &[Probe]) -> Vec<HashMap<EntryId, Candidate>> {
        index_candidates(self.index(), m.radius, probes)
    }

    /// The negative-list rule of the module docs (for `crate::banks`).
    pub(crate) fn is_suppressed(&self, m: &Matcher, e: &ListEntry) -> bool {
        self.suppressed(m, e)
    }

    /// The negative-list rule of the module docs.
    fn suppressed(&self, m: &Matcher, e: &ListEntry) -> bool {
        if m.negative_entries.is_empty() {
            return false;
        }
        let digests = [
            e.md5.map(|d| Digest::Md5(d.0)),
            e.sha1.map(|d| Digest::Sha1(d.0)),
            e.sha256.map(|d| Digest::Sha256(d.0)),
        ];
        for d in digests.iter().flatten() {
            if self
                .index()
                .digests
                .get(d)
                .iter()
                .any(|id| m.negative_entries.contains_key(id))
            {
                return true;
            }
        }
        if let Some(p) = e.pdq {
            for hit in self.index().pdq.query(&p.hash, m.negative_radius) {
                if let Some(list) = m.negative_entries.get(&hit.id)
                    && m.negative_lists
                        .get(list)
                        .is_some_and(|&r| hit.distance <= r)
                {
                    return true;
                }
            }
        }
        false
    }
}

/// The index's answer for each probe: per entry, the best way it was hit
/// within `radius`. All the probes' PDQ needles go to the index in one call
/// per kind (dihedral sets, single hashes, vPDQ frames). Known lists
/// ([`Known::find_many`]) and the victim-identification search
/// (`crate::vid`) both search through it.
pub(crate) fn index_candidates(
    index: &KnownIndex,
    radius: u32,
    probes: &[Probe],
) -> Vec<HashMap<EntryId, Candidate>> {
    let pdq = &index.pdq;
    let dihedral: Vec<[PdqHash; 8]> = probes
        .iter()
        .filter(|p| p.all_variants)
        .filter_map(|p| p.pdq)
        .collect();
    let mut dihedral_hits = pdq.query_dihedral_batch(&dihedral, radius).into_iter();
    let singles: Vec<PdqHash> = probes
        .iter()
        .filter(|p| !p.all_variants)
        .filter_map(|p| p.pdq.map(|v| v[0]))
        .collect();
    let mut single_hits = pdq.query_batch(&singles, radius).into_iter();
    // vPDQ: each probe's unique frames (`query_batch` also searches a
    // frame shared by several probes once).
    let frames: Vec<Vec<PdqHash>> = probes
        .iter()
        .map(|p| {
            let mut f = p.vpdq.clone();
            f.sort();
            f.dedup();
            f
        })
        .collect();
    let all_frames: Vec<PdqHash> = frames.iter().flatten().copied().collect();
    let mut frame_hits = pdq.query_batch(&all_frames, radius).into_iter();

    let mut out = Vec::with_capacity(probes.len());
    for (probe, frames) in probes.iter().zip(&frames) {
        let mut best: HashMap<EntryId, Candidate> = HashMap::new();
        let mut offer = |id: EntryId, cand: Candidate| {
            let slot = best.entry(id).or_insert(cand);
            if (cand.0 == MatchKind::Exact, std::cmp::Reverse(cand.1))
                > (slot.0 == MatchKind::Exact, std::cmp::Reverse(slot.1))
            {
                *slot = cand;
            }
        };
        for d in &probe.digests {
            for id in index.digests.get(d) {
                offer(id, (MatchKind::Exact, 0, None));
            }
        }
        if probe.pdq.is_some() {
            if probe.all_variants {
                for hit in dihedral_hits.next().unwrap_or_default() {
                    offer(hit.id, (MatchKind::Pdq, hit.distance, Some(hit.variant)));
                }
            } else {
                for hit in single_hits.next().unwrap_or_default() {
                    offer(
                        hit.id,
                        (MatchKind::Pdq, hit.distance, Some(Dihedral::ALL[0])),
                    );
                }
            }
        }
        // vPDQ, as python-threatexchange's index does it: unique query
        // frames, each looked up on its own; a known video counts as
        // matched when at least `VPDQ_QUERY_MATCH_PERCENT` of the query's
        // frames are within the radius of one of its frames (the
        // compared-side threshold of py-tx's index is 0 %).
        let mut per_entry: HashMap<EntryId, (usize, u32)> = HashMap::new();
        for _ in frames {
            let mut seen: HashMap<EntryId, u32> = HashMap::new();
            for hit in frame_hits.next().unwrap_or_default() {
                let d = seen.entry(hit.id).or_insert(hit.distance);
                *d = (*d).min(hit.distance);
            }
            for (id, d) in seen {
                let slot = per_entry.entry(id).or_insert((0, u32::MAX));
                slot.0 += 1;
                slot.1 = slot.1.min(d);
            }
        }
        for (id, (matched, distance)) in per_entry {
            if matched as f64 * 100.0 >= VPDQ_QUERY_MATCH_PERCENT * frames.len() as f64 {
                offer(id, (MatchKind::Vpdq, distance, None));
            }
        }
        out.push(best);
    }
    out
}

/// Which lists a lookup counts.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// PDQ radius for every list; `None`: each list's own, else 31.
    pub radius: Option<u32>,
    /// Only these lists (by name); empty: every enabled list.
    pub lists: Vec<String>,
}

/// Prepared [`MatchOptions`].
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Enabled positive lists counted: id → (name, radius).
    positive: HashMap<i64, (String, u32)>,
    /// Enabled negative lists: id → distance.
    negative_lists: HashMap<i64, u32>,
    /// Entries of enabled negative lists → their list.
    negative_entries: HashMap<EntryId, i64>,
    radius: u32,
    negative_radius: u32,
}

/// Share of a query video's unique frames that must match a known video
/// (python-threatexchange `VPDQ_QUERY_MATCH_THRESHOLD_PERCENT`).
pub const VPDQ_QUERY_MATCH_PERCENT: f64 = 80.0;

/// How an entry was hit: kind, distance, dihedral variant.
pub(crate) type Candidate = (MatchKind, u32, Option<Dihedral>);

/// A parsed `tiaki lookup` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Digest(Digest),
    Pdq(PdqHash),
    /// 64 hex digits are both a SHA-256 and a PDQ hash: both are searched.
    Sha256OrPdq(Digest, PdqHash),
}

impl Query {
    /// The probe for this query. A PDQ hash alone has no pixels, so its
    /// dihedral variants are computed on the hash bits ([`dihedral_of_hash`]).
    pub fn probe(&self) -> Probe {
        match self {
            Query::Digest(d) => Probe {
                digests: vec![*d],
                ..Probe::default()
            },
            Query::Pdq(h) => Probe {
                pdq: Some(dihedral_of_hash(h)),
                all_variants: true,
                ..Probe::default()
            },
            Query::Sha256OrPdq(d, h) => Probe {
                digests: vec![*d],
                pdq: Some(dihedral_of_hash(h)),
                vpdq: Vec::new(),
                all_variants: true,
            },
        }
    }
}

/// Parses a hash by its length: 32 hex MD5, 40 SHA-1, 64 SHA-256 and PDQ
/// both; `pdq:`, `md5:`, `sha1:`, `sha256:` prefixes say which.
pub fn parse_query(line: &str) -> Result<Query, StoreError> {
    let s = line.trim();
    let bad = |why: String| StoreError::BadQuery(why);
    if let Some(rest) = s.strip_prefix("pdq:") {
        return PdqHash::from_hex(rest.trim())
            .map(Query::Pdq)
            .map_err(|e| bad(e.to_string()));
    }
    let s = ["md5:", "sha1:", "sha256:"]
        .iter()
        .find_map(|p| s.strip_prefix(p))
        .unwrap_or(s)
        .trim();
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!("{s:?} is not hexadecimal")));
    }
    let d = Digest::from_hex(s).map_err(|_| {
        bad(format!(
            "{} hex digits (expected 32 MD5, 40 SHA-1, 64 SHA-256 or PDQ)",
            s.len()
        ))
    })?;
    if s.len() == 64 && !line.trim().starts_with("sha256:") {
        let h = PdqHash::from_hex(s).map_err(|e| bad(e.to_string()))?;
        return Ok(Query::Sha256OrPdq(d, h));
    }
    Ok(Query::Digest(d))
}

/// Lines per batch `tiaki lookup` hands to [`Known::find_many`] at most.
pub const LOOKUP_BATCH: usize = 4096;

/// The next lines of a stream of queries, as many as are already there:
/// blocks only until one complete line (or the end) has arrived, then adds
/// every further line already complete in `r`'s buffer, up to `max`. So
/// piped input goes to the index in batches, and a line typed on a terminal
/// (one line per read) is answered at once. Lines lose their `\n` / `\r\n`;
/// an empty result means the end of the input.
///
/// Untrusted input: a line over [`QUERY_LINE_CAP`] bytes streams past and
/// comes back as [`TooLong`] (memory stays bounded whatever is piped in),
/// and bytes that are not UTF-8 are replaced (the query then fails to
/// parse and says so) instead of ending the whole run. `line_no` counts
/// the lines read so far, across calls.
pub fn read_ready_lines<R: std::io::Read>(
    r: &mut std::io::BufReader<R>,
    max: usize,
    line_no: &mut u64,
) -> std::io::Result<Vec<Result<String, TooLong>>> {
    use std::io::{BufRead, Read};
    let mut out = Vec::new();
    let mut bytes = Vec::new();
    while out.len() < max.max(1) {
        if !out.is_empty() && !r.buffer().contains(&b'\n') {
            break;
        }
        bytes.clear();
        let cap = QUERY_LINE_CAP as u64;
        if r.by_ref().take(cap + 1).read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        *line_no += 1;
        if bytes.len() as u64 > cap && bytes.last() != Some(&b'\n') {
            // Over the cap: skip to the end of the line, counting it.
            let mut skipped = bytes.len() as u64;
            loop {
                let buf = r.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        skipped += i as u64;
                        r.consume(i + 1);
                        break;
                    }
                    None => {
                        let n = buf.len();
                        skipped += n as u64;
                        r.consume(n);
                    }
                }
            }
            out.push(Err(TooLong {
                line: *line_no,
                cap: QUERY_LINE_CAP,
                bytes: skipped,
            }));
            continue;
        }
        let text = String::from_utf8_lossy(&bytes);
        out.push(Ok(text.trim_end_matches('\n').trim_end_matches('\r').to_owned()));
    }
    Ok(out)
}

/// The longest query line `tiaki lookup` reads (a query is at most a
/// 64-digit hash with a `sha256:` prefix and some spaces).
pub const QUERY_LINE_CAP: usize = 4096;

pub use tiaki_types::lines::TooLong;

/// Whether a frame quality enters the index and queries.
pub fn usable_quality(quality: u8) -> bool {
    quality >= QUALITY_THRESHOLD
}

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
        .filter(|_| h.pdq_quality.is_none_or(usable_quality))
        .map(|p| dihedral_of_hash(&p));
    Probe {
        digests,
        pdq,
        vpdq: usable_frames(h.vpdq.as_deref()),
        all_variants,
    }
}

/// What to look up for a file hashed by `tiaki match`: its digests, the
/// image-level dihedral variants (exact, unlike [`dihedral_of_hash`]) when
/// the image had a usable PDQ, and its usable vPDQ frames.
pub fn probe_of_record(r: &FileRecord) -> Probe {
    let digests = [
        r.md5.as_deref().and_then(|h| Digest::from_hex(h).ok()),
        r.sha1.as_deref().and_then(|h| Digest::from_hex(h).ok()),
        r.sha256.as_deref().and_then(|h| Digest::from_hex(h).ok()),
    ];
    let pdq = match (&r.dihedral, r.pdq_quality) {
        (Some(v), Some(q)) if usable_quality(q) => <[PdqHash; 8]>::try_from(v.as_slice()).ok(),
        _ => None,
    };
    Probe {
        digests: digests.into_iter().flatten().collect(),
        pdq,
        vpdq: usable_frames(r.vpdq.as_deref()),
        all_variants: true,
    }
}

/// The hashes of the vPDQ frames that enter queries.
fn usable_frames(frames: Option<&[VpdqFeature]>) -> Vec<PdqHash> {
    frames
        .into_iter()
        .flatten()
        .filter(|f| usable_quality(f.quality))
        .map(|f| f.hash)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one piece per `read`, like a terminal (a line
    /// per read) or a pipe (whatever was written).
    struct Pieces(std::collections::VecDeque<&'static str>);

    impl std::io::Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(p) = self.0.pop_front() else {
                return Ok(0);
            };
            buf[..p.len()].copy_from_slice(p.as_bytes());
            Ok(p.len())
        }
    }

    #[test]
    fn ready_lines_batch_what_is_there_and_no_more() {
        let batches = |pieces: Vec<&'static str>, max: usize| {
            let mut r = std::io::BufReader::new(Pieces(pieces.into()));
            let mut out = Vec::new();
            let mut n = 0;
            loop {
                let b = read_ready_lines(&mut r, max, &mut n).unwrap();
                if b.is_empty() {
                    return out;
                }
                out.push(b.into_iter().map(Result::unwrap).collect::<Vec<_>>());
            }
        };
        // A terminal: one line per read, each answered on its own.
        assert_eq!(
            batches(vec!["a\n", "b\n", "c\n"], 100),
            vec![vec!["a"], vec!["b"], vec!["c"]]
        );
        // A pipe: the complete lines buffered go in one batch, up to `max`;
        // a line split across reads waits for its end (and takes the lines
        // that came with it); CRLF and a last line without a newline.
        assert_eq!(
            batches(vec!["a\nb\r\nc", "d\ne\nf", "\ng"], 100),
            vec![vec!["a", "b"], vec!["cd", "e"], vec!["f"], vec!["g"]]
        );
        assert_eq!(
            batches(vec!["1\n2\n3\n4\n5\n"], 2),
            vec![vec!["1", "2"], vec!["3", "4"], vec!["5"]]
        );
    }

    #[test]
    fn ready_lines_skip_what_is_too_long_and_replace_what_is_not_utf8() {
        let long = "f".repeat(QUERY_LINE_CAP * 3);
        let mut bytes = format!("a\n{long}\nb").into_bytes();
        bytes.extend_from_slice(&[0xFF, b'\n', b'c']);
        let mut r = std::io::BufReader::with_capacity(64, bytes.as_slice());
        let mut n = 0;
        let mut got = Vec::new();
        loop {
            let b = read_ready_lines(&mut r, 100, &mut n).unwrap();
            if b.is_empty() {
                break;
            }
            got.extend(b);
        }
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0], Ok("a".to_owned()));
        assert_eq!(
            got[1],
            Err(TooLong {
                line: 2,
                cap: QUERY_LINE_CAP,
                bytes: (QUERY_LINE_CAP * 3) as u64
            })
        );
        assert_eq!(got[2], Ok("b\u{FFFD}".to_owned()));
        assert_eq!(got[3], Ok("c".to_owned()));
        assert_eq!(n, 4);
    }

    #[test]
    fn queries_parse_by_length() {
        assert!(matches!(
            parse_query(&"a".repeat(32)),
            Ok(Query::Digest(Digest::Md5(_)))
        ));
        assert!(matches!(
            parse_query(&"A".repeat(40)),
            Ok(Query::Digest(Digest::Sha1(_)))
        ));
        assert!(matches!(
            parse_query(&"b".repeat(64)),
            Ok(Query::Sha256OrPdq(..))
        ));
        assert!(matches!(
            parse_query(&format!("pdq:{}", "b".repeat(64))),
            Ok(Query::Pdq(_))
        ));
        assert!(matches!(
            parse_query(&format!("sha256:{}", "b".repeat(64))),
            Ok(Query::Digest(Digest::Sha256(_)))
        ));
        assert!(parse_query("abc").is_err());
        assert!(parse_query(&"g".repeat(32)).is_err());
    }
}
