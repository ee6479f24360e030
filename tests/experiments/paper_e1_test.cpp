// E1 over seeds: judge_fig1_seeds on hand-made curves (each of the four criteria fails on its own,
// a level only BN reaches counts as met, the paired t-interval), and the driver on tiny synthetic
// data: both configurations, the learning rate the rule picks, every run in the CSV, the same
// numbers with one or two trainings at a time. No full experiment runs here.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "band_images.hpp"
#include "bnorm/error.hpp"
#include "experiments/claims.hpp"
#include "experiments/paper_experiments.hpp"

namespace bnorm::experiments {
namespace {

// Steps 0, 100, ..., 100 * (acc.size() - 1).
Curve curve_of(const std::vector<double>& acc) {
  Curve c{.name = "c", .acc = acc};
  for (size_t i = 0; i < acc.size(); ++i) c.steps.push_back(100 * static_cast<int64_t>(i));
  return c;
}

// Baseline: 90% at step 400, 92% at 600, 93% at 800. BN: 90% at 100, 92% at 200, 93% at 300.
const std::vector<double> kBase{0.1, 0.5, 0.8, 0.88, 0.90, 0.91, 0.92, 0.925, 0.93, 0.93, 0.93};
const std::vector<double> kBn{0.1, 0.90, 0.92, 0.93, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94, 0.94};

double mean_after_step0(const std::vector<double>& v) {
  double sum = 0;
  for (size_t i = 1; i < v.size(); ++i) sum += v[i];
  return sum / static_cast<double>(v.size() - 1);
}

Fig1SeedsVerdict judge(const std::vector<double>& base, const std::vector<double>& bn,
                       double drift_base = 1.0, double drift_bn = 0.1) {
  return judge_fig1_seeds({curve_of(base)}, {curve_of(bn)}, {drift_base}, {drift_bn});
}

TEST(E1Judge, AllFourMetWhenBnIsFasterAheadBetterAndSteadier) {
  const Fig1SeedsVerdict v = judge(kBase, kBn);
  ASSERT_EQ(v.levels.size(), 3u);
  EXPECT_EQ(v.levels[0].baseline_steps, 400);
  EXPECT_EQ(v.levels[0].bn_steps, 100);
  EXPECT_DOUBLE_EQ(v.levels[0].speedup, 4.0);
  EXPECT_DOUBLE_EQ(v.levels[2].speedup, 800.0 / 300.0);
  EXPECT_TRUE(v.levels_ok());
  EXPECT_DOUBLE_EQ(v.frac_evals_bn_at_or_above, 1.0);
  EXPECT_NEAR(v.final_gain_pp, 100 * (mean_after_step0(kBn) - mean_after_step0(kBase)), 1e-9);
  EXPECT_DOUBLE_EQ(v.drift_ratio, 0.1);
  EXPECT_TRUE(v.reproduced());
  EXPECT_TRUE(std::isnan(v.ci_low_pp));  // one seed: no interval
}

TEST(E1Judge, EachCriterionFailsOnItsOwn) {
  // 93% at step 500 against the baseline's 800: 1.6x, below 2x.
  std::vector<double> slow = kBn;
  slow[3] = slow[4] = 0.925;
  const Fig1SeedsVerdict levels = judge(kBase, slow);
  EXPECT_FALSE(levels.levels[2].met);
  EXPECT_TRUE(levels.ahead_ok() && levels.final_ok() && levels.drift_ok());
  EXPECT_FALSE(levels.reproduced());

  // Below the baseline at 2 of 10 evaluations (a tie counts as at or above): 80%.
  std::vector<double> behind = kBn;
  behind[9] = 0.92;
  behind[10] = 0.92;
  behind[8] = 0.93;
  const Fig1SeedsVerdict ahead = judge(kBase, behind);
  EXPECT_DOUBLE_EQ(ahead.frac_evals_bn_at_or_above, 0.8);
  EXPECT_FALSE(ahead.ahead_ok());
  EXPECT_FALSE(ahead.reproduced());

  // Same curve: +0 pp at the end, and everything else aside.
  const Fig1SeedsVerdict final_gain = judge(kBase, kBase);
  EXPECT_DOUBLE_EQ(final_gain.final_gain_pp, 0.0);
  EXPECT_FALSE(final_gain.final_ok());

  const Fig1SeedsVerdict drift = judge(kBase, kBn, 1.0, 0.6);
  EXPECT_TRUE(drift.levels_ok() && drift.ahead_ok() && drift.final_ok());
  EXPECT_FALSE(drift.drift_ok());
  EXPECT_FALSE(drift.reproduced());
}

TEST(E1Judge, ALevelOnlyBnReachesIsMetOneNeitherReachesIsNotTested) {
  std::vector<double> base = kBase;
  for (double& a : base) a = std::min(a, 0.925);  // never 93%
  const Fig1SeedsVerdict v = judge(base, kBn);
  EXPECT_EQ(v.levels[2].baseline_steps, -1);
  EXPECT_EQ(v.levels[2].bn_steps, 300);
  EXPECT_TRUE(v.levels[2].met);

  std::vector<double> low = kBase, low_bn = kBn;
  for (double& a : low) a = std::min(a, 0.85);
  for (double& a : low_bn) a = std::min(a, 0.86);
  const Fig1SeedsVerdict none = judge(low, low_bn);
  for (const Fig1SeedsVerdict::Level& l : none.levels) {
    EXPECT_EQ(l.baseline_steps, -1);
    EXPECT_EQ(l.bn_steps, -1);
  }
  EXPECT_TRUE(none.levels_ok());

  // The baseline reaches 90% and BN never does: not met.
  const Fig1SeedsVerdict never = judge(kBase, low_bn);
  EXPECT_EQ(never.levels[0].bn_steps, -1);
  EXPECT_FALSE(never.levels[0].met);
}

// Three seeds whose BN runs end +d, +d+1, +d+2 pp above the same baseline: mean d+1, sd 1, and the
// interval's half width t(0.975, 2) / sqrt(3) = 4.303 / sqrt(3). The curves are judged by their
// mean, so the levels come from the mean curve, not from any one seed.
TEST(E1Judge, PairedDifferencesAndTheirTInterval) {
  std::vector<Curve> base, bn;
  for (int k = 0; k < 3; ++k) {
    base.push_back(curve_of(kBase));
    std::vector<double> shifted = kBn;
    for (size_t i = 1; i < shifted.size(); ++i) shifted[i] += 0.01 * k;
    bn.push_back(curve_of(shifted));
  }
  const Fig1SeedsVerdict v = judge_fig1_seeds(base, bn, {1, 2, 3}, {0.1, 0.2, 0.6});
  const double d = 100 * (mean_after_step0(kBn) - mean_after_step0(kBase));
  ASSERT_EQ(v.final_diff_pp.size(), 3u);
  EXPECT_NEAR(v.final_diff_pp[0], d, 1e-9);
  EXPECT_NEAR(v.final_diff_pp[2], d + 2, 1e-9);
  EXPECT_NEAR(v.final_gain_pp, d + 1, 1e-9);
  EXPECT_NEAR(v.ci_low_pp, d + 1 - 4.303 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(v.ci_high_pp, d + 1 + 4.303 / std::sqrt(3.0), 1e-9);
  EXPECT_NEAR(v.drift_ratio, 0.3 / 2.0, 1e-12);  // seed means: 0.3 over 2
  EXPECT_NEAR(v.final_bn, mean_after_step0(kBn) + 0.01, 1e-12);
}

TEST(E1Judge, FinalAccuracyIsTheMeanOfTheLastTenEvaluationsAfterStepZero) {
  EXPECT_DOUBLE_EQ(fig1_final_accuracy(curve_of({0.1, 0.2, 0.4})), 0.3);
  std::vector<double> long_run(21, 0.5);
  for (size_t i = 11; i < 21; ++i) long_run[i] = 0.9;
  EXPECT_DOUBLE_EQ(fig1_final_accuracy(curve_of(long_run)), 0.9);
  EXPECT_DOUBLE_EQ(t_quantile_975(1), 12.706);
  EXPECT_DOUBLE_EQ(t_quantile_975(4), 2.776);
  EXPECT_NEAR(t_quantile_975(31), 2.0395, 1e-3);
  EXPECT_NEAR(t_quantile_975(120), 1.9799, 1e-3);
  EXPECT_THROW(t_quantile_975(0), Error);
}

TEST(E1Judge, MismatchedRunsAreRefused) {
  Curve shorter = curve_of({0.1, 0.5});
  EXPECT_THROW(judge_fig1_seeds({curve_of(kBase)}, {shorter}, {1}, {1}), Error);
  EXPECT_THROW(judge_fig1_seeds({curve_of(kBase)}, {curve_of(kBn)}, {1, 2}, {1}), Error);
  EXPECT_THROW(judge_fig1_seeds({}, {}, {}, {}), Error);
}

data::Dataset bands(int64_t count, uint64_t seed) {
  return test::band_images(count, seed, 0.5f, 0.6f);
}

PaperSettings tiny(int jobs = 1) {
  return {.seeds = 3,
          .jobs = jobs,
          .lrs = {0.02, 0.5},
          .steps = 24,
          .batch = 10,
          .show_progress = false};
}

struct Row {
  std::string config, network;
  double lr = 0;
  int seed = 0;
  int64_t step = 0;
  double acc = 0;
};

std::vector<Row> rows_of(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    rows.push_back(
        {f[0], f[3], std::stod(f[2]), std::stoi(f[4]), std::stoll(f[5]), std::stod(f[6])});
  }
  return rows;
}

class E1Driver : public ::testing::Test {
 protected:
  data::Dataset train_ = bands(80, 1), test_ = bands(40, 2);
};

TEST_F(E1Driver, BothConfigurationsAtTheRateTheRulePicks) {
  const PaperSettings s = tiny();
  const ExperimentResult r = run_paper_experiment("e1", s, train_, test_);
  ASSERT_EQ(r.claims.size(), 2u);
  EXPECT_EQ(r.claims[0].id, "E1");
  EXPECT_EQ(r.claims[1].id, "E1-B");
  EXPECT_EQ(r.claims[0].seeds, 3);
  EXPECT_NE(r.claims[0].measured.find("95% t-interval"), std::string::npos) << r.claims[0].measured;
  EXPECT_EQ(r.plots.size(), 6u);  // per configuration: accuracy, inputs without and with BN
  EXPECT_EQ(r.csv.substr(0, r.csv.find('\n')),
            "config,momentum,lr,network,seed,step,test_acc,train_loss,input_p15,input_p50,"
            "input_p85,diverged_at");

  // Recompute the choice from the CSV: per config and lr, the baseline's mean over seeds of its
  // last-10-evaluation accuracy; BN ran only at the best, with every seed, as did the baseline.
  const std::vector<Row> rows = rows_of(r.csv);
  std::map<std::tuple<std::string, std::string, double, int>, std::vector<double>> acc;
  for (const Row& row : rows)
    if (row.step > 0) acc[{row.config, row.network, row.lr, row.seed}].push_back(row.acc);
  EXPECT_EQ(acc.size(), 2u * (2 * 3 + 3));  // per config: 2 lrs x 3 seeds baseline, 3 BN
  for (const std::string config : {"A", "B"}) {
    double best_lr = 0, best = -1;
    for (double lr : s.lrs) {
      double sum = 0;
      for (int seed = 1; seed <= 3; ++seed) {
        const std::vector<double>& a = acc.at({config, "baseline", lr, seed});
        ASSERT_EQ(a.size(), 24u);
        double last10 = 0;
        for (size_t i = a.size() - 10; i < a.size(); ++i) last10 += a[i];
        sum += last10 / 10;
      }
      if (sum / 3 > best) best = sum / 3, best_lr = lr;
    }
    std::set<double> bn_lrs;
    for (const auto& [key, a] : acc)
      if (std::get<0>(key) == config && std::get<1>(key) == "bn") bn_lrs.insert(std::get<2>(key));
    EXPECT_EQ(bn_lrs, std::set<double>{best_lr}) << config;
  }
}

TEST_F(E1Driver, TheSelectionRunsAreReusedAndTheRestTrainAtTheChosenRate) {
  PaperSettings s = tiny();
  s.seeds = 5;  // selection on seeds 1-3, then seeds 4 and 5 at the chosen rate only
  s.steps = 12;
  const std::vector<Row> rows = rows_of(run_paper_experiment("E1", s, train_, test_).csv);
  std::map<std::tuple<std::string, std::string, int>, std::set<double>> lrs_of;
  for (const Row& row : rows) lrs_of[{row.config, row.network, row.seed}].insert(row.lr);
  for (const std::string config : {"A", "B"}) {
    for (int seed = 1; seed <= 5; ++seed) {
      EXPECT_EQ(lrs_of.at({config, "baseline", seed}).size(), seed <= 3 ? 2u : 1u) << seed;
      EXPECT_EQ(lrs_of.at({config, "bn", seed}), lrs_of.at({config, "bn", 1}));
    }
  }
}

TEST_F(E1Driver, SameNumbersWithOneOrTwoTrainingsAtATime) {
  PaperSettings s = tiny(1);
  s.steps = 10;
  const ExperimentResult one = run_e1_seeds(s, train_, test_);
  s.jobs = 2;
  const ExperimentResult two = run_e1_seeds(s, train_, test_);
  EXPECT_EQ(one.csv, two.csv);
  EXPECT_EQ(one.claims[0].measured, two.claims[0].measured);
}

TEST_F(E1Driver, RefusesBadSettingsAndIsListedFirst) {
  PaperSettings s = tiny();
  s.lrs = {0.1, -1.0};
  EXPECT_THROW(run_e1_seeds(s, train_, test_), Error);
  s = tiny();
  s.batch = 1000;
  try {
    run_e1_seeds(s, train_, test_);
    FAIL() << "a batch larger than the training set was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[paper E1] batch"), std::string::npos) << e.what();
  }
  EXPECT_EQ(paper_experiment_ids().front(), "E1");
  EXPECT_EQ(paper_dataset("e1"), "mnist");
}

}  // namespace
}  // namespace bnorm::experiments
