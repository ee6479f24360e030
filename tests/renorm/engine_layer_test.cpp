// The training engine's BN layers with Batch Renorm and Ghost BN: each normalization trains a
// small MLP on synthetic blobs, the layers compute what the library modules compute, the renorm
// schedule follows the layer's steps, and what the engine cannot do (synchronized renorm) throws.
#include <gtest/gtest.h>

#include <bnorm/batch_renorm.hpp>
#include <bnorm/ghost_batch_norm.hpp>
#include <string>

#include "bnorm/thread_communicator.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/conv/channel_batch_norm_layer.hpp"
#include "nn/mlp.hpp"
#include "nn_test_util.hpp"
#include "optim/classifier_trainer.hpp"
#include "test_util.hpp"

namespace bnorm::nn {
namespace {

constexpr int64_t kFeatures = 12, kBatch = 16;

Normalization normalization_for(Normalization::Kind kind) {
  switch (kind) {
    case Normalization::Kind::kRenorm:  // relaxed quickly, so the limits matter within the run
      return Normalization::batch_renorm(
          {.warmup_steps = 20, .rmax_final_step = 100, .dmax_final_step = 60});
    case Normalization::Kind::kGhost:
      return Normalization::ghost(4);
    case Normalization::Kind::kPlain:
      break;
  }
  return Normalization::plain();
}

class EngineTraining : public testing::TestWithParam<Normalization::Kind> {};

TEST_P(EngineTraining, LossFallsAndEvaluationIsAccurate) {
  const test::Blobs data = test::make_blobs(600, kFeatures, 3, 5);
  Mlp mlp(MlpOptions{.sizes = {kFeatures, 16, 16, 3},
                     .bn = BnPlacement::kBefore,
                     .init = {.scheme = InitScheme::kXavierUniform},
                     .seed = 11,
                     .bn_momentum = 0.05,
                     .bn_normalization = normalization_for(GetParam())});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = 0.2, .momentum = 0.9});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::step(0.2, 150, 0.5),
                                   {.eval_batch = 37});
  constexpr int64_t kSteps = 300;
  std::vector<double> losses;
  for (int64_t step = 0; step < kSteps; ++step) {
    const int64_t start = (step * kBatch) % (data.count - kBatch);
    losses.push_back(trainer.train_step(
        std::span(data.x).subspan(static_cast<size_t>(start * kFeatures), kBatch * kFeatures),
        std::span(data.y).subspan(static_cast<size_t>(start), kBatch)));
  }
  double last = 0.0;
  for (int64_t i = kSteps - 10; i < kSteps; ++i) last += losses[static_cast<size_t>(i)] / 10;
  EXPECT_GT(losses[0], 0.7);
  EXPECT_LT(last, 0.25) << "first " << losses[0];
  const optim::EvalResult eval = trainer.evaluate(data.x, data.y);
  EXPECT_GT(eval.accuracy, 0.9);

  auto& bn = static_cast<BatchNormLayer&>(mlp.net().layer(mlp.pre_activation_index(0)));
  EXPECT_EQ(bn.normalization().kind, GetParam());
  // Steps counted per batch, or per ghost batch (4 of 16 samples).
  EXPECT_EQ(bn.module().num_batches_tracked(),
            GetParam() == Normalization::Kind::kGhost ? 4 * kSteps : kSteps);
}

INSTANTIATE_TEST_SUITE_P(Kinds, EngineTraining,
                         testing::Values(Normalization::Kind::kPlain, Normalization::Kind::kRenorm,
                                         Normalization::Kind::kGhost),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// The layer's training forward and backward are the library module's, on the same data.
TEST(EngineLayers, RenormLayerComputesBatchRenorm) {
  const RenormSchedule schedule{.warmup_steps = 0, .rmax_final_step = 1, .dmax_final_step = 1};
  BatchNormLayer layer({.num_features = 3, .momentum = 0.01},
                       Normalization::batch_renorm(schedule));
  BatchRenorm<float> ref({.num_features = 3, .momentum = 0.01, .layout = Layout::kNC},
                         {.schedule = schedule});
  const auto x0 = bnorm::test::random_vector<float>(15, 3, 1.0, 2.0);
  const auto dy0 = bnorm::test::random_vector<float>(15, 4);
  Tensor in({5, 3}), out({5, 3}), dout({5, 3}), din({5, 3});
  std::copy(x0.begin(), x0.end(), in.data());
  std::copy(dy0.begin(), dy0.end(), dout.data());
  std::vector<float> y(15), dx(15);
  for (int step = 0; step < 3; ++step) {  // from the second step on, r and d are not 1 and 0
    layer.forward(in, out, Phase::kTrain);
    layer.backward(in, out, dout, &din);
    ref.forward(x0, {{5, 3}, Layout::kNC}, y, Mode::kTrain);
    ref.backward(x0, dy0, dx);
  }
  EXPECT_NE(ref.last_r()[0], 1.0);
  bnorm::test::expect_close<float, float>(out.span(), y, 0, 0, "y");
  bnorm::test::expect_close<float, float>(din.span(), dx, 0, 0, "dx");
  bnorm::test::expect_close<float, float>(layer.module().running_var(), ref.running_var(), 0, 0,
                                          "var");
}

TEST(EngineLayers, GhostChannelLayerComputesGhostBatchNorm) {
  const ImageShape shape{.c = 2, .h = 3, .w = 2};
  ChannelBatchNormLayer layer(shape, {}, Normalization::ghost(3));
  GhostBatchNorm<float> ref({.num_features = 2}, 3);
  const auto x0 = bnorm::test::random_vector<float>(7 * 12, 5);
  const auto dy0 = bnorm::test::random_vector<float>(7 * 12, 6);
  Tensor in({7, 12}), out({7, 12}), dout({7, 12}), din({7, 12});
  std::copy(x0.begin(), x0.end(), in.data());
  std::copy(dy0.begin(), dy0.end(), dout.data());
  std::vector<float> y(x0.size()), dx(x0.size());
  layer.forward(in, out, Phase::kTrain);
  layer.backward(in, out, dout, &din);
  ref.forward(x0, layer.desc(7), y, Mode::kTrain);
  ref.backward(x0, dy0, dx);
  bnorm::test::expect_close<float, float>(out.span(), y, 0, 0, "y");
  bnorm::test::expect_close<float, float>(din.span(), dx, 0, 0, "dx");
  EXPECT_EQ(layer.module().num_batches_tracked(), 3);
}

TEST(EngineLayers, SynchronizingRenormOrGhostThrows) {
  ThreadGroup group(1);
  BatchNormLayer renorm({.num_features = 2}, Normalization::batch_renorm({}));
  BatchNormLayer ghost({.num_features = 2}, Normalization::ghost(2));
  for (BatchNormLayer* layer : {&renorm, &ghost}) {
    const std::string m =
        bnorm::test::error_message_of([&] { layer->synchronize(group.communicator(0)); });
    EXPECT_NE(m.find("[BatchNormModule::synchronize] expected a plain BatchNorm"),
              std::string::npos)
        << m;
  }
}

}  // namespace
}  // namespace bnorm::nn
