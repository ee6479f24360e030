// E10, Section 3.4: "Dropout can be removed or reduced in strength" in a batch-normalized network,
// because BN regularizes. The paper's MNIST network (784-100-100-100-10, sigmoid, N(0, 0.1^2)
// weights) on the 8,000 training digits, where it overfits within the run and Dropout has work to
// do: baseline and BN (before each sigmoid), each without Dropout and with Dropout after every
// hidden activation at rates {0.2, 0.5}; plain SGD lr 0.5 for all, seeds 1-3. Final accuracy =
// mean of the last 5 of 21 evaluations, then the mean over seeds (judge_dropout has the rule).
#include <chrono>
#include <cmath>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "nn/mlp.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kLr = 0.5, kSigma = 0.1;
constexpr int64_t kEvaluations = 20;  // after step 0
constexpr size_t kFinalEvaluations = 5;

std::vector<double> dropout_rates() { return {0.2, 0.5}; }

// Mean of the last kFinalEvaluations accuracies (0 for a diverged run).
double final_of(const Curve& c) {
  if (c.diverged_at >= 0 || c.acc.empty()) return 0.0;
  const size_t n = std::min(kFinalEvaluations, c.acc.size());
  double sum = 0;
  for (size_t i = c.acc.size() - n; i < c.acc.size(); ++i) sum += c.acc[i];
  return sum / static_cast<double>(n);
}

struct Model {
  std::string name;
  bool bn = false;
  double dropout = 0;
  std::vector<double> finals;  // per seed
  Curve mean;
};

std::string model_name(bool bn, double p) {
  return std::string(bn ? "BN" : "baseline") + (p > 0 ? fmt(" + Dropout %g", p) : "");
}

}  // namespace

ExperimentResult run_e10_dropout(const PaperSettings& s, const data::Dataset& train,
                                 const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 2500, 10000);
  const int seeds = seeds_for(s, 3);
  const data::Dataset test = head(test_all, s.test_limit);
  const std::vector<double> rates = dropout_rates();

  ExperimentResult r{.id = "E10",
                     .title = "E10: BN in place of Dropout (Section 3.4)",
                     .csv_name = "e10_dropout.csv"};
  std::ostringstream csv;
  csv << "model,bn,dropout,seed,step,test_acc,final_acc,diverged_at\n";
  std::vector<Model> models;
  for (bool bn : {false, true}) {
    models.push_back({.name = model_name(bn, 0), .bn = bn});
    for (double p : rates) models.push_back({.name = model_name(bn, p), .bn = bn, .dropout = p});
  }
  report::Plot plot{.title = "E10: test accuracy against steps (seed mean)",
                    .x_label = "training step",
                    .y_label = "test accuracy",
                    .y_min = 0.0,
                    .y_max = 1.0,
                    .zoom_late_values = true,
                    .y_percent = true};
  for (Model& m : models) {
    std::vector<Curve> runs;
    for (int seed = 1; seed <= seeds; ++seed) {
      nn::Mlp mlp(nn::MlpOptions{.sizes = {train.features, 100, 100, 100, data::kNumClasses},
                                 .activation = nn::Nonlinearity::kSigmoid,
                                 .bn = m.bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone,
                                 .init = {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma},
                                 .seed = static_cast<uint64_t>(seed),
                                 .dropout = m.dropout});
      runs.push_back(train_curve("E10 " + m.name, mlp.net(),
                                 {.steps = steps,
                                  .batch = s.batch,
                                  .eval_every = std::max<int64_t>(1, steps / kEvaluations),
                                  .sgd = {.lr = kLr},
                                  .seed = static_cast<uint64_t>(seed),
                                  .show_progress = s.show_progress},
                                 train, test));
      const Curve& c = runs.back();
      m.finals.push_back(final_of(c));
      for (size_t i = 0; i < c.steps.size(); ++i)
        csv << m.name << ',' << m.bn << ',' << m.dropout << ',' << seed << ',' << c.steps[i] << ','
            << c.acc[i] << ',' << m.finals.back() << ',' << c.diverged_at << '\n';
    }
    m.mean = mean_curve(runs);
    report::Series series = accuracy_series(m.mean, m.name);
    series.dashed = m.dropout > 0;
    plot.series.push_back(series);
  }
  r.csv = csv.str();
  r.plots.push_back(plot);

  // models: [0] baseline, [1..] baseline + Dropout per rate, then BN likewise.
  const size_t per_side = 1 + rates.size();
  std::vector<double> base_drop, bn_drop;
  for (size_t k = 0; k < rates.size(); ++k) {
    base_drop.push_back(spread_of(models[1 + k].finals).mean);
    bn_drop.push_back(spread_of(models[per_side + 1 + k].finals).mean);
  }
  const DropoutVerdict v =
      judge_dropout(spread_of(models[per_side].finals).mean, rates, base_drop, bn_drop);

  std::string table;
  for (const Model& m : models)
    table += m.name + ": " + format_accuracy(spread_of(m.finals), seeds) + ". ";
  r.notes.push_back(
      "784-100-100-100-10 sigmoid MLP, weights N(0, 0.1^2), BN before each sigmoid (the "
      "preceding bias dropped), Dropout after each hidden activation; plain SGD lr 0.5, batch " +
      std::to_string(s.batch) + ", " + std::to_string(steps) + " steps (" +
      fmt("%.0f", static_cast<double>(steps * s.batch) / static_cast<double>(train.count)) +
      " epochs of " + std::to_string(train.count) + " " + train.name + " images), " +
      std::to_string(seeds) + " seed(s); test set of " + std::to_string(test.count) +
      " images. Final accuracy: mean of the last 5 of 21 evaluations; below, mean +- sd over "
      "seeds.");
  r.notes.push_back(table);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E10",
      .claim = "with BN, Dropout can be removed: BN alone matches the baseline with Dropout, and "
               "Dropout adds little to BN",
      .measured = "BN without Dropout " + fmt("%.2f%%", 100 * v.bn) +
                  ", baseline with Dropout (best rate " + fmt("%g", v.baseline_dropout_rate) +
                  ") " + fmt("%.2f%%", 100 * v.baseline_dropout) + " (BN " +
                  gap_text(-v.bn_minus_baseline_dropout_pp()) + "); BN with Dropout (best rate " +
                  fmt("%g", v.bn_dropout_rate) + ") " + fmt("%.2f%%", 100 * v.bn_dropout) +
                  " (gain " + fmt("%+.2f pp", v.dropout_gain_pp()) + ")",
      .threshold = "BN without Dropout >= baseline with Dropout; Dropout adds <= 0.3 pp to BN "
                   "(seed means, each side at its best Dropout rate)",
      .reproduced = v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
