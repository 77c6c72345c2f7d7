#!/usr/bin/env bash
# The registry on PostgreSQL against the embedded store, in one run on this machine:
#   1. durable events/s: importing a synthetic population into each backend, and single-event
#      writes over HTTP (one request, one durable transaction each);
#   2. identity verification of two `dmf serve` nodes over one database together against one;
#   3. replication lag between the nodes (node A acknowledged a report -> node B's feed served
#      it) under a steady write load.
# Needs wrk and a PostgreSQL where this user may create databases (DMF_BENCH_DATABASE_URL,
# default the local server).
#   bench/postgres.sh [PEOPLE] [SECONDS] [WRITES_PER_SECOND]
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-1000000}
secs=${2:-10}
rate=${3:-200}
admin=${DMF_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
command -v wrk >/dev/null || { echo "bench/postgres.sh needs wrk (apt-get install wrk)"; exit 2; }
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
db=dmf_bench_$$
url="${admin%/*}/$db"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
psql "$admin" -qc "CREATE DATABASE $db"
secs_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

"$dmf" -q synth --people "$people" --seed 8 --out "$work/synth" --as-of 2026-11-23 > /dev/null
files=("$work/synth/people.csv" "$work/synth/dmf.txt")

t0=$(date +%s%N)
"$dmf" -q init --data "$work/sqlite" > /dev/null
"$dmf" -q import --data "$work/sqlite" --today 2026-11-23 "${files[@]}" > /dev/null
t1=$(date +%s%N)
"$dmf" -q init --data "$work/pg" --database "$url" > /dev/null
"$dmf" -q import --data "$work/pg" --database "$url" --today 2026-11-23 "${files[@]}" > /dev/null
t2=$(date +%s%N)
events=$(psql "$url" -Atc "SELECT count(*) FROM events")
s_sqlite=$(secs_of "$t0" "$t1"); s_pg=$(secs_of "$t1" "$t2")
echo "import of $events events: embedded $s_sqlite s = $(awk -v n="$events" -v s="$s_sqlite" 'BEGIN { printf "%.0f", n / s }') events/s; PostgreSQL $s_pg s = $(awk -v n="$events" -v s="$s_pg" 'BEGIN { printf "%.0f", n / s }') events/s ($(awk -v a="$s_sqlite" -v b="$s_pg" 'BEGIN { printf "%.2f", a / b }')x the embedded rate)"
echo "PostgreSQL database size: $(psql "$url" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))"); embedded store: $(du -sh "$work/sqlite/registry.sqlite" | cut -f1)"

key() { "$dmf" keys create --data "$1" --name "$2" --role "$3" ${4:+--source "$4"} --json | sed -n 's/.*"key":"\([^"]*\)".*/\1/p'; }
# No rate limit: the load generator uses one key, and refused requests are not answers.
unlimited="--today 2026-11-23 --rate 100000000 --burst 100000000"
serve() {  # data, database (or ""), port
    if [ -n "$2" ]; then
        "$dmf" -q serve --data "$1" --database "$2" --listen "127.0.0.1:$3" $unlimited > /dev/null 2> "$work/node-$3.log" &
    else
        "$dmf" -q serve --data "$1" --listen "127.0.0.1:$3" $unlimited > /dev/null 2> "$work/node-$3.log" &
    fi
    pids+=($!)
    until curl -sf "http://127.0.0.1:$3/healthz" > /dev/null; do sleep 0.2; done
}
base=$((20000 + RANDOM % 20000))
for d in sqlite pg; do
    key "$work/$d" identity identity > "$work/$d.identity"
    key "$work/$d" reporter reporter state > "$work/$d.reporter"
    key "$work/$d" benefits benefits > "$work/$d.benefits"
done
serve "$work/sqlite" "" "$base"
serve "$work/pg" "$url" $((base + 1))
serve "$work/pg" "$url" $((base + 2))

awk -F, 'NR > 1 && NR <= 2001 && length($7) == 10 {
    printf "{\"ssn\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"dob\":\"%s\"}\n", $1, $2, $4, $7
}' "$work/synth/people.csv" > "$work/bodies.ndjson"
{
    echo 'local bodies = {}'
    sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/table.insert(bodies, "&")/' "$work/bodies.ndjson"
    echo 'local i = 0'
    echo 'request = function() i = i % #bodies + 1; return wrk.format("POST", nil, nil, bodies[i]) end'
} > "$work/identity.lua"
# Requests/s, refusing a run in which any answer was not a 2xx.
rps() { awk '/Non-2xx/ { bad = $NF } /Requests\/sec/ { r = $2 } END { if (bad) { print "wrk saw " bad " non-2xx answers" > "/dev/stderr"; exit 1 } print r }'; }
verify() {  # port, connections, backend
    wrk -t1 -c"$2" -d"${secs}s" -s "$work/identity.lua" -H "Authorization: Bearer $(cat "$work/${3:-pg}.identity")" \
        -H "Content-Type: application/json" "http://127.0.0.1:$1/v1/verify/identity" | rps
}
embedded=$(verify "$base" 16 sqlite)
one=$(verify $((base + 1)) 16)
verify $((base + 1)) 8 > "$work/a.rps" & a=$!
verify $((base + 2)) 8 > "$work/b.rps" & b=$!
wait "$a" "$b"
two=$(awk '{ s += $1 } END { printf "%.0f", s }' "$work/a.rps" "$work/b.rps")
echo "identity verification: embedded node $embedded requests/s; PostgreSQL: one node $one requests/s; two nodes together $two requests/s ($(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.2f", a / b }')x; the load generator and both nodes share this machine's cores)"

echo "single-event writes and lag, PostgreSQL (write to node A, node B follows):"
python3 bench/pg_lag.py "http://127.0.0.1:$((base + 1))" "http://127.0.0.1:$((base + 2))" \
    "$(cat "$work/pg.reporter")" "$(cat "$work/pg.benefits")" "$work/synth/people.csv" "$rate" "$secs"
echo "single-event writes, embedded store (one node; its feed read back from itself):"
python3 bench/pg_lag.py "http://127.0.0.1:$base" "http://127.0.0.1:$base" \
    "$(cat "$work/sqlite.reporter")" "$(cat "$work/sqlite.benefits")" "$work/synth/people.csv" "$rate" "$secs"
if grep -h -i "warn\|error" "$work"/node-*.log | head -5 | grep .; then echo "(warnings from the nodes above)"; fi
