//! Hashes videos and prints their vPDQ features, or times them.
//!
//! ```text
//! cargo run --release -p tiaki-video --example vpdq-hash -- [--every S] [--signal|--time] FILE…
//! ```
//!
//! * default: the reference text form (`frame,quality,hex,timestamp`);
//! * `--signal`: python-threatexchange's JSON signal form;
//! * `--time`: one tab-separated line per file, `name seconds hashes` (used
//!   by `bench/video/run.sh`);
//! * `--compare A B`: python-threatexchange's comparison of two files, as JSON.

use std::process::ExitCode;
use std::time::Instant;

use tiaki_hash::vpdq::format::{write_reference_text, write_signal};
use tiaki_hash::vpdq::{MatchThresholds, compare};
use tiaki_video::{VideoOptions, hash_video_file};

fn main() -> ExitCode {
    let mut opts = VideoOptions::default();
    let mut mode = "text";
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--every" => match args.next().and_then(|s| s.parse().ok()) {
                Some(s) => opts.seconds_per_hash = s,
                None => {
                    eprintln!("--every needs a number of seconds");
                    return ExitCode::from(2);
                }
            },
            "--decode-threads" => match args.next().and_then(|s| s.parse().ok()) {
                Some(n) => opts.decode_threads = n,
                None => {
                    eprintln!("--decode-threads needs a number");
                    return ExitCode::from(2);
                }
            },
            "--signal" => mode = "signal",
            "--time" => mode = "time",
            "--compare" => mode = "compare",
            _ => files.push(a),
        }
    }
    if mode == "compare" {
        let [a, b] = files.as_slice() else {
            eprintln!("--compare needs two files");
            return ExitCode::from(2);
        };
        let hash =
            |f: &String| hash_video_file(f.as_ref(), &opts).map_err(|e| eprintln!("{f}: {e}"));
        let (Ok(a), Ok(b)) = (hash(a), hash(b)) else {
            return ExitCode::FAILURE;
        };
        let r = compare(&a.features, &b.features, &MatchThresholds::default());
        println!(
            "{{\"query_match_percent\": {}, \"compared_match_percent\": {}, \"is_match\": {}}}",
            r.query_match_percent, r.compared_match_percent, r.is_match
        );
        return ExitCode::SUCCESS;
    }
    let mut status = ExitCode::SUCCESS;
    for f in &files {
        let t0 = Instant::now();
        match hash_video_file(f.as_ref(), &opts) {
            Ok(v) => match mode {
                "signal" => println!("{}", write_signal(&v.features)),
                "time" => println!(
                    "{f}\t{:.3}\t{}",
                    t0.elapsed().as_secs_f64(),
                    v.features.len()
                ),
                _ => print!("{}", write_reference_text(&v.features)),
            },
            Err(e) => {
                eprintln!("{f}: error ({}): {e}", e.kind());
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}
