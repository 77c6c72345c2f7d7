#!/usr/bin/env bash
# The console's oversight page on `dmf serve --demo` (1 M synthetic people): its first load, a
# load with nothing new, and a load after each new event (a death report through the API), and
# the public statistics, alerts and quality routes each after a new event of their own, beside
# `/healthz` and the page with nothing new, measured in the same run. Needs curl and python3.
#   bench/oversight.sh [PEOPLE] [EVENTS]
#   DMF_BIN=PATH bench/oversight.sh ...   runs another build of `dmf` (an earlier commit's)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-1000000}
events=${2:-5}
if [ -n "${DMF_BIN:-}" ]; then
    dmf=$DMF_BIN
else
    cargo build --release -p dmf --quiet
    dmf=${CARGO_TARGET_DIR:-$PWD/target}/release/dmf
fi
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
cleanup() { kill "$server" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$dmf" -q serve --demo --demo-people "$people" --data "$work/demo" --listen "127.0.0.1:$port" \
    --today 2026-11-23 --rate 100000000 --burst 100000000 \
    > "$work/serve.out" 2> "$work/serve.err" &
server=$!
until curl -sf "$base/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
cred() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d = d[k]
print(d)' "$work/demo/demo-credentials.json" "$@"; }
reporter=$(cred reporter)
oversight=$(cred oversight)

# Sign in as the oversight user: the login form's token is also in its cookie.
jar=$work/jar
curl -s -c "$jar" -b "$jar" -o "$work/login" "$base/console/login"
csrf=$(grep -m1 -o 'name="csrf" value="[^"]*"' "$work/login" | cut -d'"' -f4)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode name=oversight \
    --data-urlencode "password=$(cred console oversight)" --data-urlencode "csrf=$csrf" \
    --data-urlencode next=/console/oversight "$base/console/login")
[ "$code" = 303 ] || { echo "sign-in answered $code"; exit 1; }

# Seconds for one GET (with the session and, for /v1/quality, the oversight key); refuses a
# run in which a page is not 200.
get() {
    local out
    out=$(curl -s -o "$work/body" -b "$jar" -H "Authorization: Bearer $oversight" \
        -w '%{http_code} %{time_total}' "$base$1")
    [ "${out% *}" = 200 ] || { echo "GET $1 answered ${out% *}: $(head -c 300 "$work/body")"; exit 1; }
    echo "${out#* }"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

# Living people of the population, one death report each.
awk -F, -v n=$((events * 2)) 'NR == FNR { if (FNR > 1) dead[$1] = 1; next }
    FNR > 1 && !($1 in dead) && length($7) == 10 { print $1, $2, $4, $7; if (--n == 0) exit }' \
    "$work/demo/synth/truth_deaths.csv" "$work/demo/synth/people.csv" > "$work/living"
next_event() {
    local ssn first last dob
    read -r ssn first last dob <&3
    curl -sf -o /dev/null -H "Authorization: Bearer $reporter" -H 'Content-Type: application/json' \
        -d "{\"ssn\":\"$ssn\",\"first\":\"$first\",\"last\":\"$last\",\"dob\":\"$dob\",\"dod\":\"2026-11-20\",\"evidence\":\"EDRS-bench-$ssn\"}" \
        "$base/v1/reports/death"
}
exec 3< "$work/living"

health=(); for _ in $(seq 11); do health+=("$(get /healthz)"); done
first=$(get /console/oversight)
echo "first load: $(grep -o 'at tree size [0-9]*' "$work/body" | awk 'NR == 1')"
month_first=$(get '/v1/stats?period=month')
same=(); for _ in $(seq 5); do same+=("$(get /console/oversight)"); done
after=()
for _ in $(seq "$events"); do next_event; after+=("$(get /console/oversight)"); done
stats_day=(); alerts=(); stats_month=(); quality=()
for _ in $(seq "$events"); do
    next_event
    stats_day+=("$(get '/v1/stats?period=day')")
    alerts+=("$(get /v1/alerts)")
    stats_month+=("$(get '/v1/stats?period=month')")
    quality+=("$(get '/v1/quality?samples=0')")
done
curl -s -b "$jar" -o "$work/body" "$base/console/oversight"
echo "last load: $(grep -o 'at tree size [0-9]*' "$work/body" | awk 'NR == 1')"

h=$(median "${health[@]}"); s=$(median "${same[@]}"); a=$(median "${after[@]}")
echo "baseline /healthz: $(ms "$h") (median of 11)"
echo "oversight page, first load (every leaf and event read): $(ms "$first")"
echo "oversight page, nothing new: $(ms "$s") (median of 5; $(ratio "$s" "$h") /healthz)"
echo "oversight page after one new event: $(ms "$a") (median of $events: $(for t in "${after[@]}"; do ms "$t"; echo -n ', '; done | sed 's/, $//')); $(ratio "$a" "$s") the page with nothing new, $(ratio "$a" "$h") /healthz"
echo "statistics by month, first: $(ms "$month_first")"
for route in stats_day alerts stats_month quality; do
    declare -n times=$route
    m=$(median "${times[@]}")
    echo "$route after one new event: $(ms "$m") (median of $events; $(ratio "$m" "$h") /healthz)"
done
# What the statistics and alerts read (a build that counts it).
curl -s "$base/metrics" | grep -E '^dmf_(stats_leaves|alerts_events)_read_total' || true
