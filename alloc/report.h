/* alloc/report.h: error and trace output that never allocates.
 *
 * Everything here writes straight to file descriptor 2 with write(2), so
 * it is safe inside the allocator (no stdio, no malloc) and async-signal
 * safe. The format language is a small subset of printf: %s, %d, %u, %zu,
 * %p and %x (lower-case hex, "0x" prefix for %p only), %c, %%; the
 * integer directives take a width, padded with zeros when it starts with
 * 0 ("%03u" of 47 is "047"), else with spaces. */
#ifndef TC_ALLOC_REPORT_H
#define TC_ALLOC_REPORT_H

#include <stdarg.h>
#include <stddef.h>

#include "alloc/base.h"

/* Format into buf (always NUL-terminated); returns the length. */
TC_INTERNAL size_t tc_vformat(char *buf, size_t cap, const char *fmt, va_list ap);
TC_INTERNAL size_t tc_format(char *buf, size_t cap, const char *fmt, ...);

/* Write one formatted line (a newline is added) to stderr, or to fd. */
TC_INTERNAL void tc_print(const char *fmt, ...);
TC_INTERNAL void tc_fprint(int fd, const char *fmt, ...);

/* Print "tricolor: fatal: ..." and abort. */
TC_INTERNAL __attribute__((noreturn)) void tc_fatal(const char *fmt, ...);

#endif
