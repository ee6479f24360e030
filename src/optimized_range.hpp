// Whether a problem lies outside the range where the optimized kernels' arithmetic in T is safe.
// They subtract a value of the channel (the pilot, or the mean rounded to T) in T before widening,
// which overflows for data spread over more than the largest finite T (inputs near ±3e38 in
// float) where float64 would not. Such problems are run again on the float64 reference. The
// checks read per-channel statistics only.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <type_traits>

#include "bnorm/moments.hpp"

namespace bnorm::detail {

// A quarter of the largest finite value of the type the kernels compute in (float for bf16).
template <typename T>
constexpr double kSafeSpread =
    0.25 * std::numeric_limits<std::conditional_t<std::is_same_v<T, double>, double, float>>::max();

// The training forward's moments: non-finite, or |mean| + max |x - mean| (at most sqrt(M2)) past
// the safe spread.
template <typename T>
bool outside_optimized_range(std::span<const Moments> moments) {
  for (const Moments& m : moments) {
    if (!std::isfinite(m.mean) || !std::isfinite(m.m2) ||
        std::abs(m.mean) + std::sqrt(m.m2) > kSafeSpread<T>)
      return true;
  }
  return false;
}

// The backward's statistics: |mean| + sqrt(count) / invstd bounds |x - mean| for batch statistics
// (and is larger with eps).
template <typename T>
bool outside_optimized_range(const double* mean, const double* invstd, int64_t channels,
                             int64_t per_channel) {
  const double root_n = std::sqrt(static_cast<double>(per_channel));
  for (int64_t c = 0; c < channels; ++c) {
    const double spread = std::abs(mean[c]) + root_n / invstd[c];
    if (!(spread <= kSafeSpread<T>)) return true;  // also NaN, and invstd 0
  }
  return false;
}

}  // namespace bnorm::detail
