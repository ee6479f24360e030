// E9a, the paper's own Section 2 example: a layer x = u + b with a learned bias b, normalized by
// subtracting the batch mean only (y = x - E[x]). A gradient step that ignores E[x]'s dependence on
// b moves b while the output and the loss stay put, so b grows without bound; the exact gradient
// of b is 0. The 784-100-100-100-10 sigmoid MLP with Linear (no bias) -> MeanCenteringLayer (b) ->
// sigmoid in each hidden layer, N(0, 0.1^2) weights, b = 0 at the start, plain SGD lr 0.5; trained
// both ways from the same seeds on the same batches (judge_mean_only_bias has the thresholds).
#include <chrono>
#include <cmath>
#include <sstream>

#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/training_loop.hpp"
#include "nn/activations.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/mean_centering_layer.hpp"
#include "nn/random.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kLr = 0.5, kSigma = 0.1;
constexpr int64_t kHidden = 100, kHiddenLayers = 3;

nn::Sequential centered_mlp(int64_t in, bool through_mean, uint64_t seed) {
  nn::Sequential net(in);
  for (int64_t i = 0; i <= kHiddenLayers; ++i) {
    const bool hidden = i < kHiddenLayers;
    const int64_t out = hidden ? kHidden : data::kNumClasses;
    auto& linear = net.emplace<nn::Linear>(
        nn::LinearOptions{.in_features = in, .out_features = out, .bias = !hidden});
    nn::init_weight(linear.weight(), in, out,
                    {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma},
                    nn::derive_seed(seed, static_cast<uint64_t>(i)));
    if (!hidden) break;
    net.emplace<nn::MeanCenteringLayer>(
        nn::MeanCenteringOptions{.num_features = out, .bias_gradient_through_mean = through_mean});
    net.emplace<nn::Sigmoid>();
    in = out;
  }
  return net;
}

// Mean and max of |b| over every centering layer's units (b starts at 0, so max |b| = max |db|).
std::pair<double, double> bias_size(nn::Sequential& net) {
  double sum = 0, max = 0;
  size_t count = 0;
  for (size_t i = 0; i < net.size(); ++i) {
    auto* layer = dynamic_cast<nn::MeanCenteringLayer*>(&net.layer(i));
    if (layer == nullptr) continue;
    for (float b : layer->bias()) {
      sum += std::abs(static_cast<double>(b));
      max = std::max(max, std::abs(static_cast<double>(b)));
      ++count;
    }
  }
  return {count ? sum / static_cast<double>(count) : 0.0, max};
}

struct Run {
  std::vector<int64_t> steps;
  std::vector<double> loss, acc, bias_mean, bias_max;
};

Run train_run(const PaperSettings& s, const data::Dataset& train, const data::Dataset& test,
              bool through_mean, int seed, int64_t steps) {
  nn::Sequential net = centered_mlp(train.features, through_mean, static_cast<uint64_t>(seed));
  optim::Sgd sgd(net.parameters(), {.lr = kLr});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::constant(kLr), {.eval_batch = 500});
  Run run;
  const TrainingLoop loop{.steps = steps,
                          .batch = s.batch,
                          .eval_every = MeanOnlyBiasVerdict::kEarlyStep,
                          .seed = static_cast<uint64_t>(seed),
                          .show_progress = s.show_progress,
                          .label = std::string("E9a ") + (through_mean ? "exact" : "ignoring") +
                                   " seed " + std::to_string(seed)};
  run_training_loop(trainer, train, loop, [&](const EvalPoint& at) {
    run.steps.push_back(at.step);
    run.loss.push_back(at.mean_loss);
    run.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
    const auto [mean, max] = bias_size(net);
    run.bias_mean.push_back(mean);
    run.bias_max.push_back(max);
    return run.acc.back();
  });
  return run;
}

std::vector<double> as_x(const std::vector<int64_t>& steps) { return {steps.begin(), steps.end()}; }

std::vector<double> log10_of(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v) out.push_back(x > 0 ? std::log10(x) : NAN);
  return out;
}

// The log plot shows both runs (ten decades apart); the linear one shows the drift per seed.
std::vector<report::Plot> e9a_plots(const std::vector<int64_t>& steps, const Run& exact_mean,
                                    const Run& ignoring_mean, const std::vector<Run>& ignoring,
                                    const std::vector<double>& gaps) {
  report::Plot bias{.title = "E9a: mean |b| against steps (seed mean)",
                    .x_label = "training step",
                    .y_label = "log10 mean |b|"};
  bias.series.push_back({.label = "ignoring E[x]'s dependence on b",
                         .x = as_x(steps),
                         .y = log10_of(ignoring_mean.bias_mean)});
  bias.series.push_back(
      {.label = "exact gradient", .x = as_x(steps), .y = log10_of(exact_mean.bias_mean)});
  report::Plot loss{.title = "E9a: training loss against steps (seed mean)",
                    .x_label = "training step",
                    .y_label = "mean training loss since the last evaluation"};
  loss.series.push_back({.label = "exact gradient", .x = as_x(steps), .y = exact_mean.loss});
  loss.series.push_back({.label = "ignoring E[x]'s dependence on b",
                         .x = as_x(steps),
                         .y = ignoring_mean.loss,
                         .dashed = true});
  report::Plot gap{.title = "E9a: relative gap between the two loss curves (max over seeds)",
                   .x_label = "training step",
                   .y_label = "log10 |L_ignoring - L_exact| / L_exact"};
  gap.series.push_back({.label = "gap", .x = as_x(steps), .y = log10_of(gaps), .markers = true});
  report::Plot drift{.title = "E9a: mean |b| against steps, ignoring the dependence, per seed",
                     .x_label = "training step",
                     .y_label = "mean |b|",
                     .y_min = 0.0};
  for (size_t k = 0; k < ignoring.size(); ++k) {
    drift.series.push_back(
        {.label = "seed " + std::to_string(k + 1), .x = as_x(steps), .y = ignoring[k].bias_mean});
  }
  return {bias, drift, loss, gap};
}

// Pointwise mean of the runs' series (all runs have the same evaluation steps).
Run mean_run(const std::vector<Run>& runs) {
  Run m = runs.front();
  for (size_t i = 0; i < m.steps.size(); ++i) {
    double loss = 0, acc = 0, bias = 0, max = 0;
    for (const Run& r : runs) {
      loss += r.loss[i];
      acc += r.acc[i];
      bias += r.bias_mean[i];
      max = std::max(max, r.bias_max[i]);
    }
    const auto n = static_cast<double>(runs.size());
    m.loss[i] = loss / n, m.acc[i] = acc / n, m.bias_mean[i] = bias / n, m.bias_max[i] = max;
  }
  return m;
}

}  // namespace

ExperimentResult run_e9a_mean_only_bias(const PaperSettings& s, const data::Dataset& train,
                                        const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 2000, 5000);
  const int seeds = seeds_for(s, 3);
  require(steps >= 2 * MeanOnlyBiasVerdict::kEarlyStep, "E9a",
          "expected at least 200 steps (the verdict compares mean |b| at the end with step 100), "
          "got " +
              std::to_string(steps));
  const data::Dataset test = head(test_all, s.test_limit);

  ExperimentResult r{.id = "E9a",
                     .title = "E9a: mean-only centering with a learned bias (Section 2's example)",
                     .csv_name = "e9a_mean_only_bias.csv"};
  std::ostringstream csv;
  csv << "variant,seed,step,train_loss,test_acc,mean_abs_bias,max_abs_bias\n";
  std::vector<Run> runs[2];  // [0] exact, [1] ignoring
  for (int seed = 1; seed <= seeds; ++seed) {
    for (int variant = 0; variant < 2; ++variant) {
      runs[variant].push_back(train_run(s, train, test, variant == 0, seed, steps));
      const Run& run = runs[variant].back();
      for (size_t i = 0; i < run.steps.size(); ++i)
        csv << (variant == 0 ? "exact" : "ignoring") << ',' << seed << ',' << run.steps[i] << ','
            << fmt("%.9g", run.loss[i]) << ',' << run.acc[i] << ',' << fmt("%.9g", run.bias_mean[i])
            << ',' << fmt("%.9g", run.bias_max[i]) << '\n';
    }
  }
  r.csv = csv.str();

  // The loss gap per evaluation, the largest over seeds; the verdict takes the largest of all.
  const std::vector<int64_t>& at = runs[0].front().steps;
  std::vector<double> gaps(at.size(), 0.0);
  std::vector<double> growth;
  double full_move = 0;
  MeanOnlyBiasVerdict worst_loss;
  for (int k = 0; k < seeds; ++k) {
    const Run &e = runs[0][static_cast<size_t>(k)], &g = runs[1][static_cast<size_t>(k)];
    require(e.steps == at && g.steps == at, "E9a",
            "expected every run to reach every evaluation, got a run that diverged");
    const MeanOnlyBiasVerdict one = judge_mean_only_bias(at, g.bias_mean, 0.0, e.loss, g.loss);
    growth.push_back(one.growth());
    worst_loss.max_loss_rel_gap = std::max(worst_loss.max_loss_rel_gap, one.max_loss_rel_gap);
    full_move = std::max(full_move, e.bias_max.back());
    for (size_t i = 0; i < at.size(); ++i) {
      if (!std::isnan(e.loss[i]))
        gaps[i] = std::max(gaps[i], std::abs(g.loss[i] - e.loss[i]) / e.loss[i]);
    }
  }
  const Run exact = mean_run(runs[0]), ignoring = mean_run(runs[1]);
  MeanOnlyBiasVerdict v =
      judge_mean_only_bias(at, ignoring.bias_mean, full_move, exact.loss, ignoring.loss);
  v.max_loss_rel_gap = std::max(v.max_loss_rel_gap, worst_loss.max_loss_rel_gap);
  r.plots = e9a_plots(at, exact, ignoring, runs[1], gaps);

  const Spread gs = spread_of(growth);
  std::vector<double> acc_e, acc_g;
  for (int k = 0; k < seeds; ++k) {
    acc_e.push_back(runs[0][static_cast<size_t>(k)].acc.back());
    acc_g.push_back(runs[1][static_cast<size_t>(k)].acc.back());
  }
  r.notes.push_back(
      "784-100-100-100-10 sigmoid MLP; each hidden layer is u = W h (no bias), x = u + b, "
      "y = x - E[x] over the batch (no division, no gamma/beta), then the sigmoid. Weights "
      "N(0, 0.1^2), b = 0 at the start, plain SGD lr 0.5, batch " +
      std::to_string(s.batch) + ", " + std::to_string(steps) + " steps, " + std::to_string(seeds) +
      " seed(s), each seed trained both ways on the same batches; evaluations every 100 steps; "
      "test set of " +
      std::to_string(test.count) + " images (" + train.name +
      "). The layer computes u + b and the mean in double, so the output does not depend on b "
      "beyond float rounding however large b grows; evaluation subtracts the running mean of u "
      "plus the current b.");
  r.notes.push_back("Final test accuracy: exact gradient " +
                    format_accuracy(spread_of(acc_e), seeds) + ", ignoring the dependence " +
                    format_accuracy(spread_of(acc_g), seeds) +
                    ". Growth of mean |b| from step 100 to the end, per seed: mean " +
                    fmt("%.3gx", gs.mean) + fmt(" (sd %.2g)", gs.sd) + ".");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E9a",
      .claim = "ignoring E[x]'s dependence on b, b grows without bound while the loss stays put; "
               "with the exact gradient b does not move",
      .measured = "ignoring: mean |b| " + fmt("%.3g", v.bias_at_100) + " at step 100, " +
                  fmt("%.4g", v.bias_end) + " at the end (" + fmt("%.3gx", v.growth()) +
                  "; slope of the last half " + fmt("%.3g", v.late_slope) +
                  " per step); exact: max |b_end - b_start| " + fmt("%.3g", v.full_bias_move) +
                  "; loss curves' largest relative gap " + fmt("%.3g", v.max_loss_rel_gap),
      .threshold = "mean |b| end / step 100 >= 10 and last-half slope > 0; exact run's "
                   "|b_end - b_start| <= 1e-5; loss curves within 1e-3 relative",
      .reproduced = v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
