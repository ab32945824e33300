//! VICS import: the staged samples, leniency, per-record errors, fatal errors.

// Test code: helpers may panic on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufReader;
use std::ops::ControlFlow;

use crate::common::{import_bytes, import_file, synth};
use serde_json::json;
use tiaki_formats::{
    CategoryClass, CategoryScheme, DocumentError, Format, ImportOptions, Position, RecordReason,
    import, import_all,
};

#[test]
fn nist_mpg_sample() {
    let c = import_file("vics/nist-nsrl-caid-mpg.vics1.2.json");
    assert_eq!(c.summary.meta.format, Format::Vics);
    assert_eq!(c.summary.meta.format_version.as_deref(), Some("1.2"));
    assert_eq!(c.summary.meta.document_kind.as_deref(), Some("Media"));
    assert_eq!(c.summary.meta.category_scheme, Some(CategoryScheme::Vics1));
    assert_eq!((c.entries.len(), c.errors.len()), (3, 0));
    let e = &c.entries[0];
    assert_eq!(e.md5.unwrap().to_hex(), "0cef8332881a74ac9ae0e6f4c4323569");
    assert_eq!(
        e.sha1.unwrap().to_hex(),
        "2ec7cd699f82e0435b15b9ebf0999805155f8f90"
    );
    assert_eq!(e.size, Some(38_733_828), "MediaSize is a string in 1.x");
    let cat = e.category.as_ref().unwrap();
    assert_eq!(
        (cat.scheme, cat.raw_code.as_str(), cat.mapped),
        (CategoryScheme::Vics1, "8", None)
    );
    assert_eq!(e.source_id.as_deref(), Some("0"));
    // Unknown fields are kept verbatim.
    assert_eq!(e.extra["MediaFiles"][0]["FileName"], "eggBreak.mpg");
    assert_eq!(
        e.extra["odata.id"],
        "Media(\"0cef8332881a74ac9ae0e6f4c4323569\")"
    );
}

#[test]
fn nist_psd_sample() {
    let c = import_file("vics/nist-nsrl-caid-psd.vics1.2.json");
    assert_eq!((c.entries.len(), c.errors.len()), (26, 0));
    assert!(
        c.entries
            .iter()
            .all(|e| e.md5.is_some() && e.sha1.is_some())
    );
    assert!(
        c.entries
            .iter()
            .all(|e| e.category.as_ref().is_some_and(|c| c.raw_code == "8"))
    );
    // Every MD5 distinct.
    let mut md5s: Vec<_> = c.entries.iter().filter_map(|e| e.md5).collect();
    md5s.sort();
    md5s.dedup();
    assert_eq!(md5s.len(), 26);
}

#[test]
fn synthetic_default_hash_set() {
    let c = import_file("vics/synthetic.vics2.0-default.hashset.json");
    let m = &c.summary.meta;
    assert_eq!(m.format_version.as_deref(), Some("2.0"));
    assert_eq!(m.profile.as_deref(), Some("Default"));
    assert_eq!(m.category_scheme, Some(CategoryScheme::VicsDefault));
    assert_eq!(c.entries.len(), 2);
    let a = &c.entries[0];
    assert_eq!(a.md5.unwrap().to_hex(), "00000000000000000000000000000001");
    assert_eq!(a.category.as_ref().unwrap().raw_code, "1");
    assert_eq!(a.size, Some(2835));
    assert_eq!(a.victim_identified, Some(true), "\"true\" as a string");
    assert_eq!(a.offender_identified, Some(false));
    assert_eq!(a.distributed, Some(true));
    assert_eq!(a.series.as_deref(), Some("SYNTHETIC-SERIES"));
    assert_eq!(a.photodna.as_ref().unwrap().len(), 192);
    assert_eq!(a.extra["IsPrecategorized"], "true");
    assert_eq!(a.extra["DateUpdated"], "2023-06-07T02:31:49.8300Z");
    let b = &c.entries[1];
    assert_eq!(b.sha1, None);
    assert_eq!(b.victim_identified, None, "absent is not false");
    assert_eq!(b.category.as_ref().unwrap().raw_code, "0");
}

#[test]
fn synthetic_us_case_export() {
    let c = import_file("vics/synthetic.vics2.0-us.case-export.json");
    let m = &c.summary.meta;
    assert_eq!(m.document_kind.as_deref(), Some("Cases"));
    assert_eq!(m.category_scheme, Some(CategoryScheme::VicsUs));
    assert_eq!(m.cases.len(), 1);
    assert_eq!(m.cases[0]["CaseNumber"], "SYNTHETIC-0001");
    assert!(
        !m.cases[0].contains_key("Media"),
        "media are streamed, not kept in the case"
    );
    assert_eq!((c.entries.len(), c.errors.len()), (1, 0));
    let e = &c.entries[0];
    assert_eq!(
        e.case_id.as_deref(),
        Some("{00000000-0000-4000-8000-000000000001}")
    );
    let cat = e.category.as_ref().unwrap();
    assert_eq!(
        (cat.scheme, cat.raw_code.as_str()),
        (CategoryScheme::VicsUs, "0")
    );
    assert_eq!(cat.mapped, Some(CategoryClass::NonPertinent));
    assert_eq!(e.series, None, "empty Series is not a series");
    assert_eq!(e.extra["MediaFiles"][0]["SourceID"], "EXHIBIT-1");
    assert_eq!(e.extra["Exifs"][0]["PropertyValue"], "ExampleCam");
}

#[test]
fn cases_stream_media_of_several_cases() {
    let doc = json!({
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Cases",
        "value": [
            {"CaseID": "{A}", "Media": [{"MD5": "11".repeat(16)}, {"MD5": "22".repeat(16)}]},
            {"CaseNumber": "B", "Media": []},
            {"CaseID": "{C}", "Media": [{"MD5": "33".repeat(16), "Category": 2}], "TotalMediaFiles": 1}
        ]
    });
    let c = import_bytes(doc.to_string().as_bytes()).unwrap();
    assert_eq!(c.entries.len(), 3);
    assert_eq!(c.summary.meta.cases.len(), 3);
    assert_eq!(c.entries[2].case_id.as_deref(), Some("{C}"));
    assert_eq!(
        c.entries[2].category.as_ref().unwrap().scheme,
        CategoryScheme::VicsUk
    );
    assert_eq!(c.summary.meta.cases[2]["TotalMediaFiles"], 1);
}

#[test]
fn bom_and_whitespace_are_accepted() {
    let mut bytes = b"\xEF\xBB\xBF  \r\n".to_vec();
    bytes.extend(crate::common::read("vics/nist-nsrl-caid-mpg.vics1.2.json"));
    let c = import_bytes(&bytes).unwrap();
    assert_eq!(c.entries.len(), 3);
    // Forced format too.
    let opts = ImportOptions {
        format: Some(Format::Vics),
        ..ImportOptions::default()
    };
    assert_eq!(import_all(&bytes[..], &opts).unwrap().entries.len(), 3);
}

/// Four good records, four bad ones of different kinds: the bad ones are
/// reported with index, byte offset and path; the good ones still import.
#[test]
fn malformed_records_are_reported_and_skipped() {
    let good = |n: u8| {
        format!(
            "{{\"MD5\":\"{}\",\"Category\":1}}",
            format!("{n:02x}").repeat(16)
        )
    };
    let doc = format!(
        "{{\"odata.metadata\":\"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media\",\"value\":[\n{},\n{},\n42,\n{},\n{{\"MD5\":\"zz\"}},\n{{\"MediaID\":7}},\n[1,2],\n{}\n]}}",
        good(1),
        good(2),
        good(3),
        good(4)
    );
    let c = import_bytes(doc.as_bytes()).unwrap();
    assert_eq!(c.entries.len(), 4);
    assert_eq!(c.summary.entries, 4);
    assert_eq!(c.summary.rejected, 4);
    let reasons: Vec<_> = c.errors.iter().map(|e| e.reason.clone()).collect();
    assert!(matches!(reasons[0], RecordReason::NotAnObject("a number")));
    assert!(matches!(reasons[1], RecordReason::BadDigest { .. }));
    assert_eq!(reasons[2], RecordReason::NoHash);
    assert!(matches!(reasons[3], RecordReason::NotAnObject("an array")));
    // Positions: index among records, byte offset of the value, JSON path.
    match &c.errors[1].position {
        Position::Record {
            index,
            byte_offset,
            path,
        } => {
            assert_eq!(*index, 4);
            assert_eq!(path, "$.value[4].MD5");
            assert_eq!(&doc[*byte_offset as usize..][..12], "{\"MD5\":\"zz\"}");
        }
        other => panic!("{other:?}"),
    }
    match &c.errors[0].position {
        Position::Record {
            path, byte_offset, ..
        } => {
            assert_eq!(path, "$.value[2]");
            assert_eq!(&doc[*byte_offset as usize..][..2], "42");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        c.errors[1]
            .to_string()
            .starts_with("record 4 ($.value[4].MD5, byte ")
    );
}

#[test]
fn truncated_document_is_fatal_but_counts_what_was_read() {
    let full = crate::common::read("vics/nist-nsrl-caid-psd.vics1.2.json");
    // Cut in the middle of the 11th record.
    let text = String::from_utf8(full).unwrap();
    let cut = text.match_indices("\"odata.id\"").nth(10).unwrap().0 + 20;
    let mut seen = 0;
    let err = import(&text.as_bytes()[..cut], &ImportOptions::default(), |item| {
        assert!(item.is_ok());
        seen += 1;
        ControlFlow::Continue(())
    })
    .unwrap_err();
    assert_eq!(err.entries, 10);
    assert_eq!(seen, 10);
    assert!(
        matches!(
            err.error,
            DocumentError::Malformed {
                position: Position::LineColumn { .. },
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("10 entries read"), "{err}");
}

#[test]
fn not_json_is_fatal() {
    let opts = ImportOptions {
        format: Some(Format::Vics),
        ..ImportOptions::default()
    };
    let err = import_all(&b"hello, world"[..], &opts).unwrap_err();
    assert_eq!(err.entries, 0);
    assert!(matches!(err.error, DocumentError::Malformed { .. }));
    let err = import_all(&b"   "[..], &opts).unwrap_err();
    assert!(
        matches!(err.error, DocumentError::Empty(Format::Vics)),
        "{err}"
    );
    let err = import_all(&b"{\"value\": 3}"[..], &opts).unwrap_err();
    assert!(
        matches!(err.error, DocumentError::Malformed { .. }),
        "{err}"
    );
}

#[test]
fn sink_can_stop_early() {
    let mut n = 0;
    let s = import(
        synth::SyntheticVics::new(1000).into_buf(),
        &ImportOptions::default(),
        |_| {
            n += 1;
            if n == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert!(s.stopped);
    assert_eq!(s.entries, 5);
}

#[test]
fn context_after_value_uses_callers_scheme() {
    let doc = format!(
        "{{\"value\":[{{\"MD5\":\"{}\",\"Category\":1}}],\"@odata.context\":\"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media\"}}",
        "ab".repeat(16)
    );
    let c = import_bytes(doc.as_bytes()).unwrap();
    assert_eq!(
        c.entries[0].category.as_ref().unwrap().scheme,
        CategoryScheme::Unknown
    );
    assert_eq!(c.summary.meta.profile.as_deref(), Some("US"));
    let opts = ImportOptions {
        category_scheme: Some(CategoryScheme::VicsUs),
        ..ImportOptions::default()
    };
    let c = import_all(doc.as_bytes(), &opts).unwrap();
    assert_eq!(
        c.entries[0].category.as_ref().unwrap().mapped,
        Some(CategoryClass::Pertinent)
    );
}

#[test]
fn large_synthetic_document_streams() {
    // 20,000 entries (~9 MB) generated on the fly: nothing holds the file.
    let n = 20_000;
    let mut checked = 0u64;
    let s = import(
        synth::SyntheticVics::new(n).into_buf(),
        &ImportOptions::default(),
        |item| {
            let e = item.unwrap();
            let i = e.source_id.as_deref().unwrap().parse::<u64>().unwrap() - 1;
            assert_eq!(e.md5.unwrap().to_hex_upper(), synth::md5_of(i));
            checked += 1;
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!((s.entries, s.rejected, checked), (n, 0, n));
}

trait IntoBuf: std::io::Read + Sized {
    fn into_buf(self) -> BufReader<Self> {
        BufReader::with_capacity(64 * 1024, self)
    }
}
impl<R: std::io::Read> IntoBuf for R {}
