//! Hostile hash lists (issue 17, docs/reliability.md "Hostile input"): 1 GiB
//! lines and values, invalid UTF-8, deep nesting, entity declarations. Each
//! gets its documented answer (a record error naming the line or record,
//! or a document error naming the position) within 512 MB of memory and a
//! deadline (`tiaki_testkit::bounded`). Inputs are generated as streams:
//! nothing large is written anywhere.

use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::time::Duration;

use tiaki_formats::{Format, ImportOptions, import};
use tiaki_testkit::{billion_laughs, bounded};

// A guard against hangs, not a measure: generous for a loaded 2-core machine.
const DEADLINE: Duration = Duration::from_secs(300);
const GIB: u64 = 1 << 30;

/// What an import said: each record error, then the end (summary counts or
/// the document error).
fn outcome(format: Format, reader: impl BufRead) -> Vec<String> {
    let mut said = Vec::new();
    let opts = ImportOptions {
        format: Some(format),
        ..ImportOptions::default()
    };
    let r = import(reader, &opts, |item| {
        if let Err(e) = item {
            said.push(e.to_string());
        }
        ControlFlow::Continue(())
    });
    said.push(match r {
        Ok(s) => format!("ok: {} entries, {} rejected", s.entries, s.rejected),
        Err(e) => e.to_string(),
    });
    said
}

/// `head`, then `n` bytes of `fill`, then `tail`, as a stream.
fn stream(head: &str, fill: u8, n: u64, tail: &str) -> impl BufRead {
    BufReader::with_capacity(
        1 << 16,
        head.as_bytes()
            .chain(std::io::repeat(fill).take(n))
            .chain(tail.as_bytes()),
    )
}

const PDQ: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

#[test]
fn one_gib_lines_are_record_errors_and_reading_goes_on() {
    bounded(
        "hostile::one_gib_lines_are_record_errors_and_reading_goes_on",
        DEADLINE,
        || {
            let tail = format!("\n{PDQ},100\n");
            assert_eq!(
                outcome(Format::PdqLines, stream("", b'a', GIB, &tail)),
                [
                    "line 1: line longer than 1048576 bytes",
                    "ok: 1 entries, 1 rejected"
                ]
            );
            let tail = format!("\n{PDQ},100,0.000\n");
            assert_eq!(
                outcome(Format::VpdqText, stream("", b'a', GIB, &tail)),
                [
                    "line 1: line longer than 1048576 bytes",
                    "ok: 1 entries, 1 rejected"
                ]
            );
            let md5 = "ab".repeat(16);
            let tail = format!("\n{md5},x\n");
            assert_eq!(
                outcome(Format::Csv, stream("md5,name\n", b'a', GIB, &tail)),
                [
                    "line 2: line longer than 1048576 bytes",
                    "ok: 1 entries, 1 rejected"
                ]
            );
        },
    );
}

#[test]
fn one_gib_values_in_json_and_xml_documents() {
    bounded(
        "hostile::one_gib_values_in_json_and_xml_documents",
        DEADLINE,
        || {
            let said = outcome(
                Format::Vics,
                stream("{\"value\": [{\"MD5\": \"", b'a', GIB, "\"}]}"),
            );
            assert_eq!(
                said,
                [
                    "malformed vics document at line 1, column 11: a string or number in this value is longer than 4 MiB (0 entries read, 0 records rejected before)"
                ]
            );
            let said = outcome(
                Format::NcmecXml,
                stream(
                    "<queryResult><images><image><id>i1</id><fingerprints><md5>",
                    b'a',
                    GIB,
                    "</md5></fingerprints></image></images></queryResult>",
                ),
            );
            assert_eq!(
                said,
                [
                    "malformed ncmec document at line 1, column 4259899: more than 4194304 bytes of text or markup without a tag (0 entries read, 0 records rejected before)"
                ]
            );
        },
    );
}

#[test]
fn invalid_utf8_is_named_by_line_or_position() {
    let md5 = "ab".repeat(16);
    let b = [format!("{PDQ},100\n").as_bytes(), b"\xff\xfe,1\n"].concat();
    assert_eq!(
        outcome(Format::PdqLines, &b[..]),
        [
            "line 2: pdq: not a PDQ hash: a PDQ hash is 64 hex digits, got 2 characters",
            "ok: 1 entries, 1 rejected"
        ]
    );
    let csv = [
        format!("md5,name\n{md5},ok\n").as_bytes(),
        b"\xff\xfe,bad\n",
    ]
    .concat();
    assert_eq!(
        outcome(Format::Csv, &csv[..]),
        [
            "line 3: md5: expected 32 hex digits, got 2 characters",
            "ok: 1 entries, 1 rejected"
        ]
    );
    let vics = [&b"{\"value\": [{\"MD5\": \"\xff\xfe\"}]}"[..]].concat();
    assert_eq!(
        outcome(Format::Vics, &vics[..]),
        [
            "malformed vics document at line 1, column 21: invalid unicode code point (0 entries read, 0 records rejected before)"
        ]
    );
    let xml = b"<queryResult><images><image><id>i1</id><fingerprints><md5>\xff\xfe</md5></fingerprints></image></images></queryResult>";
    assert_eq!(
        outcome(Format::NcmecXml, &xml[..]),
        [
            "malformed ncmec document at line 1, column 61: cannot decode input using UTF-8: invalid utf-8 sequence of 1 bytes from index 0 (0 entries read, 0 records rejected before)"
        ]
    );
}

#[test]
fn deep_nesting_stops_at_a_depth_limit() {
    bounded(
        "hostile::deep_nesting_stops_at_a_depth_limit",
        DEADLINE,
        || {
            let n = 1_000_000;
            let vics = format!(
                "{{\"value\": [{{\"MD5\": {}{}}}]}}",
                "[".repeat(n),
                "]".repeat(n)
            );
            assert_eq!(
                outcome(Format::Vics, vics.as_bytes()),
                [
                    "malformed vics document at line 1, column 146: recursion limit exceeded (0 entries read, 0 records rejected before)"
                ]
            );
            let vpdq = format!("{}{}", "[".repeat(n), "]".repeat(n));
            assert_eq!(
                outcome(Format::VpdqJson, vpdq.as_bytes()),
                [
                    "malformed vpdq-json document at line 1, column 128: recursion limit exceeded at line 1 column 128 (0 entries read, 0 records rejected before)"
                ]
            );
            let xml = format!(
                "<queryResult><images><image>{}{}</image></images></queryResult>",
                "<a>".repeat(n),
                "</a>".repeat(n)
            );
            assert_eq!(
                outcome(Format::NcmecXml, xml.as_bytes()),
                [
                    "line 1, column 22: entry: elements nested more than 32 deep",
                    "ok: 0 entries, 1 rejected"
                ]
            );
        },
    );
}

#[test]
fn ncmec_entity_declarations_billion_laughs_are_refused() {
    bounded(
        "hostile::ncmec_entity_declarations_billion_laughs_are_refused",
        DEADLINE,
        || {
            let doc = billion_laughs(
                "queryResult",
                "<queryResult><images><image><id>i1</id><fingerprints><md5>&lol9;</md5></fingerprints></image></images></queryResult>",
            );
            assert_eq!(
                outcome(Format::NcmecXml, doc.as_bytes()),
                [
                    "malformed ncmec document at line 2, column 1: the DOCTYPE declares entities (<!ENTITY ...>); entity declarations are refused, never expanded (0 entries read, 0 records rejected before)"
                ]
            );
        },
    );
}
