#!/usr/bin/env bash
# API fuzzing: schemathesis generates requests from the live server's /openapi.json, valid and
# invalid, for every route, once with each role's key and once with none, and checks that no
# answer is a 5xx and that every answer (status, content type, body) is the one the description
# gives.
#   tests/api-fuzz.sh [EXAMPLES] [PEOPLE]
#     EXAMPLES  examples per route and key (default 25; .ci/run passes a small number)
#     PEOPLE    people of the demo registry served (default 5000)
# Installs schemathesis into a virtual environment under target/ when it is missing. A key whose
# run fails gets schemathesis's report printed (each failing operation with the check, the
# answer and a curl line to reproduce it); the last line sums up.
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
dmf=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/dmf
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
# Schemathesis has no NDJSON serializer or deserializer of its own: without these hooks it cannot
# send POST /v1/verify/batch a body (an "error", Serialization not possible) and skips the schema
# check of every NDJSON answer. The hooks send a generated NDJSON body as one line and check the
# one line that answers it against the schema of a line (see tests/api-fuzz-hooks.py).
export SCHEMATHESIS_HOOKS=$PWD/tests/api-fuzz-hooks.py
st=$PWD/$venv/bin/st
failed=()
for role in none $roles; do
    header=()
    if [ "$role" != none ]; then
        key=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$creds" "$role")
        header=(--header "Authorization: Bearer $key")
    fi
    echo "== schemathesis with the $role key"
    out="$work/st-$role.txt"
    # Run in the scratch folder: schemathesis and hypothesis keep their example databases and
    # crash caches in the current folder, and replay them in later runs.
    if (cd "$work" && "$st" run "http://127.0.0.1:$port/openapi.json" "${header[@]}" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples "$examples" --seed 1 --workers 1 --no-color > "$out" 2>&1); then
        { grep -A1 '^Test cases:' "$out" || true; } | tail -n 1
        tail -n 1 "$out"
    else
        # Schemathesis's own report of what went wrong: each operation with the check that
        # failed (or the error), the answer and a curl line to reproduce it; then its summary.
        # Without these sections (it could not load the description, say), all it printed.
        if grep -qE '^=+ SUMMARY =+$' "$out"; then
            awk '/^=+ [A-Z]+ =+$/ { keep = ($2 == "ERRORS" || $2 == "FAILURES" || $2 == "SUMMARY") } keep' "$out"
        else
            cat "$out"
        fi
        failed+=("$role: $(tail -n 1 "$out" | tr -d '=' | sed 's/^ *//; s/ *$//')")
    fi
done
if [ "${#failed[@]}" != 0 ]; then
    echo "api-fuzz: FAILED with ${#failed[@]} of $(($(wc -w <<< "$roles") + 1)) keys ($(IFS=';'; echo "${failed[*]}" | sed 's/;/; /g')); details above"
    exit 1
fi
echo "api-fuzz: every route, every key ($examples examples, $people people): no 5xx, every answer as described"
