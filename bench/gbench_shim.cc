// gbench_shim.cc - the only C++ in bench/: forwards the C API of
// gbench_shim.h to Google Benchmark (Debian's libbenchmark 1.7).
//
// Why a shim: the project is C11, and the workloads should read as the C a
// user of malloc writes. Google Benchmark still does the part that is easy
// to get wrong (iteration-count calibration, thread start/stop barriers,
// JSON output with machine context), so the driver can trust its numbers.
//
// The opaque struct tc_bench_state is the benchmark::State itself, passed
// as a pointer to an incomplete C type and cast back here. Every benchmark
// uses wall-clock time: the threaded ones must be judged by elapsed time,
// and using one clock everywhere keeps the report uniform.

#include "gbench_shim.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

namespace {

// Set by tc_bench_fail so tc_bench_main can report failure in its status:
// Google Benchmark itself prints the error but still exits 0.
std::atomic<bool> any_failed{false};

benchmark::State *S(struct tc_bench_state *st) {
    return reinterpret_cast<benchmark::State *>(st);
}

const benchmark::State *S(const struct tc_bench_state *st) {
    return reinterpret_cast<const benchmark::State *>(st);
}

}  // namespace

extern "C" int tc_bench_register(const struct tc_bench_spec *spec) {
    if (spec == nullptr || spec->name == nullptr || spec->fn == nullptr ||
        spec->threads < 0 || spec->nargs < 0 ||
        spec->nargs > TC_BENCH_MAX_ARGS) {
        std::fprintf(stderr, "tc-bench: malformed benchmark spec '%s'\n",
                     spec && spec->name ? spec->name : "(null)");
        return -1;
    }
    tc_bench_fn *fn = spec->fn;
    std::string what = spec->what ? spec->what : "";
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        spec->name, [fn, what](benchmark::State &state) {
            fn(reinterpret_cast<struct tc_bench_state *>(&state));
            if (!what.empty()) state.SetLabel(what);
        });
    b->UseRealTime();
    if (spec->threads > 1) b->Threads(spec->threads);
    if (spec->nargs > 0)
        b->Args(std::vector<int64_t>(spec->args, spec->args + spec->nargs));
    return 0;
}

extern "C" bool tc_bench_keep_running(struct tc_bench_state *st) {
    return S(st)->KeepRunning();
}

extern "C" int64_t tc_bench_arg(const struct tc_bench_state *st, int i) {
    return S(st)->range(static_cast<std::size_t>(i));
}

extern "C" int tc_bench_thread_index(const struct tc_bench_state *st) {
    return S(st)->thread_index();
}

extern "C" int tc_bench_threads(const struct tc_bench_state *st) {
    return S(st)->threads();
}

extern "C" int64_t tc_bench_iterations(const struct tc_bench_state *st) {
    return S(st)->iterations();
}

extern "C" void tc_bench_set_items(struct tc_bench_state *st, int64_t items) {
    S(st)->SetItemsProcessed(items);
}

extern "C" void tc_bench_counter(struct tc_bench_state *st, const char *name,
                                 double value,
                                 enum tc_bench_counter_kind kind) {
    benchmark::Counter::Flags flags = benchmark::Counter::kDefaults;
    if (kind == TC_COUNTER_RATE) flags = benchmark::Counter::kIsRate;
    if (kind == TC_COUNTER_AVG_THREADS)
        flags = benchmark::Counter::kAvgThreads;
    S(st)->counters[name] = benchmark::Counter(value, flags);
}

extern "C" void tc_bench_pause(struct tc_bench_state *st) {
    S(st)->PauseTiming();
}

extern "C" void tc_bench_resume(struct tc_bench_state *st) {
    S(st)->ResumeTiming();
}

extern "C" void tc_bench_fail(struct tc_bench_state *st, const char *msg) {
    any_failed.store(true);
    S(st)->SkipWithError(msg);
}

extern "C" void tc_bench_context(const char *key, const char *value) {
    benchmark::AddCustomContext(key, value);
}

extern "C" int tc_bench_main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return any_failed.load() ? 1 : 0;
}
