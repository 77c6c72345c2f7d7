#!/usr/bin/env bash
# Times `dmf format check` on a multi-million-line DMF file against `wc -l` on the same file, in
# the same run, and prints the ratio (goal: at most 1.25). Both read a warm page cache.
#   bench/parse.sh [PEOPLE]      PEOPLE of the synthetic population (default 9000000)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-9000000}
cargo build --release -p dmf --quiet
dmf=${CARGO_TARGET_DIR:-target}/release/dmf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$dmf" synth --people "$people" --seed 1 --as-of 2026-01-01 --out "$work/synth" --quiet >/dev/null
# Three copies of the synthetic full file make a file of several million lines.
cat "$work/synth/dmf.txt" "$work/synth/dmf.txt" "$work/synth/dmf.txt" > "$work/big.txt"
rm -rf "$work/synth"
cat "$work/big.txt" > /dev/null

# Best of 7 wall-clock runs, in seconds.
best() {
    local best=999999999999 t0 t1 t
    for _ in 1 2 3 4 5 6 7; do
        t0=$(date +%s%N)
        "$@" > /dev/null
        t1=$(date +%s%N)
        t=$(( t1 - t0 ))
        (( t < best )) && best=$t
    done
    echo "$best"
}

lines=$(wc -l < "$work/big.txt")
bytes=$(stat -c %s "$work/big.txt")
wc_ns=$(best wc -l "$work/big.txt")
check_ns=$(best "$dmf" format check "$work/big.txt")
one_ns=$(best taskset -c 0 "$dmf" format check "$work/big.txt")
awk -v lines="$lines" -v bytes="$bytes" -v w="$wc_ns" -v c="$check_ns" -v o="$one_ns" 'BEGIN {
    printf "file: %d lines, %.0f MB\n", lines, bytes / 1e6
    printf "wc -l:                       %7.3f s  %6.2f GB/s\n", w / 1e9, bytes / w
    printf "dmf format check:            %7.3f s  %6.2f GB/s  %5.1f M lines/s\n", c / 1e9, bytes / c, lines / c * 1e3
    printf "dmf format check, one core:  %7.3f s  %6.2f GB/s\n", o / 1e9, bytes / o
    printf "ratio check / wc -l: %.2f (goal <= 1.25)\n", c / w
}'
