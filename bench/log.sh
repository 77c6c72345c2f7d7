#!/usr/bin/env bash
# Merkle log figures on this machine: leaves appended per second (the import with its log),
# inclusion and consistency proof time, and `dmf audit verify` over every event.
# Baselines measured in the same run: `sha256sum` of the store file (hashing its bytes once,
# on one core) for the audit; `dmf log checkpoint` (a process that opens the log and prints)
# for proofs.
#   bench/log.sh [PEOPLE]    PEOPLE of the synthetic population (default 40000000, which
#                            gives about 10 million DMF records, one event each)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-40000000}
cargo build --release -p dmf --quiet
dmf=target/release/dmf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

"$dmf" synth --people "$people" --seed 3 --as-of 2026-11-23 --out "$work/synth" --quiet >/dev/null
"$dmf" init --data "$work/reg" >/dev/null
t0=$(date +%s%N)
"$dmf" import --data "$work/reg" "$work/synth/dmf.txt" --quiet --json > "$work/import.json"
t1=$(date +%s%N)
import_s=$(secs "$t0" "$t1")
events=$("$dmf" log checkpoint --data "$work/reg" --json | sed 's/.*"size":\([0-9]*\).*/\1/')
echo "import with its log: $events events in $import_s s = $(awk -v n="$events" -v s="$import_s" 'BEGIN { printf "%.0f", n / s }') events/s"

# Proofs: 50 inclusion proofs of random events, 50 consistency proofs, each one process.
t0=$(date +%s%N)
for i in $(seq 50); do "$dmf" log checkpoint --data "$work/reg" > /dev/null; done
t1=$(date +%s%N)
base_s=$(secs "$t0" "$t1")
t0=$(date +%s%N)
for i in $(seq 50); do
    "$dmf" log prove --data "$work/reg" --seq $(( (RANDOM * 32768 + RANDOM) % events + 1 )) --json > /dev/null
done
t1=$(date +%s%N)
prove_s=$(secs "$t0" "$t1")
t0=$(date +%s%N)
for i in $(seq 50); do
    "$dmf" log consistency --data "$work/reg" --from $(( (RANDOM * 32768 + RANDOM) % events + 1 )) --to "$events" --json > /dev/null
done
t1=$(date +%s%N)
cons_s=$(secs "$t0" "$t1")
echo "inclusion proof: $(awk -v s="$prove_s" 'BEGIN { printf "%.1f", s * 20 }') ms a call ($(ratio "$prove_s" "$base_s") x dmf log checkpoint, $(awk -v s="$base_s" 'BEGIN { printf "%.1f", s * 20 }') ms)"
echo "consistency proof: $(awk -v s="$cons_s" 'BEGIN { printf "%.1f", s * 20 }') ms a call ($(ratio "$cons_s" "$base_s") x dmf log checkpoint)"

sync
t0=$(date +%s%N); sha256sum "$work/reg/registry.sqlite" > /dev/null; t1=$(date +%s%N)
sha_s=$(secs "$t0" "$t1")
t0=$(date +%s%N)
"$dmf" audit verify --data "$work/reg" --json > "$work/audit.json"
t1=$(date +%s%N)
audit_s=$(secs "$t0" "$t1")
grep -q '"ok":true' "$work/audit.json" || { cat "$work/audit.json"; exit 1; }
rate=$(awk -v n="$events" -v s="$audit_s" 'BEGIN { printf "%.0f", n / s }')
echo "audit verify: $events events in $audit_s s = $rate events/s; sha256sum of the $(( $(stat -c %s "$work/reg/registry.sqlite") / 1000000 )) MB store: $sha_s s (ratio $(ratio "$audit_s" "$sha_s"))"
echo "150 million events at that rate: $(awk -v r="$rate" 'BEGIN { printf "%.1f", 150e6 / r / 60 }') minutes (goal: 10)"
