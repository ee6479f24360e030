// Subsets by copying the selected rows.
#include "data/subset.hpp"

#include <algorithm>
#include <bnorm/error.hpp>

namespace bnorm::data {

Dataset take_indices(const Dataset& data, std::span<const int64_t> indices) {
  Dataset out{
      .name = data.name, .count = static_cast<int64_t>(indices.size()), .features = data.features};
  out.images.resize(indices.size() * static_cast<size_t>(data.features));
  out.labels.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t src = indices[i];
    if (src < 0 || src >= data.count)
      throw Error("[take_indices] expected indices in [0, " + std::to_string(data.count) +
                  "), got " + std::to_string(src) + " at position " + std::to_string(i));
    const auto row = data.images.begin() + src * data.features;
    std::copy(row, row + data.features, out.images.begin() + int64_t(i) * data.features);
    out.labels[i] = data.labels[static_cast<size_t>(src)];
  }
  return out;
}

Dataset take_first(const Dataset& data, int64_t k) {
  if (k < 0 || k > data.count)
    throw Error("[take_first] expected 0 <= k <= " + std::to_string(data.count) + " (the " +
                data.name + " samples), got k = " + std::to_string(k));
  std::vector<int64_t> indices(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) indices[size_t(i)] = i;
  return take_indices(data, indices);
}

Dataset take_per_class(const Dataset& data, int64_t per_class) {
  if (per_class < 1)
    throw Error("[take_per_class] expected per_class >= 1, got " + std::to_string(per_class));
  const std::vector<int64_t> available = class_counts(data);
  for (int32_t c = 0; c < kNumClasses; ++c) {
    if (available[size_t(c)] < per_class)
      throw Error("[take_per_class] expected at least " + std::to_string(per_class) +
                  " samples of class " + std::to_string(c) + " in " + data.name + ", got " +
                  std::to_string(available[size_t(c)]));
  }
  std::vector<int64_t> taken(kNumClasses, 0), indices;
  for (int64_t i = 0; i < data.count; ++i) {
    int64_t& n = taken[static_cast<size_t>(data.labels[size_t(i)])];
    if (n < per_class) {
      ++n;
      indices.push_back(i);
    }
  }
  return take_indices(data, indices);
}

std::vector<int64_t> class_counts(const Dataset& data) {
  std::vector<int64_t> counts(kNumClasses, 0);
  for (int32_t label : data.labels) {
    if (label < 0 || label >= kNumClasses)
      throw Error("[class_counts] expected labels in 0.." + std::to_string(kNumClasses - 1) +
                  ", got " + std::to_string(label) + " in " + data.name);
    ++counts[static_cast<size_t>(label)];
  }
  return counts;
}

}  // namespace bnorm::data
