//! Writes any list as a VICS 2.0 `#Media` document, one entry at a time.
//!
//! ```text
//! {"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/<PROFILE>/$metadata#Media","value":[
//! {"MediaID":1,"Category":1,"MD5":"…",…},
//! …
//! ]}
//! ```
//!
//! One entry a line, so the output streams and diffs well. Field choices:
//!
//! * `MediaID` is renumbered 1, 2, … (VICS ids are only unique within a
//!   file); the entry's own id goes to `SourceEntryID`.
//! * `MD5`/`SHA1` upper-case, the VICS habit; `SHA256`, `PDQ` (+`PDQQuality`)
//!   and `VPDQ` (frames as `tiaki hash` prints them) are extension fields:
//!   VICS has no slot for them, and readers ignore unknown fields.
//! * Categories keep their imported code unless [`ExportOptions::map_to`]
//!   names a scheme; then each code goes through the [`CategoryMap`] and an
//!   entry with no translation is written without a category (counted in
//!   [`ExportSummary::unmapped`]). A numeric code is written as `Category`
//!   (an integer, as VICS readers expect); a non-numeric one (`A1`, `B`) as
//!   `CategoryCode`. When the entry's scheme differs from the one the header
//!   profile implies, `CategoryScheme` says which it is, so a re-import
//!   restores exactly what was exported.
//! * `extra` fields are written back verbatim after the known ones, except
//!   OData v3 annotations (`odata.id`, `*@odata.*`), which describe the old
//!   document, not the media, and names already written.

use std::io::{self, Write};

use crate::category::{CategoryMap, CategoryScheme};
use crate::model::{Category, ListEntry};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Context URL prefix for VICS 2.0.
pub const VICS2_BASE: &str = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml";

/// How to write.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Translate every category into this scheme (`--profile`). `None`:
    /// write the codes as imported.
    pub map_to: Option<CategoryScheme>,
    /// Without `map_to`: the scheme whose profile the header names, normally
    /// the list's own ([`crate::ListMeta::category_scheme`]).
    pub header_scheme: CategoryScheme,
    /// The translation table for `map_to`.
    pub category_map: CategoryMap,
    /// Write `extra` fields back.
    pub keep_extra: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            map_to: None,
            header_scheme: CategoryScheme::VicsDefault,
            category_map: CategoryMap::builtin(),
            keep_extra: true,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    pub entries: u64,
    /// Entries whose category had no translation into `map_to`.
    pub unmapped: u64,
    /// Deletion notices passed in and not written.
    pub skipped_deleted: u64,
}

/// Streaming VICS 2.0 `#Media` writer.
///
/// Call [`VicsWriter::finish`]: without it the document is not closed. The
/// writer makes one `write_all` per entry; wrap unbuffered outputs in a
/// `BufWriter` anyway for large lists.
#[derive(Debug)]
pub struct VicsWriter<W: Write> {
    out: W,
    opts: ExportOptions,
    /// The scheme a reader will infer from the header's profile.
    doc_scheme: CategoryScheme,
    summary: ExportSummary,
    buf: Vec<u8>,
}

impl<W: Write> VicsWriter<W> {
    /// Writes the document header.
    pub fn new(mut out: W, opts: ExportOptions) -> io::Result<Self> {
        let profile = opts.map_to.unwrap_or(opts.header_scheme).vics_profile();
        let context = format!("{VICS2_BASE}/{profile}/$metadata#Media");
        let mut head = Vec::with_capacity(context.len() + 40);
        head.extend_from_slice(b"{\"@odata.context\":");
        serde_json::to_writer(&mut head, &context).map_err(io::Error::other)?;
        head.extend_from_slice(b",\"value\":[");
        out.write_all(&head)?;
        Ok(VicsWriter {
            out,
            doc_scheme: CategoryScheme::from_vics_profile(profile),
            opts,
            summary: ExportSummary::default(),
            buf: Vec::with_capacity(1024),
        })
    }

    /// Writes one entry.
    pub fn write_entry(&mut self, e: &ListEntry) -> io::Result<()> {
        self.write_entry_with(e, &[])
    }

    /// Writes one entry followed by fields the caller has already
    /// rendered: `fields` is `"Name":value` pairs joined by commas (compact
    /// JSON, names not among those the entry writes), or empty. For
    /// writers of many entries whose extension fields are known in advance
    /// (referral packages): no `serde_json::Map` is built per entry.
    pub fn write_entry_with(&mut self, e: &ListEntry, fields: &[u8]) -> io::Result<()> {
        if e.deleted {
            self.summary.skipped_deleted += 1;
            return Ok(());
        }
        let category = match (&e.category, self.opts.map_to) {
            (None, _) => None,
            (Some(c), None) => Some(c.clone()),
            (Some(c), Some(to)) => match self.opts.category_map.map(c.scheme, to, &c.raw_code) {
                Some(code) => Some(Category {
                    scheme: to,
                    mapped: self.opts.category_map.class_of(to, &code),
                    raw_code: code,
                }),
                None => {
                    self.summary.unmapped += 1;
                    None
                }
            },
        };
        self.buf.clear();
        self.buf.extend_from_slice(if self.summary.entries == 0 {
            b"\n"
        } else {
            b",\n"
        });
        let media = MediaOut {
            id: self.summary.entries + 1,
            e,
            category: category.as_ref(),
            doc_scheme: self.doc_scheme,
            keep_extra: self.opts.keep_extra,
        };
        serde_json::to_writer(&mut self.buf, &media).map_err(io::Error::other)?;
        if !fields.is_empty() {
            // Reopen the object: it always ends in '}' and holds MediaID.
            self.buf.pop();
            self.buf.push(b',');
            self.buf.extend_from_slice(fields);
            self.buf.push(b'}');
        }
        self.out.write_all(&self.buf)?;
        self.summary.entries += 1;
        Ok(())
    }

    /// Closes the document, flushes, and says what was written.
    pub fn finish(mut self) -> io::Result<ExportSummary> {
        self.out.write_all(if self.summary.entries == 0 {
            b"]}\n"
        } else {
            b"\n]}\n"
        })?;
        self.out.flush()?;
        Ok(self.summary)
    }
}

/// One entry as a VICS media object, fields in a fixed order.
struct MediaOut<'a> {
    id: u64,
    e: &'a ListEntry,
    category: Option<&'a Category>,
    doc_scheme: CategoryScheme,
    keep_extra: bool,
}

impl Serialize for MediaOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.e;
        let mut m = s.serialize_map(None)?;
        // Names written so far, to keep `extra` from duplicating them.
        let mut written: Vec<&str> = Vec::with_capacity(24);
        macro_rules! put {
            ($k:literal, $v:expr) => {{
                written.push($k);
                m.serialize_entry($k, $v)?;
            }};
        }
        put!("MediaID", &self.id);
        if let Some(c) = self.category {
            // An integer only when that reads back as the same text: "007"
            // or "+1" stay strings so a round trip keeps the code exactly.
            match c.raw_code.parse::<i64>() {
                Ok(n) if n.to_string() == c.raw_code => put!("Category", &n),
                _ => put!("CategoryCode", &c.raw_code),
            }
            if c.scheme != self.doc_scheme {
                put!("CategoryScheme", &c.scheme.name());
            }
        }
        if let Some(h) = &e.md5 {
            put!("MD5", &h.to_hex_upper());
        }
        if let Some(h) = &e.sha1 {
            put!("SHA1", &h.to_hex_upper());
        }
        if let Some(h) = &e.sha256 {
            put!("SHA256", &h.to_hex());
        }
        if let Some(p) = &e.pdq {
            put!("PDQ", &p.hash.to_hex());
            if let Some(q) = p.quality {
                put!("PDQQuality", &q);
            }
        }
        if let Some(v) = &e.vpdq {
            put!("VPDQ", v);
        }
        if let Some(p) = &e.photodna {
            put!("PhotoDNA", p);
        }
        if let Some(n) = e.size {
            put!("MediaSize", &n);
        }
        if let Some(s) = &e.series {
            put!("Series", s);
        }
        if let Some(b) = e.victim_identified {
            put!("VictimIdentified", &b);
        }
        if let Some(b) = e.offender_identified {
            put!("OffenderIdentified", &b);
        }
        if let Some(b) = e.distributed {
            put!("IsDistributed", &b);
        }
        if let Some(b) = e.baseline {
            put!("Baseline", &b);
        }
        if let Some(n) = e.submissions {
            put!("Submissions", &n);
        }
        if let Some(n) = &e.note {
            put!("Comments", n);
        }
        if let Some(id) = &e.source_id {
            put!("SourceEntryID", id);
        }
        if let Some(id) = &e.case_id {
            put!("SourceCaseID", id);
        }
        if self.keep_extra {
            for (k, v) in &e.extra {
                if is_annotation(k) || written.iter().any(|w| w.eq_ignore_ascii_case(k)) {
                    continue;
                }
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// OData v3 control information: `odata.id`, `odata.metadata`,
/// `MediaFiles@odata.navigationLinkUrl`.
fn is_annotation(key: &str) -> bool {
    key.starts_with("odata.") || key.contains("@odata.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Md5;
    use serde_json::Value;

    fn entry(code: &str, scheme: CategoryScheme) -> ListEntry {
        ListEntry {
            md5: Some(Md5::from_hex(&"ab".repeat(16)).unwrap()),
            category: Some(Category::new(scheme, code)),
            ..ListEntry::default()
        }
    }

    fn write(entries: &[ListEntry], opts: ExportOptions) -> (Value, ExportSummary) {
        let mut out = Vec::new();
        let mut w = VicsWriter::new(&mut out, opts).unwrap();
        for e in entries {
            w.write_entry(e).unwrap();
        }
        let s = w.finish().unwrap();
        (serde_json::from_slice(&out).unwrap(), s)
    }

    #[test]
    fn empty_document_is_valid_json() {
        let (v, s) = write(&[], ExportOptions::default());
        assert_eq!(v["value"], serde_json::json!([]));
        assert!(
            v["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("/Default/$metadata#Media")
        );
        assert_eq!(s.entries, 0);
    }

    #[test]
    fn codes_kept_or_mapped() {
        let list = [
            entry("1", CategoryScheme::VicsUs),
            entry("A2", CategoryScheme::Industry),
        ];
        let (v, _) = write(
            &list,
            ExportOptions {
                header_scheme: CategoryScheme::VicsUs,
                ..ExportOptions::default()
            },
        );
        assert!(v["@odata.context"].as_str().unwrap().contains("/US/"));
        assert_eq!(v["value"][0]["Category"], 1);
        assert!(v["value"][0].get("CategoryScheme").is_none());
        assert_eq!(v["value"][1]["CategoryCode"], "A2");
        assert_eq!(v["value"][1]["CategoryScheme"], "industry");
        assert_eq!(v["value"][0]["MD5"], "AB".repeat(16));

        let (v, s) = write(
            &list,
            ExportOptions {
                map_to: Some(CategoryScheme::UkLegal),
                ..ExportOptions::default()
            },
        );
        assert!(
            v["value"][0].get("Category").is_none() && v["value"][0].get("CategoryCode").is_none()
        );
        assert_eq!(v["value"][1]["CategoryCode"], "C");
        assert_eq!(s.unmapped, 1);
    }

    #[test]
    fn annotations_dropped_extra_kept() {
        let mut e = entry("1", CategoryScheme::VicsUs);
        e.extra.insert("odata.id".into(), Value::from("Media(x)"));
        e.extra.insert(
            "MediaFiles@odata.navigationLinkUrl".into(),
            Value::from("/x"),
        );
        e.extra.insert(
            "MediaFiles".into(),
            serde_json::json!([{"FileName": "a.mpg"}]),
        );
        e.extra.insert("md5".into(), Value::from("dup"));
        let (v, _) = write(&[e], ExportOptions::default());
        let m = &v["value"][0];
        assert!(m.get("odata.id").is_none());
        assert!(m.get("MediaFiles@odata.navigationLinkUrl").is_none());
        assert!(m.get("md5").is_none());
        assert_eq!(m["MediaFiles"][0]["FileName"], "a.mpg");
    }
}
