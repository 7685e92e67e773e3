/* tests/escape/gen_test.c: thousands of random IR programs, run three ways.
 *
 * A seeded generator writes well-formed programs: a few globals, a few
 * functions calling earlier ones (and sometimes themselves or later ones,
 * so recursion and mutually recursive batches appear), and a main; bodies
 * mix vars, new/make, &, copies, fields, loads and stores (guarded by
 * `if p` so most programs do not stop at a nil), calls with results,
 * prints, loops and ifs up to three deep. On purpose it also emits what
 * only the IR allows: names read before their first definition inside a
 * loop (a value carried to the next iteration), vars used after the block
 * that declared them, names defined in one loop and used in another.
 *
 * Each program is parsed, analysed and run in-process:
 *   A  with the decisions and --check: nothing may be unsound;
 *   B  with every object on the heap: same prints, same fault, same step
 *      and allocation counts as A, and no stack allocation;
 *   C  with the decisions, unchecked: same as A.
 * Faults (a nil load, a past-the-end store, the small step and depth
 * limits used here) are fine as long as all three runs agree on them.
 * The test also checks it is not vacuous: enough programs must place
 * objects on the stack, print, and finish without a fault.
 *
 * Environment: at most TC_ESCAPE_GEN_COUNT programs (default 3000) or as
 * many as TC_ESCAPE_GEN_SECONDS allow (default 5), at least 300, starting
 * at seed TC_ESCAPE_GEN_SEED (default 1); a failure prints the program.
 * TC_ESCAPE_GEN_DUMP=DIR also writes each program to DIR/gen_SEED.ir
 * (with a comment first line, as ir2go.py wants), for comparing with Go
 * at scale: see go_random_check.py. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "harness.h"

#define MAXF 5       /* functions besides main */
#define MAXN 64      /* names per function */

struct gen {
    uint64_t rng;
    char *buf;
    size_t len, cap;
    int ntext;                   /* lines written */
    int nfuncs, nglobals;
    int nparams[MAXF + 1], nresults[MAXF + 1];
    int cur;                     /* function being written (nfuncs = main) */
    char names[MAXN][16];         /* readable names: params, temps, in-scope vars */
    int nnames;
    char vars[MAXN][16];
    int var_level[MAXN];         /* nesting level of the block declaring it; -1 once closed */
    int nvars;
    int ntemps, nvardecls;
    int level;
};

static uint64_t rnd(struct gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545F4914F6CDD1DULL;
}

static int pick(struct gen *g, int n) { return (int)(rnd(g) % (uint64_t)n); }
static int chance(struct gen *g, int percent) { return pick(g, 100) < percent; }

static void emit(struct gen *g, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g->len + (size_t)n + (size_t)g->level * 4 + 2 > g->cap) {
        g->cap = (g->cap + (size_t)n + 4096) * 2;
        g->buf = realloc(g->buf, g->cap);
        if (!g->buf) abort();
    }
    for (int i = 0; i < g->level; i++) { memcpy(g->buf + g->len, "    ", 4); g->len += 4; }
    memcpy(g->buf + g->len, line, (size_t)n);
    g->len += (size_t)n;
    g->buf[g->len++] = '\n';
    g->buf[g->len] = '\0';
    g->ntext++;
}

static void add_name(struct gen *g, const char *n)
{
    for (int i = 0; i < g->nnames; i++)
        if (strcmp(g->names[i], n) == 0) return;
    if (g->nnames < MAXN) snprintf(g->names[g->nnames++], sizeof g->names[0], "%.*s", (int)sizeof g->names[0] - 1, n);
}

/* A name to read: a known local, an in-scope var (usually), or a global. */
static const char *value(struct gen *g)
{
    static char buf[16];
    int nv = 0;
    for (int i = 0; i < g->nvars; i++) nv += g->var_level[i] >= 0 || chance(g, 3);
    int total = g->nnames + g->nglobals + (nv ? 1 : 0);
    if (total == 0) return NULL;
    int k = pick(g, total);
    if (k < g->nnames) return g->names[k];
    if (k < g->nnames + g->nglobals) {
        snprintf(buf, sizeof buf, "g%d", k - g->nnames);
        return buf;
    }
    for (int tries = 0; tries < 8; tries++) {
        int v = pick(g, g->nvars);
        if (g->var_level[v] >= 0 || chance(g, 10)) return g->vars[v];
    }
    return g->nnames ? g->names[0] : NULL;
}

/* A var for &: usually one in scope, rarely one whose block has closed. */
static const char *addr_var(struct gen *g)
{
    if (!g->nvars) return NULL;
    for (int tries = 0; tries < 8; tries++) {
        int v = pick(g, g->nvars);
        if (g->var_level[v] >= 0 || chance(g, 8)) return g->vars[v];
    }
    return NULL;
}

/* A destination: a new temp, an existing local, sometimes a global. */
static const char *dest(struct gen *g)
{
    static char buf[16];
    if (g->nglobals && chance(g, 10)) {
        snprintf(buf, sizeof buf, "g%d", pick(g, g->nglobals));
        return buf;
    }
    if (g->nnames && chance(g, 45)) return g->names[pick(g, g->nnames)];
    if (g->nvars && chance(g, 15)) {
        int v = pick(g, g->nvars);
        if (g->var_level[v] >= 0) return g->vars[v];
    }
    snprintf(buf, sizeof buf, "t%d", g->ntemps++);
    return buf;
}

static void assign(struct gen *g, const char *d, const char *fmt, ...)
{
    char rhs[256], dd[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rhs, sizeof rhs, fmt, ap);
    va_end(ap);
    snprintf(dd, sizeof dd, "%s", d);
    emit(g, "%s = %s", dd, rhs);
    if (dd[0] == 't' || dd[0] == 'p') add_name(g, dd);
}

static void block(struct gen *g, int nstmts);

static void open_block(struct gen *g) { g->level++; }

static void close_block(struct gen *g, int else_follows)
{
    for (int i = 0; i < g->nvars; i++)
        if (g->var_level[i] >= g->level) g->var_level[i] = -1;
    g->level--;
    emit(g, else_follows ? "} else {" : "}");
}

static void call_stmt(struct gen *g)
{
    int callee;
    if (g->cur > 0 && chance(g, 85)) callee = pick(g, g->cur);       /* an earlier function */
    else callee = pick(g, g->nfuncs + 1 < MAXF ? g->nfuncs + 1 : MAXF); /* may recurse */
    char args[256] = "", outs[256] = "", name[16];
    int unknown = callee >= g->nfuncs;
    if (unknown) snprintf(name, sizeof name, "ext%d", pick(g, 2));
    else snprintf(name, sizeof name, "f%d", callee);
    int na = unknown ? pick(g, 3) : g->nparams[callee];
    for (int i = 0; i < na; i++) {
        const char *v = value(g);
        char fresh[16];
        if (!v) { /* nothing to pass yet: a nil temp */
            snprintf(fresh, sizeof fresh, "t%d", g->ntemps++);
            assign(g, fresh, "nil");
            v = fresh;
        }
        snprintf(args + strlen(args), sizeof args - strlen(args), "%s%s", i ? ", " : "", v);
    }
    int nr = unknown ? pick(g, 2) : g->nresults[callee];
    if (nr && chance(g, 80)) {
        char got[4][16];
        for (int i = 0; i < nr; i++) {
            snprintf(got[i], sizeof got[i], "%s", dest(g));
            for (int j = 0; j < i; j++) /* a call assigns each name once */
                if (strcmp(got[i], got[j]) == 0) snprintf(got[i], sizeof got[i], "t%d", g->ntemps++);
            snprintf(outs + strlen(outs), sizeof outs - strlen(outs), "%s%s", i ? ", " : "", got[i]);
        }
        emit(g, "%s = call %s(%s)", outs, name, args);
        for (int i = 0; i < nr; i++)
            if (got[i][0] == 't') add_name(g, got[i]);
    } else {
        emit(g, "call %s(%s)", name, args);
    }
}

static void stmt(struct gen *g)
{
    const char *v, *w;
    int k = pick(g, 100);
    if (k < 8) { /* var */
        if (g->nvars < MAXN) {
            static const int sizes[] = {8, 8, 16, 16, 24, 4};
            char *nm = g->vars[g->nvars];
            snprintf(nm, sizeof g->vars[0], "v%d", g->nvardecls++);
            g->var_level[g->nvars++] = g->level;
            int s = sizes[pick(g, 6)];
            if (s == 8) emit(g, "var %s", nm);
            else emit(g, "var %s %d", nm, s);
        }
    } else if (k < 20) { /* new */
        static const int sizes[] = {8, 16, 16, 24, 32, 70000};
        const char *d = dest(g); /* one call per statement: argument order is unspecified */
        assign(g, d, "new %d", sizes[pick(g, 6)]);
    } else if (k < 22) {
        const char *d = dest(g);
        assign(g, d, "make %d", 8 * (1 + pick(g, 4)));
    } else if (k < 32) {
        if ((v = addr_var(g))) assign(g, dest(g), "&%s", v);
    } else if (k < 41) {
        if ((v = value(g))) { char s[16]; snprintf(s, sizeof s, "%s", v); assign(g, dest(g), "%s", s); }
    } else if (k < 45 || (k < 55 && g->level < 4)) { /* guarded field, load or store */
        if (!(v = value(g))) return;
        char p[16];
        snprintf(p, sizeof p, "%s", v);
        emit(g, "if %s {", p);
        open_block(g);
        if (k < 45) {
            const char *d = dest(g);
            assign(g, d, "%s + %d", p, chance(g, 80) ? 0 : 8);
        } else if (chance(g, 55)) {
            assign(g, dest(g), "*%s", p);
        } else if ((w = value(g))) {
            emit(g, "*%s = %s", p, w);
        }
        close_block(g, 0);
    } else if (k < 58) {
        assign(g, dest(g), "nil");
    } else if (k < 68) {
        call_stmt(g);
    } else if (k < 82) {
        if ((v = value(g))) emit(g, "print %s", v);
    } else if (k < 91 && g->level < 3) { /* loop, maybe with a value carried across iterations */
        emit(g, "loop %d {", pick(g, 4));
        open_block(g);
        if (chance(g, 25)) {
            char carried[16];
            snprintf(carried, sizeof carried, "t%d", g->ntemps++);
            emit(g, "print %s", carried);
            block(g, 1 + pick(g, 4));
            assign(g, carried, chance(g, 50) ? "new 16" : "nil");
            if (chance(g, 50) && g->nvars && g->var_level[g->nvars - 1] >= 0)
                assign(g, carried, "&%s", g->vars[g->nvars - 1]);
        } else {
            block(g, 1 + pick(g, 5));
        }
        close_block(g, 0);
    } else if (g->level < 3) {
        if (!(v = value(g))) return;
        emit(g, "if %s {", v);
        open_block(g);
        block(g, 1 + pick(g, 4));
        int has_else = chance(g, 40);
        close_block(g, has_else);
        if (has_else) {
            open_block(g);
            block(g, 1 + pick(g, 3));
            close_block(g, 0);
        }
    }
}

static void block(struct gen *g, int n)
{
    for (int i = 0; i < n; i++) stmt(g);
}

static void function(struct gen *g, int fi)
{
    int is_main = fi == g->nfuncs;
    g->cur = fi;
    g->nnames = g->nvars = 0;
    g->ntemps = g->nvardecls = 0;
    char params[128] = "";
    for (int i = 0; !is_main && i < g->nparams[fi]; i++) {
        char p[16];
        snprintf(p, sizeof p, "p%d", i);
        snprintf(params + strlen(params), sizeof params - strlen(params), "%s%s", i ? ", " : "", p);
        add_name(g, p);
    }
    if (is_main) emit(g, "func main() {");
    else if (g->nresults[fi]) emit(g, "func f%d(%s) results %d {", fi, params, g->nresults[fi]);
    else emit(g, "func f%d(%s) {", fi, params);
    open_block(g);
    block(g, 3 + pick(g, is_main ? 14 : 8));
    if (!is_main && g->nresults[fi]) {
        char rets[128] = "";
        for (int i = 0; i < g->nresults[fi]; i++) {
            const char *v = value(g);
            if (!v) { assign(g, "t99", "nil"); v = "t99"; }
            snprintf(rets + strlen(rets), sizeof rets - strlen(rets), "%s%s", i ? ", " : "", v);
        }
        emit(g, "return %s", rets);
    }
    close_block(g, 0);
}

static char *generate(uint64_t seed)
{
    struct gen g;
    memset(&g, 0, sizeof g);
    g.rng = seed * 0x9E3779B97F4A7C15ULL + 1;
    g.nglobals = pick(&g, 3);
    g.nfuncs = pick(&g, MAXF + 1);
    for (int i = 0; i < g.nglobals; i++) emit(&g, "global g%d", i);
    for (int i = 0; i < g.nfuncs; i++) {
        g.nparams[i] = pick(&g, 4);
        g.nresults[i] = pick(&g, 3);
    }
    for (int i = 0; i <= g.nfuncs; i++) function(&g, i);
    return g.buf;
}

/* ---- running ---------------------------------------------------------- */

struct outcome {
    char *out;
    size_t len;
    struct tc_escape_run_report rep;
};

static void run(const struct tc_ir_prog *p, const struct tc_escape_result *r, int check, int all_heap,
                struct outcome *o)
{
    struct tc_escape_run_opts opts;
    tc_escape_run_opts_default(&opts);
    opts.check = check;
    opts.all_heap = all_heap;
    opts.max_steps = 20000;
    opts.max_depth = 48;
    FILE *f = open_memstream(&o->out, &o->len);
    if (!f) abort();
    tc_escape_run(p, r, &opts, f, &o->rep);
    fclose(f);
}

static int same(const struct outcome *a, const struct outcome *b)
{
    return a->len == b->len && memcmp(a->out, b->out, a->len) == 0 && a->rep.status == b->rep.status &&
           a->rep.line == b->rep.line && strcmp(a->rep.msg, b->rep.msg) == 0 && a->rep.steps == b->rep.steps &&
           a->rep.stack_allocs + a->rep.heap_allocs == b->rep.stack_allocs + b->rep.heap_allocs;
}

static void report(uint64_t seed, const char *text, const char *what, const struct outcome *o, int n)
{
    fprintf(stderr, "program %llu: %s\n%s", (unsigned long long)seed, what, text);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "--- run %c: status %d line %d %s\n%.*s", 'A' + i, o[i].rep.status, o[i].rep.line,
                o[i].rep.msg, (int)o[i].len, o[i].out);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 10) : dflt;
}

TEST(generated_programs)
{
    uint64_t max = env_u64("TC_ESCAPE_GEN_COUNT", 3000), first_seed = env_u64("TC_ESCAPE_GEN_SEED", 1);
    double end = tc_test_now() + tc_test_seconds("TC_ESCAPE_GEN_SECONDS", 5);
    const char *dump = getenv("TC_ESCAPE_GEN_DUMP");
    uint64_t with_stack = 0, printed = 0, clean = 0, heap_decided = 0, faulted = 0, count = 0;
    for (uint64_t i = 0; i < max && (i < 300 || tc_test_now() < end); i++, count++) {
        uint64_t seed = first_seed + i;
        char *text = generate(seed);
        if (dump) {
            char path[4096];
            snprintf(path, sizeof path, "%s/gen_%llu.ir", dump, (unsigned long long)seed);
            FILE *f = fopen(path, "w");
            ASSERT_TRUE(f != NULL);
            fprintf(f, "# generated program, seed %llu\n%s", (unsigned long long)seed, text);
            fclose(f);
        }
        struct tc_ir_error err;
        struct tc_ir_prog *p = tc_ir_parse(text, strlen(text), &err);
        if (!p) {
            fprintf(stderr, "program %llu does not parse: line %d: %s\n%s", (unsigned long long)seed,
                    err.line, err.msg, text);
            TC_FAIL_("generated program does not parse");
            free(text);
            return;
        }
        struct tc_escape_result res;
        ASSERT_TRUE(tc_escape_analyze(p, &res) == 0);
        struct outcome o[3];
        memset(o, 0, sizeof o);
        run(p, &res, 1, 0, &o[0]);
        run(p, &res, 0, 1, &o[1]);
        run(p, &res, 0, 0, &o[2]);
        int ok = 1;
        if (o[0].rep.status == TC_RUN_UNSOUND) { report(seed, text, "unsound", o, 1); ok = 0; }
        else if (!same(&o[0], &o[1])) { report(seed, text, "decisions and --all-heap differ", o, 2); ok = 0; }
        else if (o[1].rep.stack_allocs != 0) { report(seed, text, "--all-heap used the stack", o, 2); ok = 0; }
        else if (!same(&o[0], &o[2])) { report(seed, text, "checked and unchecked runs differ", o, 3); ok = 0; }
        with_stack += o[0].rep.stack_allocs > 0;
        heap_decided += o[0].rep.heap_allocs > 0 && o[0].rep.stack_allocs > 0;
        printed += o[0].len > 0;
        clean += o[0].rep.status == TC_RUN_OK;
        faulted += o[0].rep.status == TC_RUN_FAULT;
        for (int k = 0; k < 3; k++) free(o[k].out);
        tc_escape_result_free(&res);
        tc_ir_free(p);
        free(text);
        if (!ok) { TC_FAIL_("program %llu failed", (unsigned long long)seed); return; }
    }
    printf("%llu programs: %llu used the stack, %llu mixed stack and heap, %llu printed, "
           "%llu ran to the end, %llu faulted\n", (unsigned long long)count, (unsigned long long)with_stack,
           (unsigned long long)heap_decided, (unsigned long long)printed, (unsigned long long)clean,
           (unsigned long long)faulted);
    /* Not vacuous: most programs exercise both placements and finish. */
    EXPECT_TRUE(with_stack * 2 > count);
    EXPECT_TRUE(heap_decided * 4 > count);
    EXPECT_TRUE(printed * 2 > count);
    EXPECT_TRUE(clean * 2 > count);
}

TC_TEST_MAIN()
