//! [`Known`]: a store joined with the [`KnownIndex`] saved beside it, and
//! the management of known lists through it (import, VICS export, enable,
//! disable). Matching against it is [`crate::matching`].
//!
//! The store (`tiaki_store::ListStore`) keeps the lists and entries; the
//! index is derived from them and lives in a file, so the invariants that
//! join the two live here:
//!
//! * **Entry ids are index ids.** The index holds every stored entry under
//!   its `entries.id`: MD5/SHA-1/SHA-256 in the digest index; the PDQ hash
//!   and every vPDQ frame in the PDQ index, except hashes of quality < 50
//!   (an absent quality counts as 100: lists that carry none were filtered by
//!   their producer).
//! * **Generations.** The store bumps `meta.index_generation` in the same
//!   transaction as every change to `entries`; `known.idx` starts with the
//!   generation it reflects. At open, an index of an older generation is
//!   caught up ([`Known::sync`]); a missing, unreadable or newer one is
//!   rebuilt from the entries, so a crash between commit and index save, or
//!   another process's import, never leaves a stale index in use.
//! * **Catching up, not rebuilding.** Entry ids are never reused and every
//!   deleted id is logged with the generation that deleted it (migration
//!   0012), so an index that reflects generation `G` and holds ids up to
//!   `M` (both in the file's header) is brought to the store's state by
//!   dropping the ids removed after `G` and adding the entries above `M`
//!   ([`Known::sync`]): another process's change, or a file saved a few
//!   changes ago, costs what changed, not a rebuild.
//! * **Imports are atomic and incremental.** A list is read in a streaming
//!   way (batches of [`BATCH`] entries over a bounded channel from a reader
//!   thread), inserted in one transaction and added to the loaded index batch
//!   by batch; the index is saved only after the commit. A document-level
//!   failure rolls the whole list back; a bad record is reported and skipped.

use std::io::{BufRead, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use tiaki_formats::{
    CategoryScheme, ExportOptions, ExportSummary, ImportOptions, ListEntry, RecordError, VicsWriter,
};
use tiaki_index::{Digest, EntryId, KnownIndex, PdqEntry};
use tiaki_store::{Feed, ListInfo, ListStore, NewList, SqliteStore, Store, StoreError, Timestamp};
use tokio::sync::mpsc;

/// Entries per batch between the reader thread and the database.
pub const BATCH: usize = 2000;

/// First bytes of `known.idx`: magic, then the generation (u64 LE), the
/// highest entry id the index holds (u64 LE), zero padding to [`HEADER`]
/// bytes, then the [`KnownIndex`] file. (The `X1` files had a 16-byte
/// header and index format 1, the `X2` files no highest id; they are
/// rebuilt.)
const MAGIC: &[u8; 8] = b"TIAKIKX3";

/// Header length: 64 bytes, so the index's 64-byte aligned arrays are
/// aligned in the memory-mapped file too (then used in place, not copied).
const HEADER: usize = 64;

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
    /// The highest entry id the index reflects: entries above it were added
    /// after `generation` (ids are never reused).
    max_id: EntryId,
    /// What happened to the index at open.
    pub index_load: IndexLoad,
}

/// What [`Known::sync`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Synced {
    /// Index rows dropped (digests and PDQ hashes of the removed entries).
    pub removed: u64,
    /// Entries added.
    pub added: u64,
    /// The generation the index now reflects (0: it did not move).
    pub generation: u64,
    /// The store's generation went back and the index was rebuilt.
    pub rebuilt: bool,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Reads `known.idx`: its generation, highest entry id and index.
/// The file is memory-mapped ([`KnownIndex::load_path_after_header`]):
/// opening costs its checksum and validation, not a copy.
pub(crate) fn read_index(path: &Path) -> Result<(u64, EntryId, KnownIndex), String> {
    let mut head = [0u8; HEADER];
    let index = match KnownIndex::load_path_after_header(path, &mut head) {
        Ok(index) if head.get(..8) == Some(MAGIC.as_slice()) => index,
        Ok(_) => return Err("not a Tiaki index file of this version".into()),
        Err(e) => return Err(e.to_string()),
    };
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(head.get(at..at + 8).unwrap_or(&[0; 8]));
        u64::from_le_bytes(w)
    };
    Ok((word(8), word(16), index))
}

/// Writes `known.idx` atomically (temporary file, sync, rename), as
/// [`KnownIndex::save_path`] does, with the generation header in front.
pub(crate) fn write_index(
    path: &Path,
    generation: u64,
    max_id: EntryId,
    index: &KnownIndex,
) -> Result<(), StoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let file = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut head = [0u8; HEADER];
    head[..8].copy_from_slice(MAGIC);
    head[8..16].copy_from_slice(&generation.to_le_bytes());
    head[16..24].copy_from_slice(&max_id.to_le_bytes());
    w.write_all(&head).map_err(io_err(&tmp))?;
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
    // MIH tables are built once, before the index is saved (`build_tables`).
    let report = index.pdq.extend_bulk(pdq)?;
    Ok(report.low_quality.len() as u64)
}

impl<S: ListStore> Known<S> {
    /// Joins `store` and the index at `index_path`: an index of an older
    /// generation is caught up ([`Known::sync`]); a missing, unreadable or
    /// newer one is rebuilt.
    pub async fn with_store(store: S, index_path: PathBuf) -> Result<Known<S>, StoreError> {
        let generation = store.generation().await?;
        let mut known = Known {
            store,
            index_path,
            index: KnownIndex::default(),
            generation,
            max_id: 0,
            index_load: IndexLoad::Loaded,
        };
        match read_index(&known.index_path) {
            Ok((g, max_id, index)) if g <= generation => {
                known.index = index;
                known.generation = g;
                known.max_id = max_id;
                if g < generation {
                    known.sync().await?;
                }
            }
            Ok((g, _, _)) => {
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
    /// loaded (another process imported or deleted entries): [`Known::sync`].
    pub async fn refresh(&mut self) -> Result<(), StoreError> {
        self.sync().await.map(drop)
    }

    /// Catches the in-memory index up with the store without a rebuild:
    /// when the store's generation moved, drops the entries removed since
    /// (the removal log) and adds the entries above the highest id held, in
    /// place. Costs a generation read when nothing changed. (A store whose
    /// generation went back, a restored backup, is rebuilt from.) The file
    /// is not written: [`Known::save_index`].
    pub async fn sync(&mut self) -> Result<Synced, StoreError> {
        let generation = self.store.generation().await?;
        if generation == self.generation {
            return Ok(Synced::default());
        }
        if generation < self.generation {
            self.rebuild(format!(
                "the store went back from generation {} to {generation}",
                self.generation
            ))
            .await?;
            return Ok(Synced {
                rebuilt: true,
                ..Synced::default()
            });
        }
        // The generation is read first: whatever is read below is at least
        // that new, and reapplying a newer change later is a no-op (a removed
        // id is gone, an added one is below `max_id`).
        let removed = self.store.removed_since(self.generation).await?;
        let mut out = Synced::default();
        if !removed.is_empty() {
            out.removed = self.index.digests.remove_ids(removed.iter().copied()) as u64
                + self.index.pdq.remove_ids(removed.iter().copied()) as u64;
        }
        let mut after = self.max_id;
        loop {
            let page = self.store.entries_page(None, after, 10_000).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for e in &page {
                add_to_index(&mut self.index, e.id, std::slice::from_ref(&e.entry))?;
            }
            out.added += page.len() as u64;
        }
        self.index.pdq.build_tables()?;
        self.max_id = after;
        self.generation = generation;
        out.generation = generation;
        Ok(out)
    }

    /// Writes the index file (MIH tables built first): the server saves it
    /// now and then and at shutdown; a file a few changes old is caught up
    /// at the next open.
    pub fn save_index(&mut self) -> Result<(), StoreError> {
        self.index.pdq.build_tables()?;
        write_index(&self.index_path, self.generation, self.max_id, &self.index)
    }

    /// Entry `id`, committed by this process at `generation`, into the
    /// index in place; if another change came between, [`Known::sync`]
    /// (which reads it too).
    pub(crate) async fn added(
        &mut self,
        id: EntryId,
        entry: &ListEntry,
        generation: u64,
    ) -> Result<(), StoreError> {
        if generation == self.generation + 1 && id > self.max_id {
            add_to_index(&mut self.index, id, std::slice::from_ref(entry))?;
            self.index.pdq.build_tables()?;
            self.max_id = id;
            self.generation = generation;
            Ok(())
        } else {
            self.sync().await.map(drop)
        }
    }

    /// Entries `ids`, deleted by this process at `generation`, out of the
    /// index; if another change came between, [`Known::sync`].
    pub(crate) async fn removed(
        &mut self,
        ids: &[EntryId],
        generation: u64,
    ) -> Result<(), StoreError> {
        if generation == self.generation + 1 {
            self.index.digests.remove_ids(ids.iter().copied());
            self.index.pdq.remove_ids(ids.iter().copied());
            self.generation = generation;
            Ok(())
        } else {
            self.sync().await.map(drop)
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

    /// The highest entry id the index reflects.
    pub fn max_id(&self) -> EntryId {
        self.max_id
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
        index.pdq.build_tables()?;
        write_index(&self.index_path, generation, after, &index)?;
        self.index = index;
        self.generation = generation;
        self.max_id = after;
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
        let n = new.name.chars().count();
        if n == 0 || n > 200 || new.name.chars().any(char::is_control) {
            return Err(StoreError::BadListName(new.name));
        }
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
        let mut last_id = None;
        let result = store
            .import_list(&new, &now, &mut rx, &mut |first, batch| {
                last_id = (first + batch.len() as u64).checked_sub(1);
                match add_to_index(index, first, batch) {
                    Ok(n) => low_quality += n,
                    Err(e) => index_error = Some(e),
                }
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
            self.max_id = self.max_id.max(last_id.unwrap_or(0));
            self.generation = imported.generation;
            self.save_index()?;
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
            Ok((g, max_id, index)) if g == generation => {
                self.index = index;
                self.generation = g;
                self.max_id = max_id;
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
}

#[cfg(test)]
mod tests {
    use tiaki_hash::pdq::PdqHash;

    use super::*;
    use crate::matching::{MatchKind, MatchOptions, Probe, usable_quality};

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
}
