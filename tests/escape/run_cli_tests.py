#!/usr/bin/env python3
"""run_cli_tests.py: the tricolor-escape command-line suites.

Usage: run_cli_tests.py MODE TRICOLOR_ESCAPE TESTS_ESCAPE_DIR [VERSION]

MODE is one of:
  golden   `-m CASE.ir` for every golden/CASE.ir prints golden/CASE.expected
           exactly (stdout), with nothing on stderr and exit 0.
  errors   every errors/CASE.ir is rejected, by -m and by run alike, with
           exit 1, no stdout and the one line of errors/CASE.expected.
  faults   every faults/CASE.ir runs (flags from a "# args:" line) to the
           exit status, stdout and error line of faults/CASE.expected, in
           all three placements (decisions, --check, --all-heap).
  checker  every checker/CASE.ir is sound with the analysis' decisions
           (`run --check` exits 0) and unsound with every object forced
           onto the stack (`run --check --all-stack` reports the line of
           checker/CASE.expected): the checker can fail.
  diff     for every golden/CASE.ir (and bench_alloc.ir): `run`,
           `run --check` and `run --all-heap` print the same lines, exit 0,
           report nothing unsound, and count the same allocations and
           steps; --all-heap counts no stack allocation; golden/CASE.out,
           when present, is the output.
  usage    the command line itself: each usage error (unknown, ambiguous or
           misused options, bad limits, missing or extra operands) is one
           line naming what is wrong, exit 2; --help and --version (which
           must print VERSION) exit 0; an unreadable file or a file without
           func main exit 1.
Cases run with the case's directory as the working directory, so file
names in messages are bare. Exit status 0 when every case passes.
"""
import os
import re
import subprocess
import sys
import tempfile

SUMMARY = re.compile(r"^(\S+): stack allocations: (\d+) \((\d+) bytes\), "
                     r"heap allocations: (\d+) \((\d+) bytes\), steps: (\d+), gc cycles: \d+$")


class Runner:
    def __init__(self, exe, root, version):
        self.exe, self.root, self.version = os.path.abspath(exe), root, version
        self.failures = 0
        self.cases = 0

    def run(self, d, args):
        p = subprocess.run([self.exe] + args, cwd=d, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def fail(self, case, why):
        self.failures += 1
        print("FAIL %s: %s" % (case, why))

    def files(self, sub, ext=".ir"):
        d = os.path.join(self.root, sub)
        names = sorted(f[:-len(ext)] for f in os.listdir(d) if f.endswith(ext))
        return d, names

    def golden(self):
        d, names = self.files("golden")
        for c in names:
            self.cases += 1
            rc, out, err = self.run(d, ["-m", c + ".ir"])
            want = open(os.path.join(d, c + ".expected")).read()
            if rc != 0 or err:
                self.fail(c, "exit %d, stderr %r" % (rc, err))
            elif out != want:
                self.fail(c, "-m output differs:\n--- expected\n%s--- got\n%s" % (want, out))

    def errors(self):
        d, names = self.files("errors")
        for c in names:
            self.cases += 1
            want = open(os.path.join(d, c + ".expected")).read()
            for args in (["-m", c + ".ir"], ["run", c + ".ir"]):
                rc, out, err = self.run(d, args)
                if rc != 1 or out or err != want:
                    self.fail(c, "%s: exit %d, stdout %r, stderr %r, want %r" % (args[0], rc, out, err, want))

    def expect_file(self, path):
        exp = {"exit": None, "out": [], "err": []}
        for line in open(path).read().splitlines():
            key, _, val = line.partition(" ")
            if key == "exit":
                exp["exit"] = int(val)
            else:
                exp[key.rstrip(":")].append(val)
        return exp

    def split_err(self, c, err):
        lines = err.splitlines()
        if not lines or not SUMMARY.match(lines[-1]):
            self.fail(c, "no summary line at the end of stderr: %r" % err)
            return lines, None
        return lines[:-1], SUMMARY.match(lines[-1])

    def faults(self):
        d, names = self.files("faults")
        for c in names:
            self.cases += 1
            src = open(os.path.join(d, c + ".ir")).read()
            m = re.search(r"^# args: (.*)$", src, re.M)
            extra = m.group(1).split() if m else []
            exp = self.expect_file(os.path.join(d, c + ".expected"))
            for mode in ([], ["--check"], ["--all-heap"]):
                rc, out, err = self.run(d, ["run"] + mode + extra + [c + ".ir"])
                errs, _ = self.split_err(c, err)
                if rc != exp["exit"] or out.splitlines() != exp["out"] or errs != exp["err"]:
                    self.fail(c, "run %s: exit %d, stdout %r, stderr %r" % (" ".join(mode), rc, out, err))

    def checker(self):
        d, names = self.files("checker")
        for c in names:
            self.cases += 1
            rc, out, err = self.run(d, ["run", "--check", c + ".ir"])
            if rc != 0 or "unsound" in err:
                self.fail(c, "unsound with the analysis' decisions: %r" % err)
            exp = self.expect_file(os.path.join(d, c + ".expected"))
            rc, out, err = self.run(d, ["run", "--check", "--all-stack", c + ".ir"])
            errs, _ = self.split_err(c, err)
            if rc != exp["exit"] or errs != exp["err"]:
                self.fail(c, "--check --all-stack: exit %d, stderr %r, want %r" % (rc, err, exp["err"]))

    def diff(self):
        d, names = self.files("golden")
        cases = [(d, c) for c in names] + [(self.root, "bench_alloc")]
        for d, c in cases:
            self.cases += 1
            results = {}
            for mode in ("", "--check", "--all-heap"):
                rc, out, err = self.run(d, ["run"] + ([mode] if mode else []) + [c + ".ir"])
                errs, summ = self.split_err(c, err)
                if rc != 0 or errs:
                    self.fail(c, "run %s: exit %d, stderr %r" % (mode, rc, err))
                    break
                results[mode] = (out, summ)
            if len(results) != 3:
                continue
            outs = {m: r[0] for m, r in results.items()}
            if len(set(outs.values())) != 1:
                self.fail(c, "outputs differ between placements: %r" % outs)
            counts = {m: (int(r[1].group(2)), int(r[1].group(4)), int(r[1].group(6)))
                      for m, r in results.items()}
            total = {m: (s + h, steps) for m, (s, h, steps) in counts.items()}
            if len(set(total.values())) != 1:
                self.fail(c, "allocation or step counts differ between placements: %r" % counts)
            if counts["--all-heap"][0] != 0:
                self.fail(c, "--all-heap made stack allocations: %r" % counts)
            if counts[""] != counts["--check"]:
                self.fail(c, "--check placed objects differently: %r" % counts)
            out_file = os.path.join(d, c + ".out")
            if os.path.exists(out_file) and open(out_file).read() != outs[""]:
                self.fail(c, "output differs from %s.out: %r" % (c, outs[""]))


    def usage(self):
        """The command line: each mistake is one line on stderr naming what is
        wrong, exit 2; --help and --version print on stdout and exit 0; an
        unreadable file or a file without func main is an input error, exit 1."""
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "nomain.ir"), "w") as fh:
                fh.write("global g\nfunc f(p) {\n    g = p\n}\n")
            hint = r" \(see tricolor-escape --help\)\n$"
            checks = [  # args, exit status, stderr (a whole-output pattern)
                ([], 2, r"^usage: tricolor-escape -m FILE\.ir\n(.*\n){3}$"),
                (["-m"], 2, r"^tricolor-escape: -m needs a FILE\.ir" + hint),
                (["-m", "a.ir", "b.ir"], 2, r"^tricolor-escape: unexpected argument 'b\.ir'" + hint),
                (["run"], 2, r"^tricolor-escape: run needs a FILE\.ir" + hint),
                (["run", "--check"], 2, r"^tricolor-escape: run needs a FILE\.ir" + hint),
                (["run", "nomain.ir", "extra"], 2, r"^tricolor-escape: unexpected argument 'extra'" + hint),
                (["frob", "nomain.ir"], 2, r"^tricolor-escape: unknown command 'frob' \(want -m FILE\.ir or run FILE\.ir\)" + hint),
                (["--bogus"], 2, r"^tricolor-escape: unknown option '--bogus'" + hint),
                (["-x"], 2, r"^tricolor-escape: unknown option '-x'" + hint),
                (["--version=1"], 2, r"^tricolor-escape: option '--version' takes no value" + hint),
                (["run", "--bogus=3", "nomain.ir"], 2, r"^tricolor-escape: unknown option '--bogus'" + hint),
                (["run", "--check=1", "nomain.ir"], 2, r"^tricolor-escape: option '--check' takes no value" + hint),
                (["run", "--max", "5", "nomain.ir"], 2, r"^tricolor-escape: ambiguous option '--max'" + hint),
                (["run", "nomain.ir", "--max-steps"], 2, r"^tricolor-escape: option '--max-steps' needs a value" + hint),
                (["run", "--all-heap", "--all-stack", "nomain.ir"], 2,
                 r"^tricolor-escape: options '--all-heap' and '--all-stack' exclude each other" + hint),
                (["run", "--max-steps", "0", "nomain.ir"], 2,
                 r"^tricolor-escape: option '--max-steps': bad value '0' \(want a positive whole number\)" + hint),
                (["run", "--max-stack=-1", "nomain.ir"], 2,
                 r"^tricolor-escape: option '--max-stack': bad value '-1' \(want a positive whole number\)" + hint),
                (["run", "--max-depth", "x", "nomain.ir"], 2,
                 r"^tricolor-escape: option '--max-depth': bad value 'x' \(want a whole number from 1 to 100000\)" + hint),
                (["run", "--max-depth=100001", "nomain.ir"], 2,
                 r"^tricolor-escape: option '--max-depth': bad value '100001'"),
                (["-m", "missing.ir"], 1, r"^tricolor-escape: cannot open missing\.ir: .*\n$"),
                (["run", "nomain.ir"], 1, r"^nomain\.ir:1: error: no func main to run\n$"),
                (["run", "--max-steps=5", "--ch", "nomain.ir"], 1, r"^nomain\.ir:1: error: no func main to run\n$"),
            ]
            for args, status, pattern in checks:
                self.cases += 1
                rc, out, err = self.run(d, args)
                if rc != status or out or not re.search(pattern, err):
                    self.fail(" ".join(args) or "(no args)",
                              "exit %d (want %d), stdout %r, stderr %r" % (rc, status, out, err))
            for args in (["--help"], ["-h"], ["run", "--help"], ["run", "nomain.ir", "-h"]):
                self.cases += 1
                rc, out, err = self.run(d, args)
                if rc != 0 or err or not out.startswith("usage: tricolor-escape -m FILE.ir\n") \
                        or "Exit status:" not in out or "--max-stack BYTES" not in out:
                    self.fail(" ".join(args), "exit %d, stdout %r, stderr %r" % (rc, out, err))
            for args in (["--version"], ["-V"]):
                self.cases += 1
                rc, out, err = self.run(d, args)
                want = "tricolor-escape (tricolor) %s\n" % self.version
                if rc != 0 or err or out != want:
                    self.fail(" ".join(args), "exit %d, stdout %r (want %r), stderr %r" % (rc, out, want, err))
            self.cases += 1
            rc, out, err = self.run(d, ["-m", "nomain.ir"])
            if rc != 0 or out != "nomain.ir:2: leaking param: p\n" or err:
                self.fail("-m nomain.ir", "exit %d, stdout %r, stderr %r" % (rc, out, err))


def main():
    modes = ("golden", "errors", "faults", "checker", "diff", "usage")
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in modes:
        sys.exit(__doc__)
    r = Runner(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) == 5 else None)
    getattr(r, sys.argv[1])()
    print("%s: %d cases, %d failures" % (sys.argv[1], r.cases, r.failures))
    if r.cases == 0:
        print("no cases found")
        return 1
    return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
