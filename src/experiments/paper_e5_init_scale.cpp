// E5, Section 3.3: with BN, training is insensitive to the scale of the initial weights, because
// BN(W u) = BN((aW) u) and the gradient with respect to aW is 1/a times that with respect to W.
// The 784-100-100-100-10 sigmoid MLP's hidden layers start from N(0, (0.1 a)^2) weights, a in
// {0.01 ... 1} (E1's initialization times a; the output layer keeps N(0, 0.1^2)), with and without
// BN; plain SGD lr 0.5. Measured: the range of the final test accuracy over a (seed means), and
// |dL/dW| of the hidden layers' weights (those followed by BN) on one fixed batch at each a, whose
// log-log slope against a should be -1.
#include <chrono>
#include <cmath>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "nn/init.hpp"
#include "nn/mlp.hpp"
#include "nn/random.hpp"
#include "nn/softmax_cross_entropy.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kBaseSigma = 0.1, kLr = 0.5;

std::vector<double> scales() { return {0.01, 0.03, 0.1, 0.3, 1.0}; }

// The hidden layers (those BN follows in the BN network) start from N(0, (0.1 a)^2); the output
// layer always from N(0, 0.1^2), the same draw at every a: scaling it too would scale the logits
// and, through them, every gradient, which is not the invariance the paper states.
nn::Mlp mlp_at(const data::Dataset& train, bool with_bn, double a, uint64_t seed) {
  nn::Mlp mlp =
      nn::build_mlp({train.features, 100, 100, 100, data::kNumClasses}, nn::Nonlinearity::kSigmoid,
                    with_bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone, seed,
                    {.scheme = nn::InitScheme::kGaussian, .sigma = kBaseSigma * a});
  const size_t out = mlp.hidden_layers();  // linear_index(hidden_layers()) is the output layer
  nn::init_weight(mlp.net().layer(mlp.linear_index(out)).parameters().front().value, 100,
                  data::kNumClasses, {.scheme = nn::InitScheme::kGaussian, .sigma = kBaseSigma},
                  nn::derive_seed(seed, out));
  return mlp;
}

// |dL/dW| over the hidden Linear layers of the BN network at scale a, on the first `batch`
// training images (one training-phase forward and backward, no update).
double hidden_grad_norm(const data::Dataset& train, double a, int64_t batch) {
  nn::Mlp mlp = mlp_at(train, true, a, 1);
  nn::SoftmaxCrossEntropy loss;
  const std::span<const float> x(train.images.data(), static_cast<size_t>(batch * train.features));
  const std::span<const int32_t> y(train.labels.data(), static_cast<size_t>(batch));
  const nn::Tensor& logits = mlp.net().forward(x, batch, nn::Phase::kTrain);
  nn::Tensor dlogits;
  dlogits.resize(batch, data::kNumClasses);
  loss.forward(logits, y);
  loss.backward(dlogits);
  mlp.net().zero_grad();
  mlp.net().backward(dlogits);
  double sq = 0;
  for (size_t h = 0; h < mlp.hidden_layers(); ++h) {
    for (const nn::Parameter& p : mlp.net().layer(mlp.linear_index(h)).parameters())
      for (float g : p.grad) sq += static_cast<double>(g) * g;
  }
  return std::sqrt(sq);
}

// Final accuracy against a (both networks), and the BN network's |dL/dW| against a beside 1/a.
std::vector<report::Plot> init_scale_plots(const std::vector<double>& as,
                                           const std::vector<double>& mean_base,
                                           const std::vector<double>& mean_bn,
                                           const std::vector<double>& grad_norms) {
  std::vector<report::Plot> plots;
  report::Plot acc_plot{.title = "E5: final test accuracy against initial weight scale a",
                        .x_label = "a (weights ~ N(0, (0.1 a)^2))",
                        .y_label = "final test accuracy",
                        .log_x = true,
                        .y_min = 0.0,
                        .y_max = 1.0};
  acc_plot.series.push_back({.label = "baseline", .x = as, .y = mean_base, .markers = true});
  acc_plot.series.push_back({.label = "with BN", .x = as, .y = mean_bn, .markers = true});
  plots.push_back(acc_plot);
  report::Plot grad_plot{.title = "E5: |dL/dW| of the BN network's hidden weights against a",
                         .x_label = "a",
                         .y_label = "log10 |dL/dW|",
                         .log_x = true};
  std::vector<double> log_g, ideal;
  for (size_t k = 0; k < as.size(); ++k) {
    log_g.push_back(std::log10(grad_norms[k]));
    ideal.push_back(std::log10(grad_norms.back()) - std::log10(as[k]));  // 1/a through a = 1
  }
  grad_plot.series.push_back({.label = "measured", .x = as, .y = log_g, .markers = true});
  grad_plot.series.push_back({.label = "1/a", .x = as, .y = ideal, .dashed = true});
  plots.push_back(grad_plot);
  return plots;
}

}  // namespace

ExperimentResult run_e5_init_scale(const PaperSettings& s, const data::Dataset& train,
                                   const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 2000, 5000);
  const int seeds = seeds_for(s, 3);
  const data::Dataset test = head(test_all, s.test_limit);
  const std::vector<double> as = scales();

  ExperimentResult r{.id = "E5",
                     .title = "E5: initial weight scale (Section 3.3)",
                     .csv_name = "e5_init_scale.csv"};
  std::ostringstream csv;
  csv << "model,scale,seed,final_acc,diverged_at,grad_norm\n";
  std::vector<double> mean_bn, mean_base, grad_norms;
  std::vector<double> sd_bn, sd_base;
  for (double a : as) grad_norms.push_back(hidden_grad_norm(train, a, s.batch));
  for (bool with_bn : {false, true}) {
    for (size_t k = 0; k < as.size(); ++k) {
      std::vector<double> finals;
      for (int seed = 1; seed <= seeds; ++seed) {
        nn::Mlp mlp = mlp_at(train, with_bn, as[k], static_cast<uint64_t>(seed));
        const Curve c = train_curve(
            std::string(with_bn ? "BN" : "baseline") + fmt(" scale %g", as[k]), mlp.net(),
            {.steps = steps,
             .batch = s.batch,
             .eval_every = steps,
             .sgd = {.lr = kLr},
             .seed = static_cast<uint64_t>(seed),
             .show_progress = s.show_progress},
            train, test);
        finals.push_back(c.diverged_at >= 0 ? 0.0 : c.final_acc());
        csv << (with_bn ? "bn" : "baseline") << ',' << as[k] << ',' << seed << ',' << finals.back()
            << ',' << c.diverged_at << ',' << (with_bn ? grad_norms[k] : 0.0) << '\n';
      }
      const Spread sp = spread_of(finals);
      (with_bn ? mean_bn : mean_base).push_back(sp.mean);
      (with_bn ? sd_bn : sd_base).push_back(sp.sd);
    }
  }
  r.csv = csv.str();
  const InitScaleVerdict v = judge_init_scale(mean_bn, mean_base, as, grad_norms);

  r.plots = init_scale_plots(as, mean_base, mean_bn, grad_norms);

  std::string per_scale;
  for (size_t k = 0; k < as.size(); ++k) {
    per_scale += "a = " + fmt("%g", as[k]) + ": BN " + fmt("%.2f%%", 100 * mean_bn[k]) +
                 fmt(" (sd %.2f)", 100 * sd_bn[k]) + ", baseline " +
                 fmt("%.2f%%", 100 * mean_base[k]) + fmt(" (sd %.2f)", 100 * sd_base[k]) +
                 ", |dL/dW| " + fmt("%.4g", grad_norms[k]) + ". ";
  }
  r.notes.push_back(
      "784-100-100-100-10 sigmoid MLP, hidden weights N(0, (0.1 a)^2), output weights N(0, 0.1^2), "
      "plain SGD lr 0.5, batch " +
      std::to_string(s.batch) + ", " + std::to_string(steps) + " steps, " + std::to_string(seeds) +
      " seed(s) per point, test set of " + std::to_string(test.count) + " images (" + train.name +
      ").");
  r.notes.push_back(per_scale);
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = "E5",
      .claim = "with BN the result does not depend on the initial weight scale, and larger "
               "weights get proportionally smaller gradients",
      .measured = "final-accuracy range over a: BN " + fmt("%.2f pp", v.range_bn_pp) +
                  ", baseline " + fmt("%.2f pp", v.range_baseline_pp) +
                  "; slope of log|dL/dW| on "
                  "log a " +
                  fmt("%.3f", v.grad_slope),
      .threshold = "BN range <= 1.5 pp, baseline range >= 10 pp, slope -1 +- 0.05",
      .reproduced = v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace bnorm::experiments
