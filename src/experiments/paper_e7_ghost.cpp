// E7, Ghost BatchNorm (Hoffer, Hubara & Soudry 2017): at batch 1024, BN normalizing ghost batches
// of 32 separately against plain BN over the whole batch. The paper's MNIST MLP
// (784-100-100-100-10, sigmoid, N(0, 0.1^2) weights, BN before each sigmoid), the same epochs and
// the same learning rate for both arms (0.5 at batch 60 scaled by sqrt(1024 / 60), Hoffer et al.'s
// rule), seeds 1-3. Verdict (claims.hpp, GhostVerdict) on the paired per-seed final test
// accuracies.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/run_tasks.hpp"
#include "experiments/training_loop.hpp"
#include "nn/mlp.hpp"
#include "nn/threads.hpp"

namespace bnorm::experiments {
namespace {

constexpr int64_t kBatch = 1024, kGhostBatch = 32;
constexpr double kLrAtBatch60 = 0.5, kSigma = 0.1;
constexpr int64_t kQuickEpochs = 15, kFullEpochs = 75;
constexpr int64_t kEvaluations = 20;  // after step 0, plus one at the end

double learning_rate() { return kLrAtBatch60 * std::sqrt(static_cast<double>(kBatch) / 60.0); }

struct Arm {
  const char* name;
  const char* key;      // CSV column value
  int64_t ghost_batch;  // 0: plain BN over the whole batch
};
constexpr Arm kArms[] = {{"BN (batch 1024)", "plain", 0},
                         {"Ghost BN (ghost batches of 32)", "ghost", kGhostBatch}};

struct Run {
  Curve curve;
  std::vector<double> train_loss;  // per evaluation: mean training loss since the previous one
};

Run train_arm(const Arm& arm, int seed, int64_t steps, const PaperSettings& s, bool concurrent,
              const data::Dataset& train, const data::Dataset& test) {
  nn::set_num_threads(s.threads);  // per thread: OpenMP's thread count is a per-thread setting
  nn::Mlp mlp({.sizes = {train.features, 100, 100, 100, data::kNumClasses},
               .activation = nn::Nonlinearity::kSigmoid,
               .bn = nn::BnPlacement::kBefore,
               .init = {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma},
               .seed = static_cast<uint64_t>(seed),
               .bn_normalization = arm.ghost_batch > 0 ? nn::Normalization::ghost(arm.ghost_batch)
                                                       : nn::Normalization::plain()});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = learning_rate()});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::constant(learning_rate()),
                                   {.eval_batch = 500});
  Run run{.curve = {.name = arm.name}};
  run.curve.diverged_at = run_training_loop(
      trainer, train,
      {.steps = steps,
       .batch = kBatch,
       .eval_every = std::max<int64_t>(1, steps / kEvaluations),
       .seed = static_cast<uint64_t>(seed),
       .show_progress = s.show_progress,
       .label = std::string("E7 ") + arm.key + " seed " + std::to_string(seed),
       .plain_progress = concurrent},
      [&](const EvalPoint& at) {
        run.curve.steps.push_back(at.step);
        run.curve.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
        run.train_loss.push_back(at.mean_loss);
        return run.curve.acc.back();
      });
  return run;
}

// Mean of the last kFinalEvals accuracies after step 0 (0 for a diverged run).
double final_of(const Curve& c) {
  if (c.diverged_at >= 0 || c.acc.size() < 2) return 0.0;
  const size_t n = std::min<size_t>(GhostVerdict::kFinalEvals, c.acc.size() - 1);
  double sum = 0;
  for (size_t i = c.acc.size() - n; i < c.acc.size(); ++i) sum += c.acc[i];
  return sum / static_cast<double>(n);
}

// The seed mean of the training loss at each evaluation (step 0 has none), as a plot series.
report::Series loss_series(const std::vector<Run>& runs, const char* label) {
  report::Series series{.label = label};
  const Run& first = runs.front();
  for (size_t i = 1; i < first.curve.steps.size(); ++i) {
    double sum = 0;
    for (const Run& r : runs) sum += i < r.train_loss.size() ? r.train_loss[i] : NAN;
    series.x.push_back(static_cast<double>(first.curve.steps[i]));
    series.y.push_back(sum / static_cast<double>(runs.size()));
  }
  return series;
}

std::string diffs_text(const GhostVerdict& v) {
  std::string text;
  for (size_t k = 0; k < v.diff_pp.size(); ++k)
    text += (k ? ", " : "") + fmt("%+.2f", v.diff_pp[k]);
  text = "per seed " + text + " pp";
  if (std::isfinite(v.ci_low_pp))
    text += ", 95% t-interval [" + fmt("%+.2f", v.ci_low_pp) + ", " + fmt("%+.2f", v.ci_high_pp) +
            "] pp";
  return text;
}

}  // namespace

ExperimentResult run_e7_ghost(const PaperSettings& s, const data::Dataset& train,
                              const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  require(train.count >= kBatch, "E7",
          "expected at least " + std::to_string(kBatch) + " training images for batches of " +
              std::to_string(kBatch) + ", got " + std::to_string(train.count));
  const int64_t epochs = s.quick ? kQuickEpochs : kFullEpochs;
  const int64_t default_steps = (epochs * train.count + kBatch - 1) / kBatch;
  const int64_t steps = steps_for(s, default_steps, default_steps);
  const int seeds = seeds_for(s, s.quick ? 1 : 3);
  const data::Dataset test = head(test_all, s.test_limit);

  // runs[arm][seed]
  std::vector<std::vector<Run>> runs(2, std::vector<Run>(static_cast<size_t>(seeds)));
  const bool concurrent = s.jobs > 1;
  std::mutex print_mutex;
  run_tasks(2 * static_cast<size_t>(seeds), s.jobs, [&](size_t task) {
    const size_t arm = task / static_cast<size_t>(seeds), si = task % static_cast<size_t>(seeds);
    Run run = train_arm(kArms[arm], static_cast<int>(si) + 1, steps, s, concurrent, train, test);
    if (s.show_progress && concurrent) {
      const std::lock_guard<std::mutex> lock(print_mutex);
      std::fprintf(stderr, "E7 %s seed %zu: final test acc %.2f%%%s\n", kArms[arm].name, si + 1,
                   100 * final_of(run.curve), run.curve.diverged_at >= 0 ? " (diverged)" : "");
    }
    runs[arm][si] = std::move(run);
  });

  ExperimentResult r{.id = "E7",
                     .title = "E7: Ghost BatchNorm at batch 1024 (Hoffer et al. 2017)",
                     .csv_name = "e7_ghost.csv"};
  std::ostringstream csv;
  csv << "model,ghost_batch,seed,step,test_acc,train_loss,final_acc,diverged_at\n";
  report::Plot acc_plot{.title = "E7: test accuracy against steps (seed mean)",
                        .x_label = "training step (batch 1024)",
                        .y_label = "test accuracy",
                        .y_min = 0.0,
                        .y_max = 1.0,
                        .zoom_late_values = true};
  report::Plot loss_plot{.title = "E7: training loss against steps (seed mean)",
                         .x_label = "training step (batch 1024)",
                         .y_label = "mean training loss since the previous evaluation",
                         .y_min = 0.0};
  std::vector<double> finals[2];
  std::string table;
  for (size_t arm = 0; arm < 2; ++arm) {
    std::vector<Curve> curves;
    for (size_t si = 0; si < runs[arm].size(); ++si) {
      const Run& run = runs[arm][si];
      const Curve& c = run.curve;
      finals[arm].push_back(final_of(c));
      curves.push_back(c);
      for (size_t i = 0; i < c.steps.size(); ++i)
        csv << kArms[arm].key << ',' << kArms[arm].ghost_batch << ',' << si + 1 << ',' << c.steps[i]
            << ',' << c.acc[i] << ',' << run.train_loss[i] << ',' << finals[arm].back() << ','
            << c.diverged_at << '\n';
    }
    acc_plot.series.push_back(accuracy_series(mean_curve(curves), kArms[arm].name));
    loss_plot.series.push_back(loss_series(runs[arm], kArms[arm].name));
    table += std::string(arm ? "; " : "") + kArms[arm].name + " " +
             format_accuracy(spread_of(finals[arm]), seeds);
  }
  r.csv = csv.str();
  r.plots.push_back(std::move(acc_plot));
  r.plots.push_back(std::move(loss_plot));
  const GhostVerdict v = judge_ghost(finals[0], finals[1]);

  r.notes.push_back(
      "784-100-100-100-10 sigmoid MLP, weights N(0, 0.1^2), BN before each sigmoid (the preceding "
      "bias dropped, momentum 0.1); plain SGD at a constant lr " +
      fmt("%.3f", learning_rate()) + " = 0.5 x sqrt(1024/60) for both arms; batch 1024, " +
      std::to_string(steps) + " steps (" +
      fmt("%.1f", static_cast<double>(steps * kBatch) / static_cast<double>(train.count)) +
      " epochs of " + std::to_string(train.count) + " " + train.name +
      " images); ghost batches of " + std::to_string(kGhostBatch) +
      " in every BN layer of the ghost arm; " + std::to_string(seeds) +
      " seed(s), each the same initial weights and batches for both arms; " + "test set of " +
      std::to_string(test.count) +
      " images. Final accuracy: mean of the last 5 evaluations; below, mean +- sd over seeds.");
  r.notes.push_back("Final accuracies: " + table + ". Ghost - plain: " + diffs_text(v) + ".");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E7",
      .claim = "at a large batch, normalizing small ghost batches generalizes better than BN over "
               "the whole batch",
      .measured = "final test accuracy: ghost BN " + fmt("%.2f%%", 100 * v.final_ghost) +
                  ", plain BN " + fmt("%.2f%%", 100 * v.final_plain) + " (ghost - plain " +
                  fmt("%+.2f pp", v.gain_pp) + "; " + diffs_text(v) + ")",
      .threshold = "ghost BN (batch 1024, ghost 32) >= plain BN at 1024 + " +
                   fmt("%.1f", GhostVerdict::kMinGainPp) +
                   " pp (seed mean of the paired differences)",
      .reproduced = v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
