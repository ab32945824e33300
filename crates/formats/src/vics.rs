//! Project VIC VICS JSON, 1.x and 2.0, `#Media` and `#Cases`, read streaming.
//!
//! A VICS file is one JSON document, often hundreds of MB (spec/formats.md
//! §1.2), so it is never parsed as a whole. serde_json's `StreamDeserializer`
//! only splits a stream of *documents*; inside one document the standard serde
//! technique applies: custom [`DeserializeSeed`]s visit the root object, then
//! the `value` array element by element (and, in a case export, each case's
//! `Media` array element by element). A media object's fields stream into a
//! builder (`media.rs`) — memory bounded by the largest single record — that
//! becomes a [`crate::ListEntry`] handed to the sink before the next record
//! is read.
//!
//! Shape is detected per element, not trusted from the header: an element
//! whose `Media` member is an array is a case, anything else is a media
//! record. The header (`odata.metadata` for 1.x, `@odata.context` for 2.0)
//! gives the version, the profile and so the category scheme; a document that
//! puts it after `value` gets the caller's scheme or `unknown`.
//!
//! Errors: a JSON syntax error or a truncated file ends the import
//! ([`DocumentError::Malformed`] with line/column); a well-formed record that
//! is not a usable media object is a [`RecordError`] with its index, byte
//! offset and JSON path, and the import goes on.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::category::CategoryScheme;
use crate::error::{DocumentError, ImportError, Position, RecordError, RecordReason};
use crate::model::{Format, ListMeta};
use crate::{Emitter, ImportOptions, ImportSummary, Item};

#[cfg(test)]
mod framed_tests;
mod media;
mod scan;

use media::{F, MediaBuilder, field_of};
use scan::{Chunks, LineCol, Scan};

/// Marker error used to unwind serde when the sink asks to stop.
const STOP: &str = "tiaki-formats: stopped by the caller";

/// Reads a VICS document, handing each media record to `sink`.
pub fn read<R: BufRead>(
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    read_with(reader, opts, sink, Path::Framed)
}

/// How the document is walked: [`Path::Framed`] is the import path;
/// [`Path::Serde`] hands the whole document to serde_json's reader (the
/// reference the framed path is tested against, and the path for documents
/// that are neither an object nor an array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    Framed,
    #[cfg_attr(not(test), allow(dead_code))]
    Serde,
}

pub(crate) fn read_with<R: BufRead>(
    mut reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
    path: Path,
) -> Result<ImportSummary, ImportError> {
    let bom =
        crate::detect::skip_bom(&mut reader).map_err(|e| ImportError::before_any(e.into()))?;
    let blank = skip_whitespace(&mut reader).map_err(|e| ImportError::before_any(e.into()))?;
    let Some(skipped) = blank else {
        return Err(ImportError::before_any(DocumentError::Empty(Format::Vics)));
    };
    let offset = Rc::new(Cell::new(0));
    let start = LineCol {
        line: 1 + skipped.lines,
        column: skipped.column,
    };
    let mut src = Chunks::new(reader, bom + skipped.bytes, start, Rc::clone(&offset));
    let mut meta = ListMeta::new(Format::Vics);
    meta.name = opts.list_name.clone();
    meta.source = opts.file_name.clone();
    let mut ctx = Ctx {
        emit: Emitter::new(sink, opts.include_deleted),
        doc_scheme: opts.category_scheme.unwrap_or(CategoryScheme::Unknown),
        opts,
        meta,
        offset,
        next_index: 0,
    };
    let first = src.peek_nonws();
    let result = match (path, first) {
        (_, Err(e)) => Err(Fail::Io(e)),
        (Path::Framed, Ok(Some(b'{'))) => root_object(&mut src, &mut ctx),
        (Path::Framed, Ok(Some(b'['))) => {
            src.consume(1);
            value_array(&mut src, &mut ctx, true)
        }
        _ => {
            let mut de = serde_json::Deserializer::from_reader(&mut src);
            RootSeed(&mut ctx)
                .deserialize(&mut de)
                .and_then(|()| de.end())
                .map_err(|e| Fail::Json(e, start))
        }
    };
    match result {
        Ok(()) => Ok(ctx.finish()),
        Err(_) if ctx.emit.stopped => Ok(ctx.finish()),
        Err(f) => {
            let error = f.into_error();
            Err(ctx.emit.fail(error))
        }
    }
}

/// Why the framed walk stopped.
enum Fail {
    Io(io::Error),
    /// serde_json's error in a value that started at this line/column.
    Json(serde_json::Error, LineCol),
    /// The same from a value parsed from a slice: what the frame expected
    /// after it (for a bare literal followed by junk, which serde_json
    /// alone calls "trailing characters"), and the error's place as
    /// serde_json's reader path gives it.
    Slice {
        error: serde_json::Error,
        origin: LineCol,
        after: &'static str,
        read_at: Option<(usize, usize)>,
    },
    /// A fault in the document's frame, found by the walk itself.
    Frame(LineCol, &'static str),
}

impl Fail {
    fn into_error(self) -> DocumentError {
        match self {
            Fail::Io(e) => DocumentError::Io(e),
            Fail::Json(e, origin) => json_error(&e, origin, None),
            Fail::Slice {
                error,
                origin,
                after,
                read_at,
            } => {
                let mut error = json_error(&error, origin, read_at);
                if let DocumentError::Malformed { reason, .. } = &mut error
                    && reason == "trailing characters"
                {
                    *reason = after.to_string();
                }
                error
            }
            Fail::Frame(at, reason) => DocumentError::Malformed {
                format: Format::Vics,
                position: Position::LineColumn {
                    line: at.line,
                    column: at.column,
                },
                reason: reason.to_string(),
            },
        }
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Io(e)
    }
}

/// A frame fault at the next (peeked) byte, or at the end of input.
fn frame_fault<R: Read>(src: &mut Chunks<R>, next: Option<u8>, reason: &'static str) -> Fail {
    match next {
        Some(_) => {
            let at = src.offset();
            Fail::Frame(src.line_col(at, true), reason)
        }
        None => Fail::Frame(src.eof_position(), reason),
    }
}

/// Parses the value at the next byte with `seed`: from a slice when it is
/// buffered whole, else through serde_json's reader.
/// `after` is what the frame expects after the value.
fn parse_value<R: Read, T>(
    src: &mut Chunks<R>,
    spot_cases: bool,
    after: &'static str,
    seed: impl for<'de> DeserializeSeed<'de, Value = T>,
) -> Result<T, Fail> {
    let at = src.offset();
    match src.scan_value(spot_cases)? {
        Scan::Complete(n) => {
            let mut de = serde_json::Deserializer::from_slice(src.slice(n));
            let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
            match parsed {
                Ok(v) => {
                    src.consume(n);
                    Ok(v)
                }
                Err(e) => {
                    // The import stops here, so take the time to place the
                    // error where serde_json's reader path would (its slice
                    // and reader paths differ by a byte in some errors),
                    // reading one byte on: a literal cut short by a
                    // delimiter (`n}`) fails at that byte, with that
                    // byte's error.
                    let mut de = serde_json::Deserializer::from_reader(src.slice(n + 1));
                    let (error, read_at) = match IgnoredAny::deserialize(&mut de) {
                        Err(r) if e.is_eof() => (r, None),
                        Err(r) => (e, Some((r.line(), r.column()))),
                        Ok(_) => (e, None),
                    };
                    Err(Fail::Slice {
                        error,
                        origin: src.line_col(at, false),
                        after,
                        read_at,
                    })
                }
            }
        }
        Scan::Stream => stream_value(src, seed),
        Scan::TooLong => Err(Fail::Frame(
            src.line_col(at, true),
            "value longer than 4 MiB",
        )),
    }
}

/// Parses the value at the next byte through serde_json's reader. A value
/// this large may hold many records (a case's `Media`), but no single
/// string or number may pass [`scan::SLICE_CAP`]: serde_json would buffer it
/// whole.
fn stream_value<R: Read, T>(
    src: &mut Chunks<R>,
    seed: impl for<'de> DeserializeSeed<'de, Value = T>,
) -> Result<T, Fail> {
    let at = src.offset();
    let origin = src.line_col(at, false);
    let mut capped = TokenCap::new(&mut *src);
    let result = {
        let mut de = serde_json::Deserializer::from_reader(&mut capped);
        seed.deserialize(&mut de)
    };
    result.map_err(|e| {
        if capped.tripped {
            Fail::Frame(
                origin,
                "a string or number in this value is longer than 4 MiB",
            )
        } else {
            Fail::Json(e, origin)
        }
    })
}

/// Passes JSON text through, failing once one string or bare token runs
/// longer than [`scan::SLICE_CAP`] bytes.
struct TokenCap<'a, R> {
    inner: &'a mut R,
    in_string: bool,
    escaped: bool,
    run: usize,
    tripped: bool,
}

impl<'a, R> TokenCap<'a, R> {
    fn new(inner: &'a mut R) -> Self {
        TokenCap {
            inner,
            in_string: false,
            escaped: false,
            run: 0,
            tripped: false,
        }
    }
}

impl<R: Read> Read for TokenCap<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.tripped {
            return Err(io::Error::other("token longer than 4 MiB"));
        }
        let n = self.inner.read(out)?;
        for &b in out.get(..n).unwrap_or_default() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.run = 0;
                    continue;
                }
                self.run += 1;
            } else {
                match b {
                    b'"' => {
                        self.in_string = true;
                        self.run = 0;
                    }
                    b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                        self.run = 0;
                    }
                    _ => self.run += 1,
                }
            }
            if self.run > scan::SLICE_CAP {
                self.tripped = true;
                return Err(io::Error::other("token longer than 4 MiB"));
            }
        }
        Ok(n)
    }
}

/// The root object: `value` streams, other members are kept in the list's
/// metadata.
fn root_object<R: Read>(src: &mut Chunks<R>, ctx: &mut Ctx<'_, '_>) -> Result<(), Fail> {
    src.consume(1);
    let mut next = src.peek_nonws()?;
    if next == Some(b'}') {
        src.consume(1);
        return root_end(src);
    }
    loop {
        if next != Some(b'"') {
            return Err(frame_fault(
                src,
                next,
                match next {
                    Some(_) => "key must be a string",
                    None => "EOF while parsing an object",
                },
            ));
        }
        let key: String = parse_value(src, false, "expected `:`", PhantomData)?;
        next = src.peek_nonws()?;
        if next != Some(b':') {
            return Err(frame_fault(
                src,
                next,
                match next {
                    Some(_) => "expected `:`",
                    None => "EOF while parsing an object",
                },
            ));
        }
        src.consume(1);
        next = src.peek_nonws()?;
        if next.is_none() {
            return Err(frame_fault(src, next, "EOF while parsing a value"));
        }
        if key == "value" {
            if next == Some(b'[') {
                src.consume(1);
                value_array(src, ctx, false)?;
            } else {
                // Not an array: serde_json's reader says so, in its words
                // and at its position.
                let seed = ArraySeed {
                    ctx: &mut *ctx,
                    case: None,
                    bare: false,
                };
                stream_value(src, seed)?;
            }
        } else {
            let v: Value = parse_value(src, false, "expected `,` or `}`", PhantomData)?;
            ctx.root_member(key, v);
        }
        match separator(
            src,
            b'}',
            "expected `,` or `}`",
            "EOF while parsing an object",
        )? {
            Some(b) => next = Some(b),
            None => return root_end(src),
        }
    }
}

/// What follows a member (`close` = `}`) or an element (`]`): a `,` and the
/// first byte of the next one (`Some`), or the closing bracket, consumed
/// (`None`). Errors in serde_json's words, at its positions.
fn separator<R: Read>(
    src: &mut Chunks<R>,
    close: u8,
    expected: &'static str,
    eof: &'static str,
) -> Result<Option<u8>, Fail> {
    let next = src.peek_nonws()?;
    match next {
        Some(b',') => {
            src.consume(1);
            let next = src.peek_nonws()?;
            match next {
                Some(c) if c == close => Err(frame_fault(src, next, "trailing comma")),
                None => Err(frame_fault(src, next, "EOF while parsing a value")),
                Some(c) => Ok(Some(c)),
            }
        }
        Some(c) if c == close => {
            src.consume(1);
            Ok(None)
        }
        Some(_) => Err(frame_fault(src, next, expected)),
        None => Err(frame_fault(src, next, eof)),
    }
}

/// Only whitespace may follow the root value.
fn root_end<R: Read>(src: &mut Chunks<R>) -> Result<(), Fail> {
    match src.peek_nonws()? {
        None => Ok(()),
        next => Err(frame_fault(src, next, "trailing characters")),
    }
}

/// A `value` array (or a bare root array) after its `[`, element by element.
fn value_array<R: Read>(
    src: &mut Chunks<R>,
    ctx: &mut Ctx<'_, '_>,
    bare: bool,
) -> Result<(), Fail> {
    let next = src.peek_nonws()?;
    match next {
        Some(b']') => {
            src.consume(1);
            return if bare { root_end(src) } else { Ok(()) };
        }
        None => return Err(frame_fault(src, next, "EOF while parsing a list")),
        Some(_) => {}
    }
    let mut pos = 0u64;
    loop {
        let seed = ElementSeed {
            ctx: &mut *ctx,
            case: None,
            bare,
            pos,
            start: Some(src.offset()),
        };
        parse_value(src, true, "expected `,` or `]`", seed)?;
        pos += 1;
        if separator(src, b']', "expected `,` or `]`", "EOF while parsing a list")?.is_none() {
            return if bare { root_end(src) } else { Ok(()) };
        }
    }
}

/// Skips leading whitespace; `None` when nothing else follows (an empty
/// document), else how many bytes were skipped.
fn skip_whitespace<R: BufRead>(r: &mut R) -> io::Result<Option<Skipped>> {
    let mut s = Skipped::default();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        for &b in buf.iter().take(n) {
            if b == b'\n' {
                s.lines += 1;
                s.column = 0;
            } else {
                s.column += 1;
            }
        }
        let more = n == buf.len();
        r.consume(n);
        s.bytes += n as u64;
        if !more {
            return Ok(Some(s));
        }
    }
}

/// Leading whitespace taken off before the document proper, so positions
/// can be corrected.
#[derive(Debug, Default, Clone, Copy)]
struct Skipped {
    bytes: u64,
    lines: u64,
    column: u64,
}

/// A serde_json failure as a document error: I/O stays I/O, the rest is
/// malformed at serde_json's line/column, which count from `origin` (where
/// the value serde_json was given starts).
/// `at` overrides serde_json's line/column.
fn json_error(e: &serde_json::Error, origin: LineCol, at: Option<(usize, usize)>) -> DocumentError {
    use serde_json::error::Category as C;
    match e.classify() {
        C::Io => DocumentError::Io(io::Error::new(
            e.io_error_kind().unwrap_or(io::ErrorKind::Other),
            e.to_string(),
        )),
        _ => DocumentError::Malformed {
            format: Format::Vics,
            position: {
                let (line, column) = at.unwrap_or((e.line(), e.column()));
                let (line, column) = (line as u64, column as u64);
                if line <= 1 {
                    Position::LineColumn {
                        line: origin.line,
                        column: column + origin.column,
                    }
                } else {
                    Position::LineColumn {
                        line: line - 1 + origin.line,
                        column,
                    }
                }
            },
            reason: strip_position(&e.to_string()),
        },
    }
}

/// serde_json appends " at line L column C" to its messages; the position is
/// reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

struct Ctx<'s, 'o> {
    emit: Emitter<'s>,
    opts: &'o ImportOptions,
    meta: ListMeta,
    /// Scheme for codes of entries that carry none of their own.
    doc_scheme: CategoryScheme,
    offset: Rc<Cell<u64>>,
    /// Index of the next media record in the whole document.
    next_index: u64,
}

impl Ctx<'_, '_> {
    fn finish(self) -> ImportSummary {
        let mut meta = self.meta;
        if meta.category_scheme.is_none() && self.doc_scheme != CategoryScheme::Unknown {
            meta.category_scheme = Some(self.doc_scheme);
        }
        self.emit.finish(meta)
    }

    /// Records what the `odata.metadata` / `@odata.context` URL says.
    fn set_context(&mut self, url: &str) {
        let ctx = parse_context(url);
        let scheme = match ctx.version.as_deref() {
            Some(v) if v.starts_with('1') => CategoryScheme::Vics1,
            Some(_) => {
                CategoryScheme::from_vics_profile(ctx.profile.as_deref().unwrap_or("Default"))
            }
            None => CategoryScheme::Unknown,
        };
        if self.opts.category_scheme.is_none() {
            self.doc_scheme = scheme;
        }
        self.meta.category_scheme = Some(self.doc_scheme);
        self.meta.format_version = ctx.version;
        self.meta.profile = ctx.profile;
        self.meta.document_kind = ctx.kind;
    }

    /// A root member other than `value`: kept, and read for the header.
    fn root_member(&mut self, key: String, v: Value) {
        if matches!(key.as_str(), "odata.metadata" | "@odata.context")
            && let Value::String(url) = &v
        {
            self.set_context(url);
        }
        self.meta.extra.insert(key, v);
    }

    /// Converts and emits one media object; `Break` when the sink stops.
    fn media(&mut self, b: MediaBuilder, at: &At<'_>) -> ControlFlow<()> {
        let index = self.next_index;
        self.next_index += 1;
        match b.finish(self.doc_scheme, at.case_id()) {
            Ok(entry) => self.emit.entry(entry),
            Err((field, reason)) => self.emit.reject(RecordError {
                position: at.position(index, field),
                reason,
            }),
        }
    }

    fn not_object(&mut self, kind: &'static str, at: &At<'_>) -> ControlFlow<()> {
        let index = self.next_index;
        self.next_index += 1;
        self.emit.reject(RecordError {
            position: at.position(index, None),
            reason: RecordReason::NotAnObject(kind),
        })
    }
}

/// The three URL segments that matter.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Context {
    pub version: Option<String>,
    pub profile: Option<String>,
    pub kind: Option<String>,
}

/// Parses `…/DataModels/1.2.xml#Media` and
/// `…/DataModels/2.0.xml/US/$metadata#Cases`.
pub(crate) fn parse_context(url: &str) -> Context {
    let kind = url
        .rsplit_once('#')
        .map(|(_, k)| k.to_string())
        .filter(|k| !k.is_empty());
    let path = url.split('#').next().unwrap_or(url);
    let after = path.rsplit_once("DataModels/").map(|(_, a)| a);
    let (version, profile) = match after {
        Some(a) => match a.split_once(".xml") {
            Some((v, rest)) => {
                let profile = rest
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .filter(|p| !p.is_empty() && !p.starts_with('$'));
                (Some(v.to_string()), profile.map(str::to_string))
            }
            None => (None, None),
        },
        None => (None, None),
    };
    Context {
        version,
        profile,
        kind,
    }
}

/// Where an element sits, for positions and for attaching case ids.
#[derive(Clone)]
enum At<'a> {
    /// `$.value[pos]` (or `$[pos]` for a bare root array).
    Top { pos: u64, start: u64, bare: bool },
    /// `$.value[case].Media[pos]`.
    InCase {
        case: u64,
        case_id: Option<&'a str>,
        pos: u64,
        start: u64,
    },
}

impl At<'_> {
    fn case_id(&self) -> Option<String> {
        match self {
            At::InCase { case_id, .. } => case_id.map(str::to_string),
            At::Top { .. } => None,
        }
    }

    fn position(&self, index: u64, field: Option<String>) -> Position {
        let (mut path, start) = match self {
            At::Top {
                pos,
                start,
                bare: false,
            } => (format!("$.value[{pos}]"), *start),
            At::Top {
                pos,
                start,
                bare: true,
            } => (format!("$[{pos}]"), *start),
            At::InCase {
                case, pos, start, ..
            } => (format!("$.value[{case}].Media[{pos}]"), *start),
        };
        if let Some(f) = field {
            path.push('.');
            path.push_str(&f);
        }
        Position::Record {
            index,
            byte_offset: start,
            path,
        }
    }
}

fn stop<E: de::Error>(flow: ControlFlow<()>) -> Result<(), E> {
    match flow {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(E::custom(STOP)),
    }
}

// --- root object -----------------------------------------------------------

struct RootSeed<'c, 's, 'o>(&'c mut Ctx<'s, 'o>);

impl<'de> DeserializeSeed<'de> for RootSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a VICS document (an object with a `value` array)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => map.next_value_seed(ArraySeed {
                    ctx: &mut *ctx,
                    case: None,
                    bare: false,
                })?,
                _ => {
                    let v: Value = map.next_value()?;
                    ctx.root_member(key, v);
                }
            }
        }
        Ok(())
    }

    /// A bare array of media objects: not VICS proper, but what a hand-made
    /// extract looks like; read it rather than refuse it.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        ArraySeed {
            ctx: self.0,
            case: None,
            bare: true,
        }
        .visit_seq(seq)
    }
}

// --- `value` arrays and case `Media` arrays ---------------------------------

struct ArraySeed<'c, 's, 'o, 'a> {
    ctx: &'c mut Ctx<'s, 'o>,
    /// `Some((case position, case id))` inside a case's `Media`.
    case: Option<(u64, Option<&'a str>)>,
    bare: bool,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of media or case objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut pos = 0u64;
        loop {
            let seed = ElementSeed {
                ctx: &mut *self.ctx,
                case: self.case,
                bare: self.bare,
                pos,
                start: None,
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            pos += 1;
        }
    }
}

struct ElementSeed<'c, 's, 'o, 'a> {
    ctx: &'c mut Ctx<'s, 'o>,
    case: Option<(u64, Option<&'a str>)>,
    bare: bool,
    pos: u64,
    /// Input offset of the element, when the caller knows it; else it is
    /// read from the offset serde_json's reader has reached.
    start: Option<u64>,
}

impl<'de> DeserializeSeed<'de> for ElementSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // serde_json has already peeked the element's first byte, so the
        // count is one past it.
        let start = self
            .start
            .unwrap_or_else(|| self.ctx.offset.get().saturating_sub(1));
        let at = match self.case {
            None => At::Top {
                pos: self.pos,
                start,
                bare: self.bare,
            },
            Some((case, case_id)) => At::InCase {
                case,
                case_id,
                pos: self.pos,
                start,
            },
        };
        d.deserialize_any(ElementVisitor { ctx: self.ctx, at })
    }
}

struct ElementVisitor<'c, 's, 'o, 'a> {
    ctx: &'c mut Ctx<'s, 'o>,
    at: At<'a>,
}

impl ElementVisitor<'_, '_, '_, '_> {
    fn scalar<E: de::Error>(self, kind: &'static str) -> Result<(), E> {
        let flow = self.ctx.not_object(kind, &self.at);
        stop(flow)
    }
}

impl<'de> Visitor<'de> for ElementVisitor<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a media or case object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let top_pos = match self.at {
            At::Top { pos, .. } => Some(pos),
            At::InCase { .. } => None,
        };
        // Fields go straight into the builder: no map of the whole object.
        let mut b = MediaBuilder::default();
        let mut case_id: Option<String> = None;
        let mut streamed = false;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                Key::Media => {
                    let slot = match top_pos {
                        Some(case) => map.next_value_seed(MediaSlot {
                            ctx: &mut *ctx,
                            case,
                            case_id: case_id.as_deref(),
                        })?,
                        None => Some(map.next_value::<Value>()?),
                    };
                    match slot {
                        Some(v) => b.other("Media".into(), v),
                        None => streamed = true,
                    }
                }
                Key::Known(f, name) => {
                    let v: Value = map.next_value()?;
                    b.known(f, name, v);
                }
                Key::Other(k) => {
                    let v: Value = map.next_value()?;
                    if top_pos.is_some()
                        && case_id.is_none()
                        && matches!(k.as_str(), "CaseID" | "CaseNumber")
                    {
                        case_id = v.as_str().map(str::to_string);
                    }
                    b.other(k, v);
                }
            }
        }
        // A case with an empty or missing `Media` is still a case, not a
        // media record without hashes.
        if top_pos.is_some() && (streamed || b.looks_like_case()) {
            ctx.meta.cases.push(b.into_extra());
            return Ok(());
        }
        let flow = ctx.media(b, &self.at);
        stop(flow)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.scalar("an array")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar("a number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar("a number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar("a number")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar("a string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar("null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar("null")
    }
}

/// A top-level element's `Media` member: streamed when it is an array (the
/// element is then a case), otherwise kept as a plain value.
struct MediaSlot<'c, 's, 'o, 'a> {
    ctx: &'c mut Ctx<'s, 'o>,
    case: u64,
    case_id: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for MediaSlot<'_, '_, '_, '_> {
    type Value = Option<Value>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MediaSlot<'_, '_, '_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Media array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        ArraySeed {
            ctx: self.ctx,
            case: Some((self.case, self.case_id)),
            bare: false,
        }
        .visit_seq(seq)?;
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<Value>, E> {
        Ok(Some(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
}

/// An object key, recognised without allocating for the known names.
enum Key {
    Media,
    Known(F, Cow<'static, str>),
    Other(String),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<Key, E> {
        Ok(classify(k, || k.to_string()))
    }

    fn visit_string<E: de::Error>(self, k: String) -> Result<Key, E> {
        let key = classify(&k, String::new);
        Ok(match key {
            Key::Other(_) => Key::Other(k),
            other => other,
        })
    }
}

fn classify(k: &str, owned: impl FnOnce() -> String) -> Key {
    if k == "Media" {
        return Key::Media;
    }
    match field_of(k) {
        Some((canonical, f)) if canonical == k => Key::Known(f, Cow::Borrowed(canonical)),
        Some((_, f)) => Key::Known(f, Cow::Owned(k.to_string())),
        None => Key::Other(owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_urls() {
        let c = parse_context("http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml#Media");
        assert_eq!(c.version.as_deref(), Some("1.2"));
        assert_eq!(c.profile, None);
        assert_eq!(c.kind.as_deref(), Some("Media"));
        let c = parse_context(
            "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases",
        );
        assert_eq!(c.version.as_deref(), Some("2.0"));
        assert_eq!(c.profile.as_deref(), Some("US"));
        assert_eq!(c.kind.as_deref(), Some("Cases"));
        assert_eq!(parse_context("garbage"), Context::default());
    }
}
