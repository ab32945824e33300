#!/usr/bin/env bash
# Victim-ID search at scale (issue 20's first performance line): a series
# of N random PDQ hashes added through `POST /api/v1/vid/series/{id}/media`
# (10,000 a request), then
#   - `tiaki vid search` on one core with 1 and with 10 photos: the
#     difference over nine is one photo's cost once the index is open
#     (decode, its 8 rotations and flips, search), and
#   - `POST /api/v1/vid/search` with a 1600×1004 JPEG upload, 200 requests
#     one after another (each hashed on the server), p50/p99.
# The photos are ffmpeg's generated test patterns (no real images).
#
#   bench/vid/search.sh [N=1000000]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/serve/common.sh
n="${1:-1000000}"
out=bench/out/vid-search; rm -rf "$out"; mkdir -p "$out/photos"
cargo build -q --release -p tiaki-cli
for i in $(seq 0 9); do
    ffmpeg -loglevel error -f lavfi -i "testsrc2=size=1600x1004:rate=1" -vf "hue=h=$((i * 36))" \
        -ss "$i" -frames:v 1 -q:v 3 "$out/photos/p$i.jpg"
done
data="$out/data"
"$bin" --data "$data" users add vid --agency GB --role victim_id --no-password >/dev/null
token=$("$bin" --data "$data" users token vid 2>/dev/null)
start_server "$data" "$out"
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$addr" "$token" "$n" "$out" <<'PY'
import json, random, sys, time, urllib.request
addr, token, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def call(method, path, body=None, ctype="application/json"):
    r = urllib.request.Request(f"http://{addr}{path}", data=body, method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": ctype})
    return json.load(urllib.request.urlopen(r))
sid = call("POST", "/api/v1/vid/series", json.dumps({"name": "BENCH"}).encode())["id"]
rng = random.Random(5)
t = time.perf_counter()
for start in range(0, n, 10000):
    hashes = [f"{rng.getrandbits(256):064x}" for _ in range(min(10000, n - start))]
    call("POST", f"/api/v1/vid/series/{sid}/media", json.dumps({"hashes": hashes}).encode())
print(f"added {n} series media through the API in {time.perf_counter() - t:.1f} s")
# The photos' own hashes join the series, so that searches find them.
boundary = "bench-boundary"
def form(path):
    data = open(path, "rb").read()
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
photos = [f"{out}/photos/p{i}.jpg" for i in range(10)]
mp = f"multipart/form-data; boundary={boundary}"
own = [call("POST", "/h/hash", form(p), mp)["pdq"] for p in photos]
call("POST", f"/api/v1/vid/series/{sid}/media", json.dumps({"hashes": own}).encode())
t = time.perf_counter()
first = call("POST", "/api/v1/vid/search", form(photos[0]), f"multipart/form-data; boundary={boundary}")
print(f"first search (opens and saves the index): {(time.perf_counter() - t) * 1000:.0f} ms")
lat = []
found = 0
for i in range(200):
    t = time.perf_counter()
    a = call("POST", "/api/v1/vid/search", form(photos[i % 10]), f"multipart/form-data; boundary={boundary}")
    lat.append(time.perf_counter() - t)
    found += len(a["matches"])
lat.sort()
print(f"POST /api/v1/vid/search, 1600x1004 JPEG, 200 requests: p50 {lat[100] * 1000:.1f} ms, "
      f"p99 {lat[197] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms ({found} matches)")
PY
kill $pid; wait $pid 2>/dev/null || true
# The CLI on one core (taskset: no parallel hashing): a run with one photo
# and a run with ten; the difference over nine is what one photo costs
# once the index is open (decode, 8 rotations and flips, search).
python3 - "$bin" "$data" "$out" <<'PY'
import statistics, subprocess, sys, time
bin, data, out = sys.argv[1:]
def run(files):
    t = time.perf_counter()
    subprocess.run(["taskset", "-c", "0", bin, "--data", data, "vid", "search", *files],
                   check=True, capture_output=True)
    return time.perf_counter() - t
one = [f"{out}/photos/p0.jpg"]
ten = [f"{out}/photos/p{i}.jpg" for i in range(10)]
a = statistics.median(run(one) for _ in range(10))
b = statistics.median(run(ten) for _ in range(10))
print(f"tiaki vid search, one core, median of 10 runs: 1 photo {a * 1000:.1f} ms, 10 photos "
      f"{b * 1000:.1f} ms: {(b - a) / 9 * 1000:.1f} ms a photo once the index is open")
PY
