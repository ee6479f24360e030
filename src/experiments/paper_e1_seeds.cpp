// E1, Figure 1 over seeds (PAPER.md, rules fixed before any run): the paper's MNIST network
// (784-100-100-100-10 sigmoid, binary inputs, N(0, 0.1^2) init, batches of 60) with and without BN,
// in two configurations: (A) plain SGD, the paper's text, and (B) momentum 0.9. In each, the
// baseline is trained at every candidate learning rate with the selection seeds; the rate where its
// mean final accuracy is best is kept, and both networks train there with every seed (the
// baseline's selection runs are reused). judge_fig1_seeds decides on the seed-mean curves.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "data/binarize.hpp"
#include "experiments/fig1_run.hpp"
#include "experiments/paper_e1_report.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/run_tasks.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kInitSigma = 0.1;
constexpr int kSeeds = 5, kSelectionSeeds = 3;
constexpr int64_t kQuickSteps = 3000, kFullSteps = 50000;
constexpr int64_t kEvaluations = 100;  // per run, plus step 0 (fig1: every 500 of 50,000 steps)
constexpr int64_t kProbeSize = 1000;   // fig1's default: the first 1,000 training images
const std::vector<double> kLrCandidates{0.1, 0.3, 1.0};

// One training: configuration, candidate rate (indices), with BN, seed (1-based).
using RunKey = std::tuple<size_t, size_t, bool, int>;

Fig1Settings network_settings(const PaperSettings& s, int64_t steps, double momentum,
                              int64_t probe_size, int seed) {
  return {.steps = steps,
          .batch = s.batch,
          .eval_every = std::max<int64_t>(1, steps / kEvaluations),
          .momentum = momentum,
          .init_sigma = kInitSigma,
          .seed = static_cast<uint64_t>(seed),
          .threads = s.threads,
          .binarize = true,
          .probe_unit = 0,
          .probe_size = probe_size};
}

// The learning rates to choose from: PAPER.md's, or the command's --lr list.
std::vector<double> candidates(const PaperSettings& s) {
  const std::vector<double>& lrs = s.lrs.empty() ? kLrCandidates : s.lrs;
  for (double lr : lrs)
    require(lr > 0 && std::isfinite(lr), "E1",
            "learning rates must be positive and finite, got " + std::to_string(lr));
  return lrs;
}

}  // namespace

ExperimentResult run_e1_seeds(const PaperSettings& s, const data::Dataset& train_in,
                              const data::Dataset& test_in) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, kQuickSteps, kFullSteps);
  const int seeds = seeds_for(s, kSeeds);
  const int selection_seeds = std::min(seeds, kSelectionSeeds);
  const std::vector<double> lrs = candidates(s);
  require(s.batch <= train_in.count, "E1",
          "batch must be at most the training set's " + std::to_string(train_in.count) +
              " images, got " + std::to_string(s.batch));
  require(train_in.features == test_in.features && test_in.count > 0, "E1",
          "training and test sets must have the same number of features and a test image");
  // The paper's inputs are binary images (Section 4.1), as in bnorm fig1.
  data::Dataset train = train_in, test = head(test_in, s.test_limit);
  data::binarize(train);
  data::binarize(test);
  const int64_t probe_size = std::min(kProbeSize, train.count);
  const std::span<const float> probe(train.images.data(),
                                     static_cast<size_t>(probe_size * train.features));

  const std::vector<E1Config> configs{{.key = "A", .name = "plain SGD", .momentum = 0.0},
                                      {.key = "B", .name = "momentum 0.9", .momentum = 0.9}};
  std::map<RunKey, Fig1Track> runs;
  // Each batch of trainings runs s.jobs at a time; a training's numbers do not depend on it.
  auto train_all = [&](const std::vector<RunKey>& keys) {
    std::vector<Fig1Track> done(keys.size());
    run_tasks(keys.size(), s.jobs, [&](size_t i) {
      const auto& [c, l, bn, seed] = keys[i];
      done[i] = train_fig1_network(
          network_settings(s, steps, configs[c].momentum, probe_size, seed),
          {.show_progress = s.show_progress}, lrs[l], bn, train, test, probe,
          /*interactive=*/s.jobs <= 1);  // concurrent progress bars would overwrite each other
    });
    for (size_t i = 0; i < keys.size(); ++i) runs[keys[i]] = std::move(done[i]);
  };

  // Phase 1: the baseline at every candidate with the selection seeds, both configurations.
  std::vector<RunKey> jobs;
  for (size_t c = 0; c < configs.size(); ++c)
    for (size_t l = 0; l < lrs.size(); ++l)
      for (int seed = 1; seed <= selection_seeds; ++seed) jobs.emplace_back(c, l, false, seed);
  train_all(jobs);
  // The rate where the baseline's mean final accuracy over the selection seeds is best.
  std::vector<size_t> chosen(configs.size(), 0);
  std::vector<std::vector<double>> selection(configs.size());
  for (size_t c = 0; c < configs.size(); ++c) {
    for (size_t l = 0; l < lrs.size(); ++l) {
      double sum = 0;
      for (int k = 0; k < selection_seeds; ++k)
        sum += fig1_final_accuracy(track_curve(runs.at({c, l, false, k + 1}), "baseline"));
      selection[c].push_back(sum / selection_seeds);
      if (selection[c][l] > selection[c][chosen[c]]) chosen[c] = l;
    }
  }
  // Phase 2: at the chosen rate, the baseline's remaining seeds and BN with every seed.
  jobs.clear();
  for (size_t c = 0; c < configs.size(); ++c) {
    for (int seed = selection_seeds + 1; seed <= seeds; ++seed)
      jobs.emplace_back(c, chosen[c], false, seed);
    for (int seed = 1; seed <= seeds; ++seed) jobs.emplace_back(c, chosen[c], true, seed);
  }
  train_all(jobs);

  std::vector<E1ConfigRuns> results;
  for (size_t c = 0; c < configs.size(); ++c) {
    E1ConfigRuns r{.config = configs[c], .lrs = lrs, .selection_final = selection[c]};
    r.chosen_lr = lrs[chosen[c]];
    for (int k = 0; k < seeds; ++k) {
      r.baseline.push_back(runs.at({c, chosen[c], false, k + 1}));
      r.bn.push_back(runs.at({c, chosen[c], true, k + 1}));
    }
    for (size_t l = 0; l < lrs.size(); ++l)
      for (int k = 0; k < selection_seeds; ++k)
        if (l != chosen[c])
          r.other_baselines.push_back({lrs[l], k + 1, runs.at({c, l, false, k + 1})});
    r.verdict = judge_e1_config(r);
    results.push_back(std::move(r));
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return e1_result(results, {.steps = steps,
                             .batch = s.batch,
                             .seeds = seeds,
                             .selection_seeds = selection_seeds,
                             .train_size = train.count,
                             .test_size = test.count,
                             .dataset = train.name,
                             .wall_seconds = wall});
}

}  // namespace bnorm::experiments
