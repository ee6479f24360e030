// Epoch bookkeeping and copying rows of the dataset into the caller's batch buffers.
#include "data/batch_iterator.hpp"

#include <algorithm>
#include <bnorm/error.hpp>
#include <numeric>

#include "data/binarize.hpp"
#include "data/shuffle.hpp"

namespace bnorm::data {

BatchIterator::BatchIterator(const Dataset& data, int64_t batch, uint64_t seed, bool binarize)
    : data_(data), batch_(batch), binarize_(binarize), rng_(seed) {
  if (batch <= 0) throw Error("[BatchIterator] expected batch >= 1, got " + std::to_string(batch));
  if (batch > data.count)
    throw Error("[BatchIterator] batch " + std::to_string(batch) + " is larger than the " +
                std::to_string(data.count) + " samples of " + data.name +
                "; use a batch of at most " + std::to_string(data.count));
  if (data.images.size() != static_cast<size_t>(data.count * data.features) ||
      data.labels.size() != static_cast<size_t>(data.count))
    throw Error("[BatchIterator] expected " + data.name + " to hold count x features = " +
                std::to_string(data.count) + " x " + std::to_string(data.features) +
                " images and " + std::to_string(data.count) + " labels, got " +
                std::to_string(data.images.size()) + " and " + std::to_string(data.labels.size()));
  order_.resize(static_cast<size_t>(data.count));
  shuffle_order();
}

void BatchIterator::shuffle_order() {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  fisher_yates_shuffle(order_, rng_);
  cursor_ = 0;
}

int64_t BatchIterator::epoch() const {
  return cursor_ + batch_ > data_.count ? epoch_ + 1 : epoch_;
}

void BatchIterator::next_into(std::span<float> x, std::span<int32_t> y) {
  const auto x_size = static_cast<size_t>(batch_ * data_.features);
  if (x.size() != x_size || y.size() != static_cast<size_t>(batch_))
    throw Error("[BatchIterator::next_into] expected x of " + std::to_string(x_size) +
                " floats (batch " + std::to_string(batch_) + " x " +
                std::to_string(data_.features) + " features) and y of " + std::to_string(batch_) +
                ", got " + std::to_string(x.size()) + " and " + std::to_string(y.size()));
  if (cursor_ + batch_ > data_.count) {
    ++epoch_;
    shuffle_order();
  }
  const auto features = static_cast<size_t>(data_.features);
  for (size_t i = 0; i < static_cast<size_t>(batch_); ++i) {
    const auto sample = static_cast<size_t>(order_[static_cast<size_t>(cursor_) + i]);
    const float* row = data_.images.data() + sample * features;
    std::copy(row, row + features, x.begin() + static_cast<std::ptrdiff_t>(i * features));
    y[i] = data_.labels[sample];
  }
  if (binarize_) binarize(x);
  cursor_ += batch_;
}

}  // namespace bnorm::data
