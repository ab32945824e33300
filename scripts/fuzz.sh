#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ and runs each for a bounded time from
# its committed seed corpus (fuzz/corpus/<target>); any crash, timeout or
# out-of-memory fails. Works on the stable toolchain: the coverage
# instrumentation is the same set of flags `cargo fuzz build -s none` passes,
# without cargo-fuzz.
#
#   bash scripts/fuzz.sh                 # every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh hash_lists   # one target, longer
#   bash scripts/fuzz.sh --build-only
#   bash scripts/fuzz.sh --replay fuzz/artifacts/hash_lists/crash-…  (one input)
#
# Findings (the input that failed) are written to fuzz/artifacts/<target>/;
# new inputs the fuzzer found are kept out of the repository in
# fuzz/work/<target>/ (git-ignored). Copy a finding into the seed corpus
# once the reader is fixed, so it is replayed on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

SECONDS_EACH="${FUZZ_SECONDS:-20}"
RSS_MB="${FUZZ_RSS_MB:-512}"      # issue 17: hostile input within 512 MB
TIMEOUT_S="${FUZZ_TIMEOUT:-10}"   # one input taking longer is a hang
TARGETS=(bundle_archive bundle_files cybertip_xml hash_lists media_image referral_open)

build_only=0
replay=""
chosen=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) build_only=1 ;;
    --replay) replay="$2"; shift ;;
    *) chosen+=("$1") ;;
  esac
  shift
done
[ ${#chosen[@]} -gt 0 ] && TARGETS=("${chosen[@]}")

host="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/fuzz"
# --cfg fuzzing and the SanitizerCoverage passes libFuzzer feeds on. The
# explicit --target keeps these flags off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing"
start=$(date +%s)
# Not --locked: fuzz/Cargo.lock is its own lock file, and a dependency the
# main workspace gains later is added to it here (minimally) rather than
# failing the run; commit the updated lock when that happens.
(cd fuzz && cargo build --release --target "$host" --bins)
echo "fuzz: built in $(( $(date +%s) - start ))s"
[ "$build_only" = 1 ] && exit 0
bin="$CARGO_TARGET_DIR/$host/release"

# Scratch files of the harnesses go to a RAM disk where there is one.
scratch="$(mktemp -d "${FUZZ_TMP:-$([ -w /dev/shm ] && echo /dev/shm || echo /tmp)}/tiaki-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"

if [ -n "$replay" ]; then
  "$bin/${TARGETS[0]}" -rss_limit_mb="$RSS_MB" -timeout="$TIMEOUT_S" "$replay"
  exit
fi

failed=()
for t in "${TARGETS[@]}"; do
  seeds="fuzz/corpus/$t"
  work="fuzz/work/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  [ -d "$seeds" ] || { echo "fuzz: no seed corpus $seeds" >&2; exit 2; }
  echo "fuzz: $t for ${SECONDS_EACH}s from $(ls "$seeds" | wc -l) seeds"
  # -max_total_time bounds the run; -timeout marks a slow input as a hang;
  # -rss_limit_mb (and the malloc limit it implies) marks an over-large
  # allocation as out-of-memory. Each of them ends the run non-zero.
  if ! "$bin/$t" "$work" "$seeds" \
      -max_total_time="$SECONDS_EACH" \
      -rss_limit_mb="$RSS_MB" \
      -timeout="$TIMEOUT_S" \
      -max_len=1048576 \
      -artifact_prefix="$artifacts/" \
      -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    tail -n 60 "$scratch/$t.log" >&2
    failed+=("$t")
  else
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' "$scratch/$t.log" || true
  fi
  rm -rf "$TMPDIR"/tiaki-fuzz-* 2>/dev/null || true
done
echo "fuzz: done in $(( $(date +%s) - start ))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} passed, 0 failed"
