// E7 (Ghost BN vs plain BN at batch 1024) on tiny synthetic data: the claim row, CSV and plots; the
// two arms differ only by the ghost batches (same seed: same first batch, different loss); a run's
// final accuracy is the mean of its last 5 evaluations; the same CSV at 1 and 2 jobs; judge_ghost
// part by part. No full experiment runs here.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "band_images.hpp"
#include "bnorm/error.hpp"
#include "experiments/claims.hpp"
#include "experiments/paper_experiments.hpp"

namespace bnorm::experiments {
namespace {

struct Row {
  std::string model;
  int seed = 0;
  int64_t step = 0;
  double test_acc = 0, train_loss = 0, final_acc = 0;
};

// e7_ghost.csv: model,ghost_batch,seed,step,test_acc,train_loss,final_acc,diverged_at
std::vector<Row> parse(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) f.push_back(cell);
    EXPECT_EQ(f.size(), 8u) << line;
    if (f.size() != 8) continue;
    rows.push_back({.model = f[0],
                    .seed = std::stoi(f[2]),
                    .step = std::stoll(f[3]),
                    .test_acc = std::stod(f[4]),
                    .train_loss = std::stod(f[5]),
                    .final_acc = std::stod(f[6])});
  }
  return rows;
}

class E7 : public ::testing::Test {
 protected:
  // Batches of 1024 need at least that many training images.
  data::Dataset train_ = test::band_images(1100, 1), test_ = test::band_images(50, 2);
};

TEST_F(E7, ProducesItsClaimCsvAndPlots) {
  const PaperSettings s{.seeds = 2, .steps = 10, .show_progress = false};
  const ExperimentResult r = run_paper_experiment("E7", s, train_, test_);
  ASSERT_EQ(r.claims.size(), 1u);
  EXPECT_EQ(r.claims[0].id, "E7");
  EXPECT_EQ(r.claims[0].seeds, 2);
  EXPECT_EQ(r.csv_name, "e7_ghost.csv");
  EXPECT_EQ(r.csv.substr(0, r.csv.find('\n')),
            "model,ghost_batch,seed,step,test_acc,train_loss,final_acc,diverged_at");
  EXPECT_EQ(r.plots.size(), 2u);
  for (const report::Plot& p : r.plots) EXPECT_EQ(p.series.size(), 2u) << p.title;
  // Two seeds: the paired differences and their t-interval are in the measured text.
  EXPECT_NE(r.claims[0].measured.find("per seed "), std::string::npos) << r.claims[0].measured;
  EXPECT_NE(r.claims[0].measured.find("95% t-interval"), std::string::npos) << r.claims[0].measured;
  // 2 arms x 2 seeds x evaluations at steps 0..10.
  const std::vector<Row> rows = parse(r.csv);
  EXPECT_EQ(rows.size(), 2u * 2u * 11u);
}

// Same seed, same initial weights and first batch: only the normalization differs, so the mean
// training loss of the first step differs between the arms (it would not if the ghost arm ran
// plain BN). Each run's final_acc is the mean of its last 5 evaluations.
TEST_F(E7, ArmsDifferByTheGhostBatchesAndFinalIsTheLastFiveMean) {
  const PaperSettings s{.seeds = 1, .steps = 10, .show_progress = false};
  const std::vector<Row> rows = parse(run_paper_experiment("E7", s, train_, test_).csv);
  std::map<std::string, std::vector<Row>> by_model;
  for (const Row& row : rows) by_model[row.model].push_back(row);
  ASSERT_EQ(by_model.size(), 2u);
  const std::vector<Row>& plain = by_model.at("plain");
  const std::vector<Row>& ghost = by_model.at("ghost");
  ASSERT_EQ(plain.size(), 11u);
  ASSERT_EQ(ghost.size(), 11u);
  EXPECT_EQ(plain[1].step, 1);
  EXPECT_TRUE(std::isfinite(plain[1].train_loss));
  EXPECT_GT(std::abs(plain[1].train_loss - ghost[1].train_loss), 1e-6)
      << plain[1].train_loss << " vs " << ghost[1].train_loss;
  for (const std::vector<Row>* run : {&plain, &ghost}) {
    double sum = 0;
    for (size_t i = run->size() - 5; i < run->size(); ++i) sum += (*run)[i].test_acc;
    EXPECT_NEAR(run->back().final_acc, sum / 5, 1e-12) << run->back().model;
  }
}

TEST_F(E7, DefaultStepsAreTheEpochsAtBatch1024AndJobsDoNotChangeTheNumbers) {
  // Quick: 15 epochs of 1100 images = ceil(16500 / 1024) = 17 steps.
  const PaperSettings s{.quick = true, .show_progress = false};
  const ExperimentResult one = run_paper_experiment("E7", s, train_, test_);
  EXPECT_EQ(parse(one.csv).back().step, 17);
  PaperSettings two = s;
  two.jobs = 2;
  EXPECT_EQ(run_paper_experiment("E7", two, train_, test_).csv, one.csv);
}

TEST_F(E7, TooFewTrainingImagesIsAnError) {
  const PaperSettings s{.seeds = 1, .steps = 2, .show_progress = false};
  try {
    run_paper_experiment("E7", s, test::band_images(1000, 1), test_);
    FAIL() << "1000 images were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[paper E7] expected at least 1024 training images"),
              std::string::npos)
        << e.what();
  }
}

TEST(E7Judge, GainIsTheMeanPairedDifferenceWithItsInterval) {
  // Differences 0.6, 0.2, 0.4 pp: mean 0.4, sd 0.2, half-width 4.303 * 0.2 / sqrt(3).
  const GhostVerdict v = judge_ghost({0.900, 0.910, 0.920}, {0.906, 0.912, 0.924});
  EXPECT_NEAR(v.final_plain, 0.910, 1e-12);
  EXPECT_NEAR(v.final_ghost, 0.914, 1e-12);
  ASSERT_EQ(v.diff_pp.size(), 3u);
  EXPECT_NEAR(v.diff_pp[0], 0.6, 1e-9);
  EXPECT_NEAR(v.diff_pp[1], 0.2, 1e-9);
  EXPECT_NEAR(v.gain_pp, 0.4, 1e-9);
  const double half = 4.303 * 0.2 / std::sqrt(3.0);
  EXPECT_NEAR(v.ci_low_pp, 0.4 - half, 1e-9);
  EXPECT_NEAR(v.ci_high_pp, 0.4 + half, 1e-9);
  EXPECT_TRUE(v.reproduced());
}

TEST(E7Judge, BelowThresholdOneSeedAndBadInput) {
  // Ghost ahead by 0.2 pp on average: short of 0.3.
  EXPECT_FALSE(judge_ghost({0.900, 0.910}, {0.903, 0.911}).reproduced());
  // Ghost behind.
  EXPECT_FALSE(judge_ghost({0.95}, {0.90}).reproduced());
  const GhostVerdict one = judge_ghost({0.90}, {0.91});
  EXPECT_TRUE(one.reproduced());
  EXPECT_TRUE(std::isnan(one.ci_low_pp));
  EXPECT_TRUE(std::isnan(one.ci_high_pp));
  EXPECT_THROW(judge_ghost({}, {}), Error);
  EXPECT_THROW(judge_ghost({0.9, 0.9}, {0.9}), Error);
}

}  // namespace
}  // namespace bnorm::experiments
