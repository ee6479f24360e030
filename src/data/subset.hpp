// Fixed subsets of a dataset: a prefix, an explicit index list, or a stratified probe set with the
// same number of samples from every class. All keep the dataset's order and name.
#pragma once

#include <cstdint>
#include <span>

#include "data/dataset.hpp"

namespace bnorm::data {

// Samples indices[0], indices[1], ... in that order. Throws bnorm::Error for an index outside
// [0, count).
Dataset take_indices(const Dataset& data, std::span<const int64_t> indices);

// The first k samples. Throws bnorm::Error when k < 0 or k > count.
Dataset take_first(const Dataset& data, int64_t k);

// The first `per_class` samples of every class 0..kNumClasses-1, kept in dataset order (so the
// classes interleave as they do in the dataset). Deterministic: no randomness involved. Throws
// bnorm::Error when per_class < 1 or a class has fewer samples (naming the class and its count).
Dataset take_per_class(const Dataset& data, int64_t per_class);

// Samples per class, [kNumClasses].
std::vector<int64_t> class_counts(const Dataset& data);

}  // namespace bnorm::data
