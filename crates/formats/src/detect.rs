//! Format detection from the first bytes of the input, with the file name as
//! a tie-breaker.
//!
//! Content wins over the name because lists are renamed freely (`export.json`
//! may be VICS or a vPDQ signal). The name decides only what content cannot:
//! an empty file, or a `.vpdq` file whose lines would also pass as
//! `hex,quality,…` PDQ lines.

use std::io::{self, BufRead, Cursor, Read};

use crate::error::DocumentError;
use crate::model::Format;

/// How many bytes detection looks at. Enough for a VICS header with a long
/// context URL, or a CSV header and its first rows.
pub const SNIFF_LEN: u64 = 8 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The input after detection: the sniffed prefix, then the rest.
pub type Sniffed<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// Consumes a UTF-8 byte-order mark if the input starts with one; returns the
/// number of bytes skipped (0 or 3).
pub fn skip_bom<R: BufRead>(r: &mut R) -> io::Result<u64> {
    let buf = r.fill_buf()?;
    if buf.starts_with(BOM) {
        r.consume(BOM.len());
        Ok(BOM.len() as u64)
    } else {
        Ok(0)
    }
}

/// Reads up to [`SNIFF_LEN`] bytes, decides the format, and gives back a
/// reader that yields the whole input again.
pub fn detect<R: BufRead>(
    mut reader: R,
    file_name: Option<&str>,
) -> Result<(Format, Sniffed<R>), DocumentError> {
    let mut prefix = Vec::with_capacity(SNIFF_LEN as usize);
    (&mut reader).take(SNIFF_LEN).read_to_end(&mut prefix)?;
    let format = detect_bytes(&prefix, file_name)?;
    Ok((format, Cursor::new(prefix).chain(reader)))
}

/// Decides the format from the first bytes of the input and the file name.
pub fn detect_bytes(prefix: &[u8], file_name: Option<&str>) -> Result<Format, DocumentError> {
    if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") {
        return Err(DocumentError::Unrecognised(
            "UTF-16 text; convert the file to UTF-8".into(),
        ));
    }
    let body = prefix.strip_prefix(BOM).unwrap_or(prefix);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let hint = file_name.and_then(name_hint);
    let Some(start) = start else {
        return hint.ok_or_else(|| DocumentError::Unrecognised("the input is empty".into()));
    };
    let body = body.get(start..).unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    match body.first() {
        Some(b'<') => Ok(Format::NcmecXml),
        Some(b'{') => {
            // A VICS root has `odata.metadata`/`@odata.context` or `value`;
            // the legacy vPDQ object maps frame numbers to {quality, hash}.
            if text.contains("odata") || text.contains("\"value\"") {
                Ok(Format::Vics)
            } else if text.contains("\"hash\"") && text.contains("\"quality\"") {
                Ok(Format::VpdqJson)
            } else {
                Ok(Format::Vics)
            }
        }
        Some(b'[') => {
            // `["hex,q,t", …]` is a py-tx signal; `[{…}]` a bare media array.
            match text.get(1..).and_then(|t| t.trim_start().chars().next()) {
                Some('{') => Ok(Format::Vics),
                _ => Ok(Format::VpdqJson),
            }
        }
        _ => detect_lines(&text, hint),
    }
}

fn name_hint(name: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "json" => Some(Format::Vics),
        "csv" | "tsv" => Some(Format::Csv),
        "xml" => Some(Format::NcmecXml),
        "vpdq" => Some(Format::VpdqText),
        "pdq" => Some(Format::PdqLines),
        _ => None,
    }
}

fn detect_lines(text: &str, hint: Option<Format>) -> Result<Format, DocumentError> {
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return hint
            .ok_or_else(|| DocumentError::Unrecognised("only comments and blank lines".into()));
    };
    let lower = line.to_ascii_lowercase();
    if lower.starts_with("md5;sha1;photodna") || (lower.contains(';') && lower.contains("image id"))
    {
        return Ok(Format::IcseCsv);
    }
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let is_int = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let is_float =
        |s: &str| s.parse::<f64>().is_ok() && s.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    match fields.as_slice() {
        [frame, q, hex, _ts, ..] if is_int(frame) && is_int(q) && is_hex(hex, 64) => {
            return Ok(Format::VpdqText);
        }
        [hex, q, ts] if is_hex(hex, 64) && is_int(q) && is_float(ts) => {
            return Ok(if hint == Some(Format::PdqLines) {
                Format::PdqLines
            } else {
                Format::VpdqText
            });
        }
        _ => {}
    }
    let first = line
        .split([',', ';', '\t', ' '])
        .next()
        .unwrap_or("")
        .trim();
    if is_hex(first, 64) {
        return Ok(if hint == Some(Format::VpdqText) {
            Format::VpdqText
        } else {
            Format::PdqLines
        });
    }
    if first.bytes().all(|b| b.is_ascii_hexdigit()) && matches!(first.len(), 32 | 40) {
        return Err(DocumentError::Unrecognised(format!(
            "bare {}-digit hashes without a header; add a header line (md5, sha1 or sha256) and import as CSV",
            first.len()
        )));
    }
    if line.chars().any(|c| c.is_alphabetic()) {
        return Ok(Format::Csv);
    }
    hint.ok_or_else(|| {
        DocumentError::Unrecognised(format!("first line {:?}", crate::fields::clip(line)))
    })
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Format {
        detect_bytes(s.as_bytes(), None).unwrap()
    }

    #[test]
    fn content_detection() {
        let h = "f".repeat(64);
        assert_eq!(
            d("\u{feff}{\"odata.metadata\":\"x\",\"value\":[]}"),
            Format::Vics
        );
        assert_eq!(d("  {\"@odata.context\":\"x\"}"), Format::Vics);
        assert_eq!(d(&format!("[\"{h},100,0.0\"]")), Format::VpdqJson);
        assert_eq!(d("[{\"MD5\":\"x\"}]"), Format::Vics);
        assert_eq!(
            d(&format!("{{\"0\":{{\"quality\":1,\"hash\":\"{h}\"}}}}")),
            Format::VpdqJson
        );
        assert_eq!(d("<?xml version=\"1.0\"?><queryResult/>"), Format::NcmecXml);
        assert_eq!(
            d("MD5;SHA1;PhotoDNA;Image ID;Is distributed\n"),
            Format::IcseCsv
        );
        assert_eq!(d("md5,category\nabc,1\n"), Format::Csv);
        assert_eq!(d(&format!("# c\n\n{h}\n")), Format::PdqLines);
        assert_eq!(d(&format!("{h},100,photo.jpg\n")), Format::PdqLines);
        assert_eq!(d(&format!("0,100,{h},0.000\n")), Format::VpdqText);
        assert_eq!(d(&format!("{h},100,0.033\n")), Format::VpdqText);
    }

    #[test]
    fn name_breaks_ties_and_empty() {
        let h = "f".repeat(64);
        assert_eq!(
            detect_bytes(format!("{h},100,0.5").as_bytes(), Some("x.pdq")).unwrap(),
            Format::PdqLines
        );
        assert_eq!(detect_bytes(b"", Some("list.csv")).unwrap(), Format::Csv);
        assert!(detect_bytes(b"", None).is_err());
        assert!(detect_bytes(b"\xFF\xFEa\0", None).is_err());
        assert!(detect_bytes("0cef8332881a74ac9ae0e6f4c4323569\n".as_bytes(), None).is_err());
    }

    #[test]
    fn detect_keeps_all_bytes() {
        let data = vec![b'a'; 20_000];
        let (_, mut r) = detect(&data[..], Some("x.csv")).unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }
}
