#!/usr/bin/env bash
# The whole correction in the console, RUNS times (default 5): from opening the person's page in
# headless Chromium to a running `dmf mirror` having applied the correction. Each run signs in
# as a caseworker, files the correction (with a refused self-approval and a refused form on the
# way), signs in as a supervisor, approves, and follows the progress page until it says
# complete. The baseline measured in the same run is the part after the approval: how long the
# feed and the mirror take alone.
#   bench/console.sh [RUNS]      (needs chromium and chromium-driver)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo test --release -p dmf --test it --no-run --quiet 2>/dev/null
totals=(); props=()
for i in $(seq "$runs"); do
    line=$(cargo test --release -p dmf --test it a_wrongly_dead_person -- --nocapture 2>&1 |
        grep '^console correction:')
    echo "run $i: ${line#console correction: }"
    totals+=("$(echo "$line" | awk '{print $3}')")
    props+=("$(echo "$line" | awk -F', ' '{print $2}' | awk '{print $1}')")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
t=$(median "${totals[@]}"); p=$(median "${props[@]}")
echo "median: ${t} s from opening the person to the mirror applying the correction"
echo "baseline (approval to mirror applied): ${p} s; the whole is $(awk -v t="$t" -v p="$p" 'BEGIN {printf "%.1f", t/p}')x it"
