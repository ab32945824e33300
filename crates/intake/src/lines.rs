//! A line reader with a length cap for NDJSON files.
//!
//! `BufRead::read_line` buffers a whole "line", which for a file without
//! newlines is the whole file. Here a line over the cap streams past and is
//! reported, so memory stays bounded by the cap whatever the input.

use std::io::{self, BufRead};

/// One line as read.
#[derive(Debug)]
pub(crate) enum Line<'a> {
    /// The text without its `\n` / `\r\n` (and without a leading byte-order
    /// mark on line 1).
    Text(&'a str),
    /// Longer than the cap: this many bytes were skipped.
    TooLong(u64),
    /// Not UTF-8: the byte offset of the first bad byte within the line.
    BadUtf8(usize),
}

pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    max: usize,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(1024),
            line_no: 0,
            max,
        }
    }

    /// Number of the line last returned (0 before the first).
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line and its 1-based number; `None` at end of input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut skipped: u64 = 0;
        let mut seen_any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            seen_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (available.get(..i).unwrap_or_default(), i + 1, true),
                None => (available, available.len(), false),
            };
            if skipped > 0 || self.buf.len() + chunk.len() > self.max {
                skipped += (self.buf.len() + chunk.len()) as u64;
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(chunk);
            }
            self.inner.consume(used);
            if done {
                break;
            }
        }
        if !seen_any {
            return Ok(None);
        }
        self.line_no += 1;
        if skipped > 0 {
            return Ok(Some((self.line_no, Line::TooLong(skipped))));
        }
        let mut bytes = self.buf.as_slice();
        if self.line_no == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        if let Some(stripped) = bytes.strip_suffix(b"\r") {
            bytes = stripped;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Some((self.line_no, Line::Text(s)))),
            Err(e) => Ok(Some((self.line_no, Line::BadUtf8(e.valid_up_to())))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], max: usize) -> Vec<String> {
        let mut r = LineReader::new(io::BufReader::with_capacity(4, input), max);
        let mut out = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            out.push(format!("{n}:{l:?}"));
        }
        out
    }

    #[test]
    fn splits_strips_and_caps() {
        assert_eq!(
            all(b"\xEF\xBB\xBFab\r\n\ncdefghi\nxy", 6),
            vec![
                "1:Text(\"ab\")",
                "2:Text(\"\")",
                "3:TooLong(7)",
                "4:Text(\"xy\")"
            ]
        );
        assert_eq!(all(b"a\xffb\n", 10), vec!["1:BadUtf8(1)"]);
        assert!(all(b"", 10).is_empty());
    }

    proptest::proptest! {
        /// Against a plain split: same lines, same numbers, over-long ones
        /// flagged, whatever the buffer size.
        #[test]
        fn matches_split_oracle(
            text in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b'\n', b'\r', 0xEF, 0xBB, 0xBF]), 0..200),
            max in 1usize..20,
            cap in 1usize..16,
        ) {
            let mut r = LineReader::new(io::BufReader::with_capacity(cap, &text[..]), max);
            let mut got = Vec::new();
            while let Some((n, l)) = r.next_line().unwrap() {
                got.push((n, format!("{l:?}")));
            }
            let mut want = Vec::new();
            if !text.is_empty() {
                let mut parts: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
                if text.last() == Some(&b'\n') {
                    parts.pop();
                }
                for (i, p) in parts.iter().enumerate() {
                    let n = i as u64 + 1;
                    let l = if p.len() > max {
                        Line::TooLong(p.len() as u64)
                    } else {
                        let mut b = *p;
                        if n == 1 {
                            b = b.strip_prefix(BOM).unwrap_or(b);
                        }
                        b = b.strip_suffix(b"\r").unwrap_or(b);
                        match std::str::from_utf8(b) {
                            Ok(s) => Line::Text(s),
                            Err(e) => Line::BadUtf8(e.valid_up_to()),
                        }
                    };
                    want.push((n, format!("{l:?}")));
                }
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
