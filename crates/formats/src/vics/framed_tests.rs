//! The framed path (chunked scanner + `from_slice` per record) against the
//! reference path (serde_json reading the whole document through
//! `io::Read`): same entries, same rejected records with the same positions,
//! same metadata, same fatal error at the same place, whatever the chunk
//! size the input arrives in.

use std::io::{self, BufReader, Read};
use std::ops::ControlFlow;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Path, read_with};
use crate::{ImportOptions, ImportSummary, Item};

/// Hands out at most `step` bytes a read.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let rest = self.data.get(self.at..).unwrap_or_default();
        let n = self.step.min(out.len()).min(rest.len());
        out.get_mut(..n)
            .unwrap_or_default()
            .copy_from_slice(rest.get(..n).unwrap_or_default());
        self.at += n;
        Ok(n)
    }
}

type Outcome = (Vec<Item>, Result<ImportSummary, String>);

fn run(doc: &[u8], step: usize, path: Path, stop_after: Option<usize>) -> Outcome {
    let reader = BufReader::with_capacity(
        step.max(1),
        Trickle {
            data: doc.to_vec(),
            at: 0,
            step: step.max(1),
        },
    );
    let mut items = Vec::new();
    let mut sink = |item: Item| {
        items.push(item);
        match stop_after {
            Some(n) if items.len() >= n => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    };
    let result = read_with(reader, &ImportOptions::default(), &mut sink, path);
    (items, result.map_err(|e| e.to_string()))
}

fn same(doc: &[u8], step: usize, stop_after: Option<usize>) -> Result<(), TestCaseError> {
    let reference = run(doc, 1 << 20, Path::Serde, stop_after);
    let framed = run(doc, step, Path::Framed, stop_after);
    prop_assert_eq!(
        &framed,
        &reference,
        "step {} document {:?}",
        step,
        String::from_utf8_lossy(doc)
    );
    Ok(())
}

/// Text with the characters a scanner could trip on.
fn tricky_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("{".to_string()),
            Just("}".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just(",".to_string()),
            Just(":".to_string()),
            Just("\n".to_string()),
            Just("Media".to_string()),
            Just("é".to_string()),
            "[a-z0-9 ]{0,6}",
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

fn hex(len: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9a-fA-F]{{{len}}}")).expect("regex")
}

fn media() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            hex(32).prop_map(Value::from),
            Just(Value::Null),
            Just(json!("zz"))
        ],
        proptest::option::of(hex(64)),
        proptest::option::of(0u32..5),
        proptest::option::of(tricky_text()),
        proptest::option::of(tricky_text()),
        proptest::option::of(prop_oneof![
            Just(json!("true")),
            Just(json!(false)),
            Just(json!("x"))
        ]),
    )
        .prop_map(|(md5, pdq, cat, series, extra, flag)| {
            let mut m = serde_json::Map::new();
            m.insert("MD5".into(), md5);
            if let Some(p) = pdq {
                m.insert("PDQ".into(), p.into());
            }
            if let Some(c) = cat {
                m.insert("Category".into(), c.into());
            }
            if let Some(s) = series {
                m.insert("Series".into(), s.into());
            }
            if let Some(x) = extra {
                m.insert(x.clone(), json!({ "k": [x, 1, null] }));
            }
            if let Some(f) = flag {
                m.insert("VictimIdentified".into(), f);
            }
            Value::Object(m)
        })
}

fn element() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => media(),
        1 => (tricky_text(), proptest::collection::vec(media(), 0..4))
            .prop_map(|(id, m)| json!({ "CaseID": id, "Media": m, "Total": 1 })),
        1 => Just(json!(42)),
        1 => Just(json!([1, "]", {"a": "}"}])),
        1 => tricky_text().prop_map(Value::from),
        1 => Just(json!({ "CaseID": "{X}" })),
        1 => Just(json!(null)),
    ]
}

fn document() -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        proptest::collection::vec(element(), 0..8),
        0usize..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(elements, header, pretty, bare)| {
            let value = Value::Array(elements);
            let doc = if bare {
                value
            } else {
                let url = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media";
                match header {
                    0 => json!({ "@odata.context": url, "value": value }),
                    1 => json!({ "value": value, "odata.metadata": "http://x/DataModels/1.3.xml#Media" }),
                    2 => json!({ "value": value }),
                    _ => json!({ "a": {"b": ["}"]}, "value": value, "z": "\"" }),
                }
            };
            let text = if pretty {
                serde_json::to_vec_pretty(&doc)
            } else {
                serde_json::to_vec(&doc)
            };
            (text.unwrap_or_default(), pretty)
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("TIAKI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
        ..ProptestConfig::default()
    })]

    #[test]
    fn framed_equals_serde_on_valid_documents(
        (doc, _) in document(),
        step in 1usize..64,
        bom in any::<bool>(),
    ) {
        let mut bytes = if bom { b"\xEF\xBB\xBF \n ".to_vec() } else { Vec::new() };
        bytes.extend(doc);
        // (`skip_bom` needs the three bytes in one `fill_buf`.)
        same(&bytes, if bom { step.max(3) } else { step }, None)?;
    }

    #[test]
    fn framed_equals_serde_when_stopped_early(
        (doc, _) in document(),
        step in 1usize..64,
        stop in 1usize..4,
    ) {
        same(&doc, step, Some(stop))?;
    }

    #[test]
    fn framed_equals_serde_on_broken_documents(
        (doc, _) in document(),
        step in 1usize..64,
        cut in any::<proptest::sample::Index>(),
        insert in any::<proptest::sample::Index>(),
        byte in prop_oneof![
            Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'),
            Just(b','), Just(b':'), Just(b'\\'), Just(b'x'), Just(b'\n'), Just(b' ')
        ],
        kind in 0u8..3,
    ) {
        let mut bytes = doc;
        if !bytes.is_empty() {
            match kind {
                0 => bytes.truncate(cut.index(bytes.len())),
                1 => bytes.insert(insert.index(bytes.len()), byte),
                _ => {
                    let at = insert.index(bytes.len());
                    bytes.remove(at);
                }
            }
        }
        same(&bytes, step, None)?;
    }
}

#[test]
fn chunk_boundaries_everywhere() {
    let doc = json!({
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Cases",
        "value": [
            {"MD5": "ab".repeat(16), "Series": "a\"}]{[\\", "Category": 1},
            {"CaseID": "{A}", "Media": [{"MD5": "11".repeat(16)}, {"MD5": "zz"}, 7]},
            {"MD5": "cd".repeat(16), "PDQ": "e".repeat(64)},
        ]
    });
    for text in [
        serde_json::to_vec(&doc).unwrap_or_default(),
        serde_json::to_vec_pretty(&doc).unwrap_or_default(),
    ] {
        for step in 1..40 {
            let framed = run(&text, step, Path::Framed, None);
            assert_eq!(
                framed,
                run(&text, 1 << 20, Path::Serde, None),
                "step {step}"
            );
            assert_eq!(framed.0.len(), 5);
        }
    }
}
