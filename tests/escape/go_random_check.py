#!/usr/bin/env python3
"""go_random_check.py: compare tricolor-escape with Go on generated programs.

Usage:
    TC_ESCAPE_GEN_DUMP=DIR TC_ESCAPE_GEN_COUNT=N escape_gen_test   # write DIR/gen_*.ir
    go_random_check.py TRICOLOR_ESCAPE DIR [JOBS]

Each program is translated by ir2go.py (programs Go cannot express are
counted and skipped), compiled with `go tool compile -m -l`, and Go's lines,
mapped as check_go_oracle.py does, are compared with `tricolor-escape -m`.
A program whose translation declares a name at the top of its function
(because Go's block scoping cannot give it the IR's scope) may differ on
purpose -- the IR gives such a name the depth of its first definition --
and is reported apart from the others. Not part of the default suite.
"""
import concurrent.futures
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_go_oracle  # noqa: E402
import ir2go  # noqa: E402


def go_facts(gofile, case):
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run(["go", "tool", "compile", "-p", "main", "-m", "-l", "-o",
                            os.path.join(tmp, "x.o"), gofile], capture_output=True, text=True, cwd=tmp)
    if p.returncode != 0:
        return None, p.stdout + p.stderr
    facts = []
    for i, line in enumerate(p.stdout.splitlines()):
        m = check_go_oracle.DIAG.match(line)
        if m:
            facts.append((int(m.group(2)), int(m.group(3)), i, check_go_oracle.map_message(m.group(4))))
    facts.sort()
    out = []
    for ln, col, i, msg in facts:
        text = "%s.ir:%d: %s" % (case, ln, msg)
        if not out or out[-1] != text:
            out.append(text)
    return out, ""


def check(exe, path):
    case = os.path.basename(path)[:-3]
    lines = open(path).read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    try:
        tr = ir2go.Translator(lines)
        text = tr.translate()
    except ir2go.Refused as e:
        return "refused", case, str(e)
    with tempfile.TemporaryDirectory() as tmp:
        gofile = os.path.join(tmp, case + ".go")
        with open(gofile, "w") as fh:
            fh.write(text)
        got_go, err = go_facts(gofile, case)
    if got_go is None:
        return "go-error", case, err
    mine = subprocess.run([exe, "-m", case + ".ir"], cwd=os.path.dirname(path),
                          capture_output=True, text=True).stdout.splitlines()
    if mine == got_go:
        return "match", case, ""
    kind = "differs-hoisted" if tr.notes else "DIFFERS"
    detail = "\n".join(["  ours: " + l for l in mine if l not in got_go] +
                       ["  go:   " + l for l in got_go if l not in mine])
    return kind, case, detail


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    exe, d = os.path.abspath(sys.argv[1]), sys.argv[2]
    jobs = int(sys.argv[3]) if len(sys.argv) == 4 else 2
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".ir"))
    counts = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for kind, case, detail in pool.map(lambda f: check(exe, f), files):
            counts[kind] = counts.get(kind, 0) + 1
            if kind in ("DIFFERS", "go-error") or (kind == "differs-hoisted" and "-v" in os.environ.get("V", "")):
                print("%s %s\n%s" % (kind, case, detail))
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))
    return 1 if counts.get("DIFFERS") or counts.get("go-error") else 0


if __name__ == "__main__":
    sys.exit(main())
