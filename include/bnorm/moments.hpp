// Batch statistics in mergeable form: (count, mean, M2 = sum of squared deviations from the mean).
// Two sets of moments over disjoint data merge exactly (Chan, Golub & LeVeque 1979), which is how
// per-thread partials, accumulated micro-batches, ghost batches or ranks of a synchronized
// BatchNorm combine. Variance is never formed as E[x^2] - E[x]^2, which cancels catastrophically.
#pragma once

#include <cstdint>
#include <span>

namespace bnorm {

struct Moments {
  int64_t count = 0;
  double mean = 0.0;
  double m2 = 0.0;

  // Biased variance M2 / count: what BatchNorm normalizes with (paper, Algorithm 1).
  double variance() const { return count > 0 ? m2 / static_cast<double>(count) : 0.0; }
  // Unbiased variance M2 / (count - 1): what running_var tracks (PyTorch). Needs count > 1.
  double unbiased_variance() const { return count > 1 ? m2 / static_cast<double>(count - 1) : 0.0; }
};

// Moments of a and b together. Exact up to rounding; either side may be empty (count 0). Throws
// bnorm::Error on a negative count or counts whose sum overflows int64.
Moments merge(const Moments& a, const Moments& b);

// Moments of a plain sequence, computed in double with two passes (the obviously correct way).
Moments moments_of(std::span<const double> values);

}  // namespace bnorm
