/* alloc/mstats.h: per-size-class statistics (see mstats.c). */
#ifndef TC_ALLOC_MSTATS_H
#define TC_ALLOC_MSTATS_H

#include <stdint.h>

#include "alloc/base.h"

/* One size class of malloc'd objects (class 0: large objects). */
struct tc_classstats {
    uint64_t nmalloc, nfree; /* objects allocated and freed since start */
    uint64_t nremote;        /* frees into a span another P owned */
    uint64_t live;           /* nmalloc - nfree */
    uint64_t bytes;          /* live bytes (slot sizes; large: span bytes) */
    uint64_t spans;          /* malloc'd spans of the class in use */
    uint64_t spanbytes;      /* their bytes */
};

/* Fill cs[0..TC_NUM_SIZE_CLASSES). No malloc, no lock. */
TC_INTERNAL void tc_mstats_read(struct tc_classstats *cs);

/* Write the table to fd, one write(2) per line. No malloc. */
TC_INTERNAL void tc_mstats_print(int fd);

#endif
