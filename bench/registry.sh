#!/usr/bin/env bash
# Registry figures on this machine: import throughput of the numberholder file and of a
# multi-million-record DMF file (each record checked against the numberholder on file),
# durable events/s through `dmf submit` (each report's identity checked), and the answer index
# (bytes per person, lookups/s). Each throughput is printed beside a baseline measured in the
# same run: `cat` of the same input to /dev/null (the floor of reading it).
#   bench/registry.sh [PEOPLE]    PEOPLE of the synthetic population (default 40000000, which
#                                 gives about 10 million DMF records)
#   DMF_BIN=PATH bench/registry.sh ...   runs another build of `dmf` (an earlier commit's, to
#                                 compare intake throughput on the same machine)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-40000000}
if [ -n "${DMF_BIN:-}" ]; then
    dmf=$DMF_BIN
    index_bench=$(dirname "$DMF_BIN")/examples/index_bench
else
    cargo build --release -p dmf --quiet
    cargo build --release -p dmf-registry --example index_bench --quiet
    dmf=target/release/dmf
    index_bench=target/release/examples/index_bench
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

"$dmf" synth --people "$people" --seed 3 --as-of 2026-11-23 --out "$work/synth" --quiet >/dev/null
records=$(wc -l < "$work/synth/dmf.txt")

t0=$(date +%s%N); cat "$work/synth/dmf.txt" > /dev/null; t1=$(date +%s%N)
cat_s=$(secs "$t0" "$t1")

"$dmf" init --data "$work/reg" >/dev/null
holders=$(($(wc -l < "$work/synth/people.csv") - 1))
t0=$(date +%s%N)
"$dmf" import --data "$work/reg" "$work/synth/people.csv" --quiet --json > "$work/people.json"
t1=$(date +%s%N)
people_s=$(secs "$t0" "$t1")
t0=$(date +%s%N)
"$dmf" import --data "$work/reg" "$work/synth/dmf.txt" --quiet --json > "$work/import.json"
t1=$(date +%s%N)
import_s=$(secs "$t0" "$t1")
size=$(stat -c %s "$work/reg/registry.sqlite")

# Durable events: 200,000 state death reports, each naming a numberholder as on file (name,
# suffix, date of birth), in transactions of 10,000; people born after the date of death are
# left out.
n=200000
awk -F, -v n="$n" 'NR > 1 && $7 < "2026-11-01" && c < n {
    c++
    printf "{\"type\":\"death_report\",\"ssn\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"suffix\":\"%s\",\"dob\":\"%s\",\"dod\":\"2026-11-01\",\"source\":\"state\",\"evidence\":\"EDRS-%d\",\"received\":\"2026-11-20\"}\n", $1, $2, $4, $5, $7, NR
}' "$work/synth/people.csv" > "$work/reports.ndjson"
t0=$(date +%s%N)
"$dmf" submit --data "$work/reg" "$work/reports.ndjson" --json --today 2026-11-23 > "$work/submit.out" || true
t1=$(date +%s%N)
submit_s=$(secs "$t0" "$t1")
accepted=$(grep -c '"accepted"' "$work/submit.out" || true)
held=$(grep -c '"outcome":"held"' "$work/submit.out" || true)

echo "numberholders imported: $holders in $people_s s = $(awk -v n="$holders" -v s="$people_s" 'BEGIN { printf "%.0f", n / s }') records/s"
echo "DMF records imported: $records in $import_s s = $(awk -v n="$records" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }') records/s (cat of the file: $cat_s s)"
echo "store size: $(awk -v b="$size" -v n="$((records + holders))" 'BEGIN { printf "%.0f MB, %.0f bytes an event", b / 1e6, b / n }')"
echo "durable events through dmf submit: $accepted in $submit_s s = $(awk -v n="$accepted" -v s="$submit_s" 'BEGIN { printf "%.0f", n / s }') events/s ($held held)"
"$index_bench" "$work/reg" 10000000
