#!/usr/bin/env bash
# Match requests under a computer-matching agreement: lists of 1,000, 10,000 and 100,000
# people (half on the file, with their names and dates of birth, no SSN) against the demo
# registry, through `POST /v1/agreements/1/matches`. Baseline in the same run: batch identity
# verification of the same people with their SSNs (`POST /v1/verify/batch`), which looks each
# one up directly instead of linking by name.
#   bench/agreements.sh [PEOPLE]   (default 1000000 people in the demo)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-1000000}
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$dmf" -q serve --demo --demo-people "$people" --data "$work/demo" --listen "127.0.0.1:$port" \
    --today 2026-11-23 --rate 100000000 --burst 100000000 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
until curl -sf "$base/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/demo/demo-credentials.json" "$1"; }
agency=$(key agency)
identity=$(key identity)
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
echo "| listed | match request | matched | batch verification (baseline) | ratio |"
echo "| --- | --- | --- | --- | --- |"
first=1
for n in 1000 10000 100000; do
    # Half from the file, half made up (a real first name with another person's surname).
    python3 - "$work/demo/synth/people.csv" "$n" > "$work/list.ndjson" 2> "$work/verify.ndjson" <<'PY'
import csv, json, random, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if len(r["dob"]) == 10]
n = int(sys.argv[2])
rng = random.Random(n)
on = rng.sample(rows, n // 2)
for i, r in enumerate(on):
    print(json.dumps({"id": f"on-{i}", "first": r["first"], "last": r["last"], "dob": r["dob"]}))
    print(json.dumps({"ssn": r["ssn"], "first": r["first"], "last": r["last"], "dob": r["dob"]}), file=sys.stderr)
for i in range(n - n // 2):
    a, b = rng.choice(rows), rng.choice(rows)
    print(json.dumps({"id": f"off-{i}", "first": a["first"], "last": b["last"], "dob": f"19{rng.randrange(20, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}"}))
    print(json.dumps({"ssn": a["ssn"], "first": a["first"], "last": b["last"], "dob": a["dob"]}), file=sys.stderr)
PY
    if [ "$first" = 1 ]; then
        # The first request prepares everyone on file for matching: timed apart.
        t0=$(date +%s%N)
        curl -sf -H "Authorization: Bearer $agency" -H 'Content-Type: application/x-ndjson' \
            --data-binary '{"first":"Warm","last":"Up","dob":"1950-01-01"}' "$base/v1/agreements/1/matches" > /dev/null
        t1=$(date +%s%N)
        echo "(first request, preparing $people people on file for matching: $(ms "$t0" "$t1") ms)" >&2
        first=0
    fi
    t0=$(date +%s%N)
    curl -sf -H "Authorization: Bearer $agency" -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$work/list.ndjson" "$base/v1/agreements/1/matches" > "$work/matches.json"
    t1=$(date +%s%N)
    curl -sf -H "Authorization: Bearer $identity" -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$work/verify.ndjson" "$base/v1/verify/batch" > /dev/null
    t2=$(date +%s%N)
    matched=$(python3 -c 'import json, sys; v = json.load(open(sys.argv[1])); on = sum(1 for m in v["matches"] if m["id"].startswith("on-")); print(str(v["matched"]) + " (" + str(on) + " of those on file)")' "$work/matches.json")
    echo "| $n | $(ms "$t0" "$t1") ms | $matched | $(ms "$t1" "$t2") ms | $(awk -v a="$(ms "$t0" "$t1")" -v b="$(ms "$t1" "$t2")" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }') |"
done
