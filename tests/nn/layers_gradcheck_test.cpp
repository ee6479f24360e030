// Every layer's backward against central differences of its forward, in float32 with the loss
// sum(y * r) for a fixed random r (never sum(y): for BatchNorm it does not depend on x). Every
// element of the input and of each parameter is perturbed. Gradient buffers are pre-filled with
// garbage where the contract says "overwritten", and checked for accumulation where it says "+=".
#include <gtest/gtest.h>

#include <memory>

#include "bnorm/error.hpp"
#include "nn/activations.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/dropout.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/random.hpp"
#include "nn_test_util.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

using test::numeric_grad;
using test::random_tensor;

double weighted_sum(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

// Checks dx and every parameter gradient of `layer` at input x in `phase`.
void check_layer(Layer& layer, Tensor x, Phase phase, double atol, double rtol, float h) {
  const int64_t n = x.rows(), out_f = layer.out_features(x.cols());
  Tensor y, dx;
  y.resize(n, out_f);
  const Tensor r = random_tensor(n, out_f, 99);
  auto loss = [&] {
    layer.forward(x, y, phase);
    return weighted_sum(y, r);
  };

  loss();
  layer.zero_grad();
  dx.resize(n, x.cols());
  dx.fill(123.0f);  // garbage: backward must overwrite it
  layer.backward(x, y, r, &dx);
  std::vector<std::vector<float>> analytic;
  for (const Parameter& p : layer.parameters()) analytic.emplace_back(p.grad.begin(), p.grad.end());

  const std::vector<double> dx_num = numeric_grad(x.span(), loss, h);
  bnorm::test::expect_close<float, double>(dx.span(), dx_num, atol, rtol,
                                           std::string(layer.kind()) + " dx");
  auto params = layer.parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    const std::vector<double> num = numeric_grad(params[k].value, loss, h);
    bnorm::test::expect_close<float, double>(analytic[k], num, atol, rtol,
                                             std::string(layer.kind()) + " d" + params[k].name);
  }

  // Parameter gradients accumulate: a second backward doubles them.
  loss();
  layer.backward(x, y, r, &dx);
  params = layer.parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    for (size_t i = 0; i < analytic[k].size(); ++i) {
      ASSERT_NEAR(params[k].grad[i], 2.0f * analytic[k][i], 1e-4 + 1e-4 * std::abs(analytic[k][i]))
          << layer.kind() << " " << params[k].name << " index " << i;
    }
  }
}

TEST(LayerGradcheck, LinearWithBias) {
  Linear linear({.in_features = 7, .out_features = 5});
  init_weight(linear.weight(), 7, 5, {.scheme = InitScheme::kXavierUniform}, 1);
  for (size_t i = 0; i < linear.bias().size(); ++i) linear.bias()[i] = 0.1f * static_cast<float>(i);
  check_layer(linear, random_tensor(6, 7, 2), Phase::kTrain, 2e-3, 2e-3, 1e-2f);
}

TEST(LayerGradcheck, LinearWithoutBias) {
  Linear linear({.in_features = 4, .out_features = 9, .bias = false});
  init_weight(linear.weight(), 4, 9, {.scheme = InitScheme::kHe}, 3);
  EXPECT_EQ(linear.parameters().size(), 1u);
  check_layer(linear, random_tensor(3, 4, 4), Phase::kTrain, 2e-3, 2e-3, 1e-2f);
}

TEST(LayerGradcheck, Sigmoid) {
  Sigmoid sigmoid;
  check_layer(sigmoid, random_tensor(5, 6, 5, 2.0), Phase::kTrain, 3e-4, 2e-3, 1e-2f);
}

TEST(LayerGradcheck, ReLU) {
  ReLU relu;
  Tensor x = random_tensor(5, 6, 6);
  for (float& v : x.span()) v += v > 0 ? 0.05f : -0.05f;  // keep away from the kink at 0
  check_layer(relu, x, Phase::kTrain, 1e-3, 1e-3, 1e-2f);
}

TEST(LayerGradcheck, BatchNormTrainingPhase) {
  BatchNormLayer bn({.num_features = 5});
  for (size_t c = 0; c < 5; ++c) {
    bn.module().gamma()[c] = 0.5f + 0.3f * static_cast<float>(c);
    bn.module().beta()[c] = 0.1f * static_cast<float>(c);
  }
  // Shifted by +10 to expose cancellation in the statistics.
  check_layer(bn, random_tensor(8, 5, 7, 1.0, 10.0), Phase::kTrain, 3e-3, 2e-2, 1e-2f);
}

TEST(LayerGradcheck, BatchNormEvalPhaseUsesRunningStatistics) {
  BatchNormLayer bn({.num_features = 3});
  bn.module().running_mean()[1] = 2.0f;
  bn.module().running_var()[2] = 4.0f;
  bn.module().gamma()[0] = 1.7f;
  Tensor x = random_tensor(4, 3, 8);
  Tensor y;
  y.resize(4, 3);
  bn.forward(x, y, Phase::kEval);
  const float expected = (x[1] - 2.0f) / std::sqrt(1.0f + 1e-5f);
  EXPECT_NEAR(y[1], expected, 1e-5);
  check_layer(bn, x, Phase::kEval, 1e-3, 1e-3, 1e-2f);
}

TEST(LayerGradcheck, BatchNormTrainingPhaseUpdatesRunningStatisticsEvalDoesNot) {
  BatchNormLayer bn({.num_features = 2});
  Tensor x = random_tensor(6, 2, 9, 1.0, 3.0), y;
  y.resize(6, 2);
  bn.forward(x, y, Phase::kEval);
  EXPECT_EQ(bn.module().num_batches_tracked(), 0);
  bn.forward(x, y, Phase::kTrain);
  EXPECT_EQ(bn.module().num_batches_tracked(), 1);
  EXPECT_GT(bn.module().running_mean()[0], 0.1f);  // 0.1 * batch mean of about 3
}

TEST(LayerGradcheck, FrozenBatchNormGivesNoParameterGradients) {
  BatchNormLayer bn({.num_features = 3});
  bn.set_frozen(true);
  Tensor x = random_tensor(4, 3, 10), y, dx;
  y.resize(4, 3);
  dx.resize(4, 3);
  bn.forward(x, y, Phase::kTrain);
  EXPECT_EQ(bn.module().num_batches_tracked(), 0);
  bn.zero_grad();
  bn.backward(x, y, random_tensor(4, 3, 11), &dx);
  for (const Parameter& p : bn.parameters()) {
    for (float g : p.grad) EXPECT_EQ(g, 0.0f) << p.name;
  }
}

TEST(LayerGradcheck, DropoutMasksScalesAndIsIdentityInEval) {
  Dropout dropout(0.25, 42);
  const Tensor x = random_tensor(50, 40, 12);
  Tensor y, dx;
  y.resize(50, 40);
  dx.resize(50, 40);
  dropout.forward(x, y, Phase::kTrain);
  int64_t dropped = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (y[i] == 0.0f) {
      ++dropped;
    } else {
      ASSERT_FLOAT_EQ(y[i], x[i] / 0.75f) << "index " << i;
    }
  }
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(x.numel()), 0.25, 0.03);
  const Tensor dy = random_tensor(50, 40, 13);
  dropout.backward(x, y, dy, &dx);
  for (int64_t i = 0; i < x.numel(); ++i) {
    ASSERT_FLOAT_EQ(dx[i], y[i] == 0.0f ? 0.0f : dy[i] / 0.75f) << "index " << i;
  }
  dropout.forward(x, y, Phase::kEval);
  for (int64_t i = 0; i < x.numel(); ++i) ASSERT_EQ(y[i], x[i]);
  EXPECT_THROW(Dropout(1.0, 1), Error);
}

}  // namespace
}  // namespace bnorm::nn
