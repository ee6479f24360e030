// The engine's random numbers: SplitMix64 with a Box-Muller normal. Written out rather than taken
// from <random>, whose distributions differ between standard libraries: a seed must give the same
// weights and dropout masks everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace bnorm::nn {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller; one value per call, the partner is discarded for simplicity).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  uint64_t state_;
};

// A well-mixed seed for stream `stream` of a run seeded with `seed` (one stream per layer), so
// adding or removing one layer does not shift the numbers another layer draws.
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  Rng rng(seed ^ (0xd1b54a32d192ed03ULL * (stream + 1)));
  return rng.next_u64();
}

}  // namespace bnorm::nn
