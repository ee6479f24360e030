// Non-i.i.d. minibatches for E6: every batch holds two classes, batch / 2 samples of each, the
// two classes drawn at random per batch. Each class's samples come in a seeded random order that
// is reshuffled when used up, so every sample of a class is seen once before any is seen twice.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "experiments/paper_settings.hpp"

namespace bnorm::experiments {

class TwoClassBatches {
 public:
  // Keeps a reference to d. Throws bnorm::Error unless batch is even and >= 2 and every class has
  // at least batch / 2 samples.
  TwoClassBatches(const data::Dataset& d, int64_t batch, uint64_t seed)
      : data_(d),
        half_(batch / 2),
        rng_(seed),
        by_class_(data::kNumClasses),
        cursor_(data::kNumClasses, 0) {
    require(batch >= 2 && batch % 2 == 0, "E6",
            "two-class batches need an even batch of 2 or more, got " + std::to_string(batch));
    for (int64_t i = 0; i < d.count; ++i) by_class_[static_cast<size_t>(d.labels[i])].push_back(i);
    for (auto& v : by_class_) {
      require(static_cast<int64_t>(v.size()) >= half_, "E6",
              "every class needs " + std::to_string(half_) +
                  " training samples for two-class batches, got " + std::to_string(v.size()));
      std::shuffle(v.begin(), v.end(), rng_);
    }
  }
  TwoClassBatches(data::Dataset&& d, int64_t batch, uint64_t seed) = delete;

  // x [batch, features], y [batch]: the first half from one class, the second from another.
  void next_into(std::span<float> x, std::span<int32_t> y) {
    std::uniform_int_distribution<int> pick(0, data::kNumClasses - 1);
    const int a = pick(rng_);
    int b = pick(rng_);
    while (b == a) b = pick(rng_);
    size_t row = 0;
    const auto features = static_cast<size_t>(data_.features);
    for (const int k : {a, b}) {
      std::vector<int64_t>& order = by_class_[static_cast<size_t>(k)];
      size_t& cursor = cursor_[static_cast<size_t>(k)];
      for (int64_t j = 0; j < half_; ++j, ++row) {
        if (cursor == order.size()) {
          std::shuffle(order.begin(), order.end(), rng_);
          cursor = 0;
        }
        const auto i = static_cast<size_t>(order[cursor++]);
        std::copy_n(data_.images.begin() + static_cast<std::ptrdiff_t>(i * features), features,
                    x.begin() + static_cast<std::ptrdiff_t>(row * features));
        y[row] = data_.labels[i];
      }
    }
  }

 private:
  const data::Dataset& data_;
  int64_t half_;
  std::mt19937_64 rng_;
  std::vector<std::vector<int64_t>> by_class_;  // sample indices per class
  std::vector<size_t> cursor_;                  // next position in each class's order
};

}  // namespace bnorm::experiments
