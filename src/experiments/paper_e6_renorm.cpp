// E6, Batch Renormalization (Ioffe 2017): BN's training output depends on the batch, so with small
// or non-i.i.d. batches the network trained on batch statistics is not the one inference runs on
// the moving averages; Batch Renorm corrects the training output towards the moving statistics.
// Two networks (E6-MLP: the paper's 784-100-100-100-10 sigmoid MLP on MNIST, BN before each
// sigmoid; E6-CNN: the suite's small ReLU CNN on Fashion-MNIST), each with BN, Batch Renorm and no
// normalization, under three batch conditions: i.i.d. batches of 4, batches of 60 drawn from two
// classes (30 each), i.i.d. batches of 60. Every condition sees the same number of examples (so
// batch 4 takes 15x the steps) at a learning rate scaled linearly with the batch (lr x B/60).
// BN and Batch Renorm share alpha = momentum = 0.01 (the paper's); Batch Renorm's rmax 1 -> 3 and
// dmax 0 -> 5 follow the paper's schedule scaled to the run (warm-up for the first 10% of the
// steps, dmax = 5 at 25%, rmax = 3 at 40%). Verdict (claims.hpp, RenormVerdict) on the seed-mean
// final test accuracy.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <sstream>

#include "data/batch_iterator.hpp"
#include "experiments/accuracy_curves.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/run_tasks.hpp"
#include "experiments/two_class_batches.hpp"
#include "nn/conv/cnn.hpp"
#include "nn/mlp.hpp"
#include "nn/threads.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {
namespace {

enum class Net { kMlp, kCnn };
enum class Norm { kBn, kRenorm, kNone };
constexpr Norm kNorms[] = {Norm::kBn, Norm::kRenorm, Norm::kNone};
const char* norm_name(Norm n) {
  return n == Norm::kBn ? "BN" : n == Norm::kRenorm ? "Batch Renorm" : "no normalization";
}

struct Condition {
  const char* name;
  const char* key;  // CSV column value
  int64_t batch;
  bool two_classes;  // each batch from two classes, half each
};
constexpr Condition kConditions[] = {{"i.i.d. batches of 4", "iid4", 4, false},
                                     {"non-i.i.d. batches of 60", "noniid60", 60, true},
                                     {"i.i.d. batches of 60", "iid60", 60, false}};
constexpr double kAlpha = 0.01;

nn::Normalization normalization(Norm n, int64_t steps) {
  if (n != Norm::kRenorm) return nn::Normalization::plain();
  return nn::Normalization::batch_renorm(
      {.warmup_steps = steps / 10, .rmax_final_step = steps * 2 / 5, .dmax_final_step = steps / 4});
}

nn::Sequential build(Net net, Norm n, int64_t steps, int64_t side, uint64_t seed) {
  if (net == Net::kCnn) {
    return nn::build_cnn({.input = {.c = 1, .h = side, .w = side},
                          .batch_norm = n != Norm::kNone,
                          .seed = seed,
                          .bn_momentum = kAlpha,
                          .bn_normalization = normalization(n, steps)});
  }
  nn::Mlp mlp({.sizes = {side * side, 100, 100, 100, data::kNumClasses},
               .activation = nn::Nonlinearity::kSigmoid,
               .bn = n == Norm::kNone ? nn::BnPlacement::kNone : nn::BnPlacement::kBefore,
               .init = {.scheme = nn::InitScheme::kGaussian, .sigma = 0.1},
               .seed = seed,
               .bn_momentum = kAlpha,
               .bn_normalization = normalization(n, steps)});
  return std::move(mlp.net());
}

// Learning rate and recipe at batch 60; scaled by batch / 60.
optim::SgdOptions recipe(Net net, int64_t batch) {
  const double scale = static_cast<double>(batch) / 60.0;
  if (net == Net::kMlp) return {.lr = 0.5 * scale};                    // E9's plain SGD
  return {.lr = 0.01 * scale, .momentum = 0.9, .weight_decay = 5e-4};  // E3's baseline, no dropout
}

// One training: test accuracy at five evenly spaced points and the end; a non-finite loss ends
// the run with accuracy 0 from there.
Curve train_one(Net net_kind, Norm n, const Condition& cond, int64_t steps, int seed, int64_t side,
                const data::Dataset& train, const data::Dataset& test) {
  nn::Sequential net = build(net_kind, n, steps, side, static_cast<uint64_t>(seed));
  const optim::SgdOptions sgd_options = recipe(net_kind, cond.batch);
  optim::Sgd sgd(net.parameters(), sgd_options);
  // The learning rate halves over the run.
  const double gamma = std::pow(0.5, 1.0 / static_cast<double>(steps));
  optim::ClassifierTrainer trainer(net, sgd, optim::LrSchedule::exponential(sgd_options.lr, gamma),
                                   {.eval_batch = 500});
  data::BatchIterator iid(train, cond.batch, static_cast<uint64_t>(seed), /*binarize=*/false);
  TwoClassBatches two(train, cond.batch, static_cast<uint64_t>(seed));
  std::vector<float> x(static_cast<size_t>(cond.batch * train.features));
  std::vector<int32_t> y(static_cast<size_t>(cond.batch));
  Curve c{.name = norm_name(n)};
  const int64_t every = std::max<int64_t>(1, steps / 5);
  for (int64_t step = 1; step <= steps; ++step) {
    cond.two_classes ? two.next_into(x, y) : iid.next_into(x, y);
    if (!std::isfinite(trainer.train_step(x, y))) {
      c.diverged_at = step;
      c.steps.push_back(step);
      c.acc.push_back(0.0);
      return c;
    }
    if (step % every == 0 || step == steps) {
      c.steps.push_back(step * cond.batch);  // examples seen, comparable across conditions
      c.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
    }
  }
  return c;
}

ExperimentResult run_e6(Net net, const PaperSettings& s, const data::Dataset& train,
                        const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const bool cnn = net == Net::kCnn;
  const std::string id = cnn ? "E6-CNN" : "E6-MLP";
  const auto side =
      static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(train.features))));
  require(side * side == train.features && side >= 4, id,
          "expected square one-channel images, got " + std::to_string(train.features) +
              " features per image");
  // Steps at batch 60 (the command's --steps overrides); batch 4 takes 15x as many.
  const int64_t steps60 = cnn ? steps_for(s, 150, 500) : steps_for(s, 500, 2000);
  const int seeds = seeds_for(s, cnn && s.quick ? 1 : 3);
  // The CNN's evaluations would dominate its runs: 2,000 test images (1,000 in the quick form).
  const data::Dataset test =
      head(test_all, s.test_limit > 0 || !cnn ? s.test_limit : (s.quick ? 1000 : 2000));

  // runs[condition][norm][seed]
  std::vector<std::vector<std::vector<Curve>>> runs(
      3, std::vector<std::vector<Curve>>(3, std::vector<Curve>(static_cast<size_t>(seeds))));
  std::mutex progress;
  run_tasks(static_cast<size_t>(9 * seeds), s.jobs, [&](size_t task) {
    nn::set_num_threads(s.threads);
    const size_t ci = task / (3 * seeds), ni = task / seeds % 3, si = task % seeds;
    const Condition& cond = kConditions[ci];
    const int64_t steps = steps60 * 60 / cond.batch;
    Curve c = train_one(net, kNorms[ni], cond, steps, static_cast<int>(si) + 1, side, train, test);
    if (s.show_progress) {
      const std::lock_guard<std::mutex> lock(progress);
      std::fprintf(stderr, "%s %s, %s, seed %zu: %.2f%%\n", id.c_str(), norm_name(kNorms[ni]),
                   cond.name, si + 1, 100 * c.acc.back());
    }
    runs[ci][ni][si] = std::move(c);
  });

  ExperimentResult r{.id = id,
                     .title = id +
                              ": Batch Renormalization against BN with small and "
                              "non-i.i.d. batches",
                     .csv_name = cnn ? "e6_renorm_cnn.csv" : "e6_renorm_mlp.csv"};
  std::ostringstream csv;
  csv << "condition,model,seed,examples_seen,test_acc,diverged_at\n";
  double mean_final[3][3] = {};
  std::string per_condition;
  for (size_t ci = 0; ci < 3; ++ci) {
    report::Plot plot{.title = id + ", " + kConditions[ci].name,
                      .x_label = "training examples seen",
                      .y_label = "test accuracy",
                      .zoom_late_values = true,
                      .y_percent = true};
    per_condition += std::string(ci ? "; " : "") + kConditions[ci].name + ":";
    for (size_t ni = 0; ni < 3; ++ni) {
      std::vector<double> finals;
      for (size_t si = 0; si < runs[ci][ni].size(); ++si) {
        const Curve& c = runs[ci][ni][si];
        finals.push_back(c.acc.back());
        for (size_t i = 0; i < c.steps.size(); ++i)
          csv << kConditions[ci].key << ',' << norm_name(kNorms[ni]) << ',' << si + 1 << ','
              << c.steps[i] << ',' << c.acc[i] << ',' << c.diverged_at << '\n';
      }
      const Spread f = spread_of(finals);
      mean_final[ci][ni] = f.mean;
      per_condition += std::string(ni ? "," : "") + " " + norm_name(kNorms[ni]) + " " +
                       format_accuracy(f, seeds);
      report::Series series = accuracy_series(mean_curve(runs[ci][ni]), norm_name(kNorms[ni]));
      series.dashed = kNorms[ni] == Norm::kNone;
      plot.series.push_back(std::move(series));
    }
    r.plots.push_back(std::move(plot));
  }
  r.csv = csv.str();
  const auto gain = [&](size_t ci) { return 100.0 * (mean_final[ci][1] - mean_final[ci][0]); };
  const RenormVerdict v{
      .gain_batch4_pp = gain(0), .gain_noniid_pp = gain(1), .gain_iid60_pp = gain(2)};
  r.notes.push_back(
      std::string(cnn ? "The small ReLU CNN (conv16-pool-conv32-pool-FC100), SGD lr 0.01 x B/60, "
                        "momentum 0.9, L2 5e-4"
                      : "The 784-100-100-100-10 sigmoid MLP, weights N(0, 0.1^2), plain SGD lr "
                        "0.5 x B/60") +
      ", the learning rate halving over the run; " + std::to_string(steps60) +
      " steps at batch 60 and " + std::to_string(steps60 * 15) + " at batch 4 (" +
      std::to_string(steps60 * 60) + " examples each); alpha = 0.01 for BN and Batch Renorm; " +
      std::to_string(seeds) + " seed(s); test set of " + std::to_string(test.count) + " images (" +
      train.name + "). Final accuracies: " + per_condition + ".");
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.claims.push_back(ClaimResult{
      .id = id,
      .claim = "Batch Renorm fixes BN's small and non-i.i.d. batches and matches it otherwise",
      .measured = "Batch Renorm - BN final test accuracy: batch 4 " +
                  fmt("%+.2f pp", v.gain_batch4_pp) + ", non-i.i.d. 60 " +
                  fmt("%+.2f pp", v.gain_noniid_pp) + ", i.i.d. 60 " +
                  fmt("%+.2f pp", v.gain_iid60_pp) + " (" + per_condition + ")",
      .threshold = "Batch Renorm >= BN + 1 pp at batch 4, >= BN + 2 pp non-i.i.d., within "
                   "0.5 pp at i.i.d. 60",
      .reproduced = v.reproduced(),
      .seeds = seeds,
      .wall_seconds = r.wall_seconds});
  return r;
}

}  // namespace

ExperimentResult run_e6_renorm_mlp(const PaperSettings& s, const data::Dataset& train,
                                   const data::Dataset& test) {
  return run_e6(Net::kMlp, s, train, test);
}

ExperimentResult run_e6_renorm_cnn(const PaperSettings& s, const data::Dataset& train,
                                   const data::Dataset& test) {
  return run_e6(Net::kCnn, s, train, test);
}

}  // namespace bnorm::experiments
