#!/usr/bin/env bash
# Issue 5: a bundle with files ingests at >= 80 % of `tiaki hash`'s throughput
# on the same files. The files are the 1,000 photo-like JPEGs of
# bench/hash_files.sh (bench/make_photos.py: 800x600..2048x1536, benign
# reference photos cropped, scaled and recoloured), each the file of one media
# line of a provider-report/1 bundle (100 accounts). One run, same machine,
# page cache warm for both:
#   1. `tiaki hash DIR` (digests + EXIF + PDQ, every core);
#   2. `tiaki ingest BUNDLE` on SQLite (hash, match, keep the blob encrypted);
#   3. the same with --hash-only (no blobs kept).
# Usage: bench/intake/files.sh   (N=1000 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${TIAKI_PEER_PYTHON:-.venv/bin/python}
N=${N:-1000}
photos=bench/out/photos
if [ "$(ls "$photos" 2>/dev/null | wc -l)" != "$N" ]; then rm -rf "$photos"; "$PY" bench/make_photos.py "$photos" "$N"; fi
cargo build -q --release -p tiaki-cli
bin=${CARGO_TARGET_DIR:-target}/release/tiaki
out=bench/out/files-bundle
rm -rf "$out"; mkdir -p "$out/files"
cp "$photos"/* "$out/files/"
python3 - "$out" <<'PY'
import hashlib, json, os, sys
out = sys.argv[1]
names = sorted(os.listdir(f"{out}/files"))
with open(f"{out}/accounts.ndjson", "w") as f:
    for i in range(100):
        f.write(json.dumps({"id": f"u{i}", "username": f"user{i}"}) + "\n")
with open(f"{out}/media.ndjson", "w") as f:
    for i, n in enumerate(names):
        f.write(json.dumps({"id": f"m{i}", "account": f"u{i % 100}", "file": f"files/{n}",
                            "uploaded_at": "2024-01-01T00:00:00Z"}) + "\n")
open(f"{out}/events.ndjson", "w").close()
sums = {n: hashlib.sha256(open(f"{out}/{n}", "rb").read()).hexdigest()
        for n in ("accounts.ndjson", "media.ndjson", "events.ndjson")}
json.dump({"format": "provider-report/1", "report_id": "FILES-1",
           "provider": {"name": "Example File Share Ltd", "country": "NZ", "contact": "trust@provider.example"},
           "created_at": "2024-01-02T00:00:00Z", "incident_type": "distribution",
           "files_sha256": sums}, open(f"{out}/manifest.json", "w"), indent=1)
PY
cat "$out"/files/* > /dev/null
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load $(cut -d' ' -f1-3 /proc/loadavg)"
rate() { python3 -c "print(f'{$N / ($2 - $1):.1f} files/s ({$2 - $1:.2f} s)')"; }
t0=$(date +%s.%N); "$bin" hash "$out/files" > /dev/null; t1=$(date +%s.%N)
echo "tiaki hash:                 $(rate "$t0" "$t1")"
for mode in keep hash-only; do
  data=$(mktemp -d); flags=(); [ $mode = hash-only ] && flags=(--hash-only)
  t0=$(date +%s.%N); "$bin" --data "$data" ingest "${flags[@]}" --progress never "$out" > /dev/null; t1=$(date +%s.%N)
  echo "tiaki ingest ($mode): $(rate "$t0" "$t1")"
  rm -rf "$data"
done
t0=$(date +%s.%N); "$bin" hash "$out/files" > /dev/null; t1=$(date +%s.%N)
echo "tiaki hash (again):         $(rate "$t0" "$t1")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
