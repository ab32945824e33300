//! One PDQ hash a line: `hex`, `hex,quality`, or `hex,quality,more…`.
//!
//! This is what Meta's `pdq-photo-hasher` prints (`hash,quality,filename`) and
//! what the PDQ regression lists (`needles.txt`) hold. Fields may be separated
//! by commas, tabs or spaces. Blank lines and `#` comments are skipped. A
//! second field that is not a number is kept as an extra field rather than
//! rejected: some lists put a name there.

use std::io::BufRead;
use std::ops::ControlFlow;

use serde_json::Value;
use tiaki_types::lines::CappedLines;

use crate::MAX_LINE;
use crate::error::{DocumentError, ImportError, Position, RecordError, RecordReason};
use crate::fields;
use crate::model::{Format, ListEntry, ListMeta, PdqEntry};
use crate::{Emitter, ImportOptions, ImportSummary, Item};

/// Key in [`ListEntry::extra`] for fields after the hash and quality.
pub const EXTRA_FIELDS: &str = "fields";

/// Reads PDQ lines, one entry a hash.
pub fn read<R: BufRead>(
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    let mut emit = Emitter::new(sink, opts.include_deleted);
    let mut lines = CappedLines::new(reader, MAX_LINE);
    loop {
        let (line_no, text) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => return Err(emit.fail(DocumentError::Io(e))),
        };
        let position = Position::Line { line: line_no };
        let flow = match text.lossy() {
            Err(too_long) => emit.reject(RecordError {
                position,
                reason: RecordReason::LineTooLong(too_long.cap),
            }),
            Ok(text) => match parse_line(&text) {
                None => ControlFlow::Continue(()),
                Some(Ok(entry)) => emit.entry(entry),
                Some(Err(reason)) => emit.reject(RecordError { position, reason }),
            },
        };
        if flow.is_break() {
            break;
        }
    }
    let mut meta = ListMeta::new(Format::PdqLines);
    meta.name = opts.list_name.clone();
    meta.source = opts.file_name.clone();
    Ok(emit.finish(meta))
}

/// `None` for blank and comment lines.
fn parse_line(line: &str) -> Option<Result<ListEntry, RecordReason>> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let parts: Vec<&str> = if t.contains(',') {
        t.split(',').map(str::trim).collect()
    } else if t.contains('\t') {
        t.split('\t').map(str::trim).collect()
    } else {
        t.split_whitespace().collect()
    };
    Some(entry_from_parts(&parts))
}

fn entry_from_parts(parts: &[&str]) -> Result<ListEntry, RecordReason> {
    let mut it = parts.iter();
    let hex = it.next().copied().unwrap_or("");
    let hash = fields::pdq("pdq", hex)?.ok_or(RecordReason::NoHash)?;
    let mut quality = None;
    let mut rest: Vec<Value> = Vec::new();
    if let Some(q) = it.next() {
        if q.bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
            && !q.is_empty()
        {
            quality = Some(fields::quality("quality", q)?);
        } else {
            rest.push(Value::from(*q));
        }
    }
    rest.extend(it.map(|s| Value::from(*s)));
    let mut e = ListEntry {
        pdq: Some(PdqEntry { hash, quality }),
        ..ListEntry::default()
    };
    if !rest.is_empty() {
        e.extra.insert(EXTRA_FIELDS.into(), Value::Array(rest));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let h = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
        let e = parse_line(h).unwrap().unwrap();
        assert_eq!(e.pdq.unwrap().quality, None);
        let e = parse_line(&format!(" {h} , 90 , b.jpg ")).unwrap().unwrap();
        assert_eq!(e.pdq.unwrap().quality, Some(90));
        assert_eq!(e.extra[EXTRA_FIELDS], serde_json::json!(["b.jpg"]));
        let e = parse_line(&format!("{h}\tname")).unwrap().unwrap();
        assert_eq!(e.pdq.unwrap().quality, None);
        assert!(parse_line("# comment").is_none());
        assert!(parse_line("   ").is_none());
        assert!(parse_line(&format!("{h},101")).unwrap().is_err());
        assert!(parse_line("abc").unwrap().is_err());
    }
}
