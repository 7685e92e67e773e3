#!/usr/bin/env python3
"""ir2go.py: translate an escape-IR file into the equivalent Go program.

Usage: ir2go.py CASE.ir [OUT.go]      (writes to stdout without OUT.go)

Go line N is the translation of IR line N, so `go build -gcflags='-m -l'`
reports facts on the same line numbers as tricolor-escape (IR line 1 must
be a comment: it becomes `package main; import "unsafe"`). Every IR word is
an unsafe.Pointer; conversions between pointer types and unsafe.Add are
transparent to Go's escape analysis, so the flows are the IR's:

    var x        -> var x unsafe.Pointer        (var x N: [N/8]unsafe.Pointer,
                                                 or [N]byte when N % 8 != 0)
    x = new N    -> x = unsafe.Pointer(new([N/8]unsafe.Pointer))
    x = make N   -> x = unsafe.Pointer(&make([]unsafe.Pointer, dyn_)[0])
    x = &y       -> x = unsafe.Pointer(&y)
    x = p + N    -> x = unsafe.Add(p, N)
    x = *p       -> x = *(*unsafe.Pointer)(p)
    *p = v       -> *(*unsafe.Pointer)(p) = v
    loop N {     -> for i_ := 0; i_ < N; i_++ {
    if x {       -> if x != nil {
    print x      -> println(x)
    call ext(..) -> a package-level func variable (a dynamic call: Go
                    sends every argument to the heap, as the IR does)

An implicit local is declared on the line of its first definition when
every other use follows it in the same block (Go's scoping gives it the
same loop depth and the same per-iteration lifetime); otherwise it is
declared at the top of the function, and the translation says so on
stderr, because Go then sees loop depth 1. Programs Go cannot express
(a var used outside its block, a by-name use of a var whose size is not a
multiple of 8, an unknown function called with different arities) are
refused with a message.
"""
import re
import sys

GO_RESERVED = {
    "break", "case", "chan", "const", "continue", "default", "defer", "else",
    "fallthrough", "for", "func", "go", "goto", "if", "import", "interface",
    "map", "package", "range", "return", "select", "struct", "switch", "type",
    "var", "unsafe", "println", "i_", "dyn_", "nil", "true", "false",
}
TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(\d+)|([=&*+,(){}]))")


class Refused(Exception):
    pass


def tokens(text):
    code = text.split("#", 1)[0]
    out, pos = [], 0
    while True:
        m = TOKEN.match(code, pos)
        if not m or m.end() == pos:
            if code[pos:].strip():
                raise Refused("cannot tokenize %r" % code)
            return out
        out.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()


class Func:
    def __init__(self, name, params, nresults, line):
        self.name, self.params, self.nresults, self.line = name, params, nresults, line
        self.stmts = []          # (line, toks, block path)
        self.vars = {}           # name -> size
        self.occ = {}            # name -> [(line, path, is_def)]


def parse(lines):
    """Returns (globals {name: line}, [Func]). Blocks are identified by a
    path: the tuple of opening lines of the enclosing blocks."""
    globs, funcs, fn, path = {}, [], None, []
    for i, raw in enumerate(lines, 1):
        t = tokens(raw)
        if not t:
            continue
        if fn is None:
            if t[0] == "global":
                globs[t[1]] = i
            elif t[0] == "func":
                close = t.index(")")
                params = [x for x in t[3:close] if x != ","]
                nres = int(t[close + 2]) if t[close + 1] == "results" else 0
                fn = Func(t[1], params, nres, i)
                funcs.append(fn)
                path = [i]
            continue
        fn.stmts.append((i, t, tuple(path)))
        if t[0] == "}":
            path.pop()
            if t[1:2] == ["else"]:
                path.append(i)
            if not path:
                fn = None
        elif t[-1] == "{":
            path.append(i)
    return globs, funcs


def defs_uses(t):
    """Names a statement assigns and names it reads (IR names only)."""
    if t[0] in ("}", "loop"):
        return [], []
    if t[0] == "var":
        return [t[1]], []
    if t[0] in ("if", "print"):
        return [], [t[1]]
    if t[0] == "return":
        return [], [x for x in t[1:] if x != ","]
    if t[0] == "call":
        return [], [x for x in t[3:-1] if x != ","]
    if t[0] == "*":
        return [], [t[1], t[3]]
    eq = t.index("=")
    lhs = [x for x in t[:eq] if x != ","]
    rhs = t[eq + 1:]
    if rhs[0] == "call":
        return lhs, [x for x in rhs[3:-1] if x != ","]
    if rhs[0] in ("new", "make", "nil"):
        return lhs, []
    if rhs[0] in ("&", "*"):
        return lhs, [rhs[1]]
    return lhs, [rhs[0]]


def inside(path, block):
    return path[:len(block)] == block


class Translator:
    def __init__(self, lines):
        self.lines = lines
        self.globs, self.funcs = parse(lines)
        self.externs = {}   # unknown callee -> (nargs, nresults)
        self.uses_make = False
        self.notes = []
        self.known = {f.name: f for f in self.funcs}
        for n in list(self.globs) + [f.name for f in self.funcs]:
            if n in GO_RESERVED:
                raise Refused("name %s is reserved in the Go translation" % n)

    def ptr_type(self, size):
        return "unsafe.Pointer" if size == 8 else self.new_type(size)

    def plan(self, f):
        """Decide where each implicit local is declared."""
        f.locals = {}      # name -> 'line' (declared at its first def) | 'top'
        f.kinds = {p: "param" for p in f.params}
        order = []
        for line, t, path in f.stmts:
            d, u = defs_uses(t)
            if t[0] == "var":
                f.vars[t[1]] = int(t[2]) if len(t) > 2 else 8
                f.kinds[t[1]] = "var"
            for n in u:
                f.occ.setdefault(n, []).append((line, path, False))
            for n in d:
                f.occ.setdefault(n, []).append((line, path, True))
                if n not in f.kinds and n not in self.globs:
                    f.kinds[n] = "temp"
                    order.append(n)
            for n in u:
                if n not in f.kinds and n not in self.globs:
                    f.kinds[n] = "temp"
                    order.append(n)
        for n, kind in f.kinds.items():
            if n in GO_RESERVED:
                raise Refused("name %s is reserved in the Go translation" % n)
            if kind not in ("temp", "var"):
                continue
            occ = f.occ.get(n, [])
            first_line, first_path, first_def = occ[0] if occ else (0, (), False)
            straight = first_def and all(
                l > first_line or (l == first_line and d) for l, p, d in occ[1:]) and all(
                inside(p, first_path) for l, p, d in occ)
            # A read on the defining line itself (x = call f(x)) comes first.
            straight = straight and not any(l == first_line and not d for l, p, d in occ)
            if kind == "var":
                if not straight:
                    raise Refused("var %s is used outside the block of its var statement" % n)
                continue
            f.locals[n] = "line" if straight else "top"
            if not straight:
                self.notes.append("%s: %s declared at the top of the function" % (f.name, n))
        f.order = order

    def val(self, f, n):
        """The Go expression for reading or assigning the IR name n."""
        if f.kinds.get(n) != "var" or f.vars[n] == 8:
            return n
        if f.vars[n] % 8 or f.vars[n] == 0:
            raise Refused("var %s (%d bytes) is used as a word" % (n, f.vars[n]))
        return n + "[0]"

    def new_type(self, size):
        return "[%d]unsafe.Pointer" % (size // 8) if size % 8 == 0 else "[%d]byte" % size

    def stmt(self, f, t):
        v = lambda n: self.val(f, n)
        if t[0] == "}":
            return "} else {" if t[1:2] == ["else"] else "}"
        if t[0] == "var":
            return "var %s %s; _ = %s" % (t[1], self.ptr_type(f.vars[t[1]]), t[1])
        if t[0] == "loop":
            return "for i_ := 0; i_ < %s; i_++ {" % t[1]
        if t[0] == "if":
            return "if %s != nil {" % v(t[1])
        if t[0] == "print":
            return "println(%s)" % v(t[1])
        if t[0] == "return":
            return "return " + ", ".join(v(x) for x in t[1:] if x != ",")
        if t[0] == "*":
            return "*(*unsafe.Pointer)(%s) = %s" % (v(t[1]), v(t[3]))
        if t[0] == "call":
            return self.call(f, t[1:], [])
        eq = t.index("=")
        lhs = ", ".join(v(x) for x in t[:eq] if x != ",")
        r = t[eq + 1:]
        if r[0] == "call":
            return self.call(f, r[1:], [x for x in t[:eq] if x != ","])
        if r[0] == "new":
            rhs = "unsafe.Pointer(new(%s))" % self.new_type(int(r[1]))
        elif r[0] == "make":
            self.uses_make = True
            rhs = "unsafe.Pointer(&make([]unsafe.Pointer, dyn_)[0])"
        elif r[0] == "nil":
            rhs = "nil"
        elif r[0] == "&":
            rhs = "unsafe.Pointer(&%s)" % r[1]
        elif r[0] == "*":
            rhs = "*(*unsafe.Pointer)(%s)" % v(r[1])
        elif len(r) == 3:
            rhs = "unsafe.Add(%s, %s)" % (v(r[0]), r[2])
        elif r[0] == t[0] and v(r[0]).endswith("[0]"):
            # x = x for an array var: no flow either way; written as a use
            # so that Go does not print "ignoring self-assignment in x[0] = x[0]"
            return "_ = %s" % v(r[0])
        else:
            rhs = v(r[0])
        return "%s = %s" % (lhs, rhs)

    def call(self, f, t, outs):
        name = t[0]
        args = [x for x in t[2:-1] if x != ","]
        if name not in self.known:
            sig = (len(args), len(outs))
            if self.externs.setdefault(name, sig) != sig:
                raise Refused("unknown function %s is called with different arities" % name)
        text = "%s(%s)" % (name, ", ".join(self.val(f, a) for a in args))
        if outs:
            text = "%s = %s" % (", ".join(self.val(f, o) for o in outs), text)
        return text

    def func_header(self, f):
        params = (", ".join(f.params) + " unsafe.Pointer") if f.params else ""
        res = ""
        if f.nresults == 1:
            res = " unsafe.Pointer"
        elif f.nresults > 1:
            res = " (" + ", ".join(["unsafe.Pointer"] * f.nresults) + ")"
        top = [n for n in f.order if f.locals.get(n) == "top"]
        decl = ""
        if top:
            decl = " var %s unsafe.Pointer; %s = %s" % (
                ", ".join(top), ", ".join("_" for _ in top), ", ".join(top))
        return "func %s(%s)%s {%s" % (f.name, params, res, decl)

    def translate(self):
        out = [None] * len(self.lines)
        first = tokens(self.lines[0]) if self.lines else ["x"]
        if first:
            raise Refused("IR line 1 must be a comment or empty (it holds the Go package clause)")
        for f in self.funcs:
            self.plan(f)
        for name, line in self.globs.items():
            out[line - 1] = "var %s unsafe.Pointer" % name
        for f in self.funcs:
            out[f.line - 1] = self.func_header(f)
            declared = set()
            for line, t, path in f.stmts:
                text = self.stmt(f, t)
                d, _ = defs_uses(t)
                new = [n for n in d if f.locals.get(n) == "line" and n not in declared]
                declared.update(new)
                if new:
                    text = "var %s unsafe.Pointer; %s; %s = %s" % (
                        ", ".join(new), text, ", ".join("_" for _ in new), ", ".join(new))
                if t[0] == "}" and line == f.stmts[-1][0] and f.nresults:
                    text = "return %s }" % ", ".join(["nil"] * f.nresults)
                out[line - 1] = text
        for i, raw in enumerate(self.lines):
            comment = raw.split("#", 1)[1].strip() if "#" in raw else ""
            code = out[i] or ""
            if code:
                code = raw[:len(raw) - len(raw.lstrip())] + code  # keep the indentation
            if comment:
                code = (code + " // " if code else "// ") + comment
            out[i] = code
        out[0] = 'package main; import "unsafe" ' + out[0]
        tail = ["", "// Declarations the IR does not spell out.", "var _ unsafe.Pointer"]
        if self.uses_make:
            tail.append("var dyn_ = 1 // a size the compiler cannot see")
        for name, (na, nr) in sorted(self.externs.items()):
            res = "" if nr == 0 else (" unsafe.Pointer" if nr == 1 else
                                      " (" + ", ".join(["unsafe.Pointer"] * nr) + ")")
            tail.append("var %s func(%s)%s // unknown code" % (
                name, ", ".join(["unsafe.Pointer"] * na), res))
        if "main" not in self.known:
            tail.append("func main() {}")
        return "\n".join(out + tail) + "\n"


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    with open(sys.argv[1]) as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    try:
        tr = Translator(lines)
        text = tr.translate()
    except Refused as e:
        sys.exit("%s: not expressible in Go: %s" % (sys.argv[1], e))
    for n in tr.notes:
        print("%s: note: %s" % (sys.argv[1], n), file=sys.stderr)
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
