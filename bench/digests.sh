#!/usr/bin/env bash
# MD5 + SHA-1 + SHA-256 in one pass on one core, against each RustCrypto
# digest alone, 64 MiB in memory, best of 5.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release -p tiaki-hash --example digest_time
taskset -c 0 "${CARGO_TARGET_DIR:-target}/release/examples/digest_time"
