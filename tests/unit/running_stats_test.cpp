// Running statistics and statistics modes of BatchNorm, checked against float64 computations
// written out here from PyTorch's documented rules (momentum update, unbiased variance,
// cumulative average) and the paper's Algorithm 2.
#include <gtest/gtest.h>

#include <bnorm/batch_norm.hpp>
#include <bnorm/error.hpp>
#include <cmath>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

// Per-channel float64 moments of x (extents e), straight from the definition.
std::vector<Moments> channel_moments(std::span<const float> x, const Extents& e) {
  std::vector<Moments> out;
  for (int64_t c = 0; c < e.c; ++c) {
    std::vector<double> v;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) v.push_back(x[offset(e, n, c, s)]);
    out.push_back(moments_of(v));
  }
  return out;
}

void expect_running_stats_after_steps(std::optional<double> momentum, Layout layout) {
  const TensorDesc desc{{6, 4, 3, 5}, layout};
  const Extents e = extents_of(desc, "test");
  BatchNorm<float> bn({.num_features = 4, .momentum = momentum, .layout = layout});
  std::vector<double> mean(4, 0.0), var(4, 1.0);
  std::vector<float> y(numel(desc));
  for (int step = 1; step <= 4; ++step) {
    const auto x = random_vector<float>(numel(desc), 100 + step, step * 2.0, 0.5 + step);
    bn.forward(x, desc, y, Mode::kTrain);
    const double f = momentum ? *momentum : 1.0 / step;
    const auto m = channel_moments(x, e);
    for (size_t c = 0; c < 4; ++c) {
      mean[c] = (1 - f) * mean[c] + f * m[c].mean;
      var[c] = (1 - f) * var[c] + f * m[c].m2 / static_cast<double>(m[c].count - 1);
    }
    EXPECT_EQ(bn.num_batches_tracked(), step);
  }
  expect_close<float, double>(bn.running_mean(), mean, 1e-6, 1e-6, "running_mean");
  expect_close<float, double>(bn.running_var(), var, 1e-6, 1e-6, "running_var");
}

TEST(RunningStats, MomentumUpdateWithUnbiasedVariance) {
  expect_running_stats_after_steps(0.1, Layout::kChannelsFirst);
  expect_running_stats_after_steps(0.3, Layout::kChannelsLast);
}

TEST(RunningStats, CumulativeAverageWhenMomentumIsNone) {
  expect_running_stats_after_steps(std::nullopt, Layout::kChannelsFirst);
}

// The functional update on its own: the moments of one training forward (one count for every
// channel) and moments of different counts (merged from elsewhere), against the formula in
// float64, for float and double running statistics.
template <typename T>
void expect_functional_update(const std::vector<Moments>& batch, double factor) {
  std::vector<T> mean = {T(0.5), T(-2), T(3)}, var = {T(1), T(0.25), T(4)};
  std::vector<double> want_mean, want_var;
  for (size_t c = 0; c < batch.size(); ++c) {
    want_mean.push_back((1 - factor) * static_cast<double>(mean[c]) + factor * batch[c].mean);
    want_var.push_back((1 - factor) * static_cast<double>(var[c]) +
                       factor * batch[c].m2 / static_cast<double>(batch[c].count - 1));
  }
  update_running_stats<T>(batch, factor, mean, var);
  const double tol = sizeof(T) == 4 ? 1e-7 : 1e-15;
  expect_close<T, double>(mean, want_mean, tol, tol, "running_mean");
  expect_close<T, double>(var, want_var, tol, tol, "running_var");
}

TEST(RunningStats, FunctionalUpdateFollowsPyTorchsRule) {
  const std::vector<Moments> same = {{60, 1.5, 30.0}, {60, -0.25, 5.9}, {60, 7.0, 0.0}};
  const std::vector<Moments> mixed = {{2, 1.5, 0.5}, {60, -0.25, 5.9}, {1000, 7.0, 999.0}};
  for (double factor : {0.1, 0.0, 1.0, 1.0 / 3}) {
    expect_functional_update<float>(same, factor);
    expect_functional_update<double>(same, factor);
    expect_functional_update<float>(mixed, factor);
    expect_functional_update<double>(mixed, factor);
  }
}

TEST(RunningStats, BatchStatsModeLeavesThemAlone) {
  BatchNorm<float> bn({.num_features = 3, .layout = Layout::kNC});
  const TensorDesc desc{{5, 3}, Layout::kNC};
  const auto x = random_vector<float>(15, 1, 4.0);
  std::vector<float> y(15);
  bn.forward(x, desc, y, Mode::kBatchStats);
  EXPECT_EQ(bn.num_batches_tracked(), 0);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(bn.running_mean()[c], 0.0f);
    EXPECT_EQ(bn.running_var()[c], 1.0f);
  }
}

TEST(RunningStats, KerasDecayConvertsToMomentum) {
  EXPECT_DOUBLE_EQ(momentum_from_decay(0.99), 1.0 - 0.99);
  EXPECT_DOUBLE_EQ(momentum_from_decay(0.9), 1.0 - 0.9);
  EXPECT_THROW(momentum_from_decay(1.5), Error);
}

// Inference and frozen modes normalize with the running statistics: y = gamma (x - rm) /
// sqrt(rv + eps) + beta, whatever the batch holds, so a sample's output ignores its batch-mates.
TEST(Modes, InferenceUsesRunningStatisticsPerSample) {
  for (Mode mode : {Mode::kInference, Mode::kFrozen}) {
    BatchNorm<double> bn({.num_features = 2, .eps = 1e-3, .layout = Layout::kChannelsLast});
    bn.running_mean()[0] = 1.5;
    bn.running_mean()[1] = -2.0;
    bn.running_var()[0] = 4.0;
    bn.running_var()[1] = 0.25;
    bn.gamma()[1] = 3.0;
    bn.beta()[0] = 0.5;
    const TensorDesc one{{1, 2, 3}, Layout::kChannelsLast};  // a single sample is fine here
    const auto x = random_vector<double>(6, 9);
    std::vector<double> y(6), expected(6);
    bn.forward(x, one, y, mode);
    for (size_t i = 0; i < 6; ++i) {
      const size_t c = i % 2;  // channels-last
      const double g = c ? 3.0 : 1.0, b = c ? 0.0 : 0.5;
      expected[i] = g * (x[i] - bn.running_mean()[c]) / std::sqrt(bn.running_var()[c] + 1e-3) + b;
    }
    expect_close<double, double>(y, expected, 1e-14, 1e-14, "inference y");
    EXPECT_EQ(bn.num_batches_tracked(), 0);
  }
}

TEST(Modes, BatchStatisticsNormalizeEachChannelToZeroMeanUnitVariance) {
  BatchNorm<float> bn({.num_features = 3});
  const TensorDesc desc{{4, 3, 7}, Layout::kChannelsFirst};
  const auto x = random_vector<float>(numel(desc), 5, 10.0, 3.0);
  std::vector<float> y(x.size());
  bn.forward(x, desc, y, Mode::kTrain);
  const auto m = channel_moments(y, extents_of(desc, "test"));
  for (const Moments& mc : m) {
    EXPECT_NEAR(mc.mean, 0.0, 1e-6);
    EXPECT_NEAR(mc.variance(), 1.0, 1e-4);  // var / (var + eps) with var ~ 9
  }
}

// Algorithm 2, step 2: E[x] = average of batch means, Var[x] = m/(m-1) * average of batch
// variances.
TEST(PopulationStatistics, AverageOfBatchMeansAndUnbiasedVariances) {
  const TensorDesc desc{{8, 3}, Layout::kNC};
  const Extents e = extents_of(desc, "test");
  BatchNorm<float> bn({.num_features = 3, .layout = Layout::kNC});
  std::vector<double> mean_sum(3), var_sum(3);
  std::vector<float> y(24);
  bn.begin_population_estimate();
  for (int b = 0; b < 5; ++b) {
    const auto x = random_vector<float>(24, 40 + b, b - 2.0, 1.0 + b);
    bn.forward(x, desc, y, Mode::kBatchStats);
    const auto m = channel_moments(x, e);
    for (size_t c = 0; c < 3; ++c) {
      mean_sum[c] += m[c].mean;
      var_sum[c] += m[c].variance();
    }
  }
  EXPECT_EQ(bn.end_population_estimate(), 5);
  std::vector<double> mean(3), var(3);
  for (size_t c = 0; c < 3; ++c) {
    mean[c] = mean_sum[c] / 5;
    var[c] = 8.0 / 7.0 * var_sum[c] / 5;
  }
  expect_close<float, double>(bn.running_mean(), mean, 1e-6, 1e-6, "population mean");
  expect_close<float, double>(bn.running_var(), var, 1e-6, 1e-6, "population var");
}

TEST(PopulationStatistics, EndWithoutBatchesIsAnError) {
  BatchNorm<float> bn({.num_features = 2});
  bn.begin_population_estimate();
  EXPECT_THROW(bn.end_population_estimate(), Error);
  EXPECT_THROW(bn.end_population_estimate(), Error);  // not begun any more
}

// Inference collapses to y = scale * x + shift, which folds into the preceding Linear layer.
TEST(InferenceAffine, MatchesForwardAndFoldsIntoLinear) {
  const int64_t n = 5, in = 4, c = 3;
  BatchNorm<double> bn({.num_features = c, .layout = Layout::kNC});
  const auto rm = random_vector<double>(c, 1), rv = random_vector<double>(c, 2);
  const auto g = random_vector<double>(c, 3), b = random_vector<double>(c, 4);
  for (size_t i = 0; i < c; ++i) {
    bn.running_mean()[i] = rm[i];
    bn.running_var()[i] = 0.1 + rv[i] * rv[i];
    bn.gamma()[i] = g[i];
    bn.beta()[i] = b[i];
  }
  auto w = random_vector<double>(c * in, 5);        // [C, in]
  auto bias = random_vector<double>(c, 6);          // [C]
  const auto u = random_vector<double>(n * in, 7);  // [N, in]
  std::vector<double> z(n * c);                     // [N, C] = u W^T + bias
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < c; ++o) {
      double acc = bias[o];
      for (int64_t k = 0; k < in; ++k) acc += u[i * in + k] * w[o * in + k];
      z[i * c + o] = acc;
    }
  std::vector<double> y(z.size());
  bn.forward(z, {{n, c}, Layout::kNC}, y, Mode::kInference);

  const AffineMap map = bn.inference_affine();
  std::vector<double> by_map(z.size());
  for (size_t i = 0; i < z.size(); ++i) by_map[i] = map.scale[i % c] * z[i] + map.shift[i % c];
  expect_close<double, double>(by_map, y, 1e-12, 1e-12, "scale * x + shift");

  fold_into_preceding<double>(map, w, bias);
  std::vector<double> folded(z.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < c; ++o) {
      double acc = bias[o];
      for (int64_t k = 0; k < in; ++k) acc += u[i * in + k] * w[o * in + k];
      folded[i * c + o] = acc;
    }
  expect_close<double, double>(folded, y, 1e-12, 1e-12, "folded Linear");
}

TEST(NonFinite, PropagateLikePyTorchUnlessCheckIsOn) {
  const TensorDesc desc{{4, 3}, Layout::kNC};
  auto x = random_vector<float>(12, 3);
  x[1 * 3 + 2] = std::nanf("");  // sample 1, channel 2
  std::vector<float> y(12);
  BatchNorm<float> bn({.num_features = 3, .layout = Layout::kNC});
  bn.forward(x, desc, y, Mode::kTrain);
  for (size_t i = 0; i < 12; ++i) {
    if (i % 3 == 2)
      EXPECT_TRUE(std::isnan(y[i])) << i;  // the poisoned channel only
    else
      EXPECT_TRUE(std::isfinite(y[i])) << i;
  }
  BatchNorm<float> checked({.num_features = 3, .layout = Layout::kNC, .check_finite = true});
  try {
    checked.forward(x, desc, y, Mode::kTrain);
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("channel 2 at sample 1"), std::string::npos)
        << err.what();
  }
}

}  // namespace
}  // namespace bnorm::test
