// MeanCenteringLayer (x = u + b, y = x - E[x]; the paper's Section 2 example): du and db against
// central differences with the loss sum(y * r), every element perturbed, inputs shifted by +10 to
// expose cancellation; the switch changes db alone (db = sum dy when E[x]'s dependence on b is
// ignored, db = 0 up to rounding with it); the output does not move when b does; eval uses the
// running mean of u with the current b.
#include <gtest/gtest.h>

#include <cmath>

#include "bnorm/error.hpp"
#include "nn/mean_centering_layer.hpp"
#include "nn_test_util.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

using test::numeric_grad;
using test::random_tensor;

constexpr int64_t kRows = 7, kCols = 5;

double weighted_sum(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

MeanCenteringLayer layer_with_bias(bool through_mean) {
  MeanCenteringLayer layer({.num_features = kCols, .bias_gradient_through_mean = through_mean});
  for (int64_t j = 0; j < kCols; ++j) layer.bias()[static_cast<size_t>(j)] = 0.3f * (j - 2);
  return layer;
}

struct Grads {
  std::vector<float> dx, db;
};

// One training forward and backward with dy = r; dx pre-filled with garbage (it is overwritten).
Grads backward_of(MeanCenteringLayer& layer, const Tensor& x, const Tensor& r) {
  Tensor y, dx;
  y.resize(kRows, kCols);
  dx.resize(kRows, kCols);
  dx.fill(123.0f);
  layer.forward(x, y, Phase::kTrain);
  layer.zero_grad();
  layer.backward(x, y, r, &dx);
  return {{dx.span().begin(), dx.span().end()},
          {layer.parameters()[0].grad.begin(), layer.parameters()[0].grad.end()}};
}

TEST(MeanCentering, GradientsMatchCentralDifferences) {
  MeanCenteringLayer layer = layer_with_bias(true);
  Tensor x = random_tensor(kRows, kCols, 3, 1.0, 10.0);  // shifted by +10
  const Tensor r = random_tensor(kRows, kCols, 99);
  const Grads g = backward_of(layer, x, r);
  Tensor y;
  y.resize(kRows, kCols);
  auto loss = [&] {
    layer.forward(x, y, Phase::kTrain);
    return weighted_sum(y, r);
  };
  bnorm::test::expect_close<float, double>(g.dx, numeric_grad(x.span(), loss, 1e-2f), 2e-3, 2e-3,
                                           "dx");
  // The loss does not depend on b: its numeric gradient is 0, and so is the analytic one.
  bnorm::test::expect_close<float, double>(g.db, numeric_grad(layer.bias(), loss, 1e-2f), 2e-3,
                                           2e-3, "db");
  for (int64_t j = 0; j < kCols; ++j) {
    double sum_dy = 0, sum_abs = 0;
    for (int64_t n = 0; n < kRows; ++n) {
      sum_dy += g.dx[static_cast<size_t>(n * kCols + j)];
      sum_abs += std::abs(r[n * kCols + j]);
    }
    EXPECT_LE(std::abs(sum_dy), 1e-6 * sum_abs) << "feature " << j;  // sum dx = 0 per feature
    EXPECT_LE(std::abs(g.db[static_cast<size_t>(j)]), 1e-6 * sum_abs) << "feature " << j;
  }
}

// The paper's flawed step: db = sum_n dy_n, while du is the exact gradient in both settings.
TEST(MeanCentering, IgnoringTheMeansDependenceOnBChangesOnlyDb) {
  const Tensor x = random_tensor(kRows, kCols, 4, 1.0, 10.0);
  const Tensor r = random_tensor(kRows, kCols, 98);
  MeanCenteringLayer exact = layer_with_bias(true), flawed = layer_with_bias(false);
  const Grads ge = backward_of(exact, x, r), gf = backward_of(flawed, x, r);
  EXPECT_EQ(ge.dx, gf.dx);
  for (int64_t j = 0; j < kCols; ++j) {
    double sum_dy = 0;
    for (int64_t n = 0; n < kRows; ++n) sum_dy += r[n * kCols + j];
    EXPECT_NEAR(gf.db[static_cast<size_t>(j)], sum_dy, 1e-5) << "feature " << j;
    EXPECT_GT(std::abs(sum_dy), 1e-3);  // the check above could not pass with db = 0
  }
  // Parameter gradients accumulate.
  Tensor y, dx;
  y.resize(kRows, kCols);
  dx.resize(kRows, kCols);
  flawed.forward(x, y, Phase::kTrain);
  flawed.backward(x, y, r, &dx);
  for (size_t j = 0; j < gf.db.size(); ++j)
    EXPECT_NEAR(flawed.parameters()[0].grad[j], 2 * gf.db[j], 1e-5);
}

// The paper's point: moving b moves neither the output nor the loss.
TEST(MeanCentering, OutputDoesNotDependOnTheBias) {
  const Tensor x = random_tensor(kRows, kCols, 5);
  MeanCenteringLayer layer = layer_with_bias(false);
  Tensor y0, y1;
  y0.resize(kRows, kCols);
  y1.resize(kRows, kCols);
  layer.forward(x, y0, Phase::kTrain);
  for (float& b : layer.bias()) b += 1000.0f;
  layer.forward(x, y1, Phase::kTrain);
  bnorm::test::expect_close<float, float>(y1.span(), y0.span(), 1e-6, 0, "y after b += 1000");
  for (int64_t j = 0; j < kCols; ++j) {
    double mean = 0;
    for (int64_t n = 0; n < kRows; ++n) mean += y0[n * kCols + j];
    EXPECT_NEAR(mean / kRows, 0.0, 1e-6) << "feature " << j;
  }
}

TEST(MeanCentering, EvalSubtractsTheRunningMeanOfTheInput) {
  MeanCenteringLayer layer({.num_features = 2, .momentum = 1.0});  // running mean = last batch's
  Tensor x, y;
  x.resize(2, 2);
  y.resize(2, 2);
  x[0] = 1, x[1] = 10, x[2] = 3, x[3] = 20;
  layer.bias()[0] = 5.0f;
  layer.forward(x, y, Phase::kTrain);
  EXPECT_FLOAT_EQ(layer.running_mean()[0], 2.0f);  // E[u], not E[u + b]
  EXPECT_FLOAT_EQ(layer.running_mean()[1], 15.0f);
  layer.bias()[0] = -7.0f;  // b moved after the statistics were taken: eval is unaffected
  Tensor probe, out;
  probe.resize(1, 2);
  out.resize(1, 2);
  probe[0] = 4, probe[1] = 15;
  layer.forward(probe, out, Phase::kEval);
  EXPECT_FLOAT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[1], 0.0f);
}

TEST(MeanCentering, RejectsBadOptionsAndOneRowInTraining) {
  EXPECT_THROW(MeanCenteringLayer({.num_features = 0}), Error);
  EXPECT_THROW(MeanCenteringLayer({.num_features = 3, .momentum = 1.5}), Error);
  MeanCenteringLayer layer({.num_features = 3});
  EXPECT_THROW(layer.out_features(4), Error);
  Tensor x, y;
  x.resize(1, 3);
  y.resize(1, 3);
  EXPECT_THROW(layer.forward(x, y, Phase::kTrain), Error);
  EXPECT_NO_THROW(layer.forward(x, y, Phase::kEval));
}

}  // namespace
}  // namespace bnorm::nn
