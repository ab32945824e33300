#!/usr/bin/env bash
# `tiaki referrals build` through the store: a synthetic operation (one
# hash-only provider report, accounts spread over real ISO 3166 countries
# with a 1/k skew like real data, one country without an agency), ingested
# with a CIDR→country CSV so that the real linking and attribution at the
# end of the ingest place every account (its login IP in its country's
# network; two thirds also declare the country), then every package built,
# encrypted and signed. Checks that each country's referral carries exactly
# the accounts generated for it, and prints each stage's wall time, CPU
# (user + sys) and peak memory, with the load average.
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
import hashlib, json, re, sys
accounts, media, countries, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
# Real codes (attribution only knows ISO 3166-1), from the crate's table.
table = open("crates/types/src/country/table.rs").read()
codes = re.findall(r'alpha2: \*b"([A-Z]{2})"', table)
assert countries <= min(len(codes), 250), f"at most {min(len(codes), 250)} countries"
codes = codes[:countries]
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
            return k
    return countries - 1
serial = [0] * countries
with open(f"{out}/bundle/accounts.ndjson", "w") as f:
    for i in range(accounts):
        k = country_of(i)
        j = serial[k]; serial[k] += 1
        # Country k owns 44.k.0.0/16 (networks.csv); one address per account.
        a = {"id": f"u{i}", "username": f"user{i}", "emails": [f"u{i}@example.test"],
             "logins": [{"ip": f"44.{k}.{j >> 8 & 255}.{j & 255}", "at": "2021-01-01T00:00:00Z"}]}
        if i % 3:
            a["declared_country"] = codes[k]
        f.write(json.dumps(a) + "\n")
with open(f"{out}/bundle/media.ndjson", "w") as f:
    for i in range(media):
        b = str(i).encode()
        f.write(json.dumps({"id": f"m{i}", "account": f"u{i % accounts}", "viewed_by_provider": i % 3 == 0,
            "hashes": {"md5": hashlib.md5(b).hexdigest(), "sha256": hashlib.sha256(b).hexdigest()}}) + "\n")
json.dump({"format": "provider-report/1", "report_id": "BENCH-1",
    "provider": {"name": "Bench", "country": "NZ", "contact": "x@example.test"},
    "created_at": "2021-01-01T00:00:00Z"}, open(f"{out}/bundle/manifest.json", "w"))
with open(f"{out}/networks.csv", "w") as f:
    f.write("network,country\n")
    for k, c in enumerate(codes):
        f.write(f"44.{k}.0.0/16,{c}\n")
# The truth: accounts per country.
with open(f"{out}/expected.tsv", "w") as f:
    for k, c in enumerate(codes):
        f.write(f"{c}\t{serial[k]}\n")
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
echo "machine: $(lscpu | grep 'Model name' | sed 's/Model name:[[:space:]]*//'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "operation: $accounts accounts, $media media, $countries countries (one without an agency)"
# stage NAME CMD...: wall, CPU user + sys, peak RSS, and the load average before it.
stage() {
    local name=$1; shift
    local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
    /usr/bin/time -o "$out/time.txt" -f '%e %U %S %M' "$@" > "$out/stage.out" 2> "$out/stage.err" \
        || { cat "$out/stage.err"; exit 1; }
    read -r wall user sys rss < "$out/time.txt"
    printf '%-28s %7.2f s wall  %6.2f + %5.2f s CPU  %5d MB peak  (load %s)\n' \
        "$name" "$wall" "$user" "$sys" $((rss / 1024)) "$load"
}
stage "ingest + link + attribute" "$bin" --data "$data" ingest --hash-only --geoip "$out/networks.csv" "$out/bundle"
stage "agencies import" "$bin" --data "$data" agencies import "$out/agencies.toml"
stage "keys issuer (scrypt)" "$bin" --data "$data" keys issuer
stage "referrals build" "$bin" --data "$data" referrals build --out "$out/packages" \
    --created-at 2021-03-01T00:00:00Z --json
cp "$out/stage.out" "$out/build.json"
echo "packages: $(find "$out/packages" -name '*.tar.age' | wc -l), $(du -sm "$out/packages" | cut -f1) MB"
# Each country's referral carries exactly its generated accounts; the
# country without an agency is reported with all of its accounts.
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
want = dict(l.split("\t") for l in open(f"{out}/expected.tsv").read().split("\n") if l)
report = json.load(open(f"{out}/build.json"))
got = {r["country"]: str(r["accounts"]) for r in report["built"]}
got.update({r["country"]: str(r["accounts"]) for r in json.load(open(f"{out}/packages/no-recipient.json"))["countries"]})
want = {c: n for c, n in want.items() if n != "0"}
assert got == want, f"accounts per country differ: {sorted(set(got.items()) ^ set(want.items()))[:10]}"
print(f"checked: {len(report['built'])} referrals + {len(got) - len(report['built'])} without agency, "
      f"{sum(int(n) for n in got.values())} accounts, each in its generated country")
PY
