// Vector types and operations of the optimized kernels for one ISA: vectors of
// BNORM_CPU_VECTOR_BYTES (GCC vector extensions, which each ISA build's flags lower to AVX-512,
// AVX2 or SSE2), loads, stores, reductions and tails. Every kernels/cpu header is compiled once per
// ISA build, inside namespace bnorm::kernels::BNORM_CPU_NS, with internal linkage: the builds must
// never share a linked copy of a function (batch_norm_<isa>.cpp define the two macros).
#pragma once

#if !defined(BNORM_CPU_NS) || !defined(BNORM_CPU_VECTOR_BYTES)
#error "kernels/cpu headers need BNORM_CPU_NS and BNORM_CPU_VECTOR_BYTES: see batch_norm_avx2.cpp"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bnorm::kernels::BNORM_CPU_NS {
namespace {

constexpr int64_t kVectorBytes = BNORM_CPU_VECTOR_BYTES;
// Vector registers of the build's ISA (AVX-512: 32; AVX2 and SSE: 16): how many independent
// accumulation chains a loop may keep without spilling.
constexpr int64_t kVectorRegisters = kVectorBytes == 64 ? 32 : 16;

template <typename T>
struct Simd;
template <>
struct Simd<float> {
  typedef float V __attribute__((vector_size(kVectorBytes)));
  typedef double D __attribute__((vector_size(2 * kVectorBytes)));  // V widened to double
};
template <>
struct Simd<double> {
  typedef double V __attribute__((vector_size(kVectorBytes)));
  typedef double D __attribute__((vector_size(kVectorBytes)));
};

template <typename T>
constexpr int64_t kLanes = kVectorBytes / static_cast<int64_t>(sizeof(T));

template <typename V, typename T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T, typename V>
inline void store(T* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

template <typename D>
inline double hsum(D v) {
  double s = 0.0;
  for (size_t i = 0; i < sizeof(D) / sizeof(double); ++i) s += v[i];
  return s;
}

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Elements of T before p reaches a vector-aligned address.
template <typename T>
inline int64_t elements_to_alignment(const T* p) {
  const auto misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) % kVectorBytes);
  return (misaligned == 0 ? 0 : kVectorBytes - misaligned) / static_cast<int64_t>(sizeof(T));
}

// The vector ending at p + len when len % L != 0 overlaps the previous one; keep_tail zeroes its
// first L - len % L lanes, so that the sums see each value once and no scalar loop is needed.
template <typename T>
inline typename Simd<T>::V keep_tail(typename Simd<T>::V v, int64_t rem) {
  using V = typename Simd<T>::V;
  static constexpr T kIota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const V lane = load<V>(kIota);
  return lane >= V{} + static_cast<T>(kLanes<T> - rem) ? v : V{};
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
