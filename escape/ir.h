/* escape/ir.h: the escape IR in memory (see docs/escape-ir.md).
 *
 * A program is a list of globals and functions. A function owns a table
 * of names (its parameters first, then vars and implicit locals in order
 * of first appearance), a table of allocation sites (one per `var`, `new`
 * and `make` statement, in source order) and a tree of statements.
 * The parser fills everything; the analysis and the interpreter only read.
 *
 * A name reference (`struct tc_ir_stmt` fields dst, src, args, outs) is
 * an int: >= 0 is an index into the function's name table, <= -2 is the
 * global number -(ref + 2), and -1 means "none". */
#ifndef TC_ESCAPE_IR_H
#define TC_ESCAPE_IR_H

#include <stddef.h>
#include <stdint.h>

#define TC_IR_NONE (-1)
#define TC_IR_GLOBAL_REF(i) (-2 - (i))
static inline int tc_ir_is_global(int ref) { return ref <= -2; }
static inline int tc_ir_global_index(int ref) { return -2 - ref; }

/* Go's limits (cmd/compile/internal/ir/cfg.go). */
#define TC_IR_MAX_STACK_VAR (10u * 1024 * 1024)   /* explicit var, bytes */
#define TC_IR_MAX_IMPLICIT_STACK (64u * 1024)     /* new(T), bytes */
/* Go 1.19 keeps per-parameter leaks to the heap and the first 7 results
 * (escape/leaks.go numEscResults); later results count as the heap. */
#define TC_IR_NUM_ESC_RESULTS 7

enum tc_ir_op {
    TC_IR_VAR,     /* var NAME [SIZE]          dst, n=size, site         */
    TC_IR_NEW,     /* NAME = new SIZE          dst, n=size, site         */
    TC_IR_MAKE,    /* NAME = make N            dst, n=size, site         */
    TC_IR_ADDR,    /* NAME = &NAME             dst, src (a var)          */
    TC_IR_COPY,    /* NAME = NAME              dst, src                  */
    TC_IR_FIELD,   /* NAME = NAME + N          dst, src, n=offset        */
    TC_IR_LOAD,    /* NAME = *NAME             dst, src                  */
    TC_IR_STORE,   /* *NAME = NAME             dst (the pointer), src    */
    TC_IR_NIL,     /* NAME = nil               dst                       */
    TC_IR_CALL,    /* [outs =] call F(args)    callee, args, outs        */
    TC_IR_RETURN,  /* return [args]            args                      */
    TC_IR_LOOP,    /* loop N { body }          n=count, body, loop_id    */
    TC_IR_IF,      /* if NAME { body } else { els }   src, body, els     */
    TC_IR_PRINT,   /* print NAME               src                       */
};

struct tc_ir_stmt;

struct tc_ir_block {
    struct tc_ir_stmt *stmts;
    int n, cap;
};

struct tc_ir_stmt {
    enum tc_ir_op op;
    int line;           /* source line */
    int depth;          /* loop depth: 1 in the function body, +1 per loop */
    int dst, src;       /* name references, TC_IR_NONE when unused */
    uint64_t n;         /* size in bytes, loop count or field offset */
    int site;           /* VAR/NEW/MAKE: index into the function's sites */
    int loop_id;        /* LOOP: index of this loop within its function */
    int callee;         /* CALL: function index, or -1 for unknown code */
    char *callee_name;  /* CALL: as written */
    int *args, nargs;   /* CALL arguments, RETURN values */
    int *outs, nouts;   /* CALL results assigned (0 = discarded) */
    struct tc_ir_block body, els;
};

enum tc_ir_name_kind {
    TC_IR_PARAM,    /* a parameter: one word, no address */
    TC_IR_TEMP,     /* an implicit local: one word, no address */
    TC_IR_VARNAME,  /* declared with var: an addressable object */
};

struct tc_ir_name {
    char *name;
    enum tc_ir_name_kind kind;
    int line;         /* line of the var statement or first definition */
    int def_depth;    /* Go's loopDepth: depth of that statement (params 1) */
    int hold_depth;   /* depth used when this name holds a pointer; see
                         liveness.c (equal to def_depth for Go programs) */
    int site;         /* VARNAME: its allocation site */
};

struct tc_ir_site {
    enum tc_ir_op op;  /* TC_IR_VAR, TC_IR_NEW or TC_IR_MAKE */
    int line;
    int depth;         /* loop depth of the statement */
    uint64_t size;     /* bytes */
    int name;          /* TC_IR_VAR: the var's name index, else -1 */
};

struct tc_ir_func {
    char *name;
    int line, end_line;
    int nparams, nresults;
    struct tc_ir_name *names;  /* params are names[0 .. nparams-1] */
    int nnames, cap_names;
    struct tc_ir_site *sites;
    int nsites, cap_sites;
    int nloops;
    struct tc_ir_block body;
};

struct tc_ir_global {
    char *name;
    int line;
};

struct tc_ir_prog {
    struct tc_ir_global *globals;
    int nglobals, cap_globals;
    struct tc_ir_func *funcs;
    int nfuncs, cap_funcs;
    int main_func;   /* index of func main, or -1 */
};

/* A parse or analysis error: line (1-based) and message. */
struct tc_ir_error {
    int line;
    char msg[256];
};

/* Parse the IR text (need not be NUL-terminated). Returns a program, or
 * NULL with *err filled for the first error in the input. */
struct tc_ir_prog *tc_ir_parse(const char *text, size_t len, struct tc_ir_error *err);

void tc_ir_free(struct tc_ir_prog *p);

/* Fill hold_depth of every name (liveness.c). Called by tc_ir_parse. */
int tc_ir_compute_hold_depths(struct tc_ir_prog *p);

/* Allocation helpers shared by the parser (ir.c). All return NULL or -1
 * only when memory runs out. */
struct tc_ir_stmt *tc_ir_block_push(struct tc_ir_block *b);
int tc_ir_func_add_name(struct tc_ir_func *f, const char *name, enum tc_ir_name_kind kind,
                        int line, int depth);
int tc_ir_func_add_site(struct tc_ir_func *f, enum tc_ir_op op, int line, int depth,
                        uint64_t size, int name);
int tc_ir_prog_add_global(struct tc_ir_prog *p, const char *name, int line);
int tc_ir_prog_add_func(struct tc_ir_prog *p, const char *name, int line);
int tc_ir_func_find_name(const struct tc_ir_func *f, const char *name);
int tc_ir_prog_find_global(const struct tc_ir_prog *p, const char *name);
int tc_ir_prog_find_func(const struct tc_ir_prog *p, const char *name);
char *tc_ir_strdup(const char *s);

/* Name of a reference for messages ("g" for a global, "x" for a local). */
const char *tc_ir_ref_name(const struct tc_ir_prog *p, const struct tc_ir_func *f, int ref);

#endif /* TC_ESCAPE_IR_H */
