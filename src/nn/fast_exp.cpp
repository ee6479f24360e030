// Vectorizable exp; see fast_exp.hpp for the method.
#include "nn/fast_exp.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace bnorm::nn {
namespace {

inline float exp_kernel(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 split so n * kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRoundMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  x = x < -87.0f ? -87.0f : x;                // selects, not std::min/max, so the loop vectorizes
  x = x > 88.0f ? 88.0f : x;
  const float n = (x * kLog2e + kRoundMagic) - kRoundMagic;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;  // 2^n, n in [-126, 127]
  return e * std::bit_cast<float>(bits);
}

}  // namespace

// One clone per instruction set, picked at load time. ISO C++ mode keeps FMA contraction off, so
// every clone rounds the same way and results do not depend on the machine's vector width.
[[gnu::target_clones("avx512f", "avx2", "default")]] void exp_array(std::span<const float> in,
                                                                    std::span<float> out) {
  const float* x = in.data();
  float* y = out.data();
  const size_t size = std::min(in.size(), out.size());
#pragma omp simd
  for (size_t i = 0; i < size; ++i) y[i] = exp_kernel(x[i]);
}

float fast_exp(float x) { return exp_kernel(x); }

}  // namespace bnorm::nn
