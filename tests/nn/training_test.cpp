// End to end on tiny synthetic data: training lowers the loss and evaluation reaches high
// accuracy, with and without BN; two runs with the same seed are bitwise equal (at 1 and 2
// threads); checkpoints round-trip and reject a different architecture, and a training run resumed
// from a training checkpoint continues bit for bit.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "bnorm/error.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/checkpoint.hpp"
#include "nn/mlp.hpp"
#include "nn/threads.hpp"
#include "nn_test_util.hpp"
#include "optim/classifier_trainer.hpp"
#include "optim/training_checkpoint.hpp"

namespace bnorm::nn {
namespace {

constexpr int64_t kFeatures = 12, kBatch = 16;

struct RunResult {
  std::vector<double> losses;
  std::vector<float> parameters;  // every parameter and buffer, concatenated
  optim::EvalResult eval;
};

RunResult train(BnPlacement bn, uint64_t seed, int64_t steps, const test::Blobs& data,
                double momentum = 0.9) {
  Mlp mlp(MlpOptions{.sizes = {kFeatures, 16, 16, 3},
                     .bn = bn,
                     .init = {.scheme = InitScheme::kXavierUniform},
                     .seed = seed});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = 0.2, .momentum = momentum});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::step(0.2, 150, 0.5),
                                   {.eval_batch = 37});
  RunResult r;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t start = (step * kBatch) % (data.count - kBatch);
    r.losses.push_back(trainer.train_step(
        std::span(data.x).subspan(static_cast<size_t>(start * kFeatures), kBatch * kFeatures),
        std::span(data.y).subspan(static_cast<size_t>(start), kBatch)));
  }
  r.eval = trainer.evaluate(data.x, data.y);
  for (const Parameter& p : mlp.net().parameters()) {
    r.parameters.insert(r.parameters.end(), p.value.begin(), p.value.end());
  }
  for (const Buffer& b : mlp.net().buffers()) {
    r.parameters.insert(r.parameters.end(), b.value.begin(), b.value.end());
  }
  return r;
}

double mean(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0.0;
  for (size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

class Training : public ::testing::TestWithParam<BnPlacement> {};

TEST_P(Training, LossFallsAndEvaluationIsAccurate) {
  const test::Blobs data = test::make_blobs(600, kFeatures, 3, 5);
  const RunResult r = train(GetParam(), 11, 300, data);
  const double first = r.losses[0], last = mean(r.losses, 290, 300);
  EXPECT_GT(first, 0.7);  // near log 3 = 1.10 before any step
  EXPECT_LT(last, 0.25) << "first " << first;
  EXPECT_LT(last, first / 4.0);
  EXPECT_EQ(r.eval.count, 600);
  EXPECT_GT(r.eval.accuracy, 0.9);
  EXPECT_LT(r.eval.loss, 0.3);
}

INSTANTIATE_TEST_SUITE_P(Placements, Training,
                         ::testing::Values(BnPlacement::kNone, BnPlacement::kBefore,
                                           BnPlacement::kAfter),
                         [](const auto& info) {
                           return info.param == BnPlacement::kNone     ? std::string("no_bn")
                                  : info.param == BnPlacement::kBefore ? std::string("bn_before")
                                                                       : std::string("bn_after");
                         });

TEST(Determinism, SameSeedSameThreadsGivesBitwiseEqualRuns) {
  const test::Blobs data = test::make_blobs(200, kFeatures, 3, 6);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const RunResult a = train(BnPlacement::kBefore, 3, 40, data);
    const RunResult b = train(BnPlacement::kBefore, 3, 40, data);
    ASSERT_EQ(a.parameters.size(), b.parameters.size());
    for (size_t i = 0; i < a.parameters.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(a.parameters[i]), std::bit_cast<uint32_t>(b.parameters[i]))
          << "threads " << threads << " index " << i;
    }
    EXPECT_EQ(a.losses, b.losses);
    const RunResult c = train(BnPlacement::kBefore, 4, 40, data);
    EXPECT_NE(a.parameters, c.parameters) << "a different seed must give a different run";
  }
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  EXPECT_THROW(set_num_threads(0), Error);
}

TEST(Checkpoint, RoundTripRestoresParametersAndRunningStatistics) {
  const test::Blobs data = test::make_blobs(200, kFeatures, 3, 7);
  Mlp trained(MlpOptions{.sizes = {kFeatures, 8, 3}, .bn = BnPlacement::kBefore, .seed = 1});
  optim::Sgd sgd(trained.net().parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::ClassifierTrainer trainer(trained.net(), sgd, optim::LrSchedule::constant(0.1));
  for (int step = 0; step < 5; ++step) {
    trainer.train_step(std::span(data.x).subspan(0, kBatch * kFeatures),
                       std::span(data.y).subspan(0, kBatch));
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / "bnorm_checkpoint_test.bin").string();
  save_checkpoint(trained.net(), path);

  Mlp restored(MlpOptions{.sizes = {kFeatures, 8, 3}, .bn = BnPlacement::kBefore, .seed = 2});
  load_checkpoint(restored.net(), path);
  auto pa = trained.net().parameters(), pb = restored.net().parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t k = 0; k < pa.size(); ++k) {
    ASSERT_TRUE(std::equal(pa[k].value.begin(), pa[k].value.end(), pb[k].value.begin()))
        << pa[k].name;
  }
  auto ba = trained.net().buffers(), bb = restored.net().buffers();
  ASSERT_EQ(ba.size(), 2u);
  for (size_t k = 0; k < ba.size(); ++k) {
    ASSERT_TRUE(std::equal(ba[k].value.begin(), ba[k].value.end(), bb[k].value.begin()))
        << ba[k].name;
  }
  EXPECT_EQ(static_cast<BatchNormLayer&>(restored.net().layer(1)).module().num_batches_tracked(),
            5);
  // Same eval outputs.
  const auto& ya =
      trained.net().forward(std::span(data.x).subspan(0, 40 * kFeatures), 40, Phase::kEval);
  const std::vector<float> logits_a(ya.span().begin(), ya.span().end());
  const auto& yb =
      restored.net().forward(std::span(data.x).subspan(0, 40 * kFeatures), 40, Phase::kEval);
  EXPECT_TRUE(std::equal(logits_a.begin(), logits_a.end(), yb.span().begin()));

  Mlp other(MlpOptions{.sizes = {kFeatures, 9, 3}, .bn = BnPlacement::kBefore, .seed = 1});
  EXPECT_THROW(load_checkpoint(other.net(), path), Error);
  Mlp no_bn(MlpOptions{.sizes = {kFeatures, 8, 3}, .seed = 1});
  EXPECT_THROW(load_checkpoint(no_bn.net(), path), Error);
  EXPECT_THROW(load_checkpoint(no_bn.net(), path + ".missing"), Error);
  std::filesystem::remove(path);
}

// Steps [first, last) of the run in train(): the same batches whoever runs them.
void run_steps(optim::ClassifierTrainer& trainer, const test::Blobs& data, int64_t first,
               int64_t last) {
  for (int64_t step = first; step < last; ++step) {
    const int64_t start = (step * kBatch) % (data.count - kBatch);
    trainer.train_step(std::span(data.x).subspan(start * kFeatures, kBatch * kFeatures),
                       std::span(data.y).subspan(start, kBatch));
  }
}

TEST(Checkpoint, ResumedTrainingContinuesBitForBit) {
  const test::Blobs data = test::make_blobs(200, kFeatures, 3, 7);
  const MlpOptions arch{.sizes = {kFeatures, 8, 3}, .bn = BnPlacement::kBefore, .seed = 1};
  // Momentum and a schedule that decays inside the resumed part: a resume that lost the momentum
  // buffers, the step count or num_batches_tracked would not reproduce the run.
  const optim::SgdOptions sgd_options{.lr = 0.1, .momentum = 0.9};
  const auto schedule = optim::LrSchedule::step(0.1, 7, 0.5);
  const std::string path =
      (std::filesystem::temp_directory_path() / "bnorm_training_checkpoint_test.bin").string();

  Mlp whole(arch);
  optim::Sgd whole_sgd(whole.net().parameters(), sgd_options);
  optim::ClassifierTrainer whole_trainer(whole.net(), whole_sgd, schedule);
  run_steps(whole_trainer, data, 0, 12);

  Mlp first(arch);
  optim::Sgd first_sgd(first.net().parameters(), sgd_options);
  optim::ClassifierTrainer first_trainer(first.net(), first_sgd, schedule);
  run_steps(first_trainer, data, 0, 5);
  optim::save_training_checkpoint(first_trainer, path);

  Mlp resumed(MlpOptions{.sizes = {kFeatures, 8, 3}, .bn = BnPlacement::kBefore, .seed = 2});
  optim::Sgd resumed_sgd(resumed.net().parameters(), sgd_options);
  optim::ClassifierTrainer resumed_trainer(resumed.net(), resumed_sgd, schedule);
  optim::load_training_checkpoint(resumed_trainer, path);
  EXPECT_EQ(resumed_trainer.steps_done(), 5);
  run_steps(resumed_trainer, data, 5, 12);

  auto pa = whole.net().parameters(), pb = resumed.net().parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t k = 0; k < pa.size(); ++k) {
    for (size_t i = 0; i < pa[k].value.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(pa[k].value[i]), std::bit_cast<uint32_t>(pb[k].value[i]))
          << pa[k].name << "[" << i << "]";
    }
  }
  auto ba = whole.net().buffers(), bb = resumed.net().buffers();
  for (size_t k = 0; k < ba.size(); ++k) {
    ASSERT_TRUE(std::equal(ba[k].value.begin(), ba[k].value.end(), bb[k].value.begin()))
        << ba[k].name;
  }
  EXPECT_EQ(static_cast<BatchNormLayer&>(resumed.net().layer(1)).module().num_batches_tracked(),
            12);

  // A training checkpoint is not a network-only one, nor the other way round.
  Mlp plain(arch);
  EXPECT_THROW(load_checkpoint(plain.net(), path), Error);
  save_checkpoint(plain.net(), path);
  EXPECT_THROW(optim::load_training_checkpoint(resumed_trainer, path), Error);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace bnorm::nn
