/* escape/lex.c: the IR's tokens.
 *
 * The IR has one statement per line, so the lexer works a line at a time
 * and the parser never looks across a newline. '#' starts a comment that
 * runs to the end of the line. Every byte that cannot start a token is an
 * error naming the byte, so binary garbage (the fuzz test feeds plenty)
 * stops at the first bad byte with a readable message. */
#include "lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keywords[] = {
    "global", "func", "results", "var", "new", "make", "call",
    "return", "loop", "if", "else", "print", "nil",
};

int tc_ir_is_keyword(const char *s)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(s, keywords[i]) == 0) return 1;
    return 0;
}

static int is_name_start(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

static int fail(struct tc_ir_error *err, int line, const char *msg, int c)
{
    err->line = line;
    if (c < 0)
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    else if (c >= 0x21 && c < 0x7f)
        snprintf(err->msg, sizeof err->msg, "%s '%c'", msg, c);
    else
        snprintf(err->msg, sizeof err->msg, "%s (byte 0x%02x)", msg, c);
    return -1;
}

static struct tc_ir_tok *push(struct tc_ir_line *out)
{
    if (out->n + 1 >= out->cap) {
        int ncap = out->cap ? out->cap * 2 : 16;
        struct tc_ir_tok *t = realloc(out->tok, (size_t)ncap * sizeof *t);
        if (!t) return NULL;
        out->tok = t;
        out->cap = ncap;
    }
    struct tc_ir_tok *t = &out->tok[out->n++];
    memset(t, 0, sizeof *t);
    return t;
}

int tc_ir_lex_line(const char *s, size_t len, int line, struct tc_ir_line *out,
                   struct tc_ir_error *err)
{
    out->n = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r') { i++; continue; }
        if (c == '#') break;
        struct tc_ir_tok *t = push(out);
        if (!t) return fail(err, line, "out of memory", -1);
        if (is_name_start(c)) {
            size_t j = i;
            while (j < len && (is_name_start((unsigned char)s[j]) || is_digit((unsigned char)s[j]))) j++;
            if (j - i > TC_TOK_NAME_MAX) return fail(err, line, "name longer than 128 characters", -1);
            t->kind = TC_TOK_NAME;
            memcpy(t->text, s + i, j - i);
            i = j;
        } else if (is_digit(c)) {
            uint64_t v = 0;
            size_t j = i;
            while (j < len && is_digit((unsigned char)s[j])) {
                v = v * 10 + (uint64_t)(s[j] - '0');
                if (v > TC_IR_NUM_MAX) return fail(err, line, "number too large (the limit is 2^53)", -1);
                j++;
            }
            if (j < len && is_name_start((unsigned char)s[j]))
                return fail(err, line, "bad number: unexpected", (unsigned char)s[j]);
            t->kind = TC_TOK_NUM;
            t->num = v;
            size_t n = j - i < TC_TOK_NAME_MAX ? j - i : TC_TOK_NAME_MAX;
            memcpy(t->text, s + i, n);
            i = j;
        } else if (strchr("=&*+,(){}", c) && c != 0) {
            t->kind = TC_TOK_PUNCT;
            t->text[0] = (char)c;
            i++;
        } else {
            return fail(err, line, "unexpected character", c);
        }
    }
    struct tc_ir_tok *end = push(out);
    if (!end) return fail(err, line, "out of memory", -1);
    end->kind = TC_TOK_END;
    out->n--; /* tok[n] is the END marker */
    return 0;
}
