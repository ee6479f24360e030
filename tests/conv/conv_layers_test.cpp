// The conv-net layers of the engine: backward of each against central differences of its forward
// (float32, loss sum(y * r) for a fixed random r, every input and parameter element perturbed),
// the per-channel BN invariants, shape errors, and a short training run of the small CNN whose loss
// falls, with and without BN.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>

#include "bnorm/error.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"
#include "nn/conv/cnn.hpp"
#include "nn/conv/conv2d_layer.hpp"
#include "nn/conv/pool2d_layer.hpp"
#include "nn/init.hpp"
#include "nn/threads.hpp"
#include "nn_test_util.hpp"
#include "optim/classifier_trainer.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

Tensor random_tensor(int64_t rows, int64_t cols, uint64_t seed, double mean = 0.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, 1.0);
  Tensor t;
  t.resize(rows, cols);
  for (float& v : t.span()) v = static_cast<float>(dist(rng));
  return t;
}

double weighted_sum(const Tensor& y, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y[i]) * r[i];
  return s;
}

using test::numeric_grad;  // tests/nn/nn_test_util.hpp: central differences

// Checks dx (pre-filled with garbage: it must be overwritten) and every parameter gradient.
void check_layer(Layer& layer, Tensor x, double atol, double rtol, float h) {
  const int64_t n = x.rows(), out_f = layer.out_features(x.cols());
  Tensor y, dx;
  y.resize(n, out_f);
  const Tensor r = random_tensor(n, out_f, 99);
  auto loss = [&] {
    layer.forward(x, y, Phase::kTrain);
    return weighted_sum(y, r);
  };
  loss();
  layer.zero_grad();
  dx.resize(n, x.cols());
  dx.fill(123.0f);
  layer.backward(x, y, r, &dx);
  std::vector<std::vector<float>> analytic;
  for (const Parameter& p : layer.parameters()) analytic.emplace_back(p.grad.begin(), p.grad.end());

  bnorm::test::expect_close<float, double>(dx.span(), numeric_grad(x.span(), loss, h), atol, rtol,
                                           std::string(layer.kind()) + " dx");
  auto params = layer.parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    bnorm::test::expect_close<float, double>(analytic[k], numeric_grad(params[k].value, loss, h),
                                             atol, rtol,
                                             std::string(layer.kind()) + " d" + params[k].name);
  }
}

TEST(ConvLayers, Conv2dWithBiasPaddingAndStride) {
  Conv2dLayer conv(
      {.in = {.c = 2, .h = 5, .w = 6}, .out_channels = 3, .kernel = 3, .stride = 2, .pad = 1});
  init_weight(conv.weight(), 18, 3, {.scheme = InitScheme::kXavierUniform}, 3);
  for (size_t i = 0; i < conv.bias().size(); ++i) conv.bias()[i] = 0.1f * static_cast<float>(i);
  EXPECT_EQ(conv.out_shape().h, 3);
  EXPECT_EQ(conv.out_shape().w, 3);
  check_layer(conv, random_tensor(3, 2 * 5 * 6, 4), 2e-3, 2e-3, 1e-2f);
}

TEST(ConvLayers, Conv2dWithoutBias) {
  Conv2dLayer conv({.in = {.c = 3, .h = 4, .w = 4}, .out_channels = 2, .pad = 0, .bias = false});
  init_weight(conv.weight(), 27, 2, {.scheme = InitScheme::kXavierUniform}, 5);
  EXPECT_EQ(conv.parameters().size(), 1u);
  check_layer(conv, random_tensor(2, 3 * 4 * 4, 6), 2e-3, 2e-3, 1e-2f);
}

// Distinct values spaced 0.1 apart, so no perturbation of 0.01 changes which element is a maximum.
Tensor distinct_tensor(int64_t rows, int64_t cols, uint64_t seed) {
  Tensor t;
  t.resize(rows, cols);
  std::vector<int> order(static_cast<size_t>(rows * cols));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  for (size_t i = 0; i < order.size(); ++i) t[static_cast<int64_t>(i)] = 0.1f * order[i] - 3.0f;
  return t;
}

TEST(ConvLayers, MaxPool) {
  Pool2dLayer pool({.in = {.c = 2, .h = 6, .w = 5}, .pool = PoolKind::kMax});
  EXPECT_EQ(pool.out_shape().h, 3);
  EXPECT_EQ(pool.out_shape().w, 2);
  check_layer(pool, distinct_tensor(3, 60, 7), 1e-3, 1e-3, 1e-2f);
}

TEST(ConvLayers, AvgPoolOverlapping) {
  Pool2dLayer pool(
      {.in = {.c = 3, .h = 5, .w = 5}, .pool = PoolKind::kAvg, .size = 3, .stride = 2});
  check_layer(pool, random_tensor(2, 75, 8), 1e-3, 1e-3, 1e-2f);
}

TEST(ConvLayers, FlattenIsTheIdentity) {
  Flatten flatten;
  check_layer(flatten, random_tensor(3, 10, 9), 1e-3, 1e-3, 1e-2f);
}

// Inputs shifted by +10 to expose cancellation in the statistics.
TEST(ConvLayers, ChannelBatchNormGradients) {
  ChannelBatchNormLayer bn({.c = 3, .h = 3, .w = 4}, {});
  for (int c = 0; c < 3; ++c) {
    bn.module().gamma()[c] = 0.5f + 0.3f * static_cast<float>(c);
    bn.module().beta()[c] = 0.1f * static_cast<float>(c);
  }
  check_layer(bn, random_tensor(4, 36, 10, 10.0), 3e-3, 2e-2, 1e-2f);
}

// Statistics per channel over N*H*W: each output channel has mean beta and variance gamma^2
// (biased), and per channel sum(dx) = 0 in training.
TEST(ConvLayers, ChannelBatchNormNormalizesPerChannelOverBatchAndPositions) {
  const ImageShape shape{.c = 2, .h = 3, .w = 3};
  ChannelBatchNormLayer bn(shape, {});
  const int64_t n = 5, s = shape.h * shape.w;
  Tensor x = random_tensor(n, shape.numel(), 11, 2.0), y, dx;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t p = 0; p < s; ++p) x[i * shape.numel() + s + p] *= 7.0f;  // channel 1 wider
  y.resize(n, shape.numel());
  dx.resize(n, shape.numel());
  bn.forward(x, y, Phase::kTrain);
  const Tensor r = random_tensor(n, shape.numel(), 12);
  bn.backward(x, y, r, &dx);
  for (int64_t c = 0; c < shape.c; ++c) {
    double sum = 0, sq = 0, dsum = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t p = 0; p < s; ++p) {
        const int64_t at = i * shape.numel() + c * s + p;
        sum += y[at];
        sq += static_cast<double>(y[at]) * y[at];
        dsum += dx[at];
      }
    const double m = static_cast<double>(n * s);
    EXPECT_NEAR(sum / m, 0.0, 1e-5) << "channel " << c;
    EXPECT_NEAR(sq / m, 1.0, 1e-3) << "channel " << c;
    EXPECT_NEAR(dsum, 0.0, 1e-4) << "channel " << c;
  }
  EXPECT_EQ(bn.module().num_batches_tracked(), 1);
}

TEST(ConvLayers, ShapeErrorsNameTheGeometry) {
  Conv2dLayer conv({.in = {.c = 1, .h = 28, .w = 28}, .out_channels = 4, .pad = 1});
  EXPECT_THROW(conv.out_features(100), Error);
  EXPECT_THROW(Conv2dLayer({.in = {.c = 1, .h = 2, .w = 2}, .out_channels = 4, .kernel = 5}),
               Error);
  EXPECT_THROW(Pool2dLayer({.in = {.c = 1, .h = 1, .w = 4}}), Error);
  EXPECT_THROW(ChannelBatchNormLayer({.c = 3, .h = 2, .w = 2}, {}).out_features(11), Error);
  EXPECT_THROW(build_cnn({.input = {.c = 1, .h = 2, .w = 2}}), Error);
}

// Synthetic 12x12 images: class k has a bright 4x4 square at one of four corners, plus noise.
struct Images {
  std::vector<float> x;
  std::vector<int32_t> y;
};
Images corner_squares(int64_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.3f);
  Images d;
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int32_t>(i % 4);
    d.y.push_back(label);
    const int64_t oy = label / 2 * 8, ox = label % 2 * 8;
    for (int64_t py = 0; py < 12; ++py)
      for (int64_t px = 0; px < 12; ++px) {
        const bool on = py >= oy && py < oy + 4 && px >= ox && px < ox + 4;
        d.x.push_back((on ? 1.0f : 0.0f) + noise(rng));
      }
  }
  return d;
}

// The small CNN the training tests use: 12x12 images, conv(4)-pool-conv(8)-pool-FC(16)-FC(4).
Sequential small_cnn(bool with_bn, uint64_t seed) {
  return build_cnn({.input = {.c = 1, .h = 12, .w = 12},
                    .channels = {4, 8},
                    .hidden = 16,
                    .classes = 4,
                    .batch_norm = with_bn,
                    .seed = seed});
}

class CnnTraining : public ::testing::TestWithParam<bool> {};

TEST_P(CnnTraining, LossFallsAndAccuracyRises) {
  const bool with_bn = GetParam();
  Sequential net = small_cnn(with_bn, 3);
  optim::Sgd sgd(net.parameters(), {.lr = 0.05, .momentum = 0.9});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::constant(0.05), {.eval_batch = 50});
  const Images data = corner_squares(200, 4);
  const int64_t batch = 20, f = 144;
  double first = 0, last = 0;
  for (int64_t step = 0; step < 60; ++step) {
    const int64_t start = (step * batch) % 200;
    const double loss = trainer.train_step(
        std::span(data.x).subspan(static_cast<size_t>(start * f), static_cast<size_t>(batch * f)),
        std::span(data.y).subspan(static_cast<size_t>(start), static_cast<size_t>(batch)));
    if (step < 5) first += loss / 5;
    if (step >= 55) last += loss / 5;
  }
  EXPECT_LT(last, 0.5 * first) << "first steps " << first << ", last steps " << last;
  EXPECT_GT(trainer.evaluate(data.x, data.y).accuracy, 0.9);
}

// Every parameter of the small CNN after a few training steps at `threads` threads: the conv
// layers then split the batch into one block per thread, and OpenBLAS threads the FC layers.
std::vector<float> parameters_after_training(int threads, bool with_bn) {
  const int saved = num_threads();
  set_num_threads(threads);
  Sequential net = small_cnn(with_bn, 5);
  optim::Sgd sgd(net.parameters(), {.lr = 0.05, .momentum = 0.9});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::constant(0.05));
  const Images data = corner_squares(90, 6);
  const int64_t batch = 30, f = 144;
  for (int64_t step = 0; step < 6; ++step) {
    const int64_t start = (step * batch) % 90;
    trainer.train_step(
        std::span(data.x).subspan(static_cast<size_t>(start * f), static_cast<size_t>(batch * f)),
        std::span(data.y).subspan(static_cast<size_t>(start), static_cast<size_t>(batch)));
  }
  set_num_threads(saved);
  std::vector<float> all;
  for (const Parameter& p : net.parameters()) all.insert(all.end(), p.value.begin(), p.value.end());
  return all;
}

TEST_P(CnnTraining, OneAndTwoThreadsAgreeAndRunsRepeatBitwise) {
  const bool with_bn = GetParam();
  const std::vector<float> one = parameters_after_training(1, with_bn);
  const std::vector<float> two = parameters_after_training(2, with_bn);
  const std::vector<float> two_again = parameters_after_training(2, with_bn);
  EXPECT_TRUE(two == two_again) << "two runs at 2 threads differ";
  EXPECT_TRUE(parameters_after_training(1, with_bn) == one) << "two runs at 1 thread differ";
  bnorm::test::expect_close<float, float>(two, one, 1e-5, 1e-4, "parameters, 2 threads vs 1");
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutBn, CnnTraining, ::testing::Bool());

}  // namespace
}  // namespace bnorm::nn
