// E8, Santurkar et al. (2018): BN with a random per-unit scale and shift injected after it, redrawn
// every step ("noisy BN"), trains as well as BN, so BN's benefit is not a stable input
// distribution; what BN changes is the loss landscape, smoother along the gradient. The paper's
// 784-100-100-100-10 sigmoid MLP without BN, with BN and with noisy BN, N(0, 0.1^2) weights, plain
// SGD lr 0.5; test accuracy, and the loss range and gradient change over steps of
// [0.05, 0.4] x lr along the gradient, at step 0 and every steps/50 (docs/paper.md has the exact
// definitions). Reproduced when noisy BN ends within 1 pp of BN and reaches the baseline's final
// accuracy >= 2x sooner (E8-noisy), and BN's loss range and gradient change are at most half the
// baseline's (E8-smooth).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "data/batch_iterator.hpp"
#include "experiments/accuracy_curves.hpp"
#include "experiments/landscape.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/run_tasks.hpp"
#include "experiments/training_loop.hpp"
#include "nn/activations.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/noisy_scale_shift.hpp"
#include "nn/random.hpp"
#include "nn/threads.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kLr = 0.5, kSigma = 0.1;
constexpr int64_t kHidden = 100, kHiddenLayers = 3;
constexpr uint64_t kNoiseStream = 2000, kProbeStream = 3000;  // derive_seed streams
enum Model { kBaseline, kBn, kNoisy, kModels };
const char* const kNames[kModels] = {"baseline", "BN", "noisy BN"};
const char* const kKeys[kModels] = {"baseline", "bn", "noisy_bn"};

// Linear i draws its weights from derive_seed(seed, i) as nn::build_mlp does, so the three models
// of a seed start from the same weights.
nn::Sequential e8_mlp(int64_t in, Model model, uint64_t seed) {
  nn::Sequential net(in);
  for (int64_t i = 0; i <= kHiddenLayers; ++i) {
    const bool hidden = i < kHiddenLayers;
    const bool bn = hidden && model != kBaseline;
    const int64_t out = hidden ? kHidden : data::kNumClasses;
    auto& linear = net.emplace<nn::Linear>(
        nn::LinearOptions{.in_features = in, .out_features = out, .bias = !bn});
    nn::init_weight(linear.weight(), in, out,
                    {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma},
                    nn::derive_seed(seed, static_cast<uint64_t>(i)));
    if (!hidden) break;
    if (bn) net.emplace<nn::BatchNormLayer>(BatchNormOptions{.num_features = out});
    if (model == kNoisy) {
      net.emplace<nn::NoisyScaleShift>(
          nn::NoisyScaleShiftOptions{.features = out},
          nn::derive_seed(seed, kNoiseStream + static_cast<uint64_t>(i)));
    }
    net.emplace<nn::Sigmoid>();
    in = out;
  }
  return net;
}

struct Run {
  Curve curve;
  std::vector<LandscapePoint> points;  // one per evaluation
};

Run train_model(Model model, int seed, int64_t steps, int64_t every, const PaperSettings& s,
                bool concurrent, const data::Dataset& train, const data::Dataset& test) {
  nn::set_num_threads(s.threads);  // per thread: OpenMP's thread count is a per-thread setting
  nn::Sequential net = e8_mlp(train.features, model, static_cast<uint64_t>(seed));
  optim::Sgd sgd(net.parameters(), {.lr = kLr});
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::exponential(kLr, 1.0),
                                   {.eval_batch = 500});
  // The landscape batches: a stream of their own, the same for the three models of a seed.
  data::BatchIterator probes(train, s.batch,
                             nn::derive_seed(static_cast<uint64_t>(seed), kProbeStream),
                             /*binarize=*/false);
  std::vector<float> x(static_cast<size_t>(s.batch * train.features));
  std::vector<int32_t> y(static_cast<size_t>(s.batch));
  std::vector<double> etas;
  for (int k = 1; k <= 8; ++k) etas.push_back(0.05 * k * kLr);  // 0.05, 0.10, ..., 0.40 x lr
  Run run{.curve = {.name = kNames[model]}};
  run.curve.diverged_at = run_training_loop(
      trainer, train,
      {.steps = steps,
       .batch = s.batch,
       .eval_every = every,
       .seed = static_cast<uint64_t>(seed),
       .show_progress = s.show_progress,
       .label = std::string("E8 ") + kNames[model] + " seed " + std::to_string(seed),
       .plain_progress = concurrent},
      [&](const EvalPoint& at) {
        run.curve.steps.push_back(at.step);
        run.curve.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
        probes.next_into(x, y);
        run.points.push_back(measure_along_gradient(net, x, y, etas));
        return run.curve.acc.back();
      });
  return run;
}

// Mean over a run's measurements of one quantity, then over the seeds.
double run_mean(const std::vector<Run>& runs, double LandscapePoint::*field) {
  double total = 0;
  for (const Run& r : runs) {
    double sum = 0;
    for (const LandscapePoint& p : r.points) sum += p.*field;
    total += r.points.empty() ? NAN : sum / static_cast<double>(r.points.size());
  }
  return total / static_cast<double>(runs.size());
}

// The seed mean of one quantity at each measurement step, as a plot series.
report::Series landscape_series(const std::vector<Run>& runs, double LandscapePoint::*field,
                                std::string label) {
  report::Series s{.label = std::move(label)};
  const Run& longest = *std::max_element(runs.begin(), runs.end(), [](const Run& a, const Run& b) {
    return a.points.size() < b.points.size();
  });
  for (size_t i = 0; i < longest.points.size(); ++i) {
    double sum = 0;
    for (const Run& r : runs) sum += i < r.points.size() ? r.points[i].*field : NAN;
    s.x.push_back(static_cast<double>(longest.curve.steps[i]));
    s.y.push_back(sum / static_cast<double>(runs.size()));
  }
  return s;
}

std::string steps_text(int64_t steps) {
  return steps < 0 ? "never" : "step " + std::to_string(steps);
}

}  // namespace

ExperimentResult run_e8_noisy_bn(const PaperSettings& s, const data::Dataset& train,
                                 const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 1500, 5000);
  const int seeds = seeds_for(s, s.quick ? 1 : 3);
  const data::Dataset test = head(test_all, s.test_limit);
  const int64_t every = std::max<int64_t>(1, steps / 50);

  ExperimentResult r{.id = "E8",
                     .title = "E8: noisy BN and the loss landscape (Santurkar et al. 2018)",
                     .csv_name = "e8_noisy_bn.csv"};
  std::vector<std::vector<Run>> runs(kModels, std::vector<Run>(static_cast<size_t>(seeds)));
  const bool concurrent = s.jobs > 1;
  std::mutex print_mutex;
  run_tasks(kModels * static_cast<size_t>(seeds), s.jobs, [&](size_t task) {
    const auto model = static_cast<Model>(task / static_cast<size_t>(seeds));
    const int seed = static_cast<int>(task % static_cast<size_t>(seeds)) + 1;
    Run run = train_model(model, seed, steps, every, s, concurrent, train, test);
    if (s.show_progress && concurrent) {
      const std::lock_guard<std::mutex> lock(print_mutex);
      std::fprintf(stderr, "E8 %s seed %d: final test acc %.2f%%%s\n", kNames[model], seed,
                   100 * run.curve.final_acc(), run.curve.diverged_at >= 0 ? " (diverged)" : "");
    }
    runs[model][static_cast<size_t>(seed - 1)] = std::move(run);
  });

  std::ostringstream csv;
  csv << "model,seed,step,test_acc,loss,grad_norm,loss_range,grad_change\n";
  std::vector<Curve> mean(kModels);
  report::Plot acc_plot{.title = "E8: test accuracy against steps (seed means)",
                        .x_label = "training step",
                        .y_label = "test accuracy",
                        .y_min = 0.0,
                        .y_max = 1.0,
                        .zoom_late_values = true,
                        .y_percent = true};
  report::Plot range_plot{.title = "E8: loss range along the gradient, steps of 0.05-0.4 x lr",
                          .x_label = "training step",
                          .y_label = "max - min of the loss",
                          .y_min = 0.0};
  report::Plot change_plot{
      .title = "E8: gradient change along the gradient, steps of 0.05-0.4 x lr",
      .x_label = "training step",
      .y_label = "max |g(step) - g|",
      .y_min = 0.0};
  for (int m = 0; m < kModels; ++m) {
    std::vector<Curve> curves;
    for (int seed = 1; seed <= seeds; ++seed) {
      const Run& run = runs[static_cast<size_t>(m)][static_cast<size_t>(seed - 1)];
      curves.push_back(run.curve);
      for (size_t i = 0; i < run.points.size(); ++i) {
        const LandscapePoint& p = run.points[i];
        csv << kKeys[m] << ',' << seed << ',' << run.curve.steps[i] << ',' << run.curve.acc[i]
            << ',' << p.loss << ',' << p.grad_norm << ',' << p.loss_range << ',' << p.grad_change
            << '\n';
      }
    }
    mean[static_cast<size_t>(m)] = mean_curve(curves);
    acc_plot.series.push_back(accuracy_series(mean[static_cast<size_t>(m)], kNames[m]));
    range_plot.series.push_back(
        landscape_series(runs[static_cast<size_t>(m)], &LandscapePoint::loss_range, kNames[m]));
    change_plot.series.push_back(
        landscape_series(runs[static_cast<size_t>(m)], &LandscapePoint::grad_change, kNames[m]));
  }
  r.csv = csv.str();
  r.plots = {acc_plot, range_plot, change_plot};

  const NoisyBnVerdict train_v = judge_noisy_bn(mean[kBaseline], mean[kBn], mean[kNoisy]);
  SmoothnessVerdict smooth{
      .loss_range_bn = run_mean(runs[kBn], &LandscapePoint::loss_range),
      .loss_range_baseline = run_mean(runs[kBaseline], &LandscapePoint::loss_range),
      .grad_change_bn = run_mean(runs[kBn], &LandscapePoint::grad_change),
      .grad_change_baseline = run_mean(runs[kBaseline], &LandscapePoint::grad_change)};
  const double range_noisy = run_mean(runs[kNoisy], &LandscapePoint::loss_range);
  const double change_noisy = run_mean(runs[kNoisy], &LandscapePoint::grad_change);

  std::string per_seed;
  for (int m = 0; m < kModels; ++m) {
    std::vector<double> finals;
    for (const Run& run : runs[static_cast<size_t>(m)])
      finals.push_back(run.curve.diverged_at >= 0 ? 0.0 : run.curve.final_acc());
    per_seed +=
        std::string(m ? "; " : "") + kNames[m] + " " + format_accuracy(spread_of(finals), seeds);
  }
  r.notes.push_back(
      "784-100-100-100-10 sigmoid MLP: baseline (Linear with bias), BN before each sigmoid, and "
      "noisy BN (BN, then per unit y = sqrt(v) x + m with m ~ U(-0.5, 0.5), v ~ U(0.5, 2) redrawn "
      "every step; identity in evaluation). Weights N(0, 0.1^2), same per seed for the three; "
      "plain SGD lr 0.5, batch " +
      std::to_string(s.batch) + ", " + std::to_string(steps) + " steps, " + std::to_string(seeds) +
      " seed(s), evaluation and landscape every " + std::to_string(every) + " steps, test set of " +
      std::to_string(test.count) + " images (" + train.name + ").");
  r.notes.push_back("Last test accuracy per seed: " + per_seed + ".");
  r.notes.push_back("Noisy BN's landscape, not judged: loss range " + fmt("%.4g", range_noisy) +
                    ", gradient change " + fmt("%.4g", change_noisy) + ".");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E8-noisy",
      .claim = "BN with random per-unit scale and shift noise after it trains as well as BN and "
               "far better than no BN",
      .measured = "final accuracy (mean of the last 5 evaluations, seed means): noisy BN " +
                  fmt("%.2f%%", 100 * train_v.final_noisy) + ", BN " +
                  fmt("%.2f%%", 100 * train_v.final_bn) + ", baseline " +
                  fmt("%.2f%%", 100 * train_v.final_baseline) + " (|noisy - BN| " +
                  fmt("%.2f pp", train_v.gap_pp()) +
                  "); baseline's final accuracy reached by the " + "baseline at " +
                  steps_text(train_v.baseline_steps) + ", by noisy BN at " +
                  steps_text(train_v.noisy_steps) + " (" + fmt("%.2fx", train_v.speedup) + ")",
      .threshold = "|noisy BN - BN| <= 1 pp and noisy BN reaches the baseline's final accuracy "
                   ">= 2x sooner",
      .reproduced = train_v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  r.claims.push_back(
      ClaimResult{.id = "E8-smooth",
                  .claim = "BN makes the loss smoother along the gradient (Santurkar et al.)",
                  .measured = "mean over training and seeds: loss range BN " +
                              fmt("%.4g", smooth.loss_range_bn) + " vs baseline " +
                              fmt("%.4g", smooth.loss_range_baseline) + " (ratio " +
                              fmt("%.2f", smooth.loss_range_ratio()) + "); gradient change BN " +
                              fmt("%.4g", smooth.grad_change_bn) + " vs baseline " +
                              fmt("%.4g", smooth.grad_change_baseline) + " (ratio " +
                              fmt("%.2f", smooth.grad_change_ratio()) + ")",
                  .threshold = "BN's loss range and gradient change each <= 0.5 x the baseline's",
                  .reproduced = smooth.reproduced(),
                  .seeds = seeds,
                  .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
