#!/usr/bin/env bash
# The console's person search over HTTP, against `dmf serve --demo` (1 M synthetic people):
# a caseworker signs in with curl, then each kind of search is timed, whole page included
# (sign-in cookie, name index, comparison, ranking, disclosure accounting, HTML), beside the
# person page and the search by SSN. Prints the median and slowest of each.
#   bench/search.sh [PEOPLE] [REPEATS]
#   DMF_BIN=PATH bench/search.sh ...   runs another build of `dmf`
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-1000000}
repeats=${2:-20}
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
    --today 2026-11-23 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
until curl -sf "$base/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
password=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["console"]["caseworker"])' \
    "$work/demo/demo-credentials.json")
jar=$work/cookies
token=$(curl -s -c "$jar" "$base/console/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -b "$jar" -c "$jar" -o /dev/null -w '' \
    --data-urlencode "csrf=$token" --data-urlencode "name=caseworker" \
    --data-urlencode "password=$password" --data-urlencode "next=/console" "$base/console/login"

# People of the demo, searched for by their own names (columns: ssn,first,middle,last,...,dob).
mapfile -t rows < <(awk -F, 'NR > 1 && length($7) == 10 && NR % 997 == 0 { print $1 "," $2 "," $4 "," $7 }' \
    "$work/demo/synth/people.csv" | head -n "$repeats")

# The median and slowest of `curl` timings of each URL, in ms; fails on any answer but 200/303.
time_urls() {
    local label=$1; shift
    local times=()
    for url in "$@"; do
        read -r code secs < <(curl -s -b "$jar" -o /dev/null -w '%{http_code} %{time_total}\n' "$url")
        [ "$code" = 200 ] || [ "$code" = 303 ] || { echo "$label: $url answered $code"; exit 1; }
        times+=("$secs")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v label="$label" '
        { t[NR] = $1 * 1000 } END { printf "%-44s median %7.1f ms, slowest %7.1f ms (%d pages)\n", label, t[int((NR + 1) / 2)], t[NR], NR }'
}
urls() {  # a URL per person, from a template with SSN, FIRST, LAST, DOB, MDY (MM/DD/YYYY)
    for r in "${rows[@]}"; do
        IFS=, read -r ssn first last dob <<< "$r"
        first=${first// /%20}; first=${first//\'/%27}; last=${last// /%20}; last=${last//\'/%27}
        mdy="${dob:5:2}%2F${dob:8:2}%2F${dob:0:4}"
        t=${1//SSN/$ssn}; t=${t//FIRST/$first}; t=${t//LAST/$last}; t=${t//MDY/$mdy}; t=${t//DOB/$dob}
        echo "$base$t"
    done
}
mapfile -t u < <(urls "/console/people/SSN"); time_urls "person page" "${u[@]}"
mapfile -t u < <(urls "/console/search?ssn=SSN"); time_urls "search by SSN (redirect)" "${u[@]}"
mapfile -t u < <(urls "/console/search?first=FIRST&last=LAST&dob=DOB"); time_urls "name and date of birth (YYYY-MM-DD)" "${u[@]}"
mapfile -t u < <(urls "/console/search?first=FIRST&last=LAST&dob=MDY"); time_urls "name and date of birth (MM/DD/YYYY)" "${u[@]}"
mapfile -t u < <(urls "/console/search?first=FIRST&last=LAST"); time_urls "name without date of birth" "${u[@]}"
mapfile -t u < <(urls "/console/search?last=LAST"); time_urls "last name alone" "${u[@]}"
smith=(); for _ in $(seq "$repeats"); do smith+=("$base/console/search?last=SMITH"); done
time_urls "last name SMITH alone (first page of many)" "${smith[@]}"
