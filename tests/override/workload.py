"""A deterministic Python workload for the LD_PRELOAD test.

Run once on glibc's malloc and again with libtricolor preloaded (also
with PYTHONMALLOC=malloc, which sends every object through malloc); the
output must be identical. Each section prints a digest of what it built,
so a corrupted object anywhere changes the output. Set iteration order
depends on PYTHONHASHSEED, which the driver fixes; nothing printed here
depends on it anyway.
"""
import collections
import decimal
import fractions
import hashlib
import json
import math
import random
import re
import zlib


def digest(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


def dicts_and_lists(rng):
    d = {}
    for i in range(150000):
        d[f"k{i:06d}-{rng.randrange(10**9)}"] = [i, str(i) * (i % 7), (i, i * 2)]
    for k in list(d)[::3]:
        del d[k]
    lists = [[rng.random() for _ in range(rng.randrange(1, 50))] for _ in range(20000)]
    total = sum(len(v[1]) for v in d.values()) + sum(len(x) for x in lists)
    return len(d), total, digest(sorted(d)[:100])


def json_round_trip(rng):
    doc = {
        f"user{i}": {
            "id": i,
            "name": "".join(rng.choice("abcdefghij") for _ in range(12)),
            "tags": [rng.randrange(1000) for _ in range(rng.randrange(20))],
            "nested": {"score": rng.randrange(10**6) / 7, "ok": bool(i % 2), "none": None},
        }
        for i in range(20000)
    }
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    assert back == doc
    pretty = json.dumps(back, indent=2, sort_keys=True)
    return len(text), len(pretty), hashlib.sha256(text.encode()).hexdigest()[:16]


def sorting(rng):
    rows = [(rng.randrange(100), rng.random(), f"s{rng.randrange(10**6)}") for _ in range(200000)]
    by_all = sorted(rows)
    by_str = sorted(rows, key=lambda r: (r[2], -r[0]))
    return digest(by_all[::997]), digest(by_str[::991])


def regexes(rng):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    text = " ".join(rng.choice(words) + str(rng.randrange(100)) for _ in range(150000))
    found = re.findall(r"\b(\w+?)(\d+)\b", text)
    swapped = re.sub(r"(\w+?)(\d+)", r"\2-\1", text)
    counts = collections.Counter(w for w, _ in found)
    return len(found), len(swapped), sorted(counts.items())


def numbers():
    f = math.factorial(1200)  # < 4300 digits: str() limit
    digits = sum(int(c) for c in str(f))
    decimal.getcontext().prec = 200
    root = decimal.Decimal(2).sqrt()
    harmonic = sum(fractions.Fraction(1, k) for k in range(1, 300))
    return digits, str(root)[:60], harmonic.denominator % 1000003


def bytes_and_zlib(rng):
    chunks = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(2000)]
    blob = b"".join(chunks) * 3
    packed = zlib.compress(blob, 6)
    assert zlib.decompress(packed) == blob
    ba = bytearray()
    for c in chunks:
        ba += c[::-1]
    return len(blob), len(packed), hashlib.sha256(ba).hexdigest()[:16]


class Node:
    __slots__ = ("value", "children")

    def __init__(self, value):
        self.value = value
        self.children = []


def objects(rng):
    nodes = [Node(i) for i in range(100000)]
    for n in nodes[1:]:
        nodes[rng.randrange(n.value)].children.append(n)
    order = list(range(len(nodes)))
    rng.shuffle(order)
    depth_sum, stack = 0, [(nodes[0], 0)]
    while stack:
        n, depth = stack.pop()
        depth_sum += depth
        stack.extend((c, depth + 1) for c in n.children)
    for i in order:  # release in random order
        nodes[i] = None
    return depth_sum


def main():
    rng = random.Random(20240601)
    print("dicts", dicts_and_lists(rng))
    print("json", json_round_trip(rng))
    print("sort", sorting(rng))
    print("regex", regexes(rng))
    print("numbers", numbers())
    print("bytes", bytes_and_zlib(rng))
    print("objects", objects(rng))


if __name__ == "__main__":
    main()
