"""Per blocking rule, the true links only it finds, on the evaluation sets bench/match_eval.py
built (run bench/match_eval.sh first).

usage: python3 bench/match_rules.py DMF_BINARY [EVAL_DIR]   (default target/match-eval)

For each set, `dmf match --many --threshold 0` with the default rules, then once without each
rule: a true link counts as found when its pair is among the pairs written (every admissible
candidate is, at threshold 0). A rule's unique finds are the true links found with every rule
and lost without it. Prints a markdown table.
"""

import csv
import glob
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_RULES = [
    "ssn",
    "dob_phonetic_last",
    "dob_phonetic_first",
    "phonetic_names_birth_year",
    "phonetic_names_month_day",
    "ssn_head_phonetic_names",
    "ssn_tail_phonetic_names",
    "phonetic_names_undated",
    "ssn_head_dob",
    "ssn_tail_dob",
]


def found(dmf, client, master, rules, out):
    """The (client id, master SSN) pairs written, and the candidate count."""
    run = subprocess.run(
        [dmf, "-q", "match", "--client", client, "--master", master, "--many",
         "--threshold", "0", "--rules", ",".join(rules), "--out", out, "--json"],
        capture_output=True, text=True, check=True,
    )
    summary = json.loads(run.stdout)
    with open(out, newline="") as f:
        pairs = {(r["client_id"], r["ssn"]) for r in csv.DictReader(f)}
    return pairs, summary["candidates"]


def main():
    dmf = sys.argv[1]
    where = sys.argv[2] if len(sys.argv) > 2 else "target/match-eval"
    sets = sorted(glob.glob(os.path.join(where, "*.truth.csv")))
    if not sets:
        sys.exit(f"no evaluation sets in {where}: run bench/match_eval.sh first")
    names = [os.path.basename(t)[: -len(".truth.csv")] for t in sets]
    table = {}
    totals = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.csv")
        for name, truth_path in zip(names, sets):
            base = name.rsplit("-", 2)[0] if name.endswith("-ssn") else name
            client = os.path.join(where, f"{name}.client.csv")
            master = os.path.join(where, f"{base}.master.txt")
            with open(truth_path, newline="") as f:
                truth = {(r["client_id"], r["master_ssn"]) for r in csv.DictReader(f) if r["master_ssn"]}
            every, candidates = found(dmf, client, master, DEFAULT_RULES, out)
            links = truth & every
            totals[name] = (len(truth), len(links), candidates)
            for rule in DEFAULT_RULES:
                rest = [r for r in DEFAULT_RULES if r != rule]
                without, _ = found(dmf, client, master, rest, out)
                table.setdefault(rule, {})[name] = len(links - without)
    print("| rule | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    print("| true links / found by the default rules (candidates) | "
          + " | ".join(f"{t[0]:,} / {t[1]:,} ({t[2]:,})" for t in (totals[n] for n in names)) + " |")
    for rule in DEFAULT_RULES:
        print(f"| `{rule}` only | " + " | ".join(f"{table[rule][n]:,}" for n in names) + " |")


if __name__ == "__main__":
    main()
