// E9b (formerly E9), Section 2: the gradient must flow through the batch statistics. The paper's
// argument: with x = u + b normalized by a mean the backward pass treats as a constant, b grows
// without bound while the loss stays put. The 784-100-100-100-10 sigmoid MLP, BN before each
// sigmoid, Linear layers WITH bias (the b of the argument), N(0, 0.1^2) weights, plain SGD lr 0.5;
// once with the true BN gradient and once with gradient_through_stats off. Measured: the growth
// |theta_end| / |theta_start| of the parameters (weights and biases) of the layers feeding BN,
// and the final test accuracy. Reproduced when the growth is >= 10x larger, or the accuracy
// >= 5 pp lower, with constant statistics.
#include <chrono>
#include <cmath>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "nn/activations.hpp"
#include "nn/batch_norm_layer.hpp"
#include "nn/init.hpp"
#include "nn/linear.hpp"
#include "nn/random.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kLr = 0.5, kSigma = 0.1;
constexpr int64_t kHidden = 100, kHiddenLayers = 3;

// The MLP with BN before each sigmoid and biases kept; `pre_bn` receives the indices of the
// Linear layers that feed a BN.
nn::Sequential bn_mlp(int64_t in, bool gradient_through_stats, uint64_t seed,
                      std::vector<size_t>& pre_bn) {
  nn::Sequential net(in);
  for (int64_t i = 0; i <= kHiddenLayers; ++i) {
    const bool hidden = i < kHiddenLayers;
    const int64_t out = hidden ? kHidden : data::kNumClasses;
    auto& linear =
        net.emplace<nn::Linear>(nn::LinearOptions{.in_features = in, .out_features = out});
    nn::init_weight(linear.weight(), in, out,
                    {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma},
                    nn::derive_seed(seed, static_cast<uint64_t>(i)));
    if (!hidden) break;
    pre_bn.push_back(net.size() - 1);
    net.emplace<nn::BatchNormLayer>(
        BatchNormOptions{.num_features = out, .gradient_through_stats = gradient_through_stats});
    net.emplace<nn::Sigmoid>();
    in = out;
  }
  return net;
}

double norm_of(nn::Sequential& net, const std::vector<size_t>& layers) {
  double sq = 0;
  for (size_t i : layers)
    for (const nn::Parameter& p : net.layer(i).parameters())
      for (float v : p.value) sq += static_cast<double>(v) * v;
  return std::sqrt(sq);
}

}  // namespace

ExperimentResult run_e9_stats_gradient(const PaperSettings& s, const data::Dataset& train,
                                       const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 2000, 5000);
  const int seeds = seeds_for(s, 3);
  const data::Dataset test = head(test_all, s.test_limit);

  ExperimentResult r{.id = "E9b",
                     .title = "E9b: BN with the batch statistics treated as constants (Section 2)",
                     .csv_name = "e9_stats_gradient.csv"};
  std::ostringstream csv;
  csv << "variant,seed,step,test_acc,param_norm_start,param_norm_end,growth,diverged_at\n";
  std::vector<double> growth[2], acc[2];
  report::Plot plot{.title = "E9b: test accuracy against steps",
                    .x_label = "training step",
                    .y_label = "test accuracy",
                    .y_min = 0.0,
                    .y_max = 1.0,
                    .zoom_late_values = true,
                    .y_percent = true};
  std::string diverged;
  for (int variant = 0; variant < 2; ++variant) {
    const bool through = variant == 0;
    const std::string name = through ? "true gradient" : "statistics constant";
    std::vector<Curve> runs;
    for (int seed = 1; seed <= seeds; ++seed) {
      std::vector<size_t> pre_bn;
      nn::Sequential net = bn_mlp(train.features, through, static_cast<uint64_t>(seed), pre_bn);
      const double before = norm_of(net, pre_bn);
      runs.push_back(train_curve("E9 " + name, net,
                                 {.steps = steps,
                                  .batch = s.batch,
                                  .eval_every = tenth_of_run(steps),
                                  .sgd = {.lr = kLr},
                                  .seed = static_cast<uint64_t>(seed),
                                  .show_progress = s.show_progress},
                                 train, test));
      const Curve& c = runs.back();
      const double after = norm_of(net, pre_bn);
      // A diverged run's parameters are not finite: its growth is infinite, its accuracy chance-
      // or-worse (recorded as 0), and the divergence is reported.
      growth[variant].push_back(std::isfinite(after) ? after / before : INFINITY);
      acc[variant].push_back(c.diverged_at >= 0 ? 0.0 : c.final_acc());
      if (c.diverged_at >= 0)
        diverged += " " + name + " seed " + std::to_string(seed) + " diverged at step " +
                    std::to_string(c.diverged_at) + ";";
      for (size_t i = 0; i < c.steps.size(); ++i)
        csv << (through ? "true_gradient" : "constant_stats") << ',' << seed << ',' << c.steps[i]
            << ',' << c.acc[i] << ',' << before << ',' << after << ',' << growth[variant].back()
            << ',' << c.diverged_at << '\n';
    }
    plot.series.push_back(accuracy_series(mean_curve(runs), name));
  }
  r.csv = csv.str();
  r.plots.push_back(plot);
  const Spread g_true = spread_of(growth[0]), g_const = spread_of(growth[1]);
  const Spread a_true = spread_of(acc[0]), a_const = spread_of(acc[1]);
  const StatsGradientVerdict v{.growth_true = g_true.mean,
                               .growth_constant_stats = g_const.mean,
                               .acc_true = a_true.mean,
                               .acc_constant_stats = a_const.mean};
  r.notes.push_back(
      "784-100-100-100-10 sigmoid MLP with BN before each sigmoid and biases kept, "
      "weights N(0, 0.1^2), plain SGD lr 0.5, batch " +
      std::to_string(s.batch) + ", " + std::to_string(steps) + " steps, " + std::to_string(seeds) +
      " seed(s), test set of " + std::to_string(test.count) + " images (" + train.name + ").");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E9b",
      .claim = "without the gradient through the batch statistics the model blows up",
      .measured = "parameter growth of the layers feeding BN: true gradient " +
                  fmt("%.3gx", g_true.mean) + fmt(" (sd %.2g)", g_true.sd) + ", constant stats " +
                  fmt("%.3gx", g_const.mean) + fmt(" (sd %.2g)", g_const.sd) + " (ratio " +
                  fmt("%.3g", v.growth_ratio()) + "); final accuracy " +
                  format_accuracy(a_true, seeds) + " vs " + format_accuracy(a_const, seeds) +
                  " (drop " + fmt("%.2f pp", v.acc_drop_pp()) + ");" + diverged,
      .threshold = "growth ratio >= 10 or accuracy drop >= 5 pp",
      .reproduced = v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
