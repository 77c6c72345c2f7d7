#!/usr/bin/env bash
# HTTP figures on this machine, against `dmf serve --demo` (1 M synthetic people):
# identity verification throughput and latency beside a trivial route of the same server
# (`/healthz`) in the same run, batch verification records/s, and the time from a
# correction's approval to a running `dmf mirror` having applied it.
# Needs wrk (Debian package `wrk`) and curl.
#   bench/http.sh [PEOPLE] [SECONDS]
#   DMF_BIN=PATH bench/http.sh ...   runs another build of `dmf` (an earlier commit's)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-1000000}
secs=${2:-10}
command -v wrk >/dev/null || { echo "bench/http.sh needs wrk (apt-get install wrk)"; exit 2; }
if [ -n "${DMF_BIN:-}" ]; then
    dmf=$DMF_BIN
else
    cargo build --release -p dmf --quiet
    dmf=$PWD/target/release/dmf
fi
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
addr=127.0.0.1:$port
cleanup() { kill "$server" "${mirror:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# No rate limit: the load generator uses one key, and refused requests are not answers.
"$dmf" -q serve --demo --demo-people "$people" --data "$work/demo" --listen "$addr" --today 2026-11-23 \
    --rate 100000000 --burst 100000000 \
    > "$work/serve.out" 2> "$work/serve.err" &
server=$!
until curl -sf "http://$addr/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
# An API key of the demo by role (the console's passwords are under "console").
key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/demo/demo-credentials.json" "$1"; }

# 2,000 real people, one request body each, picked in turn by the load generator.
awk -F, 'NR > 1 && NR <= 2001 && length($7) == 10 {
    printf "{\"ssn\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"dob\":\"%s\"}\n", $1, $2, $4, $7
}' "$work/demo/synth/people.csv" > "$work/bodies.ndjson"
{
    echo 'local bodies = {}'
    sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/table.insert(bodies, "&")/' "$work/bodies.ndjson"
    echo 'local i = 0'
    echo 'request = function() i = i % #bodies + 1; return wrk.format("POST", nil, nil, bodies[i]) end'
} > "$work/identity.lua"

run_wrk() { wrk -t1 -c16 -d"${secs}s" --latency "$@"; }
summary() {  # requests/s, p50, p99 from wrk's output; a run with any non-2xx answer is refused
    awk '/Non-2xx/ { bad = $NF } /Requests\/sec/ { rps = $2 } / 50%/ { p50 = $2 } / 99%/ { p99 = $2 }
         END { if (bad) { print "wrk saw " bad " non-2xx answers" > "/dev/stderr"; exit 1 } printf "%s %s %s\n", rps, p50, p99 }'
}
read -r base_rps base_p50 base_p99 < <(run_wrk "http://$addr/healthz" | summary)
read -r id_rps id_p50 id_p99 < <(run_wrk -s "$work/identity.lua" \
    -H "Authorization: Bearer $(key identity)" -H "Content-Type: application/json" \
    "http://$addr/v1/verify/identity" | summary)
echo "trivial route (/healthz): $base_rps requests/s, p50 $base_p50, p99 $base_p99"
echo "identity verification:    $id_rps requests/s, p50 $id_p50, p99 $id_p99 ($(awk -v a="$id_rps" -v b="$base_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }') of the trivial route)"

# Batch: 1,000,000 lines in one request.
for _ in $(seq 500); do cat "$work/bodies.ndjson"; done > "$work/batch.ndjson"
lines=$(wc -l < "$work/batch.ndjson")
t0=$(date +%s%N)
curl -s --data-binary @"$work/batch.ndjson" -H "Authorization: Bearer $(key identity)" \
    -H "Content-Type: application/x-ndjson" "http://$addr/v1/verify/batch" > "$work/batch.out"
t1=$(date +%s%N)
answered=$(grep -c '"code"' "$work/batch.out")
echo "batch verification: $answered of $lines lines in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }') s = $(awk -v n="$answered" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / ((b - a) / 1e9) }') records/s"

# Propagation: a mirror follows the feed; each correction's approval is timed until the
# mirror reports a page at or past the correction's event.
if "$dmf" mirror --help > /dev/null 2>&1; then
    : > "$work/mirror.out"
    "$dmf" mirror --from "http://$addr" --key "$(key subscriber)" --data "$work/mirror" --json \
        --today 2026-11-23 > "$work/mirror.out" 2> "$work/mirror.err" &
    mirror=$!
    # Wait until the mirror has caught up with the whole file.
    head=$(curl -s "http://$addr/healthz" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')
    t0=$(date +%s%N)
    until awk -v s="$head" -F'"cursor":' 'NF > 1 { split($2, a, /[,}]/); if (a[1] + 0 >= s) found = 1 } END { exit !found }' "$work/mirror.out"; do
        kill -0 "$mirror" 2>/dev/null || { cat "$work/mirror.err"; exit 1; }
        sleep 0.2
    done
    t1=$(date +%s%N)
    echo "mirror initial sync: $head events in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s ($(grep -o '"records":[0-9]*' "$work/mirror.out" | awk -F: '{ n += $2 } END { print n }') records)"
    dead=$(awk -F, 'NR > 1 && $5 == "true" && n++ < 20 { print $1 }' "$work/demo/synth/truth_deaths.csv")
    : > "$work/latencies"
    # Looked up once: nothing but the approval and the mirror may fall inside the timed span.
    cw=$(key caseworker)
    cw2=$(key caseworker2)
    for ssn in $dead; do
        id=$(curl -s "http://$addr/v1/corrections" -H "Authorization: Bearer $cw" -H 'Content-Type: application/json' \
            -d "{\"ssn\":\"$ssn\",\"reason\":\"bench\",\"evidence\":[\"bench\"]}" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
        [ -n "$id" ] || continue
        t0=$(date +%s%N)
        seq=$(curl -s -X POST "http://$addr/v1/corrections/$id/approve" -H "Authorization: Bearer $cw2" \
            | sed -n 's/.*"seq":\([0-9]*\).*/\1/p')
        [ -n "$seq" ] || continue
        until awk -v s="$seq" -F'"cursor":' 'NF > 1 { split($2, a, /[,}]/); if (a[1] + 0 >= s) found = 1 } END { exit !found }' "$work/mirror.out"; do
            sleep 0.005
        done
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000000 )) >> "$work/latencies"
    done
    sort -n "$work/latencies" | awk '{ v[NR] = $1 } END { if (NR) printf "propagation to a running mirror: %d corrections, p50 %d ms, p99 %d ms, max %d ms\n", NR, v[int((NR + 1) / 2)], v[int(NR * 0.99 + 0.999)], v[NR] }'
else
    echo "propagation: dmf mirror is not built"
fi
