//! `media.vics.json`: the package's media as a VICS 2.0 `#Media` document,
//! written by `tiaki-formats`' [`VicsWriter`] so it reads back with the same
//! importer as any hash list.
//!
//! Beside the VICS fields (`MD5`, `SHA1`, `Category`, `Series`,
//! `MediaSize`, `SourceEntryID` = the provider's media id) and the Tiaki
//! extensions `VicsWriter` already writes (`SHA256`, `PDQ`, `PDQQuality`),
//! each entry carries:
//!
//! * `MatchStatus`: `known` (matched a hash list), `new` (flagged as new
//!   material) or `unmatched`;
//! * `Matches`: `[{"list","entry","kind","distance"}]` when matched;
//! * `ViewedByProvider`: the provider's flag, only when it stated one;
//! * `Accounts`: `[{"ReportID","AccountID"}]` that uploaded or shared it;
//! * `MediaFiles`: `[{"FileName", "FilePath"}]`, VICS's own field, with the
//!   provider's file name and, when the file is in the package, its path.

use std::io::{self, Write};

use serde_json::{Map, Value, json};
use tiaki_formats::model::{ListEntry, PdqEntry};
use tiaki_formats::{CategoryScheme, ExportOptions, VicsWriter};

use crate::content::{PackageContent, PackageMedia};

/// The name of a media file inside the archive: `media/<sha256>.<ext>`, the
/// extension taken from the provider's file name when it is a plain short
/// one, else `bin`. `None` without a SHA-256.
pub fn media_path(m: &PackageMedia) -> Option<String> {
    let sha = m.sha256?;
    let ext = m
        .original_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| (1..=8).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "bin".to_owned());
    Some(format!("media/{}.{ext}", sha.to_hex()))
}

/// Writes the document. `included` says whether media files are in the
/// package (then `FilePath` is written for those that have one).
pub fn write_media<W: Write>(
    content: &PackageContent,
    profile: CategoryScheme,
    map_to: Option<CategoryScheme>,
    included: bool,
    out: W,
) -> io::Result<()> {
    let opts = ExportOptions {
        map_to,
        header_scheme: profile,
        ..ExportOptions::default()
    };
    let mut w = VicsWriter::new(out, opts)?;
    for m in &content.media {
        w.write_entry(&entry(content, m, included))?;
    }
    w.finish()?;
    Ok(())
}

fn entry(content: &PackageContent, m: &PackageMedia, included: bool) -> ListEntry {
    let mut extra = Map::new();
    extra.insert("MatchStatus".into(), Value::from(m.status.as_str()));
    if !m.matches.is_empty() {
        extra.insert("Matches".into(), json!(m.matches));
    }
    if let Some(v) = m.viewed_by_provider {
        extra.insert("ViewedByProvider".into(), Value::from(v));
    }
    let accounts: Vec<Value> = m
        .accounts
        .iter()
        .filter_map(|&i| content.accounts.get(i))
        .map(|a| json!({"ReportID": a.report_id, "AccountID": a.id}))
        .collect();
    extra.insert("Accounts".into(), Value::Array(accounts));
    let path = (included && m.file.is_some())
        .then(|| media_path(m))
        .flatten();
    if m.original_name.is_some() || path.is_some() {
        let mut f = Map::new();
        if let Some(n) = &m.original_name {
            f.insert("FileName".into(), Value::from(n.as_str()));
        }
        if let Some(p) = path {
            f.insert("FilePath".into(), Value::from(p));
        }
        extra.insert("MediaFiles".into(), Value::Array(vec![Value::Object(f)]));
    }
    ListEntry {
        md5: m.md5,
        sha1: m.sha1,
        sha256: m.sha256,
        pdq: m.pdq.map(|hash| PdqEntry {
            hash,
            quality: m.pdq_quality,
        }),
        category: m.category.clone(),
        series: m.series.clone(),
        size: m.size,
        source_id: m.id.clone(),
        extra,
        ..ListEntry::default()
    }
}
