#!/usr/bin/env bash
# Runs every test: sets up what the tests need (scripts/setup.sh), then the
# whole workspace's test suite with the Python peers available.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TIAKI_PEER_PYTHON="$PWD/.venv/bin/python"
cargo test --workspace --locked "$@"
