// The claim judges on hand-made curves with known answers.
#include "experiments/claims.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

Curve flat(double acc, int64_t diverged_at = -1) {
  return {.name = "", .steps = {100}, .acc = {acc}, .diverged_at = diverged_at};
}

TEST(Claims, StepsToReachAndTrains) {
  const Curve c{.steps = {100, 200, 300}, .acc = {0.5, 0.8, 0.9}};
  EXPECT_EQ(steps_to_reach(c, 0.8), 200);
  EXPECT_EQ(steps_to_reach(c, 0.95), -1);
  EXPECT_TRUE(trains(c, 0.1, 0.9));               // 0.9 >= 0.1 + 0.5 * 0.8
  EXPECT_FALSE(trains(flat(0.4), 0.1, 0.9));      // 0.4 < 0.5
  EXPECT_FALSE(trains(flat(0.9, 50), 0.1, 0.9));  // diverged
}

TEST(Claims, LrSweep) {
  const std::vector<double> lrs = {0.01, 0.1, 1, 10, 30};
  // Baseline best at 0.1 (0.90), 1 within 2 pp; BN good up to 10, and still trains at 30 ~
  // 30x0.1=3?
  const std::vector<Curve> base = {flat(0.80), flat(0.90), flat(0.885), flat(0.1, 5), flat(0.1, 5)};
  const std::vector<Curve> bn = {flat(0.85), flat(0.93), flat(0.935), flat(0.92), flat(0.7)};
  const LrSweepVerdict v = judge_lr_sweep(lrs, base, bn, 0.1);
  EXPECT_DOUBLE_EQ(v.best_lr_baseline, 0.1);
  EXPECT_DOUBLE_EQ(v.largest_good_lr_baseline, 1.0);
  EXPECT_DOUBLE_EQ(v.largest_good_lr_bn, 10.0);
  EXPECT_DOUBLE_EQ(v.good_lr_ratio, 10.0);
  EXPECT_DOUBLE_EQ(v.lr_at_30x,
                   1.0);  // 30 * 0.1 = 3: log-closest of {1, 10} is 1 (|ln 3| < |ln 10/3|)
  EXPECT_TRUE(v.bn_trains_at_30x);
  EXPECT_TRUE(v.reproduced());
}

TEST(Claims, Fig3) {
  const Curve base{.steps = {1, 2, 3, 4}, .acc = {0.5, 0.7, 0.8, 0.9}};
  const Curve base_x5{.steps = {1}, .acc = {0.1}, .diverged_at = 1};
  const Curve bn{.steps = {1, 2, 3, 4}, .acc = {0.6, 0.8, 0.91, 0.92}};  // 0.9 at step 3
  const Curve bn_x5{.steps = {1, 2}, .acc = {0.91, 0.93}};               // at step 1
  const Curve bn_sig{.steps = {1}, .acc = {0.88}};
  const Curve sig{.steps = {1}, .acc = {0.1}};
  const Fig3Verdict v = judge_fig3(base, base_x5, bn, bn_x5, bn_x5, bn_sig, sig);
  EXPECT_EQ(v.baseline_steps, 4);
  EXPECT_NEAR(v.speedup_bn_baseline, 4.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(v.speedup_bn_x5, 4.0);
  EXPECT_TRUE(v.baseline_x5_fails);
  EXPECT_NEAR(v.sigmoid_bn_x5_gap_pp, 2.0, 1e-9);
  EXPECT_NEAR(v.sigmoid_baseline_gap_pp, 80.0, 1e-9);
  EXPECT_FALSE(v.reproduced());  // BN-Baseline speed-up 1.33 < 1.5
}

TEST(Claims, InitScaleSlopeOfOneOverA) {
  const std::vector<double> a = {0.01, 0.1, 1};
  const std::vector<double> g = {100 * 2.0, 10 * 2.0, 2.0};
  const InitScaleVerdict v = judge_init_scale({0.9, 0.905}, {0.1, 0.9}, a, g);
  EXPECT_NEAR(v.grad_slope, -1.0, 1e-12);
  EXPECT_NEAR(v.range_bn_pp, 0.5, 1e-9);
  EXPECT_NEAR(v.range_baseline_pp, 80.0, 1e-9);
  EXPECT_TRUE(v.reproduced());
}

TEST(Claims, StatsGradientAndPopulationVerdicts) {
  const StatsGradientVerdict blowup{.growth_true = 1.5,
                                    .growth_constant_stats = 20.0,
                                    .acc_true = 0.9,
                                    .acc_constant_stats = 0.89};
  EXPECT_NEAR(blowup.growth_ratio(), 13.333, 1e-3);
  EXPECT_TRUE(blowup.reproduced());
  const StatsGradientVerdict tame{.growth_true = 1.5,
                                  .growth_constant_stats = 3.0,
                                  .acc_true = 0.9,
                                  .acc_constant_stats = 0.88};
  EXPECT_FALSE(tame.reproduced());  // growth 2x and 2 pp: neither criterion
  EXPECT_TRUE((PopulationVerdict{.acc_running = 0.9, .acc_population = 0.9015}).reproduced());
  EXPECT_FALSE((PopulationVerdict{.acc_running = 0.9, .acc_population = 0.8975}).reproduced());
}

TEST(Claims, SummaryHasEveryKey) {
  const std::string path = testing::TempDir() + "/claims_summary.json";
  write_claims_summary(path, {{.id = "E4",
                               .claim = "c",
                               .measured = "m",
                               .threshold = "t",
                               .reproduced = true,
                               .seeds = 3,
                               .wall_seconds = 1.5}});
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"\"id\": \"E4\"", "\"claim\"", "\"measured\"", "\"threshold\"",
                          "\"reproduced\": true", "\"seeds\": 3", "\"wall_seconds\": 1.5"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key << " in " << text;
  }
}

// E12: every measurement must hold; one measurement above half the baseline fails the claim, and a
// NaN spread fails rather than passes.
TEST(Claims, JacobianSpreadMustHoldAtEveryMeasurement) {
  const std::vector<int64_t> steps = {0, 1000, 2000};
  const JacobianSpreadVerdict good = judge_jacobian_spread(steps, {0.2, 0.3, 0.5}, {1.0, 0.7, 1.0});
  EXPECT_TRUE(good.reproduced());
  EXPECT_DOUBLE_EQ(good.worst_ratio, 0.5);
  ASSERT_EQ(good.ratio.size(), 3u);
  EXPECT_NEAR(good.ratio[1], 0.3 / 0.7, 1e-12);
  const JacobianSpreadVerdict one_bad =
      judge_jacobian_spread(steps, {0.2, 0.36, 0.1}, {1.0, 0.7, 1.0});
  EXPECT_FALSE(one_bad.reproduced());
  EXPECT_NEAR(one_bad.worst_ratio, 0.36 / 0.7, 1e-12);
  EXPECT_FALSE(judge_jacobian_spread(steps, {0.1, NAN, 0.1}, {1.0, 1.0, 1.0}).reproduced());
  EXPECT_FALSE(judge_jacobian_spread(steps, {0.1, 0.1, 0.1}, {1.0, 0.0, 1.0}).reproduced());
  EXPECT_THROW(judge_jacobian_spread(steps, {0.1}, {1.0, 1.0, 1.0}), Error);
  EXPECT_THROW(judge_jacobian_spread({}, {}, {}), Error);
}

// E8 training: final accuracy is the mean of the last five evaluations; the speed-up is measured
// to the baseline's final accuracy.
TEST(Claims, NoisyBnWithinOnePointOfBnAndTwiceAsFastAsTheBaseline) {
  const std::vector<int64_t> steps = {0, 100, 200, 300, 400, 500, 600, 700, 800, 900};
  const Curve base{
      .name = "base", .steps = steps, .acc = {0.1, 0.5, 0.6, 0.7, 0.75, 0.8, 0.8, 0.8, 0.8, 0.8}};
  const Curve bn{.name = "bn",
                 .steps = steps,
                 .acc = {0.1, 0.85, 0.9, 0.92, 0.93, 0.93, 0.93, 0.93, 0.93, 0.93}};
  Curve noisy{.name = "noisy",
              .steps = steps,
              .acc = {0.1, 0.7, 0.85, 0.9, 0.92, 0.925, 0.925, 0.925, 0.925, 0.925}};
  NoisyBnVerdict v = judge_noisy_bn(base, bn, noisy);
  EXPECT_DOUBLE_EQ(v.final_baseline, 0.8);
  EXPECT_EQ(v.baseline_steps, 500);
  EXPECT_EQ(v.noisy_steps, 200);
  EXPECT_DOUBLE_EQ(v.speedup, 2.5);
  EXPECT_NEAR(v.gap_pp(), 0.5, 1e-9);
  EXPECT_TRUE(v.reproduced());
  // 1.5 pp below BN over the last five evaluations: fails on the gap.
  noisy.acc = {0.1, 0.7, 0.85, 0.9, 0.91, 0.915, 0.915, 0.915, 0.915, 0.915};
  v = judge_noisy_bn(base, bn, noisy);
  EXPECT_NEAR(v.gap_pp(), 1.5, 1e-9);
  EXPECT_FALSE(v.reproduced());
  // Reaching the baseline's final accuracy only at step 300 of its 500: 1.67x, too slow.
  noisy.acc = {0.1, 0.5, 0.7, 0.85, 0.93, 0.925, 0.925, 0.925, 0.925, 0.925};
  v = judge_noisy_bn(base, bn, noisy);
  EXPECT_EQ(v.noisy_steps, 300);
  EXPECT_FALSE(v.reproduced());
  EXPECT_THROW(judge_noisy_bn(base, bn, Curve{.name = "empty"}), Error);
}

TEST(Claims, SmoothnessNeedsBothRatiosAtMostHalf) {
  SmoothnessVerdict v{.loss_range_bn = 0.05,
                      .loss_range_baseline = 0.1,
                      .grad_change_bn = 0.2,
                      .grad_change_baseline = 0.5};
  EXPECT_TRUE(v.reproduced());
  v.grad_change_bn = 0.3;
  EXPECT_FALSE(v.reproduced());
  v.grad_change_bn = 0.2;
  v.loss_range_baseline = 0.0;  // no baseline to compare with: not reproduced
  EXPECT_FALSE(v.reproduced());
}

// A gap that is exactly a threshold in exact arithmetic is on it, though floating point puts the
// difference of the two accuracies a rounding error past it (E6-CNN's i.i.d. 60 case).
TEST(PpThresholds, AGapOnTheThresholdUpToRoundingCountsAsOnIt) {
  const double gap = 100.0 * (5245.0 / 6000.0) - 100.0 * (5215.0 / 6000.0);  // 30 images
  EXPECT_NE(gap, 0.5);  // the rounding the rule forgives
  EXPECT_NEAR(gap, 0.5, 1e-12);
  RenormVerdict v{.gain_batch4_pp = 1.0, .gain_noniid_pp = 2.0, .gain_iid60_pp = gap};
  EXPECT_TRUE(v.reproduced());
  v.gain_iid60_pp = 0.5 + 1.0 / 60.0;  // one test image of 6,000 more is past it
  EXPECT_FALSE(v.reproduced());
  EXPECT_TRUE(pp_at_least(0.3 - 1e-12, 0.3));
  EXPECT_FALSE(pp_at_least(0.3 - 1e-6, 0.3));
}

}  // namespace
}  // namespace bnorm::experiments
