#!/usr/bin/env bash
# Memory a bulk submission takes: a 250 MiB NDJSON body of death reports (refused lines, as
# an adversary would send, and stored ones) posted to `dmf serve`, one at a time and two at
# once, against the server's peak resident memory (VmHWM) before any of them.
#   bench/bulk_memory.sh [MIB]
#   DMF_BIN=PATH bench/bulk_memory.sh ...   runs another build of `dmf` (an earlier commit's)
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-250}
if [ -n "${DMF_BIN:-}" ]; then
    dmf=$DMF_BIN
else
    cargo build --release -p dmf --quiet
    dmf=$PWD/target/release/dmf
fi
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
addr=127.0.0.1:$port
cleanup() { kill "${server:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$dmf" -q init --data "$work/data"
printf 'ssn,first,last,dob\n521234567,Carmen,Stanley,1971-04-30\n' > "$work/people.csv"
"$dmf" -q import --data "$work/data" "$work/people.csv" > /dev/null
key=$("$dmf" keys create --data "$work/data" --name state --role reporter --source state --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
"$dmf" -q serve --data "$work/data" --listen "$addr" --today 2026-11-23 \
    --rate 100000000 --burst 100000000 > /dev/null 2> "$work/serve.err" &
server=$!
until curl -sf "http://$addr/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.2
done

# Refused lines (a five-digit SSN, a date that is no date, an unknown field) and, every
# thousandth line, a report of the one person that is stored (the same report: a duplicate
# after the first).
python3 - "$work/body.ndjson" "$mib" <<'PY'
import sys
path, mib = sys.argv[1], int(sys.argv[2])
lines = [
    b'{"ssn":"12345","first":"Ann","last":"Lee","dod":"2026-11-01"}\n',
    b'{"ssn":"521234567","first":"Carmen","last":"Stanley","dod":"2026-13-45"}\n',
    b'{"ssn":"521234567","first":"Carmen","last":"Stanley","dod":"2026-11-01","x":1}\n',
]
stored = b'{"ssn":"521234567","first":"Carmen","last":"Stanley","dob":"1971-04-30","dod":"2026-11-01","evidence":"EDRS-1"}\n'
block = b"".join(stored if i % 1000 == 0 else lines[i % 3] for i in range(3000))
with open(path, "wb") as f:
    for _ in range((mib << 20) // len(block) + 1):
        f.write(block)
PY
size=$(stat -c %s "$work/body.ndjson")
hwm() { awk '/VmHWM/ { print $2 }' "/proc/$server/status"; }
post() {
    curl -s --data-binary @"$work/body.ndjson" -H "Authorization: Bearer $key" \
        -H "Content-Type: application/x-ndjson" "http://$addr/v1/reports/death" | wc -l
}
idle=$(hwm)
echo "body: $size bytes; server peak before: $idle KiB"
t0=$(date +%s%N)
one=$(post)
t1=$(date +%s%N)
after_one=$(hwm)
echo "one body: $one answers in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s; peak $after_one KiB (+$((after_one - idle)) KiB, $(awk -v g="$((after_one - idle))" -v s="$size" 'BEGIN { printf "%.3f", g * 1024 / s }') of the body)"
post > "$work/a" & pa=$!
post > "$work/b" & pb=$!
wait "$pa" "$pb"
after_two=$(hwm)
echo "two bodies at once: peak $after_two KiB (+$((after_two - idle)) KiB over the idle peak)"
