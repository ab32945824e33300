//! NCMEC CyberTipline `<report>` XML (spec/formats.md §2) as intake.
//!
//! [`CyberTip::open`] takes one report file or a folder of `*.xml` files
//! (not recursive). A folder is read file by file in byte order of the file
//! names, one report in memory at a time. What the reader does with each
//! file depends on its root element:
//!
//! * `<report>`: one [`CyberTipReport`]. Its id is the document's own
//!   `reportId` (attribute or child element) if it has one, else the file
//!   name without `.xml`.
//! * `<fileDetails>`: attached, as a media item, to the report of the same
//!   folder whose id equals its `reportId` (the ESP API's `fileinfo`
//!   documents). One that matches no report is an error for that file.
//!   `<fileDetails>` elements nested directly in a `<report>` are read too.
//! * anything else, or malformed XML: a [`CyberTipError`] naming the file
//!   (and line/column), and the other files are still read.
//!
//! Files: a media item's `file` is the first of
//! `files/<reportId>/<fileId>`, `files/<reportId>/<originalFileName>`,
//! `files/<fileId>`, `files/<originalFileName>` (relative to the folder of
//! the XML) that exists inside that folder. Names with a path separator or
//! `..` are never tried.

mod map;
mod xml;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::bundle::resolve_inside;
use crate::model::{Account, Media, ReportHeader};
use map::Warnings;

/// Why one CyberTipline file was not read.
#[derive(Debug, thiserror::Error)]
pub enum CyberTipError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: malformed XML at line {line}, column {column}: {message}")]
    Xml {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{path}: larger than the limit of {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path}: not a CyberTipline report: {reason}")]
    NotAReport { path: PathBuf, reason: String },
    #[error("{path}: fileDetails for report {report_id:?}, which is not in this folder")]
    OrphanFileDetails { path: PathBuf, report_id: String },
}

/// Options of the CyberTipline reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CyberTipOptions {
    /// The provider name to put in every header. Without it the name is the
    /// reported user's `espService`, else the domain of the reporting
    /// person's e-mail address, else `"unknown reporter"` (the `<report>`
    /// schema has no element for the ESP's own name).
    pub provider_name: Option<String>,
    /// Largest XML file read (a report is kilobytes; this bounds memory).
    pub max_file_bytes: u64,
}

impl Default for CyberTipOptions {
    fn default() -> Self {
        CyberTipOptions {
            provider_name: None,
            max_file_bytes: 64 << 20,
        }
    }
}

/// One CyberTipline report mapped to the intake model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CyberTipReport {
    /// The `<report>` file.
    pub path: PathBuf,
    pub header: ReportHeader,
    /// The reported user(s) (`personOrUserReported`). Intended recipients and
    /// victims are *not* accounts: they stay in `header.extra`.
    pub accounts: Vec<Account>,
    /// One per `<fileDetails>` (nested or from the folder), in document then
    /// file-name order.
    pub media: Vec<Media>,
    /// Values left out of typed fields (kept in `extra`), each naming file
    /// and element.
    pub warnings: Vec<String>,
    #[serde(skip)]
    base: PathBuf,
}

impl CyberTipReport {
    /// Resolves a media `file` (relative to the folder of the report) to a
    /// regular file inside that folder.
    pub fn resolve_file(&self, rel: &str) -> Result<PathBuf, String> {
        resolve_inside(&self.base, rel)
    }
}

#[derive(Debug)]
enum Entry {
    Report { path: PathBuf, id: String },
    FileDetails { path: PathBuf, report_id: String },
    Failed(CyberTipError),
}

/// An opened CyberTipline file or folder; iterate with [`CyberTip::reports`].
#[derive(Debug)]
pub struct CyberTip {
    base: PathBuf,
    entries: Vec<Entry>,
    /// Report id → index of the first report entry with it.
    report_ids: BTreeMap<String, usize>,
    /// Report id → fileDetails files for it, in file-name order.
    details: BTreeMap<String, Vec<PathBuf>>,
    opts: CyberTipOptions,
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, CyberTipError> {
    let f = File::open(path).map_err(|source| CyberTipError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    f.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| CyberTipError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(CyberTipError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

fn xml_error(path: &Path, e: xml::XmlError) -> CyberTipError {
    CyberTipError::Xml {
        path: path.to_path_buf(),
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl CyberTip {
    /// Opens one XML file or a folder of them with default options.
    pub fn open(path: &Path) -> Result<CyberTip, CyberTipError> {
        CyberTip::open_with(path, &CyberTipOptions::default())
    }

    /// Opens one XML file or a folder of them. Only I/O errors on the folder
    /// itself fail here; each file's own problems come from
    /// [`CyberTip::reports`] in file order.
    pub fn open_with(path: &Path, opts: &CyberTipOptions) -> Result<CyberTip, CyberTipError> {
        let io_err = |source| CyberTipError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = fs::metadata(path).map_err(io_err)?;
        let (base, files, single) = if meta.is_dir() {
            let mut files = Vec::new();
            for e in fs::read_dir(path).map_err(io_err)? {
                let e = e.map_err(io_err)?;
                let p = e.path();
                let is_xml = p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml"));
                if is_xml && e.file_type().map_err(io_err)?.is_file() {
                    files.push(p);
                }
            }
            files.sort();
            (path.to_path_buf(), files, false)
        } else {
            let base = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            (base, vec![path.to_path_buf()], true)
        };
        let base = fs::canonicalize(&base).map_err(io_err)?;
        let mut tip = CyberTip {
            base,
            entries: Vec::new(),
            report_ids: BTreeMap::new(),
            details: BTreeMap::new(),
            opts: opts.clone(),
        };
        for p in files {
            let entry = tip.peek(&p, single);
            match &entry {
                Entry::Report { id, .. } => {
                    tip.report_ids
                        .entry(id.clone())
                        .or_insert(tip.entries.len());
                }
                Entry::FileDetails { path, report_id } => tip
                    .details
                    .entry(report_id.clone())
                    .or_default()
                    .push(path.clone()),
                Entry::Failed(_) => {}
            }
            tip.entries.push(entry);
        }
        Ok(tip)
    }

    fn peek(&self, path: &Path, single: bool) -> Entry {
        let bytes = match read_limited(path, self.opts.max_file_bytes) {
            Ok(b) => b,
            Err(e) => return Entry::Failed(e),
        };
        let (root, id) = match xml::peek(&bytes) {
            Ok(x) => x,
            Err(e) => return Entry::Failed(xml_error(path, e)),
        };
        match root.as_str() {
            "report" => Entry::Report {
                path: path.to_path_buf(),
                id: id.unwrap_or_else(|| stem(path)),
            },
            "fileDetails" if single => Entry::Failed(CyberTipError::NotAReport {
                path: path.to_path_buf(),
                reason:
                    "a <fileDetails> document on its own; open the folder that holds its <report>"
                        .into(),
            }),
            "fileDetails" => match id {
                // Checked whole now, so that a broken one is an error of its
                // own file rather than of the report it belongs to.
                Some(_) if let Err(e) = xml::parse(&bytes) => Entry::Failed(xml_error(path, e)),
                Some(report_id) => Entry::FileDetails {
                    path: path.to_path_buf(),
                    report_id,
                },
                None => Entry::Failed(CyberTipError::NotAReport {
                    path: path.to_path_buf(),
                    reason: "<fileDetails> without a reportId".into(),
                }),
            },
            other => Entry::Failed(CyberTipError::NotAReport {
                path: path.to_path_buf(),
                reason: format!("root element is <{other}>, not <report>"),
            }),
        }
    }

    /// Number of `<report>` files found.
    pub fn report_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::Report { .. }))
            .count()
    }

    /// The reports, one at a time, with an error for each file that could
    /// not be read; deterministic (file-name order).
    pub fn reports(&self) -> Reports<'_> {
        Reports { tip: self, next: 0 }
    }

    fn read_report(
        &self,
        index: usize,
        path: &Path,
        id: &str,
    ) -> Result<CyberTipReport, CyberTipError> {
        let bytes = read_limited(path, self.opts.max_file_bytes)?;
        let root = xml::parse(&bytes).map_err(|e| xml_error(path, e))?;
        let display = path.display().to_string();
        let mut w = Warnings {
            file: &display,
            list: Vec::new(),
        };
        let mapped = map::report(
            &root,
            id.to_owned(),
            self.opts.provider_name.as_deref(),
            &mut w,
        );
        let mut accounts = mapped.accounts;
        let mut media = Vec::new();
        let base = self.base.clone();
        let report_id = mapped.header.report_id.clone();
        let mut find = |names: &[String]| find_file(&base, &report_id, names);

        for (i, fd) in root.all("fileDetails").enumerate() {
            let at = format!("fileDetails[{}]", i + 1);
            let fallback = format!("{report_id}#file-{}", media.len() + 1);
            media.push(map::media(
                fd,
                &at,
                &mapped.default_account,
                fallback,
                &mut w,
                &mut find,
            ));
        }
        // Separate fileDetails documents go to the first report with the id.
        if self.report_ids.get(id) == Some(&index) {
            for p in self.details.get(id).map(Vec::as_slice).unwrap_or_default() {
                let fd_bytes = read_limited(p, self.opts.max_file_bytes)?;
                let fd = xml::parse(&fd_bytes).map_err(|e| xml_error(p, e))?;
                let at = format!("{} <fileDetails>", p.display());
                let fallback = format!("{report_id}#file-{}", media.len() + 1);
                media.push(map::media(
                    &fd,
                    &at,
                    &mapped.default_account,
                    fallback,
                    &mut w,
                    &mut find,
                ));
            }
        }
        if !media.is_empty() && accounts.is_empty() {
            // Media need an account; the report names none, so a bare
            // placeholder stands for "the unidentified uploader".
            let mut a = Account {
                id: mapped.default_account.clone(),
                ..Account::default()
            };
            a.extra.insert(
                "note".into(),
                serde_json::Value::from("placeholder: the report names no reported user"),
            );
            accounts.push(a);
        }
        Ok(CyberTipReport {
            path: path.to_path_buf(),
            header: mapped.header,
            accounts,
            media,
            warnings: w.list,
            base: self.base.clone(),
        })
    }
}

/// A plain file name: no separators, not `.`/`..`, not empty.
fn plain_name(n: &str) -> bool {
    !n.is_empty() && n != "." && n != ".." && !n.contains(['/', '\\', '\0'])
}

fn find_file(base: &Path, report_id: &str, names: &[String]) -> Option<String> {
    let mut dirs = Vec::new();
    if plain_name(report_id) {
        dirs.push(format!("files/{report_id}/"));
    }
    dirs.push("files/".to_owned());
    for d in &dirs {
        for n in names.iter().filter(|n| plain_name(n)) {
            let rel = format!("{d}{n}");
            if resolve_inside(base, &rel).is_ok() {
                return Some(rel);
            }
        }
    }
    None
}

/// Iterator over the reports of a [`CyberTip`].
#[derive(Debug)]
pub struct Reports<'a> {
    tip: &'a CyberTip,
    next: usize,
}

impl Iterator for Reports<'_> {
    type Item = Result<CyberTipReport, CyberTipError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let index = self.next;
            let entry = self.tip.entries.get(index)?;
            self.next += 1;
            match entry {
                Entry::Report { path, id } => return Some(self.tip.read_report(index, path, id)),
                Entry::FileDetails { path, report_id } => {
                    if !self.tip.report_ids.contains_key(report_id) {
                        return Some(Err(CyberTipError::OrphanFileDetails {
                            path: path.clone(),
                            report_id: report_id.clone(),
                        }));
                    }
                }
                Entry::Failed(e) => return Some(Err(clone_error(e))),
            }
        }
    }
}

/// Errors are stored at open and handed out by each iteration.
fn clone_error(e: &CyberTipError) -> CyberTipError {
    match e {
        CyberTipError::Io { path, source } => CyberTipError::Io {
            path: path.clone(),
            source: io::Error::new(source.kind(), source.to_string()),
        },
        CyberTipError::Xml {
            path,
            line,
            column,
            message,
        } => CyberTipError::Xml {
            path: path.clone(),
            line: *line,
            column: *column,
            message: message.clone(),
        },
        CyberTipError::TooLarge { path, limit } => CyberTipError::TooLarge {
            path: path.clone(),
            limit: *limit,
        },
        CyberTipError::NotAReport { path, reason } => CyberTipError::NotAReport {
            path: path.clone(),
            reason: reason.clone(),
        },
        CyberTipError::OrphanFileDetails { path, report_id } => CyberTipError::OrphanFileDetails {
            path: path.clone(),
            report_id: report_id.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names() {
        assert!(plain_name("a.jpg"));
        assert!(!plain_name("../a"));
        assert!(!plain_name(".."));
        assert!(!plain_name("a/b"));
    }
}
