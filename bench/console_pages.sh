#!/usr/bin/env bash
# Console page times on `dmf serve --demo` (1 M synthetic people by default), each against
# `/healthz` of the same server in the same run: search by SSN, by name with and without a date
# of birth (names of real people of the population, with a nickname and a swapped date), the
# person page, the corrections queue, open notices, and oversight with nothing new and right
# after a new event. Each figure is the median of RUNS requests (curl on loopback).
#   bench/console_pages.sh [PEOPLE] [RUNS]
#   DMF_BIN=PATH bench/console_pages.sh ...   runs another build of `dmf`
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-1000000}
runs=${2:-21}
if [ -n "${DMF_BIN:-}" ]; then
    dmf=$DMF_BIN
else
    cargo build --release -p dmf --quiet
    dmf=$PWD/target/release/dmf
fi
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
cleanup() { kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$dmf" -q serve --demo --demo-people "$people" --data "$work/demo" --listen "127.0.0.1:$port" \
    --today 2026-11-23 --rate 100000000 --burst 100000000 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
until curl -sf "$base/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
# A console user's password, and an API key by role, from the demo's credentials.
password() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["console"][sys.argv[2]])' "$work/demo/demo-credentials.json" "$1"; }
key() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/demo/demo-credentials.json" "$1"; }

# Signs in as USER into the cookie jar JAR (the form's token is a double-submit cookie).
login() {
    local jar=$1 user=$2 token
    token=$(curl -s -c "$jar" "$base/console/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
    curl -s -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' \
        --data-urlencode "csrf=$token" --data-urlencode "name=$user" \
        --data-urlencode "password=$(password "$user")" --data-urlencode "next=/console" \
        "$base/console/login" | grep -q 303 || { echo "sign-in of $user failed" >&2; exit 1; }
}
login "$work/cw" caseworker
login "$work/sup" supervisor

# The median time in ms of RUNS GETs of PATH with the cookie jar JAR (none for "-").
median_ms() {
    local jar=$1 path=$2
    for _ in $(seq "$runs"); do
        if [ "$jar" = - ]; then curl -s -o /dev/null -w '%{time_total}\n' "$base$path"
        else curl -s -b "$jar" -o /dev/null -w '%{time_total}\n' "$base$path"; fi
    done | sort -g | awk '{a[NR] = $1 * 1000} END { printf "%.2f", a[int((NR + 1) / 2)] }'
}
# A person of the population: SSN, first, last, date of birth (YYYY-MM-DD).
read -r ssn first last dob < <(awk -F, 'NR == 5001 { print $1, $2, $4, $7 }' "$work/demo/synth/people.csv")
swapped=$(echo "$dob" | awk -F- '$3 <= 12 { print $1 "-" $3 "-" $2; next } { print $1 "-" $2 "-" $3 }')
us=$(echo "$dob" | awk -F- '{ print $2 "/" $3 "/" $1 }')
healthz=$(median_ms - /healthz)
row() { printf '| %s | %s ms | %sx |\n' "$1" "$2" "$(awk -v a="$2" -v b="$healthz" 'BEGIN { printf "%.0f", a / b }')"; }
echo "population: $people; each figure the median of $runs requests; /healthz $healthz ms"
echo "| page | median | against /healthz |"
echo "| --- | --- | --- |"
row "search by SSN with spaces (redirect)" "$(median_ms "$work/cw" "/console/search?ssn=${ssn:0:3}+${ssn:3:2}+${ssn:5:4}")"
row "search by name and date of birth" "$(median_ms "$work/cw" "/console/search?first=$first&last=$last&dob=$dob")"
row "search by name, date as MM/DD/YYYY" "$(median_ms "$work/cw" "/console/search?first=$first&last=$last&dob=$us")"
row "search by name, day and month swapped" "$(median_ms "$work/cw" "/console/search?first=$first&last=$last&dob=$swapped")"
row "search by name only" "$(median_ms "$work/cw" "/console/search?first=$first&last=$last")"
row "search by last name only" "$(median_ms "$work/cw" "/console/search?last=$last")"
row "person page (summary, notices, timeline, accounting)" "$(median_ms "$work/cw" "/console/people/$ssn")"
# 50 corrections waiting, so that the queue has rows to show (names looked up, waiting times).
caseworker_key=$(key caseworker)
awk 'NR <= 50 { print substr($0, 2, 9) }' "$work/demo/synth/dmf.txt" | while read -r dead; do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $caseworker_key" -H 'Content-Type: application/json' \
        -d "{\"ssn\":\"$dead\",\"reason\":\"seen alive\",\"evidence\":[\"passport\"]}" "$base/v1/corrections"
done | grep -c 201 | { read -r n; [ "$n" = 50 ] || { echo "only $n of 50 corrections filed" >&2; exit 1; }; }
row "corrections queue (50 waiting)" "$(median_ms "$work/sup" "/console/corrections")"
row "open notices" "$(median_ms "$work/cw" "/console/notices")"
curl -s -b "$work/sup" -o /dev/null "$base/console/oversight"
row "oversight, nothing new" "$(median_ms "$work/sup" "/console/oversight")"
# One new event (a state's report of the person's death: the demo's reporter key is a state's),
# then the first load of oversight after it.
body=$(printf '{"ssn":"%s","first":"%s","last":"%s","dob":"%s","dod":"2026-11-20","evidence":"bench-1"}' "$ssn" "$first" "$last" "$dob")
curl -s -o /dev/null -H "Authorization: Bearer $(key reporter)" \
    -H 'Content-Type: application/json' -d "$body" "$base/v1/reports/death"
first_after=$(curl -s -b "$work/sup" -o /dev/null -w '%{time_total}' "$base/console/oversight" | awk '{ printf "%.2f", $1 * 1000 }')
row "oversight, first load after a new event" "$first_after"
