#!/usr/bin/env python3
"""Real programs on libtricolor through LD_PRELOAD.

Each workload runs the same deterministic job twice, once on the system
malloc and once with LD_PRELOAD=libtricolor.so, and the outputs must be
identical (a heap bug in a real program shows up as a crash, a hang, or
different output). The preloaded run also sets LD_DEBUG=bindings, and the
dynamic linker's log must show malloc/free of every process bound to
libtricolor and never to libc or another allocator: proof that the
program really ran on tricolor, not merely with it loaded.

usage: preload.py --lib LIBTRICOLOR.so WORKLOAD [options]
  python     tests/override/workload.py (also with PYTHONMALLOC=malloc)
  sqlite     tests/override/workload.sql in sqlite3 :memory:
  redis      redis-server on 127.0.0.1, redis-benchmark (--seconds, default
             10, preloaded only), a redis-cli session
  git        init/add/commit/mv/rm/log/blame/gc/fsck in a temporary repo
  gcc        compile a generated C program, compare assembly and its output
  bootstrap  --prog P --hook H: constructors allocating before main, with
             an open() hook preloaded too, in both orders, 10 s limit
A program that is not installed makes the test skip (exit 77).
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKIP = 77
HERE = Path(__file__).resolve().parent
ALLOC_SYMBOLS = {"malloc", "free", "calloc", "realloc"}
BINDING = re.compile(r"binding file (\S+) \[\d+\] to (\S+) \[\d+\]: normal symbol `([^']+)'")


class Failure(Exception):
    pass


def need(program):
    path = shutil.which(program)
    if not path:
        print(f"SKIP: {program} is not installed")
        sys.exit(SKIP)
    return path


def tail(text, lines=15):
    return "\n".join(text.splitlines()[-lines:])


class Runner:
    """Runs commands plainly or preloaded; keeps the linker's binding logs."""

    def __init__(self, lib, tmp):
        self.lib = str(Path(lib).resolve())
        self.tmp = Path(tmp)
        self.logs = self.tmp / "ld-bindings"
        self.logs.mkdir()
        self.base = dict(os.environ, PYTHONHASHSEED="0", LC_ALL="C", TZ="UTC")
        for var in ("LD_PRELOAD", "LD_DEBUG", "LD_DEBUG_OUTPUT", "GODEBUG", "PYTHONMALLOC"):
            self.base.pop(var, None)

    def env(self, preload, extra=None):
        env = dict(self.base, **(extra or {}))
        if preload:
            env.update(LD_PRELOAD=self.lib, LD_DEBUG="bindings", LD_DEBUG_OUTPUT=str(self.logs / "log"))
        return env

    def run(self, cmd, preload, extra=None, timeout=180, **kw):
        env = self.env(preload, extra)
        what = " ".join(str(c) for c in cmd)
        kw.setdefault("input", b"")  # a closed pipe, not /dev/null (a plain file on some machines)
        try:
            r = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            raise Failure(f"{'preloaded ' if preload else ''}{what}: no result after {timeout} s")
        if r.returncode != 0:
            err = r.stderr.decode(errors="replace") if isinstance(r.stderr, bytes) else r.stderr
            raise Failure(f"{'preloaded ' if preload else ''}{what}: exit status {r.returncode}\n{tail(err)}")
        return r

    def check_bindings(self):
        """malloc/free bound to libtricolor in every process, never elsewhere.

        A non-PIE executable that takes the address of free (cc1 does) has
        a canonical PLT entry for it, and every library's free then binds
        to that stub, which jumps on to whatever the executable itself is
        bound to. Such a binding is allowed when the target does not
        define the symbol; the executable's own binding is checked too."""
        to_us, elsewhere, processes = 0, set(), 0
        for log in sorted(self.logs.glob("log.*")):
            processes += 1
            for m in BINDING.finditer(log.read_text(errors="replace")):
                src, dst, sym = m.groups()
                if sym not in ALLOC_SYMBOLS:
                    continue
                if "libtricolor" in dst:
                    to_us += 1
                elif sym in defined_symbols(dst):
                    elsewhere.add(f"{sym}: {Path(src).name} -> {dst}")
        if processes == 0 or to_us == 0:
            raise Failure(f"no malloc binding to libtricolor in {processes} LD_DEBUG logs: not preloaded?")
        if elsewhere:
            raise Failure("allocation symbols bound outside libtricolor:\n  " + "\n  ".join(sorted(elsewhere)[:20]))
        print(f"bindings: {to_us} malloc-family bindings to libtricolor in {processes} processes, none elsewhere")
        for log in self.logs.glob("log.*"):
            log.unlink()


_defined = {}


def defined_symbols(path):
    """Dynamic symbols path defines (nm -D --defined-only); cached."""
    if path not in _defined:
        nm = shutil.which("nm")
        if not nm:
            raise Failure("nm (binutils) is needed to read the binding log")
        r = subprocess.run([nm, "-D", "--defined-only", path], capture_output=True, text=True)
        _defined[path] = {line.split()[-1].split("@")[0] for line in r.stdout.splitlines() if line.strip()}
    return _defined[path]


def same(what, plain, preloaded):
    if plain == preloaded:
        return
    a, b = plain.splitlines(), preloaded.splitlines()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            raise Failure(f"{what}: output differs at line {i + 1}:\n  plain:     {x!r}\n  preloaded: {y!r}")
    raise Failure(f"{what}: output differs in length ({len(a)} vs {len(b)} lines)")


def out(r):
    return r.stdout.decode(errors="replace")


# ---- workloads ----

def python_workload(rn, args):
    py = sys.executable  # a real interpreter, not a launcher script
    script = HERE / "workload.py"
    plain = out(rn.run([py, script], False))
    if len(plain.splitlines()) < 7:
        raise Failure(f"workload printed too little:\n{plain}")
    same("python", plain, out(rn.run([py, script], True)))
    same("python PYTHONMALLOC=malloc", plain, out(rn.run([py, script], True, {"PYTHONMALLOC": "malloc"})))
    rn.check_bindings()
    # and from inside: gc_read_stats through ctypes counts Python's objects
    probe = (
        "import ctypes\n"
        "class S(ctypes.Structure):\n"
        "    _fields_ = [('size', ctypes.c_size_t)]"
        " + [(n, ctypes.c_uint64) for n in 'sys inuse free rel bytes nmalloc nfree large meta tcb'.split()]"
        " + [('nprocs', ctypes.c_uint32), ('idle', ctypes.c_uint32)]\n"
        "rd = ctypes.CDLL(None).gc_read_stats\n"
        "a, b = S(ctypes.sizeof(S)), S(ctypes.sizeof(S))\n"
        "rd(ctypes.byref(a)); keep = [bytes(1000 + i % 7) for i in range(20000)]; rd(ctypes.byref(b))\n"
        "maps = open('/proc/self/maps').read()\n"
        "print(b.nmalloc - a.nmalloc >= 20000, 'libtricolor' in maps)\n"
    )
    r = out(rn.run([py, "-c", probe], True, {"PYTHONMALLOC": "malloc"}))
    if r.strip() != "True True":
        raise Failure(f"ctypes probe: expected 'True True' (nmalloc grew, library mapped), got {r.strip()!r}")
    print("python: identical output, plain and preloaded (pymalloc and PYTHONMALLOC=malloc)")


def sqlite_workload(rn, args):
    sq = need("sqlite3")
    sql = (HERE / "workload.sql").read_bytes()
    cmd = [sq, "-batch", "-bail", ":memory:"]
    plain = out(rn.run(cmd, False, input=sql))
    if "integrity|ok" not in plain or len(plain.splitlines()) < 40:
        raise Failure(f"sqlite workload output unexpected:\n{tail(plain)}")
    same("sqlite3", plain, out(rn.run(cmd, True, input=sql)))
    rn.check_bindings()
    print(f"sqlite3: identical output ({len(plain.splitlines())} lines), plain and preloaded")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_session():
    """Deterministic commands; replies must match between the two runs."""
    cmds = ["FLUSHALL"]
    for i in range(3000):
        cmds.append(f"SET key:{i} {'v' * (i % 500)}{i}")
    cmds += [f"RPUSH list {'e' * (i % 90)}{i}" for i in range(2000)]
    cmds += [f"ZADD zset {i * 7 % 1000} member{i}" for i in range(1500)]
    cmds += [f"HSET hash field{i} {'h' * (i % 200)}" for i in range(1500)]
    cmds += [f"SADD set s{i * 13 % 4000}" for i in range(3000)]
    cmds += ["SET big " + "x" * 300000, "APPEND big " + "y" * 100000]
    cmds += ["DBSIZE", "STRLEN big", "GETRANGE big 299995 300005", "LLEN list", "LRANGE list 100 110",
             "LINDEX list -1", "ZRANGE zset 0 20 WITHSCORES", "ZCARD zset", "HLEN hash", "HGET hash field777",
             "SCARD set", "SORT set ALPHA LIMIT 0 15", "GET key:2999", "MGET key:1 key:10 key:100"]
    cmds += [f"DEL key:{i}" for i in range(0, 3000, 2)] + ["DBSIZE", "LTRIM list 0 99", "LLEN list"]
    return ("\n".join(cmds) + "\n").encode()


def redis_workload(rn, args):
    server, cli, bench = need("redis-server"), need("redis-cli"), need("redis-benchmark")
    transcripts = []
    for preload in (False, True):
        port = str(free_port())
        d = rn.tmp / f"redis-{int(preload)}"
        d.mkdir()
        proc = subprocess.Popen(
            [server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(d), "--logfile", str(d / "server.log"), "--daemonize", "no"],
            env=rn.env(preload), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 15
            while True:
                ping = subprocess.run([cli, "-h", "127.0.0.1", "-p", port, "PING"], env=rn.env(False),
                                      capture_output=True, text=True, timeout=10)
                if ping.stdout.strip() == "PONG":
                    break
                if proc.poll() is not None or time.time() > deadline:
                    log = d / "server.log"
                    why = f"exit status {proc.poll()}" if proc.poll() is not None else "no PONG in 15 s"
                    raise Failure(f"redis-server (preload={preload}) did not come up: {why}\n"
                                  f"{tail(log.read_text(errors='replace')) if log.exists() else ''}")
                time.sleep(0.1)
            # The load, on the preloaded server only (the session below starts
            # with FLUSHALL): rounds of redis-benchmark for args.seconds, at
            # least one: bounded by time, as a loaded machine runs it slowly.
            tests = "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,lrange_100,mset"
            end, rounds = time.monotonic() + args.seconds, 0
            while preload and (rounds == 0 or time.monotonic() < end):
                for extra in (["-n", "4000", "-d", "100", "-c", "10"], ["-n", "600", "-d", "8192", "-c", "4"]):
                    b = rn.run([bench, "-h", "127.0.0.1", "-p", port, "-q", "-t", tests] + extra, preload,
                               timeout=240)
                    done = out(b)
                    for t in ("SET", "GET", "LPUSH", "MSET", "LRANGE_100"):
                        if f"{t}:" not in done and f"{t} " not in done:
                            raise Failure(f"redis-benchmark printed no result for {t}:\n{tail(done)}")
                rounds += 1
            session = rn.run([cli, "-h", "127.0.0.1", "-p", port], False, input=redis_session())
            transcripts.append(out(session))
            info = out(rn.run([cli, "-h", "127.0.0.1", "-p", port, "INFO", "memory"], False))
            used = re.search(r"^used_memory:(\d+)", info, re.M)
            if not used or not 0 < int(used.group(1)) < (4 << 30):
                raise Failure(f"INFO memory (preload={preload}) implausible:\n{tail(info)}")
            print(f"redis (preload={preload}): {rounds} benchmark rounds, used_memory "
                  f"{int(used.group(1)) >> 10} KiB")
            subprocess.run([cli, "-h", "127.0.0.1", "-p", port, "SHUTDOWN", "NOSAVE"], env=rn.env(False),
                           capture_output=True, timeout=30)
            try:
                rc = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                raise Failure(f"redis-server (preload={preload}) did not exit after SHUTDOWN")
            if rc != 0:
                raise Failure(f"redis-server (preload={preload}) exit status {rc}:\n"
                              f"{tail((d / 'server.log').read_text(errors='replace'))}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    same("redis-cli session", transcripts[0], transcripts[1])
    rn.check_bindings()
    print("redis: identical session transcript, clean shutdown under tricolor")


def git_workload(rn, args):
    git = need("git")
    outputs = []
    for preload in (False, True):
        home = rn.tmp / f"git-{int(preload)}"
        repo = home / "repo"
        repo.mkdir(parents=True)
        extra = {"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Tri Color",
                 "GIT_AUTHOR_EMAIL": "tc@example.invalid", "GIT_COMMITTER_NAME": "Tri Color",
                 "GIT_COMMITTER_EMAIL": "tc@example.invalid"}
        text = []

        def g(*a, date=None):
            e = dict(extra)
            if date:
                e.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
            text.append(out(rn.run([git, "-C", repo] + list(a), preload, e)))

        g("init", "-q", "-b", "main")
        for i in range(300):
            (repo / f"f{i:03d}.txt").write_text("".join(f"line {j} of file {i} {'#' * (j % 40)}\n"
                                                        for j in range(i % 97 + 1)))
        g("add", "-A")
        g("commit", "-q", "-m", "initial", date="2024-01-01T00:00:00 +0000")
        for rnd in range(1, 6):
            for i in range(rnd, 300, 7):
                with open(repo / f"f{i:03d}.txt", "a") as f:
                    f.write(f"round {rnd} change to {i}\n")
            g("mv", f"f{rnd:03d}.txt", f"renamed{rnd}.txt")
            g("rm", "-q", f"f{rnd + 100:03d}.txt")
            g("add", "-A")
            g("commit", "-q", "-m", f"round {rnd}", date=f"2024-01-0{rnd + 1}T12:00:00 +0000")
        g("log", "--stat", "--format=%H %an %ad %s", "--date=iso")
        g("diff", "--stat", "HEAD~3", "HEAD")
        g("blame", "-s", "f050.txt")
        g("grep", "-c", "round 3")
        # repack by hand: git gc/repack give pack-objects /dev/null as
        # stdin, and this machine's /dev/null may be a plain file
        objs = out(rn.run([git, "-C", repo, "rev-list", "--objects", "--all"], preload, extra))
        rn.run([git, "-C", repo, "-c", "pack.threads=2", "pack-objects", "-q", "--window=50",
                repo / ".git/objects/pack/pack"], preload, extra, input=objs.encode())
        g("prune-packed")
        g("count-objects")  # loose objects left: none
        g("fsck", "--full", "--strict")
        g("rev-parse", "HEAD", "HEAD^{tree}")
        outputs.append("".join(text))
    same("git", outputs[0], outputs[1])
    rn.check_bindings()
    print(f"git: identical output ({len(outputs[0].splitlines())} lines), same commit ids, plain and preloaded")


def c_source():
    fns = []
    for i in range(150):
        fns.append(f"""
static long f{i}(long n) {{
    long acc = {i};
    for (long k = 0; k < n; k++) {{
        switch ((k + {i}) % 5) {{
        case 0: acc += k * {i + 3}; break;
        case 1: acc ^= (acc << 3) + k; break;
        case 2: acc -= k / {i % 7 + 1}; break;
        default: acc = acc * 31 + {i};
        }}
    }}
    return acc;
}}""")
    calls = " + ".join(f"f{i}(n + {i})" for i in range(150))
    return ("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n" + "".join(fns) + f"""
static int cmp(const void *a, const void *b) {{ return strcmp(*(char *const *)a, *(char *const *)b); }}
int main(void) {{
    long n = 1000;
    char *names[500];
    for (int i = 0; i < 500; i++) {{
        names[i] = malloc(32);
        snprintf(names[i], 32, "name-%d", (i * 7919) % 500);
    }}
    qsort(names, 500, sizeof names[0], cmp);
    printf("%ld %s %s\\n", {calls}, names[0], names[499]);
    for (int i = 0; i < 500; i++) free(names[i]);
    return 0;
}}
""")


def gcc_workload(rn, args):
    cc = need("gcc")
    src = rn.tmp / "prog.c"
    src.write_text(c_source())
    results = []
    for preload in (False, True):
        d = rn.tmp / f"gcc-{int(preload)}"
        d.mkdir()
        rn.run([cc, "-O2", "-S", "-o", d / "prog.s", src], preload)
        rn.run([cc, "-O2", "-o", d / "prog", src], preload)
        results.append(((d / "prog.s").read_text(), out(rn.run([d / "prog"], preload))))
    same("gcc -S assembly", results[0][0], results[1][0])
    same("compiled program output", results[0][1], results[1][1])
    rn.check_bindings()
    print(f"gcc: identical assembly ({len(results[0][0].splitlines())} lines) and program output, plain and preloaded")


def bootstrap(rn, args):
    prog, hook = str(Path(args.prog).resolve()), str(Path(args.hook).resolve())
    for order in ([rn.lib, hook], [hook, rn.lib], [rn.lib]):
        env = dict(rn.base, LD_PRELOAD=" ".join(order))
        names = " ".join(Path(p).name for p in order)
        try:
            r = subprocess.run([prog], env=env, capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            raise Failure(f"LD_PRELOAD='{names}': no exit within 10 s (deadlock at start-up?)")
        lines = dict(l.split(": ", 1) for l in r.stdout.splitlines() if ": " in l)
        if r.returncode != 0 or lines.get("bootstrap") != "ok":
            raise Failure(f"LD_PRELOAD='{names}': status {r.returncode}\n{r.stdout}{tail(r.stderr)}")
        if lines.get("tricolor") != "yes" or lines.get("counted before main") != "yes":
            raise Failure(f"LD_PRELOAD='{names}': allocations before main were not tricolor's\n{r.stdout}")
        if hook in order and int(lines.get("hooked opens", "-1")) < 2:
            raise Failure(f"LD_PRELOAD='{names}': the open() hook was not used\n{r.stdout}")
        print(f"bootstrap with LD_PRELOAD='{names}': ok, {lines.get('hooked opens')} hooked opens")


WORKLOADS = {"python": python_workload, "sqlite": sqlite_workload, "redis": redis_workload,
             "git": git_workload, "gcc": gcc_workload, "bootstrap": bootstrap}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", required=True, help="path of libtricolor.so")
    ap.add_argument("--prog", help="bootstrap: the test program")
    ap.add_argument("--hook", help="bootstrap: the open() hook library")
    ap.add_argument("--seconds", type=float, default=10, help="redis: seconds of redis-benchmark load")
    ap.add_argument("workload", choices=sorted(WORKLOADS))
    args = ap.parse_args()
    if not Path(args.lib).is_file():
        sys.exit(f"preload.py: {args.lib}: no such library")
    with tempfile.TemporaryDirectory(prefix=f"tc-{args.workload}-") as tmp:
        try:
            WORKLOADS[args.workload](Runner(args.lib, tmp), args)
        except Failure as e:
            print(f"FAIL {args.workload}: {e}")
            sys.exit(1)
    print(f"PASS {args.workload}")


if __name__ == "__main__":
    main()
