#!/usr/bin/env bash
# The public monitor against a served registry: `dmf monitor` catching up from nothing on a
# log of N events (every entry bundle fetched, every leaf hashed into the tree and counted),
# then verifying one new checkpoint from its state after one more event. Baseline from the
# same run: `curl` fetching the same entry bundles with as many transfers at a time (the
# bytes any reader of the log must move), and `curl` of the checkpoint and the one bundle a
# new checkpoint needs.
#   bench/monitor.sh [N] [WORKDIR]
#     N        events in the log (default 10000000): DMF records scaled up from a synthetic
#              population (bench/national_gen.py) and imported, one event each
#     WORKDIR  where the data goes (default: a new temporary folder, removed at the end;
#              about 430 bytes an event of free disk)
# Needs curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in curl python3; do
    command -v "$tool" > /dev/null || { echo "bench/monitor.sh needs $tool" >&2; exit 2; }
done
n=${1:-10000000}
if [ -n "${2:-}" ]; then work=$2; mkdir -p "$work"; keep=1; else work=$(mktemp -d); keep=0; fi
fetchers=8
cargo build --release -p dmf --quiet
dmf=${CARGO_TARGET_DIR:-$PWD/target}/release/dmf
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# Starts `dmf serve` on a free port and waits until it answers; sets server_pid and url.
start() {
    local port=$(( 20000 + RANDOM % 20000 ))
    "$dmf" serve --data "$work/reg" --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
    server_pid=$!
    url="http://127.0.0.1:$port"
    until curl -sf "$url/healthz" > /dev/null; do
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
        sleep 0.2
    done
}
stop() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

if [ "$(cat "$work/made" 2>/dev/null)" != "$n" ]; then
    echo "== making a registry of $n events in $work" >&2
    rm -rf "$work/reg" "$work/base"
    "$dmf" synth --people 200000 --seed 5 --as-of 2026-11-23 --out "$work/base" --quiet > /dev/null
    python3 bench/national_gen.py --base "$work/base/dmf.txt" --records "$n" --out "$work/dmf.txt" \
        --clients 2 --client-out "$work/clients.csv"
    "$dmf" init --data "$work/reg" --origin monitor.bench/registry > /dev/null
    "$dmf" import --data "$work/reg" "$work/dmf.txt" --today 2026-11-23 --quiet --json > /dev/null
    "$dmf" keys create --data "$work/reg" --name bench --role identity --json > /dev/null
    rm -f "$work/dmf.txt"
    echo "$n" > "$work/made"
fi
key="$work/reg/log/key.pub"
size=$("$dmf" log checkpoint --data "$work/reg" --json | sed 's/.*"size":\([0-9]*\).*/\1/')
tiles=$(( (size + 255) / 256 ))
start

# The path of entry bundle K of a tree of SIZE leaves (C2SP tlog-tiles).
bundle() {
    local k=$1 size=$2 path="" rest=$1 groups=() g
    while :; do
        groups=("$(printf '%03d' $(( rest % 1000 )))" "${groups[@]}")
        rest=$(( rest / 1000 ))
        (( rest == 0 )) && break
    done
    for ((g = 0; g < ${#groups[@]} - 1; g++)); do path+="x${groups[g]}/"; done
    path+="${groups[-1]}"
    if (( (k + 1) * 256 > size )); then path+=".p/$(( size - k * 256 ))"; fi
    echo "tile/entries/$path"
}

# Baseline: the same bundles with curl, $fetchers at a time.
for ((k = 0; k < tiles; k++)); do
    echo "url = \"$url/log/$(bundle "$k" "$size")\""
    echo 'output = "/dev/null"'
done > "$work/curl.cfg"
t0=$(date +%s%N)
curl -sf --no-progress-meter --parallel --parallel-max "$fetchers" -K "$work/curl.cfg" -w '%{size_download}\n' > "$work/curl.sizes"
t1=$(date +%s%N)
curl_s=$(secs "$t0" "$t1")
bytes=$(awk '{ s += $1 } END { printf "%d", s }' "$work/curl.sizes")
fetched=$(wc -l < "$work/curl.sizes")
[ "$fetched" = "$tiles" ] || { echo "curl fetched $fetched of $tiles bundles" >&2; exit 1; }

rm -f "$work/state" "$work/state.hashes"
t0=$(date +%s%N)
"$dmf" -q monitor --url "$url" --key "$key" --state "$work/state" --fetchers "$fetchers" --json > "$work/catchup.json"
t1=$(date +%s%N)
catchup_s=$(secs "$t0" "$t1")
grep -q '"exit":0' "$work/catchup.json" || { head -c 2000 "$work/catchup.json"; exit 1; }
grep -q "\"leaves_read\":$size," "$work/catchup.json" || { echo "the monitor did not read $size leaves" >&2; exit 1; }

# One more event, then one new checkpoint verified from the state.
stop
echo '{"type":"death_report","ssn":"899-99-0001","first":"Ann","last":"Lee","dod":"2026-11-20","source":"family","evidence":"bench"}' > "$work/one.ndjson"
"$dmf" submit --data "$work/reg" "$work/one.ndjson" > /dev/null
start
size1=$(( size + 1 ))
last=$(bundle $(( (size1 - 1) / 256 )) "$size1")
t0=$(date +%s%N)
for i in 1 2 3 4 5; do
    curl -sf "$url/log/checkpoint" > /dev/null
    curl -sf "$url/log/$last" > /dev/null
done
t1=$(date +%s%N)
curl_one_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 5e9 }')
t0=$(date +%s%N)
"$dmf" -q monitor --url "$url" --key "$key" --state "$work/state" --json > "$work/one.json"
t1=$(date +%s%N)
one_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
grep -q '"exit":0' "$work/one.json" && grep -q '"leaves_read":1,' "$work/one.json" \
    || { head -c 2000 "$work/one.json"; exit 1; }

echo "log: $size leaves in $tiles entry bundles, $(( bytes / 1000000 )) MB ($(( bytes / size )) bytes a leaf)"
echo "curl, $fetchers at a time: $curl_s s ($(awk -v b="$bytes" -v s="$curl_s" 'BEGIN { printf "%.0f", b / s / 1e6 }') MB/s)"
echo "dmf monitor catch-up from nothing: $catchup_s s = $(awk -v n="$size" -v s="$catchup_s" 'BEGIN { printf "%.0f", n / s }') leaves/s ($(ratio "$catchup_s" "$curl_s") x curl; goal <= 120 s)"
echo "dmf monitor, one new checkpoint from its state: $one_s s (process start to exit; curl of the checkpoint and its bundle: $curl_one_s s)"
echo "state: $(stat -c %s "$work/state") bytes, hashes $(stat -c %s "$work/state.hashes") bytes"
