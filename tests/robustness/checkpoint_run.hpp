// The training run of the checkpoint tests: a BN MLP with momentum SGD and a decaying schedule
// on synthetic blobs, whose batch at step t depends only on t, so a resumed run sees the same data.
#pragma once

#include <span>

#include "nn/checkpoint.hpp"
#include "nn/mlp.hpp"
#include "nn_test_util.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::robustness {

struct CheckpointRun {
  static constexpr int64_t kFeatures = 32, kBatch = 16;
  nn::test::Blobs data = nn::test::make_blobs(256, kFeatures, 4, 7);
  nn::Mlp mlp{
      nn::MlpOptions{.sizes = {kFeatures, 64, 64, 4}, .bn = nn::BnPlacement::kBefore, .seed = 1}};
  optim::Sgd sgd{mlp.net().parameters(), optim::SgdOptions{.lr = 0.05, .momentum = 0.9}};
  optim::ClassifierTrainer trainer{mlp.net(), sgd, optim::LrSchedule::step(0.05, 50, 0.7)};

  void step() {
    const int64_t start = (trainer.steps_done() * kBatch) % (data.count - kBatch);
    trainer.train_step(std::span(data.x).subspan(start * kFeatures, kBatch * kFeatures),
                       std::span(data.y).subspan(start, kBatch));
  }
};

}  // namespace bnorm::robustness
