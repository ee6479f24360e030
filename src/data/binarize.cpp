// Thresholding at kBinarizeThreshold.
#include "data/binarize.hpp"

namespace bnorm::data {

void binarize(std::span<float> x) {
  for (float& v : x) v = v >= kBinarizeThreshold ? 1.0f : 0.0f;
}

void binarize(Dataset& data) { binarize(std::span<float>(data.images)); }

}  // namespace bnorm::data
