//! Streaming readers and writers for the hash-list formats of known media.
//!
//! Lists arrive as Project VIC VICS JSON (1.x and 2.0), INTERPOL ICSE or
//! generic CSV, one PDQ hash a line, vPDQ video hashes, or NCMEC Hash Sharing
//! XML (spec/formats.md). Every reader turns its format into the same neutral
//! [`ListEntry`]; [`export::VicsWriter`] writes any list back as a VICS 2.0
//! `#Media` document.
//!
//! Design rules, and why:
//!
//! * **Pure and streaming.** Readers take a [`std::io::BufRead`] and hand
//!   each entry to a sink callback before reading the next, so a 500 MB list
//!   needs memory for one record, not for the file. No reader opens files;
//!   the store and CLI own I/O and transactions.
//! * **Lenient where real exports are sloppy** (byte-order marks, booleans and
//!   sizes as strings, unknown fields): unknown or unparsable non-hash fields
//!   are kept verbatim in [`ListEntry::extra`].
//! * **Strict on hashes, per record.** A malformed hash rejects only its record:
//!   the sink receives `Err(RecordError)` with the record's position (line;
//!   line/column; record index, byte offset and JSON path) and the import goes
//!   on. Only a document-level failure (not the format at all, truncated,
//!   unreadable) ends it, as an [`ImportError`] that still says how many
//!   entries were delivered before.
//! * **Never panics** on any input (property-tested with random and mutated
//!   bytes for every reader).
//! * **Category codes are not interpreted without their scheme** (VICS US 1 is
//!   not DHS 1): see [`category`].
//!
//! ```
//! use std::ops::ControlFlow;
//! use tiaki_formats::{import, ImportOptions, Format};
//!
//! let text = "# two PDQ hashes\n\
//!     f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100\n\
//!     not-a-hash\n";
//! let mut good = 0;
//! let mut bad = Vec::new();
//! let summary = import(text.as_bytes(), &ImportOptions::default(), |item| {
//!     match item {
//!         Ok(_entry) => good += 1,
//!         Err(e) => bad.push(e.to_string()),
//!     }
//!     ControlFlow::Continue(())
//! })
//! .unwrap();
//! assert_eq!(summary.meta.format, Format::PdqLines);
//! assert_eq!((good, summary.rejected), (1, 1));
//! assert!(bad[0].starts_with("line 3:"));
//! ```

#![forbid(unsafe_code)]

use std::io::BufRead;
use std::ops::ControlFlow;

pub mod category;
pub mod csv;
pub mod detect;
pub mod error;
pub mod export;
mod fields;
pub mod model;
pub mod ncmec;
pub mod pdq_lines;
pub mod vics;
pub mod vpdq;

/// Longest line the line formats keep: far above any real hash-list line.
const MAX_LINE: usize = 1 << 20;

pub use category::{CategoryClass, CategoryMap, CategoryScheme};
pub use error::{DocumentError, ImportError, Position, RecordError, RecordReason};
pub use export::{ExportOptions, ExportSummary, VicsWriter};
pub use model::{Category, Format, ListEntry, ListMeta, Md5, PdqEntry, Sha1, Sha256};
pub use tiaki_hash::vpdq::VpdqFeature;

/// What a reader hands the sink: an entry, or a record it skipped.
pub type Item = Result<ListEntry, RecordError>;

/// How to read a list.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Force a format instead of detecting one (`--format`).
    pub format: Option<Format>,
    /// The file's name, used as a detection hint and recorded as the source.
    pub file_name: Option<String>,
    /// The list's name, recorded in [`ListMeta::name`].
    pub list_name: Option<String>,
    /// The scheme the file's category codes are under, when the file does not
    /// say (CSV) or says it wrongly. VICS entries exported by this crate with
    /// an explicit `CategoryScheme` keep theirs.
    pub category_scheme: Option<CategoryScheme>,
    /// Also hand deletion notices (NCMEC `deletedImage`/`deletedVideo`) to the
    /// sink, as entries with [`ListEntry::deleted`] set. Off by default so a
    /// caller that ignores the flag never stores a withdrawn entry; they are
    /// counted in [`ImportSummary::deleted`] either way.
    pub include_deleted: bool,
}

/// What an import read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub meta: ListMeta,
    /// Entries handed to the sink as `Ok`.
    pub entries: u64,
    /// Records handed to the sink as `Err` (skipped).
    pub rejected: u64,
    /// Deletion notices seen (handed over only with `include_deleted`).
    pub deleted: u64,
    /// The sink returned `Break` before the end of the input.
    pub stopped: bool,
}

/// Reads a list, detecting its format unless [`ImportOptions::format`] says,
/// and calls `sink` once per entry or rejected record, in input order.
/// Return `ControlFlow::Break(())` from the sink to stop early.
pub fn import<R: BufRead>(
    reader: R,
    opts: &ImportOptions,
    mut sink: impl FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    let sink: &mut dyn FnMut(Item) -> ControlFlow<()> = &mut sink;
    match opts.format {
        Some(f) => read_as(f, reader, opts, sink),
        None => {
            let (format, reader) = detect::detect(reader, opts.file_name.as_deref())
                .map_err(ImportError::before_any)?;
            read_as(format, reader, opts, sink)
        }
    }
}

fn read_as<R: BufRead>(
    format: Format,
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    match format {
        Format::Vics => vics::read(reader, opts, sink),
        Format::IcseCsv | Format::Csv => csv::read(reader, format, opts, sink),
        Format::PdqLines => pdq_lines::read(reader, opts, sink),
        Format::VpdqText => vpdq::read_text(reader, opts, sink),
        Format::VpdqJson => vpdq::read_json(reader, opts, sink),
        Format::NcmecXml => ncmec::read(reader, opts, sink),
    }
}

/// Everything a (small) list holds, collected: for tests and small files.
/// Prefer [`import`] for anything that may be large.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    pub entries: Vec<ListEntry>,
    pub errors: Vec<RecordError>,
    pub summary: ImportSummary,
}

/// [`import`] into memory.
pub fn import_all<R: BufRead>(reader: R, opts: &ImportOptions) -> Result<Collected, ImportError> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    let summary = import(reader, opts, |item| {
        match item {
            Ok(e) => entries.push(e),
            Err(e) => errors.push(e),
        }
        ControlFlow::Continue(())
    })?;
    Ok(Collected {
        entries,
        errors,
        summary,
    })
}

/// Counts what goes to the sink and remembers a stop request; shared by all
/// readers so the summaries agree.
pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn FnMut(Item) -> ControlFlow<()>,
    include_deleted: bool,
    pub(crate) entries: u64,
    pub(crate) rejected: u64,
    pub(crate) deleted: u64,
    pub(crate) stopped: bool,
}

impl<'s> Emitter<'s> {
    pub(crate) fn new(
        sink: &'s mut dyn FnMut(Item) -> ControlFlow<()>,
        include_deleted: bool,
    ) -> Self {
        Emitter {
            sink,
            include_deleted,
            entries: 0,
            rejected: 0,
            deleted: 0,
            stopped: false,
        }
    }

    pub(crate) fn entry(&mut self, e: ListEntry) -> ControlFlow<()> {
        if e.deleted {
            self.deleted += 1;
            if !self.include_deleted {
                return ControlFlow::Continue(());
            }
        } else {
            self.entries += 1;
        }
        self.push(Ok(e))
    }

    pub(crate) fn reject(&mut self, e: RecordError) -> ControlFlow<()> {
        self.rejected += 1;
        self.push(Err(e))
    }

    fn push(&mut self, item: Item) -> ControlFlow<()> {
        let flow = (self.sink)(item);
        if flow.is_break() {
            self.stopped = true;
        }
        flow
    }

    pub(crate) fn fail(&self, error: DocumentError) -> ImportError {
        ImportError {
            error,
            entries: self.entries,
            rejected: self.rejected,
        }
    }

    pub(crate) fn finish(self, meta: ListMeta) -> ImportSummary {
        ImportSummary {
            meta,
            entries: self.entries,
            rejected: self.rejected,
            deleted: self.deleted,
            stopped: self.stopped,
        }
    }
}
