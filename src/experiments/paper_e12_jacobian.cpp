// E12, Section 3.3: the paper conjectures that BN gives the Jacobians between consecutive layers
// singular values close to 1. The 784-100-100-100-10 MLP, sigmoid and ReLU, with and without BN,
// N(0, 0.1^2) weights, plain SGD lr 0.1; at step 0 and every 1,000 steps the spread (standard
// deviation of ln sigma) of the Jacobians between layers 1-2 and 2-3 on a fixed probe of 60
// training images (docs/paper.md has the exact definition). Reproduced, per nonlinearity, when BN's
// spread is at most half the baseline's at every measurement (seed means).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "experiments/accuracy_curves.hpp"
#include "experiments/layer_jacobians.hpp"
#include "experiments/paper_experiments.hpp"
#include "experiments/paper_text.hpp"
#include "experiments/run_tasks.hpp"
#include "experiments/training_loop.hpp"
#include "nn/threads.hpp"
#include "optim/classifier_trainer.hpp"

namespace bnorm::experiments {
namespace {

constexpr double kLr = 0.1, kSigma = 0.1;
constexpr int64_t kMeasureEvery = 1000, kProbe = 60;

struct Run {
  std::vector<int64_t> steps;
  std::vector<double> acc;
  std::vector<JacobianSpectra> spectra;
  int64_t diverged_at = -1;
};

// The probe: kProbe training images spread over the set, the same for every network and seed.
std::vector<float> probe_images(const data::Dataset& train, int64_t& count) {
  count = std::min<int64_t>(kProbe, train.count);
  const int64_t stride = train.count / count;
  std::vector<float> x;
  for (int64_t i = 0; i < count; ++i) {
    const auto* row = train.images.data() + i * stride * train.features;
    x.insert(x.end(), row, row + train.features);
  }
  return x;
}

Run train_and_measure(bool relu, bool bn, int seed, int64_t steps, int64_t every,
                      const PaperSettings& s, bool concurrent, const std::vector<float>& probe,
                      int64_t probe_count, const data::Dataset& train, const data::Dataset& test) {
  nn::set_num_threads(s.threads);  // per thread: OpenMP's thread count is a per-thread setting
  nn::Mlp mlp = nn::build_mlp({train.features, 100, 100, 100, data::kNumClasses},
                              relu ? nn::Nonlinearity::kReLU : nn::Nonlinearity::kSigmoid,
                              bn ? nn::BnPlacement::kBefore : nn::BnPlacement::kNone,
                              static_cast<uint64_t>(seed),
                              {.scheme = nn::InitScheme::kGaussian, .sigma = kSigma});
  optim::Sgd sgd(mlp.net().parameters(), {.lr = kLr});
  optim::ClassifierTrainer trainer(mlp.net(), sgd, optim::LrSchedule::exponential(kLr, 1.0),
                                   {.eval_batch = 500});
  const std::string label = std::string("E12 ") + (relu ? "relu " : "sigmoid ") +
                            (bn ? "BN" : "baseline") + " seed " + std::to_string(seed);
  Run run;
  run.diverged_at =
      run_training_loop(trainer, train,
                        {.steps = steps,
                         .batch = s.batch,
                         .eval_every = every,
                         .seed = static_cast<uint64_t>(seed),
                         .show_progress = s.show_progress,
                         .label = label,
                         .plain_progress = concurrent},
                        [&](const EvalPoint& at) {
                          run.steps.push_back(at.step);
                          run.acc.push_back(trainer.evaluate(test.images, test.labels).accuracy);
                          run.spectra.push_back(layer_jacobian_spectra(mlp, probe, probe_count));
                          return run.acc.back();
                        });
  return run;
}

std::vector<int64_t> measurement_steps(int64_t steps, int64_t every) {
  std::vector<int64_t> at{0};
  for (int64_t t = every; t < steps; t += every) at.push_back(t);
  at.push_back(steps);
  return at;
}

// Mean over seeds of one quantity at each measurement; NaN where a run stopped (diverged) before.
std::vector<double> seed_mean(const std::vector<Run>& runs, size_t points,
                              double JacobianSpectra::*field) {
  std::vector<double> mean(points, 0.0);
  for (size_t i = 0; i < points; ++i) {
    for (const Run& r : runs) mean[i] += i < r.spectra.size() ? r.spectra[i].*field : NAN;
    mean[i] /= static_cast<double>(runs.size());
  }
  return mean;
}

report::Series series(const std::vector<int64_t>& x, const std::vector<double>& y,
                      std::string label, bool dashed = false) {
  report::Series s{.label = std::move(label), .dashed = dashed, .markers = true};
  for (size_t i = 0; i < x.size(); ++i) {
    s.x.push_back(static_cast<double>(x[i]));
    s.y.push_back(y[i]);
  }
  return s;
}

// ln sigma_i against i for one Jacobian (seed 1, example 0, layers 1-2, last measurement).
report::Series spectrum_series(const Run& run, std::string label) {
  report::Series s{.label = std::move(label)};
  if (run.spectra.empty()) return s;
  const std::vector<double>& sigma = run.spectra.back().example_sigma;
  for (size_t i = 0; i < sigma.size(); ++i) {
    s.x.push_back(static_cast<double>(i + 1));
    s.y.push_back(std::log(sigma[i]));
  }
  return s;
}

}  // namespace

ExperimentResult run_e12_jacobian(const PaperSettings& s, const data::Dataset& train,
                                  const data::Dataset& test_all) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t steps = steps_for(s, 2000, 5000);
  const int seeds = seeds_for(s, s.quick ? 1 : 3);
  const data::Dataset test = head(test_all, s.test_limit);
  const int64_t every = std::min(kMeasureEvery, steps);
  require(train.count >= 2, "E12",
          "expected at least 2 training images for the probe, got " + std::to_string(train.count));
  int64_t probe_count = 0;
  const std::vector<float> probe = probe_images(train, probe_count);
  const std::vector<int64_t> at = measurement_steps(steps, every);

  ExperimentResult r{.id = "E12",
                     .title = "E12: singular values of the Jacobian between layers (Section 3.3)",
                     .csv_name = "e12_jacobian.csv"};
  // runs[act * 2 + bn][seed - 1]; act 0 sigmoid, 1 relu.
  std::vector<std::vector<Run>> runs(4, std::vector<Run>(static_cast<size_t>(seeds)));
  const bool concurrent = s.jobs > 1;
  std::mutex print_mutex;
  run_tasks(4 * static_cast<size_t>(seeds), s.jobs, [&](size_t task) {
    const size_t model = task / static_cast<size_t>(seeds);
    const int seed = static_cast<int>(task % static_cast<size_t>(seeds)) + 1;
    Run run = train_and_measure(model >= 2, model % 2 == 1, seed, steps, every, s, concurrent,
                                probe, probe_count, train, test);
    if (s.show_progress && concurrent) {
      const std::lock_guard<std::mutex> lock(print_mutex);
      std::fprintf(stderr, "E12 model %zu seed %d: done\n", model, seed);
    }
    runs[model][static_cast<size_t>(seed - 1)] = std::move(run);
  });

  std::ostringstream csv;
  csv << "activation,model,seed,step,test_acc,spread,mean_log_sigma,spread_bn_input,excluded\n";
  for (size_t model = 0; model < 4; ++model) {
    for (int seed = 1; seed <= seeds; ++seed) {
      const Run& run = runs[model][static_cast<size_t>(seed - 1)];
      for (size_t i = 0; i < run.spectra.size(); ++i) {
        const JacobianSpectra& j = run.spectra[i];
        csv << (model >= 2 ? "relu" : "sigmoid") << ',' << (model % 2 ? "bn" : "baseline") << ','
            << seed << ',' << run.steps[i] << ',' << run.acc[i] << ',' << j.spread << ','
            << j.mean_log_sigma << ',' << j.spread_bn_input << ',' << j.excluded << '\n';
      }
    }
  }
  r.csv = csv.str();
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.notes.push_back(
      "784-100-100-100-10 MLP, sigmoid and ReLU, with BN before each nonlinearity and without, "
      "weights N(0, 0.1^2), plain SGD lr 0.1, batch " +
      std::to_string(s.batch) + ", " + std::to_string(steps) + " steps, " + std::to_string(seeds) +
      " seed(s). Jacobians between "
      "hidden layers 1-2 and 2-3 on a probe of " +
      std::to_string(probe_count) + " training images (" + train.name +
      "), batch statistics of the probe held constant: with BN between the normalized "
      "values x^_k, without BN between the pre-activations z_k. Spread = standard deviation of "
      "ln sigma over a Jacobian's non-zero singular values, averaged over examples and pairs.");

  for (int act = 0; act < 2; ++act) {
    const std::string name = act ? "relu" : "sigmoid";
    const std::vector<Run>& base = runs[static_cast<size_t>(act * 2)];
    const std::vector<Run>& bn = runs[static_cast<size_t>(act * 2 + 1)];
    const std::vector<double> spread_base = seed_mean(base, at.size(), &JacobianSpectra::spread);
    const std::vector<double> spread_bn = seed_mean(bn, at.size(), &JacobianSpectra::spread);
    const std::vector<double> spread_bn_input =
        seed_mean(bn, at.size(), &JacobianSpectra::spread_bn_input);
    const std::vector<double> log_base =
        seed_mean(base, at.size(), &JacobianSpectra::mean_log_sigma);
    const std::vector<double> log_bn = seed_mean(bn, at.size(), &JacobianSpectra::mean_log_sigma);
    const JacobianSpreadVerdict v = judge_jacobian_spread(at, spread_bn, spread_base);

    report::Plot plot{.title = "E12 " + name + ": spread of ln sigma against steps",
                      .x_label = "training step",
                      .y_label = "std of ln sigma",
                      .y_min = 0.0};
    plot.series.push_back(series(at, spread_base, "baseline"));
    plot.series.push_back(series(at, spread_bn, "with BN (normalized to normalized)"));
    plot.series.push_back(series(at, spread_bn_input, "with BN (BN input to BN input)", true));
    r.plots.push_back(plot);
    report::Plot spectrum{.title = "E12 " + name + ": ln sigma of one Jacobian at the last step",
                          .x_label = "singular value index (descending)",
                          .y_label = "ln sigma"};
    spectrum.series.push_back(spectrum_series(base.front(), "baseline, seed 1, example 0"));
    spectrum.series.push_back(spectrum_series(bn.front(), "with BN, seed 1, example 0"));
    r.plots.push_back(spectrum);

    std::string per_step, seed_text;
    for (size_t i = 0; i < at.size(); ++i) {
      per_step += (i ? "; " : "") + std::string("step ") + std::to_string(at[i]) + ": BN " +
                  fmt("%.3f", spread_bn[i]) + " vs " + fmt("%.3f", spread_base[i]) + " (ratio " +
                  fmt("%.2f", v.ratio[i]) + ")";
    }
    std::string diverged;
    for (const auto* model_runs : {&base, &bn})
      for (size_t i = 0; i < model_runs->size(); ++i)
        if ((*model_runs)[i].diverged_at >= 0)
          diverged += "; " + std::string(model_runs == &bn ? "BN" : "baseline") + " seed " +
                      std::to_string(i + 1) + " diverged at step " +
                      std::to_string((*model_runs)[i].diverged_at);
    r.notes.push_back(name + ": mean ln sigma at the last step, BN " + fmt("%.2f", log_bn.back()) +
                      ", baseline " + fmt("%.2f", log_base.back()) +
                      "; BN-input Jacobian spread at the last step " +
                      fmt("%.3f", spread_bn_input.back()) + ".");
    r.claims.push_back(ClaimResult{
        .id = "E12-" + name,
        .claim = "BN keeps the singular values of the Jacobian between consecutive layers close "
                 "together (" +
                 name + " MLP)",
        .measured = "spread of ln sigma, seed means: " + per_step + "; worst ratio " +
                    fmt("%.2f", v.worst_ratio) + diverged,
        .threshold = "BN's spread <= 0.5 x the baseline's at every measurement",
        .reproduced = v.reproduced(),
        .seeds = seeds,
        .wall_seconds = r.wall_seconds});
  }
  return r;
}

}  // namespace bnorm::experiments
