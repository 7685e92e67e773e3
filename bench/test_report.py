#!/usr/bin/env python3
"""bench/test_report.py: the report's own rules, checked without measuring
anything (suite bench):
  - a target is MET only when every repetition meets it, MISSED when one
    does not (benchlib, the allocator's geometric means, the collector's
    pause and mark targets);
  - a figure repeated is shown as its median and range;
  - a child that outlives its timeout is killed with its whole process
    group, and reported as timed out;
  - scripts/test and scripts/bench-report stop at --help (exit 0) and at an
    unknown option (exit 2) before installing or building anything, and
    bench_report.py rejects bad option values (exit 2).
"""
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import benchlib  # noqa: E402
import bench_report  # noqa: E402
import gc_report  # noqa: E402
import report  # noqa: E402


class Verdicts(unittest.TestCase):
    def test_every_repetition_must_meet(self):
        self.assertEqual(benchlib.verdict([0.9, 0.95, 0.99], lambda x: x < 1), "MET")
        self.assertEqual(benchlib.verdict([0.9, 1.02, 0.8], lambda x: x < 1), "MISSED")
        self.assertEqual(benchlib.verdict([], lambda x: x < 1), "n/a")

    def test_allocator_target_uses_each_repetition(self):
        t = report.Target("time", "mimalloc", 1.1, False, "<= 1.1")
        self.assertEqual(report.verdict(t, [1.0, 1.05, 1.1]), "MET")
        # the median (1.05) meets it, one repetition does not
        self.assertEqual(report.verdict(t, [1.0, 1.05, 1.12]), "MISSED")

    def test_allocator_geomean_per_repetition(self):
        g = report.GROUPS[0]
        r = lambda ns: {"ns_op": ns, "rss_kib": 1, "minflt": 0}
        runs = {("a", "tricolor"): [r(1), r(4)],
                ("a", "glibc"): [r(2), r(2)]}
        _, _, geo, reps = report.summarize(g, ["a"], ["glibc", "tricolor"], runs)
        self.assertEqual(reps[("glibc", "time")], [0.5, 2.0])
        self.assertEqual(geo[("glibc", "time")], 1.25)  # the ratio of the medians 2.5 / 2

    def test_collector_targets(self):
        def run(worst_us, mark):
            return {"pause_us": {"max": worst_us}, "pause_max_run_ns": 0, "mark_mb_s": mark}
        ok = {"tricolor": [run(50, 300), run(90, 300)], "boehm": [run(9e4, 250), run(9e4, 290)]}
        self.assertTrue(all(line.endswith("MET") for line in gc_report.targets(ok)))
        bad = {"tricolor": [run(50, 300), run(150, 280)], "boehm": [run(9e4, 250), run(9e4, 290)]}
        self.assertEqual([line.rsplit(" ", 1)[1] for line in gc_report.targets(bad)], ["MISSED", "MISSED"])


class Spread(unittest.TestCase):
    def test_median_and_range(self):
        self.assertEqual(benchlib.fmt([3.0, 1.0, 2.0]), "2.0 (1.0-3.0)")
        self.assertEqual(benchlib.fmt([2.0]), "2.0")
        self.assertEqual(benchlib.fmt([]), "-")
        self.assertEqual(benchlib.pct([1, 2, 3, 4], 50), 2)
        self.assertEqual(benchlib.pct([1, 2, 3, 4], 100), 4)


class Children(unittest.TestCase):
    def test_timeout_kills_the_group(self):
        t0 = time.monotonic()
        r = benchlib.run_child(["sh", "-c", "sleep 30 & echo $!; sleep 30"], None, 1)
        self.assertIsNone(r["status"])
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("timed out", benchlib.failure(r))
        grandchild = int(r["out"].split()[0])
        for _ in range(100):  # reaped by init once killed
            if not os.path.exists(f"/proc/{grandchild}") or \
                    open(f"/proc/{grandchild}/stat").read().split()[2] == "Z":
                break
            time.sleep(0.05)
        else:
            self.fail("the grandchild outlived the timeout")

    def test_status_and_rss(self):
        r = benchlib.run_child(["sh", "-c", "echo out; echo err >&2; exit 3"], None, 30)
        self.assertEqual((r["status"], r["out"], r["err"]), (3, "out\n", "err\n"))
        self.assertGreater(r["maxrss_kib"], 0)


class CommandLines(unittest.TestCase):
    def run_script(self, *argv):
        return subprocess.run([os.path.join(SRC, "scripts", argv[0])] + list(argv[1:]),
                              capture_output=True, text=True, timeout=60)

    def test_help_and_unknown_options_stop_early(self):
        for script in ("test", "bench-report"):
            h = self.run_script(script, "--help")
            self.assertEqual(h.returncode, 0)
            self.assertIn("Exit status", h.stdout)
            self.assertNotIn("installing", h.stdout + h.stderr)
            u = self.run_script(script, "--no-such-option")
            self.assertEqual(u.returncode, 2)
            self.assertIn("--no-such-option", u.stderr)

    def test_bad_values(self):
        for argv in (["--reps", "0"], ["--parts", "allocator,nothing"], ["--min-time", "-1"]):
            with self.assertRaises(SystemExit) as e:
                bench_report.options(argv)
            self.assertEqual(e.exception.code, 2)
        self.assertEqual(bench_report.options(["--parts", "workloads,allocator"]).parts,
                         ["allocator", "workloads"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
