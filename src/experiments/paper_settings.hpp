// The settings of `bnorm paper` and how an experiment resolves them: steps and seeds (the
// command's value, else the experiment's quick or full default), the test-set limit, and the
// "[paper <id>]" error for settings an experiment cannot use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bnorm/communicator.hpp"
#include "data/dataset.hpp"

namespace bnorm::experiments {

struct PaperSettings {
  bool quick = false;         // the short form (a few minutes per experiment on 2 cores)
  int seeds = 0;              // runs per model with seeds 1..seeds; 0: the experiment's default
  int threads = 1;            // OpenMP and OpenBLAS threads
  int jobs = 1;               // E3: trainings run at once, each on `threads` threads
  std::vector<double> lrs;    // E2's learning rates; empty: 0.01 x sqrt(10)^k, k = 0..7
  int64_t steps = 0;          // training steps per run; 0: the experiment's default
  int64_t batch = 60;         // examples per step
  int64_t test_limit = 0;     // > 0: evaluate on the first test_limit test images only
  bool show_progress = true;  // a line per run on stderr
  // Data-parallel training over these ranks (under mpirun; paper_data_parallel experiments only):
  // every run trains on each rank's shard of every batch with synchronized BN, one run at a time.
  Communicator* comm = nullptr;
};

// Steps for the run: settings.steps when set, else quick or full.
int64_t steps_for(const PaperSettings& s, int64_t quick, int64_t full);
// Seeds for the run: settings.seeds when set, else the experiment's default.
int seeds_for(const PaperSettings& s, int fallback);

// The first `limit` images of a dataset (all of it when limit <= 0 or larger than the set).
data::Dataset head(const data::Dataset& d, int64_t limit);

// Throws bnorm::Error prefixed with [paper <id>] unless ok.
void require(bool ok, const std::string& id, const std::string& what);

}  // namespace bnorm::experiments
