// E2, Section 3.3 of the paper: "Batch Normalization enables higher learning rates". The
// 784-100-100-100-10 MLP (sigmoid, then ReLU) is trained for the same number of plain-SGD steps at
// each learning rate of a log grid, with and without BN before each nonlinearity, from N(0, 0.1^2)
// weights (E1's initialization). Reproduced when the largest learning rate within 2 pp of the
// model's best is >= 5x larger with BN, and BN still trains at 30x the baseline's best rate.
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "nn/mlp.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kChance = 0.1;

std::vector<double> default_lrs() {
  std::vector<double> lrs;
  for (int k = 0; k <= 7; ++k) lrs.push_back(0.01 * std::pow(10.0, k / 2.0));  // 0.01 ... 31.6
  return lrs;
}

void validate_lrs(const std::vector<double>& lrs) {
  require(lrs.size() >= 2, "E2",
          "the learning-rate sweep needs at least two rates, got " + std::to_string(lrs.size()));
  std::set<double> seen;
  for (double lr : lrs) {
    require(std::isfinite(lr) && lr > 0, "E2",
            "learning rates must be positive and finite, got " + fmt("%g", lr));
    require(seen.insert(lr).second, "E2", "learning rate " + fmt("%g", lr) + " is listed twice");
  }
}

// Final test accuracy against the learning rate, with and without BN.
report::Plot final_accuracy_plot(const std::string& act_name, const std::vector<double>& lrs,
                                 const std::vector<Curve>& base, const std::vector<Curve>& bn) {
  report::Plot plot{.title = "E2 (" + act_name + "): final test accuracy against learning rate",
                    .x_label = "learning rate",
                    .y_label = "final test accuracy",
                    .log_x = true,
                    .y_min = 0.0,
                    .y_max = 1.0};
  for (const auto* curves : {&base, &bn}) {
    report::Series series{.label = curves == &bn ? "with BN" : "baseline", .markers = true};
    for (size_t i = 0; i < lrs.size(); ++i) {
      series.x.push_back(lrs[i]);
      // A diverged run is drawn as a gap: it has no accuracy to show.
      series.y.push_back((*curves)[i].diverged_at >= 0 ? std::nan("") : (*curves)[i].final_acc());
    }
    plot.series.push_back(series);
  }
  return plot;
}

// The claim row for one nonlinearity: the verdict's learning rates and every divergence.
ClaimResult lr_sweep_claim(const std::string& act_name, const std::vector<double>& lrs,
                           const LrSweepVerdict& v, const std::vector<Curve>& base,
                           const std::vector<Curve>& bn, int seeds) {
  std::string diverged;
  for (size_t i = 0; i < lrs.size(); ++i) {
    if (base[i].diverged_at >= 0)
      diverged += " baseline at lr " + fmt("%g", lrs[i]) + " diverged at step " +
                  std::to_string(base[i].diverged_at) + ";";
    if (bn[i].diverged_at >= 0)
      diverged += " BN at lr " + fmt("%g", lrs[i]) + " diverged at step " +
                  std::to_string(bn[i].diverged_at) + ";";
  }
  return ClaimResult{
      .id = "E2-" + act_name,
      .claim = "BN enables much higher learning rates (" + act_name + " MLP)",
      .measured = "largest lr within 2 pp of best: BN " + fmt("%g", v.largest_good_lr_bn) +
                  ", baseline " + fmt("%g", v.largest_good_lr_baseline) + " (ratio " +
                  fmt("%.2f", v.good_lr_ratio) + "); best lr BN " + fmt("%g", v.best_lr_bn) +
                  ", baseline " + fmt("%g", v.best_lr_baseline) + "; BN at lr " +
                  fmt("%g", v.lr_at_30x) + (v.bn_trains_at_30x ? " trains" : " does not train") +
                  ";" + diverged,
      .threshold = "ratio >= 5 and BN trains at the swept lr closest to 30x the baseline's best",
      .reproduced = v.reproduced(),
      .seeds = seeds};
}

}  // namespace

ExperimentResult run_e2_lr_sweep(const PaperSettings& s, const data::Dataset& train,
                                 const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> lrs = s.lrs.empty() ? default_lrs() : s.lrs;
  validate_lrs(lrs);
  std::sort(lrs.begin(), lrs.end());
  const int64_t steps = steps_for(s, 1000, 5000);
  const int seeds = seeds_for(s, 1);
  const data::Dataset test = head(test_all, s.test_limit);

  ExperimentResult r{
      .id = "E2", .title = "E2: learning-rate sweep (Section 3.3)", .csv_name = "e2_lr_sweep.csv"};
  std::ostringstream csv;
  csv << "activation,model,lr,seed,final_acc,best_acc,diverged_at\n";
  for (nn::Nonlinearity act : {nn::Nonlinearity::kSigmoid, nn::Nonlinearity::kReLU}) {
    const std::string act_name = act == nn::Nonlinearity::kSigmoid ? "sigmoid" : "relu";
    std::vector<Curve> base, bn;
    for (bool with_bn : {false, true}) {
      for (double lr : lrs) {
        std::vector<Curve> runs;
        for (int seed = 1; seed <= seeds; ++seed) {
          const std::string name = act_name + (with_bn ? " BN" : " baseline") + fmt(" lr %g", lr);
          nn::Mlp mlp = nn::build_mlp({train.features, 100, 100, 100, data::kNumClasses}, act,
                                      with_bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone,
                                      static_cast<uint64_t>(seed),
                                      {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1});
          runs.push_back(train_curve(name, mlp.net(),
                                     {.steps = steps,
                                      .batch = s.batch,
                                      .eval_every = std::max<int64_t>(1, steps / 5),
                                      .sgd = {.lr = lr},
                                      .seed = static_cast<uint64_t>(seed),
                                      .show_progress = s.show_progress},
                                     train, test));
          const Curve& c = runs.back();
          csv << act_name << ',' << (with_bn ? "bn" : "baseline") << ',' << lr << ',' << seed << ','
              << c.final_acc() << ',' << c.best() << ',' << c.diverged_at << '\n';
        }
        (with_bn ? bn : base).push_back(mean_curve(runs));
      }
    }
    const LrSweepVerdict v = judge_lr_sweep(lrs, base, bn, kChance);

    r.plots.push_back(final_accuracy_plot(act_name, lrs, base, bn));

    r.claims.push_back(lr_sweep_claim(act_name, lrs, v, base, bn, seeds));
  }
  r.csv = csv.str();
  r.notes.push_back("784-100-100-100-10 MLP, weights N(0, 0.1^2), plain SGD (no momentum), batch " +
                    std::to_string(s.batch) + ", " + std::to_string(steps) + " steps per run, " +
                    std::to_string(seeds) + " seed(s) per point (accuracy averaged), test set of " +
                    std::to_string(test.count) + " images (" + train.name + ").");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (ClaimResult& c : r.claims) c.wall_seconds = r.wall_seconds;
  return r;
}

}  // namespace bnorm::experiments
