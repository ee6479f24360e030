// Gradient checks of BatchNorm<double> by central finite differences, for every layout, statistics
// mode and affine setting, over the shapes N in {2, 3, 7, 60}, C in {1, 3, 16}, spatial 1 and 5x7.
// The loss is sum(y * r) for a fixed random r (never sum(y): for BatchNorm it does not depend on x,
// so any dx would pass), and every element of x, gamma and beta is perturbed.
#include <gtest/gtest.h>

#include <algorithm>
#include <bnorm/batch_norm.hpp>
#include <cmath>
#include <limits>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

struct GradCase {
  Layout layout;
  Mode mode;
  bool affine;
};

std::string case_name(const testing::TestParamInfo<GradCase>& info) {
  const char* modes[] = {"Train", "BatchStats", "Inference", "Frozen"};
  return std::string(to_string(info.param.layout)).substr(1) +
         modes[static_cast<int>(info.param.mode)] + (info.param.affine ? "Affine" : "NoAffine");
}

std::vector<TensorDesc> shapes_for(Layout layout) {
  std::vector<TensorDesc> out;
  for (int64_t n : {2, 3, 7, 60}) {
    for (int64_t c : {1, 3, 16}) {
      if (layout == Layout::kNC) {
        out.push_back({{n, c}, layout});
        continue;
      }
      out.push_back({{n, c}, layout});
      // 60 x 16 x 5 x 7 alone would cost ~10^9 element updates: its shape class is covered by
      // 60 x 3 x 5 x 7 and 7 x 16 x 5 x 7.
      if (!(n == 60 && c == 16)) out.push_back({{n, c, 5, 7}, layout});
    }
  }
  return out;
}

double loss(BatchNorm<double>& bn, const std::vector<double>& x, const TensorDesc& desc,
            const std::vector<double>& r, Mode mode) {
  std::vector<double> y(x.size());
  bn.forward(x, desc, y, mode);
  double l = 0.0;
  for (size_t i = 0; i < y.size(); ++i) l += y[i] * r[i];
  return l;
}

// Relative error max|a - n| / max(max|n|, floor) of analytic a against numeric n. The floor is
// the size of the terms a gradient is made of: for tiny batches (M = 2) the terms of dx cancel to
// almost nothing, and the difference quotient's rounding noise must be judged against the terms.
double relative_error(const std::vector<double>& a, const std::vector<double>& n,
                      double floor = 1e-12) {
  double diff = 0.0, scale = floor;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - n[i]));
    scale = std::max(scale, std::abs(n[i]));
  }
  return diff / scale;
}

// Central difference of loss with respect to every element of v (which the loss reads).
template <typename F>
std::vector<double> numeric_gradient(std::span<double> v, F&& loss_fn) {
  constexpr double h = 1e-5;
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double saved = v[i];
    v[i] = saved + h;
    const double plus = loss_fn();
    v[i] = saved - h;
    const double minus = loss_fn();
    v[i] = saved;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

class GradCheck : public testing::TestWithParam<GradCase> {};

TEST_P(GradCheck, AnalyticMatchesCentralDifferences) {
  const GradCase p = GetParam();
  uint64_t seed = 1000;
  for (const TensorDesc& desc : shapes_for(p.layout)) {
    ++seed;
    SCOPED_TRACE(describe(desc) + " seed " + std::to_string(seed));
    const auto c = static_cast<size_t>(desc.dims[1]);
    BatchNorm<double> bn({.num_features = desc.dims[1], .affine = p.affine, .layout = p.layout});
    if (p.affine) {
      const auto g = random_vector<double>(c, seed + 1, 1.0, 0.5);
      const auto b = random_vector<double>(c, seed + 2);
      std::copy(g.begin(), g.end(), bn.gamma().begin());
      std::copy(b.begin(), b.end(), bn.beta().begin());
    }
    const auto rm = random_vector<double>(c, seed + 3, 0.5);
    const auto rv = random_vector<double>(c, seed + 4, 0.0, 1.0);
    for (size_t i = 0; i < c; ++i) {
      bn.running_mean()[i] = rm[i];
      bn.running_var()[i] = 0.5 + rv[i] * rv[i];
    }
    auto x = random_vector<double>(numel(desc), seed + 5, 3.0, 2.0);
    const auto r = random_vector<double>(x.size(), seed + 6);

    // Analytic: dx must be overwritten (pre-filled with NaN); grads accumulate onto garbage.
    BatchNorm<double> probe = bn;
    std::vector<double> y(x.size());
    std::vector<double> dx(x.size(), std::numeric_limits<double>::quiet_NaN());
    bn.forward(x, desc, y, p.mode);
    std::fill(bn.grad_gamma().begin(), bn.grad_gamma().end(), 7.0);
    std::fill(bn.grad_beta().begin(), bn.grad_beta().end(), -3.0);
    bn.backward(x, r, dx);

    // Term scale of dx: max |gamma * invstd * r| (see relative_error).
    double term_scale = 0.0;
    const Extents e = extents_of(desc, "test");
    for (int64_t ch = 0; ch < e.c; ++ch) {
      const double var = p.mode == Mode::kTrain || p.mode == Mode::kBatchStats
                             ? bn.batch_moments()[ch].variance()
                             : bn.running_var()[ch];
      const double k = (p.affine ? std::abs(bn.gamma()[ch]) : 1.0) / std::sqrt(var + 1e-5);
      for (int64_t n = 0; n < e.n; ++n)
        for (int64_t s = 0; s < e.s; ++s)
          term_scale = std::max(term_scale, k * std::abs(r[offset(e, n, ch, s)]));
    }
    auto l = [&] { return loss(probe, x, desc, r, p.mode); };
    EXPECT_LT(relative_error(dx, numeric_gradient(x, l), term_scale), 1e-6) << "dx";
    if (!p.affine) continue;
    const auto num_dgamma = numeric_gradient(probe.gamma(), l);
    const auto num_dbeta = numeric_gradient(probe.beta(), l);
    std::vector<double> dgamma(c), dbeta(c);
    for (size_t i = 0; i < c; ++i) {
      dgamma[i] = bn.grad_gamma()[i] - 7.0;
      dbeta[i] = bn.grad_beta()[i] + 3.0;
    }
    if (p.mode == Mode::kFrozen) {  // gamma and beta are constants: no gradient is accumulated
      for (size_t i = 0; i < c; ++i) EXPECT_EQ(dgamma[i], 0.0) << "frozen dgamma[" << i << "]";
      for (size_t i = 0; i < c; ++i) EXPECT_EQ(dbeta[i], 0.0) << "frozen dbeta[" << i << "]";
      continue;
    }
    EXPECT_LT(relative_error(dgamma, num_dgamma), 1e-6) << "dgamma";
    EXPECT_LT(relative_error(dbeta, num_dbeta), 1e-6) << "dbeta";
  }
}

// Through the batch statistics, per channel: sum dx = 0, and sum dx * xhat = k * dgamma * eps /
// (var + eps) with k = gamma * invstd (zero in the limit eps -> 0), since sum xhat^2 = M
// var/(var+eps).
class TrainingInvariants : public GradCheck {};

TEST_P(TrainingInvariants, SumOfDxAndItsProjectionOnXhat) {
  const GradCase p = GetParam();
  for (const TensorDesc& desc : shapes_for(p.layout)) {
    SCOPED_TRACE(describe(desc));
    BatchNorm<double> bn({.num_features = desc.dims[1], .affine = p.affine, .layout = p.layout});
    const auto x = random_vector<double>(numel(desc), 77, 10.0, 3.0);  // shifted by +10
    const auto dy = random_vector<double>(x.size(), 78);
    std::vector<double> y(x.size()), dx(x.size());
    bn.forward(x, desc, y, p.mode);
    bn.backward(x, dy, dx);
    const Extents e = extents_of(desc, "test");
    for (int64_t ch = 0; ch < e.c; ++ch) {
      const double var = bn.batch_moments()[ch].variance();
      const double invstd = 1.0 / std::sqrt(var + 1e-5);
      const double k = (p.affine ? bn.gamma()[ch] : 1.0) * invstd;
      double sum = 0, dot = 0, scale = 0, dgamma = 0;
      for (int64_t n = 0; n < e.n; ++n) {
        for (int64_t s = 0; s < e.s; ++s) {
          const size_t i = offset(e, n, ch, s);
          const double xhat = (x[i] - bn.batch_moments()[ch].mean) * invstd;
          sum += dx[i];
          dot += dx[i] * xhat;
          dgamma += dy[i] * xhat;
          scale += std::abs(k * dy[i]);
        }
      }
      EXPECT_NEAR(sum, 0.0, 1e-10 * scale) << "channel " << ch;
      EXPECT_NEAR(dot, k * dgamma * 1e-5 / (var + 1e-5), 1e-10 * scale) << "channel " << ch;
    }
  }
}

std::vector<GradCase> cases(std::vector<Mode> modes) {
  std::vector<GradCase> out;
  for (Layout l : {Layout::kNC, Layout::kChannelsFirst, Layout::kChannelsLast})
    for (Mode m : modes)
      for (bool affine : {true, false}) out.push_back({l, m, affine});
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllLayoutsAndModes, GradCheck,
                         testing::ValuesIn(cases({Mode::kTrain, Mode::kBatchStats, Mode::kInference,
                                                  Mode::kFrozen})),
                         case_name);
INSTANTIATE_TEST_SUITE_P(BatchModes, TrainingInvariants,
                         testing::ValuesIn(cases({Mode::kTrain, Mode::kBatchStats})), case_name);

}  // namespace
}  // namespace bnorm::test
