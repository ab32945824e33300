#!/usr/bin/env bash
# `tiaki hash` on a folder of 1,000 photo-like JPEGs against Pillow + pdqhash
# (multiprocessing over every core) on the same files, same machine, one run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${TIAKI_PEER_PYTHON:-.venv/bin/python}
N=${N:-1000}
dir=bench/out/photos
if [ "$(ls "$dir" 2>/dev/null | wc -l)" != "$N" ]; then rm -rf "$dir"; "$PY" bench/make_photos.py "$dir" "$N"; fi
cargo build -q --release -p tiaki-cli
bin=${CARGO_TARGET_DIR:-target}/release/tiaki
cat "$dir"/* > /dev/null  # warm the page cache for both
t0=$(date +%s.%N); "$bin" hash "$dir" > bench/out/hash.ndjson; t1=$(date +%s.%N)
ours=$(python3 -c "print(round($N / ($t1 - $t0), 1))")
theirs=$("$PY" bench/pil_pdqhash_files.py "$dir")
echo "tiaki hash: $N files in $(python3 -c "print(round($t1 - $t0, 2))") s = $ours files/s (digests + EXIF + PDQ)"
echo "Pillow+pdqhash: $theirs"
python3 -c "import json,sys; t=json.loads('$theirs'); print(f'ratio: {$ours / t[\"files_per_second\"]:.2f}x')"
