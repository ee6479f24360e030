// The shuffle is a seeded, portable permutation; BatchIterator visits every sample exactly once
// per epoch, drops the incomplete tail batch, repeats itself for the same seed and binarizes.
#include "data/batch_iterator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bnorm/error.hpp>
#include <numeric>

#include "data/shuffle.hpp"
#include "temp_dir.hpp"

namespace bnorm::data {
namespace {

using test::expect_error;

// Sample i has features (i, i + 0.25) and label i % 10, so a batch row tells which sample it is.
Dataset numbered(int64_t count) {
  Dataset d{.name = "toy", .count = count, .features = 2};
  for (int64_t i = 0; i < count; ++i) {
    d.images.insert(d.images.end(), {float(i), float(i) + 0.25f});
    d.labels.push_back(static_cast<int32_t>(i % 10));
  }
  return d;
}

// The sample ids of the next batch, checking that each row's features and label belong together.
std::vector<int64_t> next_ids(BatchIterator& it) {
  std::vector<float> x(static_cast<size_t>(it.batch() * it.features()), -1.0f);
  std::vector<int32_t> y(static_cast<size_t>(it.batch()), -1);
  it.next_into(x, y);
  std::vector<int64_t> ids;
  for (size_t r = 0; r < y.size(); ++r) {
    const auto id = static_cast<int64_t>(x[2 * r]);
    EXPECT_EQ(x[2 * r + 1], float(id) + 0.25f) << "row " << r;
    EXPECT_EQ(y[r], id % 10) << "row " << r;
    ids.push_back(id);
  }
  return ids;
}

TEST(Shuffle, EngineIsTheStandardMt19937_64) {
  std::mt19937_64 rng;  // default seed 5489; the standard fixes its 10000th output
  rng.discard(9999);
  EXPECT_EQ(rng(), 9981545732273789042ull);
}

TEST(Shuffle, UniformBelowStaysInRangeAndIsRoughlyUniform) {
  std::mt19937_64 rng(7);
  EXPECT_EQ(uniform_below(rng, 1), 0u);
  std::vector<int> hist(3, 0);
  for (int i = 0; i < 30000; ++i) ++hist[uniform_below(rng, 3)];
  for (int h : hist) EXPECT_NEAR(h, 10000, 400);  // ~4.5 sigma; fixed seed, so not flaky
  const uint64_t big = (uint64_t{1} << 63) + 1;   // rejects almost half of all draws
  for (int i = 0; i < 100; ++i) EXPECT_LT(uniform_below(rng, big), big);
}

TEST(Shuffle, IsAPermutationAndPinnedForSeed42) {
  std::vector<int64_t> v(10);
  std::iota(v.begin(), v.end(), 0);
  std::mt19937_64 rng(42);
  fisher_yates_shuffle(v, rng);
  std::vector<int64_t> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(sorted[size_t(i)], i);
  // From scripts/shuffle_reference.py 42 10, an independent Python mt19937_64 + Fisher-Yates.
  // A change here changes the data order of every experiment.
  EXPECT_EQ(v, (std::vector<int64_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6}));
}

TEST(BatchIterator, EveryEpochCoversEverySampleOnce) {
  const Dataset d = numbered(12);
  BatchIterator it(d, 4, 1, false);
  EXPECT_EQ(it.batches_per_epoch(), 3);
  std::vector<std::vector<int64_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    std::vector<int64_t> seen;
    for (int b = 0; b < 3; ++b) {
      EXPECT_EQ(it.epoch(), e);
      const std::vector<int64_t> ids = next_ids(it);
      EXPECT_TRUE(std::equal(ids.begin(), ids.end(), it.epoch_order().begin() + 4 * b));
      seen.insert(seen.end(), ids.begin(), ids.end());
    }
    epochs.push_back(seen);
    std::sort(seen.begin(), seen.end());
    for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(seen[size_t(i)], i) << "epoch " << e;
  }
  EXPECT_NE(epochs[0], epochs[1]);  // reshuffled each epoch
  EXPECT_NE(epochs[1], epochs[2]);
}

TEST(BatchIterator, DropsTheIncompleteLastBatch) {
  const Dataset d = numbered(10);
  BatchIterator it(d, 4, 3, false);
  EXPECT_EQ(it.batches_per_epoch(), 2);
  std::vector<int64_t> seen = next_ids(it);
  const std::vector<int64_t> second = next_ids(it);
  seen.insert(seen.end(), second.begin(), second.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a repeat in one epoch";
  EXPECT_EQ(it.epoch(), 1);  // 2 samples left < batch: the next batch opens epoch 1
  const std::vector<int64_t> third = next_ids(it);
  EXPECT_EQ(it.epoch(), 1);
  EXPECT_TRUE(std::equal(third.begin(), third.end(), it.epoch_order().begin()));
}

TEST(BatchIterator, SameSeedSameBatchesOtherSeedOthers) {
  const Dataset d = numbered(50);
  BatchIterator a(d, 7, 123, false), b(d, 7, 123, false), c(d, 7, 124, false);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {  // nearly three epochs
    const std::vector<int64_t> ia = next_ids(a), ic = next_ids(c);
    EXPECT_EQ(ia, next_ids(b)) << "batch " << i;
    differs = differs || ia != ic;
  }
  EXPECT_TRUE(differs);
}

TEST(BatchIterator, BinarizesBatchesNotTheDataset) {
  Dataset d{.name = "toy",
            .count = 4,
            .features = 1,
            .images = {0.1f, 0.5f, 0.49f, 0.9f},
            .labels = {0, 1, 2, 3}};
  BatchIterator it(d, 4, 9, true);
  std::vector<float> x(4);
  std::vector<int32_t> y(4);
  it.next_into(x, y);
  for (size_t r = 0; r < 4; ++r) {
    const float original = d.images[size_t(y[r])];
    EXPECT_EQ(x[r], original >= 0.5f ? 1.0f : 0.0f) << "label " << y[r];
  }
  EXPECT_EQ(d.images, (std::vector<float>{0.1f, 0.5f, 0.49f, 0.9f}));
}

TEST(BatchIterator, RejectsBadBatchSizes) {
  const Dataset d = numbered(10);
  expect_error([&] { BatchIterator(d, 0, 1, false); }, {"batch >= 1, got 0"});
  expect_error([&] { BatchIterator(d, -3, 1, false); }, {"got -3"});
  expect_error([&] { BatchIterator(d, 11, 1, false); }, {"batch 11", "10 samples of toy"});
  EXPECT_NO_THROW(BatchIterator(d, 10, 1, false));
}

TEST(BatchIterator, RejectsWrongBufferSizes) {
  const Dataset d = numbered(10);
  BatchIterator it(d, 3, 1, false);
  std::vector<float> x(5), x_ok(6);
  std::vector<int32_t> y(2), y_ok(3);
  expect_error([&] { it.next_into(x, y_ok); },
               {"x of 6 floats (batch 3 x 2 features) and y of 3, got 5 and 3"});
  expect_error([&] { it.next_into(x_ok, y); }, {"got 6 and 2"});
  EXPECT_NO_THROW(it.next_into(x_ok, y_ok));
}

TEST(BatchIterator, RejectsInconsistentDataset) {
  Dataset d = numbered(10);
  d.labels.pop_back();
  expect_error([&] { BatchIterator(d, 2, 1, false); }, {"10 labels", "got 20 and 9"});
}

}  // namespace
}  // namespace bnorm::data
