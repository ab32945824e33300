//! ICSE hash-list CSV and generic CSV with a header row.
//!
//! ICSE's export (spec/formats.md §3.3) is semicolon separated with the header
//! `MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender
//! identified;Series name;Number of submissions;File Available;Media
//! Type;Baseline`; flags are y/yes/t/true vs n/no/f/false; rows may have more
//! or fewer fields than the header. A generic CSV is the same idea with any
//! delimiter (`,`, `;` or tab, chosen by counting them in the header) and
//! columns named by common aliases, matched ignoring case, spaces and
//! punctuation: `MD5`, `sha-1`, `Series name`, `pdq_quality`…
//!
//! Unmapped columns go to [`ListEntry::extra`] under their header text, and
//! fields beyond the header under `column N`. A header that names no hash
//! column at all is a document-level error: nothing could be imported.
//! Lines starting with `#` are comments.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde_json::Value;

use tiaki_types::fields::{Spellings::Lenient, parse_bool};

use crate::MAX_LINE;
use crate::category::CategoryScheme;
use crate::error::{DocumentError, ImportError, Position, RecordError, RecordReason};
use crate::fields::{self, parse_u64};
use crate::model::{Category, Format, ListEntry, ListMeta, PdqEntry};
use crate::{Emitter, ImportOptions, ImportSummary, Item};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Md5,
    Sha1,
    Sha256,
    Pdq,
    PdqQuality,
    PhotoDna,
    /// A column named just `hash`: the kind follows from the value's length
    /// (32 MD5, 40 SHA-1, 64 PDQ when the file has a quality column, else
    /// SHA-256).
    AnyHash,
    Category,
    CategoryScheme,
    Series,
    SourceId,
    VictimIdentified,
    OffenderIdentified,
    Distributed,
    Baseline,
    Submissions,
    Size,
    Note,
    /// Kept verbatim in `extra` under the header text.
    Other,
}

/// The column a header names. Comparison ignores case and everything but
/// letters and digits, so `Is distributed`, `is_distributed` and
/// `IsDistributed` are one name.
pub fn column_of(header: &str) -> Column {
    let n: String = header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    match n.as_str() {
        "md5" | "md5hash" | "hashmd5" | "md5sum" => Column::Md5,
        "sha1" | "sha1hash" | "hashsha1" | "sha1sum" => Column::Sha1,
        "sha256" | "sha256hash" | "hashsha256" | "sha256sum" => Column::Sha256,
        "pdq" | "pdqhash" | "hashpdq" => Column::Pdq,
        "quality" | "pdqquality" => Column::PdqQuality,
        "photodna" | "pdna" | "photodnahash" => Column::PhotoDna,
        "hash" | "hashvalue" | "signal" => Column::AnyHash,
        "category"
        | "cat"
        | "classification"
        | "industryclassification"
        | "grade"
        | "vicscategory" => Column::Category,
        "categoryscheme" | "scheme" => Column::CategoryScheme,
        "series" | "seriesname" => Column::Series,
        "imageid" | "id" | "mediaid" | "entryid" | "sourceid" => Column::SourceId,
        "victimidentified" => Column::VictimIdentified,
        "offenderidentified" => Column::OffenderIdentified,
        "isdistributed" | "distributed" => Column::Distributed,
        "baseline" | "isbaseline" => Column::Baseline,
        "numberofsubmissions" | "submissions" => Column::Submissions,
        "size" | "mediasize" | "filesize" | "bytes" => Column::Size,
        "note" | "notes" | "comment" | "comments" => Column::Note,
        _ => Column::Other,
    }
}

/// Reads a CSV list. `format` is [`Format::IcseCsv`] or [`Format::Csv`]; it
/// is recorded in the summary, the parsing is the same.
pub fn read<R: BufRead>(
    mut reader: R,
    format: Format,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    let mut emit = Emitter::new(sink, opts.include_deleted);
    crate::detect::skip_bom(&mut reader).map_err(|e| emit.fail(e.into()))?;
    let delimiter = match reader.fill_buf() {
        Ok(buf) => guess_delimiter(buf),
        Err(e) => return Err(emit.fail(e.into())),
    };
    let index = Rc::new(RefCell::new(LineIndex::default()));
    let tracked = Tracking::new(reader, Rc::clone(&index));
    let mut rdr = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        // No hash starts with '#': such lines are comments, as in PDQ lists.
        .comment(Some(b'#'))
        .has_headers(false)
        .from_reader(tracked);
    let mut record = ::csv::ByteRecord::new();

    // Header: the first record.
    let header: Vec<String> = match rdr.read_byte_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect(),
        Ok(false) => return Err(emit.fail(DocumentError::Empty(format))),
        Err(e) => return Err(emit.fail(csv_error(e, format))),
    };
    // A header line over the limit was cut; what is left of it is the header.
    let header_end = rdr.position().byte();
    let _ = index.try_borrow_mut().map(|mut i| i.cut_before(header_end));
    let layout = Layout::new(&header);
    if !layout.has_hash_column() {
        return Err(emit.fail(DocumentError::NotThisFormat {
            format,
            reason: format!(
                "the header names no hash column (md5, sha1, sha256, pdq, photodna or hash): {:?}",
                fields::clip(&header.join(","))
            ),
        }));
    }

    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(emit.fail(csv_error(e, format))),
        }
        let byte = record.position().map_or(0, ::csv::Position::byte);
        let line = index.try_borrow_mut().map_or(0, |mut i| i.line_of(byte));
        let end = rdr.position().byte();
        if index.try_borrow_mut().is_ok_and(|mut i| i.cut_before(end)) {
            let flow = emit.reject(RecordError {
                position: Position::Line { line },
                reason: RecordReason::LineTooLong(MAX_LINE),
            });
            if flow.is_break() {
                break;
            }
            continue;
        }
        // A row of only empty fields (`;;;`) is a blank line in disguise.
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let flow = match layout.entry(&record, opts.category_scheme) {
            Ok(e) => emit.entry(e),
            Err(reason) => emit.reject(RecordError {
                position: Position::Line { line },
                reason,
            }),
        };
        if flow.is_break() {
            break;
        }
    }
    let mut meta = ListMeta::new(format);
    meta.name = opts.list_name.clone();
    meta.source = opts.file_name.clone();
    meta.category_scheme = opts.category_scheme;
    meta.extra.insert("header".into(), Value::from(header));
    Ok(emit.finish(meta))
}

fn csv_error(e: ::csv::Error, format: Format) -> DocumentError {
    let line = e.position().map_or(0, ::csv::Position::line);
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => DocumentError::Io(io),
        other => DocumentError::Malformed {
            format,
            position: Position::Line { line },
            reason: format!("{other:?}"),
        },
    }
}

/// Line numbers for records.
///
/// The csv crate reports a record's position from *before* the blank and
/// comment lines it skips (and before the `\n` of a CRLF), so its line
/// numbers drift. This index remembers where line breaks and comment lines
/// are in what the parser has read ahead (about a buffer's worth) and finds
/// the line where the record's text really starts.
#[derive(Debug, Default)]
struct LineIndex {
    /// Line-break bytes and comment-line starts not yet passed, by offset.
    marks: VecDeque<(u64, Mark)>,
    /// `\n` bytes before the first mark.
    lines_before: u64,
    /// Offsets (in what the parser read) where a line over [`MAX_LINE`]
    /// was cut.
    cuts: VecDeque<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Cr,
    Lf,
    /// A `#` at the start of a line.
    Comment,
}

impl LineIndex {
    /// Whether a line was cut before `end` (the record just read ends
    /// there); forgets those cuts.
    fn cut_before(&mut self, end: u64) -> bool {
        let mut cut = false;
        while self.cuts.front().is_some_and(|&c| c < end) {
            self.cuts.pop_front();
            cut = true;
        }
        cut
    }

    /// 1-based line of the first content byte at or after `byte`, skipping
    /// the line breaks and comment lines that start there.
    fn line_of(&mut self, byte: u64) -> u64 {
        while let Some(&(o, m)) = self.marks.front() {
            if o >= byte {
                break;
            }
            self.marks.pop_front();
            self.lines_before += u64::from(m == Mark::Lf);
        }
        let mut line = self.lines_before + 1;
        let mut cursor = byte;
        let mut in_comment = false;
        for &(o, m) in &self.marks {
            match m {
                // Inside a comment everything up to its `\n` is skipped.
                Mark::Lf if in_comment => {
                    in_comment = false;
                    line += 1;
                    cursor = o + 1;
                }
                _ if in_comment => {}
                _ if o != cursor => break,
                Mark::Lf => {
                    line += 1;
                    cursor += 1;
                }
                Mark::Cr => cursor += 1,
                Mark::Comment => in_comment = true,
            }
        }
        line
    }
}

/// Feeds the csv parser and records line breaks and comment starts in a
/// [`LineIndex`].
struct Tracking<R> {
    inner: R,
    offset: u64,
    /// The previous byte was a line break (or there was none yet).
    at_line_start: bool,
    /// Bytes of the current line passed on so far.
    line_len: usize,
    /// The current line passed [`MAX_LINE`]: its rest is dropped.
    cutting: bool,
    index: Rc<RefCell<LineIndex>>,
}

impl<R> Tracking<R> {
    fn new(inner: R, index: Rc<RefCell<LineIndex>>) -> Self {
        Tracking {
            inner,
            offset: 0,
            at_line_start: true,
            line_len: 0,
            cutting: false,
            index,
        }
    }

    /// Drops the bytes of a line past [`MAX_LINE`] (so the csv parser never
    /// buffers more than that) and remembers where, so the record is
    /// rejected as too long. Returns how many of `chunk`'s bytes are kept,
    /// moved to its front.
    fn cut_long_lines(&mut self, chunk: &mut [u8]) -> usize {
        let mut kept = 0;
        for i in 0..chunk.len() {
            let b = chunk.get(i).copied().unwrap_or(b'\n');
            if b == b'\n' || b == b'\r' {
                self.line_len = 0;
                self.cutting = false;
            } else if self.cutting {
                continue;
            } else {
                self.line_len += 1;
                if self.line_len > MAX_LINE {
                    self.cutting = true;
                    if let Ok(mut index) = self.index.try_borrow_mut() {
                        index.cuts.push_back(self.offset + kept as u64);
                    }
                    continue;
                }
            }
            if let Some(slot) = chunk.get_mut(kept) {
                *slot = b;
            }
            kept += 1;
        }
        kept
    }
}

impl<R: Read> Read for Tracking<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // A chunk that was all the cut-off rest of a line is read past:
        // returning 0 would mean the end of the input.
        let n = loop {
            let got = self.inner.read(out)?;
            if got == 0 {
                break 0;
            }
            let kept = self.cut_long_lines(out.get_mut(..got).unwrap_or_default());
            if kept > 0 {
                break kept;
            }
        };
        if let (Ok(mut index), Some(chunk)) = (self.index.try_borrow_mut(), out.get(..n)) {
            for (i, &b) in chunk.iter().enumerate() {
                let at = self.offset + i as u64;
                match b {
                    b'\n' => index.marks.push_back((at, Mark::Lf)),
                    b'\r' => index.marks.push_back((at, Mark::Cr)),
                    b'#' if self.at_line_start => index.marks.push_back((at, Mark::Comment)),
                    _ => {}
                }
                self.at_line_start = matches!(b, b'\n' | b'\r');
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The delimiter that occurs most in the header line (`,` on a tie); comment
/// and blank lines before it are skipped.
fn guess_delimiter(buf: &[u8]) -> u8 {
    let line = buf
        .split(|&b| b == b'\n')
        .find(|l| l.iter().any(|b| !b.is_ascii_whitespace()) && !l.starts_with(b"#"))
        .unwrap_or(buf);
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let (semi, comma, tab) = (count(b';'), count(b','), count(b'\t'));
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma && tab > semi {
        b'\t'
    } else {
        b','
    }
}

/// Which column is what, decided once from the header.
struct Layout {
    columns: Vec<(Column, String)>,
    has_quality: bool,
}

impl Layout {
    fn new(header: &[String]) -> Self {
        let mut seen: Vec<Column> = Vec::new();
        let columns = header
            .iter()
            .map(|h| {
                let mut c = column_of(h);
                // A second column of the same kind is kept, not merged.
                if c != Column::Other && seen.contains(&c) {
                    c = Column::Other;
                }
                seen.push(c);
                (c, h.clone())
            })
            .collect();
        Layout {
            columns,
            has_quality: seen.contains(&Column::PdqQuality),
        }
    }

    fn has_hash_column(&self) -> bool {
        self.columns.iter().any(|(c, _)| {
            matches!(
                c,
                Column::Md5
                    | Column::Sha1
                    | Column::Sha256
                    | Column::Pdq
                    | Column::PhotoDna
                    | Column::AnyHash
            )
        })
    }

    fn entry(
        &self,
        record: &::csv::ByteRecord,
        scheme: Option<CategoryScheme>,
    ) -> Result<ListEntry, RecordReason> {
        let mut e = ListEntry::default();
        let mut pdq = None;
        let mut quality = None;
        let mut code: Option<String> = None;
        let mut row_scheme: Option<CategoryScheme> = None;
        for (i, raw) in record.iter().enumerate() {
            let text = String::from_utf8_lossy(raw);
            let v = text.trim();
            if v.is_empty() {
                continue;
            }
            let Some((col, name)) = self.columns.get(i) else {
                e.extra.insert(format!("column {}", i + 1), Value::from(v));
                continue;
            };
            let keep = |e: &mut ListEntry| {
                e.extra.insert(name.clone(), Value::from(v));
            };
            match col {
                Column::Md5 => e.md5 = fields::digest(name, v)?,
                Column::Sha1 => e.sha1 = fields::digest(name, v)?,
                Column::Sha256 => e.sha256 = fields::digest(name, v)?,
                Column::Pdq => pdq = fields::pdq(name, v)?,
                Column::PdqQuality => quality = Some(fields::quality(name, v)?),
                Column::AnyHash => match v.len() {
                    32 => e.md5 = fields::digest(name, v)?,
                    40 => e.sha1 = fields::digest(name, v)?,
                    64 if self.has_quality => pdq = fields::pdq(name, v)?,
                    64 => e.sha256 = fields::digest(name, v)?,
                    n => {
                        return Err(RecordReason::BadValue {
                            field: name.clone(),
                            reason: format!(
                                "{n} characters is no known hash length (32, 40 or 64)"
                            ),
                        });
                    }
                },
                Column::PhotoDna => e.photodna = Some(v.to_string()),
                Column::Category => code = Some(v.to_string()),
                Column::CategoryScheme => match v.parse::<CategoryScheme>() {
                    Ok(s) => row_scheme = Some(s),
                    Err(_) => keep(&mut e),
                },
                Column::Series => e.series = Some(v.to_string()),
                Column::SourceId => e.source_id = Some(v.to_string()),
                Column::Note => e.note = Some(v.to_string()),
                Column::VictimIdentified => set_or_keep(
                    parse_bool(v, Lenient),
                    &mut e.victim_identified,
                    &mut e.extra,
                    name,
                    v,
                ),
                Column::OffenderIdentified => {
                    set_or_keep(
                        parse_bool(v, Lenient),
                        &mut e.offender_identified,
                        &mut e.extra,
                        name,
                        v,
                    );
                }
                Column::Distributed => set_or_keep(
                    parse_bool(v, Lenient),
                    &mut e.distributed,
                    &mut e.extra,
                    name,
                    v,
                ),
                Column::Baseline => set_or_keep(
                    parse_bool(v, Lenient),
                    &mut e.baseline,
                    &mut e.extra,
                    name,
                    v,
                ),
                Column::Submissions => {
                    set_or_keep(parse_u64(v), &mut e.submissions, &mut e.extra, name, v)
                }
                Column::Size => set_or_keep(parse_u64(v), &mut e.size, &mut e.extra, name, v),
                Column::Other => keep(&mut e),
            }
        }
        if let Some(hash) = pdq {
            e.pdq = Some(PdqEntry { hash, quality });
        }
        if let Some(c) = code {
            let s = row_scheme
                .or(scheme)
                .unwrap_or_else(|| CategoryScheme::guess(&c));
            e.category = Some(Category::new(s, c));
        }
        if !e.has_hash() {
            return Err(RecordReason::NoHash);
        }
        Ok(e)
    }
}

fn set_or_keep<T>(
    parsed: Option<T>,
    slot: &mut Option<T>,
    extra: &mut serde_json::Map<String, Value>,
    name: &str,
    raw: &str,
) {
    match parsed {
        Some(v) => *slot = Some(v),
        None => {
            extra.insert(name.to_string(), Value::from(raw));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(column_of("MD5"), Column::Md5);
        assert_eq!(column_of("sha-1"), Column::Sha1);
        assert_eq!(column_of("Is distributed"), Column::Distributed);
        assert_eq!(column_of("Number of submissions"), Column::Submissions);
        assert_eq!(column_of("pdq_quality"), Column::PdqQuality);
        assert_eq!(column_of("Series name"), Column::Series);
        assert_eq!(column_of("Image ID"), Column::SourceId);
        assert_eq!(column_of("File Available"), Column::Other);
    }

    #[test]
    fn line_numbers_survive_blank_lines_and_crlf() {
        for (text, want) in [
            ("h\na\nb\n\nc\n\n\nd\n", [1, 2, 3, 5, 8]),
            ("h\r\na\r\nb\r\n\r\nc\r\n\r\n\r\nd\r\n", [1, 2, 3, 5, 8]),
            ("h\na\nb\n# x\nc\n\n#y#\n\nd\n", [1, 2, 3, 5, 9]),
            ("h\r\na\r\nb\r\n#\r\nc\r\n#,\r\n\r\nd#\r\n", [1, 2, 3, 5, 8]),
        ] {
            let index = Rc::new(RefCell::new(LineIndex::default()));
            let t = Tracking::new(text.as_bytes(), Rc::clone(&index));
            let mut r = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .comment(Some(b'#'))
                .from_reader(t);
            let mut rec = ::csv::ByteRecord::new();
            let mut lines = Vec::new();
            while r.read_byte_record(&mut rec).unwrap() {
                let b = rec.position().unwrap().byte();
                lines.push(index.borrow_mut().line_of(b));
            }
            assert_eq!(lines, want, "{text:?}");
        }
    }

    #[test]
    fn delimiter() {
        assert_eq!(guess_delimiter(b"MD5;SHA1;PhotoDNA\n"), b';');
        assert_eq!(guess_delimiter(b"md5,sha1\n"), b',');
        assert_eq!(guess_delimiter(b"md5\tsha1\n"), b'\t');
        assert_eq!(guess_delimiter(b"md5\n"), b',');
        assert_eq!(guess_delimiter(b"# a, b, c\n\nmd5;sha1\n"), b';');
    }
}
