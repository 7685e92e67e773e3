/* alloc/report.c: formatted output without malloc.
 *
 * The allocator has to say what went wrong (a bad free, an assertion, an
 * out-of-memory) from places where calling stdio could recurse into
 * malloc or deadlock on a lock we hold. So lines are formatted into a
 * stack buffer and written with one write(2) call, which keeps each line
 * whole even when several threads report at once. */
#include "alloc/report.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static size_t put_str(char *buf, size_t cap, size_t n, const char *s) {
    if (!s) s = "(null)";
    while (*s) {
        if (n + 1 < cap) buf[n] = *s;
        n++, s++;
    }
    return n;
}

/* sign, prefix and v in base, width characters at least: zeros after the
 * sign (zero) or spaces before it. */
static size_t put_uint(char *buf, size_t cap, size_t n, uintmax_t v, unsigned base,
                       const char *sign, unsigned width, int zero) {
    char tmp[24];
    unsigned i = 0;
    do {
        tmp[i++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    unsigned len = i + (unsigned)strlen(sign);
    for (; !zero && width > len; width--) {
        if (n + 1 < cap) buf[n] = ' ';
        n++;
    }
    n = put_str(buf, cap, n, sign);
    for (; zero && width > len; width--) {
        if (n + 1 < cap) buf[n] = '0';
        n++;
    }
    while (i > 0) {
        if (n + 1 < cap) buf[n] = tmp[i - 1];
        n++, i--;
    }
    return n;
}

size_t tc_vformat(char *buf, size_t cap, const char *fmt, va_list ap) {
    size_t n = 0;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (n + 1 < cap) buf[n] = *f;
            n++;
            continue;
        }
        f++;
        int z = 0, zero = *f == '0';
        unsigned width = 0;
        while (*f >= '0' && *f <= '9' && width < 32) width = width * 10 + (unsigned)(*f++ - '0');
        if (*f == 'z') z = 1, f++;
        switch (*f) {
        case 's': n = put_str(buf, cap, n, va_arg(ap, const char *)); break;
        case 'c': if (n + 1 < cap) buf[n] = (char)va_arg(ap, int); n++; break;
        case 'd': {
            intmax_t v = z ? (intmax_t)va_arg(ap, ptrdiff_t) : va_arg(ap, int);
            n = put_uint(buf, cap, n, v < 0 ? -(uintmax_t)v : (uintmax_t)v, 10, v < 0 ? "-" : "",
                         width, zero);
            break;
        }
        case 'u':
            n = put_uint(buf, cap, n, z ? va_arg(ap, size_t) : va_arg(ap, unsigned), 10, "", width,
                         zero);
            break;
        case 'x':
            n = put_uint(buf, cap, n, z ? va_arg(ap, size_t) : va_arg(ap, unsigned), 16, "", width,
                         zero);
            break;
        case 'p':
            n = put_uint(buf, cap, n, (uintptr_t)va_arg(ap, void *), 16, "0x", 0, 0);
            break;
        case '%': if (n + 1 < cap) buf[n] = '%'; n++; break;
        default: n = put_str(buf, cap, n, "%?"); break;
        }
    }
    if (cap) buf[n < cap ? n : cap - 1] = '\0';
    return n < cap ? n : cap - 1;
}

size_t tc_format(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = tc_vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static void vprint_line(int fd, const char *prefix, const char *fmt, va_list ap) {
    char buf[512];
    int saved = errno;
    size_t n = tc_format(buf, sizeof buf - 1, "%s", prefix);
    n += tc_vformat(buf + n, sizeof buf - 1 - n, fmt, ap);
    buf[n++] = '\n';
    for (size_t off = 0; off < n;) {
        ssize_t w = syscall(SYS_write, fd, buf + off, n - off); /* not an interposed write */
        if (w <= 0) break;
        off += (size_t)w;
    }
    errno = saved;
}

void tc_print(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint_line(2, "", fmt, ap);
    va_end(ap);
}

void tc_fprint(int fd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint_line(fd, "", fmt, ap);
    va_end(ap);
}

void tc_fatal(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint_line(2, "tricolor: fatal: ", fmt, ap);
    va_end(ap);
    abort();
}

void tc_assert_fail(const char *file, int line, const char *cond) {
    tc_fatal("%s:%d: assertion failed: %s", file, line, cond);
}
