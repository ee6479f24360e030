// Training checkpoints: the network's entries, then the optimizer's and the trainer's.
#include "optim/training_checkpoint.hpp"

#include "nn/checkpoint.hpp"

namespace bnorm::optim {
namespace {

nn::CheckpointExtras extras_of(ClassifierTrainer& trainer) {
  return {.buffers = trainer.optimizer().state(),
          .counters = {{.name = "trainer.steps_done",
                        .get = [&trainer] { return trainer.steps_done(); },
                        .set = [&trainer](int64_t n) { trainer.set_steps_done(n); }}}};
}

}  // namespace

void save_training_checkpoint(ClassifierTrainer& trainer, const std::string& path) {
  nn::save_checkpoint(trainer.net(), path, extras_of(trainer));
}

void load_training_checkpoint(ClassifierTrainer& trainer, const std::string& path) {
  nn::load_checkpoint(trainer.net(), path, extras_of(trainer));
}

}  // namespace bnorm::optim
