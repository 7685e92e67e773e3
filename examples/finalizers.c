/* examples/finalizers.c: a tree whose nodes have finalizers.
 *
 * gc_set_finalizer has Go's runtime.SetFinalizer semantics: once an
 * object is unreachable its finalizer runs once, on the collector's
 * finalizer thread, with the object intact; whatever the object points to
 * stays alive until that finalizer has run. So a tree is finalized from
 * the root down, one level per cycle at least, and every parent's
 * finalizer runs before its children's. The program checks both. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <tricolor.h>

#define DEPTH 8
#define NODES ((1 << DEPTH) - 1) /* ids 1..NODES; node id's children: 2id, 2id+1 */

struct node {
    struct node *left, *right;
    int id;
};

static _Atomic int ran;                 /* finalizers run so far */
static _Atomic int when[NODES + 1];     /* when[id]: 1 for the first to run, ... */

static void finalize(void *obj, void *arg) {
    (void)arg;
    struct node *n = obj;
    atomic_store(&when[n->id], atomic_fetch_add(&ran, 1) + 1);
}

static struct node *build(int id, int depth) {
    struct node *n = gc_alloc(sizeof *n);
    n->id = id;
    if (depth > 1) {
        GC_STORE(n->left, build(2 * id, depth - 1));
        GC_STORE(n->right, build(2 * id + 1, depth - 1));
    }
    gc_set_finalizer(n, finalize, NULL);
    return n;
}

/* The tree is built and dropped on a thread of its own: once the thread
 * has exited, no stack can hold a stale pointer into it. */
static void *builder(void *arg) {
    (void)arg;
    build(1, DEPTH);
    return NULL;
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, builder, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
    double deadline = seconds() + 60;
    while (atomic_load(&ran) < NODES && seconds() < deadline) {
        gc_collect();
        nanosleep(&(struct timespec){0, 1000000}, NULL); /* the finalizer thread's turn */
    }
    int in_order = 1;
    for (int id = 2; id <= NODES; id++)
        if (atomic_load(&when[id]) <= atomic_load(&when[id / 2])) in_order = 0;
    printf("%d of %d finalizers ran, %s\n", atomic_load(&ran), NODES,
           in_order ? "each parent's before its children's" : "OUT OF ORDER");
    return atomic_load(&ran) == NODES && in_order ? 0 : 1;
}
