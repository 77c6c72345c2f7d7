#!/usr/bin/env bash
# Build times of the workspace: a clean release build into a fresh target folder, then the
# rebuild after touching one handler file, and the dependency counts of the crates people
# use alone. Prints seconds; compare runs made on the same machine.
#   bench/build.sh [HANDLER_FILE]   the file touched (default: the feed's handlers)
set -euo pipefail
cd "$(dirname "$0")/.."
handler=${1:-crates/dmf-server/src/routes/feed.rs}
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT
export CARGO_TARGET_DIR=$target
cargo fetch --quiet
t0=$(date +%s%N)
cargo build --release --workspace --quiet
t1=$(date +%s%N)
touch "$handler"
cargo build --release --workspace --quiet
t2=$(date +%s%N)
echo "clean release build: $(( (t1 - t0) / 1000000000 )) s"
echo "rebuild after touching $handler: $(( (t2 - t1) / 1000000000 )) s"
for c in $(ls crates); do
    n=$(cargo tree -p "$c" -e normal --prefix none 2>/dev/null | sed 's/ (\*)$//' | sort -u | wc -l)
    echo "$c: $n crates in its normal dependency tree"
done
