#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py: writes the seed inputs of seeds/gc and seeds/malloc.

Run from tests/fuzz. Each seed is a short random program weighted towards
one theme (graph, threads, finalizers, bulk copies, roots; malloc: mixed,
realloc, aligned). The op numbers are those of enum op in gc_fuzz.c and
of the switch in malloc_fuzz.c: keep them in step."""
import random, os
ALLOC,NOSCAN,UNC,STORE,LOAD,COPY,DROP,GSTORE,GLOAD,RANGE,RSTORE,RLOAD,MEMMOVE,MEMCLR,QSORT,FINAL,GCFREE,THREAD,JOIN,COLLECT,BG,CHECK,CHURN,PERCENT,HOLD,RELEASE=range(26)
def prog(seed, n, weights):
    r = random.Random(seed); out = bytearray()
    ops = list(weights)
    for _ in range(n):
        op = r.choices(ops, [weights[o] for o in ops])[0]
        out += bytes([op, r.randrange(16)]) + bytes(r.randrange(256) for _ in range(5))
    return bytes(out)
base = {ALLOC:6,NOSCAN:3,UNC:1,STORE:6,LOAD:3,COPY:2,DROP:3,GSTORE:2,GLOAD:1,RANGE:1,RSTORE:1,RLOAD:1,
        MEMMOVE:2,MEMCLR:1,QSORT:1,FINAL:2,GCFREE:1,THREAD:1,JOIN:1,COLLECT:1,BG:1,CHECK:1,CHURN:1,PERCENT:1,
        HOLD:2,RELEASE:1}
def w(**kw):
    d = dict(base); d.update({globals()[k]: v for k, v in kw.items()}); return d
open('seeds/gc/graph','wb').write(prog(1, 80, base))
open('seeds/gc/threads','wb').write(prog(2, 60, w(THREAD=6, JOIN=6, BG=2)))
open('seeds/gc/finalizers','wb').write(prog(3, 60, w(FINAL=8, DROP=6, COLLECT=3)))
open('seeds/gc/bulk','wb').write(prog(4, 60, w(MEMMOVE=8, MEMCLR=3, QSORT=3, BG=2)))
open('seeds/gc/midmark','wb').write(prog(6, 60, w(HOLD=6, RELEASE=3, MEMMOVE=4, MEMCLR=3, LOAD=5, STORE=5)))
open('seeds/gc/roots','wb').write(prog(5, 60, w(RANGE=5, RSTORE=5, RLOAD=3, UNC=4, GCFREE=3, BG=2)))
def mprog(seed, n, opw):
    r = random.Random(seed); out = bytearray()
    for _ in range(n):
        op = r.choices(list(opw), list(opw.values()))[0]
        out += bytes([op, r.randrange(64), r.choice([r.randrange(160), r.randrange(160,250), r.randrange(256)]), r.randrange(256), r.randrange(256)])
    return bytes(out)
open('seeds/malloc/mixed','wb').write(mprog(1, 120, {o:1 for o in range(12)}))
open('seeds/malloc/realloc','wb').write(mprog(2, 120, {0:3,3:8,9:2,10:2,11:1}))
open('seeds/malloc/aligned','wb').write(mprog(3, 120, {4:4,5:4,6:4,7:1,2:1,10:2,9:2}))
