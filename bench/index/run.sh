#!/usr/bin/env bash
# PDQ index benchmark: Tiaki's index against FAISS on the same data, one
# thread each, one run. See docs/bench-index.md for results and method.
#
#   bench/index/run.sh [N ...]            default sizes: 1000000 10000000
#
# Environment:
#   Q=500              planted queries per size (i % 32 bits flipped from a stored hash)
#   PY=/work/venv/bin/python   a Python with faiss-cpu and numpy
#   INDEX_BENCH=path   a prebuilt index_bench example (else cargo builds it)
#   PEERS="flat mh16 mh8"      which FAISS indexes to run
#   ENGINES="auto mih"         which Tiaki configurations to run
#
# Data and logs go to bench/index/out/ (git-ignored). Data files are
# generated once and reused, so both sides always read the same bytes.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/index/out
mkdir -p "$OUT"
PY=${PY:-/work/venv/bin/python}
Q=${Q:-500}
PEERS=${PEERS:-flat mh16 mh8}
ENGINES=${ENGINES:-auto mih}
SIZES=${*:-1000000 10000000}

if [ -z "${INDEX_BENCH:-}" ]; then
  cargo build --release -p tiaki-index --example index_bench >&2
  INDEX_BENCH=${CARGO_TARGET_DIR:-target}/release/examples/index_bench
fi

LOG=$OUT/run-$(date +%Y%m%d-%H%M%S).log
{
  echo "machine nproc=$(nproc) model=\"$(lscpu | sed -n 's/^Model name: *//p')\" kernel=$(uname -r)"
  echo "start $(date -Is) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  for N in $SIZES; do
    DB=$OUT/db_$N.u8
    QF=$OUT/q_${N}_$Q.u8
    if [ ! -f "$DB" ] || [ ! -f "$QF" ]; then
      "$PY" bench/index/faiss_peer.py gen "$N" "$Q" "$DB" "$QF" | sed "s/^/size=$N /"
    fi
    for E in $ENGINES; do
      IDX=$OUT/idx_${N}_$E.tki
      "$INDEX_BENCH" build "$DB" "$IDX" --engine "$E" | sed "s/^/size=$N peer=tiaki-$E /"
      # Cold-cache load = reading the file from disk (O_DIRECT bypasses the
      # page cache) plus the warm load below.
      DD=$(dd if="$IDX" of=/dev/null bs=8M iflag=direct 2>&1 | tail -1)
      echo "size=$N peer=tiaki-$E op=diskread bytes=$(stat -c %s "$IDX") secs=$(echo "$DD" | sed -n 's/.*copied, \([0-9.]*\) s.*/\1/p')"
      # A fresh process loads the file: its RSS is the serving footprint.
      "$INDEX_BENCH" query "$IDX" "$QF" --batch "1,8,$Q" | sed "s/^/size=$N peer=tiaki-$E /"
      rm -f "$IDX"
    done
    for K in $PEERS; do
      "$PY" bench/index/faiss_peer.py run "$K" "$DB" "$QF" | sed "s/^/size=$N /"
    done
  done
  echo "end $(date -Is) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
} | tee "$LOG"
"$PY" bench/index/table.py "$LOG"
