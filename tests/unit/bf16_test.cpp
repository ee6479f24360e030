// bfloat16 storage: the bnorm::bfloat16 type's conversions, the functional API and
// BatchNorm<bfloat16> against float64 on the same (exactly widened) values, gradients by central
// differences of the float64 loss, and the errors the float API gives for the same mistakes.
#include <gtest/gtest.h>

#include <bit>
#include <bnorm/bnorm.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <type_traits>

#include "test_util.hpp"

namespace bnorm::test {
namespace {

constexpr double kRel = 1.0 / 256;  // bfloat16 rounding: half an ulp is below 2^-8 of the value

TEST(Bfloat16Type, IsTwoTrivialBytes) {
  EXPECT_EQ(sizeof(bfloat16), 2u);
  EXPECT_TRUE(std::is_trivially_copyable_v<bfloat16>);
  EXPECT_EQ(bfloat16{}.bits, 0);
  EXPECT_EQ(std::vector<bfloat16>(3)[2].bits, 0);
}

TEST(Bfloat16Type, EveryValueRoundTripsThroughFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const bfloat16 h = bfloat16::from_bits(static_cast<uint16_t>(b));
    const float f = static_cast<float>(h);
    EXPECT_EQ(std::bit_cast<uint32_t>(f), b << 16);
    if (std::isnan(f)) continue;
    EXPECT_EQ(bfloat16(f).bits, b) << b;
    EXPECT_EQ(bfloat16(static_cast<double>(f)).bits, b) << b;
  }
}

TEST(Bfloat16Type, RoundsToNearestEven) {
  EXPECT_EQ(bfloat16(1.0f + 1.0f / 256).bits, 0x3f80);          // tie: down to the even 1.0
  EXPECT_EQ(bfloat16(1.0f + 3.0f / 256).bits, 0x3f82);          // tie: up to the even neighbour
  EXPECT_EQ(bfloat16(1.0f + 1.0f / 256 + 1e-6f).bits, 0x3f81);  // past the tie
  EXPECT_EQ(bfloat16(-2.0f).bits, 0xc000);
  EXPECT_EQ(bfloat16(std::numeric_limits<float>::max()).bits, 0x7f80);  // overflows to inf
  EXPECT_EQ(bfloat16(std::numeric_limits<float>::infinity()).bits, 0x7f80);
  EXPECT_TRUE(std::isnan(static_cast<float>(bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  // A signalling NaN whose payload sits in the dropped half stays a NaN, not an infinity.
  EXPECT_TRUE(std::isnan(static_cast<float>(bfloat16(std::bit_cast<float>(0x7f800001u)))));
  EXPECT_EQ(bfloat16(1e-40f).bits, 0x0001);  // subnormal floats round like the others
  EXPECT_EQ(bfloat16(7).bits, bfloat16(7.0f).bits);
}

// From double, one rounding: the nearest bfloat16 (ties to even), never the double rounding that
// going through the nearest float can give.
TEST(Bfloat16Type, DoublesRoundOnceToTheNearest) {
  // 1 + 2^-8 + 2^-30: just above a tie; the nearest float is the tie itself, which goes down.
  EXPECT_EQ(bfloat16(1.0 + 1.0 / 256 + std::ldexp(1.0, -30)).bits, 0x3f81);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> d(-8.0, 8.0);
  for (int i = 0; i < 200000; ++i) {
    const double v = std::ldexp(d(rng), static_cast<int>(rng() % 40) - 20);
    const bfloat16 h(v);
    const double e = std::abs(static_cast<double>(h) - v);
    const double up = std::abs(static_cast<double>(bfloat16::from_bits(h.bits + 1)) - v);
    const double down = std::abs(static_cast<double>(bfloat16::from_bits(h.bits - 1)) - v);
    ASSERT_LE(e, std::min(up, down)) << v;
    if (e == up || e == down) ASSERT_EQ(h.bits % 2, 0) << v;
  }
}

// A problem in bfloat16 and the same values in float64.
struct Problem {
  TensorDesc desc;
  std::vector<bfloat16> x, dy;
  std::vector<double> xd, dyd;  // x, dy widened (exact)
  std::vector<float> gamma, beta, mean, var;
  std::vector<double> gammad, betad, meand, vard;

  Problem(TensorDesc d, uint64_t seed) : desc(std::move(d)) {
    const size_t n = numel(desc), c = static_cast<size_t>(desc.dims[1]);
    const auto wide = random_vector<double>(n, seed, 3.0, 2.0);  // offset 3: exercises the shift
    const auto grad = random_vector<double>(n, seed + 1);
    for (size_t i = 0; i < n; ++i) {
      x.push_back(bfloat16(wide[i])), dy.push_back(bfloat16(grad[i]));
      xd.push_back(static_cast<double>(x.back())), dyd.push_back(static_cast<double>(dy.back()));
    }
    const auto to_float = [](const std::vector<double>& v) {
      return std::vector<float>(v.begin(), v.end());
    };
    gamma = to_float(random_vector<double>(c, seed + 2, 1.0, 0.5));
    beta = to_float(random_vector<double>(c, seed + 3, 0.0, 0.5));
    mean = to_float(random_vector<double>(c, seed + 4, 3.0, 1.0));
    var = to_float(random_vector<double>(c, seed + 5, 0.0, 1.0));
    for (float& v : var) v = v * v + 0.5f;
    const auto widen = [](const std::vector<float>& v) {
      return std::vector<double>(v.begin(), v.end());
    };
    gammad = widen(gamma), betad = widen(beta), meand = widen(mean), vard = widen(var);
  }
};

std::vector<TensorDesc> descs() {
  return {{{37, 19}, Layout::kNC},
          {{3, 5, 7, 9}, Layout::kChannelsFirst},
          {{3, 21, 5, 7}, Layout::kChannelsLast},
          {{2, 3, 1000}, Layout::kChannelsFirst}};
}

void expect_bf16_close(const std::vector<bfloat16>& got, const std::vector<double>& exact,
                       double atol, const std::string& what) {
  std::vector<double> g(got.size());
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<double>(got[i]);
  expect_close<double, double>(g, exact, atol, kRel, what);
}

class Bf16Functional : public testing::TestWithParam<Backend> {};

TEST_P(Bf16Functional, ForwardAndBackwardWithinBf16RoundingOfFloat64) {
  const Backend backend = GetParam();
  for (const TensorDesc& desc : descs()) {
    for (Activation act : {Activation::kNone, Activation::kRelu}) {
      const Problem p(desc, 11);
      const size_t c = p.gamma.size();
      const std::string what = describe(desc) + (act == Activation::kRelu ? " relu" : "");
      // Training forward.
      std::vector<bfloat16> y(p.x.size());
      std::vector<Moments> m(c), md(c);
      std::vector<double> invstd(c), yd(p.x.size());
      batch_norm_forward_train(p.x, desc, p.gamma, p.beta, 1e-5, y, m, backend, act, invstd);
      batch_norm_forward_train<double>(p.xd, desc, p.gammad, p.betad, 1e-5, yd, md,
                                       Backend::kReference, act);
      expect_bf16_close(y, yd, 1e-5, what + " training y");
      for (size_t k = 0; k < c; ++k) {
        EXPECT_NEAR(m[k].mean, md[k].mean, 1e-7 * std::abs(md[k].mean)) << what;
        EXPECT_NEAR(m[k].m2, md[k].m2, 1e-6 * md[k].m2) << what;
      }
      // Inference forward.
      batch_norm_forward_infer(p.x, desc, p.mean, p.var, p.gamma, p.beta, 1e-5, y, backend, act);
      batch_norm_forward_infer<double>(p.xd, desc, p.meand, p.vard, p.gammad, p.betad, 1e-5, yd,
                                       Backend::kReference, act);
      expect_bf16_close(y, yd, 1e-5, what + " inference y");
      // Backward through the batch statistics, with the training forward's mean and invstd.
      std::vector<double> mean(c);
      for (size_t k = 0; k < c; ++k) mean[k] = m[k].mean;
      std::vector<bfloat16> dx(p.x.size());
      std::vector<float> dgamma(c), dbeta(c);
      std::vector<double> dxd(p.x.size()), dgammad(c), dbetad(c);
      batch_norm_backward(p.x, p.dy, desc, mean, invstd, p.gamma, StatsGradient::kThroughBatchStats,
                          dx, dgamma, dbeta, backend, act, p.beta);
      batch_norm_backward<double>(p.xd, p.dyd, desc, mean, invstd, p.gammad,
                                  StatsGradient::kThroughBatchStats, dxd, dgammad, dbetad,
                                  Backend::kReference, act, p.betad);
      expect_bf16_close(dx, dxd, 1e-4, what + " dx");
      expect_close<float, double>(dgamma, dgammad, 1e-4, 1e-5, what + " dgamma");
      expect_close<float, double>(dbeta, dbetad, 1e-4, 1e-5, what + " dbeta");
    }
  }
}

std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  switch (info.param) {
    case Backend::kAuto:
      return "Auto";
    case Backend::kReference:
      return "Reference";
    case Backend::kOptimized:
      return "Optimized";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Backends, Bf16Functional,
                         testing::Values(Backend::kAuto, Backend::kOptimized, Backend::kReference),
                         backend_name);

// dx, dgamma, dbeta of the bfloat16 backward against central differences of the float64 loss
// sum(y * dy) at the bfloat16 inputs (every element perturbed): the analytic gradient is the
// float path's up to the rounding of dx to bfloat16.
TEST(Bf16Gradcheck, MatchesCentralDifferencesOfTheFloat64Loss) {
  for (const TensorDesc& desc :
       {TensorDesc{{6, 3}, Layout::kNC}, TensorDesc{{3, 2, 4, 3}, Layout::kChannelsFirst},
        TensorDesc{{2, 5, 3, 2}, Layout::kChannelsLast}}) {
    for (bool training : {true, false}) {
      Problem p(desc, 31);
      const size_t c = p.gamma.size();
      std::vector<double> x = p.xd, gamma = p.gammad, beta = p.betad;
      const auto loss = [&] {
        std::vector<double> y(x.size());
        std::vector<Moments> m(c);
        if (training) {
          batch_norm_forward_train<double>(x, desc, gamma, beta, 1e-5, y, m, Backend::kReference);
        } else {
          batch_norm_forward_infer<double>(x, desc, p.meand, p.vard, gamma, beta, 1e-5, y,
                                           Backend::kReference);
        }
        double l = 0.0;
        for (size_t i = 0; i < y.size(); ++i) l += y[i] * p.dyd[i];
        return l;
      };
      const auto numeric = [&](std::vector<double>& v) {
        std::vector<double> g(v.size());
        for (size_t i = 0; i < v.size(); ++i) {
          const double saved = v[i], h = 1e-5 * std::max(1.0, std::abs(saved));
          v[i] = saved + h;
          const double plus = loss();
          v[i] = saved - h;
          const double minus = loss();
          v[i] = saved;
          g[i] = (plus - minus) / (2 * h);
        }
        return g;
      };
      // The analytic gradient at the forward's statistics.
      std::vector<double> mean(c), invstd(c);
      if (training) {
        std::vector<bfloat16> y(p.x.size());
        std::vector<Moments> m(c);
        batch_norm_forward_train(p.x, desc, p.gamma, p.beta, 1e-5, y, m, Backend::kAuto,
                                 Activation::kNone, invstd);
        for (size_t k = 0; k < c; ++k) mean[k] = m[k].mean;
      } else {
        for (size_t k = 0; k < c; ++k)
          mean[k] = p.meand[k], invstd[k] = 1 / std::sqrt(p.vard[k] + 1e-5);
      }
      std::vector<bfloat16> dx(p.x.size());
      std::vector<float> dgamma(c), dbeta(c);
      batch_norm_backward(
          p.x, p.dy, desc, mean, invstd, p.gamma,
          training ? StatsGradient::kThroughBatchStats : StatsGradient::kStatsAsConstants, dx,
          dgamma, dbeta);
      const std::string what = describe(desc) + (training ? " training" : " inference");
      const auto num_dx = numeric(x), num_dgamma = numeric(gamma), num_dbeta = numeric(beta);
      double scale = 0.0;
      for (double v : num_dx) scale = std::max(scale, std::abs(v));
      expect_bf16_close(dx, num_dx, 1e-5 * scale, what + " dx");
      expect_close<float, double>(dgamma, num_dgamma, 1e-5, 1e-5, what + " dgamma");
      expect_close<float, double>(dbeta, num_dbeta, 1e-5, 1e-5, what + " dbeta");
    }
  }
}

// BatchNorm<bfloat16> against BatchNorm<double> on the widened data: outputs within bfloat16
// rounding, float32 parameters, gradients and running statistics as close as float32 keeps them.
TEST(Bf16Module, TracksBatchNormDoubleOnTheSameValues) {
  const TensorDesc desc{{4, 6, 5, 3}, Layout::kChannelsLast};
  BatchNorm<bfloat16> bn({.num_features = 6, .layout = Layout::kChannelsLast});
  BatchNorm<double> bd({.num_features = 6, .layout = Layout::kChannelsLast});
  static_assert(std::is_same_v<decltype(bn.gamma()), std::span<float>>);
  for (int step = 0; step < 3; ++step) {
    const Problem p(desc, 50 + static_cast<uint64_t>(step));
    std::vector<bfloat16> y(p.x.size()), dx(p.x.size());
    std::vector<double> yd(p.x.size()), dxd(p.x.size());
    bn.forward(p.x, desc, y, Mode::kTrain);
    bd.forward(p.xd, desc, yd, Mode::kTrain);
    expect_bf16_close(y, yd, 1e-5, "training y step " + std::to_string(step));
    bn.backward(p.x, p.dy, dx);
    bd.backward(p.xd, p.dyd, dxd);
    expect_bf16_close(dx, dxd, 1e-4, "dx step " + std::to_string(step));
  }
  expect_close<float, double>(bn.running_mean(), bd.running_mean(), 1e-6, 1e-6, "running_mean");
  expect_close<float, double>(bn.running_var(), bd.running_var(), 1e-6, 1e-6, "running_var");
  expect_close<float, double>(bn.grad_gamma(), bd.grad_gamma(), 1e-4, 1e-5, "grad_gamma");
  expect_close<float, double>(bn.grad_beta(), bd.grad_beta(), 1e-4, 1e-5, "grad_beta");
  const Problem p(desc, 99);
  std::vector<bfloat16> y(p.x.size());
  std::vector<double> yd(p.x.size());
  bn.forward(p.x, desc, y, Mode::kInference);
  bd.forward(p.xd, desc, yd, Mode::kInference);
  expect_bf16_close(y, yd, 1e-4, "inference y");  // running stats in float32: 1e-6 relative
}

// The mistakes the float API refuses are refused with the same messages for bfloat16.
TEST(Bf16Errors, SameMessagesAsFloat) {
  const TensorDesc desc{{4, 3}, Layout::kNC};
  std::vector<bfloat16> x(12, bfloat16(1.0f)), y(12), short_y(11);
  std::vector<float> xf(12, 1.0f), yf(12), short_yf(11), gamma(3, 1.0f), beta(3), bad(2);
  std::vector<Moments> m(3);
  const auto same = [](const std::function<void()>& bf, const std::function<void()>& fl) {
    const std::string a = error_message_of(bf), b = error_message_of(fl);
    EXPECT_NE(a, "(no error)");
    EXPECT_EQ(a, b);
  };
  same([&] { batch_norm_forward_train(x, desc, gamma, beta, 1e-5, short_y, m); },
       [&] { batch_norm_forward_train<float>(xf, desc, gamma, beta, 1e-5, short_yf, m); });
  same([&] { batch_norm_forward_train(x, desc, bad, beta, 1e-5, y, m); },
       [&] { batch_norm_forward_train<float>(xf, desc, bad, beta, 1e-5, yf, m); });
  same([&] { batch_norm_forward_train(x, desc, gamma, beta, 0.0, y, m); },
       [&] { batch_norm_forward_train<float>(xf, desc, gamma, beta, 0.0, yf, m); });
  same(
      [&] {
        batch_norm_forward_train(x, {{1, 3}, Layout::kNC}, gamma, beta, 1e-5, y, m);
      },
      [&] {
        batch_norm_forward_train<float>(xf, {{1, 3}, Layout::kNC}, gamma, beta, 1e-5, yf, m);
      });
  same([&] { batch_norm_forward_train(x, desc, gamma, beta, 1e-5, std::span(x).subspan(0), m); },
       [&] { batch_norm_forward_train<float>(xf, desc, gamma, beta, 1e-5, xf, m); });
  std::vector<float> neg_var{1.0f, -1.0f, 1.0f};
  same([&] { batch_norm_forward_infer(x, desc, beta, neg_var, gamma, beta, 1e-5, y); },
       [&] { batch_norm_forward_infer<float>(xf, desc, beta, neg_var, gamma, beta, 1e-5, yf); });
  std::vector<double> mean(3), invstd(3, 1.0);
  std::vector<float> dgamma(3), dbeta(3);
  same(
      [&] {
        batch_norm_backward(x, y, desc, mean, invstd, gamma, StatsGradient::kThroughBatchStats,
                            std::span(x).subspan(1), dgamma, dbeta);
      },
      [&] {
        batch_norm_backward<float>(xf, yf, desc, mean, invstd, gamma,
                                   StatsGradient::kThroughBatchStats, std::span(xf).subspan(1),
                                   dgamma, dbeta);
      });
  same([] { BatchNorm<bfloat16>({.num_features = 3, .eps = 0.0}); },
       [] { BatchNorm<float>({.num_features = 3, .eps = 0.0}); });
  BatchNorm<bfloat16> bn({.num_features = 3, .layout = Layout::kNC, .check_finite = true});
  x[4] = bfloat16(std::numeric_limits<float>::infinity());
  EXPECT_NE(error_message_of([&] {
              bn.forward(x, desc, y, Mode::kTrain);
            }).find("expected finite input (check_finite is on), got inf in channel 1"),
            std::string::npos);
}

}  // namespace
}  // namespace bnorm::test
