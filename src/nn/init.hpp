// Weight initializers for a Linear layer's weight [out, in]; biases start at zero. Each draws from
// the engine's own generator (nn/random.hpp), so a seed gives the same weights everywhere.
#pragma once

#include <cstdint>
#include <span>

namespace bnorm::nn {

enum class InitScheme {
  kGaussian,       // N(0, sigma^2) with the given sigma (the paper's "random Gaussian values")
  kXavierUniform,  // Glorot & Bengio: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
  kXavierNormal,   // N(0, 2 / (fan_in + fan_out))
  kHe,             // He et al. for ReLU: N(0, 2 / fan_in)
};

struct InitOptions {
  InitScheme scheme = InitScheme::kGaussian;
  double sigma = 0.01;  // kGaussian only; must be > 0
};

// Fills weight [fan_out, fan_in] from `seed`. Throws bnorm::Error on a size mismatch or sigma <= 0.
void init_weight(std::span<float> weight, int64_t fan_in, int64_t fan_out, const InitOptions& init,
                 uint64_t seed);

}  // namespace bnorm::nn
