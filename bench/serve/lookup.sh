#!/usr/bin/env bash
# `GET /m/lookup` under load (issue 19's first performance line): a bank of
# N random PDQ hashes imported with `tiaki lists import`, `tiaki serve`
# (release build) on loopback, and wrk (Debian's) from a second process with
# 32 connections for SECONDS, each request a different hash: half near
# copies of bank entries (1–8 bits flipped), half random. Prints wrk's
# figures, the p99, the non-200 count, the server's RSS and the machine.
#
#   bench/serve/lookup.sh [N=1000000] [SECONDS=30]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000000}" secs="${2:-30}"
out=bench/out/serve-lookup; rm -rf "$out"; mkdir -p "$out"
bin=target/release/tiaki
[ -x "$bin" ] || cargo build --release -p tiaki-cli
export TIAKI_ISSUER_PASSPHRASE=bench
python3 - "$n" "$out" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1)
bank = [rng.getrandbits(256) for _ in range(n)]
with open(f"{out}/bank.pdq", "w") as f:
    for h in bank:
        f.write(f"{h:064x}\n")
with open(f"{out}/queries.txt", "w") as f:
    for i in range(20000):
        if i % 2:
            h = bank[rng.randrange(n)]
            for _ in range(rng.randint(1, 8)):
                h ^= 1 << rng.randrange(256)
        else:
            h = rng.getrandbits(256)
        f.write(f"{h:064x}\n")
PY
data="$out/data"
/usr/bin/time -f "import: %e s wall, %M KB peak" "$bin" --data "$data" lists import --name BANK_A "$out/bank.pdq" >/dev/null
"$bin" --data "$data" users add bench --agency GB --role matcher --no-password >/dev/null
token=$("$bin" --data "$data" users token bench 2>/dev/null)
"$bin" --data "$data" serve --bind 127.0.0.1:0 2> "$out/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$out/serve.log" && break; sleep 0.2; done
addr=$(sed -n 's/^tiaki: listening on http:\/\///p' "$out/serve.log")
cat > "$out/lookup.lua" <<LUA
local qs = {}
for line in io.lines("$out/queries.txt") do qs[#qs + 1] = line end
local i = 0
request = function()
  i = i % #qs + 1
  return wrk.format("GET", "/m/lookup?signal_type=pdq&signal=" .. qs[i], {["Authorization"] = "Bearer $token"})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
# Warm-up, then the measured run.
wrk -t1 -c32 -d5s -s "$out/lookup.lua" "http://$addr" >/dev/null
echo "== GET /m/lookup, $n-hash bank, 32 connections, ${secs}s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t1 -c32 -d"${secs}s" --latency -s "$out/lookup.lua" "http://$addr" | tee "$out/wrk.txt"
echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status), index file $(du -h "$data"/known.idx | cut -f1)"
