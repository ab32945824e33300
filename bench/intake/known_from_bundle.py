#!/usr/bin/env python3
"""Makes a known list for the ingest benchmark from a generated bundle: every
Nth distinct content item of media.ndjson (MD5 and PDQ), as a CSV with a
header, so that about 1/N of the intake is known material.
usage: known_from_bundle.py BUNDLE OUT.csv [N]"""
import json
import sys

bundle, out = sys.argv[1], sys.argv[2]
every = int(sys.argv[3]) if len(sys.argv) > 3 else 10
seen = set()
rows = 0
with open(f"{bundle}/media.ndjson") as f, open(out, "w") as w:
    w.write("md5,pdq\n")
    for line in f:
        h = json.loads(line).get("hashes") or {}
        key = h.get("sha256") or h.get("md5")
        if not key or key in seen:
            continue
        seen.add(key)
        if len(seen) % every == 0 and h.get("md5") and h.get("pdq"):
            w.write(f"{h['md5']},{h['pdq']}\n")
            rows += 1
print(f"{rows} known entries from {len(seen)} distinct items", file=sys.stderr)
