#!/usr/bin/env bash
# Two tiaki binaries (an old and a new build) on the same data in the same run,
# for issue 16's "within 5 %" check. The three benchmarks are those of
# docs/benchmarks.md, all on SQLite:
#  1. ingest: `lists import` of the known list (not timed), then
#     `ingest --hash-only` of the 2,000,000-line bundle (150,000 accounts) of
#     bench/intake/ingest.sh, into a fresh data directory each run;
#  2. attribute: `attribute --geoip networks.csv` over the 150,000-account /
#     1,000,000-login scenario of bench/attrib.sh, RAYON_NUM_THREADS=2;
#  3. referrals: `referrals build` of the 130-country operation of
#     `bench/referrals/build.sh 150000 2000000 130`, fixed --created-at, into a
#     fresh output directory and a fresh copy of the prepared store each run.
# Each binary works only on stores it made itself (a newer binary may add
# migrations that an older one refuses): the attribute and referral stores are
# ingested once per binary (untimed preparation, shown for information).
# The data are generated once, with this tree's generators, under
# bench/out/compare (kept for reruns; delete it to regenerate).
# Runs alternate OLD, NEW, OLD, NEW, ... (ROUNDS rounds, default 3). Per run:
# wall, CPU user + sys and peak RSS from /usr/bin/time, the load average
# before it; at the end the medians per binary and NEW/OLD per benchmark.
#
#   bench/compare.sh OLD_BIN NEW_BIN        (ROUNDS=2 bench/compare.sh ... for ABAB;
#   ACCOUNTS, MEDIA, LOGINS, COUNTRIES override the sizes for a quick trial,
#   COMPARE_OUT the directory, BENCHES="referrals" runs only some of
#   ingest, attribute, referrals)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD_BIN NEW_BIN" >&2; exit 2; }
OLD=$(realpath "$1") NEW=$(realpath "$2")
for b in "$OLD" "$NEW"; do [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }; done
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
BENCHES=${BENCHES:-ingest attribute referrals}
want() { case " $BENCHES " in *" $1 "*) return 0;; *) return 1;; esac; }
ACCOUNTS=${ACCOUNTS:-150000} MEDIA=${MEDIA:-2000000} LOGINS=${LOGINS:-1000000} COUNTRIES=${COUNTRIES:-130}
CREATED_AT=2021-03-01T00:00:00Z
OUT=${COMPARE_OUT:-bench/out/compare}
export RAYON_NUM_THREADS=2 TIAKI_ISSUER_PASSPHRASE=bench
mkdir -p "$OUT"
bin_of() { if [ "$1" = old ]; then echo "$OLD"; else echo "$NEW"; fi; }

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ {print $2}') GiB; $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "old: $OLD ($(date -u -r "$OLD" '+%Y-%m-%d %H:%M UTC'), $(sha256sum "$OLD" | cut -c1-12))"
echo "new: $NEW ($(date -u -r "$NEW" '+%Y-%m-%d %H:%M UTC'), $(sha256sum "$NEW" | cut -c1-12))"
echo "rounds: $ROUNDS (old, new alternately), RAYON_NUM_THREADS=$RAYON_NUM_THREADS"

# ---- data, generated once with this tree's generators ----------------------
cargo build --release -q -p tiaki-intake --example gen_bundle
cargo build --release -q -p tiaki-cli --example scenario_bundle
EX=${CARGO_TARGET_DIR:-target}/release/examples

# A dataset is reused when its .done marker names the same sizes.
fresh() { [ "$(cat "$OUT/$1/.done" 2>/dev/null)" != "$2" ]; }
if fresh ingest "$ACCOUNTS $MEDIA"; then
  echo "generating the ingest bundle ($ACCOUNTS accounts, $MEDIA media lines, seed 1) and its known list"
  rm -rf "$OUT/ingest"; mkdir -p "$OUT/ingest"
  "$EX/gen_bundle" --accounts "$ACCOUNTS" --media "$MEDIA" --out "$OUT/ingest/bundle" --seed 1 >/dev/null
  python3 bench/intake/known_from_bundle.py "$OUT/ingest/bundle" "$OUT/ingest/known.csv" 10
  echo "$ACCOUNTS $MEDIA" > "$OUT/ingest/.done"
fi
if fresh attrib "$ACCOUNTS $LOGINS"; then
  echo "generating the attribution scenario ($ACCOUNTS accounts, $LOGINS logins)"
  rm -rf "$OUT/attrib"; mkdir -p "$OUT/attrib"
  "$EX/scenario_bundle" "$OUT/attrib" "$ACCOUNTS" "$LOGINS"
  echo "$ACCOUNTS $LOGINS" > "$OUT/attrib/.done"
fi
if fresh referrals "$ACCOUNTS $MEDIA $COUNTRIES"; then
  echo "generating the referral operation ($ACCOUNTS accounts, $MEDIA media, $COUNTRIES countries) and its agencies"
  r="$OUT/referrals"; rm -rf "$r"; mkdir -p "$r/bundle" "$r/keys"
  # The generator is the Python block of bench/referrals/build.sh, taken as is.
  awk '/^python3 - "\$accounts"/ {on = 1; next} on && /^PY$/ {exit} on' bench/referrals/build.sh > "$r/gen.py"
  grep -q 'provider-report/1' "$r/gen.py" || { echo "could not take the generator from bench/referrals/build.sh" >&2; exit 1; }
  python3 "$r/gen.py" "$ACCOUNTS" "$MEDIA" "$COUNTRIES" "$r"
  : > "$r/agencies.toml"
  while read -r c; do
    age-keygen -o "$r/keys/$c.key" 2>/dev/null
    printf '[[agency]]\ncountry = "%s"\nname = "Agency %s"\nage_recipient = "%s"\ncontact = "x@example.test"\n\n' \
      "$c" "$c" "$(age-keygen -y "$r/keys/$c.key")" >> "$r/agencies.toml"
  done < "$r/countries.txt"
  echo "$ACCOUNTS $MEDIA $COUNTRIES" > "$r/.done"
fi

# ---- timing -----------------------------------------------------------------
RUNS="$OUT/runs.tsv"
printf 'bench\tbinary\tround\twall\tuser\tsys\trss_kb\tload\n' > "$RUNS"
# timed BENCH BINARY ROUND CMD...: one run; stdout kept in $OUT/run.out.
timed() {
  local bench=$1 who=$2 round=$3; shift 3
  sync
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  /usr/bin/time -o "$OUT/time.txt" -f '%e %U %S %M' "$@" > "$OUT/run.out" 2> "$OUT/run.err" \
    || { echo "FAILED ($bench, $who): $*" >&2; cat "$OUT/run.err" "$OUT/time.txt" >&2; exit 1; }
  local wall user sys rss; read -r wall user sys rss < "$OUT/time.txt"
  printf '%-16s %-3s %-5s %7.2f s wall  %6.2f + %5.2f s CPU  %5d MB peak  (load before %s)\n' \
    "$bench" "$who" "$round" "$wall" "$user" "$sys" $((rss / 1024)) "$load"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$who" "$round" "$wall" "$user" "$sys" "$rss" "$load" >> "$RUNS"
}

if want ingest; then
echo
echo "== 1. ingest --hash-only, $ACCOUNTS accounts, $MEDIA media lines (fresh data directory each run; known list imported first, untimed)"
d="$OUT/ingest"
for round in $(seq "$ROUNDS"); do
  for who in old new; do
    bin=$(bin_of $who)
    rm -rf "$d/data"
    "$bin" --data "$d/data" lists import --name known "$d/known.csv" > /dev/null
    timed ingest $who "$round" "$bin" --data "$d/data" ingest --hash-only --progress never "$d/bundle"
    tail -n 1 "$OUT/run.out" | sed 's/^/      /'
  done
done
rm -rf "$d/data"
fi

if want attribute; then
echo
echo "== 2. attribute --geoip (recompute over the stored accounts); each binary on the store it ingested"
d="$OUT/attrib"
for who in old new; do
  rm -rf "$d/data-$who"
  timed attrib-prep $who - "$(bin_of $who)" --data "$d/data-$who" ingest --hash-only --progress never \
    --geoip "$d/networks.csv" "$d/bundle"
done
for round in $(seq "$ROUNDS"); do
  for who in old new; do
    timed attribute $who "$round" "$(bin_of $who)" --data "$d/data-$who" attribute --geoip "$d/networks.csv"
  done
done
so=$("$OLD" --data "$d/data-old" stats --json) sn=$("$NEW" --data "$d/data-new" stats --json)
if [ "$so" = "$sn" ]; then echo "   stats --json, same for both: $so"; else echo "   stats --json differ:"; echo "   old: $so"; echo "   new: $sn"; fi

fi

if want referrals; then
echo
echo "== 3. referrals build, $COUNTRIES countries (fresh copy of the binary's own prepared store and a fresh output directory each run)"
d="$OUT/referrals"
for who in old new; do
  bin=$(bin_of $who)
  rm -rf "$d/store-$who"
  timed referrals-prep $who - "$bin" --data "$d/store-$who" ingest --hash-only --progress never \
    --geoip "$d/networks.csv" "$d/bundle"
  "$bin" --data "$d/store-$who" agencies import "$d/agencies.toml" > /dev/null
  "$bin" --data "$d/store-$who" keys issuer > /dev/null
done
for round in $(seq "$ROUNDS"); do
  for who in old new; do
    rm -rf "$d/run-data" "$d/packages"
    cp -a "$d/store-$who" "$d/run-data"
    timed referrals $who "$round" "$(bin_of $who)" --data "$d/run-data" referrals build \
      --out "$d/packages" --created-at "$CREATED_AT" --json
    cp "$OUT/run.out" "$d/build-$who.json"
    echo "      $(find "$d/packages" -name '*.tar.age' | wc -l) packages, $(du -sm "$d/packages" | cut -f1) MB"
  done
done
rm -rf "$d/run-data" "$d/packages"
# Both binaries refer the same accounts to the same countries, those generated.
python3 - "$d" <<'PY'
import json, sys
d = sys.argv[1]
want = {c: n for c, n in (l.split("\t") for l in open(f"{d}/expected.tsv").read().split("\n") if l) if n != "0"}
for who in ("old", "new"):
    got = {r["country"]: str(r["accounts"]) for r in json.load(open(f"{d}/build-{who}.json"))["built"]}
    assert all(want[c] == n for c, n in got.items()), f"{who}: accounts per country differ from the generated ones"
    print(f"   {who}: {len(got)} referrals, {sum(int(n) for n in got.values())} accounts, each in its generated country")
PY
fi

# ---- summary ----------------------------------------------------------------
echo
python3 - "$RUNS" "$MEDIA" "$COUNTRIES" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(bench, who, f):
    return statistics.median(f(r) for r in rows if r["bench"] == bench and r["binary"] == who)
wall = lambda r: float(r["wall"])
cpu = lambda r: float(r["user"]) + float(r["sys"])
rss = lambda r: int(r["rss_kb"]) / 1024
n = {b: sum(1 for r in rows if r["bench"] == b and r["binary"] == "old") for b in ("ingest", "attribute", "referrals")}
print("medians (n runs per binary); NEW/OLD above 1.05 is outside issue 16's 5 %")
print()
print("| benchmark | runs | wall old | wall new | wall NEW/OLD | CPU old | CPU new | CPU NEW/OLD | peak RSS old / new |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
media, countries = int(sys.argv[2]), sys.argv[3]
for b, name in (("ingest", f"`ingest --hash-only`, {media:,} lines"), ("attribute", "`attribute --geoip`"),
                ("referrals", f"`referrals build`, {countries} countries")):
    if not n[b]:
        continue
    wo, wn, co, cn = med(b, "old", wall), med(b, "new", wall), med(b, "old", cpu), med(b, "new", cpu)
    rw, rc = wn / wo, cn / co
    flag = lambda x: "within 5 %" if x <= 1.05 else f"**{(x - 1) * 100:+.2f} %, outside 5 %**"
    print(f"| {name} | {n[b]} + {n[b]} | {wo:.2f} s | {wn:.2f} s | {rw:.3f} ({flag(rw)}) | {co:.2f} s | {cn:.2f} s "
          f"| {rc:.3f} ({flag(rc)}) | {med(b, 'old', rss):.0f} / {med(b, 'new', rss):.0f} MB |")
PY
echo "per-run figures: $RUNS"
