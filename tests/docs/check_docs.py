#!/usr/bin/env python3
"""check_docs.py: the user documentation says what the code does.

Usage: check_docs.py CHECK SOURCE_ROOT [PROGRAM]

CHECK is one of:
  example    README.md's C example is examples/hello_gc.c, byte for byte.
  knobs      every variable the library reads (alloc/options.h's table:
             the variables of its own and GODEBUG's keys; any other getenv
             in alloc/, gc/) is in README.md's Environment section; and
             every knob the README lists is one the library knows: PROGRAM
             (linked with tricolor) run with VAR=zzz or GODEBUG=KEY=zzz
             must warn about that variable or key.
  escape-ir  docs/escape-ir.md's example, given to PROGRAM (tricolor-escape)
             with -m, prints the lines the document shows.
  links      every relative link in README.md and docs/*.md names a file
             that exists, every "docs/design.md §N" cited anywhere in the
             sources or documents is a section of docs/design.md, and the
             README's results markers (which scripts/bench-report rewrites
             between) are there, once each, in order.
Exit 0 when the check passes; each failure is printed.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile


def read(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def section(text, title):
    m = re.search(r"^## %s\n(.*?)(?=^## |\Z)" % re.escape(title), text, re.M | re.S)
    return m.group(1) if m else ""


def check_example(root, _prog):
    readme = read(root, "README.md")
    blocks = re.findall(r"^```c\n(.*?)^```$", readme, re.M | re.S)
    want = read(root, "examples/hello_gc.c")
    if len(blocks) != 1:
        return ["README.md has %d ```c blocks, want 1 (the example)" % len(blocks)]
    if blocks[0] != want:
        return ["README.md's example differs from examples/hello_gc.c"]
    return []


def check_knobs(root, prog):
    env = "".join(l + "\n" for l in section(read(root, "README.md"), "Environment").split("\n")
                  if l.startswith("| "))  # the table
    if not env:
        return ["README.md has no '## Environment' section with a table"]
    errors = []
    names = set()
    for path in glob.glob(os.path.join(root, "alloc", "*.c")) + glob.glob(os.path.join(root, "gc", "*.c")):
        names |= set(re.findall(r'getenv\("([A-Z_0-9]+)"\)', open(path).read()))
    # the options table: X(source, name, ...), source GODEBUG or a variable
    table = re.findall(r"^\s*X\(([A-Z][A-Z0-9_]*), ([a-z][a-z0-9]*),",
                       read(root, "alloc/options.h"), re.M)
    strings = set(name for src, name in table if src == "GODEBUG")
    variables = set(src for src, _ in table if src != "GODEBUG")
    names |= variables
    if not names or not strings or not variables:
        errors.append("found no variables or no GODEBUG keys in the options table: "
                      "update this check")
    for n in sorted(names):
        if "\n| `%s" % n not in "\n" + env:
            errors.append("the library reads %s, which README.md's Environment table lacks" % n)
    for s in sorted(strings):
        if not re.search(r"\b%s\b" % re.escape(s), env):
            errors.append("alloc/options.h knows %r, which README.md's Environment table lacks" % s)
    base = {k: v for k, v in os.environ.items() if k != "GODEBUG" and k not in variables}
    for key in sorted(set(re.findall(r"`GODEBUG=([a-z0-9]+)=`", env))):
        p = subprocess.run([prog], env=dict(base, GODEBUG=key + "=zzz"),
                           capture_output=True, text=True, timeout=60)
        if "bad value %s=zzz" % key not in p.stderr:
            errors.append("README.md lists GODEBUG=%s, which the library ignores" % key)
    for var in sorted(set(re.findall(r"^\| `(GO[A-Z]+)`", env, re.M))):
        p = subprocess.run([prog], env=dict(base, **{var: "zzz"}),
                           capture_output=True, text=True, timeout=60)
        lines = [l for l in p.stderr.split("\n") if "%s=zzz" % var in l]
        if len(lines) != 1:
            errors.append("README.md lists %s, but %s=zzz got %d lines about it, not 1"
                          % (var, var, len(lines)))
    return errors


def check_escape_ir(root, prog):
    ex = section(read(root, "docs/escape-ir.md"), "Example")
    blocks = re.findall(r"\n((?:    .*\n|\n)+)", ex)
    blocks = ["".join(line[4:] + "\n" for line in b.strip("\n").split("\n")) for b in blocks]
    if len(blocks) < 2:
        return ["docs/escape-ir.md's Example section lacks the program and its -m lines"]
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "ex.ir"), "w") as f:
            f.write(blocks[0])
        p = subprocess.run([prog, "-m", "ex.ir"], cwd=d, capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or p.stdout != blocks[1]:
        return ["docs/escape-ir.md's example: -m printed %r (exit %d, %r), the document shows %r"
                % (p.stdout, p.returncode, p.stderr, blocks[1])]
    return []


def check_links(root, _prog):
    errors = []
    docs = ["README.md"] + sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "docs", "*.md")))
    for doc in docs:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", read(root, doc)):
            if not os.path.exists(os.path.join(root, os.path.dirname(doc), target)):
                errors.append("%s links to %s, which does not exist" % (doc, target))
    sections = set(re.findall(r"^## (\d+)\. ", read(root, "docs/design.md"), re.M))
    files = []
    for pattern in ("*.md", "*/*.md", "*/*.[ch]", "*/*.py", "*/*/*.py", "*/meson.build"):
        files += glob.glob(os.path.join(root, pattern))
    for path in files:
        if "/build" in os.path.relpath(path, root).join("/x"):
            continue
        for n in re.findall(r"design\.md\s+§(\d+)", open(path, encoding="utf-8").read()):
            if n not in sections:
                errors.append("%s cites docs/design.md §%s, which is not a section"
                              % (os.path.relpath(path, root), n))
    readme = read(root, "README.md")
    b, e = readme.count("<!-- results:begin -->"), readme.count("<!-- results:end -->")
    if b != 1 or e != 1 or readme.index("<!-- results:begin -->") > readme.index("<!-- results:end -->"):
        errors.append("README.md needs one <!-- results:begin --> before one <!-- results:end -->")
    return errors


def main():
    checks = {"example": check_example, "knobs": check_knobs, "escape-ir": check_escape_ir,
              "links": check_links}
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in checks:
        sys.exit(__doc__)
    prog = os.path.abspath(sys.argv[3]) if len(sys.argv) == 4 else None
    errors = checks[sys.argv[1]](sys.argv[2], prog)
    for e in errors:
        print("FAIL: " + e)
    if not errors:
        print("ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
