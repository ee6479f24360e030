// The per-channel and per-element arithmetic of the optimized kernels for one ISA build: sums
// shifted by a pilot value, the affine coefficients of the normalize and of dx, and the
// expressions every path (vector or scalar, streaming or not) evaluates, so that an element gets
// the same bits whichever path writes it. See vector_ops.hpp for how the headers are compiled.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

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

// A vector of sums in float64 lanes, as PyTorch accumulates: a product of two widened floats is
// exact, so each term enters the sum with no rounding of its own. For float, the two halves of a
// vector go to two native-width double vectors: GCC keeps a double vector twice the native width
// on the stack, which would put a store and a load in every accumulation chain.
template <typename T>
struct WideSums;

template <>
struct WideSums<float> {
  using V = Simd<float>::V;
  typedef float H __attribute__((vector_size(kVectorBytes / 2)));
  typedef double W __attribute__((vector_size(kVectorBytes)));
  W lo{}, hi{};

#if defined(__AVX512F__) && BNORM_CPU_VECTOR_BYTES == 64
  static __m256 half512(V v, int which) {
    const __m512d d = _mm512_castps_pd(v);
    return _mm256_castpd_ps(which == 0 ? _mm512_maskz_extractf64x4_pd(0xF, d, 0)
                                       : _mm512_maskz_extractf64x4_pd(0xF, d, 1));
  }
#endif
  // The halves of v in float64. Intrinsics where the build has the ISA: GCC 12 lowers
  // __builtin_convertvector of a half vector to quarter conversions through the stack. The
  // AVX-512 ones are the zero-masked forms with all lanes kept (the same instructions): the plain
  // ones start from a self-initialized "undefined" vector that -Wmaybe-uninitialized reports.
  static W low(V v) {
#if defined(__AVX512F__) && BNORM_CPU_VECTOR_BYTES == 64
    return _mm512_maskz_cvtps_pd(0xFF, half512(v, 0));
#elif defined(__AVX__) && BNORM_CPU_VECTOR_BYTES == 32
    return _mm256_cvtps_pd(_mm256_castps256_ps128(v));
#elif BNORM_CPU_VECTOR_BYTES == 16
    return _mm_cvtps_pd(v);
#else
    H h;
    std::memcpy(&h, &v, sizeof h);
    return __builtin_convertvector(h, W);
#endif
  }
  static W high(V v) {
#if defined(__AVX512F__) && BNORM_CPU_VECTOR_BYTES == 64
    return _mm512_maskz_cvtps_pd(0xFF, half512(v, 1));
#elif defined(__AVX__) && BNORM_CPU_VECTOR_BYTES == 32
    return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
#elif BNORM_CPU_VECTOR_BYTES == 16
    return _mm_cvtps_pd(_mm_movehl_ps(v, v));
#else
    H h;
    std::memcpy(&h, reinterpret_cast<const char*>(&v) + sizeof h, sizeof h);
    return __builtin_convertvector(h, W);
#endif
  }
  void add(V u) { lo += low(u), hi += high(u); }
  void add_square(V u) {
    const W l = low(u), h = high(u);
    lo += l * l, hi += h * h;
  }
  void add_product(V g, V u) { lo += low(g) * low(u), hi += high(g) * high(u); }
  void add(const WideSums& o) { lo += o.lo, hi += o.hi; }
  // p [L] += the sums.
  void add_to(double* p) const {
    store(p, load<W>(p) + lo);
    store(p + kLanes<float> / 2, load<W>(p + kLanes<float> / 2) + hi);
  }
  // p [L] += u widened (a block's float sums into the float64 ones).
  static void add_to(double* p, V u) {
    store(p, load<W>(p) + low(u));
    store(p + kLanes<float> / 2, load<W>(p + kLanes<float> / 2) + high(u));
  }
  static Simd<float>::D widen(V u) { return WideSums{low(u), high(u)}.wide(); }
  Simd<float>::D wide() const {
    Simd<float>::D d;
    std::memcpy(&d, &lo, sizeof lo);
    std::memcpy(reinterpret_cast<char*>(&d) + sizeof lo, &hi, sizeof hi);
    return d;
  }
};

// bfloat16 data sums its float32 values, as float data does.
template <>
struct WideSums<bfloat16> : WideSums<float> {};

template <>
struct WideSums<double> {
  using V = Simd<double>::V;
  V s{};

  void add(V u) { s += u; }
  void add_square(V u) { s += u * u; }
  void add_product(V g, V u) { s += g * u; }
  void add(const WideSums& o) { s += o.s; }
  void add_to(double* p) const { store(p, load<V>(p) + s); }
  static void add_to(double* p, V u) { store(p, load<V>(p) + u); }
  static V widen(V u) { return u; }
  V wide() const { return s; }
};

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
// to the compute type F: x - center is exact near the mean, and the rounding of the mean goes into
// bias in float64. (For bfloat16 data, F is float32.)
template <typename T>
struct Affine {
  using F = compute_t<T>;
  F center, scale, bias;
};

template <typename T>
Affine<T> affine_of(double mean, double invstd, double gamma, double beta) {
  using F = compute_t<T>;
  const F center = static_cast<F>(mean);
  const double k = gamma * invstd;
  return {center, static_cast<F>(k),
          static_cast<F>(beta + k * (static_cast<double>(center) - mean))};
}

// dx = a * dy + b * (x - center) + c0 (see grad_affine_of), in the compute type.
template <typename T>
struct GradAffine {
  using F = compute_t<T>;
  F a, b, c0;
};

// With k = gamma * invstd: dx = k * (dy - dbeta / M - xhat * dgamma / M) through the statistics,
// else k * dy. xhat = (x - center) * invstd + (center - mean) * invstd puts the rounding of the
// mean into c0, as in Affine.
template <typename T>
GradAffine<T> grad_affine_of(double mean, double invstd, double gamma, compute_t<T> center,
                             double dgamma, double dbeta, int64_t count, bool through_stats) {
  using F = compute_t<T>;
  const double k = gamma * invstd;
  if (!through_stats) return {static_cast<F>(k), F(0), F(0)};
  const double m = static_cast<double>(count);
  const double b = -k * invstd * dgamma / m;
  return {static_cast<F>(k), static_cast<F>(b),
          static_cast<F>(-k * dbeta / m + b * (static_cast<double>(center) - mean))};
}

// A channel's coefficients of dx: those of the forward output (for u = x - center and the relu
// mask) and those of dx itself.
template <typename T>
struct DxCoefficients {
  Affine<T> f;
  GradAffine<T> k;
};

// dgamma = sum dy * xhat from the sums of dy and dy * (x - center).
inline double dgamma_of(const ShiftedSums& g, double mean, double invstd, double center) {
  return invstd * (g.s2 + (center - mean) * g.s1);
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
