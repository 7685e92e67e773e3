#!/usr/bin/env python3
"""The internal headers of alloc/ and gc/, one per line (for meson), or,
with --check ROOT H..., whether H... is still that list: meson lists them
when it configures, and a header added since must make it configure
again, or it would not be compiled alone."""
import os
import sys


def headers(root):
    out = []
    for d in ("alloc", "gc"):
        out += sorted(d + "/" + f for f in os.listdir(os.path.join(root, d)) if f.endswith(".h"))
    return out


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        now, listed = headers(sys.argv[2]), sys.argv[3:]
        if now != listed:
            print("headers now:    " + " ".join(sorted(set(now) - set(listed))) + " (new)")
            print("headers listed: " + " ".join(sorted(set(listed) - set(now))) + " (gone)")
            print("reconfigure (meson setup --reconfigure) to compile every header alone")
            return 1
        print("%d headers, each compiled alone" % len(now))
        return 0
    print("\n".join(headers(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
