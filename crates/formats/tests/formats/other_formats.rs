//! CSV (ICSE and generic), PDQ lines, vPDQ and NCMEC hash-sharing XML.

// Test code: helpers may panic on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{import_bytes, import_file};
use tiaki_formats::{
    CategoryClass, CategoryScheme, DocumentError, Format, ImportOptions, Position, RecordReason,
    import_all,
};

const ICSE_HEADER: &str = "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline";

#[test]
fn icse_csv() {
    let csv = format!(
        "\u{feff}{ICSE_HEADER}\r\n\
         {md5a};{sha1a};;IMG-1;yes;n;f;SERIES-A;3;t;Image;true\r\n\
         {md5b};;;IMG-2;No;Y;;;12;false;Video;0;trailing\r\n\
         \r\n\
         {md5c}\r\n\
         xyz;;;IMG-4\r\n\
         ;;;IMG-5;yes\r\n",
        md5a = "A1".repeat(16),
        sha1a = "B2".repeat(20),
        md5b = "c3".repeat(16),
        md5c = "d4".repeat(16),
    );
    let c = import_bytes(csv.as_bytes()).unwrap();
    assert_eq!(c.summary.meta.format, Format::IcseCsv);
    assert_eq!(c.entries.len(), 3);
    let a = &c.entries[0];
    assert_eq!(a.md5.unwrap().to_hex(), "a1".repeat(16));
    assert_eq!(a.sha1.unwrap().to_hex(), "b2".repeat(20));
    assert_eq!(a.source_id.as_deref(), Some("IMG-1"));
    assert_eq!(
        (a.distributed, a.victim_identified, a.offender_identified),
        (Some(true), Some(false), Some(false))
    );
    assert_eq!(a.series.as_deref(), Some("SERIES-A"));
    assert_eq!(a.submissions, Some(3));
    assert_eq!(a.baseline, Some(true));
    assert_eq!(a.extra["File Available"], "t");
    assert_eq!(a.extra["Media Type"], "Image");
    let b = &c.entries[1];
    assert_eq!(
        (b.distributed, b.victim_identified, b.offender_identified),
        (Some(false), Some(true), None)
    );
    assert_eq!(b.baseline, Some(false));
    assert_eq!(
        b.extra["column 13"], "trailing",
        "rows may be longer than the header"
    );
    assert_eq!(
        c.entries[2].md5.unwrap().to_hex(),
        "d4".repeat(16),
        "rows may be shorter"
    );
    // Two bad rows, with their line numbers (the blank line 4 counts).
    assert_eq!(c.errors.len(), 2);
    assert_eq!(c.errors[0].position, Position::Line { line: 6 });
    assert!(matches!(c.errors[0].reason, RecordReason::BadDigest { .. }));
    assert_eq!(c.errors[1].position, Position::Line { line: 7 });
    assert_eq!(c.errors[1].reason, RecordReason::NoHash);
}

#[test]
fn generic_csv_with_aliases() {
    let csv = format!(
        "Hash_MD5,SHA-256,PDQ Hash,pdq_quality,Category,Series,notes,whatever\n\
         {md5},{sha256},{pdq},90,A1,\"Series, with comma\",\"a \"\"quoted\"\" note\",x\n\
         {md5},,,,2,,,\n\
         {md5},,{pdq},101,,,,\n",
        md5 = "0a".repeat(16),
        sha256 = "1b".repeat(32),
        pdq = "2c".repeat(32),
    );
    let c = import_bytes(csv.as_bytes()).unwrap();
    assert_eq!(c.summary.meta.format, Format::Csv);
    assert_eq!(c.entries.len(), 2);
    let a = &c.entries[0];
    assert_eq!(a.sha256.unwrap().to_hex(), "1b".repeat(32));
    let pdq = a.pdq.unwrap();
    assert_eq!(
        (pdq.hash.to_hex(), pdq.quality),
        ("2c".repeat(32), Some(90))
    );
    let cat = a.category.as_ref().unwrap();
    assert_eq!(
        (cat.scheme, cat.mapped),
        (CategoryScheme::Industry, Some(CategoryClass::Pertinent))
    );
    assert_eq!(a.series.as_deref(), Some("Series, with comma"));
    assert_eq!(a.note.as_deref(), Some("a \"quoted\" note"));
    assert_eq!(a.extra["whatever"], "x");
    // A bare number has no scheme unless the caller gives one.
    assert_eq!(
        c.entries[1].category.as_ref().unwrap().scheme,
        CategoryScheme::Unknown
    );
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].position, Position::Line { line: 4 });
    let opts = ImportOptions {
        category_scheme: Some(CategoryScheme::VicsUs),
        ..ImportOptions::default()
    };
    let c = import_all(csv.as_bytes(), &opts).unwrap();
    assert_eq!(
        c.entries[1].category.as_ref().unwrap().mapped,
        Some(CategoryClass::AgeDifficult)
    );
}

#[test]
fn csv_comments_and_tabs() {
    let tsv = format!(
        "# exported by hand\nsha1\tseries\n{}\tS\n# a note\n{}\t\n",
        "0c".repeat(20),
        "zz"
    );
    let c = import_bytes(tsv.as_bytes()).unwrap();
    assert_eq!(c.entries.len(), 1);
    assert_eq!(c.entries[0].series.as_deref(), Some("S"));
    assert_eq!(c.errors.len(), 1);
    assert_eq!(c.errors[0].position, Position::Line { line: 5 });
}

#[test]
fn csv_without_hash_column_is_a_document_error() {
    let err = import_bytes(b"name,size\na,1\n").unwrap_err();
    assert!(
        matches!(err.error, DocumentError::NotThisFormat { .. }),
        "{err}"
    );
}

#[test]
fn expected_hashes_csv_sample() {
    // `hash` column + `quality` column: 64-hex values are PDQ.
    let c = import_file("pdq/EXPECTED_HASHES.csv");
    assert_eq!(c.summary.meta.format, Format::Csv);
    assert_eq!((c.entries.len(), c.errors.len()), (110, 0));
    let first = &c.entries[0];
    let pdq = first.pdq.unwrap();
    assert_eq!(
        pdq.hash.to_hex(),
        "6227401f601ff4ccafccdfad4b0d95d371a2cb7265a3285234d228ca94deeb2d"
    );
    assert_eq!(pdq.quality, Some(100));
    assert_eq!(first.extra["image"], "pdq/data/misc-images/wee.jpg");
    assert!(
        c.entries.iter().any(|e| e.pdq.unwrap().quality.is_none()),
        "empty quality cells"
    );
}

#[test]
fn pdq_lines_sample() {
    let c = import_file("pdq/needles.txt");
    assert_eq!(c.summary.meta.format, Format::PdqLines);
    assert_eq!((c.entries.len(), c.errors.len()), (100, 0));
    assert_eq!(
        c.entries[0].pdq.unwrap().hash.to_hex(),
        "98736629670cc19fc9f23862f66cce1f599e32c78e236c78619d202e9e66c157"
    );
}

#[test]
fn pdq_lines_malformed() {
    let h = "98736629670cc19fc9f23862f66cce1f599e32c78e236c78619d202e9e66c157";
    let text = format!("# list\n{h},100\n\n{h}x\n{h},abc,extra\n{h},200\n   {h}   \n");
    let c = import_bytes(text.as_bytes()).unwrap();
    assert_eq!(c.entries.len(), 3);
    assert_eq!(
        c.entries[1].extra["fields"],
        serde_json::json!(["abc", "extra"])
    );
    let lines: Vec<_> = c.errors.iter().map(|e| e.position.clone()).collect();
    assert_eq!(
        lines,
        vec![Position::Line { line: 4 }, Position::Line { line: 6 }]
    );
}

#[test]
fn vpdq_reference_text() {
    let c = import_file("vpdq/test-padded-dimensions.txt");
    assert_eq!(c.summary.meta.format, Format::VpdqText);
    assert_eq!(c.entries.len(), 1);
    let frames = c.entries[0].vpdq.as_ref().unwrap();
    assert_eq!(frames.len(), 150);
    assert_eq!(frames[149].frame, 149);
    assert_eq!(
        frames[0].hash.to_hex(),
        "e6cf059c4c6696362cc9d6663cd9c263714169d98327399993363d9c3d9cc666"
    );
    assert_eq!(
        c.entries[0].source_id.as_deref(),
        Some("vpdq/test-padded-dimensions.txt")
    );

    let c = import_file("vpdq/chair-20-sd-bar.seconds_per_hash_1.txt");
    let frames = c.entries[0].vpdq.as_ref().unwrap();
    assert_eq!(frames.len(), 21);
    assert_eq!((frames[1].frame, frames[1].timestamp), (30, 1.0));
}

#[test]
fn vpdq_text_bad_lines_are_skipped() {
    let text = String::from_utf8(crate::common::read(
        "vpdq/chair-20-sd-bar.seconds_per_hash_1.txt",
    ))
    .unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[3] = lines[3].replace(",100,", ",1000,");
    lines[7] = "30,100".into();
    let c = import_bytes(lines.join("\n").as_bytes()).unwrap();
    assert_eq!(c.entries[0].vpdq.as_ref().unwrap().len(), 19);
    let pos: Vec<_> = c.errors.iter().map(|e| e.position.clone()).collect();
    assert_eq!(
        pos,
        vec![Position::Line { line: 4 }, Position::Line { line: 8 }]
    );
}

#[test]
fn vpdq_signal_json() {
    let h = "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54";
    let json = format!(
        "[\"{h},100,0.0\", \"{h},90,18.8\", \"{h},100,1.23e+02\", \"bad\"]\n[\"{h},50,0.5\"]"
    );
    let c = import_bytes(json.as_bytes()).unwrap();
    assert_eq!(c.summary.meta.format, Format::VpdqJson);
    assert_eq!(c.entries.len(), 2, "two arrays, two videos");
    let f = c.entries[0].vpdq.as_ref().unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(f[2].timestamp, 123.0);
    assert_eq!(c.errors.len(), 1);
    assert!(
        matches!(&c.errors[0].position, Position::Record { index: 0, path, .. } if path == "$[3]")
    );

    let legacy = format!(
        "{{\"0\": {{\"quality\": 100, \"hash\": \"{h}\", \"timestamp\": 0.0}}, \"30\": {{\"quality\": 99, \"hash\": \"{h}\", \"timestamp\": 1.0}}}}"
    );
    let c = import_bytes(legacy.as_bytes()).unwrap();
    assert_eq!(c.entries[0].vpdq.as_ref().unwrap()[1].frame, 30);
}

#[test]
fn ncmec_hash_sharing_sample() {
    let c = import_file("ncmec/ncmec-hashsharing-v2.entries.example.xml");
    let m = &c.summary.meta;
    assert_eq!(m.format, Format::NcmecXml);
    assert_eq!(
        (c.entries.len(), c.errors.len(), c.summary.deleted),
        (2, 0, 2)
    );
    assert_eq!(
        m.extra["next"],
        "/v2/entries?from=2017-10-20T00%3A00%3A00.000Z&to=2017-10-30T00%3A00%3A00.000Z&start=2001&size=1000&max=3000"
    );
    assert_eq!(m.extra["images"]["maxTimestamp"], "2017-10-24T15:10:00Z");
    let img = &c.entries[0];
    assert_eq!(img.source_id.as_deref(), Some("image1"));
    assert_eq!(img.md5.unwrap().to_hex(), "a1".repeat(16));
    assert_eq!(img.sha1.unwrap().to_hex(), "a1".repeat(20));
    assert!(img.photodna.as_ref().unwrap().ends_with("..."));
    let cat = img.category.as_ref().unwrap();
    assert_eq!(
        (cat.scheme, cat.raw_code.as_str()),
        (CategoryScheme::Industry, "A1")
    );
    assert_eq!(
        img.extra["member"],
        serde_json::json!({"@id": "42", "#text": "Example Member"})
    );
    assert_eq!(img.extra["timestamp"], "2017-10-24T15:00:00Z");
    assert_eq!(img.extra["mediaType"], "image");
    assert_eq!(
        img.extra["feedback"]["negativeFeedback"]["reasons"]["reason"]["@name"],
        "Example Reason 1"
    );
    let vid = &c.entries[1];
    assert_eq!(vid.extra["mediaType"], "video");
    assert!(vid.category.is_none());

    let opts = ImportOptions {
        include_deleted: true,
        ..ImportOptions::default()
    };
    let c = import_all(
        &crate::common::read("ncmec/ncmec-hashsharing-v2.entries.example.xml")[..],
        &opts,
    )
    .unwrap();
    let deleted: Vec<_> = c
        .entries
        .iter()
        .filter(|e| e.deleted)
        .filter_map(|e| e.source_id.clone())
        .collect();
    assert_eq!(deleted, vec!["image4".to_string(), "video4".to_string()]);
}

#[test]
fn ncmec_bad_entries_reported_with_line_and_column() {
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">\n<images>\n\
         <image><id>a</id><fingerprints><md5>{}</md5></fingerprints></image>\n\
         <image><id>b</id><fingerprints><md5>nothex</md5></fingerprints></image>\n\
         \x20\x20\x20<image><id>c</id></image>\n\
         <image><id>d</id><fingerprints><sha1>{}</sha1><tmk_pdqf>xx</tmk_pdqf></fingerprints></image>\n\
         </images></queryResult>\n",
        "aa".repeat(16),
        "bb".repeat(20)
    );
    let c = import_bytes(xml.as_bytes()).unwrap();
    assert_eq!(c.entries.len(), 2);
    assert_eq!(c.entries[1].extra["fingerprints"]["tmk_pdqf"], "xx");
    assert_eq!(c.errors.len(), 2);
    assert_eq!(
        c.errors[0].position,
        Position::LineColumn { line: 5, column: 1 }
    );
    assert!(matches!(c.errors[0].reason, RecordReason::BadDigest { .. }));
    assert_eq!(
        c.errors[1].position,
        Position::LineColumn { line: 6, column: 4 }
    );
    assert_eq!(c.errors[1].reason, RecordReason::NoHash);
}

#[test]
fn ncmec_broken_xml_is_fatal_with_count() {
    let xml = format!(
        "<queryResult><images><image><fingerprints><md5>{}</md5></fingerprints></image>\n<image><fingerprints></oops>",
        "aa".repeat(16)
    );
    let err = import_bytes(xml.as_bytes()).unwrap_err();
    assert_eq!(err.entries, 1);
    assert!(
        matches!(
            err.error,
            DocumentError::Malformed {
                position: Position::LineColumn { line: 2, .. },
                ..
            }
        ),
        "{err}"
    );
    // Cut between entries: still a truncated page.
    let full = String::from_utf8(crate::common::read(
        "ncmec/ncmec-hashsharing-v2.entries.example.xml",
    ))
    .unwrap();
    let cut = full.find("<deletedImage>").unwrap();
    let err = import_bytes(&full.as_bytes()[..cut]).unwrap_err();
    assert_eq!(err.entries, 1);
    assert!(
        err.to_string().contains("document ends inside <images>"),
        "{err}"
    );
    let err = import_bytes(b"<report><x/></report>").unwrap_err();
    assert!(
        matches!(err.error, DocumentError::NotThisFormat { .. }),
        "{err}"
    );
}

#[test]
fn forced_format_overrides_detection() {
    // A PDQ-lines file read as CSV has no header with a hash column.
    let opts = ImportOptions {
        format: Some(Format::Csv),
        ..ImportOptions::default()
    };
    assert!(import_all(&crate::common::read("pdq/needles.txt")[..], &opts).is_err());
    let opts = ImportOptions {
        format: Some(Format::PdqLines),
        ..ImportOptions::default()
    };
    assert_eq!(
        import_all(&crate::common::read("pdq/needles.txt")[..], &opts)
            .unwrap()
            .entries
            .len(),
        100
    );
}

mod csv_lines {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Row {
        Good,
        Bad,
        Blank,
        Comment,
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Whatever blank and comment lines surround them, bad rows are
        /// reported at their real line numbers, with LF or CRLF.
        #[test]
        fn bad_rows_are_reported_at_their_lines(
            rows in proptest::collection::vec(
                prop_oneof![Just(Row::Good), Just(Row::Bad), Just(Row::Blank), Just(Row::Comment)], 0..30),
            crlf in any::<bool>(),
        ) {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("md5,note{nl}");
            let mut want = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                let line = i as u64 + 2;
                match r {
                    Row::Good => text.push_str(&format!("{},ok{nl}", "ab".repeat(16))),
                    Row::Bad => {
                        text.push_str(&format!("xyz,bad{nl}"));
                        want.push(Position::Line { line });
                    }
                    Row::Blank => text.push_str(nl),
                    Row::Comment => text.push_str(&format!("# comment, with; separators{nl}")),
                }
            }
            let c = import_bytes(text.as_bytes()).unwrap();
            let got: Vec<_> = c.errors.iter().map(|e| e.position.clone()).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(c.entries.len(), rows.iter().filter(|r| matches!(r, Row::Good)).count());
        }
    }
}
