// tests/gc/tls_dtor.cc: C++ thread_local destructors run while their
// thread is still scanned, and may use the collector.
//
// A thread_local object holds the only pointer to a collected object. Its
// destructor, which glibc runs after the thread's start routine returned
// (__call_tls_dtors, before the key destructors), collects twice and
// churns the heap, then checks the object. A thread that left the
// registry before its destructors would have that object freed under it.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <atomic>

#include <tricolor.h>

static std::atomic<int> ok{0}, ran{0};

struct Holder {
    unsigned char *obj = nullptr;
    ~Holder() {
        gc_collect();
        for (int i = 0; i < 4000; i++) memset(gc_alloc_noscan(96), 0x5a, 96);
        gc_collect();
        for (int i = 0; i < 4000; i++) memset(gc_alloc_noscan(96), 0x5a, 96);
        int good = obj != nullptr;
        for (int i = 0; good && i < 96; i++) good = obj[i] == (unsigned char)(i * 7 + 1);
        ok.store(good);
        ran.fetch_add(1);
    }
};

static thread_local Holder holder;

static void *worker(void *) {
    unsigned char *p = static_cast<unsigned char *>(gc_alloc_noscan(96));
    for (int i = 0; i < 96; i++) p[i] = (unsigned char)(i * 7 + 1);
    holder.obj = p;
    return nullptr;
}

int main() {
    int failed = 0;
    for (int round = 0; round < 3; round++) {
        pthread_t t;
        pthread_create(&t, nullptr, worker, nullptr);
        pthread_join(t, nullptr);
        if (ran.load() != round + 1 || ok.load() != 1) failed++;
    }
    printf("%s thread_local_destructor\n", failed ? "FAIL" : "PASS");
    return failed ? 1 : 0;
}
