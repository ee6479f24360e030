// Fused BatchNorm + ReLU: gradient checks of the reference by central differences in float64
// (loss sum(relu(BN(x)) * r), every element of x, gamma and beta perturbed), and the module and
// functional API against BatchNorm followed by a separate ReLU.
#include <gtest/gtest.h>

#include <algorithm>
#include <bnorm/batch_norm.hpp>
#include <cmath>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

struct ReluProblem {
  TensorDesc desc;
  std::vector<double> x, gamma, beta, r, mean, var;
};

// loss = sum(relu(BN(x)) * r), with batch statistics (training) or the given mean/var.
double relu_loss(const ReluProblem& p, bool training) {
  std::vector<double> y(p.x.size());
  if (training) {
    std::vector<Moments> m(p.gamma.size());
    batch_norm_forward_train<double>(p.x, p.desc, p.gamma, p.beta, 1e-5, y, m, Backend::kReference,
                                     Activation::kRelu);
  } else {
    batch_norm_forward_infer<double>(p.x, p.desc, p.mean, p.var, p.gamma, p.beta, 1e-5, y,
                                     Backend::kReference, Activation::kRelu);
  }
  double l = 0.0;
  for (size_t i = 0; i < y.size(); ++i) l += y[i] * p.r[i];
  return l;
}

std::vector<double> numeric_gradient(std::vector<double>& v, const ReluProblem& p, bool training) {
  constexpr double h = 1e-6;
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double saved = v[i];
    v[i] = saved + h;
    const double plus = relu_loss(p, training);
    v[i] = saved - h;
    const double minus = relu_loss(p, training);
    v[i] = saved;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

void expect_gradient(const std::vector<double>& analytic, const std::vector<double>& numeric,
                     const std::string& what) {
  double scale = 1e-12;
  for (double v : numeric) scale = std::max(scale, std::abs(v));
  expect_close<double, double>(analytic, numeric, 1e-6 * scale, 0.0, what);
}

class ReluGradcheck : public testing::TestWithParam<bool> {};

TEST_P(ReluGradcheck, ReferenceMatchesCentralDifferences) {
  const bool training = GetParam();
  for (const TensorDesc& desc :
       {TensorDesc{{7, 3}, Layout::kNC}, TensorDesc{{3, 2, 5}, Layout::kChannelsFirst},
        TensorDesc{{2, 4, 3, 2}, Layout::kChannelsLast}}) {
    const size_t n = numel(desc);
    const auto c = static_cast<size_t>(desc.dims[1]);
    ReluProblem p{desc,
                  random_vector<double>(n, 71, 0.5, 1.0),
                  random_vector<double>(c, 72, 1.0, 0.3),
                  random_vector<double>(c, 73, 0.2, 0.5),
                  random_vector<double>(n, 74),
                  random_vector<double>(c, 75, 0.3, 0.3),
                  random_vector<double>(c, 76, 1.0, 0.1)};
    for (double& v : p.var) v = std::abs(v);
    const Extents e = extents_of(desc, "test");
    // Statistics the backward needs: batch moments (training) or the given ones.
    std::vector<double> mean(c), invstd(c);
    if (training) {
      std::vector<double> y(n);
      std::vector<Moments> m(c);
      batch_norm_forward_train<double>(p.x, desc, p.gamma, p.beta, 1e-5, y, m, Backend::kReference);
      for (size_t i = 0; i < c; ++i)
        mean[i] = m[i].mean, invstd[i] = 1 / std::sqrt(m[i].variance() + 1e-5);
    } else {
      for (size_t i = 0; i < c; ++i)
        mean[i] = p.mean[i], invstd[i] = 1 / std::sqrt(p.var[i] + 1e-5);
    }
    std::vector<double> dx(n), dgamma(c), dbeta(c);
    batch_norm_backward<double>(
        p.x, p.r, desc, mean, invstd, p.gamma,
        training ? StatsGradient::kThroughBatchStats : StatsGradient::kStatsAsConstants, dx, dgamma,
        dbeta, Backend::kReference, Activation::kRelu, p.beta);
    const std::string what = describe(desc) + (training ? " training" : " inference");
    expect_gradient(dx, numeric_gradient(p.x, p, training), what + " dx");
    expect_gradient(dgamma, numeric_gradient(p.gamma, p, training), what + " dgamma");
    expect_gradient(dbeta, numeric_gradient(p.beta, p, training), what + " dbeta");
    // The mask matters: some outputs are clipped, some are not.
    std::vector<double> y(n);
    std::vector<Moments> m(c);
    batch_norm_forward_train<double>(p.x, desc, p.gamma, p.beta, 1e-5, y, m, Backend::kReference,
                                     Activation::kRelu);
    EXPECT_GT(std::count(y.begin(), y.end(), 0.0), 0) << what;
    EXPECT_LT(std::count(y.begin(), y.end(), 0.0), static_cast<long>(n)) << what;
    (void)e;
  }
}

INSTANTIATE_TEST_SUITE_P(Mode, ReluGradcheck, testing::Values(true, false),
                         [](const testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Training" : "Inference");
                         });

// The fused module equals BatchNorm then ReLU: forward max(y, 0), backward through the mask.
TEST(FusedRelu, ModuleMatchesBatchNormThenRelu) {
  for (Backend backend : {Backend::kAuto, Backend::kReference}) {
    for (Mode mode : {Mode::kTrain, Mode::kInference}) {
      const TensorDesc desc{{16, 8, 5, 5}, Layout::kChannelsFirst};
      const auto x = random_vector<float>(numel(desc), 81, 0.3, 1.0);
      const auto dy = random_vector<float>(numel(desc), 82);
      BatchNorm<float> plain({.num_features = 8, .backend = backend});
      BatchNorm<float> fused(
          {.num_features = 8, .backend = backend, .activation = Activation::kRelu});
      for (int64_t c = 0; c < 8; ++c) {
        plain.beta()[c] = fused.beta()[c] = 0.1f * static_cast<float>(c - 4);
        plain.running_mean()[c] = fused.running_mean()[c] = 0.05f * static_cast<float>(c);
      }
      std::vector<float> y(x.size()), y_fused(x.size()), dx(x.size()), dx_fused(x.size());
      plain.forward(x, desc, y, mode);
      fused.forward(x, desc, y_fused, mode);
      std::vector<float> relu_y(y), masked_dy(dy);
      for (size_t i = 0; i < y.size(); ++i) {
        relu_y[i] = std::max(y[i], 0.0f);
        if (!(y[i] > 0.0f)) masked_dy[i] = 0.0f;
      }
      plain.backward(x, masked_dy, dx);
      fused.backward(x, dy, dx_fused);
      const std::string what = std::string(selected_kernel_name<float>(desc, backend)) +
                               (mode == Mode::kTrain ? " train" : " inference");
      expect_close<float, float>(y_fused, relu_y, 1e-6, 1e-6, what + " y");
      expect_close<float, float>(dx_fused, dx, 1e-5, 1e-5, what + " dx");
      expect_close<float, float>(fused.grad_gamma(), plain.grad_gamma(), 1e-4, 1e-5,
                                 what + " dgamma");
      expect_close<float, float>(fused.grad_beta(), plain.grad_beta(), 1e-4, 1e-5, what + " dbeta");
    }
  }
}

}  // namespace
}  // namespace bnorm::test
