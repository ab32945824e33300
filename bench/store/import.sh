#!/usr/bin/env bash
# `tiaki lists import` of a synthetic VICS 2.0 list into the embedded SQLite
# store (parse + insert + index update), in entries per second, with peak
# memory (issue 4: >= 100,000 entries/s).
#
#   bench/store/import.sh [ENTRIES]       default 500,000
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-500000}"
out=bench/out/store; rm -rf "$out"; mkdir -p "$out"
python3 - "$n" "$out/list.vics.json" <<'PY'
import hashlib, json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write('{"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media", "value": [\n')
    for i in range(n):
        b = str(i).encode()
        e = {"MediaID": i + 1, "Category": i % 4, "MD5": hashlib.md5(b).hexdigest().upper(),
             "SHA1": hashlib.sha1(b).hexdigest().upper(), "SHA256": hashlib.sha256(b).hexdigest(),
             "PDQ": hashlib.sha256(b + b"p").hexdigest(), "MediaSize": 1000 + i,
             "VictimIdentified": "false", "IsDistributed": "true", "Series": f"SERIES-{i % 100}"}
        f.write(("," if i else "") + json.dumps(e) + "\n")
    f.write("]}\n")
PY
cargo build -q --release -p tiaki-cli
bin=${CARGO_TARGET_DIR:-target}/release/tiaki
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "file: $(du -m "$out/list.vics.json" | cut -f1) MB, $n entries"
t0=$(date +%s.%N)
/usr/bin/time -f "peak RSS %M KB" "$bin" --data "$out/data" lists import --name big "$out/list.vics.json"
t1=$(date +%s.%N)
python3 -c "print(f'{$n / ($t1 - $t0):,.0f} entries/s ({$t1 - $t0:.1f} s)')"
