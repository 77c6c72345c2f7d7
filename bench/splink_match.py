"""Splink on the same files as `dmf match`, with an equivalent model, for bench/match.sh.

usage: python3 bench/splink_match.py MASTER_DMF_FILE CLIENT_CSV OUT_CSV

The master is a fixed-width DMF file; the client a CSV (id, ssn, first, middle, last, dob).
Comparisons as in dmf match: SSN exact, first and last names (Splink's NameComparison:
exact, Jaro-Winkler levels, else), date of birth (Splink's DateOfBirthComparison); u by random
sampling, m by EM; blocking on SSN, on date of birth plus the first three letters of the
surname, and on first initial plus surname plus birth year. Writes client_id,ssn,
match_probability for pairs at probability >= 0.5, best first per client.
"""

import csv
import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def dmf_rows(path):
    """Records of a DMF file: ssn, names, ISO date of birth (None when unknown)."""
    with open(path, encoding="ascii", errors="replace") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\r\n").ljust(100)
            dob = line[73:81]
            mm, dd, yyyy = dob[0:2], dob[2:4], dob[4:8]
            iso = None
            if yyyy.strip("0 ") and mm.strip("0 ") and dd.strip("0 "):
                iso = f"{yyyy}-{mm}-{dd}"
            yield (f"M{i}", line[1:10], line[34:49].strip(), line[10:30].strip(), iso)


def client_rows(path):
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            dob = r.get("dob") or ""
            iso = dob if len(dob) == 10 else None
            yield (r["id"], r.get("ssn") or None, (r.get("first") or "").upper(), (r.get("last") or "").upper(), iso)


def main():
    master_path, client_path, out_path = sys.argv[1:4]
    started = time.time()
    con = duckdb.connect()
    columns = {"unique_id": "VARCHAR", "ssn": "VARCHAR", "first_name": "VARCHAR", "surname": "VARCHAR", "dob": "VARCHAR"}
    for name, rows in (("master", dmf_rows(master_path)), ("client", client_rows(client_path))):
        staged = f"{out_path}.{name}.csv"
        with open(staged, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(columns)
            w.writerows(rows)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, header = true, columns = {columns!r})", [staged])
    loaded = time.time()
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.ExactMatch("ssn"),
            cl.NameComparison("first_name"),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("ssn"),
            block_on("dob", "substr(surname, 1, 3)"),
            block_on("substr(first_name, 1, 1)", "surname", "substr(dob, 1, 4)"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(["master", "client"], settings, db_api, set_up_basic_logging=False)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    rows = predictions.as_duckdbpyrelation().fetchall()
    columns = [c[0] for c in predictions.as_duckdbpyrelation().description]
    finished = time.time()
    at = {c: i for i, c in enumerate(columns)}
    best = {}
    for r in rows:
        left, right = r[at["unique_id_l"]], r[at["unique_id_r"]]
        client_id, master_ssn = (left, r[at["ssn_r"]]) if not left.startswith("M") else (right, r[at["ssn_l"]])
        p = r[at["match_probability"]]
        if client_id not in best or p > best[client_id][1]:
            best[client_id] = (master_ssn, p)
    with open(out_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["client_id", "ssn", "match_probability"])
        for client_id, (ssn, p) in sorted(best.items()):
            w.writerow([client_id, ssn, f"{p:.6f}"])
    print(f"splink: loaded in {loaded - started:.1f} s, linked in {finished - loaded:.1f} s, {len(rows)} pairs at p >= 0.5")


if __name__ == "__main__":
    main()
