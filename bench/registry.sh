#!/usr/bin/env bash
# Registry figures on this machine: import throughput of a multi-million-record DMF file,
# durable events/s through `dmf submit`, and the answer index (bytes per person, lookups/s).
# Each throughput is printed beside a baseline measured in the same run: `cat` of the same
# input to /dev/null (the floor of reading it).
#   bench/registry.sh [PEOPLE]    PEOPLE of the synthetic population (default 40000000, which
#                                 gives about 10 million DMF records)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-40000000}
cargo build --release -p dmf --quiet
cargo build --release -p dmf-registry --example index_bench --quiet
dmf=target/release/dmf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

"$dmf" synth --people "$people" --seed 3 --as-of 2026-11-23 --out "$work/synth" --quiet >/dev/null
records=$(wc -l < "$work/synth/dmf.txt")

t0=$(date +%s%N); cat "$work/synth/dmf.txt" > /dev/null; t1=$(date +%s%N)
cat_s=$(secs "$t0" "$t1")

"$dmf" init --data "$work/reg" >/dev/null
t0=$(date +%s%N)
"$dmf" import --data "$work/reg" "$work/synth/dmf.txt" --quiet --json > "$work/import.json"
t1=$(date +%s%N)
import_s=$(secs "$t0" "$t1")
size=$(stat -c %s "$work/reg/registry.sqlite")

# Durable events: 200,000 state death reports of living people, in transactions of 10,000.
n=200000
awk -F, -v n="$n" 'NR > 1 && NR <= n + 1 {
    printf "{\"type\":\"death_report\",\"ssn\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"dod\":\"2026-11-01\",\"source\":\"state\",\"evidence\":\"EDRS-%d\",\"received\":\"2026-11-20\"}\n", $1, $2, $4, NR
}' "$work/synth/people.csv" > "$work/reports.ndjson"
t0=$(date +%s%N)
"$dmf" submit --data "$work/reg" "$work/reports.ndjson" --json --today 2026-11-23 > "$work/submit.out" || true
t1=$(date +%s%N)
submit_s=$(secs "$t0" "$t1")
accepted=$(grep -c '"accepted"' "$work/submit.out" || true)

echo "DMF records imported: $records in $import_s s = $(awk -v n="$records" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }') records/s (cat of the file: $cat_s s)"
echo "store size: $(awk -v b="$size" -v n="$records" 'BEGIN { printf "%.0f MB, %.0f bytes a record", b / 1e6, b / n }')"
echo "durable events through dmf submit: $accepted in $submit_s s = $(awk -v n="$accepted" -v s="$submit_s" 'BEGIN { printf "%.0f", n / s }') events/s"
target/release/examples/index_bench "$work/reg" 10000000
