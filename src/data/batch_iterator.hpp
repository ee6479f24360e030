// Minibatches for SGD: every epoch visits the samples in a fresh seeded random order, batch by
// batch; the last incomplete batch of an epoch is dropped (its samples come back next epoch in a
// different order), so every batch has exactly `batch` samples.
// Order: epoch e's permutation is the identity shuffled by fisher_yates_shuffle (shuffle.hpp)
// with one std::mt19937_64(seed) stream that runs on across epochs. Same seed, same dataset size
// -> the same batches on any platform.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "data/dataset.hpp"

namespace bnorm::data {

class BatchIterator {
 public:
  // Keeps a reference to `data`, which must outlive the iterator. With binarize, batches hold
  // x >= 0.5 ? 1 : 0 (binarize.hpp) instead of x. Throws bnorm::Error when batch <= 0 or
  // batch > data.count.
  BatchIterator(const Dataset& data, int64_t batch, uint64_t seed, bool binarize);
  // A temporary dataset would dangle: load it into a variable first.
  BatchIterator(Dataset&& data, int64_t batch, uint64_t seed, bool binarize) = delete;

  // Fills the next batch: x [batch, features] (overwritten), y [batch] (overwritten). Starts a
  // new epoch first when fewer than `batch` samples are left in this one. Throws bnorm::Error when
  // a span has the wrong size.
  void next_into(std::span<float> x, std::span<int32_t> y);

  int64_t batch() const { return batch_; }
  int64_t features() const { return data_.features; }
  // Full batches in one epoch: count / batch.
  int64_t batches_per_epoch() const { return data_.count / batch_; }
  // Epoch of the batch the next call to next_into returns, counting from 0 (changes there).
  int64_t epoch() const;
  // The sample order of the epoch the last batch came from (epoch 0 before the first batch),
  // [count]: batch b of the epoch is order[b*batch, (b+1)*batch).
  std::span<const int64_t> epoch_order() const { return order_; }

 private:
  void shuffle_order();  // a new permutation into order_, cursor_ back to 0

  const Dataset& data_;
  int64_t batch_;
  bool binarize_;
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;  // [count]
  int64_t cursor_ = 0;          // next position in order_
  int64_t epoch_ = 0;           // the epoch order_ belongs to
};

}  // namespace bnorm::data
