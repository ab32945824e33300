#!/usr/bin/env bash
# `GET /api/v1/referrals` for a liaison officer on the operation's scale
# (issue 19's second performance line): the synthetic operation of
# bench/referrals/build.sh (150,000 accounts, 2,000,000 media lines, 130
# countries, every package built and signed) served by `tiaki serve`
# (release build) on loopback, and bench/serve/rate.py from a second
# process sending RATE requests/s for SECONDS with a liaison officer's token
# (the country with the most accounts), then the same with a coordinator's
# (every referral). Latency is measured from when each request was due.
#
#   bench/serve/referrals.sh [RATE=200] [SECONDS=60] [ACCOUNTS=150000] [MEDIA=2000000] [COUNTRIES=130]
set -euo pipefail
cd "$(dirname "$0")/../.."
rate="${1:-200}" secs="${2:-60}" accounts="${3:-150000}" media="${4:-2000000}" countries="${5:-130}"
src=bench/out/referrals
# Built once per scale: the build takes minutes.
if [ "$(cat "$src/scale" 2>/dev/null)" != "$accounts $media $countries" ]; then
    bench/referrals/build.sh "$accounts" "$media" "$countries"
    echo "$accounts $media $countries" > "$src/scale"
fi
bin=${CARGO_TARGET_DIR:-target}/release/tiaki
cargo build -q --release -p tiaki-cli
export TIAKI_ISSUER_PASSPHRASE=bench
out=bench/out/serve-referrals; rm -rf "$out"; mkdir -p "$out"
data="$out/data"; cp -r "$src/data" "$data"
country=$(head -1 "$src/countries.txt")
"$bin" --data "$data" users add liaison --agency "$country" --role liaison --no-password >/dev/null
"$bin" --data "$data" users add coord --agency GB --role coordinator --no-password >/dev/null
liaison=$("$bin" --data "$data" users token liaison 2>/dev/null)
coord=$("$bin" --data "$data" users token coord 2>/dev/null)
"$bin" --data "$data" serve --bind 127.0.0.1:0 2> "$out/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q "listening on" "$out/serve.log" && break; sleep 0.2; done
addr=$(sed -n 's/^tiaki: listening on http:\/\///p' "$out/serve.log")
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "operation: $accounts accounts, $media media, $countries countries; liaison officer of $country"
python3 - "$addr" "$liaison" <<'PY'
import json, sys, urllib.request
r = urllib.request.Request(f"http://{sys.argv[1]}/api/v1/referrals", headers={"Authorization": f"Bearer {sys.argv[2]}"})
refs = json.load(urllib.request.urlopen(r))["referrals"]
print(f"the liaison officer sees {len(refs)} referral(s): {[(x['id'], x['country'], x['accounts']) for x in refs]}")
PY
python3 bench/serve/rate.py "$addr" /api/v1/referrals "$liaison" "$rate" 5 >/dev/null  # warm-up
echo "== liaison, $rate requests/s for ${secs}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
python3 bench/serve/rate.py "$addr" /api/v1/referrals "$liaison" "$rate" "$secs"
echo "== coordinator (all $countries countries' referrals), $rate requests/s for ${secs}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
python3 bench/serve/rate.py "$addr" /api/v1/referrals "$coord" "$rate" "$secs"
echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
