//! vPDQ video hash files: each holds one video's frames (spec/pdq-vpdq.md §3.3).
//!
//! * Reference text (`vpdqio.cpp`, upstream `sample-hashes/*.txt`):
//!   `frame,quality,hex,timestamp` a line; the Cython CLI's
//!   `hex,quality,timestamp` lines are accepted too.
//! * JSON: python-threatexchange signal arrays `["hex,quality,timestamp", …]`
//!   (one video per array; several arrays one after another are several
//!   videos) and the legacy object `{"<frame>": {quality, hash, timestamp}}`.
//!
//! A file is one entry, so its frames are collected (a video has thousands of
//! frames, not millions). A malformed line or frame is reported with its
//! position and left out; the remaining frames still make the entry. Field
//! parsing is `tiaki_hash::vpdq::format`'s, so the rules match the matcher's.

use std::io::BufRead;
use std::ops::ControlFlow;

use serde_json::Value;
use tiaki_hash::vpdq::VpdqFeature;
use tiaki_hash::vpdq::format::{
    VpdqFormatError, parse_signal_entry, read_legacy, read_reference_text,
};
use tiaki_types::lines::CappedLines;

use crate::MAX_LINE;
use crate::error::{DocumentError, ImportError, Position, RecordError, RecordReason};
use crate::model::{Format, ListEntry, ListMeta};
use crate::{Emitter, ImportOptions, ImportSummary, Item};

/// Reads a reference-text vPDQ file as one entry.
pub fn read_text<R: BufRead>(
    reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    let mut emit = Emitter::new(sink, opts.include_deleted);
    let mut lines = CappedLines::new(reader, MAX_LINE);
    let mut frames: Vec<VpdqFeature> = Vec::new();
    let mut lines_seen = false;
    loop {
        let (line_no, text) = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => return Err(emit.fail(DocumentError::Io(e))),
        };
        let position = Position::Line { line: line_no };
        let parsed = match text.lossy() {
            Err(too_long) => Err(RecordReason::LineTooLong(too_long.cap)),
            Ok(text) => {
                let t = text.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                lines_seen = true;
                parse_text_line(t, frames.len() as u64)
            }
        };
        match parsed {
            Ok(f) => frames.push(f),
            Err(reason) => {
                if emit.reject(RecordError { position, reason }).is_break() {
                    return Ok(emit.finish(meta(Format::VpdqText, opts)));
                }
            }
        }
    }
    if !lines_seen {
        // The reference loader refuses an empty file; so do we, loudly.
        return Err(emit.fail(DocumentError::Empty(Format::VpdqText)));
    }
    if !frames.is_empty() {
        let _ = emit.entry(video_entry(frames, opts));
    }
    Ok(emit.finish(meta(Format::VpdqText, opts)))
}

/// `frame,quality,hex,timestamp` (4+ fields) or `hex,quality,timestamp`.
fn parse_text_line(line: &str, next_frame: u64) -> Result<VpdqFeature, RecordReason> {
    let n = line.split(',').count();
    let bad = |reason: String| RecordReason::BadValue {
        field: "vpdq".into(),
        reason,
    };
    if n == 3 {
        return parse_signal_entry(line, next_frame).map_err(bad);
    }
    if n < 4 {
        return Err(RecordReason::TooFewFields {
            expected: 4,
            found: n,
        });
    }
    match read_reference_text(line) {
        Ok(mut v) if v.len() == 1 => v.pop().ok_or_else(|| bad("no frame".into())),
        Ok(_) => Err(bad("expected one frame".into())),
        Err(VpdqFormatError::Line { reason, .. }) => Err(bad(reason)),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// Reads vPDQ JSON: each top-level array or object is one video.
pub fn read_json<R: BufRead>(
    mut reader: R,
    opts: &ImportOptions,
    sink: &mut dyn FnMut(Item) -> ControlFlow<()>,
) -> Result<ImportSummary, ImportError> {
    let mut emit = Emitter::new(sink, opts.include_deleted);
    let bom = crate::detect::skip_bom(&mut reader).map_err(|e| emit.fail(e.into()))?;
    let mut stream = serde_json::Deserializer::from_reader(reader.by_ref()).into_iter::<Value>();
    let mut video = 0u64;
    loop {
        let start = stream.byte_offset() as u64 + bom;
        let value = match stream.next() {
            None => break,
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                let error = if e.is_io() {
                    DocumentError::Io(std::io::Error::other(e.to_string()))
                } else {
                    DocumentError::Malformed {
                        format: Format::VpdqJson,
                        position: Position::LineColumn {
                            line: e.line() as u64,
                            column: e.column() as u64,
                        },
                        reason: e.to_string(),
                    }
                };
                return Err(emit.fail(error));
            }
        };
        let index = video;
        let pos = move |path: String| Position::Record {
            index,
            byte_offset: start,
            path,
        };
        let mut frames = Vec::new();
        let mut errors = Vec::new();
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let parsed = match item {
                        Value::String(s) => parse_signal_entry(s, i as u64),
                        other => Err(format!(
                            "expected a \"hex,quality,timestamp\" string, found {other}"
                        )),
                    };
                    match parsed {
                        Ok(f) => frames.push(f),
                        Err(reason) => errors.push(RecordError {
                            position: pos(format!("$[{i}]")),
                            reason: RecordReason::BadValue {
                                field: "vpdq".into(),
                                reason,
                            },
                        }),
                    }
                }
            }
            Value::Object(obj) => {
                for (key, v) in obj {
                    let path = format!("$.{key}");
                    let one = serde_json::json!({ key: v }).to_string();
                    match read_legacy(&one) {
                        Ok(mut f) => frames.append(&mut f),
                        Err(e) => errors.push(RecordError {
                            position: pos(path),
                            reason: RecordReason::BadValue {
                                field: "vpdq".into(),
                                reason: e.to_string(),
                            },
                        }),
                    }
                }
                frames.sort_by_key(|f| f.frame);
            }
            other => errors.push(RecordError {
                position: pos("$".into()),
                reason: RecordReason::NotAnObject(crate::fields::json_kind(&other)),
            }),
        }
        video += 1;
        for e in errors {
            if emit.reject(e).is_break() {
                return Ok(emit.finish(meta(Format::VpdqJson, opts)));
            }
        }
        let flow = if frames.is_empty() {
            emit.reject(RecordError {
                position: pos("$".into()),
                reason: RecordReason::NoHash,
            })
        } else {
            emit.entry(video_entry(frames, opts))
        };
        if flow.is_break() {
            return Ok(emit.finish(meta(Format::VpdqJson, opts)));
        }
    }
    if video == 0 {
        return Err(emit.fail(DocumentError::Empty(Format::VpdqJson)));
    }
    Ok(emit.finish(meta(Format::VpdqJson, opts)))
}

/// One video's entry. The file name is the only identifier such files have.
fn video_entry(frames: Vec<VpdqFeature>, opts: &ImportOptions) -> ListEntry {
    ListEntry {
        vpdq: Some(frames),
        source_id: opts.file_name.clone(),
        ..ListEntry::default()
    }
}

fn meta(format: Format, opts: &ImportOptions) -> ListMeta {
    let mut m = ListMeta::new(format);
    m.name = opts.list_name.clone();
    m.source = opts.file_name.clone();
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e6cf059c4c6696362cc9d6663cd9c263714169d98327399993363d9c3d9cc666";

    #[test]
    fn text_line_forms() {
        let f = parse_text_line(&format!("3,100,{H},0.100"), 0).unwrap();
        assert_eq!((f.frame, f.quality), (3, 100));
        let f = parse_text_line(&format!("{H},90,18.8"), 7).unwrap();
        assert_eq!((f.frame, f.quality, f.timestamp), (7, 90, 18.8));
        assert!(matches!(
            parse_text_line("1,2", 0),
            Err(RecordReason::TooFewFields { .. })
        ));
        assert!(parse_text_line(&format!("x,100,{H},0.1"), 0).is_err());
        assert!(parse_text_line(&format!("1,101,{H},0.1"), 0).is_err());
    }
}
