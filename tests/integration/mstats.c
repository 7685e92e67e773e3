/* Integration test: statistics as allocator users expect them. Under
 * tricolor, glibc's mallinfo2, mallinfo, malloc_stats and malloc_info
 * answer with tricolor's figures; gc_stats_print and GODEBUG=mstats=1 (at
 * exit) print the per-size-class table; a bad GODEBUG value gets one line
 * and the default. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tricolor.h"

/* Run f with stderr sent to a file; return what it wrote (static buffer). */
static const char *capture_stderr(void (*f)(void)) {
    static char buf[65536];
    FILE *tmp = tmpfile();
    if (!tmp) return "";
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    f();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

TEST(mallinfo2_counts_tricolors_objects) {
    struct mallinfo2 a = mallinfo2();
    enum { N = 2000 };
    static void *p[N];
    for (int i = 0; i < N; i++) p[i] = malloc(1000); /* 1024-byte slots */
    void *big[3];
    for (int i = 0; i < 3; i++) big[i] = malloc(100000);
    struct mallinfo2 b = mallinfo2();
    EXPECT_TRUE(b.uordblks >= a.uordblks + N * 1000 + 300000);
    EXPECT_TRUE(b.hblks >= a.hblks + 3);
    EXPECT_TRUE(b.hblkhd >= a.hblkhd + 300000);
    EXPECT_TRUE(b.arena >= b.uordblks && b.arena == b.uordblks + b.fordblks);
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    EXPECT_TRUE(b.arena == st.heap_sys); /* tricolor's heap, not glibc's arena */
    for (int i = 0; i < N; i++) free(p[i]);
    for (int i = 0; i < 3; i++) free(big[i]);
    struct mallinfo2 c = mallinfo2();
    EXPECT_TRUE(c.uordblks + N * 1000 + 300000 <= b.uordblks);
    EXPECT_TRUE(c.hblks + 3 <= b.hblks);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
    EXPECT_TRUE(old.arena > 0 && (size_t)old.arena <= c.arena);
}

TEST(malloc_info_writes_tricolors_xml) {
    void *p = malloc(40);
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    ASSERT_TRUE(m != NULL);
    EXPECT_EQ_U(malloc_info(0, m), 0);
    fclose(m);
    EXPECT_TRUE(strstr(text, "<malloc version=\"1\" allocator=\"tricolor") == text);
    EXPECT_TRUE(strstr(text, "<size from=") != NULL);
    EXPECT_TRUE(strstr(text, "</malloc>") != NULL);
    free(text);
    EXPECT_EQ_U(malloc_info(1, stdout), EINVAL);
    free(p);
}

static void stats_twice(void) {
    malloc_stats();
    gc_stats_print();
}

TEST(malloc_stats_and_gc_stats_print_print_the_table) {
    void *p = malloc(24);
    const char *out = capture_stderr(stats_twice);
    const char *first = strstr(out, "tricolor: malloc'd objects by size class");
    EXPECT_TRUE(first != NULL);
    EXPECT_TRUE(first && strstr(first + 1, "tricolor: malloc'd objects by size class") != NULL);
    EXPECT_TRUE(strstr(out, "  class 3 (24 B): ") != NULL);
    EXPECT_TRUE(strstr(out, "  OS: heap mapped ") != NULL);
    EXPECT_TRUE(strstr(out, "Arena 0") == NULL); /* not glibc's */
    free(p);
}

static void stats_once(void) { gc_stats_print(); }

/* The line of out that starts with prefix, up to its end (static buffer). */
static const char *line_of(const char *out, const char *prefix) {
    static char buf[4][256];
    static unsigned k;
    const char *l = strstr(out, prefix);
    char *b = buf[k++ % 4];
    size_t n = 0;
    while (l && l[n] && l[n] != '\n' && n < sizeof buf[0] - 1) n++;
    memcpy(b, l ? l : "", n);
    b[n] = '\0';
    return b;
}

/* The table is malloc's: collected objects, small and large, are the
 * collector's line, not a class's mallocs. */
TEST(collected_objects_stay_out_of_the_malloc_table) {
    static void *keep[1000 + 3];
    gc_add_roots(keep, keep + 1003);
    const char *before = capture_stderr(stats_once);
    char large0[256];
    snprintf(large0, sizeof large0, "%s", line_of(before, "  large ("));
    for (int i = 0; i < 1000; i++) keep[i] = gc_alloc(3000); /* the 3072-byte class */
    for (int i = 0; i < 3; i++) keep[1000 + i] = gc_alloc(100000);
    const char *out = capture_stderr(stats_once);
    EXPECT_TRUE(strstr(out, "(3072 B): ") == NULL);
    EXPECT_STREQ(line_of(out, "  large ("), large0);
    EXPECT_TRUE(strstr(out, "collected heap: ") != NULL);
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st); /* the totals still count them */
    EXPECT_TRUE(st.large_alloc >= 3 && st.nmalloc >= 1003);
    gc_remove_roots(keep, keep + 1003);
}

/* This program again with GODEBUG set and no test to run; its stderr. */
static int run_self(const char *godebug, char *out, size_t cap) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        setenv("GODEBUG", godebug, 1);
        execl("/proc/self/exe", "mstats", "no-such-test", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd[0], out + n, cap - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(godebug_mstats_prints_at_exit_and_bad_values_get_one_line) {
    static char out[65536];
    EXPECT_EQ_U(run_self("mstats=1", out, sizeof out), 0);
    EXPECT_TRUE(strstr(out, "tricolor: malloc'd objects by size class") != NULL);
    EXPECT_TRUE(strstr(out, "  small: ") != NULL);
    EXPECT_EQ_U(run_self("binbytes=12Q,ownempty=-1,mstats=0", out, sizeof out), 0);
    EXPECT_TRUE(strstr(out, "tricolor: GODEBUG: bad value binbytes=12Q (want 0..16777216 bytes, "
                            "or with K, M or G); keeping the default\n") != NULL);
    EXPECT_TRUE(strstr(out, "tricolor: GODEBUG: bad value ownempty=-1 (want 0..1024)") != NULL);
    EXPECT_TRUE(strstr(out, "size class") == NULL);
    EXPECT_EQ_U(run_self("", out, sizeof out), 0);
    EXPECT_TRUE(strstr(out, "tricolor") == NULL); /* silent by default */
}

TC_TEST_MAIN()
