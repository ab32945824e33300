//! Whole-index benchmark on a shared data file, the Rust half of
//! `bench/index/run.sh` (the FAISS half is `bench/index/faiss_peer.py`).
//!
//! ```text
//! index_bench build   DB.u8 INDEX.tki [--engine auto|scan|mih]
//! index_bench query   INDEX.tki QUERIES.u8 [--radius 31] [--batch N] [--repeat K] [--latency 1]
//! index_bench crossover N... [--queries Q] [--radius R] [--kernel portable|popcnt|avx512-vpopcntdq]
//!                                           (random data, scan vs MIH)
//! ```
//!
//! `DB.u8` / `QUERIES.u8` hold raw 32-byte hashes in `PdqHash::to_bytes`
//! order (the byte order FAISS uses for `bytes.fromhex(hex)`). Output is one
//! `key=value` line per result, for run.sh to tabulate. Single-threaded.

use std::io::Read;
use std::time::Instant;
use tiaki_hash::pdq::PdqHash;
use tiaki_index::{Engine, KnownIndex, PdqEntry, PdqIndex, PdqIndexConfig, ScanKernel};
use tiaki_testkit::{PdqRng, Rng};

fn read_hashes(path: &str) -> Vec<PdqHash> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(2)
        });
    bytes
        .chunks_exact(32)
        .map(|c| {
            let mut a = [0u8; 32];
            a.copy_from_slice(c);
            PdqHash::from_bytes(&a)
        })
        .collect()
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn config_for(engine: &str) -> PdqIndexConfig {
    let mut c = PdqIndexConfig::default();
    match engine {
        "scan" => c.mih_min_len = usize::MAX,
        "mih" => {
            c.mih_min_len = 0;
            c.engine_by_cost = false;
        }
        _ => {}
    }
    c
}

/// CPU time of this thread in seconds (`/proc/thread-self/schedstat`, ns).
/// The machine is shared: CPU time is what a query costs, wall time also
/// counts the time other processes held the core.
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// Time `queries` in batches of `batch`; returns (cpu seconds, wall seconds, total matches).
fn run_queries(
    idx: &PdqIndex,
    queries: &[PdqHash],
    radius: u32,
    batch: usize,
) -> (f64, f64, usize) {
    let (t, c) = (Instant::now(), cpu_s());
    let mut matches = 0usize;
    for chunk in queries.chunks(batch.max(1)) {
        idx.search(chunk, radius, &mut |_, _, _| matches += 1);
    }
    (cpu_s() - c, t.elapsed().as_secs_f64(), matches)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") => {
            let (Some(db), Some(out)) = (args.get(2), args.get(3)) else {
                eprintln!("usage: index_bench build DB.u8 INDEX.tki [--engine auto|scan|mih]");
                std::process::exit(2)
            };
            let engine = arg(&args, "--engine").unwrap_or_else(|| "auto".into());
            let hashes = read_hashes(db);
            let n = hashes.len();
            let t = Instant::now();
            let mut idx = KnownIndex::new(config_for(&engine));
            let entries = hashes.into_iter().enumerate().map(|(i, hash)| PdqEntry {
                hash,
                quality: 100,
                id: i as u64,
            });
            let rep = idx.pdq.extend(entries).unwrap_or_else(|e| {
                eprintln!("{e}");
                std::process::exit(1)
            });
            if let Err(e) = idx.pdq.flush() {
                eprintln!("{e}");
                std::process::exit(1)
            }
            let build_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            if let Err(e) = idx.save_path(out) {
                eprintln!("{e}");
                std::process::exit(1)
            }
            let st = idx.pdq.stats();
            println!(
                "op=build n={n} inserted={} engine={:?} build_s={build_s:.3} save_s={:.3} heap_mb={:.1} kernel={}",
                rep.inserted,
                idx.pdq.engine_for(31),
                t.elapsed().as_secs_f64(),
                st.heap_bytes as f64 / 1e6,
                st.kernel.name()
            );
        }
        Some("query") => {
            let (Some(index), Some(qpath)) = (args.get(2), args.get(3)) else {
                eprintln!(
                    "usage: index_bench query INDEX.tki QUERIES.u8 [--radius 31] [--batch N]"
                );
                std::process::exit(2)
            };
            let radius: u32 = arg(&args, "--radius")
                .and_then(|s| s.parse().ok())
                .unwrap_or(31);
            let rss0 = status_kb("VmRSS:");
            let t = Instant::now();
            let idx = KnownIndex::load_path(index).unwrap_or_else(|e| {
                eprintln!("{index}: {e}");
                std::process::exit(1)
            });
            let load_s = t.elapsed().as_secs_f64();
            let (rss_loaded, hwm_loaded) = (status_kb("VmRSS:"), status_kb("VmHWM:"));
            let queries = read_hashes(qpath);
            let st = idx.pdq.stats();
            println!(
                "op=load n={} load_s={load_s:.3} rss_before_mb={:.1} rss_now_mb={:.1} hwm_mb={:.1} heap_mb={:.1} engine={:?} kernel={}",
                idx.pdq.len(),
                rss0 as f64 / 1024.0,
                rss_loaded as f64 / 1024.0,
                hwm_loaded as f64 / 1024.0,
                st.heap_bytes as f64 / 1e6,
                idx.pdq.engine_for(radius),
                st.kernel.name()
            );
            let batches: Vec<usize> = arg(&args, "--batch")
                .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
                .unwrap_or_else(|| vec![1, 8, queries.len()]);
            for b in batches {
                let (secs, wall, matches) = run_queries(&idx.pdq, &queries, radius, b);
                println!(
                    "op=query radius={radius} batch={b} queries={} cpu_s={secs:.4} wall_s={wall:.4} qps={:.1} matches={matches}",
                    queries.len(),
                    queries.len() as f64 / secs
                );
            }
            // Per-call latency: one needle per call, and one query's 8
            // dihedral variants per call (what one `tiaki lookup` line asks
            // of the index). CPU of this thread per call, p50/p99/max.
            if arg(&args, "--latency").is_some() {
                let pct = |v: &mut Vec<f64>, p: f64| {
                    v.sort_by(f64::total_cmp);
                    v.get(((p / 100.0) * (v.len().max(1) - 1) as f64).round() as usize)
                        .copied()
                        .unwrap_or(0.0)
                };
                for kind in ["needle", "dihedral"] {
                    let mut ms = Vec::with_capacity(queries.len());
                    let mut matches = 0usize;
                    for q in &queries {
                        let variants = tiaki_hash::pdq::dihedral_of_hash(q);
                        let c = cpu_s();
                        matches += if kind == "needle" {
                            idx.pdq.query(q, radius).len()
                        } else {
                            idx.pdq.query_dihedral(&variants, radius).len()
                        };
                        ms.push((cpu_s() - c) * 1e3);
                    }
                    let (p50, p99) = (pct(&mut ms, 50.0), pct(&mut ms, 99.0));
                    println!(
                        "op=latency kind={kind} radius={radius} queries={} cpu_ms_p50={p50:.3} cpu_ms_p99={p99:.3} cpu_ms_max={:.3} engine={:?} matches={matches}",
                        queries.len(),
                        ms.last().copied().unwrap_or(0.0),
                        idx.pdq
                            .engine_for_batch(radius, if kind == "needle" { 1 } else { 8 })
                    );
                }
            }
            println!(
                "op=mem rss_now_mb={:.1} hwm_mb={:.1}",
                status_kb("VmRSS:") as f64 / 1024.0,
                status_kb("VmHWM:") as f64 / 1024.0
            );
        }
        Some("crossover") => {
            let nq: usize = arg(&args, "--queries")
                .and_then(|s| s.parse().ok())
                .unwrap_or(200);
            let radius: u32 = arg(&args, "--radius")
                .and_then(|s| s.parse().ok())
                .unwrap_or(31);
            let sizes: Vec<usize> = args
                .iter()
                .skip(2)
                .take_while(|a| !a.starts_with("--"))
                .filter_map(|s| s.parse().ok())
                .collect();
            let mut rng = Rng::new(42);
            for n in sizes {
                let hashes: Vec<PdqHash> = (0..n).map(|_| rng.hash()).collect();
                let queries: Vec<PdqHash> = (0..nq)
                    .map(|i| {
                        let stored = hashes[rng.below(n)];
                        rng.flip(&stored, i % 32)
                    })
                    .collect();
                let kernel = arg(&args, "--kernel")
                    .and_then(|k| ScanKernel::available().into_iter().find(|x| x.name() == k));
                for engine in ["scan", "mih"] {
                    let mut idx = PdqIndex::new(PdqIndexConfig {
                        kernel,
                        ..config_for(engine)
                    });
                    let t = Instant::now();
                    let entries = hashes.iter().enumerate().map(|(i, &hash)| PdqEntry {
                        hash,
                        quality: 100,
                        id: i as u64,
                    });
                    let _ = idx.extend(entries);
                    let _ = idx.flush();
                    let build_s = t.elapsed().as_secs_f64();
                    assert_eq!(
                        idx.engine_for(radius),
                        if engine == "mih" {
                            Engine::Mih
                        } else {
                            Engine::Scan
                        }
                    );
                    for batch in [1usize, 8, nq] {
                        let (secs, wall, matches) = run_queries(&idx, &queries, radius, batch);
                        println!(
                            "op=crossover n={n} engine={engine} radius={radius} batch={batch} build_s={build_s:.2} wall_s={wall:.3} qps={:.1} ms_per_q={:.3} matches={matches} heap_mb={:.0}",
                            nq as f64 / secs,
                            secs * 1e3 / nq as f64,
                            idx.stats().heap_bytes as f64 / 1e6
                        );
                    }
                }
            }
        }
        _ => {
            eprintln!("usage: index_bench build|query|crossover …");
            std::process::exit(2)
        }
    }
}
