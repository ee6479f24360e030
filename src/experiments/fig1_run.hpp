// Runs experiment E1 (Figure 1 of the paper): the 784-100-100-100-10 sigmoid network trained with
// and without BN on every hidden layer, from the same initialization and on the same batches,
// evaluated every `eval_every` steps. When more than one learning rate is given, the baseline is
// trained at each and both networks use the one where the baseline did best (PAPER.md, E1).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "bnorm/communicator.hpp"
#include "data/dataset.hpp"
#include "experiments/fig1_output.hpp"

namespace bnorm::experiments {

// What train_fig1 needs besides Fig1Settings (whose lr field it fills in).
struct Fig1Plan {
  std::vector<double> lr_candidates;  // one: used as is; several: the baseline's best is chosen
  bool show_progress = true;          // a progress line per network on stderr
  // Networks trained at once, each on its own thread with settings.threads threads inside.
  // With jobs > 1 and several candidates, BN is trained at every candidate too (its final
  // accuracy is reported beside the baseline's), which costs no extra wall time on 2 cores.
  // The numbers do not depend on jobs: each network is trained alone on its thread.
  int jobs = 1;
  // Data-parallel training over these ranks (nullptr: one process): every rank runs run_fig1 with
  // the same arguments, trains on its shard of each batch and takes the same SGD steps; the
  // networks are trained one after another (jobs is ignored) and only rank 0 shows progress.
  // Every rank evaluates (inference needs no communication) and returns the same run.
  Communicator* comm = nullptr;
  // With comm: BatchNorm normalizes with the global batch's statistics (SyncBatchNorm); false:
  // each rank's own shard (per-rank running statistics; rank 0's choose the learning rate).
  bool sync_bn = true;
};

// One network's record over training: one entry per evaluation (step 0 included).
struct Fig1Track {
  std::vector<int64_t> steps;
  std::vector<double> accuracy, loss;  // a diverged network: accuracy 0 and loss NaN from then on
  std::vector<Percentiles> input;      // the probed unit's sigmoid input over the probe set
  int64_t diverged_at = -1;            // first step whose training loss was not finite
};

// Trains one network of Figure 1 (with or without BN) at this lr with settings.seed's
// initialization and batch order, on settings.threads threads. The data is used as given (no
// binarization here); probe holds the images the probed unit is followed on. `interactive`: a
// redrawn progress bar, else plain lines (concurrent trainings share stderr). bnorm paper E1
// trains its seeds with it; the settings are validated by the caller.
Fig1Track train_fig1_network(const Fig1Settings& s, const Fig1Plan& plan, double lr, bool with_bn,
                             const data::Dataset& train, const data::Dataset& test,
                             std::span<const float> probe, bool interactive);

// Trains and judges. train and test must hold the same number of features (784 for the paper's
// network); settings.binarize is applied here, to the training batches, the probe set and the
// test set alike. Throws bnorm::Error on invalid settings (non-positive steps, batch, eval cadence
// or sigma; a batch larger than the training set; a probe unit outside the last hidden layer).
Fig1Run run_fig1(Fig1Settings settings, const Fig1Plan& plan, data::Dataset train,
                 data::Dataset test);

}  // namespace bnorm::experiments
