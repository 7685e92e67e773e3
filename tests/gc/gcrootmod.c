/* tests/gc/gcrootmod.c: a module that roots.c dlopens at run time.
 *
 * It has one pointer slot in .bss and one in .data, handed out by
 * accessors so the test can gc_store into them. The collector has to
 * find these segments although the module was loaded after it started,
 * and forget them once dlclose unmapped them. The module does not link
 * tricolor: it only holds the pointers. */
void **gcrootmod_bss_slot(void);
void **gcrootmod_data_slot(void);
void **gcrootmod_tls_slot(void);

static void *bss_slot;
/* A __thread variable of a module loaded after start: its blocks come
 * from the dynamic TLS allocator, one per thread that touches it. */
static __thread void *tls_slot;
/* Bulk, so that scanning the module takes a while (dlclose races). */
void *gcrootmod_bulk[1 << 18];
/* Initialised, so it lands in .data, not .bss; the test's gc_store
 * overwrites the (non-heap) initial value. */
static void *data_slot = &data_slot;

void **gcrootmod_bss_slot(void) { return &bss_slot; }

void **gcrootmod_data_slot(void) { return &data_slot; }

void **gcrootmod_tls_slot(void) { return &tls_slot; }
