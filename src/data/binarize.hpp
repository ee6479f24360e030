// Binary inputs, as in the paper's MNIST experiment: a pixel becomes 1 when x >= 0.5, else 0.
// With x = byte/255 that is byte >= 128. Training (BatchIterator with binarize = true) and
// evaluation (binarize(Dataset&)) share this one function so they see the same preprocessing.
#pragma once

#include <span>

#include "data/dataset.hpp"

namespace bnorm::data {

inline constexpr float kBinarizeThreshold = 0.5f;

// x[i] = x[i] >= 0.5 ? 1 : 0, in place.
void binarize(std::span<float> x);

// Binarizes every image of the dataset in place.
void binarize(Dataset& data);

}  // namespace bnorm::data
