#!/usr/bin/env bash
# Fuzz smoke test: builds every target of fuzz/ with cargo fuzz (libFuzzer, nightly Rust) and
# runs each for a short time over the committed corpus. Exits 1 if any target crashes (the
# crashing input is left in fuzz/artifacts/TARGET/), 2 if the tools cannot be had.
#
#   fuzz/smoke.sh [SECONDS]        # seconds per target, default 20 (or $FUZZ_SECONDS)
#
# New inputs found go to a temporary folder: the committed corpus is only read.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never

seconds="${1:-${FUZZ_SECONDS:-20}}"
targets=(dmf_record csv_people ndjson checkpoint proof api_request vrdr)

if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
    echo "fuzz/smoke.sh: cargo and rustup are needed" >&2
    exit 2
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "== no nightly toolchain: rustup toolchain install nightly --profile minimal"
    if ! rustup toolchain install nightly --profile minimal; then
        echo "fuzz/smoke.sh: cargo fuzz needs a nightly toolchain, and none could be installed" >&2
        exit 2
    fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz/smoke.sh: cargo-fuzz could not be installed (cargo install cargo-fuzz)" >&2
        exit 2
    fi
fi

# The dev profile (opt-level 1, see Cargo.toml) without a sanitizer: a cold build in under
# half the release build's time, and runs about as fast as the address-sanitized release
# builds of the long runs (README.md). Debug assertions and overflow checks stay on.
flags=(--dev --sanitizer none)
started=$SECONDS
echo "== cargo fuzz build ${flags[*]} (all targets)"
nice -n 10 cargo +nightly fuzz build "${flags[@]}"
built=$((SECONDS - started))

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in "${targets[@]}"; do
    echo "== $t: ${seconds} s"
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    if nice -n 10 cargo +nightly fuzz run "${flags[@]}" "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=30 -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true
    else
        tail -40 "$log"
        failed+=("$t")
    fi
done

echo "== built in ${built} s, all done in $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz/smoke.sh: crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz/smoke.sh: no crashes"
