#!/usr/bin/env bash
# Times identity answers with a receipt (`?receipt=true`) against the same answers without one,
# on one kept-alive connection to a served registry of synthetic people, in the same run, and
# prints the ratio. `/healthz` of the same server is shown as the floor.
#   bench/receipts.sh [PEOPLE] [REQUESTS]   (defaults 20000 and 300)
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-20000}
requests=${2:-300}
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

"$dmf" synth --people "$people" --seed 3 --as-of 2026-11-01 --out s --quiet >/dev/null
"$dmf" init --data reg >/dev/null
"$dmf" -q import --data reg s/people.csv s/dmf.txt --today 2026-11-01 >/dev/null
key=$("$dmf" keys create --data reg --name bank --role identity --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$dmf" serve --data reg --listen "127.0.0.1:$port" > serve.out 2>&1 &
server=$!
until grep -q "listening on" serve.out; do sleep 0.1; done

python3 - "$key" "$port" "$requests" <<'PY'
import csv, http.client, json, sys, time
key, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
person = list(csv.DictReader(open("s/people.csv")))[100]
query = json.dumps({k: person[k] for k in ("ssn", "first", "last", "dob")})
conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}

def times(method, path, body=None):
    out, size = [], 0
    for _ in range(n):
        t = time.perf_counter()
        conn.request(method, path, body, headers)
        r = conn.getresponse()
        data = r.read()
        out.append(time.perf_counter() - t)
        assert r.status == 200, (r.status, data)
        size = len(data)
    out.sort()
    return out[n // 2] * 1e3, out[min(n - 1, int(n * 0.99))] * 1e3, size

times("POST", "/v1/verify/identity", query)  # warm
plain = times("POST", "/v1/verify/identity", query)
receipt = times("POST", "/v1/verify/identity?receipt=true", query)
floor = times("GET", "/healthz")
for name, (median, p99, size) in [("identity answer", plain), ("with a receipt", receipt), ("/healthz", floor)]:
    print(f"{name:16} median {median:6.3f} ms  p99 {p99:6.3f} ms  {size:5d} bytes")
print(f"receipt / plain answer (medians): {receipt[0] / plain[0]:.2f}")
PY
