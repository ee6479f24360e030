// STREAM copy/scale/triad with OpenMP static schedules; first touch happens in the same
// schedule so each thread's pages sit near it, as in the original benchmark.
#include "stream.hpp"

#include <emmintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "bnorm/error.hpp"
#include "stats.hpp"
#include "timer.hpp"

namespace bnorm::bench {

StreamResult measure_stream(int threads, size_t array_bytes, int reps) {
  const auto n = static_cast<int64_t>(array_bytes / sizeof(double));
  if (n < 1 || threads < 1 || reps < 1) {
    throw Error("[stream] expected positive array size, threads and reps, got " +
                std::to_string(array_bytes) + " B, " + std::to_string(threads) + ", " +
                std::to_string(reps));
  }
  // new double[] leaves the pages untouched, so the parallel loop below places them.
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  double* pa = a.get();
  double* pb = b.get();
  double* pc = c.get();
  const double s = 3.0;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    pa[i] = 1.0;
    pb[i] = 2.0;
    pc[i] = 0.0;
  }

  double best_copy = 1e30, best_scale = 1e30, best_triad = 1e30, best_scale_nt = 1e30;
  for (int r = 0; r < reps; ++r) {
    Stopwatch t;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) pc[i] = pa[i];
    best_copy = std::min(best_copy, t.seconds());

    t = Stopwatch();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) pb[i] = s * pc[i];
    best_scale = std::min(best_scale, t.seconds());

    t = Stopwatch();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
    best_triad = std::min(best_triad, t.seconds());

    // Scale again, written around the caches, with factor 2 instead of 3 so that the check below
    // sees whether it ran (the next round's scale overwrites b). Pairs of doubles from pb's
    // 16-byte aligned start (new double[] is).
    t = Stopwatch();
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static) nowait
      for (int64_t i = 0; i < n / 2; ++i) {
        _mm_stream_pd(pb + 2 * i, _mm_mul_pd(_mm_set1_pd(2.0), _mm_loadu_pd(pc + 2 * i)));
      }
      _mm_sfence();  // each thread orders its own streaming stores before the region ends
    }
    if (n % 2 != 0) pb[n - 1] = 2.0 * pc[n - 1];
    best_scale_nt = std::min(best_scale_nt, t.seconds());
  }

  // After r rounds from a = 1: c = a, b = 3a, a = b + 3c = 6a, b = 2c, so a = 6^r and
  // b = 2 * 6^(r-1).
  const double want_a = std::pow(6.0, reps);
  const double want_b = 2.0 * std::pow(6.0, reps - 1);
  for (int64_t i : {int64_t{0}, n / 2, n - 1}) {
    if (pa[i] != want_a || pb[i] != want_b) {
      throw Error("[stream] expected a = " + std::to_string(want_a) +
                  ", b = " + std::to_string(want_b) + " after " + std::to_string(reps) +
                  " rounds, got " + std::to_string(pa[i]) + ", " + std::to_string(pb[i]) + " at " +
                  std::to_string(i));
    }
  }
  const double bytes = static_cast<double>(n) * sizeof(double);
  return {.threads = threads,
          .array_bytes = array_bytes,
          .copy_gbs = gb_per_s(2 * bytes, best_copy * 1e6),
          .scale_gbs = gb_per_s(2 * bytes, best_scale * 1e6),
          .triad_gbs = gb_per_s(3 * bytes, best_triad * 1e6),
          .scale_nt_gbs = gb_per_s(2 * bytes, best_scale_nt * 1e6)};
}

}  // namespace bnorm::bench
