/* bench/gc_workloads.c: three collector workloads beside the pause run
 * (gc_pause.c), with the options, main and the pause recorder for the
 * memory workloads of gcw_memory.c (steady, memlimit, release); the two
 * built three times (gc_workloads.h): -DGCW_TRICOLOR links libtricolor
 * (gc_alloc, stores through gc_store), -DGCW_BOEHM links -lgc (its default
 * mode, or --incremental: GC_enable_incremental, whose dirty bits come
 * from the virtual memory system, so stores stay plain), -DGCW_MALLOC uses
 * malloc/free and runs the message window and the release only. Go's
 * peer is gc_workloads.go with gc_workloads_mem.go; gc_workloads.py runs
 * them all.
 *
 *   trees   the benchmarks-game binary trees: a stretch tree of depth D+1,
 *           a long-lived tree of depth D, then 2^(D-d+4) short-lived trees
 *           of each depth d = 4, 6, .. D, every one checked (node count);
 *           16-byte nodes (two links). Time, cycles, peak RSS.
 *   window  a window of --window live messages of --msg-bytes (noscan
 *           bytes), --pushes pushes; each push allocates and fills a
 *           message and puts it in place of the oldest (which malloc's
 *           build frees). The latency of every push is timed: worst and
 *           p99.9 are what a program with a large live set feels of the
 *           collector, pauses, assists and allocation stalls together.
 *   churn   --threads threads, for --seconds, rewire the edges of a shared
 *           graph of --nodes nodes (3 edges each and a noscan payload)
 *           and replace whole nodes (--replace-pct of the operations,
 *           default 25): every store
 *           through the barrier, old nodes dying when the last edge to them
 *           is rewired. Throughput and pauses.
 *
 * Pauses: tricolor's from gc_read_pauses, gathered every 5 ms by a thread
 * that unregisters itself first (so no stop waits for it); Boehm's from
 * GC_EVENT_PRE_STOP_WORLD to POST_START_WORLD. Only those of the measured
 * phase (after the initial structure is built) are kept. Peak RSS is this
 * process's VmHWM. Every structure is checked: a collector that freed a
 * live object shows up as a bad count and exit status 1.
 *
 * The churn threads share the graph without locks, as a Go program could:
 * loads are relaxed atomic loads; stores are word-sized pointer stores
 * (single-copy atomic on x86-64 and aarch64) through the barrier.
 *
 * Output: one line "GCWORK {json}". Bad options: one-line error, exit 2. */
#include "gc_workloads.h"

static long opt_depth = 18, opt_window = 200000, opt_pushes = 1000000, opt_msg = 1024;
static long opt_threads = 4, opt_nodes = 1L << 17, opt_replace_pct = 25;
static double opt_seconds = 5;

void *must(void *p) {
    if (!p) {
        fprintf(stderr, "gc_workloads: out of memory\n");
        exit(1);
    }
    return p;
}

/* A line of /proc/self/status ("VmHWM:"), KiB; 0 if unreadable. */
static long status_kib(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, n)) kib = strtol(line + n, NULL, 10);
    if (f) fclose(f);
    return kib;
}

long rss_kib(void) { return status_kib("VmRSS:"); }
long peak_rss_kib(void) { return status_kib("VmHWM:"); }

long cycles(void) {
#if defined(GCW_TRICOLOR)
    struct gc_stats s = GC_STATS_INIT;
    gc_read_stats(&s);
    return (long)s.gc_num;
#elif defined(GCW_BOEHM)
    return (long)GC_get_gc_no();
#else
    return 0;
#endif
}

/* ---- pauses of the measured phase ---- */

#define MAX_PAUSES 65536
static uint64_t pauses[MAX_PAUSES];
static size_t npauses;
static uint64_t pauses_lost, pause_max; /* lost: beyond the array or tricolor's ring */

#if !defined(GCW_MALLOC)
static atomic_int recording;

static void note_pause(uint64_t ns) {
    if (ns > pause_max) pause_max = ns;
    if (npauses < MAX_PAUSES) pauses[npauses++] = ns;
    else pauses_lost++;
}
#endif

#if defined(GCW_TRICOLOR)
static uint64_t seen; /* gc_npause already gathered */
static pthread_t poller;

/* The pauses since the last call, from tricolor's ring of 256; retried
 * until no pause ends between the two counts that frame the copy. */
static void gather(void) {
    static uint64_t buf[256];
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    size_t n;
    do {
        gc_read_stats(&a);
        n = gc_read_pauses(buf, 256);
        gc_read_stats(&b);
    } while (a.gc_npause != b.gc_npause);
    uint64_t fresh = a.gc_npause - seen;
    if (fresh > n) {
        pauses_lost += fresh - n;
        fresh = n;
    }
    for (size_t i = n - (size_t)fresh; i < n; i++) note_pause(buf[i]);
    seen = a.gc_npause;
}

static void *poll_pauses(void *unused) {
    (void)unused;
    gc_unregister_thread(); /* it holds no heap pointer: no stop waits for it */
    struct timespec ts = {0, 5000000};
    while (atomic_load(&recording)) {
        nanosleep(&ts, NULL);
        gather();
    }
    return NULL;
}

void record_start(void) {
    struct gc_stats s = GC_STATS_INIT;
    gc_read_stats(&s);
    seen = s.gc_npause;
    atomic_store(&recording, 1);
    if (pthread_create(&poller, NULL, poll_pauses, NULL)) {
        fprintf(stderr, "gc_workloads: pthread_create failed\n");
        exit(1);
    }
}

void record_stop(void) {
    atomic_store(&recording, 0);
    pthread_join(poller, NULL);
    gather();
}
#elif defined(GCW_BOEHM)
int incremental;
static uint64_t stop_at, heap_peak;

/* Called with Boehm's allocation lock held: no lock of our own needed,
 * and its unsynchronized getters are safe. */
static void GC_CALLBACK on_event(GC_EventType e) {
    if (e == GC_EVENT_START && atomic_load_explicit(&recording, memory_order_relaxed)) {
        uint64_t inuse = GC_get_heap_size() - GC_get_free_bytes();
        if (inuse > heap_peak) heap_peak = inuse;
    }
    if (e == GC_EVENT_PRE_STOP_WORLD) stop_at = gcb_now_ns();
    if (e == GC_EVENT_POST_START_WORLD && stop_at) {
        if (atomic_load_explicit(&recording, memory_order_relaxed)) note_pause(gcb_now_ns() - stop_at);
        stop_at = 0;
    }
}
void record_start(void) { atomic_store(&recording, 1); }
void record_stop(void) { atomic_store(&recording, 0); }
uint64_t heap_peak_bytes(void) { return heap_peak; }
#else
void record_start(void) {}
void record_stop(void) {}
#endif
#if !defined(GCW_BOEHM)
uint64_t heap_peak_bytes(void) { return 0; }
#endif

void print_tail(long cycles0, long bad) {
    printf("\"cycles\":%ld,\"peak_rss_kib\":%ld,\"bad\":%ld,\"npauses\":%zu,"
           "\"pauses_lost\":%llu,\"pause_max_ns\":%llu,\"pauses_ns\":[",
           cycles() - cycles0, peak_rss_kib(), bad, npauses + (size_t)pauses_lost,
           (unsigned long long)pauses_lost, (unsigned long long)pause_max);
    for (size_t i = 0; i < npauses; i++) printf("%s%llu", i ? "," : "", (unsigned long long)pauses[i]);
    printf("]}\n");
}

/* ---- trees ---- */

struct tnode {
    struct tnode *l, *r;
};

static struct tnode *bottom_up(int depth) {
    struct tnode *n = must(ALLOC(sizeof *n));
    if (depth > 0) {
        STORE(n->l, bottom_up(depth - 1));
        STORE(n->r, bottom_up(depth - 1));
    }
    return n;
}

static long item_check(const struct tnode *n) {
    return n->l ? 1 + item_check(n->l) + item_check(n->r) : 1;
}

static long run_trees(void) {
    const int min_depth = 4, max = (int)opt_depth;
    long bad = 0, allocated = 0, cycles0 = cycles();
    record_start();
    uint64_t t0 = gcb_now_ns();
    bad += item_check(bottom_up(max + 1)) != (2L << (max + 1)) - 1;
    struct tnode *long_lived = bottom_up(max);
    allocated += (2L << (max + 1)) - 1 + (2L << max) - 1;
    for (int d = min_depth; d <= max; d += 2) {
        long iters = 1L << (max - d + min_depth), want = (2L << d) - 1;
        for (long i = 0; i < iters; i++) bad += item_check(bottom_up(d)) != want;
        allocated += iters * want;
    }
    bad += item_check(long_lived) != (2L << max) - 1;
    double secs = (double)(gcb_now_ns() - t0) / 1e9;
    record_stop();
    printf("GCWORK {\"workload\":\"trees\",\"impl\":\"%s\",\"depth\":%d,\"nodes_allocated\":%ld,"
           "\"node_bytes\":%zu,\"time_s\":%.4f,", IMPL(), max, allocated, sizeof(struct tnode), secs);
    print_tail(cycles0, bad);
    return bad;
}

/* ---- window ---- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t pct(const uint64_t *sorted, long n, double p) {
    long k = (long)(p / 100.0 * (double)n + 0.5) - 1;
    return sorted[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* A message: its sequence number, then bytes of (seq & 0xff). */
static unsigned char *make_message(long seq) {
    unsigned char *m = must(ALLOC_NOSCAN((size_t)opt_msg));
    memset(m, (int)(seq & 0xff), (size_t)opt_msg);
    memcpy(m, &seq, sizeof seq);
    return m;
}

static int message_ok(const unsigned char *m, long seq) {
    long got;
    memcpy(&got, m, sizeof got);
    return got == seq && m[opt_msg - 1] == (unsigned char)(seq & 0xff) &&
           m[opt_msg / 2] == (unsigned char)(seq & 0xff);
}

static long run_window(void) {
    long bad = 0, w = opt_window;
    unsigned char **win = must(ALLOC((size_t)w * sizeof *win));
    uint64_t *lat = must(malloc((size_t)opt_pushes * sizeof *lat));
    for (long i = 0; i < w; i++) STORE(win[i], make_message(i));
    long cycles0 = cycles();
    record_start();
    uint64_t t0 = gcb_now_ns();
    for (long seq = w; seq < w + opt_pushes; seq++) {
        long slot = seq % w;
        bad += !message_ok(win[slot], seq - w);
        uint64_t s = gcb_now_ns();
#if defined(GCW_MALLOC)
        free(win[slot]);
#endif
        STORE(win[slot], make_message(seq));
        lat[seq - w] = gcb_now_ns() - s;
    }
    double secs = (double)(gcb_now_ns() - t0) / 1e9;
    record_stop();
    /* Slot i now holds the one sequence number in [pushes, pushes + w) that is i mod w. */
    for (long i = 0; i < w; i++) bad += !message_ok(win[i], opt_pushes + ((i - opt_pushes % w) % w + w) % w);
    qsort(lat, (size_t)opt_pushes, sizeof *lat, cmp_u64);
    long n = opt_pushes;
    printf("GCWORK {\"workload\":\"window\",\"impl\":\"%s\",\"window\":%ld,\"pushes\":%ld,"
           "\"msg_bytes\":%ld,\"time_s\":%.4f,\"push_ns\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,"
           "\"p9999\":%llu,\"max\":%llu},", IMPL(), w, n, opt_msg, secs,
           (unsigned long long)pct(lat, n, 50), (unsigned long long)pct(lat, n, 99),
           (unsigned long long)pct(lat, n, 99.9), (unsigned long long)pct(lat, n, 99.99),
           (unsigned long long)lat[n - 1]);
    print_tail(cycles0, bad);
    free(lat);
    return bad;
}

/* ---- churn ---- */

#define EDGES 3
#define PAYLOAD_WORDS 4
struct gnode {
    uint64_t serial, hash;
    struct gnode *edge[EDGES];
    uint64_t *payload; /* PAYLOAD_WORDS copies of serial, noscan */
};

static struct gnode **graph; /* opt_nodes slots, a collected object */
static atomic_int churn_stop;
static atomic_llong churn_ops, churn_replaced, churn_bad;

static uint64_t mix(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7FB5D329728EA185ULL;
    return x ^ (x >> 27);
}

static struct gnode *new_gnode(uint64_t serial) {
    struct gnode *n = must(ALLOC(sizeof *n));
    uint64_t *p = must(ALLOC_NOSCAN(PAYLOAD_WORDS * sizeof *p));
    for (int i = 0; i < PAYLOAD_WORDS; i++) p[i] = serial;
    n->serial = serial;
    n->hash = mix(serial);
    STORE(n->payload, p);
    return n;
}

static int gnode_ok(const struct gnode *n) {
    if (!n || n->hash != mix(n->serial) || !n->payload) return 0;
    for (int i = 0; i < PAYLOAD_WORDS; i++)
        if (n->payload[i] != n->serial) return 0;
    return 1;
}

static void *churner(void *arg) {
    long t = (long)(intptr_t)arg;
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(t + 1), serial = (uint64_t)(t + 1) << 48;
    long long ops = 0, replaced = 0, bad = 0;
    while (!atomic_load_explicit(&churn_stop, memory_order_relaxed)) {
        for (int k = 0; k < 64; k++, ops++) {
            uint64_t r = gcb_rnd(&rng);
            long i = (long)(r % (uint64_t)opt_nodes);
            struct gnode *a = LOAD(graph[i]);
            bad += !gnode_ok(a);
            if ((long)(r >> 40 & 127) * 100 < opt_replace_pct * 128) {
                struct gnode *n = new_gnode(serial++);
                for (int e = 0; e < EDGES; e++) STORE(n->edge[e], LOAD(a->edge[e]));
                STORE(graph[i], n);
                replaced++;
            } else {
                struct gnode *b = LOAD(graph[(long)((r >> 20) % (uint64_t)opt_nodes)]);
                struct gnode *via = LOAD(a->edge[(r >> 44) % EDGES]);
                bad += !gnode_ok(via);
                STORE(a->edge[(r >> 50) % EDGES], (r >> 56 & 1) ? b : via);
            }
        }
    }
    atomic_fetch_add(&churn_ops, ops);
    atomic_fetch_add(&churn_replaced, replaced);
    atomic_fetch_add(&churn_bad, bad);
    return NULL;
}

static long run_churn(void) {
    long n = opt_nodes;
    uint64_t rng = 42;
    graph = must(ALLOC((size_t)n * sizeof *graph));
    for (long i = 0; i < n; i++) STORE(graph[i], new_gnode((uint64_t)i));
    for (long i = 0; i < n; i++)
        for (int e = 0; e < EDGES; e++) STORE(graph[i]->edge[e], graph[gcb_rnd(&rng) % (uint64_t)n]);
    pthread_t th[64];
    long cycles0 = cycles();
    record_start();
    uint64_t t0 = gcb_now_ns();
    for (long t = 0; t < opt_threads; t++)
        if (pthread_create(&th[t], NULL, churner, (void *)(intptr_t)t)) {
            fprintf(stderr, "gc_workloads: pthread_create failed\n");
            exit(1);
        }
    /* Absolute, so that a stop signal cutting the sleep short is harmless. */
    uint64_t end = t0 + (uint64_t)(opt_seconds * 1e9);
    struct timespec ts = {(time_t)(end / 1000000000u), (long)(end % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) {}
    atomic_store(&churn_stop, 1);
    for (long t = 0; t < opt_threads; t++) pthread_join(th[t], NULL);
    double secs = (double)(gcb_now_ns() - t0) / 1e9;
    record_stop();
    COLLECT(); /* then every node still reachable must be whole */
    long bad = (long)atomic_load(&churn_bad);
    for (long i = 0; i < n; i++) {
        bad += !gnode_ok(graph[i]);
        for (int e = 0; e < EDGES; e++) bad += !gnode_ok(graph[i]->edge[e]);
    }
    long long ops = atomic_load(&churn_ops);
    printf("GCWORK {\"workload\":\"churn\",\"impl\":\"%s\",\"threads\":%ld,\"nodes\":%ld,"
           "\"node_bytes\":%zu,\"time_s\":%.4f,\"ops\":%lld,\"replaced\":%lld,\"ops_per_s\":%.0f,",
           IMPL(), opt_threads, n, sizeof(struct gnode), secs, ops,
           (long long)atomic_load(&churn_replaced), (double)ops / secs);
    print_tail(cycles0, bad);
    return bad;
}

/* ---- options ---- */

static const char *const workloads[] = {"trees", "window", "churn", "steady", "memlimit", "release"};

static const char usage[] =
    "usage: gc-workloads-IMPL trees|window|churn|steady|memlimit|release [--depth=N]\n"
    "       [--window=N] [--pushes=N] [--msg-bytes=N] [--threads=N] [--nodes=N]\n"
    "       [--replace-pct=P] [--seconds=S] [--live-mb=N] [--turnover=X]\n"
    "       [--release-mb=N] [--incremental (Boehm)]\n";

int main(int argc, char **argv) {
    int w = -1;
    for (int i = 0; argc >= 2 && i < (int)(sizeof workloads / sizeof *workloads); i++)
        if (!strcmp(argv[1], workloads[i])) w = i;
    if (w < 0) {
        fprintf(stderr, "gc_workloads: %s%s\n%s", argc < 2 ? "no workload named" : "unknown workload ",
                argc < 2 ? "" : argv[1], usage);
        return 2;
    }
    long live_mb = 64, release_mb = 1024;
    double turnover = 20;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = strchr(a, '=');
        size_t k = v ? (size_t)(v - a) : strlen(a);
        v = v ? v + 1 : "";
        if (0) {}
#define OPT(opt, var, lo, hi) \
        else if (k == sizeof opt - 1 && !strncmp(a, opt, k)) var = gcb_num("gc_workloads", v, opt + 2, lo, hi)
        OPT("--depth", opt_depth, 4, 24);
        OPT("--window", opt_window, 1, 1e8);
        OPT("--pushes", opt_pushes, 1, 1e9);
        OPT("--msg-bytes", opt_msg, 16, 1 << 20);
        OPT("--threads", opt_threads, 1, 64);
        OPT("--nodes", opt_nodes, 2, 1e8);
        OPT("--replace-pct", opt_replace_pct, 0, 100);
        OPT("--seconds", opt_seconds, 0.01, 3600);
        OPT("--live-mb", live_mb, 1, 1 << 20);
        OPT("--turnover", turnover, 0.01, 1000);
        OPT("--release-mb", release_mb, 1, 1 << 20);
#undef OPT
#if defined(GCW_BOEHM)
        else if (!strcmp(a, "--incremental")) incremental = 1;
#endif
        else {
            fprintf(stderr, "gc_workloads: unknown option %s\n%s", a, usage);
            return 2;
        }
    }
#if defined(GCW_BOEHM)
    GC_INIT();
    if (incremental) GC_enable_incremental();
    GC_set_on_collection_event(on_event);
#elif defined(GCW_MALLOC)
    if (w != 1 && w != 5) {
        fprintf(stderr, "gc_workloads: the malloc build runs the window and release workloads only\n");
        return 2;
    }
#endif
    long bad = w == 0 ? run_trees() : w == 1 ? run_window() : w == 2 ? run_churn()
             : w == 5 ? run_release(release_mb) : run_ring(workloads[w], live_mb, turnover);
    if (bad) fprintf(stderr, "gc_workloads: %ld damaged objects: the collector freed live ones\n", bad);
    return bad ? 1 : 0;
}
