#!/usr/bin/env python3
"""The PDQ index through the CLI, as a user meets it (bench/index/cli_run.sh).

  cli_bench.py import TIAKI DATA DB.u8
      Streams the N hashes of DB.u8 as PDQ lines (hex, one a line) through a
      pipe into `tiaki lists import --format pdq` (no list file on disk).
      Prints the wall time, the rate and the importer's peak RSS.

  cli_bench.py lookup TIAKI DATA QUERIES.u8 [--single K] [--repeat R]
      - open: `tiaki lookup` answering one query, R times (warm page cache):
        wall and CPU seconds of the whole process (open + one query), peak RSS.
      - batch: all Q queries piped in at once; per query = (CPU of that run -
        CPU of the one-query run) / (Q - 1), so opening the index does not
        count. Also wall.
      - single: one long-lived `tiaki lookup`; K queries written one at a
        time, each only after the previous answer arrived (a pacing pipe),
        so every query is a batch of one. Latency per query: wall (write to
        answer read) and CPU (all the process's threads, from
        /proc/PID/task/*/schedstat, in ns); p50, p99, max.
      - every answer's PDQ matches, as entry ids, are written to
        --ids FILE (one line per query, ids - 1 = database rows) so the run
        script can compare them with FAISS Flat's.

CPU figures are what count on a shared machine (the wall figures include
waiting for a core). Random data only.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def hexlines(db, chunk=1 << 16):
    for i in range(0, len(db), chunk):
        block = db[i : i + chunk]
        yield ("\n".join(bytes(r).hex() for r in block) + "\n").encode()


def do_import(args):
    db = np.fromfile(args.db, dtype=np.uint8).reshape(-1, 32)
    cmd = [args.tiaki, "--data", args.data, "lists", "import", "--format", "pdq",
           "--name", f"bench{len(db)}", "/dev/stdin"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for b in hexlines(db):
        p.stdin.write(b)
    p.stdin.close()
    out = p.stdout.read().decode().strip()
    _, status, ru = os.wait4(p.pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    wall, cpu = time.perf_counter() - t0, ru.ru_utime + ru.ru_stime
    hwm = ru.ru_maxrss / 1024.0
    if rc != 0:
        sys.exit(f"import failed ({rc}): {out}")
    idx = os.path.join(args.data, "known.idx")
    print(f"op=import n={len(db)} wall_s={wall:.1f} cpu_s={cpu:.1f} rate={len(db) / wall:.0f} "
          f"hwm_mb={hwm:.0f} idx_bytes={os.path.getsize(idx)} "
          f"db_bytes={os.path.getsize(os.path.join(args.data, 'tiaki.db'))}", flush=True)


def run_once(args, lines):
    """One `tiaki lookup` process fed `lines`; (wall, cpu, its peak RSS MiB, output)."""
    data = "".join(l + "\n" for l in lines).encode()
    t0 = time.perf_counter()
    p = subprocess.Popen([args.tiaki, "--data", args.data, "lookup"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    # Not `communicate`: it would reap the child before `wait4` gets its rusage.
    import threading
    def feed():
        p.stdin.write(data)
        p.stdin.close()
    t = threading.Thread(target=feed)
    t.start()
    out = p.stdout.read()
    t.join()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"lookup failed ({p.returncode})")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, out.decode().splitlines()


def proc_cpu_ns(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def ids_of(answer):
    a = json.loads(answer)
    return sorted(m["entry"] for m in a.get("matches", []) if m["kind"] == "pdq")


def do_lookup(args):
    q = np.fromfile(args.queries, dtype=np.uint8).reshape(-1, 32)
    lines = [bytes(r).hex() for r in q]
    # Open: one query, R times.
    opens = [run_once(args, lines[:1]) for _ in range(args.repeat)]
    w1 = min(o[0] for o in opens)
    c1 = min(o[1] for o in opens)
    print(f"op=open wall_s={w1:.3f} cpu_s={c1:.3f} hwm_mb={opens[-1][2]:.0f} "
          f"runs={args.repeat} (one query included)", flush=True)
    # Batch: all queries piped in.
    wq, cq, hwm, out = run_once(args, lines)
    per_cpu = max(cq - c1, 0.0) / (len(lines) - 1)
    per_wall = max(wq - w1, 0.0) / (len(lines) - 1)
    matched = sum(1 for a in out if ids_of(a))
    print(f"op=batch queries={len(lines)} cpu_s={cq:.3f} wall_s={wq:.3f} "
          f"ms_per_query_cpu={per_cpu * 1e3:.3f} ms_per_query_wall={per_wall * 1e3:.3f} "
          f"qps_cpu={1 / per_cpu if per_cpu else 0:.1f} matched={matched} hwm_mb={hwm:.0f}", flush=True)
    if args.ids:
        with open(args.ids, "w") as f:
            for a in out:
                f.write(" ".join(str(i - 1) for i in ids_of(a)) + "\n")
    # Single: a pacing pipe.
    if args.single:
        p = subprocess.Popen([args.tiaki, "--data", args.data, "lookup"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)
        def ask(line):
            p.stdin.write((line + "\n").encode())
            return p.stdout.readline()
        ask(lines[0])  # the index is open once this is answered
        walls, cpus = [], []
        for i in range(args.single):
            line = lines[(i + 1) % len(lines)]
            c0, t0 = proc_cpu_ns(p.pid), time.perf_counter_ns()
            a = ask(line)
            t1 = time.perf_counter_ns()
            c1n = proc_cpu_ns(p.pid)
            if not a:
                sys.exit("lookup ended early")
            walls.append((t1 - t0) / 1e6)
            cpus.append((c1n - c0) / 1e6)
        p.stdin.close()
        p.wait()
        print(f"op=single queries={args.single} "
              f"cpu_ms_p50={pct(cpus, 50):.3f} cpu_ms_p99={pct(cpus, 99):.3f} cpu_ms_max={max(cpus):.3f} "
              f"wall_ms_p50={pct(walls, 50):.3f} wall_ms_p99={pct(walls, 99):.3f} wall_ms_max={max(walls):.3f}",
              flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("import")
    i.add_argument("tiaki")
    i.add_argument("data")
    i.add_argument("db")
    l = sub.add_parser("lookup")
    l.add_argument("tiaki")
    l.add_argument("data")
    l.add_argument("queries")
    l.add_argument("--single", type=int, default=0)
    l.add_argument("--repeat", type=int, default=3)
    l.add_argument("--ids")
    args = p.parse_args()
    do_import(args) if args.cmd == "import" else do_lookup(args)


if __name__ == "__main__":
    main()
