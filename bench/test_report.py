#!/usr/bin/env python3
"""bench/test_report.py: the report's own rules, checked without measuring
anything (suite bench):
  - a target is MET only when every repetition meets it, MISSED when one
    does not (benchlib, the allocator's geometric means, the collector's
    pause and mark targets, the workloads' issue 14 targets);
  - the workloads' peak heap comes from the gctrace lines of the measured
    phase only;
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
import gc_workloads  # noqa: E402
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


class WorkloadTargets(unittest.TestCase):
    MIB = 1 << 20

    def steady(self, peak_mib):
        return {"live_bytes": 64 * self.MIB, "heap_peak_bytes": peak_mib * self.MIB}

    def verdicts(self, runs):
        return {line.split(":")[1].strip(): line.rsplit(" ", 1)[1] for line in gc_workloads.targets(runs)}

    def test_each_repetition(self):
        # GOGC=100: bound 1.1 x 64 x 2 + 4 = 144.8 MiB
        ok = {("steady100", "tricolor"): [self.steady(130), self.steady(144)]}
        self.assertEqual(self.verdicts(ok), {"steady live set, GOGC=100, peak heap <= 1.1 x L x 2 + 4 MiB": "MET"})
        bad = {("steady100", "tricolor"): [self.steady(130), self.steady(146)]}
        self.assertEqual(list(self.verdicts(bad).values()), ["MISSED"])

    def test_ratios_pair_repetitions(self):
        t = lambda s, kib: {"time_s": s, "peak_rss_kib": kib}
        # medians 10 and 20 would give 0.5, but repetition 2 is 0.75
        runs = {("trees", "tricolor"): [t(10, 100), t(15, 100), t(5, 100)],
                ("trees", "boehm"): [t(20, 200), t(20, 200), t(20, 90)]}
        v = list(self.verdicts(runs).values())
        self.assertEqual(v, ["MISSED", "MISSED"])
        runs[("trees", "tricolor")][1] = t(11, 80)
        runs[("trees", "tricolor")][2] = t(5, 90)
        self.assertEqual(list(self.verdicts(runs).values()), ["MET", "MET"])

    def test_release_and_limit(self):
        rel = lambda start, after: {"rss_start_kib": start, "rss_after_kib": after, "bytes": 1 << 30}
        lim = lambda kib: {"peak_rss_kib": kib, "memory_limit": 256 * self.MIB}
        # 1.05 x 256 MiB = 275251 KiB; 10 % of the start is 1000 KiB
        runs = {("release", "tricolor"): [rel(10000, 11000), rel(10000, 10900)],
                ("memlimit", "tricolor"): [lim(270000), lim(275000)]}
        self.assertEqual(list(self.verdicts(runs).values()), ["MET", "MET"])
        runs[("release", "tricolor")][1] = rel(10000, 11010)
        runs[("memlimit", "tricolor")][0] = lim(275300)
        self.assertEqual(list(self.verdicts(runs).values()), ["MISSED", "MISSED"])

    def test_window(self):
        w = lambda pause_us, p999: {"pause_us": {"max": pause_us}, "push_ns": {"p999": p999}}
        runs = {("window", "tricolor"): [w(40, 900), w(99, 1000)], ("window", "malloc"): [w(0, 1000), w(0, 999)]}
        self.assertEqual(list(self.verdicts(runs).values()), ["MET", "MISSED"])

    def test_trace_heap_peak(self):
        line = "gc {} @1.0s 5%: 0.01+2+0.01 ms clock, 0.02+1/2/3+0.02 ms cpu, {}->{}->40 MB, 90 MB goal, 2 P"
        err = "\n".join([line.format(1, 50, 200), "GCWORK-MEASURE", line.format(2, 80, 95),
                         line.format(3, 85, 99), "GCWORK-END", line.format(4, 90, 300)])
        self.assertEqual(gc_workloads.trace_heap_peak(err), 99 << 20)
        self.assertIsNone(gc_workloads.trace_heap_peak("GCWORK-MEASURE\nGCWORK-END"))


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
