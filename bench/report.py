#!/usr/bin/env python3
"""Print the BENCHMARKS.md tables from the last run.

Usage: python3 bench/report.py [--callgrind]

Reads criterion's estimates (TARGET/criterion/*/*/new/estimates.json) and the peak-memory
results (TARGET/tmp/ews-bench-memory.tsv), where TARGET is $CARGO_TARGET_DIR or ./target.
With --callgrind it also counts instructions per case under valgrind (repeatable on a
shared, noisy machine): it runs the `profile` example (built with `cargo build --profile
bench -p ews-bench --example profile`) once with N iterations and once with 0, and reports
(Ir(N) - Ir(0)) / N.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")

# (group, ours, reference, what the ratio means, target)
# (group, ours, reference, what, target, kind); ratio = time(reference) / time(ours): the
# share of the ceiling's throughput ("pct") or the speed-up over the peer ("x").
RATIOS = [
    ("decode_getdelegate_10000", "ews-proto", "quick-xml-ns-scan",
     "GetDelegate 10,000: decode throughput / NsReader scan", ">= 60%", "pct"),
    ("decode_getitem_calendar_1000", "ews-proto", "quick-xml-ns-scan",
     "GetItem 1,000: decode throughput / NsReader scan", ">= 60%", "pct"),
    ("decode_finditem_calendar_1000", "ews-proto", "quick-xml-ns-scan",
     "FindItem 1,000: decode throughput / NsReader scan", "(info)", "pct"),
    ("decode_getitem_calendar_1000", "ews-proto", "ews-0.1.2",
     "GetItem 1,000: decode speed-up over ews 0.1.2", ">= 2.5x", "x"),
    ("decode_finditem_calendar_1000", "ews-proto", "ews-0.1.2",
     "FindItem 1,000: decode speed-up over ews 0.1.2", "(info)", "x"),
    ("encode_create_item_on_behalf_5_attendees", "ews-proto-encode",
     "ews-0.1.2-as_xml_document",
     "CreateItem on behalf: `encode` (http::Request) speed-up over ews 0.1.2", ">= 3x", "x"),
    ("encode_create_item_on_behalf_5_attendees", "ews-proto-encode_into",
     "ews-0.1.2-as_xml_document",
     "CreateItem on behalf: `encode_into` speed-up over ews 0.1.2", "(info)", "x"),
    ("roundtrip_getdelegate_1", "ews-blocking", "bare-ureq",
     "Round trip GetDelegate 1 (1.9 KB): ews-blocking throughput / bare ureq", ">= 90%", "pct"),
    ("roundtrip_getdelegate_1", "ews-async", "bare-hyper",
     "Round trip GetDelegate 1 (1.9 KB): ews-async throughput / bare hyper", ">= 90%", "pct"),
    ("roundtrip_getdelegate_100", "ews-blocking", "bare-ureq",
     "Round trip GetDelegate 100 (96 KB): ews-blocking throughput / bare ureq", "(info)", "pct"),
    ("roundtrip_getdelegate_100", "ews-async", "bare-hyper",
     "Round trip GetDelegate 100 (96 KB): ews-async throughput / bare hyper", "(info)", "pct"),
]

# The same ratios in instruction counts: (numerator case, denominator case) of the profile
# example, so that ratio = Ir(num) / Ir(den) reads like the time ratio above.
CALLGRIND = [
    ("scan-getdelegate", "proto-getdelegate", 1),
    ("scan-getitem", "proto-getitem", 1),
    ("scan-finditem", "proto-finditem", 1),
    ("ews-getitem", "proto-getitem", 1),
    ("ews-finditem", "proto-finditem", 1),
    ("ews-encode", "proto-encode-request", 2000),
    ("ews-encode", "proto-encode", 2000),
    ("rt-bare-ureq", "rt-blocking", 2000),
    ("rt-bare-hyper", "rt-async", 2000),
]


def mean_ns(group, bench):
    path = os.path.join(TARGET, "criterion", group, bench, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["mean"]["point_estimate"]
    except OSError:
        return None


def fmt_time(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def fmt_ratio(r, kind):
    if r is None:
        return "–"
    return f"{r * 100:.0f}%" if kind == "pct" else f"{r:.2f}x"


def met(r, target, kind):
    if r is None or not target.startswith(">="):
        return ""
    want = float(target[2:].strip().rstrip("%x"))
    want = want / 100 if kind == "pct" else want
    return "met" if r >= want else f"**missed** ({fmt_ratio(r / want, 'pct')} of target)"


cg_cache = {}


def instructions(case, n):
    key = (case, n)
    if key not in cg_cache:
        exe = os.path.join(TARGET, "release", "examples", "profile")
        out = os.path.join(TARGET, "tmp", "callgrind.out")
        counts = []
        for iters in (n, 0):
            subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                            exe, case, str(iters)], check=True, capture_output=True)
            with open(out) as f:
                total = next(line for line in f if line.startswith("summary:") or
                             line.startswith("totals:"))
            counts.append(int(total.split()[1]))
        cg_cache[key] = (counts[0] - counts[1]) / n
    return cg_cache[key]


def main():
    print("| ratio | target | ews-proto | reference | ratio (time) | result |")
    print("| --- | --- | --- | --- | --- | --- |")
    for group, ours_id, ref_id, what, target, kind in RATIOS:
        ours, ref = mean_ns(group, ours_id), mean_ns(group, ref_id)
        r = ref / ours if ours and ref else None
        print(f"| {what} | {target} | {fmt_time(ours)} | {fmt_time(ref)} | "
              f"{fmt_ratio(r, kind)} | {met(r, target, kind)} |")

    mem = os.path.join(TARGET, "tmp", "ews-bench-memory.tsv")
    if os.path.exists(mem):
        print()
        print("| peak heap while decoding | body | peak | peak / body | kept (result) | target |")
        print("| --- | --- | --- | --- | --- | --- |")
        with open(mem) as f:
            next(f)
            for line in f:
                inp, dec, body, peak, kept = line.split("\t")
                body, peak, kept = int(body), int(peak), int(kept)
                target = "<= 1.5x" if (inp, dec) == ("getdelegate_10000", "ews-proto") else ""
                verdict = ""
                if target:
                    verdict = " met" if peak / body <= 1.5 else " **missed**"
                print(f"| {inp}, {dec} | {body:,} | {peak:,} | {peak / body:.2f}x | "
                      f"{kept:,} | {target}{verdict} |")

    if "--callgrind" in sys.argv:
        print()
        print("| instructions (callgrind) | reference | ours | ratio |")
        print("| --- | --- | --- | --- |")
        for num, den, n in CALLGRIND:
            a, b = instructions(num, n), instructions(den, n)
            print(f"| {den} vs {num} | {a:,.0f} | {b:,.0f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
