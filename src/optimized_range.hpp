// Whether a problem lies outside the range where the optimized kernels' arithmetic in T is safe.
// They subtract a value of the channel (the pilot, or the mean rounded to T) in T before widening,
// which overflows for data spread over more than the largest finite T (inputs near ±3e38 in
// float) where float64 would not. Such problems are run again on the float64 reference. The
// checks read per-channel statistics only.
#pragma once

#include <algorithm>
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

inline constexpr double kLargestDouble = std::numeric_limits<double>::max();

// The training forward's moments: non-finite, or |mean| + max |x - mean| (at most sqrt(M2)) past
// the safe spread. Written as M2 <= (spread - |mean|)^2 over all channels without an early exit,
// so that no sqrt or branch per channel weighs on a small layer's call.
template <typename T>
bool outside_optimized_range(std::span<const Moments> moments) {
  double outside = 0.0;  // a count in a double, which the compiler vectorizes (a bool it does not)
  for (const Moments& m : moments) {
    const double room = kSafeSpread<T> - std::abs(m.mean);  // NaN for a NaN mean
    // room * room overflows for double; the cap keeps an infinite M2 outside.
    const bool inside = (room >= 0.0) & (m.m2 <= std::min(room * room, kLargestDouble));
    outside += inside ? 0.0 : 1.0;
  }
  return outside != 0.0;
}

// The backward's statistics: |mean| + sqrt(count) / invstd bounds |x - mean| for batch statistics
// (and is larger with eps). Written as sqrt(count) <= (spread - |mean|) * invstd, without a
// division per channel (see above); outside for NaN, and for invstd <= 0.
template <typename T>
bool outside_optimized_range(const double* mean, const double* invstd, int64_t channels,
                             int64_t per_channel) {
  const double root_n = std::sqrt(static_cast<double>(per_channel));
  double outside = 0.0;  // as above
  for (int64_t c = 0; c < channels; ++c) {
    const double room = kSafeSpread<T> - std::abs(mean[c]);
    const bool inside = (invstd[c] > 0.0) & (room >= 0.0) & (root_n <= room * invstd[c]);
    outside += inside ? 0.0 : 1.0;
  }
  return outside != 0.0;
}

}  // namespace bnorm::detail
