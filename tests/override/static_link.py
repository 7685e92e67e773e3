#!/usr/bin/env python3
"""Link the conformance test with -static against libtricolor.a and run it.

A static link is the other way to replace malloc. It works only if the
archive defines every symbol glibc's malloc.o would otherwise be pulled in
for (the __libc_* aliases included); if it does not, the link fails with
"multiple definition of malloc", or worse, succeeds with two allocators.
So this test (1) links, reporting the linker's complaint verbatim if it
fails, (2) checks with nm that glibc's allocator is absent from the result
(its internal _int_malloc would be there), and (3) runs the conformance
suite built with TC_STATIC_LINK, which must pass on tricolor.

The link happens here, at test time, not in the build: a failure is this
test's failure, not a broken build.

usage: static_link.py --archive libtricolor.a --source conformance.c
                      --include DIR... -- CC [CC ARGS...]
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--archive", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--include", action="append", default=[])
    ap.add_argument("cc", nargs="+", help="the C compiler command")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tc-static-") as tmp:
        exe = Path(tmp) / "conformance-static"
        cmd = a.cc + ["-std=c11", "-D_GNU_SOURCE", "-DTC_STATIC_LINK", "-O1", "-fno-builtin",
                      "-Wall", "-Wextra", "-Werror"]
        cmd += [f"-I{d}" for d in a.include]
        cmd += [a.source, "-o", str(exe), "-static", a.archive, "-lpthread", "-ldl"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL static link:", " ".join(cmd))
            print(r.stderr[-4000:])
            sys.exit(1)
        nm = shutil.which("nm")
        if nm:
            syms = subprocess.run([nm, str(exe)], capture_output=True, text=True).stdout.split()
            if "_int_malloc" in syms:
                print("FAIL glibc's malloc.o was linked in beside libtricolor.a (_int_malloc present)")
                sys.exit(1)
            print("static binary holds no glibc allocator (_int_malloc absent)")
        run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120,
                             env={"TC_EXPECT_TRICOLOR": "1", "PATH": "/usr/bin:/bin"})
        sys.stdout.write(run.stdout)
        sys.stdout.write(run.stderr)
        if run.returncode != 0:
            print(f"FAIL statically linked conformance exited with status {run.returncode}")
            sys.exit(1)
    print("PASS static link")


if __name__ == "__main__":
    main()
