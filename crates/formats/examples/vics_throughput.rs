//! Measures VICS import throughput on a large synthetic file, and the peak
//! memory it takes (issue 4: ≥ 100,000 entries/s; a 500 MB list must not need
//! 500 MB of memory).
//!
//! ```text
//! cargo run --release -p tiaki-formats --example vics_throughput -- [ENTRIES] [FILE]
//! ```
//!
//! Writes ENTRIES (default 1,000,000) synthetic VICS 2.0 media records to
//! FILE (default: a temporary file, removed afterwards), then imports it
//! from disk through `tiaki_formats::import` and prints one JSON line.

#[path = "../tests/formats/common/synth.rs"]
mod synth;

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::ops::ControlFlow;
use std::time::Instant;

use tiaki_formats::{ExportOptions, ImportOptions, VicsWriter, import};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of this process so far (`/proc/self/stat`,
/// fields 14 and 15, in USER_HZ = 100 ticks). CPU time, unlike wall time,
/// is not inflated when other jobs share the machine's cores.
fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name (field 2) may hold spaces; count from after its ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let (path, _tmp) = match args.next() {
        Some(p) => (std::path::PathBuf::from(p), None),
        None => {
            let dir = tempfile::tempdir()?;
            (dir.path().join("synthetic.vics.json"), Some(dir))
        }
    };

    let t = Instant::now();
    std::io::copy(
        &mut synth::SyntheticVics::new(n),
        &mut BufWriter::new(File::create(&path)?),
    )?;
    let bytes = std::fs::metadata(&path)?.len();
    let gen_s = t.elapsed().as_secs_f64();
    let rss_before = peak_rss_kib().unwrap_or(0);

    let t = Instant::now();
    let cpu0 = cpu_s();
    let mut md5_xor = 0u8;
    let summary = import(
        BufReader::with_capacity(256 * 1024, File::open(&path)?),
        &ImportOptions::default(),
        |item| {
            if let Ok(e) = item {
                md5_xor ^= e.md5.map_or(0, |m| m.0[0]);
            }
            ControlFlow::Continue(())
        },
    )?;
    let import_s = t.elapsed().as_secs_f64();
    let import_cpu_s = cpu_s() - cpu0;
    let rss_after = peak_rss_kib().unwrap_or(0);

    // Export throughput: re-read and write a VICS 2.0 document to /dev/null.
    let t = Instant::now();
    let mut w = VicsWriter::new(BufWriter::new(std::io::sink()), ExportOptions::default())?;
    let mut werr = None;
    import(
        BufReader::with_capacity(256 * 1024, File::open(&path)?),
        &ImportOptions::default(),
        |item| {
            if let Ok(e) = item
                && let Err(err) = w.write_entry(&e)
            {
                werr = Some(err);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    )?;
    if let Some(e) = werr {
        return Err(e.into());
    }
    w.finish()?;
    let roundtrip_s = t.elapsed().as_secs_f64();

    println!(
        "{}",
        serde_json::json!({
            "entries": summary.entries,
            "rejected": summary.rejected,
            "file_bytes": bytes,
            "generate_s": (gen_s * 1000.0).round() / 1000.0,
            "import_s": (import_s * 1000.0).round() / 1000.0,
            "import_entries_per_s": (summary.entries as f64 / import_s).round(),
            "import_cpu_s": import_cpu_s,
            "import_entries_per_cpu_s": (summary.entries as f64 / import_cpu_s.max(0.01)).round(),
            "import_mb_per_s": ((bytes as f64 / 1e6) / import_s * 10.0).round() / 10.0,
            "import_and_export_entries_per_s": (summary.entries as f64 / roundtrip_s).round(),
            "peak_rss_kib_before_import": rss_before,
            "peak_rss_kib_after_import": rss_after,
            "check": md5_xor,
        })
    );
    Ok(())
}
