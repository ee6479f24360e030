// Vector types and operations of the optimized kernels for one ISA: vectors of
// BNORM_CPU_VECTOR_BYTES (GCC vector extensions, which each ISA build's flags lower to AVX-512,
// AVX2 or SSE2), loads, stores, reductions and tails. Every kernels/cpu header is compiled once per
// ISA build, inside namespace bnorm::kernels::BNORM_CPU_NS, with internal linkage: the builds must
// never share a linked copy of a function (batch_norm_<isa>.cpp define the two macros). bfloat16
// tensors compute in float32 vectors: load widens them, store rounds back to nearest even.
#pragma once

#if !defined(BNORM_CPU_NS) || !defined(BNORM_CPU_VECTOR_BYTES)
#error "kernels/cpu headers need BNORM_CPU_NS and BNORM_CPU_VECTOR_BYTES: see batch_norm_avx2.cpp"
#endif

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "bnorm/bfloat16.hpp"

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

// What the kernels compute in for elements of T: T itself, float32 for bfloat16 (as PyTorch and
// oneDNN: bfloat16 storage, float32 arithmetic, float64 sums). Vectors and lanes are those of the
// compute type: an AVX2 vector of bfloat16 data is 8 values, 16 bytes of memory.
template <typename T>
struct Compute {
  using type = T;
};
template <>
struct Compute<bfloat16> {
  using type = float;
};
template <typename T>
using compute_t = typename Compute<T>::type;

template <>
struct Simd<bfloat16> : Simd<float> {};

template <typename T>
constexpr int64_t kLanes = kVectorBytes / static_cast<int64_t>(sizeof(compute_t<T>));

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

// bfloat16 vectors: kLanes<float> values in half a vector of memory. Widening is a shift of each
// value into the upper half of a float32 lane; narrowing rounds to nearest even by integer
// arithmetic on the float bits (NaN stays a quiet NaN), or with AVX512_BF16's vcvtneps2bf16 in
// the build that has it, which rounds the same way but flushes subnormal floats to zero.
typedef uint16_t Bf16Vector __attribute__((vector_size(kVectorBytes / 2)));
typedef uint32_t Bits32Vector __attribute__((vector_size(kVectorBytes)));

inline Bf16Vector to_bf16(Simd<float>::V v) {
#if defined(__AVX512BF16__) && BNORM_CPU_VECTOR_BYTES == 64
  return reinterpret_cast<Bf16Vector>(_mm512_cvtneps_pbh(v));
#elif defined(__AVX512F__) && BNORM_CPU_VECTOR_BYTES == 64
  // Zero-masked forms with every lane kept (the same instructions): the plain ones start from an
  // "undefined" vector that -Wmaybe-uninitialized reports (as in channel_math.hpp).
  const __m512i u = _mm512_castps_si512(v), high = _mm512_maskz_srli_epi32(0xffff, u, 16);
  const __m512i lsb = _mm512_and_si512(high, _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)), lsb);
  r = _mm512_mask_blend_epi32(_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q),
                              _mm512_maskz_srli_epi32(0xffff, r, 16),
                              _mm512_or_si512(high, _mm512_set1_epi32(0x40)));
  return reinterpret_cast<Bf16Vector>(_mm512_maskz_cvtepi32_epi16(0xffff, r));
#elif defined(__AVX2__) && BNORM_CPU_VECTOR_BYTES == 32
  const __m256i u = _mm256_castps_si256(v), high = _mm256_srli_epi32(u, 16);
  const __m256i lsb = _mm256_and_si256(high, _mm256_set1_epi32(1));
  __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb);
  r = _mm256_blendv_epi8(_mm256_srli_epi32(r, 16), _mm256_or_si256(high, _mm256_set1_epi32(0x40)),
                         _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
  // Values below 2^16 pack without saturation; packus works per 128-bit half, vpermq joins them.
  r = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0xd8);
  return reinterpret_cast<Bf16Vector>(_mm256_castsi256_si128(r));
#else
  Bits32Vector u;
  std::memcpy(&u, &v, sizeof u);
  const Bits32Vector nan = reinterpret_cast<Bits32Vector>(v != v);
  const Bits32Vector rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return __builtin_convertvector((rounded & ~nan) | (((u >> 16) | 0x40u) & nan), Bf16Vector);
#endif
}

template <typename V>
inline V load(const bfloat16* p) {
#if defined(__AVX512F__) && BNORM_CPU_VECTOR_BYTES == 64
  const __m512i w =
      _mm512_maskz_cvtepu16_epi32(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return reinterpret_cast<V>(_mm512_maskz_slli_epi32(0xffff, w, 16));
#elif defined(__AVX2__) && BNORM_CPU_VECTOR_BYTES == 32
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return reinterpret_cast<V>(_mm256_slli_epi32(w, 16));
#else
  Bf16Vector h;
  std::memcpy(&h, p, sizeof h);
  const Bits32Vector u = __builtin_convertvector(h, Bits32Vector) << 16;
  V v;
  std::memcpy(&v, &u, sizeof v);
  return v;
#endif
}

template <typename V>
inline void store(bfloat16* p, V v) {
  const Bf16Vector h = to_bf16(v);
  std::memcpy(p, &h, sizeof h);
}

// One element in the compute type, and back: the scalar heads and tails, with the vectors' bits.
inline float value(bfloat16 v) { return static_cast<float>(v); }
inline float value(float v) { return v; }
inline double value(double v) { return v; }

template <typename T>
inline T stored(compute_t<T> v) {
  if constexpr (std::is_same_v<T, bfloat16>) {
#if defined(__AVX512BF16__) && BNORM_CPU_VECTOR_BYTES == 64
    // vcvtneps2bf16 on one lane (the zero-masked form, for the reason above).
    const __m128i r = reinterpret_cast<__m128i>(_mm_maskz_cvtneps_pbh(0x1, _mm_set_ss(v)));
    return bfloat16::from_bits(static_cast<uint16_t>(_mm_extract_epi16(r, 0)));
#else
    return bfloat16(v);
#endif
  } else {
    return v;
  }
}

template <typename D>
inline double hsum(D v) {
  double s = 0.0;
  for (size_t i = 0; i < sizeof(D) / sizeof(double); ++i) s += v[i];
  return s;
}

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Elements of T before p reaches a vector-aligned address.
template <typename T>
inline int64_t elements_to_alignment(const T* p) {
  const auto misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) % kVectorBytes);
  return (misaligned == 0 ? 0 : kVectorBytes - misaligned) / static_cast<int64_t>(sizeof(T));
}

// Lanes [0, n) true, the rest false (a vector comparison's mask).
template <typename T>
inline auto lanes_below(int64_t n) {
  using V = typename Simd<T>::V;
  using F = compute_t<T>;
  static constexpr F kIota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  return load<V>(kIota) < V{} + static_cast<F>(n);
}

// The vector ending at p + len when len % L != 0 overlaps the previous one; keep_tail zeroes its
// first L - len % L lanes, so that the sums see each value once and no scalar loop is needed.
template <typename T>
inline typename Simd<T>::V keep_tail(typename Simd<T>::V v, int64_t rem) {
  using V = typename Simd<T>::V;
  return lanes_below<T>(kLanes<T> - rem) ? V{} : v;
}

}  // namespace
}  // namespace bnorm::kernels::BNORM_CPU_NS
