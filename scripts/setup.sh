#!/usr/bin/env bash
# Installs everything Tiaki's tests and benchmarks need on a fresh Debian 12
# machine, from Debian packages, the Rust crates registry and PyPI. Safe to
# run again: it skips what is already there. (g++: the fuzz targets build
# libFuzzer's C++ sources, scripts/fuzz.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in ffmpeg age minisign mmdb-bin postgresql-15 pkg-config libavdevice-dev libavfilter-dev libavformat-dev \
           libavcodec-dev libswresample-dev libswscale-dev libavutil-dev python3-venv \
           g++; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# Python peers (Meta's C++ PDQ and vPDQ behind their PyPI bindings, FAISS,
# Pillow) in a project-local virtual environment.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import pdqhash, vpdq, faiss, PIL, numpy, mmdb_writer, schemathesis" 2>/dev/null; then
  echo "setup: installing the Python peers into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r bench/requirements.txt
fi

# PostgreSQL 15 for the store's second backend: Debian's cluster 15/main,
# started if it is down, with a `tiaki` role and a `tiaki_test` database.
# The tests read the URL from TIAKI_TEST_POSTGRES (scripts/test.sh sets it).
if command -v pg_lsclusters >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  if ! pg_lsclusters -h 2>/dev/null | grep -q "^15 *main .*online"; then
    pg_lsclusters -h 2>/dev/null | grep -q "^15 *main" || $SUDO pg_createcluster 15 main >/dev/null
    $SUDO pg_ctlcluster 15 main start
  fi
  as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
  as_pg "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'tiaki'\" | grep -q 1 || psql -qc \"CREATE ROLE tiaki LOGIN SUPERUSER PASSWORD 'tiaki'\""
  as_pg "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'tiaki_test'\" | grep -q 1 || createdb -O tiaki tiaki_test"
fi
