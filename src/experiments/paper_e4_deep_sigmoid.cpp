// E4, Section 3.3: BN keeps a deep sigmoid network trainable. Ten sigmoid layers of 100 units
// (784-100x10-10) from small N(0, 0.01^2) weights, where without BN the gradient vanishes long
// before it reaches the first layers. Plain SGD, lr 0.5 for both. Reproduced when BN's final test
// accuracy is >= 80% and the baseline's <= 30% (seed means).
#include <chrono>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "nn/mlp.hpp"

namespace bnorm::experiments {

ExperimentResult run_e4_deep_sigmoid(const PaperSettings& s, const data::Dataset& train,
                                     const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 2000, 5000);
  const int seeds = seeds_for(s, 3);
  const data::Dataset test = head(test_all, s.test_limit);
  constexpr double kLr = 0.5, kSigma = 0.01;
  std::vector<int64_t> sizes{train.features};
  for (int i = 0; i < 10; ++i) sizes.push_back(100);
  sizes.push_back(data::kNumClasses);

  ExperimentResult r{.id = "E4",
                     .title = "E4: a deep sigmoid network (Section 3.3)",
                     .csv_name = "e4_deep_sigmoid.csv"};
  std::ostringstream csv;
  csv << "model,seed,step,test_acc,diverged_at\n";
  std::vector<double> final_bn, final_base;
  report::Plot plot{.title = "E4: 10 sigmoid layers x 100, test accuracy against steps",
                    .x_label = "training step",
                    .y_label = "test accuracy",
                    .y_min = 0.0,
                    .y_max = 1.0,
                    .zoom_late_values = true,
                    .y_percent = true};
  for (bool with_bn : {false, true}) {
    std::vector<Curve> runs;
    for (int seed = 1; seed <= seeds; ++seed) {
      nn::Mlp mlp = nn::build_mlp(sizes, nn::Nonlinearity::kSigmoid,
                                  with_bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone,
                                  static_cast<uint64_t>(seed),
                                  {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma});
      runs.push_back(train_curve(with_bn ? "deep sigmoid BN" : "deep sigmoid baseline", mlp.net(),
                                 {.steps = steps,
                                  .batch = s.batch,
                                  .eval_every = tenth_of_run(steps),
                                  .sgd = {.lr = kLr},
                                  .seed = static_cast<uint64_t>(seed),
                                  .show_progress = s.show_progress},
                                 train, test));
      const Curve& c = runs.back();
      (with_bn ? final_bn : final_base).push_back(c.diverged_at >= 0 ? 0.0 : c.final_acc());
      for (size_t i = 0; i < c.steps.size(); ++i)
        csv << (with_bn ? "bn" : "baseline") << ',' << seed << ',' << c.steps[i] << ',' << c.acc[i]
            << ',' << c.diverged_at << '\n';
    }
    plot.series.push_back(accuracy_series(mean_curve(runs), with_bn ? "with BN" : "baseline"));
  }
  r.csv = csv.str();
  r.plots.push_back(plot);
  const Spread bn = spread_of(final_bn), base = spread_of(final_base);
  const DeepSigmoidVerdict v{.final_acc_bn = bn.mean, .final_acc_baseline = base.mean};
  r.notes.push_back("784-100x10-10 sigmoid MLP, weights N(0, 0.01^2), plain SGD lr 0.5, batch " +
                    std::to_string(s.batch) + ", " + std::to_string(steps) + " steps, " +
                    std::to_string(seeds) + " seed(s), test set of " + std::to_string(test.count) +
                    " images (" + train.name + ").");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(
      ClaimResult{.id = "E4",
                  .claim = "BN makes a deep sigmoid network with small initial weights trainable",
                  .measured = "final test accuracy BN " + format_accuracy(bn, seeds) +
                              ", baseline " + format_accuracy(base, seeds),
                  .threshold = "BN >= 80% and baseline <= 30%",
                  .reproduced = v.reproduced(),
                  .seeds = seeds,
                  .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
