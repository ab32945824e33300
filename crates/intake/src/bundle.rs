//! Reading a provider-report/1 bundle (spec/provider-report.md).
//!
//! [`Bundle::open`] does everything that can reject the bundle whole
//! (extraction, manifest, required files, `files_sha256`); afterwards the
//! record iterators only ever produce per-line errors. Reading order is
//! accounts, then media (which needs every account id), then events; each
//! iterator re-reads its file from the start, so the same bundle always
//! yields the same records and errors in the same order — ingest resumes
//! after a crash by reading again and skipping what it already stored.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::archive::{self, Limits};
use crate::error::{BundleError, LineError, LineErrorKind};
use crate::fields::Obj;
use crate::idset::IdSet;
use crate::manifest;
use crate::model::{Account, Event, Media, Record, ReportHeader};
use crate::records::{self, Rejected};
use tiaki_types::lines::{CappedLines, Line};

pub const MANIFEST: &str = "manifest.json";
pub const ACCOUNTS: &str = "accounts.ndjson";
pub const MEDIA: &str = "media.ndjson";
pub const EVENTS: &str = "events.ndjson";

/// Read buffer per NDJSON file: large enough that the per-call overhead of
/// `read` vanishes.
const READ_BUFFER: usize = 256 * 1024;

/// An opened, checked provider bundle.
#[derive(Debug)]
pub struct Bundle {
    root: PathBuf,
    header: ReportHeader,
    limits: Limits,
    has_events: bool,
    accounts: IdSet,
    /// Whether `accounts` holds every id of accounts.ndjson.
    accounts_complete: bool,
    media: IdSet,
}

impl std::fmt::Debug for IdSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdSet({} ids)", self.len())
    }
}

impl Bundle {
    /// Opens a bundle: a directory, or a `.zip` / `.tar` / `.tar.gz` /
    /// `.tar.zst` of one (recognised by content), which is first extracted
    /// safely into `staging` (created if absent; must be empty). The bundle
    /// may be the archive root or its single top-level directory.
    ///
    /// Rejects the bundle whole if extraction is refused, the manifest is
    /// missing or invalid, accounts.ndjson or media.ndjson is missing, or a
    /// file listed in `files_sha256` does not match.
    pub fn open(path: &Path, staging: &Path, limits: &Limits) -> Result<Bundle, BundleError> {
        let meta = fs::metadata(path).map_err(|e| BundleError::io(path, e))?;
        let top = if meta.is_dir() {
            path.to_path_buf()
        } else {
            let sniffed = archive::sniff(path).map_err(|e| BundleError::io(path, e))?;
            // Old (pre-POSIX) tar files carry no magic: trust the name then.
            let by_name = path
                .extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("tar"))
                .then_some(archive::ArchiveKind::Tar);
            match sniffed.or(by_name) {
                Some(kind) => {
                    archive::extract(path, kind, staging, limits)?;
                    staging.to_path_buf()
                }
                None => {
                    return Err(BundleError::NotABundle {
                        path: path.to_path_buf(),
                        reason: "neither a directory nor a .zip, .tar, .tar.gz or .tar.zst archive"
                            .into(),
                    });
                }
            }
        };
        let root = find_root(&top)?;
        let root = fs::canonicalize(&root).map_err(|e| BundleError::io(&root, e))?;
        let mut bundle = Bundle {
            root,
            header: manifest::empty_header(),
            limits: limits.clone(),
            has_events: false,
            accounts: IdSet::default(),
            accounts_complete: false,
            media: IdSet::default(),
        };
        let manifest_path =
            bundle
                .resolve_file(MANIFEST)
                .map_err(|reason| BundleError::Manifest {
                    path: bundle.root.join(MANIFEST),
                    reason,
                })?;
        let parsed = manifest::read(&manifest_path, limits.max_manifest_bytes)?;
        for name in [ACCOUNTS, MEDIA] {
            if bundle.resolve_file(name).is_err() {
                return Err(BundleError::MissingFile {
                    path: bundle.root.clone(),
                    name,
                });
            }
        }
        bundle.has_events = bundle.resolve_file(EVENTS).is_ok();
        for (file, expected) in &parsed.files_sha256 {
            let p = bundle
                .resolve_file(file)
                .map_err(|reason| BundleError::ChecksumFile {
                    file: file.clone(),
                    reason,
                })?;
            let actual = sha256_file(&p).map_err(|e| BundleError::io(&p, e))?;
            if &actual != expected {
                return Err(BundleError::ChecksumMismatch {
                    file: file.clone(),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        bundle.header = parsed.header;
        Ok(bundle)
    }

    /// The report header from manifest.json.
    pub fn header(&self) -> &ReportHeader {
        &self.header
    }

    /// The bundle's root directory (canonical; inside the staging directory
    /// for archives).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the bundle has an events.ndjson.
    pub fn has_events(&self) -> bool {
        self.has_events
    }

    /// Resolves a `file` path of media.ndjson to a regular file inside the
    /// bundle, or says why it cannot: empty, absolute, containing `..`,
    /// missing, not a regular file, or a symbolic link leading outside.
    pub fn resolve_file(&self, rel: &str) -> Result<PathBuf, String> {
        resolve_inside(&self.root, rel)
    }

    /// The accounts, line by line. Also records every account id, which
    /// [`Bundle::media`] needs; reading again starts afresh.
    pub fn accounts(&mut self) -> AccountReader<'_> {
        self.accounts.clear();
        self.accounts_complete = false;
        let src = Source::open(&self.root, ACCOUNTS, self.limits.max_line_bytes);
        AccountReader { bundle: self, src }
    }

    /// The media items, line by line. If the accounts have not been read to
    /// their end, they are read first (silently: their records and errors
    /// come from [`Bundle::accounts`]).
    pub fn media(&mut self) -> MediaReader<'_> {
        if !self.accounts_complete {
            for _ in self.accounts() {}
        }
        self.media.clear();
        let src = Source::open(&self.root, MEDIA, self.limits.max_line_bytes);
        MediaReader { bundle: self, src }
    }

    /// The events, line by line (none if the bundle has no events.ndjson).
    /// Event references to accounts and media are not checked: they may
    /// name accounts outside the report.
    pub fn events(&self) -> EventReader {
        let src = if self.has_events {
            Source::open(&self.root, EVENTS, self.limits.max_line_bytes)
        } else {
            Source::empty(EVENTS)
        };
        EventReader { src }
    }
}

/// The directory holding manifest.json: `top` itself, or its only
/// directory (archives often wrap the bundle in one folder).
fn find_root(top: &Path) -> Result<PathBuf, BundleError> {
    if top.join(MANIFEST).exists() {
        return Ok(top.to_path_buf());
    }
    let mut dirs = Vec::new();
    let mut others = 0usize;
    for entry in fs::read_dir(top).map_err(|e| BundleError::io(top, e))? {
        let entry = entry.map_err(|e| BundleError::io(top, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Archivers add these beside the real content.
        if name.starts_with('.') || name == "__MACOSX" {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => dirs.push(entry.path()),
            _ => others += 1,
        }
    }
    if let ([only], 0) = (dirs.as_slice(), others)
        && only.join(MANIFEST).exists()
    {
        return Ok(only.clone());
    }
    Err(BundleError::NoManifest {
        path: top.to_path_buf(),
    })
}

/// See [`Bundle::resolve_file`]; shared with the CyberTipline reader.
pub(crate) fn resolve_inside(root: &Path, rel: &str) -> Result<PathBuf, String> {
    if rel.trim().is_empty() {
        return Err("empty path".into());
    }
    let p = Path::new(rel);
    if rel.starts_with('/') || p.is_absolute() {
        return Err(format!(
            "{rel:?} is an absolute path (must be relative to the bundle)"
        ));
    }
    for c in p.components() {
        match c {
            Component::ParentDir => {
                return Err(format!(
                    "{rel:?} contains `..` (must stay inside the bundle)"
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "{rel:?} is an absolute path (must be relative to the bundle)"
                ));
            }
            Component::CurDir | Component::Normal(_) => {}
        }
    }
    let full = root.join(p);
    let real = match fs::canonicalize(&full) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is reported as a link, not as a missing file.
            return Err(match fs::symlink_metadata(&full) {
                Ok(m) if m.file_type().is_symlink() => {
                    format!("{rel:?} is a symbolic link to nothing")
                }
                _ => format!("file not found: {rel:?}"),
            });
        }
        Err(e) => return Err(format!("{rel:?}: {e}")),
    };
    if !real.starts_with(root) {
        return Err(format!(
            "{rel:?} resolves outside the bundle (symbolic link)"
        ));
    }
    match fs::metadata(&real) {
        Ok(m) if m.is_file() => Ok(real),
        Ok(_) => Err(format!("{rel:?} is not a regular file")),
        Err(e) => Err(format!("{rel:?}: {e}")),
    }
}

/// Lower-case hex SHA-256 of a file, streamed.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    tiaki_types::chunks::for_each_chunk(&mut File::open(path)?, READ_BUFFER, |c| {
        h.update(c);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(tiaki_types::hex::encode(&h.finalize()))
}

/// One NDJSON file being read: yields each non-blank line as a JSON object,
/// or the reason it is not one.
struct Source {
    file: &'static str,
    reader: Option<CappedLines<BufReader<File>>>,
    /// An error to yield first (the file could not be opened).
    pending: Option<LineError>,
}

impl Source {
    fn open(root: &Path, file: &'static str, max_line: usize) -> Source {
        match File::open(root.join(file)) {
            Ok(f) => Source {
                file,
                reader: Some(CappedLines::new(
                    BufReader::with_capacity(READ_BUFFER, f),
                    max_line,
                )),
                pending: None,
            },
            Err(e) => Source {
                file,
                reader: None,
                pending: Some(LineError {
                    file: file.to_owned(),
                    line: 0,
                    kind: LineErrorKind::Io,
                    message: format!("cannot open: {e}"),
                }),
            },
        }
    }

    fn empty(file: &'static str) -> Source {
        Source {
            file,
            reader: None,
            pending: None,
        }
    }

    fn error(&self, line: u64, message: String) -> LineError {
        LineError {
            file: self.file.to_owned(),
            line,
            kind: LineErrorKind::Invalid,
            message,
        }
    }

    fn next_object(&mut self) -> Option<Result<(u64, Obj), LineError>> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        let file = self.file;
        let reader = self.reader.as_mut()?;
        loop {
            let (line, text) = match reader.next_line() {
                Ok(None) => {
                    self.reader = None;
                    return None;
                }
                Err(e) => {
                    let line = reader.line_no() + 1;
                    self.reader = None;
                    return Some(Err(LineError {
                        file: file.to_owned(),
                        line,
                        kind: LineErrorKind::Io,
                        message: format!("read failed, rest of file not read: {e}"),
                    }));
                }
                Ok(Some((n, Line::Text(t)))) => (n, t),
                Ok(Some((n, Line::TooLong(t)))) => {
                    let message = format!(
                        "line of {} bytes is longer than the limit of {} bytes",
                        t.bytes, t.cap
                    );
                    return Some(Err(self.error(n, message)));
                }
                Ok(Some((
                    n,
                    Line::BadUtf8 {
                        valid_up_to: at, ..
                    },
                ))) => {
                    return Some(Err(
                        self.error(n, format!("not UTF-8 (bad byte at column {})", at + 1))
                    ));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(o)) => Ok((line, o)),
                Ok(other) => Err(self.error(
                    line,
                    format!(
                        "expected a JSON object, found {}",
                        crate::fields::kind(&other)
                    ),
                )),
                Err(e) => Err(self.error(line, format!("not valid JSON: {e}"))),
            });
        }
    }
}

/// Iterator over accounts.ndjson (see [`Bundle::accounts`]).
pub struct AccountReader<'a> {
    bundle: &'a mut Bundle,
    src: Source,
}

impl std::fmt::Debug for AccountReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountReader")
    }
}

impl Iterator for AccountReader<'_> {
    type Item = Result<Record<Account>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let Some(item) = self.src.next_object() else {
            self.bundle.accounts_complete = true;
            return None;
        };
        let (line, obj) = match item {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let ids = &mut self.bundle.accounts;
        let mut notes = Vec::new();
        Some(match records::account(obj, &mut notes) {
            Ok(account) => match ids.claim(&account.id, line, true) {
                None => Ok(Record {
                    file: ACCOUNTS,
                    line,
                    value: account,
                    notes,
                }),
                Some(first) => Err(self.src.error(
                    line,
                    duplicate("account", &account.id, first.line, first.accepted),
                )),
            },
            Err(Rejected { id, message }) => {
                let message = match id {
                    Some(id) => match ids.claim(&id, line, false) {
                        None => format!("account {id:?}: {message}"),
                        Some(first) => format!(
                            "{}; also: {message}",
                            duplicate("account", &id, first.line, first.accepted)
                        ),
                    },
                    None => message,
                };
                Err(self.src.error(line, message))
            }
        })
    }
}

fn duplicate(what: &str, id: &str, first: u64, accepted: bool) -> String {
    let state = if accepted { "" } else { ", which was rejected" };
    format!("duplicate {what} id {id:?} (first on line {first}{state})")
}

/// Iterator over media.ndjson (see [`Bundle::media`]).
pub struct MediaReader<'a> {
    bundle: &'a mut Bundle,
    src: Source,
}

impl std::fmt::Debug for MediaReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaReader")
    }
}

impl MediaReader<'_> {
    /// Every rule that involves more than the line itself.
    fn check(&self, m: &Media) -> Result<(), String> {
        match self.bundle.accounts.get(&m.account) {
            Some(s) if s.accepted => {}
            Some(s) => {
                return Err(format!(
                    "account {:?} was rejected ({ACCOUNTS} line {})",
                    m.account, s.line
                ));
            }
            None => return Err(format!("account {:?} is not in {ACCOUNTS}", m.account)),
        }
        if let Some(f) = &m.file {
            self.bundle
                .resolve_file(f)
                .map_err(|e| format!("file: {e}"))?;
        }
        Ok(())
    }
}

impl Iterator for MediaReader<'_> {
    type Item = Result<Record<Media>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, obj) = match self.src.next_object()? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let mut notes = Vec::new();
        Some(match records::media(obj, &mut notes) {
            Ok(media) => {
                let verdict = self.check(&media);
                let accepted = verdict.is_ok();
                match (self.bundle.media.claim(&media.id, line, accepted), verdict) {
                    (Some(first), _) => Err(self.src.error(
                        line,
                        duplicate("media", &media.id, first.line, first.accepted),
                    )),
                    (None, Ok(())) => Ok(Record {
                        file: MEDIA,
                        line,
                        value: media,
                        notes,
                    }),
                    (None, Err(why)) => {
                        Err(self.src.error(line, format!("media {:?}: {why}", media.id)))
                    }
                }
            }
            Err(Rejected { id, message }) => {
                let message = match id {
                    Some(id) => match self.bundle.media.claim(&id, line, false) {
                        None => format!("media {id:?}: {message}"),
                        Some(first) => format!(
                            "{}; also: {message}",
                            duplicate("media", &id, first.line, first.accepted)
                        ),
                    },
                    None => message,
                };
                Err(self.src.error(line, message))
            }
        })
    }
}

/// Iterator over events.ndjson (see [`Bundle::events`]).
pub struct EventReader {
    src: Source,
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventReader")
    }
}

impl Iterator for EventReader {
    type Item = Result<Record<Event>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (line, obj) = match self.src.next_object()? {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let mut notes = Vec::new();
        Some(match records::event(obj, &mut notes) {
            Ok(event) => Ok(Record {
                file: EVENTS,
                line,
                value: event,
                notes,
            }),
            Err(r) => Err(self.src.error(line, r.message)),
        })
    }
}
