#!/usr/bin/env bash
# Soak: the server under mixed load on loopback for a fixed time: identity verifications,
# batch verifications, death reports, corrections (two caseworkers), agreement match requests,
# and two `dmf mirror` feed readers following it all. Reports each kind's throughput, p50, p99
# and errors, and the server's memory after warm-up against the last minute (it must stay
# flat). Request counts are bounded: reports and corrections stop when their people run out.
#   bench/soak.sh [SECONDS] [PEOPLE]   (default 600 s on a demo of 200000 people)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
people=${2:-200000}
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$dmf" -q serve --demo --demo-people "$people" --data "$work/demo" --listen "127.0.0.1:$port" \
    --today 2026-11-23 --rate 100000000 --burst 100000000 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
pids+=("$server")
until curl -sf "$base/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
creds="$work/demo/demo-credentials.json"
key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$creds" "$1"; }
# Living people with a full date of birth, and people the file records as dead.
python3 - "$work/demo/synth" > "$work/people.ndjson" <<'PY'
import csv, json, sys
d = sys.argv[1]
dead = {r["ssn"] for r in csv.DictReader(open(f"{d}/truth_deaths.csv"))}
for r in csv.DictReader(open(f"{d}/people.csv")):
    if r["ssn"] not in dead and len(r["dob"]) == 10:
        print(json.dumps({"ssn": r["ssn"], "first": r["first"], "last": r["last"], "dob": r["dob"]}))
PY
awk -F, 'NR > 1 && $5 == "true" && n++ < 5000 { print $1 }' "$work/demo/synth/truth_deaths.csv" > "$work/dead.txt"
for m in 1 2; do
    "$dmf" -q mirror --from "$base" --key "$(key subscriber)" --data "$work/mirror$m" --today 2026-11-23 \
        > "$work/mirror$m.out" 2> "$work/mirror$m.err" &
    pids+=("$!")
done
echo "soak: $secs s on a demo of $people people (server pid $server)" >&2
python3 bench/soak_load.py --base "$base" --creds "$creds" --people "$work/people.ndjson" \
    --dead "$work/dead.txt" --seconds "$secs" --pid "$server" > "$work/summary.json"
server_errors=$(grep -c '"level":"ERROR"\|ERROR' "$work/serve.err" || true)
python3 - "$work/summary.json" "$server_errors" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"## Soak: {s['seconds']} s of mixed load")
print()
print("| requests | count | per second | p50 | p99 | errors |")
print("| --- | --- | --- | --- | --- | --- |")
for k, v in s["kinds"].items():
    print(f"| {k} | {v['requests']} | {v['per_second']} | {v['p50_ms']} ms | {v['p99_ms']} ms | {v['errors']} |")
r = s.get("rss_mib", {})
print()
print(f"- server memory: {r.get('start')} MiB at start, {r.get('after_warmup')} MiB after warm-up, "
      f"{r.get('end')} MiB in the last minute (growth {s.get('rss_growth_pct')}%), max {r.get('max')} MiB")
print(f"- errors logged by the server: {sys.argv[2]}")
errors = sum(v["errors"] for v in s["kinds"].values())
sys.exit(1 if errors or int(sys.argv[2]) else 0)
PY
