// E1's measures on hand-made evaluation tracks whose answers are known.
#include "experiments/fig1_metrics.hpp"

#include <gtest/gtest.h>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

TEST(Percentiles, InterpolateLikeNumpy) {
  // numpy.percentile(range(11), [15, 50, 85]) = [1.5, 5, 8.5]
  std::vector<double> v = {10, 0, 9, 1, 8, 2, 7, 3, 6, 4, 5};
  const Percentiles p = percentiles_15_50_85(v);
  EXPECT_DOUBLE_EQ(p.p15, 1.5);
  EXPECT_DOUBLE_EQ(p.p50, 5.0);
  EXPECT_DOUBLE_EQ(p.p85, 8.5);
  EXPECT_THROW(percentiles_15_50_85({}), Error);
}

TEST(MedianDrift, RangeOfMedianOverMeanSpread) {
  // medians 0, 2, 1: range 2; spreads 1, 3, 2: mean 2 -> drift 1
  EXPECT_DOUBLE_EQ(median_drift({{-0.5, 0, 0.5}, {0.5, 2, 3.5}, {0, 1, 2}}), 1.0);
}

TEST(JudgeFig1, MeasuresEachCriterion) {
  std::vector<Fig1Point> pts;
  // step 0 is ignored even though the baseline leads there
  pts.push_back({.step = 0, .acc_baseline = 0.2, .acc_bn = 0.1});
  const double base[] = {0.50, 0.70, 0.80, 0.85, 0.90};
  const double bn[] = {0.85, 0.91, 0.93, 0.94, 0.95};
  for (int i = 0; i < 5; ++i) {
    Fig1Point p{.step = 100 * (i + 1), .acc_baseline = base[i], .acc_bn = bn[i]};
    p.input_baseline = {-1.0 * i - 1, -1.0 * i, -1.0 * i + 1};  // median drifts by 4, spread 2
    p.input_bn = {-1, 0.1 * (i % 2), 1};                        // median moves 0.1, spread 2
    pts.push_back(p);
  }
  const Fig1Verdict v = judge_fig1(pts);
  EXPECT_DOUBLE_EQ(v.frac_evals_bn_ahead, 1.0);
  EXPECT_DOUBLE_EQ(v.baseline_best_acc, 0.90);
  EXPECT_EQ(v.baseline_best_step, 500);
  EXPECT_EQ(v.bn_steps_to_baseline_best, 200);  // 0.91 >= 0.90 first at step 200
  EXPECT_DOUBLE_EQ(v.steps_ratio, 2.5);
  EXPECT_DOUBLE_EQ(v.final_acc_bn - v.final_acc_baseline, 0.95 - 0.90);
  EXPECT_DOUBLE_EQ(v.drift_baseline, 2.0);
  EXPECT_DOUBLE_EQ(v.drift_bn, 0.05);
  EXPECT_TRUE(v.reproduced());
}

TEST(JudgeFig1, BnThatNeverReachesTheBaselineFailsTheStepsCriterion) {
  std::vector<Fig1Point> pts = {{.step = 100, .acc_baseline = 0.9, .acc_bn = 0.8},
                                {.step = 200, .acc_baseline = 0.95, .acc_bn = 0.94}};
  const Fig1Verdict v = judge_fig1(pts);
  EXPECT_EQ(v.bn_steps_to_baseline_best, -1);
  EXPECT_EQ(v.steps_ratio, 0.0);
  EXPECT_FALSE(v.steps_ok());
  EXPECT_FALSE(v.ahead_ok());
  EXPECT_FALSE(v.reproduced());
}

}  // namespace
}  // namespace bnorm::experiments
