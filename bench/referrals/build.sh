#!/usr/bin/env bash
# `tiaki referrals build` through the store: a synthetic operation (one
# hash-only provider report, accounts spread over countries with a skew like
# real data, one country without an agency), ingested and attributed with
# the declared-country stand-in, then every package built, encrypted and
# signed. Prints each stage's time and the build's peak memory.
#
#   bench/referrals/build.sh [ACCOUNTS] [MEDIA] [COUNTRIES]   default 20,000 200,000 50
#   bench/referrals/build.sh lib                              the library-only bench
#                                                             (crates/referral/examples/package_bench.rs)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = lib ]; then
    shift
    exec cargo run -q --release -p tiaki-referral --example package_bench -- "$@"
fi
accounts="${1:-20000}" media="${2:-200000}" countries="${3:-50}"
out=bench/out/referrals; rm -rf "$out"; mkdir -p "$out/bundle" "$out/keys"
python3 - "$accounts" "$media" "$countries" "$out" <<'PY'
import hashlib, json, sys, string
accounts, media, countries, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
letters = string.ascii_uppercase
codes = [a + b for a in letters for b in letters][:countries]
# Zipf-like skew: country k gets weight 1/(k+1).
weights = [1 / (k + 1) for k in range(countries)]
total = sum(weights)
cum, acc = [], 0.0
for w in weights:
    acc += w / total
    cum.append(acc)
def country_of(i):
    x = (i * 2654435761 % 2**32) / 2**32
    for k, c in enumerate(cum):
        if x < c:
            return codes[k]
    return codes[-1]
with open(f"{out}/bundle/accounts.ndjson", "w") as f:
    for i in range(accounts):
        f.write(json.dumps({"id": f"u{i}", "username": f"user{i}", "emails": [f"u{i}@example.test"],
            "logins": [{"ip": "203.0.113.9", "at": "2021-01-01T00:00:00Z"}],
            "declared_country": country_of(i)}) + "\n")
with open(f"{out}/bundle/media.ndjson", "w") as f:
    for i in range(media):
        b = str(i).encode()
        f.write(json.dumps({"id": f"m{i}", "account": f"u{i % accounts}", "viewed_by_provider": i % 3 == 0,
            "hashes": {"md5": hashlib.md5(b).hexdigest(), "sha256": hashlib.sha256(b).hexdigest()}}) + "\n")
json.dump({"format": "provider-report/1", "report_id": "BENCH-1",
    "provider": {"name": "Bench", "country": "NZ", "contact": "x@example.test"},
    "created_at": "2021-01-01T00:00:00Z"}, open(f"{out}/bundle/manifest.json", "w"))
# Every country but the last has an agency.
open(f"{out}/countries.txt", "w").write("\n".join(codes[:-1]) + "\n")
PY
: > "$out/agencies.toml"
while read -r c; do
    age-keygen -o "$out/keys/$c.key" 2>/dev/null
    printf '[[agency]]\ncountry = "%s"\nname = "Agency %s"\nage_recipient = "%s"\ncontact = "x@example.test"\n\n' \
        "$c" "$c" "$(age-keygen -y "$out/keys/$c.key")" >> "$out/agencies.toml"
done < "$out/countries.txt"
cargo build -q --release -p tiaki-cli
bin=${CARGO_TARGET_DIR:-target}/release/tiaki
export TIAKI_ISSUER_PASSPHRASE=bench
data="$out/data"
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "operation: $accounts accounts, $media media, $countries countries (one without an agency)"
stage() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N); python3 -c "print(f'{$t1 - $t0:7.2f} s')"; }
printf 'ingest (hash-only)      '; stage "$bin" --data "$data" ingest "$out/bundle"
printf 'attribute (stand-in)    '; stage "$bin" --data "$data" attribute-declared --from-declared
printf 'agencies import         '; stage "$bin" --data "$data" agencies import "$out/agencies.toml"
printf 'keys issuer (scrypt)    '; stage "$bin" --data "$data" keys issuer
printf 'referrals build         '
t0=$(date +%s.%N)
/usr/bin/time -f "peak RSS %M KB" "$bin" --data "$data" referrals build --out "$out/packages" \
    --created-at 2021-03-01T00:00:00Z > "$out/build.txt" 2> "$out/build.err" || { cat "$out/build.err"; exit 1; }
t1=$(date +%s.%N)
python3 -c "print(f'{$t1 - $t0:7.2f} s, $(grep -c '^built' "$out/build.txt") packages, {$accounts / ($t1 - $t0):,.0f} accounts/s')"
tail -1 "$out/build.err"
echo "packages: $(du -sm "$out/packages" | cut -f1) MB"
