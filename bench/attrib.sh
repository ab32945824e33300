#!/usr/bin/env bash
# Linking and attribution at the issue's scale: 150,000 accounts with
# 1,000,000 login events, 2 threads.
#  1. the library alone (tiaki-attrib's attrib_bench example: normalise, link,
#     attribute in memory);
#  2. end to end on SQLite: a generated provider-report/1 bundle is ingested
#     (the ingest links and attributes at its end), then `tiaki attribute`
#     recomputes: read every account from the store, link, attribute, replace
#     persons/attributions/links in one transaction.
# Usage: bench/attrib.sh [ACCOUNTS] [LOGINS]
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${1:-150000}
LOGINS=${2:-1000000}
T=${CARGO_TARGET_DIR:-target}/release
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"

cargo build -q --release -p tiaki-attrib --example attrib_bench
cargo build -q --release -p tiaki-cli --bin tiaki --example scenario_bundle
echo "== library: $T/examples/attrib_bench $ACCOUNTS $LOGINS 2"
"$T/examples/attrib_bench" "$ACCOUNTS" "$LOGINS" 2

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$T/examples/scenario_bundle" "$WORK" "$ACCOUNTS" "$LOGINS"
export RAYON_NUM_THREADS=2
echo "== end to end, SQLite: tiaki ingest --geoip networks.csv (hash-only bundle; links and attributes at the end)"
/usr/bin/time -f "   %e s wall, %M KiB max RSS" \
  "$T/tiaki" --data "$WORK/data" ingest --hash-only --progress never --geoip "$WORK/networks.csv" "$WORK/bundle" \
  | grep -v '^tiaki:' || true
echo "== end to end, SQLite: tiaki attribute --geoip networks.csv (recompute over the stored accounts)"
for run in 1 2 3; do
  /usr/bin/time -f "   run $run: %e s wall, %U s user, %M KiB max RSS" \
    "$T/tiaki" --data "$WORK/data" attribute --geoip "$WORK/networks.csv"
done
