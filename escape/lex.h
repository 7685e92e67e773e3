/* escape/lex.h: splitting one IR line into tokens (lex.c). */
#ifndef TC_ESCAPE_LEX_H
#define TC_ESCAPE_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

enum tc_ir_tok_kind {
    TC_TOK_END,    /* end of line */
    TC_TOK_NAME,   /* [A-Za-z_][A-Za-z0-9_]*  (keywords too) */
    TC_TOK_NUM,    /* decimal */
    TC_TOK_PUNCT,  /* one of = & * + , ( ) { } */
};

#define TC_TOK_NAME_MAX 128

struct tc_ir_tok {
    enum tc_ir_tok_kind kind;
    char text[TC_TOK_NAME_MAX + 1]; /* NAME text, NUM digits, or the punct */
    uint64_t num;                   /* NUM value */
};

/* Largest number the IR accepts (2^53): sizes, counts and offsets stay
 * exact in every later computation. */
#define TC_IR_NUM_MAX (UINT64_C(1) << 53)

/* The tokens of one line; tok[n] is TC_TOK_END. */
struct tc_ir_line {
    struct tc_ir_tok *tok;
    int n, cap;
};

/* Tokenize line [s, s+len) (without its newline). Returns 0, or -1 with
 * *err filled (err->line is set by the caller's line number). */
int tc_ir_lex_line(const char *s, size_t len, int line, struct tc_ir_line *out,
                   struct tc_ir_error *err);

/* Whether a NAME token is one of the IR's keywords. */
int tc_ir_is_keyword(const char *s);

#endif /* TC_ESCAPE_LEX_H */
