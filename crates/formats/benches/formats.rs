//! Import and export throughput per format, in entries per second
//! (criterion prints it as "elem/s"). The large-file measurement with peak
//! memory is `examples/vics_throughput.rs`; results in docs/bench-formats.md.
//!
//! ```text
//! cargo bench -p tiaki-formats --bench formats
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/formats/common/synth.rs"]
mod synth;

use std::hint::black_box;
use std::io::Read;
use std::ops::ControlFlow;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tiaki_formats::{ExportOptions, Format, ImportOptions, VicsWriter, import, import_all};

const N: u64 = 20_000;

fn count(bytes: &[u8], format: Format) -> u64 {
    let opts = ImportOptions {
        format: Some(format),
        ..ImportOptions::default()
    };
    let mut n = 0u64;
    import(bytes, &opts, |item| {
        n += u64::from(item.is_ok());
        ControlFlow::Continue(())
    })
    .unwrap();
    n
}

fn vics_doc() -> Vec<u8> {
    let mut v = Vec::new();
    synth::SyntheticVics::new(N).read_to_end(&mut v).unwrap();
    v
}

fn csv_doc() -> Vec<u8> {
    let mut s = String::from(
        "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\n",
    );
    for i in 0..N {
        s.push_str(&format!(
            "{};{};;{i};yes;no;no;SERIES-{};3;y;Image;f\n",
            synth::md5_of(i),
            synth::sha1_of(i),
            i % 97
        ));
    }
    s.into_bytes()
}

fn pdq_doc() -> Vec<u8> {
    let mut s = String::new();
    for i in 0..N {
        s.push_str(&format!(
            "{:016x}{:016x}{:016x}{:016x},100\n",
            synth::mix(i),
            synth::mix(i + 1),
            synth::mix(i + 2),
            synth::mix(i + 3)
        ));
    }
    s.into_bytes()
}

fn ncmec_doc() -> Vec<u8> {
    let mut s = String::from(
        "<?xml version=\"1.0\"?>\n<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\"><images>\n",
    );
    for i in 0..N {
        s.push_str(&format!(
            "<image><member id=\"42\">Example Member</member><timestamp>2017-10-24T15:00:00Z</timestamp><id>image{i}</id><classification>A1</classification><fingerprints><md5>{}</md5><sha1>{}</sha1></fingerprints></image>\n",
            synth::md5_of(i),
            synth::sha1_of(i)
        ));
    }
    s.push_str("</images></queryResult>\n");
    s.into_bytes()
}

fn imports(c: &mut Criterion) {
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    for (name, doc, format) in [
        ("vics", vics_doc(), Format::Vics),
        ("icse_csv", csv_doc(), Format::IcseCsv),
        ("pdq_lines", pdq_doc(), Format::PdqLines),
        ("ncmec_xml", ncmec_doc(), Format::NcmecXml),
    ] {
        assert_eq!(count(&doc, format), N, "{name}");
        g.bench_function(name, |b| b.iter(|| count(black_box(&doc), format)));
    }
    g.finish();
}

fn export(c: &mut Criterion) {
    let entries = import_all(&vics_doc()[..], &ImportOptions::default())
        .unwrap()
        .entries;
    let mut g = c.benchmark_group("export");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("vics2", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(16 << 20);
            let mut w = VicsWriter::new(&mut out, ExportOptions::default()).unwrap();
            for e in &entries {
                w.write_entry(e).unwrap();
            }
            w.finish().unwrap();
            out.len()
        });
    });
    g.finish();
}

criterion_group!(benches, imports, export);
criterion_main!(benches);
