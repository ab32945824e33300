#!/usr/bin/env bash
# MD5 + SHA-1 + SHA-256 in one pass, one core (criterion), reported in MB/s.
set -euo pipefail
cd "$(dirname "$0")/.."
taskset -c 0 cargo bench -q -p tiaki-hash --bench hashing -- digests 2>&1 | grep -E "digests|thrpt"
