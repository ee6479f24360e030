// The per-channel and per-element arithmetic of the optimized kernels for one ISA build: sums
// shifted by a pilot value, the affine coefficients of the normalize and of dx, and the
// expressions every path (vector or scalar, streaming or not) evaluates, so that an element gets
// the same bits whichever path writes it. See vector_ops.hpp for how the headers are compiled.
#pragma once

#include <cstdint>

#include "bnorm/moments.hpp"
#include "kernels/cpu/vector_ops.hpp"

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

// The per-element expressions, for one value (X = T) or one vector (X = V) alike. Every path
// (vectors, scalar heads and tails, streaming or not, in place or not) goes through these, so an
// element gets the same bits whichever path writes it.

// y = activation(scale * (x - center) + bias).
template <bool kRelu, typename X>
inline X normalized(X x, X center, X scale, X bias) {
  X v = (x - center) * scale + bias;
  if constexpr (kRelu) v = v < X{} ? X{} : v;
  return v;
}

// dy, and with kRelu zero where the forward output scale * u + bias (u = x - center, the
// expression of `normalized`) is not > 0.
template <bool kRelu, typename X>
inline X masked_dy(X u, X dy, X scale, X bias) {
  if constexpr (kRelu) {
    return u * scale + bias > X{} ? dy : X{};
  } else {
    return dy;
  }
}

// dx = a * g + b * (x - center) + c0 with g = masked_dy, u = x - center.
template <typename X>
inline X dx_value(X u, X g, X a, X b, X c0) {
  return a * g + (b * u + c0);
}

// Sums of d = x - pilot and d * d over `count` values, in float64. Shifting by a value of the
// channel keeps d small when the mean is large against the spread (mean 1e4, std 1e-3), where
// sum x^2 - (sum x)^2 / n would cancel; x - pilot itself is exact for x within a factor 2 of it.
struct ShiftedSums {
  int64_t count = 0;
  double s1 = 0.0;
  double s2 = 0.0;

  void add(const ShiftedSums& o) {
    count += o.count;
    s1 += o.s1;
    s2 += o.s2;
  }
  Moments moments(double pilot) const {
    const double n = static_cast<double>(count);
    const double mean_d = s1 / n;
    const double m2 = s2 - s1 * mean_d;
    return {count, pilot + mean_d, m2 > 0.0 ? m2 : 0.0};
  }
};

// Vector lanes of float64 partial sums plus the scalar tail, reduced in a fixed order.
template <typename T>
struct LaneSums {
  typename Simd<T>::D v1{}, v2{};
  double t1 = 0.0, t2 = 0.0;

  ShiftedSums total(int64_t count) const { return {count, hsum(v1) + t1, hsum(v2) + t2}; }
};

// y = scale * (x - center) + bias is gamma * (x - mean) * invstd + beta with center = mean rounded
// to T: x - center is exact near the mean, and the rounding of the mean goes into bias in float64.
template <typename T>
struct Affine {
  T center, scale, bias;
};

template <typename T>
Affine<T> affine_of(double mean, double invstd, double gamma, double beta) {
  const T center = static_cast<T>(mean);
  const double k = gamma * invstd;
  return {center, static_cast<T>(k),
          static_cast<T>(beta + k * (static_cast<double>(center) - mean))};
}

// dx = a * dy + b * (x - center) + c0 (see grad_affine_of).
template <typename T>
struct GradAffine {
  T a, b, c0;
};

// With k = gamma * invstd: dx = k * (dy - dbeta / M - xhat * dgamma / M) through the statistics,
// else k * dy. xhat = (x - center) * invstd + (center - mean) * invstd puts the rounding of the
// mean into c0, as in Affine.
template <typename T>
GradAffine<T> grad_affine_of(double mean, double invstd, double gamma, T center, double dgamma,
                             double dbeta, int64_t count, bool through_stats) {
  const double k = gamma * invstd;
  if (!through_stats) return {static_cast<T>(k), T(0), T(0)};
  const double m = static_cast<double>(count);
  const double b = -k * invstd * dgamma / m;
  return {static_cast<T>(k), static_cast<T>(b),
          static_cast<T>(-k * dbeta / m + b * (static_cast<double>(center) - mean))};
}

// dgamma = sum dy * xhat from the sums of dy and dy * (x - center).
inline double dgamma_of(const ShiftedSums& g, double mean, double invstd, double center) {
  return invstd * (g.s2 + (center - mean) * g.s1);
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
