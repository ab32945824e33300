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

use serde_json::json;
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
    let mut fields = Vec::with_capacity(512);
    for m in &content.media {
        fields.clear();
        extension_fields(content, m, included, &mut fields)?;
        w.write_entry_with(&entry(m), &fields)?;
    }
    w.finish()?;
    Ok(())
}

fn entry(m: &PackageMedia) -> ListEntry {
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
        ..ListEntry::default()
    }
}

/// The Tiaki fields of one entry as compact JSON members, in the order a
/// `serde_json::Map` of them would be written (sorted by name; objects
/// inside sorted too), so the document reads as if the extension fields
/// were the entry's `extra`: `Accounts`, `IndustryClassification`,
/// `MatchStatus`, `Matches`, `MediaFiles`, `SharedWith`, `ViewedByNCMEC`,
/// `ViewedByProvider`.
fn extension_fields(
    content: &PackageContent,
    m: &PackageMedia,
    included: bool,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    out.extend_from_slice(b"\"Accounts\":[");
    let mut first = true;
    for a in m.accounts.iter().filter_map(|&i| content.accounts.get(i)) {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"AccountID\":");
        json(out, &a.id)?;
        out.extend_from_slice(b",\"ReportID\":");
        json(out, &a.report_id)?;
        out.push(b'}');
    }
    out.push(b']');
    if let Some(c) = &m.industry_classification {
        out.extend_from_slice(b",\"IndustryClassification\":");
        json(out, c)?;
    }
    out.extend_from_slice(b",\"MatchStatus\":");
    json(out, &m.status.as_str())?;
    if !m.matches.is_empty() {
        // Rare (matched media only): through a `Value`, whose objects
        // sort their keys.
        out.extend_from_slice(b",\"Matches\":");
        json(out, &json!(m.matches))?;
    }
    let path = (included && m.file.is_some())
        .then(|| media_path(m))
        .flatten();
    if m.original_name.is_some() || path.is_some() {
        out.extend_from_slice(b",\"MediaFiles\":[{");
        if let Some(n) = &m.original_name {
            out.extend_from_slice(b"\"FileName\":");
            json(out, n)?;
        }
        if let Some(p) = &path {
            if m.original_name.is_some() {
                out.push(b',');
            }
            out.extend_from_slice(b"\"FilePath\":");
            json(out, p)?;
        }
        out.extend_from_slice(b"}]");
    }
    if !m.shared_with.is_empty() {
        out.extend_from_slice(b",\"SharedWith\":");
        json(out, &m.shared_with)?;
    }
    if let Some(v) = m.viewed_by_ncmec {
        out.extend_from_slice(if v {
            b",\"ViewedByNCMEC\":true"
        } else {
            b",\"ViewedByNCMEC\":false"
        });
    }
    if let Some(v) = m.viewed_by_provider {
        out.extend_from_slice(if v {
            b",\"ViewedByProvider\":true"
        } else {
            b",\"ViewedByProvider\":false"
        });
    }
    Ok(())
}

/// A value as compact JSON.
fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> io::Result<()> {
    serde_json::to_writer(out, v).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{MediaMatch, MediaStatus, PackageAccount};
    use serde_json::{Map, Value};

    /// The fields as the first version built them: a `serde_json::Map`
    /// per entry.
    fn as_map(content: &PackageContent, m: &PackageMedia, included: bool) -> Map<String, Value> {
        let mut extra = Map::new();
        extra.insert("MatchStatus".into(), Value::from(m.status.as_str()));
        if !m.matches.is_empty() {
            extra.insert("Matches".into(), json!(m.matches));
        }
        if let Some(v) = m.viewed_by_provider {
            extra.insert("ViewedByProvider".into(), Value::from(v));
        }
        if let Some(v) = m.viewed_by_ncmec {
            extra.insert("ViewedByNCMEC".into(), Value::from(v));
        }
        if let Some(c) = &m.industry_classification {
            extra.insert("IndustryClassification".into(), Value::from(c.as_str()));
        }
        if !m.shared_with.is_empty() {
            extra.insert("SharedWith".into(), json!(m.shared_with));
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
        extra
    }

    #[test]
    fn fields_are_written_as_a_sorted_map_would_be() {
        let content = PackageContent {
            accounts: vec![
                PackageAccount {
                    report_id: "R\"1".into(),
                    id: "a\u{e9}".into(),
                    ..PackageAccount::default()
                },
                PackageAccount {
                    report_id: "R2".into(),
                    id: "b".into(),
                    ..PackageAccount::default()
                },
            ],
            ..PackageContent::default()
        };
        let full = PackageMedia {
            sha256: Some(tiaki_formats::model::HexDigest([7; 32])),
            status: MediaStatus::Known,
            viewed_by_provider: Some(false),
            viewed_by_ncmec: Some(true),
            industry_classification: Some("B\"2".into()),
            shared_with: vec!["u-2".into(), "\u{e9}".into()],
            accounts: vec![0, 1],
            original_name: Some("x \"y\".JPG".into()),
            file: Some("/tmp/f".into()),
            matches: vec![MediaMatch {
                list: "L".into(),
                entry: "e1".into(),
                kind: "pdq".into(),
                distance: Some(3),
            }],
            ..PackageMedia::default()
        };
        let bare = PackageMedia::default();
        for (m, included) in [(&full, true), (&full, false), (&bare, false)] {
            let mut got = Vec::new();
            extension_fields(&content, m, included, &mut got).unwrap();
            let want = serde_json::to_string(&as_map(&content, m, included)).unwrap();
            assert_eq!(format!("{{{}}}", String::from_utf8(got).unwrap()), want);
        }
    }
}
