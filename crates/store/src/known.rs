//! [`Known`]: a store plus the persisted index, and matching.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use tiaki_formats::{
    CategoryScheme, ExportOptions, ExportSummary, ImportOptions, ListEntry, RecordError, VicsWriter,
};
use tiaki_hash::pdq::{Dihedral, PdqHash, QUALITY_THRESHOLD};
use tiaki_index::{Digest, EntryId, KnownIndex, PdqEntry};
use tokio::sync::mpsc;

use crate::{
    BATCH, DEFAULT_RADIUS, Feed, ListInfo, ListStore, NewList, SqliteStore, Store, StoreError,
    Timestamp,
};

/// First bytes of `known.idx`: magic, then the generation (u64 LE), then
/// the [`KnownIndex`] file.
const MAGIC: &[u8; 8] = b"TIAKIKX1";

/// How the index came to be in memory at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexLoad {
    Loaded,
    /// Rebuilt from the entries, and why.
    Rebuilt(String),
}

/// A store with its index.
#[derive(Debug)]
pub struct Known<S = SqliteStore> {
    store: S,
    index_path: PathBuf,
    index: KnownIndex,
    generation: u64,
    /// What happened to the index at open.
    pub index_load: IndexLoad,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub list: String,
    pub format: String,
    pub entries: u64,
    pub rejected: u64,
    pub deleted: u64,
    /// PDQ hashes (or vPDQ frames) stored but kept out of the index (< 50).
    pub low_quality: u64,
    pub generation: u64,
}

impl Known<SqliteStore> {
    /// Opens `dir/tiaki.db` and `dir/known.idx`, creating `dir` if needed.
    pub async fn open(dir: &Path) -> Result<Known<SqliteStore>, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let store = SqliteStore::open(&dir.join("tiaki.db")).await?;
        Known::with_store(store, dir.join("known.idx")).await
    }
}

impl Known<Store> {
    /// Opens the data directory's store — `dir/tiaki.db`, or the PostgreSQL
    /// database `database` names — with `dir/known.idx` beside it.
    pub async fn open_in(dir: &Path, database: Option<&str>) -> Result<Known<Store>, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let store = Store::open(dir, database).await?;
        // The embedded store lives in `dir`; a PostgreSQL store may be shared
        // by many data directories, and one directory may meet several.
        let index = match &store {
            Store::Sqlite(_) => dir.join("known.idx"),
            Store::Postgres(_) => dir.join(format!("known-{}.idx", store.store_id().await?)),
        };
        Known::with_store(store, index).await
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads `known.idx`: its generation and index.
fn read_index(path: &Path) -> Result<(u64, KnownIndex), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut head = [0u8; 16];
    r.read_exact(&mut head).map_err(|e| e.to_string())?;
    if &head[..8] != MAGIC {
        return Err("not a Tiaki index file".into());
    }
    let mut g = [0u8; 8];
    g.copy_from_slice(&head[8..]);
    let index = KnownIndex::load(r).map_err(|e| e.to_string())?;
    Ok((u64::from_le_bytes(g), index))
}

/// Writes `known.idx` atomically (temporary file, sync, rename), as
/// [`KnownIndex::save_path`] does, with the generation header in front.
fn write_index(path: &Path, generation: u64, index: &KnownIndex) -> Result<(), StoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let file = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    w.write_all(MAGIC).map_err(io_err(&tmp))?;
    w.write_all(&generation.to_le_bytes())
        .map_err(io_err(&tmp))?;
    index.save(&mut w)?;
    let file = w.into_inner().map_err(|e| io_err(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io_err(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Adds entries `first_id..` to the index; returns how many PDQ hashes were
/// refused for low quality.
fn add_to_index(
    index: &mut KnownIndex,
    first_id: EntryId,
    batch: &[ListEntry],
) -> Result<u64, StoreError> {
    let mut pdq = Vec::new();
    for (e, id) in batch.iter().zip(first_id..) {
        if let Some(d) = e.md5 {
            index.digests.insert(&Digest::Md5(d.0), id);
        }
        if let Some(d) = e.sha1 {
            index.digests.insert(&Digest::Sha1(d.0), id);
        }
        if let Some(d) = e.sha256 {
            index.digests.insert(&Digest::Sha256(d.0), id);
        }
        if let Some(p) = e.pdq {
            pdq.push(PdqEntry {
                hash: p.hash,
                quality: p.quality.unwrap_or(100),
                id,
            });
        }
        for f in e.vpdq.iter().flatten() {
            pdq.push(PdqEntry {
                hash: f.hash,
                quality: f.quality,
                id,
            });
        }
    }
    let report = index.pdq.extend(pdq)?;
    Ok(report.low_quality.len() as u64)
}

impl<S: ListStore> Known<S> {
    /// Joins `store` and the index at `index_path`, rebuilding the index if
    /// it is missing, unreadable or of another generation.
    pub async fn with_store(store: S, index_path: PathBuf) -> Result<Known<S>, StoreError> {
        let generation = store.generation().await?;
        let mut known = Known {
            store,
            index_path,
            index: KnownIndex::default(),
            generation,
            index_load: IndexLoad::Loaded,
        };
        match read_index(&known.index_path) {
            Ok((g, index)) if g == generation => known.index = index,
            Ok((g, _)) => {
                known
                    .rebuild(format!(
                        "index generation {g}, store generation {generation}"
                    ))
                    .await?
            }
            Err(e) => known.rebuild(e).await?,
        }
        Ok(known)
    }

    /// Brings the index up to date when the store changed since it was
    /// loaded (another process imported a list): reloads the saved index if
    /// it is of the store's generation, else rebuilds it.
    pub async fn refresh(&mut self) -> Result<(), StoreError> {
        let generation = self.store.generation().await?;
        if generation == self.generation {
            return Ok(());
        }
        match read_index(&self.index_path) {
            Ok((g, index)) if g == generation => {
                self.index = index;
                self.generation = g;
                Ok(())
            }
            _ => {
                self.rebuild(format!("the store moved to generation {generation}"))
                    .await
            }
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn index(&self) -> &KnownIndex {
        &self.index
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Rebuilds the index from every stored entry and saves it.
    pub async fn rebuild(&mut self, why: String) -> Result<(), StoreError> {
        let generation = self.store.generation().await?;
        let mut index = KnownIndex::default();
        let mut after = 0;
        loop {
            let page = self.store.entries_page(None, after, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            // Ids within a page need not be consecutive: add one by one.
            for e in &page {
                add_to_index(&mut index, e.id, std::slice::from_ref(&e.entry))?;
            }
        }
        write_index(&self.index_path, generation, &index)?;
        self.index = index;
        self.generation = generation;
        self.index_load = IndexLoad::Rebuilt(why);
        Ok(())
    }

    pub async fn lists(&self) -> Result<Vec<ListInfo>, StoreError> {
        self.store.lists().await
    }

    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<ListInfo, StoreError> {
        self.store.set_enabled(name, enabled).await
    }

    /// Imports a list read from `reader` (on a blocking thread, streaming).
    /// `on_reject` sees every skipped record, in input order.
    pub async fn import<R: BufRead + Send + 'static>(
        &mut self,
        reader: R,
        opts: ImportOptions,
        new: NewList,
        now: Timestamp,
        mut on_reject: impl FnMut(RecordError) + Send + 'static,
    ) -> Result<ImportReport, StoreError> {
        let (tx, mut rx) = mpsc::channel::<Feed>(4);
        let reader_task = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let mut closed = false;
            let result = tiaki_formats::import(reader, &opts, |item| {
                match item {
                    Ok(e) => {
                        batch.push(e);
                        if batch.len() >= BATCH
                            && tx
                                .blocking_send(Feed::Entries(std::mem::take(&mut batch)))
                                .is_err()
                        {
                            closed = true;
                            return ControlFlow::Break(());
                        }
                    }
                    Err(e) => on_reject(e),
                }
                ControlFlow::Continue(())
            });
            if closed {
                return;
            }
            let end = match result {
                Ok(summary) => {
                    if !batch.is_empty() && tx.blocking_send(Feed::Entries(batch)).is_err() {
                        return;
                    }
                    Feed::End(Box::new(summary))
                }
                Err(e) => Feed::Failed(e),
            };
            // The receiver may be gone after a database error; that error is reported instead.
            let _ = tx.blocking_send(end);
        });

        let before = self.generation;
        let Known { store, index, .. } = self;
        let mut low_quality = 0u64;
        let mut index_error = None;
        let result = store
            .import_list(&new, &now, &mut rx, &mut |first, batch| match add_to_index(
                index, first, batch,
            ) {
                Ok(n) => low_quality += n,
                Err(e) => index_error = Some(e),
            })
            .await;
        // Unblocks the reader thread if the store stopped early.
        drop(rx);
        reader_task
            .await
            .map_err(|e| StoreError::Corrupt(format!("list reader failed: {e}")))?;
        let imported = match (result, index_error) {
            (Ok(i), None) => i,
            (Ok(_), Some(e)) => {
                // Committed, but the in-memory index is incomplete: rebuild.
                self.rebuild(format!("index update failed: {e}")).await?;
                return Err(e);
            }
            (Err(e), _) => {
                // The in-memory index may hold rolled-back entries: go back to the file.
                self.reload().await?;
                return Err(e);
            }
        };
        if imported.generation == before + 1 {
            write_index(&self.index_path, imported.generation, &self.index)?;
            self.generation = imported.generation;
        } else {
            // Another writer changed the entries since we loaded the index.
            self.rebuild(format!(
                "store generation moved from {before} to {}",
                imported.generation
            ))
            .await?;
        }
        Ok(ImportReport {
            list: new.name,
            format: imported.summary.meta.format.name().to_string(),
            entries: imported.entries,
            rejected: imported.summary.rejected,
            deleted: imported.summary.deleted,
            low_quality,
            generation: imported.generation,
        })
    }

    /// Reloads the index from its file (rebuilding if that is stale).
    async fn reload(&mut self) -> Result<(), StoreError> {
        let generation = self.store.generation().await?;
        match read_index(&self.index_path) {
            Ok((g, index)) if g == generation => {
                self.index = index;
                self.generation = g;
                Ok(())
            }
            Ok(_) => {
                self.rebuild("index stale after a failed import".into())
                    .await
            }
            Err(e) => self.rebuild(e).await,
        }
    }

    /// Writes list `name` as a VICS 2.0 `#Media` document; `profile` maps
    /// categories into that scheme, else codes are written as imported.
    pub async fn export(
        &self,
        name: &str,
        profile: Option<CategoryScheme>,
        out: impl Write,
    ) -> Result<ExportSummary, StoreError> {
        let list = self.store.list(name).await?;
        let header_scheme = list
            .category_scheme
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(CategoryScheme::VicsDefault);
        let opts = ExportOptions {
            map_to: profile,
            header_scheme,
            ..ExportOptions::default()
        };
        let mut w = VicsWriter::new(out, opts).map_err(StoreError::Export)?;
        let mut after = 0;
        loop {
            let page = self.store.entries_page(Some(list.id), after, 5_000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for e in &page {
                w.write_entry(&e.entry).map_err(StoreError::Export)?;
            }
        }
        w.finish().map_err(StoreError::Export)
    }

    /// Prepares matching: which lists count, at which radius.
    pub async fn matcher(&self, opts: &MatchOptions) -> Result<Matcher, StoreError> {
        let all = self.store.lists().await?;
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
            for e in self.store.entry_ids_of_list(id).await? {
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

    /// [`find`](Self::find) for many probes: the index is searched for each
    /// (in parallel), then the entries hit are read from the store once.
    pub async fn find_many(
        &self,
        m: &Matcher,
        probes: &[Probe],
    ) -> Result<Vec<Vec<Hit>>, StoreError> {
        use rayon::prelude::*;
        let candidates: Vec<HashMap<EntryId, Candidate>> =
            probes.par_iter().map(|p| self.candidates(m, p)).collect();
        let mut ids: Vec<EntryId> = candidates
            .iter()
            .flat_map(|c| c.keys().copied())
            .filter(|id| !m.negative_entries.contains_key(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let entries = self.store.entries_by_ids(&ids).await?;
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

    /// The index's answer for one probe: per entry, the best way it was hit.
    fn candidates(&self, m: &Matcher, probe: &Probe) -> HashMap<EntryId, Candidate> {
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
            for id in self.index.digests.get(d) {
                offer(id, (MatchKind::Exact, 0, None));
            }
        }
        if let Some(v) = &probe.pdq {
            if probe.all_variants {
                for hit in self.index.pdq.query_dihedral(v, m.radius) {
                    offer(hit.id, (MatchKind::Pdq, hit.distance, Some(hit.variant)));
                }
            } else {
                for hit in self.index.pdq.query(&v[0], m.radius) {
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
        let mut frames: Vec<PdqHash> = probe.vpdq.clone();
        frames.sort();
        frames.dedup();
        let mut per_entry: HashMap<EntryId, (usize, u32)> = HashMap::new();
        for f in &frames {
            let mut seen: HashMap<EntryId, u32> = HashMap::new();
            for hit in self.index.pdq.query(f, m.radius) {
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
        best
    }

    /// The negative-list rule of the crate docs.
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
                .index
                .digests
                .get(d)
                .iter()
                .any(|id| m.negative_entries.contains_key(id))
            {
                return true;
            }
        }
        if let Some(p) = e.pdq {
            for hit in self.index.pdq.query(&p.hash, m.negative_radius) {
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

/// What to look up.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub digests: Vec<Digest>,
    /// The eight dihedral variants of a PDQ hash, in [`Dihedral::ALL`] order.
    pub pdq: Option<[PdqHash; 8]>,
    /// vPDQ frames (quality ≥ 50 only; the caller filters).
    pub vpdq: Vec<PdqHash>,
    /// Search all eight variants of `pdq` (else only the first, `orig`).
    pub all_variants: bool,
}

/// How an entry was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    Exact,
    Pdq,
    Vpdq,
}

/// One match, as `tiaki lookup` and `tiaki match` print it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hit {
    pub list: String,
    pub entry: EntryId,
    pub kind: MatchKind,
    pub distance: u32,
    pub variant: Option<&'static str>,
    #[serde(skip)]
    pub list_id: i64,
}

/// How an entry was hit: kind, distance, dihedral variant.
type Candidate = (MatchKind, u32, Option<Dihedral>);

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

/// The eight dihedral variants of a PDQ hash computed on its bits: each bit
/// is a DCT coefficient compared with the median, so a transform moves bits
/// exactly as [`Dihedral::apply`] moves coefficients, and a sign change
/// inverts the bit. Transposition is exact; variants with a sign change are
/// exact when the median is 0 and close otherwise (the image-level variants
/// of `tiaki match` are exact always).
///
/// Computed on the 16 rows of 16 bits (row `i` is DCT row `i`): every
/// variant is the rows or their transpose with some bits inverted. An
/// ingest asks this for every distinct hash (hundreds of thousands); the
/// coefficient-level path through [`Dihedral::apply`] was 6 % of it. The
/// tests check both agree.
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

/// Whether a frame quality enters the index and queries.
pub fn usable_quality(quality: u8) -> bool {
    quality >= QUALITY_THRESHOLD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: u64) -> PdqHash {
        // Spread bits so distinct i are far apart.
        let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        PdqHash([x, x.rotate_left(17) ^ 0x5555, !x, x.rotate_left(40)])
    }

    fn pdq_text(ids: std::ops::Range<u64>) -> String {
        ids.map(|i| format!("{},100\n", h(i).to_hex())).collect()
    }

    fn new(name: &str) -> NewList {
        NewList {
            name: name.into(),
            ..NewList::default()
        }
    }

    async fn import_text(
        k: &mut Known,
        name: &str,
        text: String,
    ) -> Result<ImportReport, StoreError> {
        k.import(
            std::io::Cursor::new(text.into_bytes()),
            ImportOptions::default(),
            new(name),
            Timestamp::from_unix(0),
            |_| {},
        )
        .await
    }

    async fn exact(k: &Known, q: PdqHash) -> Vec<EntryId> {
        let m = k
            .matcher(&MatchOptions {
                radius: Some(0),
                lists: vec![],
            })
            .await
            .unwrap();
        k.find(
            &m,
            &Probe {
                pdq: Some([q; 8]),
                ..Probe::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .map(|h| h.entry)
        .collect()
    }

    #[tokio::test]
    async fn import_is_incremental_persisted_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let mut k = Known::open(dir.path()).await.unwrap();
        assert!(
            matches!(k.index_load, IndexLoad::Rebuilt(_)),
            "no index file yet"
        );
        // More than one batch, so ids span batches.
        let r = import_text(&mut k, "a", pdq_text(0..(BATCH as u64 + 10)))
            .await
            .unwrap();
        assert_eq!((r.entries, r.generation), (BATCH as u64 + 10, 1));
        let r = import_text(&mut k, "b", pdq_text(10_000..10_005))
            .await
            .unwrap();
        assert_eq!(r.generation, 2);
        assert_eq!(exact(&k, h(3)).await, vec![4]);
        assert_eq!(exact(&k, h(10_004)).await, vec![BATCH as u64 + 15]);
        assert_eq!(k.index().pdq.len(), BATCH + 15);

        // A document-level failure rolls everything back.
        let broken = "{\"@odata.context\":\"x/2.0.xml/US/$metadata#Media\",\"value\":[{\"MD5\":\"00000000000000000000000000000001\"},".to_string();
        assert!(import_text(&mut k, "c", broken).await.is_err());
        assert_eq!(k.lists().await.unwrap().len(), 2);
        assert_eq!(k.generation(), 2);
        assert!(matches!(
            import_text(&mut k, "a", pdq_text(0..1)).await,
            Err(StoreError::ListExists(_))
        ));
        drop(k);

        // Reopened: the saved index is used as is.
        let k = Known::open(dir.path()).await.unwrap();
        assert_eq!(k.index_load, IndexLoad::Loaded);
        assert_eq!(exact(&k, h(10_004)).await, vec![BATCH as u64 + 15]);
        assert_eq!(k.index().pdq.len(), BATCH + 15);
    }

    #[tokio::test]
    async fn low_quality_is_stored_but_not_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let mut k = Known::open(dir.path()).await.unwrap();
        let text = format!("{},10\n{},90\n", h(1).to_hex(), h(2).to_hex());
        let r = import_text(&mut k, "q", text).await.unwrap();
        assert_eq!((r.entries, r.low_quality), (2, 1));
        assert!(exact(&k, h(1)).await.is_empty());
        assert_eq!(exact(&k, h(2)).await, vec![2]);
    }

    #[tokio::test]
    async fn vpdq_frames_match_as_vpdq() {
        let dir = tempfile::tempdir().unwrap();
        let mut k = Known::open(dir.path()).await.unwrap();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../formats/tests/data/vpdq/chair-20-sd-bar.seconds_per_hash_1.txt"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let opts = ImportOptions {
            format: Some(tiaki_formats::Format::VpdqText),
            ..ImportOptions::default()
        };
        let r = k
            .import(
                std::io::Cursor::new(text.clone().into_bytes()),
                opts.clone(),
                new("v"),
                Timestamp::from_unix(0),
                |_| {},
            )
            .await
            .unwrap();
        assert_eq!(r.entries, 1, "one video is one entry");
        let frames = tiaki_formats::import_all(text.as_bytes(), &opts)
            .unwrap()
            .entries[0]
            .vpdq
            .clone()
            .unwrap();
        let probe = Probe {
            vpdq: frames
                .iter()
                .filter(|f| usable_quality(f.quality))
                .map(|f| f.hash)
                .collect(),
            ..Probe::default()
        };
        let m = k.matcher(&MatchOptions::default()).await.unwrap();
        let hits = k.find(&m, &probe).await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].kind, hits[0].distance, hits[0].entry),
            (MatchKind::Vpdq, 0, 1)
        );
        // A query video sharing only a few frames (3 of 21 unique frames,
        // under py-tx's 80 %) does not match the known video.
        let mut few = probe.vpdq[..3].to_vec();
        few.extend((0..18u64).map(|i| {
            PdqHash([
                i.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                !i,
                i << 7,
                i ^ 0x5555,
            ])
        }));
        let hits = k
            .find(
                &m,
                &Probe {
                    vpdq: few,
                    ..Probe::default()
                },
            )
            .await
            .unwrap();
        assert!(hits.is_empty(), "{hits:?}");
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
            let b = d.apply(&a);
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
