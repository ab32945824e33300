//! Writes a synthetic provider-report/1 bundle directory.
//!
//! ```text
//! cargo run --release -p tiaki-intake --example gen_bundle -- \
//!     --accounts 90000 --media 2000000 --out /tmp/bundle [--files 500] [--seed 7] [--bad-lines] [--events N]
//! ```
//!
//! Prints a JSON summary (counts, report id, the bad lines and their line
//! numbers) on stdout. With `--read`, it then reads the bundle back and
//! prints the reading throughput (`--read-only`: read an existing bundle).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tiaki_intake::generate::{GenOptions, generate};
use tiaki_intake::{Bundle, Limits};

fn usage() -> ExitCode {
    eprintln!(
        "usage: gen_bundle --accounts N --media M --out DIR [--files K] [--seed S] [--events E] [--bad-lines] [--read | --read-only]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut opts = GenOptions::default();
    let mut out = None;
    let mut read_back = false;
    let mut skip_generate = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Option<u64> {
            let v = args.next()?;
            match v.parse() {
                Ok(n) => Some(n),
                Err(_) => {
                    eprintln!("{name}: not a number: {v:?}");
                    None
                }
            }
        };
        match a.as_str() {
            "--accounts" => match num("--accounts") {
                Some(n) => opts.accounts = n,
                None => return usage(),
            },
            "--media" => match num("--media") {
                Some(n) => opts.media = n,
                None => return usage(),
            },
            "--files" => match num("--files") {
                Some(n) => opts.files = n,
                None => return usage(),
            },
            "--seed" => match num("--seed") {
                Some(n) => opts.seed = n,
                None => return usage(),
            },
            "--events" => match num("--events") {
                Some(n) => opts.events = Some(n),
                None => return usage(),
            },
            "--bad-lines" => opts.bad_lines = true,
            "--read" => read_back = true,
            "--read-only" => {
                read_back = true;
                skip_generate = true;
            }
            "--out" => match args.next() {
                Some(p) => out = Some(PathBuf::from(p)),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    let Some(out) = out else { return usage() };
    opts.out = out;
    if skip_generate {
        return read(&opts.out);
    }
    let t = Instant::now();
    let summary = match generate(&opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gen_bundle: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("generated in {:.2} s", t.elapsed().as_secs_f64());
    match serde_json::to_string_pretty(&summary) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("gen_bundle: {e}"),
    }
    if read_back {
        return read(&opts.out);
    }
    ExitCode::SUCCESS
}

/// CPU time of this thread in seconds (Linux `schedstat`; 0 elsewhere), so
/// throughput can be stated per core even on a busy machine.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |ns| ns / 1e9)
}

fn report(what: &str, ok: u64, bad: u64, wall: Instant, cpu0: f64) {
    let s = wall.elapsed().as_secs_f64();
    let c = cpu_s() - cpu0;
    let n = (ok + bad) as f64;
    eprintln!(
        "{what}: {ok} ok, {bad} errors, {s:.2} s wall ({:.0} lines/s), {c:.2} s CPU ({:.0} lines/CPU-s)",
        n / s,
        n / c
    );
}

/// Reads the bundle back, timing each file separately.
fn read(dir: &std::path::Path) -> ExitCode {
    let t = Instant::now();
    let staging = std::env::temp_dir().join("gen_bundle_unused_staging");
    let mut bundle = match Bundle::open(dir, &staging, &Limits::default()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("open: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "open (manifest + files_sha256): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let (t, c) = (Instant::now(), cpu_s());
    let (mut ok, mut bad) = (0u64, 0u64);
    for r in bundle.accounts() {
        if r.is_ok() { ok += 1 } else { bad += 1 }
    }
    report("accounts", ok, bad, t, c);
    let (t, c) = (Instant::now(), cpu_s());
    let (mut ok, mut bad) = (0u64, 0u64);
    for r in bundle.media() {
        if r.is_ok() { ok += 1 } else { bad += 1 }
    }
    report("media", ok, bad, t, c);
    let (t, c) = (Instant::now(), cpu_s());
    let (mut ok, mut bad) = (0u64, 0u64);
    for r in bundle.events() {
        if r.is_ok() { ok += 1 } else { bad += 1 }
    }
    report("events", ok, bad, t, c);
    ExitCode::SUCCESS
}
