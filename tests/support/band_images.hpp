// Tiny synthetic digits for the experiment tests: 28x28 images where class k brightens row band k
// (rows 3k..3k+2), plus uniform noise. Learnable in a few steps; square, so the CNN takes them too.
#pragma once

#include <cstdint>
#include <random>

#include "data/dataset.hpp"

namespace bnorm::test {

inline data::Dataset band_images(int64_t count, uint64_t seed, float band = 0.7f,
                                 float noise_max = 0.3f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> noise(0.0f, noise_max);
  data::Dataset d{.name = "synthetic", .count = count, .features = 784};
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int32_t>(i % data::kNumClasses);
    d.labels.push_back(label);
    for (int64_t p = 0; p < 784; ++p)
      d.images.push_back((p / 28 / 3 == label ? band : 0.0f) + noise(rng));
  }
  return d;
}

}  // namespace bnorm::test
