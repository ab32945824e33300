#!/usr/bin/env bash
# PDQ from decoded pixels: ours against Meta's C++ (PyPI `pdqhash`) on the
# same pixels (the bridge photo, 1600x1004, decoded once by Pillow), same
# machine, one run. Prints both timings, checks the hashes are equal, and the
# speed ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${TIAKI_PEER_PYTHON:-.venv/bin/python}
N=${N:-200}
out=bench/out; mkdir -p "$out"
"$PY" - <<'PY'
import numpy as np
from PIL import Image
a = np.asarray(Image.open("testdata/pdq/pdq/data/bridge-mods/aaa-orig.jpg").convert("RGB"))
a.tofile("bench/out/bridge.rgb")
PY
cargo build -q --release -p tiaki-hash --example pdq_time
bin=${CARGO_TARGET_DIR:-target}/release/examples/pdq_time
ours=$(taskset -c 0 "$bin" "$out/bridge.rgb" 1600 1004 "$N")
theirs=$(taskset -c 0 "$PY" bench/pdq_peer_time.py "$out/bridge.rgb" 1600 1004 "$N")
echo "ours:    $ours"
echo "pdqhash: $theirs"
"$PY" - "$ours" "$theirs" <<'PY'
import json, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert o["pdq"] == t["pdq"] and o["quality"] == t["quality"], "hashes differ!"
print(f"identical hash; median speed-up {t['median_ms'] / o['median_ms']:.1f}x, best {t['best_ms'] / o['best_ms']:.1f}x")
PY
