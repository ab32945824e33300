//! A line reader with a length cap, for the line formats.
//!
//! `BufRead::read_line` would buffer a whole "line" — which, for a binary file
//! fed in by mistake, can be the whole file. Here a line over the cap is
//! skipped as it streams past and reported, so memory stays bounded.

use std::borrow::Cow;
use std::io::{self, BufRead};

/// Longest line kept: far above any real hash-list line.
pub(crate) const MAX_LINE: usize = 1 << 20;

pub(crate) struct Lines<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    max: usize,
}

/// One line: its 1-based number and its text, or that it was too long.
pub(crate) type Line<'a> = (u64, Result<Cow<'a, str>, usize>);

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(inner: R) -> Self {
        Lines {
            inner,
            buf: Vec::new(),
            line_no: 0,
            max: MAX_LINE,
        }
    }

    #[cfg(test)]
    fn with_max(inner: R, max: usize) -> Self {
        Lines {
            inner,
            buf: Vec::new(),
            line_no: 0,
            max,
        }
    }

    /// The next line without its `\n`/`\r\n` (and, on line 1, without a
    /// byte-order mark); `None` at end of input. Invalid UTF-8 is replaced
    /// with U+FFFD so the caller reports it as a bad field.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut too_long = false;
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
            let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (available.get(..i).unwrap_or_default(), i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.max {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
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
        if too_long {
            return Ok(Some((self.line_no, Err(self.max))));
        }
        let mut bytes: &[u8] = &self.buf;
        if self.line_no == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        Ok(Some((self.line_no, Ok(String::from_utf8_lossy(bytes)))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_caps() {
        let data = b"\xEF\xBB\xBFone\r\ntwo\n\nxxxxxxxxxxxx\nlast";
        let mut l = Lines::with_max(&data[..], 8);
        let mut got = Vec::new();
        while let Some((n, t)) = l.next_line().unwrap() {
            got.push((n, t.map(|c| c.into_owned())));
        }
        assert_eq!(
            got,
            vec![
                (1, Ok("one".to_string())),
                (2, Ok("two".to_string())),
                (3, Ok(String::new())),
                (4, Err(8)),
                (5, Ok("last".to_string())),
            ]
        );
    }

    #[test]
    fn trailing_newline_adds_no_line() {
        let mut l = Lines::new(&b"a\n"[..]);
        assert!(l.next_line().unwrap().is_some());
        assert!(l.next_line().unwrap().is_none());
    }
}
