// The noisy-BN noise layer: y = scale * x + shift per unit with a new draw at every training
// forward (the same one while held), identity in evaluation, a backward that matches central
// differences, draws inside the stated ranges with the right means, and bad options rejected.
#include "nn/noisy_scale_shift.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "bnorm/error.hpp"
#include "nn_test_util.hpp"

namespace bnorm::nn {
namespace {

using test::numeric_grad;
using test::random_tensor;

constexpr int64_t kRows = 7, kFeatures = 5;

TEST(NoisyScaleShift, TrainingForwardScalesAndShiftsEachUnitWithANewDrawPerCall) {
  NoisyScaleShift layer({.features = kFeatures}, 11);
  const Tensor x = random_tensor(kRows, kFeatures, 1);
  Tensor y(std::vector<int64_t>{kRows, kFeatures});
  layer.forward(x, y, Phase::kTrain);
  const std::vector<float> scale = layer.scale(), shift = layer.shift();
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < kFeatures; ++j)
      EXPECT_FLOAT_EQ(y[i * kFeatures + j], scale[j] * x[i * kFeatures + j] + shift[j]);
  layer.forward(x, y, Phase::kTrain);
  EXPECT_NE(layer.scale(), scale);
  EXPECT_NE(layer.shift(), shift);
  // Held: the draw stays.
  layer.set_held(true);
  const std::vector<float> held_scale = layer.scale();
  layer.forward(x, y, Phase::kTrain);
  EXPECT_EQ(layer.scale(), held_scale);
  // The same seed gives the same draws; another seed does not.
  NoisyScaleShift same({.features = kFeatures}, 11), other({.features = kFeatures}, 12);
  EXPECT_EQ(same.scale(), NoisyScaleShift({.features = kFeatures}, 11).scale());
  EXPECT_NE(same.scale(), other.scale());
}

TEST(NoisyScaleShift, EvaluationIsTheIdentityForwardAndBackward) {
  NoisyScaleShift layer({.features = kFeatures}, 3);
  const Tensor x = random_tensor(kRows, kFeatures, 2), dy = random_tensor(kRows, kFeatures, 3);
  Tensor y(std::vector<int64_t>{kRows, kFeatures}), dx(std::vector<int64_t>{kRows, kFeatures});
  const std::vector<float> scale = layer.scale();
  layer.forward(x, y, Phase::kEval);
  EXPECT_EQ(layer.scale(), scale);  // no draw in evaluation
  dx.fill(123.0f);
  layer.backward(x, y, dy, &dx);
  for (int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_EQ(y[i], x[i]);
    EXPECT_EQ(dx[i], dy[i]);
  }
}

// Loss sum(y * r): dx against central differences in double, with the draw held; dx is
// pre-filled with garbage, since backward overwrites it.
TEST(NoisyScaleShift, BackwardMatchesCentralDifferences) {
  NoisyScaleShift layer(
      {.features = kFeatures, .shift_bound = 2.0, .variance_min = 0.1, .variance_max = 9.0}, 5);
  Tensor x = random_tensor(kRows, kFeatures, 4);
  const Tensor r = random_tensor(kRows, kFeatures, 5);
  Tensor y(std::vector<int64_t>{kRows, kFeatures}), dx(std::vector<int64_t>{kRows, kFeatures});
  layer.forward(x, y, Phase::kTrain);
  layer.set_held(true);
  dx.fill(-77.0f);
  layer.backward(x, y, r, &dx);
  const std::vector<double> numeric = numeric_grad(
      x.span(),
      [&] {
        layer.forward(x, y, Phase::kTrain);
        double s = 0;
        for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
        return s;
      },
      1e-2f);
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_NEAR(dx[i], numeric[static_cast<size_t>(i)], 1e-3 + 1e-3 * std::abs(numeric[i]))
        << "element " << i;
}

// 400 draws of 50 units: shifts uniform on [-0.5, 0.5] (mean 0, variance 1/12) and scale^2
// uniform on [0.5, 2] (mean 1.25); the extremes come close to the bounds.
TEST(NoisyScaleShift, DrawsFollowTheStatedDistributions) {
  NoisyScaleShift layer({.features = 50}, 9);
  const Tensor x = random_tensor(2, 50, 6);
  Tensor y(std::vector<int64_t>{2, 50});
  double sum_m = 0, sum_m2 = 0, sum_v = 0, lo_m = 1, hi_m = -1, lo_v = 9, hi_v = 0;
  const int draws = 400;
  for (int d = 0; d < draws; ++d) {
    layer.forward(x, y, Phase::kTrain);
    for (int j = 0; j < 50; ++j) {
      const double m = layer.shift()[j], v = layer.scale()[j] * layer.scale()[j];
      sum_m += m;
      sum_m2 += m * m;
      sum_v += v;
      lo_m = std::min(lo_m, m);
      hi_m = std::max(hi_m, m);
      lo_v = std::min(lo_v, v);
      hi_v = std::max(hi_v, v);
    }
  }
  const double n = draws * 50.0;
  EXPECT_NEAR(sum_m / n, 0.0, 0.01);
  EXPECT_NEAR(sum_m2 / n, 1.0 / 12.0, 0.005);
  EXPECT_NEAR(sum_v / n, 1.25, 0.01);
  EXPECT_GE(lo_m, -0.5);
  EXPECT_LE(hi_m, 0.5);
  EXPECT_LT(lo_m, -0.49);
  EXPECT_GT(hi_m, 0.49);
  EXPECT_GE(lo_v, 0.5 - 1e-6);
  EXPECT_LE(hi_v, 2.0 + 1e-6);
  EXPECT_LT(lo_v, 0.51);
  EXPECT_GT(hi_v, 1.99);
}

TEST(NoisyScaleShift, BadOptionsAndWidthsAreErrors) {
  EXPECT_THROW(NoisyScaleShift({.features = 0}, 1), Error);
  EXPECT_THROW(NoisyScaleShift({.features = 3, .shift_bound = -1}, 1), Error);
  EXPECT_THROW(NoisyScaleShift({.features = 3, .variance_min = 0}, 1), Error);
  EXPECT_THROW(NoisyScaleShift({.features = 3, .variance_min = 2, .variance_max = 1}, 1), Error);
  EXPECT_THROW(NoisyScaleShift({.features = 3, .variance_max = INFINITY}, 1), Error);
  EXPECT_THROW(NoisyScaleShift({.features = 3}, 1).out_features(4), Error);
  EXPECT_EQ(NoisyScaleShift({.features = 3}, 1).out_features(3), 3);
}

}  // namespace
}  // namespace bnorm::nn
