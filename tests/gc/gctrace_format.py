#!/usr/bin/env python3
"""tests/gc/gctrace_format.py: tricolor's GODEBUG=gctrace=1 lines are Go's.

Builds gctrace/main.go with the go command (Debian's golang-go), runs it
and gctrace_prog (the same steps in C on tricolor) with GODEBUG=gctrace=1,
and parses both programs' lines with ONE regular expression: Go 1.19's
format, times as its fmtNSAsMS prints them (whole ms from 10 ms, else two
significant digits and at most three decimals). For each program: cycle
numbers count from 1, start times do not go back, the forced cycles say
"(forced)" and automatic ones do not, the heap triple ends in the marked
heap (H2 <= H1), and the first forced cycle's start matches the time the
program printed just before it (within 40 ms: "@0.47s" for 0.047 s, as an
unpadded formatter printed, fails). Exit 77 (skipped) without a go command.

usage: gctrace_format.py GCTRACE_PROG GO_SOURCE_DIR WORK_DIR
"""
import os
import re
import shutil
import subprocess
import sys

T = r"(0|0\.0\d\d|0\.[1-9]\d|[1-9]\.\d|[1-9]\d+)"
LINE = re.compile(
    r"^gc (\d+) @(\d+\.\d{3})s (\d+)%: " + T + r"\+" + T + r"\+" + T + r" ms clock, " +
    T + r"\+" + T + "/" + T + "/" + T + r"\+" + T + r" ms cpu, " +
    r"(\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks, (\d+) MB globals, "
    r"(\d+) P( \(forced\))?$")


def trace(cmd, what):
    env = dict(os.environ, GODEBUG="gctrace=1")
    env.pop("GOGC", None)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"{what}: exit status {p.returncode}\n{p.stderr}")
    printed = float(p.stdout.split()[0])
    lines = [l for l in p.stderr.splitlines() if l.startswith("gc ")]
    return printed, lines


def check(what, printed, lines):
    bad = []
    cycles = []
    for l in lines:
        m = LINE.match(l)
        if not m:
            bad.append(f"{what}: not Go's format: {l}")
            continue
        cycles.append(m)
    if bad:
        return bad
    if not cycles:
        return [f"{what}: no gctrace line"]
    last_t = 0.0
    for i, m in enumerate(cycles):
        n, t = int(m.group(1)), float(m.group(2))
        if n != i + 1:
            bad.append(f"{what}: cycle {n} where {i + 1} was due")
        if t < last_t:
            bad.append(f"{what}: cycle {n} starts at {t} s, before the previous one")
        last_t = t
        h1, h2 = int(m.group(13)), int(m.group(14))
        if h2 > h1:
            bad.append(f"{what}: cycle {n} marked {h2} MB of a {h1} MB heap")
    forced = [m for m in cycles if m.group(19)]
    auto = [m for m in cycles if not m.group(19)]
    if len(forced) < 2 or not auto:
        bad.append(f"{what}: {len(forced)} forced and {len(auto)} automatic cycles; "
                   "want 2 forced and some automatic")
    elif abs(float(forced[0].group(2)) - printed) > 0.040:
        bad.append(f"{what}: first forced cycle @{forced[0].group(2)}s, "
                   f"but the program printed {printed:.3f} s just before it")
    return bad


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    prog, src, work = sys.argv[1:]
    go = shutil.which("go")
    if not go:
        print("no go command (Debian's golang-go): skipped")
        return 77
    os.makedirs(work, exist_ok=True)
    exe = os.path.join(work, "gctrace-go")
    env = dict(os.environ, GOCACHE=os.path.join(work, "go-cache"), GO111MODULE="off",
               GOFLAGS="")
    b = subprocess.run([go, "build", "-o", exe, os.path.join(src, "main.go")], env=env,
                       capture_output=True, text=True, timeout=300)
    if b.returncode != 0:
        sys.exit(f"go build failed:\n{b.stderr}")
    problems = []
    for what, cmd in (("go", [exe]), ("tricolor", [prog])):
        printed, lines = trace(cmd, what)
        print(f"{what}: {len(lines)} lines, e.g. {lines[-1] if lines else '-'}")
        problems += check(what, printed, lines)
    for p in problems:
        print("FAIL", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
