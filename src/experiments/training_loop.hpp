// The one training loop of the experiments (fig1 and every `bnorm paper` run): SGD steps on
// shuffled minibatches through a ClassifierTrainer, an evaluation at step 0, every eval_every steps
// and at the end, a progress line, and a non-finite training loss recorded as divergence (the
// step it happened) instead of an error. With a data-parallel trainer (TrainerOptions::comm) every
// rank draws the same batches and trains on its shard of each.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "data/dataset.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {

struct TrainingLoop {
  int64_t steps = 0;       // > 0
  int64_t batch = 0;       // in [2, train.count]
  int64_t eval_every = 0;  // > 0
  uint64_t seed = 1;       // batch order: the same seed gives the same batches in the same order
  // After a non-finite loss, stop (the evaluations end before that step), or keep the evaluation
  // cadence without training, so that runs compared point by point have the same steps.
  bool stop_at_divergence = true;
  bool show_progress = false;
  std::string label = "train";  // the progress line's label
  bool plain_progress = false;  // plain lines even on a terminal (concurrent runs share stderr)
};

// What the evaluation callback is told.
struct EvalPoint {
  int64_t step = 0;
  double mean_loss = 0;   // mean training loss since the previous evaluation; NaN when none
  bool diverged = false;  // training stopped at an earlier non-finite loss (stop_at_divergence off)
};

// Runs the loop. on_eval records what its caller wants at each evaluation and returns the test
// accuracy in [0, 1] shown on the progress line. Returns the first step whose training loss was not
// finite, or -1. Throws bnorm::Error on settings outside the ranges above.
int64_t run_training_loop(optim::ClassifierTrainer& trainer, const data::Dataset& train,
                          const TrainingLoop& loop,
                          const std::function<double(const EvalPoint&)>& on_eval);

}  // namespace bnorm::experiments
