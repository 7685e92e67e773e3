/* tests/public/header_alone.c: tricolor.h on its own. compile.py builds
 * this file as C11 and as C++11, with -Wall -Wextra -pedantic -Werror and
 * no include path but the header's: it must include what it uses, survive
 * a second inclusion, and declare everything so that both languages can
 * call it (the C++ build is linked against the library: it finds the
 * names only if they are declared extern "C"). Built, not run. */
#include <tricolor.h>
#include <tricolor.h>

static void finalize(void *obj, void *arg) {
    (void)obj;
    (void)arg;
}

int main(void) {
    void *root = 0;
    void *obj = gc_alloc(16);
    gc_store(&root, obj);
    GC_STORE(root, gc_alloc_noscan(8));
    gc_set_finalizer(obj, finalize, 0);
    gc_keepalive(obj);
    void *un = gc_alloc_uncollectable(32);
    gc_free(un);
    gc_add_roots(&root, &root + 1);
    gc_remove_roots(&root, &root + 1);
    int prev = gc_setpercent(100);
    gc_collect();
    uint64_t ns[4];
    size_t n = gc_read_pauses(ns, 4);
    struct gc_stats st = GC_STATS_INIT;
    int rc = gc_read_stats(&st);
    size_t released = gc_release_memory();
    gc_thread_idle();
    int reg = gc_register_thread() + gc_unregister_thread();
    const char *v = gc_version();
    int major = TRICOLOR_VERSION_MAJOR + TRICOLOR_VERSION_MINOR + TRICOLOR_VERSION_PATCH;
    const char *vs = TRICOLOR_VERSION_STRING;
    return (int)(prev + (int)n + rc + (int)released + reg + major + (v == vs) +
                 (int)st.gc_num);
}
