// End to end on tiny synthetic data: training lowers the loss and evaluation reaches high
// accuracy, with and without BN; two runs with the same seed are bitwise equal (at 1 and 2
// threads); checkpoints round-trip and reject a different architecture.
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

}  // namespace
}  // namespace bnorm::nn
