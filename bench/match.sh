#!/usr/bin/env bash
# Matching figures on this machine: `dmf match` of a synthetic client file against a synthetic
# DMF master, with and without SSNs, scored against the truth file (precision, recall, F1 of
# each client's best match); and Splink on the same files when Python's `splink` is
# installed (bench/splink_match.py), with the ratio of the two.
#   bench/match.sh [PEOPLE] [CLIENTS]   (default 3,000,000 people: about 1 M DMF records;
#                                        200,000 client records)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-3000000}
clients=${2:-200000}
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$dmf" synth --people "$people" --clients "$clients" --seed 5 --as-of 2026-11-23 --out "$work/s" --quiet > /dev/null
masters=$(wc -l < "$work/s/dmf.txt")
# The same client file without its SSNs: names and dates of birth only.
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { $2 = ""; print }' "$work/s/client.csv" > "$work/client_nossn.csv"

# Precision, recall and F1 of each client's best match (the first row of each client in the
# output, which is sorted by client then weight) against client_truth.csv.
score() {
    awk -F, 'NR == FNR { if (FNR > 1) truth[$1] = $2; next }
        FNR > 1 && !($1 in pred) { pred[$1] = $2 }
        END {
            for (id in truth) {
                t = truth[id]; p = (id in pred) ? pred[id] : ""
                if (p != "" && p == t) tp++
                else { if (p != "") fp++; if (t != "") fn++ }
            }
            pr = tp / (tp + fp); rc = tp / (tp + fn)
            printf "precision %.4f, recall %.4f, F1 %.4f (%d true, %d false, %d missed)", pr, rc, 2 * pr * rc / (pr + rc), tp, fp, fn
        }' "$work/s/client_truth.csv" "$1"
}

run() {  # label, client file
    local t0 t1
    t0=$(date +%s%N)
    "$dmf" -q match --client "$2" --master "$work/s/dmf.txt" --out "$work/$1.csv" --json > "$work/$1.json" 2> "$work/$1.err"
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    pairs=$(sed -n 's/.*"candidates":\([0-9]*\),"candidates_per_rule".*/\1/p' "$work/$1.json")
    echo "dmf match, $1: $clients clients x $masters master records in $secs s, $pairs candidate pairs ($(awk -v n="$pairs" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') pairs/s end to end); $(score "$work/$1.csv")"
}
run with-ssn "$work/s/client.csv"
dmf_secs=$secs
run without-ssn "$work/client_nossn.csv"

# Splink from bench/match_eval.sh's venv when it has been set up, else the system's.
py=python3
[ -x target/match-eval/venv/bin/python ] && py=target/match-eval/venv/bin/python
if "$py" -c 'import splink' 2> /dev/null; then
    t0=$(date +%s%N)
    "$py" bench/splink_match.py "$work/s/dmf.txt" "$work/s/client.csv" "$work/splink.csv" > "$work/splink.log" 2>&1
    t1=$(date +%s%N)
    ssecs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    linked=$(sed -n 's/.*linked in \([0-9.]*\) s.*/\1/p' "$work/splink.log")
    echo "splink, with-ssn: $ssecs s in all, $linked s to train and link after loading; $(score "$work/splink.csv")"
    echo "dmf match (all of it, loading included) is $(awk -v a="$linked" -v b="$dmf_secs" 'BEGIN { printf "%.1f", a / b }')x faster than Splink's training and linking alone"
else
    echo "splink: not installed (bench/match_eval.sh sets up a venv with it) - no comparison in this run"
fi
