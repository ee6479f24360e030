// Test-accuracy curves of the paper experiments: training one network into a Curve (on the
// experiments' training loop, with an exponentially decaying learning rate), the mean over seeds,
// and the curve as a plot series.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bnorm/communicator.hpp"
#include "data/dataset.hpp"
#include "experiments/claims.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"
#include "report/svg_plot.hpp"

namespace bnorm::experiments {

// How one network is trained: SGD with an exponentially decaying learning rate
// lr(t) = lr * decay_over_run^(t / steps), evaluated every eval_every steps and at the end.
struct TrainSpec {
  int64_t steps = 1000;
  int64_t batch = 60;
  int64_t eval_every = 100;
  optim::SgdOptions sgd;
  double decay_over_run = 1.0;  // in (0, 1]: factor the learning rate falls by over the run
  uint64_t seed = 1;            // batch order
  int64_t eval_batch = 500;
  bool show_progress = true;
  // Data parallel over these ranks: net's BN layers synchronize, and each rank trains on its shard
  // of every batch (the same curve on every rank). nullptr: one process.
  Communicator* comm = nullptr;
};

// Trains net on train and records test accuracy at step 0, every eval_every steps and at the end.
// A non-finite training loss stops the run: curve.diverged_at is that step and the curve ends at
// the last evaluation before it. Throws bnorm::Error on invalid settings.
Curve train_curve(const std::string& name, nn::Sequential& net, const TrainSpec& spec,
                  const data::Dataset& train, const data::Dataset& test);

// Pointwise mean of runs of one model over seeds. A diverged run counts as 0 accuracy from its
// divergence on, and the mean's diverged_at is the earliest divergence (-1 if none diverged).
Curve mean_curve(const std::vector<Curve>& runs);

// Evaluation interval for ten evaluations over a run of `steps` (at least every step).
int64_t tenth_of_run(int64_t steps);

// The curve's test accuracy against training steps, as a plot series with this label.
report::Series accuracy_series(const Curve& curve, std::string label);

}  // namespace bnorm::experiments
