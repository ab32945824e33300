#!/usr/bin/env bash
# VICS import throughput and peak memory on a large synthetic list
# (issue 4 targets: >= 100,000 entries/s; a 500 MB file must not need 500 MB
# of memory). Results go in docs/bench-formats.md.
#
#   bench/formats/run.sh [ENTRIES]        default 1,200,000 (~520 MB of VICS 2.0)
#
# Also runs the criterion benches of every format (20,000 entries each) when
# CRITERION=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
entries="${1:-1200000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"

echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo build --release -q -p tiaki-formats --example vics_throughput
"$CARGO_TARGET_DIR/release/examples/vics_throughput" "$entries"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "${CRITERION:-0}" == 1 ]]; then
  cargo bench -q -p tiaki-formats --bench formats 2>&1 | grep -E '^(import|export)/|time:|thrpt:'
fi
