#!/usr/bin/env python3
"""Rerun a generator and diff its output with the checked-in file.

Usage: check_generated.py GENERATOR CHECKED_IN
Exits 0 when they match, 1 with a unified diff when they do not.
"""
import difflib
import subprocess
import sys

gen, checked_in = sys.argv[1], sys.argv[2]
fresh = subprocess.run([sys.executable, gen], check=True, capture_output=True, text=True).stdout
with open(checked_in) as f:
    old = f.read()
if fresh != old:
    sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), fresh.splitlines(True),
                                               checked_in, "regenerated"))
    print("0 passed, 1 failed")
    sys.exit(1)
print("1 passed, 0 failed")
