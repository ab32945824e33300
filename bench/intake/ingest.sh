#!/usr/bin/env bash
# Ingest benchmarks (issue 5), on SQLite and PostgreSQL:
#  1. a hash-only bundle of 150,000 accounts and 2,000,000 media lines made by
#     the project's generator, with a known list holding every 10th distinct
#     item: ingest (match + triage marks) then `tiaki triage` (clusters);
#     wall time and peak memory from /usr/bin/time;
#  2. a bundle with files: bench/intake/files.sh (`tiaki ingest` against
#     `tiaki hash` on the same 1,000 photo-like JPEGs).
# PostgreSQL: TIAKI_BENCH_POSTGRES=postgres://user:pw@host/db (an admin URL;
# a fresh database is made), default the test server scripts/setup.sh starts.
set -euo pipefail
cd "$(dirname "$0")/../.."
ACCOUNTS=${ACCOUNTS:-150000}
MEDIA=${MEDIA:-2000000}
PG=${TIAKI_BENCH_POSTGRES:-postgres://tiaki:tiaki@127.0.0.1:5432/tiaki_test}
OUT=bench/out/intake
mkdir -p "$OUT"
cargo build --release -q -p tiaki-cli
cargo build --release -q -p tiaki-intake --example gen_bundle
T=target/release/tiaki
GEN=target/release/examples/gen_bundle
TIME=(/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak")

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$OUT/bundle/manifest.json" ]; then
  rm -rf "$OUT/bundle"
  "$GEN" --accounts "$ACCOUNTS" --media "$MEDIA" --out "$OUT/bundle" --seed 1 >/dev/null
fi
python3 bench/intake/known_from_bundle.py "$OUT/bundle" "$OUT/known.csv" 10

fresh_pg() {
  local db=bench_intake_$1
  psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
  echo "${PG%/*}/$db"
}

hash_only() { # backend
  local data="$OUT/data-$1" db=()
  rm -rf "$data"
  [ "$1" = postgres ] && db=(--database "$(fresh_pg hashonly)")
  "$T" --data "$data" "${db[@]}" lists import --name known "$OUT/known.csv" >/dev/null
  echo "== $1: ingest --hash-only, $ACCOUNTS accounts, $MEDIA media lines"
  "${TIME[@]}" "$T" --data "$data" "${db[@]}" ingest --hash-only --progress never "$OUT/bundle"
  echo "== $1: triage (near-duplicate clusters over every media item)"
  "${TIME[@]}" "$T" --data "$data" "${db[@]}" triage --limit 5 >/dev/null
}


echo "load: $(cut -d" " -f1-3 /proc/loadavg)"
hash_only sqlite
echo "load: $(cut -d" " -f1-3 /proc/loadavg)"
hash_only postgres
echo "load: $(cut -d" " -f1-3 /proc/loadavg)"

bash bench/intake/files.sh
