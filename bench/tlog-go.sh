#!/usr/bin/env bash
# Go's reference transparency-log code reads the registry's log through its tiles: serves a
# demo registry, then runs bench/tlog-go (golang.org/x/mod/sumdb/note and sumdb/tlog from
# Debian's golang-golang-x-mod-dev, offline) against /log/: the checkpoint opened with the
# log's verifier key, the tree rebuilt from the hash tiles to the signed root, every entry's
# inclusion and the consistency with earlier sizes proved and checked.
# Needs: apt-get install golang-go golang-golang-x-mod-dev
#   bench/tlog-go.sh [PEOPLE]
set -euo pipefail
cd "$(dirname "$0")/.."
people=${1:-3000}
command -v go >/dev/null || { echo "bench/tlog-go.sh needs Go (apt-get install golang-go golang-golang-x-mod-dev)"; exit 2; }
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ] || { echo "bench/tlog-go.sh needs golang-golang-x-mod-dev"; exit 2; }
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() { kill "${server:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$dmf" -q serve --demo --demo-people "$people" --data "$work/demo" --listen "127.0.0.1:$port" \
    --today 2026-11-23 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err"; exit 1; }
    sleep 0.5
done
# GOPATH mode over Debian's Go sources: nothing is fetched.
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$work/gocache" \
    go build -o "$work/tlog-go" ./bench/tlog-go
"$work/tlog-go" "http://127.0.0.1:$port" "$work/demo/log/key.pub"
