// Batch Renormalization's optimized path (BatchNorm's kernels with gamma * r as the scale) against
// the naive float64 reference kernels, over a grid of shapes (odd sizes included), layouts, data
// types and the fused relu, with moving statistics that leave some channels' r and d clipped and
// others not.
#include <gtest/gtest.h>

#include <bnorm/batch_renorm.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

struct Problem {
  std::vector<double> x, dy, gamma, beta, moving_mean, moving_var;
};

Problem random_problem(const TensorDesc& desc, uint64_t seed) {
  const auto c = static_cast<size_t>(desc.dims[1]);
  Problem p;
  p.x = random_vector<double>(numel(desc), seed, 1.0, 2.0);
  p.dy = random_vector<double>(p.x.size(), seed + 1);
  p.gamma = random_vector<double>(c, seed + 2, 1.0, 0.5);
  p.beta = random_vector<double>(c, seed + 3, 0.0, 0.5);
  p.moving_mean = random_vector<double>(c, seed + 4, 1.0, 1.5);
  p.moving_var = random_vector<double>(c, seed + 5, 0.0, 1.5);
  for (double& v : p.moving_var) v = 0.3 + v * v * 4.0;  // sigma_B / sigma from ~0.5 to ~3
  return p;
}

template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

struct Outputs {
  std::vector<double> y, r, d, invstd, mean, var, dx, dgamma, dbeta;
};

template <typename T>
Outputs run(const TensorDesc& desc, const Problem& p, Backend backend, Activation act,
            RenormLimits limits) {
  const auto x = as<T>(p.x), dy = as<T>(p.dy), gamma = as<T>(p.gamma), beta = as<T>(p.beta);
  const auto mm = as<T>(p.moving_mean), mv = as<T>(p.moving_var);
  const auto c = static_cast<size_t>(desc.dims[1]);
  std::vector<T> y(x.size()), dx(x.size()), dgamma(c), dbeta(c);
  std::vector<Moments> moments(c);
  Outputs o;
  o.r.resize(c);
  o.d.resize(c);
  o.invstd.resize(c);
  batch_renorm_forward_train<T>(x, desc, gamma, beta, mm, mv, 1e-5, limits, y, moments, o.r, o.d,
                                o.invstd, backend, act);
  for (const Moments& m : moments) {
    o.mean.push_back(m.mean);
    o.var.push_back(m.variance());
  }
  batch_renorm_backward<T>(x, dy, desc, o.mean, o.invstd, o.r, o.d, gamma, dx, dgamma, dbeta,
                           backend, act, beta);
  o.y.assign(y.begin(), y.end());
  o.dx.assign(dx.begin(), dx.end());
  o.dgamma.assign(dgamma.begin(), dgamma.end());
  o.dbeta.assign(dbeta.begin(), dbeta.end());
  return o;
}

std::vector<TensorDesc> grid() {
  std::vector<TensorDesc> out;
  for (Layout layout : {Layout::kNC, Layout::kChannelsFirst, Layout::kChannelsLast}) {
    for (int64_t n : {2, 3, 7, 31, 33, 64}) {
      for (int64_t c : {1, 3, 17}) {
        if (layout == Layout::kNC) {
          out.push_back({{n, c}, layout});
        } else {
          out.push_back({{n, c, 5, 7}, layout});
        }
      }
    }
  }
  return out;
}

template <typename T>
void expect_optimized_matches_reference(double tol) {
  uint64_t seed = 500;
  int clipped = 0, free = 0;
  for (const TensorDesc& desc : grid()) {
    for (Activation act : {Activation::kNone, Activation::kRelu}) {
      ++seed;
      const std::string what = describe(desc) + (act == Activation::kRelu ? " relu" : "") +
                               " seed " + std::to_string(seed);
      const Problem p = random_problem(desc, seed);
      const RenormLimits limits{.rmax = 1.6, .dmax = 0.6};
      const Outputs opt = run<T>(desc, p, Backend::kAuto, act, limits);
      const Outputs ref = run<T>(desc, p, Backend::kReference, act, limits);
      expect_close<double, double>(opt.mean, ref.mean, tol, tol, what + " mean");
      expect_close<double, double>(opt.var, ref.var, tol, tol, what + " var");
      expect_close<double, double>(opt.invstd, ref.invstd, tol, tol, what + " invstd");
      expect_close<double, double>(opt.r, ref.r, tol, tol, what + " r");
      expect_close<double, double>(opt.d, ref.d, tol, tol, what + " d");
      expect_close<double, double>(opt.y, ref.y, tol, tol, what + " y");
      expect_close<double, double>(opt.dx, ref.dx, tol, tol, what + " dx");
      // Sums over up to 64 * 35 values: tolerance relative to their number.
      const double sum_tol = tol * static_cast<double>(numel(desc) / desc.dims[1]);
      expect_close<double, double>(opt.dgamma, ref.dgamma, sum_tol, tol, what + " dgamma");
      expect_close<double, double>(opt.dbeta, ref.dbeta, sum_tol, tol, what + " dbeta");
      for (size_t i = 0; i < ref.r.size(); ++i) {
        const bool at_limit = std::abs(ref.r[i] - 1.6) < 1e-12 ||
                              std::abs(ref.r[i] - 1 / 1.6) < 1e-12 ||
                              std::abs(std::abs(ref.d[i]) - 0.6) < 1e-12;
        (at_limit ? clipped : free) += 1;
      }
    }
  }
  // The grid must exercise both sides of the clip, or it tests half the forward.
  EXPECT_GT(clipped, 20);
  EXPECT_GT(free, 20);
}

TEST(RenormVsReference, Float64) { expect_optimized_matches_reference<double>(1e-10); }
TEST(RenormVsReference, Float32) { expect_optimized_matches_reference<float>(2e-4); }

// With rmax = 1 and dmax = 0 (r = 1, d = 0) Batch Renorm is BatchNorm, bit for bit on the
// optimized path (the same kernels).
TEST(RenormVsReference, UnitLimitsAreBatchNorm) {
  const TensorDesc desc{{9, 4, 3, 5}, Layout::kChannelsLast};
  const Problem p = random_problem(desc, 91);
  const Outputs rn = run<float>(desc, p, Backend::kAuto, Activation::kNone, {1.0, 0.0});
  const auto x = as<float>(p.x), dy = as<float>(p.dy), g = as<float>(p.gamma),
             b = as<float>(p.beta);
  std::vector<float> y(x.size()), dx(x.size()), dgamma(4), dbeta(4);
  std::vector<Moments> m(4);
  std::vector<double> invstd(4), mean(4);
  batch_norm_forward_train<float>(x, desc, g, b, 1e-5, y, m, Backend::kAuto, Activation::kNone,
                                  invstd);
  for (size_t i = 0; i < 4; ++i) mean[i] = m[i].mean;
  batch_norm_backward<float>(x, dy, desc, mean, invstd, g, StatsGradient::kThroughBatchStats, dx,
                             dgamma, dbeta);
  expect_close<double, float>(rn.y, y, 1e-6, 1e-6, "y");
  expect_close<double, float>(rn.dx, dx, 1e-6, 1e-6, "dx");
  expect_close<double, float>(rn.dgamma, dgamma, 1e-5, 1e-6, "dgamma");
  expect_close<double, float>(rn.dbeta, dbeta, 1e-5, 1e-6, "dbeta");
}

}  // namespace
}  // namespace bnorm::test
