// E1: two networks trained side by side, evaluated on a fixed cadence.
#include "experiments/fig1_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "bnorm/error.hpp"
#include "data/binarize.hpp"
#include "experiments/run_tasks.hpp"
#include "experiments/training_loop.hpp"
#include "nn/mlp.hpp"
#include "nn/threads.hpp"
#include "optim/classifier_trainer.hpp"
#include "optim/data_parallel.hpp"

namespace bnorm::experiments {
namespace {

constexpr int64_t kHidden = 100;
constexpr int64_t kHiddenLayers = 3;
constexpr int64_t kEvalBatch = 1000;

void require(bool ok, const std::string& what) {
  if (!ok) throw Error("[fig1] " + what);
}

void validate(const Fig1Settings& s, const Fig1Plan& plan, const data::Dataset& train,
              const data::Dataset& test) {
  require(s.steps > 0, "steps must be positive, got " + std::to_string(s.steps));
  require(s.batch > 1,
          "batch must be at least 2 (BatchNorm needs more than one value per "
          "channel), got " +
              std::to_string(s.batch));
  require(s.batch <= train.count, "batch " + std::to_string(s.batch) +
                                      " is larger than the training set (" +
                                      std::to_string(train.count) + " images)");
  require(s.eval_every > 0, "eval-every must be positive, got " + std::to_string(s.eval_every));
  require(s.init_sigma > 0, "init sigma must be positive, got " + std::to_string(s.init_sigma));
  require(s.momentum >= 0 && s.momentum < 1,
          "momentum must be in [0, 1), got " + std::to_string(s.momentum));
  require(s.probe_unit >= 0 && s.probe_unit < kHidden, "probe unit must be in [0, " +
                                                           std::to_string(kHidden) + "), got " +
                                                           std::to_string(s.probe_unit));
  require(s.probe_size > 0 && s.probe_size <= train.count,
          "probe size must be in [1, " + std::to_string(train.count) + "], got " +
              std::to_string(s.probe_size));
  require(train.features == test.features && train.count > 0 && test.count > 0,
          "training and test sets must be non-empty with the same number of features");
  require(!plan.lr_candidates.empty(), "no learning rate given");
  require(plan.jobs >= 1, "jobs must be at least 1, got " + std::to_string(plan.jobs));
  for (double lr : plan.lr_candidates)
    require(lr > 0 && std::isfinite(lr),
            "learning rates must be positive, got " + std::to_string(lr));
}

Percentiles probe_percentiles(nn::Mlp& mlp, int64_t unit, std::span<const float> probe) {
  const std::vector<float> v =
      nn::collect_unit(mlp.net(), mlp.pre_activation_index(kHiddenLayers - 1), unit, probe,
                       kEvalBatch, nn::Phase::kEval);
  return percentiles_15_50_85(std::vector<double>(v.begin(), v.end()));
}

}  // namespace

Fig1Track train_fig1_network(const Fig1Settings& s, const Fig1Plan& plan, double lr, bool with_bn,
                             const data::Dataset& train, const data::Dataset& test,
                             std::span<const float> probe, bool interactive) {
  nn::set_num_threads(s.threads);  // per thread: OpenMP's thread count is a per-thread setting
  std::vector<int64_t> sizes{train.features};
  for (int64_t i = 0; i < kHiddenLayers; ++i) sizes.push_back(kHidden);
  sizes.push_back(data::kNumClasses);
  nn::Mlp mlp = nn::build_mlp(sizes, nn::Nonlinearity::kSigmoid,
                              with_bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone, s.seed,
                              {.scheme = nn::InitScheme::kGaussian, .sigma = s.init_sigma});
  if (plan.comm != nullptr && plan.sync_bn) optim::synchronize_batch_norm(mlp.net(), *plan.comm);
  optim::Sgd sgd(mlp.net().parameters(), {.lr = lr, .momentum = s.momentum});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::constant(lr),
                                   {.eval_batch = kEvalBatch, .comm = plan.comm});
  const bool show_progress = plan.show_progress && (plan.comm == nullptr || plan.comm->rank() == 0);
  char label[96];
  std::snprintf(label, sizeof label, "%s lr %g momentum %g seed %llu",
                with_bn ? "BN      " : "baseline", lr, s.momentum,
                static_cast<unsigned long long>(s.seed));
  // The same seed gives both networks the same batches in the same order; a diverged network
  // keeps the evaluation steps so that the two tracks line up point by point.
  const TrainingLoop loop{.steps = s.steps,
                          .batch = s.batch,
                          .eval_every = s.eval_every,
                          .seed = s.seed,
                          .stop_at_divergence = false,
                          .show_progress = show_progress,
                          .label = label,
                          .plain_progress = !interactive};
  Fig1Track t;
  t.diverged_at = run_training_loop(trainer, train, loop, [&](const EvalPoint& at) {
    t.steps.push_back(at.step);
    if (at.diverged) {  // a diverged network is recorded at chance-or-worse, not evaluated
      t.accuracy.push_back(0.0);
      t.loss.push_back(std::nan(""));
      t.input.push_back(t.input.empty() ? Percentiles{} : t.input.back());
    } else {
      t.accuracy.push_back(trainer.evaluate(test.images, test.labels).accuracy);
      t.loss.push_back(at.mean_loss);
      t.input.push_back(probe_percentiles(mlp, s.probe_unit, probe));
    }
    return t.accuracy.back();
  });
  return t;
}

namespace {

// Rank 0's value on every rank. The baseline has no BatchNorm, so its ranks agree anyway; this
// keeps them in step when they might not (rounding in the sums), as the next network's
// collectives depend on it.
size_t rank0_choice(Communicator& comm, size_t value) {
  double v = comm.rank() == 0 ? static_cast<double>(value) : 0.0;
  comm.all_reduce_sum(std::span<double>(&v, 1));
  return static_cast<size_t>(v);
}

// "Best" for the baseline: its final test accuracy (the paper's Figure 1 ends at 50k steps).
double final_accuracy(const Fig1Track& t) { return t.accuracy.back(); }

}  // namespace

Fig1Run run_fig1(Fig1Settings s, const Fig1Plan& plan, data::Dataset train, data::Dataset test) {
  validate(s, plan, train, test);
  const auto start = std::chrono::steady_clock::now();
  nn::set_num_threads(s.threads);
  if (s.binarize) {
    data::binarize(train);
    data::binarize(test);
  }
  s.train_size = train.count;
  s.test_size = test.count;
  const std::span<const float> probe(train.images.data(),
                                     static_cast<size_t>(s.probe_size * train.features));

  // Phase 1: the baseline at every candidate (and, with spare threads, BN at every candidate).
  const size_t n = plan.lr_candidates.size();
  // Data parallel: one network at a time, so every rank makes its collectives in the same order.
  const int jobs = plan.comm != nullptr ? 1 : plan.jobs;
  const bool bn_everywhere = jobs > 1 && n > 1;
  const bool interactive = jobs <= 1;  // concurrent bars would overwrite each other
  std::vector<Fig1Track> baselines(n);
  std::vector<std::optional<Fig1Track>> bns(n);
  run_tasks(bn_everywhere ? 2 * n : n, jobs, [&](size_t task) {
    const size_t i = task % n;
    const bool with_bn = task >= n;
    Fig1Track t = train_fig1_network(s, plan, plan.lr_candidates[i], with_bn, train, test, probe,
                                     interactive);
    if (with_bn) {
      bns[i] = std::move(t);
    } else {
      baselines[i] = std::move(t);
    }
  });
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (final_accuracy(baselines[i]) > final_accuracy(baselines[best])) best = i;
  if (plan.comm != nullptr) best = rank0_choice(*plan.comm, best);
  s.lr = plan.lr_candidates[best];
  // Phase 2: BN at the chosen rate, unless phase 1 trained it already.
  if (!bns[best])
    bns[best] = train_fig1_network(s, plan, s.lr, true, train, test, probe, interactive);
  s.lr_sweep.clear();
  for (size_t i = 0; i < n; ++i) {
    s.lr_sweep.push_back({.lr = plan.lr_candidates[i],
                          .final_acc_baseline = final_accuracy(baselines[i]),
                          .diverged_at = baselines[i].diverged_at,
                          .final_acc_bn = bns[i] ? final_accuracy(*bns[i]) : -1.0});
  }
  const Fig1Track& base = baselines[best];
  const Fig1Track& bn = *bns[best];

  Fig1Run run{.settings = s};
  for (size_t i = 0; i < base.steps.size(); ++i) {
    run.points.push_back({.step = base.steps[i],
                          .acc_baseline = base.accuracy[i],
                          .acc_bn = bn.accuracy[i],
                          .loss_baseline = base.loss[i],
                          .loss_bn = bn.loss[i],
                          .input_baseline = base.input[i],
                          .input_bn = bn.input[i]});
  }
  run.verdict = judge_fig1(run.points);
  run.bn_diverged_at = bn.diverged_at;
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace bnorm::experiments
