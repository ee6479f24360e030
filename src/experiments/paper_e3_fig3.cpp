// E3, the Figure 3 analogue (Section 4.2.1): the small CNN on Fashion-MNIST in the paper's model
// roles. "Inception" is the CNN without BN on the baseline recipe (lr 0.01, momentum 0.9, dropout
// 0.3, L2 5e-4, lr halving over the run). BN-Baseline adds BN and keeps the recipe. BN-x5 and
// BN-x30 take the paper's recipe for accelerating BN networks: lr x5 / x30, no dropout, L2 / 5, lr
// decay 6x faster. BN-x5-Sigmoid is BN-x5 with sigmoids. The baseline is also run at 5x its lr and
// with sigmoids (the paper: "diverged" and "stayed at chance"). Claims judged by judge_fig3 on the
// seed-mean curves (the full form runs 3 seeds); the per-seed values are reported as the spread.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <utility>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/run_tasks.hpp"
#include "nn/conv/cnn.hpp"
#include "nn/threads.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kBaseLr = 0.01, kMomentum = 0.9;
constexpr double kDropout = 0.3, kWeightDecay = 5e-4;
constexpr double kSlowDecay = 0.5;  // lr falls by half over the run
// Six times faster: lr(t) = lr * 0.5^(6 t / steps), so 1/64 of it by the end.
constexpr double kFastDecay = 0.5 * 0.5 * 0.5 * 0.5 * 0.5 * 0.5;

struct Model {
  std::string name;
  bool bn = false;
  nn::Nonlinearity activation = nn::Nonlinearity::kReLU;
  double lr_factor = 1;
  bool accelerated = false;  // the paper's recipe for BN: no dropout, L2 / 5, 6x faster decay
};

std::vector<Model> models() {
  using nn::Nonlinearity;
  return {{.name = "Inception"},
          {.name = "BN-Baseline", .bn = true},
          {.name = "BN-x5", .bn = true, .lr_factor = 5, .accelerated = true},
          {.name = "BN-x30", .bn = true, .lr_factor = 30, .accelerated = true},
          {.name = "BN-x5-Sigmoid",
           .bn = true,
           .activation = Nonlinearity::kSigmoid,
           .lr_factor = 5,
           .accelerated = true},
          {.name = "Inception-x5", .lr_factor = 5},
          {.name = "Inception-Sigmoid", .activation = Nonlinearity::kSigmoid}};
}

int64_t image_side(const data::Dataset& d) {
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(d.features))));
  require(side * side == d.features && side >= 4, "E3",
          "the CNN needs square one-channel images of side >= 4, got " +
              std::to_string(d.features) + " features per image");
  return side;
}

std::string steps_text(int64_t steps) { return steps < 0 ? "never" : std::to_string(steps); }

// "a / b / c (mean m +- sd)" of one per-seed quantity.
std::string per_seed_text(const std::vector<double>& v, const char* format) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " / " : "") + fmt(format, v[i]);
  const Spread s = spread_of(v);
  return out + " (mean " + fmt(format, s.mean) + " +- " + fmt(format, s.sd) + ")";
}

// The spread over seeds: judge_fig3 on each seed's own curves. runs[model][seed], models() order.
std::string per_seed_summary(const std::vector<std::vector<Curve>>& runs) {
  const size_t seeds = runs[0].size();
  std::vector<double> bn_baseline, bn_x5, x5_gap, sigmoid_bn_gap, sigmoid_gap;
  int holds = 0, x5_fails = 0;
  for (size_t k = 0; k < seeds; ++k) {
    const Fig3Verdict v = judge_fig3(runs[0][k], runs[5][k], runs[1][k], runs[2][k], runs[3][k],
                                     runs[4][k], runs[6][k]);
    bn_baseline.push_back(v.speedup_bn_baseline);
    bn_x5.push_back(v.speedup_bn_x5);
    x5_gap.push_back(100.0 * (v.baseline_best - runs[5][k].best()));
    sigmoid_bn_gap.push_back(v.sigmoid_bn_x5_gap_pp);
    sigmoid_gap.push_back(v.sigmoid_baseline_gap_pp);
    holds += v.reproduced() ? 1 : 0;
    x5_fails += v.baseline_x5_fails ? 1 : 0;
  }
  return "per seed 1.." + std::to_string(seeds) + ": BN-Baseline " +
         per_seed_text(bn_baseline, "%.2fx") + " fewer steps, BN-x5 " +
         per_seed_text(bn_x5, "%.2fx") + "; Inception-x5 best " + per_seed_text(x5_gap, "%.2f") +
         " pp below the baseline's (negative: above; fails in " + std::to_string(x5_fails) +
         " of " + std::to_string(seeds) + "); BN-x5-Sigmoid " +
         per_seed_text(sigmoid_bn_gap, "%.2f") +
         " pp below the baseline (negative: above); sigmoid baseline " +
         per_seed_text(sigmoid_gap, "%.2f") +
         " pp below (negative: above); all five parts hold in " + std::to_string(holds) + " of " +
         std::to_string(seeds) + " seeds";
}

// One training of model m with this seed (weights and batch order).
Curve train_model(const Model& m, int seed, const PaperSettings& s, int64_t side, int64_t steps,
                  bool concurrent, const data::Dataset& train, const data::Dataset& test) {
  nn::set_num_threads(s.threads);  // per thread: OpenMP's thread count is a per-thread setting
  const bool sigmoid = m.activation == nn::Nonlinearity::kSigmoid;
  nn::Sequential net = nn::build_cnn(
      {.input = {.c = 1, .h = side, .w = side},
       .activation = m.activation,
       .batch_norm = m.bn,
       .dropout = m.accelerated ? 0.0 : kDropout,
       .init = {.scheme = sigmoid ? nn::InitScheme::kXavierNormal : nn::InitScheme::kHe},
       .seed = static_cast<uint64_t>(seed)});
  return train_curve(
      m.name, net,
      {.steps = steps,
       .batch = s.batch,
       .eval_every = tenth_of_run(steps),
       .sgd = {.lr = kBaseLr * m.lr_factor,
               .momentum = kMomentum,
               .weight_decay = m.accelerated ? kWeightDecay / 5 : kWeightDecay},
       .decay_over_run = m.accelerated ? kFastDecay : kSlowDecay,
       .seed = static_cast<uint64_t>(seed),
       .eval_batch = 250,
       .show_progress = s.show_progress && !concurrent,  // concurrent bars would overwrite
       .comm = s.comm},
      train, test);
}

// One row per evaluation of every (model, seed) run, and a "nan" row at a divergence.
std::string runs_csv(const std::vector<Model>& ms, const std::vector<std::vector<Curve>>& runs) {
  std::ostringstream csv;
  csv << "model,lr,seed,step,test_acc,diverged_at\n";
  for (size_t mi = 0; mi < ms.size(); ++mi) {
    const double lr = kBaseLr * ms[mi].lr_factor;
    for (size_t si = 0; si < runs[mi].size(); ++si) {
      const int seed = static_cast<int>(si) + 1;
      const Curve& c = runs[mi][si];
      for (size_t i = 0; i < c.steps.size(); ++i)
        csv << ms[mi].name << ',' << lr << ',' << seed << ',' << c.steps[i] << ',' << c.acc[i]
            << ',' << c.diverged_at << '\n';
      if (c.diverged_at >= 0)
        csv << ms[mi].name << ',' << lr << ',' << seed << ',' << c.diverged_at << ",nan,"
            << c.diverged_at << '\n';
    }
  }
  return csv.str();
}

// Every model's seed-mean curve; the models without BN dashed.
report::Plot accuracy_plot(const std::vector<Curve>& curves) {
  report::Plot plot{.title = "E3: test accuracy against training steps",
                    .x_label = "training step",
                    .y_label = "test accuracy",
                    .y_min = 0.0,
                    .y_max = 1.0,
                    .zoom_late_values = true,
                    .y_percent = true};
  for (const Curve& c : curves) {
    report::Series series = accuracy_series(c, c.name);
    series.dashed = c.name.rfind("Inception", 0) == 0;
    plot.series.push_back(std::move(series));
  }
  return plot;
}

// The claim row: the verdict on the seed-mean curves, with the per-seed spread when seeds > 1.
ClaimResult fig3_claim(const Fig3Verdict& v, const std::vector<Curve>& curves,
                       const std::vector<std::vector<Curve>>& runs, int seeds) {
  return ClaimResult{
      .id = "E3",
      .claim =
          "BN networks reach the baseline's accuracy in far fewer steps and train at higher "
          "learning rates and with sigmoids",
      .measured =
          "baseline max " + fmt("%.2f%%", 100 * v.baseline_best) + " at step " +
          steps_text(v.baseline_steps) + "; BN-Baseline reaches it at " +
          steps_text(v.bn_baseline_steps) + " (" + fmt("%.2fx", v.speedup_bn_baseline) +
          " fewer), BN-x5 at " + steps_text(v.bn_x5_steps) + " (" + fmt("%.2fx", v.speedup_bn_x5) +
          "); Inception-x5 " +
          (curves[5].diverged_at >= 0 ? "diverged at step " + std::to_string(curves[5].diverged_at)
                                      : "max " + fmt("%.2f%%", 100 * curves[5].best())) +
          " (fails: " + (v.baseline_x5_fails ? "yes" : "no") + "); BN-x5-Sigmoid " +
          gap_text(v.sigmoid_bn_x5_gap_pp) + " the baseline, sigmoid baseline " +
          gap_text(v.sigmoid_baseline_gap_pp) +
          (seeds > 1 ? " (seed-mean curves); " + per_seed_summary(runs) : std::string()),
      .threshold =
          "BN-Baseline >= 1.5x and BN-x5 >= 3x fewer steps; Inception-x5 diverges or is "
          ">= 2 pp worse; BN-x5-Sigmoid within 3 pp; sigmoid baseline >= 20 pp worse",
      .reproduced = v.reproduced(),
      .seeds = seeds};
}

}  // namespace

ExperimentResult run_e3_fig3(const PaperSettings& s, const data::Dataset& train,
                             const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t side = image_side(train);
  const int64_t steps = steps_for(s, 400, 1500);
  // Several seeds in the full form: single-seed differences here were small against the
  // thresholds. The verdict is judge_fig3 on the seed-mean curves, thresholds unchanged.
  const int seeds = seeds_for(s, s.quick ? 1 : 3);
  // Evaluations dominate short runs: 1,000 test images in the quick form, 5,000 in the full one.
  const data::Dataset test =
      head(test_all, s.test_limit > 0 ? s.test_limit : (s.quick ? 1000 : 5000));

  ExperimentResult r{.id = "E3",
                     .title = "E3: the Figure 3 analogue on a small CNN (Section 4.2)",
                     .csv_name = "e3_fig3.csv"};
  // Every (model, seed) training is independent: they run `jobs` at a time, each on s.threads
  // threads, and land in runs[model][seed - 1], so the numbers do not depend on jobs.
  const std::vector<Model> ms = models();
  std::vector<std::vector<Curve>> runs(ms.size(), std::vector<Curve>(static_cast<size_t>(seeds)));
  // Data parallel: one training at a time, so that every rank makes its collectives in one order.
  const int jobs = s.comm != nullptr ? 1 : s.jobs;
  const bool concurrent = jobs > 1;
  std::mutex print_mutex;
  run_tasks(ms.size() * static_cast<size_t>(seeds), jobs, [&](size_t task) {
    const Model& m = ms[task / static_cast<size_t>(seeds)];
    const int seed = static_cast<int>(task % static_cast<size_t>(seeds)) + 1;
    Curve c = train_model(m, seed, s, side, steps, concurrent, train, test);
    if (s.show_progress && concurrent) {
      const std::lock_guard<std::mutex> lock(print_mutex);
      std::fprintf(stderr, "E3 %s seed %d: final test acc %.2f%%%s\n", m.name.c_str(), seed,
                   100 * c.final_acc(), c.diverged_at >= 0 ? " (diverged)" : "");
    }
    runs[task / static_cast<size_t>(seeds)][static_cast<size_t>(seed - 1)] = std::move(c);
  });

  r.csv = runs_csv(ms, runs);
  std::vector<Curve> curves;
  for (const std::vector<Curve>& model_runs : runs) curves.push_back(mean_curve(model_runs));
  // models(): 0 Inception, 1 BN-Baseline, 2 BN-x5, 3 BN-x30, 4 BN-x5-Sigmoid, 5 Inception-x5,
  // 6 Inception-Sigmoid.
  const Fig3Verdict v =
      judge_fig3(curves[0], curves[5], curves[1], curves[2], curves[3], curves[4], curves[6]);

  r.plots.push_back(accuracy_plot(curves));

  std::string table;
  for (const Curve& c : curves) {
    table += c.name + ": max " + fmt("%.2f%%", 100 * c.best()) + ", steps to the baseline's max " +
             steps_text(steps_to_reach(c, v.baseline_best)) +
             (c.diverged_at >= 0 ? ", diverged at step " + std::to_string(c.diverged_at) : "") +
             ". ";
  }
  r.notes.push_back("Small CNN conv3x3(16)-pool-conv3x3(32)-pool-FC(100)-FC(10), batch " +
                    std::to_string(s.batch) + ", " + std::to_string(steps) +
                    " steps, SGD momentum 0.9, base lr 0.01, " + std::to_string(seeds) +
                    " seed(s) (curves averaged), test set of " + std::to_string(test.count) +
                    " images (" + train.name + ").");
  r.notes.push_back(table);
  if (seeds > 1) {
    r.notes.push_back(
        "Verdict rule, fixed before the multi-seed runs: the thresholds applied to "
        "the mean curves over the seeds. The spread: " +
        per_seed_summary(runs) + ".");
  }
  r.claims.push_back(fig3_claim(v, curves, runs, seeds));
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.back().wall_seconds = r.wall_seconds;
  return r;
}

}  // namespace bnorm::experiments
