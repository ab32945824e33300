#!/usr/bin/env bash
# The main job on the embedded default. Until `tiaki demo` exists, that is
# hashing the bundled sample images (benign public test photos).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --locked -q -p tiaki-cli -- hash --dihedral testdata/pdq/pdq/data
