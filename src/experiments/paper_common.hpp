// What the experiments of `bnorm paper` (E2, E3, E4, E5, E9, E11) share: their settings, the
// result each hands to the command (claim rows, a CSV, plots and notes for the HTML report), and
// one training loop that records a test-accuracy curve and turns a NaN loss into "diverged at
// step k" instead of an error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "experiments/claims.hpp"
#include "nn/sequential.hpp"
#include "optim/sgd.hpp"
#include "report/svg_plot.hpp"

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
};

// One experiment's output.
struct ExperimentResult {
  std::string id;                   // "E2"
  std::string title;                // the report section's heading
  std::vector<ClaimResult> claims;  // rows of summary.json
  std::string csv_name;             // "e2_lr_sweep.csv"
  std::string csv;                  // its text, header line first
  std::vector<report::Plot> plots;
  std::vector<std::string> notes;  // paragraphs for the report: setup and findings
  double wall_seconds = 0;
};

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

// Mean and sample standard deviation (0 for one value).
struct Spread {
  double mean = 0, sd = 0, min = 0, max = 0;
};
Spread spread_of(const std::vector<double>& values);

// "83.10% +- 0.40 (n=3)"; for accuracies in [0, 1], shown in percent.
std::string format_accuracy(const Spread& s, int n);

// The first `limit` images of a dataset (all of it when limit <= 0 or larger than the set).
data::Dataset head(const data::Dataset& d, int64_t limit);

// Steps for the run: settings.steps when set, else quick or full.
int64_t steps_for(const PaperSettings& s, int64_t quick, int64_t full);
// Seeds for the run: settings.seeds when set, else the experiment's default.
int seeds_for(const PaperSettings& s, int fallback);

// Throws bnorm::Error prefixed with [paper <id>] unless ok.
void require(bool ok, const std::string& id, const std::string& what);

// A printf-style number: fmt("%.2f", x).
std::string fmt(const char* format, double value);

// How far a model's accuracy is from a reference's, given reference - model in percentage
// points: "2.42 pp below" for 2.42, "2.42 pp above" for -2.42.
std::string gap_text(double reference_minus_model_pp);

}  // namespace bnorm::experiments
