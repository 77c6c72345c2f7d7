#!/usr/bin/env python3
"""Replication lag between two dmf serve nodes over one PostgreSQL, under a steady write load.

One thread writes death reports to node A at a fixed rate; another follows node B's feed
(long-polling, as a benefit program would) and notes when each new death's SSN arrives. The lag
of a report is the time from sending it to node A until node B serves it: the write's own
latency included, so it is an upper bound of what replication adds. Also times single-event
writes (durable, one request each). Standard library only.

    pg_lag.py NODE_A NODE_B REPORTER_KEY BENEFITS_KEY PEOPLE_CSV RATE SECONDS
"""
import csv
import http.client
import json
import sys
import threading
import time
import urllib.parse


def conn(base):
    u = urllib.parse.urlparse(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def main():
    node_a, node_b, reporter, benefits, people_csv, rate, seconds = sys.argv[1:8]
    rate, seconds = float(rate), float(seconds)
    with open(people_csv) as f:
        people = [r for r in csv.DictReader(f) if len(r["dob"]) == 10]
    n = int(rate * seconds)
    people = people[-n:]  # the last ones: not among earlier runs' reports
    sent, seen = {}, {}
    c = conn(node_b)
    c.request("GET", "/healthz")
    head = json.loads(c.getresponse().read())["events"]
    done = threading.Event()

    def follow():
        fc = conn(node_b)
        cursor = head
        while not done.is_set() or len(seen) < len(sent):
            fc.request("GET", f"/v1/feed?after={cursor}&wait=2", headers={"Authorization": f"Bearer {benefits}"})
            page = json.loads(fc.getresponse().read())
            now = time.monotonic()
            if "cursor" not in page:
                print(f"node B's feed refused: {page}", file=sys.stderr)
                return
            cursor = page["cursor"]
            for r in page["records"]:
                seen.setdefault(r["ssn"], now)
            if done.is_set() and time.monotonic() - done_at[0] > 30:
                break

    done_at = [0.0]
    t = threading.Thread(target=follow)
    t.start()
    wc = conn(node_a)
    writes = []
    start = time.monotonic()
    for i, p in enumerate(people):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"ssn": p["ssn"], "first": p["first"], "last": p["last"], "dob": p["dob"],
                           "dod": "2026-11-20", "evidence": f"BENCH-{p['ssn']}"})
        t0 = time.monotonic()
        wc.request("POST", "/v1/reports/death", body=body,
                   headers={"Authorization": f"Bearer {reporter}", "Content-Type": "application/json"})
        resp = wc.getresponse()
        answer = json.loads(resp.read())
        t1 = time.monotonic()
        writes.append(t1 - t0)
        # Only new deaths go out in the feed (a report about someone dead already does not).
        if resp.status == 201 and answer.get("outcome") == "deceased":
            sent[p["ssn"]] = t0
    done_at[0] = time.monotonic()
    done.set()
    t.join()
    lags = sorted((seen[s] - sent[s]) * 1000 for s in sent if s in seen)
    writes.sort()

    def pct(xs, q):
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")

    print(f"writes to node A: {len(writes)} ({len(sent)} new deaths) at up to {rate:g}/s for {seconds:g} s; each write p50 {pct(writes, .5) * 1000:.1f} ms, p99 {pct(writes, .99) * 1000:.1f} ms")
    print(f"lag from sending a report to node A until node B's feed served it: {len(lags)} of {len(sent)} seen; p50 {pct(lags, .5):.1f} ms, p99 {pct(lags, .99):.1f} ms, max {lags[-1] if lags else float('nan'):.1f} ms")


if __name__ == "__main__":
    main()
