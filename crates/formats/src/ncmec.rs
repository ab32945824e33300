//! NCMEC Hash Sharing API v2 `/v2/entries` responses (spec/formats.md §2.6).
//!
//! ```text
//! queryResult
//! ├─ images @count @maxTimestamp   image* | deletedImage*
//! ├─ videos @count @maxTimestamp   video* | deletedVideo*
//! └─ paging/next                   URL of the next page
//! entry: member@id · timestamp · id · classification (A1…B2)
//!        · fingerprints{md5, sha1, pdna, pdq, …} · feedback{…}
//! ```
//!
//! Read with quick-xml's pull parser: only the entry being read is held in
//! memory (as a small element tree), never the document. Fingerprints we
//! model become hashes; every other part of an entry (member, timestamp,
//! feedback, unknown fingerprint kinds) is kept in `extra` as JSON
//! (`@attr` for attributes, `#text` for text beside children). `paging.next`
//! and the counts land in [`ListMeta::extra`] so a client can resume.
//!
//! Positions are line/column (bytes) of the entry's start tag. XML syntax
//! errors are document-level: XML has no safe place to resume after one.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::{Map, Value};

use crate::category::CategoryScheme;
use crate::error::{DocumentError, ImportError, Position, RecordError, RecordReason};
use crate::fields;
use crate::model::{Category, Format, ListEntry, ListMeta, PdqEntry};
use crate::{Emitter, ImportOptions, ImportSummary, Item};

/// Elements nested deeper than this inside one entry reject the entry: no
/// real entry comes close, and it bounds the recursion of the JSON conversion.
const MAX_DEPTH: usize = 32;

/// Longest run of bytes without a `<` or `>`: one text node or tag. quick-xml
/// buffers an event whole, so this bounds its memory.
const MAX_RUN: u64 = 4 << 20;

/// Most text one entry may hold (a real entry is about a kilobyte).
const MAX_ENTRY_TEXT: usize = 4 << 20;

/// Reads an NCMEC hash-sharing entries document.
pub fn read<R: BufRead>(
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    let mut emit = Emitter::new(sink, opts.include_deleted);
    let pos = Rc::new(PosState::default());
    let mut xml = Reader::from_reader(PosReader::new(reader, Rc::clone(&pos)));
    // Defaults kept on purpose: end-tag names are checked (a mismatched tag
    // is a broken document), text is not trimmed (so the position after the
    // previous event is where the next tag starts).
    let mut meta = ListMeta::new(Format::NcmecXml);
    meta.name = opts.list_name.clone();
    meta.source = opts.file_name.clone();
    let scheme = opts.category_scheme.unwrap_or(CategoryScheme::Industry);
    meta.category_scheme = Some(scheme);

    let mut buf = Vec::new();
    // Names of the open elements outside any entry.
    let mut outer: Vec<String> = Vec::new();
    let mut entry: Option<EntryBuilder> = None;
    let mut before = pos.here();
    let mut saw_root = false;
    let mut next = String::new();

    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                let error = xml_error(e, &pos);
                return Err(emit.fail(error));
            }
        };
        let start_pos = before;
        before = pos.here();

        if let Some(b) = entry.as_mut() {
            let done = match event {
                Event::Start(s) => {
                    b.open(&s);
                    false
                }
                Event::Empty(s) => {
                    b.open(&s);
                    b.close()
                }
                Event::End(_) => b.close(),
                Event::Text(t) => {
                    b.text(&t.xml10_content());
                    false
                }
                Event::CData(t) => {
                    b.text(&t.xml10_content());
                    false
                }
                Event::GeneralRef(r) => {
                    b.text(&resolve_ref(&r));
                    false
                }
                Event::Eof => {
                    return Err(emit.fail(DocumentError::Malformed {
                        format: Format::NcmecXml,
                        position: pos.line_col(),
                        reason: "document ends inside an entry".into(),
                    }));
                }
                _ => false,
            };
            if done && let Some(b) = entry.take() {
                let flow = match b.finish(scheme) {
                    Ok(e) => emit.entry(e),
                    Err(reason) => emit.reject(RecordError {
                        position: b.start.position(),
                        reason,
                    }),
                };
                if flow.is_break() {
                    break;
                }
            }
            continue;
        }

        match event {
            Event::Start(s) => {
                let name = local(&s);
                if !saw_root {
                    saw_root = true;
                    if name != "queryResult" {
                        return Err(emit.fail(DocumentError::NotThisFormat {
                            format: Format::NcmecXml,
                            reason: format!(
                                "root element <{name}> is not a hash-sharing <queryResult>"
                            ),
                        }));
                    }
                }
                if is_entry(&name) {
                    entry = Some(EntryBuilder::new(&s, start_pos));
                } else {
                    if matches!(name.as_str(), "images" | "videos") {
                        meta.extra.insert(name.clone(), Value::Object(attrs(&s)));
                    }
                    outer.push(name);
                }
            }
            Event::Empty(s) => {
                let name = local(&s);
                if !saw_root {
                    return Err(emit.fail(DocumentError::NotThisFormat {
                        format: Format::NcmecXml,
                        reason: format!("root element <{name}/> is empty"),
                    }));
                }
                if is_entry(&name) {
                    let mut b = EntryBuilder::new(&s, start_pos);
                    b.close();
                    let flow = match b.finish(scheme) {
                        Ok(e) => emit.entry(e),
                        Err(reason) => emit.reject(RecordError {
                            position: start_pos.position(),
                            reason,
                        }),
                    };
                    if flow.is_break() {
                        break;
                    }
                }
            }
            Event::End(_) => {
                outer.pop();
            }
            // A DTD is never fetched or expanded; one that declares entities
            // is built to attack parsers that do ("billion laughs").
            Event::DocType(d) if AsRef::<str>::as_ref(&d).contains("<!ENTITY") => {
                return Err(emit.fail(DocumentError::Malformed {
                    format: Format::NcmecXml,
                    position: start_pos.position(),
                    reason: "the DOCTYPE declares entities (<!ENTITY ...>); entity declarations are refused, never expanded".into(),
                }));
            }
            // `paging/next` is the only text outside entries we need.
            Event::Text(t) if outer.last().map(String::as_str) == Some("next") => {
                next.push_str(&t.xml10_content())
            }
            Event::GeneralRef(r) if outer.last().map(String::as_str) == Some("next") => {
                next.push_str(&resolve_ref(&r))
            }
            Event::Eof => {
                // A page cut short must not pass for a complete one: the
                // caller would resume after entries it never saw.
                if let Some(open) = outer.last() {
                    return Err(emit.fail(DocumentError::Malformed {
                        format: Format::NcmecXml,
                        position: pos.line_col(),
                        reason: format!("document ends inside <{open}>"),
                    }));
                }
                break;
            }
            _ => {}
        }
    }
    if !saw_root && !emit.stopped {
        return Err(emit.fail(DocumentError::Empty(Format::NcmecXml)));
    }
    if !next.trim().is_empty() {
        meta.extra.insert("next".into(), Value::from(next.trim()));
    }
    Ok(emit.finish(meta))
}

fn is_entry(name: &str) -> bool {
    matches!(name, "image" | "video" | "deletedImage" | "deletedVideo")
}

fn local(s: &BytesStart<'_>) -> String {
    let name = s.local_name();
    let n: &str = name.as_ref();
    n.to_string()
}

/// Attributes as `{"name": "value"}`; malformed attributes are skipped (the
/// reader reports truly broken markup itself).
fn attrs(s: &BytesStart<'_>) -> Map<String, Value> {
    let mut m = Map::new();
    for a in s.attributes().flatten() {
        let key = a.key.local_name();
        let key: &str = key.as_ref();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_or_else(|_| a.value.to_string(), |v| v.into_owned());
        m.insert(key.to_string(), Value::from(value));
    }
    m
}

/// `&amp;` and friends, `&#x41;`; an unknown entity is kept as written.
fn resolve_ref(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    let name: &str = r;
    match quick_xml::escape::resolve_predefined_entity(name) {
        Some(s) => s.to_string(),
        None => format!("&{name};"),
    }
}

fn xml_error(e: quick_xml::Error, pos: &PosState) -> DocumentError {
    if pos.too_long.get() {
        return DocumentError::Malformed {
            format: Format::NcmecXml,
            position: pos.line_col(),
            reason: format!("more than {MAX_RUN} bytes of text or markup without a tag"),
        };
    }
    match e {
        quick_xml::Error::Io(io) => DocumentError::Io(io::Error::new(io.kind(), io.to_string())),
        other => DocumentError::Malformed {
            format: Format::NcmecXml,
            position: pos.line_col(),
            reason: other.to_string(),
        },
    }
}

// --- one entry ----------------------------------------------------------------

/// A small element tree of one entry.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Map<String, Value>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    /// `text` alone when the element has neither attributes nor children,
    /// else an object with `@attr`, children by name (arrays when repeated)
    /// and `#text`.
    fn to_json(&self) -> Value {
        let text = self.text.trim();
        if self.attrs.is_empty() && self.children.is_empty() {
            return Value::from(text);
        }
        let mut m = Map::new();
        for (k, v) in &self.attrs {
            m.insert(format!("@{k}"), v.clone());
        }
        for c in &self.children {
            let v = c.to_json();
            match m.get_mut(&c.name) {
                Some(Value::Array(a)) => a.push(v),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, v]);
                }
                None => {
                    m.insert(c.name.clone(), v);
                }
            }
        }
        if !text.is_empty() {
            m.insert("#text".into(), Value::from(text));
        }
        Value::Object(m)
    }
}

struct EntryBuilder {
    start: Here,
    /// Open elements; `stack[0]` is the entry element itself.
    stack: Vec<Node>,
    done: Option<Node>,
    /// Set when the entry nests deeper than [`MAX_DEPTH`].
    too_deep: bool,
    /// Text kept so far, and whether more than [`MAX_ENTRY_TEXT`] came.
    text_bytes: usize,
    too_big: bool,
    /// Elements opened beyond the depth limit and not yet closed.
    skipped: usize,
}

impl EntryBuilder {
    fn new(s: &BytesStart<'_>, start: Here) -> Self {
        let root = Node {
            name: local(s),
            attrs: attrs(s),
            ..Node::default()
        };
        EntryBuilder {
            start,
            stack: vec![root],
            done: None,
            too_deep: false,
            text_bytes: 0,
            too_big: false,
            skipped: 0,
        }
    }

    fn open(&mut self, s: &BytesStart<'_>) {
        if self.skipped > 0 || self.stack.len() >= MAX_DEPTH {
            self.too_deep = true;
            self.skipped += 1;
            return;
        }
        self.stack.push(Node {
            name: local(s),
            attrs: attrs(s),
            ..Node::default()
        });
    }

    /// Closes the innermost element; `true` when that was the entry itself.
    fn close(&mut self) -> bool {
        if self.skipped > 0 {
            self.skipped -= 1;
            return false;
        }
        let Some(node) = self.stack.pop() else {
            return true;
        };
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children.push(node);
                false
            }
            None => {
                self.done = Some(node);
                true
            }
        }
    }

    fn text(&mut self, t: &str) {
        if self.skipped > 0 || self.too_big {
            return;
        }
        self.text_bytes += t.len();
        if self.text_bytes > MAX_ENTRY_TEXT {
            self.too_big = true;
            return;
        }
        if let Some(n) = self.stack.last_mut() {
            n.text.push_str(t);
        }
    }

    fn finish(&self, scheme: CategoryScheme) -> Result<ListEntry, RecordReason> {
        if self.too_deep {
            return Err(RecordReason::BadValue {
                field: "entry".into(),
                reason: format!("elements nested more than {MAX_DEPTH} deep"),
            });
        }
        if self.too_big {
            return Err(RecordReason::BadValue {
                field: "entry".into(),
                reason: format!("more than {MAX_ENTRY_TEXT} bytes of text"),
            });
        }
        let Some(root) = self.done.as_ref() else {
            return Err(RecordReason::BadValue {
                field: "entry".into(),
                reason: "unclosed entry".into(),
            });
        };
        entry_from_node(root, scheme)
    }
}

fn entry_from_node(root: &Node, scheme: CategoryScheme) -> Result<ListEntry, RecordReason> {
    let deleted = root.name.starts_with("deleted");
    let kind = if root.name.eq_ignore_ascii_case("image") || root.name == "deletedImage" {
        "image"
    } else {
        "video"
    };
    let mut e = ListEntry {
        deleted,
        ..ListEntry::default()
    };
    e.extra.insert("mediaType".into(), Value::from(kind));
    for (k, v) in &root.attrs {
        e.extra.insert(format!("@{k}"), v.clone());
    }
    for c in &root.children {
        let text = c.text.trim();
        match c.name.as_str() {
            "id" if c.children.is_empty() => {
                e.source_id = Some(text.to_string()).filter(|s| !s.is_empty())
            }
            "classification" if c.children.is_empty() => {
                if !text.is_empty() {
                    e.category = Some(Category::new(scheme, text));
                }
            }
            "fingerprints" => fingerprints(c, &mut e)?,
            _ => insert_child(&mut e.extra, &c.name, c.to_json()),
        }
    }
    if !deleted && !e.has_hash() {
        return Err(RecordReason::NoHash);
    }
    Ok(e)
}

fn insert_child(m: &mut Map<String, Value>, name: &str, v: Value) {
    match m.get_mut(name) {
        Some(Value::Array(a)) => a.push(v),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, v]);
        }
        None => {
            m.insert(name.to_string(), v);
        }
    }
}

/// `md5`, `sha1`, `sha256`, `pdna`, `pdq` become hashes; other kinds
/// (NETCLEAN, VIDENTIFIER, TMK_PDQF, …) stay in `extra.fingerprints`.
fn fingerprints(node: &Node, e: &mut ListEntry) -> Result<(), RecordReason> {
    let mut other = Map::new();
    for f in &node.children {
        let v = f.text.trim();
        let field = format!("fingerprints.{}", f.name);
        match f.name.to_ascii_lowercase().as_str() {
            "md5" => e.md5 = fields::digest(&field, v)?,
            "sha1" => e.sha1 = fields::digest(&field, v)?,
            "sha256" => e.sha256 = fields::digest(&field, v)?,
            "pdq" => {
                e.pdq = fields::pdq(&field, v)?.map(|hash| PdqEntry {
                    hash,
                    quality: None,
                })
            }
            "pdna" | "photodna" if !v.is_empty() => e.photodna = Some(v.to_string()),
            _ => insert_child(&mut other, &f.name, f.to_json()),
        }
    }
    if !other.is_empty() {
        e.extra.insert("fingerprints".into(), Value::Object(other));
    }
    Ok(())
}

// --- positions ----------------------------------------------------------------

/// Line/column bookkeeping shared between the reader wrapper and the loop.
#[derive(Debug, Default)]
struct PosState {
    offset: Cell<u64>,
    line: Cell<u64>,
    line_start: Cell<u64>,
    /// Bytes consumed since the last `<` or `>`.
    run: Cell<u64>,
    /// The run passed [`MAX_RUN`] and reading stopped.
    too_long: Cell<bool>,
}

/// A point in the input.
#[derive(Debug, Clone, Copy)]
struct Here {
    line: u64,
    column: u64,
}

impl Here {
    fn position(&self) -> Position {
        Position::LineColumn {
            line: self.line,
            column: self.column,
        }
    }
}

impl PosState {
    fn here(&self) -> Here {
        Here {
            line: self.line.get() + 1,
            column: self.offset.get().saturating_sub(self.line_start.get()) + 1,
        }
    }
    fn line_col(&self) -> Position {
        self.here().position()
    }
}

/// A `BufRead` that counts lines in what its consumer consumes. quick-xml
/// consumes exactly the bytes of each event, so after an event the count is
/// the position of the next one.
struct PosReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    state: Rc<PosState>,
}

impl<R: Read> PosReader<R> {
    fn new(inner: R, state: Rc<PosState>) -> Self {
        PosReader {
            inner,
            buf: vec![0; 64 * 1024].into_boxed_slice(),
            pos: 0,
            cap: 0,
            state,
        }
    }
}

impl<R: Read> Read for PosReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            if let (Some(d), Some(s)) = (out.get_mut(..n), avail.get(..n)) {
                d.copy_from_slice(s);
            }
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for PosReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.state.run.get() > MAX_RUN {
            self.state.too_long.set(true);
            return Err(io::Error::other("run without a tag over the limit"));
        }
        if self.pos >= self.cap {
            self.cap = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.pos = 0;
        }
        Ok(self.buf.get(self.pos..self.cap).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        let end = (self.pos + amt).min(self.cap);
        let s = &self.state;
        if let Some(chunk) = self.buf.get(self.pos..end) {
            let base = s.offset.get();
            let mut run = s.run.get();
            for (i, &b) in chunk.iter().enumerate() {
                if b == b'\n' {
                    s.line.set(s.line.get() + 1);
                    s.line_start.set(base + i as u64 + 1);
                }
                run = if b == b'<' || b == b'>' { 0 } else { run + 1 };
            }
            s.run.set(run);
            s.offset.set(base + chunk.len() as u64);
        }
        self.pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_json_shapes() {
        let n = Node {
            name: "member".into(),
            attrs: [("id".to_string(), Value::from("42"))]
                .into_iter()
                .collect(),
            text: " Example ".into(),
            children: vec![],
        };
        assert_eq!(
            n.to_json(),
            serde_json::json!({"@id": "42", "#text": "Example"})
        );
        let leaf = Node {
            name: "x".into(),
            text: "1".into(),
            ..Node::default()
        };
        assert_eq!(leaf.to_json(), Value::from("1"));
    }
}
