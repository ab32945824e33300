//! The input of a VICS import, buffered in large chunks, and a string-aware
//! scanner that finds where the next JSON value ends.
//!
//! serde_json's reader path pulls one byte at a time through `io::Read`,
//! which was the largest single cost of an import. Instead the document's
//! frame (root object, `value` array, separators) is walked here, and each
//! record is handed to serde_json as a slice (`from_slice`, which parses
//! strings with memchr and without per-byte calls). Memory stays bounded by
//! the largest record: the buffer only ever holds the record being scanned.
//!
//! Records that should not be parsed whole — a case whose `Media` array is
//! streamed element by element, or anything over [`SLICE_CAP`] — go through
//! serde_json's reader path instead, with [`Chunks`] as the reader (the
//! bytes already buffered are replayed first).

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Records up to this size are parsed from a slice; larger ones stream.
pub(crate) const SLICE_CAP: usize = 4 << 20;

/// How much is asked of the underlying reader at a time.
const READ_CHUNK: usize = 256 * 1024;

/// What [`Chunks::scan_value`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The value is the next `len` bytes, all buffered.
    Complete(usize),
    /// Parse it streaming: a case (`Media` key), too large, or cut off by
    /// the end of the input (serde_json then reports where).
    Stream,
    /// A bare literal (number, `true`, garbage) longer than [`SLICE_CAP`].
    TooLong,
}

/// A line and column as serde_json counts them: 1-based line; column = bytes
/// consumed on that line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineCol {
    pub line: u64,
    pub column: u64,
}

/// Buffered input with absolute byte offsets and lazy line counting.
pub(crate) struct Chunks<R> {
    inner: R,
    buf: Vec<u8>,
    /// Next unconsumed byte.
    pos: usize,
    /// Bytes of `buf` that hold input.
    end: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Lines are counted up to this input offset…
    tracked: u64,
    /// …which is on this line…
    line: u64,
    /// …which starts at this input offset.
    line_start: u64,
    /// Offset of the next byte, published while serde_json reads through
    /// [`Read`] (nested records take their byte offsets from it).
    count: Rc<Cell<u64>>,
}

impl<R: Read> Chunks<R> {
    /// `start` is the input offset of the first byte `inner` yields, at
    /// `start_at` (line/column as already counted by the caller).
    pub(crate) fn new(inner: R, start: u64, start_at: LineCol, count: Rc<Cell<u64>>) -> Self {
        count.set(start);
        Chunks {
            inner,
            buf: vec![0; READ_CHUNK],
            pos: 0,
            end: 0,
            base: start,
            eof: false,
            tracked: start,
            line: start_at.line,
            line_start: start.saturating_sub(start_at.column),
            count,
        }
    }

    /// Input offset of the next unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Counts lines up to input offset `to` (buffered, not before `tracked`).
    fn track(&mut self, to: u64) {
        if to <= self.tracked {
            return;
        }
        let from = usize::try_from(self.tracked.saturating_sub(self.base)).unwrap_or(usize::MAX);
        let upto = usize::try_from(to - self.base).unwrap_or(usize::MAX);
        if let Some(bytes) = self.buf.get(from..upto.min(self.end))
            && let Some(last) = memchr::memrchr(b'\n', bytes)
        {
            self.line += memchr::memchr_iter(b'\n', bytes).count() as u64;
            self.line_start = self.tracked + last as u64 + 1;
        }
        self.tracked = to;
    }

    /// Line and column of input offset `at` (must still be buffered).
    /// `consumed` counts the byte at `at` as read, as serde_json does for a
    /// byte it has peeked at.
    pub(crate) fn line_col(&mut self, at: u64, consumed: bool) -> LineCol {
        self.track(at);
        let column = at.saturating_sub(self.line_start) + u64::from(consumed);
        LineCol {
            line: self.line,
            column,
        }
    }

    /// Where the input ends (after [`Chunks::peek_nonws`] returned `None`).
    pub(crate) fn eof_position(&mut self) -> LineCol {
        let end = self.base + self.end as u64;
        self.line_col(end, false)
    }

    /// Reads more input, keeping `buf[keep..]`; `false` at the end of input.
    /// Offsets into the buffer shift by `keep`: callers re-derive them.
    fn refill(&mut self, keep: usize) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let keep = keep.min(self.end);
        if keep > 0 {
            self.track(self.base + keep as u64);
            self.buf.copy_within(keep..self.end, 0);
            self.end -= keep;
            self.pos -= keep.min(self.pos);
            self.base += keep as u64;
        }
        if self.buf.len() - self.end < READ_CHUNK / 2 {
            let grown = (self.buf.len() * 2).max(self.end + READ_CHUNK);
            self.buf.resize(grown, 0);
        }
        loop {
            let Some(room) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.inner.read(room) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Skips whitespace; the next byte without consuming it, `None` at the
    /// end of input.
    pub(crate) fn peek_nonws(&mut self) -> io::Result<Option<u8>> {
        loop {
            let rest = self.buf.get(self.pos..self.end).unwrap_or_default();
            match rest
                .iter()
                .position(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
            {
                Some(n) => {
                    self.pos += n;
                    return Ok(rest.get(n).copied());
                }
                None => {
                    self.pos = self.end;
                    if !self.refill(self.pos)? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Consumes `n` buffered bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// The next `n` buffered bytes.
    pub(crate) fn slice(&self, n: usize) -> &[u8] {
        let to = (self.pos + n).min(self.end);
        self.buf.get(self.pos..to).unwrap_or_default()
    }

    /// Finds the end of the value starting at the next byte (not
    /// whitespace), buffering as needed; consumes nothing. With
    /// `spot_cases`, an object with a `Media` key (or any key written with
    /// escapes, which might spell it) is [`Scan::Stream`].
    pub(crate) fn scan_value(&mut self, spot_cases: bool) -> io::Result<Scan> {
        let mut s = Scanner::default();
        let mut i = 0usize;
        loop {
            let rest = self.buf.get(self.pos + i..self.end).unwrap_or_default();
            match s.run(rest, spot_cases) {
                Step::Done(n) => return Ok(Scan::Complete(i + n)),
                Step::Stream => return Ok(Scan::Stream),
                Step::More => {}
            }
            i += rest.len();
            if i > SLICE_CAP {
                return Ok(if s.literal {
                    Scan::TooLong
                } else {
                    Scan::Stream
                });
            }
            if !self.refill(self.pos)? {
                // A literal ends at the end of input; anything else is cut
                // off, and serde_json reading it says where.
                return Ok(if s.literal && i > 0 {
                    Scan::Complete(i)
                } else {
                    Scan::Stream
                });
            }
        }
    }
}

/// Resumable scanning state: the scan can stop at the end of the buffer and
/// go on after a refill.
#[derive(Debug, Default)]
struct Scanner {
    started: bool,
    /// The value is a bare literal (number, `true`, …), ended by a delimiter.
    literal: bool,
    /// The value is an object (only then are keys looked at).
    object: bool,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// In a string that is a key of the top-level object.
    in_key: bool,
    /// The next string at depth 1 is a key.
    key_next: bool,
    /// Bytes of the key so far (only the first few matter).
    key: [u8; 6],
    key_len: usize,
    key_escaped: bool,
}

enum Step {
    /// The value ends after this many bytes of the chunk.
    Done(usize),
    Stream,
    /// The chunk ended inside the value.
    More,
}

impl Scanner {
    fn run(&mut self, chunk: &[u8], spot_cases: bool) -> Step {
        let mut i = 0usize;
        if !self.started {
            let Some(&first) = chunk.first() else {
                return Step::More;
            };
            self.started = true;
            match first {
                b'{' => {
                    self.object = true;
                    self.depth = 1;
                    self.key_next = true;
                }
                b'[' => self.depth = 1,
                b'"' => self.in_string = true,
                _ => self.literal = true,
            }
            i = 1;
        }
        if self.literal {
            let rest = chunk.get(i..).unwrap_or_default();
            return match rest.iter().position(|&b| is_delimiter(b)) {
                Some(n) => Step::Done(i + n),
                None => Step::More,
            };
        }
        while i < chunk.len() {
            if self.in_string {
                let rest = chunk.get(i..).unwrap_or_default();
                if self.escape {
                    // The escaped byte; `\u` digits need no special care.
                    self.escape = false;
                    i += 1;
                    continue;
                }
                let Some(n) = memchr::memchr2(b'"', b'\\', rest) else {
                    self.key_bytes(rest);
                    return Step::More;
                };
                self.key_bytes(rest.get(..n).unwrap_or_default());
                i += n + 1;
                if rest.get(n) == Some(&b'\\') {
                    self.escape = true;
                    self.key_escaped |= self.in_key;
                    continue;
                }
                self.in_string = false;
                if self.depth == 0 {
                    return Step::Done(i);
                }
                if self.in_key {
                    self.in_key = false;
                    let media = self.key_len == 5 && self.key.starts_with(b"Media");
                    if spot_cases && (media || self.key_escaped) {
                        return Step::Stream;
                    }
                }
                continue;
            }
            let b = chunk.get(i).copied().unwrap_or(b' ');
            i += 1;
            match b {
                b'"' => {
                    self.in_string = true;
                    if self.object && self.depth == 1 && self.key_next {
                        self.key_next = false;
                        self.in_key = true;
                        self.key_len = 0;
                        self.key_escaped = false;
                    }
                }
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Step::Done(i);
                    }
                }
                b',' if self.depth == 1 => self.key_next = true,
                _ => {}
            }
        }
        Step::More
    }

    fn key_bytes(&mut self, bytes: &[u8]) {
        if !self.in_key {
            return;
        }
        for &b in bytes {
            if let Some(slot) = self.key.get_mut(self.key_len) {
                *slot = b;
            }
            self.key_len = self.key_len.saturating_add(1);
        }
    }
}

/// What ends a bare literal. Only what may legally follow one: anything
/// else stays in the literal, so serde_json reports it where the reference
/// (whole-document) parse does.
fn is_delimiter(b: u8) -> bool {
    matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t')
}

/// serde_json's reader path over the buffer (bytes already buffered first),
/// publishing the offset for nested records.
impl<R: Read> Read for Chunks<R> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end && !self.refill(self.pos)? {
            return Ok(0);
        }
        let avail = self.buf.get(self.pos..self.end).unwrap_or_default();
        let n = if let ([o], [b, ..]) = (&mut *out, avail) {
            // serde_json asks for one byte at a time: skip the generic copy.
            *o = *b;
            1
        } else {
            let n = avail.len().min(out.len());
            if let (Some(d), Some(src)) = (out.get_mut(..n), avail.get(..n)) {
                d.copy_from_slice(src);
            }
            n
        };
        self.pos += n;
        self.count.set(self.base + self.pos as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8], step: usize) -> Chunks<Trickle<'_>> {
        Chunks::new(
            Trickle { data, step },
            0,
            LineCol { line: 1, column: 0 },
            Rc::new(Cell::new(0)),
        )
    }

    /// Hands out at most `step` bytes a read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            let (head, tail) = self.data.split_at(n);
            out.get_mut(..n).unwrap_or_default().copy_from_slice(head);
            self.data = tail;
            Ok(n)
        }
    }

    #[test]
    fn scans_values_with_tricky_strings() {
        for step in [1, 2, 3, 7, 1000] {
            let doc = br#"{"a":"}]\"{[","b":[1,{"c":"\\"}]} , 42 ,"x\"y" ,true]"#;
            let mut c = chunks(doc, step);
            assert_eq!(c.peek_nonws().unwrap(), Some(b'{'));
            let Scan::Complete(n) = c.scan_value(true).unwrap() else {
                panic!("step {step}")
            };
            assert_eq!(c.slice(n), &br#"{"a":"}]\"{[","b":[1,{"c":"\\"}]}"#[..]);
            c.consume(n);
            assert_eq!(c.peek_nonws().unwrap(), Some(b','));
            c.consume(1);
            c.peek_nonws().unwrap();
            assert_eq!(c.scan_value(true).unwrap(), Scan::Complete(2));
            c.consume(2);
            c.peek_nonws().unwrap();
            c.consume(1);
            c.peek_nonws().unwrap();
            let Scan::Complete(n) = c.scan_value(true).unwrap() else {
                panic!()
            };
            assert_eq!(c.slice(n), &br#""x\"y""#[..]);
        }
    }

    #[test]
    fn spots_cases_and_escaped_keys() {
        for doc in [
            &br#"{"CaseID":"{A}","Media":[{"MD5":"x"}]}"#[..],
            br#"{"Medi\u0061":[]}"#,
        ] {
            let mut c = chunks(doc, 3);
            c.peek_nonws().unwrap();
            assert_eq!(c.scan_value(true).unwrap(), Scan::Stream);
            let mut c = chunks(doc, 3);
            c.peek_nonws().unwrap();
            assert_eq!(c.scan_value(false).unwrap(), Scan::Complete(doc.len()));
        }
        // A value "Media", or a nested key, is not a case.
        let doc = br#"{"Series":"Media","X":{"Media":[]},"MediaSize":1}"#;
        let mut c = chunks(doc, 5);
        c.peek_nonws().unwrap();
        assert_eq!(c.scan_value(true).unwrap(), Scan::Complete(doc.len()));
    }

    #[test]
    fn cut_off_values_stream() {
        let mut c = chunks(br#"{"a":[1,2"#, 4);
        c.peek_nonws().unwrap();
        assert_eq!(c.scan_value(true).unwrap(), Scan::Stream);
        let mut c = chunks(b"123", 1);
        c.peek_nonws().unwrap();
        assert_eq!(c.scan_value(true).unwrap(), Scan::Complete(3));
    }

    #[test]
    fn line_and_column() {
        let doc = b"ab\ncd\n\nefg";
        let mut c = chunks(doc, 2);
        while c.peek_nonws().unwrap() != Some(b'f') {
            c.consume(1);
        }
        let at = c.offset();
        assert_eq!(c.line_col(at, true), LineCol { line: 4, column: 2 });
        c.consume(2);
        assert_eq!(c.peek_nonws().unwrap(), None);
        assert_eq!(c.eof_position(), LineCol { line: 4, column: 3 });
    }
}
