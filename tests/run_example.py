#!/usr/bin/env python3
"""run_example.py: run one program of examples/ and check what it prints.

Usage: run_example.py --expect FILE [--preload LIB] [--timeout S] -- PROG [ARGS...]

Runs PROG (with LIB in LD_PRELOAD if given) and passes when it exits 0,
prints exactly the contents of FILE on standard output, and nothing on
standard error (tricolor says nothing unless something is wrong).
"""
import argparse
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--expect", required=True)
    ap.add_argument("--preload", default=None)
    ap.add_argument("--timeout", type=float, default=100)
    ap.add_argument("prog", nargs="+")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.preload:
        env["LD_PRELOAD"] = a.preload
    want = open(a.expect).read()
    try:
        p = subprocess.run(a.prog, env=env, capture_output=True, text=True, timeout=a.timeout)
    except subprocess.TimeoutExpired:
        print("FAIL: %s did not finish within %g s" % (a.prog[0], a.timeout))
        return 1
    ok = p.returncode == 0 and p.stdout == want and not p.stderr
    if not ok:
        print("FAIL: %s: exit %d" % (" ".join(a.prog), p.returncode))
        print("--- expected stdout\n%s--- got stdout\n%s--- stderr\n%s" % (want, p.stdout, p.stderr))
        return 1
    sys.stdout.write(p.stdout)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
