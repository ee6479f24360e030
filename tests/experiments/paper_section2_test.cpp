// The drivers of E9a, E5b and E10 on tiny synthetic data: claim ids, CSV columns and rows, plots;
// what must hold on any data (E9a: the exact run's b stays at rounding while the other's grows,
// and the two loss curves agree; E5b: the 1/a law, exact while the batch variance dwarfs eps);
// the E9 alias of E9b; settings an experiment cannot use are errors naming the problem.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "band_images.hpp"
#include "bnorm/error.hpp"
#include "experiments/paper_experiments.hpp"

namespace bnorm::experiments {
namespace {

data::Dataset bands(int64_t count, uint64_t seed) { return test::band_images(count, seed); }

PaperSettings tiny(int64_t steps) {
  return {.seeds = 1, .steps = steps, .batch = 10, .show_progress = false};
}

// The CSV as rows of cells, header first.
std::vector<std::vector<std::string>> rows_of(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    rows.emplace_back();
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) rows.back().push_back(cell);
  }
  return rows;
}

class Section2Drivers : public ::testing::Test {
 protected:
  data::Dataset train_ = bands(60, 1), test_ = bands(30, 2);
};

// variant,seed,step,train_loss,test_acc,mean_abs_bias,max_abs_bias at steps 0, 100, 200.
TEST_F(Section2Drivers, E9aExactBiasStaysIgnoringBiasGrowsLossesAgree) {
  const ExperimentResult r = run_paper_experiment("E9a", tiny(200), train_, test_);
  ASSERT_EQ(r.claims.size(), 1u);
  EXPECT_EQ(r.claims[0].id, "E9a");
  EXPECT_EQ(r.plots.size(), 4u);
  const auto rows = rows_of(r.csv);
  ASSERT_EQ(rows.size(), 1u + 2 * 3);
  EXPECT_EQ(r.csv.substr(0, r.csv.find('\n')),
            "variant,seed,step,train_loss,test_acc,mean_abs_bias,max_abs_bias");
  // rows 1-3: exact, 4-6: ignoring, each at steps 0, 100, 200.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(rows[i][0], "exact");
    EXPECT_LE(std::stod(rows[i][6]), 1e-5) << "exact run moved b at step " << rows[i][2];
    EXPECT_EQ(rows[i + 3][0], "ignoring");
    EXPECT_EQ(rows[i + 3][2], rows[i][2]);
  }
  EXPECT_GT(std::stod(rows[5][5]), 1e-3);                   // b moved by step 100
  EXPECT_GT(std::stod(rows[6][5]), std::stod(rows[5][5]));  // and kept moving
  for (int i = 2; i <= 3; ++i) {
    const double exact = std::stod(rows[i][3]), ignoring = std::stod(rows[i + 3][3]);
    EXPECT_NEAR(ignoring, exact, 1e-4 * exact) << "step " << rows[i][2];
  }
  PaperSettings short_run = tiny(150);
  EXPECT_THROW(run_paper_experiment("E9a", short_run, train_, test_), Error);
}

TEST_F(Section2Drivers, E5bFollowsOneOverA) {
  PaperSettings s = tiny(1);
  s.seeds = 2;
  const ExperimentResult r = run_paper_experiment("E5b", s, train_, test_);
  ASSERT_EQ(r.claims.size(), 1u);
  EXPECT_EQ(r.claims[0].id, "E5b");
  EXPECT_EQ(r.claims[0].seeds, 2);
  EXPECT_TRUE(r.claims[0].reproduced) << r.claims[0].measured;
  const auto rows = rows_of(r.csv);
  ASSERT_EQ(rows.size(), 1u + 2 * 5);  // seed x scale
  EXPECT_EQ(rows[0].size(), 7u);
  ASSERT_EQ(r.plots.size(), 1u);
  EXPECT_EQ(r.plots[0].series.size(), 3u);  // two seeds and 1/a
  s.seeds = 7;                              // 7 batches of 10 from 60 images
  EXPECT_THROW(run_paper_experiment("E5b", s, train_, test_), Error);
}

TEST_F(Section2Drivers, E10TrainsEveryModelWithAndWithoutDropout) {
  const ExperimentResult r = run_paper_experiment("E10", tiny(3), train_, test_);
  ASSERT_EQ(r.claims.size(), 1u);
  EXPECT_EQ(r.claims[0].id, "E10");
  EXPECT_EQ(r.csv.substr(0, r.csv.find('\n')),
            "model,bn,dropout,seed,step,test_acc,final_acc,diverged_at");
  for (const char* model : {"baseline", "baseline + Dropout 0.2", "baseline + Dropout 0.5", "BN",
                            "BN + Dropout 0.2", "BN + Dropout 0.5"})
    EXPECT_NE(r.csv.find(std::string("\n") + model + ","), std::string::npos) << model;
  EXPECT_EQ(rows_of(r.csv).size(), 1u + 6 * 4);  // 6 models x evaluations at 0, 1, 2, 3
  ASSERT_EQ(r.plots.size(), 1u);
  EXPECT_EQ(r.plots[0].series.size(), 6u);
}

TEST_F(Section2Drivers, E9StillRunsAsE9b) {
  const ExperimentResult r = run_paper_experiment("e9", tiny(3), train_, test_);
  ASSERT_EQ(r.claims.size(), 1u);
  EXPECT_EQ(r.claims[0].id, "E9b");
  EXPECT_EQ(paper_experiment_aliases(), std::vector<std::string_view>{"E9"});
  const auto ids = paper_experiment_ids();
  for (const char* id : {"E9a", "E9b", "E5b", "E10"})
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  EXPECT_EQ(std::find(ids.begin(), ids.end(), "E9"), ids.end());
}

}  // namespace
}  // namespace bnorm::experiments
