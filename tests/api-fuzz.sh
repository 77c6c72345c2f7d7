#!/usr/bin/env bash
# API fuzzing: schemathesis generates requests from the live server's /openapi.json, valid and
# invalid, for every route, once with each role's key and once with none, and checks that no
# answer is a 5xx and that every answer (status, content type, body) is the one the description
# gives.
#   tests/api-fuzz.sh [EXAMPLES] [PEOPLE]
#     EXAMPLES  examples per route and key (default 25; .ci/run passes a small number)
#     PEOPLE    people of the demo registry served (default 5000)
# Installs schemathesis into a virtual environment under target/ when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-25}
people=${2:-5000}
venv=target/api-fuzz-venv
if [ ! -x "$venv/bin/st" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
cargo build -p dmf --quiet
dmf=$PWD/target/debug/dmf
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$dmf" serve --demo --demo-people "$people" --data "$work/demo" --listen "127.0.0.1:$port" \
    --today 2026-11-23 > "$work/serve.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
    sleep 0.2
done
creds="$work/demo/demo-credentials.json"
roles=$(python3 -c 'import json, sys; print(" ".join(k for k, v in json.load(open(sys.argv[1])).items() if isinstance(v, str)))' "$creds")
failed=0
for role in none $roles; do
    header=()
    if [ "$role" != none ]; then
        key=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$creds" "$role")
        header=(--header "Authorization: Bearer $key")
    fi
    echo "== schemathesis with the $role key"
    if ! "$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" "${header[@]}" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples "$examples" --seed 1 --workers 1 --no-color > "$work/st-$role.txt" 2>&1; then
        failed=1
    fi
    tail -n 12 "$work/st-$role.txt"
done
if [ "$failed" != 0 ]; then
    echo "api-fuzz: FAILED (details above)"
    exit 1
fi
echo "api-fuzz: every route, every key: no 5xx, every answer as described"
