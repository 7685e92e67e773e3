/* tests/integration/cxx_newdelete.cc: C++ allocation through tricolor.
 *
 * tricolor does not define operator new/delete: libstdc++'s operators call
 * malloc, aligned_alloc and free, and those resolve to tricolor. What can
 * go wrong is a form that reaches another allocator (the classic
 * "munmap_chunk(): invalid pointer" from a sized or aligned delete) or an
 * aligned new whose pointer free() does not recognise. So every form is
 * checked for ownership (gc_read_stats().nmalloc grows on new, nfree on
 * delete), for alignment where it asks for one, and for not aborting:
 * plain, array (with a cookie for non-trivial destructors), nothrow,
 * sized (-fsized-deallocation) and std::align_val_t, each in its matching
 * delete, plus out-of-memory paths (bad_alloc, nullptr from nothrow) and
 * containers/exceptions as a small real workload. */
#include <malloc.h>

#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "tc_check.h"

namespace {

/* Run f (which allocates exactly what it says) and check tricolor saw
 * at least one malloc during it; g frees and must move nfree. */
template <class A, class F>
void owned(const char *what, A alloc, F release) {
    uint64_t m0 = tc_nmalloc();
    void *p = alloc();
    if (!p) {
        TC_FAIL_("%s returned null", what);
        return;
    }
    if (tc_have_tricolor() && tc_nmalloc() <= m0) TC_FAIL_("%s: not allocated by tricolor", what);
    if (malloc_usable_size(p) == 0) TC_FAIL_("%s: malloc_usable_size is 0", what);
    uint64_t f0 = tc_nfree();
    release(p);
    if (tc_have_tricolor() && tc_nfree() <= f0) TC_FAIL_("%s: delete did not free through tricolor", what);
}

struct Tracked {
    std::string name;
    explicit Tracked(const char *n = "tracked") : name(n) {}
    ~Tracked() { name.clear(); }
};

struct alignas(64) Line {
    char bytes[64];
};
struct alignas(4096) PageObj {
    char bytes[100];
};

}  // namespace

TC_PRESENCE_TEST()

TEST(plain_new_delete) {
    owned("new int", [] { return static_cast<void *>(new int(5)); },
          [](void *p) { delete static_cast<int *>(p); });
    owned("new Tracked", [] { return static_cast<void *>(new Tracked("x")); },
          [](void *p) { delete static_cast<Tracked *>(p); });
    owned("operator new(100000)", [] { return ::operator new(100000); },
          [](void *p) { ::operator delete(p); });
}

TEST(array_new_delete) {
    owned("new char[1000]", [] { return static_cast<void *>(new char[1000]); },
          [](void *p) { delete[] static_cast<char *>(p); });
    /* A non-trivial destructor puts a count cookie before the elements:
     * the pointer delete[] hands to free is not the one new[] returned. */
    Tracked *t = new Tracked[17];
    for (int i = 0; i < 17; i++) t[i].name.assign(40, static_cast<char>('a' + i % 26));
    uint64_t f0 = tc_nfree();
    delete[] t;
    if (tc_have_tricolor()) EXPECT_TRUE(tc_nfree() > f0);
    owned("new char[0]", [] { return static_cast<void *>(new char[tc_opaque(0)]); },
          [](void *p) { delete[] static_cast<char *>(p); });
}

TEST(nothrow_new) {
    owned("new(nothrow) char[100]", [] { return static_cast<void *>(new (std::nothrow) char[100]); },
          [](void *p) { delete[] static_cast<char *>(p); });
    owned("new(nothrow) Tracked", [] { return static_cast<void *>(new (std::nothrow) Tracked); },
          [](void *p) { delete static_cast<Tracked *>(p); });
    owned("operator new(n, nothrow)", [] { return ::operator new(777, std::nothrow); },
          [](void *p) { ::operator delete(p, std::nothrow); });
    size_t huge = tc_opaque(SIZE_MAX / 2);
    EXPECT_TRUE(::operator new(huge, std::nothrow) == nullptr);
    EXPECT_TRUE(::operator new[](huge, std::nothrow) == nullptr);
    EXPECT_TRUE(::operator new(huge, std::align_val_t(64), std::nothrow) == nullptr);
}

TEST(throwing_new_out_of_memory) {
    size_t huge = tc_opaque(SIZE_MAX / 2);
    int caught = 0;
    try {
        void *p = ::operator new(huge);
        ::operator delete(p);
    } catch (const std::bad_alloc &) {
        caught++;
    }
    try {
        void *p = ::operator new[](huge, std::align_val_t(256));
        ::operator delete[](p, std::align_val_t(256));
    } catch (const std::bad_alloc &) {
        caught++;
    }
    EXPECT_EQ_U(caught, 2);
}

TEST(sized_delete) {
    static const size_t sizes[] = {1, 24, 100, 4096, 32768, 32769, 200000, 3 << 20};
    for (size_t n : sizes) {
        owned("operator new/sized delete", [n] { return ::operator new(n); },
              [n](void *p) { ::operator delete(p, n); });
        owned("operator new[]/sized delete[]", [n] { return ::operator new[](n); },
              [n](void *p) { ::operator delete[](p, n); });
    }
    /* the compiler emits the sized form for a complete type */
    owned("new Tracked (sized delete)", [] { return static_cast<void *>(new Tracked("sized")); },
          [](void *p) { delete static_cast<Tracked *>(p); });
}

TEST(aligned_new) {
    for (size_t a = 16; a <= (size_t(1) << 21); a *= 4) {
        for (size_t n : {size_t(1), a / 2 + 1, a, 3 * a}) {
            std::align_val_t al{a};
            uint64_t m0 = tc_nmalloc();
            void *p = ::operator new(n, al);
            if (tc_have_tricolor() && tc_nmalloc() <= m0) TC_FAIL_("aligned new(%zu, %zu) not ours", n, a);
            if (reinterpret_cast<uintptr_t>(p) % a) TC_FAIL_("new(%zu, align %zu) misaligned", n, a);
            if (malloc_usable_size(p) < n) TC_FAIL_("new(%zu, align %zu): usable too small", n, a);
            memset(p, 0x33, n);
            uint64_t f0 = tc_nfree();
            if (n & 1) ::operator delete(p, al);
            else ::operator delete(p, n, al);
            if (tc_have_tricolor() && tc_nfree() <= f0) TC_FAIL_("aligned delete(%zu, %zu) not ours", n, a);

            void *q = ::operator new[](n, al, std::nothrow);
            ASSERT_TRUE(q != nullptr);
            EXPECT_EQ_U(reinterpret_cast<uintptr_t>(q) % a, 0);
            ::operator delete[](q, al, std::nothrow);
        }
    }
    Line *l = new Line[33];
    EXPECT_EQ_U(reinterpret_cast<uintptr_t>(l) % 64, 0);
    delete[] l;
    PageObj *po = new PageObj;
    EXPECT_EQ_U(reinterpret_cast<uintptr_t>(po) % 4096, 0);
    delete po;
    std::vector<Line> lines(1000);
    EXPECT_EQ_U(reinterpret_cast<uintptr_t>(lines.data()) % 64, 0);
}

TEST(containers_and_exceptions) {
    std::map<std::string, std::vector<int>> m;
    for (int i = 0; i < 20000; i++) {
        std::string k = "key-" + std::to_string(i % 997) + std::string(static_cast<size_t>(i % 50), 'z');
        m[k].push_back(i);
    }
    long sum = 0;
    for (auto &kv : m)
        for (int v : kv.second) sum += v;
    EXPECT_EQ_U(sum, 19999L * 20000 / 2);
    std::vector<std::unique_ptr<Tracked>> owned_objs;
    for (int i = 0; i < 5000; i++) owned_objs.emplace_back(new Tracked("u"));
    auto shared = std::make_shared<std::vector<char>>(1 << 20, 'x');
    EXPECT_EQ_U(shared->at(12345), 'x');
    int thrown = 0;
    for (int i = 0; i < 2000; i++) {
        try {
            throw std::runtime_error(std::string(static_cast<size_t>(i % 300), 'e'));
        } catch (const std::exception &e) {
            thrown += e.what()[0] == 'e' || i % 300 == 0;
        }
    }
    EXPECT_EQ_U(thrown, 2000);
}

TC_TEST_MAIN()
