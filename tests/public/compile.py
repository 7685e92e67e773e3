#!/usr/bin/env python3
"""compile.py: compile one test source with a given compiler, at test time.

Usage: compile.py --source FILE [--lang c|c++] [--std STD] [-I DIR]...
                  [-D NAME]... [--link LIB] -- COMPILER...

Compiles FILE with -Wall -Wextra -pedantic -Werror and the include
directories given (nothing else: no project flags), so that a header that
needs more than it includes, or warns, fails the test with the compiler's
own message; with --link, links the program against LIB too (a C++
caller then finds every name only if the header declares it extern "C").
Exit 0 when it compiles (and links).
"""
import argparse
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--lang", default="c", choices=["c", "c++"])
    ap.add_argument("--std", default=None)
    ap.add_argument("-I", dest="incs", action="append", default=[])
    ap.add_argument("-D", dest="defs", action="append", default=[])
    ap.add_argument("--link", default=None)
    ap.add_argument("compiler", nargs="+")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cmd = list(a.compiler) + ["-x", a.lang]
        if a.std:
            cmd.append("-std=" + a.std)
        cmd += ["-Wall", "-Wextra", "-pedantic", "-Werror"]
        cmd += ["-I" + i for i in a.incs] + ["-D" + x for x in a.defs]
        if a.link:
            cmd += [a.source, "-x", "none", a.link, "-lpthread", "-o", d + "/a.out"]
        else:
            cmd += ["-c", a.source, "-o", d + "/out.o"]
        print(" ".join(cmd))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        sys.stdout.write(p.stdout + p.stderr)
        if p.returncode != 0:
            print("FAIL: the compiler exited with %d" % p.returncode)
            return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
