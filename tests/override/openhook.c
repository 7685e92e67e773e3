/* tests/override/openhook.c: a preloaded library that hooks open(), the
 * way tracing and sandboxing tools do.
 *
 * It is written the way such hooks usually are, which is the trap
 * (jemalloc#443): the real open is looked up with dlsym(RTLD_NEXT) on the
 * first call, and the hook allocates (it copies the path for its log).
 * If the allocator's own start-up opens a file, that open lands here
 * before the allocator is ready, and dlsym or strdup call back into it.
 * An allocator that survives this neither calls open() through the PLT
 * during its start-up nor deadlocks on re-entry.
 *
 * Its constructor allocates and opens a file too, so whichever of the two
 * preloaded libraries starts first, the other is entered early. The
 * number of hooked calls is exported for the test program to read. */
/* Both names are defined here; with 64-bit off_t (meson's default)
 * <fcntl.h> would rename open to open64 and they would collide. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((visibility("default"))) int tc_openhook_count;

static char *last_path; /* what a logging hook would keep */

static int hooked(const char *sym, const char *path, int flags, va_list ap) {
    static int (*real_open)(const char *, int, ...);
    static int (*real_open64)(const char *, int, ...);
    int (**real)(const char *, int, ...) = strcmp(sym, "open") == 0 ? &real_open : &real_open64;
    if (!*real) *real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
    char *copy = strdup(path); /* re-enters malloc from inside open */
    free(last_path);
    last_path = copy;
    __atomic_add_fetch(&tc_openhook_count, 1, __ATOMIC_RELAXED);
    return (*real)(path, flags, mode);
}

__attribute__((visibility("default"))) int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int fd = hooked("open", path, flags, ap);
    va_end(ap);
    return fd;
}

__attribute__((visibility("default"))) int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int fd = hooked("open64", path, flags, ap);
    va_end(ap);
    return fd;
}

__attribute__((constructor)) static void openhook_init(void) {
    char *buf = malloc(4096);
    int fd = open("/proc/self/cmdline", O_RDONLY);
    if (fd >= 0) {
        if (buf && read(fd, buf, 4096) < 0) buf[0] = 0;
        close(fd);
    }
    free(buf);
}
