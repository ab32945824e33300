#!/usr/bin/env bash
# Runs every test: sets up what the tests need (scripts/setup.sh), then
# clippy and the whole workspace's test suite with the Python peers available.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TIAKI_PEER_PYTHON="$PWD/.venv/bin/python"
# The PostgreSQL the store tests run against (each test makes its own schema).
export TIAKI_TEST_POSTGRES="${TIAKI_TEST_POSTGRES:-postgres://tiaki:tiaki@127.0.0.1:5432/tiaki_test}"
# Clippy first, warnings as errors: the lints in Cargo.toml's
# [workspace.lints] and clippy.toml (no unwrap/panic in library code, every
# unsafe block justified, the wall clock read only through the context) are
# only rules if something fails when they are broken. --all-targets covers
# tests, examples and benches too.
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
# Hostile input, fuzzed (docs/reliability.md, "Hostile input"): every
# libFuzzer target in fuzz/ for a bounded time from its committed seed
# corpus; a crash, timeout or out-of-memory fails. TIAKI_SKIP_FUZZ=1 skips
# it outside CI, saying so.
if [ "${TIAKI_SKIP_FUZZ:-}" = 1 ] && [ -z "${CI:-}" ]; then
  echo "test.sh: fuzzing SKIPPED (TIAKI_SKIP_FUZZ=1)" >&2
else
  bash scripts/fuzz.sh
fi
