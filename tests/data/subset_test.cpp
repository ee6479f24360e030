// Subsets keep the rows they select (images and labels together) and the binarization threshold
// is exactly x >= 0.5.
#include "data/subset.hpp"

#include <gtest/gtest.h>

#include <bnorm/error.hpp>

#include "data/binarize.hpp"
#include "temp_dir.hpp"

namespace bnorm::data {
namespace {

using test::expect_error;

// `count` samples of 2 features; sample i holds (i, -i) and label labels[i].
Dataset numbered(std::vector<int32_t> labels) {
  Dataset d{.name = "toy", .count = static_cast<int64_t>(labels.size()), .features = 2};
  for (int64_t i = 0; i < d.count; ++i) d.images.insert(d.images.end(), {float(i), float(-i)});
  d.labels = std::move(labels);
  return d;
}

TEST(Subset, TakeIndicesCopiesRowsAndLabelsInOrder) {
  const Dataset d = numbered({0, 1, 2, 3, 4});
  const std::vector<int64_t> idx = {4, 0, 4};
  const Dataset s = take_indices(d, idx);
  EXPECT_EQ(s.name, "toy");
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.features, 2);
  EXPECT_EQ(s.images, (std::vector<float>{4, -4, 0, 0, 4, -4}));
  EXPECT_EQ(s.labels, (std::vector<int32_t>{4, 0, 4}));
  const std::vector<int64_t> bad = {1, 5};
  expect_error([&] { take_indices(d, bad); }, {"[0, 5)", "got 5 at position 1"});
}

TEST(Subset, TakeFirst) {
  const Dataset d = numbered({9, 8, 7, 6});
  EXPECT_EQ(take_first(d, 2).labels, (std::vector<int32_t>{9, 8}));
  EXPECT_EQ(take_first(d, 0).count, 0);
  expect_error([&] { take_first(d, 5); }, {"k <= 4", "got k = 5"});
  expect_error([&] { take_first(d, -1); }, {"got k = -1"});
}

TEST(Subset, TakePerClassKeepsDatasetOrder) {
  std::vector<int32_t> labels;
  for (int rep = 0; rep < 3; ++rep)
    for (int c = 9; c >= 0; --c) labels.push_back(c);  // 9..0, three times
  const Dataset d = numbered(labels);
  const Dataset s = take_per_class(d, 2);
  EXPECT_EQ(s.count, 20);
  EXPECT_EQ(class_counts(s), std::vector<int64_t>(kNumClasses, 2));
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(s.images[size_t(2 * i)], float(i)) << i;
  expect_error([&] { take_per_class(d, 4); }, {"at least 4 samples of class 0", "got 3"});
  expect_error([&] { take_per_class(d, 0); }, {"per_class >= 1, got 0"});
}

TEST(Subset, ClassCountsRejectsBadLabels) {
  EXPECT_EQ(class_counts(numbered({1, 1, 3})),
            (std::vector<int64_t>{0, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  expect_error([] { class_counts(numbered({1, 11})); }, {"got 11"});
}

TEST(Binarize, ThresholdIsHalfInclusive) {
  std::vector<float> x = {0.0f,         0.4999999f,   0.5f,  0.5000001f, 1.0f,
                          127.0f / 255, 128.0f / 255, -3.0f, 7.0f};
  binarize(std::span<float>(x));
  EXPECT_EQ(x, (std::vector<float>{0, 0, 1, 1, 1, 0, 1, 0, 1}));
}

TEST(Binarize, WholeDatasetInPlace) {
  Dataset d{.name = "toy",
            .count = 2,
            .features = 2,
            .images = {0.2f, 0.7f, 0.5f, 0.49f},
            .labels = {0, 1}};
  binarize(d);
  EXPECT_EQ(d.images, (std::vector<float>{0, 1, 1, 0}));
  EXPECT_EQ(d.labels, (std::vector<int32_t>{0, 1}));
}

}  // namespace
}  // namespace bnorm::data
