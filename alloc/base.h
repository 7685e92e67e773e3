/* alloc/base.h: the few macros every tricolor module shares.
 *
 * TC_INTERNAL marks non-static symbols that are not part of the public API
 * (hidden visibility: a malloc replacement is linked into arbitrary
 * programs and must not export its internals). Assertions come in three
 * tiers, selected by TC_DEBUG (meson option debug_checks):
 *   TC_ASSERT           TC_DEBUG >= 1  cheap checks on slow paths
 *   TC_ASSERT_INTERNAL  TC_DEBUG >= 2  invariant verifiers
 *   TC_ASSERT_EXPENSIVE TC_DEBUG >= 3  whole-heap walks
 * A failed assertion prints file:line and the condition, then aborts. */
#ifndef TC_ALLOC_BASE_H
#define TC_ALLOC_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifndef TC_DEBUG
#define TC_DEBUG 0
#endif

#define TC_INTERNAL __attribute__((visibility("hidden")))
#define TC_LIKELY(x) __builtin_expect(!!(x), 1)
#define TC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TC_NOINLINE __attribute__((noinline))
#define TC_COLD __attribute__((cold, noinline))
#define TC_INLINE static inline __attribute__((always_inline))

/* ThreadSanitizer builds (meson -Db_sanitize=thread). TC_NO_SANITIZE_THREAD
 * marks the few functions that race on purpose (a conservative scan reads
 * words other threads are writing): TSan neither checks nor records their
 * plain loads and stores, and still sees their atomics and calls. */
#if defined(__SANITIZE_THREAD__)
#define TC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TC_TSAN 1
#endif
#endif
#ifndef TC_TSAN
#define TC_TSAN 0
#endif
#if TC_TSAN
#define TC_NO_SANITIZE_THREAD __attribute__((no_sanitize("thread")))
#else
#define TC_NO_SANITIZE_THREAD
#endif

TC_INTERNAL __attribute__((noreturn)) void tc_assert_fail(const char *file,
                                                          int line,
                                                          const char *cond);

#define TC_CHECK_(c)                                                       \
    do {                                                                   \
        if (TC_UNLIKELY(!(c))) tc_assert_fail(__FILE__, __LINE__, #c);     \
    } while (0)
#define TC_NOCHECK_(c) ((void)sizeof(c))

#if TC_DEBUG >= 1
#define TC_ASSERT(c) TC_CHECK_(c)
#else
#define TC_ASSERT(c) TC_NOCHECK_(c)
#endif
#if TC_DEBUG >= 2
#define TC_ASSERT_INTERNAL(c) TC_CHECK_(c)
#else
#define TC_ASSERT_INTERNAL(c) TC_NOCHECK_(c)
#endif
#if TC_DEBUG >= 3
#define TC_ASSERT_EXPENSIVE(c) TC_CHECK_(c)
#else
#define TC_ASSERT_EXPENSIVE(c) TC_NOCHECK_(c)
#endif

#define TC_ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uintptr_t)(a) - 1))
#define TC_ALIGN_DOWN(x, a) ((x) & ~((uintptr_t)(a) - 1))

#endif
