#!/usr/bin/env python3
"""Scales a synthetic DMF file up to national size for bench/national.sh.

Reads a base DMF full file (from `dmf synth`), and writes N records with distinct, valid,
ascending SSNs (areas 001-899 but 666, groups 01-99, serials 0001-9999). Record i takes its
first and middle names and dates from base record a = i mod n and its last name from base
record b = (i * 7919 + k * 104729) mod n, where k = i div n is the lap over the base, so that
a first name meets another last name on every lap; dates move back by a multiple of four years
(leap days stay leap days). A name pair and date of birth repeat about as often as common
names make them repeat, not once a lap.

Also writes a client CSV of M people for `dmf match`: half taken from the scaled file (ids
`in-K`, with the SSN on every third), half made up with SSNs past the last one issued (ids
`out-K`), shuffled with a fixed seed.
"""

import argparse
import random
import sys


def valid_ssns():
    for area in range(1, 900):
        if area == 666:
            continue
        for group in range(1, 100):
            prefix = f"{area:03d}{group:02d}"
            for serial in range(1, 10000):
                yield prefix + f"{serial:04d}"


def shift(date, years):
    """MMDDCCYY moved back by `years` (a multiple of 4); unknown parts stay as they are."""
    if years == 0 or date[4:] == "0000" or date[:4] == "0229":
        return date
    year = int(date[4:]) - years
    if year < 1870:
        return date
    return date[:4] + f"{year:04d}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--clients", type=int, default=1_000_000)
    ap.add_argument("--client-out", required=True)
    args = ap.parse_args()

    base = []
    with open(args.base, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n").decode("ascii")
            if len(line) == 100 and line[0] in " A":
                base.append(line)
    n = len(base)
    if n == 0:
        sys.exit(f"{args.base}: no records")
    lasts = [b[10:30] for b in base]
    rng = random.Random(20261124)
    want_in = args.clients // 2
    # Every k-th record goes to the client file, spread over the whole range.
    every = max(1, args.records // want_in)
    clients = []
    ssns = valid_ssns()
    out = open(args.out, "w", buffering=1 << 24)
    chunk = []
    for i in range(args.records):
        ssn = next(ssns)
        a = i % n
        rec = base[a]
        years = 4 * ((i // n) % 10)
        dod = shift(rec[65:73], years)
        dob = shift(rec[73:81], years)
        line = " " + ssn + lasts[(i * 7919 + (i // n) * 104729) % n] + rec[30:65] + dod + dob + rec[81:]
        chunk.append(line)
        if len(chunk) >= 100_000:
            out.write("\n".join(chunk) + "\n")
            chunk.clear()
        if i % every == 0 and len(clients) < want_in:
            clients.append((f"in-{len(clients)}", line, ssn if len(clients) % 3 == 0 else ""))
        if i % 10_000_000 == 0 and i:
            print(f"{i:,} records", file=sys.stderr, flush=True)
    if chunk:
        out.write("\n".join(chunk) + "\n")
    out.close()

    def iso(mmddccyy):
        mm, dd, yyyy = mmddccyy[:2], mmddccyy[2:4], mmddccyy[4:]
        if yyyy == "0000":
            return ""
        if mm == "00":
            return yyyy
        if dd == "00":
            return f"{yyyy}-{mm}"
        return f"{yyyy}-{mm}-{dd}"

    rows = []
    for cid, line, ssn in clients:
        rows.append((cid, line[34:49].strip(), line[49:64].strip(), line[10:30].strip(), iso(line[73:81]), ssn))
    # People not on the file: names and dates from the base, numbers past the last issued.
    spare = valid_ssns()
    for _ in range(args.records):
        next(spare)
    for k in range(args.clients - len(rows)):
        a, b = rng.randrange(n), rng.randrange(n)
        rec = base[a]
        ssn = next(spare) if k % 3 == 0 else ""
        rows.append((f"out-{k}", rec[34:49].strip(), rec[49:64].strip(), lasts[b].strip(), iso(rec[73:81]), ssn))
    rng.shuffle(rows)
    with open(args.client_out, "w", buffering=1 << 22) as f:
        f.write("id,first,middle,last,dob,ssn\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    print(f"wrote {args.records:,} records from {n:,} base records and {len(rows):,} clients", file=sys.stderr)


if __name__ == "__main__":
    main()
