#!/usr/bin/env bash
# `GET /m/lookup` under load (issue 19's first performance line): a bank of
# N random PDQ hashes imported with `tiaki lists import`, `tiaki serve`
# (release build) on loopback, and wrk (Debian's) from a second process with
# 32 connections for SECONDS, each request a different hash: half near
# copies of bank entries (1–8 bits flipped), half random. Prints wrk's
# figures, the p99, the non-200 count, the server's CPU per request, its
# RSS and the machine.
#
#   bench/serve/lookup.sh [N=1000000] [SECONDS=30]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/serve/common.sh
n="${1:-1000000}" secs="${2:-30}"
out=bench/out/serve-lookup; rm -rf "$out"; mkdir -p "$out"
cargo build -q --release -p tiaki-cli
make_bank "$n" "$out"
data="$out/data"
/usr/bin/time -f "import: %e s wall, %M KB peak" "$bin" --data "$data" lists import --name BANK_A "$out/bank.pdq" >/dev/null
"$bin" --data "$data" users add bench --agency GB --role matcher --no-password >/dev/null
token=$("$bin" --data "$data" users token bench 2>/dev/null)
start_server "$data" "$out"
lookup_lua "$out" "$token"
# Warm-up, then the measured run.
wrk -t1 -c32 -d5s -s "$out/lookup.lua" "http://$addr" >/dev/null
echo "== GET /m/lookup, $n-hash bank, 32 connections, ${secs}s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
before=$(cpu_ticks $pid)
wrk -t1 -c32 -d"${secs}s" --latency -s "$out/lookup.lua" "http://$addr" | tee "$out/wrk.txt"
after=$(cpu_ticks $pid)
# The server's own CPU per answer: less sensitive than the rate to what
# else the machine runs (the rate needs the cores to ourselves).
requests=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$out/wrk.txt")
echo "server CPU per request: $(python3 -c "print(f'{($after - $before) / $(getconf CLK_TCK) / $requests * 1e6:.0f} µs')")"
echo "server RSS: $(rss_kb $pid) kB, index file $(du -h "$data"/known.idx | cut -f1)"
