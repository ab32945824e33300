#!/usr/bin/env bash
# PDQ lookups through the CLI (`tiaki lists import` + `tiaki lookup`) beside
# the library (`index_bench`) and FAISS, same data, same run, one core.
# See docs/bench-index.md ("Through the CLI") for the method and results.
#
#   bench/index/cli_run.sh [N ...]          default sizes: 1000000 10000000
#
# Environment:
#   Q=500          planted queries per size (i % 32 bits flipped from a stored hash)
#   SINGLE=300     paced single `tiaki lookup` queries (p50/p99)
#   FSINGLE=100    one-query FAISS calls (p50/p99)
#   PEERS="flat mh16"     FAISS indexes (mh16 = MultiHash 16x16, nflip 1)
#   PY=/work/main/.venv/bin/python   a Python with faiss-cpu and numpy
#   TIAKI=path INDEX_BENCH=path      prebuilt binaries (else cargo builds them)
#   CORE=0         the core everything is pinned to (taskset)
#   UNLINK_DB=1    delete the N-hash data file once the CLI import has read
#                  it (saves disk; it is regenerated next time)
#   CLI=0          library and FAISS only (no `tiaki lists import`/`lookup`)
#
# Data and logs go to bench/index/out/ (git-ignored); the CLI's data
# directory is bench/index/out/cli_N and is deleted after each size.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/index/out
mkdir -p "$OUT"
PY=${PY:-/work/main/.venv/bin/python}
Q=${Q:-500}
SINGLE=${SINGLE:-300}
FSINGLE=${FSINGLE:-100}
PEERS=${PEERS:-flat mh16}
CORE=${CORE:-0}
SIZES=${*:-1000000 10000000}
T="taskset -c $CORE"

if [ -z "${TIAKI:-}" ] || [ -z "${INDEX_BENCH:-}" ]; then
  cargo build --release -p tiaki-cli -p tiaki-index --example index_bench >&2
  TIAKI=${CARGO_TARGET_DIR:-target}/release/tiaki
  INDEX_BENCH=${CARGO_TARGET_DIR:-target}/release/examples/index_bench
fi

LOG=$OUT/cli-$(date +%Y%m%d-%H%M%S).log
{
  echo "machine nproc=$(nproc) model=\"$(lscpu | sed -n 's/^Model name: *//p')\" kernel=$(uname -r) commit=$(git rev-parse --short HEAD)"
  echo "start $(date -Is) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
  for N in $SIZES; do
    DB=$OUT/db_$N.u8
    QF=$OUT/q_${N}_$Q.u8
    if [ ! -f "$DB" ] || [ ! -f "$QF" ]; then
      "$PY" bench/index/faiss_peer.py gen "$N" "$Q" "$DB" "$QF" | sed "s/^/size=$N /"
    fi
    for K in $PEERS; do
      $T "$PY" bench/index/faiss_peer.py run "$K" "$DB" "$QF" --single "$FSINGLE" \
        --ids "$OUT/ids_${N}_faiss-$K.txt" | sed "s/^/size=$N /"
    done
    # The library: build and save, then a fresh process opens the file and
    # runs the queries one needle per call, 8 per call, and all at once.
    IDX=$OUT/idx_${N}_auto.tki
    $T "$INDEX_BENCH" build "$DB" "$IDX" --engine auto | sed "s/^/size=$N peer=tiaki-lib /"
    $T "$INDEX_BENCH" query "$IDX" "$QF" --batch "1,8,$Q" --latency 1 | sed "s/^/size=$N peer=tiaki-lib /"
    rm -f "$IDX"
    # The CLI (CLI=0 skips it: at 100 M, SQLite's WAL for the one import
    # transaction plus the index would take the bench data past ~20 GB).
    if [ "${CLI:-1}" = 0 ]; then continue; fi
    DATA=$OUT/cli_$N
    rm -rf "$DATA"
    $T "$PY" bench/index/cli_bench.py import "$TIAKI" "$DATA" "$DB" | sed "s/^/size=$N peer=tiaki-cli /"
    if [ "${UNLINK_DB:-0}" = 1 ]; then rm -f "$DB"; fi
    $T "$PY" bench/index/cli_bench.py lookup "$TIAKI" "$DATA" "$QF" --single "$SINGLE" \
      --ids "$OUT/ids_${N}_tiaki-cli.txt" | sed "s/^/size=$N peer=tiaki-cli /"
    rm -rf "$DATA"
    # Exactness: the CLI's PDQ matches against FAISS Flat's, query by query.
    if [ -f "$OUT/ids_${N}_faiss-flat.txt" ]; then
      SAME=$(paste -d'|' "$OUT/ids_${N}_faiss-flat.txt" "$OUT/ids_${N}_tiaki-cli.txt" \
        | awk -F'|' '$1 == $2 { s++ } END { print s + 0 }')
      echo "size=$N op=exact compared=tiaki-cli,faiss-flat same=$SAME of=$(wc -l < "$OUT/ids_${N}_tiaki-cli.txt")"
    fi
  done
  echo "end $(date -Is) load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
} | tee "$LOG"
