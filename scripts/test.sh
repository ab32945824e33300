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
