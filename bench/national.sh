#!/usr/bin/env bash
# The whole pipeline at national size: 142 million DMF records and a client file of a million
# people, generated, imported with their signed log and the index's snapshot, checkpointed,
# audited, served (identity verifications and a batch, then stopped and restarted from the
# snapshot), and matched. Each phase's wall time, peak memory and the disk used are printed as
# a table, with the goals beside them. Baselines from the same run:
# `sha256sum` of the store (the audit reads every byte once) and `cat` of the DMF file.
#   bench/national.sh [RECORDS] [CLIENTS] [WORKDIR]
#     RECORDS   DMF records (default 142000000)
#     CLIENTS   people in the client file (default 1000000)
#     WORKDIR   where the data goes (default: a new temporary folder; about 430 bytes a
#               record of free disk are needed: 60 GB at the default size)
# REBUILD=1 also times a start without the snapshot (every event replayed), the start before
# snapshots. Needs GNU time (/usr/bin/time), curl and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
# Missing tools are found now, not after an hour of work.
for tool in /usr/bin/time curl wrk python3; do
    command -v "$tool" > /dev/null || { echo "bench/national.sh needs $tool (apt-get install time curl wrk python3)" >&2; exit 2; }
done
records=${1:-142000000}
clients=${2:-1000000}
work=${3:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
results="$work/results.tsv"
: > "$results"
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true' EXIT

# Runs a phase under GNU time: wall seconds and peak resident memory into the results table.
phase() {
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.$name" "$@"
    read -r secs kb < "$work/time.$name"
    printf "%s\t%s\t%s\n" "$name" "$secs" "$kb" >> "$results"
    echo "== $name: ${secs} s, peak $((kb / 1024)) MiB" >&2
}

echo "== generating $records records and $clients clients in $work" >&2
# A base of real-looking records from the synthetic population, scaled up with distinct SSNs.
# A work folder that already holds this size's files (the marker is written once they are
# whole) is reused, with the times it took to make them.
if [ "$(cat "$work/generated" 2>/dev/null)" = "$records $clients" ]; then
    echo "== reusing the files generated in $work" >&2
    for p in synth generate; do
        read -r secs kb < "$work/time.$p"
        printf "%s\t%s\t%s\n" "$p" "$secs" "$kb" >> "$results"
    done
else
    phase synth "$dmf" synth --people 3000000 --seed 7 --as-of 2026-11-23 --out "$work/base" --quiet
    phase generate python3 bench/national_gen.py --base "$work/base/dmf.txt" --records "$records" \
        --out "$work/dmf.txt" --clients "$clients" --client-out "$work/client.csv"
    echo "$records $clients" > "$work/generated"
fi
phase read_baseline cat "$work/dmf.txt" > /dev/null
phase check "$dmf" format check "$work/dmf.txt" --json > "$work/check.json"

rm -rf "$work/reg"
"$dmf" init --data "$work/reg" --origin national.bench/registry > /dev/null
phase import "$dmf" import --data "$work/reg" "$work/dmf.txt" --today 2026-11-23 --quiet --json > "$work/import.json"
phase checkpoint "$dmf" log checkpoint --data "$work/reg" > "$work/checkpoint"
phase audit "$dmf" audit verify --data "$work/reg" --json > "$work/audit.json"
phase hash_baseline sha256sum "$work/reg/registry.sqlite" > /dev/null

# Matching: the client file against the file as published.
phase match "$dmf" match --client "$work/client.csv" --master "$work/dmf.txt" --out "$work/matches.csv" --quiet

# Serving: time to the first answer, memory per record, identity verifications, a batch.
key=$("$dmf" keys create --data "$work/reg" --name bench-identity --role identity --json | sed 's/.*"key":"\([^"]*\)".*/\1/')
port=$(( 20000 + RANDOM % 20000 ))
# Starts `dmf serve` and records, under the name $1, the seconds to its first answer and its
# resident memory then. The import left the index's snapshot: a start reads it.
start_server() {
    local t0 t1 rss_kb
    t0=$(date +%s%N)
    "$dmf" serve --data "$work/reg" --listen "127.0.0.1:$port" --rate 1000000 --burst 1000000 --today 2026-11-23 > "$work/$1.log" 2>&1 &
    server_pid=$!
    until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/$1.log"; exit 1; }
        sleep 0.2
    done
    t1=$(date +%s%N)
    rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
    printf "%s\t%s\t%s\n" "$1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" "$rss_kb" >> "$results"
    grep -o 'index="[^"]*"' "$work/$1.log" >&2 || true
}
# Stops it as an operator does (it writes a snapshot if the index moved on) and waits.
stop_server() {
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}
if [ -n "${REBUILD:-}" ]; then
    # The time a start took before snapshots: the snapshot set aside, every event replayed.
    mv "$work/reg/index.snapshot" "$work/index.snapshot.aside"
    start_server serve_rebuild
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    mv "$work/index.snapshot.aside" "$work/reg/index.snapshot"
fi
start_server serve_start
# The server reads the events under the snapshot once serving, at the lowest priority; the
# answers below are timed once that is done, and so is that reading.
t0=$(date +%s%N)
until curl -sf "http://127.0.0.1:$port/healthz" | grep -q 'read and checked'; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve_start.log"; exit 1; }
    sleep 1
done
printf "store_check\t%s\t0\n" "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" >> "$results"
# A person on file (the first client taken from it), asked for again and again.
person=$(grep -m1 '^in-0,' "$work/client.csv" || grep -m1 '^in-' "$work/client.csv")
IFS=, read -r _ first _ last dob _ <<< "$person"
ssn=$(awk -F, -v f="$first" -v l="$last" -v d="$dob" '$2 == f && $4 == l && $5 == d && $6 != "" { print $6; exit }' "$work/client.csv")
ssn=${ssn:-$(sed -n 2p "$work/dmf.txt" | cut -c2-10)}
body="{\"ssn\":\"$ssn\",\"first\":\"$first\",\"last\":\"$last\",\"dob\":\"$dob\"}"
printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["Content-Type"] = "application/json"\n' "$body" "$key" > "$work/identity.lua"
wrk -t1 -c16 -d20s --latency -s "$work/identity.lua" "http://127.0.0.1:$port/v1/verify/identity" > "$work/wrk.txt"
if grep -q "Non-2xx" "$work/wrk.txt"; then cat "$work/wrk.txt"; echo "identity verifications were refused" >&2; exit 1; fi
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port/v1/verify/identity" > "$work/answer.json"
# awk stops by itself at 200,000 lines: `| head` would end it with SIGPIPE, which pipefail
# turns into the script's end once the client file has more.
awk -F, 'NR > 1 && $6 != "" { printf "{\"ssn\":\"%s\",\"first\":\"%s\",\"last\":\"%s\",\"dob\":\"%s\"}\n", $6, $2, $4, $5; if (++n == 200000) exit }' "$work/client.csv" > "$work/batch.ndjson"
t0=$(date +%s%N)
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/x-ndjson' --data-binary @"$work/batch.ndjson" \
    "http://127.0.0.1:$port/v1/verify/batch" > "$work/batch.out"
t1=$(date +%s%N)
printf "batch\t%s\t0\n" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" >> "$results"
stop_server
# A restart: the snapshot again, with what the run added (nothing: answers add no events).
start_server serve_restart
stop_server
snapshot_bytes=$(stat -c %s "$work/reg/index.snapshot")

events=$(sed 's/.*"size":\([0-9]*\).*/\1/' < <("$dmf" log checkpoint --data "$work/reg" --json))
disk_store=$(du -sb "$work/reg" | cut -f1)
disk_dmf=$(stat -c %s "$work/dmf.txt")
get() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$results"; }
rps=$(awk '/^Requests\/sec/ { print $2 }' "$work/wrk.txt")
p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
matched=$(($(wc -l < "$work/matches.csv") - 1))

echo
echo "## National scale: $records DMF records ($events events), $clients clients"
echo
echo "| phase | wall time | peak memory | goal |"
echo "| --- | --- | --- | --- |"
row() { printf "| %s | %s s | %s MiB | %s |\n" "$1" "$(get "$1" 2)" "$(( $(get "$1" 3) / 1024 ))" "$2"; }
row synth "(base of 3 M people)"
row generate ""
row check "format check of every line"
row import "load ≤ 10 min"
row checkpoint ""
row audit "audit ≤ 10 min"
row match "1 M clients against the file"
serve_row() {
    [ -n "$(get "$1" 2)" ] || return 0
    printf "| %s | %s s | %s MiB = %s bytes a record | %s |\n" "$2" \
        "$(get "$1" 2)" "$(( $(get "$1" 3) / 1024 ))" "$(awk -v kb="$(get "$1" 3)" -v n="$records" 'BEGIN { printf "%.1f", kb * 1024 / n }')" "$3"
}
serve_row serve_rebuild "serve, index rebuilt from every event (REBUILD=1)" "the start before snapshots"
serve_row serve_start "serve_start (index from the import's snapshot, first answer)" "start ≤ 30 s; ≤ 64 bytes a record resident"
serve_row serve_restart "serve_restart (stopped and started again)" "start ≤ 30 s"
echo
echo "- the events under the snapshot read and checked by the server once serving: $(get store_check 2) s after its first answer"
echo "- identity verifications on the loaded file: $rps requests/s, p99 $p99 (wrk, 1 thread, 16 connections, 20 s)"
echo "- the person asked about: $(cat "$work/answer.json")"
echo "- batch verification: $(grep -c '"code"' "$work/batch.out") answers to $(wc -l < "$work/batch.ndjson") lines in $(get batch 2) s"
echo "- matches written: $matched of $clients clients (half are on the file)"
echo "- import rate: $(awk -v n="$events" -v s="$(get import 2)" 'BEGIN { printf "%.0f", n / s }') events/s; reading the DMF file (cat): $(get read_baseline 2) s"
echo "- audit against sha256sum of the store: $(get audit 2) s vs $(get hash_baseline 2) s (ratio $(awk -v a="$(get audit 2)" -v b="$(get hash_baseline 2)" 'BEGIN { printf "%.2f", a / b }'))"
echo "- index snapshot: $snapshot_bytes bytes ($(awk -v b="$snapshot_bytes" -v n="$records" 'BEGIN { printf "%.1f", b / n }') bytes a record)"
echo "- disk: registry $((disk_store / 1073741824)) GiB ($(awk -v b="$disk_store" -v n="$events" 'BEGIN { printf "%.0f", b / n }') bytes an event), DMF file $((disk_dmf / 1073741824)) GiB"
echo "- work folder: $work (remove it when done)"
