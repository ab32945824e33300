#!/usr/bin/env bash
# vPDQ hashing speed: Tiaki (tiaki-video, ffmpeg subprocess) against Meta's
# `vpdq` package from PyPI (C++ reference linked to libav*), on the staged
# sample videos, one run each, and writes docs/bench-video.md.
#
#   bench/video/run.sh            # needs ffmpeg, and a python with vpdq:
#   TIAKI_PEER_PYTHON=/path/to/python bench/video/run.sh
#
# Install the peer: bash scripts/setup.sh (makes .venv with vpdq), or
#   pip install vpdq threatexchange      (vpdq builds from source; needs
#   libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
#   libavdevice-dev libavfilter-dev libswresample-dev pkg-config)
#
# Two measurements per video, each timed around the library call only (no
# interpreter or process start-up, both sides):
#   * one hash a second (the default of both libraries and of
#     python-threatexchange) — the headline comparison;
#   * every frame at native resolution — frames per second.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=${TIAKI_PEER_PYTHON:-}
if [[ -z "$PY" ]]; then
  for c in .venv/bin/python bench/.venv/bin/python python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import vpdq' 2>/dev/null; then PY=$c; break; fi
  done
fi
if [[ -z "$PY" ]] || ! "$PY" -c 'import vpdq' 2>/dev/null; then
  echo "no python with the vpdq package: set TIAKI_PEER_PYTHON (pip install vpdq)" >&2
  exit 1
fi
command -v ffmpeg >/dev/null || { echo "ffmpeg is not installed (apt-get install ffmpeg)" >&2; exit 1; }

OUT=${BENCH_OUT:-bench/out/video}
mkdir -p "$OUT"
cargo build --release -q -p tiaki-video --example vpdq-hash
BIN=${CARGO_TARGET_DIR:-target}/release/examples/vpdq-hash
VIDEOS=(crates/video/tests/data/tmk/sample-videos/*.mp4)

# BENCH_REPORT_ONLY=1 rewrites docs/bench-video.md from the last run's files.
if [[ -z "${BENCH_REPORT_ONLY:-}" ]]; then
  cut -d' ' -f1-3 /proc/loadavg > "$OUT/load-before.txt"
  for f in ours-1s ours1t-1s peer-1s ours-all peer-all; do : > "$OUT/$f.tsv"; : > "$OUT/$f.cpu"; done; : > "$OUT/stderr.log"
  # CPU seconds (user + system, children included) of a whole invocation, from
  # bash's `time`: less sensitive than wall time to other work on the machine.
  TIMEFORMAT='%U %S'
  cpu() { local out=$1; shift; { time "$@" >> "$OUT/$out.tsv" 2>> "$OUT/stderr.log"; } 2>> "$OUT/$out.cpu"; }
  # The peer's invocations also start Python and import vpdq: measured once
  # here and subtracted.
  { time "$PY" bench/video/vpdq_peer.py --help > /dev/null; } 2> "$OUT/peer-baseline.cpu"
  # Warm the page cache so neither side pays for the first read.
  cat "${VIDEOS[@]}" > /dev/null
  for v in "${VIDEOS[@]}"; do
    # Interleaved, so both sides see the same state of the machine.
    cpu ours-1s "$BIN" --time --every 1 "$v"
    cpu peer-1s "$PY" bench/video/vpdq_peer.py time --every 1 "$v"
    cpu ours1t-1s "$BIN" --time --every 1 --decode-threads 1 "$v"
    cpu peer-all "$PY" bench/video/vpdq_peer.py time --every 0 "$v"
    cpu ours-all "$BIN" --time --every 0 "$v"
  done
  # A longer input: chair-orig-22 six times over (stream copy, 2 min 15 s),
  # to show how the fixed per-file cost fades with length.
  LONG="$OUT/chair-orig-22-x6.mp4"
  ffmpeg -v error -nostdin -y -stream_loop 5 -i crates/video/tests/data/tmk/sample-videos/chair-orig-22-sd-bar.mp4 \
    -map 0:v:0 -c copy "$LONG"
  : > "$OUT/long.tsv"
  "$BIN" --time --every 1 "$LONG" | sed 's/^/ours\t/' >> "$OUT/long.tsv"
  "$PY" bench/video/vpdq_peer.py time --every 1 "$LONG" | sed 's/^/vpdq\t/' >> "$OUT/long.tsv"
  "$BIN" --time --every 1 --decode-threads 1 "$LONG" | sed 's/^/ours1t\t/' >> "$OUT/long.tsv"
  cut -d' ' -f1-3 /proc/loadavg > "$OUT/load-after.txt"
fi

"$PY" - "$OUT" "$PY" <<'PYEOF'
import os, subprocess, sys, platform
out, py = sys.argv[1], sys.argv[2]
def load(name):
    rows = {}
    for line in open(os.path.join(out, name)):
        path, secs, n = line.rstrip("\n").split("\t")
        rows[os.path.basename(path)[:-4]] = (float(secs), int(n))
    return rows
o1, p1, oa, pa, o1t = (load(n) for n in ("ours-1s.tsv", "peer-1s.tsv", "ours-all.tsv", "peer-all.tsv", "ours1t-1s.tsv"))
def cpu(name, names, baseline=0.0):
    vals = [sum(map(float, l.split())) - baseline for l in open(os.path.join(out, name)) if l.strip()]
    return dict(zip(names, vals))
base = sum(map(float, open(os.path.join(out, "peer-baseline.cpu")).read().split()))
c_o1 = cpu("ours-1s.cpu", list(o1)); c_p1 = cpu("peer-1s.cpu", list(p1), base); c_o1t = cpu("ours1t-1s.cpu", list(o1t))
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"
def dims(name):
    return sh(f"ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 crates/video/tests/data/tmk/sample-videos/{name}.mp4")
model = sh("lscpu | grep 'Model name' | sed 's/.*: *//'")
FFV = sh("ffmpeg -version | head -1 | cut -d' ' -f1-3")
lines = [
    "# vPDQ hashing speed: Tiaki vs Meta's `vpdq` package",
    "",
    "Produced by `bench/video/run.sh` (one run per video and mode, no warm-up runs beyond reading the",
    "files once into the page cache). Each time is measured around the library call alone: Tiaki's",
    "`tiaki_video::hash_video_file` (one ffmpeg subprocess + PDQ, from the `vpdq-hash` example",
    "built with `--release`) and the package's `vpdq.computeHash(path, seconds_per_hash=…)`.",
    "",
    f"* Machine: {model}, {sh('nproc')} cores ({platform.machine()})",
    f"* ffmpeg: {FFV}",
    f"* vpdq: {sh(py + ' -m pip show vpdq 2>/dev/null | grep ^Version')}, Python {platform.python_version()}",
    f"* rustc: {sh('rustc --version')}",
    f"* Load average (1, 5, 15 min) before / after: {open(os.path.join(out, 'load-before.txt')).read().strip()} / "
    f"{open(os.path.join(out, 'load-after.txt')).read().strip()} — this machine is shared, so single runs are noisy",
    "* Command: `bench/video/run.sh` (set `TIAKI_PEER_PYTHON` to a python with `vpdq`)",
    "",
    "## One hash a second (default of both libraries and of python-threatexchange)",
    "",
    "| video | size | hashes | Tiaki s | vpdq s | vpdq / Tiaki | Tiaki CPU s | vpdq CPU s | Tiaki 1 decode thread s (CPU s) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
]
tot_o = tot_p = tc_o = tc_p = tot_t = tc_t = 0.0
for name in sorted(o1):
    (so, no), (sp, np_), (st, _) = o1[name], p1[name], o1t[name]
    tot_o += so; tot_p += sp; tc_o += c_o1[name]; tc_p += c_p1[name]; tot_t += st; tc_t += c_o1t[name]
    flag = "" if no == np_ else f" (vpdq: {np_})"
    lines.append(f"| {name} | {dims(name)} | {no}{flag} | {so:.3f} | {sp:.3f} | {sp/so:.2f}× | {c_o1[name]:.2f} | {c_p1[name]:.2f} | {st:.3f} ({c_o1t[name]:.2f}) |")
lines.append(f"| **total** | | | **{tot_o:.3f}** | **{tot_p:.3f}** | **{tot_p/tot_o:.2f}×** | **{tc_o:.2f}** | **{tc_p:.2f}** | **{tot_t:.3f} ({tc_t:.2f})** |")
lines += [
    "",
    "A ratio above 1 means Tiaki is faster. \"Tiaki s\" is the default (`decode_threads = 0`: one",
    "decoder thread while the machine's cores are busy, frame threads on idle cores); the last column",
    "forces one decoder thread. CPU s is user + system time of the whole invocation, children included",
    "(Tiaki: the example and ffmpeg; vpdq: Python, less the cost of starting Python and importing the",
    "package, measured once).",
    "",
    "Both decode every frame (frame-count sampling needs the count) and convert only the hashed",
    "ones: the package skips unselected frames before `sws_scale`,",
    "Tiaki has ffmpeg's `select` filter drop them before `scale`.",
]
long = {}
if os.path.exists(os.path.join(out, "long.tsv")):
    for line in open(os.path.join(out, "long.tsv")):
        who, _path, secs, n = line.rstrip("\n").split("\t")
        long[who] = (float(secs), int(n))
if {"ours", "vpdq", "ours1t"} <= set(long):
    lines += [
        "",
        "Longer input (generated: chair-orig-22-sd-bar six times over by stream copy, 2 min 15 s, 4038",
        "frames, one hash a second):",
        "",
        "| Tiaki s | vpdq s | vpdq / Tiaki | Tiaki 1 decode thread s |",
        "|---:|---:|---:|---:|",
        f"| {long['ours'][0]:.3f} | {long['vpdq'][0]:.3f} | {long['vpdq'][0]/long['ours'][0]:.2f}× | {long['ours1t'][0]:.3f} |",
    ]
lines += [
    "",
    "## Every frame at native resolution",
    "",
    "| video | size | frames | Tiaki frames/s | vpdq frames/s | vpdq / Tiaki time |",
    "|---|---|---:|---:|---:|---:|",
]
tf_o = tf_p = 0.0; nf = 0
for name in sorted(oa):
    (so, no), (sp, np_) = oa[name], pa[name]
    tf_o += so; tf_p += sp; nf += no
    lines.append(f"| {name} | {dims(name)} | {no} | {no/so:.0f} | {np_/sp:.0f} | {sp/so:.2f}× |")
lines.append(f"| **total** | | **{nf}** | **{nf/tf_o:.0f}** | **{nf/tf_p:.0f}** | **{tf_p/tf_o:.2f}×** |")
lines += [
    "",
    "Hashes from both sides are bit-identical on this machine (same libavcodec/libswscale build; see",
    "`crates/video/tests/video/peer.rs`), so the comparison is like for like.",
    "",
    "## Reading these numbers",
    "",
    "* Per file, Tiaki starts one program, `ffmpeg`. Its start-up (the dynamic loader binding some",
    "  200 shared libraries, `BIND_NOW`) costs about 0.07 CPU-seconds a file, which the package pays",
    "  once, at import, outside its timing. For MP4/MOV the exact `avg_frame_rate` the reference",
    "  samples by is read from the file's boxes in process (ffmpeg prints it only rounded), and the",
    "  size and pixel format from ffmpeg's own description of the input, which it logs before reading",
    "  its filter graph; other containers still ask `ffprobe` (a second start-up).",
    "* Decoding is the same libavcodec work on both sides. With a free core, ffmpeg's frame threads",
    "  decode faster than the package, which decodes on one thread (slice threads do nothing on",
    "  single-slice H.264); on a machine whose cores are all busy, frame threads only add overhead,",
    "  so by default Tiaki uses them only on idle cores (tasks runnable at that instant, not the",
    "  1-minute load average, which on this VM stays above 1 with the CPUs idle).",
    "* Every frame: PDQ dominates. Tiaki hashes with `tiaki-hash`'s PDQ (bit-exact with the C++",
    "  reference, but with streaming, vectorised passes) on all cores while ffmpeg decodes and converts;",
    "  the package runs the reference C++ PDQ.",
    "* Status against issue 3 (\"ours no slower\"): with frame threads on the idle core, every clip",
    "  but one was faster than the package in the 2026-11-29 14:23 UTC run, and that one",
    "  (test-padded-dimensions, 0.34 s) was 0.99×; Tiaki spends more CPU (frame threads) for less wall",
    "  time. ffmpeg's fixed start-up is the largest share of the 4–7 s clips.",
    "* This workplace's 2 cores are shared with other jobs (see the load average above): single runs",
    "  move by ±30 %. Run the script on a quiet machine for numbers to quote.",
    "",
]
open("docs/bench-video.md", "w").write("\n".join(lines))
print("\n".join(lines))
PYEOF
