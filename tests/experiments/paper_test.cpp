// The paper suite's drivers on tiny synthetic data and a handful of steps: each produces its claim
// rows, CSV columns and plots; bad input is an error naming the problem; a diverging network is a
// recorded result, not an exception; Algorithm 2's population statistics replace the running
// averages; the output files carry summary.json's keys. No full experiment runs here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "band_images.hpp"
#include "bnorm/error.hpp"
#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_output.hpp"
#include "experiments/paper_population.hpp"
#include "experiments/paper_text.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"
#include "nn/conv/cnn.hpp"
#include "nn/mlp.hpp"

namespace bnorm::experiments {
namespace {

data::Dataset bands(int64_t count, uint64_t seed) { return test::band_images(count, seed); }

PaperSettings tiny() {
  return {.seeds = 1, .lrs = {0.1, 1.0}, .steps = 3, .batch = 10, .show_progress = false};
}

std::string header_of(const ExperimentResult& r) { return r.csv.substr(0, r.csv.find('\n')); }

class PaperDrivers : public ::testing::Test {
 protected:
  data::Dataset train_ = bands(60, 1), test_ = bands(30, 2);
};

// The measured text names the side of the gap: E3 once printed "-2.42 pp below" for a model
// 2.42 pp above the baseline.
TEST(PaperText, AccuracySeriesAndTenthOfRun) {
  const Curve c{.name = "m", .steps = {0, 50, 100}, .acc = {0.1, 0.5, 0.75}};
  const report::Series s = experiments::accuracy_series(c, "label");
  EXPECT_EQ(s.label, "label");
  EXPECT_EQ(s.x, (std::vector<double>{0.0, 50.0, 100.0}));
  EXPECT_EQ(s.y, c.acc);
  EXPECT_EQ(experiments::tenth_of_run(1000), 100);
  EXPECT_EQ(experiments::tenth_of_run(7), 1);  // at least every step
}

TEST(PaperText, GapSaysAboveOrBelowByTheSign) {
  EXPECT_EQ(experiments::gap_text(2.424), "2.42 pp below");
  EXPECT_EQ(experiments::gap_text(-2.424), "2.42 pp above");
  EXPECT_EQ(experiments::gap_text(0.0), "0.00 pp below");
}

TEST_F(PaperDrivers, E2ProducesOneClaimPerActivationAndARowPerRun) {
  const ExperimentResult r = run_e2_lr_sweep(tiny(), train_, test_);
  ASSERT_EQ(r.claims.size(), 2u);
  EXPECT_EQ(r.claims[0].id, "E2-sigmoid");
  EXPECT_EQ(r.claims[1].id, "E2-relu");
  EXPECT_EQ(header_of(r), "activation,model,lr,seed,final_acc,best_acc,diverged_at");
  EXPECT_EQ(std::count(r.csv.begin(), r.csv.end(), '\n'), 1 + 2 * 2 * 2);  // act x model x lr
  EXPECT_EQ(r.plots.size(), 2u);
  EXPECT_GT(r.wall_seconds, 0.0);
}

TEST_F(PaperDrivers, E2RejectsInvalidLearningRateLists) {
  PaperSettings s = tiny();
  s.lrs = {0.1};
  EXPECT_THROW(run_e2_lr_sweep(s, train_, test_), Error);
  s.lrs = {0.1, -1.0};
  EXPECT_THROW(run_e2_lr_sweep(s, train_, test_), Error);
  s.lrs = {0.1, NAN};
  EXPECT_THROW(run_e2_lr_sweep(s, train_, test_), Error);
  s.lrs = {0.1, 0.1};
  try {
    run_e2_lr_sweep(s, train_, test_);
    FAIL() << "a duplicated rate was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("listed twice"), std::string::npos) << e.what();
  }
}

// A learning rate of 1e38 overflows the weights to Inf and the loss to NaN within a few steps:
// recorded as "diverged at step k" in the claim, not thrown.
TEST_F(PaperDrivers, DivergenceIsRecordedAsAStep) {
  PaperSettings s = tiny();
  s.lrs = {0.1, 1e38};
  s.steps = 5;
  const ExperimentResult r = run_e2_lr_sweep(s, train_, test_);
  const std::string measured = r.claims[0].measured + " | " + r.claims[1].measured;
  EXPECT_NE(measured.find("at lr 1e+38 diverged at step"), std::string::npos) << measured;
  EXPECT_NE(r.csv.find(",1e+38,1,"), std::string::npos) << r.csv;
}

TEST_F(PaperDrivers, E3RunsEveryModelOfFigure3) {
  const ExperimentResult r = run_e3_fig3(tiny(), train_, test_);
  ASSERT_EQ(r.claims.size(), 1u);
  EXPECT_EQ(r.claims[0].id, "E3");
  EXPECT_EQ(header_of(r), "model,lr,seed,step,test_acc,diverged_at");
  for (const char* model : {"Inception", "BN-Baseline", "BN-x5", "BN-x30", "BN-x5-Sigmoid",
                            "Inception-x5", "Inception-Sigmoid"})
    EXPECT_NE(r.csv.find(std::string("\n") + model + ","), std::string::npos) << model;
  ASSERT_EQ(r.plots.size(), 1u);
  EXPECT_EQ(r.plots[0].series.size(), 7u);
}

// E3's trainings run side by side (--jobs): the CSV must not depend on how many ran at once, and
// several seeds add the per-seed spread to the claim.
TEST_F(PaperDrivers, E3SeedsRunConcurrentlyWithTheSameNumbers) {
  PaperSettings s = tiny();
  s.seeds = 2;
  const ExperimentResult one_job = run_e3_fig3(s, train_, test_);
  s.jobs = 2;
  const ExperimentResult two_jobs = run_e3_fig3(s, train_, test_);
  EXPECT_EQ(one_job.csv, two_jobs.csv);
  EXPECT_EQ(one_job.claims[0].measured, two_jobs.claims[0].measured);
  EXPECT_NE(one_job.claims[0].measured.find("per seed 1..2: BN-Baseline "), std::string::npos)
      << one_job.claims[0].measured;
  EXPECT_EQ(one_job.claims[0].seeds, 2);
  EXPECT_NE(one_job.csv.find("\nBN-x30,0.3,2,"), std::string::npos) << one_job.csv;
}

TEST_F(PaperDrivers, E3RejectsNonSquareImages) {
  data::Dataset odd = train_;
  odd.features = 780;
  EXPECT_THROW(run_e3_fig3(tiny(), odd, test_), Error);
}

TEST_F(PaperDrivers, E4E5E9bE11ProduceTheirClaims) {
  const PaperSettings s = tiny();
  for (const auto& [id, header] : std::vector<std::pair<std::string, std::string>>{
           {"E4", "model,seed,step,test_acc,diverged_at"},
           {"E5", "model,scale,seed,final_acc,diverged_at,grad_norm"},
           {"E9b", "variant,seed,step,test_acc,param_norm_start,param_norm_end,growth,diverged_at"},
           {"E11", "network,seed,acc_running,acc_population,delta_pp"}}) {
    const ExperimentResult r = run_paper_experiment(id, s, train_, test_);
    ASSERT_EQ(r.claims.size(), 1u) << id;
    EXPECT_EQ(r.claims[0].id, id);
    EXPECT_EQ(header_of(r), header) << id;
    EXPECT_FALSE(r.claims[0].measured.empty()) << id;
    EXPECT_EQ(r.claims[0].seeds, 1) << id;
  }
}

// The BN network's gradient at scale a is 1/a times that at scale 1 as long as the batch variance
// of a W u dwarfs eps; at a = 0.01 it no longer does (sigmoid inputs vary little across a batch),
// which flattens the slope. What must hold regardless: larger weights get clearly smaller
// gradients (a slope near 0 would mean the output layer was scaled too).
TEST_F(PaperDrivers, E5GradientFallsWithTheWeightScale) {
  const ExperimentResult r = run_e5_init_scale(tiny(), train_, test_);
  const std::string& m = r.claims[0].measured;
  const double slope = std::stod(m.substr(m.rfind(' ') + 1));
  EXPECT_LT(slope, -0.6) << m;
  EXPECT_GT(slope, -1.05) << m;
}

TEST_F(PaperDrivers, UnknownIdListsTheValidOnes) {
  try {
    run_paper_experiment("E99", tiny(), train_, test_);
    FAIL() << "E99 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "E1, E2, E3, E4, E5, E5b, E6-MLP, E6-CNN, E7, E8, E9a, E9b, E10, E11, E12"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(paper_dataset("e3"), "fashion");
}

// Algorithm 2: after the estimate, the running statistics are the averages of the batch moments,
// not the momentum-0.1 running averages they were.
TEST_F(PaperDrivers, PopulationStatisticsReplaceRunningAverages) {
  nn::Sequential net = nn::build_cnn({.channels = {2}, .hidden = 8, .batch_norm = true, .seed = 4});
  std::vector<float> before;
  for (const nn::Buffer& b : net.buffers())
    before.insert(before.end(), b.value.begin(), b.value.end());
  EXPECT_EQ(estimate_population_statistics(net, train_, 10, 6, 1), 2);  // conv BN and FC BN
  std::vector<float> after;
  for (const nn::Buffer& b : net.buffers())
    after.insert(after.end(), b.value.begin(), b.value.end());
  ASSERT_EQ(before.size(), after.size());
  EXPECT_NE(before, after);  // fresh running stats are 0 / 1; population ones are not
  auto& bn = dynamic_cast<nn::ChannelBatchNormLayer&>(net.layer(1));
  // Channel means of conv outputs of non-negative images through random weights: not 0.
  EXPECT_NE(bn.module().running_mean()[0], 0.0f);
  EXPECT_THROW(estimate_population_statistics(net, train_, 10, 0, 1), Error);
  EXPECT_THROW(estimate_population_statistics(net, train_, 1000, 1, 1), Error);
}

TEST_F(PaperDrivers, OutputsHoldTheSummaryKeysAndTheReport) {
  const ExperimentResult r = run_paper_experiment("E4", tiny(), train_, test_);
  const auto dir =
      std::filesystem::temp_directory_path() / ("bnorm_paper_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_paper_outputs(dir, {r});
  std::ifstream in(dir / "summary.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  ASSERT_EQ(j.size(), 1u);
  for (const char* key :
       {"id", "claim", "measured", "threshold", "reproduced", "seeds", "wall_seconds"})
    EXPECT_TRUE(j[0].contains(key)) << key;
  EXPECT_TRUE(std::filesystem::exists(dir / "e4_deep_sigmoid.csv"));
  std::ifstream html(dir / "report.html");
  const std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("E4: a deep sigmoid network"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// A plot asks for its zoomed copy (Plot::zoom_late_values); other plots get none.
TEST(PaperReport, ZoomedCopyOnlyForPlotsThatAskForIt) {
  const auto report_for = [](bool zoom) {
    report::Plot plot{
        .title = "curves", .x_label = "step", .y_label = "accuracy", .zoom_late_values = zoom};
    plot.series.push_back({.label = "a", .x = {0, 10, 20, 30}, .y = {0.1, 0.90, 0.92, 0.93}});
    ExperimentResult r{.id = "EX", .title = "EX", .csv_name = "ex.csv", .csv = "a\n"};
    r.plots.push_back(plot);
    const auto dir = std::filesystem::temp_directory_path() /
                     ("bnorm_zoom_test_" + std::to_string(::getpid()) + (zoom ? "z" : "n"));
    std::filesystem::create_directories(dir);
    write_paper_outputs(dir, {r});
    std::ifstream html(dir / "report.html");
    std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
    std::filesystem::remove_all(dir);
    return text;
  };
  EXPECT_NE(report_for(true).find("curves, zoomed"), std::string::npos);
  EXPECT_EQ(report_for(false).find("zoomed"), std::string::npos);
}

}  // namespace
}  // namespace bnorm::experiments
