// The judges of E9a (Section 2's mean-only centering), E5b (the exact 1/a gradient law) and E10
// (BN in place of Dropout) on hand-made numbers with known answers, each part failing on its own.
#include <gtest/gtest.h>

#include <cmath>

#include "bnorm/error.hpp"
#include "experiments/claims.hpp"

namespace bnorm::experiments {
namespace {

struct BiasCase {
  std::vector<int64_t> steps{0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200};
  std::vector<double> bias, loss_exact, loss_ignoring;
  BiasCase() {
    for (int64_t s : steps) {
      bias.push_back(0.01 * static_cast<double>(s));  // linear: 12x from step 100 to 1200
      loss_exact.push_back(s == 0 ? NAN : 1.0 / (1.0 + 0.001 * static_cast<double>(s)));
    }
    loss_ignoring = loss_exact;
  }
  MeanOnlyBiasVerdict judge(double full_move = 1e-7) const {
    return judge_mean_only_bias(steps, bias, full_move, loss_exact, loss_ignoring);
  }
};

TEST(ClaimsE9a, LinearGrowthStillBiasAndEqualLossesReproduce) {
  const MeanOnlyBiasVerdict v = BiasCase().judge();
  EXPECT_DOUBLE_EQ(v.bias_at_100, 1.0);
  EXPECT_DOUBLE_EQ(v.bias_end, 12.0);
  EXPECT_NEAR(v.growth(), 12.0, 1e-12);
  EXPECT_NEAR(v.late_slope, 0.01, 1e-12);  // last half: steps 600..1200
  EXPECT_EQ(v.max_loss_rel_gap, 0.0);      // NaN on both sides at step 0 is skipped
  EXPECT_TRUE(v.reproduced());
}

TEST(ClaimsE9a, EachPartFailsOnItsOwn) {
  BiasCase slow;  // sqrt growth: 3.5x from step 100 to 1200
  for (size_t i = 0; i < slow.steps.size(); ++i)
    slow.bias[i] = std::sqrt(static_cast<double>(slow.steps[i]));
  EXPECT_LT(slow.judge().growth(), 10.0);
  EXPECT_FALSE(slow.judge().reproduced());

  BiasCase falling;  // grew 12x but is shrinking over the last half
  for (size_t i = 6; i < falling.steps.size(); ++i)
    falling.bias[i] = 20.0 - 0.5 * static_cast<double>(i);
  EXPECT_GE(falling.judge().growth(), 10.0);
  EXPECT_LT(falling.judge().late_slope, 0.0);
  EXPECT_FALSE(falling.judge().reproduced());

  EXPECT_FALSE(BiasCase().judge(2e-5).reproduced());  // the exact gradient moved b

  BiasCase apart;
  apart.loss_ignoring[5] *= 1.002;
  EXPECT_NEAR(apart.judge().max_loss_rel_gap, 0.002, 1e-9);
  EXPECT_FALSE(apart.judge().reproduced());

  BiasCase one_nan;  // a loss on one side only (a diverged run) is an infinite gap
  one_nan.loss_ignoring[3] = NAN;
  EXPECT_TRUE(std::isinf(one_nan.judge().max_loss_rel_gap));
}

TEST(ClaimsE9a, RejectsMismatchedLengthsAndAMissingStep100) {
  BiasCase c;
  c.bias.pop_back();
  EXPECT_THROW(c.judge(), Error);
  BiasCase no_100;
  no_100.steps[1] = 150;
  EXPECT_THROW(no_100.judge(), Error);
}

TEST(ClaimsE5b, SlopeOfMinusOneReproducesAndEverySeedMustHold) {
  const std::vector<double> as{0.1, 0.3, 1, 3, 10};
  std::vector<double> exact, shallow;
  for (double a : as) {
    exact.push_back(2.0 / a);
    shallow.push_back(2.0 / std::pow(a, 0.9));
  }
  const GradientScaleVerdict good = judge_gradient_scale(as, {exact, exact});
  ASSERT_EQ(good.slopes.size(), 2u);
  EXPECT_NEAR(good.slopes[0], -1.0, 1e-12);
  EXPECT_TRUE(good.reproduced());
  const GradientScaleVerdict one_bad = judge_gradient_scale(as, {exact, shallow});
  EXPECT_NEAR(one_bad.slopes[1], -0.9, 1e-12);
  EXPECT_FALSE(one_bad.reproduced());
  EXPECT_FALSE(judge_gradient_scale(as, {}).reproduced());
  EXPECT_THROW(judge_gradient_scale(as, {{1, 2}}), Error);
  EXPECT_THROW(judge_gradient_scale({1.0}, {{1.0}}), Error);
  EXPECT_THROW(judge_gradient_scale(as, {{1, 2, 0, 4, 5}}), Error);
}

TEST(ClaimsE10, EachSideIsJudgedAtItsBestDropoutRate) {
  const DropoutVerdict v = judge_dropout(0.950, {0.2, 0.5}, {0.940, 0.945}, {0.951, 0.952});
  EXPECT_DOUBLE_EQ(v.baseline_dropout, 0.945);
  EXPECT_DOUBLE_EQ(v.baseline_dropout_rate, 0.5);
  EXPECT_DOUBLE_EQ(v.bn_dropout, 0.952);
  EXPECT_DOUBLE_EQ(v.bn_dropout_rate, 0.5);
  EXPECT_NEAR(v.bn_minus_baseline_dropout_pp(), 0.5, 1e-9);
  EXPECT_NEAR(v.dropout_gain_pp(), 0.2, 1e-9);
  EXPECT_TRUE(v.reproduced());
  // BN alone below the baseline with Dropout; Dropout adding 0.4 pp to BN.
  EXPECT_FALSE(judge_dropout(0.944, {0.2, 0.5}, {0.940, 0.945}, {0.94, 0.94}).reproduced());
  EXPECT_FALSE(judge_dropout(0.950, {0.2, 0.5}, {0.940, 0.945}, {0.954, 0.95}).reproduced());
  EXPECT_THROW(judge_dropout(0.9, {}, {}, {}), Error);
  EXPECT_THROW(judge_dropout(0.9, {0.2}, {0.9, 0.9}, {0.9}), Error);
}

}  // namespace
}  // namespace bnorm::experiments
