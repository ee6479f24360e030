// Gradient checks of Batch Renormalization in float64 by central differences, loss sum(y * w) for
// a fixed random w, every element of x, gamma and beta perturbed, all layouts.
//  - Clipped: the moving statistics put every channel's r and d at their limits, where they are
//    locally constant, so the module's own forward is differentiated and must match exactly.
//  - Free: r and d strictly inside their limits. The backward treats them as constants (the
//    paper), so the difference quotient is taken of a forward with r and d frozen at the values
//    the module used.
#include <gtest/gtest.h>

#include <algorithm>
#include <bnorm/batch_renorm.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

constexpr double kEps = 1e-5;

template <typename F>
std::vector<double> numeric_gradient(std::span<double> v, F&& loss) {
  constexpr double h = 1e-5;
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double saved = v[i];
    v[i] = saved + h;
    const double plus = loss();
    v[i] = saved - h;
    const double minus = loss();
    v[i] = saved;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

// max|a - n| / max(max|n|, floor). The floor is the size of the terms dx is made of: for M = 2 they
// cancel to almost nothing, and the quotient's rounding must be judged against the terms.
double max_relative_error(const std::vector<double>& a, const std::vector<double>& n,
                          double floor = 1e-12) {
  double diff = 0.0, scale = floor;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - n[i]));
    scale = std::max(scale, std::abs(n[i]));
  }
  return diff / scale;
}

// y = gamma * (r * (x - mu_B) / sigma_B + d) + beta with r, d given; returns sum(y * w).
double frozen_rd_loss(const std::vector<double>& x, const Extents& e,
                      const std::vector<double>& gamma, const std::vector<double>& beta,
                      std::span<const double> r, std::span<const double> d,
                      const std::vector<double>& w) {
  double loss = 0.0;
  const double m = static_cast<double>(e.per_channel());
  for (int64_t c = 0; c < e.c; ++c) {
    double sum = 0.0, sq = 0.0;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) sum += x[offset(e, n, c, s)];
    const double mean = sum / m;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t s = 0; s < e.s; ++s) sq += std::pow(x[offset(e, n, c, s)] - mean, 2);
    const double sigma_b = std::sqrt(sq / m + kEps);
    for (int64_t n = 0; n < e.n; ++n) {
      for (int64_t s = 0; s < e.s; ++s) {
        const size_t i = offset(e, n, c, s);
        loss += w[i] * (gamma[c] * (r[c] * (x[i] - mean) / sigma_b + d[c]) + beta[c]);
      }
    }
  }
  return loss;
}

class RenormGradCheck : public testing::TestWithParam<Layout> {};

std::vector<TensorDesc> shapes(Layout layout) {
  if (layout == Layout::kNC) return {{{2, 3}, layout}, {{7, 1}, layout}, {{33, 4}, layout}};
  return {{{2, 3, 2, 3}, layout}, {{5, 2, 3, 1}, layout}, {{3, 5, 4, 3}, layout}};
}

struct RenormSetup {
  BatchRenorm<double> bn;
  std::vector<double> x, w;
};

// clipped: moving_var = 400 (sigma_B / sigma ~ 0.1 < 1/rmax) and moving_mean far from the batch
// mean (|d| > dmax); otherwise moving statistics near the batch's own, so that r and d are inside
// (1/2, 2) and (-1, 1) and differ from 1 and 0.
RenormSetup make(const TensorDesc& desc, uint64_t seed, bool clipped) {
  const auto c = static_cast<size_t>(desc.dims[1]);
  RenormSetup s{BatchRenorm<double>({.num_features = desc.dims[1], .layout = desc.layout},
                                    {.schedule = std::nullopt}),
                random_vector<double>(numel(desc), seed, 3.0, 2.0),
                random_vector<double>(numel(desc), seed + 1)};
  s.bn.set_limits({.rmax = 2.0, .dmax = 1.0});
  const auto g = random_vector<double>(c, seed + 2, 1.0, 0.5);
  const auto b = random_vector<double>(c, seed + 3);
  const auto jitter = random_vector<double>(c, seed + 4, 0.0, 0.3);
  const Extents e = extents_of(desc, "test");
  for (size_t i = 0; i < c; ++i) {
    std::vector<double> v;
    for (int64_t n = 0; n < e.n; ++n)
      for (int64_t sp = 0; sp < e.s; ++sp)
        v.push_back(s.x[offset(e, n, static_cast<int64_t>(i), sp)]);
    const Moments m = moments_of(v);
    const double sigma = std::sqrt(m.variance() + kEps) * (1.3 + std::tanh(jitter[i]) * 0.2);
    s.bn.gamma()[i] = g[i];
    s.bn.beta()[i] = b[i];
    s.bn.running_mean()[i] =
        clipped ? (i % 2 ? 40.0 : -40.0) : m.mean - 0.4 * sigma * (i % 2 ? 1 : -1);
    s.bn.running_var()[i] = clipped ? 400.0 : sigma * sigma - kEps;
  }
  return s;
}

TEST_P(RenormGradCheck, ClippedRAndDMatchCentralDifferencesOfTheModule) {
  uint64_t seed = 40;
  for (const TensorDesc& desc : shapes(GetParam())) {
    SCOPED_TRACE(describe(desc) + " seed " + std::to_string(++seed));
    RenormSetup s = make(desc, seed, true);
    BatchRenorm<double> probe = s.bn;
    std::vector<double> y(s.x.size()), dx(s.x.size(), std::numeric_limits<double>::quiet_NaN());
    s.bn.forward(s.x, desc, y, Mode::kBatchStats);
    for (size_t i = 0; i < s.bn.last_r().size(); ++i) {
      ASSERT_DOUBLE_EQ(s.bn.last_r()[i], 0.5) << "channel " << i << " must be clipped";
      ASSERT_DOUBLE_EQ(std::abs(s.bn.last_d()[i]), 1.0) << "channel " << i << " must be clipped";
    }
    s.bn.zero_grad();
    s.bn.backward(s.x, s.w, dx);
    auto loss = [&] {
      std::vector<double> out(s.x.size());
      probe.forward(s.x, desc, out, Mode::kBatchStats);
      double l = 0.0;
      for (size_t i = 0; i < out.size(); ++i) l += out[i] * s.w[i];
      return l;
    };
    EXPECT_LT(max_relative_error(dx, numeric_gradient(s.x, loss)), 1e-6) << "dx";
    const auto dgamma = std::vector<double>(s.bn.grad_gamma().begin(), s.bn.grad_gamma().end());
    const auto dbeta = std::vector<double>(s.bn.grad_beta().begin(), s.bn.grad_beta().end());
    EXPECT_LT(max_relative_error(dgamma, numeric_gradient(probe.gamma(), loss)), 1e-6) << "dg";
    EXPECT_LT(max_relative_error(dbeta, numeric_gradient(probe.beta(), loss)), 1e-6) << "db";
  }
}

TEST_P(RenormGradCheck, FreeRAndDMatchCentralDifferencesWithRAndDFrozen) {
  uint64_t seed = 80;
  for (const TensorDesc& desc : shapes(GetParam())) {
    SCOPED_TRACE(describe(desc) + " seed " + std::to_string(++seed));
    RenormSetup s = make(desc, seed, false);
    std::vector<double> y(s.x.size()), dx(s.x.size(), std::numeric_limits<double>::quiet_NaN());
    s.bn.forward(s.x, desc, y, Mode::kTrain);
    const std::vector<double> r(s.bn.last_r().begin(), s.bn.last_r().end());
    const std::vector<double> d(s.bn.last_d().begin(), s.bn.last_d().end());
    for (size_t i = 0; i < r.size(); ++i) {
      ASSERT_TRUE(r[i] > 0.5 && r[i] < 2.0 && r[i] != 1.0 && std::abs(d[i]) < 1.0 && d[i] != 0.0)
          << "channel " << i << ": r = " << r[i] << ", d = " << d[i]
          << " must be inside the limits";
    }
    s.bn.zero_grad();
    s.bn.backward(s.x, s.w, dx);
    const Extents e = extents_of(desc, "test");
    std::vector<double> gamma(s.bn.gamma().begin(), s.bn.gamma().end());
    std::vector<double> beta(s.bn.beta().begin(), s.bn.beta().end());
    auto loss = [&] { return frozen_rd_loss(s.x, e, gamma, beta, r, d, s.w); };
    // mu_B and 1/sigma_B from the reference forward, for the term scale and the reference
    // backward (the moving statistics there only decide r and d, which are passed explicitly).
    const auto c = r.size();
    std::vector<double> invstd(c), mean(c), unused_r(c), unused_d(c), y_ref(s.x.size());
    std::vector<double> ones(c, 1.0), zeros(c, 0.0), dx_ref(s.x.size());
    std::vector<Moments> m(c);
    batch_renorm_forward_train<double>(s.x, desc, gamma, beta, zeros, ones, kEps, {}, y_ref, m,
                                       unused_r, unused_d, invstd, Backend::kReference);
    for (size_t i = 0; i < c; ++i) mean[i] = m[i].mean;
    double terms = 0.0;  // max |gamma * r / sigma_B * w|: the size of dx's terms
    for (int64_t ch = 0; ch < e.c; ++ch)
      for (int64_t n = 0; n < e.n; ++n)
        for (int64_t sp = 0; sp < e.s; ++sp)
          terms =
              std::max(terms, std::abs(gamma[ch] * r[ch] * invstd[ch] * s.w[offset(e, n, ch, sp)]));
    EXPECT_LT(max_relative_error(dx, numeric_gradient(s.x, loss), terms), 1e-6) << "dx";
    const auto dgamma = std::vector<double>(s.bn.grad_gamma().begin(), s.bn.grad_gamma().end());
    const auto dbeta = std::vector<double>(s.bn.grad_beta().begin(), s.bn.grad_beta().end());
    EXPECT_LT(max_relative_error(dgamma, numeric_gradient(gamma, loss)), 1e-6) << "dgamma";
    EXPECT_LT(max_relative_error(dbeta, numeric_gradient(beta, loss)), 1e-6) << "dbeta";
    std::vector<double> dgamma_ref(r.size()), dbeta_ref(r.size());
    batch_renorm_backward<double>(s.x, s.w, desc, mean, invstd, r, d, gamma, dx_ref, dgamma_ref,
                                  dbeta_ref, Backend::kReference);
    EXPECT_LT(max_relative_error(dx_ref, numeric_gradient(s.x, loss), terms), 1e-6)
        << "reference dx";
    EXPECT_LT(max_relative_error(dgamma_ref, numeric_gradient(gamma, loss)), 1e-6) << "ref dg";
  }
}

std::string layout_name(const testing::TestParamInfo<Layout>& info) {
  return std::string(to_string(info.param)).substr(1);
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, RenormGradCheck,
                         testing::Values(Layout::kNC, Layout::kChannelsFirst,
                                         Layout::kChannelsLast),
                         layout_name);

}  // namespace
}  // namespace bnorm::test
