#!/usr/bin/env python3
"""check_go_oracle.py: re-derive the golden -m lines from the Go compiler.

Usage: check_go_oracle.py [--write] [CASE ...]

For every tests/escape/go/CASE.go (the Go equivalent of golden/CASE.ir,
written line for line by ir2go.py and reviewed), run

    go tool compile -p main -m -l -o /dev/null CASE.go

(the compiler behind `go build -gcflags='-m -l'`), map each diagnostic to
the IR -- Go line N is IR line N; `new([K]unsafe.Pointer)` is `new(8K)`,
`new([N]byte)` is `new(N)`, any `make(...)` is `make` -- order the lines by
position (Go 1.19 prints -m lines as it produces them; the IR spec wants
source order, which is what Go's own position sort gives), and compare
them with golden/CASE.expected. --write rewrites the .expected files from
Go instead of comparing (never for a case marked as differing). Cases
without a .go file are listed with the reason their .ir header gives
("# go: none: REASON"); a case whose header says "# go: differs: REASON"
is expected to differ from Go on purpose and is reported as such (and as
a failure if it stops differing).

Checked against: go1.19.8 linux/amd64 (Debian 12 golang-go).
Exit status: 0 when every compared case matches.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
GODIR = os.path.join(HERE, "go")
DIAG = re.compile(r"^(?:.*/)?([^/:]+)\.go:(\d+):(\d+): (.*)$")


def map_message(msg):
    m = re.match(r"^new\(\[(\d+)\]unsafe\.Pointer\) (escapes to heap|does not escape)$", msg)
    if m:
        return "new(%d) %s" % (8 * int(m.group(1)), m.group(2))
    m = re.match(r"^new\(\[(\d+)\]byte\) (escapes to heap|does not escape)$", msg)
    if m:
        return "new(%s) %s" % (m.group(1), m.group(2))
    m = re.match(r"^make\(.*\) (escapes to heap|does not escape)$", msg)
    if m:
        return "make " + m.group(1)
    return msg


def go_lines(case):
    gofile = os.path.join(GODIR, case + ".go")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            ["go", "tool", "compile", "-p", "main", "-m", "-l", "-o", os.path.join(tmp, "x.o"), gofile],
            capture_output=True, text=True, cwd=tmp)
    if proc.returncode != 0:
        raise RuntimeError("go tool compile failed for %s:\n%s%s" % (case, proc.stdout, proc.stderr))
    facts = []
    for i, line in enumerate(proc.stdout.splitlines() + proc.stderr.splitlines()):
        m = DIAG.match(line)
        if not m:
            continue
        facts.append((int(m.group(2)), int(m.group(3)), i, map_message(m.group(4))))
    facts.sort()
    out, prev = [], None
    for ln, col, i, msg in facts:
        text = "%s.ir:%d: %s" % (case, ln, msg)
        if text != prev:
            out.append(text)
        prev = text
    return out


def header_reason(case, kind):
    """The REASON of a "# go: KIND: REASON" line in the case's .ir, or None."""
    with open(os.path.join(GOLDEN, case + ".ir")) as fh:
        head = fh.read(4000)
    m = re.search(r"#\s*go:\s*%s:\s*(.*)" % kind, head)
    return m.group(1).strip() if m else None


def main():
    args = sys.argv[1:]
    write = "--write" in args
    args = [a for a in args if a != "--write"]
    cases = sorted(f[:-3] for f in os.listdir(GODIR) if f.endswith(".go"))
    if args:
        cases = [c for c in cases if c in args]
    ok = bad = deliberate = 0
    for case in cases:
        got = go_lines(case)
        exp_path = os.path.join(GOLDEN, case + ".expected")
        reason = header_reason(case, "differs")
        if write:
            if reason is None:
                with open(exp_path, "w") as fh:
                    fh.write("".join(l + "\n" for l in got))
            continue
        with open(exp_path) as fh:
            want = fh.read().splitlines()
        if got == want and reason is None:
            ok += 1
        elif got != want and reason is not None:
            deliberate += 1
            print("DELIBERATE %s: %s" % (case, reason))
            for l in want:
                if l not in got:
                    print("   tricolor-escape: " + l)
            for l in got:
                if l not in want:
                    print("   go:              " + l)
        else:
            bad += 1
            print("DIFF %s%s" % (case, " (marked as differing, but matches)" if reason else ""))
            for l in want:
                if l not in got:
                    print("   expected only: " + l)
            for l in got:
                if l not in want:
                    print("   go only:       " + l)
    if write:
        print("wrote %d .expected files from go" % len(cases))
        return 0
    irs = sorted(f[:-3] for f in os.listdir(GOLDEN) if f.endswith(".ir"))
    no_go = [c for c in irs if c not in cases] if not args else []
    for c in no_go:
        print("IR-only %s: %s" % (c, header_reason(c, "none") or "(no reason given)"))
    ver = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    print("%s: %d of %d cases match the Go compiler exactly, %d differ on purpose, %d differ; "
          "%d IR-only cases" % (ver, ok, ok + bad + deliberate, deliberate, bad, len(no_go)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
