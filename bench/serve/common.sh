# Shared by bench/serve/lookup.sh and memory.sh (sourced, from the
# repository's root): a bank of random PDQ hashes, the server, wrk's script.

bin=${CARGO_TARGET_DIR:-target}/release/tiaki
export TIAKI_ISSUER_PASSPHRASE=bench

# make_bank N OUT: OUT/bank.pdq (N random hashes) and OUT/queries.txt
# (20,000 hashes: half near copies of bank entries with 1–8 bits flipped,
# half random).
make_bank() {
    python3 - "$1" "$2" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1)
bank = [rng.getrandbits(256) for _ in range(n)]
with open(f"{out}/bank.pdq", "w") as f:
    f.writelines(f"{h:064x}\n" for h in bank)
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
}

# start_server DATA OUT: `tiaki serve` on a free loopback port; sets $pid and
# $addr, and stops the server when the script exits.
start_server() {
    "$bin" --data "$1" serve --bind 127.0.0.1:0 2> "$2/serve.log" &
    pid=$!
    trap 'kill $pid 2>/dev/null || true' EXIT
    for _ in $(seq 300); do grep -q "listening on" "$2/serve.log" && break; sleep 0.2; done
    addr=$(sed -n 's/^tiaki: listening on http:\/\///p' "$2/serve.log")
}

# lookup_lua OUT TOKEN: OUT/lookup.lua, wrk's script sending each query of
# OUT/queries.txt in turn to GET /m/lookup and printing one RESULT line.
lookup_lua() {
    cat > "$1/lookup.lua" <<LUA
local qs = {}
for line in io.lines("$1/queries.txt") do qs[#qs + 1] = line end
local i = 0
request = function()
  i = i % #qs + 1
  return wrk.format("GET", "/m/lookup?signal_type=pdq&signal=" .. qs[i], {["Authorization"] = "Bearer $2"})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
}

# rss_kb PID: the process's resident set, in KiB.
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# cpu_ticks PID: the process's user + system CPU time so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
