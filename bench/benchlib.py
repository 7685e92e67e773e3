"""bench/benchlib.py: what every part of the report shares.

- run_child: one measured process, in its own process group, output
  captured, with a timeout that kills the whole group (as does an
  interrupted report), and its own peak RSS from wait4 (ru_maxrss of that
  child alone).
- Figures measured several times are shown as their median and range,
  "12.3 (11.0-14.1)", and a target is MET only when every repetition
  meets it: one repetition that misses is a miss, not averaged away.
- machine(): date, commit, CPU model, cores and load, for every result.
- Progress: one line per finished run with its part, repetition and the
  time left, from estimates per kind of run that become the measured mean
  of that kind once one has run.
"""
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_child(argv, env=None, timeout=600, cwd=None):
    """Run argv; return dict(status, out, err, maxrss_kib, secs). status is
    the exit code, -signal, or None after the timeout (then the process
    group was killed)."""
    env = dict(os.environ) if env is None else env
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd,
                                 start_new_session=True)
        except OSError as e:
            return {"status": 127, "out": "", "err": f"{argv[0]}: {e}", "maxrss_kib": 0, "secs": 0.0}
        status, rss, pause = None, 0, 0.002
        try:
            while True:
                pid, st, ru = os.wait4(p.pid, os.WNOHANG)
                if pid == p.pid:
                    status, rss = os.waitstatus_to_exitcode(st), ru.ru_maxrss
                    break
                if time.monotonic() - t0 > timeout:
                    os.killpg(p.pid, signal.SIGKILL)
                    os.wait4(p.pid, 0)
                    break
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        except BaseException:  # Ctrl-C or SIGTERM: the child has its own session
            os.killpg(p.pid, signal.SIGKILL)
            os.wait4(p.pid, 0)
            p.returncode = -9
            raise
        p.returncode = status if status is not None else -9  # already reaped
        secs = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        return {"status": status, "out": out.read().decode(errors="replace"),
                "err": err.read().decode(errors="replace"), "maxrss_kib": rss, "secs": secs}


def failure(r):
    """A one-line reason for a child that did not exit 0."""
    last = (r["err"].strip().splitlines() or [""])[-1][:200]
    if r["status"] is None:
        what = "timed out"
    elif r["status"] < 0:
        try:
            what = f"killed by {signal.Signals(-r['status']).name}"
        except ValueError:
            what = f"killed by signal {-r['status']}"
    else:
        what = f"exit status {r['status']}"
    return f"{what}; {last}".rstrip("; ")


def tagged_json(text, tag):
    """The JSON object after the first line starting with "TAG "."""
    for line in text.splitlines():
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1:])
    return None


def load_json(folder, name):
    """A results folder's JSON file, or None if absent or unreadable."""
    try:
        with open(os.path.join(folder, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def ok_runs(runs):
    """The repetitions that did not fail."""
    return [r for r in runs or [] if "failed" not in r]


# ---- figures with their spread ----

def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def pct(sorted_xs, p):
    """The p-th percentile (nearest rank) of an ascending list."""
    if not sorted_xs:
        return float("nan")
    k = max(0, min(len(sorted_xs) - 1, int(math.ceil(p / 100.0 * len(sorted_xs))) - 1))
    return sorted_xs[k]


def spread(xs):
    """Median, min, max and count of the repetitions' values (None: no value)."""
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def fmt(s, spec="{:.1f}", unit=""):
    """"12.3 (11.0-14.1)" for a spread; one value alone; "-" for none."""
    if s is None:
        return "-"
    if not isinstance(s, dict):
        s = spread(s if isinstance(s, (list, tuple)) else [s])
        if s is None:
            return "-"
    m = spec.format(s["median"]) + unit
    if s["n"] < 2 or spec.format(s["min"]) == spec.format(s["max"]):
        return m
    return f"{m} ({spec.format(s['min'])}-{spec.format(s['max'])})"


def verdict(xs, ok):
    """MET when every repetition's value passes ok, MISSED when one does
    not, n/a without values."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "n/a"
    return "MET" if all(ok(x) for x in xs) else "MISSED"


def table(hdr, rows, md, title=None):
    """Rows under a header: Markdown, or plain text in aligned columns."""
    if md:
        out = [f"**{title}**", ""] if title else []
        return out + ["| " + " | ".join(hdr) + " |", "|" + "|".join("---" for _ in hdr) + "|"] + \
            ["| " + " | ".join(str(c) for c in r) + " |" for r in rows] + [""]
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    line = lambda r: "  " + "  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i])
                                      for i, c in enumerate(r)).rstrip()
    return ([title] if title else []) + [line(hdr)] + [line(r) for r in rows] + [""]


# ---- the machine ----

def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def loadavg():
    return " ".join(_read("/proc/loadavg").split()[:3])


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), os.uname().machine)
    git = lambda *a: subprocess.run(["git", "-C", SRC] + list(a), capture_output=True,
                                    text=True, timeout=30).stdout.strip()
    try:
        commit, describe = git("rev-parse", "--short=12", "HEAD"), git("describe", "--always", "--dirty")
    except (OSError, subprocess.TimeoutExpired):
        commit = describe = "unknown"
    mem = next((int(line.split()[1]) // 1024 for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal:")), 0)
    return {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "commit": commit or "unknown",
            "describe": describe or "unknown", "cpu": cpu, "cores": os.cpu_count(),
            "memory_mib": mem, "kernel": " ".join(os.uname()[2:4]),
            "loadavg_start": loadavg()}


# ---- progress ----

class Progress:
    """Estimates the time left of a list of planned runs, each a (part,
    kind, estimate in seconds); done() prints one progress line."""

    def __init__(self, planned, out=sys.stderr):
        self.pending = {}
        for part, kind, est in planned:
            self.pending.setdefault((part, kind), []).append(est)
        self.seen = {}
        self.out = out
        self.t0 = time.monotonic()

    def _left(self, part=None):
        total = 0.0
        for (p, kind), ests in self.pending.items():
            if part is None or p == part:
                obs = self.seen.get(kind)
                total += sum(ests) if not obs else len(ests) * statistics.mean(obs)
        return total

    def estimate(self):
        return self._left()

    def done(self, part, kind, rep, reps, label, secs):
        ests = self.pending.get((part, kind))
        if ests:
            ests.pop()
        self.seen.setdefault(kind, []).append(secs)
        print(f"[{part}] repetition {rep}/{reps}, {label}: {secs:.0f} s; left: {mmss(self._left(part))} "
              f"of this part, {mmss(self._left())} in all ({mmss(time.monotonic() - self.t0)} gone)",
              file=self.out, flush=True)


def mmss(s):
    s = int(round(s))
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"
