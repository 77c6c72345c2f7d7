#!/usr/bin/env bash
# Durability: a writer is killed with SIGKILL at random points, CYCLES times (default 120);
# after each kill every acknowledged event must be in the store and the store intact.
#   bench/kill.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-120}
start=$(date +%s)
DMF_KILL_CYCLES=$cycles cargo test --release -p dmf --test it acknowledged_events_survive_sigkill -- --nocapture 2>&1 | tail -3
echo "kill test: $cycles cycles in $(( $(date +%s) - start )) s"
