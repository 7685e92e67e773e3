/* tests/gc/tlsmod.c: one __thread pointer slot, built ten times as
 * libtlsmodN.so (TLSMOD_N) and linked into gc_roots, so its main thread
 * has more static TLS blocks than a small fixed table would hold. */
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
void **CAT(CAT(tlsmod, TLSMOD_N), _slot)(void);

static __thread void *slot;

void **CAT(CAT(tlsmod, TLSMOD_N), _slot)(void) { return &slot; }
