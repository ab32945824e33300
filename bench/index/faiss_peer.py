#!/usr/bin/env python3
"""FAISS peer for the PDQ index benchmark (bench/index/run.sh).

  faiss_peer.py gen N Q DB.u8 QUERIES.u8 [--seed S]
      N uniform random 256-bit hashes, and Q queries planted near random
      database entries with exactly i % 32 bits flipped (0..31), so every
      query has at least one match at radius 31. Raw 32-byte rows: the
      byte order of `bytes.fromhex(pdq_hex)`, which is what FAISS and
      python-threatexchange feed to IndexBinary*, and what Rust's
      `PdqHash::from_bytes` reads.

  faiss_peer.py run KIND DB.u8 QUERIES.u8 [--radius 31]
      KIND: flat | mh16 (IndexBinaryMultiHash nhash=16, b=16, nflip=1, the
      python-threatexchange PDQIndex setting) | mh8 (nhash=8, b=32, nflip=3,
      exact for r <= 31). One thread. Prints key=value lines. --single K
      also times K one-query calls (p50/p99 of CPU ms); --ids FILE writes
      each query's matching rows.

Data is random: no real media hashes are involved.
"""

import argparse
import os
import resource
import sys
import time

import numpy as np


def gen(args):
    rng = np.random.default_rng(args.seed)
    db = rng.integers(0, 256, size=(args.n, 32), dtype=np.uint8)
    src = rng.integers(0, args.n, size=args.q)
    queries = db[src].copy()
    bits = np.unpackbits(queries, axis=1)
    for i in range(args.q):
        flips = rng.choice(256, size=i % 32, replace=False)
        bits[i, flips] ^= 1
    queries = np.packbits(bits, axis=1)
    db.tofile(args.db)
    queries.tofile(args.queries)
    print(f"op=gen n={args.n} q={args.q} seed={args.seed} db={args.db} queries={args.queries}")


def rss_mb():
    """Peak RSS (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_now_mb():
    """Current RSS, from /proc/self/status."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def run(args):
    import faiss

    faiss.omp_set_num_threads(1)
    db = np.fromfile(args.db, dtype=np.uint8).reshape(-1, 32)
    queries = np.fromfile(args.queries, dtype=np.uint8).reshape(-1, 32)
    base_rss = rss_mb()

    t0 = time.perf_counter()
    if args.kind == "flat":
        index = faiss.IndexBinaryFlat(256)
    elif args.kind == "mh16":
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1  # python-threatexchange: nflip = threshold // 16
    elif args.kind == "mh8":
        index = faiss.IndexBinaryMultiHash(256, 8, 32)
        index.nflip = 3  # exact for r <= 31 (pigeonhole over 8 chunks)
    else:
        sys.exit(f"unknown kind {args.kind}")
    index.add(db)
    build_s = time.perf_counter() - t0
    n = index.ntotal
    del db  # only the index's own copy remains
    print(
        f"op=build peer=faiss-{args.kind} n={n} build_s={build_s:.2f} rss_now_mb={rss_now_mb():.1f} "
        f"hwm_mb={rss_mb():.1f} rss_before_mb={base_rss:.1f} threads=1 version={faiss.__version__}",
        flush=True,
    )

    # FAISS range_search is strict (< radius), so radius r means "< r + 1".
    c0, w0 = time.process_time(), time.perf_counter()
    lims, _dist, _ids = index.range_search(queries, args.radius + 1)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    q = len(queries)
    print(
        f"op=query peer=faiss-{args.kind} radius={args.radius} batch={q} queries={q} "
        f"cpu_s={cpu:.4f} wall_s={wall:.4f} qps={q / cpu:.1f} matches={int(lims[-1])}"
    )
    print(f"op=mem peer=faiss-{args.kind} rss_now_mb={rss_now_mb():.1f} hwm_mb={rss_mb():.1f}", flush=True)
    if args.ids:
        with open(args.ids, "w") as f:
            for i in range(q):
                f.write(" ".join(str(x) for x in sorted(_ids[lims[i]:lims[i + 1]])) + "\n")
    if args.single:
        # One query per call, as a service answering single lookups would.
        lat = []
        for i in range(args.single):
            one = queries[i % q : i % q + 1]
            c0 = time.process_time_ns()
            index.range_search(one, args.radius + 1)
            lat.append((time.process_time_ns() - c0) / 1e6)
        lat.sort()
        p = lambda x: lat[min(len(lat) - 1, int(round(x / 100.0 * (len(lat) - 1))))]
        print(f"op=single peer=faiss-{args.kind} queries={args.single} cpu_ms_p50={p(50):.3f} "
              f"cpu_ms_p99={p(99):.3f} cpu_ms_max={lat[-1]:.3f}", flush=True)
    # Freeing a MultiHash index of 10M codes (millions of small vectors) takes
    # minutes of CPU; skip the teardown so it does not disturb the next run.
    os._exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("n", type=int)
    g.add_argument("q", type=int)
    g.add_argument("db")
    g.add_argument("queries")
    g.add_argument("--seed", type=int, default=20261129)
    r = sub.add_parser("run")
    r.add_argument("kind", choices=["flat", "mh16", "mh8"])
    r.add_argument("db")
    r.add_argument("queries")
    r.add_argument("--radius", type=int, default=31)
    r.add_argument("--single", type=int, default=0, help="also time this many one-query calls")
    r.add_argument("--ids", help="write each query's matching rows here, one line per query")
    args = p.parse_args()
    gen(args) if args.cmd == "gen" else run(args)


if __name__ == "__main__":
    main()
