// How the optimized kernels of one ISA build spread work items over threads. Items are fixed by
// the shape and write disjoint outputs, so the result never depends on the thread count. See
// vector_ops.hpp for how the kernels/cpu headers are compiled.
#pragma once

#include <omp.h>

#include <cstdint>

#include "bnorm/layout.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Whether a problem is worth threads; the answer never changes the result, only the speed.
inline bool use_threads(const Extents& e) {
  return e.numel() >= tuning::kParallelMinElems && max_threads() > 1;
}

// f(0) ... f(count - 1), on the OpenMP pool when parallel.
template <typename F>
void for_each_item(int64_t count, bool parallel, const F& f) {
  if (!parallel || count < 2) {
    for (int64_t i = 0; i < count; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) f(i);
}

// f(i) for every i in [0, count), like for_each_item, but each thread takes one contiguous range
// of items, the same for the same count and thread count; `backwards` runs each range from its
// end. A second pass over the same data backwards starts with the items its thread touched last,
// which are still in its L2 (and in L3): fewer of its reads go to memory.
template <typename F>
void for_each_item_by_thread(int64_t count, bool parallel, bool backwards, const F& f) {
  const auto run = [&](int64_t first, int64_t last) {
    if (backwards) {
      for (int64_t i = last - 1; i >= first; --i) f(i);
    } else {
      for (int64_t i = first; i < last; ++i) f(i);
    }
  };
  if (!parallel || count < 2) {
    run(0, count);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    run(count * t / threads, count * (t + 1) / threads);
  }
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
