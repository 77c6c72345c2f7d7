#!/usr/bin/env python3
"""Mixed load for bench/soak.sh: workers that each send one kind of request at a bounded rate
for a fixed time, and a sampler of the server's resident memory. Prints one JSON summary.

Workers: identity verifications (several threads, as fast as answers come), batch
verifications (100 lines each), death reports from a funeral home (each a different living
person), corrections (requested by one caseworker, approved by another), and agreement
match requests (20 people each). Feed readers run beside it (`dmf mirror` processes).
"""

import argparse
import json
import threading
import time
import urllib.error
import urllib.request


def post(base, path, key, body, ctype="application/json"):
    req = urllib.request.Request(base + path, data=body.encode(), method="POST")
    req.add_header("Authorization", "Bearer " + key)
    req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {}
        self.errors = {}

    def add(self, kind, seconds, ok):
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--creds", required=True)
    ap.add_argument("--people", required=True, help="NDJSON of living people: ssn, first, last, dob")
    ap.add_argument("--dead", required=True, help="SSNs of people recorded dead, one a line")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--verify-threads", type=int, default=4)
    args = ap.parse_args()
    creds = json.load(open(args.creds))
    people = [json.loads(l) for l in open(args.people)]
    dead = [l.strip() for l in open(args.dead) if l.strip()]
    stats = Stats()
    end = time.monotonic() + args.seconds
    rss = []

    def timed(kind, f):
        t = time.monotonic()
        status, body = f()
        stats.add(kind, time.monotonic() - t, 200 <= status < 300)
        return status, body

    def verifier(k):
        i = k
        while time.monotonic() < end:
            p = people[i % len(people)]
            i += args.verify_threads
            timed("identity", lambda: post(args.base, "/v1/verify/identity", creds["identity"], json.dumps(p)))

    def batcher():
        i = 0
        while time.monotonic() < end:
            lines = "\n".join(json.dumps(people[(i + j) % len(people)]) for j in range(100))
            i += 100
            timed("batch_100", lambda: post(args.base, "/v1/verify/batch", creds["benefits"], lines, "application/x-ndjson"))
            time.sleep(0.2)

    def reporter():
        # Each living person reported once at most: a bounded number of new deaths.
        i = len(people) // 2
        while time.monotonic() < end and i < len(people):
            p = people[i]
            i += 1
            body = json.dumps({"ssn": p["ssn"], "first": p["first"], "last": p["last"], "dob": p["dob"],
                               "dod": "2026-11-20", "evidence": "soak-" + p["ssn"]})
            timed("death_report", lambda: post(args.base, "/v1/reports/death", creds["reporter"], body))
            time.sleep(0.1)

    def corrector():
        i = 0
        while time.monotonic() < end and i < len(dead):
            ssn = dead[i]
            i += 1
            body = json.dumps({"ssn": ssn, "reason": "soak", "evidence": ["soak"]})
            status, out = timed("correction_request", lambda: post(args.base, "/v1/corrections", creds["caseworker"], body))
            if 200 <= status < 300:
                cid = json.loads(out)["id"]
                timed("correction_approve", lambda: post(args.base, f"/v1/corrections/{cid}/approve", creds["caseworker2"], ""))
            time.sleep(0.5)

    def matcher():
        i = 0
        while time.monotonic() < end:
            rows = [{"id": str(i + j), "first": people[(i + j) % len(people)]["first"],
                     "last": people[(i + j) % len(people)]["last"], "dob": people[(i + j) % len(people)]["dob"]}
                    for j in range(20)]
            i += 20
            body = "\n".join(json.dumps(r) for r in rows)
            timed("agreement_match_20", lambda: post(args.base, "/v1/agreements/1/matches", creds["agency"], body, "application/x-ndjson"))
            time.sleep(1.0)

    def sampler():
        while time.monotonic() < end:
            try:
                for line in open(f"/proc/{args.pid}/status"):
                    if line.startswith("VmRSS"):
                        rss.append((time.monotonic(), int(line.split()[1])))
            except OSError:
                pass
            time.sleep(5)

    threads = [threading.Thread(target=verifier, args=(k,)) for k in range(args.verify_threads)]
    threads += [threading.Thread(target=f) for f in (batcher, reporter, corrector, matcher, sampler)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    out = {"seconds": round(took, 1), "kinds": {}}
    for kind, lat in sorted(stats.latencies.items()):
        out["kinds"][kind] = {
            "requests": len(lat),
            "per_second": round(len(lat) / took, 1),
            "p50_ms": round(pct(lat, 0.5) * 1000, 2),
            "p99_ms": round(pct(lat, 0.99) * 1000, 2),
            "errors": stats.errors.get(kind, 0),
        }
    if rss:
        # Flat means: the last minute's memory against the second minute's (after warm-up).
        first = [kb for t, kb in rss if started + 60 <= t < started + 120] or [rss[0][1]]
        last = [kb for t, kb in rss if t >= started + took - 60] or [rss[-1][1]]
        out["rss_mib"] = {
            "start": round(rss[0][1] / 1024, 1),
            "after_warmup": round(sum(first) / len(first) / 1024, 1),
            "end": round(sum(last) / len(last) / 1024, 1),
            "max": round(max(kb for _, kb in rss) / 1024, 1),
        }
        out["rss_growth_pct"] = round((out["rss_mib"]["end"] / out["rss_mib"]["after_warmup"] - 1) * 100, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
