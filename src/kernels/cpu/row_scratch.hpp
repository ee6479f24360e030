// What the row-major kernels share: their work items (runs of rows), the per-call scratch of
// per-channel arrays, and the per-channel arithmetic that turns column sums into the normalize's
// and the gradient's coefficients. See vector_ops.hpp for how the headers are compiled.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "bnorm/layout.hpp"
#include "bnorm/moments.hpp"
#include "kernels/cpu/channel_math.hpp"
#include "kernels/cpu/scratch.hpp"
#include "kernels/cpu/tuning.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// Runs of rows [first, last) per work item: about tuning::kItemElems elements, and at least
// min_rows rows (tuning::kMinItemRows where items sum columns; an inference forward sums nothing)
// unless that leaves a problem of several rows in one item, which no second thread could share.
struct RowItems {
  int64_t rows;
  int64_t rows_per_item;
  int64_t count;

  explicit RowItems(const Extents& e, int64_t min_rows = tuning::kMinItemRows)
      : rows(e.n * e.s),
        rows_per_item(max64(tuning::kItemElems / e.c, min64(min_rows, ceil_div(rows, 2)))),
        count(ceil_div(rows, rows_per_item)) {}

  int64_t first(int64_t item) const { return item * rows_per_item; }
  int64_t last(int64_t item) const { return min64(rows, first(item) + rows_per_item); }
};

// Per-channel arrays of one call, carved from the thread's scratch: arrays [C + L] of the compute
// type F then the item partial sums [items, C] and their totals [C] in double. The F arrays hold L
// values past channel C - 1 that repeat the first channels (wrap), so that a vector of a flat span
// of rows can start at any channel.
template <typename T>
struct RowScratch {
  using F = compute_t<T>;
  F *center, *scale, *bias, *a, *b, *c0;
  double *part1, *part2, *sum1, *sum2;

  RowScratch(int64_t c, int64_t items) {
    // C values, L wrapped ones and L of slack for align_vectors.
    const size_t cs = static_cast<size_t>(c), ws = cs + 2 * static_cast<size_t>(kLanes<T>);
    const size_t t_bytes = (6 * ws * sizeof(F) + 63) / 64 * 64;
    const size_t d_count = 2 * cs * static_cast<size_t>(items) + 2 * cs;
    auto* base = static_cast<char*>(thread_scratch(t_bytes + d_count * sizeof(double)));
    F* t = reinterpret_cast<F*>(base);
    center = t, scale = t + ws, bias = t + 2 * ws, a = t + 3 * ws, b = t + 4 * ws, c0 = t + 5 * ws;
    part1 = reinterpret_cast<double*>(base + t_bytes);
    part2 = part1 + cs * static_cast<size_t>(items);
    sum1 = part2 + cs * static_cast<size_t>(items);
    sum2 = sum1 + cs;
  }

  // Sets entries [c, c + L) of the normalize's arrays (center, scale, bias), and with `grad` of
  // the gradient's (a, b, c0) too, to those of channels 0, 1, ... (cyclically for c < L).
  void wrap(int64_t c, bool grad) {
    for (F* p : {center, scale, bias, a, b, c0}) {
      if (!grad && (p == a || p == b || p == c0)) continue;
      for (int64_t j = c; j < c + kLanes<T>; ++j) p[j] = p[j - c];
    }
  }

  // Moves the normalize's arrays (with `grad`, the gradient's too), wrapped values included, so
  // that loads at channel k0 + m L are aligned; no value changes. The flat-span loops load them at
  // those channels when a row is a whole number of vectors: three or six loads per vector of
  // output, each of which would otherwise cross a cache line on 64-byte vectors.
  void align_vectors(int64_t c, int64_t k0, bool grad) {
    for (F** p : {&center, &scale, &bias, &a, &b, &c0}) {
      if (!grad && (p == &a || p == &b || p == &c0)) continue;
      const int64_t shift = elements_to_alignment(*p + k0);
      if (shift == 0) continue;
      std::memmove(*p + shift, *p, static_cast<size_t>(c + kLanes<T>) * sizeof(F));
      *p += shift;
    }
  }

  // sum1, sum2 [C] = partial sums of every item, added in item order.
  void merge(int64_t c, int64_t items) {
    for (int64_t j = 0; j < c; ++j) sum1[j] = part1[j], sum2[j] = part2[j];
    for (int64_t i = 1; i < items; ++i) {
      for (int64_t j = 0; j < c; ++j) sum1[j] += part1[i * c + j], sum2[j] += part2[i * c + j];
    }
  }
};

// Row 0 of x in the compute type: the pilot every item shifts by. Float data is its own; bfloat16
// data gets a float copy in the scratch's `a` (which the forward does not otherwise use).
template <typename T>
const compute_t<T>* pilot_row(const T* x, RowScratch<T>& s, int64_t cols) {
  if constexpr (std::is_same_v<T, compute_t<T>>) {
    return x;
  } else {
    for (int64_t c = 0; c < cols; ++c) s.a[c] = value(x[c]);
    return s.a;
  }
}

// Channels [c0, c1) of the statistics: sum1, sum2 hold the sums of x - pilot and its square over
// `rows` rows and become the mean and M2; sets invstd, moments and the normalize's center, scale
// and bias. Loops without calls or branches, which the compiler vectorizes (sqrt and division
// dominate a small layer otherwise); the same arithmetic as ShiftedSums::moments and affine_of.
template <typename T>
void finish_statistics(RowScratch<T>& s, const compute_t<T>* pilot, int64_t rows,
                       const double* gamma, const double* beta, double eps, int64_t c0, int64_t c1,
                       Moments* moments, double* invstd) {
  const double n = static_cast<double>(rows);
  for (int64_t c = c0; c < c1; ++c) {
    const double mean_d = s.sum1[c] / n;
    const double m2 = s.sum2[c] - s.sum1[c] * mean_d;
    s.sum1[c] = static_cast<double>(pilot[c]) + mean_d;
    s.sum2[c] = m2 > 0.0 ? m2 : 0.0;
  }
  for (int64_t c = c0; c < c1; ++c) invstd[c] = 1.0 / std::sqrt(s.sum2[c] / n + eps);
  for (int64_t c = c0; c < c1; ++c) {
    const double mean = s.sum1[c];
    const double k = gamma[c] * invstd[c];
    const auto center = static_cast<compute_t<T>>(mean);
    s.center[c] = center;
    s.scale[c] = static_cast<compute_t<T>>(k);
    s.bias[c] = static_cast<compute_t<T>>(beta[c] + k * (static_cast<double>(center) - mean));
  }
  for (int64_t c = c0; c < c1; ++c) moments[c] = {rows, s.sum1[c], s.sum2[c]};
}

// Center, scale and bias of every channel from given statistics (affine_of).
template <typename T>
void set_affine(RowScratch<T>& s, int64_t channels, const double* mean, const double* invstd,
                const double* gamma, const double* beta) {
  for (int64_t c = 0; c < channels; ++c) {
    const Affine<T> f = affine_of<T>(mean[c], invstd[c], gamma[c], beta[c]);
    s.center[c] = f.center, s.scale[c] = f.scale, s.bias[c] = f.bias;
  }
}

// Channels [c0, c1) of the gradient: from sum1, sum2 (sums of dy and dy * (x - center) over
// `rows` rows), dgamma, dbeta and dx's coefficients a, b, c0 (dgamma_of and grad_affine_of, in
// loops that the compiler vectorizes: a small layer spends a fifth of its backward here otherwise).
template <typename T>
void finish_gradient(RowScratch<T>& s, int64_t rows, const double* mean, const double* invstd,
                     const double* gamma, bool through_stats, int64_t c0, int64_t c1,
                     double* dgamma, double* dbeta) {
  for (int64_t c = c0; c < c1; ++c) {
    dbeta[c] = s.sum1[c];
    dgamma[c] = invstd[c] * (s.sum2[c] + (static_cast<double>(s.center[c]) - mean[c]) * s.sum1[c]);
  }
  const double m = static_cast<double>(rows);
  for (int64_t c = c0; c < c1; ++c) {
    const double k = gamma[c] * invstd[c];
    const double rounding = static_cast<double>(s.center[c]) - mean[c];
    const double b = through_stats ? -k * invstd[c] * dgamma[c] / m : 0.0;
    const double c0v = through_stats ? -k * dbeta[c] / m + b * rounding : 0.0;
    using F = compute_t<T>;
    s.a[c] = static_cast<F>(k), s.b[c] = static_cast<F>(b), s.c0[c] = static_cast<F>(c0v);
  }
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
