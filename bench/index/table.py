#!/usr/bin/env python3
"""Tabulates a bench/index/run.sh log: one Markdown table per size, with
queries per second (CPU time of the one benchmark thread), memory and the
ratios against FAISS. Usage: table.py RUN.log"""

import re
import shlex
import sys
from collections import defaultdict


def fields(line):
    out = {}
    for tok in shlex.split(line):
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def main(path):
    rows = defaultdict(dict)  # (size, peer) -> merged fields
    header = []
    for line in open(path):
        line = line.strip()
        if line.startswith(("machine", "start", "end")):
            header.append(line)
            continue
        f = fields(line)
        if "size" not in f or "peer" not in f:
            continue
        r = rows[(int(f["size"]), f["peer"])]
        op = f.get("op")
        if op == "build":
            r["build_s"] = float(f["build_s"])
            if f["peer"].startswith("faiss"):
                r["rss_mb"] = float(f["rss_now_mb"])
        elif op == "load":
            r["load_s"] = float(f["load_s"])
            r["rss_mb"] = float(f["rss_now_mb"])
            r["engine"] = f.get("engine", "")
        elif op == "diskread":
            r["disk_s"] = float(f["secs"] or "nan")
            r["file_mb"] = int(f["bytes"]) / 2**20
        elif op == "query":
            r.setdefault("qps", {})[int(f["batch"])] = float(f["qps"])
            r["matches"] = int(f["matches"])
            r["queries"] = int(f["queries"])

    for line in header:
        print(f"    {line}")
    for size in sorted({s for s, _ in rows}):
        peers = {p: r for (s, p), r in rows.items() if s == size}
        raw_mb = size * 32 / 2**20
        batched = {p: r["qps"][max(r["qps"])] for p, r in peers.items() if r.get("qps")}
        faiss = {p: q for p, q in batched.items() if p.startswith("faiss")}
        best = max(faiss.values()) if faiss else None
        flat = faiss.get("faiss-flat")
        print(f"\n#### {size:,} hashes (raw {raw_mb:.0f} MiB), radius 31, one thread\n")
        print("| index | engine | build s | load s (warm / +disk) | RSS MiB (× raw) | QPS, batch "
              "| QPS, 1 at a time | matches | × best FAISS | × FAISS flat |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for p in sorted(peers, key=lambda p: (not p.startswith("tiaki"), p)):
            r = peers[p]
            q = batched.get(p)
            single = r.get("qps", {}).get(1)
            rss = r.get("rss_mb")
            cell = lambda x, fmt: (fmt.format(x) if x is not None else "–")
            print(
                f"| {p} | {r.get('engine', '').lower() or '–'} | {cell(r.get('build_s'), '{:.1f}')} "
                f"| {cell(r.get('load_s'), '{:.2f}')} / {cell(r.get('disk_s'), '{:.2f}')} "
                f"| {cell(rss, '{:.0f}')} ({cell(rss / raw_mb if rss else None, '{:.2f}')}×) "
                f"| {cell(q, '{:.0f}')} | {cell(single, '{:.0f}')} | {r.get('matches', '–')} "
                f"| {cell(q / best if q and best else None, '{:.1f}')} "
                f"| {cell(q / flat if q and flat else None, '{:.1f}')} |"
            )


if __name__ == "__main__":
    main(sys.argv[1])
