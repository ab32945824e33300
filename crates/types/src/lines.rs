//! The capped line reader, the one copy in the workspace (hash lists,
//! NDJSON bundle files).
//!
//! `BufRead::read_line` buffers a whole "line", which for a binary file fed
//! in by mistake, or a file without newlines, is the whole file. Here a line
//! over the cap streams past and is reported as [`TooLong`], so memory stays
//! bounded by the cap whatever the input.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line longer than the cap: it was skipped, not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// Its 1-based line number.
    pub line: u64,
    /// The cap, in bytes.
    pub cap: usize,
    /// How many bytes it had (without its `\n`).
    pub bytes: u64,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} is longer than the cap of {} bytes ({} bytes)",
            self.line, self.cap, self.bytes
        )
    }
}

impl std::error::Error for TooLong {}

/// One line as read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The text without its `\n` / `\r\n` (and without a leading byte-order
    /// mark on line 1).
    Text(&'a str),
    /// Longer than the cap.
    TooLong(TooLong),
    /// Not UTF-8: `valid_up_to` is the offset of the first bad byte within
    /// `bytes`, the line as read (with the same stripping as `Text`).
    BadUtf8 { valid_up_to: usize, bytes: &'a [u8] },
}

impl<'a> Line<'a> {
    /// The text with invalid UTF-8 replaced by U+FFFD (for readers that
    /// report it as a bad field rather than a bad line), or the over-long
    /// line.
    pub fn lossy(self) -> Result<Cow<'a, str>, TooLong> {
        match self {
            Line::Text(t) => Ok(Cow::Borrowed(t)),
            Line::BadUtf8 { bytes, .. } => Ok(String::from_utf8_lossy(bytes)),
            Line::TooLong(t) => Err(t),
        }
    }
}

/// Reads lines of at most `cap` bytes from a `BufRead`.
#[derive(Debug)]
pub struct CappedLines<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    cap: usize,
}

impl<R: BufRead> CappedLines<R> {
    /// A reader that keeps lines of up to `cap` bytes.
    pub fn new(inner: R, cap: usize) -> Self {
        CappedLines {
            inner,
            buf: Vec::with_capacity(1024.min(cap)),
            line_no: 0,
            cap,
        }
    }

    /// Number of the line last returned (0 before the first).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line and its 1-based number; `None` at end of input. A
    /// final line without `\n` counts; a trailing `\n` adds no empty line.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
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
            if skipped > 0 || self.buf.len() + chunk.len() > self.cap {
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
            let too_long = TooLong {
                line: self.line_no,
                cap: self.cap,
                bytes: skipped,
            };
            return Ok(Some((self.line_no, Line::TooLong(too_long))));
        }
        let mut bytes = self.buf.as_slice();
        if self.line_no == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let line = match std::str::from_utf8(bytes) {
            Ok(s) => Line::Text(s),
            Err(e) => Line::BadUtf8 {
                valid_up_to: e.valid_up_to(),
                bytes,
            },
        };
        Ok(Some((self.line_no, line)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], cap: usize) -> Vec<String> {
        let mut r = CappedLines::new(io::BufReader::with_capacity(4, input), cap);
        let mut out = Vec::new();
        while let Some((n, l)) = r.next_line().unwrap() {
            out.push(match l {
                Line::Text(t) => format!("{n}:{t}"),
                Line::TooLong(t) => format!("{n}:{t}"),
                Line::BadUtf8 { valid_up_to, .. } => format!("{n}:bad at {valid_up_to}"),
            });
        }
        out
    }

    #[test]
    fn splits_strips_and_caps() {
        assert_eq!(
            all(b"\xEF\xBB\xBFab\r\n\ncdefghi\nxy", 6),
            vec![
                "1:ab",
                "2:",
                "3:line 3 is longer than the cap of 6 bytes (7 bytes)",
                "4:xy"
            ]
        );
        assert_eq!(all(b"a\xffb\n", 10), vec!["1:bad at 1"]);
        assert!(all(b"", 10).is_empty());
        // Only line 1 loses a byte-order mark.
        assert_eq!(all(b"a\n\xEF\xBB\xBFb", 10), vec!["1:a", "2:\u{feff}b"]);
    }

    #[test]
    fn trailing_newline_adds_no_line() {
        let mut l = CappedLines::new(&b"a\n"[..], 8);
        assert!(l.next_line().unwrap().is_some());
        assert_eq!(l.line_no(), 1);
        assert!(l.next_line().unwrap().is_none());
    }

    #[test]
    fn lossy_replaces_bad_bytes() {
        let mut l = CappedLines::new(&b"a\xffb\r\n"[..], 8);
        let (_, line) = l.next_line().unwrap().unwrap();
        assert_eq!(line.lossy().unwrap(), "a\u{fffd}b");
    }

    proptest::proptest! {
        /// Against a plain split: same lines, same numbers, over-long ones
        /// flagged, whatever the buffer size.
        #[test]
        fn matches_split_oracle(
            text in proptest::collection::vec(proptest::sample::select(vec![b'a', b'b', b'\n', b'\r', 0xEF, 0xBB, 0xBF]), 0..200),
            cap in 1usize..20,
            buffer in 1usize..16,
        ) {
            let mut r = CappedLines::new(io::BufReader::with_capacity(buffer, &text[..]), cap);
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
                    let l = if p.len() > cap {
                        Line::TooLong(TooLong { line: n, cap, bytes: p.len() as u64 })
                    } else {
                        let mut b = *p;
                        if n == 1 {
                            b = b.strip_prefix(BOM).unwrap_or(b);
                        }
                        b = b.strip_suffix(b"\r").unwrap_or(b);
                        match std::str::from_utf8(b) {
                            Ok(s) => Line::Text(s),
                            Err(e) => Line::BadUtf8 { valid_up_to: e.valid_up_to(), bytes: b },
                        }
                    };
                    want.push((n, format!("{l:?}")));
                }
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
