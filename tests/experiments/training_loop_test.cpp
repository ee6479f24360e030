// The experiments' training loop: the evaluation cadence, the mean loss handed to each evaluation,
// both ways of treating divergence, the same batches from the same seed, and bad settings.
#include "experiments/training_loop.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "bnorm/error.hpp"
#include "nn/mlp.hpp"

namespace bnorm::experiments {
namespace {

// Two Gaussian blobs in 4 dimensions, labels 0 and 1.
data::Dataset blobs(int64_t count) {
  std::mt19937_64 rng(7);
  std::normal_distribution<float> noise(0.0f, 0.5f);
  data::Dataset d{.name = "blobs", .count = count, .features = 4};
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int32_t>(i % 2);
    d.labels.push_back(label);
    for (int f = 0; f < 4; ++f) d.images.push_back((label ? 1.0f : -1.0f) + noise(rng));
  }
  return d;
}

struct LoopRun {
  std::vector<EvalPoint> points;
  int64_t diverged_at = -1;
  std::vector<float> weights;  // the first Linear layer's, after training
};

LoopRun train(double lr, const TrainingLoop& loop, const data::Dataset& d) {
  nn::Mlp mlp = nn::build_mlp({4, 8, 2}, nn::Nonlinearity::kReLU, nn::BnPlacement::kNone, 3,
                              {.scheme = nn::InitScheme::kGaussian, .sigma = 0.5});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = lr});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::constant(lr));
  LoopRun run;
  run.diverged_at = run_training_loop(trainer, d, loop, [&](const EvalPoint& at) {
    run.points.push_back(at);
    return 0.5;
  });
  const auto w = mlp.net().layer(0).parameters().front().value;
  run.weights.assign(w.begin(), w.end());
  return run;
}

TEST(TrainingLoop, EvaluatesAtZeroEveryIntervalAndTheEndWithTheMeanLossSince) {
  const data::Dataset d = blobs(40);
  const LoopRun run = train(0.1, {.steps = 7, .batch = 8, .eval_every = 3}, d);
  ASSERT_EQ(run.points.size(), 4u);
  const int64_t expected_steps[] = {0, 3, 6, 7};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(run.points[i].step, expected_steps[i]);
    EXPECT_FALSE(run.points[i].diverged);
  }
  EXPECT_TRUE(std::isnan(run.points[0].mean_loss));  // no step before the first evaluation
  for (size_t i = 1; i < 4; ++i) EXPECT_GT(run.points[i].mean_loss, 0.0);
  EXPECT_EQ(run.diverged_at, -1);
}

TEST(TrainingLoop, SameSeedSameBatchesOtherSeedOtherBatches) {
  const data::Dataset d = blobs(40);
  const LoopRun a = train(0.5, {.steps = 6, .batch = 8, .eval_every = 2, .seed = 1}, d);
  const LoopRun b = train(0.5, {.steps = 6, .batch = 8, .eval_every = 2, .seed = 1}, d);
  const LoopRun c = train(0.5, {.steps = 6, .batch = 8, .eval_every = 2, .seed = 2}, d);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_NE(a.weights, c.weights);
}

// lr 1e38 overflows the weights within a few steps and the loss becomes NaN.
TEST(TrainingLoop, DivergenceStopsTheRunOrKeepsTheCadence) {
  const data::Dataset d = blobs(40);
  const LoopRun stopped = train(1e38, {.steps = 20, .batch = 8, .eval_every = 2}, d);
  ASSERT_GT(stopped.diverged_at, 0);
  EXPECT_LT(stopped.points.back().step, stopped.diverged_at);
  for (const EvalPoint& p : stopped.points) EXPECT_FALSE(p.diverged);

  const LoopRun kept =
      train(1e38, {.steps = 20, .batch = 8, .eval_every = 2, .stop_at_divergence = false}, d);
  EXPECT_EQ(kept.diverged_at, stopped.diverged_at);
  ASSERT_EQ(kept.points.size(), 11u);  // 0, 2, ..., 20
  for (const EvalPoint& p : kept.points) EXPECT_EQ(p.diverged, p.step >= kept.diverged_at);
}

TEST(TrainingLoop, RejectsSettingsOutsideTheirRanges) {
  const data::Dataset d = blobs(10);
  EXPECT_THROW(train(0.1, {.steps = 0, .batch = 4, .eval_every = 1}, d), Error);
  EXPECT_THROW(train(0.1, {.steps = 5, .batch = 4, .eval_every = 0}, d), Error);
  EXPECT_THROW(train(0.1, {.steps = 5, .batch = 1, .eval_every = 1}, d), Error);
  EXPECT_THROW(train(0.1, {.steps = 5, .batch = 11, .eval_every = 1}, d), Error);
}

}  // namespace
}  // namespace bnorm::experiments
