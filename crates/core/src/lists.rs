//! `lists import` as one operation that a crash cannot leave half done:
//! import the list (one transaction, [`Known::import`]), then match the
//! media of earlier intakes against it ([`crate::rematch`]).
//!
//! A run killed before the commit stored nothing, and running the same
//! command again imports the list. A run killed after the commit (during
//! the matching, or before the index file was saved) left the list stored:
//! running the same command again finds the list by its name and the
//! SHA-256 of its file, imports nothing, and matches again (matching stores
//! only the matches not stored before, so it may run any number of times).
//! The index file is joined to the store by generation ([`crate::known`]),
//! so a kill between the commit and its save is repaired when the store is
//! next opened. Another file under a taken name is refused, as before.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tiaki_formats::{ImportOptions, RecordError};
use tiaki_store::{IntakeStore, ListInfo, ListStore, NewList, Timestamp};

use crate::Progress;
use crate::error::CoreError;
use crate::known::{ImportReport, Known};
use crate::rematch::{RematchReport, rematch};

/// Bytes read from the list file between progress steps.
const CHUNK: usize = 1 << 20;

/// What `lists import` did.
#[derive(Debug, Clone)]
pub enum ListImport {
    /// The list was imported and earlier intakes matched against it.
    Imported {
        report: ImportReport,
        rematch: RematchReport,
    },
    /// The same file was imported under this name before (a run that
    /// stopped after its commit): nothing imported, earlier intakes matched
    /// again.
    AlreadyImported {
        list: ListInfo,
        rematch: RematchReport,
    },
}

/// Imports the list in `path` as `new` (its `file_sha256` is set here),
/// then matches earlier intakes against it; see the module docs for what a
/// second run does. Progress: `hashing`, `importing` (bytes of the file,
/// both), then `matching`.
pub async fn import_list_file<S>(
    known: &mut Known<S>,
    path: &Path,
    opts: ImportOptions,
    mut new: NewList,
    now: Timestamp,
    progress: Arc<dyn Progress>,
    on_reject: impl FnMut(RecordError) + Send + 'static,
) -> Result<ListImport, CoreError>
where
    S: ListStore + IntakeStore + Clone + 'static,
{
    let io = |source| CoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    progress.stage("hashing", Some(size));
    let sha256 = file_sha256(path, progress.as_ref()).map_err(io)?;
    let existing = known
        .lists()
        .await?
        .into_iter()
        .find(|l| l.name == new.name);
    if let Some(list) = existing
        && list.file_sha256.as_deref() == Some(sha256.as_str())
    {
        progress.stage("matching", None);
        let rematch = rematch(known, std::slice::from_ref(&list.name), true).await?;
        return Ok(ListImport::AlreadyImported { list, rematch });
    }
    new.file_sha256 = Some(sha256);
    let file = std::fs::File::open(path).map_err(io)?;
    progress.stage("importing", Some(size));
    let reader = Counted {
        inner: BufReader::with_capacity(CHUNK, file),
        progress: Arc::clone(&progress),
    };
    let report = known.import(reader, opts, new, now, on_reject).await?;
    progress.stage("matching", None);
    let rematch = rematch(known, std::slice::from_ref(&report.list), true).await?;
    Ok(ListImport::Imported { report, rematch })
}

/// The SHA-256 of a file, in hex, read in chunks.
fn file_sha256(path: &Path, progress: &dyn Progress) -> std::io::Result<String> {
    let mut h = Sha256::new();
    tiaki_types::chunks::for_each_chunk(&mut std::fs::File::open(path)?, CHUNK, |c| {
        h.update(c);
        progress.inc(c.len() as u64);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(tiaki_types::hex::encode(&h.finalize()))
}

/// A reader that reports the bytes consumed from it.
struct Counted<R> {
    inner: R,
    progress: Arc<dyn Progress>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.progress.inc(n as u64);
    }
}
