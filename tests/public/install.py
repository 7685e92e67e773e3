#!/usr/bin/env python3
"""install.py: the README's install steps, into a scratch directory.

Usage: install.py --meson MESON --build DIR --prefix PREFIX --example FILE.c
                  --expect FILE.out --header-test FILE.c -- COMPILER...

`meson install --destdir` into a temporary directory, then, as a user
would: `pkg-config --cflags --libs tricolor` (its prefix moved under the
destdir); the public header alone, as C11 with -pedantic -Werror, with
those flags only; the example program compiled and linked with them, and
run on the installed libtricolor.so (LD_LIBRARY_PATH holds nothing else):
it must exit 0 and print FILE.out.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile


def run(cmd, **kw):
    print("+ " + " ".join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if p.returncode != 0:
        sys.stdout.write(p.stdout + p.stderr)
        raise SystemExit("FAIL: exit %d" % p.returncode)
    return p


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--meson", "--build", "--prefix", "--example", "--expect", "--header-test"):
        ap.add_argument(opt, required=True)
    ap.add_argument("compiler", nargs="+")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as dest:
        run([a.meson, "install", "-C", a.build, "--no-rebuild", "--quiet", "--destdir", dest])
        root = dest + a.prefix
        pcs = glob.glob(os.path.join(root, "**", "pkgconfig", "tricolor.pc"), recursive=True)
        if len(pcs) != 1:
            raise SystemExit("FAIL: want one tricolor.pc under %s, found %r" % (root, pcs))
        env = dict(os.environ, PKG_CONFIG_LIBDIR=os.path.dirname(pcs[0]))
        pkg = ["pkg-config", "--define-variable=prefix=" + root]
        flags = run(pkg + ["--cflags", "--libs", "tricolor"], env=env).stdout.split()
        libdir = run(pkg + ["--variable=libdir", "tricolor"], env=env).stdout.strip()
        strict = ["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror"]
        run(a.compiler + strict + ["-c", a.header_test, "-o", os.path.join(dest, "h.o")] + flags)
        exe = os.path.join(dest, "example")
        run(a.compiler + strict + [a.example, "-o", exe] + flags)
        got = run([exe], env=dict(os.environ, LD_LIBRARY_PATH=libdir)).stdout
        want = open(a.expect).read()
        if got != want:
            raise SystemExit("FAIL: the example printed %r, want %r" % (got, want))
        sys.stdout.write(got)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
