#!/usr/bin/env bash
# Memory of `tiaki serve` under sustained load (issue 19's third performance
# line): a bank of N random PDQ hashes, `tiaki serve` (release build) on
# loopback, wrk sending GET /m/lookup with 32 connections for SECONDS while a
# curator adds 2 new signals a second over POST /c/bank/NAME/signal (the
# index is extended in place, never rebuilt). The server's RSS is sampled
# every 10 s; printed: the index's own bytes (the saved index file, which
# the server maps), the first and last samples, the range after the first
# minute, the largest RSS against the index's bytes, and wrk's figures.
#
#   bench/serve/memory.sh [N=10000000] [SECONDS=600]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/serve/common.sh
n="${1:-10000000}" secs="${2:-600}"
out=bench/out/serve-memory; rm -rf "$out"; mkdir -p "$out"
cargo build -q --release -p tiaki-cli
make_bank "$n" "$out"
data="$out/data"
/usr/bin/time -f "import: %e s wall, %M KB peak" "$bin" --data "$data" lists import --name BANK_A "$out/bank.pdq" >/dev/null
"$bin" --data "$data" users add matcher --agency GB --role matcher --no-password >/dev/null
"$bin" --data "$data" users add curator --agency GB --role curator --no-password >/dev/null
matcher=$("$bin" --data "$data" users token matcher 2>/dev/null)
curator=$("$bin" --data "$data" users token curator 2>/dev/null)
start_server "$data" "$out"
lookup_lua "$out" "$matcher"
index_bytes=$(stat -c %s "$data/known.idx")
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "bank: $n hashes; index file $index_bytes bytes; server RSS after start $(rss_kb $pid) kB"
wrk -t1 -c32 -d"${secs}s" --latency -s "$out/lookup.lua" "http://$addr" > "$out/wrk.txt" &
wrk_pid=$!
python3 - "$addr" "$curator" "$secs" > "$out/adds.txt" <<'PY' &
import json, random, sys, time, urllib.request
addr, token, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
rng, end, added, bad = random.Random(7), time.time() + secs, 0, 0
while time.time() < end:
    body = json.dumps({"pdq": f"{rng.getrandbits(256):064x}", "note": "bench"}).encode()
    r = urllib.request.Request(f"http://{addr}/c/bank/BANK_A/signal", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(r).read(); added += 1
    except Exception:
        bad += 1
    time.sleep(0.5)
print(f"signals added {added}, failed {bad}")
PY
adds_pid=$!
: > "$out/rss.txt"
for _ in $(seq $((secs / 10))); do
    sleep 10
    echo "$(date +%s) $(rss_kb $pid)" >> "$out/rss.txt"
done
wait $wrk_pid $adds_pid
cat "$out/adds.txt"
grep RESULT "$out/wrk.txt"
python3 - "$out/rss.txt" "$index_bytes" <<'PY'
import sys
kb = [int(l.split()[1]) for l in open(sys.argv[1]) if l.strip()]
index = int(sys.argv[2])
steady = kb[6:] or kb
lo, hi, mean = min(steady), max(steady), sum(steady) / len(steady)
print(f"RSS samples: {len(kb)}; first {kb[0] / 1024:.0f} MiB, last {kb[-1] / 1024:.0f} MiB; "
      f"after the first minute {lo / 1024:.0f}–{hi / 1024:.0f} MiB "
      f"({(hi - mean) / mean * 100:+.1f} % / {(lo - mean) / mean * 100:+.1f} % of the mean)")
print(f"largest RSS / index bytes: {max(kb) * 1024 / index:.3f} (index {index / 2**20:.0f} MiB)")
PY
