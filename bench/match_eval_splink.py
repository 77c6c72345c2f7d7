#!/usr/bin/env python3
"""Splink 4 (DuckDB) on a DMF master file and a client CSV, for bench/match_eval.py.

    match_eval_splink.py --master DMF_FILE --client CLIENT_CSV --out PAIRS_CSV --dob-format FMT

The model is the one a careful Splink user would set up for this linkage, not a copy of
`dmf match`'s:

- Cleaning: names to upper-case ASCII without accents (the DMF's form); SSNs to their digits,
  an 8-digit SSN given back its lost leading zero, placeholder numbers (123456789, 078051120,
  000000000, 999999999) and anything not 9 digits treated as missing; dates of birth parsed
  from the client's format into ISO strings, an impossible or partial date missing as a date
  but its year kept in `birth_year` for blocking. The client file is read as UTF-8, or as
  Windows-1252 when it is not valid UTF-8.
- Comparisons: first name and surname with Splink's NameComparison and term-frequency
  adjustments; DateOfBirthComparison on the ISO strings; SSN exact / Damerau-Levenshtein <= 1 /
  else (left out when the client file has no SSNs at all); middle name exact / same initial /
  else.
- Blocking for prediction: SSN; date of birth; first name and surname; surname and birth
  year; Soundex of both names and birth year.
- Training: the prior from deterministic rules (recall 0.8 with SSN, 0.7 without), u by random
  sampling of 5 million pairs, m by EM on two blocking rules (first name and surname; date of
  birth), as Splink's documentation recommends.

Writes every pair at match probability >= 0.01: client_id, ssn (the master's), match_weight,
match_probability. Prints phase timings on standard error.
"""

import argparse
import csv
import datetime
import sys
import time
import unicodedata

import pandas as pd

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

PLACEHOLDER_SSNS = {"123456789", "078051120", "000000000", "999999999"}


def clean_name(text):
    """Upper-case ASCII letters, hyphen, apostrophe and single spaces; None when empty."""
    if text is None:
        return None
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    out = []
    for c in ascii_text.upper():
        if "A" <= c <= "Z" or c in "-'":
            out.append(c)
        elif c in " .,_\t" and out and out[-1] != " ":
            out.append(" ")
    name = "".join(out).strip()
    return name or None


def clean_ssn(text):
    digits = "".join(c for c in (text or "") if c.isdigit())
    if len(digits) == 8:
        digits = "0" + digits
    if len(digits) != 9 or digits in PLACEHOLDER_SSNS:
        return None
    return digits


def soundex(name):
    """American Soundex of a cleaned name (letters only), None when there are none."""
    if not name:
        return None
    letters = [c for c in name if "A" <= c <= "Z"]
    if not letters:
        return None
    codes = {}
    for digit, group in (("1", "BFPV"), ("2", "CGJKQSXZ"), ("3", "DT"), ("4", "L"), ("5", "MN"), ("6", "R")):
        for c in group:
            codes[c] = digit
    out = letters[0]
    last = codes.get(letters[0], "")
    for c in letters[1:]:
        code = codes.get(c, "")
        if code and code != last:
            out += code
            if len(out) == 4:
                break
        if c not in "HW":
            last = code
    return out.ljust(4, "0")


def iso_date(year, month, day):
    """(ISO date or None, year or None) from parts that may be out of range."""
    y = year if year and 1800 <= year <= 2100 else None
    if y and month and day:
        try:
            return datetime.date(y, month, day).isoformat(), y
        except ValueError:
            pass
    return None, y


def parse_client_dob(text, fmt):
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        if fmt == "YYYY-MM-DD":
            parts = [int(p) for p in text.split("-")]
            parts += [0] * (3 - len(parts))
            return iso_date(parts[0], parts[1], parts[2])
        if fmt == "YYYYMMDD":
            return iso_date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
        if fmt == "MM/DD/YYYY":
            m, d, y = (int(p) for p in text.split("/"))
            return iso_date(y, m, d)
    except ValueError:
        return None, None
    raise SystemExit(f"unknown date format {fmt}")


def master_frame(path):
    rows = []
    with open(path, encoding="ascii", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n").ljust(100)
            if line[0] == "D":
                continue
            dob = line[73:81]
            try:
                dob_iso, year = iso_date(int(dob[4:8]), int(dob[0:2]), int(dob[2:4]))
            except ValueError:
                dob_iso, year = None, None
            rows.append(
                {
                    "unique_id": line[1:10],
                    "ssn": line[1:10] if line[1:10].isdigit() else None,
                    "first_name": clean_name(line[34:49]),
                    "middle_name": clean_name(line[49:64]),
                    "surname": clean_name(line[10:30]),
                    "dob": dob_iso,
                    "birth_year": year,
                }
            )
    return pd.DataFrame(rows)


def client_frame(path, dob_format):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    rows = []
    for r in csv.DictReader(text.splitlines()):
        dob_iso, year = parse_client_dob(r.get("dob"), dob_format)
        rows.append(
            {
                "unique_id": r["id"],
                "ssn": clean_ssn(r.get("ssn")),
                "first_name": clean_name(r.get("first")),
                "middle_name": clean_name(r.get("middle")),
                "surname": clean_name(r.get("last")),
                "dob": dob_iso,
                "birth_year": year,
            }
        )
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--master", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dob-format", required=True, choices=["YYYY-MM-DD", "YYYYMMDD", "MM/DD/YYYY"])
    ap.add_argument("--threshold", type=float, default=0.01)
    args = ap.parse_args()

    t0 = time.time()
    master = master_frame(args.master)
    client = client_frame(args.client, args.dob_format)
    for df in (master, client):
        df["first_soundex"] = df["first_name"].map(soundex)
        df["surname_soundex"] = df["surname"].map(soundex)
        df["birth_year"] = df["birth_year"].astype("Int64")
    has_ssn = client["ssn"].notna().any()
    t1 = time.time()

    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y-%m-%d"),
        cl.CustomComparison(
            output_column_name="middle_name",
            comparison_levels=[
                cll.NullLevel("middle_name"),
                cll.ExactMatchLevel("middle_name"),
                cll.CustomLevel(
                    "substr(middle_name_l, 1, 1) = substr(middle_name_r, 1, 1)",
                    label_for_charts="Same middle initial",
                ),
                cll.ElseLevel(),
            ],
        ),
    ]
    blocking = [
        block_on("dob"),
        block_on("first_name", "surname"),
        block_on("surname", "birth_year"),
        block_on("first_soundex", "surname_soundex", "birth_year"),
    ]
    deterministic = [block_on("first_name", "surname", "dob")]
    if has_ssn:
        comparisons.insert(0, cl.DamerauLevenshteinAtThresholds("ssn", [1]))
        blocking.insert(0, block_on("ssn"))
        deterministic.append(block_on("ssn", "dob"))

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(
        [master, client],
        settings,
        DuckDBAPI(),
        set_up_basic_logging=False,
        input_table_aliases=["master", "client"],
    )
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8 if has_ssn else 0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    t2 = time.time()

    pairs = linker.inference.predict(threshold_match_probability=args.threshold).as_pandas_dataframe()
    t3 = time.time()
    master_left = pairs["source_dataset_l"] == "master"
    out = pd.DataFrame(
        {
            "client_id": pairs["unique_id_r"].where(master_left, pairs["unique_id_l"]),
            "ssn": pairs["unique_id_l"].where(master_left, pairs["unique_id_r"]),
            "match_weight": pairs["match_weight"].round(3),
            "match_probability": pairs["match_probability"].round(6),
        }
    )
    out.sort_values(["client_id", "match_probability"], ascending=[True, False]).to_csv(args.out, index=False)
    print(
        f"splink: {len(master)} master x {len(client)} client records, ssn {'used' if has_ssn else 'absent'}; "
        f"load {t1 - t0:.1f} s, train {t2 - t1:.1f} s, predict {t3 - t2:.1f} s, {len(out)} pairs",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
