// E1's driver on tiny synthetic data: the record has one point per evaluation, the learning rate
// is the baseline's best, runs are reproducible, and bad settings are refused with a clear error.
#include "experiments/fig1_run.hpp"

#include <gtest/gtest.h>

#include <random>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

// Ten classes, each a fixed random binary prototype with 10% of its pixels flipped.
data::Dataset synthetic(int64_t count, uint64_t seed) {
  constexpr int64_t kFeatures = 32;
  std::mt19937_64 proto_rng(7);  // the same prototypes for train and test
  std::vector<float> proto(static_cast<size_t>(data::kNumClasses * kFeatures));
  for (float& v : proto) v = static_cast<float>(proto_rng() % 2);
  std::mt19937_64 rng(seed);
  data::Dataset d{.name = "synthetic", .count = count, .features = kFeatures};
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int32_t>(i % data::kNumClasses);
    d.labels.push_back(label);
    for (int64_t f = 0; f < kFeatures; ++f) {
      const float v = proto[static_cast<size_t>(label * kFeatures + f)];
      d.images.push_back(rng() % 10 == 0 ? 1.0f - v : v);
    }
  }
  return d;
}

Fig1Settings small_settings() {
  return {.dataset = "synthetic",
          .steps = 300,
          .batch = 20,
          .eval_every = 100,
          .momentum = 0.0,
          .init_sigma = 0.1,
          .seed = 3,
          .threads = 1,
          .binarize = false,
          .probe_unit = 5,
          .probe_size = 50};
}

Fig1Run run_small(const Fig1Settings& s, std::vector<double> lrs, int jobs = 1) {
  return run_fig1(s, {.lr_candidates = std::move(lrs), .show_progress = false, .jobs = jobs},
                  synthetic(400, 1), synthetic(200, 2));
}

TEST(Fig1Run, RecordsEveryEvaluationAndChoosesTheBaselinesBestLearningRate) {
  const Fig1Run r = run_small(small_settings(), {0.05, 1.0});
  ASSERT_EQ(r.points.size(), 4u);  // steps 0, 100, 200, 300
  EXPECT_EQ(r.points.back().step, 300);
  ASSERT_EQ(r.settings.lr_sweep.size(), 2u);
  const LrTrial& a = r.settings.lr_sweep[0];
  const LrTrial& b = r.settings.lr_sweep[1];
  EXPECT_EQ(r.settings.lr, a.final_acc_baseline >= b.final_acc_baseline ? a.lr : b.lr);
  // The chosen run is the one reported.
  const LrTrial& chosen = r.settings.lr == a.lr ? a : b;
  EXPECT_DOUBLE_EQ(r.points.back().acc_baseline, chosen.final_acc_baseline);
  EXPECT_EQ(r.settings.train_size, 400);
  EXPECT_EQ(r.settings.test_size, 200);
  // The BN network learns the prototypes well above chance (10%) in 300 steps.
  EXPECT_GT(r.points.back().acc_bn, 0.5);
  for (const Fig1Point& p : r.points) {
    EXPECT_LE(p.input_bn.p15, p.input_bn.p50);
    EXPECT_LE(p.input_bn.p50, p.input_bn.p85);
  }
  EXPECT_DOUBLE_EQ(r.verdict.final_acc_bn, r.points.back().acc_bn);
}

// Every evaluation of both networks the same, bit for bit: accuracies and the probed inputs.
void expect_same_numbers(const Fig1Run& a, const Fig1Run& b) {
  EXPECT_EQ(a.settings.lr, b.settings.lr);
  ASSERT_EQ(a.points.size(), b.points.size());
  for (size_t i = 0; i < a.points.size(); ++i) {
    EXPECT_EQ(a.points[i].acc_bn, b.points[i].acc_bn);
    EXPECT_EQ(a.points[i].acc_baseline, b.points[i].acc_baseline);
    EXPECT_EQ(a.points[i].input_bn.p50, b.points[i].input_bn.p50);
    EXPECT_EQ(a.points[i].input_bn.p85, b.points[i].input_bn.p85);
    EXPECT_EQ(a.points[i].input_baseline.p50, b.points[i].input_baseline.p50);
    EXPECT_EQ(a.points[i].input_baseline.p85, b.points[i].input_baseline.p85);
  }
}

TEST(Fig1Run, SameSeedSameNumbers) {
  expect_same_numbers(run_small(small_settings(), {0.5}), run_small(small_settings(), {0.5}));
}

void expect_refused(Fig1Settings s, std::vector<double> lrs, const std::string& fragment) {
  try {
    run_small(s, std::move(lrs));
    FAIL() << "expected an error mentioning " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Fig1Run, TrainingNetworksConcurrentlyChangesNoNumber) {
  const Fig1Run one = run_small(small_settings(), {0.05, 1.0}, 1);
  const Fig1Run two = run_small(small_settings(), {0.05, 1.0}, 2);
  expect_same_numbers(one, two);
  // With two jobs BN is also trained at the rate not chosen; with one it is not.
  for (size_t i = 0; i < 2; ++i) EXPECT_GE(two.settings.lr_sweep[i].final_acc_bn, 0.0);
  const bool first_chosen = one.settings.lr == one.settings.lr_sweep[0].lr;
  EXPECT_LT(one.settings.lr_sweep[first_chosen ? 1 : 0].final_acc_bn, 0.0);
  EXPECT_DOUBLE_EQ(one.settings.lr_sweep[first_chosen ? 0 : 1].final_acc_bn,
                   one.points.back().acc_bn);
}

// --threads 2 --jobs 2: each concurrent training runs its own OpenMP and OpenBLAS threads; the
// numbers are those of the same trainings one after the other.
TEST(Fig1Run, ThreadedTrainingsRunConcurrentlyWithTheSameNumbers) {
  Fig1Settings s = small_settings();
  s.threads = 2;
  expect_same_numbers(run_small(s, {0.05, 1.0}, 1), run_small(s, {0.05, 1.0}, 2));
}

TEST(Fig1Run, RefusesBadSettings) {
  Fig1Settings s = small_settings();
  s.steps = 0;
  expect_refused(s, {0.1}, "steps must be positive");
  s = small_settings();
  s.batch = 401;
  expect_refused(s, {0.1}, "larger than the training set (400 images)");
  s = small_settings();
  s.probe_unit = 100;
  expect_refused(s, {0.1}, "probe unit");
  expect_refused(small_settings(), {0.1, -1.0}, "learning rates must be positive");
  expect_refused(small_settings(), {}, "no learning rate");
}

}  // namespace
}  // namespace bnorm::experiments
