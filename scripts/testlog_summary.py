#!/usr/bin/env python3
"""Summarise meson test logs as "N passed, N failed" lines.

  testlog_summary.py TESTLOG.json      one line for that run
  testlog_summary.py --total FILE [--time TEXT]
                                       add up the lines in FILE ("in TEXT"
                                       appended); exit 1 if anything failed
Skipped tests count as neither.
"""
import json
import sys

if sys.argv[1] == "--total":
    passed = failed = skipped = 0
    for line in open(sys.argv[2]):
        p, f, s = (int(x) for x in line.split())
        passed, failed, skipped = passed + p, failed + f, skipped + s
    took = f" in {sys.argv[4]}" if sys.argv[3:4] == ["--time"] else ""
    print(f"{passed} passed, {failed} failed, {skipped} skipped{took}")
    sys.exit(1 if failed or passed == 0 else 0)

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(passed, failed, skipped)
