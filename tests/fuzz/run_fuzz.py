#!/usr/bin/env python3
"""tests/fuzz/run_fuzz.py: one libFuzzer session, as the fuzz suite and
scripts/fuzz run it.

    run_fuzz.py EXE WORKDIR [--seconds N] [--regress DIR] [SEED_DIR...] [-- ARGS]

First every file in the regression directory is run once (each must pass:
they are the crashes found so far). Then EXE fuzzes for N seconds (default
TC_FUZZ_SECONDS, else 20) with WORKDIR/corpus as its corpus (kept between
runs, new inputs land there), the seed directories read too, and crashes
written to WORKDIR/crashes/. ARGS go to libFuzzer as they are. The exit
status is libFuzzer's; the last line says what ran and what was found."""
import os
import re
import subprocess
import sys
import time


def main(argv):
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    exe, work = argv[0], argv[1]
    seconds = os.environ.get("TC_FUZZ_SECONDS", "20")
    regress, seeds, i = None, [], 2
    while i < len(argv):
        if argv[i] in ("--seconds", "--regress") and i + 1 < len(argv):
            if argv[i] == "--seconds":
                seconds = argv[i + 1]
            else:
                regress = argv[i + 1]
            i += 2
            continue
        seeds.append(argv[i])
        i += 1
    if not re.fullmatch(r"[0-9]+", seconds):
        sys.stderr.write("run_fuzz.py: seconds must be a whole number, not %r\n" % seconds)
        return 2
    name = os.path.basename(exe)
    corpus, crashes = os.path.join(work, "corpus"), os.path.join(work, "crashes")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(crashes, exist_ok=True)

    if regress and os.path.isdir(regress):
        files = sorted(os.path.join(regress, f) for f in os.listdir(regress)
                       if not f.startswith(".") and f != "README.md")
        if files:
            r = subprocess.run([exe, "-runs=1"] + files)
            if r.returncode != 0:
                print("%s: a regression input failed (exit %d)" % (name, r.returncode))
                return 1
            print("%s: %d regression inputs pass" % (name, len(files)))

    before = set(os.listdir(crashes))
    cmd = [exe, "-max_total_time=" + seconds, "-timeout=120", "-rss_limit_mb=4096",
           "-print_final_stats=1", "-artifact_prefix=" + crashes + "/"]
    cmd += extra + [corpus] + [s for s in seeds if os.path.isdir(s)]
    print(" ".join(cmd), flush=True)
    t0 = time.monotonic()
    r = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, errors="replace")
    sys.stderr.write(r.stderr)
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    new = sorted(set(os.listdir(crashes)) - before)
    print("%s: %s inputs in %.0f s, corpus %d files, exit %d%s" % (
        name, runs[-1] if runs else "?", time.monotonic() - t0, len(os.listdir(corpus)),
        r.returncode, "".join("\n  found: %s (reproduce: %s %s)" % (
            os.path.join(crashes, f), exe, os.path.join(crashes, f)) for f in new)))
    return 1 if r.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
