//! Import → VICS 2.0 export → re-import keeps every hash, category and
//! modelled field; profile mapping translates or drops categories.

// Test code: helpers may panic on a broken fixture.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::Value;
use tiaki_formats::{
    Category, CategoryScheme, Collected, ExportOptions, ImportOptions, ListEntry, PdqEntry,
    VicsWriter, VpdqFeature, import_all,
    model::{HexDigest, Md5, Sha1, Sha256},
};
use tiaki_hash::pdq::PdqHash;

fn export(entries: &[ListEntry], opts: ExportOptions) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = VicsWriter::new(&mut out, opts).unwrap();
    for e in entries {
        w.write_entry(e).unwrap();
    }
    w.finish().unwrap();
    out
}

fn reimport(bytes: &[u8]) -> Collected {
    let c = import_all(bytes, &ImportOptions::default()).unwrap();
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    c
}

/// Everything the model holds, except what a VICS export cannot carry back:
/// OData annotations in `extra` (dropped on purpose) and a missing
/// `source_id` (the export's `MediaID` becomes one).
fn assert_same(a: &ListEntry, b: &ListEntry) {
    assert_eq!(a.md5, b.md5);
    assert_eq!(a.sha1, b.sha1);
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(a.pdq, b.pdq);
    assert_eq!(a.vpdq, b.vpdq);
    assert_eq!(a.photodna, b.photodna);
    assert_eq!(a.category, b.category);
    assert_eq!(a.series, b.series);
    assert_eq!(
        (
            a.victim_identified,
            a.offender_identified,
            a.distributed,
            a.baseline
        ),
        (
            b.victim_identified,
            b.offender_identified,
            b.distributed,
            b.baseline
        )
    );
    assert_eq!((a.submissions, a.size), (b.submissions, b.size));
    assert_eq!(a.note, b.note);
    assert_eq!(a.case_id, b.case_id);
    if a.source_id.is_some() {
        assert_eq!(a.source_id, b.source_id);
    }
    let kept: serde_json::Map<String, Value> = a
        .extra
        .iter()
        .filter(|(k, _)| !(k.starts_with("odata.") || k.contains("@odata.")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(kept, b.extra);
}

fn round_trip_file(rel: &str) {
    let c = crate::common::import_file(rel);
    assert!(!c.entries.is_empty(), "{rel}");
    let header = c
        .summary
        .meta
        .category_scheme
        .unwrap_or(CategoryScheme::VicsDefault);
    let out = export(
        &c.entries,
        ExportOptions {
            header_scheme: header,
            ..ExportOptions::default()
        },
    );
    let back = reimport(&out);
    assert_eq!(back.entries.len(), c.entries.len(), "{rel}");
    for (a, b) in c.entries.iter().zip(&back.entries) {
        assert_same(a, b);
    }
}

#[test]
fn every_sample_round_trips() {
    for rel in [
        "vics/nist-nsrl-caid-mpg.vics1.2.json",
        "vics/nist-nsrl-caid-psd.vics1.2.json",
        "vics/synthetic.vics2.0-default.hashset.json",
        "vics/synthetic.vics2.0-us.case-export.json",
        "ncmec/ncmec-hashsharing-v2.entries.example.xml",
        "pdq/needles.txt",
        "pdq/EXPECTED_HASHES.csv",
        "vpdq/test-padded-dimensions.txt",
    ] {
        round_trip_file(rel);
    }
}

#[test]
fn export_is_vics_2_media_with_upper_case_md5() {
    let c = crate::common::import_file("vics/nist-nsrl-caid-mpg.vics1.2.json");
    let out = export(&c.entries, ExportOptions::default());
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        doc["@odata.context"],
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
    );
    let m = &doc["value"][0];
    assert_eq!(m["MediaID"], 1);
    assert_eq!(m["MD5"], "0CEF8332881A74AC9AE0E6F4C4323569");
    assert_eq!(m["Category"], 8);
    assert_eq!(
        m["CategoryScheme"], "vics1",
        "the header's Default profile is not the 1.x scheme"
    );
    assert_eq!(m["MediaSize"], 38_733_828, "2.0 writes sizes as numbers");
    assert!(m.get("odata.id").is_none());
    assert_eq!(m["MediaFiles"][0]["FileName"], "eggBreak.mpg");
}

#[test]
fn profile_mapping_on_export() {
    let cat = |s, c: &str| ListEntry {
        md5: Some(Md5::from_hex(&"ab".repeat(16)).unwrap()),
        category: Some(Category::new(s, c)),
        ..ListEntry::default()
    };
    let list = [
        cat(CategoryScheme::Industry, "B1"),
        cat(CategoryScheme::VicsDhs, "5"),
        cat(CategoryScheme::VicsDhs, "0"),
        cat(CategoryScheme::Vics1, "8"),
    ];
    let mut out = Vec::new();
    let mut w = VicsWriter::new(
        &mut out,
        ExportOptions {
            map_to: Some(CategoryScheme::VicsUs),
            ..ExportOptions::default()
        },
    )
    .unwrap();
    for e in &list {
        w.write_entry(e).unwrap();
    }
    let summary = w.finish().unwrap();
    assert_eq!((summary.entries, summary.unmapped), (4, 2));
    let back = reimport(&out);
    let codes: Vec<_> = back
        .entries
        .iter()
        .map(|e| e.category.as_ref().map(|c| (c.scheme, c.raw_code.clone())))
        .collect();
    assert_eq!(
        codes,
        vec![
            Some((CategoryScheme::VicsUs, "1".into())),
            Some((CategoryScheme::VicsUs, "0".into())),
            None,
            None
        ]
    );
    // Hashes survive whatever happens to categories.
    assert!(back.entries.iter().all(|e| e.md5 == list[0].md5));
}

// --- property: any entry survives export + import --------------------------

fn digest<const N: usize>() -> impl Strategy<Value = Option<HexDigest<N>>> {
    proptest::option::of(proptest::array::uniform::<_, N>(any::<u8>()).prop_map(HexDigest))
}

fn pdq_hash() -> impl Strategy<Value = PdqHash> {
    any::<[u64; 4]>().prop_map(PdqHash)
}

fn text() -> impl Strategy<Value = Option<String>> {
    // Non-blank: blank text means "not stated" in every format.
    proptest::option::of("[A-Za-z0-9 _.,;\"\\\\/é-]{0,12}[A-Za-z0-9é]")
}

fn category() -> impl Strategy<Value = Option<Category>> {
    let scheme = proptest::sample::select(CategoryScheme::ALL.to_vec());
    let code = prop_oneof![
        "[0-9]{1,3}",
        "[A-C][12]?",
        "[a-z]{1,6}",
        Just("007".to_string())
    ];
    proptest::option::of((scheme, code).prop_map(|(s, c)| Category::new(s, c)))
}

fn frames() -> impl Strategy<Value = Option<Vec<VpdqFeature>>> {
    let frame = (0u64..100_000, 0u8..=100, pdq_hash(), 0u32..10_000_000).prop_map(
        |(frame, quality, hash, ms)| VpdqFeature {
            frame,
            quality,
            hash,
            timestamp: f64::from(ms) / 1000.0,
        },
    );
    proptest::option::of(proptest::collection::vec(frame, 1..4))
}

fn extra() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    let value = prop_oneof![
        any::<i64>().prop_map(Value::from),
        "[a-z ]{0,8}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(serde_json::json!([{"FileName": "a.jpg"}])),
    ];
    proptest::collection::btree_map("x[A-Za-z]{1,8}", value, 0..3)
        .prop_map(|m| m.into_iter().collect())
}

prop_compose! {
    fn entry()(
        md5 in digest::<16>(), sha1 in digest::<20>(), sha256 in digest::<32>(),
        pdq in proptest::option::of((pdq_hash(), proptest::option::of(0u8..=100))),
        vpdq in frames(), photodna in proptest::option::of("[A-Za-z0-9+/]{192}"),
        category in category(), series in text(), note in text(), source_id in text(), case_id in text(),
        flags in any::<[Option<bool>; 4]>(),
        submissions in proptest::option::of(any::<u64>()), size in proptest::option::of(any::<u64>()),
        extra in extra(),
    ) -> ListEntry {
        let mut e = ListEntry {
            md5, sha1, sha256,
            pdq: pdq.map(|(hash, quality)| PdqEntry { hash, quality }),
            vpdq, photodna, category, series, note, source_id, case_id,
            victim_identified: flags[0], offender_identified: flags[1], distributed: flags[2], baseline: flags[3],
            submissions, size, extra, deleted: false,
        };
        if !e.has_hash() {
            e.sha256 = Some(Sha256::from_hex(&"5a".repeat(32)).unwrap_or(HexDigest([0; 32])));
        }
        e
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_list_round_trips(
        list in proptest::collection::vec(entry(), 0..6),
        header in proptest::sample::select(CategoryScheme::ALL.to_vec()),
    ) {
        let out = export(&list, ExportOptions { header_scheme: header, ..ExportOptions::default() });
        let back = if list.is_empty() {
            import_all(&out[..], &ImportOptions::default()).unwrap()
        } else {
            reimport(&out)
        };
        prop_assert_eq!(back.entries.len(), list.len());
        for (a, b) in list.iter().zip(&back.entries) {
            assert_same(a, b);
        }
    }
}

#[test]
fn sha1_type_is_exported() {
    // Keeps the `Sha1` alias exercised by a public-API user.
    let e = ListEntry {
        sha1: Some(Sha1::from_hex(&"0f".repeat(20)).unwrap()),
        ..ListEntry::default()
    };
    let back = reimport(&export(std::slice::from_ref(&e), ExportOptions::default()));
    assert_eq!(back.entries[0].sha1, e.sha1);
}
